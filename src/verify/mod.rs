//! Verify: an independent re-check of a published batch, as a third party would do it.
//!
//! Trusts nothing it did not recompute: the manifest signature (against the pinned key if one is
//! given), every file's size, SHA-256 and SHA-512, that no file is missing or unlisted, that every
//! document record matches its PDF's hashes, that each PDF opens with the recorded page count, and
//! that it still has the structure of PDF/A-2b ([`crate::pdfa::conformance`]).
//! Every problem is reported with the file it concerns; none stops the others from being checked.

mod evidence;
pub mod review;
mod summary;
pub use summary::record;

use std::collections::BTreeSet;
use std::path::{Component, Path};

use crate::layout::{
    MANIFEST, MANIFEST_SIGNATURE as SIGNATURE, TIMESTAMP_REPLY, TREE as TREE_FILE, TREE_SIGNATURE,
};
use crate::protocol::{DocumentRecord, Protocol};
use crate::seal::tree::{HashTree, TreeFile, hex, unhex};
use crate::seal::{Digests, Manifest, TrustedKey};

/// One discrepancy, naming the file (relative to the batch folder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

#[derive(Debug, Default, serde::Serialize)]
pub struct VerifyReport {
    pub problems: Vec<Problem>,
    pub files_checked: usize,
    pub documents_checked: usize,
    pub key_fingerprint: Option<String>,
    /// True if the signature was checked against a key given with `--trust`.
    pub pinned: bool,
    /// PDFs whose PAdES signature verified, and the signers named by their certificates.
    pub pdf_signatures: usize,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub pdf_signers: BTreeSet<String>,
    /// The batch root's verified RFC 3161 time stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<crate::seal::timestamp::TimeStamp>,
    /// A time-stamp query was written but no reply attached yet.
    pub timestamp_pending: bool,
    /// What the protocol's transfer note says about sealing, and who is responsible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealing: Option<crate::protocol::NoteSealing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible_person: Option<String>,
    /// The batch is a BagIt bag whose manifests and tag manifests hold.
    pub bag: bool,
    /// Documents whose RFC 4998 evidence record leads from their PDF to the time-stamped root.
    pub evidence_records: usize,
    /// The review by people the protocol records (mode, pages, reviewers), when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as JSON for machines: `ok`, the counts, the signer and every problem.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(self).expect("serialises");
        value["ok"] = self.ok().into();
        value["format"] = crate::json::COMMAND_FORMAT.into();
        serde_json::to_string_pretty(&value).expect("serialises")
    }

    fn problem(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.into(),
            message: message.into(),
        });
    }
}

/// Verifies the batch at `dir`; with `trust`, the signature must come from that key; with
/// `tsa_roots`, a time stamp must come from a TSA certified by one of them. A BagIt bag is
/// checked as a bag (`bagit.txt`, manifests, tag manifests, Payload-Oxum) and its `data/` as a
/// batch, problems named by their path in the bag.
pub fn verify(dir: &Path, trust: Option<&TrustedKey>, tsa_roots: &[x509_cert::Certificate]) -> VerifyReport {
    use crate::handoff::bag;
    if !bag::is_bag(dir) {
        return verify_batch(dir, trust, tsa_roots);
    }
    let mut report = verify_batch(&dir.join(bag::DATA), trust, tsa_roots);
    for problem in &mut report.problems {
        problem.file = format!("{}/{}", bag::DATA, problem.file);
    }
    for (file, message) in bag::check(dir) {
        report.problem(&file, message);
    }
    report.bag = true;
    report
}

