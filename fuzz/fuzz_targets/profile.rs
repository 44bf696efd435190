//! The profile parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scanwerk::fuzzing::profile(data);
});
