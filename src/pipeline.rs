//! Pipeline: read → prepare → recognize → compose, with pages in parallel and documents in order.
//!
//! One reader thread reads and hashes each input file (before anything decodes it) and turns it
//! into page jobs; N workers, each owning one tesseract engine, decode, prepare, OCR and encode
//! pages; the calling thread composes the PDFs in page order. Every job carries a sequence number
//! and the composer returns a slot for each one it finishes, so at most `slots` pages are in
//! memory however large the batch. Failures travel as values: a bad page fails its document, not
//! the run. `threads == 1` runs the same functions in one thread.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crossbeam_channel::bounded;

use crate::archive::{ArchiveError, StagedFile, Staging};
use crate::batch::Batch;
use crate::decode::{self, SourceFile};
use crate::ocr::{self, Engine, OcrError, Recognition};
use crate::pdfa::{DocumentInfo, DocumentWriter, PageContent, PdfImage, SignaturePlan};
use crate::prepare::{self, geometry::Upright};
use crate::profile::{Deskew, Profile};
use crate::protocol::{DocumentNote, DocumentRecord, DocumentSummary, FlaggedPage, PageRecord, SourceRecord};
use crate::report::{self, Thumbnail};
use crate::seal::Digests;
use crate::seal::cms::{PadesSigner, max_detached_len};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::journal::{self, Journal};
use crate::json::{FORMAT, to_json};
use crate::progress::Progress;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("interrupted; nothing was published")]
    Interrupted,
}

/// A document that could not be produced, and why (names the file and page).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DocumentFailure {
    pub document: String,
    pub errors: Vec<String>,
}

/// What the pipeline produced in the staging folder.
#[derive(Debug, Default)]
pub struct PipelineOutput {
    pub documents: Vec<DocumentSummary>,
    pub failures: Vec<DocumentFailure>,
    /// Documents whose every page was removed: no PDF, recorded in the protocol.
    pub empty: Vec<crate::protocol::EmptyDocument>,
    /// Pages scanned, including any removed from the PDFs.
    pub pages: usize,
    /// Documents reused from the journal of an interrupted run.
    pub resumed: Vec<String>,
}

/// CPU time per stage, summed over threads, as the operator's `--timings` and the `--json`
/// summaries report it.
#[derive(Debug, Default)]
pub struct Timings {
    nanos: [AtomicU64; Stage::COUNT],
}

/// The stages timed.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// Reading and hashing input files.
    Read = 0,
    Decode,
    /// Measuring, blank detection, quality assessment.
    Prepare,
    /// Tesseract: orientation, recognition (and the skew measurement on the OCR copy).
    Ocr,
    /// Page image encoding for the PDF.
    Encode,
    /// Writing the PDFs: text layer, page objects, PAdES signature.
    Compose,
    /// Protocol, hash tree, signatures, manifest, publication.
    Seal,
}

impl Stage {
    const COUNT: usize = 7;
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Read,
        Stage::Decode,
        Stage::Prepare,
        Stage::Ocr,
        Stage::Encode,
        Stage::Compose,
        Stage::Seal,
    ];

    pub fn name(self) -> &'static str {
        ["read", "decode", "prepare", "ocr", "encode", "compose", "seal"][self as usize]
    }
}

/// CPU time this thread has used so far.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Timings {
    pub fn add(&self, stage: Stage, cpu: Duration) {
        self.nanos[stage as usize].fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Runs `f`, counting this thread's CPU time to `stage`.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = thread_cpu();
        let out = f();
        self.add(stage, thread_cpu().saturating_sub(start));
        out
    }

    /// Seconds per stage, in stage order.
    pub fn seconds(&self) -> std::collections::BTreeMap<&'static str, f64> {
        Stage::ALL
            .iter()
            .map(|&s| {
                (
                    s.name(),
                    self.nanos[s as usize].load(Ordering::Relaxed) as f64 / 1e9,
                )
            })
            .collect()
    }
}

/// Where the documents go: the staging folder, the PAdES signer if any, and the journal context.
pub struct Target<'a> {
    pub staging: &'a Staging,
    pub signer: Option<PadesSigner<'a>>,
    /// What shapes a document besides its input ([`journal::context`]); a journaled document is
    /// reused only under the same context.
    pub context: String,
    /// Told of every page and document as it is written.
    pub progress: &'a dyn Progress,
}

