//! Full text beside each PDF for digital libraries and viewers: ALTO 4 (`documents/<id>.alto.xml`)
//! and hOCR (`documents/<id>.hocr`), one page per PDF page, made from the same placed words as the
//! PDF's text layer ([`PageText`]): each word's box is where the text layer puts it on the page as
//! a viewer shows it (`/Rotate` applied, skew mapping included), from the top left corner.
//! ALTO measures in `inch1200` (1/1200 inch; 1 pt = 50/3 units); hOCR boxes are in points, the
//! page declared at 72 dpi (`scan_res 72 72`), so both convert exactly to PDF points.

use std::fmt::Write as _;

use crate::pdfa::PageText;

/// XML text with `&`, `<`, `>`, `"` escaped, and characters XML 1.0 cannot carry left out.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Points in ALTO's `inch1200` units.
fn units(pt: f64) -> i64 {
    (pt * 1200.0 / 72.0).round() as i64
}

/// `[x0, y0, x1, y1]` spanning every box.
fn union(boxes: impl Iterator<Item = [f64; 4]>) -> [f64; 4] {
    boxes.fold(
        [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
        |a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])],
    )
}

/// `HPOS="…" VPOS="…" WIDTH="…" HEIGHT="…"` of a box.
fn alto_box([x0, y0, x1, y1]: [f64; 4]) -> String {
    let (h, v) = (units(x0), units(y0));
    format!(
        "HPOS=\"{h}\" VPOS=\"{v}\" WIDTH=\"{}\" HEIGHT=\"{}\"",
        units(x1) - h,
        units(y1) - v
    )
}

/// The ALTO 4 file of a document whose PDF is `pdf` (file name) with these pages.
pub fn alto(pdf: &str, pages: &[PageText]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-2.xsd\" \
         SCHEMAVERSION=\"4.2\">\n",
    );
    let _ = write!(
        out,
        "  <Description>\n    <MeasurementUnit>inch1200</MeasurementUnit>\n    \
         <sourceImageInformation>\n      <fileName>{}</fileName>\n    </sourceImageInformation>\n    \
         <Processing ID=\"OCR\">\n      <processingAgency>scanwerk</processingAgency>\n      \
         <processingStepDescription>tesseract {}, placed as in the PDF text layer</processingStepDescription>\n      \
         <processingSoftware>\n        <softwareName>scanwerk</softwareName>\n        \
         <softwareVersion>{}</softwareVersion>\n      </processingSoftware>\n    </Processing>\n  \
         </Description>\n  <Layout>\n",
        escape(pdf),
        crate::ocr::tesseract_version(),
        env!("CARGO_PKG_VERSION"),
    );
    for (n, page) in pages.iter().enumerate() {
        let p = n + 1;
        let whole = [0.0, 0.0, page.width, page.height];
        let _ = writeln!(
            out,
            "    <Page ID=\"P{p}\" PHYSICAL_IMG_NR=\"{p}\" WIDTH=\"{}\" HEIGHT=\"{}\">\n      <PrintSpace {}>",
            units(page.width),
            units(page.height),
            alto_box(whole)
        );
        if !page.lines.is_empty() {
            let block = union(page.lines.iter().flatten().map(|w| w.bbox));
            let _ = writeln!(out, "        <TextBlock ID=\"P{p}_B1\" {}>", alto_box(block));
            for (l, line) in page.lines.iter().enumerate() {
                let bbox = union(line.iter().map(|w| w.bbox));
                let _ = writeln!(
                    out,
                    "          <TextLine ID=\"P{p}_L{}\" {}>",
                    l + 1,
                    alto_box(bbox)
                );
                for (w, word) in line.iter().enumerate() {
                    if w > 0 {
                        out.push_str("            <SP/>\n");
                    }
                    let _ = writeln!(
                        out,
                        "            <String ID=\"P{p}_L{}_W{}\" CONTENT=\"{}\" {} WC=\"{:.2}\"/>",
                        l + 1,
                        w + 1,
                        escape(&word.text),
                        alto_box(word.bbox),
                        (word.confidence / 100.0).clamp(0.0, 1.0)
                    );
                }
                out.push_str("          </TextLine>\n");
            }
            out.push_str("        </TextBlock>\n");
        }
        out.push_str("      </PrintSpace>\n    </Page>\n");
    }
    out.push_str("  </Layout>\n</alto>\n");
    out
}