fn verify_batch(
    dir: &Path,
    trust: Option<&TrustedKey>,
    tsa_roots: &[x509_cert::Certificate],
) -> VerifyReport {
    let mut report = VerifyReport {
        pinned: trust.is_some(),
        ..Default::default()
    };
    let Some((manifest, manifest_bytes)) = read_manifest(dir, &mut report) else {
        return report;
    };
    check_signature(dir, &manifest, &manifest_bytes, trust, &mut report);
    let tree = manifest
        .signer()
        .and_then(|signer| check_tree(dir, &manifest, &signer, &mut report));
    let root = tree.as_ref().map(|(_, root)| root.clone());
    evidence::check_timestamp(
        dir,
        tree.as_ref()
            .map(|(algorithm, root)| (*algorithm, root.as_slice())),
        tsa_roots,
        &mut report,
    );
    let mut listed = BTreeSet::new();
    for entry in &manifest.files {
        if !is_plain_relative(&entry.path) {
            report.problem(
                &entry.path,
                "path leaves the batch folder; the manifest is not trustworthy",
            );
            continue;
        }
        listed.insert(entry.path.clone());
        match Digests::of_file(&dir.join(&entry.path)) {
            Ok(actual) if actual == entry.digests => report.files_checked += 1,
            Ok(actual) => report.problem(&entry.path, mismatch(&entry.digests, &actual)),
            Err(e) => report.problem(
                &entry.path,
                format!("listed in the manifest but cannot be read: {e}"),
            ),
        }
    }
    for rel in files_under(dir) {
        // A reply attached after publishing (`timestamp attach`) authenticates itself.
        let attached = rel == TIMESTAMP_REPLY || crate::layout::is_document_ers(&rel);
        if rel != MANIFEST && rel != SIGNATURE && !attached && !listed.contains(&rel) {
            report.problem(&rel, "present but not listed in the manifest");
        }
    }
    check_protocol(dir, &manifest, &mut report);
    for rel in listed.iter().filter(|p| crate::layout::is_document_record(p)) {
        check_document(dir, rel, &manifest, root.as_deref(), &mut report);
    }
    evidence::check(
        dir,
        tree.as_ref()
            .map(|(algorithm, root)| (*algorithm, root.as_slice())),
        &mut report,
    );
    check_protection(&mut report);
    report
}

/// What the transfer note's protection level promises must be there: a PAdES signature in every
/// PDF from "hoch" on, a time stamp (or its pending query) at "sehr-hoch".
fn check_protection(report: &mut VerifyReport) {
    let Some(level) = report.sealing.as_ref().map(|s| s.protection.clone()) else {
        return;
    };
    let documents = report.documents_checked;
    if (level == "hoch" || level == "sehr-hoch") && report.pdf_signatures < documents {
        report.problem(
            crate::layout::PROTOCOL,
            format!(
                "protection level {level:?} requires a PAdES signature in every PDF; {} of {documents} carry a valid one",
                report.pdf_signatures
            ),
        );
    }
    if level == "sehr-hoch" && report.timestamp.is_none() && !report.timestamp_pending {
        report.problem(
            crate::layout::PROTOCOL,
            format!("protection level {level:?} requires a time stamp on the batch; there is none"),
        );
    }
}

/// Checks `hashtree.json` against its signature (by the manifest's signer), every leaf against
/// its file, and the root against the leaves. Returns the root if the tree is sound.
fn check_tree(
    dir: &Path,
    manifest: &Manifest,
    signer: &TrustedKey,
    report: &mut VerifyReport,
) -> Option<(crate::seal::tree::TreeHash, Vec<u8>)> {
    let problems_before = report.problems.len();
    let tree = read_tree(&dir.join(TREE_FILE), &dir.join(TREE_SIGNATURE), signer, report)?;
    for leaf in &tree.leaves {
        if !is_plain_relative(&leaf.path) {
            report.problem(TREE_FILE, format!("leaf {} leaves the batch folder", leaf.path));
            continue;
        }
        match std::fs::read(dir.join(&leaf.path)) {
            Ok(bytes) if hex(&tree.algorithm.digest(&bytes)) == leaf.hash => {}
            Ok(_) => report.problem(&leaf.path, format!("differs from its hash in {TREE_FILE}")),
            Err(e) => report.problem(&leaf.path, format!("is in {TREE_FILE} but cannot be read: {e}")),
        }
    }
    let expected: BTreeSet<&str> = manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| crate::layout::is_document_pdf(p) || *p == crate::layout::PROTOCOL)
        .collect();
    let leaves: BTreeSet<&str> = tree.leaves.iter().map(|l| l.path.as_str()).collect();
    if expected != leaves {
        report.problem(TREE_FILE, "does not cover exactly the batch's PDFs and protocol");
    }
    (report.problems.len() == problems_before)
        .then(|| unhex(&tree.root).map(|root| (tree.algorithm, root)))
        .flatten()
}

