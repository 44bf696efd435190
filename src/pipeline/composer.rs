//! The compose stage, on the calling thread: pages arrive in batch order; each document's PDF is
//! written page by page (signed when a certificate is configured), then its record and a journal
//! line, so a crash loses at most the document in hand.

use super::reader::changed_since_read;
use super::{DocumentFailure, Done, FinishedPage, Outcome, PipelineOutput, Target};
use crate::archive::{ArchiveError, StagedFile, Staging};
use crate::batch::Batch;
use crate::journal::{self, Journal};
use crate::json::{FORMAT, to_json};
use crate::pdfa::{DocumentInfo, DocumentWriter, PageContent, SignaturePlan};
use crate::profile::Profile;
use crate::progress::Progress;
use crate::protocol::{DocumentNote, DocumentRecord, DocumentSummary, FlaggedPage, PageRecord, SourceRecord};
use crate::report;
use crate::seal::cms::{PadesSigner, max_detached_len};

/// The compose stage: writes each document's PDF and JSON as its pages arrive in order.
pub(super) struct Composer<'a> {
    batch: &'a Batch,
    profile: &'a Profile,
    operator: &'a str,
    staging: &'a Staging,
    /// Signs each PDF (PAdES) when a certificate is configured.
    signer: Option<PadesSigner<'a>>,
    journal: Journal,
    context: String,
    pub(super) progress: &'a dyn Progress,
    open: Option<OpenDocument>,
    pub(super) output: PipelineOutput,
}

struct OpenDocument {
    doc: usize,
    /// Pages written into the PDF so far.
    pdf_pages: u32,
    writer: Option<DocumentWriter<StagedFile>>,
    pages: Vec<PageRecord>,
    /// Each PDF page's text layer as shown, for the full-text sidecars.
    texts: Vec<crate::pdfa::PageText>,
    errors: Vec<crate::decode::InputError>,
}

impl<'a> Composer<'a> {
    pub(super) fn new(
        batch: &'a Batch,
        profile: &'a Profile,
        operator: &'a str,
        target: Target<'a>,
        journal: Journal,
    ) -> Self {
        Composer {
            batch,
            profile,
            operator,
            staging: target.staging,
            signer: target.signer,
            journal,
            context: target.context,
            progress: target.progress,
            open: None,
            output: PipelineOutput::default(),
        }
    }

    fn pdf_path(&self, doc: usize) -> String {
        crate::layout::document_pdf(&self.batch.documents[doc].id)
    }

    pub(super) fn accept(&mut self, done: Done) -> Result<(), ArchiveError> {
        match done.outcome {
            Outcome::Page(page) => self.add_page(done.doc, *page),
            Outcome::PageFailed(message) => {
                self.document(done.doc)?.errors.push(message);
                Ok(())
            }
            Outcome::End(sources) => {
                self.progress.document();
                self.finish(done.doc, sources)
            }
            Outcome::Reused(record) => {
                self.progress.document();
                self.output.resumed.push(record.document_id.clone());
                self.summarise(*record);
                Ok(())
            }
            Outcome::Failed(message) => {
                self.progress.document();
                self.document(done.doc)?.errors.push(message);
                self.finish(done.doc, Vec::new())
            }
        }
    }

    /// The open document `doc`, opening it (and its PDF file) on first use.
    fn document(&mut self, doc: usize) -> Result<&mut OpenDocument, ArchiveError> {
        if self.open.as_ref().is_none_or(|o| o.doc != doc) {
            let rel = self.pdf_path(doc);
            let file = self.staging.create_file(&rel)?;
            let info = self.document_info(doc);
            let writer = match &self.signer {
                Some(signer) => {
                    let plan = SignaturePlan {
                        hash: signer.key.algorithm().digest(),
                        reserve: max_detached_len(signer.chain),
                        signer: signer.chain.subject(),
                    };
                    DocumentWriter::create_signed(file, info, plan)
                }
                None => DocumentWriter::create(file, info),
            }
            .map_err(self.staging.write_err(&rel))?;
            self.open = Some(OpenDocument {
                doc,
                pdf_pages: 0,
                writer: Some(writer),
                pages: Vec::new(),
                texts: Vec::new(),
                errors: Vec::new(),
            });
        }
        Ok(self.open.as_mut().expect("just opened"))
    }

