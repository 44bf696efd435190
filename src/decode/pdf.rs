//! Scanner PDFs: each page one scanned image, read so that the image stream goes into the output
//! byte for byte (with the dictionary entries that give it meaning) and a decoded copy goes to OCR.
//!
//! Preflight refuses what must not be taken apart or is not a scan: encrypted files, files with a
//! digital signature (a signed document is never modified), and pages that draw anything but one
//! image (vector graphics, visible text, several images, soft masks). An invisible text layer (text
//! render mode 3, what scanners and OCR tools write) is allowed and replaced by scanwerk's own.
//! Damaged cross-reference data is rebuilt while reading (lopdf), a file lopdf cannot parse at
//! all is repaired by qpdf on a copy; either repair is recorded. The input file itself is never
//! changed and its hash is the original's.

use std::sync::Arc;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, content::Content};

use super::{DecodeError, Format, Page, Passthrough, Raster, g4};

/// Generation number marking a reference to [`SourceImage::objects`] (a local index), not to an
/// object of any file.
pub const LOCAL_GENERATION: u16 = u16::MAX;

/// A scanner PDF, its pages read and checked.
#[derive(Debug)]
pub struct PdfFile {
    pub pages: Vec<PdfPage>,
    /// What reading the file changed or found, for every page's record (e.g. a repair by qpdf).
    pub notes: Vec<String>,
}

/// One page of a scanner PDF.
#[derive(Debug)]
pub struct PdfPage {
    pub image: Arc<SourceImage>,
    pub frame: Frame,
    /// The page carried an invisible text layer (replaced by scanwerk's).
    pub scanner_text: bool,
}

/// Where a source page puts its image: kept so the output page is the source page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// The page's `/MediaBox` (inherited ones resolved).
    pub media_box: [f64; 4],
    /// The matrix that maps the image's unit square onto the page (the `cm`s in force at `Do`).
    pub matrix: [f64; 6],
    /// The page's `/Rotate`, in degrees clockwise (0, 90, 180, 270).
    pub rotate: i64,
}

impl Frame {
    /// Quarter turns (clockwise, degrees) by which the matrix turns the image, and the image's
    /// placed size in points along its own width and height.
    pub fn turn_and_size(&self) -> (i64, f64, f64) {
        let [a, b, c, d, ..] = self.matrix;
        // The image's x axis goes to (a, b): counter-clockwise angle atan2(b, a).
        let ccw = b.atan2(a).to_degrees();
        let quarter = ((ccw / 90.0).round() as i64).rem_euclid(4);
        ((4 - quarter) % 4 * 90, a.hypot(b), c.hypot(d))
    }
}

/// An image XObject as the source file holds it: its stream bytes unchanged, the dictionary
/// entries that give them meaning, and the objects those refer to (ICC profiles, JBIG2 globals,
/// lookup tables), with references among them made local (see [`LOCAL_GENERATION`]).
#[derive(Debug)]
pub struct SourceImage {
    pub dict: Dictionary,
    pub data: Vec<u8>,
    pub objects: Vec<Object>,
}

/// Dictionary entries of an image that carry its meaning; everything else is left behind
/// (`/Interpolate` must be false in PDF/A, `/Name`, `/Length`, `/Metadata` are the file's).
const IMAGE_KEYS: [&[u8]; 8] = [
    b"Width",
    b"Height",
    b"BitsPerComponent",
    b"ColorSpace",
    b"Filter",
    b"DecodeParms",
    b"Decode",
    b"Intent",
];

/// Reads and checks a scanner PDF.
pub fn open(bytes: &[u8], path: &std::path::Path) -> Result<PdfFile, DecodeError> {
    let (doc, mut notes) = match Document::load_mem(bytes) {
        Ok(doc) => (doc, Vec::new()),
        Err(first) => (
            repaired(path, &first)?,
            vec![format!(
                "the PDF's structure was damaged ({first}) and was repaired by qpdf on a copy; the \
             input file is unchanged"
            )],
        ),
    };
    if let Some(recovery) = &doc.xref_recovery {
        notes.push(format!(
            "the PDF's cross-reference data was damaged and rebuilt while reading ({recovery:?}); \
             the input file is unchanged"
        ));
    }
    if doc.is_encrypted() || doc.was_encrypted() {
        return Err(refused(
            "the PDF is encrypted; save it from the scanner software without password or \
             encryption and scan it into the batch again",
        ));
    }
    if signed(&doc) {
        return Err(refused(
            "the PDF carries a digital signature, and a signed document is never modified; keep \
             it as it is outside the scan batch",
        ));
    }
    let mut pages = Vec::new();
    for (number, page_id) in doc.get_pages() {
        let page = read_page(&doc, page_id).map_err(|why| refused(&format!("page {number}: {why}")))?;
        pages.push(page);
    }
    if pages.is_empty() {
        return Err(refused("the PDF has no pages"));
    }
    if pages.iter().any(|p| p.scanner_text) {
        notes.push("the scanner's invisible text layer was left out; scanwerk's OCR replaces it".into());
    }
    Ok(PdfFile { pages, notes })
}

