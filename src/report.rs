//! QA report: `report.html`, one self-contained page per batch for the people who review it.
//!
//! Per document and page it shows a thumbnail, the quality flags (blank, low confidence, rotated,
//! skewed, low resolution …), the OCR confidence, the measured skew and rotation, and which pages
//! were drawn for the visual spot check (TR-RESISCAN A.SC.8: a sample of 2–4 %). Thumbnails are
//! made by the workers while the page is in memory anyway, kept in the staging folder's
//! `.thumbnails/` until the report is written, and inlined as PNG data URIs, so the report is one
//! file the manifest covers and a browser opens without anything beside it.
//!
//! The sample is drawn deterministically: the seed is the SHA-256 of the batch id and the SHA-256
//! of every input file; each page's lot is SHA-256(seed ‖ document id ‖ page number); the pages
//! with the smallest lots are drawn. Anyone can redraw it from the protocol alone.

use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;

use crate::decode::{Page, Raster};
use crate::protocol::{DocumentRecord, PageRecord, Protocol, QaSample, SampledPage, plural};
use crate::seal::hash::sha256_hex;

/// Height of a thumbnail of an upright portrait page, in pixels.
const THUMBNAIL_SIZE: usize = 220;

/// A small picture of a page: rows of grey (1 channel) or RGB (3 channels) samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub pixels: Vec<u8>,
}

impl Thumbnail {
    /// Reduces `page` by block means so its longer side is [`THUMBNAIL_SIZE`]; `gray` is the page
    /// in 8-bit grey (already made for blank detection), used unless the page is in colour.
    pub fn of(page: &Page, gray: &[u8]) -> Thumbnail {
        Thumbnail::sized(page, gray, THUMBNAIL_SIZE)
    }

    /// [`Thumbnail::of`] with the longer side at most `size` pixels (never enlarged).
    pub fn sized(page: &Page, gray: &[u8], size: usize) -> Thumbnail {
        let (w, h) = (page.width as usize, page.height as usize);
        let factor = w.max(h).div_ceil(size).max(1);
        let (tw, th) = ((w / factor).max(1), (h / factor).max(1));
        let (samples, channels): (std::borrow::Cow<[u8]>, usize) = match &page.raster {
            Raster::Rgb8(rgb) => (rgb.as_slice().into(), 3),
            Raster::Rgb16(rgb) => (rgb.iter().map(|&s| (s >> 8) as u8).collect::<Vec<u8>>().into(), 3),
            _ => {
                return Thumbnail {
                    width: tw,
                    height: th,
                    channels: 1,
                    pixels: crate::prepare::blank::reduce(gray, w, factor, tw, th),
                };
            }
        };
        let mut pixels = vec![0u8; tw * th * channels];
        let mut sums = vec![0u32; tw * channels];
        for (ty, out) in pixels.chunks_exact_mut(tw * channels).enumerate() {
            sums.fill(0);
            let rows = ty * factor..((ty + 1) * factor).min(h);
            let height = rows.len();
            for y in rows {
                let row = &samples[y * w * channels..][..tw * factor * channels];
                for (sum, block) in sums
                    .chunks_exact_mut(channels)
                    .zip(row.chunks_exact(factor * channels))
                {
                    for pixel in block.chunks_exact(channels) {
                        for (s, &v) in sum.iter_mut().zip(pixel) {
                            *s += u32::from(v);
                        }
                    }
                }
            }
            let n = (height * factor).max(1) as u32;
            for (o, &sum) in out.iter_mut().zip(&sums) {
                *o = (sum / n) as u8;
            }
        }
        Thumbnail {
            width: tw,
            height: th,
            channels,
            pixels,
        }
    }

    /// The thumbnail turned `degrees` clockwise (0, 90, 180 or 270), as the PDF page is displayed.
    pub fn rotated(self, degrees: u16) -> Thumbnail {
        let turns = (degrees / 90) % 4;
        if turns == 0 {
            return self;
        }
        let (w, h, c) = (self.width, self.height, self.channels);
        let (nw, nh) = if turns == 2 { (w, h) } else { (h, w) };
        let mut pixels = vec![0u8; self.pixels.len()];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = match turns {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, w - 1 - x),
                };
                let (from, to) = ((y * w + x) * c, (ny * nw + nx) * c);
                pixels[to..to + c].copy_from_slice(&self.pixels[from..from + c]);
            }
        }
        Thumbnail {
            width: nw,
            height: nh,
            channels: c,
            pixels,
        }
    }

    /// The thumbnail as a PNG file.
    pub fn png(&self) -> Vec<u8> {
        use image::ImageEncoder;
        let colour = if self.channels == 3 {
            image::ExtendedColorType::Rgb8
        } else {
            image::ExtendedColorType::L8
        };
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&self.pixels, self.width as u32, self.height as u32, colour)
            .expect("encoding a PNG in memory");
        out
    }
}

