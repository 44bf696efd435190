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

mod image;
mod raster;

pub use image::{LOCAL_GENERATION, SourceImage};
pub use raster::decode;

use lopdf::{Dictionary, Document, Object, ObjectId, content::Content};

use super::{DecodeError, Format};
use image::source_image;

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
    if let Some(part) = pdfa_identification(&doc) {
        notes.push(format!(
            "the source PDF says it is {part}; scanwerk writes its own PDF/A-2b metadata and does not \
             carry the source's over"
        ));
    }
    if pages.iter().any(|p| p.scanner_text) {
        notes.push("the scanner's invisible text layer was left out; scanwerk's OCR replaces it".into());
    }
    Ok(PdfFile { pages, notes })
}

/// Page `number` (1-based) of a PDF scanwerk wrote, decoded (a signed one too: it is only looked
/// at), with the clockwise turn in degrees at which a viewer shows it (`/Rotate` and the placement).
pub fn shown_page(bytes: &[u8], number: u32) -> Result<(super::Page, i64), DecodeError> {
    let doc = Document::load_mem(bytes).map_err(|e| DecodeError::Corrupt {
        format: Format::Pdf,
        detail: e.to_string(),
    })?;
    let id = *doc
        .get_pages()
        .get(&number)
        .ok_or_else(|| refused(&format!("the PDF has no page {number}")))?;
    let page = read_page(&doc, id).map_err(|why| refused(&why))?;
    let turn = (page.frame.rotate + page.frame.turn_and_size().0).rem_euclid(360);
    Ok((raster::decode(&page, &[])?, turn))
}

/// The source's own PDF/A identification from its XMP (`pdfaid:part`, `pdfaid:conformance`), as
/// "PDF/A-2B"; `None` if it claims none.
fn pdfa_identification(doc: &Document) -> Option<String> {
    let metadata = doc.catalog().ok()?.get(b"Metadata").ok()?;
    let stream = resolve(doc, metadata).as_stream().ok()?;
    let xmp = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    let xmp = String::from_utf8_lossy(&xmp);
    let value = |name: &str| -> Option<String> {
        // Element (<pdfaid:part>2</pdfaid:part>) or attribute (pdfaid:part="2") form.
        let element = format!("<pdfaid:{name}>");
        let attribute = format!("pdfaid:{name}=\"");
        let (at, end) = match xmp.find(&element) {
            Some(i) => (i + element.len(), '<'),
            None => (xmp.find(&attribute)? + attribute.len(), '"'),
        };
        Some(xmp[at..].split(end).next()?.trim().to_string())
    };
    let part = value("part")?;
    Some(format!(
        "PDF/A-{part}{}",
        value("conformance").unwrap_or_default().to_uppercase()
    ))
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

pub(super) fn resolve<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
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

pub(super) fn number(object: &Object) -> Option<f64> {
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