/// A unit of work, numbered in batch order.
struct Job {
    seq: u64,
    doc: usize,
    work: Work,
}

enum Work {
    Page {
        source: Arc<SourceFile>,
        index: u32,
        number: u32,
    },
    /// All pages of the document were issued; carries its source records.
    End(Vec<SourceRecord>),
    /// The document cannot be read at all.
    Failed(String),
    /// The document is finished in the staging folder already (journal); its record.
    Reuse(Box<DocumentRecord>),
}

/// Tells `progress` of the pages a result finishes, as soon as a worker hands it over (before
/// it waits for its turn in page order), so the count moves as pages are done.
fn announce(progress: &dyn Progress, done: &Done) {
    let pages = match &done.outcome {
        Outcome::Page(_) | Outcome::PageFailed(_) => 1,
        Outcome::Reused(record) => record.pages.len() as u64,
        Outcome::End(_) | Outcome::Failed(_) => 0,
    };
    if pages > 0 {
        progress.pages(pages);
    }
}

/// A job's result, in the job's sequence position.
struct Done {
    seq: u64,
    doc: usize,
    outcome: Outcome,
}

enum Outcome {
    Page(Box<FinishedPage>),
    PageFailed(String),
    End(Vec<SourceRecord>),
    Failed(String),
    Reused(Box<DocumentRecord>),
}

struct FinishedPage {
    record: PageRecord,
    image: PdfImage,
    recognition: Option<Recognition>,
    upright: Upright,
    /// PNG of the page as displayed, for the QA report.
    thumbnail: Vec<u8>,
}

/// Runs the batch through all page stages into `staging`.
pub fn run(
    batch: &Batch,
    profile: &Profile,
    operator: &str,
    threads: usize,
    target: Target<'_>,
    stop: &AtomicBool,
    timings: &Timings,
) -> Result<PipelineOutput, PipelineError> {
    let journal = Journal::open(target.staging.dir());
    let reuse = Reuse {
        journal: if target.staging.resumed() {
            journal.entries()
        } else {
            Default::default()
        },
        dir: target.staging.dir().to_path_buf(),
        context: target.context.clone(),
    };
    let threads = threads.max(1);
    prepare::lept::quiet();
    let mut engines = Vec::new();
    if profile.ocr_enabled {
        // Loading the language data takes a while: all engines at once.
        let made: Vec<Result<Engine, OcrError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| scope.spawn(|| Engine::new(&profile.language_spec())))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("engine setup does not panic"))
                .collect()
        });
        for engine in made {
            engines.push(Some(engine?));
        }
    } else {
        engines.resize_with(threads, || None);
    }
    let mut composer = Composer::new(batch, profile, operator, target, journal);
    if threads == 1 {
        let mut engine = engines.pop().flatten();
        for job in Jobs::new(batch, &profile.limits, &reuse, timings) {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let done = work(job, engine.as_mut(), profile, timings);
            announce(composer.progress, &done);
            timings.time(Stage::Compose, || composer.accept(done))?;
        }
    } else {
        run_parallel(batch, profile, engines, &mut composer, stop, &reuse, timings)?;
    }
    if stop.load(Ordering::SeqCst) {
        return Err(PipelineError::Interrupted);
    }
    Ok(composer.output)
}

fn run_parallel(
    batch: &Batch,
    profile: &Profile,
    engines: Vec<Option<Engine>>,
    composer: &mut Composer,
    stop: &AtomicBool,
    reuse: &Reuse,
    timings: &Timings,
) -> Result<(), PipelineError> {
    let slots = 4 * engines.len() + 4;
    let (job_tx, job_rx) = bounded::<Job>(slots);
    let (done_tx, done_rx) = bounded::<Done>(slots);
    let (slot_tx, slot_rx) = bounded::<()>(slots);
    (0..slots).for_each(|_| slot_tx.send(()).expect("channel has room"));
    // Every channel end is moved into the scope, so an early error return drops them all before
    // the scope joins: the reader and workers then see closed channels and stop.
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            for job in Jobs::new(batch, &profile.limits, reuse, timings) {
                if stop.load(Ordering::SeqCst) || slot_rx.recv().is_err() || job_tx.send(job).is_err() {
                    return;
                }
            }
        });
        for mut engine in engines {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                for job in job_rx {
                    if done_tx
                        .send(work(job, engine.as_mut(), profile, timings))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop((job_rx, done_tx));
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        for done in done_rx {
            announce(composer.progress, &done);
            pending.insert(done.seq, done);
            while let Some(done) = pending.remove(&next) {
                timings.time(Stage::Compose, || composer.accept(done))?;
                next += 1;
                let _ = slot_tx.send(());
            }
        }
        Ok(())
    })
}

