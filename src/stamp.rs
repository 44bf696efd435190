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
    if !report.ok() {
        return Err(AttachError::Unsound {
            batch: batch.into(),
            problems: report.problems.iter().map(|p| format!("- {p}")).collect(),
        });
    }
    if batch.join(REPLY_FILE).exists() {
        return Err(AttachError::AlreadyStamped(batch.into()));
    }
    std::fs::read(batch.join(QUERY_FILE)).map_err(|_| AttachError::NoQuery(batch.into()))
}

/// Checks `reply` against a published batch's query and hash-tree root and adds it to the batch
/// as `hashtree.tsr`. The batch must verify first (against `trust` if given).
pub fn attach_timestamp(
    batch: &Path,
    reply: &[u8],
    trust: Option<&seal::TrustedKey>,
) -> Result<seal::timestamp::TimeStamp, AttachError> {
    let query = pending_query(batch, trust)?;
    let path = batch.join(layout::TREE);
    let bytes = std::fs::read(&path).map_err(|source| AttachError::Read { path, source })?;
    // Verified above, so it parses and its root is hex.
    let tree: seal::tree::TreeFile = serde_json::from_slice(&bytes).expect("verified hash tree");
    let root = seal::tree::unhex(&tree.root).expect("verified hash tree");
    let stamp = seal::timestamp::check_reply(reply, tree.algorithm.algorithm(), &root, Some(&query), &[])?;
    archive::add_to_published(batch, layout::TIMESTAMP_REPLY, reply)?;
    Ok(stamp)
}
