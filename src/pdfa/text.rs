//! The invisible text layer: every recognised word drawn in render mode 3 over its box.
//!
//! Each line gets one font size (its box height, so selection covers ascenders to descenders);
//! each word starts at its box's left edge and is stretched horizontally (`Tz`) to its box width,
//! so `pdftotext` finds the words in reading order and a viewer highlights them on the image.
//! Boxes are in the coordinates of the OCR working copy; [`Placement::to_image`] maps them onto
//! the page image, so on a page OCR'd upright (quarter turns) every word lands exactly on the scan.
//! On a page OCR'd straightened, each line is laid level along the nearest page axis, through the
//! point where the line's middle lies on the scan, and each word sits at its own position along
//! it: text extractors (poppler's `pdftotext` among them) break slanted glyph runs apart mid-word
//! and split a slanted line into pieces, which costs far more (word recall 0.89 → 0.93 on the
//! 1.9° `skew-1`, 0.95 → 0.99 on the crumpled, 1.5° `lorem-ipsum-scan-bad-1`) than the offset
//! of the words at a line's ends from the slanted ink: half the line length × tan(skew), about
//! 30 px on a full 300-dpi line at 2°.
//! Characters are numbered per document in order of first use; the numbers are the CIDs.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::font;
use crate::ocr::Recognition;
use crate::prepare::geometry::Affine;

/// Characters of a document and their CIDs (1-based, in order of first use).
#[derive(Debug, Default)]
pub struct GlyphTable {
    cids: HashMap<char, u16>,
    chars: Vec<char>,
}

impl GlyphTable {
    /// The CID for `c`, assigning the next one on first use. `None` once 65,534 are taken.
    pub fn cid(&mut self, c: char) -> Option<u16> {
        if let Some(&cid) = self.cids.get(&c) {
            return Some(cid);
        }
        let cid = u16::try_from(self.chars.len() + 1)
            .ok()
            .filter(|&cid| cid < u16::MAX)?;
        self.cids.insert(c, cid);
        self.chars.push(c);
        Some(cid)
    }

    /// Characters by CID - 1.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }
}

/// Maps image pixels to PDF points on a page of `height_pt`.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub scale_x: f64,
    pub scale_y: f64,
    pub height_pt: f64,
    /// OCR working-copy pixels → page-image pixels.
    pub to_image: Affine,
    /// The image's box (`scale` × pixels, origin bottom left) → the page: identity where the
    /// image fills the page, a scanner PDF's image matrix (rescaled) where it does not.
    pub on_page: Affine,
}

impl Placement {
    /// OCR working-copy pixels → PDF user space (y up).
    fn pdf_map(self) -> Affine {
        let m = self.to_image;
        let in_box = Affine {
            a: m.a * self.scale_x,
            b: -m.b * self.scale_y,
            c: m.c * self.scale_x,
            d: -m.d * self.scale_y,
            e: m.e * self.scale_x,
            f: self.height_pt - m.f * self.scale_y,
        };
        self.on_page.after(&in_box)
    }
}

/// A matrix coefficient: whole numbers as integers, others to five places.
fn coefficient(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.5}")
    }
}

/// A word of the text layer as placed: its text, confidence, and its box in PDF user space
/// (`[x0, y0, x1, y1]`, points, y up): from its start along the text for its width, and across
/// from the font's descent below the baseline to its ascent above it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedWord {
    pub text: String,
    pub confidence: f32,
    pub bbox: [f64; 4],
}

/// Content-stream operators for the text layer of one page (empty for no words).
pub fn content(recognition: &Recognition, at: Placement, glyphs: &mut GlyphTable, font_name: &str) -> String {
    placed(recognition, at, glyphs, font_name).0
}

/// Points per working-copy pixel along the text and across it, and the text's own axes: the page
/// axes nearest to the mapped directions (see the module comment), also as `Tm` coefficients.
struct TextAxes {
    along: (f64, f64),
    pt_along: f64,
    pt_up: f64,
    up_axis: (f64, f64),
    axes: String,
}

impl TextAxes {
    fn of(to_pdf: &Affine) -> TextAxes {
        let length = |(x, y): (f64, f64)| x.hypot(y);
        let along = to_pdf.direction((1.0, 0.0));
        let up = to_pdf.direction((0.0, -1.0));
        let (pt_along, pt_up) = (length(along), length(up));
        let up_axis = ((up.0 / pt_up).round(), (up.1 / pt_up).round());
        let axes = format!(
            "{} {} {} {}",
            coefficient((along.0 / pt_along).round()),
            coefficient((along.1 / pt_along).round()),
            coefficient(up_axis.0),
            coefficient(up_axis.1)
        );
        TextAxes {
            along,
            pt_along,
            pt_up,
            up_axis,
            axes,
        }
    }
}