    /// What the PDF's Info dictionary and XMP packet say about document `doc`.
    fn document_info(&self, doc: usize) -> DocumentInfo {
        let source = &self.batch.documents[doc];
        let software = format!("scanwerk {}", env!("CARGO_PKG_VERSION"));
        let profile = format!("{} {}", self.profile.id, self.profile.version);
        // Completed with the document's anomalies when it is finished (see `finish`).
        let transfer_note = String::new();
        DocumentInfo {
            title: source.id.clone(),
            producer: software.clone(),
            creator_tool: format!("{software} ingest"),
            date: source.date,
            batch_id: self.batch.id.clone(),
            document_id: source.id.clone(),
            profile,
            operator: self.operator.to_string(),
            transfer_note,
            index: source.metadata.clone(),
        }
    }

    /// The transfer note as the PDF's XMP carries it: who, when, under which profile, anomalies,
    /// the statement, and where the full note is.
    fn xmp_transfer_note(&self, doc: usize, note: &DocumentNote) -> String {
        let source = &self.batch.documents[doc];
        let organisation = note
            .organisation
            .as_ref()
            .map_or(String::new(), |o| format!(" ({o})"));
        let anomalies = if note.anomalies.is_empty() {
            "keine".to_string()
        } else {
            note.anomalies.join("; ")
        };
        format!(
            "Transfervermerk nach BSI TR-03138 (TR-RESISCAN): Dokument {id} aus Stapel {batch}, \
             gescannt {scanned}, verantwortlich {person}{organisation}; Profil {profile} {version}; \
             {files} Quelldatei(en). Auffälligkeiten: {anomalies}. {statement} Der vollständige \
             Vermerk mit Prüfsummen, Messwerten und Siegel steht in protocol.json und documents/{id}.json.",
            id = source.id,
            batch = self.batch.id,
            scanned = note.scanned.as_deref().unwrap_or("?"),
            person = note.responsible_person,
            profile = self.profile.id,
            version = self.profile.version,
            files = source.parts.len(),
            statement = note.statement,
        )
    }

    fn add_page(&mut self, doc: usize, page: FinishedPage) -> Result<(), ArchiveError> {
        let rel = self.pdf_path(doc);
        let staging = self.staging;
        let id = &self.batch.documents[doc].id;
        let thumbnail = staging.dir().join(report::thumbnail_path(id, page.record.number));
        // A working file of the staging folder, like the journal: no fsync; a lost one only
        // leaves a gap in the report.
        if let Some(dir) = thumbnail.parent() {
            std::fs::create_dir_all(dir).map_err(staging.write_err(crate::layout::THUMBNAILS))?;
        }
        std::fs::write(&thumbnail, &page.thumbnail).map_err(staging.write_err(crate::layout::THUMBNAILS))?;
        let fulltext = self.profile.output.alto || self.profile.output.hocr;
        let open = self.document(doc)?;
        if !open.errors.is_empty() {
            return Ok(());
        }
        let mut record = page.record;
        if record.flags.iter().any(|f| f == "removed") {
            // Left out of the PDF; the record keeps its measurements and image hash.
            open.pages.push(record);
            return Ok(());
        }
        let writer = open.writer.as_mut().expect("writer lives until finish");
        let content = PageContent {
            image: page.image,
            dpi: (record.dpi[0], record.dpi[1]),
            recognition: page.recognition.as_ref(),
            upright: page.upright,
            frame: page.frame,
        };
        let text = writer.add_page(content).map_err(staging.write_err(&rel))?;
        if fulltext {
            open.texts.push(text);
        }
        open.pdf_pages += 1;
        record.pdf_page = Some(open.pdf_pages);
        open.pages.push(record);
        Ok(())
    }

