//! PDF file framing for a streaming writer: header, indirect objects, cross-reference table, trailer.
//!
//! Objects are serialised with lopdf's own [`lopdf::Writer::write_object`] and written as soon as
//! they are made, so a document of any length holds only one page in memory. Ids are reserved up
//! front; the trailer `/ID` is derived from the bytes before it, so equal content gives equal files.

use std::collections::BTreeMap;
use std::io::{self, Write};

use lopdf::{Object, ObjectId, dictionary};
use sha2::{Digest, Sha256};

use crate::seal::hash::{HashAlgorithm, RunningHash};

/// `%PDF-1.7` and a comment of four bytes above 127, marking the file as binary (ISO 19005-2 6.1.2).
const HEADER: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";

pub struct PdfFile<W: Write> {
    out: W,
    position: u64,
    digest: Sha256,
    offsets: BTreeMap<u32, u64>,
    /// The signature's hash of every byte so far, for a signed file.
    signed: Option<RunningHash>,
}

impl<W: Write> PdfFile<W> {
    /// Starts a file; `signed` names the hash of a signature the file will end with.
    pub fn start(out: W, signed: Option<HashAlgorithm>) -> io::Result<Self> {
        let mut file = PdfFile {
            out,
            position: 0,
            digest: Sha256::new(),
            offsets: BTreeMap::new(),
            signed: signed.map(HashAlgorithm::hasher),
        };
        file.emit(HEADER)?;
        Ok(file)
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.digest.update(bytes);
        if let Some(h) = &mut self.signed {
            h.update(bytes);
        }
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
        let tail = self.xref_and_trailer(xref_at, &id, root, info)?;
        self.emit(&tail)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Ends the file with the signature value object `value`: `dict_head` is its dictionary up to
    /// where `/Contents` and `/ByteRange` follow, `reserve` the bytes kept for the signature, and
    /// `sign` turns the digest of the signed ranges into the DER signature.
    pub fn finish_signed(
        mut self,
        root: ObjectId,
        info: ObjectId,
        value: ObjectId,
        dict_head: Vec<u8>,
        reserve: usize,
        sign: impl FnOnce(&[u8]) -> io::Result<Vec<u8>>,
    ) -> io::Result<W> {
        let signed = self
            .signed
            .take()
            .ok_or_else(|| io::Error::other("file not started for a signature"))?;
        let object_at = self.position;
        self.offsets.insert(value.0, object_at);
        let mut head = format!("{} {} obj\n", value.0, value.1).into_bytes();
        head.extend_from_slice(&dict_head);
        head.extend_from_slice(b"/Contents ");
        let placeholder = format!("<{}>", "0".repeat(2 * reserve));
        let before = object_at + head.len() as u64;
        let after = before + placeholder.len() as u64;
        // The tail's length is part of the tail (in /ByteRange): settle it by iterating.
        let mut tail_len = 0u64;
        let tail = loop {
            let close = format!("/ByteRange [0 {before} {after} {tail_len}]>>\nendobj\n");
            let xref_at = after + close.len() as u64;
            let mut id = self.digest.clone();
            id.update(&head);
            id.update(placeholder.as_bytes());
            id.update(close.as_bytes());
            let mut tail = close.into_bytes();
            tail.extend(self.xref_and_trailer(xref_at, &id.finalize(), root, info)?);
            if tail.len() as u64 == tail_len {
                break tail;
            }
            tail_len = tail.len() as u64;
        };
        let mut digest = signed;
        digest.update(&head);
        digest.update(&tail);
        let signature = sign(&digest.finish())?;
        if signature.len() > reserve {
            return Err(io::Error::other(format!(
                "the signature takes {} bytes, more than the {reserve} reserved",
                signature.len()
            )));
        }
        let mut contents = crate::seal::hash::hex(&signature).into_bytes();
        contents.resize(2 * reserve, b'0');
        self.emit(&head)?;
        self.emit(b"<")?;
        self.emit(&contents)?;
        self.emit(b">")?;
        self.emit(&tail)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// The cross-reference table (for objects written so far) and the trailer.
    fn xref_and_trailer(
        &self,
        xref_at: u64,
        id: &[u8],
        root: ObjectId,
        info: ObjectId,
    ) -> io::Result<Vec<u8>> {
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
        Ok(buf)
    }
}
