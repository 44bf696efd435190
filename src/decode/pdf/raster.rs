//! A source PDF page's image decoded for OCR and the page checks: DCT, CCITT G4, JBIG2, Flate,
//! LZW and RunLength streams to a [`Raster`], with the stream itself as the passthrough.

use std::sync::Arc;

use lopdf::{Dictionary, Object, Stream};

use super::image::Palette;
use super::{PdfPage, SourceImage, number};
use crate::decode::{DecodeError, Format, Page, Passthrough, Raster, g4};

/// The page's image decoded for OCR, with the source stream as its passthrough.
pub fn decode(page: &PdfPage, notes: &[String]) -> Result<Page, DecodeError> {
    let image = &page.image;
    let (width, height) = (image.width(), image.height());
    let bad = |detail: String| DecodeError::Corrupt {
        format: Format::Pdf,
        detail,
    };
    if width == 0 || height == 0 {
        return Err(bad("the image has no size".into()));
    }
    let (components, palette) = image.colour().map_err(DecodeError::Unsupported)?;
    let bits = image.int(b"BitsPerComponent").unwrap_or(8);
    let filters = image.filters();
    let names: Vec<&str> = filters.iter().map(String::as_str).collect();
    let raster = match names.as_slice() {
        ["DCTDecode"] | ["FlateDecode", "DCTDecode"] => {
            let jpeg = if names.len() == 2 {
                inflate(image, 1)?
            } else {
                image.data.clone()
            };
            jpeg_raster(&jpeg, components).map_err(bad)?
        }
        ["CCITTFaxDecode"] => Raster::Bilevel(ccitt(image, width, height).map_err(bad)?),
        ["JBIG2Decode"] => Raster::Bilevel(jbig2(image, width, height).map_err(bad)?),
        [] | ["FlateDecode"] | ["LZWDecode"] | ["RunLengthDecode"] => {
            let samples = inflate(image, names.len())?;
            samples_raster(&samples, width, height, bits, components, palette.as_ref()).map_err(bad)?
        }
        ["JPXDecode"] => {
            return Err(DecodeError::Unsupported(
                "its image is JPEG 2000, which scanwerk does not read; set the scanner to JPEG, \
                 CCITT G4 or lossless (Flate) compression"
                    .into(),
            ));
        }
        other => {
            return Err(DecodeError::Unsupported(format!(
                "its image filter {other:?} is not one scanwerk reads; set the scanner to JPEG, \
                 CCITT G4 or lossless (Flate) compression"
            )));
        }
    };
    let raster = apply_decode_array(image, raster);
    let (_, placed_w, placed_h) = page.frame.turn_and_size();
    let dpi = (
        f64::from(width) * 72.0 / placed_w.max(1e-6),
        f64::from(height) * 72.0 / placed_h.max(1e-6),
    );
    let mut page_notes = notes.to_vec();
    if names.contains(&"LZWDecode") {
        page_notes.push("LZW-compressed image (not allowed in PDF/A) encoded anew without loss".into());
    }
    // JBIG2 is symbol coding, which TR-RESISCAN A.SC.12 rules out for the scan product: the
    // scanner's stream is decoded and its pixels stored as CCITT G4 without loss (PDFA.md).
    let jbig2 = names.first() == Some(&"JBIG2Decode");
    if jbig2 {
        page_notes.push(
            "the scanner's JBIG2 image was decoded and its pixels stored as CCITT G4 without loss \
             (no JBIG2 in the scan product, TR-RESISCAN A.SC.12); any symbol substitution by the \
             scanner happened at scan time, so compare this page with the paper"
                .into(),
        );
    }
    Ok(Page {
        width,
        height,
        dpi: Some(dpi),
        raster,
        passthrough: (!jbig2).then(|| Passthrough::Pdf(Arc::clone(&page.image))),
        notes: page_notes,
        frame: Some(page.frame),
    })
}

