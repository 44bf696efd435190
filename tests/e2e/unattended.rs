//! Unattended runs: `scanwerk run` over an inbox, killed with SIGKILL at random moments and run
//! again, two runs at once, and an inbox full of bad input beside good batches.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

/// Copies the demo batch into `inbox/<folder>` with batch id `id`.
fn add_batch(inbox: &Path, folder: &str, id: &str) {
    let dir = inbox.join(folder);
    copy_tree(&project("testdata/demo-batch"), &dir);
    let sheet = std::fs::read_to_string(dir.join("batch.toml")).unwrap();
    let sheet: String = sheet
        .lines()
        .map(|l| {
            if l.starts_with("id =") {
                format!("id = \"{id}\"\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.join("batch.toml"), sheet).unwrap();
}

fn run_args<'a>(inbox: &'a Path, archive: &'a Path, key: &'a Path) -> Vec<&'a str> {
    vec![
        "run",
        "--inbox",
        inbox.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--profile",
        "image-only",
        "--threads",
        "1",
        "--json",
    ]
}

/// Every entry directly in `dir`, sorted (hidden ones too).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asserts `copy` holds exactly the demo batch's files, byte for byte (but the sheet's id line).
fn same_input(copy: &Path) {
    let demo = project("testdata/demo-batch");
    let (ours, theirs) = (files(&demo), files(copy));
    assert_eq!(ours, theirs, "{}", copy.display());
    for rel in ours.iter().filter(|r| !r.ends_with("batch.toml")) {
        assert!(
            std::fs::read(demo.join(rel)).unwrap() == std::fs::read(copy.join(rel)).unwrap(),
            "{rel} changed"
        );
    }
}

/// A small xorshift generator: the test prints its seed, so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_publishes_each_batch_once() {
    let (inbox, archive, keydir) = (
        TempDir::new("kill-inbox"),
        TempDir::new("kill-archive"),
        TempDir::new("kill-keys"),
    );
    let keys = keygen(keydir.path());
    let n = 16;
    for i in 1..=n {
        add_batch(inbox.path(), &format!("b{i:02}"), &format!("kill-{i:02}"));
    }
    let seed = std::env::var("SCANWERK_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill test seed {seed} (SCANWERK_KILL_SEED to replay)");
    let mut rng = Rng(seed);
    let args = run_args(inbox.path(), archive.path(), &keys.private);
    for _ in 0..20 {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.next(450)));
        let _ = child.kill();
        child.wait().unwrap();
    }
    let out = scanwerk(&args);
    assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", stderr(&out));

    let expected: Vec<String> = (1..=n).map(|i| format!("kill-{i:02}")).collect();
    assert_eq!(
        entries(archive.path()),
        expected,
        "seed {seed}: each batch once, no staging left"
    );
    for id in &expected {
        let out = scanwerk(&[
            "verify",
            archive.join(id).to_str().unwrap(),
            "--trust",
            keys.public.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "seed {seed}: {id}: {}", stderr(&out));
    }
    let folders: Vec<String> = (1..=n).map(|i| format!("b{i:02}")).collect();
    assert_eq!(
        entries(&inbox.join("done")),
        folders,
        "seed {seed}: every input in done/, once"
    );
    assert_eq!(
        entries(&inbox.join("processing")),
        Vec::<String>::new(),
        "seed {seed}: no claims left"
    );
    assert_eq!(
        entries(&inbox.join("failed")),
        Vec::<String>::new(),
        "seed {seed}"
    );
    assert_eq!(
        entries(inbox.path()),
        vec!["done", "failed", "processing"],
        "seed {seed}"
    );
    for folder in &folders {
        same_input(&inbox.join(&format!("done/{folder}")));
    }
}

