//! Quality flags for a page (TR-RESISCAN A.SC.8, IN.H.7): each measurement against the profile's
//! thresholds, and whether a person should look at the page before the paper is destroyed.

use crate::findings::{OrientationFinding, SkewFinding};
use crate::profile::{BlankPolicy, Profile};

use crate::findings::BlankMeasure;

/// What the flags are computed from.
pub struct PageFacts<'a> {
    pub dpi: (f64, f64),
    pub colour_mode: &'a str,
    pub blank: &'a BlankMeasure,
    pub orientation: Option<&'a OrientationFinding>,
    pub skew: Option<&'a SkewFinding>,
    /// Mean word confidence and word count, if the page was OCR'd.
    pub ocr: Option<(Option<f32>, usize)>,
}

/// Flags that ask for review; the others (`rotated`, `removed`) only record what was done.
const REVIEW: [&str; 9] = [
    "full_review",
    crate::findings::POSSIBLE_SEPARATOR,
    crate::findings::SEPARATOR_BACK,
    "low_resolution",
    "colour_mode",
    "low_confidence",
    "no_text",
    "blank",
    "orientation_uncertain",
];

/// Whether `flag` asks a person to look at the page (else it only records what was done).
pub fn asks_for_review(flag: &str) -> bool {
    REVIEW.contains(&flag)
}

/// The page's flags in a fixed order, and whether it needs review.
pub fn assess(facts: &PageFacts, profile: &Profile) -> (Vec<String>, bool) {
    let q = &profile.quality;
    let mut flags = Vec::new();
    if facts.dpi.0.min(facts.dpi.1) < q.min_dpi {
        flags.push("low_resolution");
    }
    if !q.colour_modes.iter().any(|m| m == facts.colour_mode) {
        flags.push("colour_mode");
    }
    if facts.blank.blank {
        match profile.prepare.blank_pages {
            BlankPolicy::Keep => {}
            BlankPolicy::Flag => flags.push("blank"),
            BlankPolicy::Remove => flags.push("removed"),
        }
    } else if let Some((confidence, words)) = facts.ocr {
        if words == 0 {
            flags.push("no_text");
        } else if confidence.is_some_and(|c| c < q.min_confidence) {
            flags.push("low_confidence");
        }
    }
    if let Some(o) = facts.orientation {
        if o.rotate != 0 {
            flags.push("rotated");
        }
        if o.method == "ocr-vote" && o.confidence < q.min_confidence {
            flags.push("orientation_uncertain");
        }
    }
    if facts.skew.is_some_and(|s| s.degrees.abs() > q.max_skew_degrees) {
        flags.push("skewed");
    }
    // "sehr hoch" asks for a full visual check of every page (TR-RESISCAN IN.SH.2).
    if profile.protection == crate::profile::Protection::SehrHoch {
        flags.push("full_review");
    }
    let needs_review = flags.iter().any(|f| asks_for_review(f));
    (flags.into_iter().map(String::from).collect(), needs_review)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(is_blank: bool) -> BlankMeasure {
        BlankMeasure {
            ink_per_mille: if is_blank { 0.0 } else { 40.0 },
            marks: if is_blank { 0 } else { 30 },
            largest_mark_mm: 0.0,
            blank: is_blank,
        }
    }

    #[test]
    fn thresholds_raise_flags() {
        let profile = crate::profile::load("standard").unwrap();
        let ink = blank(false);
        let skew = SkewFinding {
            degrees: -2.5,
            confidence: 5.0,
            corrected: true,
        };
        let turned = OrientationFinding {
            rotate: 90,
            method: "osd".into(),
            confidence: 9.0,
        };
        let facts = PageFacts {
            dpi: (150.0, 150.0),
            colour_mode: "rgb8",
            blank: &ink,
            orientation: Some(&turned),
            skew: Some(&skew),
            ocr: Some((Some(40.0), 12)),
        };
        let (flags, review) = assess(&facts, &profile);
        assert_eq!(flags, ["low_resolution", "low_confidence", "rotated", "skewed"]);
        assert!(review);
        let good = PageFacts {
            dpi: (300.0, 300.0),
            orientation: None,
            skew: None,
            ocr: Some((Some(91.0), 12)),
            ..facts
        };
        assert_eq!(assess(&good, &profile), (vec![], false));
    }

    #[test]
    fn blank_pages_follow_the_policy() {
        let mut profile = crate::profile::load("standard").unwrap();
        let empty = blank(true);
        let facts = PageFacts {
            dpi: (300.0, 300.0),
            colour_mode: "gray8",
            blank: &empty,
            orientation: None,
            skew: None,
            ocr: Some((None, 0)),
        };
        assert_eq!(assess(&facts, &profile), (vec!["blank".to_string()], true));
        profile.prepare.blank_pages = BlankPolicy::Remove;
        assert_eq!(assess(&facts, &profile), (vec!["removed".to_string()], false));
        profile.prepare.blank_pages = BlankPolicy::Keep;
        assert_eq!(assess(&facts, &profile), (vec![], false));
    }
}