/// [`content`], and the words as placed, line by line.
pub fn placed(
    recognition: &Recognition,
    at: Placement,
    glyphs: &mut GlyphTable,
    font_name: &str,
) -> (String, Vec<Vec<PlacedWord>>) {
    let mut ops = String::new();
    let mut lines = Vec::new();
    if recognition.lines.is_empty() {
        return (ops, lines);
    }
    ops.push_str("BT\n3 Tr\n");
    let advance = f64::from(font::ADVANCE) / 1000.0;
    let descent = -f64::from(font::DESCENT) / 1000.0;
    let to_pdf = at.pdf_map();
    let TextAxes {
        along,
        pt_along,
        pt_up,
        up_axis,
        axes,
    } = TextAxes::of(&to_pdf);
    let level_of = |(x, y): (f64, f64)| x * up_axis.0 + y * up_axis.1;
    for line in &recognition.lines {
        let box_h = f64::from(line.bbox.bottom.saturating_sub(line.bbox.top)).max(1.0);
        let size_px = box_h / (f64::from(font::ASCENT) / 1000.0 + descent);
        let size = size_px * pt_up;
        let baseline_px = f64::from(line.bbox.bottom) - descent * size_px;
        // One baseline per line, where the line's middle lies on the page: extractors then see
        // a line as a line, however the scan is skewed.
        let middle = f64::from(line.bbox.left + line.bbox.right) / 2.0;
        let level = level_of(to_pdf.apply((middle, baseline_px)));
        let _ = writeln!(ops, "/{font_name} {size:.2} Tf");
        let mut placed_line = Vec::new();
        for (i, word) in line.words.iter().enumerate() {
            let codes: String = word
                .text
                .chars()
                .filter_map(|c| glyphs.cid(c))
                .map(|cid| format!("{cid:04X}"))
                .collect();
            let n = codes.len() / 4;
            if n == 0 {
                continue;
            }
            let width = f64::from(word.bbox.right.saturating_sub(word.bbox.left)).max(1.0) * pt_along;
            let stretch = 100.0 * width / (n as f64 * advance * size);
            let start = to_pdf.apply((f64::from(word.bbox.left), baseline_px));
            let shift = level - level_of(start);
            let (x, y) = (start.0 + shift * up_axis.0, start.1 + shift * up_axis.1);
            let _ = writeln!(ops, "{stretch:.2} Tz {axes} {x:.2} {y:.2} Tm <{codes}> Tj");
            placed_line.push(PlacedWord {
                text: word.text.clone(),
                confidence: word.confidence,
                bbox: word_box(
                    (x, y),
                    (along.0 / pt_along, along.1 / pt_along),
                    up_axis,
                    width,
                    (descent * size, f64::from(font::ASCENT) / 1000.0 * size),
                ),
            });
            // An explicit space spanning the gap to the next word, so text extraction never
            // runs two words together however narrow the gap.
            if let (Some(next), Some(space)) = (line.words.get(i + 1), glyphs.cid(' ')) {
                let gap = f64::from(next.bbox.left.saturating_sub(word.bbox.right)).max(1.0) * pt_along;
                let stretch = 100.0 * gap / (advance * size);
                let _ = writeln!(ops, "{stretch:.2} Tz <{space:04X}> Tj");
            }
        }
        if !placed_line.is_empty() {
            lines.push(placed_line);
        }
    }
    ops.push_str("ET\n");
    (ops, lines)
}

/// The box spanned from baseline point `start` along unit direction `along` (rounded to a page
/// axis, as the text matrix is) for `width`, and along `up` from `-below` to `above`.
fn word_box(
    start: (f64, f64),
    along: (f64, f64),
    up: (f64, f64),
    width: f64,
    (below, above): (f64, f64),
) -> [f64; 4] {
    let along = (along.0.round(), along.1.round());
    let corners = [(0.0, -below), (width, -below), (0.0, above), (width, above)]
        .map(|(t, s)| (start.0 + t * along.0 + s * up.0, start.1 + t * along.1 + s * up.1));
    let xs = corners.map(|c| c.0);
    let ys = corners.map(|c| c.1);
    let min = |v: [f64; 4]| v.into_iter().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.into_iter().fold(f64::NEG_INFINITY, f64::max);
    [min(xs), min(ys), max(xs), max(ys)]
}

