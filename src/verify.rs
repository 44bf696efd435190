//! Verify: an independent re-check of a published batch, as a third party would do it.
//!
//! Trusts nothing it did not recompute: the manifest signature (against the pinned key if one is
//! given), every file's size, SHA-256 and SHA-512, that no file is missing or unlisted, that every
//! document record matches its PDF's hashes, that each PDF opens with the recorded page count, and
//! that it still has the structure of PDF/A-2b ([`crate::pdfa::conformance`]).
//! Every problem is reported with the file it concerns; none stops the others from being checked.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use crate::protocol::{DocumentRecord, Protocol};
use crate::seal::{Digests, Manifest, TrustedKey};

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// One discrepancy, naming the file (relative to the batch folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub problems: Vec<Problem>,
    pub files_checked: usize,
    pub documents_checked: usize,
    pub key_fingerprint: Option<String>,
    /// True if the signature was checked against a key given with `--trust`.
    pub pinned: bool,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.into(),
            message: message.into(),
        });
    }
}

/// Verifies the batch at `dir`; with `trust`, the signature must come from that key.
pub fn verify(dir: &Path, trust: Option<&TrustedKey>) -> VerifyReport {
    let mut report = VerifyReport {
        pinned: trust.is_some(),
        ..Default::default()
    };
    let Some((manifest, manifest_bytes)) = read_manifest(dir, &mut report) else {
        return report;
    };
    check_signature(dir, &manifest, &manifest_bytes, trust, &mut report);
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
        if rel != MANIFEST && rel != SIGNATURE && !listed.contains(&rel) {
            report.problem(&rel, "present but not listed in the manifest");
        }
    }
    check_protocol(dir, &manifest, &mut report);
    for rel in listed
        .iter()
        .filter(|p| p.starts_with("documents/") && p.ends_with(".json"))
    {
        check_document(dir, rel, &manifest, &mut report);
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
        report.problem(MANIFEST, "records no valid P-256 public key");
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
    let rel = "protocol.json";
    match std::fs::read(dir.join(rel)).map(|b| serde_json::from_slice::<Protocol>(&b)) {
        Ok(Ok(protocol)) if protocol.batch_id == manifest.batch_id => {}
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

fn check_document(dir: &Path, rel: &str, manifest: &Manifest, report: &mut VerifyReport) {
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
    let pdf_path = dir.join(&record.pdf);
    match Digests::of_file(&pdf_path) {
        Ok(actual) if actual == record.pdf_digests => {}
        Ok(actual) => report.problem(
            &record.pdf,
            format!(
                "differs from its document record {rel}: {}",
                mismatch(&record.pdf_digests, &actual)
            ),
        ),
        Err(_) => return,
    }
    let Ok(bytes) = std::fs::read(&pdf_path) else {
        return;
    };
    for problem in crate::pdfa::conformance::check(&bytes) {
        report.problem(&record.pdf, format!("is not PDF/A-2b: {problem}"));
    }
    match lopdf::Document::load_mem(&bytes) {
        Ok(doc) if doc.get_pages().len() == record.page_count => report.documents_checked += 1,
        Ok(doc) => report.problem(
            &record.pdf,
            format!(
                "has {} pages, its record {rel} says {}",
                doc.get_pages().len(),
                record.page_count
            ),
        ),
        Err(e) => report.problem(&record.pdf, format!("cannot be opened as PDF: {e}")),
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
