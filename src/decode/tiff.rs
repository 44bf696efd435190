//! TIFF pages: multi-page, G4/G3, LZW, Deflate, PackBits, JPEG or uncompressed; bilevel, grey, RGB.
//!
//! Photometric WhiteIsZero is turned into PDF's black-is-zero order by the tiff decoder itself
//! (`tiff` ≥ 0.11 inverts such samples), so every later stage sees one convention. A page stored as one CCITT Group 4 strip also keeps that strip, which the PDF
//! carries unchanged. Alpha, associated or not, is flattened onto white.

use std::io::Cursor;

use tiff::ColorType;
use tiff::decoder::ifd::Value;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::{PhotometricInterpretation, Tag};

use super::{DecodeError, Format, Page, Passthrough, Raster, flatten8, flatten16, flattened};

fn corrupt(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        format: Format::Tiff,
        detail: e.to_string(),
    }
}

fn open(bytes: &[u8]) -> Result<Decoder<Cursor<&[u8]>>, DecodeError> {
    Decoder::new(Cursor::new(bytes)).map_err(corrupt)
}

pub fn page_count(bytes: &[u8]) -> Result<u32, DecodeError> {
    let mut decoder = open(bytes)?;
    let mut count = 1;
    while decoder.more_images() {
        decoder.next_image().map_err(corrupt)?;
        count += 1;
    }
    Ok(count)
}

pub fn decode(bytes: &[u8], index: u32) -> Result<Page, DecodeError> {
    let mut d = open(bytes)?;
    if index > 0 {
        d.seek_to_image(index as usize)
            .map_err(|_| DecodeError::NoSuchPage {
                index,
                count: page_count(bytes).unwrap_or(0),
            })?;
    }
    let (width, height) = d.dimensions().map_err(corrupt)?;
    let colour = d.colortype().map_err(corrupt)?;
    let dpi = resolution(&mut d);
    if d.find_tag_unsigned::<u16>(Tag::FillOrder).ok().flatten() == Some(2) {
        // The decoder would read such bits in the wrong order and silently garble the page.
        return Err(DecodeError::Unsupported(
            "TIFF with FillOrder 2 (least significant bit first) is not supported; \
             save the scan with the default bit order (FillOrder 1)"
                .into(),
        ));
    }
    let passthrough = g4_strip(&mut d, bytes).or_else(|| jpeg_strip(&mut d, bytes));
    let associated = d
        .find_tag_unsigned_vec::<u16>(Tag::ExtraSamples)
        .ok()
        .flatten()
        .is_some_and(|v| v.first() == Some(&1));
    let data = d.read_image().map_err(corrupt)?;
    let mut notes = Vec::new();
    let raster = raster(colour, data, associated, &mut notes)?;
    Ok(Page {
        width,
        height,
        dpi,
        raster,
        passthrough,
        notes,
    })
}

/// The page's JPEG data as one JPEG stream, if the page is a single JPEG strip (Compression 7) of
/// 8-bit grey, RGB or YCbCr: the TIFF's shared `JPEGTables` (quantisation and Huffman tables)
/// followed by the strip's own segments. Every byte comes from the file; nothing is decoded.
fn jpeg_strip(d: &mut Decoder<Cursor<&[u8]>>, bytes: &[u8]) -> Option<Passthrough> {
    let tag = |d: &mut Decoder<Cursor<&[u8]>>, t| d.find_tag_unsigned::<u32>(t).ok().flatten();
    let samples = tag(d, Tag::SamplesPerPixel).unwrap_or(1);
    let planar = tag(d, Tag::PlanarConfiguration).unwrap_or(1);
    let bits = d
        .find_tag_unsigned_vec::<u16>(Tag::BitsPerSample)
        .ok()
        .flatten()?;
    if tag(d, Tag::Compression)? != 7 || planar != 1 || bits.iter().any(|&b| b != 8) {
        return None;
    }
    let photometric = tag(d, Tag::PhotometricInterpretation)?;
    let (components, colour_transform) = match (samples, photometric) {
        (1, 1) => (1, None),
        (3, 2) => (3, Some(0)),
        (3, 6) => (3, None),
        _ => return None,
    };
    let strip = single_strip(d, bytes)?;
    if !strip.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let jpeg = match d.find_tag(Tag::JPEGTables).ok().flatten() {
        None => strip.to_vec(),
        Some(tables) => {
            let tables = tables.into_u8_vec().ok()?;
            let inner = tables.strip_prefix(&[0xFF, 0xD8])?.strip_suffix(&[0xFF, 0xD9])?;
            [&strip[..2], inner, &strip[2..]].concat()
        }
    };
    Some(Passthrough::Jpeg {
        bytes: std::sync::Arc::new(jpeg),
        components,
        colour_transform,
        whole_file: false,
    })
}

/// The bytes of a page stored as one strip; `None` for several strips or tiles.
fn single_strip<'b>(d: &mut Decoder<Cursor<&[u8]>>, bytes: &'b [u8]) -> Option<&'b [u8]> {
    let offsets = d.find_tag_unsigned_vec::<u64>(Tag::StripOffsets).ok().flatten()?;
    let counts = d
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .ok()
        .flatten()?;
    let ([offset], [count]) = (offsets.as_slice(), counts.as_slice()) else {
        return None;
    };
    bytes.get(usize::try_from(*offset).ok()?..usize::try_from(offset.checked_add(*count)?).ok()?)
}

