//! Inbox: unattended runs over a folder of batches (`scanwerk run`, `scanwerk watch`).
//!
//! ```text
//! <inbox>/<batch>/             waiting; ready once it has batch.toml or READY, or has been
//!                              unchanged for the quiet time
//! <inbox>/processing/<batch>/  claimed by one process (claim file <batch>.claim beside it)
//! <inbox>/done/<batch>/        published, and the publication verified
//! <inbox>/failed/<batch>/      could not be processed; error.txt (people), error.json (machines)
//! ```
//!
//! A batch is claimed by creating `processing/<batch>.claim` exclusively (`O_EXCL`, atomic also
//! over NFS) and then renaming the batch folder into `processing/`; only the process holding the
//! claim touches the batch. A claim names host, process and boot; it is refreshed while the batch
//! runs, and a claim whose process is gone (same host) or that has not been refreshed for the stale
//! time (any host) is taken over by renaming it away (one process wins). The input moves to
//! `done/` only after the published batch verifies; a batch found already published from the
//! same input (a crash between publishing and moving) is verified and moved, never published twice.

use crate::layout::{DONE, ERROR_JSON, ERROR_TEXT, FAILED, IN_REVIEW, PROCESSING};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::archive::{self, move_unique, unique_dir};
use crate::config::{Config, IngestOptions};
use crate::ingest::IngestError;
use crate::pipeline::PipelineError;

mod claim;
mod purge;
mod ready;
mod serve;

use claim::{claim, remove_abandoned_claim_files};
pub use ready::ready;
pub use serve::{check_setup, serve};

/// What an unattended run is told.
#[derive(Clone)]
pub struct RunOptions {
    pub inbox: PathBuf,
    /// What every batch is ingested with (archive, profile, key, certificate, threads); its
    /// `batch_dir` is set per batch.
    pub ingest: IngestOptions,
    /// A batch without `batch.toml` or `READY` is ready once unchanged this long (and one whose
    /// batch sheet does not parse, so that it is quarantined with the reason).
    pub quiet: Duration,
    /// A batch with `batch.toml` or `READY` is ready once unchanged this long and its sheet parses.
    pub settle: Duration,
    /// A claim not refreshed this long is taken to be abandoned.
    pub stale: Duration,
    /// Told how each batch goes (a progress bar at a terminal).
    pub progress: std::sync::Arc<dyn crate::progress::Progress>,
    /// Logs are JSON (`--log-format json`): what a run says of each batch and of its errors goes
    /// into the log as events too, so every line on stderr is one JSON object.
    pub log_json: bool,
    /// Remove a batch's input from `done/` once the archive's receipt for it checks.
    pub purge_received: bool,
}

/// How one batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Published,
    /// Found published from this same input and verified (a run that died after publishing).
    AlreadyPublished,
    /// Quarantined in `failed/`.
    Failed,
    /// Composed and waiting for review (`review.mode`): the input is in `review/`, the output in
    /// `<archive>/.review/<batch>` until `scanwerk review seal`.
    InReview,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::AlreadyPublished => "already_published",
            Status::Failed => "failed",
            Status::InReview => "in_review",
        }
    }
}

/// The outcome of one batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchOutcome {
    /// The batch folder's name in the inbox.
    pub folder: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<PathBuf>,
    /// Where the input is now: `done/…` or `failed/…`.
    pub input: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub documents: usize,
    pub pages: usize,
    /// `<document> page <n>: <flags>` for every page that needs a person's look before the paper
    /// may go (published batches).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub review: Vec<String>,
    /// `<document> page <n>` for every page drawn for the visual spot check: compare with the paper.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spot_check: Vec<String>,
    /// `<document>: <reason>` for documents published without a PDF (every page blank, removed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub empty_documents: Vec<String>,
    /// Documents that failed and were set aside (their files in `failed/<folder>/`): the batch is
    /// published, but it needs a rescan, so the run counts it as failed for its exit code.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<String>,
    /// Wall time and CPU seconds per stage (published batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<crate::ingest::StageTimes>,
}

