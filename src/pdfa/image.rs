//! Page images as PDF image XObjects, lossless only.
//!
//! The scanner's own bytes are embedded wherever PDF can carry them unchanged: a JPEG as
//! DCTDecode, a TIFF's single CCITT G4 strip as CCITTFaxDecode, a PNG's compressed stream as
//! FlateDecode with PNG predictors (palette PNGs as `/Indexed`). Everything else is encoded anew
//! without loss: black-and-white as CCITT G4, checked by decoding it again before it is used,
//! grey and colour as Flate with per-row PNG predictors. No lossy re-encoding and no JBIG2, ever:
//! the page image is the evidence. Colour spaces are DeviceGray/DeviceRGB, given meaning by the
//! document's sRGB output intent; there is no transparency (alpha was flattened in decoding).

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};
use lopdf::{Dictionary, Object, Stream, dictionary};

use std::sync::Arc;

use crate::decode::pdf::{LOCAL_GENERATION, SourceImage};
use crate::decode::{Page, Passthrough, PngColour, Raster, g4};

/// How the image bytes are encoded in the PDF, as recorded in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The scanner's JPEG bytes, unchanged (DCTDecode).
    JpegOriginal,
    /// A TIFF page's JPEG strip, unchanged, behind the TIFF's shared JPEG tables (DCTDecode).
    TiffJpegOriginal,
    /// The TIFF's CCITT G4 strip, unchanged (CCITTFaxDecode).
    CcittG4Original,
    /// The PNG's compressed stream, unchanged (FlateDecode with PNG predictors).
    PngOriginal,
    /// Black and white encoded as CCITT G4, verified by decoding.
    CcittG4,
    /// Samples deflated with PNG predictors.
    Flate,
    /// A scanner PDF's image stream, unchanged, with the entries that give it meaning.
    PdfOriginal,
}

impl Encoding {
    /// The name used in the protocol and document JSON.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::JpegOriginal => "jpeg-original",
            Encoding::TiffJpegOriginal => "tiff-jpeg-original",
            Encoding::CcittG4Original => "ccitt-g4-original",
            Encoding::PngOriginal => "png-original",
            Encoding::CcittG4 => "ccitt-g4",
            Encoding::Flate => "flate",
            Encoding::PdfOriginal => "pdf-original",
        }
    }
}

/// The image's colour space.
#[derive(Debug, Clone, PartialEq)]
pub enum Colour {
    Gray,
    Rgb,
    /// Palette of RGB triples over DeviceRGB.
    Indexed(Vec<u8>),
}

impl Colour {
    /// Grey or RGB, as the page's raster is.
    fn of(page: &Page) -> Colour {
        if page.components() == 1 {
            Colour::Gray
        } else {
            Colour::Rgb
        }
    }
}

/// An image XObject ready to write: built on a worker thread, written by the composer.
#[derive(Debug, Clone)]
pub struct PdfImage {
    pub width: u32,
    pub height: u32,
    pub colour: Colour,
    pub bits: u8,
    pub encoding: Encoding,
    /// `/BlackIs1` for CCITT data.
    pub black_is_1: bool,
    /// `/ColorTransform` for DCT data whose JPEG does not say it.
    pub colour_transform: Option<u8>,
    /// The encoded bytes are wrapped in Flate as well (`/Filter [/FlateDecode /DCTDecode]`):
    /// decoding the Flate layer gives back the JPEG bytes exactly.
    pub deflated: bool,
    pub data: Vec<u8>,
    /// For [`Encoding::PdfOriginal`]: the source image, whose dictionary and objects are written
    /// as they are (`data` then holds its stream bytes).
    pub source: Option<Arc<SourceImage>>,
}

impl PdfImage {
    /// Encodes the page losslessly, preferring the scanner's own bytes.
    pub fn encode(page: &Page) -> PdfImage {
        Self::passed_through(page).unwrap_or_else(|| Self::encoded(page))
    }