fn refused(why: &str) -> DecodeError {
    DecodeError::Unsupported(why.to_string())
}

/// qpdf's repair of a file lopdf could not parse, read from a temporary copy.
fn repaired(path: &std::path::Path, first: &lopdf::Error) -> Result<Document, DecodeError> {
    let dir = std::env::temp_dir().join(format!("scanwerk-qpdf-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let copy = dir.join(format!("{:x}.pdf", rand_suffix(path)));
    let status = std::process::Command::new("qpdf")
        .arg(path)
        .arg(&copy)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    // qpdf exits 3 when it succeeded with warnings (the repair).
    let result = match status {
        Ok(s) if matches!(s.code(), Some(0 | 3)) => Document::load(&copy).map_err(|e| e.to_string()),
        Ok(s) => Err(format!("qpdf could not repair it either (exit {s})")),
        Err(e) => Err(format!("qpdf is not available to repair it: {e}")),
    };
    let _ = std::fs::remove_file(&copy);
    result.map_err(|why| DecodeError::Corrupt {
        format: Format::Pdf,
        detail: format!("{first}; {why}"),
    })
}

/// A name for the repair copy that differs between files and threads.
fn rand_suffix(path: &std::path::Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    std::thread::current().id().hash(&mut h);
    h.finish()
}

/// True if the document has a signature field with a value, or says it holds signatures.
fn signed(doc: &Document) -> bool {
    let Ok(root) = doc.catalog() else { return false };
    let Some(form) = root
        .get(b"AcroForm")
        .ok()
        .and_then(|f| resolve(doc, f).as_dict().ok())
    else {
        return false;
    };
    let flags = form.get(b"SigFlags").and_then(Object::as_i64).unwrap_or(0);
    if flags & 1 != 0 {
        return true;
    }
    let fields = form
        .get(b"Fields")
        .ok()
        .and_then(|f| resolve(doc, f).as_array().ok());
    fields.is_some_and(|fields| {
        fields.iter().any(|f| {
            resolve(doc, f)
                .as_dict()
                .is_ok_and(|d| d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig") && d.has(b"V"))
        })
    })
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(object),
        _ => object,
    }
}

/// A page attribute, inherited from the page tree where the page does not set it.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..32 {
        if let Ok(value) = node.get(key) {
            return Some(resolve(doc, value));
        }
        node = node
            .get(b"Parent")
            .ok()
            .and_then(|p| resolve(doc, p).as_dict().ok())?;
    }
    None
}

