//! The batch root's RFC 3161 time stamp, and the documents' RFC 4998 evidence records (`documents/<id>.ers`): with the batch's time stamp in
//! place, every document must have one whose reduced hash tree leads from the PDF's hash to the
//! signed root and whose token is the batch's; without a time stamp there must be none. An
//! attached record is not in the manifest (written with `timestamp attach` after sealing): it
//! vouches for itself through the token, like `hashtree.tsr`.

use std::path::Path;

use super::VerifyReport;
use crate::layout;
use crate::layout::{TIMESTAMP_QUERY, TIMESTAMP_REPLY};
use crate::protocol::DocumentRecord;
use crate::seal::tree::TreeHash;

/// Checks the batch root's time stamp, if there is one: the reply must be granted, signed by a
/// time-stamping certificate (chained to `tsa_roots` if given) and stamp this root with the
/// query's nonce. A query without a reply is a time stamp still pending.
pub(super) fn check_timestamp(
    dir: &Path,
    tree: Option<(crate::seal::tree::TreeHash, &[u8])>,
    tsa_roots: &[x509_cert::Certificate],
    report: &mut VerifyReport,
) {
    use crate::seal::timestamp::check_reply;
    let query = std::fs::read(dir.join(TIMESTAMP_QUERY)).ok();
    let reply = match std::fs::read(dir.join(TIMESTAMP_REPLY)) {
        Ok(reply) => reply,
        Err(_) => {
            report.timestamp_pending = query.is_some();
            return;
        }
    };
    // Without a sound tree there is no root to check the stamp against; that is reported already.
    let Some((algorithm, root)) = tree else { return };
    match check_reply(&reply, algorithm.algorithm(), root, query.as_deref(), tsa_roots) {
        Ok(stamp) => report.timestamp = Some(stamp),
        Err(e) => report.problem(TIMESTAMP_REPLY, e.to_string()),
    }
}

/// Checks each document's evidence record against its PDF, the root and the batch's token.
pub(super) fn check(dir: &Path, tree: Option<(TreeHash, &[u8])>, report: &mut VerifyReport) {
    let token = std::fs::read(dir.join(layout::TIMESTAMP_REPLY))
        .ok()
        .and_then(|reply| crate::seal::timestamp::token_of(&reply).ok());
    let records = std::fs::read_dir(dir.join(layout::DOCUMENTS))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned());
    for name in records {
        if let Some(id) = name.strip_suffix(".json") {
            check_one(dir, id, tree, token.as_deref(), report);
        } else if let Some(id) = name.strip_suffix(".ers")
            && !dir.join(layout::document_record(id)).exists()
        {
            report.problem(
                &layout::document_ers(id),
                "an evidence record for no document of the batch",
            );
        }
    }
}

fn check_one(
    dir: &Path,
    id: &str,
    tree: Option<(TreeHash, &[u8])>,
    token: Option<&[u8]>,
    report: &mut VerifyReport,
) {
    let rel = layout::document_ers(id);
    let ers = std::fs::read(dir.join(&rel)).ok();
    let (ers, token, (algorithm, root)) = match (ers, token, tree) {
        (None, None, _) => return,
        (Some(_), None, _) => {
            return report.problem(
                &rel,
                "an evidence record, but the batch has no time stamp (hashtree.tsr); attach the reply \
                 with `scanwerk timestamp attach`",
            );
        }
        (None, Some(_), _) => {
            return report.problem(
                &rel,
                "missing: a time-stamped batch has an evidence record for every document",
            );
        }
        // Without a sound tree there is nothing to check against; that is reported already.
        (Some(_), Some(_), None) => return,
        (Some(ers), Some(token), Some(tree)) => (ers, token, tree),
    };
    let (proof, stamped) = match crate::seal::ers::read(&ers, algorithm) {
        Ok(read) => read,
        Err(e) => return report.problem(&rel, e),
    };
    if stamped != token {
        report.problem(&rel, "its time-stamp token is not the batch's (hashtree.tsr)");
    }
    let Ok(Ok(record)) = std::fs::read(dir.join(layout::document_record(id)))
        .map(|b| serde_json::from_slice::<DocumentRecord>(&b))
    else {
        return; // reported by the document check
    };
    let Ok(leaf) = algorithm.digest_file(&dir.join(&record.pdf)) else {
        return;
    };
    if proof.root_from(&leaf).as_deref() != Some(root) {
        report.problem(
            &rel,
            format!(
                "its reduced hash tree does not lead from {} to the time-stamped root",
                record.pdf
            ),
        );
    } else {
        report.evidence_records += 1;
    }
}
