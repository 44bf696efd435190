//! PDF/A-2b writer on lopdf: one file per document, page images plus an invisible text layer.
//!
//! Every file carries what ISO 19005-2 level B asks for: the binary header comment and a trailer
//! `/ID`, an XMP packet identifying the file as PDF/A-2B (with scanwerk's own properties declared
//! by an extension schema), and the sRGB output intent that gives DeviceGray/DeviceRGB images their
//! meaning. `PDFA.md` beside this file maps each clause to the code and the test that proves it.
//!
//! The writer streams: each page's image, content and page objects are written as the page
//! arrives, and the shared font, page tree, catalog and info dictionary at the end, so memory stays
//! at one page whatever the document's length. Object ids are fixed up front, no clock is read and
//! the trailer `/ID` comes from the content, so the same input gives the same bytes.
//!
//! A document can carry a PAdES signature ([`SignaturePlan`]): an invisible signature field on the
//! first page whose value is written last, so only the signature object and the trailer wait in
//! memory while the CMS signature over every other byte of the file is made.

pub mod conformance;
pub mod font;
pub mod image;
pub mod text;
mod writer;
pub mod xmp;

use std::io::{self, Write};

use lopdf::{Object, ObjectId, Stream, dictionary};

pub use image::PdfImage;
use text::{GlyphTable, Placement};
use writer::PdfFile;

use crate::decode::pdf::Frame;
use crate::ocr::Recognition;
use crate::prepare::geometry::{Affine, Upright};
use crate::seal::hash::HashAlgorithm;

const CATALOG: ObjectId = (1, 0);
const PAGES: ObjectId = (2, 0);
const FONT: ObjectId = (3, 0);
const CID_FONT: ObjectId = (4, 0);
const DESCRIPTOR: ObjectId = (5, 0);
const FONT_FILE: ObjectId = (6, 0);
const TO_UNICODE: ObjectId = (7, 0);
const CID_TO_GID: ObjectId = (8, 0);
const INFO: ObjectId = (9, 0);
const OUTPUT_PROFILE: ObjectId = (10, 0);
const METADATA: ObjectId = (11, 0);
const FIRST_PAGE_ID: u32 = 12;
/// The output intent's profile: Debian icc-profiles-free `sRGB.icc` (ICC v2, display class, RGB),
/// unchanged; its licence is `icc/LICENSE`.
pub const SRGB_PROFILE: &[u8] = include_bytes!("icc/sRGB.icc");
/// Largest page side in default user space units that PDF/A allows (6.1.13).
const MAX_PAGE_UNITS: f64 = 14_400.0;
/// Resource name of the text-layer font.
const FONT_NAME: &str = "F1";

/// Document-level metadata written into the Info dictionary and the XMP packet alike.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub title: String,
    /// The software that wrote the PDF (`pdf:Producer`, Info `/Producer`).
    pub producer: String,
    /// The application that made the document (`xmp:CreatorTool`, Info `/Creator`).
    pub creator_tool: String,
    /// Creation date, taken from the batch (never the clock) so equal input gives equal bytes.
    pub date: time::OffsetDateTime,
    pub batch_id: String,
    pub document_id: String,
    pub profile: String,
    pub operator: String,
    pub transfer_note: String,
    /// Index metadata read from the document's separator sheet (`file_number` …), in the XMP.
    pub index: std::collections::BTreeMap<String, String>,
}

/// A PAdES signature the document is to carry, planned when it is created (the first page refers
/// to the signature field) and made in [`DocumentWriter::finish_signed`].
#[derive(Debug, Clone)]
pub struct SignaturePlan {
    /// The hash of the signed byte ranges (the signer's digest algorithm).
    pub hash: HashAlgorithm,
    /// Bytes reserved for the DER CMS signature; the rest of `/Contents` is zero padding.
    pub reserve: usize,
    /// The signer's name for the signature dictionary's `/Name`.
    pub signer: String,
}