/// Reads a tree file, checks its signature and that its root follows from its leaves.
fn read_tree(
    path: &Path,
    signature: &Path,
    signer: &TrustedKey,
    report: &mut VerifyReport,
) -> Option<TreeFile> {
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    let bytes = std::fs::read(path)
        .map_err(|e| report.problem(&name(path), format!("cannot be read: {e}")))
        .ok()?;
    match std::fs::read(signature) {
        Ok(sig) if signer.verify(&bytes, &sig) => {}
        Ok(_) => {
            report.problem(
                &name(signature),
                format!(
                    "does not verify over {} with key {}",
                    name(path),
                    signer.fingerprint()
                ),
            );
            return None;
        }
        Err(e) => {
            report.problem(&name(signature), format!("cannot be read: {e}"));
            return None;
        }
    }
    let tree: TreeFile = serde_json::from_slice(&bytes)
        .map_err(|e| report.problem(&name(path), format!("is not a valid hash tree: {e}")))
        .ok()?;
    let leaves: Option<Vec<Vec<u8>>> = tree.leaves.iter().map(|l| unhex(&l.hash)).collect();
    match leaves.map(|l| HashTree::build(tree.algorithm, &l)) {
        Some(built) if hex(built.root()) == tree.root => Some(tree),
        _ => {
            report.problem(&name(path), "its root does not follow from its leaves");
            None
        }
    }
}

/// Verifies one document on its own: its PDF, its record (with the proof) and the batch's signed
/// hash tree, which may all have been kept apart from the rest of the batch.
pub fn verify_document(
    pdf: &Path,
    record: &Path,
    tree: &Path,
    signature: &Path,
    trust: &TrustedKey,
) -> VerifyReport {
    let mut report = VerifyReport {
        pinned: true,
        key_fingerprint: Some(trust.fingerprint()),
        ..Default::default()
    };
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    let tree_path = tree;
    let Some(tree) = read_tree(tree, signature, trust, &mut report) else {
        return report;
    };
    if let Some(root) = unhex(&tree.root) {
        let dir = tree_path.parent().unwrap_or(Path::new("."));
        evidence::check_timestamp(dir, Some((tree.algorithm, &root)), &[], &mut report);
    }
    let record_name = name(record);
    let record: DocumentRecord = match std::fs::read(record).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            report.problem(&name(record), format!("is not a valid document record: {e}"));
            return report;
        }
        Err(e) => {
            report.problem(&name(record), format!("cannot be read: {e}"));
            return report;
        }
    };
    let bytes = match std::fs::read(pdf) {
        Ok(b) => b,
        Err(e) => {
            report.problem(&name(pdf), format!("cannot be read: {e}"));
            return report;
        }
    };
    report.files_checked = 1;
    let leaf = tree.algorithm.digest(&bytes);
    if Digests::of(&bytes) != record.pdf_digests {
        report.problem(&name(pdf), format!("differs from its record {record_name}"));
    }
    match &record.proof {
        None => report.problem(&record_name, "carries no hash-tree proof"),
        Some(proof) if proof.root_from(&leaf).map(|r| hex(&r)) == Some(tree.root.clone()) => {}
        Some(_) => report.problem(
            &name(pdf),
            format!("is not the document the signed hash tree holds (its proof in {record_name} fails)"),
        ),
    }
    for problem in crate::pdfa::conformance::check(&bytes) {
        report.problem(&name(pdf), format!("is not PDF/A-2b: {problem}"));
    }
    match lopdf::Document::load_mem(&bytes) {
        Ok(doc) => {
            let record = DocumentRecord {
                pdf: name(pdf),
                ..record
            };
            check_pdf_signature(&bytes, &doc, &record, Some(trust), &mut report);
        }
        Err(e) => report.problem(&name(pdf), format!("cannot be opened as PDF: {e}")),
    }
    if report.problems.is_empty() {
        report.documents_checked = 1;
    }
    report
}

