//! The page stage, on a worker thread with its own tesseract engine: decode, measure and prepare,
//! recognise, straighten (only where the profile allows), encode losslessly and record one page.

use super::{Done, FinishedPage, Job, Outcome, Stage, Timings, Work, thread_cpu};
use crate::decode::{self, SourceFile};
use crate::ocr::{self, Engine};
use crate::pdfa::PdfImage;
use crate::prepare;
use crate::profile::{Deskew, Profile};
use crate::protocol::PageRecord;
use crate::report::Thumbnail;

/// The worker stage: decode, prepare, recognise and encode one page.
pub(super) fn work(job: Job, engine: Option<&mut Engine>, profile: &Profile, timings: &Timings) -> Done {
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
