//! PDF writer on lopdf: one file per document, page images plus an invisible text layer.
//!
//! The writer streams: each page's image, content and page objects are written as the page
//! arrives, and the shared font, page tree, catalog and info dictionary at the end, so memory stays
//! at one page whatever the document's length. Object ids are fixed up front, no clock is read and
//! the trailer `/ID` comes from the content, so the same input gives the same bytes.

pub mod font;
pub mod image;
pub mod text;
mod writer;

use std::io::{self, Write};

use lopdf::{Object, ObjectId, Stream, dictionary};

pub use image::PdfImage;
use text::{GlyphTable, Placement};
use writer::PdfFile;

use crate::ocr::Recognition;

const CATALOG: ObjectId = (1, 0);
const PAGES: ObjectId = (2, 0);
const FONT: ObjectId = (3, 0);
const CID_FONT: ObjectId = (4, 0);
const DESCRIPTOR: ObjectId = (5, 0);
const FONT_FILE: ObjectId = (6, 0);
const TO_UNICODE: ObjectId = (7, 0);
const CID_TO_GID: ObjectId = (8, 0);
const INFO: ObjectId = (9, 0);
const FIRST_PAGE_ID: u32 = 10;
/// Resource name of the text-layer font.
const FONT_NAME: &str = "F1";

/// Document-level metadata written into the PDF.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub title: String,
    pub producer: String,
}

/// One page to add: its image, physical size and recognised text.
pub struct PageContent<'a> {
    pub image: PdfImage,
    /// Resolution (x, y) in dpi, giving the page its true physical size.
    pub dpi: (f64, f64),
    pub recognition: Option<&'a Recognition>,
}

/// Writes one PDF document page by page.
pub struct DocumentWriter<W: Write> {
    file: PdfFile<W>,
    info: DocumentInfo,
    pages: Vec<ObjectId>,
    glyphs: GlyphTable,
    next_id: u32,
}

impl<W: Write> DocumentWriter<W> {
    pub fn create(out: W, info: DocumentInfo) -> io::Result<Self> {
        Ok(DocumentWriter {
            file: PdfFile::start(out)?,
            info,
            pages: Vec::new(),
            glyphs: GlyphTable::default(),
            next_id: FIRST_PAGE_ID,
        })
    }

    fn allocate(&mut self) -> ObjectId {
        self.next_id += 1;
        (self.next_id - 1, 0)
    }

    pub fn add_page(&mut self, page: PageContent) -> io::Result<()> {
        let (image_id, content_id, page_id) = (self.allocate(), self.allocate(), self.allocate());
        let (w_px, h_px) = (page.image.width, page.image.height);
        let width_pt = points(f64::from(w_px) * 72.0 / page.dpi.0);
        let height_pt = points(f64::from(h_px) * 72.0 / page.dpi.1);
        let mut ops = format!("q\n{width_pt} 0 0 {height_pt} 0 0 cm\n/Im0 Do\nQ\n");
        let placement = Placement {
            scale_x: width_pt / f64::from(w_px),
            scale_y: height_pt / f64::from(h_px),
            height_pt,
        };
        if let Some(recognition) = page.recognition {
            ops.push_str(&text::content(
                recognition,
                placement,
                &mut self.glyphs,
                FONT_NAME,
            ));
        }
        let mut resources = dictionary! { "XObject" => dictionary! { "Im0" => image_id } };
        if ops.contains(" Tf\n") {
            resources.set("Font", dictionary! { FONT_NAME => FONT });
        }
        self.file.write(image_id, &page.image.into_object())?;
        self.file
            .write(content_id, &flate_stream(dictionary! {}, ops.as_bytes()))?;
        let page_dict = dictionary! {
            "Type" => "Page",
            "Parent" => PAGES,
            "MediaBox" => vec![0.into(), 0.into(), width_pt.into(), height_pt.into()],
            "Resources" => resources,
            "Contents" => content_id,
        };
        self.file.write(page_id, &Object::Dictionary(page_dict))?;
        self.pages.push(page_id);
        Ok(())
    }

