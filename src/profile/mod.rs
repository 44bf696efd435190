//! Scan profiles: `profiles/*.toml` → a validated [`Profile`].
//!
//! A profile is what an operator chooses per document class (resolution policy, OCR languages,
//! signature algorithm). The bundled profiles are compiled into the binary so `scanwerk` works from
//! any directory; a path selects a profile file instead. Unknown keys are rejected, and every
//! problem is reported at once with the file it came from, before any page is read.

mod keys;
pub mod separation;
mod show;
mod validate;
mod values;

pub use crate::schema::Kind;
pub use keys::KEYS;
use keys::RawProfile;
use validate::validate;

use std::path::{Path, PathBuf};

/// The profiles shipped in `profiles/`, by name.
pub const BUNDLED: &[(&str, &str)] = &[
    ("standard", include_str!("../../profiles/standard.toml")),
    ("strict", include_str!("../../profiles/strict.toml")),
    ("image-only", include_str!("../../profiles/image-only.toml")),
    ("hoch", include_str!("../../profiles/hoch.toml")),
    ("sehr-hoch", include_str!("../../profiles/sehr-hoch.toml")),
];

/// The profile used when neither the command line nor the batch sheet names one.
pub const DEFAULT: &str = "standard";

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "unknown profile {name:?}: bundled profiles are {}; or give a path to a .toml file",
        bundled_names().join(", ")
    )]
    Unknown { name: String },
    #[error("cannot read profile {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("profile {origin} is not valid:\n{}", problems.join("\n"))]
    Invalid { origin: String, problems: Vec<String> },
}

/// A validated scan profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Profile id (`id` key); recorded in the protocol.
    pub id: String,
    /// Profile version (`version` key); recorded in the protocol.
    pub version: String,
    /// One line for `scanwerk profiles`.
    pub description: String,
    /// Where the profile came from: `bundled:NAME` or the file path.
    pub origin: String,
    /// SHA-256 (hex) of the profile file bytes, so the protocol names exactly what ran.
    pub sha256: String,
    /// Resolution given to images whose file has none; `None` refuses such files. Default: none.
    pub assume_dpi: Option<f64>,
    /// Limits against decompression bombs and runaway files (`[input]`).
    pub limits: InputLimits,
    /// `input.on_document_error = "set-aside"`: a document that fails is left out and recorded,
    /// the batch's others are published (it then counts as incomplete). Default
    /// `"refuse-batch"`: nothing is published while a document fails.
    pub set_aside_failed: bool,
    /// Whether pages are OCR'd at all. Default: true.
    pub ocr_enabled: bool,
    /// Tesseract languages, joined with `+` for the engine. Default: `["deu", "eng"]`.
    pub languages: Vec<String>,
    /// Page preparation: orientation, skew, blank pages.
    pub prepare: PreparePolicy,
    /// Thresholds that raise quality flags, and what an incomplete batch means.
    pub quality: QualityPolicy,
    /// Protection level for integrity (TR-RESISCAN): what the batch must be sealed with.
    pub protection: Protection,
    /// Which pages a person checks before the batch is sealed (`[review]`).
    pub review: ReviewPolicy,
    /// Full-text sidecars beside each PDF (`[output]`).
    pub output: OutputPolicy,
    /// Signature algorithm (`seal.signature`): `"ecdsa-p256"` (default) or `"ecdsa-p384"`. The
    /// key must be of this curve.
    pub signature: SignatureAlgorithm,
    /// Signing key (PKCS#8, PEM or DER) when `--key` is not given. Relative to the profile file;
    /// or a key in a PKCS#11 token, named by its `pkcs11:` URI (RFC 7512).
    pub key: Option<PathBuf>,
    /// Certificate chain (PEM, signer first) for the key when `--cert` is not given; with one,
    /// each PDF carries a PAdES signature. Relative to the profile file.
    pub certificate: Option<PathBuf>,
    /// The PKCS#11 module (`seal.pkcs11_module`) for a key named by a `pkcs11:` URI, unless the
    /// URI or `SCANWERK_PKCS11_MODULE` names one.
    pub pkcs11_module: Option<PathBuf>,
    /// RFC 3161 time stamp on the batch root (`seal.timestamp`, `seal.tsa_url`).
    pub timestamp: TimestampPolicy,
    /// Hash of the batch hash tree (`seal.tree_hash`): `"sha-256"` (default) or `"sha-512"`.
    pub tree_hash: crate::seal::tree::TreeHash,
    /// How the batch's pages become documents (`[separation]`).
    pub separation: separation::Settings,
}

pub use crate::decode::InputLimits;

