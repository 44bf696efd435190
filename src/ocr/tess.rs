//! One tesseract instance through its C API: loaded once, given a page, asked to recognise it or
//! to detect its orientation, and its results walked word by word.

use std::ffi::{CStr, c_char};

use tesseract_sys as sys;

use super::{BBox, Line, Recognition, Word};
use crate::prepare::lept::LeptImage;

/// An owned tesseract instance (`TessBaseAPI`), deleted on drop.
pub(super) struct Tess(*mut sys::TessBaseAPI);

// SAFETY: the instance is owned by one engine, which one worker thread uses at a time; tesseract
// keeps no thread-local state in it, so it may move to another thread between uses.
unsafe impl Send for Tess {}

impl Drop for Tess {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from TessBaseAPICreate (non-null) and is deleted once, here.
        unsafe { sys::TessBaseAPIDelete(self.0) };
    }
}

impl Tess {
    /// Loads `languages` (`deu+eng`, `osd`) from tesseract's default data path, with page
    /// segmentation `mode`; `None` if the data cannot be loaded.
    pub(super) fn new(languages: &CStr, mode: sys::TessPageSegMode) -> Option<Tess> {
        // SAFETY: TessBaseAPICreate has no preconditions; null is checked below.
        let handle = unsafe { sys::TessBaseAPICreate() };
        if handle.is_null() {
            return None;
        }
        let tess = Tess(handle);
        // SAFETY: `handle` is a live instance (owned by `tess`, deleted on every return path); the
        // strings are NUL-terminated and a null data path means tesseract's default. Tesseract's
        // own diagnostics ("Error opening data file" among them) would interleave with scanwerk's
        // on stderr: silenced before Init, whose failure scanwerk reports in its own words.
        let failed = unsafe {
            sys::TessBaseAPISetVariable(handle, c"debug_file".as_ptr(), c"/dev/null".as_ptr());
            sys::TessBaseAPIInit3(handle, std::ptr::null(), languages.as_ptr())
        };
        if failed != 0 {
            return None;
        }
        // SAFETY: `handle` is live and initialised.
        unsafe { sys::TessBaseAPISetPageSegMode(handle, mode) };
        Some(tess)
    }

    /// Gives tesseract the page (it keeps its own reference until the next page or `clear`).
    pub(super) fn set_image(&mut self, pix: &LeptImage, ppi: u32) {
        // SAFETY: `self.0` is live and used by this thread alone (`&mut self`); `pix` is a valid
        // PIX, which tesseract clones or copies.
        unsafe {
            sys::TessBaseAPISetImage2(self.0, pix.as_ptr().cast());
            sys::TessBaseAPISetSourceResolution(self.0, ppi as i32);
        }
    }

    /// Recognises the page set last; false if tesseract fails.
    pub(super) fn recognize(&mut self) -> bool {
        // SAFETY: `self.0` is live, used by this thread alone; a null monitor is allowed.
        unsafe { sys::TessBaseAPIRecognize(self.0, std::ptr::null_mut()) == 0 }
    }

    /// Orientation and script detection on the page set last: how far it is turned clockwise, in
    /// degrees, and tesseract's confidence; `None` where it cannot tell.
    pub(super) fn detect_orientation(&mut self) -> Option<(i32, f32)> {
        let (mut degrees, mut confidence, mut script_confidence) = (0i32, 0f32, 0f32);
        let mut script: *const c_char = std::ptr::null();
        // SAFETY: `self.0` is live, used by this thread alone; the out-pointers are live locals.
        let found = unsafe {
            sys::TessBaseAPIDetectOrientationScript(
                self.0,
                &mut degrees,
                &mut confidence,
                &mut script,
                &mut script_confidence,
            )
        };
        (found != 0).then_some((degrees, confidence))
    }

    /// Lets go of the page and its results.
    pub(super) fn clear(&mut self) {
        // SAFETY: `self.0` is live, used by this thread alone.
        unsafe { sys::TessBaseAPIClear(self.0) };
    }