/// The ToUnicode CMap for the table's characters.
pub fn to_unicode(glyphs: &GlyphTable) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for (block, chars) in glyphs.chars().chunks(100).enumerate() {
        let _ = writeln!(cmap, "{} beginbfchar", chars.len());
        for (i, c) in chars.iter().enumerate() {
            let cid = block * 100 + i + 1;
            let utf16: String = c
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{cid:04X}> <{utf16}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// The CIDToGIDMap stream data: CID 0 → glyph 0, every used CID → glyph 1.
pub fn cid_to_gid(glyphs: &GlyphTable) -> Vec<u8> {
    let mut map = vec![0u8, 0];
    for _ in glyphs.chars() {
        map.extend_from_slice(&1u16.to_be_bytes());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::parse_tsv;

    #[test]
    fn cids_in_order_of_first_use() {
        let mut g = GlyphTable::default();
        assert_eq!(g.cid('ß'), Some(1));
        assert_eq!(g.cid('a'), Some(2));
        assert_eq!(g.cid('ß'), Some(1));
        assert_eq!(cid_to_gid(&g), vec![0, 0, 0, 1, 0, 1]);
        let cmap = to_unicode(&g);
        assert!(cmap.contains("<0001> <00DF>"), "{cmap}");
        g.cid('𝔄');
        assert!(to_unicode(&g).contains("<0003> <D835DD04>"));
    }

    #[test]
    fn words_are_placed_on_their_boxes() {
        let tsv = "4\t1\t1\t1\t1\t0\t100\t200\t300\t50\t-1\t\n5\t1\t1\t1\t1\t1\t100\t200\t100\t50\t95\tab\n";
        let mut g = GlyphTable::default();
        let at = Placement {
            scale_x: 0.5,
            scale_y: 0.5,
            height_pt: 500.0,
            to_image: Affine::IDENTITY,
            on_page: Affine::IDENTITY,
        };
        let ops = content(&parse_tsv(tsv), at, &mut g, "F1");
        // Line box 50 px = 25 pt tall: size 25; baseline 500 - 125 + 5; word 2 glyphs × 12.5 pt = 50 pt wide.
        assert!(ops.contains("/F1 25.00 Tf"), "{ops}");
        assert!(
            ops.contains("200.00 Tz 1 0 0 1 50.00 380.00 Tm <00010002> Tj"),
            "{ops}"
        );
        assert!(ops.starts_with("BT\n3 Tr"));
    }

    #[test]
    fn words_of_a_turned_page_run_along_the_scan() {
        use crate::prepare::geometry::Upright;
        // The scan is 300 × 100 px (landscape) of a portrait page turned counter-clockwise: OCR
        // read it after one clockwise quarter turn (working copy 100 × 300).
        let tsv = "4\t1\t1\t1\t1\t0\t10\t20\t80\t50\t-1\t\n5\t1\t1\t1\t1\t1\t10\t20\t80\t50\t95\tab\n";
        let upright = Upright {
            quadrants: 1,
            deskew_degrees: 0.0,
        };
        let at = Placement {
            scale_x: 1.0,
            scale_y: 1.0,
            height_pt: 100.0,
            to_image: upright.to_image(300, 100),
            on_page: Affine::IDENTITY,
        };
        let ops = content(&parse_tsv(tsv), at, &mut GlyphTable::default(), "F1");
        // Text runs up the page in user space (axis (0, 1)), "up" points left (−1, 0). The word
        // starts at working (10, 70 − 10) = scan (60, 90) = user space (60, 10).
        assert!(ops.contains(" Tz 0 1 -1 0 60.00 10.00 Tm <00010002> Tj"), "{ops}");
    }

    #[test]
    fn lines_of_a_skewed_page_are_laid_level_through_their_middle() {
        use crate::prepare::geometry::Upright;
        // Two words on one line of a working copy straightened by 3° clockwise: on the scan the
        // line rises to the right by 3°. Both words are laid on one level baseline through the
        // line's middle, each at its own distance along the line.
        let tsv = "4\t1\t1\t1\t1\t0\t100\t200\t800\t50\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t100\t200\t100\t50\t95\tab\n\
                   5\t1\t1\t1\t1\t2\t800\t200\t100\t50\t95\tcd\n";
        let upright = Upright {
            quadrants: 0,
            deskew_degrees: 3.0,
        };
        let at = Placement {
            scale_x: 1.0,
            scale_y: 1.0,
            height_pt: 1000.0,
            to_image: upright.to_image(1000, 1000),
            on_page: Affine::IDENTITY,
        };
        let ops = content(&parse_tsv(tsv), at, &mut GlyphTable::default(), "F1");
        let starts: Vec<(f64, f64)> = ops
            .lines()
            .filter(|l| l.contains(" Tm "))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(&f[2..6], ["1", "0", "0", "1"], "{l}");
                (f[6].parse().unwrap(), f[7].parse().unwrap())
            })
            .collect();
        assert_eq!(starts[0].1, starts[1].1, "one baseline: {starts:?}");
        // 700 px apart along the line: 700 × cos 3° apart along the page axis.
        let apart = starts[1].0 - starts[0].0;
        assert!(
            (apart - 700.0 * 3f64.to_radians().cos()).abs() < 0.05,
            "{starts:?}"
        );
        // The baseline passes where the line's middle (x = 500 on the working copy) is on the scan.
        let middle = at.to_image.apply((500.0, 240.0));
        assert!(
            (starts[0].1 - (1000.0 - middle.1)).abs() < 0.05,
            "{starts:?} vs {middle:?}"
        );
    }
}
