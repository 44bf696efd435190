//! The invisible text layer: every recognised word drawn in render mode 3 over its box.
//!
//! Each line gets one font size (its box height, so selection covers ascenders to descenders);
//! each word starts at its box's left edge and is stretched horizontally (`Tz`) to its box width,
//! so `pdftotext` finds the words in reading order and a viewer highlights them on the image.
//! Characters are numbered per document in order of first use; the numbers are the CIDs.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::font;
use crate::ocr::Recognition;

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
}

/// Content-stream operators for the text layer of one page (empty for no words).
pub fn content(recognition: &Recognition, at: Placement, glyphs: &mut GlyphTable, font_name: &str) -> String {
    let mut ops = String::new();
    if recognition.lines.is_empty() {
        return ops;
    }
    ops.push_str("BT\n3 Tr\n");
    let advance = f64::from(font::ADVANCE) / 1000.0;
    let descent = -f64::from(font::DESCENT) / 1000.0;
    for line in &recognition.lines {
        let box_h = f64::from(line.bbox.bottom.saturating_sub(line.bbox.top)).max(1.0) * at.scale_y;
        let size = box_h / (f64::from(font::ASCENT) / 1000.0 + descent);
        let baseline = at.height_pt - f64::from(line.bbox.bottom) * at.scale_y + descent * size;
        let _ = writeln!(ops, "/{font_name} {size:.2} Tf");
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
            let width = f64::from(word.bbox.right.saturating_sub(word.bbox.left)).max(1.0) * at.scale_x;
            let stretch = 100.0 * width / (n as f64 * advance * size);
            let x = f64::from(word.bbox.left) * at.scale_x;
            let _ = writeln!(
                ops,
                "{stretch:.2} Tz 1 0 0 1 {x:.2} {baseline:.2} Tm <{codes}> Tj"
            );
            // An explicit space spanning the gap to the next word, so text extraction never
            // runs two words together however narrow the gap.
            if let (Some(next), Some(space)) = (line.words.get(i + 1), glyphs.cid(' ')) {
                let gap = f64::from(next.bbox.left.saturating_sub(word.bbox.right)).max(1.0) * at.scale_x;
                let stretch = 100.0 * gap / (advance * size);
                let _ = writeln!(ops, "{stretch:.2} Tz <{space:04X}> Tj");
            }
        }
    }
    ops.push_str("ET\n");
    ops
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
}
