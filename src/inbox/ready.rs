//! When an inbox folder is ready: a batch is claimed only once it was handed over complete, as far
//! as the folder can tell (README "Hand a batch over complete").

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Whether an inbox folder is ready to be processed: nothing in it changed for the settle time
/// if it has a marker (`READY` or `batch.toml`) and its batch sheet parses, else for the quiet
/// time. A sheet written before the scans therefore never starts a half-delivered batch (a folder
/// with nothing but its sheet waits until its first scan, or until `READY` says it is complete),
/// and a half-written sheet waits instead of being quarantined.
pub fn ready(dir: &Path, quiet: Duration, settle: Duration) -> bool {
    let Some(age) = newest_change(dir).and_then(|t| SystemTime::now().duration_since(t).ok()) else {
        return false;
    };
    let ready_file = dir.join(crate::layout::READY).exists();
    if !ready_file && !crate::batch::holds_documents(dir) {
        // Only a sheet so far: the scans are still to come.
        return false;
    }
    let marked = ready_file || dir.join(crate::layout::SHEET).exists();
    if marked && age >= settle && crate::batch::sheet_problem(dir).is_none() {
        return true;
    }
    age >= quiet
}

/// Newest modification time of a folder, its entries and their entries.
fn newest_change(dir: &Path) -> Option<SystemTime> {
    let mut newest = std::fs::symlink_metadata(dir).and_then(|m| m.modified()).ok()?;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        newest = newest.max(meta.modified().unwrap_or(newest));
        if meta.is_dir() {
            newest = newest.max(newest_change(&entry.path()).unwrap_or(newest));
        }
    }
    Some(newest)
}
