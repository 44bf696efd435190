//! Reading one value of a profile: one of a set of names, or a list of them. Shared by the
//! validation of every section.

use super::{BlankPolicy, Deskew, Protection, ReviewMode, SignatureAlgorithm};
use crate::seal::tree::TreeHash;

// One name ↔ value table per setting, read by validation (`choice`, the first entry is the
// default) and by `profiles show` (`name_of`), so the two can never disagree.
pub(super) const ORIENTATION: &[(&str, bool)] = &[("detect", true), ("off", false)];
pub(super) const DESKEW: &[(&str, Deskew)] = &[
    ("ocr", Deskew::Ocr),
    ("image", Deskew::Image),
    ("off", Deskew::Off),
];
pub(super) const BLANK_PAGES: &[(&str, BlankPolicy)] = &[
    ("flag", BlankPolicy::Flag),
    ("keep", BlankPolicy::Keep),
    ("remove", BlankPolicy::Remove),
];
pub(super) const INCOMPLETE_BATCH: &[(&str, bool)] = &[("record", false), ("refuse", true)];
pub(super) const ON_DOCUMENT_ERROR: &[(&str, bool)] = &[("refuse-batch", false), ("set-aside", true)];
pub(super) const SIGNATURE: &[(&str, SignatureAlgorithm)] = &[
    ("ecdsa-p256", SignatureAlgorithm::EcdsaP256Sha256),
    ("ecdsa-p384", SignatureAlgorithm::EcdsaP384Sha384),
];
pub(super) const TREE_HASH: &[(&str, TreeHash)] =
    &[("sha-256", TreeHash::Sha256), ("sha-512", TreeHash::Sha512)];
pub(super) const PROTECTION: &[(&str, Protection)] = &[
    ("normal", Protection::Normal),
    ("hoch", Protection::Hoch),
    ("sehr-hoch", Protection::SehrHoch),
];

pub(super) const REVIEW_MODE: &[(&str, ReviewMode)] = &[
    ("none", ReviewMode::None),
    ("flagged", ReviewMode::Flagged),
    ("flagged+sample", ReviewMode::FlaggedSample),
    ("all", ReviewMode::All),
];

/// The name of `value` in `table`.
pub(super) fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| v == value)
        .map(|(n, _)| *n)
        .expect("every value has a name in its table")
}

/// One problem with a profile's value: the key it concerns (dotted, to find its line) and the
/// message for the operator, which names the key.
#[derive(Debug)]
pub(super) struct KeyProblem {
    pub key: String,
    pub message: String,
}

impl KeyProblem {
    pub fn new(key: &str, message: impl Into<String>) -> KeyProblem {
        KeyProblem {
            key: key.to_string(),
            message: message.into().trim().to_string(),
        }
    }
}

/// Reads one of `choices` (key = value in the TOML), the first being the default.
pub(super) fn choice<T: Copy>(
    value: &Option<String>,
    key: &str,
    choices: &[(&str, T)],
    problems: &mut Vec<KeyProblem>,
) -> T {
    match value {
        None => choices[0].1,
        Some(v) => match choices.iter().find(|(name, _)| name == v) {
            Some((_, choice)) => *choice,
            None => {
                let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
                problems.push(KeyProblem::new(
                    key,
                    format!("  {key} = {v:?}: choose one of {}", names.join(", ")),
                ));
                choices[0].1
            }
        },
    }
}

/// Reads each of `names` with `parse`; one that does not parse is a problem listing `known`.
pub(super) fn parse_list<T>(
    names: &[String],
    parse: impl Fn(&str) -> Option<T>,
    known: &[&str],
    key: &str,
    not: &str,
    problems: &mut Vec<KeyProblem>,
) -> Vec<T> {
    names
        .iter()
        .filter_map(|n| {
            let parsed = parse(n);
            if parsed.is_none() {
                let known: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
                problems.push(KeyProblem::new(
                    key,
                    format!("  {key}: {n:?} {not}; choose from {}", known.join(", ")),
                ));
            }
            parsed
        })
        .collect()
}
