//! What the review page shows of a page: its image as a viewer shows it (decoded from the
//! document's current PDF, `/Rotate` applied; a page removed as blank from its source file, turned
//! as orientation detection found), reduced to a size a person reads on a screen, and its text
//! as the PDF's text layer holds it.

use super::{Area, ReviewError};
use crate::protocol::review::ReviewRecord;

/// The longer side of a review image, in pixels: an A4 page at about 140 dpi.
pub const REVIEW_IMAGE_SIZE: usize = 1600;

/// The page as a PNG, at most `size` pixels on its longer side.
pub fn page_png(
    area: &Area,
    record: &ReviewRecord,
    document: &str,
    page: u32,
    size: usize,
) -> Result<Vec<u8>, ReviewError> {
    let page_record = area.page_record(record, document, page)?;
    let unreadable = |e: &dyn std::fmt::Display| {
        ReviewError::Refused(format!("{document} page {page} cannot be shown: {e}"))
    };
    let (decoded, degrees) = match page_record.pdf_page {
        Some(number) => {
            let (pdf, _) = area.document_files(record, document);
            let bytes = area.read(&pdf)?;
            crate::decode::pdf::shown_page(&bytes, number).map_err(|e| unreadable(&e))?
        }
        None => {
            let batch = area.origin()?.batch_dir;
            let path = batch.join(&page_record.source);
            let source =
                crate::decode::SourceFile::open(&path, &page_record.source).map_err(|e| unreadable(&e))?;
            let decoded = crate::decode::decode_page(&source, page_record.source_page.saturating_sub(1))
                .map_err(|e| unreadable(&e))?;
            let turn = page_record
                .orientation
                .as_ref()
                .map_or(0, |o| i64::from(o.rotate));
            (decoded, turn)
        }
    };
    let gray = crate::prepare::gray(&decoded);
    Ok(crate::report::Thumbnail::sized(&decoded, &gray, size)
        .rotated(degrees as u16)
        .png())
}

/// The text of the page's text layer in the current PDF, line by line: from the document's ALTO
/// file where there is one (written from the same placed words), else as lopdf extracts it.
pub fn page_text(
    area: &Area,
    record: &ReviewRecord,
    document: &str,
    page: u32,
) -> Result<String, ReviewError> {
    let page_record = area.page_record(record, document, page)?;
    let Some(number) = page_record.pdf_page else {
        return Ok(String::new());
    };
    let (pdf, _) = area.document_files(record, document);
    let alto = area.dir.join(&pdf).with_extension("alto.xml");
    if let Ok(alto) = std::fs::read_to_string(alto) {
        return Ok(alto_page_text(&alto, number));
    }
    let bytes = area.read(&pdf)?;
    let doc = lopdf::Document::load_mem(&bytes).map_err(|e| ReviewError::Refused(format!("{pdf}: {e}")))?;
    Ok(doc.extract_text(&[number]).unwrap_or_default())
}

/// The words of page `number` of an ALTO file scanwerk wrote, one line per `TextLine`.
fn alto_page_text(alto: &str, number: u32) -> String {
    let start = format!("<Page ID=\"P{number}\" ");
    let Some(at) = alto.find(&start) else {
        return String::new();
    };
    let page = &alto[at..];
    let page = &page[..page.find("</Page>").unwrap_or(page.len())];
    let unescape = |t: &str| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    };
    page.split("<TextLine ")
        .skip(1)
        .map(|line| {
            line.split("CONTENT=\"")
                .skip(1)
                .filter_map(|w| w.split('"').next())
                .map(unescape)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn alto_text_is_read_line_by_line() {
        let pages = [crate::pdfa::PageText {
            width: 100.0,
            height: 100.0,
            lines: vec![vec![word("Akte"), word("&<1>")], vec![word("Seite")]],
        }];
        let alto = crate::handoff::fulltext::alto("a.pdf", &pages);
        assert_eq!(super::alto_page_text(&alto, 1), "Akte &<1>\nSeite");
        assert_eq!(super::alto_page_text(&alto, 2), "");
    }

    fn word(text: &str) -> crate::pdfa::text::PlacedWord {
        crate::pdfa::text::PlacedWord {
            text: text.into(),
            confidence: 90.0,
            bbox: [1.0, 1.0, 2.0, 2.0],
        }
    }
}
