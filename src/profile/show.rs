//! A profile as a profile file: every key resolved, defaults filled in, keys without a value
//! commented out — what `scanwerk profiles show` prints, and what reads back the same.

use std::path::PathBuf;

use toml::Value;

use super::keys::KEYS;
use super::values::{self, name_of};
use super::{Profile, TimestampPolicy};

fn text(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    Value::Array(items.iter().map(|i| Value::String(i.clone())).collect()).to_string()
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    list(&items.map(str::to_string).collect::<Vec<_>>())
}

fn path(p: &Option<PathBuf>) -> Option<String> {
    p.as_ref().map(|p| text(&p.display().to_string()))
}

fn number(n: f64) -> String {
    Value::Float(n).to_string()
}

/// An f32 setting as written (0.2, not 0.20000000298023224).
fn number32(n: f32) -> String {
    number(n.to_string().parse().unwrap_or(f64::from(n)))
}

impl Profile {
    /// The profile with every key resolved (defaults filled in), as a profile file: what
    /// `scanwerk profiles show` prints. Keys without a value are shown commented out.
    pub fn to_toml(&self) -> String {
        let mut out = format!("# {} (sha256 {})\n", self.origin, self.sha256);
        let mut current = "";
        for (section, key, _) in KEYS {
            if *section != current {
                out.push_str(&format!("\n[{section}]\n"));
                current = section;
            }
            match self.shown(section, key) {
                Some(v) => out.push_str(&format!("{key} = {v}\n")),
                None => out.push_str(&format!("# {key}: not set\n")),
            }
        }
        out
    }

    /// The value of one key as a profile file writes it; `None` if it has none.
    fn shown(&self, section: &str, key: &str) -> Option<String> {
        match section {
            "" => Some(match key {
                "id" => text(&self.id),
                "version" => text(&self.version),
                "description" => text(&self.description),
                _ => text(name_of(values::PROTECTION, &self.protection)),
            }),
            "input" => Some(match key {
                "assume_dpi" => number(self.assume_dpi?),
                "max_megapixels" => number(self.limits.max_megapixels),
                "max_pages" => self.limits.max_pages.to_string(),
                "on_document_error" => text(name_of(values::ON_DOCUMENT_ERROR, &self.set_aside_failed)),
                _ => self.limits.max_file_mb.to_string(),
            }),
            "ocr" if key == "enabled" => Some(self.ocr_enabled.to_string()),
            "ocr" => Some(list(&self.languages)),
            "prepare" => Some(self.shown_prepare(key)),
            "quality" => Some(self.shown_quality(key)),
            "output" if key == "alto" => Some(self.output.alto.to_string()),
            "output" if key == "hocr" => Some(self.output.hocr.to_string()),
            "output" => Some(self.output.bagit.to_string()),
            "review" if key == "mode" => Some(text(self.review.mode.name())),
            "review" => Some(self.review.reviewers.to_string()),
            "seal" => self.shown_seal(key),
            "separation" => self.shown_separation(key),
            _ => unreachable!("every section of KEYS is shown"),
        }
    }

    fn shown_prepare(&self, key: &str) -> String {
        let p = &self.prepare;
        match key {
            "orientation" => text(name_of(values::ORIENTATION, &p.detect_orientation)),
            "deskew" => text(name_of(values::DESKEW, &p.deskew)),
            "min_deskew_degrees" => number32(p.min_deskew_degrees),
            _ => text(name_of(values::BLANK_PAGES, &p.blank_pages)),
        }
    }

    fn shown_quality(&self, key: &str) -> String {
        let q = &self.quality;
        match key {
            "min_dpi" => number(q.min_dpi),
            "min_confidence" => number32(q.min_confidence),
            "max_skew_degrees" => number32(q.max_skew_degrees),
            "colour_modes" => list(&q.colour_modes),
            "qa_sample_percent" => number(q.qa_sample_percent),
            _ => text(name_of(values::INCOMPLETE_BATCH, &q.refuse_incomplete)),
        }
    }

    fn shown_seal(&self, key: &str) -> Option<String> {
        Some(match key {
            "signature" => text(name_of(values::SIGNATURE, &self.signature)),
            "key" => path(&self.key)?,
            "certificate" => path(&self.certificate)?,
            "pkcs11_module" => path(&self.pkcs11_module)?,
            "tree_hash" => text(name_of(values::TREE_HASH, &self.tree_hash)),
            "timestamp" => text(match &self.timestamp {
                TimestampPolicy::Off => "off",
                TimestampPolicy::Online { .. } => "online",
                TimestampPolicy::Offline => "offline",
            }),
            _ => match &self.timestamp {
                TimestampPolicy::Online { url } => text(url),
                _ => return None,
            },
        })
    }

    fn shown_separation(&self, key: &str) -> Option<String> {
        let s = &self.separation;
        Some(match key {
            "mode" => text(s.mode.name()),
            "pages" => s.pages.to_string(),
            "patch_codes" => names(s.patch_codes.iter().map(|c| c.name())),
            "barcode_formats" => names(s.symbologies.iter().map(|s| s.name())),
            "barcode_pattern" => text(s.barcode_pattern.as_str()),
            "sheet_back" => text(s.sheet_back.name()),
            _ => text(s.document_id.as_deref()?),
        })
    }
}
