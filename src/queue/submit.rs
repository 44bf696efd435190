//! Submitting: `scanwerk submit DIR…` publishes a job per batch folder; `scanwerk run --queue`
//! hands the inbox's ready batches to the queue, each moved into `<inbox>/queued/` first so that
//! no other run takes it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Job, Queue, QueueError};

use crate::layout::QUEUED;

/// How one submission went.
#[derive(Debug, serde::Serialize)]
pub struct Submitted {
    pub batch_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// `queued`, `duplicate` (the queue had it already) or `refused`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Publishes a job for each batch folder; `done/` and `failed/` are made beside it.
pub fn submit(queue: &Queue, dirs: &[PathBuf], profile: Option<&str>) -> Vec<Submitted> {
    dirs.iter()
        .map(|dir| {
            let inbox = dir.parent().unwrap_or(Path::new("."));
            one(queue, super::job_for(dir, inbox, profile), dir)
        })
        .collect()
}

fn one(queue: &Queue, job: Result<Job, QueueError>, dir: &Path) -> Submitted {
    let submitted = job.and_then(|job| queue.submit(&job).map(|new| (job, new)));
    match submitted {
        Ok((job, new)) => {
            tracing::info!(batch = %job.batch_id, new, "submitted");
            Submitted {
                batch_dir: job.batch_dir,
                batch_id: Some(job.batch_id),
                status: if new { "queued" } else { "duplicate" },
                error: None,
            }
        }
        Err(e) => Submitted {
            batch_dir: dir.to_path_buf(),
            batch_id: None,
            status: "refused",
            error: Some(e.to_string()),
        },
    }
}

/// The inbox's ready batches, each moved into `queued/` and submitted (a batch whose sheet does
/// not parse stays where it is, with the reason in the result).
pub fn submit_ready(
    queue: &Queue,
    inbox: &Path,
    quiet: Duration,
    settle: Duration,
    profile: Option<&str>,
) -> std::io::Result<Vec<Submitted>> {
    let queued = inbox.join(QUEUED);
    std::fs::create_dir_all(&queued)?;
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(inbox)?
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && !crate::layout::INBOX_FOLDERS.contains(&n.as_str()))
        .collect();
    names.sort();
    for name in names {
        let dir = inbox.join(&name);
        if !crate::inbox::ready(&dir, quiet, settle) {
            continue;
        }
        if let Some(problem) = crate::batch::sheet_problem(&dir) {
            out.push(Submitted {
                batch_dir: dir,
                batch_id: None,
                status: "refused",
                error: Some(problem),
            });
            continue;
        }
        let target = queued.join(&name);
        if target.exists() {
            continue;
        }
        // The rename is the claim: of two submitters, one moves the folder, the other finds it gone.
        match std::fs::rename(&dir, &target) {
            Ok(()) => out.push(one(queue, super::job_for(&target, inbox, profile), &target)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