impl BatchOutcome {
    /// A batch found published, its input already moved on (a job delivered again after the
    /// worker that finished it could not ack).
    pub fn already_published(batch_id: &str, published: PathBuf, input: PathBuf) -> BatchOutcome {
        let folder = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        BatchOutcome {
            batch_id: Some(batch_id.into()),
            published: Some(published),
            ..BatchOutcome::bare(folder, Status::AlreadyPublished, input)
        }
    }

    /// An outcome with no documents, pages or findings.
    fn bare(folder: String, status: Status, input: PathBuf) -> BatchOutcome {
        BatchOutcome {
            folder,
            status,
            batch_id: None,
            published: None,
            input,
            error: None,
            documents: 0,
            pages: 0,
            review: Vec::new(),
            spot_check: Vec::new(),
            empty_documents: Vec::new(),
            set_aside: Vec::new(),
            timings: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub batches: Vec<BatchOutcome>,
    /// Batches left for later: not ready yet, or claimed by another process.
    pub waiting: Vec<String>,
    /// A batch in hand was interrupted by SIGINT/SIGTERM and put back unharmed.
    pub interrupted: bool,
    /// SIGINT/SIGTERM asked the run to stop (between batches, or interrupting one).
    pub stopped: bool,
    /// Input folders removed from `done/` because the archive confirmed their batch
    /// (`--purge-received`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purged: Vec<String>,
}

impl RunSummary {
    pub fn failed(&self) -> usize {
        self.batches
            .iter()
            .filter(|b| b.status == Status::Failed || !b.set_aside.is_empty())
            .count()
    }
}

/// Why a run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("inbox {path}: {source}")]
    Inbox { path: PathBuf, source: std::io::Error },
    /// The archive cannot take the batch (not writable, disk full); the batch went back to the
    /// inbox untouched.
    #[error("{error}; batch {folder} is back in the inbox, untouched; the run stopped")]
    Archive {
        folder: String,
        error: String,
        summary: Box<RunSummary>,
    },
}

fn is_special(name: &str) -> bool {
    name.starts_with('.') || crate::layout::INBOX_FOLDERS.contains(&name)
}

/// Folder names under `dir`, sorted.
fn folders(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_special(n))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Processes every ready batch of the inbox once. `stop` is checked between batches and, through
/// the pipeline, between pages.
pub fn run_once(opts: &RunOptions, stop: &AtomicBool) -> Result<RunSummary, RunError> {
    let inbox_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Inbox { path, source }
    };
    let processing = opts.inbox.join(PROCESSING);
    for dir in [PROCESSING, DONE, FAILED] {
        let dir = opts.inbox.join(dir);
        std::fs::create_dir_all(&dir).map_err(inbox_err(&dir))?;
    }
    remove_abandoned_claim_files(&processing, &opts.inbox, opts.stale);
    let mut summary = RunSummary::default();
    // Batches left in processing/ by a process that died come first, then the inbox.
    let mut names = folders(&processing).map_err(inbox_err(&processing))?;
    for name in folders(&opts.inbox).map_err(inbox_err(&opts.inbox))? {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    for name in names {
        if stop.load(Ordering::SeqCst) {
            summary.stopped = true;
            break;
        }
        let waiting = opts.inbox.join(&name);
        let claimed = processing.join(&name);
        if !claimed.exists() && !ready(&waiting, opts.quiet, opts.settle) {
            summary.waiting.push(name);
            continue;
        }
        let Some(held) = claim(&processing, &name, opts.stale).map_err(inbox_err(&processing))? else {
            summary.waiting.push(name);
            continue;
        };
        if !claimed.exists() {
            match std::fs::rename(&waiting, &claimed) {
                Ok(()) => {}
                // Gone meanwhile (finished by the process whose claim just ended).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(inbox_err(&waiting)(e)),
            }
        }
        tracing::info!(batch = %name, "claimed");
        match process_batch(opts, &name, &claimed, stop) {
            Ok(Some(outcome)) => summary.batches.push(outcome),
            Ok(None) => {
                // Interrupted: the batch goes back to the inbox as it came.
                let _ = std::fs::rename(&claimed, &waiting);
                summary.interrupted = true;
                summary.stopped = true;
                drop(held);
                break;
            }
            Err(error) => {
                let _ = std::fs::rename(&claimed, &waiting);
                drop(held);
                return Err(RunError::Archive {
                    folder: name,
                    error,
                    summary: Box::new(summary),
                });
            }
        }
        drop(held);
    }
    // Staging folders of dead processes whose batch was not resumed above.
    archive::remove_abandoned_staging(&opts.ingest.archive);
    if opts.purge_received {
        summary.purged = purge::purge_received(opts);
    }
    Ok(summary)
}

/// Runs one claimed batch (or a queued job's batch) to `done/` or `failed/` of `opts.inbox`.
/// `Ok(None)` if interrupted; `Err` if the archive cannot take it (the caller puts it back).
pub fn process_batch(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    stop: &AtomicBool,
) -> Result<Option<BatchOutcome>, String> {
    let ingest_opts = IngestOptions {
        batch_dir: dir.to_path_buf(),
        ..opts.ingest.clone()
    };
    let config = match Config::new(&ingest_opts) {
        Ok(config) => Config {
            progress: opts.progress.clone(),
            ..config
        },
        Err(e) => {
            return Ok(Some(quarantine(
                opts,
                name,
                dir,
                None,
                &e.to_string(),
                &e.problems,
            )));
        }
    };
    let batch_id = config.batch.id.clone();
    audit(
        opts,
        None,
        crate::audit::Event::new("claimed", Some(&batch_id))
            .by(&config.operator.0)
            .with(serde_json::json!({"folder": name, "inbox": opts.inbox.display().to_string()})),
    );
    let target = opts.ingest.archive.join(&batch_id);
    if target.exists() {
        return Ok(Some(published_before(opts, name, dir, &config, target)));
    }
    let report = match crate::ingest::ingest_until(&config, stop) {
        Ok(report) => report,
        Err(IngestError::Pipeline(PipelineError::Interrupted)) => return Ok(None),
        Err(e) if e.is_archive_fault() => return Err(e.to_string()),
        Err(e) => {
            let problems = match &e {
                IngestError::DocumentsFailed { failures, .. } => failures
                    .iter()
                    .flat_map(|f| f.errors.iter().map(move |m| format!("{}: {m}", f.document)))
                    .collect(),
                _ => Vec::new(),
            };
            return Ok(Some(quarantine(
                opts,
                name,
                dir,
                Some(&batch_id),
                &e.to_string(),
                &problems,
            )));
        }
    };
    if report.in_review.is_some() {
        return Ok(Some(awaiting_review(opts, name, dir, &config, report)));
    }
    Ok(Some(verified(opts, name, dir, &config, report)))
}

/// A batch left for review: its input moves to `review/` (where `review seal` finds it and moves
/// it to `done/` once published), and the review folder is told where it went.
fn awaiting_review(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    config: &Config,
    report: crate::ingest::IngestReport,
) -> BatchOutcome {
    let input = match move_unique(dir, &opts.inbox.join(IN_REVIEW), name) {
        Ok(moved) => moved,
        Err(e) => {
            tracing::error!(batch = name, error = %e, "left for review, but the input could not be moved to review/");
            dir.to_path_buf()
        }
    };
    let area = crate::review::Area::open(&report.published);
    if let Err(e) = area.and_then(|a| a.relocate(&input)) {
        tracing::error!(batch = name, error = %e, "the review folder could not be told where the input went");
    }
    tracing::info!(batch = name, id = %config.batch.id, pages = report.in_review, "waiting for review");
    BatchOutcome {
        folder: name.into(),
        status: Status::InReview,
        batch_id: Some(config.batch.id.clone()),
        published: Some(report.published),
        input,
        error: None,
        documents: report.documents,
        pages: report.pages,
        review: report.review,
        spot_check: report.spot_check,
        empty_documents: report.empty_documents,
        set_aside: Vec::new(),
        timings: Some(report.timings),
    }
}

/// A batch whose id is published already: done if from this same input (a run that died after
/// publishing), else quarantined.
fn published_before(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    config: &Config,
    target: PathBuf,
) -> BatchOutcome {
    if crate::ingest::published_from(&target, config) {
        tracing::info!(batch = %name, "already published from this input; verified");
        return finish(opts, name, dir, config, Status::AlreadyPublished, target, 0, 0);
    }
    let message = format!(
        "batch id {} is already published at {} from other input (other files or \
         other content); if this is other paper, give it a new id in batch.toml",
        config.batch.id,
        target.display()
    );
    quarantine(opts, name, dir, Some(&config.batch.id), &message, &[])
}

/// A batch just published: moved to `done/` once it verifies, else quarantined.
fn verified(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    config: &Config,
    report: crate::ingest::IngestReport,
) -> BatchOutcome {
    let batch_id = &config.batch.id;
    let verified = crate::verify::verify(&report.published, Some(&config.key.public()), &[]);
    audit(
        opts,
        None,
        crate::audit::Event::new("verified", Some(batch_id)).with(serde_json::json!({
            "ok": verified.ok(), "files": verified.files_checked,
            "documents": verified.documents_checked,
            "problems": verified.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        })),
    );
    if !verified.ok() {
        let problems: Vec<String> = verified.problems.iter().map(|p| p.to_string()).collect();
        let message = format!(
            "published at {} but it does not verify; the input is kept here for a rescan",
            report.published.display()
        );
        return quarantine(opts, name, dir, Some(batch_id), &message, &problems);
    }
    if !report.set_aside.is_empty() {
        set_aside(opts, name, dir, &report);
    }
    let mut outcome = finish(
        opts,
        name,
        dir,
        config,
        Status::Published,
        report.published,
        report.documents,
        report.pages,
    );
    outcome.timings = Some(report.timings);
    outcome.review = report.review;
    outcome.spot_check = report.spot_check;
    outcome.empty_documents = report.empty_documents;
    outcome.set_aside = report.set_aside.iter().map(|d| d.id.clone()).collect();
    outcome
}

/// Moves the files of the documents that were set aside out of the published batch's folder into
/// `failed/<name>/` (their paths kept), with `error.txt` and `error.json` saying why, so they can
/// be rescanned; the rest of the folder then goes to `done/`.
fn set_aside(opts: &RunOptions, name: &str, dir: &Path, report: &crate::ingest::IngestReport) {
    let failed = opts.inbox.join(FAILED);
    let Ok(target) = std::fs::create_dir_all(&failed).and_then(|_| unique_dir(&failed, name)) else {
        tracing::error!(
            batch = name,
            "documents were set aside, but failed/ could not be written"
        );
        return;
    };
    // By the paths themselves (byte-exact names), relative to the batch folder.
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for file in report
        .set_aside
        .iter()
        .flat_map(|d| d.files.iter().map(|f| &f.file))
    {
        let rel = file
            .strip_prefix(&root)
            .or_else(|_| file.strip_prefix(dir))
            .unwrap_or(file.as_path());
        let to = target.join(rel);
        let moved = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::rename(dir.join(rel), &to));
        if let Err(e) = moved {
            tracing::error!(batch = name, file = %rel.display(), error = %e, "a set-aside file could not be moved");
        }
    }
    let problems: Vec<String> = report
        .set_aside
        .iter()
        .flat_map(|d| d.reasons.iter().map(move |r| format!("{}: {r}", d.id)))
        .collect();
    tracing::warn!(
        batch = name,
        documents = report.set_aside.len(),
        "documents set aside"
    );
    let message = format!(
        "{} document(s) of batch {} failed and were set aside; the others were published at {} \
         and the rest of the folder is in done/. Rescan these and deliver them as a new batch \
         with a new id.",
        report.set_aside.len(),
        report.batch_id,
        report.published.display()
    );
    let text = format!("{message}\n\n{}\n", problems.join("\n"));
    let json = serde_json::json!({
        "format": crate::json::COMMAND_FORMAT,
        "batch": name,
        "batch_id": report.batch_id,
        "time": crate::json::now_rfc3339(),
        "error": message,
        "problems": problems,
        "set_aside": report.set_aside,
    });
    write_error_files(&target, text, &json);
}

