//! Page images as PDF image XObjects, lossless only.
//!
//! A JPEG is embedded with its original bytes (DCTDecode), everything else as Flate over the exact
//! samples. Bilevel pages keep one bit per pixel. No lossy re-encoding and no JBIG2, ever: the page
//! image is the evidence.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};
use lopdf::{Object, Stream, dictionary};

use crate::decode::{Page, Passthrough, Raster};

/// How the image bytes are encoded in the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The scanner's JPEG bytes, unchanged.
    Jpeg,
    /// Lossless Flate over the decoded samples.
    Flate,
}

/// An image XObject ready to write: built on a worker thread, written by the composer.
#[derive(Debug, Clone)]
pub struct PdfImage {
    pub width: u32,
    pub height: u32,
    /// 1 (DeviceGray) or 3 (DeviceRGB).
    pub components: u8,
    pub bits: u8,
    pub encoding: Encoding,
    pub data: Vec<u8>,
}

impl PdfImage {
    /// Encodes the page losslessly, preferring the scanner's own bytes.
    pub fn encode(page: &Page) -> PdfImage {
        let base = |bits, encoding, data| PdfImage {
            width: page.width,
            height: page.height,
            components: page.components(),
            bits,
            encoding,
            data,
        };
        if let Some(Passthrough::Jpeg { bytes, .. }) = &page.passthrough {
            return base(8, Encoding::Jpeg, bytes.to_vec());
        }
        let be16 = |v: &[u16]| v.iter().flat_map(|s| s.to_be_bytes()).collect::<Vec<u8>>();
        match &page.raster {
            Raster::Bilevel(d) => base(1, Encoding::Flate, deflate(d)),
            Raster::Gray8(d) | Raster::Rgb8(d) => base(8, Encoding::Flate, deflate(d)),
            Raster::Gray16(d) | Raster::Rgb16(d) => base(16, Encoding::Flate, deflate(&be16(d))),
        }
    }

    pub fn into_object(self) -> Object {
        let colour_space = if self.components == 1 {
            "DeviceGray"
        } else {
            "DeviceRGB"
        };
        let filter = match self.encoding {
            Encoding::Jpeg => "DCTDecode",
            Encoding::Flate => "FlateDecode",
        };
        let dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => self.width,
            "Height" => self.height,
            "ColorSpace" => colour_space,
            "BitsPerComponent" => self.bits,
            "Filter" => filter,
        };
        Object::Stream(Stream::new(dict, self.data))
    }
}

/// zlib/deflate at the default level: a balance of size and speed for page images.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 4), Compression::default());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}
