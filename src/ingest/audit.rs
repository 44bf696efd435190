//! The ingest driver's events in the audit log: started (with a changed profile or key logged
//! before it), documents set aside, left for review or sealed and published, or failed with the
//! reason; a signed checkpoint at the end of every batch.

use crate::audit::{Event, InUse, Log};
use crate::config::Config;

use super::{IngestError, IngestReport};

/// Logs a batch refused before it started (profile, key, sheet or archive problems), where the
/// archive exists to hold the log; the batch id is the sheet's or the folder's, as far as known.
pub fn refused(opts: &crate::config::IngestOptions, error: &crate::config::ConfigError) {
    if !opts.archive.is_dir() {
        return;
    }
    let folder = opts
        .batch_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Log::for_archive(&opts.archive).note(
        Event::new("ingest-refused", Some(&folder)).with(serde_json::json!({
            "input": opts.batch_dir.display().to_string(), "problems": error.problems,
        })),
        None,
    );
}

/// Logs the start of `config`'s batch.
pub(super) fn started(config: &Config) -> Result<(), IngestError> {
    let profile = &config.profile;
    let fingerprint = config.key.public().fingerprint();
    let in_use = InUse {
        profile_id: &profile.id,
        profile_sha256: &profile.sha256,
        key_fingerprint: &fingerprint,
    };
    let event = Event::new("ingest-started", Some(&config.batch.id))
        .by(&config.operator.0)
        .with(serde_json::json!({
            "input": config.batch.dir.display().to_string(),
            "profile": profile.id, "profile_version": profile.version,
            "profile_sha256": profile.sha256, "key_fingerprint": fingerprint,
            "documents": config.batch.documents.len(),
        }));
    Log::for_archive(&config.archive)
        .append(&[event], Some(&in_use), Some(&config.key), false)
        .map_err(IngestError::Audit)
}

/// Logs how the batch ended and signs the chain head.
pub(super) fn finished(
    config: &Config,
    result: &Result<IngestReport, IngestError>,
) -> Result<(), IngestError> {
    let id = Some(config.batch.id.as_str());
    let operator = &config.operator.0;
    let mut events = Vec::new();
    match result {
        Ok(report) => {
            for doc in &report.set_aside {
                events.push(
                    Event::new("document-set-aside", id)
                        .by(operator)
                        .with(serde_json::json!({"document": doc.id, "reasons": doc.reasons})),
                );
            }
            let counts = serde_json::json!({
                "folder": report.published.display().to_string(),
                "documents": report.documents, "pages": report.pages,
                "pages_for_review": report.review.len(), "complete": report.complete,
            });
            match report.in_review {
                Some(pages) => events.push(
                    Event::new("left-for-review", id)
                        .by(operator)
                        .with(serde_json::json!({"pages_to_check": pages, "batch": counts})),
                ),
                None => events.extend(published(config.batch.id.as_str(), operator, report, counts)),
            }
        }
        Err(error) => events.push(
            Event::new("ingest-failed", id)
                .by(operator)
                .with(serde_json::json!({"reason": error.to_string(), "exit": error.exit().code()})),
        ),
    }
    log_of(config)
        .append(&events, None, Some(&config.key), true)
        .map_err(IngestError::Audit)
}

/// The archive's log, its checkpoints time-stamped where the profile names a service.
pub fn log_of(config: &Config) -> Log {
    let url = match &config.profile.timestamp {
        crate::profile::TimestampPolicy::Online { url } => Some(url.as_str()),
        _ => None,
    };
    Log::for_archive(&config.archive).stamped_by(url)
}

/// `sealed` and `published` of a batch, for ingest and for sealing after review.
pub fn published(
    batch: &str,
    operator: &str,
    report: &IngestReport,
    counts: serde_json::Value,
) -> [Event; 2] {
    [
        Event::new("sealed", Some(batch))
            .by(operator)
            .with(serde_json::json!({"key_fingerprint": report.key_fingerprint})),
        Event::new("published", Some(batch)).by(operator).with(counts),
    ]
}
