//! The batch protocol and its transfer note (Transfervermerk, TR-RESISCAN A.NB.4) from what the
//! pipeline made: completeness against the batch sheet, quality figures, anomalies, the times of
//! scanning, processing and sealing, and how the batch is sealed.

use std::collections::BTreeMap;

use crate::batch::BatchSheet;
use crate::config::Config;
use crate::json;
use crate::profile::TimestampPolicy;
use crate::protocol::{
    self, Completeness, DocumentSummary, EmptyDocument, FlaggedPage, NoteQuality, NoteSealing, NoteTimes,
    ProfileRef, Protocol, Software, TransferNote,
};

/// The protocol of a batch whose pipeline made `documents` (and `empty` ones without a PDF) of
/// `pages` scanned pages; separators, sample and resumed documents are added by the caller.
pub(super) fn batch_protocol(
    config: &Config,
    started: String,
    documents: Vec<DocumentSummary>,
    empty_documents: Vec<EmptyDocument>,
    pages: usize,
) -> Protocol {
    let sheet = &config.batch.sheet;
    let (completeness, warnings) = completeness(sheet, documents.len() + empty_documents.len(), pages);
    let finished = json::now_rfc3339();
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let transfer_note = TransferNote {
        responsible_person: config.operator.0.clone(),
        responsible_person_source: config.operator.1.into(),
        organisation: sheet.organisation.clone(),
        scanner: sheet.scanner.clone(),
        workstation: sheet.workstation.clone().unwrap_or_else(|| host.clone()),
        procedure: sheet.procedure.clone(),
        times: times(config, &started, &finished),
        sealing: sealing(config),
        quality: quality(&documents, &empty_documents, pages),
        anomalies: anomalies(&warnings, &documents, &empty_documents),
        // Completed once the spot check is drawn (see `ingest::complete_protocol`).
        statement: String::new(),
        statement_en: String::new(),
    };
    Protocol {
        format: json::FORMAT.into(),
        batch_id: config.batch.id.clone(),
        software: Software::this(),
        profile: ProfileRef {
            id: config.profile.id.clone(),
            version: config.profile.version.clone(),
            sha256: config.profile.sha256.clone(),
            origin: config.profile.origin.clone(),
        },
        host,
        operator: config.operator.0.clone(),
        operator_source: config.operator.1.into(),
        started,
        finished,
        signature_key_fingerprint: config.key.public().fingerprint(),
        metadata: sheet.metadata.clone(),
        completeness,
        transfer_note,
        separation: config.separation.name().into(),
        separators: Vec::new(),
        documents,
        empty_documents,
        set_aside: Vec::new(),
        warnings,
        qa_sample: None,
        review: None,
        resumed: Vec::new(),
    }
}

/// Received against expected counts, and the warning if they differ.
fn completeness(sheet: &BatchSheet, received: usize, pages: usize) -> (Completeness, Vec<String>) {
    let completeness = Completeness {
        documents: received,
        pages,
        expected_documents: sheet.expected_documents,
        expected_pages: sheet.expected_pages,
        separator_sheets: 0,
        separator_backs: 0,
        complete: sheet.expected_documents.is_none_or(|n| n == received)
            && sheet.expected_pages.is_none_or(|n| n == pages),
    };
    let mut warnings = Vec::new();
    if !completeness.complete {
        warnings.push(format!(
            "batch sheet expects {} documents / {} pages, received {} / {}",
            opt(sheet.expected_documents),
            opt(sheet.expected_pages),
            received,
            pages
        ));
    }
    (completeness, warnings)
}

fn opt(n: Option<usize>) -> String {
    n.map_or("?".into(), |n| n.to_string())
}

/// Every flagged page of the batch, documents without a PDF included.
fn flagged<'a>(
    documents: &'a [DocumentSummary],
    empty: &'a [EmptyDocument],
) -> impl Iterator<Item = &'a FlaggedPage> {
    documents
        .iter()
        .flat_map(|d| &d.flagged_pages)
        .chain(empty.iter().flat_map(|d| &d.pages))
}

fn quality(documents: &[DocumentSummary], empty: &[EmptyDocument], pages: usize) -> NoteQuality {
    let mut flags: BTreeMap<String, usize> = BTreeMap::new();
    for flag in flagged(documents, empty).flat_map(|p| &p.flags) {
        *flags.entry(flag.clone()).or_default() += 1;
    }
    NoteQuality {
        pages_scanned: pages,
        pages_in_pdfs: documents.iter().map(|d| d.pages).sum(),
        pages_flagged: flagged(documents, empty).filter(|p| !p.flags.is_empty()).count(),
        pages_needing_review: flagged(documents, empty).filter(|p| p.needs_review).count(),
        flags,
    }
}

/// Incompleteness first, then documents without a PDF, then each document's flagged pages.
fn anomalies(warnings: &[String], documents: &[DocumentSummary], empty: &[EmptyDocument]) -> Vec<String> {
    let mut anomalies = warnings.to_vec();
    anomalies.extend(empty.iter().map(EmptyDocument::anomaly));
    for doc in documents {
        anomalies.extend(protocol::anomalies(&doc.id, &doc.flagged_pages));
    }
    anomalies
}

fn times(config: &Config, started: &str, finished: &str) -> NoteTimes {
    let scanned_source = if config.batch.scanned().is_some() {
        "batch.toml"
    } else {
        "file times"
    };
    NoteTimes {
        scanned: config
            .batch
            .documents
            .iter()
            .map(|d| d.date)
            .max()
            .map(json::rfc3339),
        scanned_source: Some(scanned_source.into()),
        processing_started: started.to_string(),
        processing_finished: finished.to_string(),
        sealed: json::now_rfc3339(),
    }
}

fn sealing(config: &Config) -> NoteSealing {
    NoteSealing {
        protection: config.profile.protection.name().into(),
        batch_signature: config.key.algorithm().name().into(),
        key_fingerprint: config.key.public().fingerprint(),
        pdf_signer: config.certificate.as_ref().map(|c| c.subject()),
        timestamp: match &config.profile.timestamp {
            TimestampPolicy::Off => "off".into(),
            TimestampPolicy::Offline => "offline".into(),
            TimestampPolicy::Online { url } => format!("online {url}"),
        },
        evidence_records: match &config.profile.timestamp {
            TimestampPolicy::Off => "none: an RFC 4998 evidence record needs a time stamp on the hash-tree \
                                     root, and this profile takes none (seal.timestamp = \"off\")"
                .into(),
            TimestampPolicy::Offline => {
                "documents/<id>.ers (RFC 4998), written when the time-stamp reply is \
                                         attached (scanwerk timestamp attach)"
                    .into()
            }
            TimestampPolicy::Online { .. } => "documents/<id>.ers (RFC 4998): each document's reduced hash \
                                               tree and the root's time-stamp token"
                .into(),
        },
    }
}
