//! Where the time of a batch goes: CPU seconds per stage, summed over threads (`ingest
//! --timings`, `run --json`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// CPU time per stage, summed over threads, as the operator's `--timings` and the `--json`
/// summaries report it.
#[derive(Debug, Default)]
pub struct Timings {
    nanos: [AtomicU64; Stage::COUNT],
}

/// The stages timed.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// Reading and hashing input files.
    Read = 0,
    Decode,
    /// Measuring, blank detection, quality assessment.
    Prepare,
    /// Tesseract: orientation, recognition (and the skew measurement on the OCR copy).
    Ocr,
    /// Page image encoding for the PDF.
    Encode,
    /// Writing the PDFs: text layer, page objects, PAdES signature.
    Compose,
    /// Protocol, hash tree, signatures, manifest, publication.
    Seal,
}

impl Stage {
    const COUNT: usize = 7;
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Read,
        Stage::Decode,
        Stage::Prepare,
        Stage::Ocr,
        Stage::Encode,
        Stage::Compose,
        Stage::Seal,
    ];

    pub fn name(self) -> &'static str {
        ["read", "decode", "prepare", "ocr", "encode", "compose", "seal"][self as usize]
    }
}

/// CPU time this thread has used so far.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Timings {
    pub fn add(&self, stage: Stage, cpu: Duration) {
        self.nanos[stage as usize].fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Runs `f`, counting this thread's CPU time to `stage`.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = thread_cpu();
        let out = f();
        self.add(stage, thread_cpu().saturating_sub(start));
        out
    }

    /// Seconds per stage, in stage order.
    pub fn seconds(&self) -> std::collections::BTreeMap<&'static str, f64> {
        Stage::ALL
            .iter()
            .map(|&s| {
                (
                    s.name(),
                    self.nanos[s as usize].load(Ordering::Relaxed) as f64 / 1e9,
                )
            })
            .collect()
    }
}
