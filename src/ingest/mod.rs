//! The ingest driver: one batch through every stage — read, separate, prepare, recognize,
//! compose (the pipeline), then the protocol, the QA report, the hash tree with its signature and
//! time stamp, the manifest — into a staging folder that is published by one atomic rename, or
//! not at all. The batch folder is compared with what was read before sealing and publishing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Staging};
use crate::batch::Batch;
use crate::config::Config;
use crate::exit::Exit;
use crate::json;
use crate::pipeline::{self, DocumentFailure, PipelineError};
use crate::protocol::{self, Protocol};
use crate::seal::{self, Manifest};
use crate::{journal, layout, report, separate, verify};

pub mod audit;
mod note;
mod park;
mod sealing;
mod summary;

pub use sealing::seal_and_publish;

use note::batch_protocol;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("signing failed: {0}")]
    Sign(#[from] seal::sign::KeyError),
    #[error(
        "{} of {} documents failed; nothing was published and the input is untouched:\n{}",
        failures.len(), total,
        failures.iter().flat_map(|f| f.errors.iter().map(move |e| format!("- {}: {e}", f.document))).collect::<Vec<_>>().join("\n")
    )]
    DocumentsFailed {
        failures: Vec<DocumentFailure>,
        total: usize,
    },
    #[error(
        "the batch is incomplete: {0}; profile {1} refuses incomplete batches (quality.incomplete_batch \
         = \"refuse\"), so nothing was published and the input is untouched. Rescan what is missing, \
         or correct the batch sheet's counts"
    )]
    Incomplete(String, String),
    #[error(
        "{0}; nothing was published and the input is untouched. Run the batch again when the \
         service answers, or set seal.timestamp = \"offline\" to write the query and attach the \
         reply later with `scanwerk timestamp attach`"
    )]
    Timestamp(#[from] seal::timestamp::TimestampError),
    #[error("keeping a separator sheet's image: {0}; nothing was published and the input is untouched")]
    Separator(String),
    #[error(
        "batch folder {} changed while it was processed ({}); what was read may be only part of \
         the delivery, so nothing was published. Let the scanner finish, then hand the batch over \
         complete (write READY last, or build the folder elsewhere and move it in) and run it again",
        dir.display(),
        summarise_changes(changes)
    )]
    InputChanged { dir: PathBuf, changes: Vec<String> },
    #[error(
        "the batch is composed already and waits for review in {}; finish it with `scanwerk review \
         serve` or `review decide`, then `scanwerk review seal` (or remove that folder to start over)",
        .0.display()
    )]
    InReview(PathBuf),
    #[error(transparent)]
    Audit(crate::audit::AuditError),
}

impl IngestError {
    /// The exit code of an ingest that failed this way (README "Exit codes").
    pub fn exit(&self) -> Exit {
        match self {
            _ if self.is_archive_fault() => Exit::Archive,
            IngestError::Archive(ArchiveError::AlreadyPublished { .. }) | IngestError::InReview(_) => {
                Exit::Archive
            }
            IngestError::Pipeline(PipelineError::Ocr(_)) => Exit::Usage,
            IngestError::Pipeline(PipelineError::Interrupted) => Exit::Interrupted,
            _ => Exit::Failed,
        }
    }

    /// True if the archive side failed (not writable, full): retrying the same batch later may
    /// succeed, so an unattended run puts it back and stops. Everything else is the batch's own
    /// fault and retrying cannot fix it.
    pub fn is_archive_fault(&self) -> bool {
        let io_fault = |e: &std::io::Error| {
            !matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            )
        };
        match self {
            IngestError::Audit(_) => true,
            IngestError::Archive(ArchiveError::Unusable { .. })
            | IngestError::Pipeline(PipelineError::Archive(ArchiveError::Unusable { .. })) => true,
            IngestError::Archive(ArchiveError::Write { source, .. })
            | IngestError::Pipeline(PipelineError::Archive(ArchiveError::Write { source, .. })) => {
                io_fault(source)
            }
            _ => false,
        }
    }
}

/// The first few changes, and how many more.
fn summarise_changes(changes: &[String]) -> String {
    let mut text = changes.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if changes.len() > 5 {
        text.push_str(&format!(" and {} more", changes.len() - 5));
    }
    text
}

/// Refuses a batch whose folder changed since it was read.
fn ensure_unchanged(batch: &Batch) -> Result<(), IngestError> {
    let changes = batch.changes();
    if changes.is_empty() {
        Ok(())
    } else {
        Err(IngestError::InputChanged {
            dir: batch.dir.clone(),
            changes,
        })
    }
}

