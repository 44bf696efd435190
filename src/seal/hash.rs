//! SHA-256 and SHA-512 together: of byte slices, of files, and of bytes as they are written.
//!
//! Both digests are always taken in one pass, so no file is read twice to seal it.

use std::io::{self, Read, Write};
use std::path::Path;

use der::asn1::ObjectIdentifier;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The digests recorded for every file, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    pub bytes: u64,
    pub sha256: String,
    pub sha512: String,
}

/// Incremental SHA-256 + SHA-512.
#[derive(Default, Clone)]
pub struct Hasher {
    sha256: Sha256,
    sha512: Sha512,
    bytes: u64,
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        self.sha512.update(data);
        self.bytes += data.len() as u64;
    }

    pub fn finish(self) -> Digests {
        Digests {
            bytes: self.bytes,
            sha256: hex(&self.sha256.finalize()),
            sha512: hex(&self.sha512.finalize()),
        }
    }
}

impl Digests {
    pub fn of(data: &[u8]) -> Digests {
        let mut h = Hasher::default();
        h.update(data);
        h.finish()
    }

    pub fn of_file(path: &Path) -> io::Result<Digests> {
        Digests::of_reader(&mut std::fs::File::open(path)?)
    }

    /// The digests of everything `reader` yields, read in 64 KiB pieces.
    pub fn of_reader(reader: &mut impl Read) -> io::Result<Digests> {
        let file = reader;
        let mut h = Hasher::default();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(h.finish());
            }
            h.update(&buf[..n]);
        }
    }
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::default(),
        }
    }

    pub fn finish(self) -> (W, Digests) {
        (self.inner, self.hasher.finish())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A hash named by a signature, a certificate or a time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 3] = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// The NIST algorithm identifier (`id-sha256` …).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha256 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
            HashAlgorithm::Sha384 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2"),
            HashAlgorithm::Sha512 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3"),
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
        HashAlgorithm::ALL.into_iter().find(|h| h.oid() == *oid)
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha-256",
            HashAlgorithm::Sha384 => "sha-384",
            HashAlgorithm::Sha512 => "sha-512",
        }
    }

    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }

    pub fn hasher(self) -> RunningHash {
        match self {
            HashAlgorithm::Sha256 => RunningHash::Sha256(Sha256::new()),
            HashAlgorithm::Sha384 => RunningHash::Sha384(Sha384::new()),
            HashAlgorithm::Sha512 => RunningHash::Sha512(Sha512::new()),
        }
    }
}

/// A running hash of one [`HashAlgorithm`].
#[derive(Clone)]
pub enum RunningHash {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl RunningHash {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            RunningHash::Sha256(h) => h.update(data),
            RunningHash::Sha384(h) => h.update(data),
            RunningHash::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            RunningHash::Sha256(h) => h.finalize().to_vec(),
            RunningHash::Sha384(h) => h.finalize().to_vec(),
            RunningHash::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = Digests::of(b"abc");
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(d.sha512.starts_with("ddaf35a193617aba"));
        assert_eq!(d.bytes, 3);
    }

    #[test]
    fn writer_hashes_what_it_writes() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (bytes, d) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(d, Digests::of(b"abc"));
    }
}
