//! Pipeline: read → prepare → recognize → compose, with pages in parallel and documents in order.
//!
//! One reader thread reads and hashes each input file (before anything decodes it) and turns it
//! into page jobs; N workers, each owning one tesseract engine, decode, prepare, OCR and encode
//! pages; the calling thread composes the PDFs in page order. Every job carries a sequence number
//! and the composer returns a slot for each one it finishes, so at most `slots` pages are in
//! memory however large the batch. Once the reader has issued the last job, the workers measure
//! the remaining pages ahead and recognise the dearest first ([`schedule`]), so the batch does
//! not end with one core on its heaviest page. Failures travel as values: a bad page fails its
//! document, not the run. `threads == 1` runs the same functions in one thread.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{TryRecvError, bounded};

use crate::archive::{ArchiveError, Staging};
use crate::batch::Batch;
use crate::decode::{InputError, SourceFile};
use crate::journal::Journal;
use crate::ocr::{Engine, OcrError, Recognition};
use crate::pdfa::PdfImage;
use crate::prepare::{self, geometry::Upright};
use crate::profile::Profile;
use crate::progress::Progress;
use crate::protocol::{DocumentRecord, DocumentSummary, PageRecord, SourceRecord};
use crate::seal::cms::PadesSigner;

mod composer;
mod page;
mod reader;
mod schedule;
mod timings;

use composer::Composer;
use page::{ReadyPage, Step, measure_job, read_and_finish, work};
use reader::{Jobs, Reuse};
use schedule::Pool;
pub use timings::{Stage, Timings, thread_cpu};

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
    pub errors: Vec<InputError>,
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
        /// Flags separation gave the page (they ask for review).
        flags: Vec<&'static str>,
    },
    /// All pages of the document were issued; carries its source records.
    End(Vec<SourceRecord>),
    /// The document cannot be read at all.
    Failed(InputError),
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
    PageFailed(InputError),
    End(Vec<SourceRecord>),
    Failed(InputError),
    Reused(Box<DocumentRecord>),
}

struct FinishedPage {
    record: PageRecord,
    image: PdfImage,
    recognition: Option<Recognition>,
    upright: Upright,
    /// A scanner PDF's page frame, kept in the output (see [`crate::decode::Page::frame`]).
    frame: Option<crate::decode::pdf::Frame>,
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
    let pool = &Pool::new(engines.len(), engines.iter().any(Option::is_some));
    // Every channel end is moved into the scope, so an early error return drops them all before
    // the scope joins: the reader and workers then see closed channels and stop.
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            for job in Jobs::new(batch, &profile.limits, reuse, timings) {
                if stop.load(Ordering::SeqCst) || slot_rx.recv().is_err() || job_tx.send(job).is_err() {
                    return;
                }
            }
            pool.read_all();
        });
        for engine in engines {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || worker(engine, &job_rx, &done_tx, pool, profile, timings));
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

/// A worker with its engine: measures the pages it takes, and recognises those the pool gives it
/// (see [`schedule`]), until the jobs are done or the composer has gone.
fn worker(
    mut engine: Option<Engine>,
    jobs: &crossbeam_channel::Receiver<Job>,
    done: &crossbeam_channel::Sender<Done>,
    pool: &Pool<Box<ReadyPage>>,
    profile: &Profile,
    timings: &Timings,
) {
    // Each returns false once the composer has gone.
    let recognise = |page: Box<ReadyPage>, engine: &mut Option<Engine>| {
        done.send(read_and_finish(*page, engine.as_mut(), profile, timings))
            .is_ok()
    };
    // A job's result goes to the composer; a measured page is recognised at once, by this worker,
    // while the reader reads, and goes to the pool once pages are measured ahead.
    let take_job = |job, engine: &mut Option<Engine>| match measure_job(job, profile, timings) {
        Step::Done(result) => done.send(result).is_ok(),
        Step::Ready(page) if pool.ahead() => {
            pool.push(page);
            true
        }
        Step::Ready(page) => recognise(page, engine),
    };
    let mut open = true;
    loop {
        if open && pool.wants_more() {
            match jobs.try_recv() {
                Ok(job) => {
                    if !take_job(job, &mut engine) {
                        return;
                    }
                    continue;
                }
                Err(TryRecvError::Disconnected) => open = false,
                Err(TryRecvError::Empty) => {}
            }
        }
        if let Some(page) = pool.take() {
            if !recognise(page, &mut engine) {
                return;
            }
            continue;
        }
        // Nothing measured is waiting (another worker recognises whatever it adds).
        if !open {
            return;
        }
        match jobs.recv() {
            Ok(job) => {
                if !take_job(job, &mut engine) {
                    return;
                }
            }
            Err(_) => open = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::seal::Digests;
    use reader::changed_since_read;

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
        assert!(
            errors[0].to_string().starts_with("a.tif: the file changed"),
            "{errors:?}"
        );
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
        same_documents_in_parallel("image-only");
    }

    /// With OCR, the last pages are measured ahead and recognised dearest first
    /// ([`schedule`]): the same bytes as one page after the other.
    #[test]
    fn parallel_with_ocr_and_dearest_first_gives_the_same_documents() {
        same_documents_in_parallel("standard");
    }

    fn same_documents_in_parallel(profile: &str) {
        let profile = crate::profile::load(profile).unwrap();
        let (a, b) = (
            archive(&format!("seq-{}", profile.id)),
            archive(&format!("par-{}", profile.id)),
        );
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