fn read_manifest(dir: &Path, report: &mut VerifyReport) -> Option<(Manifest, Vec<u8>)> {
    let bytes = std::fs::read(dir.join(MANIFEST))
        .map_err(|e| report.problem(MANIFEST, format!("cannot be read: {e}")))
        .ok()?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| report.problem(MANIFEST, format!("is not a valid scanwerk manifest: {e}")))
        .ok()?;
    if !crate::json::READABLE_FORMATS.contains(&manifest.format.as_str()) {
        report.problem(
            MANIFEST,
            format!(
                "has format {:?}, which this scanwerk ({}) does not know (it reads {}); verify it with the scanwerk that wrote it or a newer one",
                manifest.format,
                env!("CARGO_PKG_VERSION"),
                crate::json::READABLE_FORMATS.join(", ")
            ),
        );
        return None;
    }
    Some((manifest, bytes))
}

fn check_signature(
    dir: &Path,
    manifest: &Manifest,
    bytes: &[u8],
    trust: Option<&TrustedKey>,
    report: &mut VerifyReport,
) {
    let Some(signer) = manifest.signer() else {
        report.problem(MANIFEST, "records no valid P-256 or P-384 public key");
        return;
    };
    report.key_fingerprint = Some(signer.fingerprint());
    if let Some(trusted) = trust
        && trusted != &signer
    {
        report.problem(
            SIGNATURE,
            format!(
                "signed by key {}, not by the trusted key {}",
                signer.fingerprint(),
                trusted.fingerprint()
            ),
        );
        return;
    }
    match std::fs::read(dir.join(SIGNATURE)) {
        Ok(sig) if signer.verify(bytes, &sig) => {}
        Ok(_) => report.problem(
            SIGNATURE,
            format!("does not verify over {MANIFEST}: the manifest or the signature was altered"),
        ),
        Err(e) => report.problem(SIGNATURE, format!("cannot be read: {e}")),
    }
}

fn check_protocol(dir: &Path, manifest: &Manifest, report: &mut VerifyReport) {
    let rel = crate::layout::PROTOCOL;
    match std::fs::read(dir.join(rel)).map(|b| serde_json::from_slice::<Protocol>(&b)) {
        Ok(Ok(protocol)) if protocol.batch_id == manifest.batch_id => {
            // Each separator sheet's image: sealed by the manifest, and the one the protocol names.
            for separator in &protocol.separators {
                for (image, sha256) in separator.images() {
                    let listed = manifest.files.iter().any(|f| f.path == image);
                    let actual = Digests::of_file(&dir.join(image)).map(|d| d.sha256);
                    if !listed || actual.as_ref().ok().map(String::as_str) != Some(sha256) {
                        report.problem(
                            image,
                            format!(
                                "separator sheet at page {} of the stack: not the image protocol.json records \
                                 (listed in the manifest: {listed}; SHA-256 {})",
                                separator.position,
                                actual.unwrap_or_else(|e| format!("unreadable: {e}"))
                            ),
                        );
                    }
                }
            }
            let (problems, summary) = review::check(&protocol);
            for problem in problems {
                report.problem(rel, problem);
            }
            report.review = summary;
            report.responsible_person = Some(protocol.transfer_note.responsible_person);
            report.sealing = Some(protocol.transfer_note.sealing);
        }
        Ok(Ok(protocol)) => report.problem(
            rel,
            format!(
                "names batch {:?}, the manifest {:?}",
                protocol.batch_id, manifest.batch_id
            ),
        ),
        Ok(Err(e)) => report.problem(rel, format!("is not a valid protocol: {e}")),
        Err(e) => report.problem(rel, format!("cannot be read: {e}")),
    }
}