/// The reader: documents → files (read and hashed once) → page jobs, lazily, in batch order.
struct Jobs<'a> {
    batch: &'a Batch,
    limits: &'a decode::InputLimits,
    reuse: &'a Reuse,
    timings: &'a Timings,
    doc: usize,
    part: usize,
    number: u32,
    seq: u64,
    sources: Vec<SourceRecord>,
    queue: VecDeque<Job>,
    /// The file read last, kept for the next document when a stack file is split over several.
    last: Option<(std::path::PathBuf, Arc<SourceFile>, u32)>,
}

impl<'a> Jobs<'a> {
    fn new(
        batch: &'a Batch,
        limits: &'a decode::InputLimits,
        reuse: &'a Reuse,
        timings: &'a Timings,
    ) -> Self {
        Jobs {
            batch,
            limits,
            reuse,
            timings,
            doc: 0,
            part: 0,
            number: 0,
            seq: 0,
            sources: Vec::new(),
            queue: VecDeque::new(),
            last: None,
        }
    }

    fn push(&mut self, work: Work) {
        self.queue.push_back(Job {
            seq: self.seq,
            doc: self.doc,
            work,
        });
        self.seq += 1;
    }

    /// Queues the jobs of the document's next part (pages of a file), or its end.
    fn advance(&mut self) {
        let document = &self.batch.documents[self.doc];
        if self.part == 0
            && let Some(record) = self.reuse.finished(self.batch, document)
        {
            self.push(Work::Reuse(Box::new(record)));
            self.next_document();
            return;
        }
        let Some(part) = document.parts.get(self.part) else {
            let sources = std::mem::take(&mut self.sources);
            self.push(Work::End(sources));
            self.next_document();
            return;
        };
        let rel = self.batch.relative(&part.file);
        let read = match &self.last {
            Some((path, source, pages)) if *path == part.file => Ok((Arc::clone(source), *pages)),
            _ => self
                .timings
                .time(Stage::Read, || decode::read_source(&part.file, &rel, self.limits))
                .map(|(source, pages)| (Arc::new(source), pages)),
        };
        let (source, pages) = match read {
            Ok(read) => read,
            Err(message) => {
                self.push(Work::Failed(message));
                self.next_document();
                return;
            }
        };
        self.last = Some((part.file.clone(), Arc::clone(&source), pages));
        let whole = part.pages.start == 0 && part.pages.end >= pages;
        if !whole && part.pages.end > pages {
            self.push(Work::Failed(format!(
                "{rel}: has {pages} pages, but pages {}–{} were separated into this document: \
                 the file changed after the batch was read; run the batch again",
                part.pages.start + 1,
                part.pages.end
            )));
            self.next_document();
            return;
        }
        let range = part.pages.start..part.pages.end.min(pages);
        self.sources.push(SourceRecord {
            path: rel,
            format: format!("{:?}", source.format).to_lowercase(),
            pages: range.len() as u32,
            first_page: (!whole).then_some(range.start + 1),
            digests: source.digests.clone(),
        });
        for index in range {
            self.number += 1;
            let number = self.number;
            self.push(Work::Page {
                source: Arc::clone(&source),
                index,
                number,
            });
        }
        self.part += 1;
    }

    fn next_document(&mut self) {
        self.doc += 1;
        self.part = 0;
        self.number = 0;
        self.sources.clear();
    }
}

impl Iterator for Jobs<'_> {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        while self.queue.is_empty() && self.doc < self.batch.documents.len() {
            self.advance();
        }
        self.queue.pop_front()
    }
}

/// The journal of a resumed staging folder, and what a document must match to be reused.
struct Reuse {
    journal: HashMap<String, journal::Entry>,
    dir: std::path::PathBuf,
    context: String,
}

