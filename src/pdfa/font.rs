//! The glyphless TrueType font behind the invisible text layer, built in code.
//!
//! Two glyphs: `.notdef` (a box, never used) and glyph 1, empty with an advance of 500/1000 em.
//! Every character of the text layer maps to glyph 1 (via `CIDToGIDMap`), so any Unicode text can be
//! carried while the font stays tiny, embedded and deterministic, and its one width is the `/DW`
//! the PDF states. The text layer is never painted (render mode 3), only found and selected.

/// Units per em of the font.
pub const UNITS_PER_EM: u16 = 1000;
/// Advance of the text glyph in font units, and the PDF `/DW` in 1/1000 em.
pub const ADVANCE: u16 = 500;
/// Ascent and descent in font units (also the FontDescriptor values).
pub const ASCENT: i16 = 800;
pub const DESCENT: i16 = -200;
/// PostScript name of the font.
pub const NAME: &str = "ScanwerkGlyphless";

/// The font program (a complete TrueType file).
pub fn program() -> Vec<u8> {
    let tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"OS/2", os2()),
        (*b"cmap", cmap()),
        (*b"glyf", glyf()),
        (*b"head", head()),
        (*b"hhea", hhea()),
        (*b"hmtx", hmtx()),
        (*b"loca", loca()),
        (*b"maxp", maxp()),
        (*b"name", name()),
        (*b"post", post()),
    ];
    assemble(tables)
}

