//! A structural PDF/A-2b self-check of a finished file, for `verify`.
//!
//! It re-reads the bytes with lopdf, independently of the writer, and checks the clauses the writer
//! is built to meet (see `PDFA.md`): header, trailer `/ID` and no encryption, stream framing and
//! filters, the XMP packet and its PDF/A identification, the output intent and its ICC profile,
//! image dictionaries, embedded fonts and page sizes. It is no replacement for a full validator
//! such as veraPDF; it catches a file that has lost what makes it PDF/A.

use lopdf::{Dictionary, Document, Object};

use super::xmp;

/// Filters PDF/A-2 forbids (LZW, 6.1.7.2) or scanwerk never writes (JBIG2: BSI reads TR-RESISCAN
/// A.SC.12 as a ban on it; Crypt: no encryption).
const FORBIDDEN_FILTERS: [&[u8]; 3] = [b"LZWDecode", b"JBIG2Decode", b"Crypt"];

/// Every conformance problem found in `bytes`, each naming its clause; empty if none.
pub fn check(bytes: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    check_header(bytes, &mut problems);
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(format!("cannot be parsed as PDF: {e}"));
            return problems;
        }
    };
    check_trailer(&doc, &mut problems);
    for (&(num, _), object) in &doc.objects {
        if let Object::Stream(stream) = object {
            check_stream(num, &stream.dict, stream.content.len(), &mut problems);
            if is_name(&stream.dict, b"Subtype", b"Image") {
                check_image(num, &stream.dict, &mut problems);
            }
        }
        if let Ok(dict) = object.as_dict()
            && is_name(dict, b"Type", b"Font")
        {
            check_font(&doc, num, dict, &mut problems);
        }
    }
    match doc.catalog() {
        Ok(catalog) => {
            let info = doc
                .trailer
                .get(b"Info")
                .and_then(Object::as_reference)
                .and_then(|id| doc.get_dictionary(id))
                .ok();
            check_metadata(&doc, catalog, info, &mut problems);
            check_output_intent(&doc, catalog, &mut problems);
        }
        Err(e) => problems.push(format!("no document catalog: {e}")),
    }
    for (number, id) in doc.get_pages() {
        check_page(&doc, number, id, &mut problems);
    }
    problems
}

/// 6.1.2: `%PDF-1.n` then EOL, then `%` and four bytes above 127.
fn check_header(bytes: &[u8], problems: &mut Vec<String>) {
    let version_ok = bytes.len() > 9 && bytes.starts_with(b"%PDF-1.") && (b'0'..=b'7').contains(&bytes[7]);
    let rest = match bytes.get(8..) {
        Some([b'\r', b'\n', rest @ ..]) | Some([b'\n' | b'\r', rest @ ..]) => Some(rest),
        _ => None,
    };
    let binary_ok = rest.is_some_and(|r| r.len() > 5 && r[0] == b'%' && r[1..5].iter().all(|&b| b > 127));
    if !version_ok || !binary_ok {
        problems.push("6.1.2: header is not %PDF-1.n, EOL, then a comment of four bytes above 127".into());
    }
}

/// 6.1.3: trailer `/ID` of two strings, no `/Encrypt`.
fn check_trailer(doc: &Document, problems: &mut Vec<String>) {
    let id_ok = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .is_ok_and(|ids| ids.len() == 2 && ids.iter().all(|s| s.as_str().is_ok_and(|s| !s.is_empty())));
    if !id_ok {
        problems.push("6.1.3: trailer has no file identifier /ID of two strings".into());
    }
    if doc.trailer.has(b"Encrypt") {
        problems.push("6.1.3: trailer has /Encrypt".into());
    }
}

/// 6.1.7: `/Length` right, no external-file keys, no forbidden filters.
fn check_stream(num: u32, dict: &Dictionary, content_len: usize, problems: &mut Vec<String>) {
    if let Ok(length) = dict.get(b"Length").and_then(Object::as_i64)
        && length != content_len as i64
    {
        problems.push(format!(
            "6.1.7.1: object {num}: /Length {length} but {content_len} bytes of stream data"
        ));
    }
    for key in [&b"F"[..], b"FFilter", b"FDecodeParms"] {
        if dict.has(key) {
            problems.push(format!(
                "6.1.7.1: object {num}: stream has /{}",
                String::from_utf8_lossy(key)
            ));
        }
    }
    for filter in filters(dict) {
        if FORBIDDEN_FILTERS.contains(&filter.as_slice()) {
            problems.push(format!(
                "6.1.7.2: object {num}: filter /{} is not allowed",
                String::from_utf8_lossy(&filter)
            ));
        }
    }
}

