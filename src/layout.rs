//! Every name of the output contract and of the inbox, in one place: what archive systems, the
//! verifier and unattended runs rely on (README "Output contract", "Unattended operation").
//! A leaf: it names files, it reads and writes none.

/// The batch protocol with the transfer note.
pub const PROTOCOL: &str = "protocol.json";
/// Every other file with its hashes, and the signature over its bytes.
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SIGNATURE: &str = "manifest.sig";
/// The hash tree over the PDFs and the protocol, and the signature over its bytes.
pub const TREE: &str = "hashtree.json";
pub const TREE_SIGNATURE: &str = "hashtree.sig";
/// The RFC 3161 time-stamp query for the tree's root, and the service's reply.
pub const TIMESTAMP_QUERY: &str = "hashtree.tsq";
pub const TIMESTAMP_REPLY: &str = "hashtree.tsr";
/// The QA report for people.
pub const REPORT: &str = "report.html";
/// Working folder of the report's thumbnails in the staging folder; removed before sealing.
pub const THUMBNAILS: &str = ".thumbnails";
/// Folder of the kept separator-sheet images.
pub const SEPARATORS: &str = "separators";
/// Folder of the documents' PDFs and records.
pub const DOCUMENTS: &str = "documents";

/// `documents/<id>.pdf`.
pub fn document_pdf(id: &str) -> String {
    format!("{DOCUMENTS}/{id}.pdf")
}

/// `documents/<id>.json`, the document's record.
pub fn document_record(id: &str) -> String {
    format!("{DOCUMENTS}/{id}.json")
}

/// `documents/<id>.ers`, the document's RFC 4998 evidence record (time-stamped batches only).
pub fn document_ers(id: &str) -> String {
    format!("{DOCUMENTS}/{id}.ers")
}

/// `documents/<id>.alto.xml` and `documents/<id>.hocr`: the document's full text.
pub fn document_alto(id: &str) -> String {
    format!("{DOCUMENTS}/{id}.alto.xml")
}

pub fn document_hocr(id: &str) -> String {
    format!("{DOCUMENTS}/{id}.hocr")
}

/// True for `documents/<id>.ers`.
pub fn is_document_ers(rel: &str) -> bool {
    rel.starts_with("documents/") && rel.ends_with(".ers")
}

/// True for `documents/<id>.pdf`.
pub fn is_document_pdf(rel: &str) -> bool {
    rel.starts_with("documents/") && rel.ends_with(".pdf")
}

/// True for `documents/<id>.json`.
pub fn is_document_record(rel: &str) -> bool {
    rel.starts_with("documents/") && rel.ends_with(".json")
}

/// In a batch folder: the batch sheet, and the marker its deliverer writes last.
pub const SHEET: &str = "batch.toml";
pub const READY: &str = "READY";

/// In an inbox: claimed, finished and quarantined batches.
pub const PROCESSING: &str = "processing";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";
/// Written into a quarantined batch folder (and not read as documents).
pub const ERROR_TEXT: &str = "error.txt";
pub const ERROR_JSON: &str = "error.json";

/// In an archive: composed batches waiting for a person's review, `.review/<batch>/`; invisible
/// to archive systems (a dot folder, never a published batch).
pub const REVIEW_AREA: &str = ".review";
/// In a review folder: the pages to review (the protocol's `review` without verdicts), the
/// append-only verdict and rescan log, and how the batch was started (to seal it later).
pub const REVIEW_PLAN: &str = "review.json";
pub const REVIEW_LOG: &str = "verdicts.jsonl";
pub const REVIEW_ORIGIN: &str = "origin.json";
/// In a review folder: copies of rescan files, and each rescan's recomposed document.
pub const RESCANS: &str = "rescans";
pub const VERSIONS: &str = "versions";
/// In a published batch: earlier versions of documents whose pages were rescanned.
pub const REPLACED: &str = "replaced";
/// In an inbox: batches whose composed output waits for review.
pub const IN_REVIEW: &str = "review";
/// In an inbox: batches handed to the work queue (`run --queue`), until a worker moves them on.
pub const QUEUED: &str = "queued";
/// The folders of an inbox that are not batches.
pub const INBOX_FOLDERS: &[&str] = &[PROCESSING, DONE, FAILED, IN_REVIEW, QUEUED];

/// `replaced/<id>.<version>.pdf`: the document as it was before rescan `version`.
pub fn replaced_pdf(id: &str, version: u32) -> String {
    format!("{REPLACED}/{id}.{}.pdf", version - 1)
}
