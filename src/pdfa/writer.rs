//! PDF file framing for a streaming writer: header, indirect objects, cross-reference table, trailer.
//!
//! Objects are serialised with lopdf's own [`lopdf::Writer::write_object`] and written as soon as
//! they are made, so a document of any length holds only one page in memory. Ids are reserved up
//! front; the trailer `/ID` is derived from the bytes before it, so equal content gives equal files.

use std::collections::BTreeMap;
use std::io::{self, Write};

use lopdf::{Object, ObjectId, dictionary};
use sha2::{Digest, Sha256};

/// `%PDF-1.7` and a comment of four bytes above 127, marking the file as binary (ISO 19005-2 6.1.2).
const HEADER: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";

pub struct PdfFile<W: Write> {
    out: W,
    position: u64,
    digest: Sha256,
    offsets: BTreeMap<u32, u64>,
}

impl<W: Write> PdfFile<W> {
    pub fn start(out: W) -> io::Result<Self> {
        let mut file = PdfFile {
            out,
            position: 0,
            digest: Sha256::new(),
            offsets: BTreeMap::new(),
        };
        file.emit(HEADER)?;
        Ok(file)
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.digest.update(bytes);
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// Writes `N 0 obj … endobj`. Each id must be written once.
    pub fn write(&mut self, id: ObjectId, object: &Object) -> io::Result<()> {
        debug_assert!(!self.offsets.contains_key(&id.0), "object {} written twice", id.0);
        self.offsets.insert(id.0, self.position);
        let mut buf = format!("{} {} obj\n", id.0, id.1).into_bytes();
        if lopdf::Writer::need_separator(object) {
            buf.push(b' ');
        }
        lopdf::Writer::write_object(&mut buf, object)?;
        if lopdf::Writer::need_end_separator(object) && !matches!(object, Object::Stream(_)) {
            buf.push(b' ');
        }
        buf.extend_from_slice(b"\nendobj\n");
        self.emit(&buf)
    }

    /// Writes the cross-reference table and trailer and returns the sink.
    pub fn finish(mut self, root: ObjectId, info: ObjectId) -> io::Result<W> {
        let xref_at = self.position;
        let id = self.digest.clone().finalize();
        let mut table = String::from("xref\n");
        let mut sections: Vec<(u32, Vec<u64>)> = vec![(0, vec![])];
        for (&num, &offset) in &self.offsets {
            match sections.last_mut() {
                Some((start, entries)) if *start + entries.len() as u32 + u32::from(*start == 0) == num => {
                    entries.push(offset)
                }
                _ => sections.push((num, vec![offset])),
            }
        }
        for (start, entries) in &sections {
            let count = entries.len() + usize::from(*start == 0);
            table.push_str(&format!("{start} {count}\n"));
            if *start == 0 {
                table.push_str("0000000000 65535 f \n");
            }
            for offset in entries {
                table.push_str(&format!("{offset:010} 00000 n \n"));
            }
        }
        let file_id = Object::String(id[..16].to_vec(), lopdf::StringFormat::Hexadecimal);
        let trailer = dictionary! {
            "Size" => self.offsets.keys().max().map_or(1, |m| m + 1) as i64,
            "Root" => root,
            "Info" => info,
            "ID" => vec![file_id.clone(), file_id],
        };
        table.push_str("trailer\n");
        let mut buf = table.into_bytes();
        lopdf::Writer::write_object(&mut buf, &Object::Dictionary(trailer))?;
        buf.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        self.emit(&buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}
