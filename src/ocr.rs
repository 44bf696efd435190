//! OCR: tesseract in-process, one engine per worker thread, created once and reused for every page.
//!
//! Results are read from tesseract's TSV rendering (words with boxes and confidences, grouped into
//! lines), which carries everything the text layer needs and nothing it has to undo. Tesseract runs
//! single-threaded (`OMP_THREAD_LIMIT=1`, set by the binary before any thread starts); parallelism
//! comes from pages.

use std::ffi::CString;

use crate::findings::{OrientationFinding, SkewFinding};
use crate::prepare::geometry::Upright;
use crate::prepare::lept::LeptImage;
use crate::prepare::{OcrImage, OcrPixels};
use crate::profile::{Deskew, PreparePolicy};

mod line_images;
mod tess;

use tess::Tess;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(
        "cannot start tesseract with languages {languages:?}: is the traineddata installed? \
         (Debian: apt-get install tesseract-ocr-<lang>; scripts/setup.sh installs deu and eng)"
    )]
    Init { languages: String },
    #[error("tesseract rejected the page image: {0}")]
    Image(String),
    #[error("tesseract failed to recognise the page")]
    Recognise,
}

/// A box in image pixels: left, top, right, bottom (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BBox {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub bbox: BBox,
    /// Tesseract's confidence, 0–100.
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Line {
    pub bbox: BBox,
    pub words: Vec<Word>,
}

/// The recognised text of one page, in tesseract's reading order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recognition {
    pub lines: Vec<Line>,
}

