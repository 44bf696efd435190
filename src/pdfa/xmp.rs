//! The XMP metadata packet: PDF/A identification, Dublin Core, XMP basic, Adobe PDF and scanwerk's
//! own properties, the last declared by a PDF/A extension schema (ISO 19005-2, 6.6).
//!
//! The packet is UTF-8, written uncompressed, with no `bytes` or `encoding` attribute in its header
//! (6.6.2.1) and values that repeat the Info dictionary's exactly (title, producer, creator tool,
//! dates). Everything comes from the arguments; no clock is read.

use std::fmt::Write as _;

/// The scanwerk XMP namespace and its prefix.
pub const NAMESPACE: &str = "https://scanwerk.org/ns/xmp/1.0/";
pub const PREFIX: &str = "scanwerk";

/// One scanwerk property: name, XMP value type, description (for the extension schema).
const PROPERTIES: [(&str, &str, &str); 6] = [
    ("batchId", "Text", "Id of the scan batch the document belongs to"),
    ("documentId", "Text", "Id of the document within its batch"),
    (
        "profile",
        "Text",
        "Scan profile (name and version) the document was processed under",
    ),
    ("operator", "Text", "Operator responsible for the scan"),
    ("pages", "Integer", "Number of pages in the document"),
    (
        "transferNote",
        "Text",
        "Summary of the transfer note (Transfervermerk) for replacement scanning per BSI TR-03138",
    ),
];

/// The namespace of a document's index metadata (the named groups of the profile's barcode
/// pattern, read from its separator sheet), each declared by the extension schema.
pub const INDEX_NAMESPACE: &str = "https://scanwerk.org/ns/xmp/1.0/index/";
pub const INDEX_PREFIX: &str = "scanwerkIndex";

/// What the packet says about a document.
#[derive(Debug, Clone)]
pub struct Metadata<'a> {
    pub title: &'a str,
    pub producer: &'a str,
    pub creator_tool: &'a str,
    /// ISO 8601 date-time with offset, e.g. `2026-11-20T09:30:00Z`.
    pub date: &'a str,
    pub batch_id: &'a str,
    pub document_id: &'a str,
    pub profile: &'a str,
    pub operator: &'a str,
    pub pages: usize,
    pub transfer_note: &'a str,
    /// Index metadata: names are the pattern's group names (XML names by regex syntax).
    pub index: &'a std::collections::BTreeMap<String, String>,
}

/// The complete packet, marked read-only (`end="r"`).
pub fn packet(m: &Metadata) -> String {
    let mut x = String::with_capacity(8192);
    x.push_str("<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    x.push_str("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n");
    x.push_str("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");
    x.push_str(
        "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
         <pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n\
         </rdf:Description>\n",
    );
    let _ = write!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n\
         <dc:format>application/pdf</dc:format>\n\
         <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\n\
         </rdf:Description>\n",
        escape(m.title)
    );
    let _ = write!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n\
         <xmp:CreateDate>{d}</xmp:CreateDate>\n<xmp:ModifyDate>{d}</xmp:ModifyDate>\n\
         <xmp:MetadataDate>{d}</xmp:MetadataDate>\n<xmp:CreatorTool>{}</xmp:CreatorTool>\n\
         </rdf:Description>\n",
        escape(m.creator_tool),
        d = escape(m.date)
    );
    let _ = write!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
         <pdf:Producer>{}</pdf:Producer>\n</rdf:Description>\n",
        escape(m.producer)
    );
    let _ = writeln!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:{PREFIX}=\"{NAMESPACE}\">"
    );
    let pages = m.pages.to_string();
    let values = [
        m.batch_id,
        m.document_id,
        m.profile,
        m.operator,
        &pages,
        m.transfer_note,
    ];
    for ((name, _, _), value) in PROPERTIES.iter().zip(values) {
        let _ = writeln!(x, "<{PREFIX}:{name}>{}</{PREFIX}:{name}>", escape(value));
    }
    x.push_str("</rdf:Description>\n");
    if !m.index.is_empty() {
        let _ = writeln!(
            x,
            "<rdf:Description rdf:about=\"\" xmlns:{INDEX_PREFIX}=\"{INDEX_NAMESPACE}\">"
        );
        for (name, value) in m.index {
            let _ = writeln!(
                x,
                "<{INDEX_PREFIX}:{name}>{}</{INDEX_PREFIX}:{name}>",
                escape(value)
            );
        }
        x.push_str("</rdf:Description>\n");
    }
    extension_schema(&mut x, m.index);
    // No padding: the archive copy is sealed, never edited in place, and every byte of a
    // 10,000-document batch counts.
    x.push_str("</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"r\"?>");
    x
}

/// The PDF/A extension schema container declaring every scanwerk property and the document's
/// index metadata (6.6.2.3.3).
fn extension_schema(x: &mut String, index: &std::collections::BTreeMap<String, String>) {
    x.push_str(
        "<rdf:Description rdf:about=\"\" \
         xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" \
         xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" \
         xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n\
         <pdfaExtension:schemas><rdf:Bag>\n",
    );
    let own = PROPERTIES
        .map(|(name, value_type, description)| (name.to_string(), value_type, description.to_string()));
    schema(
        x,
        (
            "scanwerk replacement-scanning metadata",
            NAMESPACE,
            PREFIX,
            "internal",
        ),
        &own,
    );
    if !index.is_empty() {
        let properties: Vec<(String, &str, String)> = index
            .keys()
            .map(|name| {
                let description = format!("Index value {name} read from the document's separator sheet");
                (name.clone(), "Text", description)
            })
            .collect();
        let title = "scanwerk document index metadata from separator sheets";
        schema(x, (title, INDEX_NAMESPACE, INDEX_PREFIX, "external"), &properties);
    }
    x.push_str("</rdf:Bag></pdfaExtension:schemas>\n</rdf:Description>\n");
}