/// One page to add: its image, physical size and recognised text.
pub struct PageContent<'a> {
    pub image: PdfImage,
    /// Resolution (x, y) in dpi, giving the page its true physical size.
    pub dpi: (f64, f64),
    pub recognition: Option<&'a Recognition>,
    /// How the OCR working copy lies on the image (upright turns, deskew); word boxes are in its
    /// coordinates. The quarter turns also become the page's `/Rotate`.
    pub upright: Upright,
    /// A scanner PDF's page: its media box, where it put the image, and its `/Rotate`, all kept.
    pub frame: Option<Frame>,
}

/// A page's text layer as a viewer shows the page (`/Rotate` applied): its size and every word's
/// box in points from the top left corner, line by line, for full-text sidecars (ALTO, hOCR).
#[derive(Debug, Clone, PartialEq)]
pub struct PageText {
    pub width: f64,
    pub height: f64,
    pub lines: Vec<Vec<text::PlacedWord>>,
}

impl PageText {
    /// Words placed in user space on a page of `media_box`, turned by `rotate` degrees clockwise.
    fn shown(media_box: [f64; 4], rotate: i64, mut lines: Vec<Vec<text::PlacedWord>>) -> PageText {
        let [x0, y0, x1, y1] = media_box;
        let turned = rotate % 180 != 0;
        let (width, height) = if turned {
            (y1 - y0, x1 - x0)
        } else {
            (x1 - x0, y1 - y0)
        };
        // A user-space point as it lies on the shown page, from its top left corner.
        let show = |(x, y): (f64, f64)| match rotate {
            90 => (y - y0, x - x0),
            180 => (x1 - x, y - y0),
            270 => (y1 - y, x1 - x),
            _ => (x - x0, y1 - y),
        };
        for word in lines.iter_mut().flatten() {
            let [a, b, c, d] = word.bbox;
            let (p, q) = (show((a, b)), show((c, d)));
            word.bbox = [p.0.min(q.0), p.1.min(q.1), p.0.max(q.0), p.1.max(q.1)];
        }
        PageText { width, height, lines }
    }
}

/// Writes one PDF document page by page.
pub struct DocumentWriter<W: Write> {
    file: PdfFile<W>,
    info: DocumentInfo,
    pages: Vec<ObjectId>,
    glyphs: GlyphTable,
    next_id: u32,
    /// The signature plan with the ids of its field (widget) and value objects.
    signature: Option<(SignaturePlan, ObjectId, ObjectId)>,
}

impl<W: Write> DocumentWriter<W> {
    pub fn create(out: W, info: DocumentInfo) -> io::Result<Self> {
        Self::create_with(out, info, None)
    }

    /// A writer whose document will be signed by [`DocumentWriter::finish_signed`].
    pub fn create_signed(out: W, info: DocumentInfo, plan: SignaturePlan) -> io::Result<Self> {
        Self::create_with(out, info, Some(plan))
    }

    fn create_with(out: W, info: DocumentInfo, plan: Option<SignaturePlan>) -> io::Result<Self> {
        let mut writer = DocumentWriter {
            file: PdfFile::start(out, plan.as_ref().map(|p| p.hash))?,
            info,
            pages: Vec::new(),
            glyphs: GlyphTable::default(),
            next_id: FIRST_PAGE_ID,
            signature: None,
        };
        if let Some(plan) = plan {
            let (field, value) = (writer.allocate(), writer.allocate());
            writer.signature = Some((plan, field, value));
        }
        Ok(writer)
    }

    /// The document's metadata, which may still change until [`DocumentWriter::finish`] writes it.
    pub fn info_mut(&mut self) -> &mut DocumentInfo {
        &mut self.info
    }

    fn allocate(&mut self) -> ObjectId {
        self.next_id += 1;
        (self.next_id - 1, 0)
    }