/// What a successful ingest published.
#[derive(Debug)]
pub struct IngestReport {
    pub batch_id: String,
    pub published: PathBuf,
    pub documents: usize,
    /// Pages scanned.
    pub pages: usize,
    /// Pages in the PDFs (scanned minus removed blanks).
    pub pdf_pages: usize,
    /// How many pages carry each quality flag.
    pub flags: BTreeMap<String, usize>,
    /// `<document> page <n>: <flags>` for every page that needs review.
    pub review: Vec<String>,
    /// `<document> page <n>` for every page drawn for the visual spot check: compare it with
    /// the paper.
    pub spot_check: Vec<String>,
    /// `<document>: <reason>` for every document left without a PDF (all pages removed).
    pub empty_documents: Vec<String>,
    /// Documents that failed and were set aside (`input.on_document_error = "set-aside"`).
    pub set_aside: Vec<protocol::SetAsideDocument>,
    /// Whether the counts matched the batch sheet.
    pub complete: bool,
    pub warnings: Vec<String>,
    pub key_fingerprint: String,
    pub timings: StageTimes,
    /// Set when the batch was left for review (`review.mode`): how many pages wait for a person;
    /// `published` is then the review folder, `<archive>/.review/<batch>`.
    pub in_review: Option<usize>,
}

/// Where the time of a batch went: wall time, and CPU seconds per stage summed over threads.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageTimes {
    pub wall_seconds: f64,
    pub cpu_seconds: BTreeMap<&'static str, f64>,
}

impl StageTimes {
    /// Share of the CPU time spent outside OCR.
    pub fn non_ocr_share(&self) -> f64 {
        let total: f64 = self.cpu_seconds.values().sum();
        let ocr = self.cpu_seconds.get("ocr").copied().unwrap_or(0.0);
        if total > 0.0 { (total - ocr) / total } else { 0.0 }
    }
}

/// Ends the progress display however the batch ends.
struct EndProgress<'a>(&'a dyn crate::progress::Progress);

impl Drop for EndProgress<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Runs one batch through every stage and publishes it, or publishes nothing.
pub fn ingest(config: &Config) -> Result<IngestReport, IngestError> {
    ingest_until(config, &std::sync::atomic::AtomicBool::new(false))
}

