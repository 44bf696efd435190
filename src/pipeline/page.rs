//! The page stage, on a worker thread with its own tesseract engine: decode, measure and prepare,
//! recognise, straighten (only where the profile allows), encode losslessly and record one page.

use std::sync::Arc;

use super::{Done, FinishedPage, Job, Outcome, Stage, Timings, Work, thread_cpu};
use crate::decode::{self, InputError, SourceFile};
use crate::ocr::{self, Engine};
use crate::pdfa::PdfImage;
use crate::prepare;
use crate::profile::{Deskew, Profile};
use crate::protocol::PageRecord;
use crate::report::Thumbnail;

/// The worker stage: decode, prepare, recognise and encode one page.
pub(super) fn work(job: Job, engine: Option<&mut Engine>, profile: &Profile, timings: &Timings) -> Done {
    match measure_job(job, profile, timings) {
        Step::Done(done) => done,
        Step::Ready(page) => read_and_finish(*page, engine, profile, timings),
    }
}

/// What the first half of the worker stage leaves: a result, or a page waiting for OCR.
pub(super) enum Step {
    Done(Done),
    Ready(Box<ReadyPage>),
}

/// A page decoded, prepared and measured, waiting for its engine.
pub(super) struct ReadyPage {
    seq: u64,
    doc: usize,
    source: Arc<SourceFile>,
    index: u32,
    number: u32,
    flags: Vec<&'static str>,
    measured: Measured,
}

impl super::schedule::Waiting for Box<ReadyPage> {
    /// The ink marks measured for the blank test (a blank page is not recognised): tesseract's
    /// work grows with the marks it classifies, not with the pixels around them. On the bench's
    /// mixed pages they order the pages as their recognition instructions do.
    fn cost(&self) -> u64 {
        let blank = &self.measured.blank;
        if blank.blank { 0 } else { blank.marks as u64 }
    }

    fn seq(&self) -> u64 {
        self.seq
    }
}

/// The first half of the worker stage: decodes, prepares and measures a page; every other job
/// is done here.
pub(super) fn measure_job(job: Job, profile: &Profile, timings: &Timings) -> Step {
    let done = |outcome| {
        Step::Done(Done {
            seq: job.seq,
            doc: job.doc,
            outcome,
        })
    };
    match job.work {
        Work::Page {
            source,
            index,
            number,
            flags,
        } => {
            let mut laps = Laps {
                timings,
                clock: thread_cpu(),
            };
            let page = decode::open_page(&source, index, &profile.limits);
            laps.lap(Stage::Decode);
            let measured = page.and_then(|page| {
                measure(page, profile).map_err(|e| InputError::page(&source.rel, index, "prepare", &e))
            });
            laps.lap(Stage::Prepare);
            match measured {
                Ok(measured) => Step::Ready(Box::new(ReadyPage {
                    seq: job.seq,
                    doc: job.doc,
                    source,
                    index,
                    number,
                    flags,
                    measured,
                })),
                Err(e) => done(Outcome::PageFailed(e)),
            }
        }
        Work::End(sources) => done(Outcome::End(sources)),
        Work::Failed(message) => done(Outcome::Failed(message)),
        Work::Reuse(record) => done(Outcome::Reused(record)),
    }
}

/// The second half of the worker stage: recognises, straightens, encodes and records the page.
pub(super) fn read_and_finish(
    page: ReadyPage,
    engine: Option<&mut Engine>,
    profile: &Profile,
    timings: &Timings,
) -> Done {
    let ReadyPage {
        seq,
        doc,
        source,
        index,
        number,
        flags,
        measured,
    } = page;
    let outcome = match read(&source, index, number, measured, engine, profile, timings) {
        Ok(mut page) => {
            // Separation's flags ask for review like the quality flags.
            page.record.needs_review |= !flags.is_empty();
            page.record.flags.extend(flags.into_iter().map(String::from));
            Outcome::Page(Box::new(page))
        }
        Err(message) => Outcome::PageFailed(message),
    };
    Done { seq, doc, outcome }
}

/// A page decoded, prepared and measured: what the later steps work from.
struct Measured {
    prepared: prepare::PreparedPage,
    blank: crate::findings::BlankMeasure,
    thumbnail: Thumbnail,
}

/// The page as it goes into the PDF: possibly straightened, how it is turned upright, and what
/// was done to it.
struct Straightened {
    page: crate::decode::Page,
    upright: crate::prepare::geometry::Upright,
    operations: Vec<String>,
}

