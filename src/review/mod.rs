//! Review before sealing (TR-RESISCAN A.SC.8, IN.H.7, IN.SH.5): a batch composed under a review
//! mode waits in `<archive>/.review/<batch>/` until people have checked the pages its plan names.
//!
//! The review folder holds the staged batch as ingest left it (PDFs, records, the draft
//! protocol, separator images, thumbnails), `review.json` (the plan: pages and why),
//! `origin.json` (batch, profile and keys it was started with), and `verdicts.jsonl`: one line
//! per verdict or rescan, appended under an exclusive lock and fsynced before anyone is told it is
//! recorded, never rewritten. The state of every page is the plan with the log applied, so a
//! crash or a second server loses no verdict and cannot record two conflicting ones: each verdict
//! is checked against the log under the lock. Rescans compose a new version of their document
//! in `versions/`; sealing links the current versions into a staging folder and publishes it as
//! ingest does, then removes the review folder.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::json;
use crate::layout;
use crate::protocol::review::{PageState, REASONS, Rescan, ReviewRecord, Verdict};
use crate::protocol::{DocumentRecord, PageRecord};

mod image;
mod rescan;
pub mod seal;
pub mod serve;

pub use rescan::rescan;
pub use seal::seal;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "{0} is not a batch waiting for review (no review.json in it); `scanwerk review list --archive DIR` shows those"
    )]
    NotInReview(PathBuf),
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Refused(String),
    #[error(
        "batch {batch} cannot be sealed yet: {} page(s) are not accepted:\n{}",
        open.len(),
        open.iter().map(|(d, p, s)| format!("- {d} page {p}: {s}")).collect::<Vec<_>>().join("\n")
    )]
    NotAccepted {
        batch: String,
        open: Vec<(String, u32, String)>,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
}

impl ReviewError {
    /// The exit code (README "Exit codes"): 2 for a wrong request, 1 for a batch not ready.
    pub fn exit(&self) -> crate::Exit {
        match self {
            ReviewError::NotInReview(_) | ReviewError::Config(_) => crate::Exit::Usage,
            ReviewError::Ingest(e) => e.exit(),
            _ => crate::Exit::Failed,
        }
    }
}

/// One line of `verdicts.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Event {
    Verdict {
        document: String,
        page: u32,
        #[serde(flatten)]
        verdict: Verdict,
    },
    Rescan(Rescan),
}

/// A batch waiting for review.
#[derive(Debug, Clone)]
pub struct Area {
    pub dir: PathBuf,
    pub batch: String,
}

/// A person's decision on one page.
#[derive(Debug, Clone)]
pub struct Decision {
    pub document: String,
    pub page: u32,
    pub reviewer: String,
    pub accept: bool,
    /// For a rejection: one of [`REASONS`], optionally followed by ": " and the reviewer's words.
    pub reason: Option<String>,
    /// The page version the reviewer saw; a verdict on an older one is refused.
    pub version: Option<u32>,
}

/// Batches waiting for review in `archive`, by id.
pub fn list(archive: &Path) -> Vec<Area> {
    let mut areas: Vec<Area> = std::fs::read_dir(archive.join(layout::REVIEW_AREA))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Area::open(&e.path()).ok())
        .collect();
    areas.sort_by(|a, b| a.batch.cmp(&b.batch));
    areas
}

impl Area {
    /// The review folder at `path`, or the batch of that id under `archive`.
    pub fn find(spec: &Path, archive: Option<&Path>) -> Result<Area, ReviewError> {
        match archive {
            Some(archive) if !spec.join(layout::REVIEW_PLAN).exists() => {
                Area::open(&archive.join(layout::REVIEW_AREA).join(spec))
            }
            _ => Area::open(spec),
        }
    }