impl Reuse {
    /// The record of `document` if it is finished in the staging folder from exactly this input
    /// and context, with its PDF and record unchanged since they were journaled.
    fn finished(&self, batch: &Batch, document: &crate::batch::DocumentSource) -> Option<DocumentRecord> {
        let entry = self.journal.get(&document.id)?;
        if entry.context != self.context {
            return None;
        }
        let mut sources = Vec::new();
        for file in document.files() {
            sources.push((batch.relative(file), Digests::of_file(file).ok()?.sha256));
        }
        if sources != entry.sources {
            return None;
        }
        let pdf = Digests::of_file(&self.dir.join(crate::layout::document_pdf(&document.id))).ok()?;
        let bytes = std::fs::read(self.dir.join(crate::layout::document_record(&document.id))).ok()?;
        let mut record: DocumentRecord = serde_json::from_slice(&bytes).ok()?;
        // A crash during sealing may have left the proof in; it is made anew.
        record.proof = None;
        let unchanged = pdf.sha256 == entry.pdf_sha256
            && record.pdf_digests == pdf
            && crate::seal::hash::sha256_hex(&to_json(&record)) == entry.record_sha256;
        unchanged.then_some(record)
    }
}

/// The sources read page by page from disk (TIFF) whose bytes are no longer those hashed when
/// they were opened: their pages may not be the pages the recorded digest stands for.
fn changed_since_read<'a>(
    files: impl IntoIterator<Item = &'a std::path::PathBuf>,
    sources: &[SourceRecord],
) -> Vec<String> {
    files
        .into_iter()
        .zip(sources)
        .filter(|(_, source)| source.format == "tiff")
        .filter(|(file, source)| Digests::of_file(file).map_or(true, |d| d != source.digests))
        .map(|(_, source)| {
            format!(
                "{}: the file changed while it was being read (its SHA-256 is no longer the one \
                 recorded); let nothing write into the batch while it is processed, then run again",
                source.path
            )
        })
        .collect()
}

