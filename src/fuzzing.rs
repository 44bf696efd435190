//! What the fuzz targets in `fuzz/` feed their bytes to, and what the normal test suite replays
//! the inputs they found in `fuzz/regressions/` through: each function takes untrusted bytes the
//! way scanwerk meets them (a scan file in a batch folder, a batch sheet, a profile, a staging
//! journal, a file of a published batch under `verify`) and must return, never panic, hang or
//! exhaust memory. Errors are the expected outcome for most inputs and are dropped.

use std::path::Path;

use crate::decode::limits::{self, InputLimits};

/// Pages of one fuzzed file that are decoded: enough to reach every page-level path.
const PAGES: u32 = 4;

/// A scan file (TIFF, PNG, JPEG or PDF, told by its content) as a batch holds it: read, hashed
/// and counted ([`limits::read_source`]), then its first pages decoded within the default input
/// limits ([`limits::open_page`]). `dir` is a scratch folder the file is written into.
pub fn scan_file(dir: &Path, data: &[u8]) {
    let path = dir.join("scan");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let limits = InputLimits::default();
    if let Ok((source, pages)) = limits::read_source(&path, "scan", &limits) {
        for index in 0..pages.min(PAGES) {
            let _ = limits::open_page(&source, index, &limits);
        }
    }
}

/// A batch sheet (`batch.toml`) as `run` and `ingest` read it.
pub fn batch_sheet(dir: &Path, data: &[u8]) {
    if std::fs::write(dir.join(crate::layout::SHEET), data).is_ok() {
        let _ = crate::batch::sheet_problem(dir);
    }
}

/// A profile file's text.
pub fn profile(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::profile::parse(text, "fuzz.toml", None);
    }
}

/// A staging folder's journal, as a resumed ingest reads it.
pub fn journal(dir: &Path, data: &[u8]) {
    if std::fs::write(dir.join(crate::journal::FILE), data).is_ok() {
        let journal = crate::journal::Journal::open(dir);
        let _ = journal.entries();
    }
}

/// The files of a published batch `verify` reads, chosen by the first byte.
pub const PUBLISHED_FILES: &[&str] = &[
    "data/manifest.json",
    "data/hashtree.json",
    "data/protocol.json",
    "data/documents/akte.json",
    "manifest-sha256.txt",
    "bag-info.txt",
    "tagmanifest-sha256.txt",
];

/// One file of the published batch `batch` (a copy the caller owns) replaced by `data[1..]`,
/// the file chosen by `data[0]`; the batch verified, then the file put back.
pub fn published_file(batch: &Path, data: &[u8]) {
    let Some((&which, content)) = data.split_first() else {
        return;
    };
    let path = batch.join(PUBLISHED_FILES[usize::from(which) % PUBLISHED_FILES.len()]);
    let Ok(original) = std::fs::read(&path) else {
        return;
    };
    if std::fs::write(&path, content).is_ok() {
        let _ = crate::verify::verify(batch, None, &[]);
    }
    std::fs::write(&path, original).expect("the batch copy is writable");
}
