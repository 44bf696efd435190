//! What a verified batch is vouched for by, in words for people: the summary `scanwerk verify`
//! prints under `OK` (files, documents, signatures, time stamp, protection level, responsible
//! person), as the report's `Display`.

use std::fmt;

use super::VerifyReport;

impl fmt::Display for VerifyReport {
    /// One line per fact, `  label           value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, value) in lines(self) {
            writeln!(f, "  {label:<16}{value}")?;
        }
        Ok(())
    }
}

/// The human summary of a verified batch: what was checked and what vouches for it.
fn lines(report: &VerifyReport) -> Vec<(&'static str, String)> {
    let key = report.key_fingerprint.as_deref().unwrap_or("unknown");
    let sealing = report.sealing.as_ref();
    let mut lines = vec![
        (
            "files",
            format!(
                "{} hashed (SHA-256 and SHA-512), none missing, none unlisted",
                report.files_checked
            ),
        ),
        (
            "documents",
            format!(
                "{} (PDF/A-2b structure, page counts, hash-tree proofs)",
                report.documents_checked
            ),
        ),
        (
            "batch signature",
            format!(
                "{} over manifest.json and hashtree.json, key {key} ({})",
                sealing.map_or("ECDSA", |s| s.batch_signature.as_str()),
                if report.pinned {
                    "the trusted key"
                } else {
                    "recorded in the manifest; not pinned, use --trust"
                }
            ),
        ),
    ];
    let signers: Vec<&str> = report.pdf_signers.iter().map(String::as_str).collect();
    lines.push((
        "PDF signatures",
        if report.pdf_signatures == 0 {
            "none (no certificate was configured)".into()
        } else {
            format!(
                "{} of {} PAdES B-B valid, signer {}",
                report.pdf_signatures,
                report.documents_checked,
                signers.join("; ")
            )
        },
    ));
    lines.push(("time stamp", timestamp(report)));
    if report.bag {
        lines.push((
            "bag",
            "BagIt 1.0: data/ against manifest-sha256/-sha512, tag manifests, Payload-Oxum".into(),
        ));
    }
    if report.evidence_records > 0 {
        lines.push((
            "evidence",
            format!(
                "{} RFC 4998 evidence records (documents/<id>.ers) lead from their PDFs to the time-stamped root",
                report.evidence_records
            ),
        ));
    }
    if let Some(s) = sealing {
        lines.push(("protection", s.protection.clone()));
    }
    if let Some(review) = &report.review {
        lines.push(("review", review.clone()));
    }
    if let Some(person) = &report.responsible_person {
        lines.push(("responsible", person.clone()));
    }
    lines
}

/// The time-stamp line: who stamped when, pending, or none.
fn timestamp(report: &VerifyReport) -> String {
    match (&report.timestamp, report.timestamp_pending) {
        (Some(ts), _) => format!(
            "{} by {} ({})",
            ts.time,
            ts.tsa,
            if ts.tsa_trusted {
                "TSA certificate trusted"
            } else {
                "TSA certificate not checked against a trust anchor; use --tsa-trust"
            }
        ),
        (None, true) => {
            "pending: hashtree.tsq written, attach the reply with `scanwerk timestamp attach`".into()
        }
        (None, false) => "none".into(),
    }
}

/// Appends a `verified` event for the batch at `dir` to its archive's audit log, if that log
/// exists (an auditor checking a copy elsewhere writes nothing), never failing the check.
pub fn record(dir: &std::path::Path, report: &VerifyReport) {
    let log = crate::audit::Log::for_archive(&crate::archive::archive_of(dir));
    if !log.path().is_file() {
        return;
    }
    let batch = crate::archive::batch_id_of(dir);
    log.note(
        crate::audit::Event::new("verified", Some(&batch)).with(serde_json::json!({
            "ok": report.ok(), "files": report.files_checked, "documents": report.documents_checked,
            "problems": report.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })),
        None,
    );
}
