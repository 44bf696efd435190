//! Time stamps for batches sealed with `seal.timestamp = "offline"`: the reply a time-stamp
//! service gave for the batch's query is checked against the published batch (which must verify
//! first) and added to it as `hashtree.tsr`, atomically and never replacing one.

use std::path::{Path, PathBuf};

use crate::archive::{self, ArchiveError};
use crate::{layout, seal, verify};

/// Why a time-stamp reply was not attached.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("{batch} does not verify, so no time stamp is attached to it:\n{}", problems.join("\n"))]
    Unsound { batch: PathBuf, problems: Vec<String> },
    #[error("{0} already has a time stamp ({file}); remove nothing from a published batch", file = layout::TIMESTAMP_REPLY)]
    AlreadyStamped(PathBuf),
    #[error(
        "{0} holds no time-stamp query ({file}): it was not sealed with seal.timestamp = \"offline\"",
        file = layout::TIMESTAMP_QUERY
    )]
    NoQuery(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Timestamp(#[from] seal::timestamp::TimestampError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// The query of a published batch sealed offline, after checking the batch verifies.
pub fn pending_query(batch: &Path, trust: Option<&seal::TrustedKey>) -> Result<Vec<u8>, AttachError> {
    use layout::{TIMESTAMP_QUERY as QUERY_FILE, TIMESTAMP_REPLY as REPLY_FILE};
    let report = verify::verify(batch, trust, &[]);
    let files = crate::handoff::bag::payload(batch);
    // Evidence records left by an attach that was cut short are written again below.
    let problems: Vec<String> = report
        .problems
        .iter()
        .filter(|p| {
            let rel = p.file.strip_prefix("data/").unwrap_or(&p.file);
            !layout::is_document_ers(rel) || files.join(REPLY_FILE).exists()
        })
        .map(|p| format!("- {p}"))
        .collect();
    if !problems.is_empty() {
        return Err(AttachError::Unsound {
            batch: batch.into(),
            problems,
        });
    }
    if files.join(REPLY_FILE).exists() {
        return Err(AttachError::AlreadyStamped(batch.into()));
    }
    std::fs::read(files.join(QUERY_FILE)).map_err(|_| AttachError::NoQuery(batch.into()))
}

/// Checks `reply` against a published batch's query and hash-tree root and adds it to the batch
/// as `hashtree.tsr`. The batch must verify first (against `trust` if given).
pub fn attach_timestamp(
    batch: &Path,
    reply: &[u8],
    trust: Option<&seal::TrustedKey>,
) -> Result<seal::timestamp::TimeStamp, AttachError> {
    let query = pending_query(batch, trust)?;
    let files = crate::handoff::bag::payload(batch);
    let path = files.join(layout::TREE);
    let bytes = std::fs::read(&path).map_err(|source| AttachError::Read { path, source })?;
    // Verified above, so it parses and its root is hex.
    let tree: seal::tree::TreeFile = serde_json::from_slice(&bytes).expect("verified hash tree");
    let root = seal::tree::unhex(&tree.root).expect("verified hash tree");
    let stamp = seal::timestamp::check_reply(reply, tree.algorithm.algorithm(), &root, Some(&query), &[])?;
    add_evidence_records(&files, reply)?;
    archive::add_to_published(&files, layout::TIMESTAMP_REPLY, reply)?;
    if crate::handoff::bag::is_bag(batch) {
        // The payload grew: the bag's manifests say so.
        crate::handoff::bag::refresh(batch).map_err(|source| AttachError::Read {
            path: batch.join(crate::handoff::bag::BAG_INFO),
            source,
        })?;
    }
    let id = archive::batch_id_of(batch);
    crate::audit::Log::for_archive(&archive::archive_of(batch)).note(
        crate::audit::Event::new("timestamp-attached", Some(&id)).with(serde_json::json!({
            "time": stamp.time, "tsa": stamp.tsa, "serial": stamp.serial,
        })),
        None,
    );
    Ok(stamp)
}

/// Each document's RFC 4998 evidence record from its (verified) proof and the reply's token,
/// beside its PDF; one already there from an attach that was cut short is kept if the same.
fn add_evidence_records(batch: &Path, reply: &[u8]) -> Result<(), AttachError> {
    let token = seal::timestamp::token_of(reply)?;
    let documents = batch.join(layout::DOCUMENTS);
    let entries = std::fs::read_dir(&documents).map_err(|source| AttachError::Read {
        path: documents.clone(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".json") else {
            continue;
        };
        let path = entry.path();
        let bytes = std::fs::read(&path).map_err(|source| AttachError::Read { path, source })?;
        // Verified above: every record parses and carries its proof.
        let record: crate::protocol::DocumentRecord =
            serde_json::from_slice(&bytes).expect("verified record");
        let proof = record.proof.expect("verified record");
        let ers =
            seal::ers::evidence_record(&proof, &token).map_err(seal::timestamp::TimestampError::from)?;
        let file = format!("{id}.ers");
        if std::fs::read(documents.join(&file)).is_ok_and(|have| have == ers) {
            continue;
        }
        archive::add_to_published(&documents, &file, &ers)?;
    }
    Ok(())
}
