//! The review of a batch before sealing, as the protocol records it (TR-RESISCAN A.SC.8, IN.H.7,
//! IN.SH.5): which pages a person had to check and why, every verdict (who, when, what, why),
//! every rescan of a rejected page, and the transfer note's statement of what was checked.

use serde::{Deserialize, Serialize};

/// `protocol.json`'s `review`: the plan of a reviewed batch and what the reviewers decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRecord {
    /// `flagged`, `flagged+sample` or `all` (the profile's `review.mode`).
    pub mode: String,
    /// Different people who must accept each page (2: four eyes).
    pub reviewers_required: u8,
    pub pages: Vec<ReviewPage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rescans: Vec<Rescan>,
}

/// One page a person must check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub document: String,
    /// 1-based page number in the scanned document (as in the records and the report).
    pub page: u32,
    /// Page in the PDF; none for a page removed as blank.
    pub pdf_page: Option<u32>,
    /// Why it is checked: its quality flags, `sample` (drawn for the spot check), `all`.
    pub why: Vec<String>,
    /// Every verdict given, in order; each names the page version it judged.
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
}

/// One person's verdict on one version of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub reviewer: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// `accepted` or `rejected`.
    pub verdict: String,
    /// Why a page was rejected: one of [`REASONS`], with the reviewer's words after ": ".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// 0 for the page as first scanned, n after its n-th rescan.
    pub version: u32,
}

/// The reasons a reviewer picks from to reject a page.
pub const REASONS: &[&str] = &[
    "unreadable",
    "incomplete",
    "wrong-orientation",
    "skewed",
    "not-the-original",
    "other",
];

/// A rejected page replaced by a new scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rescan {
    pub document: String,
    pub page: u32,
    /// The page's version after this rescan (1 for the first).
    pub version: u32,
    /// The document's version after it (each rescan of any of its pages makes one).
    pub document_version: u32,
    /// RFC 3339, UTC.
    pub time: String,
    /// Who rescanned it.
    pub by: String,
    /// The rejection it answers.
    pub reason: String,
    /// The new scan: its file name as given (kept in the review folder as
    /// `rescans/<document>-p<page>-v<version>-<file>` until sealing), its SHA-256.
    pub file: String,
    pub sha256: String,
    /// SHA-256 of the new page's image as stored in the PDF.
    pub image_sha256: String,
    /// The page it replaced.
    pub replaced: ReplacedPage,
}

/// The page a rescan replaced: where it came from, its image's hash, and the document version
/// that still holds it (`replaced/<id>.<n>.pdf` in the published batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplacedPage {
    pub source: String,
    pub source_page: u32,
    pub image_sha256: String,
    pub pdf: String,
    pub pdf_sha256: String,
}

impl Rescan {
    /// The transfer note's line for it.
    pub fn anomaly(&self) -> String {
        format!(
            "{} page {} rescanned on {} by {}, reason: {}; the new scan {} (SHA-256 {}) replaces the \
             rejected page (image SHA-256 {}, kept in {})",
            self.document,
            self.page,
            self.time,
            self.by,
            self.reason,
            self.file,
            self.sha256,
            self.replaced.image_sha256,
            self.replaced.pdf
        )
    }
}