/// Where a page's thumbnail waits in the staging folder until the report is written.
pub fn thumbnail_path(document: &str, number: u32) -> String {
    format!("{}/{document}/{number}.png", crate::layout::THUMBNAILS)
}

/// Draws `percent` of the scanned pages of `protocol` (at least one page if `percent` > 0).
pub fn draw_sample(protocol: &Protocol, percent: f64) -> QaSample {
    let mut seed_input = format!("scanwerk qa sample\n{}\n", protocol.batch_id);
    for source in protocol.documents.iter().flat_map(|d| &d.sources) {
        seed_input.push_str(&source.digests.sha256);
        seed_input.push('\n');
    }
    let seed = sha256_hex(seed_input.as_bytes());
    let mut lots: Vec<(String, SampledPage)> = protocol
        .documents
        .iter()
        .flat_map(|d| (1..=d.scanned_pages as u32).map(move |n| (d.id.clone(), n)))
        .map(|(document, page)| {
            let lot = sha256_hex(format!("{seed}\n{document}\n{page}").as_bytes());
            (lot, SampledPage { document, page })
        })
        .collect();
    let population = lots.len();
    let wanted = if percent > 0.0 && population > 0 {
        ((population as f64 * percent / 100.0).ceil() as usize).clamp(1, population)
    } else {
        0
    };
    lots.sort_by(|a, b| a.0.cmp(&b.0));
    let mut pages: Vec<SampledPage> = lots.into_iter().take(wanted).map(|(_, p)| p).collect();
    let order = |p: &SampledPage| {
        let doc = protocol.documents.iter().position(|d| d.id == p.document);
        (doc, p.page)
    };
    pages.sort_by_key(order);
    QaSample {
        percent,
        population,
        seed,
        method: "seed = SHA-256(\"scanwerk qa sample\\n\" + batch id + \"\\n\" + the SHA-256 (hex) of \
                 each input file followed by \"\\n\"); lot of a page = SHA-256(seed + \"\\n\" + \
                 document id + \"\\n\" + page number); the ceil(percent × population / 100) pages \
                 with the smallest lots (hex order) are drawn"
            .into(),
        pages,
    }
}

/// Writes `report.html` for the batch in `dir` (the staging folder), from its protocol and
/// document records and the thumbnails in `.thumbnails/`.
pub fn write(dir: &Path, protocol: &Protocol, out: &mut impl Write) -> io::Result<()> {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>QA report: batch {id}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>QA report: batch {id}</h1>\n<dl class=\"facts\">\n",
        id = esc(&protocol.batch_id)
    )?;
    for (label, value) in facts(protocol) {
        writeln!(out, "<dt>{label}</dt><dd>{}</dd>", esc(&value))?;
    }
    writeln!(out, "</dl>")?;
    writeln!(out, "{LEGEND}")?;
    write_sample_links(out, protocol)?;
    writeln!(out, "</header>\n<main>")?;
    write_anomalies(out, protocol)?;
    for doc in &protocol.documents {
        write_document(dir, out, protocol, doc)?;
    }
    writeln!(out, "</main>\n</body>\n</html>")
}

const LEGEND: &str = "<p class=\"legend\"><span class=\"card review\">needs review</span> \
     <span class=\"card sampled\">drawn for the spot check</span> \
     <span class=\"card removed\">removed from the PDF (blank)</span> · flags: \
     <span class=\"flag review\">asks for review</span> \
     <span class=\"flag recorded\">records what was done</span></p>";