/// Hands the allocator's free pages back to the kernel after each document. The process keeps
/// freed memory between pages (see `main.rs`), and each thread's heap fills its free spaces in
/// its own way, so resident memory would creep up over a long batch although the live heap does
/// not (heaptrack: 36.6 MiB peak at 50 pages, 39.3 at 1,000); trimming once per document keeps
/// peak RSS flat for the price of faulting some pages in again.
fn release_free_memory() {
    // SAFETY: malloc_trim only returns unused memory of glibc's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The worker stage: decode, prepare, recognise and encode one page.
fn work(job: Job, engine: Option<&mut Engine>, profile: &Profile, timings: &Timings) -> Done {
    let outcome = match job.work {
        Work::Page {
            source,
            index,
            number,
        } => match process_page(&source, index, number, engine, profile, timings) {
            Ok(page) => Outcome::Page(Box::new(page)),
            Err(message) => Outcome::PageFailed(message),
        },
        Work::End(sources) => Outcome::End(sources),
        Work::Failed(message) => Outcome::Failed(message),
        Work::Reuse(record) => Outcome::Reused(record),
    };
    Done {
        seq: job.seq,
        doc: job.doc,
        outcome,
    }
}

fn process_page(
    source: &SourceFile,
    index: u32,
    number: u32,
    engine: Option<&mut Engine>,
    profile: &Profile,
    timings: &Timings,
) -> Result<FinishedPage, String> {
    let mut clock = thread_cpu();
    let mut lap = |stage: Stage| {
        let now = thread_cpu();
        timings.add(stage, now.saturating_sub(clock));
        clock = now;
    };
    let at =
        |stage: &str, e: &dyn std::fmt::Display| format!("{}, page {}: {stage}: {e}", source.rel, index + 1);
    let page = decode::open_page(source, index, &profile.limits)?;
    lap(Stage::Decode);
    let prepared = prepare::prepare(page, profile).map_err(|e| at("prepare", &e))?;
    let m = &prepared.measurements;
    let gray = prepare::gray(&prepared.page);
    let blank = prepare::blank::measure(&gray, m.width_px as usize, m.height_px as usize, m.dpi.1);
    let thumbnail = Thumbnail::of(&prepared.page, &gray);
    drop(gray);
    lap(Stage::Prepare);
    let reading = match (engine, &prepared.ocr_image) {
        (Some(engine), Some(image)) => {
            Some(ocr::read_page(engine, image, &profile.prepare, blank.blank).map_err(|e| at("ocr", &e))?)
        }
        _ => None,
    };
    lap(Stage::Ocr);
    let mut page = prepared.page;
    let mut upright = reading.as_ref().map(|r| r.upright).unwrap_or_default();
    let mut operations = Vec::new();
    let orientation = reading.as_ref().and_then(|r| r.orientation.clone());
    let skew = reading.as_ref().and_then(|r| r.skew);
    if let Some(o) = orientation.as_ref().filter(|o| o.rotate != 0) {
        operations.push(format!(
            "displayed turned by {}° clockwise (/Rotate; found by {}); image unchanged",
            o.rotate, o.method
        ));
    }
    if let Some(s) = skew.filter(|s| s.corrected) {
        let straightened = (profile.prepare.deskew == Deskew::Image)
            .then(|| prepare::deskewed(&page, s.degrees))
            .flatten();
        match straightened {
            Some(straight) => {
                page = straight;
                upright.deskew_degrees = 0.0;
                operations.push(format!(
                    "image deskewed by {:.2}° (rotated, then encoded losslessly; profile deskew = \"image\")",
                    s.degrees
                ));
            }
            None => operations.push(format!(
                "OCR read a copy deskewed by {:.2}°; image unchanged, text layer follows the skew",
                s.degrees
            )),
        }
    }
    let image = PdfImage::encode(&page);
    let recognition = reading.map(|r| r.recognition);
    let ocr_facts = recognition
        .as_ref()
        .map(|r| (r.mean_confidence(), r.words().count()));
    let (flags, needs_review) = prepare::quality::assess(
        &prepare::quality::PageFacts {
            dpi: m.dpi,
            colour_mode: m.colour_mode,
            blank: &blank,
            orientation: orientation.as_ref(),
            skew: skew.as_ref(),
            ocr: ocr_facts,
        },
        profile,
    );
    let record = PageRecord {
        number,
        source: source.rel.clone(),
        source_page: index + 1,
        width_px: m.width_px,
        height_px: m.height_px,
        dpi: [m.dpi.0, m.dpi.1],
        dpi_assumed: m.dpi_assumed,
        colour_mode: m.colour_mode.to_string(),
        image_encoding: image.encoding.label().to_string(),
        words: ocr_facts.map_or(0, |(_, n)| n),
        mean_confidence: ocr_facts.and_then(|(c, _)| c),
        pdf_page: None,
        image_sha256: image.content_sha256(),
        orientation,
        skew,
        blank,
        operations,
        flags,
        needs_review,
        warnings: prepared.warnings,
    };
    let thumbnail = thumbnail
        .rotated(record.orientation.as_ref().map_or(0, |o| o.rotate))
        .png();
    lap(Stage::Encode);
    Ok(FinishedPage {
        record,
        image,
        recognition,
        upright,
        thumbnail,
    })
}

/// The compose stage: writes each document's PDF and JSON as its pages arrive in order.
struct Composer<'a> {
    batch: &'a Batch,
    profile: &'a Profile,
    operator: &'a str,
    staging: &'a Staging,
    /// Signs each PDF (PAdES) when a certificate is configured.
    signer: Option<PadesSigner<'a>>,
    journal: Journal,
    context: String,
    progress: &'a dyn Progress,
    open: Option<OpenDocument>,
    output: PipelineOutput,
}

struct OpenDocument {
    doc: usize,
    /// Pages written into the PDF so far.
    pdf_pages: u32,
    writer: Option<DocumentWriter<StagedFile>>,
    pages: Vec<PageRecord>,
    errors: Vec<String>,
}