impl Recognition {
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.lines.iter().flat_map(|l| l.words.iter())
    }

    /// Mean word confidence, or `None` for a page without words.
    pub fn mean_confidence(&self) -> Option<f32> {
        let (sum, n) = self.words().fold((0.0, 0), |(s, n), w| (s + w.confidence, n + 1));
        (n > 0).then(|| sum / n as f32)
    }

    pub fn text(&self) -> String {
        let lines: Vec<String> = self
            .lines
            .iter()
            .map(|l| {
                l.words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        lines.join("\n")
    }
}

/// One tesseract engine. Not shared between threads; each worker owns one.
pub struct Engine {
    api: Tess,
    /// Orientation detection, loaded on first use.
    osd: Option<Tess>,
}

impl Engine {
    /// Loads the languages (e.g. `deu+eng`) once; reuse the engine for every page.
    pub fn new(languages: &str) -> Result<Engine, OcrError> {
        let init = || OcrError::Init {
            languages: languages.to_string(),
        };
        let lang = CString::new(languages).map_err(|_| init())?;
        // The C API defaults to one uniform block; the tesseract CLI (and any multi-column page)
        // needs automatic page segmentation.
        let api = Tess::new(&lang, tesseract_sys::TessPageSegMode_PSM_AUTO).ok_or_else(init)?;
        Ok(Engine { api, osd: None })
    }

    /// Recognises the working copy as it is (no turns).
    pub fn recognize(&mut self, image: &OcrImage) -> Result<Recognition, OcrError> {
        let pix = working_pix(image)?;
        self.recognize_pix(&pix, image.ppi)
    }

    /// Recognises a leptonica image at `ppi`.
    pub fn recognize_pix(&mut self, pix: &LeptImage, ppi: u32) -> Result<Recognition, OcrError> {
        self.api.set_image(pix, ppi);
        if !line_images::recognizing(|| self.api.recognize()) {
            return Err(OcrError::Recognise);
        }
        Ok(self.api.words())
    }

    /// Tesseract's orientation detection (OSD): the clockwise quarter turns that make the page
    /// upright and tesseract's confidence, or `None` where it cannot tell (too little text).
    pub fn detect_orientation(&mut self, pix: &LeptImage, ppi: u32) -> Option<(u8, f32)> {
        if self.osd.is_none() {
            self.osd = Some(Tess::new(c"osd", tesseract_sys::TessPageSegMode_PSM_OSD_ONLY)?);
        }
        let osd = self.osd.as_mut()?;
        osd.set_image(pix, ppi);
        let found = osd.detect_orientation();
        osd.clear();
        // OSD reports how far the page is turned clockwise; it takes the opposite turn to fix.
        found.map(|(degrees, confidence)| ((((360 - degrees.rem_euclid(360)) / 90) % 4) as u8, confidence))
    }
}

/// The working copy as a leptonica image: a JPEG decoded by leptonica (as the tesseract CLI
/// does), samples copied.
pub fn working_pix(image: &OcrImage) -> Result<LeptImage, OcrError> {
    let pix = match &image.pixels {
        OcrPixels::Samples {
            bytes_per_pixel,
            data,
        } => LeptImage::from_samples(data, image.width, image.height, *bytes_per_pixel),
        OcrPixels::Jpeg(bytes) => LeptImage::from_jpeg(bytes),
        OcrPixels::Bilevel(bits) => LeptImage::from_bilevel(bits, image.width, image.height),
    };
    let mut pix = pix.ok_or_else(|| OcrError::Image("leptonica could not take the page image".into()))?;
    pix.set_resolution(image.ppi);
    Ok(pix)
}

/// OSD below this confidence is not trusted to turn a page; the page is then read in all four
/// orientations and the one with the most confidently recognised text wins. (Seen on the real
/// scans: right turns at 9.3–21.5, a wrong one at 3.6.)
const OSD_MIN_CONFIDENCE: f32 = 5.0;
/// Leptonica's skew confidence below which an angle is not acted on.
const SKEW_MIN_CONFIDENCE: f32 = 2.0;

/// What reading a page found and did.
#[derive(Debug, Clone)]
pub struct PageReading {
    pub upright: Upright,
    pub orientation: Option<OrientationFinding>,
    pub skew: Option<SkewFinding>,
    pub recognition: Recognition,
}

/// Reads one page: finds its orientation (unless switched off), measures its skew on
/// the upright copy, straightens the working copy where the profile allows, and recognises it.
pub fn read_page(
    engine: &mut Engine,
    image: &OcrImage,
    policy: &PreparePolicy,
    blank: bool,
) -> Result<PageReading, OcrError> {
    // A blank page (measured before OCR) is not recognised: there is nothing to read, and in
    // duplex scanning every other page may be one.
    if blank {
        return Ok(PageReading {
            upright: Upright::default(),
            orientation: None,
            skew: None,
            recognition: Recognition::default(),
        });
    }
    let mut page = PageReader {
        engine,
        base: working_pix(image)?,
        ppi: image.ppi,
        policy,
    };
    // Most pages lie upright: read the page as it lies first (straightened if skewed), and ask
    // orientation detection only if that reading is not clearly upright text. An upright page
    // then costs one recognition, as with the tesseract CLI.
    let mut as_it_lies = None;
    if policy.detect_orientation {
        let skew = page.measure_skew(None);
        let reading = page.read_straight(None, skew)?;
        if let Some(confidence) = upright_confidence(&reading) {
            return Ok(PageReading {
                upright: Upright {
                    quadrants: 0,
                    deskew_degrees: skew.filter(|s| s.corrected).map_or(0.0, |s| s.degrees),
                },
                orientation: Some(OrientationFinding {
                    rotate: 0,
                    method: "ocr-upright".into(),
                    confidence,
                }),
                skew,
                recognition: reading,
            });
        }
        as_it_lies = Some((skew, reading));
    }
    let (orientation, voted) = if policy.detect_orientation {
        page.orientation(&mut as_it_lies)?
    } else {
        (None, None)
    };
    page.upright(orientation, voted, as_it_lies)
}

/// One page being read: the engine, the page as leptonica holds it, and the profile's policy.
struct PageReader<'a> {
    engine: &'a mut Engine,
    base: LeptImage,
    ppi: u32,
    policy: &'a PreparePolicy,
}

/// A reading of the page as it lies, with the skew measured on it.
type AsItLies = Option<(Option<SkewFinding>, Recognition)>;

