//! The scan protocol: what was scanned, how, by whom and with what result, as archives read it.
//!
//! `protocol.json` describes the batch (the seed of the TR-RESISCAN transfer note); each
//! `documents/<id>.json` describes one document: its source files with their hashes, every page
//! with its measurements and OCR result, and the hashes of its PDF. Document records hold no clock
//! times, so they are byte-identical across re-runs; the batch protocol records real times.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::seal::Digests;

pub mod review;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Software {
    pub name: String,
    pub version: String,
}

impl Software {
    pub fn this() -> Software {
        Software {
            name: "scanwerk".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileRef {
    pub id: String,
    pub version: String,
    /// SHA-256 of the profile file as it was read.
    pub sha256: String,
    /// `bundled:NAME` or the file path.
    pub origin: String,
}

/// One input file of a document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Relative to the batch folder.
    pub path: String,
    pub format: String,
    /// Pages of the file in this document.
    pub pages: u32,
    /// Where those pages begin in the file (1-based), when the document holds only some of the
    /// file's pages (a stack split at separator sheets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<u32>,
    #[serde(flatten)]
    pub digests: Digests,
}

/// One page of a document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageRecord {
    /// 1-based page number in the document.
    pub number: u32,
    /// Source file (relative path) and 1-based page within it.
    pub source: String,
    pub source_page: u32,
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: [f64; 2],
    pub dpi_assumed: bool,
    pub colour_mode: String,
    /// How the image is embedded: `jpeg-original`, `ccitt-g4-original`, `png-original` (the
    /// scanner's bytes, unchanged), or `ccitt-g4` / `flate` (encoded anew, losslessly).
    pub image_encoding: String,
    pub words: usize,
    pub mean_confidence: Option<f32>,
    /// Page number in the PDF; `None` for a page left out (blank, removed by the profile).
    pub pdf_page: Option<u32>,
    /// SHA-256 of the page image data as embedded (for a JPEG page: the JPEG file's bytes), also for
    /// a page removed from the PDF.
    pub image_sha256: String,
    /// How the page was found to be turned; `None` where not measured (no OCR, blank page, or
    /// switched off). A non-zero `rotate` is the PDF page's `/Rotate`.
    pub orientation: Option<crate::findings::OrientationFinding>,
    /// The measured skew of the upright page; `None` where not measured.
    pub skew: Option<crate::findings::SkewFinding>,
    /// Blank-page measurement (ink marks after discounting border, shading, show-through, dust).
    pub blank: crate::findings::BlankMeasure,
    /// What preparation did to the page or its OCR copy, in order (TR-RESISCAN A.NB.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Quality flags by the profile's thresholds: `low_resolution`, `colour_mode`,
    /// `low_confidence`, `no_text`, `blank`, `removed`, `rotated`, `skewed`, `orientation_uncertain`,
    /// and `full_review` on every page under protection level "sehr-hoch".
    #[serde(default)]
    pub flags: Vec<String>,
    /// True if a flag asks a person to look at the page (TR-RESISCAN IN.H.7).
    pub needs_review: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl DocumentSummary {
    /// The protocol's summary of a finished document.
    pub fn of(record: DocumentRecord) -> DocumentSummary {
        DocumentSummary {
            id: record.document_id,
            pdf: record.pdf,
            pages: record.page_count,
            scanned_pages: record.pages.len(),
            flagged_pages: FlaggedPage::of(&record.pages),
            mean_confidence: record.mean_confidence,
            metadata: record.metadata,
            warnings: record
                .pages
                .iter()
                .flat_map(|p| p.warnings.iter().map(|w| format!("page {}: {w}", p.number)))
                .collect(),
            sources: record.sources,
        }
    }
}

/// `documents/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub format: String,
    pub batch_id: String,
    pub document_id: String,
    /// Relative path of the PDF in the batch folder.
    pub pdf: String,
    pub pdf_digests: Digests,
    pub page_count: usize,
    pub mean_confidence: Option<f32>,
    /// Index metadata of the document (e.g. `file_number` read from its separator sheet).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub sources: Vec<SourceRecord>,
    pub pages: Vec<PageRecord>,
    /// The PDF's reduced hash tree (RFC 4998) up to the root in `hashtree.json`, which is signed in
    /// `hashtree.sig`: with these three files the document can be checked on its own. It depends
    /// on every file of the batch, the protocol's times included, so it differs between runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<crate::seal::tree::Proof>,
    /// The PAdES signature inside the PDF, when a certificate is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_signature: Option<crate::seal::cms::PdfSignatureRecord>,
    /// The transfer note as it concerns this document.
    pub transfer_note: DocumentNote,
    /// Pages replaced by a rescan during review, with the pages they replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rescans: Vec<review::Rescan>,
}

impl DocumentRecord {
    /// Mean of the page confidences, weighted by words.
    pub fn weighted_confidence(pages: &[PageRecord]) -> Option<f32> {
        let (sum, n) = pages
            .iter()
            .fold((0.0f64, 0usize), |(s, n), p| match p.mean_confidence {
                Some(c) => (s + f64::from(c) * p.words as f64, n + p.words),
                None => (s, n),
            });
        (n > 0).then(|| (sum / n as f64) as f32)
    }
}

/// A document as the batch protocol summarises it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentSummary {
    pub id: String,
    pub pdf: String,
    /// Pages in the PDF.
    pub pages: usize,
    /// Pages scanned (the PDF's plus any removed as blank).
    pub scanned_pages: usize,
    /// Every page with a quality flag (removed pages with their image hash), for review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flagged_pages: Vec<FlaggedPage>,
    pub mean_confidence: Option<f32>,
    /// Index metadata of the document (e.g. `file_number` read from its separator sheet).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub sources: Vec<SourceRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A page with quality flags, as the batch protocol lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlaggedPage {
    /// 1-based position in the scanned document.
    pub number: u32,
    /// Page in the PDF; `None` if removed.
    pub pdf_page: Option<u32>,
    pub flags: Vec<String>,
    pub needs_review: bool,
    /// Kept for a removed page, so the left-out image stays identifiable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
}

