//! Claims: one process, on one host, holds a batch. A claim file naming host, process and boot is
//! written in full beside `processing/<batch>.claim` and hard-linked into place, which fails if
//! one exists (atomic also over NFS), so a claim is never seen half-written. A heartbeat thread
//! refreshes it while the batch runs; a claim whose process is gone (same host: no such pid, or
//! another boot) or that was not refreshed for the stale time (any host) is taken over by renaming
//! it away first, so that of several processes one wins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::archive;

/// The claim file's content.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    host: String,
    pid: u32,
    boot_id: String,
    since: String,
}

fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A claim on one batch, refreshed by a heartbeat thread and removed when dropped.
pub(super) struct Held {
    path: PathBuf,
    stop: Option<crossbeam_channel::Sender<()>>,
    beat: Option<std::thread::JoinHandle<()>>,
}

impl Held {
    fn beat(path: PathBuf, every: Duration) -> Held {
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let target = path.clone();
        let beat = std::thread::spawn(move || {
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                if let Ok(file) = std::fs::File::options().write(true).open(&target) {
                    let _ = file.set_modified(SystemTime::now());
                }
            }
        });
        Held {
            path,
            stop: Some(tx),
            beat: Some(beat),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(beat) = self.beat.take() {
            let _ = beat.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Tries to claim `name`; `None` if another live process holds it. The claim is written in full
/// beside and then hard-linked into place, which fails if it exists (atomic on NFS too), so a
/// claim file is never seen half-written.
pub(super) fn claim(processing: &Path, name: &str, stale: Duration) -> std::io::Result<Option<Held>> {
    let path = processing.join(format!("{name}.claim"));
    let temp = processing.join(format!(".{name}.claim.{}.{}", host(), std::process::id()));
    let claim = Claim {
        host: host(),
        pid: std::process::id(),
        boot_id: boot_id(),
        since: crate::json::now_rfc3339(),
    };
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(&serde_json::to_vec(&claim).expect("serialises"))?;
    file.sync_all()?;
    drop(file);
    let mut held = None;
    for _ in 0..2 {
        match std::fs::hard_link(&temp, &path) {
            Ok(()) => {
                let every = (stale / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
                held = Some(Held::beat(path.clone(), every));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !is_stale(&path, stale) {
                    break;
                }
                // Take the stale claim away; of several processes doing so at once, one wins.
                let away = processing.join(format!(".{name}.claim.stale-{}-{}", host(), std::process::id()));
                if std::fs::rename(&path, &away).is_ok() {
                    if is_stale(&away, stale) {
                        tracing::warn!(batch = name, "took over an abandoned claim");
                        let _ = std::fs::remove_file(&away);
                    } else {
                        // Another process claimed it anew in between: give its claim back.
                        let _ = std::fs::hard_link(&away, &path);
                        let _ = std::fs::remove_file(&away);
                        break;
                    }
                }
            }
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
        }
    }
    let _ = std::fs::remove_file(&temp);
    Ok(held)
}

/// Removes what dead processes left beside the batches: half-made claim files
/// (`.<batch>.claim.<host>.<pid>`) of this host, and abandoned claims whose batch is no longer
/// waiting or in processing (a process killed after moving its batch to `done/` or `failed/` but
/// before it let go of the claim).
pub(super) fn remove_abandoned_claim_files(processing: &Path, inbox: &Path, stale: Duration) {
    let Ok(entries) = std::fs::read_dir(processing) else {
        return;
    };
    let mine = format!(".claim.{}.", host());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(batch) = name.strip_suffix(".claim")
            && !batch.starts_with('.')
            && !processing.join(batch).exists()
            && !inbox.join(batch).exists()
            && is_stale(&entry.path(), stale)
        {
            tracing::warn!(batch, "removed an abandoned claim of a finished batch");
            let _ = std::fs::remove_file(entry.path());
        } else if let Some(at) = name.rfind(&mine)
            && name[at + mine.len()..]
                .parse()
                .is_ok_and(|pid| !archive::process_alive(pid))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn is_stale(path: &Path, stale: Duration) -> bool {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    let claim: Option<Claim> = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match claim {
        Some(c) if c.host == host() => {
            c.boot_id != boot_id() || !archive::process_alive(c.pid) || age.is_some_and(|a| a > stale)
        }
        // Unreadable (being written, or written by a crash mid-way) or another host's: by age.
        _ => age.is_some_and(|a| a > stale),
    }
}
