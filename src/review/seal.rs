//! Sealing a reviewed batch: once every page of the plan is accepted (by enough different
//! people), the current version of every document is linked into a fresh staging folder beside
//! the draft's other files, the protocol gets the review record, its statement and the rescans,
//! and the batch is sealed and published exactly as ingest does. The review folder is removed
//! only after the batch is published.

use std::path::Path;

use super::{Area, ReviewError};
use crate::archive::{ArchiveError, Staging};
use crate::config::{Config, IngestOptions};
use crate::ingest::{IngestReport, StageTimes};
use crate::json::{self, to_json};
use crate::layout;
use crate::protocol::review::ReviewRecord;
use crate::protocol::{DocumentSummary, Protocol};

/// Key, certificate or threads given again at sealing (the rest is as the batch was started).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub key: Option<std::path::PathBuf>,
    pub cert: Option<std::path::PathBuf>,
    pub threads: Option<usize>,
}

impl Overrides {
    /// The batch's start options with these applied.
    pub fn apply(&self, mut origin: IngestOptions) -> IngestOptions {
        origin.key = self.key.clone().or(origin.key);
        origin.cert = self.cert.clone().or(origin.cert);
        origin.threads = self.threads.or(origin.threads);
        origin
    }
}

/// The configuration the batch was started with, refused if the profile or key changed since.
pub(super) fn config(area: &Area, overrides: &Overrides) -> Result<(Config, Protocol), ReviewError> {
    let config = Config::new(&overrides.apply(area.origin()?))?;
    let draft = area.protocol()?;
    if config.profile.sha256 != draft.profile.sha256 {
        return Err(ReviewError::Refused(format!(
            "profile {} changed since batch {} was composed (SHA-256 {} then, {} now); restore it, or \
             remove {} and ingest the batch again",
            config.profile.origin,
            area.batch,
            draft.profile.sha256,
            config.profile.sha256,
            area.dir.display()
        )));
    }
    if config.key.public().fingerprint() != draft.signature_key_fingerprint {
        return Err(ReviewError::Refused(format!(
            "the signing key is not the one batch {} was composed with (fingerprint {}); give that \
             key with --key",
            area.batch, draft.signature_key_fingerprint
        )));
    }
    Ok((config, draft))
}

/// Seals and publishes a batch whose every page to review is accepted; returns what ingest
/// returns for a published batch.
pub fn seal(area: &Area, overrides: &Overrides) -> Result<IngestReport, ReviewError> {
    let wall = std::time::Instant::now();
    let record = area.record()?;
    let open = record.open_pages();
    if !open.is_empty() {
        return Err(ReviewError::NotAccepted {
            batch: area.batch.clone(),
            open,
        });
    }
    let (config, draft) = config(area, overrides)?;
    check_input(&config, &draft)?;
    let staging =
        Staging::create(&config.archive, &config.batch.id).map_err(crate::ingest::IngestError::from)?;
    let protocol = assemble(area, &staging, &record, draft)?;
    let (published, manifest) = crate::ingest::seal_and_publish(staging, &config, &protocol)?;
    remove_area(area);
    input_done(&config);
    let times = StageTimes {
        wall_seconds: wall.elapsed().as_secs_f64(),
        ..StageTimes::default()
    };
    let report = IngestReport::of(&config, &protocol, published, Some(manifest), times);
    let reviewed = serde_json::json!({
        "folder": report.published.display().to_string(), "documents": report.documents,
        "pages": report.pages, "reviewed_pages": record.pages.len(), "rescans": record.rescans.len(),
    });
    let [sealed, published] =
        crate::ingest::audit::published(&config.batch.id, &config.operator.0, &report, reviewed);
    crate::ingest::audit::log_of(&config)
        .append(&[sealed, published], None, Some(&config.key), true)
        .map_err(crate::ingest::IngestError::Audit)?;
    Ok(report)
}

/// Refuses a batch whose input files differ from those the draft was made from.
fn check_input(config: &Config, draft: &Protocol) -> Result<(), ReviewError> {
    let recorded: std::collections::BTreeSet<(String, String)> = draft
        .documents
        .iter()
        .flat_map(|d| &d.sources)
        .chain(draft.empty_documents.iter().flat_map(|d| &d.sources))
        .map(|s| (s.path.clone(), s.digests.sha256.clone()))
        .collect();
    for (path, sha256) in &recorded {
        let now = crate::seal::Digests::of_file(&config.batch.dir.join(path)).map(|d| d.sha256);
        if now.as_ref().ok() != Some(sha256) {
            return Err(ReviewError::Refused(format!(
                "input file {path} of batch {} changed or is gone since the batch was composed; \
                 nothing was sealed. Restore it, or remove the review folder and ingest the batch again",
                config.batch.id
            )));
        }
    }
    Ok(())
}