/// Protection level for integrity (TR-RESISCAN: normal / hoch / sehr hoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protection {
    /// A signature over the batch; a certificate and a time stamp are optional.
    Normal,
    /// Also a certificate-based (PAdES) signature in every PDF and a named responsible person.
    Hoch,
    /// Also a time stamp on the batch root, and every page marked for full visual review.
    SehrHoch,
}

impl Protection {
    /// The level's name in profiles and records: `normal`, `hoch`, `sehr-hoch`.
    pub fn name(self) -> &'static str {
        values::name_of(values::PROTECTION, &self)
    }
}

/// Which pages go to a person before sealing (TR-RESISCAN A.SC.8, IN.H.7, IN.SH.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewMode {
    /// Sealed at once; the protocol says no person's check is recorded.
    None,
    /// Pages marked for review (quality flags) are checked before sealing.
    Flagged,
    /// Marked pages and the spot-check sample.
    FlaggedSample,
    /// Every page.
    All,
}

impl ReviewMode {
    /// The mode's name in profiles and records: `none`, `flagged`, `flagged+sample`, `all`.
    pub fn name(self) -> &'static str {
        values::name_of(values::REVIEW_MODE, &self)
    }
}

/// `[output]`: full text beside each PDF for digital libraries and viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputPolicy {
    /// `documents/<id>.alto.xml` (ALTO 4). Default: true.
    pub alto: bool,
    /// `documents/<id>.hocr`. Default: false.
    pub hocr: bool,
    /// The published batch is a BagIt 1.0 bag, the batch in `data/`. Default: true (output
    /// contract scanwerk/2); false keeps the plain folder of scanwerk/1.
    pub bagit: bool,
}

/// `[review]`: the mode, and how many different people must accept each page (four eyes: 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    pub mode: ReviewMode,
    pub reviewers: u8,
}

/// Whether and how the batch root gets an RFC 3161 time stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampPolicy {
    Off,
    /// Ask the time-stamp service at this URL (HTTP POST) while sealing.
    Online {
        url: String,
    },
    /// Write the query (`hashtree.tsq`); `scanwerk timestamp attach` adds the reply later.
    Offline,
}

/// `[prepare]`: what preparation may measure and change.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparePolicy {
    /// Detect 0/90/180/270° and set the page's `/Rotate` (`orientation = "detect"`, default), or
    /// take pages as scanned (`"off"`).
    pub detect_orientation: bool,
    /// What a measured skew changes: nothing (`"off"`), the OCR working copy only (`"ocr"`,
    /// default: the image stays the scanner's), or the image itself (`"image"`: the page is
    /// rotated and re-encoded losslessly, and the operation logged).
    pub deskew: Deskew,
    /// Skews smaller than this (degrees) are left alone. Default 0.2.
    pub min_deskew_degrees: f32,
    /// Blank pages: `"keep"`, `"flag"` (default: kept and marked for review) or `"remove"`
    /// (left out of the PDF, listed with their image hash in the document record).
    pub blank_pages: BlankPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deskew {
    Off,
    Ocr,
    Image,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlankPolicy {
    Keep,
    Flag,
    Remove,
}

/// `[quality]`: thresholds for the page flags and the batch completeness rule.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityPolicy {
    /// Pages below this resolution (dpi) are flagged `low_resolution`. Default 200.
    pub min_dpi: f64,
    /// Pages whose mean OCR word confidence is below this are flagged `low_confidence`. Default 60.
    pub min_confidence: f32,
    /// Pages skewed more than this (degrees) are flagged `skewed`. Default 1.0.
    pub max_skew_degrees: f32,
    /// Colour modes the document class should arrive in; others are flagged `colour_mode`.
    /// Default: all (`bilevel`, `gray8`, `gray16`, `rgb8`, `rgb16`).
    pub colour_modes: Vec<String>,
    /// Share of the scanned pages drawn for the visual spot check, in percent (TR-RESISCAN
    /// A.SC.8: 2–4 %). At least one page is drawn when above 0. Default 3.
    pub qa_sample_percent: f64,
    /// A batch whose counts differ from the batch sheet's expected counts: `"record"` (default:
    /// publish with the anomaly in the protocol) or `"refuse"` (publish nothing).
    pub refuse_incomplete: bool,
}

/// Every colour mode decoding produces.
pub const COLOUR_MODES: [&str; 5] = ["bilevel", "gray8", "gray16", "rgb8", "rgb16"];

pub use crate::seal::sign::Algorithm as SignatureAlgorithm;

/// Names of the bundled profiles.
pub fn bundled_names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(name, _)| *name).collect()
}

