//! The staging journal reader a resumed ingest uses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scanwerk::fuzzing::journal(scratch::dir(), data);
});

#[path = "scratch.rs"]
mod scratch;
