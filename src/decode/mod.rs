//! Decode: image files (TIFF incl. multi-page, PNG, JPEG) and scanner PDFs → [`Page`] rasters plus
//! passthrough bytes.
//!
//! The format is told by the file's magic bytes, never its name (scanners and users misname files).
//! Every page comes out as a lossless [`Raster`] for OCR and for lossless embedding; a JPEG also keeps
//! its original bytes so the PDF can carry them unchanged. Rasters are reduced only where no pixel
//! changes: an RGB image whose pixels are all grey becomes grey, a grey one of pure black and white
//! becomes bilevel. Alpha is flattened onto white (the paper colour), the one documented change.

pub mod g4;
mod jpeg;
pub mod limits;
pub mod pdf;
pub(crate) mod png;
mod tiff;

pub use limits::{InputError, InputLimits, open_page, read_source};

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Image file formats scanwerk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Tiff,
    Png,
    Jpeg,
    Pdf,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "not a TIFF, PNG or JPEG image or a PDF (unrecognised file signature); scan to one of these formats"
    )]
    UnknownFormat,
    #[error("{format:?} image is damaged or unsupported: {detail}; rescan the page or export it again")]
    Corrupt { format: Format, detail: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("page {index} does not exist (file has {count})")]
    NoSuchPage { index: u32, count: u32 },
}

/// A page raster, row-major, rows tightly packed (bilevel rows padded to whole bytes).
#[derive(Debug, Clone, PartialEq)]
pub enum Raster {
    /// 1 bit per pixel, most significant bit first, 0 = black, 1 = white (PDF DeviceGray order).
    Bilevel(Vec<u8>),
    Gray8(Vec<u8>),
    Gray16(Vec<u16>),
    Rgb8(Vec<u8>),
    Rgb16(Vec<u16>),
}

/// Original encoded bytes the PDF may embed unchanged.
#[derive(Debug, Clone)]
pub enum Passthrough {
    /// A baseline or progressive JPEG with 1 (grey) or 3 (YCbCr/RGB) components: a JPEG file as
    /// it is, or a TIFF page's single JPEG strip with the TIFF's shared tables put in front.
    Jpeg {
        bytes: Arc<Vec<u8>>,
        components: u8,
        /// Where the JPEG itself cannot say how its colour is coded: `Some(0)` for RGB samples
        /// (a TIFF with photometric RGB), the PDF's `/ColorTransform`. `None` for JPEG files.
        colour_transform: Option<u8>,
        /// True if `bytes` are the whole input file (a JPEG file), false for a TIFF's strip.
        whole_file: bool,
    },
    /// A TIFF page stored as a single CCITT Group 4 strip: a complete G4 stream of the page.
    /// `black_is_1` is set where the TIFF's photometric says 0 is black (PDF's `/BlackIs1`).
    CcittG4 { data: Vec<u8>, black_is_1: bool },
    /// A non-interlaced, fully opaque PNG's zlib stream (its IDAT chunks joined), which is PDF
    /// Flate with PNG predictors as it stands.
    Png {
        data: Vec<u8>,
        bits: u8,
        colour: PngColour,
    },
    /// A scanner PDF's image stream with the entries that give it meaning, carried unchanged.
    Pdf(Arc<pdf::SourceImage>),
}

/// Colour of a passed-through PNG stream.
#[derive(Debug, Clone, PartialEq)]
pub enum PngColour {
    Gray,
    Rgb,
    /// Palette of RGB triples.
    Indexed(Vec<u8>),
}

/// One decoded page.
#[derive(Debug, Clone)]
pub struct Page {
    pub width: u32,
    pub height: u32,
    /// Resolution (x, y) in dots per inch as the file states it; `None` if it states none.
    pub dpi: Option<(f64, f64)>,
    pub raster: Raster,
    pub passthrough: Option<Passthrough>,
    /// What decoding changed, for the protocol (e.g. alpha flattened).
    pub notes: Vec<String>,
    /// Where a scanner PDF's page put its image (media box, matrix, `/Rotate`): the output page
    /// keeps it. `None` for image files, whose page is the image at its resolution.
    pub frame: Option<pdf::Frame>,
}