/// `error.txt` (for people) and `error.json` into `dir`, each synced to disk.
fn write_error_files(dir: &Path, text: String, json: &serde_json::Value) {
    for (file, bytes) in [
        (ERROR_TEXT, text.into_bytes()),
        (ERROR_JSON, serde_json::to_vec_pretty(json).expect("serialises")),
    ] {
        let path = dir.join(file);
        let _ = std::fs::write(&path, bytes).and_then(|_| std::fs::File::open(&path)?.sync_all());
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    config: &Config,
    status: Status,
    published: PathBuf,
    documents: usize,
    pages: usize,
) -> BatchOutcome {
    let input = move_unique(dir, &opts.inbox.join(DONE), name).unwrap_or_else(|e| {
        tracing::error!(batch = name, error = %e, "published, but the input could not be moved to done/");
        dir.to_path_buf()
    });
    tracing::info!(batch = name, id = %config.batch.id, status = status.name(), "done");
    audit(
        opts,
        Some(&config.key),
        crate::audit::Event::new("input-done", Some(&config.batch.id)).with(serde_json::json!({
            "status": status.name(), "input": input.display().to_string(),
        })),
    );
    BatchOutcome {
        folder: name.into(),
        status,
        batch_id: Some(config.batch.id.clone()),
        published: Some(published),
        input,
        error: None,
        documents,
        pages,
        review: Vec::new(),
        spot_check: Vec::new(),
        empty_documents: Vec::new(),
        set_aside: Vec::new(),
        timings: None,
    }
}

/// Appends an inbox event to the archive's audit log (with `key`, a checkpoint after it); a log
/// that cannot be written is reported, not fatal: the batch itself is already where it belongs.
fn audit(opts: &RunOptions, key: Option<&crate::seal::SigningKey>, event: crate::audit::Event) {
    crate::audit::Log::for_archive(&opts.ingest.archive).note(event, key);
}

/// Moves the batch to `failed/` with `error.txt` and `error.json` in it.
fn quarantine(
    opts: &RunOptions,
    name: &str,
    dir: &Path,
    batch_id: Option<&str>,
    message: &str,
    problems: &[String],
) -> BatchOutcome {
    tracing::warn!(batch = name, error = message, "quarantined");
    let input = move_unique(dir, &opts.inbox.join(FAILED), name).unwrap_or_else(|_| dir.to_path_buf());
    let text = format!(
        "scanwerk could not process batch {name} ({}).\n\n{message}\n\n\
         Nothing of it was published. Fix what is named above, then move this folder back into the \
         inbox (error.txt and error.json may stay; they are not read as documents).\n",
        crate::json::now_rfc3339()
    );
    let json = serde_json::json!({
        "format": crate::json::COMMAND_FORMAT,
        "batch": name,
        "batch_id": batch_id,
        "time": crate::json::now_rfc3339(),
        "error": message,
        "problems": problems,
    });
    write_error_files(&input, text, &json);
    audit(
        opts,
        None,
        crate::audit::Event::new("quarantined", batch_id).with(serde_json::json!({
            "folder": name, "input": input.display().to_string(), "reason": message,
            "problems": problems,
        })),
    );
    BatchOutcome {
        batch_id: batch_id.map(String::from),
        error: Some(message.into()),
        ..BatchOutcome::bare(name.into(), Status::Failed, input)
    }
}