/// Loads a profile by bundled name, or from a file when `spec` is a path to one.
pub fn load(spec: &str) -> Result<Profile, ProfileError> {
    if let Some((_, text)) = BUNDLED.iter().find(|(name, _)| *name == spec) {
        return parse(text, &format!("bundled:{spec}"), None);
    }
    let path = Path::new(spec);
    if !path.exists() && !spec.contains('/') && !spec.ends_with(".toml") {
        return Err(ProfileError::Unknown {
            name: spec.to_string(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string(), path.parent())
}

/// Parses and validates profile text; `base` resolves relative key paths.
pub fn parse(text: &str, origin: &str, base: Option<&Path>) -> Result<Profile, ProfileError> {
    let mut checked = crate::schema::check(text, KEYS, &["id", "version"]);
    let mut problems = std::mem::take(&mut checked.problems);
    let profile = checked.table.take().and_then(|mut table| {
        // Stand-ins for missing required keys (already reported), so the rest is still checked.
        for required in ["id", "version"] {
            table
                .entry(required)
                .or_insert_with(|| toml::Value::String("?".into()));
        }
        match toml::Value::Table(table).try_into::<RawProfile>() {
            Ok(raw) => Some(raw),
            Err(e) => {
                problems.push(crate::schema::Problem {
                    line: None,
                    message: e.message().trim().replace('\n', " "),
                });
                None
            }
        }
    });
    let profile = profile.map(|raw| {
        let mut found = Vec::new();
        let profile = validate(raw, origin, text, base, &mut found);
        for found in found {
            if checked.follows_from_rejected(&found.key) || checked.follows_from_rejected(&found.message) {
                continue;
            }
            problems.push(crate::schema::Problem {
                line: checked.line_of(&found.key),
                message: found.message,
            });
        }
        profile
    });
    match profile {
        Some(profile) if problems.is_empty() => Ok(profile),
        _ => {
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            Err(ProfileError::Invalid {
                origin: origin.to_string(),
                problems: problems
                    .iter()
                    .map(|p| format!("  {}", p.render(origin)))
                    .collect(),
            })
        }
    }
}

impl Profile {
    /// The tesseract language string, e.g. `deu+eng`.
    pub fn language_spec(&self) -> String {
        self.languages.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_profiles_are_valid() {
        for name in bundled_names() {
            let profile = load(name).unwrap();
            assert_eq!(profile.id, name);
            assert_eq!(profile.sha256.len(), 64);
        }
    }

    #[test]
    fn standard_is_300_dpi_deu_eng() {
        let p = load("standard").unwrap();
        assert_eq!(p.assume_dpi, Some(300.0));
        assert_eq!(p.language_spec(), "deu+eng");
        assert!(p.ocr_enabled);
    }

    #[test]
    fn unknown_key_is_named_with_line() {
        let text = "id = \"x\"\nversion = \"1\"\n[ocr]\nlanguagez = [\"deu\"]\n";
        let err = parse(text, "my.toml", None).unwrap_err().to_string();
        assert!(err.contains("my.toml"), "{err}");
        assert!(err.contains("languagez"), "{err}");
        assert!(err.contains("my.toml:4:"), "{err}");
    }

    #[test]
    fn all_problems_are_listed_at_once() {
        let text = "id = \"\"\nversion = \"1\"\n[input]\nassume_dpi = 5\n[ocr]\nlanguages = []\n[seal]\nsignature = \"rsa\"\n";
        let err = parse(text, "bad.toml", None).unwrap_err().to_string();
        for needle in ["id:", "assume_dpi", "ocr.languages", "seal.signature"] {
            assert!(err.contains(needle), "missing {needle} in {err}");
        }
    }

    #[test]
    fn preparation_and_quality_keys_are_read_and_checked() {
        let text = "id = \"x\"\nversion = \"1\"\n[prepare]\norientation = \"off\"\ndeskew = \"image\"\n\
                    blank_pages = \"remove\"\n[quality]\nmin_dpi = 300\nincomplete_batch = \"refuse\"\n\
                    colour_modes = [\"bilevel\"]\n";
        let p = parse(text, "p.toml", None).unwrap();
        assert!(!p.prepare.detect_orientation);
        assert_eq!(p.prepare.deskew, Deskew::Image);
        assert_eq!(p.prepare.blank_pages, BlankPolicy::Remove);
        assert_eq!(p.quality.min_dpi, 300.0);
        assert!(p.quality.refuse_incomplete);
        assert_eq!(p.quality.colour_modes, ["bilevel"]);
        assert_eq!(p.tree_hash, crate::seal::tree::TreeHash::Sha256, "default");
        let long = parse(
            "id = \"x\"\nversion = \"1\"\n[seal]\ntree_hash = \"sha-512\"\n",
            "l.toml",
            None,
        )
        .unwrap();
        assert_eq!(long.tree_hash, crate::seal::tree::TreeHash::Sha512);
        let md5 = parse(
            "id = \"x\"\nversion = \"1\"\n[seal]\ntree_hash = \"md5\"\n",
            "m.toml",
            None,
        );
        assert!(md5.unwrap_err().to_string().contains("seal.tree_hash = \"md5\""));
        let defaults = load("standard").unwrap();
        assert!(defaults.prepare.detect_orientation && !defaults.quality.refuse_incomplete);
        assert_eq!(defaults.prepare.blank_pages, BlankPolicy::Flag);
        let bad = "id = \"x\"\nversion = \"1\"\n[prepare]\ndeskew = \"always\"\nblank_pages = \"drop\"\n\
                   [quality]\nmin_confidence = 150\ncolour_modes = [\"cmyk\"]\n";
        let err = parse(bad, "bad.toml", None).unwrap_err().to_string();
        for needle in [
            "prepare.deskew = \"always\"",
            "\"ocr\", \"image\", \"off\"",
            "blank_pages = \"drop\"",
            "min_confidence = 150",
            "\"cmyk\"",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
    }

    #[test]
    fn shown_profiles_read_back_the_same_and_document_every_key() {
        let readme = include_str!("../../profiles/README.md");
        for name in bundled_names() {
            let profile = load(name).unwrap();
            let shown = profile.to_toml();
            for (section, key, _) in KEYS {
                assert!(
                    shown.contains(&format!("\n{key} = ")) || shown.contains(&format!("\n# {key}: not set")),
                    "{name}: {key} missing from\n{shown}"
                );
                let documented = format!("`{}`", crate::schema::dotted(section, key));
                assert!(
                    readme.contains(&documented),
                    "profiles/README.md does not document {documented}"
                );
            }
            let mut again = parse(&shown, "shown", None).unwrap_or_else(|e| panic!("{name}: {e}\n{shown}"));
            again.origin = profile.origin.clone();
            again.sha256 = profile.sha256.clone();
            assert_eq!(format!("{again:?}"), format!("{profile:?}"), "{name}");
        }
    }

    #[test]
    fn a_wrong_type_does_not_hide_a_wrong_value_nor_cause_a_follow_up() {
        let text = "id = \"x\"\nversion = \"1\"\n[prepare]\nblank_pages = \"delete\"\n\
                    [quality]\nmin_dpi = \"300\"\n[seal]\ntimestamp = \"online\"\ntsa_url = 5\n";
        let err = parse(text, "p.toml", None).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().skip(1).map(str::trim).collect();
        assert_eq!(
            lines,
            [
                "p.toml:4: prepare.blank_pages = \"delete\": choose one of \"flag\", \"keep\", \"remove\"",
                "p.toml:6: quality.min_dpi: must be a number",
                "p.toml:9: seal.tsa_url: must be a string in quotes",
            ],
            "{err}"
        );
    }

    #[test]
    fn every_structural_problem_is_listed_with_file_and_line() {
        let text = "id = \"x\"\n\
                    version = \"1\"\n\
                    languages = [\"deu\"]\n\
                    [quality]\n\
                    min_dpi = \"high\"\n\
                    min_dip = 300\n\
                    [scan]\n\
                    x = 1\n\
                    [ocr]\n\
                    enabled = 1\n";
        let err = parse(text, "site.toml", None).unwrap_err().to_string();
        for needle in [
            "site.toml:3: unknown key languages; did you mean ocr.languages?",
            "site.toml:5: quality.min_dpi: must be a number",
            "site.toml:6: unknown key quality.min_dip; did you mean quality.min_dpi?",
            "site.toml:7: unknown section [scan]; sections are [input], [ocr], [prepare], [quality], [output], [review], [seal], [separation]",
            "site.toml:10: ocr.enabled: must be true or false",
        ] {
            assert!(err.contains(needle), "{needle:?} not in\n{err}");
        }
        let missing = parse("description = \"x\"\n", "m.toml", None)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("m.toml: id: missing") && missing.contains("m.toml: version: missing"));
        let syntax = parse("id = \"x\"\nversion = 1.0.0\n[ocr\n", "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(
            syntax.contains("s.toml:2:") && syntax.contains("s.toml:3:"),
            "{syntax}"
        );
        let range = "id = \"x\"\nversion = \"1\"\n\n[quality]\nmin_dpi = 20\nqa_sample_percent = 150\n";
        let err = parse(range, "r.toml", None).unwrap_err().to_string();
        assert!(
            err.contains("r.toml:5: quality.min_dpi = 20: must lie between"),
            "{err}"
        );
        assert!(err.contains("r.toml:6: quality.qa_sample_percent = 150"), "{err}");
    }

    #[test]
    fn unknown_name_lists_bundled() {
        let err = load("nonesuch").unwrap_err().to_string();
        assert!(err.contains("standard"), "{err}");
    }
}
