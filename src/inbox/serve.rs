//! Serving an inbox: `run` once, or `watch` — again whenever the inbox changes (inotify through
//! `notify`, and a rescan every poll interval for network file systems where no notification
//! arrives) — until SIGINT/SIGTERM. Each finished batch is logged as it ends; the run's exit code
//! combines them (README "Exit codes").

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{BatchOutcome, RunError, RunOptions, RunSummary, Status, run_once};
use crate::exit::Exit;
use crate::protocol::count;

/// What every batch of a run needs, checked before any batch is claimed: the exit code and the
/// message if something is missing.
pub fn check_setup(opts: &RunOptions) -> Result<(), (Exit, String)> {
    let mut problems = Vec::new();
    let ingest = &opts.ingest;
    if let Some(spec) = &ingest.profile
        && let Err(e) = crate::profile::load(spec)
    {
        problems.push(e.to_string());
    }
    match ingest.key.as_deref().map(crate::seal::SigningKey::load) {
        Some(Ok(key)) => {
            if let Some(Err(e)) = ingest
                .cert
                .as_deref()
                .map(|c| crate::seal::cert::CertificateChain::load(c, &key))
            {
                problems.push(e.to_string());
            }
        }
        Some(Err(e)) => problems.push(e.to_string()),
        None => {}
    }
    // A queue worker's inbox comes with each job (left empty here).
    if !opts.inbox.as_os_str().is_empty() && !opts.inbox.is_dir() {
        problems.push(format!("inbox {} is not a folder", opts.inbox.display()));
    }
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("- {p}")).collect();
        return Err((Exit::Usage, format!("cannot start the run:\n{}", list.join("\n"))));
    }
    if !ingest.archive.is_dir() {
        let message = format!(
            "archive folder {} is not usable; create it first",
            ingest.archive.display()
        );
        return Err((Exit::Archive, message));
    }
    Ok(())
}

/// Runs the inbox once (`poll` none) or watches it until `stop` is set; returns what was done and
/// how the run ends. A requested stop while no batch is in hand is a normal end.
pub fn serve(opts: &RunOptions, stop: &AtomicBool, poll: Option<Duration>) -> (RunSummary, Exit) {
    let (events_tx, events_rx) = crossbeam_channel::unbounded();
    let _watcher = poll.and_then(|_| watcher(opts, events_tx));
    if let Some(poll) = poll {
        tracing::info!(
            inbox = %opts.inbox.display(),
            archive = %opts.ingest.archive.display(),
            poll_seconds = poll.as_secs(),
            "watch started; stop with SIGINT or SIGTERM"
        );
    }
    let mut total = RunSummary::default();
    let exit = loop {
        if let Some(exit) = one_round(opts, stop, &mut total) {
            break exit;
        }
        let Some(poll) = poll else {
            break finished(&total);
        };
        wait_for_change(&events_rx, poll, stop);
        if stop.load(Ordering::SeqCst) {
            total.stopped = true;
            break finished(&total);
        }
    };
    if poll.is_some() {
        tracing::info!(
            published = total.batches.len() - total.failed(),
            failed = total.failed(),
            exit_code = exit.code(),
            "watch stopped{}",
            if total.interrupted {
                "; the batch in hand was put back into the inbox"
            } else {
                ""
            }
        );
    }
    (total, exit)
}

/// One pass over the inbox into `total`; the exit if the run ends here.
fn one_round(opts: &RunOptions, stop: &AtomicBool, total: &mut RunSummary) -> Option<Exit> {
    let (summary, archive_error) = match run_once(opts, stop) {
        Ok(summary) => (summary, None),
        Err(RunError::Archive {
            folder,
            error,
            summary,
        }) => (*summary, Some((folder, error))),
        Err(e) => {
            say(opts, &format!("error: {e}"));
            return Some(Exit::Usage);
        }
    };
    for batch in &summary.batches {
        say(opts, batch.to_string().trim_end());
    }
    total.batches.extend(summary.batches);
    total.purged.extend(summary.purged);
    total.waiting = summary.waiting;
    total.interrupted |= summary.interrupted;
    total.stopped |= summary.stopped;
    if let Some((folder, error)) = archive_error {
        say(
            opts,
            &format!("error: {error}; batch {folder} is back in the inbox, untouched; the run stopped"),
        );
        return Some(Exit::Archive);
    }
    if total.interrupted {
        return Some(Exit::Interrupted);
    }
    if stop.load(Ordering::SeqCst) {
        total.stopped = true;
        return Some(finished(total));
    }
    None
}

/// 0 if every batch was published, 1 if some were quarantined.
fn finished(total: &RunSummary) -> Exit {
    if total.failed() > 0 {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

/// File notifications for the inbox folder, if the file system gives them.
fn watcher(opts: &RunOptions, events: crossbeam_channel::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |_event| {
        let _ = events.send(());
    })
    .map_err(|e| tracing::warn!(error = %e, "no file notifications; polling only"))
    .ok()?;
    watcher
        .watch(&opts.inbox, notify::RecursiveMode::NonRecursive)
        .map_err(|e| tracing::warn!(error = %e, "no file notifications; polling only"))
        .ok()?;
    Some(watcher)
}

/// Waits for a change or the poll interval, waking up for signals.
fn wait_for_change(events: &crossbeam_channel::Receiver<()>, poll: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + poll;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        if events.recv_timeout(Duration::from_millis(250)).is_ok() {
            while events.try_recv().is_ok() {}
            return;
        }
    }
}

/// What a run tells the operator: lines on stderr, or, with JSON logs, one log event.
fn say(opts: &RunOptions, text: &str) {
    if opts.log_json {
        tracing::info!(report = text, "run");
    } else {
        eprintln!("{text}");
    }
}

impl fmt::Display for BatchOutcome {
    /// The log lines of a finished batch: where it went, and what a person must still look at.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == Status::Failed {
            return writeln!(
                f,
                "FAILED {}: {} -> {}",
                self.folder,
                self.error.as_deref().unwrap_or(""),
                self.input.display()
            );
        }
        writeln!(
            f,
            "{} {} as {} ({}, {})",
            self.status.name(),
            self.folder,
            self.published
                .as_deref()
                .map_or_else(String::new, |p| p.display().to_string()),
            count(self.documents, "document"),
            count(self.pages, "page"),
        )?;
        for empty in &self.empty_documents {
            writeln!(f, "  no PDF: {empty}")?;
        }
        for page in &self.review {
            writeln!(f, "  review: {page}")?;
        }
        for page in &self.spot_check {
            writeln!(f, "  spot check: {page} (compare with the paper)")?;
        }
        Ok(())
    }
}