/// The stream with its first `count` filters undone (Flate/LZW with predictors, RunLength).
fn inflate(image: &SourceImage, count: usize) -> Result<Vec<u8>, DecodeError> {
    let mut dict = Dictionary::new();
    let filters = image.filters();
    if count > 0 {
        let names: Vec<Object> = filters[..count]
            .iter()
            .map(|f| Object::Name(f.as_bytes().to_vec()))
            .collect();
        dict.set("Filter", Object::Array(names));
        let parms: Vec<Object> = (0..count)
            .map(|i| image.parms(i).cloned().map_or(Object::Null, Object::Dictionary))
            .collect();
        dict.set("DecodeParms", Object::Array(parms));
    }
    Stream::new(dict, image.data.clone())
        .decompressed_content()
        .map_err(|e| DecodeError::Corrupt {
            format: Format::Pdf,
            detail: format!("its image stream does not decompress: {e}"),
        })
}

fn jpeg_raster(jpeg: &[u8], components: u8) -> Result<Raster, String> {
    use image::ImageDecoder;
    let decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg))
        .map_err(|e| format!("its JPEG image: {e}"))?;
    let colour = decoder.color_type();
    let mut buffer = vec![0u8; decoder.total_bytes() as usize];
    decoder
        .read_image(&mut buffer)
        .map_err(|e| format!("its JPEG image: {e}"))?;
    match (colour, components) {
        (image::ColorType::L8, 1) => Ok(Raster::Gray8(buffer)),
        (image::ColorType::Rgb8, 3) => Ok(Raster::Rgb8(buffer)),
        (colour, n) => Err(format!(
            "its JPEG image is {colour:?} but the PDF says {n} colour components"
        )),
    }
}

/// CCITT data decoded to packed rows, 1 = white.
fn ccitt(image: &SourceImage, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let parms = image.parms(0);
    let get = |key: &[u8]| parms.and_then(|p| p.get(key).ok());
    let k = get(b"K").and_then(|k| k.as_i64().ok()).unwrap_or(0);
    let columns = get(b"Columns").and_then(|c| c.as_i64().ok()).unwrap_or(1728);
    let black_is_1 = get(b"BlackIs1").and_then(|b| b.as_bool().ok()).unwrap_or(false);
    if k >= 0 {
        return Err(format!(
            "its CCITT image is Group 3 (K = {k}), which scanwerk does not read in PDFs; set the \
             scanner to CCITT Group 4"
        ));
    }
    if columns != i64::from(width) {
        return Err(format!(
            "its CCITT /Columns {columns} differ from the image width {width}"
        ));
    }
    let mut rows = g4::decode(&image.data, width, height)
        .ok_or_else(|| format!("its CCITT G4 data does not decode to {width} × {height} pixels (damaged)"))?;
    if black_is_1 {
        rows.iter_mut().for_each(|b| *b = !*b);
    }
    Ok(rows)
}

/// JBIG2 (embedded organisation, with the `/JBIG2Globals` stream) decoded to packed rows,
/// 1 = white.
fn jbig2(image: &SourceImage, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let settings = hayro_jbig2::DecodeSettings::default();
    let globals_data = image
        .parms(0)
        .and_then(|p| p.get(b"JBIG2Globals").ok())
        .and_then(|g| image.local(g))
        .and_then(|g| g.as_stream().ok())
        .map(|s| {
            s.decompressed_content()
                .map_err(|e| format!("its JBIG2 globals: {e}"))
        })
        .transpose()?;
    let globals = match &globals_data {
        Some(data) => Some(
            hayro_jbig2::Globals::new(data, &settings).map_err(|e| format!("its JBIG2 globals: {e:?}"))?,
        ),
        None => None,
    };
    let page = hayro_jbig2::Page::new_embedded(&image.data, globals.as_ref(), &settings)
        .map_err(|e| format!("its JBIG2 image: {e:?}"))?;
    if page.width() != width || page.height() != height {
        return Err(format!(
            "its JBIG2 image is {} × {} pixels, the PDF says {width} × {height}",
            page.width(),
            page.height()
        ));
    }
    let mut rows = Rows::new(width, height);
    page.decode(&mut rows)
        .map_err(|e| format!("its JBIG2 image: {e:?}"))?;
    Ok(rows.data)
}