/// The batch's facts at the top of the report.
fn facts(protocol: &Protocol) -> [(&'static str, String); 9] {
    let flagged: usize = protocol
        .documents
        .iter()
        .map(|d| d.flagged_pages.iter().filter(|p| p.needs_review).count())
        .sum();
    let documents = match protocol.empty_documents.len() {
        0 => protocol.documents.len().to_string(),
        n => format!(
            "{} with a PDF, {n} without (every page blank)",
            protocol.documents.len()
        ),
    };
    let separation = match protocol.separators.len() {
        0 => protocol.separation.clone(),
        n => format!("{}, {n} separator sheets", protocol.separation),
    };
    let sample = protocol.qa_sample.as_ref().map_or("none".into(), |s| {
        format!(
            "{} of {} {} (sample rate {} %)",
            s.pages.len(),
            s.population,
            plural(s.population, "page", "pages"),
            s.percent
        )
    });
    [
        (
            "Profile",
            format!("{} {}", protocol.profile.id, protocol.profile.version),
        ),
        ("Responsible", protocol.operator.clone()),
        ("Scanned", scanned(protocol)),
        (
            "Processed",
            format!("{} to {}", protocol.started, protocol.finished),
        ),
        ("Documents", documents),
        ("Separation", separation),
        ("Pages scanned", protocol.completeness.pages.to_string()),
        ("Pages for review", flagged.to_string()),
        ("Spot check", sample),
    ]
}

/// When the paper was scanned, and where that time comes from.
fn scanned(protocol: &Protocol) -> String {
    let times = &protocol.transfer_note.times;
    match (&times.scanned, times.scanned_source.as_deref()) {
        (Some(t), Some("batch.toml")) => format!("{t} (from the batch sheet)"),
        (Some(t), _) => format!("{t} (newest scan file's time; no scanned date in the batch sheet)"),
        (None, _) => "not known".into(),
    }
}

/// Links to the pages drawn for the spot check.
fn write_sample_links(out: &mut impl Write, protocol: &Protocol) -> io::Result<()> {
    let Some(sample) = protocol.qa_sample.as_ref().filter(|s| !s.pages.is_empty()) else {
        return Ok(());
    };
    write!(out, "<p>Compare these pages with the paper: ")?;
    for (i, p) in sample.pages.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(
            out,
            "{sep}<a href=\"#{anchor}\">{doc} p. {n}</a>",
            anchor = esc(&page_id(&p.document, p.page)),
            doc = esc(&p.document),
            n = p.page
        )?;
    }
    writeln!(out, ". Seed {}.</p>", &sample.seed[..16])
}