impl ReviewRecord {
    /// The reviewers who gave a verdict, in order of first verdict.
    pub fn reviewers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for v in self.pages.iter().flat_map(|p| &p.verdicts) {
            if !names.contains(&v.reviewer.as_str()) {
                names.push(&v.reviewer);
            }
        }
        names
    }

    /// Pages that are not accepted on their last version by enough different people:
    /// `(document, page, what is missing)`.
    pub fn open_pages(&self) -> Vec<(String, u32, String)> {
        self.pages
            .iter()
            .filter_map(|p| {
                let state = p.state(self.version_of(&p.document, p.page), self.reviewers_required);
                (state != PageState::Accepted).then(|| (p.document.clone(), p.page, state.describe()))
            })
            .collect()
    }

    /// The page's current version: how many times it was rescanned.
    pub fn version_of(&self, document: &str, page: u32) -> u32 {
        self.rescans
            .iter()
            .filter(|r| r.document == document && r.page == page)
            .map(|r| r.version)
            .max()
            .unwrap_or(0)
    }

    /// The document's current version: how many rescans it had (of any of its pages).
    pub fn document_version(&self, document: &str) -> u32 {
        self.rescans.iter().filter(|r| r.document == document).count() as u32
    }

    /// The statement of the transfer note for a batch checked this way: what people checked.
    pub fn statement(&self, pages: usize) -> (String, String) {
        let (automatic, automatic_en) = super::automatic_statement(pages);
        if self.pages.is_empty() {
            return (
                format!(
                    "{automatic} Prüfmodus {}: keine Seite war zur Sichtprüfung vorgesehen; eine \
                     Sichtprüfung durch eine Person ist nicht erfasst.",
                    self.mode
                ),
                format!(
                    "{automatic_en} Review mode {}: no page was due for a visual check; no visual \
                     check by a person is recorded.",
                    self.mode
                ),
            );
        }
        let names = self.reviewers().join(", ");
        let rescans = self.rescans.len();
        let (eyes, eyes_en) = match self.reviewers_required {
            1 => (String::new(), String::new()),
            n => (
                format!(" ({n} verschiedene Personen je Seite, Vier-Augen-Prinzip)"),
                format!(" ({n} different people per page, four eyes)"),
            ),
        };
        let [scope, scope_en, rest, rest_en] = self.scope(pages);
        (
            format!(
                "{automatic} Sichtprüfung durch Personen (Prüfmodus {}): {scope} wurden von {names}{eyes} \
                 mit dem Papieroriginal verglichen und als bildlich und inhaltlich übereinstimmend \
                 freigegeben; {rescans} Seite(n) wurden nach Zurückweisung neu gescannt und erneut \
                 geprüft.{rest} Die Prüfvermerke (Person, Zeit, Ergebnis) stehen im Protokoll.",
                self.mode
            ),
            format!(
                "{automatic_en} Visual check by people (review mode {}): {scope_en} were compared with \
                 the paper original by {names}{eyes_en} and accepted as matching in image and content; \
                 {rescans} page(s) were rescanned after rejection and checked again.{rest_en} The \
                 verdicts (person, time, result) are in the protocol.",
                self.mode
            ),
        )
    }

    /// Which pages people checked, and which they did not, in German and English.
    fn scope(&self, pages: usize) -> [String; 4] {
        let checked = self.pages.len();
        if self.mode == "all" {
            return [
                format!("alle {checked} Seite(n)"),
                format!("all {checked} page(s)"),
                String::new(),
                String::new(),
            ];
        }
        let count =
            |f: &dyn Fn(&str) -> bool| self.pages.iter().filter(|p| p.why.iter().any(|w| f(w))).count();
        let flagged = count(&|w| w != "sample" && w != "all");
        let sampled = count(&|w| w == "sample");
        let rest = pages.saturating_sub(checked);
        [
            format!("{checked} Seite(n) ({flagged} zur Sichtprüfung markiert, {sampled} aus der Stichprobe)"),
            format!("{checked} page(s) ({flagged} marked for review, {sampled} from the spot check)"),
            format!(" Die übrigen {rest} Seite(n) sind nur automatisch geprüft."),
            format!(" The other {rest} page(s) are checked automatically only."),
        ]
    }
}

/// Where one page stands in the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageState {
    /// Accepted by fewer people than required (the number so far).
    Pending(usize),
    Rejected {
        by: String,
        reason: String,
    },
    Accepted,
}

impl PageState {
    pub fn describe(&self) -> String {
        match self {
            PageState::Pending(0) => "pending".into(),
            PageState::Pending(n) => format!("pending (accepted by {n}, more needed)"),
            PageState::Rejected { by, reason } => format!("rejected by {by}: {reason}; rescan it"),
            PageState::Accepted => "accepted".into(),
        }
    }

    /// `pending`, `rejected` or `accepted`.
    pub fn name(&self) -> &'static str {
        match self {
            PageState::Pending(_) => "pending",
            PageState::Rejected { .. } => "rejected",
            PageState::Accepted => "accepted",
        }
    }
}

impl ReviewPage {
    /// The page's state on `version` when `required` different people must accept it.
    pub fn state(&self, version: u32, required: u8) -> PageState {
        let current = self.verdicts.iter().filter(|v| v.version == version);
        let mut accepted: Vec<&str> = Vec::new();
        for v in current {
            if v.verdict == "rejected" {
                return PageState::Rejected {
                    by: v.reviewer.clone(),
                    reason: v.reason.clone().unwrap_or_default(),
                };
            }
            if !accepted.contains(&v.reviewer.as_str()) {
                accepted.push(&v.reviewer);
            }
        }
        if accepted.len() >= usize::from(required) {
            PageState::Accepted
        } else {
            PageState::Pending(accepted.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(reviewer: &str, verdict: &str, version: u32) -> Verdict {
        Verdict {
            reviewer: reviewer.into(),
            time: "t".into(),
            verdict: verdict.into(),
            reason: (verdict == "rejected").then(|| "unreadable".into()),
            version,
        }
    }

    #[test]
    fn four_eyes_need_two_names_and_a_rejection_holds_until_the_rescan() {
        let mut page = ReviewPage {
            document: "a".into(),
            page: 1,
            pdf_page: Some(1),
            why: vec!["all".into()],
            verdicts: vec![verdict("anna", "accepted", 0), verdict("anna", "accepted", 0)],
        };
        assert_eq!(page.state(0, 2), PageState::Pending(1));
        page.verdicts.push(verdict("ben", "accepted", 0));
        assert_eq!(page.state(0, 2), PageState::Accepted);
        page.verdicts.push(verdict("carl", "rejected", 0));
        assert_eq!(page.state(0, 2).name(), "rejected");
        // After a rescan (version 1) the page is pending again.
        assert_eq!(page.state(1, 2), PageState::Pending(0));
    }
}