impl FlaggedPage {
    /// The flagged pages of a document's records.
    pub fn of(pages: &[PageRecord]) -> Vec<FlaggedPage> {
        pages
            .iter()
            .filter(|p| !p.flags.is_empty())
            .map(|p| FlaggedPage {
                number: p.number,
                pdf_page: p.pdf_page,
                flags: p.flags.clone(),
                needs_review: p.needs_review,
                image_sha256: p.pdf_page.is_none().then(|| p.image_sha256.clone()),
            })
            .collect()
    }
}

/// A document that failed and was set aside (`input.on_document_error = "set-aside"`): not
/// published; its files are named with their hashes so the rescan can be matched to them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAsideDocument {
    pub id: String,
    pub files: Vec<SetAsideFile>,
    /// Why it failed, one line per problem (file, page and what to do).
    pub reasons: Vec<String>,
}

/// An input file of a set-aside document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAsideFile {
    /// Path relative to the batch folder.
    pub path: String,
    /// SHA-256 (hex) of its bytes; `None` where it could not be read (or is a link out of the
    /// batch, which is never followed).
    pub sha256: Option<String>,
    /// The file itself (byte-exact, where `path` shows a name that is not UTF-8 with U+FFFD), for
    /// moving it aside; not part of the record.
    #[serde(skip)]
    pub file: std::path::PathBuf,
}

impl SetAsideDocument {
    /// The transfer note's line for it.
    pub fn anomaly(&self) -> String {
        let files: Vec<String> = self
            .files
            .iter()
            .map(|f| match &f.sha256 {
                Some(sha) => format!("{} (SHA-256 {sha})", f.path),
                None => format!("{} (not read)", f.path),
            })
            .collect();
        format!(
            "document {} set aside for a rescan, not published: {}; {}",
            self.id,
            files.join(", "),
            self.reasons.join("; ")
        )
    }
}

/// A document that was scanned but left without a page for its PDF (every page blank and removed
/// by the profile): no PDF is published for it, and this record keeps what was received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmptyDocument {
    pub id: String,
    /// Why there is no PDF, for people.
    pub reason: String,
    /// Its input files with their hashes.
    pub sources: Vec<SourceRecord>,
    /// Its pages as scanned, each with its flags and the hash of its image.
    pub pages: Vec<FlaggedPage>,
}