/// One document: its heading, the separator sheet that began it, its metadata, its pages.
fn write_document(
    dir: &Path,
    out: &mut impl Write,
    protocol: &Protocol,
    doc: &crate::protocol::DocumentSummary,
) -> io::Result<()> {
    let record: DocumentRecord = std::fs::read(dir.join(crate::layout::document_record(&doc.id)))
        .and_then(|b| serde_json::from_slice(&b).map_err(io::Error::other))?;
    writeln!(
        out,
        "<section class=\"document\" id=\"{id}\">\n<h2>{name} <small>{pdf} · {pages} {noun} in the PDF \
         · mean confidence {conf}</small></h2>",
        id = esc(&format!("doc-{}", doc.id)),
        name = esc(&doc.id),
        pdf = esc(&doc.pdf),
        pages = doc.pages,
        noun = plural(doc.pages, "page", "pages"),
        conf = confidence(record.mean_confidence),
    )?;
    if let Some(sheet) = protocol
        .separators
        .iter()
        .find(|s| s.next_document.as_deref() == Some(doc.id.as_str()))
    {
        let what = match sheet.kind.as_str() {
            "patch-code" => format!("Patch {}", sheet.code),
            _ => format!(
                "{} barcode “{}”",
                sheet.symbology.as_deref().unwrap_or("?"),
                sheet.code
            ),
        };
        let back = match &sheet.back {
            Some(back) if back.dropped => format!("; its blank back (page {}) dropped", back.position),
            Some(back) => format!(
                "; its back (page {}) is not blank: kept as page 1, check it",
                back.position
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "<p class=\"separator\">Begun by a separator sheet, page {} of the stack: {} ({}){}</p>",
            sheet.position,
            esc(&what),
            esc(&sheet.read),
            esc(&back)
        )?;
    }
    if !doc.metadata.is_empty() {
        let values: Vec<String> = doc.metadata.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        writeln!(out, "<p class=\"metadata\">{}</p>", esc(&values.join(" · ")))?;
    }
    let sampled = |n: u32| {
        protocol
            .qa_sample
            .as_ref()
            .is_some_and(|s| s.pages.iter().any(|p| p.document == doc.id && p.page == n))
    };
    writeln!(out, "<div class=\"pages\">")?;
    for page in &record.pages {
        write_page(dir, out, &doc.id, page, sampled(page.number))?;
    }
    writeln!(out, "</div>\n</section>")
}

/// The element id of a page card: `page-<document>-<number>`.
pub fn page_id(document: &str, number: u32) -> String {
    format!("page-{document}-{number}")
}

fn write_page(
    dir: &Path,
    out: &mut impl Write,
    doc: &str,
    page: &PageRecord,
    sampled: bool,
) -> io::Result<()> {
    let mut classes = vec!["card"];
    if page.needs_review {
        classes.push("review");
    }
    if sampled {
        classes.push("sampled");
    }
    if page.pdf_page.is_none() {
        classes.push("removed");
    }
    write!(
        out,
        "<figure class=\"{}\" id=\"{}\" data-document=\"{}\" data-page=\"{}\">",
        classes.join(" "),
        esc(&page_id(doc, page.number)),
        esc(doc),
        page.number
    )?;
    match std::fs::read(dir.join(thumbnail_path(doc, page.number))) {
        Ok(png) => write!(
            out,
            "<img alt=\"{alt}\" src=\"data:image/png;base64,{data}\">",
            alt = esc(&format!("{doc} page {}", page.number)),
            data = base64::engine::general_purpose::STANDARD.encode(png)
        )?,
        Err(_) => write!(out, "<div class=\"nothumb\">no thumbnail</div>")?,
    }
    write!(
        out,
        "<figcaption><b>p. {n}</b>{pdf} <span class=\"src\">{src} p. {sp}</span>",
        n = page.number,
        pdf = page
            .pdf_page
            .map_or(" · not in PDF".into(), |p| format!(" · PDF p. {p}")),
        src = esc(&page.source),
        sp = page.source_page
    )?;
    if sampled {
        write!(out, "<span class=\"flag sample\">spot check</span>")?;
    }
    for flag in &page.flags {
        let class = if crate::prepare::quality::asks_for_review(flag) {
            "review"
        } else {
            "recorded"
        };
        write!(out, "<span class=\"flag {class}\">{}</span>", esc(flag))?;
    }
    let turned = match page.orientation.as_ref().map_or(0, |o| o.rotate) {
        0 => "upright as scanned".to_string(),
        rotate => format!(
            "scanned turned {}°, shown turned {rotate}° clockwise (/Rotate)",
            (360 - rotate) % 360
        ),
    };
    let skew = page.skew.map_or("–".into(), |s| format!("{:.2}°", s.degrees));
    writeln!(
        out,
        "<dl><dt>OCR</dt><dd>{conf} ({words} words)</dd><dt>skew</dt><dd>{skew}</dd>\
         <dt>turned</dt><dd>{turned}</dd><dt>dpi</dt><dd>{dpi:.0}{assumed}</dd>\
         <dt>colour</dt><dd>{colour}</dd></dl></figcaption></figure>",
        conf = confidence(page.mean_confidence),
        words = page.words,
        dpi = page.dpi[0],
        assumed = if page.dpi_assumed { " (assumed)" } else { "" },
        colour = esc(&page.colour_mode),
    )
}

/// The completeness check against the batch sheet and every anomaly of the transfer note, with
/// the documents left without a PDF.
fn write_anomalies(out: &mut impl Write, protocol: &Protocol) -> io::Result<()> {
    let c = &protocol.completeness;
    let (class, verdict) = if c.complete {
        ("complete", "complete")
    } else {
        ("incomplete", "INCOMPLETE against the batch sheet")
    };
    let expected =
        |n: Option<usize>| n.map_or("no count in the batch sheet".into(), |n| format!("{n} expected"));
    writeln!(
        out,
        "<section class=\"anomalies {class}\" id=\"anomalies\">\n<h2>Completeness and anomalies</h2>\n\
         <p class=\"completeness\">Batch {verdict}: {docs} {doc_noun} received ({exp_docs}), \
         {pages} {page_noun} scanned ({exp_pages}).</p>",
        docs = c.documents,
        doc_noun = plural(c.documents, "document", "documents"),
        exp_docs = expected(c.expected_documents),
        pages = c.pages,
        page_noun = plural(c.pages, "page", "pages"),
        exp_pages = expected(c.expected_pages),
    )?;
    let anomalies = &protocol.transfer_note.anomalies;
    if anomalies.is_empty() {
        writeln!(out, "<p>No anomalies.</p>")?;
    } else {
        writeln!(out, "<ul>")?;
        for anomaly in anomalies {
            writeln!(out, "<li>{}</li>", esc(anomaly))?;
        }
        writeln!(out, "</ul>")?;
    }
    for empty in &protocol.empty_documents {
        let sources: Vec<String> = empty
            .sources
            .iter()
            .map(|s| format!("{} (SHA-256 {})", s.path, s.digests.sha256))
            .collect();
        writeln!(
            out,
            "<p class=\"empty-document\" id=\"{id}\">No PDF for document {name}: {reason}. Source: {sources}.</p>",
            id = esc(&format!("doc-{}", empty.id)),
            name = esc(&empty.id),
            reason = esc(&empty.reason),
            sources = esc(&sources.join(", ")),
        )?;
    }
    writeln!(out, "</section>")
}

fn confidence(c: Option<f32>) -> String {
    c.map_or("–".into(), |c| format!("{c:.0}"))
}

/// Escapes text for HTML content and double-quoted attribute values.
fn esc(text: &str) -> String {
    crate::pdfa::xmp::escape(text)
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f4f4f2}
header{background:#fff;padding:16px 24px;border-bottom:1px solid #ccc}
h1{font-size:20px;margin:0 0 8px}
h2{font-size:16px;margin:24px 0 8px}h2 small{font-weight:normal;color:#555}
.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}
.facts dt{color:#555}.facts dd{margin:0}
main{padding:0 24px 24px}
.pages{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:3px solid #ddd;border-radius:4px;padding:6px;margin:0;width:180px}
.card img{display:block;max-width:168px;max-height:220px;margin:0 auto 4px;border:1px solid #999;background:#fff}
.card.review{border-color:#d33}.card.sampled{border-color:#26c}.card.review.sampled{border-color:#d33 #26c #26c #d33}
.card.removed img{opacity:.5}
span.card{display:inline-block;width:auto;padding:2px 8px}
figcaption{font-size:12px}figcaption dl{display:grid;grid-template-columns:max-content auto;gap:0 8px;margin:4px 0 0}
figcaption dt{color:#666}figcaption dd{margin:0}
.src{display:block;color:#666;overflow-wrap:anywhere}
.flag{display:inline-block;border-radius:3px;padding:0 4px;margin:2px 2px 0 0}
.flag.review{background:#fde2e2;color:#900}.flag.recorded{background:#e6e6e6;color:#333}
.anomalies{background:#fff;border:1px solid #ccc;border-radius:4px;padding:8px 16px;margin-top:16px}
.anomalies.incomplete{border:3px solid #d33}.anomalies.incomplete .completeness{color:#900;font-weight:bold}
.flag.sample{background:#dde8fb;color:#124}
.nothumb{height:120px;display:flex;align-items:center;justify-content:center;color:#888;border:1px dashed #aaa}
";

#[cfg(test)]
mod tests {
    use super::*;

    fn gray_page(width: u32, height: u32) -> (Page, Vec<u8>) {
        let gray: Vec<u8> = (0..width * height)
            .map(|i| if i % width < width / 2 { 0 } else { 255 })
            .collect();
        let page = Page {
            width,
            height,
            dpi: Some((300.0, 300.0)),
            raster: Raster::Gray8(gray.clone()),
            passthrough: None,
            notes: Vec::new(),
            frame: None,
        };
        (page, gray)
    }

    #[test]
    fn thumbnails_keep_the_page_shape_and_turn_as_displayed() {
        let (page, gray) = gray_page(2480, 3508);
        let thumb = Thumbnail::of(&page, &gray);
        assert_eq!((thumb.width, thumb.height, thumb.channels), (155, 219, 1));
        // Left half black, right half white.
        assert_eq!(thumb.pixels[0], 0);
        assert_eq!(thumb.pixels[thumb.width - 1], 255);
        let turned = thumb.clone().rotated(90);
        assert_eq!((turned.width, turned.height), (219, 155));
        // Turned clockwise, the black left half is on top.
        assert_eq!(turned.pixels[0], 0);
        assert_eq!(turned.pixels[(turned.height - 1) * turned.width], 255);
        assert_eq!(turned.rotated(270), thumb);
        let png = thumb.png();
        let back = image::load_from_memory(&png).unwrap().into_luma8();
        assert_eq!(back.as_raw(), &thumb.pixels);
    }

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;'");
    }
}
