//! OCR: tesseract in-process, one engine per worker thread, created once and reused for every page.
//!
//! Results are read from tesseract's TSV rendering (words with boxes and confidences, grouped into
//! lines), which carries everything the text layer needs and nothing it has to undo. Tesseract runs
//! single-threaded (`OMP_THREAD_LIMIT=1`, set by the binary before any thread starts); parallelism
//! comes from pages.

use std::ffi::CString;

use tesseract_plumbing::TessBaseApi;

use crate::prepare::{OcrImage, OcrPixels};
use leptonica_plumbing::Pix;

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
    api: TessBaseApi,
}

impl Engine {
    /// Loads the languages (e.g. `deu+eng`) once; reuse the engine for every page.
    pub fn new(languages: &str) -> Result<Engine, OcrError> {
        let init = || OcrError::Init {
            languages: languages.to_string(),
        };
        let lang = CString::new(languages).map_err(|_| init())?;
        let mut api = TessBaseApi::create();
        api.init_2(None, Some(&lang)).map_err(|_| init())?;
        // The C API defaults to one uniform block; the tesseract CLI (and any multi-column page)
        // needs automatic page segmentation.
        api.set_page_seg_mode(tesseract_sys::TessPageSegMode_PSM_AUTO);
        // Tesseract's own diagnostics would interleave with ours on stderr.
        let _ = api.set_variable(c"debug_file", c"/dev/null");
        Ok(Engine { api })
    }

    pub fn recognize(&mut self, image: &OcrImage) -> Result<Recognition, OcrError> {
        match &image.pixels {
            OcrPixels::Samples {
                bytes_per_pixel,
                data,
            } => {
                let bpp = i32::from(*bytes_per_pixel);
                let stride = image.width as i32 * bpp;
                self.api
                    .set_image(data, image.width as i32, image.height as i32, bpp, stride)
                    .map_err(|e| OcrError::Image(format!("{e:?}")))?;
            }
            OcrPixels::Jpeg(bytes) => {
                let pix = Pix::read_mem(bytes).map_err(|e| OcrError::Image(format!("leptonica: {e:?}")))?;
                self.api.set_image_2(&pix);
            }
        }
        self.api.set_source_resolution(image.ppi as i32);
        self.api.recognize().map_err(|_| OcrError::Recognise)?;
        let tsv = self.api.get_tsv_text(0).map_err(|_| OcrError::Recognise)?;
        Ok(parse_tsv(&tsv.as_ref().to_string_lossy()))
    }
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
