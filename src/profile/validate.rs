//! Validation: the raw keys of a profile → the policies scanwerk works with, every value checked
//! against its range or its choices, each problem as `  key …` for the caller to locate.

use std::path::{Path, PathBuf};

use super::keys::{RawInput, RawPrepare, RawProfile, RawQuality, RawReview};
use super::values::{self, KeyProblem, choice};
use super::{
    COLOUR_MODES, InputLimits, PreparePolicy, Profile, Protection, QualityPolicy, ReviewMode, ReviewPolicy,
    TimestampPolicy, separation,
};
use crate::seal::hash::sha256_hex;

fn prepare_policy(raw: &RawPrepare, problems: &mut Vec<KeyProblem>) -> PreparePolicy {
    let min_deskew_degrees = raw.min_deskew_degrees.unwrap_or(0.2);
    if !(0.0..=10.0).contains(&min_deskew_degrees) {
        problems.push(KeyProblem::new(
            "prepare.min_deskew_degrees",
            format!("  prepare.min_deskew_degrees = {min_deskew_degrees}: must lie between 0 and 10"),
        ));
    }
    PreparePolicy {
        detect_orientation: choice(
            &raw.orientation,
            "prepare.orientation",
            values::ORIENTATION,
            problems,
        ),
        deskew: choice(&raw.deskew, "prepare.deskew", values::DESKEW, problems),
        min_deskew_degrees,
        blank_pages: choice(
            &raw.blank_pages,
            "prepare.blank_pages",
            values::BLANK_PAGES,
            problems,
        ),
    }
}

fn quality_policy(raw: &RawQuality, problems: &mut Vec<KeyProblem>) -> QualityPolicy {
    let min_dpi = raw.min_dpi.unwrap_or(200.0);
    if !(50.0..=2400.0).contains(&min_dpi) {
        problems.push(KeyProblem::new(
            "quality.min_dpi",
            format!("  quality.min_dpi = {min_dpi}: must lie between 50 and 2400"),
        ));
    }
    let min_confidence = raw.min_confidence.unwrap_or(60.0);
    if !(0.0..=100.0).contains(&min_confidence) {
        problems.push(KeyProblem::new(
            "quality.min_confidence",
            format!("  quality.min_confidence = {min_confidence}: must lie between 0 and 100"),
        ));
    }
    let max_skew_degrees = raw.max_skew_degrees.unwrap_or(1.0);
    if !(0.0..=45.0).contains(&max_skew_degrees) {
        problems.push(KeyProblem::new(
            "quality.max_skew_degrees",
            format!("  quality.max_skew_degrees = {max_skew_degrees}: must lie between 0 and 45"),
        ));
    }
    let colour_modes = raw
        .colour_modes
        .clone()
        .unwrap_or_else(|| COLOUR_MODES.iter().map(|m| m.to_string()).collect());
    for mode in &colour_modes {
        if !COLOUR_MODES.contains(&mode.as_str()) {
            problems.push(KeyProblem::new(
                "quality.colour_modes",
                format!(
                    "  quality.colour_modes: {mode:?} is not one of {}",
                    COLOUR_MODES.join(", ")
                ),
            ));
        }
    }
    let qa_sample_percent = raw.qa_sample_percent.unwrap_or(3.0);
    if !(0.0..=100.0).contains(&qa_sample_percent) {
        problems.push(KeyProblem::new("quality.qa_sample_percent", format!(
            "  quality.qa_sample_percent = {qa_sample_percent}: must lie between 0 and 100 (TR-RESISCAN: 2 to 4)"
        )));
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
            values::INCOMPLETE_BATCH,
            problems,
        ),
    }
}

/// The validated profile from its raw keys; every problem is added to `problems`.
pub(super) fn validate(
    raw: RawProfile,
    origin: &str,
    text: &str,
    base: Option<&Path>,
    problems: &mut Vec<KeyProblem>,
) -> Profile {
    if raw.id.trim().is_empty() {
        problems.push(KeyProblem::new("id", "  id: must not be empty"));
    }
    let languages = languages(raw.ocr.languages.clone(), problems);
    let signature = choice(&raw.seal.signature, "seal.signature", values::SIGNATURE, problems);
    let tree_hash = choice(&raw.seal.tree_hash, "seal.tree_hash", values::TREE_HASH, problems);
    let limits = input_limits(&raw.input, problems);
    let prepare = prepare_policy(&raw.prepare, problems);
    let quality = quality_policy(&raw.quality, problems);
    let separation = separation::settings(&raw.separation, problems);
    let relative = |k: PathBuf| match base {
        Some(dir) if k.is_relative() && !crate::seal::token::is_uri(&k) => dir.join(k),
        _ => k,
    };
    let key = raw.seal.key.map(relative);
    let certificate = raw.seal.certificate.map(relative);
    let protection = choice(&raw.protection, "protection", values::PROTECTION, problems);
    let timestamp = timestamp_policy(raw.seal.timestamp.as_deref(), raw.seal.tsa_url, problems);
    let review = review_policy(&raw.review, protection, problems);
    Profile {
        id: raw.id,
        version: raw.version,
        description: raw.description,
        origin: origin.to_string(),
        sha256: sha256_hex(text.as_bytes()),
        assume_dpi: raw.input.assume_dpi,
        limits,
        set_aside_failed: choice(
            &raw.input.on_document_error,
            "input.on_document_error",
            values::ON_DOCUMENT_ERROR,
            problems,
        ),
        ocr_enabled: raw.ocr.enabled.unwrap_or(true),
        prepare,
        quality,
        tree_hash,
        languages,
        protection,
        review,
        output: super::OutputPolicy {
            alto: raw.output.alto.unwrap_or(true),
            hocr: raw.output.hocr.unwrap_or(false),
            bagit: raw.output.bagit.unwrap_or(true),
        },
        signature,
        key,
        certificate,
        pkcs11_module: raw.seal.pkcs11_module,
        timestamp,
        separation,
    }
}