impl PageReader<'_> {
    /// The base turned by quadrants; `None` for no turn (the base itself, not a copy).
    fn turned(&self, quadrants: u8) -> Result<Option<LeptImage>, OcrError> {
        if quadrants == 0 {
            return Ok(None);
        }
        self.base
            .rotated_quadrants(quadrants)
            .map(Some)
            .ok_or_else(|| OcrError::Image("leptonica could not turn the page".into()))
    }

    /// The skew of `pix` (the base if `None`), and whether the profile corrects it.
    fn measure_skew(&self, pix: Option<&LeptImage>) -> Option<SkewFinding> {
        let policy = self.policy;
        pix.unwrap_or(&self.base)
            .skew()
            .map(|(degrees, confidence)| SkewFinding {
                degrees: (degrees * 100.0).round() / 100.0,
                confidence: (confidence * 100.0).round() / 100.0,
                corrected: policy.deskew != Deskew::Off
                    && degrees.abs() >= policy.min_deskew_degrees
                    && confidence >= SKEW_MIN_CONFIDENCE,
            })
    }

    /// Recognises `pix` (the base if `None`), straightened first if the skew is corrected.
    fn read_straight(
        &mut self,
        pix: Option<&LeptImage>,
        skew: Option<SkewFinding>,
    ) -> Result<Recognition, OcrError> {
        let pix = pix.unwrap_or(&self.base);
        match skew.filter(|s| s.corrected) {
            Some(s) => {
                let straight = pix
                    .rotated(s.degrees)
                    .ok_or_else(|| OcrError::Image("leptonica could not straighten the page".into()))?;
                self.engine.recognize_pix(&straight, self.ppi)
            }
            None => self.engine.recognize_pix(pix, self.ppi),
        }
    }

    /// How the page lies: tesseract's orientation detection if it is sure, else a vote of the
    /// four readings (then also the winning reading).
    fn orientation(
        &mut self,
        as_it_lies: &mut AsItLies,
    ) -> Result<(Option<OrientationFinding>, Option<Recognition>), OcrError> {
        match self.engine.detect_orientation(&self.base, self.ppi) {
            Some((quadrants, confidence)) if quadrants == 0 || confidence >= OSD_MIN_CONFIDENCE => {
                let finding = OrientationFinding {
                    rotate: u16::from(quadrants) * 90,
                    method: "osd".into(),
                    confidence,
                };
                Ok((Some(finding), None))
            }
            _ => {
                let (quadrants, recognition) = self.vote(as_it_lies)?;
                let finding = OrientationFinding {
                    rotate: u16::from(quadrants) * 90,
                    method: "ocr-vote".into(),
                    confidence: recognition.mean_confidence().unwrap_or(0.0),
                };
                Ok((Some(finding), Some(recognition)))
            }
        }
    }

    /// Reads the page in all four orientations; the most confident reading wins.
    fn vote(&mut self, as_it_lies: &mut AsItLies) -> Result<(u8, Recognition), OcrError> {
        let mut best: Option<(u8, f64, Recognition)> = None;
        for quadrants in 0..4u8 {
            let recognition = match (quadrants, as_it_lies.take()) {
                (0, Some((_, reading))) => reading,
                _ => {
                    let copy = self.turned(quadrants)?;
                    let pix = copy.as_ref().unwrap_or(&self.base);
                    self.engine.recognize_pix(pix, self.ppi)?
                }
            };
            let score = reading_score(&recognition);
            if best.as_ref().is_none_or(|(_, s, _)| score > *s) {
                best = Some((quadrants, score, recognition));
            }
        }
        let (quadrants, _, recognition) = best.expect("four readings");
        Ok((quadrants, recognition))
    }

    /// The page turned upright: its skew there, and the reading that stands.
    fn upright(
        mut self,
        orientation: Option<OrientationFinding>,
        voted: Option<Recognition>,
        as_it_lies: AsItLies,
    ) -> Result<PageReading, OcrError> {
        let quadrants = orientation.as_ref().map_or(0, |o| (o.rotate / 90) as u8);
        let upright_copy = self.turned(quadrants)?;
        let skew = match (&as_it_lies, quadrants) {
            (Some((skew, _)), 0) => *skew,
            _ => self.measure_skew(upright_copy.as_ref()),
        };
        let deskew_degrees = skew.filter(|s| s.corrected).map_or(0.0, |s| s.degrees);
        let recognition = match (voted, as_it_lies) {
            (Some(recognition), _) if deskew_degrees == 0.0 => recognition,
            // Orientation detection agreed the page lies upright: the first reading stands.
            (None, Some((_, reading))) if quadrants == 0 => reading,
            _ => self.read_straight(upright_copy.as_ref(), skew)?,
        };
        Ok(PageReading {
            upright: Upright {
                quadrants,
                deskew_degrees,
            },
            orientation,
            skew,
            recognition,
        })
    }
}

