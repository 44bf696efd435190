//! Rescans: a rejected page replaced by a new scan. The new file is copied into the review folder
//! and hashed, the document is composed again with it in the page's place (prepared, recognised,
//! signed as the rest) into `versions/<document>-v<n>/` by the same staging and atomic rename as a
//! batch, and only then is the rescan appended to the log: a crash before that leaves an unused
//! version folder, removed by the next attempt, and never a half-replaced page. The replaced page
//! stays on record (its source, image hash and the document version holding it), and the page
//! goes back to pending.

use std::path::{Path, PathBuf};

use super::seal::{Overrides, config};
use super::{Area, Event, ReviewError, version_dir};
use crate::archive::Staging;
use crate::batch::{Batch, DocumentSource, Part};
use crate::json::{self, to_json};
use crate::layout;
use crate::protocol::DocumentRecord;
use crate::protocol::review::{PageState, ReplacedPage, Rescan, ReviewRecord};

/// Replaces rejected page `page` of `document` by the one-page scan `file`, rescanned by `by`.
pub fn rescan(
    area: &Area,
    overrides: &Overrides,
    document: &str,
    page: u32,
    file: &Path,
    by: &str,
) -> Result<Rescan, ReviewError> {
    let by = by.trim();
    if by.is_empty() {
        return Err(ReviewError::Refused(
            "say who rescanned the page: --by NAME".into(),
        ));
    }
    let record = area.record()?;
    let reason = rejection(&record, document, page)?;
    one_page(file)?;
    let (config, _) = config(area, overrides)?;
    let version = record.version_of(document, page) + 1;
    let document_version = record.document_version(document) + 1;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scan".into());
    let kept = keep_copy(area, &copy_name(document, page, version, &name), file)?;
    let sha256 = crate::seal::Digests::of_file(&kept)
        .map_err(|source| ReviewError::Read {
            path: kept.clone(),
            source,
        })?
        .sha256;
    let source = replaced_source(&config.batch, &record, area, document, (page, &kept))?;
    let batch = Batch {
        documents: vec![source],
        ..config.batch.clone()
    };
    let made = compose(area, &config, &batch, document, document_version, &kept)?;
    let rescan = Rescan {
        document: document.into(),
        page,
        version,
        document_version,
        time: json::now_rfc3339(),
        by: by.into(),
        reason,
        file: name,
        sha256,
        image_sha256: made
            .pages
            .iter()
            .find(|p| p.number == page)
            .expect("the composed document has the page")
            .image_sha256
            .clone(),
        replaced: replaced_page(area, &record, document, page, document_version)?,
    };
    area.append(|now| {
        if now.version_of(document, page) + 1 != version
            || now.document_version(document) + 1 != document_version
        {
            return Err(ReviewError::Refused(format!(
                "{document} page {page} was rescanned by someone else meanwhile; see `scanwerk review status`"
            )));
        }
        Ok(Event::Rescan(rescan.clone()))
    })?;
    area.audit(
        crate::audit::Event::new("page-rescanned", Some(&area.batch))
            .by(by)
            .with(serde_json::json!({
                "document": document, "page": page, "version": version, "reason": rescan.reason,
                "file": rescan.file, "sha256": rescan.sha256,
            })),
        Some(&config.key),
    );
    Ok(rescan)
}

/// Refuses a file that is not a one-page scan.
fn one_page(file: &Path) -> Result<(), ReviewError> {
    match crate::decode::count_pages(file) {
        Some(1) => Ok(()),
        Some(n) => Err(ReviewError::Refused(format!(
            "{} holds {n} pages; a rescan replaces one page: give a file with that page only",
            file.display()
        ))),
        None => Err(ReviewError::Refused(format!(
            "{} cannot be read as a scan (TIFF, PNG, JPEG or a scanner PDF)",
            file.display()
        ))),
    }
}

/// The page a rescan replaces, as the document's current version holds it.
fn replaced_page(
    area: &Area,
    record: &ReviewRecord,
    document: &str,
    page: u32,
    document_version: u32,
) -> Result<ReplacedPage, ReviewError> {
    let old = area.page_record(record, document, page)?;
    let (pdf, _) = area.document_files(record, document);
    let path = area.dir.join(&pdf);
    let pdf_sha256 = crate::seal::Digests::of_file(&path)
        .map_err(|source| ReviewError::Read { path, source })?
        .sha256;
    Ok(ReplacedPage {
        source: old.source,
        source_page: old.source_page,
        image_sha256: old.image_sha256,
        pdf: layout::replaced_pdf(document, document_version),
        pdf_sha256,
    })
}

/// The reason the page's current version was rejected; refused unless it was.
fn rejection(record: &ReviewRecord, document: &str, page: u32) -> Result<String, ReviewError> {
    let Some(p) = record
        .pages
        .iter()
        .find(|p| p.document == document && p.page == page)
    else {
        return Err(ReviewError::Refused(format!(
            "{document} page {page} is not among the pages to review; only a rejected page is rescanned"
        )));
    };
    match p.state(record.version_of(document, page), record.reviewers_required) {
        PageState::Rejected { by, reason } => Ok(format!("{reason} (rejected by {by})")),
        state => Err(ReviewError::Refused(format!(
            "{document} page {page} is {}; only a rejected page is rescanned",
            state.describe()
        ))),
    }
}