    /// An image of `page` with these properties and bytes, everything else default.
    fn of(page: &Page, colour: Colour, bits: u8, encoding: Encoding, data: Vec<u8>) -> PdfImage {
        PdfImage {
            width: page.width,
            height: page.height,
            colour,
            bits,
            encoding,
            black_is_1: false,
            colour_transform: None,
            deflated: false,
            data,
            source: None,
        }
    }

    /// The scanner's own bytes, where the PDF can carry them.
    fn passed_through(page: &Page) -> Option<PdfImage> {
        let image = |colour, bits, encoding, data| Self::of(page, colour, bits, encoding, data);
        let colour = Colour::of(page);
        match &page.passthrough {
            Some(Passthrough::Jpeg {
                bytes,
                components,
                colour_transform,
                whole_file,
            }) => {
                let colour = if *components == 1 {
                    Colour::Gray
                } else {
                    Colour::Rgb
                };
                let encoding = if *whole_file {
                    Encoding::JpegOriginal
                } else {
                    Encoding::TiffJpegOriginal
                };
                let (deflated, data) = match deflate_if_smaller(bytes) {
                    Some(smaller) => (true, smaller),
                    None => (false, bytes.to_vec()),
                };
                return Some(PdfImage {
                    colour_transform: *colour_transform,
                    deflated,
                    ..image(colour, 8, encoding, data)
                });
            }
            Some(Passthrough::CcittG4 { data, black_is_1 }) => {
                return Some(PdfImage {
                    black_is_1: *black_is_1,
                    ..image(Colour::Gray, 1, Encoding::CcittG4Original, data.clone())
                });
            }
            Some(Passthrough::Png { data, bits, colour }) => {
                let colour = match colour {
                    PngColour::Gray => Colour::Gray,
                    PngColour::Rgb => Colour::Rgb,
                    PngColour::Indexed(palette) => Colour::Indexed(palette.clone()),
                };
                return Some(image(colour, *bits, Encoding::PngOriginal, data.clone()));
            }
            // LZW is not allowed in PDF/A: such an image is encoded anew from its samples below.
            Some(Passthrough::Pdf(source)) if !source.filters().iter().any(|f| f == "LZWDecode") => {
                return Some(PdfImage {
                    source: Some(Arc::clone(source)),
                    ..image(colour, 8, Encoding::PdfOriginal, source.data.clone())
                });
            }
            Some(Passthrough::Pdf(_)) | None => {}
        }
        None
    }

    /// The decoded pixels encoded anew without loss: G4 for black and white, else Flate.
    fn encoded(page: &Page) -> PdfImage {
        let image = |colour, bits, encoding, data| Self::of(page, colour, bits, encoding, data);
        let colour = Colour::of(page);
        let w = page.width as usize;
        let be16 = |v: &[u16]| v.iter().flat_map(|s| s.to_be_bytes()).collect::<Vec<u8>>();
        match &page.raster {
            Raster::Bilevel(bits) => match g4::encode_verified(bits, page.width, page.height) {
                Some(data) => image(Colour::Gray, 1, Encoding::CcittG4, data),
                None => image(
                    Colour::Gray,
                    1,
                    Encoding::Flate,
                    predicted(bits, w.div_ceil(8), 1),
                ),
            },
            Raster::Gray8(d) => image(colour, 8, Encoding::Flate, predicted(d, w, 1)),
            Raster::Rgb8(d) => image(colour, 8, Encoding::Flate, predicted(d, w * 3, 3)),
            Raster::Gray16(d) => image(colour, 16, Encoding::Flate, predicted(&be16(d), w * 2, 2)),
            Raster::Rgb16(d) => image(colour, 16, Encoding::Flate, predicted(&be16(d), w * 6, 6)),
        }
    }