/// Packed rows written pixel by pixel (1 = white) by the JBIG2 decoder.
struct Rows {
    data: Vec<u8>,
    stride: usize,
    width: usize,
    x: usize,
    y: usize,
}

impl Rows {
    fn new(width: u32, height: u32) -> Rows {
        let stride = (width as usize).div_ceil(8);
        Rows {
            data: vec![0xFF; stride * height as usize],
            stride,
            width: width as usize,
            x: 0,
            y: 0,
        }
    }
}

impl hayro_jbig2::Decoder for Rows {
    fn push_pixel(&mut self, black: bool) {
        if self.x < self.width
            && black
            && let Some(byte) = self.data.get_mut(self.y * self.stride + self.x / 8)
        {
            *byte &= !(0x80 >> (self.x % 8));
        }
        self.x += 1;
    }

    fn push_pixel_chunk(&mut self, black: bool, chunk_count: u32) {
        for _ in 0..chunk_count * 8 {
            self.push_pixel(black);
        }
    }

    fn next_line(&mut self) {
        self.x = 0;
        self.y += 1;
    }
}

/// Raw samples (after Flate/LZW) as a raster; an indexed image is looked up in its palette.
fn samples_raster(
    samples: &[u8],
    width: u32,
    height: u32,
    bits: i64,
    components: u8,
    palette: Option<&Palette>,
) -> Result<Raster, String> {
    let (w, h) = (width as usize, height as usize);
    let per_row = |bpp: usize| (w * bpp).div_ceil(8);
    let short = |need: usize| {
        format!(
            "its image data is {} bytes, {need} expected (truncated)",
            samples.len()
        )
    };
    match (bits, components, palette) {
        (1, 1, None) => {
            let need = per_row(1) * h;
            samples
                .get(..need)
                .map(|s| Raster::Bilevel(s.to_vec()))
                .ok_or_else(|| short(need))
        }
        (8, 1, None) => {
            let need = w * h;
            samples
                .get(..need)
                .map(|s| Raster::Gray8(s.to_vec()))
                .ok_or_else(|| short(need))
        }
        (8, 3, None) => {
            let need = w * h * 3;
            samples
                .get(..need)
                .map(|s| Raster::Rgb8(s.to_vec()))
                .ok_or_else(|| short(need))
        }
        (b @ (1 | 2 | 4 | 8), 1, Some((base, table))) => {
            let b = b as usize;
            let need = per_row(b) * h;
            if samples.len() < need {
                return Err(short(need));
            }
            let n = usize::from(*base);
            let mut out = Vec::with_capacity(w * h * n);
            for row in samples[..need].chunks_exact(per_row(b)) {
                for x in 0..w {
                    let bit = x * b;
                    let index = (row[bit / 8] >> (8 - b - bit % 8)) & ((1u16 << b) - 1) as u8;
                    let at = usize::from(index) * n;
                    let entry = table.get(at..at + n).unwrap_or(&[0, 0, 0][..n]);
                    out.extend_from_slice(entry);
                }
            }
            Ok(if n == 1 {
                Raster::Gray8(out)
            } else {
                Raster::Rgb8(out)
            })
        }
        (b, c, _) => Err(format!(
            "its image has {b} bits per component and {c} components, which scanwerk does not read"
        )),
    }
}

/// `/Decode [1 0]` (inverted samples) applied to a grey or bilevel raster.
fn apply_decode_array(image: &SourceImage, raster: Raster) -> Raster {
    let inverted = image
        .dict
        .get(b"Decode")
        .ok()
        .and_then(|d| d.as_array().ok())
        .and_then(|a| a.first().and_then(number))
        .is_some_and(|first| first > 0.5);
    if !inverted {
        return raster;
    }
    match raster {
        Raster::Bilevel(mut v) => {
            v.iter_mut().for_each(|b| *b = !*b);
            Raster::Bilevel(v)
        }
        Raster::Gray8(mut v) => {
            v.iter_mut().for_each(|b| *b = 255 - *b);
            Raster::Gray8(v)
        }
        other => other,
    }
}