/// [`ingest`], stopping between pages once `stop` is set (then nothing is published). The start
/// and the end are events in the audit log; a log that cannot be written stops the batch before
/// it starts (exit 3), and fails it at the end although it was published (the operator is told).
pub fn ingest_until(
    config: &Config,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<IngestReport, IngestError> {
    audit::started(config)?;
    let result = run_batch(config, stop);
    audit::finished(config, &result)?;
    result
}

fn run_batch(config: &Config, stop: &std::sync::atomic::AtomicBool) -> Result<IngestReport, IngestError> {
    let started = json::now_rfc3339();
    let wall = std::time::Instant::now();
    let timings = pipeline::Timings::default();
    let waiting = park::review_dir(&config.archive, &config.batch.id);
    if waiting.exists() {
        return Err(IngestError::InReview(waiting));
    }
    let staging = Staging::create(&config.archive, &config.batch.id)?;
    config.progress.begin(&config.batch);
    let _end = EndProgress(&*config.progress);
    let output = pipeline::run(
        &config.batch,
        &config.profile,
        &config.operator.0,
        config.threads,
        target(config, &staging),
        stop,
        &timings,
    )?;
    let seal_started = pipeline::thread_cpu();
    let total = config.batch.documents.len();
    let mut output = output;
    let failures = std::mem::take(&mut output.failures);
    // Set aside only while something is left to publish, and only whole files: a file that also
    // holds pages of a good document (a stack split by separator sheets) cannot be set aside.
    let can_set_aside =
        config.profile.set_aside_failed && failures.len() < total && !shares_files(config, &failures);
    if !failures.is_empty() && !can_set_aside {
        return Err(IngestError::DocumentsFailed { failures, total });
    }
    let set_aside = set_aside(config, &failures);
    ensure_unchanged(&config.batch)?;
    let mut protocol = complete_protocol(&staging, config, started, output, set_aside)?;
    let plan = park::review_plan(&staging, config, &protocol)?;
    let times = |timings: &pipeline::Timings| {
        timings.add(
            pipeline::Stage::Seal,
            pipeline::thread_cpu().saturating_sub(seal_started),
        );
        StageTimes {
            wall_seconds: wall.elapsed().as_secs_f64(),
            cpu_seconds: timings.seconds(),
        }
    };
    if let Some(plan) = &plan
        && !plan.pages.is_empty()
    {
        let parked = park::park(staging, config, &protocol, plan)?;
        let mut report = IngestReport::of(config, &protocol, parked, None, times(&timings));
        report.in_review = Some(plan.pages.len());
        return Ok(report);
    }
    if let Some(plan) = plan {
        let note = &mut protocol.transfer_note;
        (note.statement, note.statement_en) = plan.statement(protocol.completeness.pages);
        protocol.review = Some(plan);
    }
    let (published, manifest) = seal_and_publish(staging, config, &protocol)?;
    Ok(IngestReport::of(
        config,
        &protocol,
        published,
        Some(manifest),
        times(&timings),
    ))
}

/// True if a failed document has a file in common with a document that did not fail.
fn shares_files(config: &Config, failures: &[pipeline::DocumentFailure]) -> bool {
    let failed = |id: &str| failures.iter().any(|f| f.document == id);
    let files_of = |ok: bool| -> std::collections::BTreeSet<&std::path::Path> {
        config
            .batch
            .documents
            .iter()
            .filter(|d| failed(&d.id) != ok)
            .flat_map(|d| d.parts.iter().map(|p| p.file.as_path()))
            .collect()
    };
    !files_of(false).is_disjoint(&files_of(true))
}

/// The records of the documents that failed: their files with hashes (links out of the batch are
/// never followed) and the reasons.
fn set_aside(config: &Config, failures: &[pipeline::DocumentFailure]) -> Vec<protocol::SetAsideDocument> {
    failures
        .iter()
        .map(|failure| {
            let source = config.batch.documents.iter().find(|d| d.id == failure.document);
            let files = source
                .map(|d| d.parts.iter().map(|p| p.file.clone()).collect::<Vec<_>>())
                .unwrap_or_default();
            let mut seen = std::collections::BTreeSet::new();
            let files = files
                .into_iter()
                .filter(|f| seen.insert(f.clone()))
                .map(|file| {
                    let is_link = std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink());
                    let sha256 = (!is_link)
                        .then(|| std::fs::File::open(&file).ok())
                        .flatten()
                        .and_then(|mut f| crate::seal::Digests::of_reader(&mut f).ok())
                        .map(|d| d.sha256);
                    protocol::SetAsideFile {
                        path: config.batch.relative(&file),
                        sha256,
                        file,
                    }
                })
                .collect();
            protocol::SetAsideDocument {
                id: failure.document.clone(),
                files,
                reasons: failure.errors.iter().map(|e| e.to_string()).collect(),
            }
        })
        .collect()
}

/// Where the pipeline writes: the staging folder, the PAdES signer if a certificate is
/// configured, and what a journaled document must have been made under to be reused.
pub fn target<'a>(config: &'a Config, staging: &'a Staging) -> pipeline::Target<'a> {
    pipeline::Target {
        staging,
        signer: config.certificate.as_ref().map(|chain| seal::cms::PadesSigner {
            key: &config.key,
            chain,
        }),
        context: journal::context(
            &config.profile.sha256,
            &config.key.public().fingerprint(),
            config.certificate.as_ref().map(|c| c.sha256()).as_deref(),
            &std::fs::read(config.batch.dir.join(layout::SHEET)).unwrap_or_default(),
        ),
        progress: &*config.progress,
    }
}

/// The batch protocol of what the pipeline made, with the separator sheets kept and the spot
/// check drawn; refused if incomplete and the profile refuses incomplete batches.
fn complete_protocol(
    staging: &Staging,
    config: &Config,
    started: String,
    output: pipeline::PipelineOutput,
    set_aside: Vec<protocol::SetAsideDocument>,
) -> Result<Protocol, IngestError> {
    let mut protocol = batch_protocol(config, started, output.documents, output.empty, output.pages);
    if !set_aside.is_empty() {
        let names: Vec<&str> = set_aside.iter().map(|d| d.id.as_str()).collect();
        protocol.completeness.complete = false;
        protocol.warnings.insert(
            0,
            format!(
                "{} of {} documents failed and were set aside for a rescan (input.on_document_error \
                 = \"set-aside\"): {}",
                set_aside.len(),
                config.batch.documents.len(),
                names.join(", ")
            ),
        );
        protocol
            .transfer_note
            .anomalies
            .extend(set_aside.iter().map(protocol::SetAsideDocument::anomaly));
        protocol.set_aside = set_aside;
    }
    protocol.resumed = output.resumed;
    protocol.separators = keep_separators(staging, config)?;
    protocol.completeness.separator_sheets = protocol.separators.len();
    protocol.completeness.separator_backs = protocol
        .separators
        .iter()
        .filter(|s| s.back.as_ref().is_some_and(|b| b.dropped))
        .count();
    if !protocol.completeness.complete && config.profile.quality.refuse_incomplete {
        return Err(IngestError::Incomplete(
            protocol.warnings[0].clone(),
            config.profile.id.clone(),
        ));
    }
    let sample = report::draw_sample(&protocol, config.profile.quality.qa_sample_percent);
    let note = &mut protocol.transfer_note;
    (note.statement, note.statement_en) = protocol::statement(
        protocol.completeness.pages,
        note.quality.pages_needing_review,
        sample.pages.len(),
    );
    protocol.qa_sample = Some(sample);
    Ok(protocol)
}