    /// SHA-256 (hex) of the image data as its image filter reads it: for a Flate-wrapped JPEG, the
    /// JPEG bytes (so a JPEG page's hash is its file's), else the stream data.
    pub fn content_sha256(&self) -> String {
        if self.deflated {
            use std::io::Read;
            let mut jpeg = Vec::new();
            flate2::read::ZlibDecoder::new(self.data.as_slice())
                .read_to_end(&mut jpeg)
                .expect("our own deflate stream inflates");
            crate::seal::hash::sha256_hex(&jpeg)
        } else {
            crate::seal::hash::sha256_hex(&self.data)
        }
    }

    /// Number of colour components of the image's colour space (1 for Indexed).
    pub fn components(&self) -> u8 {
        match self.colour {
            Colour::Rgb => 3,
            Colour::Gray | Colour::Indexed(_) => 1,
        }
    }

    /// The image XObject and the objects it refers to (a source PDF's ICC profile, JBIG2
    /// globals, lookup table), which refer to each other by local references
    /// (generation [`LOCAL_GENERATION`], number = index in the list); see [`relink`].
    pub fn into_objects(self) -> (Object, Vec<Object>) {
        match self.source {
            Some(source) => {
                let mut dict = source.dict.clone();
                // PDF/A: an image is never interpolated; the entry is left out (false).
                dict.remove(b"Interpolate");
                (
                    Object::Stream(Stream::new(dict, self.data).with_compression(false)),
                    source.objects.clone(),
                )
            }
            None => (self.encoded_object(), Vec::new()),
        }
    }

    /// The image XObject of an image with no objects of its own (see [`PdfImage::into_objects`]).
    pub fn into_object(self) -> Object {
        self.into_objects().0
    }

    fn encoded_object(self) -> Object {
        let colour_space = match &self.colour {
            Colour::Gray => Object::from("DeviceGray"),
            Colour::Rgb => Object::from("DeviceRGB"),
            Colour::Indexed(palette) => Object::Array(vec![
                "Indexed".into(),
                "DeviceRGB".into(),
                Object::Integer((palette.len() / 3) as i64 - 1),
                Object::String(palette.clone(), lopdf::StringFormat::Hexadecimal),
            ]),
        };
        let mut dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => self.width,
            "Height" => self.height,
            "ColorSpace" => colour_space,
            "BitsPerComponent" => self.bits,
        };
        let (filter, parms): (&str, Option<Dictionary>) = match self.encoding {
            Encoding::JpegOriginal | Encoding::TiffJpegOriginal => (
                "DCTDecode",
                self.colour_transform
                    .map(|t| dictionary! { "ColorTransform" => i64::from(t) }),
            ),
            Encoding::CcittG4Original | Encoding::CcittG4 => {
                let mut parms = dictionary! {
                    "K" => -1,
                    "Columns" => self.width,
                    "Rows" => self.height,
                };
                if self.black_is_1 {
                    parms.set("BlackIs1", true);
                }
                ("CCITTFaxDecode", Some(parms))
            }
            Encoding::PngOriginal | Encoding::Flate => {
                let parms = dictionary! {
                    "Predictor" => 15,
                    "Colors" => self.components(),
                    "BitsPerComponent" => self.bits,
                    "Columns" => self.width,
                };
                ("FlateDecode", Some(parms))
            }
            // Without its source there is no stream to pass through: the bytes as they are.
            Encoding::PdfOriginal => return Object::Stream(Stream::new(dict, self.data)),
        };
        if self.deflated {
            dict.set("Filter", vec!["FlateDecode".into(), filter.into()]);
            if let Some(parms) = parms {
                dict.set("DecodeParms", vec![Object::Null, parms.into()]);
            }
        } else {
            dict.set("Filter", filter);
            if let Some(parms) = parms {
                dict.set("DecodeParms", parms);
            }
        }
        Object::Stream(Stream::new(dict, self.data))
    }
}

/// `object` with its local references (see [`PdfImage::into_objects`]) pointing at `ids`.
pub fn relink(object: Object, ids: &[lopdf::ObjectId]) -> Object {
    match object {
        Object::Reference((i, LOCAL_GENERATION)) => Object::Reference(ids[i as usize]),
        Object::Array(items) => Object::Array(items.into_iter().map(|o| relink(o, ids)).collect()),
        Object::Dictionary(d) => Object::Dictionary(relink_dict(d, ids)),
        Object::Stream(s) => {
            let dict = relink_dict(s.dict, ids);
            Object::Stream(Stream::new(dict, s.content).with_compression(false))
        }
        other => other,
    }
}