    fn finish(&mut self, doc: usize, sources: Vec<SourceRecord>) -> Result<(), ArchiveError> {
        let mut open = match self.open.take() {
            Some(open) if open.doc == doc => open,
            _ => return Ok(()),
        };
        let rel = self.pdf_path(doc);
        let id = self.batch.documents[doc].id.clone();
        let writer = open.writer.take().expect("writer lives until finish");
        open.errors
            .extend(changed_since_read(self.batch.documents[doc].files(), &sources));
        if !open.errors.is_empty() {
            drop(writer);
            self.staging.discard_file(&rel);
            self.output.failures.push(DocumentFailure {
                document: id,
                errors: open.errors,
            });
            return Ok(());
        }
        if open.pdf_pages == 0 {
            // Every page was removed: a PDF without pages is never written (nor signed).
            drop(writer);
            self.staging.discard_file(&rel);
            self.output.pages += open.pages.len();
            let empty = crate::protocol::EmptyDocument::of(&id, sources, &open.pages);
            tracing::info!(document = %id, "{}", empty.reason);
            self.output.empty.push(empty);
            return Ok(());
        }
        let sheet = &self.batch.sheet;
        let transfer_note = DocumentNote {
            responsible_person: self.operator.to_string(),
            organisation: sheet.organisation.clone(),
            scanned: Some(crate::json::rfc3339(self.batch.documents[doc].date)),
            anomalies: crate::protocol::anomalies(&id, &FlaggedPage::of(&open.pages)),
            statement: crate::protocol::document_statement(
                open.pages.len(),
                open.pages.iter().filter(|p| p.needs_review).count(),
                self.profile.review.mode,
            ),
        };
        let mut writer = writer;
        writer.info_mut().transfer_note = self.xmp_transfer_note(doc, &transfer_note);
        let file = match &self.signer {
            Some(signer) => writer.finish_signed(|digest| signer.sign(digest)),
            None => writer.finish(),
        }
        .map_err(self.staging.write_err(&rel))?;
        let pdf_digests = self.staging.close_file(&rel, file)?;
        self.write_fulltext(&id, &open.texts)?;
        let record = DocumentRecord {
            format: FORMAT.into(),
            batch_id: self.batch.id.clone(),
            document_id: id.clone(),
            pdf: rel.clone(),
            pdf_digests,
            page_count: open.pdf_pages as usize,
            mean_confidence: DocumentRecord::weighted_confidence(&open.pages),
            metadata: self.batch.documents[doc].metadata.clone(),
            sources,
            pages: open.pages,
            proof: None,
            pdf_signature: self.signer.map(|s| s.record()),
            transfer_note,
            rescans: Vec::new(),
        };
        self.record(record)
    }

    /// The document's ALTO and hOCR files, as the profile asks (before its record and journal line,
    /// so a journaled document has them).
    fn write_fulltext(&self, id: &str, texts: &[crate::pdfa::PageText]) -> Result<(), ArchiveError> {
        let pdf = format!("{id}.pdf");
        if self.profile.output.alto {
            let alto = crate::handoff::fulltext::alto(&pdf, texts);
            self.staging
                .write_file(&crate::layout::document_alto(id), alto.as_bytes())?;
        }
        if self.profile.output.hocr {
            let hocr = crate::handoff::fulltext::hocr(&pdf, texts);
            self.staging
                .write_file(&crate::layout::document_hocr(id), hocr.as_bytes())?;
        }
        Ok(())
    }

    /// Writes a finished document's record, then its journal line; counts it into the output.
    fn record(&mut self, record: DocumentRecord) -> Result<(), ArchiveError> {
        let json = to_json(&record);
        self.staging
            .write_file(&crate::layout::document_record(&record.document_id), &json)?;
        let entry = journal::Entry {
            document: record.document_id.clone(),
            context: self.context.clone(),
            sources: record
                .sources
                .iter()
                .map(|s| (s.path.clone(), s.digests.sha256.clone()))
                .collect(),
            pdf_sha256: record.pdf_digests.sha256.clone(),
            record_sha256: crate::seal::hash::sha256_hex(&json),
        };
        self.journal
            .record(entry)
            .map_err(self.staging.write_err(crate::journal::FILE))?;
        self.summarise(record);
        release_free_memory();
        Ok(())
    }

    /// Counts a finished document into the output.
    fn summarise(&mut self, record: DocumentRecord) {
        self.output.pages += record.pages.len();
        self.output.documents.push(DocumentSummary::of(record));
    }
}

/// Hands glibc's free pages back to the kernel after each document, in a build without jemalloc
/// (feature `jemalloc`, the default, whose own decay returns them). The process keeps freed
/// memory between pages (see `main.rs`), and each thread's heap fills its free spaces in its own
/// way, so resident memory would creep up over a long batch although the live heap does not
/// (heaptrack: 36.6 MiB peak at 50 pages, 39.3 at 1,000); trimming once per document keeps peak
/// RSS flat for the price of faulting some pages in again.
fn release_free_memory() {
    #[cfg(not(feature = "jemalloc"))]
    // SAFETY: malloc_trim only returns unused memory of glibc's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
