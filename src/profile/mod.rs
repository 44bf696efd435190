//! Scan profiles: `profiles/*.toml` → a validated [`Profile`].
//!
//! A profile is what an operator chooses per document class (resolution policy, OCR languages,
//! signature algorithm). The bundled profiles are compiled into the binary so `scanwerk` works from
//! any directory; a path selects a profile file instead. Unknown keys are rejected, and every
//! problem is reported at once with the file it came from, before any page is read.

pub mod separation;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::seal::hash::sha256_hex;

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
    /// Signature algorithm (`seal.signature`): `"ecdsa-p256"` (default) or `"ecdsa-p384"`. The
    /// key must be of this curve.
    pub signature: SignatureAlgorithm,
    /// Signing key (PKCS#8, PEM or DER) when `--key` is not given. Relative to the profile file.
    pub key: Option<PathBuf>,
    /// Certificate chain (PEM, signer first) for the key when `--cert` is not given; with one,
    /// each PDF carries a PAdES signature. Relative to the profile file.
    pub certificate: Option<PathBuf>,
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
    pub fn name(self) -> &'static str {
        match self {
            Protection::Normal => "normal",
            Protection::Hoch => "hoch",
            Protection::SehrHoch => "sehr-hoch",
        }
    }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    input: RawInput,
    #[serde(default)]
    ocr: RawOcr,
    #[serde(default)]
    prepare: RawPrepare,
    #[serde(default)]
    quality: RawQuality,
    #[serde(default)]
    seal: RawSeal,
    #[serde(default)]
    separation: RawSeparation,
    protection: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSeparation {
    mode: Option<String>,
    pages: Option<u32>,
    patch_codes: Option<Vec<String>>,
    barcode_formats: Option<Vec<String>>,
    barcode_pattern: Option<String>,
    document_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrepare {
    orientation: Option<String>,
    deskew: Option<String>,
    min_deskew_degrees: Option<f32>,
    blank_pages: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuality {
    min_dpi: Option<f64>,
    min_confidence: Option<f32>,
    max_skew_degrees: Option<f32>,
    colour_modes: Option<Vec<String>>,
    incomplete_batch: Option<String>,
    qa_sample_percent: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    assume_dpi: Option<f64>,
    max_megapixels: Option<f64>,
    max_pages: Option<u32>,
    max_file_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOcr {
    enabled: Option<bool>,
    languages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeal {
    signature: Option<String>,
    key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    tree_hash: Option<String>,
    timestamp: Option<String>,
    tsa_url: Option<String>,
}

/// Reads one of `choices` (key = value in the TOML), the first being the default.
fn choice<T: Copy>(
    value: &Option<String>,
    key: &str,
    choices: &[(&str, T)],
    problems: &mut Vec<String>,
) -> T {
    match value {
        None => choices[0].1,
        Some(v) => match choices.iter().find(|(name, _)| name == v) {
            Some((_, choice)) => *choice,
            None => {
                let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
                problems.push(format!("  {key} = {v:?}: choose one of {}", names.join(", ")));
                choices[0].1
            }
        },
    }
}

fn prepare_policy(raw: &RawPrepare, problems: &mut Vec<String>) -> PreparePolicy {
    let min_deskew_degrees = raw.min_deskew_degrees.unwrap_or(0.2);
    if !(0.0..=10.0).contains(&min_deskew_degrees) {
        problems.push(format!(
            "  prepare.min_deskew_degrees = {min_deskew_degrees}: must lie between 0 and 10"
        ));
    }
    PreparePolicy {
        detect_orientation: choice(
            &raw.orientation,
            "prepare.orientation",
            &[("detect", true), ("off", false)],
            problems,
        ),
        deskew: choice(
            &raw.deskew,
            "prepare.deskew",
            &[
                ("ocr", Deskew::Ocr),
                ("image", Deskew::Image),
                ("off", Deskew::Off),
            ],
            problems,
        ),
        min_deskew_degrees,
        blank_pages: choice(
            &raw.blank_pages,
            "prepare.blank_pages",
            &[
                ("flag", BlankPolicy::Flag),
                ("keep", BlankPolicy::Keep),
                ("remove", BlankPolicy::Remove),
            ],
            problems,
        ),
    }
}

fn quality_policy(raw: &RawQuality, problems: &mut Vec<String>) -> QualityPolicy {
    let min_dpi = raw.min_dpi.unwrap_or(200.0);
    if !(50.0..=2400.0).contains(&min_dpi) {
        problems.push(format!(
            "  quality.min_dpi = {min_dpi}: must lie between 50 and 2400"
        ));
    }
    let min_confidence = raw.min_confidence.unwrap_or(60.0);
    if !(0.0..=100.0).contains(&min_confidence) {
        problems.push(format!(
            "  quality.min_confidence = {min_confidence}: must lie between 0 and 100"
        ));
    }
    let max_skew_degrees = raw.max_skew_degrees.unwrap_or(1.0);
    if !(0.0..=45.0).contains(&max_skew_degrees) {
        problems.push(format!(
            "  quality.max_skew_degrees = {max_skew_degrees}: must lie between 0 and 45"
        ));
    }
    let colour_modes = raw
        .colour_modes
        .clone()
        .unwrap_or_else(|| COLOUR_MODES.iter().map(|m| m.to_string()).collect());
    for mode in &colour_modes {
        if !COLOUR_MODES.contains(&mode.as_str()) {
            problems.push(format!(
                "  quality.colour_modes: {mode:?} is not one of {}",
                COLOUR_MODES.join(", ")
            ));
        }
    }
    let qa_sample_percent = raw.qa_sample_percent.unwrap_or(3.0);
    if !(0.0..=100.0).contains(&qa_sample_percent) {
        problems.push(format!(
            "  quality.qa_sample_percent = {qa_sample_percent}: must lie between 0 and 100 (TR-RESISCAN: 2 to 4)"
        ));
    }
    QualityPolicy {
        min_dpi,
        min_confidence,
        max_skew_degrees,
        colour_modes,
        qa_sample_percent,
        refuse_incomplete: choice(
            &raw.incomplete_batch,
            "quality.incomplete_batch",
            &[("record", false), ("refuse", true)],
            problems,
        ),
    }
}

/// Reads each of `names` with `parse`; one that does not parse is a problem listing `known`.
fn parse_list<T>(
    names: &[String],
    parse: impl Fn(&str) -> Option<T>,
    known: &[&str],
    key: &str,
    not: &str,
    problems: &mut Vec<String>,
) -> Vec<T> {
    names
        .iter()
        .filter_map(|n| {
            let parsed = parse(n);
            if parsed.is_none() {
                let known: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
                problems.push(format!("  {key}: {n:?} {not}; choose from {}", known.join(", ")));
            }
            parsed
        })
        .collect()
}

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
    let checked = crate::schema::check(text, KEYS, &["id", "version"]);
    let mut problems = checked.problems.clone();
    let profile = checked.table.clone().and_then(|mut table| {
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
        for message in found {
            let message = message.trim().to_string();
            if checked.follows_from_rejected(&message) {
                continue;
            }
            let key = message.split([' ', ':']).next().unwrap_or_default();
            problems.push(crate::schema::Problem {
                line: checked.line_of(key),
                message,
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
    ("seal", "signature", Kind::Text),
    ("seal", "key", Kind::Text),
    ("seal", "certificate", Kind::Text),
    ("seal", "tree_hash", Kind::Text),
    ("seal", "timestamp", Kind::Text),
    ("seal", "tsa_url", Kind::Text),
    ("separation", "mode", Kind::Text),
    ("separation", "pages", Kind::Integer),
    ("separation", "patch_codes", Kind::TextList),
    ("separation", "barcode_formats", Kind::TextList),
    ("separation", "barcode_pattern", Kind::Text),
    ("separation", "document_id", Kind::Text),
];

fn validate(
    raw: RawProfile,
    origin: &str,
    text: &str,
    base: Option<&Path>,
    problems: &mut Vec<String>,
) -> Profile {
    if raw.id.trim().is_empty() {
        problems.push("  id: must not be empty".into());
    }
    if let Some(dpi) = raw.input.assume_dpi
        && !(50.0..=2400.0).contains(&dpi)
    {
        problems.push(format!(
            "  input.assume_dpi = {dpi}: must lie between 50 and 2400"
        ));
    }
    let languages = raw
        .ocr
        .languages
        .unwrap_or_else(|| vec!["deu".into(), "eng".into()]);
    if languages.is_empty() {
        problems.push("  ocr.languages: name at least one tesseract language, e.g. [\"deu\"]".into());
    }
    for lang in &languages {
        if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(format!(
                "  ocr.languages: {lang:?} is not a tesseract language name"
            ));
        }
    }
    let signature = choice(
        &raw.seal.signature,
        "seal.signature",
        &[
            ("ecdsa-p256", SignatureAlgorithm::EcdsaP256Sha256),
            ("ecdsa-p384", SignatureAlgorithm::EcdsaP384Sha384),
        ],
        problems,
    );
    let tree_hash = choice(
        &raw.seal.tree_hash,
        "seal.tree_hash",
        &[
            ("sha-256", crate::seal::tree::TreeHash::Sha256),
            ("sha-512", crate::seal::tree::TreeHash::Sha512),
        ],
        problems,
    );
    let defaults = InputLimits::default();
    let limits = InputLimits {
        max_megapixels: raw.input.max_megapixels.unwrap_or(defaults.max_megapixels),
        max_pages: raw.input.max_pages.unwrap_or(defaults.max_pages),
        max_file_mb: raw.input.max_file_mb.unwrap_or(defaults.max_file_mb),
    };
    if !(limits.max_megapixels > 0.0 && limits.max_pages > 0 && limits.max_file_mb > 0) {
        problems.push("  input.max_megapixels, max_pages and max_file_mb must be above 0".into());
    }
    let prepare = prepare_policy(&raw.prepare, problems);
    let quality = quality_policy(&raw.quality, problems);
    let separation = separation::settings(&raw.separation, problems);
    let relative = |k: PathBuf| match base {
        Some(dir) if k.is_relative() => dir.join(k),
        _ => k,
    };
    let key = raw.seal.key.map(relative);
    let certificate = raw.seal.certificate.map(relative);
    let protection = choice(
        &raw.protection,
        "protection",
        &[
            ("normal", Protection::Normal),
            ("hoch", Protection::Hoch),
            ("sehr-hoch", Protection::SehrHoch),
        ],
        problems,
    );
    let timestamp = match (raw.seal.timestamp.as_deref(), raw.seal.tsa_url) {
        (None | Some("off"), None) => TimestampPolicy::Off,
        (Some("online") | None, Some(url)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(format!(
                    "  seal.tsa_url = {url:?}: give an http:// or https:// URL"
                ));
            }
            TimestampPolicy::Online { url }
        }
        (Some("online"), None) => {
            problems.push("  seal.timestamp = \"online\": set seal.tsa_url to the time-stamp service".into());
            TimestampPolicy::Off
        }
        (Some("offline"), _) => TimestampPolicy::Offline,
        (Some("off"), Some(_)) => TimestampPolicy::Off,
        (Some(other), _) => {
            problems.push(format!(
                "  seal.timestamp = {other:?}: choose one of \"off\", \"online\", \"offline\""
            ));
            TimestampPolicy::Off
        }
    };
    Profile {
        id: raw.id,
        version: raw.version,
        description: raw.description,
        origin: origin.to_string(),
        sha256: sha256_hex(text.as_bytes()),
        assume_dpi: raw.input.assume_dpi,
        limits,
        ocr_enabled: raw.ocr.enabled.unwrap_or(true),
        prepare,
        quality,
        tree_hash,
        languages,
        protection,
        signature,
        key,
        certificate,
        timestamp,
        separation,
    }
}

impl Profile {
    /// The profile with every key resolved (defaults filled in), as a profile file: what
    /// `scanwerk profiles show` prints. Keys without a value are shown commented out.
    pub fn to_toml(&self) -> String {
        use toml::Value;
        let text = |s: &str| Value::String(s.to_string()).to_string();
        let list = |items: &[String]| {
            Value::Array(items.iter().map(|i| Value::String(i.clone())).collect()).to_string()
        };
        let names =
            |items: &mut dyn Iterator<Item = &str>| list(&items.map(str::to_string).collect::<Vec<_>>());
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| text(&p.display().to_string()));
        let number = |n: f64| Value::Float(n).to_string();
        // f32 settings as written (0.2, not 0.20000000298023224).
        let number32 = |n: f32| number(n.to_string().parse().unwrap_or(f64::from(n)));
        let (timestamp, tsa_url) = match &self.timestamp {
            TimestampPolicy::Off => ("off", None),
            TimestampPolicy::Online { url } => ("online", Some(text(url))),
            TimestampPolicy::Offline => ("offline", None),
        };
        let value = |section: &str, key: &str| -> Option<String> {
            Some(match (section, key) {
                ("", "id") => text(&self.id),
                ("", "version") => text(&self.version),
                ("", "description") => text(&self.description),
                ("", "protection") => text(self.protection.name()),
                ("input", "assume_dpi") => number(self.assume_dpi?),
                ("input", "max_megapixels") => number(self.limits.max_megapixels),
                ("input", "max_pages") => self.limits.max_pages.to_string(),
                ("input", "max_file_mb") => self.limits.max_file_mb.to_string(),
                ("ocr", "enabled") => self.ocr_enabled.to_string(),
                ("ocr", "languages") => list(&self.languages),
                ("prepare", "orientation") => text(if self.prepare.detect_orientation {
                    "detect"
                } else {
                    "off"
                }),
                ("prepare", "deskew") => text(match self.prepare.deskew {
                    Deskew::Ocr => "ocr",
                    Deskew::Image => "image",
                    Deskew::Off => "off",
                }),
                ("prepare", "min_deskew_degrees") => number32(self.prepare.min_deskew_degrees),
                ("prepare", "blank_pages") => text(match self.prepare.blank_pages {
                    BlankPolicy::Flag => "flag",
                    BlankPolicy::Keep => "keep",
                    BlankPolicy::Remove => "remove",
                }),
                ("quality", "min_dpi") => number(self.quality.min_dpi),
                ("quality", "min_confidence") => number32(self.quality.min_confidence),
                ("quality", "max_skew_degrees") => number32(self.quality.max_skew_degrees),
                ("quality", "colour_modes") => list(&self.quality.colour_modes),
                ("quality", "qa_sample_percent") => number(self.quality.qa_sample_percent),
                ("quality", "incomplete_batch") => text(if self.quality.refuse_incomplete {
                    "refuse"
                } else {
                    "record"
                }),
                ("seal", "signature") => text(match self.signature {
                    SignatureAlgorithm::EcdsaP256Sha256 => "ecdsa-p256",
                    SignatureAlgorithm::EcdsaP384Sha384 => "ecdsa-p384",
                }),
                ("seal", "key") => path(&self.key)?,
                ("seal", "certificate") => path(&self.certificate)?,
                ("seal", "tree_hash") => text(match self.tree_hash {
                    crate::seal::tree::TreeHash::Sha256 => "sha-256",
                    crate::seal::tree::TreeHash::Sha512 => "sha-512",
                }),
                ("seal", "timestamp") => text(timestamp),
                ("seal", "tsa_url") => tsa_url.clone()?,
                ("separation", "mode") => text(self.separation.mode.name()),
                ("separation", "pages") => self.separation.pages.to_string(),
                ("separation", "patch_codes") => {
                    names(&mut self.separation.patch_codes.iter().map(|c| c.name()))
                }
                ("separation", "barcode_formats") => {
                    names(&mut self.separation.symbologies.iter().map(|s| s.name()))
                }
                ("separation", "barcode_pattern") => text(self.separation.barcode_pattern.as_str()),
                ("separation", "document_id") => text(self.separation.document_id.as_deref()?),
                _ => unreachable!("every key of KEYS has a value"),
            })
        };
        let mut out = format!("# {} (sha256 {})\n", self.origin, self.sha256);
        let mut current = "";
        for (section, key, _) in KEYS {
            if *section != current {
                out.push_str(&format!("\n[{section}]\n"));
                current = section;
            }
            match value(section, key) {
                Some(v) => out.push_str(&format!("{key} = {v}\n")),
                None => out.push_str(&format!("# {key}: not set\n")),
            }
        }
        out
    }

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
            "site.toml:7: unknown section [scan]; sections are [input], [ocr], [prepare], [quality], [seal], [separation]",
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
