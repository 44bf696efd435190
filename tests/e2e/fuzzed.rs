//! Inputs the fuzzers found (`fuzz/regressions/TARGET/`, see scripts/fuzz.sh) replayed through the
//! same functions the fuzz targets call (`scanwerk::fuzzing`): each must return — not panic, and
//! not take longer than the fuzzers' 10 s per input. Every target has inputs there; the files that
//! once crashed or hung scanwerk are named after what they did.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::*;

const TARGETS: &[&str] = &[
    "tiff",
    "png",
    "jpeg",
    "pdf",
    "batch_sheet",
    "profile",
    "journal",
    "verify",
];

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = project(&format!("fuzz/regressions/{target}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// Runs `feed` on every input of `target` in a thread of its own, each within 10 s.
fn replay(target: &str, feed: impl Fn(&[u8]) + Send + Sync + Clone + 'static) -> usize {
    let files = inputs(target);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let (done, wait) = mpsc::channel();
        let feed = feed.clone();
        let name = file.display().to_string();
        let worker = std::thread::spawn(move || {
            feed(&data);
            let _ = done.send(());
        });
        match wait.recv_timeout(Duration::from_secs(10)) {
            Ok(()) => worker.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!(
                    "{name}: panicked: {:?}",
                    worker.join().err().and_then(|p| p.downcast::<String>().ok())
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: still running after 10 s"),
        }
    }
    files.len()
}

#[test]
fn every_input_the_fuzzers_kept_is_read_without_panic_or_hang() {
    let scratch = TempDir::new("fuzzed");
    let dir = scratch.dir("scratch");
    let keys = keygen(&scratch.dir("keys"));
    let archive = scratch.dir("archive");
    ingest_demo(&archive, &keys.private, "standard");
    let batch: PathBuf = archive.join("demo-2026-001");
    let mut replayed = Vec::new();
    for target in TARGETS {
        let dir = dir.clone();
        let batch = batch.clone();
        let n = match *target {
            "tiff" | "png" | "jpeg" | "pdf" => replay(target, move |d| scanwerk::fuzzing::scan_file(&dir, d)),
            "batch_sheet" => replay(target, move |d| scanwerk::fuzzing::batch_sheet(&dir, d)),
            "profile" => replay(target, scanwerk::fuzzing::profile),
            "journal" => replay(target, move |d| scanwerk::fuzzing::journal(&dir, d)),
            _ => replay(target, move |d| scanwerk::fuzzing::published_file(&batch, d)),
        };
        replayed.push(format!("{target} {n}"));
        assert!(n > 0, "fuzz/regressions/{target} holds no input");
    }
    eprintln!("replayed: {}", replayed.join(", "));
    // The verify target put every file back: the batch still verifies.
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let _: &Path = &dir;
}