impl EmptyDocument {
    /// The record of document `id` whose `pages` all stayed out of the PDF.
    pub fn of(id: &str, sources: Vec<SourceRecord>, pages: &[PageRecord]) -> EmptyDocument {
        let n = pages.len();
        EmptyDocument {
            id: id.to_string(),
            reason: format!(
                "{} blank and removed (prepare.blank_pages = \"remove\"); no PDF was written for it",
                plural(n, "its page was", &format!("all {n} of its pages were"))
            ),
            sources,
            pages: pages
                .iter()
                .map(|p| FlaggedPage {
                    number: p.number,
                    pdf_page: None,
                    flags: p.flags.clone(),
                    needs_review: p.needs_review,
                    image_sha256: Some(p.image_sha256.clone()),
                })
                .collect(),
        }
    }

    /// The anomaly line of the transfer note.
    pub fn anomaly(&self) -> String {
        format!("document {}: {}", self.id, self.reason)
    }
}

/// `1 page`, `2 pages`: a count with its noun, for people.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `one` if `n` is 1, else `many`.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Expected versus received counts, from the batch sheet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completeness {
    pub documents: usize,
    /// Pages scanned, counted against `expected_pages` (sheets × sides as the operator counted
    /// them), including blank pages the profile removed from the PDFs.
    pub pages: usize,
    pub expected_documents: Option<usize>,
    pub expected_pages: Option<usize>,
    /// Separator sheets the stack was split at (not counted in `pages`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub separator_sheets: usize,
    /// Blank backs of separator sheets dropped with them (duplex stacks; not counted in `pages`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub separator_backs: usize,
    pub complete: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The statement of the transfer note (TR-RESISCAN A.NB.4) about the check, in German as the note
/// is addressed to German courts and archives, and in English: it says what was actually done.
/// This is the statement of a batch sealed without review (`review.mode = "none"`): it states the
/// automatic checks and names how many pages are listed for a person to compare with the paper —
/// never that a person agreed. A reviewed batch's is [`review::ReviewRecord::statement`].
pub fn statement(pages: usize, for_review: usize, sample: usize) -> (String, String) {
    let (automatic, automatic_en) = automatic_statement(pages);
    (
        format!(
            "{automatic} Eine Sichtprüfung durch eine Person ist hier nicht erfasst: {for_review} zur \
             Sichtprüfung markierte Seite(n) und {sample} Seite(n) der Stichprobe sind aufgeführt und \
             vor der Vernichtung des Papiers mit dem Original zu vergleichen."
        ),
        format!(
            "{automatic_en} No visual check by a person is recorded here: {for_review} page(s) marked \
             for visual review and {sample} page(s) of the spot check are listed, to be compared with \
             the original before the paper is destroyed."
        ),
    )
}

/// The statement's first sentence: the automatic checks over `pages` pages.
fn automatic_statement(pages: usize) -> (String, String) {
    (
        format!(
            "Automatisch geprüft nach dem genannten Profil (Vollständigkeit, Auflösung, Ausrichtung, \
             Schräglage, Leerseiten, Texterkennung): {pages} Seite(n)."
        ),
        format!(
            "Checked automatically under the named profile (completeness, resolution, orientation, \
             skew, blank pages, text recognition): {pages} page(s)."
        ),
    )
}

/// A document's statement for its own transfer note (in its PDF's XMP), written when the PDF is
/// composed: under a review mode the people's verdicts come after it, so it points to the
/// protocol that records them.
pub fn document_statement(pages: usize, for_review: usize, review: crate::profile::ReviewMode) -> String {
    match review {
        crate::profile::ReviewMode::None => format!(
            "Automatisch geprüft nach dem genannten Profil: {pages} Seite(n), davon {for_review} zur \
             Sichtprüfung markiert. Eine Sichtprüfung durch eine Person ist hier nicht erfasst."
        ),
        mode => format!(
            "Automatisch geprüft nach dem genannten Profil: {pages} Seite(n), davon {for_review} zur \
             Sichtprüfung markiert. Vor der Versiegelung prüfen Personen die Seiten nach Prüfmodus \
             {}; ihre Prüfvermerke (Person, Zeit, Ergebnis) stehen im Protokoll des Stapels.",
            mode.name()
        ),
    }
}

