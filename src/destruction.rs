//! The destruction gate (TR-RESISCAN REQUIREMENTS items 16 and 18): the archive's receipt for a
//! batch, the state of every batch against the conditions for destroying its paper, and the
//! signed destruction release for batches that meet all of them. Every step is an event in the
//! audit log.
//!
//! Conditions, checked now (never taken from an earlier run): **sealed** (manifest and signature
//! published), **verify** (`scanwerk verify` passes), **review** (the review its mode and level
//! require is complete), **time stamp** (a granted RFC 3161 token where the level is "sehr-hoch";
//! a pending query is not enough), **receipt** (the archive confirmed this very manifest).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{archive_of, batch_id_of as id_of};
use crate::audit::{Event, Log};
use crate::handoff::{bag, receipt, release};
use crate::protocol::Protocol;
use crate::seal::{SigningKey, TrustedKey};

/// One condition and what showed it met or not.
#[derive(Debug, Clone, Serialize)]
pub struct Condition {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// A batch against the conditions.
#[derive(Debug, Clone, Serialize)]
pub struct BatchState {
    pub batch_id: String,
    pub folder: PathBuf,
    pub conditions: Vec<Condition>,
    pub may_destroy: bool,
    /// Releases issued for it already.
    pub released: Vec<String>,
}

impl BatchState {
    /// The conditions not met, as "no receipt (…)"-style phrases.
    pub fn missing(&self) -> Vec<String> {
        self.conditions
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Receipt(#[from] receipt::ReceiptError),
    #[error("writing the release into {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

impl GateError {
    pub fn exit(&self) -> crate::Exit {
        match self {
            GateError::Refused(_) | GateError::Receipt(receipt::ReceiptError::Refused(_)) => {
                crate::Exit::Failed
            }
            _ => crate::Exit::Archive,
        }
    }
}

/// The published batches in `archive` (folders with a manifest; dot folders are not batches).
pub fn batches(archive: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(archive)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .starts_with('.')
                && bag::payload(p).join(crate::layout::MANIFEST).is_file()
        })
        .collect();
    found.sort();
    found
}

fn protocol_of(batch: &Path) -> Option<Protocol> {
    let bytes = std::fs::read(bag::payload(batch).join(crate::layout::PROTOCOL)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Records the archive's receipt for `batch`: the batch must verify (against `trust` if given);
/// the receipt is signed with `key` and logged.
pub fn record_receipt(
    batch: &Path,
    from: &str,
    reference: Option<&str>,
    key: &SigningKey,
    trust: Option<&TrustedKey>,
) -> Result<receipt::Receipt, GateError> {
    let log = Log::for_archive(&archive_of(batch));
    let id = id_of(batch);
    let report = crate::verify::verify(batch, trust, &[]);
    let result = if report.ok() {
        receipt::write(batch, from, reference, key).map_err(GateError::from)
    } else {
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        Err(GateError::Refused(format!(
            "{} does not verify, so no receipt is recorded for it:\n{}",
            batch.display(),
            problems.join("\n")
        )))
    };
    let event = match &result {
        Ok(r) => Event::new("receipt-recorded", Some(&id))
            .by(from)
            .with(serde_json::json!({
                "reference": r.reference, "manifest_sha256": r.manifest_sha256,
                "receipt": receipt::receipt_path(batch).display().to_string(),
            })),
        Err(e) => Event::new("receipt-refused", Some(&id))
            .by(from)
            .with(serde_json::json!({"reason": e.to_string()})),
    };
    log.append(&[event], None, Some(key), false)?;
    result
}

/// The state of `batch` against every condition, checked now.
pub fn state(batch: &Path, trust: Option<&TrustedKey>, tsa_roots: &[x509_cert::Certificate]) -> BatchState {
    assess(batch, trust, tsa_roots).0
}

/// [`state`], with the protocol and the receipt it read (for the release, which quotes them).
fn assess(
    batch: &Path,
    trust: Option<&TrustedKey>,
    tsa_roots: &[x509_cert::Certificate],
) -> (BatchState, Option<Protocol>, Option<receipt::Receipt>) {
    let protocol = protocol_of(batch);
    let report = crate::verify::verify(batch, trust, tsa_roots);
    let level = protocol.as_ref().map_or_else(
        || "unknown".into(),
        |p| p.transfer_note.sealing.protection.clone(),
    );
    let condition = |name, ok, detail: String| Condition { name, ok, detail };
    let sealed = bag::payload(batch)
        .join(crate::layout::MANIFEST_SIGNATURE)
        .is_file()
        && protocol.is_some();
    let mut conditions = vec![
        condition(
            "sealed",
            sealed,
            protocol.as_ref().map_or_else(
                || "no readable protocol.json and manifest.sig".into(),
                |p| format!("at {}", p.transfer_note.times.sealed),
            ),
        ),
        condition(
            "verify",
            report.ok(),
            report.problems.first().map_or_else(
                || {
                    format!(
                        "{} files, {} documents",
                        report.files_checked, report.documents_checked
                    )
                },
                |p| format!("{p} ({} problem(s))", report.problems.len()),
            ),
        ),
    ];
    let (review_problems, review_summary) = protocol
        .as_ref()
        .map_or((vec!["no protocol".into()], None), crate::verify::review::check);
    conditions.push(condition(
        "review",
        review_problems.is_empty(),
        review_problems
            .first()
            .cloned()
            .unwrap_or_else(|| review_summary.unwrap_or_else(|| format!("none required at level {level:?}"))),
    ));
    conditions.push(timestamp_condition(&report, &level));
    let receipt = receipt::check(batch, trust);
    conditions.push(receipt_condition(&receipt));
    let may_destroy = conditions.iter().all(|c| c.ok);
    let state = BatchState {
        batch_id: id_of(batch),
        folder: batch.to_path_buf(),
        may_destroy,
        released: release::releases_of(&archive_of(batch), &id_of(batch)),
        conditions,
    };
    (state, protocol, receipt.ok())
}

/// A granted time stamp where the level is "sehr-hoch" (a pending query is not enough).
fn timestamp_condition(report: &crate::verify::VerifyReport, level: &str) -> Condition {
    let (ok, detail) = match (&report.timestamp, level) {
        (Some(ts), _) => (true, format!("{} by {}", ts.time, ts.tsa)),
        (None, "sehr-hoch") if report.timestamp_pending => (
            false,
            "level \"sehr-hoch\" requires a time stamp; the query waits (`scanwerk timestamp fetch` or `attach`)".into(),
        ),
        (None, "sehr-hoch") => (false, "level \"sehr-hoch\" requires a time stamp; there is none".into()),
        (None, _) => (true, format!("none required at level {level:?}")),
    };
    Condition {
        name: "time stamp",
        ok,
        detail,
    }
}

/// The archive's receipt, as [`receipt::check`] found it.
fn receipt_condition(receipt: &Result<receipt::Receipt, String>) -> Condition {
    let (ok, detail) = match receipt {
        Ok(r) => (
            true,
            format!(
                "from {} at {}{}",
                r.received_by,
                r.time,
                r.reference
                    .as_ref()
                    .map(|x| format!(", reference {x}"))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => (false, e.clone()),
    };
    Condition {
        name: "receipt",
        ok,
        detail,
    }
}

/// Issues a signed release for `ids` in `archive`, by `by`: every batch must meet every
/// condition, else nothing is written and the missing conditions are named per batch.
pub fn issue(
    archive: &Path,
    ids: &[String],
    by: &str,
    key: &SigningKey,
    trust: Option<&TrustedKey>,
    tsa_roots: &[x509_cert::Certificate],
) -> Result<(PathBuf, release::Release), GateError> {
    if by.trim().is_empty() {
        return Err(GateError::Refused("say who releases the paper: --by NAME".into()));
    }
    let log = Log::for_archive(archive);
    let mut released = Vec::new();
    let mut refused = Vec::new();
    for id in ids {
        let folder = archive.join(id);
        if !bag::payload(&folder).join(crate::layout::MANIFEST).is_file() {
            refused.push(format!("{id}: not a published batch in {}", archive.display()));
            continue;
        }
        let (state, protocol, receipt) = assess(&folder, trust, tsa_roots);
        if !state.released.is_empty() {
            refused.push(format!("{id}: released already ({})", state.released.join(", ")));
        } else if let (true, Some(protocol), Some(receipt)) = (state.may_destroy, protocol, receipt) {
            released.push(released_batch(&state, protocol, receipt));
        } else {
            refused.push(format!("{id}: {}", state.missing().join("; ")));
        }
    }
    if !refused.is_empty() {
        let events: Vec<Event> = ids
            .iter()
            .map(|id| {
                Event::new("release-refused", Some(id))
                    .by(by)
                    .with(serde_json::json!({"reasons": refused}))
            })
            .collect();
        log.append(&events, None, Some(key), false)?;
        return Err(GateError::Refused(format!(
            "no release was written; these batches do not meet every condition:\n{}",
            refused
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    let (path, release) = release::write(archive, by, released, key).map_err(|source| GateError::Write {
        path: archive.join(release::RELEASES),
        source,
    })?;
    let events: Vec<Event> = release
        .batches
        .iter()
        .map(|b| {
            Event::new("release-issued", Some(&b.batch_id))
                .by(by)
                .with(serde_json::json!({
                    "release": release.release_id, "file": path.display().to_string(),
                    "documents": b.documents.len(),
                }))
        })
        .collect();
    log.append(&events, None, Some(key), true)?;
    Ok((path, release))
}

/// What the release says of one batch.
fn released_batch(
    state: &BatchState,
    protocol: Protocol,
    receipt: receipt::Receipt,
) -> release::ReleasedBatch {
    release::ReleasedBatch {
        batch_id: state.batch_id.clone(),
        manifest_sha256: receipt.manifest_sha256,
        protection: protocol.transfer_note.sealing.protection.clone(),
        sealed: protocol.transfer_note.times.sealed.clone(),
        conditions: state
            .conditions
            .iter()
            .map(|c| (c.name.to_string(), c.detail.clone()))
            .collect(),
        received_by: receipt.received_by,
        receipt_reference: receipt.reference,
        metadata: protocol.metadata.clone(),
        documents: protocol
            .documents
            .iter()
            .map(|d| release::ReleasedDocument {
                id: d.id.clone(),
                pages: d.scanned_pages,
                metadata: d.metadata.clone(),
                sources: d.sources.iter().map(|s| s.path.clone()).collect(),
            })
            .collect(),
        not_released: protocol
            .set_aside
            .iter()
            .map(|d| release::ReleasedDocument {
                id: d.id.clone(),
                pages: 0,
                metadata: [("reason".to_string(), d.reasons.join("; "))].into(),
                sources: d.files.iter().map(|f| f.path.clone()).collect(),
            })
            .collect(),
    }
}