/// Writes the sfnt wrapper: offset table, table records (sorted by tag), padded tables, and the
/// `head.checkSumAdjustment`.
fn assemble(tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    let n = tables.len() as u16;
    let pow2 = 1u16 << (15 - n.leading_zeros() as u16);
    let mut out = Vec::new();
    be32(&mut out, 0x0001_0000);
    be16(&mut out, n);
    be16(&mut out, pow2 * 16);
    be16(&mut out, pow2.trailing_zeros() as u16);
    be16(&mut out, n * 16 - pow2 * 16);
    let mut offset = 12 + 16 * tables.len();
    let mut head_offset = 0;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        be32(&mut out, checksum(data));
        be32(&mut out, offset as u32);
        be32(&mut out, data.len() as u32);
        if tag == b"head" {
            head_offset = offset;
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_offset + 8..head_offset + 12].copy_from_slice(&adjustment.to_be_bytes());
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

fn be16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn i16s(out: &mut Vec<u8>, values: &[i16]) {
    values
        .iter()
        .for_each(|v| out.extend_from_slice(&v.to_be_bytes()));
}

/// The `.notdef` box outline, as (x, y) corners in clockwise order.
const NOTDEF: [(i16, i16); 4] = [(50, 0), (50, 700), (450, 700), (450, 0)];

fn glyf() -> Vec<u8> {
    let mut g = Vec::new();
    i16s(&mut g, &[1, 50, 0, 450, 700]); // one contour, bounding box
    be16(&mut g, 3); // last point index of the contour
    be16(&mut g, 0); // no instructions
    g.extend_from_slice(&[0x01; 4]); // on-curve points, long coordinates
    let mut prev = (0, 0);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (x, y) in NOTDEF {
        xs.push(x - prev.0);
        ys.push(y - prev.1);
        prev = (x, y);
    }
    i16s(&mut g, &xs);
    i16s(&mut g, &ys);
    g.resize(g.len().div_ceil(2) * 2, 0);
    g
}

fn loca() -> Vec<u8> {
    let notdef_len = glyf().len() as u16;
    let mut l = Vec::new();
    // Short format: offsets / 2. Glyph 1 is empty (same start and end).
    for offset in [0, notdef_len, notdef_len] {
        be16(&mut l, offset / 2);
    }
    l
}

fn head() -> Vec<u8> {
    let mut h = Vec::new();
    be32(&mut h, 0x0001_0000); // version
    be32(&mut h, 0x0001_0000); // fontRevision
    be32(&mut h, 0); // checkSumAdjustment, set in assemble()
    be32(&mut h, 0x5F0F_3CF5); // magic
    be16(&mut h, 0x000B); // flags: baseline at y=0, lsb at x=0, integer scaling
    be16(&mut h, UNITS_PER_EM);
    h.extend_from_slice(&[0; 16]); // created, modified: fixed for deterministic bytes
    i16s(&mut h, &[50, 0, 450, 700]); // xMin, yMin, xMax, yMax
    be16(&mut h, 0); // macStyle
    be16(&mut h, 3); // lowestRecPPEM
    i16s(&mut h, &[2, 0, 0]); // fontDirectionHint, indexToLocFormat short, glyphDataFormat
    h
}

fn hhea() -> Vec<u8> {
    let mut h = Vec::new();
    be32(&mut h, 0x0001_0000);
    i16s(&mut h, &[ASCENT, DESCENT, 0]); // ascender, descender, lineGap
    be16(&mut h, ADVANCE); // advanceWidthMax
    i16s(&mut h, &[0, 50, 450]); // minLeftSideBearing, minRightSideBearing, xMaxExtent
    i16s(&mut h, &[1, 0, 0]); // caret slope rise, run, offset
    i16s(&mut h, &[0, 0, 0, 0, 0]); // reserved, metricDataFormat
    be16(&mut h, 2); // numberOfHMetrics
    h
}

fn hmtx() -> Vec<u8> {
    let mut h = Vec::new();
    be16(&mut h, ADVANCE);
    i16s(&mut h, &[50]);
    be16(&mut h, ADVANCE);
    i16s(&mut h, &[0]);
    h
}

fn maxp() -> Vec<u8> {
    let mut m = Vec::new();
    be32(&mut m, 0x0001_0000);
    // numGlyphs, maxPoints, maxContours, maxCompositePoints, maxCompositeContours, maxZones,
    // maxTwilightPoints, maxStorage, maxFunctionDefs, maxInstructionDefs, maxStackElements,
    // maxSizeOfInstructions, maxComponentElements, maxComponentDepth
    for v in [2u16, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0] {
        be16(&mut m, v);
    }
    m
}

fn cmap() -> Vec<u8> {
    // One (3,1) format-4 subtable with only the mandatory final segment: no character maps to a
    // glyph by code; the PDF maps CIDs to glyph 1 itself.
    let mut c = Vec::new();
    for v in [0u16, 1, 3, 1] {
        be16(&mut c, v);
    }
    be32(&mut c, 12);
    for v in [4u16, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0] {
        be16(&mut c, v);
    }
    c
}

fn post() -> Vec<u8> {
    let mut p = Vec::new();
    be32(&mut p, 0x0003_0000); // format 3: no glyph names
    be32(&mut p, 0); // italicAngle
    i16s(&mut p, &[-100, 50]); // underline position, thickness
    be32(&mut p, 1); // isFixedPitch
    p.extend_from_slice(&[0; 16]);
    p
}

fn name() -> Vec<u8> {
    let records: [(u16, &str); 4] = [(1, NAME), (2, "Regular"), (4, NAME), (6, NAME)];
    let mut n = Vec::new();
    be16(&mut n, 0);
    be16(&mut n, records.len() as u16);
    be16(&mut n, 6 + 12 * records.len() as u16);
    let mut strings = Vec::new();
    for (id, text) in records {
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for v in [3u16, 1, 0x0409, id, utf16.len() as u16, strings.len() as u16] {
            be16(&mut n, v);
        }
        strings.extend(utf16);
    }
    n.extend(strings);
    n
}

fn os2() -> Vec<u8> {
    let mut o = Vec::new();
    be16(&mut o, 4); // version
    i16s(&mut o, &[ADVANCE as i16]); // xAvgCharWidth
    be16(&mut o, 400); // usWeightClass
    be16(&mut o, 5); // usWidthClass
    be16(&mut o, 0); // fsType: installable embedding
    i16s(&mut o, &[650, 700, 0, 140, 650, 700, 0, 480, 50, 250, 0]); // sub/superscript, strikeout, family class
    o.extend_from_slice(&[0; 10]); // panose
    o.extend_from_slice(&[0; 16]); // unicode ranges
    o.extend_from_slice(b"SCNW"); // vendor id
    be16(&mut o, 0x0040); // fsSelection: regular
    be16(&mut o, 0x20); // usFirstCharIndex
    be16(&mut o, 0xFFFF); // usLastCharIndex
    i16s(&mut o, &[ASCENT, DESCENT, 0]); // typo ascender, descender, line gap
    be16(&mut o, ASCENT as u16); // usWinAscent
    be16(&mut o, (-DESCENT) as u16); // usWinDescent
    be32(&mut o, 1); // code page range 1: Latin 1
    be32(&mut o, 0);
    i16s(&mut o, &[500, 700, 0, 32, 1]); // x-height, cap height, default char, break char, max context
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_their_fixed_sizes() {
        assert_eq!(head().len(), 54);
        assert_eq!(hhea().len(), 36);
        assert_eq!(maxp().len(), 32);
        assert_eq!(os2().len(), 96);
        assert_eq!(post().len(), 32);
        assert_eq!(cmap().len(), 12 + 24);
    }

    #[test]
    fn whole_font_checksums_to_magic() {
        let font = program();
        assert_eq!(checksum(&font), 0xB1B0_AFBA);
        assert_eq!(&font[..4], &[0, 1, 0, 0]);
        assert_eq!(font, program(), "font bytes are deterministic");
    }
}