impl IngestReport {
    /// What the operator is told of a published batch (or one left for review: no manifest yet).
    pub fn of(
        config: &Config,
        protocol: &Protocol,
        published: PathBuf,
        manifest: Option<Manifest>,
        timings: StageTimes,
    ) -> IngestReport {
        let review = protocol.documents.iter().flat_map(|d| {
            d.flagged_pages
                .iter()
                .filter(|p| p.needs_review)
                .map(move |p| format!("{} page {}: {}", d.id, p.number, p.flags.join(", ")))
        });
        let spot_check = protocol.qa_sample.iter().flat_map(|s| &s.pages);
        let warnings = protocol
            .documents
            .iter()
            .flat_map(|d| d.warnings.iter().map(|w| format!("{}: {w}", d.id)));
        IngestReport {
            batch_id: config.batch.id.clone(),
            published,
            documents: protocol.documents.len(),
            pages: protocol.completeness.pages,
            pdf_pages: protocol.documents.iter().map(|d| d.pages).sum(),
            flags: protocol.transfer_note.quality.flags.clone(),
            review: review.collect(),
            spot_check: spot_check
                .map(|p| format!("{} page {}", p.document, p.page))
                .collect(),
            empty_documents: protocol
                .empty_documents
                .iter()
                .map(|d| format!("{}: {}", d.id, d.reason))
                .collect(),
            set_aside: protocol.set_aside.clone(),
            complete: protocol.completeness.complete,
            warnings: warnings.chain(protocol.warnings.iter().cloned()).collect(),
            key_fingerprint: manifest.map_or_else(
                || config.key.public().fingerprint(),
                |m| m.signature.key_fingerprint,
            ),
            timings,
            in_review: None,
        }
    }
}

/// Writes the separator sheets' images into the staging folder; their protocol records.
fn keep_separators(
    staging: &Staging,
    config: &Config,
) -> Result<Vec<protocol::SeparatorRecord>, IngestError> {
    if config.separators.is_empty() {
        return Ok(Vec::new());
    }
    let dir = staging.dir().join(layout::SEPARATORS);
    std::fs::create_dir_all(&dir).map_err(staging.write_err(layout::SEPARATORS))?;
    separate::keep(
        &config.batch,
        &config.separators,
        &config.profile.limits,
        |rel, bytes| staging.write_file(rel, bytes).map(|d| d.sha256),
    )
    .map_err(|e| match e {
        separate::KeepError::Source(message) => IngestError::Separator(message),
        separate::KeepError::Write(e) => e.into(),
    })
}

/// True if the batch published at `target` verifies against the configured key and was made
/// from exactly this batch's input files (relative paths and SHA-256, documents left without a
/// PDF included): publishing it again would publish the same paper twice.
pub fn published_from(target: &Path, config: &Config) -> bool {
    if !verify::verify(target, Some(&config.key.public()), &[]).ok() {
        return false;
    }
    let Ok(Ok(published)) = std::fs::read(crate::handoff::bag::payload(target).join(layout::PROTOCOL))
        .map(|b| serde_json::from_slice::<Protocol>(&b))
    else {
        return false;
    };
    let sources = published
        .documents
        .iter()
        .flat_map(|d| &d.sources)
        .chain(published.empty_documents.iter().flat_map(|d| &d.sources));
    let published: std::collections::BTreeSet<(String, String)> = sources
        .map(|s| (s.path.clone(), s.digests.sha256.clone()))
        .collect();
    let mut input = std::collections::BTreeSet::new();
    for file in &config.batch.input_files() {
        match seal::Digests::of_file(file) {
            Ok(d) => input.insert((config.batch.relative(file), d.sha256)),
            Err(_) => return false,
        };
    }
    published == input
}