    /// Adds a page; returns its text layer as a viewer shows the page, for full-text sidecars.
    pub fn add_page(&mut self, page: PageContent) -> io::Result<PageText> {
        let (image_id, content_id, page_id) = (self.allocate(), self.allocate(), self.allocate());
        let (w_px, h_px) = (page.image.width, page.image.height);
        let (w_in, h_in) = (f64::from(w_px) / page.dpi.0, f64::from(h_px) / page.dpi.1);
        // Pages beyond PDF/A's 14,400-unit limit keep their true size through a larger user unit.
        let user_unit = (w_in.max(h_in) * 72.0 / MAX_PAGE_UNITS).ceil().max(1.0);
        let width_pt = points(w_in * 72.0 / user_unit);
        let height_pt = points(h_in * 72.0 / user_unit);
        let (mut ops, on_page) = image_ops(page.frame.as_ref(), width_pt, height_pt);
        let placement = Placement {
            scale_x: width_pt / f64::from(w_px),
            scale_y: height_pt / f64::from(h_px),
            height_pt,
            to_image: page.upright.to_image(w_px, h_px),
            on_page,
        };
        let mut lines = Vec::new();
        if let Some(recognition) = page.recognition {
            let (text_ops, placed) = text::placed(recognition, placement, &mut self.glyphs, FONT_NAME);
            ops.push_str(&text_ops);
            lines = placed;
        }
        let mut resources = dictionary! { "XObject" => dictionary! { "Im0" => image_id } };
        if ops.contains(" Tf\n") {
            resources.set("Font", dictionary! { FONT_NAME => FONT });
        }
        let (image, objects) = page.image.into_objects();
        let ids: Vec<ObjectId> = objects.iter().map(|_| self.allocate()).collect();
        for (object, &id) in objects.into_iter().zip(&ids) {
            self.file.write(id, &image::relink(object, &ids))?;
        }
        self.file.write(image_id, &image::relink(image, &ids))?;
        self.file
            .write(content_id, &flate_stream(dictionary! {}, ops.as_bytes()))?;
        let mut page_dict = dictionary! {
            "Type" => "Page",
            "Parent" => PAGES,
            "MediaBox" => match &page.frame {
                Some(frame) => frame.media_box.iter().map(|&v| Object::Real(points(v) as f32)).collect(),
                None => vec![0.into(), 0.into(), width_pt.into(), height_pt.into()],
            },
            "Resources" => resources,
            "Contents" => content_id,
        };
        if user_unit > 1.0 {
            page_dict.set("UserUnit", user_unit);
        }
        if let (Some((_, field, _)), true) = (&self.signature, self.pages.is_empty()) {
            page_dict.set("Annots", vec![Object::Reference(*field)]);
        }
        // The image stays as scanned; the viewer turns the page upright.
        let rotate = page_rotate(&page.upright, page.frame.as_ref());
        if rotate != 0 {
            page_dict.set("Rotate", rotate);
        }
        self.file.write(page_id, &Object::Dictionary(page_dict))?;
        self.pages.push(page_id);
        let media_box = page
            .frame
            .map_or([0.0, 0.0, width_pt, height_pt], |f| f.media_box);
        Ok(PageText::shown(media_box, rotate, lines))
    }