/// Charges the CPU time since the last lap to a stage.
struct Laps<'a> {
    timings: &'a Timings,
    clock: std::time::Duration,
}

impl Laps<'_> {
    fn lap(&mut self, stage: Stage) {
        let now = thread_cpu();
        self.timings.add(stage, now.saturating_sub(self.clock));
        self.clock = now;
    }
}

fn read(
    source: &SourceFile,
    index: u32,
    number: u32,
    measured: Measured,
    engine: Option<&mut Engine>,
    profile: &Profile,
    timings: &Timings,
) -> Result<FinishedPage, InputError> {
    let mut laps = Laps {
        timings,
        clock: thread_cpu(),
    };
    let reading = match (engine, &measured.prepared.ocr_image) {
        (Some(engine), Some(image)) => Some(
            ocr::read_page(engine, image, &profile.prepare, measured.blank.blank)
                .map_err(|e| InputError::page(&source.rel, index, "ocr", &e))?,
        ),
        _ => None,
    };
    laps.lap(Stage::Ocr);
    let finished = finish(source, index, number, measured, reading, profile);
    laps.lap(Stage::Encode);
    Ok(finished)
}

/// Prepares the page and measures it: blank or not, and a thumbnail for the report.
fn measure(page: crate::decode::Page, profile: &Profile) -> Result<Measured, prepare::PrepareError> {
    let prepared = prepare::prepare(page, profile)?;
    let m = &prepared.measurements;
    let gray = prepare::gray(&prepared.page);
    let blank = prepare::blank::measure(&gray, m.width_px as usize, m.height_px as usize, m.dpi.1);
    let thumbnail = Thumbnail::of(&prepared.page, &gray);
    Ok(Measured {
        prepared,
        blank,
        thumbnail,
    })
}

/// Turns the page upright (a `/Rotate`, never new pixels) and straightens it only where the
/// profile asks for it; records what was done.
fn straighten(
    page: crate::decode::Page,
    reading: Option<&ocr::PageReading>,
    profile: &Profile,
) -> Straightened {
    let mut out = Straightened {
        page,
        upright: reading.map(|r| r.upright).unwrap_or_default(),
        operations: Vec::new(),
    };
    if let Some(o) = reading
        .and_then(|r| r.orientation.as_ref())
        .filter(|o| o.rotate != 0)
    {
        out.operations.push(format!(
            "displayed turned by {}° clockwise (/Rotate; found by {}); image unchanged",
            o.rotate, o.method
        ));
    }
    let Some(s) = reading.and_then(|r| r.skew).filter(|s| s.corrected) else {
        return out;
    };
    let straightened = (profile.prepare.deskew == Deskew::Image)
        .then(|| prepare::deskewed(&out.page, s.degrees))
        .flatten();
    match straightened {
        Some(straight) => {
            out.page = straight;
            out.upright.deskew_degrees = 0.0;
            out.operations.push(format!(
                "image deskewed by {:.2}° (rotated, then encoded losslessly; profile deskew = \"image\")",
                s.degrees
            ));
        }
        None => out.operations.push(format!(
            "OCR read a copy deskewed by {:.2}°; image unchanged, text layer follows the skew",
            s.degrees
        )),
    }
    out
}

/// Straightens and encodes the page, assesses it against the profile and records it.
fn finish(
    source: &SourceFile,
    index: u32,
    number: u32,
    measured: Measured,
    reading: Option<ocr::PageReading>,
    profile: &Profile,
) -> FinishedPage {
    let Measured {
        prepared,
        blank,
        thumbnail,
    } = measured;
    let m = &prepared.measurements;
    let orientation = reading.as_ref().and_then(|r| r.orientation.clone());
    let skew = reading.as_ref().and_then(|r| r.skew);
    let straight = straighten(prepared.page, reading.as_ref(), profile);
    let image = PdfImage::encode(&straight.page);
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
        operations: straight.operations,
        flags,
        needs_review,
        warnings: prepared.warnings,
    };
    let thumbnail = thumbnail
        .rotated(record.orientation.as_ref().map_or(0, |o| o.rotate))
        .png();
    FinishedPage {
        record,
        image,
        recognition,
        upright: straight.upright,
        frame: straight.page.frame,
        thumbnail,
    }
}