    /// The words of the last recognition, grouped into lines, in tesseract's reading order: what
    /// its TSV rendering holds (level-4 rows for lines, level-5 rows for words, confidences as
    /// printed there), without rendering and parsing text. `GetTSVText` also tests, at every
    /// word, whether it ends its line, paragraph and block, for counters it never prints: 2
    /// billion instructions on a dense A4 page.
    pub(super) fn words(&mut self) -> Recognition {
        // SAFETY: `self.0` is live, used by this thread alone; the iterator is deleted below.
        let it = unsafe { sys::TessBaseAPIGetIterator(self.0) };
        if it.is_null() {
            return Recognition::default();
        }
        // SAFETY: `it` is live; its page iterator is the same object, borrowed, valid as long.
        let page = unsafe { sys::TessResultIteratorGetPageIterator(it) };
        let mut lines: Vec<Line> = Vec::new();
        loop {
            // SAFETY: `it` is a live result iterator of this instance, deleted after the loop;
            // `page` is its page iterator.
            if let Some(word) = unsafe { word_at(it, page) } {
                // SAFETY: as above.
                if unsafe { sys::TessPageIteratorIsAtBeginningOf(page, RIL_TEXTLINE) } != 0 {
                    lines.push(Line {
                        // SAFETY: as above.
                        bbox: unsafe { bounding_box(page, RIL_TEXTLINE) },
                        words: Vec::new(),
                    });
                }
                if let (false, Some(line)) = (word.text.is_empty(), lines.last_mut()) {
                    line.words.push(word);
                }
            }
            // SAFETY: as above.
            if unsafe { sys::TessResultIteratorNext(it, RIL_WORD) } == 0 {
                break;
            }
        }
        // SAFETY: `it` came from TessBaseAPIGetIterator and is deleted once, here.
        unsafe { sys::TessResultIteratorDelete(it) };
        lines.retain(|l| !l.words.is_empty());
        Recognition { lines }
    }

    /// Tesseract's own TSV rendering of the last recognition.
    #[cfg(test)]
    pub(super) fn tsv(&mut self) -> String {
        // SAFETY: `self.0` is live; the returned string is copied and freed with TessDeleteText.
        unsafe {
            let text = sys::TessBaseAPIGetTsvText(self.0, 0);
            assert!(!text.is_null(), "tesseract renders TSV");
            let tsv = CStr::from_ptr(text).to_string_lossy().into_owned();
            sys::TessDeleteText(text);
            tsv
        }
    }
}

const RIL_TEXTLINE: sys::TessPageIteratorLevel = sys::TessPageIteratorLevel_RIL_TEXTLINE;
const RIL_WORD: sys::TessPageIteratorLevel = sys::TessPageIteratorLevel_RIL_WORD;

/// The word at the iterator, `None` in a block without text. Its text as the TSV prints it (the
/// symbols' text, without the direction marks tesseract puts before runs of the minor direction),
/// trimmed; its confidence as printed there (six decimals) and clamped to 0–100.
///
/// # Safety
/// `it` is a live result iterator used by this thread alone, `page` its page iterator.
unsafe fn word_at(it: *mut sys::TessResultIterator, page: *mut sys::TessPageIterator) -> Option<Word> {
    // SAFETY: per the contract; the text is copied and freed with TessDeleteText.
    let text = unsafe {
        let raw = sys::TessResultIteratorGetUTF8Text(it, RIL_WORD);
        if raw.is_null() {
            return None;
        }
        let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
        sys::TessDeleteText(raw);
        text
    };
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}'))
        .collect();
    // SAFETY: per the contract.
    let confidence = unsafe { sys::TessResultIteratorConfidence(it, RIL_WORD) };
    // TSV prints it with C++'s std::to_string ("%f"), and scanwerk's records carry that value.
    let confidence = format!("{:.6}", f64::from(confidence))
        .parse::<f32>()
        .unwrap_or(0.0);
    Some(Word {
        text: text.trim().to_string(),
        // SAFETY: per the contract.
        bbox: unsafe { bounding_box(page, RIL_WORD) },
        confidence: confidence.clamp(0.0, 100.0),
    })
}

/// The box of the element at `level` around the iterator, in image pixels.
///
/// # Safety
/// `page` is a live page iterator used by this thread alone.
unsafe fn bounding_box(page: *mut sys::TessPageIterator, level: sys::TessPageIteratorLevel) -> BBox {
    let (mut left, mut top, mut right, mut bottom) = (0, 0, 0, 0);
    // SAFETY: per the contract; the out-pointers are live locals.
    unsafe { sys::TessPageIteratorBoundingBox(page, level, &mut left, &mut top, &mut right, &mut bottom) };
    let at_least_0 = |v: i32| v.max(0) as u32;
    BBox {
        left: at_least_0(left),
        top: at_least_0(top),
        right: at_least_0(right),
        bottom: at_least_0(bottom),
    }
}