fn number(object: &Object) -> Option<f64> {
    match object {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn read_page(doc: &Document, page_id: ObjectId) -> Result<PdfPage, String> {
    let page = doc.get_dictionary(page_id).map_err(|e| e.to_string())?;
    let media_box = inherited(doc, page, b"MediaBox")
        .and_then(|b| b.as_array().ok())
        .and_then(|a| {
            let v: Vec<f64> = a.iter().filter_map(|o| number(resolve(doc, o))).collect();
            (v.len() == 4).then(|| [v[0], v[1], v[2], v[3]])
        })
        .ok_or("the page has no valid /MediaBox")?;
    let rotate = inherited(doc, page, b"Rotate")
        .and_then(|r| r.as_i64().ok())
        .unwrap_or(0)
        .rem_euclid(360);
    if rotate % 90 != 0 {
        return Err(format!("/Rotate {rotate} is not a quarter turn"));
    }
    let content = doc.get_page_content(page_id);
    let content = Content::decode(&content).map_err(|e| format!("its content cannot be read: {e}"))?;
    // Resources inline or by reference, the page's own or inherited.
    let (inline, referenced) = doc.get_page_resources(page_id).map_err(|e| e.to_string())?;
    let resources = inline
        .into_iter()
        .chain(referenced.iter().filter_map(|id| doc.get_dictionary(*id).ok()));
    let xobject_dicts: Vec<&Dictionary> = resources
        .filter_map(|r| r.get(b"XObject").ok())
        .filter_map(|x| resolve(doc, x).as_dict().ok())
        .collect();
    let drawn = walk(&content)?;
    let [(name, matrix)] = drawn.images.as_slice() else {
        return Err(match drawn.images.len() {
            0 => "it holds no scanned image (a page of text or drawings, not a scan)".into(),
            n => format!("it draws {n} images; scanwerk takes pages that are one scanned image each"),
        });
    };
    let stream_id = xobject_dicts
        .iter()
        .find_map(|x| x.get(name).ok())
        .and_then(|r| r.as_reference().ok())
        .ok_or_else(|| format!("the image /{} is missing", String::from_utf8_lossy(name)))?;
    let stream = doc
        .get_object(stream_id)
        .and_then(Object::as_stream)
        .map_err(|e| e.to_string())?;
    let image = source_image(doc, stream)?;
    Ok(PdfPage {
        image: Arc::new(image),
        frame: Frame {
            media_box,
            matrix: *matrix,
            rotate,
        },
        scanner_text: drawn.invisible_text,
    })
}

/// What a page's content draws.
#[derive(Debug)]
struct Drawn {
    /// XObject names drawn, with the matrix in force.
    images: Vec<(Vec<u8>, [f64; 6])>,
    invisible_text: bool,
}

/// Follows the content stream: only the graphics state, clipping, invisible text and `Do` may
/// appear; anything that paints is refused by name.
fn walk(content: &Content) -> Result<Drawn, String> {
    let mut stack = vec![[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]];
    let mut render_mode = 0i64;
    let mut drawn = Drawn {
        images: Vec::new(),
        invisible_text: false,
    };
    for op in &content.operations {
        let numbers: Vec<f64> = op.operands.iter().filter_map(number).collect();
        match op.operator.as_str() {
            "q" => stack.push(*stack.last().unwrap()),
            "Q" => {
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            "cm" if numbers.len() == 6 => {
                let m = [
                    numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5],
                ];
                let top = stack.last_mut().unwrap();
                *top = multiply(&m, top);
            }
            "Do" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok()).unwrap_or(b"");
                drawn.images.push((name.to_vec(), *stack.last().unwrap()));
            }
            "Tr" => render_mode = numbers.first().copied().unwrap_or(0.0) as i64,
            "Tj" | "TJ" | "'" | "\"" => {
                if render_mode != 3 {
                    return Err(
                        "it has visible text; scanwerk takes scans, not documents made on a computer".into(),
                    );
                }
                drawn.invisible_text = true;
            }
            // Graphics state, clipping paths that paint nothing, text state and marked content.
            "gs" | "ri" | "i" | "w" | "J" | "j" | "M" | "d" | "re" | "m" | "l" | "c" | "v" | "y" | "h"
            | "W" | "W*" | "n" | "BT" | "ET" | "Tf" | "Td" | "TD" | "Tm" | "T*" | "Tc" | "Tw" | "Tz"
            | "TL" | "Ts" | "BMC" | "BDC" | "EMC" | "MP" | "DP" | "BX" | "EX" | "cs" | "CS" | "sc"
            | "scn" | "SC" | "SCN" | "g" | "G" | "rg" | "RG" | "k" | "K" | "cm" => {}
            "BI" | "ID" | "EI" => {
                return Err("it holds an inline image; export the scan with the image as an object".into());
            }
            other => {
                return Err(format!(
                    "it paints more than a scanned image (operator {other}: vector graphics); \
                     scanwerk takes scans, not documents made on a computer"
                ));
            }
        }
    }
    Ok(drawn)
}