/// One schema of the container: (title, namespace, prefix, category of its properties) and its
/// properties (name, type, description).
fn schema(
    x: &mut String,
    (title, namespace, prefix, category): (&str, &str, &str, &str),
    properties: &[(String, &str, String)],
) {
    let _ = writeln!(
        x,
        "<rdf:li rdf:parseType=\"Resource\">\n<pdfaSchema:schema>{title}</pdfaSchema:schema>\n\
         <pdfaSchema:namespaceURI>{namespace}</pdfaSchema:namespaceURI>\n\
         <pdfaSchema:prefix>{prefix}</pdfaSchema:prefix>\n<pdfaSchema:property><rdf:Seq>"
    );
    for (name, value_type, description) in properties {
        let _ = writeln!(
            x,
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name>\
             <pdfaProperty:valueType>{value_type}</pdfaProperty:valueType>\
             <pdfaProperty:category>{category}</pdfaProperty:category>\
             <pdfaProperty:description>{}</pdfaProperty:description></rdf:li>",
            escape(description)
        );
    }
    x.push_str("</rdf:Seq></pdfaSchema:property>\n</rdf:li>\n");
}

/// Escapes XML markup and drops characters XML 1.0 does not allow (control characters); also
/// right for HTML text and double-quoted attributes (the QA report).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// What a reader finds in a packet: enough for `verify`'s PDF/A self-check.
#[derive(Debug, Default, PartialEq)]
pub struct Identification {
    pub part: Option<String>,
    pub conformance: Option<String>,
}

/// Reads `pdfaid:part` and `pdfaid:conformance` from a packet, in element or attribute form.
pub fn identification(packet: &str) -> Identification {
    let find = |name: &str| {
        let element = format!("<pdfaid:{name}>");
        if let Some(start) = packet.find(&element) {
            let rest = &packet[start + element.len()..];
            return rest.find('<').map(|end| rest[..end].trim().to_string());
        }
        let attribute = format!("pdfaid:{name}=\"");
        let start = packet.find(&attribute)? + attribute.len();
        let rest = &packet[start..];
        rest.find('"').map(|end| rest[..end].to_string())
    };
    Identification {
        part: find("part"),
        conformance: find("conformance"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let index =
            std::collections::BTreeMap::from([("file_number".to_string(), "2026-3119/2 <A&B>".to_string())]);
        packet(&Metadata {
            title: "Akte <1> & \"Grüße\"\u{1}",
            producer: "scanwerk 0.1.0",
            creator_tool: "scanwerk 0.1.0 (ingest)",
            date: "2026-11-20T09:30:00Z",
            batch_id: "b-1",
            document_id: "akte",
            profile: "standard 1.0.0",
            operator: "Erika Mustermann",
            pages: 3,
            transfer_note: "3 pages",
            index: &index,
        })
    }

    #[test]
    fn header_has_no_bytes_or_encoding_attribute() {
        // 6.6.2.1-2/-3
        let p = sample();
        let header = &p[..p.find("?>").unwrap()];
        assert!(
            !header.contains("bytes=") && !header.contains("encoding="),
            "{header}"
        );
        assert!(p.ends_with("<?xpacket end=\"r\"?>"));
    }

    #[test]
    fn identifies_pdfa_2b() {
        // 6.6.4-1..5
        let id = identification(&sample());
        assert_eq!(id.part.as_deref(), Some("2"));
        assert_eq!(id.conformance.as_deref(), Some("B"));
    }

    #[test]
    fn values_are_escaped_and_control_characters_dropped() {
        let p = sample();
        assert!(
            p.contains("Akte &lt;1&gt; &amp; &quot;Grüße&quot;</rdf:li>"),
            "{p}"
        );
        assert!(!p.contains('\u{1}'));
    }

    #[test]
    fn every_scanwerk_property_is_declared() {
        // 6.6.2.3.1: custom properties need an extension schema entry.
        let p = sample();
        for (name, value_type, _) in PROPERTIES {
            assert!(p.contains(&format!("<{PREFIX}:{name}>")), "{name} used");
            assert!(
                p.contains(&format!(
                    "<pdfaProperty:name>{name}</pdfaProperty:name><pdfaProperty:valueType>{value_type}<"
                )),
                "{name} declared"
            );
        }
        // The index metadata from a separator sheet, in its own namespace, declared too.
        assert!(
            p.contains("<scanwerkIndex:file_number>2026-3119/2 &lt;A&amp;B&gt;</scanwerkIndex:file_number>"),
            "{p}"
        );
        assert!(p.contains(&format!(
            "<pdfaSchema:namespaceURI>{INDEX_NAMESPACE}</pdfaSchema:namespaceURI>"
        )));
        assert!(
            p.contains("<pdfaProperty:name>file_number</pdfaProperty:name><pdfaProperty:valueType>Text<")
        );
    }
}