impl<'a> Composer<'a> {
    fn new(
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

    fn accept(&mut self, done: Done) -> Result<(), ArchiveError> {
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
        };
        writer.add_page(content).map_err(staging.write_err(&rel))?;
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
            statement: crate::protocol::STATEMENT_DE.into(),
        };
        let mut writer = writer;
        writer.info_mut().transfer_note = self.xmp_transfer_note(doc, &transfer_note);
        let file = match &self.signer {
            Some(signer) => writer.finish_signed(|digest| signer.sign(digest)),
            None => writer.finish(),
        }
        .map_err(self.staging.write_err(&rel))?;
        let pdf_digests = self.staging.close_file(&rel, file)?;
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
        };
        let json = to_json(&record);
        self.staging
            .write_file(&crate::layout::document_record(&id), &json)?;
        let entry = journal::Entry {
            document: id.clone(),
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
        let id = record.document_id.clone();
        let rel = record.pdf.clone();
        self.output.pages += record.pages.len();
        self.output.documents.push(DocumentSummary {
            id,
            pdf: rel,
            pages: record.page_count,
            scanned_pages: record.pages.len(),
            flagged_pages: FlaggedPage::of(&record.pages),
            mean_confidence: record.mean_confidence,
            metadata: record.metadata.clone(),
            warnings: record
                .pages
                .iter()
                .flat_map(|p| p.warnings.iter().map(|w| format!("page {}: {w}", p.number)))
                .collect(),
            sources: record.sources,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    #[test]
    fn a_tiff_changed_after_hashing_is_named() {
        let dir = std::env::temp_dir().join(format!("scanwerk-changed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (tiff, png) = (dir.join("a.tif"), dir.join("b.png"));
        std::fs::write(&tiff, b"II*\0 first").unwrap();
        std::fs::write(&png, b"png bytes").unwrap();
        let record = |path: &std::path::Path, format: &str| SourceRecord {
            path: path.file_name().unwrap().to_string_lossy().into_owned(),
            format: format.into(),
            pages: 1,
            first_page: None,
            digests: Digests::of_file(path).unwrap(),
        };
        let sources = [record(&tiff, "tiff"), record(&png, "png")];
        let files = [tiff.clone(), png.clone()];
        assert!(changed_since_read(&files, &sources).is_empty());
        std::fs::write(&tiff, b"II*\0 other").unwrap();
        std::fs::write(&png, b"other png").unwrap();
        let errors = changed_since_read(&files, &sources);
        // The PNG was decoded from the hashed bytes in memory; only the TIFF is read again.
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("a.tif: the file changed"), "{errors:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn demo() -> Batch {
        Batch::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo-batch")).unwrap()
    }

    fn target(staging: &Staging) -> Target<'_> {
        Target {
            staging,
            signer: None,
            context: "test".into(),
            progress: &NoProgress,
        }
    }

    fn archive(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("scanwerk-pipeline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parallel_and_sequential_give_the_same_documents() {
        let profile = crate::profile::load("image-only").unwrap();
        let (a, b) = (archive("seq"), archive("par"));
        let (sa, sb) = (
            Staging::create(&a, "x").unwrap(),
            Staging::create(&b, "x").unwrap(),
        );
        let one = run(
            &demo(),
            &profile,
            "tester",
            1,
            target(&sa),
            &AtomicBool::new(false),
            &Timings::default(),
        )
        .unwrap();
        let two = run(
            &demo(),
            &profile,
            "tester",
            3,
            target(&sb),
            &AtomicBool::new(false),
            &Timings::default(),
        )
        .unwrap();
        assert_eq!(one.pages, 5);
        let ids = |o: &PipelineOutput| {
            o.documents
                .iter()
                .map(|d| (d.id.clone(), d.pages))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&one), ids(&two));
        assert_eq!(
            ids(&one),
            vec![("akte".into(), 2), ("antrag".into(), 2), ("bescheid".into(), 1)]
        );
        for doc in ["akte", "antrag", "bescheid"] {
            let rel = format!("documents/{doc}.pdf");
            assert_eq!(
                std::fs::read(sa.dir().join(&rel)).unwrap(),
                std::fs::read(sb.dir().join(&rel)).unwrap()
            );
        }
        drop((sa, sb));
        let _ = std::fs::remove_dir_all(a);
        let _ = std::fs::remove_dir_all(b);
    }

    #[test]
    fn a_write_error_stops_every_thread() {
        // The staging folder vanishes under the pipeline: composing the first document fails, and
        // the reader and workers must wind down instead of waiting forever.
        let profile = crate::profile::load("image-only").unwrap();
        let dir = archive("vanish");
        let staging = Staging::create(&dir, "x").unwrap();
        std::fs::remove_dir_all(staging.dir()).unwrap();
        let result = run(
            &demo(),
            &profile,
            "tester",
            2,
            target(&staging),
            &AtomicBool::new(false),
            &Timings::default(),
        );
        assert!(
            matches!(result, Err(PipelineError::Archive(_))),
            "{:?}",
            result.err()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
