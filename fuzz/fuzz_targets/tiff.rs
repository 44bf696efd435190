//! The tiff reader: a scan file as a batch holds it, read and its first pages decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scanwerk::fuzzing::scan_file(scratch::dir(), data);
});

#[path = "scratch.rs"]
mod scratch;
