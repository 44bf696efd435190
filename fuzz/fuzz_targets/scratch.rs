//! A scratch folder of this fuzzing process, made once.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("scanwerk-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir
    })
}

/// A copy of the published batch `SCANWERK_FUZZ_BATCH` names (scripts/fuzz.sh makes one).
#[allow(dead_code)]
pub fn batch() -> &'static Path {
    static BATCH: OnceLock<PathBuf> = OnceLock::new();
    BATCH.get_or_init(|| {
        let from = std::env::var_os("SCANWERK_FUZZ_BATCH")
            .expect("SCANWERK_FUZZ_BATCH names a published batch (scripts/fuzz.sh sets it)");
        let to = dir().join("batch");
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(&to)
            .status()
            .expect("cp runs");
        assert!(status.success(), "cannot copy the batch");
        to
    })
}
