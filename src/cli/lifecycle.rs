//! `scanwerk receipt`, `scanwerk release` and `scanwerk audit …`: after publication, the archive's
//! receipt, the destruction gate and release, and the audit log's check and history.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use scanwerk::Exit;
use scanwerk::audit::{self, Log};
use scanwerk::destruction::{self, BatchState};
use scanwerk::seal::{SigningKey, TrustedKey};

use super::commands::error;

#[derive(Debug, Subcommand)]
pub(super) enum AuditAction {
    /// Check the audit log: the hash chain, every checkpoint's signature, the link between
    /// rotated files, and that no line after the last checkpoint was cut off. Names the first
    /// broken line (exit 1).
    Verify {
        /// Log files, oldest first. Default: the archive's log and the files it was rotated into.
        logs: Vec<PathBuf>,
        /// Archive folder whose log (<archive>/.audit/audit.jsonl, or --audit-log) is checked.
        #[arg(long)]
        archive: Option<PathBuf>,
        /// Public key (PEM) every checkpoint must be signed with.
        #[arg(long)]
        trust: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The history of one batch: every event with time, who and what.
    Show {
        #[arg(long)]
        batch: String,
        /// Archive folder whose log is read.
        #[arg(long)]
        archive: Option<PathBuf>,
        /// Log files instead, oldest first.
        #[arg(long = "log")]
        logs: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// The log files named, or the archive's log with its rotated predecessors.
fn log_files(logs: Vec<PathBuf>, archive: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    if !logs.is_empty() {
        return Ok(logs);
    }
    let log = Log::for_archive(archive.unwrap_or(Path::new(".")));
    if archive.is_none() && !log.path().is_file() {
        return Err("name the log files, or the archive with --archive".into());
    }
    let mut files = audit::rotated_files(log.path());
    files.push(log.path().to_path_buf());
    Ok(files)
}

fn trusted(path: Option<PathBuf>) -> Result<Option<TrustedKey>, Exit> {
    path.map(|p| TrustedKey::load(&p)).transpose().map_err(|e| {
        error(&e);
        Exit::Usage
    })
}

pub(super) fn audit(action: AuditAction) -> Exit {
    match action {
        AuditAction::Verify {
            logs,
            archive,
            trust,
            json,
        } => {
            let files = match log_files(logs, archive.as_deref()) {
                Ok(files) => files,
                Err(e) => return usage(&e),
            };
            let trust = match trusted(trust) {
                Ok(t) => t,
                Err(exit) => return exit,
            };
            let report = audit::verify_logs(&files, trust.as_ref());
            if json {
                let mut value = serde_json::to_value(&report).expect("serialises");
                value["ok"] = report.ok().into();
                value["format"] = scanwerk::json::COMMAND_FORMAT.into();
                println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
            } else {
                print_audit(&report);
            }
            if report.ok() { Exit::Ok } else { Exit::Failed }
        }
        AuditAction::Show {
            batch,
            archive,
            logs,
            json,
        } => {
            let files = match log_files(logs, archive.as_deref()) {
                Ok(files) => files,
                Err(e) => return usage(&e),
            };
            let lines = match audit::history(&files, &batch) {
                Ok(lines) => lines,
                Err(e) => return usage(&format!("reading the audit log: {e}")),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&lines).expect("serialises"));
            } else if lines.is_empty() {
                println!("no event of batch {batch} in {}", files.last().unwrap().display());
            } else {
                println!("batch {batch}: {} event(s)", lines.len());
                for line in &lines {
                    println!("{}", line.summary());
                }
            }
            Exit::Ok
        }
    }
}

fn usage(message: &str) -> Exit {
    error(message);
    Exit::Usage
}

fn print_audit(report: &audit::AuditReport) {
    let files: Vec<String> = report.files.iter().map(|f| f.display().to_string()).collect();
    for torn in &report.torn {
        println!("NOTE {torn}");
    }
    match &report.problem {
        Some(problem) => eprintln!("FAIL {problem}"),
        None => {
            println!("OK {}", files.join(", "));
            println!("  events       {} in an unbroken hash chain", report.events);
            println!(
                "  checkpoints  {} signed ({} time-stamped), by key {}",
                report.checkpoints,
                report.timestamped_checkpoints,
                if report.signers.is_empty() {
                    "-".into()
                } else {
                    report.signers.join(", ")
                }
            );
            println!(
                "  unsigned     {} event(s) after the last checkpoint (held by the chain and the head file)",
                report.after_last_checkpoint
            );
        }
    }
}

pub(super) fn receipt(
    batch: &Path,
    from: &str,
    reference: Option<&str>,
    key: &Path,
    trust: Option<PathBuf>,
) -> Exit {
    let key = match SigningKey::load(key) {
        Ok(key) => key,
        Err(e) => return usage(&e.to_string()),
    };
    let trust = match trusted(trust) {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    match destruction::record_receipt(batch, from, reference, &key, trust.as_ref()) {
        Ok(r) => {
            println!(
                "receipt recorded for {}: from {}{}, manifest {} -> {}",
                r.batch_id,
                r.received_by,
                r.reference
                    .as_deref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default(),
                r.manifest_sha256,
                scanwerk::handoff::receipt::receipt_path(batch).display()
            );
            Exit::Ok
        }
        Err(e) => {
            error(&e);
            e.exit()
        }
    }
}

pub(super) fn release(
    archive: &Path,
    issue: Vec<String>,
    by: Option<String>,
    key: Option<PathBuf>,
    trust: Option<PathBuf>,
    json: bool,
) -> Exit {
    let trust = match trusted(trust) {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    if issue.is_empty() {
        let states: Vec<BatchState> = destruction::batches(archive)
            .iter()
            .map(|b| destruction::state(b, trust.as_ref(), &[]))
            .collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&states).expect("serialises"));
        } else {
            print_states(&states);
        }
        return Exit::Ok;
    }
    let (Some(by), Some(key)) = (by, key) else {
        return usage(
            "release --issue needs --by NAME (who releases the paper) and --key (the seal key that signs the release)",
        );
    };
    let key = match SigningKey::load(&key) {
        Ok(key) => key,
        Err(e) => return usage(&e.to_string()),
    };
    match destruction::issue(archive, &issue, &by, &key, trust.as_ref(), &[]) {
        Ok((path, release)) => {
            println!(
                "release {} by {}: the paper of {} batch(es) may be destroyed -> {}",
                release.release_id,
                release.by,
                release.batches.len(),
                path.display()
            );
            for batch in &release.batches {
                let sheet: Vec<String> = batch.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "  {}: {} document(s) {}",
                    batch.batch_id,
                    batch.documents.len(),
                    sheet.join(", ")
                );
                for doc in &batch.documents {
                    let physical: Vec<String> =
                        doc.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!("    {} ({} pages) {}", doc.id, doc.pages, physical.join(", "));
                }
                for doc in &batch.not_released {
                    println!("    NOT RELEASED: {} (set aside; rescan it)", doc.id);
                }
            }
            Exit::Ok
        }
        Err(e) => {
            error(&e);
            e.exit()
        }
    }
}

fn print_states(states: &[BatchState]) {
    if states.is_empty() {
        println!("no published batch");
    }
    for state in states {
        let marks: Vec<String> = state
            .conditions
            .iter()
            .map(|c| format!("{} {}", c.name, if c.ok { "✓" } else { "✗" }))
            .collect();
        let verdict = if !state.released.is_empty() {
            format!("RELEASED ({})", state.released.join(", "))
        } else if state.may_destroy {
            "MAY BE DESTROYED".into()
        } else {
            "KEEP THE PAPER".into()
        };
        println!("{}  {}  {verdict}", state.batch_id, marks.join("  "));
        for missing in state.missing() {
            println!("    {missing}");
        }
    }
}