    pub fn open(dir: &Path) -> Result<Area, ReviewError> {
        if !dir.join(layout::REVIEW_PLAN).is_file() {
            return Err(ReviewError::NotInReview(dir.to_path_buf()));
        }
        let batch = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Area {
            dir: dir.to_path_buf(),
            batch,
        })
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, ReviewError> {
        let path = self.dir.join(rel);
        std::fs::read(&path).map_err(|source| ReviewError::Read { path, source })
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, rel: &str) -> Result<T, ReviewError> {
        let bytes = self.read(rel)?;
        serde_json::from_slice(&bytes).map_err(|e| ReviewError::Read {
            path: self.dir.join(rel),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// The draft protocol ingest wrote (without review and seal).
    pub fn protocol(&self) -> Result<crate::protocol::Protocol, ReviewError> {
        self.parse(layout::PROTOCOL)
    }

    /// How the batch was started.
    pub fn origin(&self) -> Result<crate::config::IngestOptions, ReviewError> {
        self.parse(layout::REVIEW_ORIGIN)
    }

    /// Records that the batch's input folder moved to `batch_dir` (an inbox's `review/`).
    pub fn relocate(&self, batch_dir: &Path) -> Result<(), ReviewError> {
        let mut origin = self.origin()?;
        origin.batch_dir = std::fs::canonicalize(batch_dir).unwrap_or_else(|_| batch_dir.to_path_buf());
        let path = self.dir.join(layout::REVIEW_ORIGIN);
        let temp = self.dir.join(format!(".{}.part", layout::REVIEW_ORIGIN));
        let write = |source| ReviewError::Write {
            path: path.clone(),
            source,
        };
        std::fs::write(&temp, json::to_json(&origin)).map_err(write)?;
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(write)?;
        std::fs::rename(&temp, &path).map_err(write)
    }

    /// The plan with every verdict and rescan of the log applied.
    pub fn record(&self) -> Result<ReviewRecord, ReviewError> {
        let mut record: ReviewRecord = self.parse(layout::REVIEW_PLAN)?;
        let log = std::fs::read_to_string(self.dir.join(layout::REVIEW_LOG)).unwrap_or_default();
        // A line torn by a crash was never confirmed to anyone: it is skipped.
        for event in log.lines().filter_map(|l| serde_json::from_str::<Event>(l).ok()) {
            match event {
                Event::Verdict {
                    document,
                    page,
                    verdict,
                } => {
                    if let Some(p) = record
                        .pages
                        .iter_mut()
                        .find(|p| p.document == document && p.page == page)
                    {
                        p.verdicts.push(verdict);
                    }
                }
                Event::Rescan(rescan) => record.rescans.push(rescan),
            }
        }
        Ok(record)
    }

    /// Appends the event `make` builds from the current record while holding the log's lock
    /// (or nothing, if `make` refuses), fsynced before it returns.
    fn append(
        &self,
        make: impl FnOnce(&ReviewRecord) -> Result<Event, ReviewError>,
    ) -> Result<Event, ReviewError> {
        let path = self.dir.join(layout::REVIEW_LOG);
        let write = |source| ReviewError::Write {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(write)?;
        // SAFETY: flock on a file descriptor this function owns; released when it is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(write(std::io::Error::last_os_error()));
        }
        let event = make(&self.record()?)?;
        let text = std::fs::read(&path).map_err(write)?;
        let mut line = serde_json::to_vec(&event).expect("events serialise");
        line.push(b'\n');
        if !text.is_empty() && !text.ends_with(b"\n") {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(write)?;
        file.sync_all().map_err(write)?;
        Ok(event)
    }

    /// Records a verdict durably, or refuses it: a page not in the plan, a rejected page (rescan
    /// it first), one accepted already, a reviewer deciding the same page version twice.
    pub fn decide(&self, decision: &Decision) -> Result<Verdict, ReviewError> {
        let reviewer = decision.reviewer.trim().to_string();
        if reviewer.is_empty() {
            return Err(ReviewError::Refused("give the reviewer's name".into()));
        }
        let reason = match (decision.accept, decision.reason.as_deref().map(str::trim)) {
            (true, _) => None,
            (false, Some(r)) if REASONS.iter().any(|k| r == *k || r.starts_with(&format!("{k}:"))) => {
                Some(r.to_string())
            }
            (false, _) => {
                return Err(ReviewError::Refused(format!(
                    "a rejection needs a reason: one of {}, optionally followed by \": your words\"",
                    REASONS.join(", ")
                )));
            }
        };
        let (document, page) = (decision.document.as_str(), decision.page);
        let event = self.append(|record| {
            let Some(p) = record
                .pages
                .iter()
                .find(|p| p.document == document && p.page == page)
            else {
                return Err(ReviewError::Refused(format!(
                    "{document} page {page} is not among the pages to review of batch {}",
                    self.batch
                )));
            };
            let version = record.version_of(document, page);
            if decision.version.is_some_and(|v| v != version) {
                return Err(ReviewError::Refused(format!(
                    "{document} page {page} was rescanned since you looked at it; look at it again"
                )));
            }
            if let Some(v) = p
                .verdicts
                .iter()
                .find(|v| v.version == version && v.reviewer == reviewer)
            {
                return Err(ReviewError::Refused(format!(
                    "{reviewer} decided {document} page {page} already ({} at {}); under four eyes \
                     the next verdict must come from another person",
                    v.verdict, v.time
                )));
            }
            match p.state(version, record.reviewers_required) {
                PageState::Rejected { by, reason } => Err(ReviewError::Refused(format!(
                    "{document} page {page} was rejected by {by} ({reason}); rescan it with `scanwerk \
                     review rescan` before it is reviewed again"
                ))),
                PageState::Accepted => Err(ReviewError::Refused(format!(
                    "{document} page {page} is accepted by enough reviewers already"
                ))),
                PageState::Pending(_) => Ok(Event::Verdict {
                    document: document.to_string(),
                    page,
                    verdict: Verdict {
                        reviewer: reviewer.clone(),
                        time: json::now_rfc3339(),
                        verdict: if decision.accept { "accepted" } else { "rejected" }.into(),
                        reason: reason.clone(),
                        version,
                    },
                }),
            }
        })?;
        let Event::Verdict { verdict, .. } = event else {
            unreachable!("decide appends verdicts")
        };
        self.audit(
            crate::audit::Event::new("review-verdict", Some(&self.batch))
                .by(&verdict.reviewer)
                .with(serde_json::json!({
                    "document": document, "page": page, "verdict": verdict.verdict,
                    "reason": verdict.reason, "version": verdict.version,
                })),
            None,
        );
        Ok(verdict)
    }

    /// The archive this review folder belongs to (`<archive>/.review/<batch>`).
    pub fn archive(&self) -> PathBuf {
        self.dir
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Appends `event` to the archive's audit log, with `key` a signed checkpoint after it. The
    /// review's own log (`verdicts.jsonl`) holds the event already, so a failure is reported, not
    /// fatal.
    pub fn audit(&self, event: crate::audit::Event, key: Option<&crate::seal::SigningKey>) {
        crate::audit::Log::for_archive(&self.archive()).note(event, key);
    }

    /// The current version of a document: its PDF and record (relative to the review folder).
    pub fn document_files(&self, record: &ReviewRecord, document: &str) -> (String, String) {
        let version = record.document_version(document);
        let prefix = if version == 0 {
            String::new()
        } else {
            format!("{}/{}/", layout::VERSIONS, version_dir(document, version))
        };
        (
            format!("{prefix}{}", layout::document_pdf(document)),
            format!("{prefix}{}", layout::document_record(document)),
        )
    }

    /// The current record of a document.
    pub fn document_record(
        &self,
        record: &ReviewRecord,
        document: &str,
    ) -> Result<DocumentRecord, ReviewError> {
        let (_, rel) = self.document_files(record, document);
        self.parse(&rel)
    }

    /// A page's record in the document's current version.
    pub fn page_record(
        &self,
        record: &ReviewRecord,
        document: &str,
        page: u32,
    ) -> Result<PageRecord, ReviewError> {
        self.document_record(record, document)?
            .pages
            .into_iter()
            .find(|p| p.number == page)
            .ok_or_else(|| ReviewError::Refused(format!("document {document} has no page {page}")))
    }
}

/// `<document>-v<n>`: the folder of a document's n-th rescanned version under `versions/`.
fn version_dir(document: &str, n: u32) -> String {
    format!("{document}-v{n}")
}

/// One line per page: document, page, state, verdicts (for `review status`).
#[derive(Debug, Serialize)]
pub struct PageStatus {
    pub document: String,
    pub page: u32,
    pub why: Vec<String>,
    pub version: u32,
    pub state: String,
    pub detail: String,
    pub verdicts: Vec<Verdict>,
}

/// Every page to review with its state.
pub fn status(record: &ReviewRecord) -> Vec<PageStatus> {
    record
        .pages
        .iter()
        .map(|p| {
            let version = record.version_of(&p.document, p.page);
            let state = p.state(version, record.reviewers_required);
            PageStatus {
                document: p.document.clone(),
                page: p.page,
                why: p.why.clone(),
                version,
                state: state.name().into(),
                detail: state.describe(),
                verdicts: p.verdicts.clone(),
            }
        })
        .collect()
}