/// `bbox x0 y0 x1 y1` in whole points.
fn hocr_box([x0, y0, x1, y1]: [f64; 4]) -> String {
    format!(
        "bbox {} {} {} {}",
        x0.round() as i64,
        y0.round() as i64,
        x1.round() as i64,
        y1.round() as i64
    )
}

/// The hOCR file (XHTML) of a document whose PDF is `pdf` with these pages.
pub fn hocr(pdf: &str, pages: &[PageText]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \
         \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"de\" lang=\"de\">\n<head>\n\
         <title>{}</title>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n\
         <meta name=\"ocr-system\" content=\"scanwerk {} (tesseract {})\"/>\n\
         <meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea ocr_line ocrx_word\"/>\n</head>\n<body>\n",
        escape(pdf),
        env!("CARGO_PKG_VERSION"),
        crate::ocr::tesseract_version()
    );
    for (n, page) in pages.iter().enumerate() {
        let p = n + 1;
        let _ = writeln!(
            out,
            "<div class=\"ocr_page\" id=\"page_{p}\" title=\"image {}; ppageno {n}; scan_res 72 72; {}\">",
            escape(pdf),
            hocr_box([0.0, 0.0, page.width, page.height])
        );
        if !page.lines.is_empty() {
            let block = union(page.lines.iter().flatten().map(|w| w.bbox));
            let _ = writeln!(
                out,
                " <div class=\"ocr_carea\" id=\"block_{p}_1\" title=\"{}\">",
                hocr_box(block)
            );
            for (l, line) in page.lines.iter().enumerate() {
                let bbox = union(line.iter().map(|w| w.bbox));
                let _ = write!(
                    out,
                    "  <span class=\"ocr_line\" id=\"line_{p}_{}\" title=\"{}\">",
                    l + 1,
                    hocr_box(bbox)
                );
                for (w, word) in line.iter().enumerate() {
                    let _ = write!(
                        out,
                        "{}<span class=\"ocrx_word\" id=\"word_{p}_{}_{}\" title=\"{}; x_wconf {}\">{}</span>",
                        if w > 0 { " " } else { "" },
                        l + 1,
                        w + 1,
                        hocr_box(word.bbox),
                        word.confidence.round().clamp(0.0, 100.0) as i64,
                        escape(&word.text)
                    );
                }
                out.push_str("</span>\n");
            }
            out.push_str(" </div>\n");
        }
        out.push_str("</div>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdfa::text::PlacedWord;

    fn page() -> PageText {
        let word = |text: &str, x: f64| PlacedWord {
            text: text.into(),
            confidence: 91.0,
            bbox: [x, 100.0, x + 36.0, 112.0],
        };
        PageText {
            width: 595.0,
            height: 842.0,
            lines: vec![vec![word("Akte", 72.0), word("<&\">", 120.0)]],
        }
    }

    #[test]
    fn alto_measures_in_1200ths_of_an_inch_and_escapes_text() {
        let alto = alto("akte.pdf", &[page()]);
        assert!(
            alto.contains("<Page ID=\"P1\" PHYSICAL_IMG_NR=\"1\" WIDTH=\"9917\" HEIGHT=\"14033\">"),
            "{alto}"
        );
        assert!(
            alto.contains(
                "CONTENT=\"Akte\" HPOS=\"1200\" VPOS=\"1667\" WIDTH=\"600\" HEIGHT=\"200\" WC=\"0.91\""
            ),
            "{alto}"
        );
        assert!(alto.contains("CONTENT=\"&lt;&amp;&quot;&gt;\""), "{alto}");
        assert_eq!(alto.matches("<SP/>").count(), 1);
    }

    #[test]
    fn hocr_boxes_are_points() {
        let hocr = hocr("akte.pdf", &[page()]);
        assert!(
            hocr.contains("title=\"bbox 72 100 108 112; x_wconf 91\">Akte</span>"),
            "{hocr}"
        );
        assert!(hocr.contains("scan_res 72 72; bbox 0 0 595 842"), "{hocr}");
    }
}