fn relink_dict(dict: Dictionary, ids: &[lopdf::ObjectId]) -> Dictionary {
    let mut out = Dictionary::new();
    for (key, value) in dict.into_iter() {
        out.set(key, relink(value, ids));
    }
    out
}

/// Deflates rows of `stride` bytes, each behind the PNG filter that suits it best (smallest sum
/// of absolute filtered values, the heuristic libpng uses). `bpp` is bytes per pixel (at least 1).
pub fn predicted(data: &[u8], stride: usize, bpp: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / stride.max(1));
    let zero = vec![0u8; stride];
    let mut candidates: [Vec<u8>; 5] = std::array::from_fn(|_| vec![0u8; stride]);
    for (i, row) in data.chunks_exact(stride).enumerate() {
        let up = if i == 0 {
            &zero[..]
        } else {
            &data[(i - 1) * stride..i * stride]
        };
        let mut best = (0, u64::MAX);
        for (kind, filtered) in candidates.iter_mut().enumerate() {
            filter_row(kind, row, up, bpp, filtered);
            let cost = cost(filtered);
            if cost < best.1 {
                best = (kind, cost);
            }
        }
        out.push(best.0 as u8);
        out.extend_from_slice(&candidates[best.0]);
    }
    deflate(&out)
}

/// Writes `row` behind PNG filter `kind` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) into `out`.
/// One plain loop per filter, so the compiler can vectorise the common ones.
fn filter_row(kind: usize, row: &[u8], up: &[u8], bpp: usize, out: &mut [u8]) {
    let lead = bpp.min(row.len());
    match kind {
        0 => out.copy_from_slice(row),
        1 => {
            out[..lead].copy_from_slice(&row[..lead]);
            for ((o, &x), &a) in out[lead..].iter_mut().zip(&row[lead..]).zip(row) {
                *o = x.wrapping_sub(a);
            }
        }
        2 => {
            for ((o, &x), &b) in out.iter_mut().zip(row).zip(up) {
                *o = x.wrapping_sub(b);
            }
        }
        3 => {
            for x in 0..lead {
                out[x] = row[x].wrapping_sub(up[x] / 2);
            }
            for (((o, &x), &a), &b) in out[lead..].iter_mut().zip(&row[lead..]).zip(row).zip(&up[lead..]) {
                *o = x.wrapping_sub(((u16::from(a) + u16::from(b)) / 2) as u8);
            }
        }
        _ => {
            for x in 0..lead {
                out[x] = row[x].wrapping_sub(up[x]);
            }
            for ((((o, &x), &a), &b), &c) in out[lead..]
                .iter_mut()
                .zip(&row[lead..])
                .zip(row)
                .zip(&up[lead..])
                .zip(up)
            {
                *o = x.wrapping_sub(paeth(a, b, c));
            }
        }
    }
}

