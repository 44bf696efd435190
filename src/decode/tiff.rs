//! TIFF pages: multi-page, G4/G3, LZW, Deflate, PackBits, JPEG or uncompressed; bilevel, grey, RGB.
//!
//! Photometric WhiteIsZero is turned into PDF's black-is-zero order here, so every later stage sees
//! one convention.

use std::io::Cursor;

use tiff::ColorType;
use tiff::decoder::ifd::Value;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::{PhotometricInterpretation, Tag};

use super::{DecodeError, Format, Page, Raster, flatten8, flatten16, flattened};

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
    let white_is_zero = d
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .ok()
        .flatten()
        == Some(PhotometricInterpretation::WhiteIsZero.to_u16());
    let dpi = resolution(&mut d);
    let data = d.read_image().map_err(corrupt)?;
    let mut notes = Vec::new();
    let raster = raster(colour, data, white_is_zero, &mut notes)?;
    Ok(Page {
        width,
        height,
        dpi,
        raster,
        passthrough: None,
        notes,
    })
}

fn raster(
    colour: ColorType,
    data: DecodingResult,
    white_is_zero: bool,
    notes: &mut Vec<String>,
) -> Result<Raster, DecodeError> {
    let invert = |v: &mut Vec<u8>| v.iter_mut().for_each(|b| *b = !*b);
    let raster = match (colour, data) {
        (ColorType::Gray(1), DecodingResult::U8(mut v)) => {
            if white_is_zero {
                invert(&mut v);
            }
            Raster::Bilevel(v)
        }
        (ColorType::Gray(8), DecodingResult::U8(mut v)) => {
            if white_is_zero {
                invert(&mut v);
            }
            Raster::Gray8(v)
        }
        (ColorType::Gray(16), DecodingResult::U16(mut v)) => {
            if white_is_zero {
                v.iter_mut().for_each(|s| *s = !*s);
            }
            Raster::Gray16(v)
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) | (ColorType::YCbCr(8), DecodingResult::U8(v)) => {
            Raster::Rgb8(v)
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => Raster::Rgb16(v),
        (ColorType::GrayA(8), DecodingResult::U8(v)) => flattened(notes, Raster::Gray8(flatten8(&v, 2))),
        (ColorType::GrayA(16), DecodingResult::U16(v)) => flattened(notes, Raster::Gray16(flatten16(&v, 2))),
        (ColorType::RGBA(8), DecodingResult::U8(v)) => flattened(notes, Raster::Rgb8(flatten8(&v, 4))),
        (ColorType::RGBA(16), DecodingResult::U16(v)) => flattened(notes, Raster::Rgb16(flatten16(&v, 4))),
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
