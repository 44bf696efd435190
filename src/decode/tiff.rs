//! TIFF pages: multi-page, G4/G3, LZW, Deflate, PackBits, JPEG or uncompressed; bilevel, grey, RGB.
//!
//! Photometric WhiteIsZero is turned into PDF's black-is-zero order by the tiff decoder itself
//! (`tiff` ≥ 0.11 inverts such samples), so every later stage sees one convention. A page stored as one CCITT Group 4 strip also keeps that strip, which the PDF
//! carries unchanged. Alpha, associated or not, is flattened onto white.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

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

/// The decoder of a whole file or one page of it.
type PageDecoder = Decoder<AtDirectory<BufReader<File>>>;

/// The offsets of the file's image directories, one per page, in file order.
pub fn directories(reader: impl Read + Seek) -> Result<Vec<u64>, DecodeError> {
    let mut decoder = Decoder::new(reader).map_err(corrupt)?;
    let mut offsets = Vec::new();
    loop {
        offsets.push(
            decoder
                .ifd_pointer()
                .ok_or_else(|| corrupt("no image directory"))?
                .0,
        );
        if !decoder.more_images() {
            return Ok(offsets);
        }
        decoder.next_image().map_err(corrupt)?;
    }
}

/// A decoder opened straight at page `index`'s directory: nothing of the file but that page's
/// directory and data is read, whatever the page's place in the file.
pub fn open_page(path: &Path, directories: &[u64], len: u64, index: u32) -> Result<PageDecoder, DecodeError> {
    let &directory = directories.get(index as usize).ok_or(DecodeError::NoSuchPage {
        index,
        count: directories.len() as u32,
    })?;
    let file = File::open(path).map_err(|e| corrupt(format!("cannot read the file again: {e}")))?;
    let reader = AtDirectory::new(BufReader::new(file), directory, len).map_err(corrupt)?;
    Decoder::new(reader).map_err(corrupt)
}

/// Refuses a page whose strips or tiles run past the end of the file (`len` bytes), by name: a
/// TIFF cut off in transfer, not some decoder's "failed to fill whole buffer".
fn truncated(d: &mut PageDecoder, len: u64) -> Result<(), DecodeError> {
    let pairs = [
        (Tag::StripOffsets, Tag::StripByteCounts),
        (Tag::TileOffsets, Tag::TileByteCounts),
    ];
    for (offsets, counts) in pairs {
        let (Ok(Some(offsets)), Ok(Some(counts))) = (
            d.find_tag_unsigned_vec::<u64>(offsets),
            d.find_tag_unsigned_vec::<u64>(counts),
        ) else {
            continue;
        };
        let end = offsets
            .iter()
            .zip(&counts)
            .map(|(o, c)| o.saturating_add(*c))
            .max()
            .unwrap_or(0);
        if end > len {
            return Err(corrupt(format!(
                "truncated TIFF: the page's image data runs to byte {end}, but the file ends after \
                 {len} bytes"
            )));
        }
    }
    Ok(())
}

pub fn decode(mut d: PageDecoder, len: u64) -> Result<Page, DecodeError> {
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
    if let Some(scheme @ (2 | 3)) = d.find_tag_unsigned::<u16>(Tag::Compression).ok().flatten() {
        let name = if scheme == 2 {
            "CCITT Modified Huffman (RLE)"
        } else {
            "CCITT Group 3"
        };
        return Err(DecodeError::Unsupported(format!(
            "TIFF compressed with {name} is not supported; let the scanner write CCITT Group 4, \
             LZW, Deflate or uncompressed TIFF"
        )));
    }
    truncated(&mut d, len)?;
    let passthrough = g4_strip(&mut d, len).or_else(|| jpeg_strip(&mut d, len));
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
        frame: None,
    })
}