/// `ocr.languages` (default German and English), each a tesseract language name.
fn languages(languages: Option<Vec<String>>, problems: &mut Vec<KeyProblem>) -> Vec<String> {
    let languages = languages.unwrap_or_else(|| vec!["deu".into(), "eng".into()]);
    if languages.is_empty() {
        problems.push(KeyProblem::new(
            "ocr.languages",
            "  ocr.languages: name at least one tesseract language, e.g. [\"deu\"]",
        ));
    }
    for lang in &languages {
        if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(KeyProblem::new(
                "ocr.languages",
                format!("  ocr.languages: {lang:?} is not a tesseract language name"),
            ));
        }
    }
    languages
}

/// `[input]`: the assumed resolution's range and the limits, defaults filled in.
fn input_limits(raw: &RawInput, problems: &mut Vec<KeyProblem>) -> InputLimits {
    if let Some(dpi) = raw.assume_dpi
        && !(50.0..=2400.0).contains(&dpi)
    {
        problems.push(KeyProblem::new(
            "input.assume_dpi",
            format!("  input.assume_dpi = {dpi}: must lie between 50 and 2400"),
        ));
    }
    let defaults = InputLimits::default();
    let limits = InputLimits {
        max_megapixels: raw.max_megapixels.unwrap_or(defaults.max_megapixels),
        max_pages: raw.max_pages.unwrap_or(defaults.max_pages),
        max_file_mb: raw.max_file_mb.unwrap_or(defaults.max_file_mb),
    };
    if !(limits.max_megapixels > 0.0 && limits.max_pages > 0 && limits.max_file_mb > 0) {
        problems.push(KeyProblem::new(
            "input.max_megapixels",
            "  input.max_megapixels, max_pages and max_file_mb must be above 0",
        ));
    }
    limits
}

/// `[review]`, its defaults from the protection level: normal none, hoch flagged+sample, sehr-hoch
/// every page by two people. A level's minimum cannot be lowered (TR-RESISCAN IN.H.7, IN.SH.5).
fn review_policy(raw: &RawReview, protection: Protection, problems: &mut Vec<KeyProblem>) -> ReviewPolicy {
    let (least, least_reviewers) = match protection {
        Protection::Normal => (ReviewMode::None, 1),
        Protection::Hoch => (ReviewMode::FlaggedSample, 1),
        Protection::SehrHoch => (ReviewMode::All, 2),
    };
    let mode = match &raw.mode {
        None => least,
        some => values::choice(some, "review.mode", values::REVIEW_MODE, problems),
    };
    let reviewers = raw.reviewers.unwrap_or(least_reviewers);
    if !(1..=3).contains(&reviewers) {
        problems.push(KeyProblem::new(
            "review.reviewers",
            format!("  review.reviewers = {reviewers}: must be 1, 2 (four eyes) or 3"),
        ));
    }
    if mode < least || reviewers < least_reviewers {
        problems.push(KeyProblem::new(
            if mode < least { "review.mode" } else { "review.reviewers" },
            format!(
                "  protection = {:?} requires review.mode = {:?} or stricter{}; this profile has {:?} with {reviewers} reviewer(s)",
                protection.name(),
                least.name(),
                if least_reviewers > 1 { format!(" and review.reviewers = {least_reviewers}") } else { String::new() },
                mode.name(),
            ),
        ));
    }
    ReviewPolicy { mode, reviewers }
}

/// `seal.timestamp` with `seal.tsa_url`.
fn timestamp_policy(
    timestamp: Option<&str>,
    tsa_url: Option<String>,
    problems: &mut Vec<KeyProblem>,
) -> TimestampPolicy {
    match (timestamp, tsa_url) {
        (None | Some("off"), None) => TimestampPolicy::Off,
        (Some("online") | None, Some(url)) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(KeyProblem::new(
                    "seal.tsa_url",
                    format!("  seal.tsa_url = {url:?}: give an http:// or https:// URL"),
                ));
            }
            TimestampPolicy::Online { url }
        }
        (Some("online"), None) => {
            problems.push(KeyProblem::new(
                "seal.timestamp",
                "  seal.timestamp = \"online\": set seal.tsa_url to the time-stamp service",
            ));
            TimestampPolicy::Off
        }
        (Some("offline"), _) => TimestampPolicy::Offline,
        (Some("off"), Some(_)) => TimestampPolicy::Off,
        (Some(other), _) => {
            problems.push(KeyProblem::new(
                "seal.timestamp",
                format!("  seal.timestamp = {other:?}: choose one of \"off\", \"online\", \"offline\""),
            ));
            TimestampPolicy::Off
        }
    }
}