    /// Pages added so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Refuses to end a document that has no page: a PDF without pages is no PDF/A (its page
    /// tree is empty; viewers and veraPDF cannot open it) and is never written.
    fn ensure_pages(&self) -> io::Result<()> {
        if self.pages.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a document without pages is not written as a PDF",
            ));
        }
        Ok(())
    }

    /// Writes the shared objects, cross-reference table and trailer; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.ensure_pages()?;
        if self.signature.is_some() {
            return Err(io::Error::other(
                "a document planned with a signature must be finished signed",
            ));
        }
        self.write_shared()?;
        self.file.finish(CATALOG, INFO)
    }

    /// Like [`DocumentWriter::finish`], and signs: `sign` gets the digest (the plan's hash) of every
    /// byte of the file but the signature value, and returns the DER CMS signature.
    pub fn finish_signed(mut self, sign: impl FnOnce(&[u8]) -> io::Result<Vec<u8>>) -> io::Result<W> {
        self.ensure_pages()?;
        let Some((plan, field, value)) = self.signature.take() else {
            return Err(io::Error::other("the document was not planned with a signature"));
        };
        let first_page = *self
            .pages
            .first()
            .ok_or_else(|| io::Error::other("a document without pages cannot be signed"))?;
        let field_dict = dictionary! {
            "Type" => "Annot",
            "Subtype" => "Widget",
            "FT" => "Sig",
            "T" => text_string("scanwerk"),
            "V" => value,
            // Print (PDF/A 6.3.2) and Locked; a zero rectangle needs no appearance (6.3.3).
            "F" => 132,
            "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
            "P" => first_page,
        };
        self.file.write(field, &Object::Dictionary(field_dict))?;
        self.signature = Some((plan.clone(), field, value));
        self.write_shared()?;
        let mut head = Vec::new();
        let dict = dictionary! {
            "Type" => "Sig",
            "Filter" => "Adobe.PPKLite",
            "SubFilter" => "ETSI.CAdES.detached",
            "Name" => text_string(&plan.signer),
            "M" => text_string(&pdf_date(&self.info)),
        };
        lopdf::Writer::write_object(&mut head, &Object::Dictionary(dict))?;
        // Keys after `/M …`: the dictionary stays open for /Contents and /ByteRange.
        head.truncate(head.len() - 2);
        self.file
            .finish_signed(CATALOG, INFO, value, head, plan.reserve, sign)
    }

    fn write_shared(&mut self) -> io::Result<()> {
        if !self.glyphs.chars().is_empty() {
            self.write_font()?;
        }
        let kids: Vec<Object> = self.pages.iter().map(|&id| id.into()).collect();
        let count = kids.len() as i64;
        let pages = dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count };
        self.file.write(PAGES, &Object::Dictionary(pages))?;
        self.write_metadata()?;
        let mut catalog = dictionary! {
            "Type" => "Catalog",
            "Pages" => PAGES,
            "Metadata" => METADATA,
            "OutputIntents" => vec![Object::Dictionary(dictionary! {
                "Type" => "OutputIntent",
                "S" => "GTS_PDFA1",
                "OutputConditionIdentifier" => text_string("sRGB IEC61966-2.1"),
                "RegistryName" => text_string("http://www.color.org"),
                "Info" => text_string("sRGB IEC61966-2.1"),
                "DestOutputProfile" => OUTPUT_PROFILE,
            })],
        };
        if let Some((_, field, _)) = &self.signature {
            catalog.set(
                "AcroForm",
                dictionary! { "Fields" => vec![Object::Reference(*field)], "SigFlags" => 3 },
            );
        }
        self.file.write(CATALOG, &Object::Dictionary(catalog))
    }

    /// The output profile, the XMP packet and the Info dictionary, which say the same things.
    fn write_metadata(&mut self) -> io::Result<()> {
        self.file.write(
            OUTPUT_PROFILE,
            &flate_stream(dictionary! { "N" => 3 }, SRGB_PROFILE),
        )?;
        let info = &self.info;
        let xmp_date = xmp_date(info);
        let pdf_date = pdf_date(info);
        let packet = xmp::packet(&xmp::Metadata {
            title: &info.title,
            producer: &info.producer,
            creator_tool: &info.creator_tool,
            date: &xmp_date,
            batch_id: &info.batch_id,
            document_id: &info.document_id,
            profile: &info.profile,
            operator: &info.operator,
            pages: self.pages.len(),
            transfer_note: &info.transfer_note,
            index: &info.index,
        });
        // Uncompressed, so archive tools that scan for XMP find it (ISO 19005-2 recommends it).
        let metadata = dictionary! { "Type" => "Metadata", "Subtype" => "XML" };
        self.file.write(
            METADATA,
            &Object::Stream(Stream::new(metadata, packet.into_bytes())),
        )?;
        let dict = dictionary! {
            "Title" => text_string(&info.title),
            "Producer" => text_string(&info.producer),
            "Creator" => text_string(&info.creator_tool),
            "CreationDate" => text_string(&pdf_date),
            "ModDate" => text_string(&pdf_date),
        };
        self.file.write(INFO, &Object::Dictionary(dict))
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

/// The document date in XMP form, UTC: `2026-11-20T08:30:00Z`.
/// The content that draws the page image, and the map from the image's box onto the page: the
/// box filling the page, or a source PDF's page with the image where the source put it (its
/// matrix maps the image's unit square); the text layer is mapped the same way, so its lines come
/// out level on the page however the source placed the image.
fn image_ops(frame: Option<&Frame>, width_pt: f64, height_pt: f64) -> (String, Affine) {
    match frame {
        Some(frame) => {
            let m = frame.matrix;
            let on_page = Affine {
                a: m[0] / width_pt,
                b: m[1] / width_pt,
                c: m[2] / height_pt,
                d: m[3] / height_pt,
                e: m[4],
                f: m[5],
            };
            let ops = format!(
                "q\n{} {} {} {} {} {} cm\n/Im0 Do\nQ\n",
                m[0], m[1], m[2], m[3], m[4], m[5]
            );
            (ops, on_page)
        }
        None => (
            format!("q\n{width_pt} 0 0 {height_pt} 0 0 cm\n/Im0 Do\nQ\n"),
            Affine::IDENTITY,
        ),
    }
}

/// The page's `/Rotate`: the turn that shows the page upright, less what a source PDF's matrix
/// turns the image already.
fn page_rotate(upright: &Upright, frame: Option<&Frame>) -> i64 {
    let turn = i64::from(upright.rotate_degrees());
    match frame {
        Some(frame) => (turn - frame.turn_and_size().0).rem_euclid(360),
        None => turn,
    }
}

fn xmp_date(info: &DocumentInfo) -> String {
    let date = info.date.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        date.hour(),
        date.minute(),
        date.second()
    )
}