/// The transfer note (Transfervermerk, TR-RESISCAN A.NB.4) of a batch, in `protocol.json`.
/// Profile, software and completeness are beside it in the protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferNote {
    /// The natural person responsible for the scan (batch sheet `operator`, else the user).
    pub responsible_person: String,
    /// `batch.toml` or `user`.
    pub responsible_person_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<String>,
    /// The workstation that processed the batch (batch sheet `workstation`, else the host name).
    pub workstation: String,
    /// Reference to the procedure documentation (Verfahrensdokumentation) the scan follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    pub times: NoteTimes,
    pub quality: NoteQuality,
    /// How the batch is sealed for evidentiary value.
    pub sealing: NoteSealing,
    /// Everything a reader of the note must know: incompleteness, removed pages, review marks.
    #[serde(default)]
    pub anomalies: Vec<String>,
    pub statement: String,
    pub statement_en: String,
}

/// The integrity measures of the transfer note: protection level, signatures, time stamp.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteSealing {
    /// Protection level for integrity from the profile: `normal`, `hoch` or `sehr-hoch`.
    pub protection: String,
    /// Signature over the hash-tree root and the manifest, e.g. `ecdsa-p256-sha256`.
    pub batch_signature: String,
    /// SHA-256 of the signing key's SubjectPublicKeyInfo.
    pub key_fingerprint: String,
    /// Subject of the certificate signing each PDF (PAdES B-B), if PDFs are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_signer: Option<String>,
    /// `off`, `offline` (query written, reply attached later) or `online <url>`.
    pub timestamp: String,
    /// Where each document's RFC 4998 evidence record is, or why there is none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence_records: String,
}

/// Times of the transfer note, RFC 3339.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteTimes {
    /// When the paper was scanned: the batch sheet's `scanned`, else the newest scan file's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned: Option<String>,
    /// Where `scanned` came from: `batch.toml` or `file times`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_source: Option<String>,
    pub processing_started: String,
    /// Processing, including the automatic quality assurance, ended.
    pub processing_finished: String,
    /// The batch was sealed (manifest and hash tree signed).
    pub sealed: String,
}

/// What quality assurance found over the batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteQuality {
    pub pages_scanned: usize,
    pub pages_in_pdfs: usize,
    pub pages_flagged: usize,
    pub pages_needing_review: usize,
    /// How many pages carry each flag.
    pub flags: BTreeMap<String, usize>,
}

/// The transfer note's part in a document record (deterministic: no processing times).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentNote {
    pub responsible_person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned: Option<String>,
    /// This document's pages marked for review or removed.
    #[serde(default)]
    pub anomalies: Vec<String>,
    pub statement: String,
}

/// The pages drawn for the visual spot check, recorded in the protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaSample {
    /// The profile's sampling rate (`quality.qa_sample_percent`).
    pub percent: f64,
    /// Pages the sample was drawn from (every scanned page, removed blank pages included).
    pub population: usize,
    /// SHA-256 (hex) of the batch id and the SHA-256 of every input file, in protocol order.
    pub seed: String,
    /// How the draw can be repeated from the protocol.
    pub method: String,
    pub pages: Vec<SampledPage>,
}

/// One page drawn for the spot check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledPage {
    pub document: String,
    /// 1-based page number in the scanned document.
    pub page: u32,
}

/// A separator sheet as the protocol records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeparatorRecord {
    /// 1-based position in the batch's page stream (every page of every file, in batch order).
    pub position: u32,
    /// Source file (relative to the batch folder) and 1-based page in it.
    pub source: String,
    pub source_page: u32,
    pub source_sha256: String,
    /// `patch-code` or `barcode`.
    pub kind: String,
    /// The patch code (`T`, `2` …) or the barcode's value.
    pub code: String,
    /// For a barcode: `qr`, `datamatrix`, `code128`, `code39`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbology: Option<String>,
    /// For a patch code: the image edge it was read at (`bottom`: the sheet was fed upside down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    /// Values the profile's barcode pattern took from the code (given to the next document).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Id of the document the sheet begins; none when no pages follow it before the next sheet.
    pub next_document: Option<String>,
    /// How the sheet was read: the reader, the scale, where on the page (barcode); the edge
    /// and how many sample lines agreed (patch code).
    #[serde(default)]
    pub read: String,
    /// The page after the sheet, when the profile drops blank sheet backs (duplex stacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back: Option<SheetBackRecord>,
    /// The sheet's image in the batch (`separators/…`) and its SHA-256.
    pub image: String,
    pub image_sha256: String,
}

