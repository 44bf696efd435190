//! The documents' RFC 4998 evidence records (`documents/<id>.ers`): with the batch's time stamp in
//! place, every document must have one whose reduced hash tree leads from the PDF's hash to the
//! signed root and whose token is the batch's; without a time stamp there must be none. An
//! attached record is not in the manifest (written with `timestamp attach` after sealing): it
//! vouches for itself through the token, like `hashtree.tsr`.

use std::path::Path;

use super::VerifyReport;
use crate::layout;
use crate::protocol::DocumentRecord;
use crate::seal::tree::TreeHash;

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
