//! Confidentiality at "hoch" (TR-RESISCAN VT.H.3): nothing of a batch is written outside its
//! staging folder and the archive. strace records every file the process and its threads open
//! for writing, create, rename, link or remove, with the directory each relative path is
//! resolved against; every one must lie in the archive (or be a device). The temp directory
//! stays empty, and no staging folder or working copy is left when the batch is done.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

/// Every path `strace -f -y` shows the command writing, creating, renaming, linking or removing.
fn written_paths(trace: &str, cwd: &Path) -> Vec<PathBuf> {
    let quoted = regex::Regex::new(r#"(?:(?:\d+|AT_FDCWD)<([^>]+)>,\s*)?"((?:[^"\\]|\\.)*)""#).unwrap();
    let mut paths = Vec::new();
    for line in trace.lines() {
        let call = line.split_once(' ').map_or(line, |(_, rest)| rest.trim_start());
        let writes = call.starts_with("open")
            && ["O_WRONLY", "O_RDWR", "O_CREAT"].iter().any(|f| call.contains(f))
            || [
                "mkdir", "rename", "link", "symlink", "unlink", "creat", "truncate",
            ]
            .iter()
            .any(|c| call.starts_with(c));
        if !writes || call.contains("= -1 ") {
            continue;
        }
        let arguments = call.rsplit_once(" = ").map_or(call, |(args, _)| args);
        for m in quoted.captures_iter(arguments) {
            let rel = Path::new(m.get(2).unwrap().as_str());
            let base = m.get(1).map_or(cwd.to_path_buf(), |d| PathBuf::from(d.as_str()));
            paths.push(if rel.is_absolute() {
                rel.to_path_buf()
            } else {
                base.join(rel)
            });
        }
    }
    paths
}

#[test]
fn at_hoch_nothing_of_a_batch_is_written_outside_the_archive() {
    let dir = TempDir::new("confidential");
    let keys = keygen_with(&dir.dir("keys"), &["--cert"]);
    let (archive, tmp, cwd) = (dir.dir("archive"), dir.dir("tmp"), dir.dir("cwd"));
    let trace = dir.join("trace.txt");
    let strace = |args: &[&str]| {
        let out = Command::new("strace")
            .args(["-f", "-qq", "-y", "-e", "signal=none", "-o", trace.to_str().unwrap()])
            .args(["-e", "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,truncate"])
            .arg(BIN)
            .args(args)
            .current_dir(&cwd)
            .env("TMPDIR", &tmp)
            .output()
            .expect("strace is installed by scripts/setup.sh");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        written_paths(&std::fs::read_to_string(&trace).unwrap(), &cwd)
    };
    let mut written = strace(&[
        "ingest",
        project("testdata/demo-batch").to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--key",
        keys.private.to_str().unwrap(),
        "--cert",
        keys.cert.to_str().unwrap(),
        "--profile",
        "hoch",
    ]);
    let review = archive.join(".review/demo-2026-001");
    crate::review::accept_all(&review, "Anna");
    written.extend(strace(&["review", "seal", review.to_str().unwrap()]));
    assert!(written.len() > 50, "strace saw the writes: {}", written.len());
    let outside: Vec<&PathBuf> = written
        .iter()
        .filter(|p| !p.starts_with(&archive) && !p.starts_with("/dev"))
        .collect();
    assert!(outside.is_empty(), "written outside the archive: {outside:?}");
    assert_eq!(
        entries(&tmp),
        Vec::<String>::new(),
        "the temp directory stays empty"
    );
    assert_eq!(entries(&cwd), Vec::<String>::new());
    // Done: the batch and its evidence only; no staging folder, review folder or working copy.
    let left: Vec<String> = entries(&archive);
    assert_eq!(left, [".review", "demo-2026-001"], "{left:?}");
    assert_eq!(
        entries(&archive.join(".review")),
        Vec::<String>::new(),
        "the review folder is gone"
    );
    assert!(
        files(&archive.join("demo-2026-001"))
            .iter()
            .all(|f| !f.contains(".thumbnails") && !f.contains(".part"))
    );
}