/// An input file, hashed before anything else looks at it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the batch folder, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    pub format: Format,
    pub digests: crate::seal::Digests,
    pub content: Content,
}

/// What of an input file is held while its pages are processed.
#[derive(Debug, Clone)]
pub enum Content {
    /// The whole file: a one-page PNG or JPEG, whose bytes the PDF may carry unchanged.
    Whole(Arc<Vec<u8>>),
    /// A TIFF, read from disk page by page as each is decoded: only the offsets of its image
    /// directories stay in memory, however many pages the file holds.
    Tiff { directories: Vec<u64> },
    /// A scanner PDF: every page's image stream, read and checked when the file is opened.
    Pdf(Arc<pdf::PdfFile>),
}

impl SourceFile {
    /// Opens `path`: hashes it in one pass, tells its format and finds its pages.
    pub fn open(path: &Path, rel: &str) -> Result<SourceFile, SourceError> {
        let io = |e: std::io::Error| SourceError::Io(e);
        let (mut file, format) = open_sniffed(path).map_err(io)?;
        let format = format.ok_or(SourceError::Decode(DecodeError::UnknownFormat))?;
        let (digests, content) = if format == Format::Tiff {
            let digests = crate::seal::Digests::of_reader(&mut file).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            let directories = tiff::directories(std::io::BufReader::new(file))?;
            (digests, Content::Tiff { directories })
        } else {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(io)?;
            let digests = crate::seal::Digests::of(&bytes);
            if format == Format::Pdf {
                (digests, Content::Pdf(Arc::new(pdf::open(&bytes, path)?)))
            } else {
                (digests, Content::Whole(Arc::new(bytes)))
            }
        };
        Ok(SourceFile {
            rel: rel.to_string(),
            path: path.to_path_buf(),
            format,
            digests,
            content,
        })
    }

    /// Number of pages in the file.
    pub fn pages(&self) -> u32 {
        match &self.content {
            Content::Whole(_) => 1,
            Content::Tiff { directories, .. } => directories.len() as u32,
            Content::Pdf(file) => file.pages.len() as u32,
        }
    }
}

/// Pages of the image file at `path` from its headers alone (a TIFF's directories; one for PNG
/// and JPEG), without hashing or decoding anything; `None` if the file cannot be read as one.
pub fn count_pages(path: &Path) -> Option<u32> {
    let (file, format) = open_sniffed(path).ok()?;
    match format? {
        Format::Tiff => tiff::directories(std::io::BufReader::new(file))
            .ok()
            .map(|d| d.len() as u32),
        Format::Png | Format::Jpeg => Some(1),
        // The page count from the trailer and page tree only, not the whole document.
        Format::Pdf => lopdf::Document::load_metadata(path).ok().map(|m| m.page_count),
    }
}

/// Why an input file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Opens `path` and tells its format from the leading bytes; the file is left at its start.
fn open_sniffed(path: &Path) -> std::io::Result<(std::fs::File, Option<Format>)> {
    let mut file = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((file, sniff(&head)))
}

/// Tells the format from the leading bytes.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some(Format::Png),
        [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(Format::Tiff),
        [b'I', b'I', 43, 0, ..] | [b'M', b'M', 0, 43, ..] => Some(Format::Tiff),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(Format::Pdf),
        _ => None,
    }
}

/// Width and height of page `index`, from the headers alone (nothing is decompressed).
pub fn dimensions(source: &SourceFile, index: u32) -> Result<(u32, u32), DecodeError> {
    use image::ImageDecoder;
    let bad = |e: &dyn std::fmt::Display| DecodeError::Corrupt {
        format: source.format,
        detail: e.to_string(),
    };
    match (&source.content, source.format) {
        (Content::Whole(bytes), Format::Png) => {
            image::codecs::png::PngDecoder::new(std::io::Cursor::new(&bytes[..]))
                .map(|d| d.dimensions())
                .map_err(|e| bad(&e))
        }
        (Content::Whole(bytes), _) => image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes[..]))
            .map(|d| d.dimensions())
            .map_err(|e| bad(&e)),
        (Content::Tiff { directories }, _) => {
            let mut decoder = tiff::open_page(&source.path, directories, source.digests.bytes, index)?;
            decoder.dimensions().map_err(|e| bad(&e))
        }
        (Content::Pdf(file), _) => {
            let page = pdf_page(file, index)?;
            Ok((page.image.width(), page.image.height()))
        }
    }
}

