//! CCITT Group 4 (T.6) both ways: encoding packed bilevel rows, proven lossless before it is
//! used, and decoding G4 data (a TIFF strip, a scanner PDF's CCITTFaxDecode stream) to rows.

use fax::{Color, VecWriter, decoder, encoder::Encoder};

/// Encodes `bits` (rows padded to whole bytes, 1 = white) as G4 and decodes the result again;
/// `None` if the page is too large for G4's 16-bit sizes or the round trip differs, in which
/// case the caller falls back to Flate.
pub fn encode_verified(bits: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let (w, h) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
    let stride = (width as usize).div_ceil(8);
    if w == 0 || h == 0 || bits.len() != stride * height as usize {
        return None;
    }
    let mut encoder = Encoder::new(VecWriter::new());
    for row in bits.chunks_exact(stride) {
        let pels = (0..width as usize).map(|x| {
            if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                Color::White
            } else {
                Color::Black
            }
        });
        encoder.encode_line(pels, w).ok()?;
    }
    let data = encoder.finish().ok()?.finish();
    same_pixels(&decode(&data, width, height)?, bits, width).then_some(data)
}

/// Compares packed rows, ignoring the padding bits after the last pixel of each row.
pub fn same_pixels(a: &[u8], b: &[u8], width: u32) -> bool {
    let stride = (width as usize).div_ceil(8);
    let used = width as usize % 8;
    let last_mask = if used == 0 { 0xFF } else { 0xFFu8 << (8 - used) };
    a.len() == b.len()
        && a.chunks_exact(stride).zip(b.chunks_exact(stride)).all(|(x, y)| {
            x[..stride - 1] == y[..stride - 1] && (x[stride - 1] ^ y[stride - 1]) & last_mask == 0
        })
}

/// Decodes G4 data into packed rows (1 = white), `None` if it does not decode to `height` rows.
pub fn decode(data: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let (w, h) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
    let stride = (width as usize).div_ceil(8);
    let mut out = Vec::with_capacity(stride * height as usize);
    decoder::decode_g4(data.iter().copied(), w, Some(h), |transitions| {
        let mut row = vec![0u8; stride];
        for (x, colour) in decoder::pels(transitions, w).enumerate() {
            if colour == Color::White {
                row[x / 8] |= 0x80 >> (x % 8);
            }
        }
        out.extend_from_slice(&row);
    })?;
    (out.len() == stride * height as usize).then_some(out)
}
