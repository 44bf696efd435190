//! PNG pages: palette, 1/2/4/8/16-bit grey, RGB, with or without alpha (flattened onto white).
//!
//! Palette and low-bit images are expanded to 8-bit samples, which keeps every pixel value;
//! [`super::Page::simplified`] then packs black-and-white images back into one bit. A PNG that
//! PDF can carry unchanged (not interlaced, no transparency) also keeps its compressed stream,
//! which is PDF Flate with PNG predictors as it stands, and its palette.

use std::io::Cursor;

use ::png::{ColorType, Decoder, Transformations, Unit};

use super::{DecodeError, Format, Page, Passthrough, PngColour, Raster, flatten8, flatten16, flattened};

fn corrupt(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        format: Format::Png,
        detail: e.to_string(),
    }
}

/// Dots per inch from PNG's whole pixels per metre: 7,874 ppm is 200 dpi as the scanner meant it,
/// not 199.9996 (a whole-number dpi is always within half a ppm, 0.0127 dpi, of the stored value).
fn dpi_of(ppm: u32) -> f64 {
    let dpi = f64::from(ppm) * 0.0254;
    if (dpi - dpi.round()).abs() <= 0.0127 {
        dpi.round()
    } else {
        dpi
    }
}

pub fn decode(bytes: &[u8]) -> Result<Page, DecodeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let dpi = info.pixel_dims.and_then(|dims| match dims.unit {
        Unit::Meter if dims.xppu > 0 && dims.yppu > 0 => Some((dpi_of(dims.xppu), dpi_of(dims.yppu))),
        _ => None,
    });
    let (colour, depth) = reader.output_color_type();
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| corrupt("image too large"))?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).map_err(corrupt)?;
    buf.truncate(frame.buffer_size());
    let wide = depth == ::png::BitDepth::Sixteen;
    let samples16 = || {
        buf.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect::<Vec<_>>()
    };
    let mut notes = Vec::new();
    let raster = match (colour, wide) {
        (ColorType::Grayscale, false) => Raster::Gray8(buf),
        (ColorType::Grayscale, true) => Raster::Gray16(samples16()),
        (ColorType::Rgb, false) => Raster::Rgb8(buf),
        (ColorType::Rgb, true) => Raster::Rgb16(samples16()),
        (ColorType::GrayscaleAlpha, false) => flattened(&mut notes, Raster::Gray8(flatten8(&buf, 2))),
        (ColorType::GrayscaleAlpha, true) => {
            flattened(&mut notes, Raster::Gray16(flatten16(&samples16(), 2)))
        }
        (ColorType::Rgba, false) => flattened(&mut notes, Raster::Rgb8(flatten8(&buf, 4))),
        (ColorType::Rgba, true) => flattened(&mut notes, Raster::Rgb16(flatten16(&samples16(), 4))),
        (ColorType::Indexed, _) => return Err(corrupt("palette was not expanded")),
    };
    Ok(Page {
        width,
        height,
        dpi,
        raster,
        passthrough: passthrough(bytes),
        notes,
        frame: None,
    })
}

/// The PNG's own compressed stream, where PDF can take it unchanged: not interlaced, no alpha or
/// `tRNS` transparency (those pages are flattened onto white and encoded anew).
fn passthrough(bytes: &[u8]) -> Option<Passthrough> {
    let mut pos = 8;
    let (mut header, mut palette, mut data) = (None, None, Vec::new());
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let body = bytes.get(pos + 8..pos + 8 + len)?;
        match kind {
            b"IHDR" if len == 13 => header = Some((body[8], body[9], body[12])),
            b"PLTE" => palette = Some(body.to_vec()),
            b"tRNS" => return None,
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let (bits, colour_type, interlace) = header?;
    if interlace != 0 || data.is_empty() {
        return None;
    }
    let colour = match colour_type {
        0 => PngColour::Gray,
        2 => PngColour::Rgb,
        3 => PngColour::Indexed(palette.filter(|p| !p.is_empty() && p.len() % 3 == 0)?),
        _ => return None,
    };
    Some(Passthrough::Png { data, bits, colour })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pixels_per_metre_give_the_whole_dpi_meant() {
        assert_eq!(super::dpi_of(7874), 200.0);
        assert_eq!(super::dpi_of(11811), 300.0);
        assert_eq!(super::dpi_of(2835), 72.0);
        assert_eq!(super::dpi_of(3780), 96.0);
        // Between whole numbers: as stored.
        assert!((super::dpi_of(5925) - 150.495).abs() < 1e-9);
    }
}