/// Decodes page `index` (0-based) of `source`.
pub fn decode_page(source: &SourceFile, index: u32) -> Result<Page, DecodeError> {
    let page = match &source.content {
        Content::Tiff { directories } => {
            let len = source.digests.bytes;
            tiff::decode(tiff::open_page(&source.path, directories, len, index)?, len)?
        }
        Content::Whole(bytes) if source.format == Format::Png => png::decode(bytes)?,
        Content::Whole(bytes) => jpeg::decode(bytes)?,
        Content::Pdf(file) => pdf::decode(pdf_page(file, index)?, &file.notes)?,
    };
    Ok(page.simplified())
}

fn pdf_page(file: &pdf::PdfFile, index: u32) -> Result<&pdf::PdfPage, DecodeError> {
    file.pages.get(index as usize).ok_or(DecodeError::NoSuchPage {
        index,
        count: file.pages.len() as u32,
    })
}

impl Page {
    /// Replaces the raster with the smallest lossless form (grey RGB → grey, black/white → bilevel).
    /// A passed-through PNG stream no longer matching the raster's form is dropped; the raster
    /// is then encoded anew, losslessly.
    fn simplified(mut self) -> Page {
        if let Raster::Rgb8(rgb) = &self.raster
            && rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2])
        {
            self.raster = Raster::Gray8(rgb.chunks_exact(3).map(|p| p[0]).collect());
        }
        if let Raster::Gray8(gray) = &self.raster
            && gray.iter().all(|&v| v == 0 || v == 255)
        {
            self.raster = Raster::Bilevel(pack_bilevel(gray, self.width as usize));
        }
        if let Some(Passthrough::Png { colour, .. }) = &self.passthrough {
            let still_fits = match (colour, &self.raster) {
                (_, Raster::Bilevel(_)) => false,
                (PngColour::Indexed(_), _) => true,
                (PngColour::Gray, Raster::Gray8(_) | Raster::Gray16(_)) => true,
                (PngColour::Rgb, Raster::Rgb8(_) | Raster::Rgb16(_)) => true,
                _ => false,
            };
            if !still_fits {
                self.passthrough = None;
            }
        }
        self
    }

    /// Number of colour components (1 grey, 3 RGB).
    pub fn components(&self) -> u8 {
        match self.raster {
            Raster::Bilevel(_) | Raster::Gray8(_) | Raster::Gray16(_) => 1,
            Raster::Rgb8(_) | Raster::Rgb16(_) => 3,
        }
    }

    /// The colour mode as recorded in metadata.
    pub fn colour_mode(&self) -> &'static str {
        match self.raster {
            Raster::Bilevel(_) => "bilevel",
            Raster::Gray8(_) => "gray8",
            Raster::Gray16(_) => "gray16",
            Raster::Rgb8(_) => "rgb8",
            Raster::Rgb16(_) => "rgb16",
        }
    }
}

/// Packs 8-bit grey values (0 or 255) into MSB-first bits, one padded byte row per image row.
pub fn pack_bilevel(gray: &[u8], width: usize) -> Vec<u8> {
    let stride = width.div_ceil(8);
    let mut out = Vec::with_capacity(stride * (gray.len() / width.max(1)));
    for row in gray.chunks_exact(width) {
        let mut packed = vec![0u8; stride];
        for (x, &v) in row.iter().enumerate() {
            if v >= 128 {
                packed[x / 8] |= 0x80 >> (x % 8);
            }
        }
        out.extend_from_slice(&packed);
    }
    out
}

