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
        "--settle-seconds",
        "0",
        "--json",
    ]
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
    let mut args = run_args(inbox.path(), archive.path(), &keys.private);
    args.extend(["--log-format", "json"]);
    let logs = TempDir::new("kill-logs");
    for run in 0..20 {
        let log = std::fs::File::create(logs.join(&format!("{run:02}.log"))).unwrap();
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.next(450)));
        let _ = child.kill();
        child.wait().unwrap();
    }
    let out = scanwerk(&args);
    assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", stderr(&out));
    std::fs::write(logs.join("final.log"), &out.stderr).unwrap();
    // --log-format json: every line of a run that was not killed is one JSON object.
    for line in stderr(&out).lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            event["level"].is_string() && event["fields"]["message"].is_string(),
            "{line}"
        );
    }
    // Each batch was processed to publication at most once over all 21 runs, and each reached
    // done/ through a publication or through finding its own publication (a run killed between
    // publishing and moving its input): read from every run's JSON log, line by line.
    let mut outcomes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for log in entries(logs.path()) {
        for line in std::fs::read_to_string(logs.join(&log)).unwrap().lines() {
            let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
                continue; // a line cut off by SIGKILL
            };
            if event["fields"]["message"] == "done" {
                let batch = event["fields"]["batch"].as_str().unwrap().to_string();
                let status = event["fields"]["status"].as_str().unwrap().to_string();
                outcomes.entry(batch).or_default().push(status);
            }
        }
    }
    // The logs were read (a line lost to a kill between done/ and the log is possible, so not
    // every batch need appear, but most do).
    assert!(
        outcomes.len() >= n / 2,
        "seed {seed}: outcomes read from the logs: {outcomes:?}"
    );
    for i in 1..=n {
        let folder = format!("b{i:02}");
        let seen = outcomes.get(&folder).cloned().unwrap_or_default();
        let published = seen.iter().filter(|s| *s == "published").count();
        assert!(
            published <= 1,
            "seed {seed}: {folder} published {published} times: {seen:?}"
        );
        assert!(
            seen.iter().all(|s| s == "published" || s == "already_published"),
            "seed {seed}: {folder}: {seen:?}"
        );
    }

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
    // The audit log survived 20 kills: its chain and checkpoints verify (a line torn by a kill is
    // recorded by the next writer, or reported at the end, never taken as an event).
    let out = scanwerk(&[
        "audit",
        "verify",
        "--archive",
        archive.path().to_str().unwrap(),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true, "seed {seed}: {report}");
    assert!(
        report["checkpoints"].as_u64().unwrap() >= n as u64,
        "seed {seed}: {report}"
    );
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

/// Fills a bad batch's folder.
type MakeBatch = Box<dyn Fn(&Path)>;

/// A PNG whose header claims `width` × `height` pixels, with a tiny zlib stream as its data.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
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
    let cases: Vec<(&str, MakeBatch, &str)> = vec![
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
            "page.png, page 1: decode: Png image is damaged or unsupported: unexpected end of file",
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
    // A sheet that does not parse waits for the quiet time (it may be half-written), then the
    // batch is quarantined with the reason.
    let mut args = run_args(root, archive.path(), &keys.private);
    args.extend(["--quiet-seconds", "0"]);
    let out = scanwerk(&args);
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
        entries(&archive.join("odd-names/data/documents")).len(),
        12,
        "four documents, PDF + JSON + ALTO each"
    );
    // The name that is not UTF-8: byte-exact on disk where the input is kept, shown with U+FFFD
    // in the document's record and the protocol, and a document id made of safe characters.
    assert!(
        root.join("done/odd-names").join(raw).is_file(),
        "the raw name is kept"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(archive.join("odd-names/data/documents/scan-_.json")).unwrap())
            .unwrap();
    assert_eq!(record["sources"][0]["path"], "scan-\u{FFFD}.png", "{record}");
    assert_eq!(record["pages"][0]["source"], "scan-\u{FFFD}.png");
    let protocol = std::fs::read_to_string(archive.join("odd-names/data/protocol.json")).unwrap();
    assert!(
        protocol.contains("scan-\u{FFFD}.png"),
        "the protocol names it too"
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

#[test]
fn run_quarantines_other_paper_under_a_published_id_and_passes_its_own_again() {
    let (inbox, archive, keydir) = (
        TempDir::new("other-inbox"),
        TempDir::new("other-archive"),
        TempDir::new("other-keys"),
    );
    let keys = keygen(keydir.path());
    let root = inbox.path();
    add_batch(root, "first", "same-id");
    let args = run_args(root, archive.path(), &keys.private);
    let out = scanwerk(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = std::fs::read(archive.join("same-id/data/manifest.json")).unwrap();
    // The same paper again (a rescan delivered twice), and other paper under the same id: one
    // changed pixel in one page.
    add_batch(root, "again", "same-id");
    add_batch(root, "other", "same-id");
    let page = root.join("other/bescheid.png");
    let mut image = image::open(&page).unwrap().into_luma8();
    let pixel = image.get_pixel_mut(10, 10);
    pixel.0[0] = 255 - pixel.0[0];
    image.save(&page).unwrap();
    let out = scanwerk(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(root.join("done/again").is_dir(), "its own input again: done");
    let text = std::fs::read_to_string(root.join("failed/other/error.txt")).unwrap();
    assert!(
        text.contains("batch id same-id is already published at")
            && text.contains("from other input")
            && text.contains("give it a new id in batch.toml"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("failed/other/error.json")).unwrap()).unwrap();
    assert_eq!(json["batch_id"], "same-id", "{json}");
    assert_eq!(entries(archive.path()), ["same-id"]);
    assert_eq!(
        std::fs::read(archive.join("same-id/data/manifest.json")).unwrap(),
        manifest,
        "the published batch is untouched"
    );
}

#[test]
fn a_run_that_cannot_start_says_why_in_its_log_format() {
    let (inbox, archive) = (TempDir::new("nostart-inbox"), TempDir::new("nostart-archive"));
    let missing = inbox.join("no-such-key.pem");
    let mut args = run_args(inbox.path(), archive.path(), &missing);
    args.extend(["--log-format", "json"]);
    let out = scanwerk(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let lines: Vec<String> = stderr(&out).lines().map(String::from).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(event["level"], "ERROR", "{line}");
        assert!(
            event["fields"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot read key"),
            "{line}"
        );
    }
    // In text mode the same as a line for people.
    let out = scanwerk(&run_args(inbox.path(), archive.path(), &missing));
    assert!(
        stderr(&out).starts_with("error: cannot start the run:"),
        "{}",
        stderr(&out)
    );
}

/// Sends `signal` to the child.
fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: kill only sends a signal to the process we started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// Polls `condition` every 50 ms for up to `seconds`.
fn wait_for(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn sigterm_puts_the_batch_in_hand_back_and_exits_130() {
    let (inbox, archive, keydir) = (
        TempDir::new("term-inbox"),
        TempDir::new("term-archive"),
        TempDir::new("term-keys"),
    );
    let keys = keygen(keydir.path());
    add_batch(inbox.path(), "b1", "term-1");
    // With OCR, so the batch takes long enough to be interrupted in the middle.
    let mut args = run_args(inbox.path(), archive.path(), &keys.private);
    let at = args.iter().position(|a| *a == "image-only").unwrap();
    args[at] = "standard";
    let child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(30, || inbox.join("processing/b1.claim").exists()),
        "the run claims the batch"
    );
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(
        entries(archive.path()),
        Vec::<String>::new(),
        "nothing published, no staging left"
    );
    assert_eq!(entries(inbox.path()), vec!["b1", "done", "failed", "processing"]);
    assert_eq!(entries(&inbox.join("processing")), Vec::<String>::new());
    same_input(&inbox.join("b1"));
    // The next run takes it from the start.
    let out = scanwerk(&run_args(inbox.path(), archive.path(), &keys.private));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(entries(archive.path()), vec!["term-1"]);
}

#[test]
fn watch_publishes_what_arrives_and_stops_on_sigint_with_exit_0() {
    let (inbox, archive, keydir) = (
        TempDir::new("watch-inbox"),
        TempDir::new("watch-archive"),
        TempDir::new("watch-keys"),
    );
    let keys = keygen(keydir.path());
    let mut args = run_args(inbox.path(), archive.path(), &keys.private);
    args[0] = "watch";
    args.extend(["--poll-seconds", "30"]);
    let child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(30, || inbox.join("processing").exists()), "watch starts");
    // A batch is assembled under a hidden name and moved in whole, as a scanner station would.
    add_batch(inbox.path(), ".incoming", "watched-1");
    std::fs::rename(inbox.join(".incoming"), inbox.join("b1")).unwrap();
    // Published within seconds: the notification, not the 30 s poll, wakes it up.
    assert!(
        wait_for(20, || inbox.join("done/b1").exists()),
        "watch picks up the new batch: {:?}",
        entries(archive.path())
    );
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    // A requested stop while idle is a normal end (systemd counts 130 as a failure).
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(log.contains("watch started"), "{log}");
    assert!(log.contains("watch stopped"), "{log}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batches"][0]["batch_id"], "watched-1", "{summary}");
    assert_eq!(summary["interrupted"], false, "{summary}");
    assert_eq!(summary["stopped"], true, "{summary}");
    assert_eq!(entries(archive.path()), vec!["watched-1"]);
    collect_pdfs(archive.path());
}

/// Unmounts the small file system when the test ends, however it ends.
struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Needs a tmpfs mount (root). Where the machine does not allow one, `scripts/test.sh` skips this
/// test by name and says so; run directly, it fails rather than pass untested.
#[test]
fn enospc_during_publication_leaves_nothing_visible_and_the_input_intact() {
    let small = TempDir::new("enospc-archive");
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=96k", "tmpfs"])
        .arg(small.path())
        .output();
    match &mount {
        Ok(out) if out.status.success() => {}
        other => panic!(
            "cannot mount a 96 KiB tmpfs here ({other:?}); scripts/test.sh skips this test on such machines"
        ),
    }
    let _unmount = Unmount(small.path().to_path_buf());
    let (inbox, keydir) = (TempDir::new("enospc-inbox"), TempDir::new("enospc-keys"));
    let keys = keygen(keydir.path());
    add_batch(inbox.path(), "b1", "full-1");
    let out = scanwerk(&run_args(inbox.path(), small.path(), &keys.private));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("batch b1 is back in the inbox, untouched"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        entries(small.path()),
        Vec::<String>::new(),
        "no partial batch, no staging"
    );
    assert_eq!(entries(&inbox.join("processing")), Vec::<String>::new());
    same_input(&inbox.join("b1"));
    // The single-batch command says the same with its own exit code.
    let out = ingest(
        &inbox.join("b1"),
        small.path(),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(entries(small.path()), Vec::<String>::new());
}

/// The journal lines of any staging folder in `archive`.
fn journaled(archive: &Path) -> usize {
    entries(archive)
        .iter()
        .filter(|n| n.starts_with(".staging-"))
        .map(|n| {
            std::fs::read_to_string(archive.join(n).join("journal.jsonl"))
                .unwrap_or_default()
                .lines()
                .count()
        })
        .sum()
}

#[test]
fn a_rerun_after_a_crash_reuses_journaled_documents_and_gives_the_same_pdfs() {
    let (inbox, archive, fresh, keydir) = (
        TempDir::new("resume-inbox"),
        TempDir::new("resume-archive"),
        TempDir::new("resume-fresh"),
        TempDir::new("resume-keys"),
    );
    let keys = keygen(keydir.path());
    add_batch(inbox.path(), "b1", "resume-1");
    let batch = inbox.join("b1");
    let args = |archive: &Path| {
        vec![
            "ingest".to_string(),
            batch.to_str().unwrap().into(),
            "--archive".into(),
            archive.to_str().unwrap().into(),
            "--key".into(),
            keys.private.to_str().unwrap().into(),
            "--threads".into(),
            "1".into(),
        ]
    };
    // OCR (standard profile), one thread: killed once the first document is journaled.
    let mut child = Command::new(BIN)
        .args(args(archive.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(120, || journaled(archive.path()) >= 1),
        "the first document is journaled"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        journaled(archive.path()),
        1,
        "killed before the second document finished"
    );
    assert!(!archive.join("resume-1").exists());

    let out = Command::new(BIN).args(args(archive.path())).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(archive.join("resume-1/data/protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["resumed"], serde_json::json!(["akte"]), "{protocol}");
    let out = scanwerk(&[
        "verify",
        archive.join("resume-1").to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        entries(archive.path()).iter().all(|n| !n.starts_with('.')),
        "staging adopted and published"
    );

    // The resumed batch has exactly the PDFs an uninterrupted run makes.
    let out = Command::new(BIN).args(args(fresh.path())).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for doc in ["akte", "antrag", "bescheid"] {
        let rel = format!("resume-1/data/documents/{doc}.pdf");
        assert!(
            std::fs::read(archive.join(&rel)).unwrap() == std::fs::read(fresh.join(&rel)).unwrap(),
            "{rel}"
        );
    }
    same_input(&batch);
}

/// The window the random kill test found: a process killed after moving its batch to `done/` but
/// before letting go of the claim. Its claim names a dead process; the next run removes it, and a
/// claim of a live process beside it stays.
#[test]
fn a_claim_left_by_a_process_killed_after_done_is_removed_by_the_next_run() {
    let (inbox, archive, keydir) = (
        TempDir::new("leftclaim-inbox"),
        TempDir::new("leftclaim-archive"),
        TempDir::new("leftclaim-keys"),
    );
    let keys = keygen(keydir.path());
    add_batch(inbox.path(), "b1", "left-1");
    let out = scanwerk(&run_args(inbox.path(), archive.path(), &keys.private));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(entries(&inbox.join("done")), vec!["b1"]);
    // A dead process's claim on the finished batch, and a live process's claim on another.
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let claim = |pid: u32| {
        serde_json::json!({"host": host.trim(), "pid": pid, "boot_id": boot.trim(), "since": "2026-11-30T00:00:00Z"})
            .to_string()
    };
    std::fs::write(inbox.join("processing/b1.claim"), claim(dead_pid)).unwrap();
    std::fs::write(inbox.join("processing/b2.claim"), claim(std::process::id())).unwrap();
    let out = scanwerk(&run_args(inbox.path(), archive.path(), &keys.private));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(entries(&inbox.join("processing")), vec!["b2.claim"]);
    assert!(stderr(&out).contains("abandoned claim"), "{}", stderr(&out));
    assert_eq!(entries(archive.path()), vec!["left-1"]);
}

/// Claims forged as other processes leave them: a batch in `processing/` whose claim names a dead
/// process of this host, a process of this host before a reboot (another boot id), or a process on
/// another host that stopped refreshing it (older than `--stale-seconds`) is taken over and
/// published; a fresh claim of a live process is respected, and its batch waits.
#[test]
fn abandoned_claims_are_taken_over_and_a_live_one_is_respected() {
    let (inbox, archive, keydir) = (
        TempDir::new("takeover-inbox"),
        TempDir::new("takeover-archive"),
        TempDir::new("takeover-keys"),
    );
    let keys = keygen(keydir.path());
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let host = host.trim();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let boot = boot.trim();
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let me = std::process::id();
    let processing = inbox.dir("processing");
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    // folder, host, pid, boot id, claim last refreshed an hour ago
    let claims = [
        ("dead", host, dead_pid, boot, false),
        ("reboot", host, me, "00000000-0000-0000-0000-000000000000", false),
        ("elsewhere", "scan-host-2", 4242, "another-boot", true),
        ("live", host, me, boot, false),
    ];
    for (folder, claim_host, pid, boot_id, old) in claims {
        add_batch(&processing, folder, &format!("takeover-{folder}"));
        let claim = processing.join(format!("{folder}.claim"));
        let json = serde_json::json!({"host": claim_host, "pid": pid, "boot_id": boot_id, "since": "2026-11-30T00:00:00Z"});
        std::fs::write(&claim, json.to_string()).unwrap();
        if old {
            std::fs::File::options()
                .write(true)
                .open(&claim)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap();
        }
    }
    let mut args = run_args(inbox.path(), archive.path(), &keys.private);
    args.extend(["--stale-seconds", "60"]);
    let out = scanwerk(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        entries(archive.path()),
        vec!["takeover-dead", "takeover-elsewhere", "takeover-reboot"]
    );
    assert_eq!(entries(&inbox.join("done")), vec!["dead", "elsewhere", "reboot"]);
    assert_eq!(
        entries(&processing),
        vec!["live", "live.claim"],
        "the live claim and its batch stay"
    );
    assert_eq!(
        stderr(&out).matches("took over an abandoned claim").count(),
        3,
        "{}",
        stderr(&out)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        summary.to_string().contains("live"),
        "the live batch is reported as waiting: {summary}"
    );
}

#[test]
fn run_sets_aside_the_failed_documents_files_for_a_rescan_and_publishes_the_rest() {
    let (inbox, archive, keydir) = (
        TempDir::new("aside-inbox"),
        TempDir::new("aside-archive"),
        TempDir::new("aside-keys"),
    );
    let keys = keygen(keydir.path());
    let root = inbox.path();
    add_batch(root, "b1", "aside-1");
    let batch = root.join("b1");
    std::fs::write(batch.join("zero.tif"), b"").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", batch.join("link.png")).unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"leer-\xff.tif");
    std::fs::write(batch.join(raw), b"").unwrap();
    let profile = keydir.join("set-aside.toml");
    std::fs::write(
        &profile,
        "id = \"aside\"\nversion = \"1\"\n[ocr]\nenabled = false\n[input]\nassume_dpi = 300\n\
         on_document_error = \"set-aside\"\n",
    )
    .unwrap();
    let mut args = run_args(root, archive.path(), &keys.private);
    let at = args.iter().position(|a| *a == "image-only").unwrap();
    args[at] = profile.to_str().unwrap();
    let out = scanwerk(&args);
    // Published, but a rescan is due: the run says so by its exit code and its summary.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batches"][0]["status"], "published", "{summary}");
    let mut ids: Vec<&str> = summary["batches"][0]["set_aside"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["leer-_", "link", "zero"], "{summary}");
    // The good documents published and verified; the rest of the folder in done/.
    let published = archive.join("aside-1");
    assert!(
        scanwerk(&["verify", published.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(pdfs_in(&published).len(), 3, "the demo batch's three documents");
    let done = root.join("done/b1");
    assert!(done.join("bescheid.png").is_file() && done.join("batch.toml").is_file());
    assert!(!done.join("zero.tif").exists() && !done.join("link.png").exists());
    assert!(!done.join(raw).exists(), "the name that is not UTF-8 moved too");
    // The failed documents' files in failed/ with the reasons, for the rescan.
    let failed = root.join("failed/b1");
    assert!(failed.join("zero.tif").is_file(), "{:?}", entries(&failed));
    assert!(
        failed.join(raw).is_file(),
        "byte-exact name in failed/: {:?}",
        entries(&failed)
    );
    assert!(std::fs::symlink_metadata(failed.join("link.png")).is_ok());
    let text = std::fs::read_to_string(failed.join("error.txt")).unwrap();
    assert!(
        text.contains("3 document(s) of batch aside-1 failed and were set aside")
            && text.contains("zero.tif: the file is empty (0 bytes)")
            && text.contains("link.png: the file is a link to /etc/passwd"),
        "{text}"
    );
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&published).join("protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["set_aside"].as_array().unwrap().len(), 3);
}