/// Links or copies `from` to `rel` in the staging folder.
fn place(staging: &Staging, from: &Path, rel: &str) -> Result<(), ArchiveError> {
    let to = staging.dir().join(rel);
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(staging.write_err(rel))?;
    }
    let _ = std::fs::remove_file(&to);
    std::fs::hard_link(from, &to)
        .or_else(|_| std::fs::copy(from, &to).map(|_| ()))
        .map_err(staging.write_err(rel))
}

/// Fills the staging folder from the review folder and returns the final protocol.
fn assemble(
    area: &Area,
    staging: &Staging,
    record: &ReviewRecord,
    mut protocol: Protocol,
) -> Result<Protocol, ReviewError> {
    let copy_tree = |dir: &str| -> Result<(), ArchiveError> {
        // A folder the batch does not have (no separator sheets) has nothing to copy.
        let files = crate::archive::files_below(&area.dir.join(dir)).unwrap_or_default();
        for (rel, file) in files {
            place(staging, &file, &format!("{dir}/{rel}"))?;
        }
        Ok(())
    };
    copy_tree(layout::SEPARATORS)
        .and_then(|_| copy_tree(layout::THUMBNAILS))
        .map_err(ingest)?;
    for summary in &mut protocol.documents {
        let (pdf, _) = area.document_files(record, &summary.id);
        place(staging, &area.dir.join(&pdf), &summary.pdf).map_err(ingest)?;
        // The full text of the current version, beside its PDF.
        let folder = area.dir.join(&pdf).with_file_name("");
        for rel in [
            layout::document_alto(&summary.id),
            layout::document_hocr(&summary.id),
        ] {
            let from = folder.join(Path::new(&rel).file_name().expect("a file name"));
            if from.exists() {
                place(staging, &from, &rel).map_err(ingest)?;
            }
        }
        let mut doc = area.document_record(record, &summary.id)?;
        doc.rescans = record
            .rescans
            .iter()
            .filter(|r| r.document == summary.id)
            .cloned()
            .collect();
        for rescan in &doc.rescans {
            let before = area.dir.join(previous_pdf(&summary.id, rescan.document_version));
            place(staging, &before, &rescan.replaced.pdf).map_err(ingest)?;
            // The rescanned page's own thumbnail, for the report.
            let thumb = crate::report::thumbnail_path(&summary.id, rescan.page);
            let made = area
                .dir
                .join(layout::VERSIONS)
                .join(super::version_dir(&summary.id, rescan.document_version))
                .join(&thumb);
            if made.exists() {
                place(staging, &made, &thumb).map_err(ingest)?;
            }
        }
        staging
            .write_file(&layout::document_record(&summary.id), &to_json(&doc))
            .map_err(ingest)?;
        if !doc.rescans.is_empty() {
            *summary = DocumentSummary::of(doc);
        }
    }
    let pages = protocol.completeness.pages;
    let note = &mut protocol.transfer_note;
    note.anomalies.extend(record.rescans.iter().map(|r| r.anomaly()));
    (note.statement, note.statement_en) = record.statement(pages);
    note.times.sealed = json::now_rfc3339();
    protocol.review = Some(record.clone());
    Ok(protocol)
}

/// The review folder's PDF of a document as it was before rescan `version`.
pub(super) fn previous_pdf(document: &str, version: u32) -> String {
    if version <= 1 {
        layout::document_pdf(document)
    } else {
        format!(
            "{}/{}/{}",
            layout::VERSIONS,
            super::version_dir(document, version - 1),
            layout::document_pdf(document)
        )
    }
}

/// An input folder waiting in an inbox's `review/` moves to its `done/` once the batch is
/// published and verifies, as `run` does with batches it publishes at once.
fn input_done(config: &Config) {
    let dir = &config.batch.dir;
    let Some(review) = dir
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == layout::IN_REVIEW))
    else {
        return;
    };
    let (Some(inbox), Some(name)) = (review.parent(), dir.file_name()) else {
        return;
    };
    let published = config.archive.join(&config.batch.id);
    if !crate::verify::verify(&published, Some(&config.key.public()), &[]).ok() {
        tracing::error!(batch = %config.batch.id, "published, but it does not verify; the input stays in review/");
        return;
    }
    let moved = crate::archive::move_unique(dir, &inbox.join(layout::DONE), &name.to_string_lossy());
    if let Err(e) = moved {
        tracing::error!(batch = %config.batch.id, error = %e, "published, but the input could not be moved to done/");
    }
}

fn ingest(e: ArchiveError) -> ReviewError {
    ReviewError::Ingest(e.into())
}

/// Removes the review folder of a published batch: renamed out of the list first, so a crash
/// halfway leaves nothing that looks like a batch waiting for review.
fn remove_area(area: &Area) {
    let gone = area
        .dir
        .with_file_name(format!(".sealed-{}-{}", area.batch, std::process::id()));
    if std::fs::rename(&area.dir, &gone).is_ok() {
        let _ = std::fs::remove_dir_all(&gone);
    }
}