/// Composites an 8-bit sample with its alpha onto white paper.
fn over_white8(value: u8, alpha: u8) -> u8 {
    let (v, a) = (value as u32, alpha as u32);
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Composites a 16-bit sample with its alpha onto white paper.
fn over_white16(value: u16, alpha: u16) -> u16 {
    let (v, a) = (value as u64, alpha as u64);
    ((v * a + 65535 * (65535 - a) + 32767) / 65535) as u16
}

/// Drops the alpha channel of interleaved samples (`channels` includes alpha), flattening onto white.
fn flatten8(samples: &[u8], channels: usize) -> Vec<u8> {
    samples
        .chunks_exact(channels)
        .flat_map(|px| {
            let alpha = px[channels - 1];
            px[..channels - 1].iter().map(move |&v| over_white8(v, alpha))
        })
        .collect()
}

fn flatten16(samples: &[u16], channels: usize) -> Vec<u16> {
    samples
        .chunks_exact(channels)
        .flat_map(|px| {
            let alpha = px[channels - 1];
            px[..channels - 1].iter().map(move |&v| over_white16(v, alpha))
        })
        .collect()
}

/// Records that alpha was flattened and passes the raster on.
fn flattened(notes: &mut Vec<String>, raster: Raster) -> Raster {
    notes.push("alpha channel flattened onto white".into());
    raster
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_ignores_names() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), Some(Format::Png));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some(Format::Jpeg));
        assert_eq!(sniff(b"II*\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"MM\0*"), Some(Format::Tiff));
        assert_eq!(sniff(b"%PDF-1.7"), Some(Format::Pdf));
        assert_eq!(sniff(b"just text"), None);
    }

    #[test]
    fn pdf_pages_are_counted_from_the_page_tree() {
        let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realscans/pdf-inputs");
        for (name, pages) in [
            ("cardinal.pdf", 4),
            ("3small.pdf", 3),
            ("multipage.pdf", 6),
            ("epson.pdf", 1),
        ] {
            assert_eq!(count_pages(&inputs.join(name)), Some(pages), "{name}");
        }
    }

    #[test]
    fn pack_bilevel_pads_rows() {
        let gray = [
            0, 255, 255, 0, 0, 0, 0, 0, 255, /* row 2 */ 255, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let packed = pack_bilevel(&gray, 9);
        assert_eq!(packed, vec![0b0110_0000, 0b1000_0000, 0b1000_0000, 0]);
    }

    #[test]
    fn alpha_flattens_onto_white() {
        assert_eq!(over_white8(0, 0), 255);
        assert_eq!(over_white8(0, 255), 0);
        assert_eq!(over_white8(100, 255), 100);
        assert_eq!(
            flatten8(&[10, 20, 30, 255, 0, 0, 0, 0], 4),
            vec![10, 20, 30, 255, 255, 255]
        );
        assert_eq!(over_white16(0, 0), 65535);
    }

    #[test]
    fn simplify_is_lossless() {
        let page = Page {
            width: 2,
            height: 1,
            dpi: None,
            raster: Raster::Rgb8(vec![0, 0, 0, 255, 255, 255]),
            passthrough: None,
            notes: vec![],
            frame: None,
        };
        assert_eq!(page.simplified().raster, Raster::Bilevel(vec![0b0100_0000]));
        let grey = Page {
            raster: Raster::Rgb8(vec![7, 7, 7, 9, 9, 9]),
            ..empty()
        };
        assert_eq!(grey.simplified().raster, Raster::Gray8(vec![7, 9]));
        let colour = Page {
            raster: Raster::Rgb8(vec![7, 8, 7, 9, 9, 9]),
            ..empty()
        };
        assert!(matches!(colour.simplified().raster, Raster::Rgb8(_)));
    }

    fn empty() -> Page {
        Page {
            width: 2,
            height: 1,
            dpi: None,
            raster: Raster::Gray8(vec![]),
            passthrough: None,
            notes: vec![],
            frame: None,
        }
    }
}
