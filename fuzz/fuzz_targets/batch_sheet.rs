//! The batch sheet parser (`batch.toml`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scanwerk::fuzzing::batch_sheet(scratch::dir(), data);
});

#[path = "scratch.rs"]
mod scratch;