    /// Writes the shared objects, cross-reference table and trailer; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.glyphs.chars().is_empty() {
            self.write_font()?;
        }
        let kids: Vec<Object> = self.pages.iter().map(|&id| id.into()).collect();
        let count = kids.len() as i64;
        let pages = dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count };
        self.file.write(PAGES, &Object::Dictionary(pages))?;
        let catalog = dictionary! { "Type" => "Catalog", "Pages" => PAGES };
        self.file.write(CATALOG, &Object::Dictionary(catalog))?;
        let info = dictionary! {
            "Title" => text_string(&self.info.title),
            "Producer" => text_string(&self.info.producer),
        };
        self.file.write(INFO, &Object::Dictionary(info))?;
        self.file.finish(CATALOG, INFO)
    }

    /// The Type0 / CIDFontType2 font with Identity-H encoding over the glyphless program.
    fn write_font(&mut self) -> io::Result<()> {
        let base = font::NAME;
        let type0 = dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => base,
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![CID_FONT.into()],
            "ToUnicode" => TO_UNICODE,
        };
        let cid_font = dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => base,
            "CIDSystemInfo" => dictionary! {
                "Registry" => text_string("Adobe"),
                "Ordering" => text_string("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => DESCRIPTOR,
            "DW" => i64::from(font::ADVANCE),
            "CIDToGIDMap" => CID_TO_GID,
        };
        let descriptor = dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => base,
            "Flags" => 4,
            "FontBBox" => vec![50.into(), 0.into(), 450.into(), 700.into()],
            "ItalicAngle" => 0,
            "Ascent" => i64::from(font::ASCENT),
            "Descent" => i64::from(font::DESCENT),
            "CapHeight" => 700,
            "StemV" => 80,
            "FontFile2" => FONT_FILE,
        };
        let program = font::program();
        let program_len = program.len() as i64;
        self.file.write(FONT, &Object::Dictionary(type0))?;
        self.file.write(CID_FONT, &Object::Dictionary(cid_font))?;
        self.file.write(DESCRIPTOR, &Object::Dictionary(descriptor))?;
        self.file.write(
            FONT_FILE,
            &flate_stream(dictionary! { "Length1" => program_len }, &program),
        )?;
        let cmap = text::to_unicode(&self.glyphs);
        self.file
            .write(TO_UNICODE, &flate_stream(dictionary! {}, cmap.as_bytes()))?;
        self.file.write(
            CID_TO_GID,
            &flate_stream(dictionary! {}, &text::cid_to_gid(&self.glyphs)),
        )
    }
}

fn flate_stream(mut dict: lopdf::Dictionary, data: &[u8]) -> Object {
    dict.set("Filter", "FlateDecode");
    Object::Stream(Stream::new(dict, image::deflate(data)))
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, anything else as UTF-16BE with BOM.
fn text_string(s: &str) -> Object {
    let bytes = if s.is_ascii() {
        s.as_bytes().to_vec()
    } else {
        [0xFE, 0xFF]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect()
    };
    Object::String(bytes, lopdf::StringFormat::Literal)
}

/// Rounds to 1/100 pt, so sizes print short and stably.
fn points(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::parse_tsv;

    fn sample(words: &str) -> Vec<u8> {
        let tsv = format!(
            "4\t1\t1\t1\t1\t0\t10\t10\t80\t20\t-1\t\n5\t1\t1\t1\t1\t1\t10\t10\t80\t20\t95\t{words}\n"
        );
        let recognition = parse_tsv(&tsv);
        let image = PdfImage {
            width: 100,
            height: 50,
            components: 1,
            bits: 8,
            encoding: image::Encoding::Flate,
            data: image::deflate(&[200u8; 5000]),
        };
        let info = DocumentInfo {
            title: "Test ä".into(),
            producer: "scanwerk test".into(),
        };
        let mut w = DocumentWriter::create(Vec::new(), info).unwrap();
        let page = PageContent {
            image,
            dpi: (100.0, 50.0),
            recognition: Some(&recognition),
        };
        w.add_page(page).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn lopdf_reads_what_we_write() {
        let bytes = sample("Grüße");
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let page = doc.get_object(doc.get_pages()[&1]).unwrap().as_dict().unwrap();
        let media = page.get(b"MediaBox").unwrap().as_array().unwrap();
        assert_eq!(
            media[2].as_float().unwrap(),
            72.0,
            "100 px at 100 dpi is one inch"
        );
        assert_eq!(media[3].as_float().unwrap(), 72.0);
        assert!(doc.trailer.get(b"ID").is_ok());
    }

    #[test]
    fn same_content_same_bytes() {
        assert_eq!(sample("Akte"), sample("Akte"));
        assert_ne!(sample("Akte"), sample("Akten"));
    }
}