#[test]
fn two_runs_at_once_publish_each_batch_exactly_once() {
    let (inbox, archive, keydir) = (
        TempDir::new("two-inbox"),
        TempDir::new("two-archive"),
        TempDir::new("two-keys"),
    );
    let keys = keygen(keydir.path());
    let n = 8;
    for i in 1..=n {
        add_batch(inbox.path(), &format!("b{i}"), &format!("two-{i}"));
    }
    let args = run_args(inbox.path(), archive.path(), &keys.private);
    let spawn = || {
        Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        stderr(&a),
        stderr(&b)
    );
    let published = |out: &std::process::Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["batch_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (pa, pb) = (published(&a), published(&b));
    let mut all: Vec<String> = pa.iter().chain(&pb).cloned().collect();
    all.sort();
    let expected: Vec<String> = (1..=n).map(|i| format!("two-{i}")).collect();
    assert_eq!(
        all, expected,
        "each batch published by exactly one run: {pa:?} / {pb:?}"
    );
    assert_eq!(entries(archive.path()), expected);
    assert_eq!(entries(&inbox.join("done")).len(), n);
}

/// A PNG whose header claims `width` × `height` pixels, with a tiny zlib stream as its data.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn bad_input_is_quarantined_with_a_reason_while_good_batches_are_published() {
    let (inbox, archive, keydir) = (
        TempDir::new("bad-inbox"),
        TempDir::new("bad-archive"),
        TempDir::new("bad-keys"),
    );
    let keys = keygen(keydir.path());
    let root = inbox.path();
    add_batch(root, "good", "good-1");
    // Odd but valid names: spaces, umlauts, and a name that is not UTF-8.
    add_batch(root, "odd-names", "odd-names");
    let odd = root.join("odd-names");
    std::fs::rename(odd.join("bescheid.png"), odd.join("Seite ü 1.png")).unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"scan-\xff.png");
    std::fs::copy(odd.join("Seite ü 1.png"), odd.join(raw)).unwrap();
    let sheet = std::fs::read_to_string(odd.join("batch.toml")).unwrap();
    std::fs::write(
        odd.join("batch.toml"),
        sheet
            .replace("expected_documents = 3", "expected_documents = 4")
            .replace("expected_pages = 5", "expected_pages = 6"),
    )
    .unwrap();

    let good_png = std::fs::read(project("testdata/demo-batch/bescheid.png")).unwrap();
    let cases: Vec<(&str, Box<dyn Fn(&Path)>, &str)> = vec![
        (
            "empty",
            Box::new(|d: &Path| std::fs::write(d.join("page.png"), b"").unwrap()),
            "the file is empty (0 bytes)",
        ),
        (
            "truncated",
            Box::new(move |d: &Path| {
                std::fs::write(d.join("page.png"), &good_png[..good_png.len() / 2]).unwrap()
            }),
            "page.png",
        ),
        (
            "wrong-type",
            Box::new(|d: &Path| std::fs::write(d.join("page.tif"), "just text\n").unwrap()),
            "not a TIFF, PNG or JPEG",
        ),
        (
            "bomb",
            Box::new(|d: &Path| std::fs::write(d.join("page.png"), png_claiming(60_000, 60_000)).unwrap()),
            "3600 megapixels) is above the profile's limit",
        ),
        (
            "link-out",
            Box::new(|d: &Path| std::os::unix::fs::symlink("/etc/passwd", d.join("page.png")).unwrap()),
            "outside the batch folder",
        ),
        (
            "bad-sheet",
            Box::new(|d: &Path| {
                std::fs::write(d.join("batch.toml"), "id = \"x\"\nbogus = 1\n").unwrap();
                std::fs::write(d.join("page.png"), b"").unwrap();
            }),
            "bogus",
        ),
    ];
    for (name, make, _) in &cases {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        if *name != "bad-sheet" {
            std::fs::write(dir.join("batch.toml"), format!("id = \"{name}\"\n")).unwrap();
        }
        make(&dir);
    }
    let out = scanwerk(&run_args(root, archive.path(), &keys.private));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        entries(archive.path()),
        vec!["good-1", "odd-names"],
        "{}",
        stderr(&out)
    );
    let odd_out = scanwerk(&["verify", archive.join("odd-names").to_str().unwrap()]);
    assert!(odd_out.status.success(), "{}", stderr(&odd_out));
    assert_eq!(
        entries(&archive.join("odd-names/documents")).len(),
        8,
        "four documents, PDF + JSON each"
    );
    for (name, _, reason) in &cases {
        let failed = root.join("failed").join(name);
        let text =
            std::fs::read_to_string(failed.join("error.txt")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(reason), "{name}: {text}");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(failed.join("error.json")).unwrap()).unwrap();
        assert_eq!(json["batch"], *name);
        assert!(
            json["error"].as_str().unwrap().contains(reason) || json["problems"].to_string().contains(reason),
            "{name}: {json}"
        );
    }
    // The summary on stdout says the same.
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["exit_code"], 1);
    let failed: Vec<&str> = summary["batches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] == "failed")
        .map(|b| b["folder"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), cases.len(), "{summary}");
}