/// The page's JPEG data as one JPEG stream, if the page is a single JPEG strip (Compression 7) of
/// 8-bit grey, RGB or YCbCr: the TIFF's shared `JPEGTables` (quantisation and Huffman tables)
/// followed by the strip's own segments. Every byte comes from the file; nothing is decoded.
fn jpeg_strip(d: &mut PageDecoder, len: u64) -> Option<Passthrough> {
    let tag = |d: &mut PageDecoder, t| d.find_tag_unsigned::<u32>(t).ok().flatten();
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
    let strip = single_strip(d, len)?;
    if !strip.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let jpeg = match d.find_tag(Tag::JPEGTables).ok().flatten() {
        None => strip,
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
fn single_strip(d: &mut PageDecoder, len: u64) -> Option<Vec<u8>> {
    let offsets = d.find_tag_unsigned_vec::<u64>(Tag::StripOffsets).ok().flatten()?;
    let counts = d
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .ok()
        .flatten()?;
    let ([offset], [count]) = (offsets.as_slice(), counts.as_slice()) else {
        return None;
    };
    if offset.checked_add(*count)? > len {
        return None;
    }
    let mut data = vec![0; usize::try_from(*count).ok()?];
    let reader = d.inner();
    reader.seek(SeekFrom::Start(*offset)).ok()?;
    reader.read_exact(&mut data).ok()?;
    Some(data)
}

/// The page's CCITT G4 data, if it is one strip (or tile) of it in normal bit order, and so a
/// complete G4 stream of the page.
fn g4_strip(d: &mut PageDecoder, len: u64) -> Option<Passthrough> {
    let tag = |d: &mut PageDecoder, t| d.find_tag_unsigned::<u32>(t).ok().flatten();
    let compression = tag(d, Tag::Compression)?;
    let fill_order = tag(d, Tag::FillOrder).unwrap_or(1);
    // T6Options bit 1 allows uncompressed mode, which PDF's CCITTFaxDecode does not offer.
    let t6_options = tag(d, Tag::Unknown(293)).unwrap_or(0);
    if compression != 4 || fill_order != 1 || t6_options & 2 != 0 {
        return None;
    }
    let data = single_strip(d, len)?;
    let photometric = tag(d, Tag::PhotometricInterpretation)?;
    Some(Passthrough::CcittG4 {
        data,
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
fn resolution(d: &mut PageDecoder) -> Option<(f64, f64)> {
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
fn rational(d: &mut PageDecoder, tag: Tag) -> Option<f64> {
    match d.find_tag(tag).ok()?? {
        Value::Rational(n, den) if den != 0 => Some(f64::from(n) / f64::from(den)),
        Value::Float(v) => Some(f64::from(v)),
        Value::Double(v) => Some(v),
        Value::Short(v) => Some(f64::from(v)),
        Value::Unsigned(v) => Some(f64::from(v)),
        _ => None,
    }
}

/// A TIFF file as seen from one image directory: the header's pointer to the first directory is
/// replaced by `directory`, so a decoder opens straight at that page instead of walking the chain
/// of every page before it. All other bytes are the file's own.
pub struct AtDirectory<R> {
    inner: R,
    header: [u8; 16],
    header_len: u64,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> AtDirectory<R> {
    pub fn new(mut inner: R, directory: u64, len: u64) -> std::io::Result<Self> {
        let mut header = [0u8; 16];
        inner.seek(SeekFrom::Start(0))?;
        inner.read_exact(&mut header[..8])?;
        let little = match &header[..2] {
            b"II" => true,
            b"MM" => false,
            _ => return Err(std::io::Error::other("not a TIFF header")),
        };
        let big = if little { header[2] == 43 } else { header[3] == 43 };
        let header_len = if big {
            inner.read_exact(&mut header[8..16])?;
            let bytes = if little {
                directory.to_le_bytes()
            } else {
                directory.to_be_bytes()
            };
            header[8..16].copy_from_slice(&bytes);
            16
        } else {
            let directory = u32::try_from(directory).map_err(std::io::Error::other)?;
            let bytes = if little {
                directory.to_le_bytes()
            } else {
                directory.to_be_bytes()
            };
            header[4..8].copy_from_slice(&bytes);
            8
        };
        Ok(AtDirectory {
            inner,
            header,
            header_len,
            pos: 0,
            len,
        })
    }
}

impl<R: Read + Seek> Read for AtDirectory<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos < self.header_len {
            let from = &self.header[self.pos as usize..self.header_len as usize];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            if self.pos == self.header_len {
                self.inner.seek(SeekFrom::Start(self.pos))?;
            }
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for AtDirectory<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        }
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        if target >= self.header_len {
            self.inner.seek(SeekFrom::Start(target))?;
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiff::encoder::{TiffEncoder, TiffKind, colortype};

    /// Pages of widths 10, 11, 12, … with a grey level per page, written as one file.
    fn write<K: TiffKind>(mut encoder: TiffEncoder<&mut std::io::Cursor<Vec<u8>>, K>, pages: u8) {
        for page in 0..pages {
            let width = 10 + u32::from(page);
            let pixels = vec![page * 20; width as usize * 7];
            encoder
                .write_image::<colortype::Gray8>(width, 7, &pixels)
                .unwrap();
        }
    }

    fn check(bytes: Vec<u8>, pages: u8) {
        let dir = std::env::temp_dir().join(format!("scanwerk-tiff-{}-{}", std::process::id(), bytes.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pages.tif");
        std::fs::write(&path, &bytes).unwrap();
        let directories = directories(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(directories.len(), usize::from(pages));
        // Backwards, so no page can be reached by walking from the one before.
        for index in (0..pages).rev() {
            let decoder = open_page(&path, &directories, bytes.len() as u64, index.into()).unwrap();
            let page = decode(decoder, bytes.len() as u64).unwrap();
            assert_eq!((page.width, page.height), (10 + u32::from(index), 7));
            match page.raster {
                Raster::Gray8(g) => assert!(g.iter().all(|&v| v == index * 20), "page {index}"),
                other => panic!("page {index}: {other:?}"),
            }
        }
        let err = open_page(&path, &directories, bytes.len() as u64, pages.into())
            .err()
            .unwrap();
        assert!(matches!(err, DecodeError::NoSuchPage { count, .. } if count == u32::from(pages)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn each_page_opens_at_its_own_directory() {
        let mut cursor = std::io::Cursor::new(Vec::new());
        write(TiffEncoder::new(&mut cursor).unwrap(), 5);
        check(cursor.into_inner(), 5);
    }

    #[test]
    fn bigtiff_pages_open_at_their_directories() {
        let mut cursor = std::io::Cursor::new(Vec::new());
        write(TiffEncoder::new_big(&mut cursor).unwrap(), 3);
        check(cursor.into_inner(), 3);
    }
}