/// `m` applied first, then `n` (PDF's row-vector convention: m × n).
fn multiply(m: &[f64; 6], n: &[f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// The image stream as it is, with its meaningful entries and the objects they refer to.
fn source_image(doc: &Document, stream: &Stream) -> Result<SourceImage, String> {
    let dict = &stream.dict;
    if dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Form") {
        return Err("it draws a form XObject, not an image; export the scan as one image per page".into());
    }
    if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
        return Err("the object it draws is not an image".into());
    }
    if dict.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false) {
        return Err("its image is a stencil mask (painted in a colour the page chooses), not a scan".into());
    }
    if dict.has(b"SMask") || dict.has(b"Mask") {
        return Err("its image has a transparency mask; a scan has none".into());
    }
    let mut out = SourceImage {
        dict: Dictionary::new(),
        data: stream.content.clone(),
        objects: Vec::new(),
    };
    let mut copied = std::collections::BTreeMap::new();
    for key in IMAGE_KEYS {
        if let Ok(value) = dict.get(key) {
            let local = localize(doc, value, &mut out.objects, &mut copied, 0)?;
            out.dict.set(key, local);
        }
    }
    out.dict.set("Type", "XObject");
    out.dict.set("Subtype", "Image");
    Ok(out)
}

/// `object` with every reference replaced by a local one into `objects`, copying what it
/// refers to (once).
fn localize(
    doc: &Document,
    object: &Object,
    objects: &mut Vec<Object>,
    copied: &mut std::collections::BTreeMap<ObjectId, u32>,
    depth: u32,
) -> Result<Object, String> {
    if depth > 16 {
        return Err("its image refers to objects nested too deeply".into());
    }
    Ok(match object {
        Object::Reference(id) => {
            if let Some(&local) = copied.get(id) {
                return Ok(Object::Reference((local, LOCAL_GENERATION)));
            }
            let local = objects.len() as u32;
            copied.insert(*id, local);
            objects.push(Object::Null);
            let target = doc
                .get_object(*id)
                .map_err(|e| format!("its image refers to a missing object: {e}"))?;
            objects[local as usize] = localize(doc, target, objects, copied, depth + 1)?;
            Object::Reference((local, LOCAL_GENERATION))
        }
        Object::Array(items) => Object::Array(
            items
                .iter()
                .map(|o| localize(doc, o, objects, copied, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Object::Dictionary(d) => Object::Dictionary(localize_dict(doc, d, objects, copied, depth)?),
        Object::Stream(s) => {
            let dict = localize_dict(doc, &s.dict, objects, copied, depth)?;
            Object::Stream(Stream::new(dict, s.content.clone()).with_compression(false))
        }
        other => other.clone(),
    })
}

fn localize_dict(
    doc: &Document,
    dict: &Dictionary,
    objects: &mut Vec<Object>,
    copied: &mut std::collections::BTreeMap<ObjectId, u32>,
    depth: u32,
) -> Result<Dictionary, String> {
    let mut out = Dictionary::new();
    for (key, value) in dict.iter() {
        out.set(key.clone(), localize(doc, value, objects, copied, depth + 1)?);
    }
    Ok(out)
}

/// An indexed image's palette: components of its base colour space, and the table.
type Palette = (u8, Vec<u8>);

impl SourceImage {
    fn local<'a>(&'a self, object: &'a Object) -> Option<&'a Object> {
        match object {
            Object::Reference((i, LOCAL_GENERATION)) => self.objects.get(*i as usize),
            other => Some(other),
        }
    }

    fn int(&self, key: &[u8]) -> Option<i64> {
        self.dict
            .get(key)
            .ok()
            .and_then(|o| self.local(o))
            .and_then(|o| o.as_i64().ok())
    }

    /// The stream's filters, in decoding order.
    pub fn filters(&self) -> Vec<String> {
        match self.dict.get(b"Filter").ok().and_then(|f| self.local(f)) {
            Some(Object::Name(n)) => vec![String::from_utf8_lossy(n).into_owned()],
            Some(Object::Array(a)) => a
                .iter()
                .filter_map(|o| self.local(o).and_then(|o| o.as_name().ok()))
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn width(&self) -> u32 {
        self.int(b"Width").unwrap_or(0).clamp(0, u32::MAX as i64) as u32
    }

    pub fn height(&self) -> u32 {
        self.int(b"Height").unwrap_or(0).clamp(0, u32::MAX as i64) as u32
    }

    /// The decode parameters of filter `index` (a dictionary or one per filter).
    fn parms(&self, index: usize) -> Option<&Dictionary> {
        match self.dict.get(b"DecodeParms").ok().and_then(|p| self.local(p))? {
            Object::Dictionary(d) => Some(d),
            Object::Array(a) => a
                .get(index)
                .and_then(|p| self.local(p))
                .and_then(|p| p.as_dict().ok()),
            _ => None,
        }
    }

    /// The colour space's components and, for `/Indexed`, the palette (entries of the base space).
    fn colour(&self) -> Result<(u8, Option<Palette>), String> {
        let space = self
            .dict
            .get(b"ColorSpace")
            .ok()
            .and_then(|c| self.local(c))
            .ok_or("the image has no colour space")?;
        self.components(space, 0)
    }

    fn components(&self, space: &Object, depth: u32) -> Result<(u8, Option<Palette>), String> {
        let unsupported = || {
            format!(
                "its colour space ({}) is not one scanwerk reads (grey, RGB, ICC-based, indexed); set the \
                 scanner to grey or colour (RGB) output",
                describe(space)
            )
        };
        match space {
            Object::Name(n) if n == b"DeviceGray" || n == b"CalGray" => Ok((1, None)),
            Object::Name(n) if n == b"DeviceRGB" || n == b"CalRGB" => Ok((3, None)),
            Object::Array(a) if depth < 4 => {
                let kind = a.first().and_then(|k| k.as_name().ok()).unwrap_or(b"");
                match kind {
                    b"ICCBased" => {
                        let stream = a
                            .get(1)
                            .and_then(|s| self.local(s))
                            .and_then(|s| s.as_stream().ok());
                        match stream
                            .and_then(|s| s.dict.get(b"N").ok())
                            .and_then(|n| n.as_i64().ok())
                        {
                            Some(1) => Ok((1, None)),
                            Some(3) => Ok((3, None)),
                            _ => Err(unsupported()),
                        }
                    }
                    b"CalGray" => Ok((1, None)),
                    b"CalRGB" => Ok((3, None)),
                    b"Indexed" => {
                        let base = a.get(1).and_then(|b| self.local(b)).ok_or_else(unsupported)?;
                        let (n, _) = self.components(base, depth + 1)?;
                        let table = match a.get(3).and_then(|t| self.local(t)) {
                            Some(Object::String(s, _)) => s.clone(),
                            Some(Object::Stream(s)) => s.decompressed_content().map_err(|e| e.to_string())?,
                            _ => return Err(unsupported()),
                        };
                        Ok((1, Some((n, table))))
                    }
                    _ => Err(unsupported()),
                }
            }
            _ => Err(unsupported()),
        }
    }
}

fn describe(space: &Object) -> String {
    match space {
        Object::Name(n) => String::from_utf8_lossy(n).into_owned(),
        Object::Array(a) => a
            .first()
            .and_then(|k| k.as_name().ok())
            .map_or("an array".into(), |k| String::from_utf8_lossy(k).into_owned()),
        _ => "unknown".into(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_compose_in_pdf_order() {
        let scale = [2.0, 0.0, 0.0, 3.0, 0.0, 0.0];
        let shift = [1.0, 0.0, 0.0, 1.0, 10.0, 20.0];
        // cm scale, then cm shift inside it: shift applies first to points.
        assert_eq!(multiply(&shift, &scale), [2.0, 0.0, 0.0, 3.0, 20.0, 60.0]);
    }

    #[test]
    fn a_frame_knows_its_quarter_turn() {
        let upright = Frame {
            media_box: [0.0, 0.0, 612.0, 792.0],
            matrix: [611.7, -19.9, 25.8, 791.6, -12.7, 10.2],
            rotate: 0,
        };
        assert_eq!(upright.turn_and_size().0, 0);
        let turned = Frame {
            matrix: [-29.8, 611.3, -791.1, -38.6, 806.4, 19.7],
            ..upright
        };
        // The image's x axis points up: turned a quarter counter-clockwise, 270° clockwise.
        assert_eq!(turned.turn_and_size().0, 270);
    }

    #[test]
    fn painting_operators_are_refused() {
        let ok = Content::decode(b"q 612 0 0 792 0 0 cm /Im0 Do Q BT 3 Tr /F1 8 Tf (x) Tj ET").unwrap();
        let drawn = walk(&ok).unwrap();
        assert_eq!(drawn.images.len(), 1);
        assert!(drawn.invisible_text);
        let visible = Content::decode(b"BT /F1 8 Tf (x) Tj ET").unwrap();
        assert!(walk(&visible).unwrap_err().contains("visible text"));
        let drawing = Content::decode(b"0 0 10 10 re f").unwrap();
        assert!(walk(&drawing).unwrap_err().contains("operator f"));
    }
}