fn check_document(
    dir: &Path,
    rel: &str,
    manifest: &Manifest,
    root: Option<&[u8]>,
    report: &mut VerifyReport,
) {
    let record: DocumentRecord = match std::fs::read(dir.join(rel)).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(record)) => record,
        Ok(Err(e)) => return report.problem(rel, format!("is not a valid document record: {e}")),
        Err(e) => return report.problem(rel, format!("cannot be read: {e}")),
    };
    if !manifest.files.iter().any(|f| f.path == record.pdf) || !is_plain_relative(&record.pdf) {
        return report.problem(
            rel,
            format!("names PDF {}, which the manifest does not list", record.pdf),
        );
    }
    // An unreadable PDF is already reported against the manifest.
    let Ok(bytes) = std::fs::read(dir.join(&record.pdf)) else {
        return;
    };
    let actual = Digests::of(&bytes);
    if actual != record.pdf_digests {
        report.problem(
            &record.pdf,
            format!(
                "differs from its document record {rel}: {}",
                mismatch(&record.pdf_digests, &actual)
            ),
        );
    }
    if let Some(root) = root {
        let reaches = record
            .proof
            .as_ref()
            .is_some_and(|p| p.root_from(&p.algorithm.digest(&bytes)).as_deref() == Some(root));
        if !reaches {
            report.problem(
                rel,
                format!(
                    "its hash-tree proof does not lead from {} to the signed root",
                    record.pdf
                ),
            );
        }
    }
    for problem in crate::pdfa::conformance::check(&bytes) {
        report.problem(&record.pdf, format!("is not PDF/A-2b: {problem}"));
    }
    let doc = match lopdf::Document::load_mem(&bytes) {
        Ok(doc) => doc,
        Err(e) => return report.problem(&record.pdf, format!("cannot be opened as PDF: {e}")),
    };
    check_pdf_signature(&bytes, &doc, &record, manifest.signer().as_ref(), report);
    let pages = doc.get_pages().len();
    if pages == 0 {
        report.problem(
            &record.pdf,
            "holds no pages: a PDF without pages is no PDF/A and no scan product".to_string(),
        );
    } else if pages == record.page_count {
        report.documents_checked += 1;
    } else {
        report.problem(
            &record.pdf,
            format!("has {} pages, its record {rel} says {}", pages, record.page_count),
        );
    }
}

/// Checks the PDF's PAdES signature against its record and, if known, the batch's key.
fn check_pdf_signature(
    bytes: &[u8],
    doc: &lopdf::Document,
    record: &DocumentRecord,
    batch_key: Option<&TrustedKey>,
    report: &mut VerifyReport,
) {
    let pdf = record.pdf.as_str();
    match (crate::seal::pades::check(bytes, doc), &record.pdf_signature) {
        (Ok(None), None) => {}
        (Ok(None), Some(_)) => report.problem(
            pdf,
            "carries no PAdES signature, but its record says it was signed: the signature was removed",
        ),
        (Ok(Some(_)), None) => report.problem(pdf, "carries a PDF signature its record does not mention"),
        (Ok(Some(found)), Some(recorded)) => {
            let before = report.problems.len();
            if found.certificate_sha256 != recorded.certificate_sha256 {
                report.problem(
                    pdf,
                    format!(
                        "is signed with certificate {}, its record names {}",
                        found.certificate_sha256, recorded.certificate_sha256
                    ),
                );
            }
            if let Some(key) = batch_key
                && key.spki != found.signer_spki
            {
                report.problem(
                    pdf,
                    format!(
                        "is signed (PAdES) by {}, whose key is not the batch's key {}",
                        found.signer,
                        key.fingerprint()
                    ),
                );
            }
            if report.problems.len() == before {
                report.pdf_signatures += 1;
                report.pdf_signers.insert(found.signer);
            }
        }
        (Err(e), _) => report.problem(pdf, format!("its PAdES signature does not verify: {e}")),
    }
}

fn mismatch(expected: &Digests, actual: &Digests) -> String {
    if expected.bytes != actual.bytes {
        format!("size is {} bytes, expected {}", actual.bytes, expected.bytes)
    } else {
        format!("SHA-256 is {}, expected {}", actual.sha256, expected.sha256)
    }
}

fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// All files below `dir`, relative and `/`-separated.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}