impl SeparatorRecord {
    /// The images kept for the sheet: its own, and its dropped back's; (path, SHA-256) each.
    pub fn images(&self) -> Vec<(&str, &str)> {
        let mut images = vec![(self.image.as_str(), self.image_sha256.as_str())];
        if let Some(SheetBackRecord {
            image: Some(image),
            image_sha256: Some(sha256),
            ..
        }) = &self.back
        {
            images.push((image.as_str(), sha256.as_str()));
        }
        images
    }
}

/// The page after a separator sheet, looked at as the sheet's back side.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SheetBackRecord {
    /// 1-based position in the batch's page stream.
    pub position: u32,
    pub source: String,
    pub source_page: u32,
    pub source_sha256: String,
    /// Blank: it left the stack with the sheet, its image kept beside the sheet's. Not blank: it
    /// is the next document's first page, flagged `separator_back`.
    pub dropped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
}

/// `protocol.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Protocol {
    pub format: String,
    pub batch_id: String,
    pub software: Software,
    pub profile: ProfileRef,
    pub host: String,
    /// Responsible operator: from the batch sheet, else the user running scanwerk.
    pub operator: String,
    /// `batch.toml` or `user`: where the operator's name came from.
    pub operator_source: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    pub signature_key_fingerprint: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub completeness: Completeness,
    pub transfer_note: TransferNote,
    /// How the batch's pages became documents (`separation.mode`).
    #[serde(default = "per_file")]
    pub separation: String,
    /// Separator sheets the stack was split at, in page order; each image is kept in
    /// `separators/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub separators: Vec<SeparatorRecord>,
    pub documents: Vec<DocumentSummary>,
    /// Documents received but left without a PDF (every page blank and removed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_documents: Vec<EmptyDocument>,
    /// Documents that failed and were set aside (`input.on_document_error = "set-aside"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<SetAsideDocument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The pages drawn for the visual spot check (TR-RESISCAN A.SC.8), shown in `report.html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qa_sample: Option<QaSample>,
    /// The review by people before sealing (`review.mode` other than `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<review::ReviewRecord>,
    /// Documents taken over finished from an interrupted run of this batch (see `journal`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<String>,
}

fn per_file() -> String {
    "per-file".into()
}

/// One line per flagged page: `<document> page <n>: <flags>` (removed pages say so).
pub fn anomalies(document: &str, pages: &[FlaggedPage]) -> Vec<String> {
    pages
        .iter()
        .filter(|p| p.needs_review || p.pdf_page.is_none())
        .map(|p| {
            let what = if p.pdf_page.is_none() {
                "removed from the PDF as blank".to_string()
            } else {
                format!("marked for review ({})", p.flags.join(", "))
            };
            format!("{document} page {}: {what}", p.number)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(words: usize, conf: Option<f32>) -> PageRecord {
        PageRecord {
            number: 1,
            source: "a.tif".into(),
            source_page: 1,
            width_px: 1,
            height_px: 1,
            dpi: [300.0, 300.0],
            dpi_assumed: false,
            colour_mode: "gray8".into(),
            image_encoding: "flate".into(),
            words,
            mean_confidence: conf,
            pdf_page: Some(1),
            image_sha256: String::new(),
            orientation: None,
            skew: None,
            blank: crate::findings::BlankMeasure {
                ink_per_mille: 1.0,
                marks: 1,
                largest_mark_mm: 5.0,
                blank: false,
            },
            operations: vec![],
            flags: vec![],
            needs_review: false,
            warnings: vec![],
        }
    }

    #[test]
    fn confidence_weighted_by_words() {
        let pages = [page(3, Some(90.0)), page(1, Some(50.0)), page(0, None)];
        assert_eq!(DocumentRecord::weighted_confidence(&pages), Some(80.0));
        assert_eq!(DocumentRecord::weighted_confidence(&[page(0, None)]), None);
    }
}