/// The page's CCITT G4 data, if it is one strip (or tile) of it in normal bit order, and so a
/// complete G4 stream of the page.
fn g4_strip(d: &mut Decoder<Cursor<&[u8]>>, bytes: &[u8]) -> Option<Passthrough> {
    let tag = |d: &mut Decoder<Cursor<&[u8]>>, t| d.find_tag_unsigned::<u32>(t).ok().flatten();
    let compression = tag(d, Tag::Compression)?;
    let fill_order = tag(d, Tag::FillOrder).unwrap_or(1);
    // T6Options bit 1 allows uncompressed mode, which PDF's CCITTFaxDecode does not offer.
    let t6_options = tag(d, Tag::Unknown(293)).unwrap_or(0);
    if compression != 4 || fill_order != 1 || t6_options & 2 != 0 {
        return None;
    }
    let data = single_strip(d, bytes)?;
    let photometric = tag(d, Tag::PhotometricInterpretation)?;
    Some(Passthrough::CcittG4 {
        data: data.to_vec(),
        black_is_1: photometric == u32::from(PhotometricInterpretation::BlackIsZero.to_u16()),
    })
}

fn raster(
    colour: ColorType,
    data: DecodingResult,
    associated_alpha: bool,
    notes: &mut Vec<String>,
) -> Result<Raster, DecodeError> {
    // Premultiplied samples are already "colour × alpha": only the paper shows through.
    type Flatten<T> = fn(&[T], usize) -> Vec<T>;
    let (f8, f16): (Flatten<u8>, Flatten<u16>) = if associated_alpha {
        (premultiplied8, premultiplied16)
    } else {
        (flatten8, flatten16)
    };
    let raster = match (colour, data) {
        (ColorType::Gray(1), DecodingResult::U8(v)) => Raster::Bilevel(v),
        (ColorType::Gray(8), DecodingResult::U8(v)) => Raster::Gray8(v),
        (ColorType::Gray(16), DecodingResult::U16(v)) => Raster::Gray16(v),
        (ColorType::RGB(8), DecodingResult::U8(v)) | (ColorType::YCbCr(8), DecodingResult::U8(v)) => {
            Raster::Rgb8(v)
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => Raster::Rgb16(v),
        (
            ColorType::GrayA(8)
            | ColorType::Multiband {
                bit_depth: 8,
                num_samples: 2,
            },
            DecodingResult::U8(v),
        ) => flattened(notes, Raster::Gray8(f8(&v, 2))),
        (
            ColorType::GrayA(16)
            | ColorType::Multiband {
                bit_depth: 16,
                num_samples: 2,
            },
            DecodingResult::U16(v),
        ) => flattened(notes, Raster::Gray16(f16(&v, 2))),
        (ColorType::RGBA(8), DecodingResult::U8(v)) => flattened(notes, Raster::Rgb8(f8(&v, 4))),
        (ColorType::RGBA(16), DecodingResult::U16(v)) => flattened(notes, Raster::Rgb16(f16(&v, 4))),
        (ColorType::CMYK(_), _) | (ColorType::CMYKA(_), _) => {
            return Err(DecodeError::Unsupported(
                "CMYK TIFF is not supported; set the scanner to RGB or greyscale".into(),
            ));
        }
        (other, _) => {
            return Err(DecodeError::Unsupported(format!(
                "TIFF colour type {other:?} is not supported; use bilevel, 8/16-bit grey or RGB"
            )));
        }
    };
    Ok(raster)
}

/// Flattens premultiplied 8-bit samples onto white: colour + (1 − alpha) × white.
fn premultiplied8(samples: &[u8], channels: usize) -> Vec<u8> {
    samples
        .chunks_exact(channels)
        .flat_map(|px| {
            let paper = 255 - px[channels - 1];
            px[..channels - 1].iter().map(move |&v| v.saturating_add(paper))
        })
        .collect()
}

fn premultiplied16(samples: &[u16], channels: usize) -> Vec<u16> {
    samples
        .chunks_exact(channels)
        .flat_map(|px| {
            let paper = 65535 - px[channels - 1];
            px[..channels - 1].iter().map(move |&v| v.saturating_add(paper))
        })
        .collect()
}

/// XResolution/YResolution in dpi, honouring ResolutionUnit (2 inch, the default; 3 centimetre).
fn resolution(d: &mut Decoder<Cursor<&[u8]>>) -> Option<(f64, f64)> {
    let x = rational(d, Tag::XResolution)?;
    let y = rational(d, Tag::YResolution).unwrap_or(x);
    let unit = d
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let scale = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    (x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite()).then_some((x * scale, y * scale))
}

/// A RATIONAL (or plain number) tag as f64; tiff's own `get_tag_f64` refuses rationals.
fn rational(d: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Option<f64> {
    match d.find_tag(tag).ok()?? {
        Value::Rational(n, den) if den != 0 => Some(f64::from(n) / f64::from(den)),
        Value::Float(v) => Some(f64::from(v)),
        Value::Double(v) => Some(v),
        Value::Short(v) => Some(f64::from(v)),
        Value::Unsigned(v) => Some(f64::from(v)),
        _ => None,
    }
}
