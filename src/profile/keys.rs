//! Every key a profile may hold: the schema the structural check reads ([`KEYS`]), and the raw
//! shapes the TOML is deserialised into before it is validated.

use std::path::PathBuf;

use serde::Deserialize;

pub use crate::schema::Kind;

/// Every key a profile may hold: `(section, key, kind)`; section `""` is the top level. The
/// order is the order of `scanwerk profiles show` and of `profiles/README.md`.
pub const KEYS: &[crate::schema::Key] = &[
    ("", "id", Kind::Text),
    ("", "version", Kind::Text),
    ("", "description", Kind::Text),
    ("", "protection", Kind::Text),
    ("input", "assume_dpi", Kind::Number),
    ("input", "max_megapixels", Kind::Number),
    ("input", "max_pages", Kind::Integer),
    ("input", "max_file_mb", Kind::Integer),
    ("input", "on_document_error", Kind::Text),
    ("ocr", "enabled", Kind::Boolean),
    ("ocr", "languages", Kind::TextList),
    ("prepare", "orientation", Kind::Text),
    ("prepare", "deskew", Kind::Text),
    ("prepare", "min_deskew_degrees", Kind::Number),
    ("prepare", "blank_pages", Kind::Text),
    ("quality", "min_dpi", Kind::Number),
    ("quality", "min_confidence", Kind::Number),
    ("quality", "max_skew_degrees", Kind::Number),
    ("quality", "colour_modes", Kind::TextList),
    ("quality", "qa_sample_percent", Kind::Number),
    ("quality", "incomplete_batch", Kind::Text),
    ("output", "alto", Kind::Boolean),
    ("output", "hocr", Kind::Boolean),
    ("output", "bagit", Kind::Boolean),
    ("review", "mode", Kind::Text),
    ("review", "reviewers", Kind::Integer),
    ("seal", "signature", Kind::Text),
    ("seal", "key", Kind::Text),
    ("seal", "certificate", Kind::Text),
    ("seal", "pkcs11_module", Kind::Text),
    ("seal", "tree_hash", Kind::Text),
    ("seal", "timestamp", Kind::Text),
    ("seal", "tsa_url", Kind::Text),
    ("separation", "mode", Kind::Text),
    ("separation", "pages", Kind::Integer),
    ("separation", "patch_codes", Kind::TextList),
    ("separation", "barcode_formats", Kind::TextList),
    ("separation", "barcode_pattern", Kind::Text),
    ("separation", "document_id", Kind::Text),
    ("separation", "sheet_back", Kind::Text),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) id: String,
    pub(super) version: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) input: RawInput,
    #[serde(default)]
    pub(super) ocr: RawOcr,
    #[serde(default)]
    pub(super) prepare: RawPrepare,
    #[serde(default)]
    pub(super) quality: RawQuality,
    #[serde(default)]
    pub(super) output: RawOutput,
    #[serde(default)]
    pub(super) review: RawReview,
    #[serde(default)]
    pub(super) seal: RawSeal,
    #[serde(default)]
    pub(super) separation: RawSeparation,
    pub(super) protection: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeparation {
    pub(super) mode: Option<String>,
    pub(super) pages: Option<u32>,
    pub(super) patch_codes: Option<Vec<String>>,
    pub(super) barcode_formats: Option<Vec<String>>,
    pub(super) barcode_pattern: Option<String>,
    pub(super) document_id: Option<String>,
    pub(super) sheet_back: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrepare {
    pub(super) orientation: Option<String>,
    pub(super) deskew: Option<String>,
    pub(super) min_deskew_degrees: Option<f32>,
    pub(super) blank_pages: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuality {
    pub(super) min_dpi: Option<f64>,
    pub(super) min_confidence: Option<f32>,
    pub(super) max_skew_degrees: Option<f32>,
    pub(super) colour_modes: Option<Vec<String>>,
    pub(super) incomplete_batch: Option<String>,
    pub(super) qa_sample_percent: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInput {
    pub(super) assume_dpi: Option<f64>,
    pub(super) max_megapixels: Option<f64>,
    pub(super) max_pages: Option<u32>,
    pub(super) max_file_mb: Option<u64>,
    pub(super) on_document_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOcr {
    pub(super) enabled: Option<bool>,
    pub(super) languages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) alto: Option<bool>,
    pub(super) hocr: Option<bool>,
    pub(super) bagit: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReview {
    pub(super) mode: Option<String>,
    pub(super) reviewers: Option<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeal {
    pub(super) signature: Option<String>,
    pub(super) key: Option<PathBuf>,
    pub(super) certificate: Option<PathBuf>,
    pub(super) pkcs11_module: Option<PathBuf>,
    pub(super) tree_hash: Option<String>,
    pub(super) timestamp: Option<String>,
    pub(super) tsa_url: Option<String>,
}