/// The mean confidence of a reading that is clearly upright text, or `None`: at least two words of
/// three or more letters, nine in ten of them wider than tall (a page read sideways gives tall word
/// boxes), read with a mean confidence of 80 or more (a page read upside down gives unsure
/// garbage).
fn upright_confidence(recognition: &Recognition) -> Option<f32> {
    // Words of three or more letters: shorter ones may stand taller than wide in any orientation.
    let words: Vec<&Word> = recognition
        .words()
        .filter(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
        .collect();
    let horizontal: Vec<&&Word> = words
        .iter()
        .filter(|w| w.bbox.right - w.bbox.left > w.bbox.bottom - w.bbox.top)
        .collect();
    if words.len() < 2 || horizontal.len() * 10 < words.len() * 9 {
        return None;
    }
    let confidence = horizontal.iter().map(|w| w.confidence).sum::<f32>() / horizontal.len() as f32;
    (confidence >= 80.0).then_some(confidence)
}

/// How much believable text a reading holds: confidence-weighted letters of horizontal words of
/// two or more letters. A page read upside down yields few words, short and unsure; one read
/// sideways may still be read, since tesseract finds vertical lines itself, but its words then
/// stand taller than wide and do not count.
fn reading_score(recognition: &Recognition) -> f64 {
    recognition
        .words()
        .map(|w| {
            let letters = w.text.chars().filter(|c| c.is_alphanumeric()).count();
            let (width, height) = (w.bbox.right - w.bbox.left, w.bbox.bottom - w.bbox.top);
            if letters >= 2 && width > height {
                letters as f64 * f64::from(w.confidence) / 100.0
            } else {
                0.0
            }
        })
        .sum()
}

/// Parses tesseract TSV: `level page block par line word left top width height conf text`.
/// Level 4 rows open a line; level 5 rows are its words.
pub fn parse_tsv(tsv: &str) -> Recognition {
    let mut lines: Vec<Line> = Vec::new();
    for row in tsv.lines() {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 12 {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<i64>().unwrap_or(0).max(0) as u32;
        let bbox = BBox {
            left: num(6),
            top: num(7),
            right: num(6) + num(8),
            bottom: num(7) + num(9),
        };
        match cols[0] {
            "4" => lines.push(Line {
                bbox,
                words: Vec::new(),
            }),
            "5" => {
                let text = cols[11].trim();
                let confidence = cols[10].trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 100.0);
                if let (false, Some(line)) = (text.is_empty(), lines.last_mut()) {
                    line.words.push(Word {
                        text: text.to_string(),
                        bbox,
                        confidence,
                    });
                }
            }
            _ => {}
        }
    }
    lines.retain(|l| !l.words.is_empty());
    Recognition { lines }
}

/// The version of the linked libtesseract, e.g. `5.3.0`.
pub fn tesseract_version() -> String {
    // SAFETY: TessVersion returns a pointer to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(tesseract_sys::TessVersion()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str =
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t
4\t1\t1\t1\t1\t0\t36\t92\t580\t24\t-1\t
5\t1\t1\t1\t1\t1\t36\t92\t60\t24\t96.5\tGrüße
5\t1\t1\t1\t1\t2\t100\t92\t50\t24\t90\taus
4\t1\t1\t1\t2\t0\t36\t130\t100\t20\t-1\t
5\t1\t1\t1\t2\t1\t36\t130\t40\t20\t-1\t 
";

    /// While a scanwerk engine reads, tesseract's line images are kept as SPIX (`line_images`); the
    /// reading is the one tesseract makes with its own PNG round trip, word for word and box for box.
    #[test]
    fn line_images_kept_as_spix_read_the_same_as_with_png() {
        let page = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/demo-batch/bescheid.png"
        ))
        .expect("demo page")
        .to_luma8();
        let mut pix = LeptImage::from_samples(page.as_raw(), page.width(), page.height(), 1).expect("pix");
        pix.set_resolution(300);
        let mut engine = Engine::new("deu+eng").expect("deu+eng installed");
        // Tesseract as any other program calls it: its line images go through PNG.
        engine.api.set_image(&pix, 300);
        assert!(engine.api.recognize());
        assert_eq!(
            line_images::kept_as_spix(),
            0,
            "outside recognize_pix leptonica writes PNG"
        );
        let with_png = parse_tsv(&engine.api.tsv());
        let with_spix = engine.recognize_pix(&pix, 300).expect("recognised");
        assert!(
            line_images::kept_as_spix() >= with_spix.lines.len() as u64,
            "every line image kept as SPIX: {} for {} lines (is pixWriteMem exported? build.rs)",
            line_images::kept_as_spix(),
            with_spix.lines.len()
        );
        assert!(with_spix.words().count() > 20, "{}", with_spix.text());
        // The words walked from tesseract's results are those of its TSV rendering.
        assert_eq!(engine.api.words(), parse_tsv(&engine.api.tsv()));
        assert_eq!(with_spix, with_png);
    }

    #[test]
    fn tsv_words_grouped_by_line() {
        let r = parse_tsv(TSV);
        assert_eq!(r.lines.len(), 1, "empty line dropped");
        assert_eq!(r.text(), "Grüße aus");
        assert_eq!(
            r.lines[0].words[1].bbox,
            BBox {
                left: 100,
                top: 92,
                right: 150,
                bottom: 116
            }
        );
        assert_eq!(r.mean_confidence(), Some(93.25));
    }
}