fn filters(dict: &Dictionary) -> Vec<Vec<u8>> {
    match dict.get(b"Filter") {
        Ok(Object::Name(name)) => vec![name.clone()],
        Ok(Object::Array(items)) => items
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

/// 6.2.8 and transparency: no Interpolate, Alternates, OPI or soft mask; valid bit depth.
fn check_image(num: u32, dict: &Dictionary, problems: &mut Vec<String>) {
    if dict
        .get(b"Interpolate")
        .and_then(Object::as_bool)
        .is_ok_and(|b| b)
    {
        problems.push(format!("6.2.8: image object {num} has /Interpolate true"));
    }
    for key in [&b"Alternates"[..], b"OPI", b"SMask"] {
        if dict.has(key) {
            problems.push(format!(
                "6.2.8: image object {num} has /{}",
                String::from_utf8_lossy(key)
            ));
        }
    }
    let bits = dict.get(b"BitsPerComponent").and_then(Object::as_i64);
    if !matches!(bits, Ok(1 | 2 | 4 | 8 | 16)) {
        problems.push(format!(
            "6.2.8: image object {num} has BitsPerComponent {bits:?}, not 1, 2, 4, 8 or 16"
        ));
    }
}

/// 6.2.11: fonts embedded; a Type 2 CIDFont has a `CIDToGIDMap`; composite fonts name their CMap.
fn check_font(doc: &Document, num: u32, dict: &Dictionary, problems: &mut Vec<String>) {
    let subtype = dict.get(b"Subtype").and_then(Object::as_name).unwrap_or(b"");
    match subtype {
        b"Type0" => {
            let encoding_ok = matches!(dict.get(b"Encoding"), Ok(Object::Name(n)) if n == b"Identity-H" || n == b"Identity-V")
                || matches!(dict.get(b"Encoding"), Ok(Object::Reference(_)));
            if !encoding_ok {
                problems.push(format!(
                    "6.2.11.3.3: font object {num}: CMap is neither Identity nor embedded"
                ));
            }
        }
        b"Type3" => {}
        _ => {
            let embedded = dict
                .get(b"FontDescriptor")
                .and_then(Object::as_reference)
                .and_then(|id| doc.get_dictionary(id))
                .is_ok_and(|d| d.has(b"FontFile") || d.has(b"FontFile2") || d.has(b"FontFile3"));
            if !embedded {
                problems.push(format!("6.2.11.4.1: font object {num} is not embedded"));
            }
            if subtype == b"CIDFontType2" && !dict.has(b"CIDToGIDMap") {
                problems.push(format!("6.2.11.3.2: CIDFont object {num} has no /CIDToGIDMap"));
            }
        }
    }
}

/// 6.6.2.1 and 6.6.4: an uncompressed UTF-8 XMP packet without `bytes`/`encoding` attributes,
/// identifying PDF/A-2B; its producer and title match the Info dictionary (as PDF/A-1 6.7.3
/// demands and PDF/A-2 readers still expect).
fn check_metadata(
    doc: &Document,
    catalog: &Dictionary,
    info: Option<&Dictionary>,
    problems: &mut Vec<String>,
) {
    let stream = catalog
        .get(b"Metadata")
        .and_then(Object::as_reference)
        .and_then(|id| doc.get_object(id))
        .and_then(Object::as_stream);
    let Ok(stream) = stream else {
        problems.push("6.6.2.1: catalog has no /Metadata stream".into());
        return;
    };
    if !is_name(&stream.dict, b"Type", b"Metadata") || !is_name(&stream.dict, b"Subtype", b"XML") {
        problems.push("6.6.2.1: metadata stream is not /Type /Metadata /Subtype /XML".into());
    }
    if !filters(&stream.dict).is_empty() {
        problems.push("6.6.2.1: metadata stream is compressed; scanwerk writes it plain".into());
        return;
    }
    let Ok(packet) = std::str::from_utf8(&stream.content) else {
        problems.push("6.6.2.1: XMP packet is not UTF-8".into());
        return;
    };
    let header_end = packet.find("?>").unwrap_or(0);
    let header = &packet[..header_end];
    if !packet
        .trim_start_matches('\u{FEFF}')
        .starts_with("<?xpacket begin=")
    {
        problems.push("6.6.2.1: XMP packet header is missing".into());
    } else if header.contains("bytes=") || header.contains("encoding=") {
        problems.push("6.6.2.1: XMP packet header has a bytes or encoding attribute".into());
    }
    if !packet.contains("<x:xmpmeta") || !packet.contains("</rdf:RDF>") {
        problems.push("6.6.2.1: XMP packet has no x:xmpmeta / rdf:RDF body".into());
    }
    let id = xmp::identification(packet);
    if id.part.as_deref() != Some("2") || id.conformance.as_deref() != Some("B") {
        problems.push(format!(
            "6.6.4: XMP identifies part {:?} conformance {:?}, not PDF/A-2B",
            id.part, id.conformance
        ));
    }
    if let Some(info) = info {
        for (key, element) in [(&b"Producer"[..], "pdf:Producer"), (b"Title", "rdf:li")] {
            let value = info.get(key).ok().and_then(text_value);
            if let Some(value) = value {
                let needle = format!(">{}</{element}>", xml_escaped(&value));
                if !packet.contains(&needle) {
                    problems.push(format!(
                        "Info/XMP: Info /{} {value:?} is not the XMP {element}",
                        String::from_utf8_lossy(key)
                    ));
                }
            }
        }
    }
}

/// 6.2.3 and 6.2.4.3: a `GTS_PDFA1` output intent whose profile is ICC v2–v4, display or
/// printer class, RGB/grey/CMYK with a matching `/N`.
fn check_output_intent(doc: &Document, catalog: &Dictionary, problems: &mut Vec<String>) {
    let intents = catalog
        .get(b"OutputIntents")
        .and_then(|o| doc.dereference(o).map(|(_, o)| o))
        .and_then(Object::as_array);
    let intent = intents.ok().and_then(|list| {
        list.iter()
            .filter_map(|o| doc.dereference(o).ok().and_then(|(_, o)| o.as_dict().ok()))
            .find(|d| is_name(d, b"S", b"GTS_PDFA1"))
    });
    let Some(intent) = intent else {
        problems.push("6.2.4.3: no GTS_PDFA1 output intent, so device colour spaces are unbound".into());
        return;
    };
    let profile = intent
        .get(b"DestOutputProfile")
        .and_then(Object::as_reference)
        .and_then(|id| doc.get_object(id))
        .and_then(Object::as_stream);
    let Ok(profile) = profile else {
        problems.push("6.2.3: output intent has no embedded DestOutputProfile".into());
        return;
    };
    let icc = profile
        .decompressed_content()
        .unwrap_or_else(|_| profile.content.clone());
    let ok = icc.len() >= 128 && &icc[36..40] == b"acsp" && icc[8] < 5;
    let class = icc.get(12..16).unwrap_or(b"");
    let space = icc.get(16..20).unwrap_or(b"");
    let n = profile.dict.get(b"N").and_then(Object::as_i64).unwrap_or(0);
    let components = match space {
        b"RGB " => 3,
        b"GRAY" => 1,
        b"CMYK" => 4,
        _ => 0,
    };
    if !ok || !matches!(class, b"mntr" | b"prtr") || components == 0 || components != n {
        problems.push(format!(
            "6.2.3: output profile is not an ICC v2-v4 display/printer profile of /N {n} (class {}, space {})",
            String::from_utf8_lossy(class),
            String::from_utf8_lossy(space)
        ));
    }
}

/// 6.1.13: every page box between 3 and 14,400 units per side.
fn check_page(doc: &Document, number: u32, id: lopdf::ObjectId, problems: &mut Vec<String>) {
    let Ok(page) = doc.get_dictionary(id) else {
        return;
    };
    let media = page.get(b"MediaBox").and_then(Object::as_array);
    let Ok(media) = media else {
        problems.push(format!("page {number}: no /MediaBox"));
        return;
    };
    let v: Vec<f32> = media.iter().filter_map(|o| o.as_float().ok()).collect();
    let sides_ok = v.len() == 4
        && [(v[2] - v[0]).abs(), (v[3] - v[1]).abs()]
            .iter()
            .all(|s| (3.0..=14_400.0).contains(s));
    if !sides_ok {
        problems.push(format!(
            "6.1.13: page {number}: MediaBox {v:?} is not 3 to 14,400 units per side"
        ));
    }
}

fn is_name(dict: &Dictionary, key: &[u8], value: &[u8]) -> bool {
    dict.get(key).and_then(Object::as_name).is_ok_and(|n| n == value)
}

/// A PDF text string as Rust text (UTF-16BE with BOM, or PDFDocEncoding read as Latin-1).
fn text_value(object: &Object) -> Option<String> {
    let bytes = object.as_str().ok()?;
    if let [0xFE, 0xFF, rest @ ..] = bytes {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).ok()
    } else {
        Some(bytes.iter().map(|&b| b as char).collect())
    }
}

fn xml_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdfa::tests::sample;

    #[test]
    fn our_writer_passes() {
        assert_eq!(check(&sample("Grüße")), Vec::<String>::new());
    }

    /// Replaces `from` with `to` of the same length, keeping every offset valid.
    fn patched(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{} not in file", String::from_utf8_lossy(from)));
        let mut out = bytes.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    }

    #[test]
    fn each_lost_property_is_named_with_its_clause() {
        let good = sample("Akte");
        let cases: [(&[u8], &[u8], &str); 7] = [
            (b"%PDF-1.7", b"%PDF-1.9", "6.1.2"),
            (b"/ID", b"/XD", "6.1.3"),
            (b"/Metadata 11 0 R", b"/Metadatx 11 0 R", "6.6.2.1"),
            (b"<pdfaid:part>2<", b"<pdfaid:part>1<", "6.6.4"),
            (b"/GTS_PDFA1", b"/GTS_PDFX1", "6.2.4.3"),
            (b"/CIDToGIDMap", b"/CIDToGIDMaq", "6.2.11.3.2"),
            (b"/FlateDecode", b"/LZWDecode  ", "6.1.7.2"),
        ];
        for (from, to, clause) in cases {
            let problems = check(&patched(&good, from, to));
            assert!(
                problems.iter().any(|p| p.starts_with(clause)),
                "{} → {}: {problems:?}",
                String::from_utf8_lossy(from),
                String::from_utf8_lossy(to)
            );
        }
    }
}
