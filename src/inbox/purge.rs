//! `run --purge-received`: the input of a batch stays in `done/` until the archive has confirmed
//! receiving it (TR-RESISCAN A.T.4); then, and only then, it is removed, and the audit log says so.

use std::path::Path;

use super::{DONE, RunOptions};

/// Removes every folder in `done/` whose batch has a receipt that checks against the published
/// manifest; returns the folders removed.
pub(super) fn purge_received(opts: &RunOptions) -> Vec<String> {
    let done = opts.inbox.join(DONE);
    let mut purged = Vec::new();
    for name in super::folders(&done).unwrap_or_default() {
        let input = done.join(&name);
        let Ok(batch) = crate::batch::Batch::open(&input) else {
            continue;
        };
        let published = opts.ingest.archive.join(&batch.id);
        let Ok(receipt) = crate::handoff::receipt::check(&published, None) else {
            continue;
        };
        if let Err(e) = remove(&input) {
            tracing::error!(batch = %name, error = %e, "received, but the input could not be removed from done/");
            continue;
        }
        tracing::info!(batch = %name, id = %batch.id, from = %receipt.received_by, "input removed: the archive has the batch");
        let log = crate::audit::Log::for_archive(&opts.ingest.archive);
        log.note(
            crate::audit::Event::new("input-purged", Some(&batch.id)).with(serde_json::json!({
                "input": input.display().to_string(), "received_by": receipt.received_by,
                "receipt_time": receipt.time,
            })),
            None,
        );
        purged.push(name);
    }
    purged
}

fn remove(dir: &Path) -> std::io::Result<()> {
    std::fs::remove_dir_all(dir)?;
    crate::archive::sync_dir(dir.parent().unwrap_or(Path::new(".")))
}