/// Copies `file` into `rescans/<name>` of the review folder, synced, whole or not at all.
fn keep_copy(area: &Area, name: &str, file: &Path) -> Result<PathBuf, ReviewError> {
    let dir = area.dir.join(layout::RESCANS);
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.part-{}", std::process::id()));
    let write = |source| ReviewError::Write {
        path: target.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(write)?;
    std::fs::copy(file, &temp).map_err(|source| ReviewError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    std::fs::File::open(&temp)
        .and_then(|f| f.sync_all())
        .map_err(write)?;
    std::fs::rename(&temp, &target).map_err(write)?;
    Ok(target)
}

/// `<document>-p<page>-v<version>-<file>`: where a rescan's copy is kept under `rescans/`.
fn copy_name(document: &str, page: u32, version: u32, file: &str) -> String {
    format!("{document}-p{page}-v{version}-{file}")
}

/// The document's source with earlier rescans in their pages' places, and the new scan `kept` in
/// page `page`'s.
fn replaced_source(
    batch: &Batch,
    record: &ReviewRecord,
    area: &Area,
    document: &str,
    (page, kept): (u32, &Path),
) -> Result<DocumentSource, ReviewError> {
    let original = batch
        .documents
        .iter()
        .find(|d| d.id == document)
        .ok_or_else(|| ReviewError::Refused(format!("batch {} has no document {document}", batch.id)))?;
    let mut pages: Vec<(PathBuf, u32)> = Vec::new();
    for part in &original.parts {
        let count = crate::decode::count_pages(&part.file).unwrap_or(1);
        pages.extend((part.pages.start..part.pages.end.min(count)).map(|i| (part.file.clone(), i)));
    }
    for r in record.rescans.iter().filter(|r| r.document == document) {
        let copy = area
            .dir
            .join(layout::RESCANS)
            .join(copy_name(document, r.page, r.version, &r.file));
        if let Some(slot) = pages.get_mut(r.page as usize - 1) {
            *slot = (copy, 0);
        }
    }
    let Some(slot) = pages.get_mut(page as usize - 1) else {
        return Err(ReviewError::Refused(format!(
            "document {document} has no page {page}"
        )));
    };
    *slot = (kept.to_path_buf(), 0);
    Ok(DocumentSource {
        parts: parts_of(&pages),
        ..original.clone()
    })
}

/// Pages as runs of one file's consecutive pages.
fn parts_of(pages: &[(PathBuf, u32)]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for (file, index) in pages {
        match parts.last_mut() {
            Some(last) if &last.file == file && last.pages.end == *index => last.pages.end += 1,
            _ => parts.push(Part {
                file: file.clone(),
                pages: *index..index + 1,
            }),
        }
    }
    parts
}

/// Composes the batch's one document (the rescan `kept` in it) into `versions/<document>-v<n>/`;
/// its record, the rescan's source named by its place in the review folder.
fn compose(
    area: &Area,
    config: &crate::config::Config,
    batch: &Batch,
    document: &str,
    document_version: u32,
    kept: &Path,
) -> Result<DocumentRecord, ReviewError> {
    let versions = area.dir.join(layout::VERSIONS);
    let dir_name = version_dir(document, document_version);
    let write = |source| ReviewError::Write {
        path: versions.join(&dir_name),
        source,
    };
    std::fs::create_dir_all(&versions).map_err(write)?;
    // Left by a rescan that died before it was logged: never part of the review.
    let _ = std::fs::remove_dir_all(versions.join(&dir_name));
    let staging = Staging::create(&versions, &dir_name).map_err(crate::ingest::IngestError::from)?;
    let timings = crate::pipeline::Timings::default();
    let output = crate::pipeline::run(
        batch,
        &config.profile,
        &config.operator.0,
        config.threads,
        crate::ingest::target(config, &staging),
        &std::sync::atomic::AtomicBool::new(false),
        &timings,
    )
    .map_err(crate::ingest::IngestError::from)?;
    if let Some(failure) = output.failures.first() {
        return Err(ReviewError::Refused(format!(
            "the rescan could not be composed: {}",
            failure
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    if output.documents.is_empty() {
        return Err(ReviewError::Refused(
            "the rescan left the document without pages (a blank page removed?); scan the page again".into(),
        ));
    }
    let rel = layout::document_record(document);
    let path = staging.dir().join(&rel);
    let bytes = std::fs::read(&path).map_err(|source| ReviewError::Read { path, source })?;
    let mut record: DocumentRecord =
        serde_json::from_slice(&bytes).expect("the record scanwerk just wrote parses");
    let named = format!(
        "{}/{}",
        layout::RESCANS,
        kept.file_name().unwrap_or_default().to_string_lossy()
    );
    let absolute = batch.relative(kept);
    for source in record.sources.iter_mut().filter(|s| s.path == absolute) {
        source.path = named.clone();
    }
    for p in record.pages.iter_mut().filter(|p| p.source == absolute) {
        p.source = named.clone();
    }
    staging
        .write_file(&rel, &to_json(&record))
        .map_err(crate::ingest::IngestError::from)?;
    staging.publish().map_err(crate::ingest::IngestError::from)?;
    Ok(record)
}