/// The libpng heuristic: the sum of the filtered bytes read as signed magnitudes.
fn cost(filtered: &[u8]) -> u64 {
    filtered
        .chunks(1 << 16)
        .map(|chunk| {
            chunk
                .iter()
                .map(|&v| u32::from((v as i8).unsigned_abs()))
                .sum::<u32>()
        })
        .map(u64::from)
        .sum()
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// The JPEG bytes deflated, if that saves at least 2 %: scanner JPEGs of mostly blank paper often
/// shrink by a third, since their entropy coding repeats; dense photos do not, and stay as they are.
fn deflate_if_smaller(jpeg: &[u8]) -> Option<Vec<u8>> {
    let deflated = deflate(jpeg);
    (deflated.len() < jpeg.len() - jpeg.len() / 50).then_some(deflated)
}

/// zlib/deflate at the default level: a balance of size and speed for page images.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 4), Compression::default());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::ZlibDecoder;
    use std::io::Read;

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ZlibDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    }

    /// Undoes PNG prediction as a PDF reader does (ISO 32000-1, 7.4.4.4).
    fn unpredict(filtered: &[u8], stride: usize, bpp: usize) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        for (i, row) in filtered.chunks_exact(stride + 1).enumerate() {
            let start = out.len();
            for x in 0..stride {
                let a = if x >= bpp { out[start + x - bpp] } else { 0 };
                let b = if i > 0 { out[start - stride + x] } else { 0 };
                let c = if i > 0 && x >= bpp {
                    out[start - stride + x - bpp]
                } else {
                    0
                };
                let p = match row[0] {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => paeth(a, b, c),
                    f => panic!("filter {f}"),
                };
                out.push(row[1 + x].wrapping_add(p));
            }
        }
        out
    }

    #[test]
    fn predictors_are_lossless() {
        let (w, h, bpp) = (37usize, 23usize, 3usize);
        let data: Vec<u8> = (0..w * h * bpp)
            .map(|i| (((i * 7919) % 251) ^ (i / 97)) as u8)
            .collect();
        let encoded = inflate(&predicted(&data, w * bpp, bpp));
        assert_eq!(unpredict(&encoded, w * bpp, bpp), data);
        let smooth: Vec<u8> = (0..w * h).map(|i| (i % w) as u8).collect();
        let encoded = inflate(&predicted(&smooth, w, 1));
        assert!(
            encoded.chunks_exact(w + 1).skip(1).all(|r| r[0] != 0),
            "a gradient gets a filter"
        );
        assert_eq!(unpredict(&encoded, w, 1), smooth);
    }

    #[test]
    fn each_filter_matches_the_png_definition() {
        for bpp in [1usize, 2, 3, 6] {
            let stride = bpp * 11;
            let row: Vec<u8> = (0..stride).map(|i| (i * 89 % 256) as u8).collect();
            let up: Vec<u8> = (0..stride).map(|i| (255 - i * 37 % 256) as u8).collect();
            for kind in 0..5 {
                let mut fast = vec![0u8; stride];
                filter_row(kind, &row, &up, bpp, &mut fast);
                let naive: Vec<u8> = (0..stride)
                    .map(|x| {
                        let a = if x >= bpp { row[x - bpp] } else { 0 };
                        let c = if x >= bpp { up[x - bpp] } else { 0 };
                        let predictor = match kind {
                            0 => 0,
                            1 => a,
                            2 => up[x],
                            3 => ((u16::from(a) + u16::from(up[x])) / 2) as u8,
                            _ => paeth(a, up[x], c),
                        };
                        row[x].wrapping_sub(predictor)
                    })
                    .collect();
                assert_eq!(fast, naive, "filter {kind}, {bpp} bytes per pixel");
            }
        }
    }

    #[test]
    fn g4_round_trips_and_refuses_what_it_cannot_carry() {
        let (w, h) = (203u32, 61u32);
        let stride = (w as usize).div_ceil(8);
        let mut bits = vec![0xFFu8; stride * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                if (x * x + 3 * y * y) % 17 < 5 || (x > 50 && x < 90 && y % 7 < 3) {
                    bits[y * stride + x / 8] &= !(0x80 >> (x % 8));
                }
            }
            bits[y * stride + stride - 1] |= 0x1F; // padding bits set, as a decoder would give 1s
        }
        let data = g4::encode_verified(&bits, w, h).expect("round trip holds");
        let decoded = g4::decode(&data, w, h).unwrap();
        assert!(g4::same_pixels(&decoded, &bits, w), "padding bits are not pixels");
        let mut flipped = decoded.clone();
        flipped[stride * 30 + 5] ^= 0x10;
        assert!(!g4::same_pixels(&flipped, &bits, w), "one pixel differs");
        assert!(
            g4::encode_verified(&bits, 70_000, 1).is_none(),
            "wider than G4 allows"
        );
    }
}
