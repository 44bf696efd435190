//! The readers `verify` uses: manifest, hash tree, protocol, document record and the bag's
//! manifests, one replaced per input (the first byte chooses which) in a published batch.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scanwerk::fuzzing::published_file(scratch::batch(), data);
});

#[path = "scratch.rs"]
mod scratch;
