//! Leaving a composed batch for review (`review.mode`): which pages a person must check, and the
//! move of the staging folder into `<archive>/.review/<batch>/`, where `scanwerk review` takes it
//! up. The move is one rename of a folder whose every file is written and fsynced, so the review
//! folder is whole or absent; nothing in it is a published batch.

use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Staging};
use crate::config::Config;
use crate::json::to_json;
use crate::layout;
use crate::profile::ReviewMode;
use crate::protocol::review::{ReviewPage, ReviewRecord};
use crate::protocol::{DocumentRecord, Protocol};

use super::IngestError;

/// `<archive>/.review/<batch>`.
pub fn review_dir(archive: &Path, batch: &str) -> PathBuf {
    archive.join(layout::REVIEW_AREA).join(batch)
}

/// The pages the profile's review mode sends to a person, in batch order; `None` for mode none.
pub(super) fn review_plan(
    staging: &Staging,
    config: &Config,
    protocol: &Protocol,
) -> Result<Option<ReviewRecord>, IngestError> {
    let policy = config.profile.review;
    if policy.mode == ReviewMode::None {
        return Ok(None);
    }
    let sampled = |doc: &str, page: u32| {
        policy.mode >= ReviewMode::FlaggedSample
            && protocol
                .qa_sample
                .iter()
                .flat_map(|s| &s.pages)
                .any(|p| p.document == doc && p.page == page)
    };
    let mut pages = Vec::new();
    for doc in &protocol.documents {
        let rel = layout::document_record(&doc.id);
        let path = staging.dir().join(&rel);
        let bytes = std::fs::read(&path).map_err(|source| ArchiveError::Write { path, source })?;
        let record: DocumentRecord =
            serde_json::from_slice(&bytes).expect("the record scanwerk just wrote parses");
        for page in &record.pages {
            let mut why: Vec<String> = if page.needs_review {
                page.flags.clone()
            } else {
                Vec::new()
            };
            if sampled(&doc.id, page.number) {
                why.push("sample".into());
            }
            if policy.mode == ReviewMode::All && why.is_empty() {
                why.push("all".into());
            }
            if !why.is_empty() {
                pages.push(ReviewPage {
                    document: doc.id.clone(),
                    page: page.number,
                    pdf_page: page.pdf_page,
                    why,
                    verdicts: Vec::new(),
                });
            }
        }
    }
    Ok(Some(ReviewRecord {
        mode: policy.mode.name().into(),
        reviewers_required: policy.reviewers,
        pages,
        rescans: Vec::new(),
    }))
}

/// Writes the draft protocol, the plan and how the batch was started into the staging folder,
/// then moves it to the review folder; returns that folder.
pub(super) fn park(
    staging: Staging,
    config: &Config,
    protocol: &Protocol,
    plan: &ReviewRecord,
) -> Result<PathBuf, IngestError> {
    staging.write_file(layout::PROTOCOL, &to_json(protocol))?;
    staging.write_file(layout::REVIEW_PLAN, &to_json(plan))?;
    staging.write_file(layout::REVIEW_ORIGIN, &to_json(&config.origin))?;
    let target = review_dir(&config.archive, &config.batch.id);
    let area = target.parent().expect("the review folder is inside the archive");
    std::fs::create_dir_all(area).map_err(|source| ArchiveError::Write {
        path: area.to_path_buf(),
        source,
    })?;
    Ok(staging.publish_to(&target)?)
}