/// The same instant as a PDF date string: `D:20261120083000Z`.
fn pdf_date(info: &DocumentInfo) -> String {
    format!("D:{}", xmp_date(info).replace(['-', 'T', ':'], ""))
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

    pub fn sample(words: &str) -> Vec<u8> {
        let tsv = format!(
            "4\t1\t1\t1\t1\t0\t10\t10\t80\t20\t-1\t\n5\t1\t1\t1\t1\t1\t10\t10\t80\t20\t95\t{words}\n"
        );
        let recognition = parse_tsv(&tsv);
        let image = grey_image(100, 50);
        let info = test_info();
        let mut w = DocumentWriter::create(Vec::new(), info).unwrap();
        let page = PageContent {
            image,
            dpi: (100.0, 50.0),
            recognition: Some(&recognition),
            upright: Upright::default(),
            frame: None,
        };
        w.add_page(page).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn a_document_without_pages_is_never_written() {
        let w = DocumentWriter::create(Vec::new(), test_info()).unwrap();
        assert_eq!(w.page_count(), 0);
        let err = w.finish().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        let plan = SignaturePlan {
            hash: HashAlgorithm::Sha256,
            reserve: 64,
            signer: "x".into(),
        };
        let w = DocumentWriter::create_signed(Vec::new(), test_info(), plan).unwrap();
        let mut called = false;
        let err = w
            .finish_signed(|_| {
                called = true;
                Ok(Vec::new())
            })
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(!called, "nothing is signed");
    }

    /// A flat grey 8-bit image of `width` × `height`.
    fn grey_image(width: u32, height: u32) -> PdfImage {
        PdfImage {
            source: None,
            width,
            height,
            colour: image::Colour::Gray,
            bits: 8,
            encoding: image::Encoding::Flate,
            black_is_1: false,
            colour_transform: None,
            deflated: false,
            data: image::predicted(&vec![200u8; (width * height) as usize], width as usize, 1),
        }
    }

    fn test_info() -> DocumentInfo {
        DocumentInfo {
            title: "Test ä".into(),
            producer: "scanwerk test".into(),
            creator_tool: "scanwerk test".into(),
            date: time::macros::datetime!(2026-11-20 09:30:00 +01:00),
            batch_id: "batch".into(),
            document_id: "doc".into(),
            profile: "standard 1.0.0".into(),
            operator: "Erika Mustermann".into(),
            transfer_note: "note".into(),
            index: Default::default(),
        }
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
    fn pages_beyond_14400_units_keep_their_size_through_user_unit() {
        // 300 × 50 px at 1 dpi: 21,600 × 3,600 pt, over PDF/A's limit of 14,400 units.
        let mut w = DocumentWriter::create(Vec::new(), test_info()).unwrap();
        let image = grey_image(300, 50);
        w.add_page(PageContent {
            image,
            dpi: (1.0, 1.0),
            recognition: None,
            upright: Upright::default(),
            frame: None,
        })
        .unwrap();
        let bytes = w.finish().unwrap();
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        let page = doc.get_object(doc.get_pages()[&1]).unwrap().as_dict().unwrap();
        let unit = page.get(b"UserUnit").unwrap().as_float().unwrap();
        let media = page.get(b"MediaBox").unwrap().as_array().unwrap();
        assert_eq!(unit, 2.0);
        assert_eq!(media[2].as_float().unwrap() * unit, 21_600.0);
        assert_eq!(media[3].as_float().unwrap() * unit, 3_600.0);
        assert_eq!(conformance::check(&bytes), Vec::<String>::new());
    }

    #[test]
    fn same_content_same_bytes() {
        assert_eq!(sample("Akte"), sample("Akte"));
        assert_ne!(sample("Akte"), sample("Akten"));
    }

    #[test]
    fn signed_document_verifies_is_deterministic_and_any_changed_byte_is_caught() {
        use crate::seal::{cert, cms, pades, sign};
        let dir = std::env::temp_dir().join(format!("scanwerk-pdfsig-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = sign::keygen(&dir, sign::Algorithm::EcdsaP256Sha256).unwrap();
        let key = sign::SigningKey::load(&files.private).unwrap();
        std::fs::write(
            dir.join("cert.pem"),
            cert::self_signed(&key, "Signer", 1).unwrap(),
        )
        .unwrap();
        let chain = cert::CertificateChain::load(&dir.join("cert.pem"), &key).unwrap();
        let signer = cms::PadesSigner {
            key: &key,
            chain: &chain,
        };
        let write = || {
            let plan = SignaturePlan {
                hash: key.algorithm().digest(),
                reserve: cms::max_detached_len(&chain),
                signer: chain.subject(),
            };
            let mut w = DocumentWriter::create_signed(Vec::new(), test_info(), plan).unwrap();
            w.add_page(PageContent {
                image: grey_image(100, 50),
                dpi: (100.0, 50.0),
                recognition: None,
                upright: Upright::default(),
                frame: None,
            })
            .unwrap();
            w.finish_signed(|digest| signer.sign(digest)).unwrap()
        };
        let bytes = write();
        assert_eq!(bytes, write(), "same content, key and certificate: same bytes");
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        let found = pades::check(&bytes, &doc).unwrap().expect("signed");
        assert_eq!(found.signer, "CN=Signer");
        assert!(
            conformance::check(&bytes).is_empty(),
            "{:?}",
            conformance::check(&bytes)
        );
        // A changed byte in the header, an image, the signature value, its dictionary or the
        // trailer: each is refused by the signature check, with its reason.
        let contents_at = bytes.windows(11).position(|w| w == b"/Contents <").unwrap() + 11;
        let range_at = bytes.windows(10).position(|w| w == b"/ByteRange").unwrap() + 14;
        let trailer_at = bytes.windows(7).position(|w| w == b"trailer").unwrap() + 3;
        for at in [
            12,
            bytes.len() / 3,
            contents_at + 20,
            range_at,
            trailer_at,
            bytes.len() - 3,
        ] {
            let mut changed = bytes.clone();
            changed[at] = if changed[at] == b'1' { b'2' } else { b'1' };
            // Every change still parses and is refused by the signature check with a reason:
            // an unreadable file or a missing signature would not count as caught.
            let doc = lopdf::Document::load_mem(&changed)
                .unwrap_or_else(|e| panic!("a change at byte {at} made the file unreadable: {e}"));
            let verdict = pades::check(&changed, &doc);
            assert!(
                matches!(&verdict, Err(reason) if reason.contains("changed after signing")
                    || reason.contains("not SignedData")
                    || reason.contains("/ByteRange does not leave out")),
                "a change at byte {at} of {}: {verdict:?}",
                bytes.len()
            );
        }
        // Unsigned files must be finished unsigned and vice versa.
        let w = DocumentWriter::create(Vec::new(), test_info()).unwrap();
        assert!(w.finish_signed(|_| Ok(Vec::new())).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
