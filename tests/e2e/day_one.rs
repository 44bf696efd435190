//! What a new operator hit on day one (issue 16), each kept from coming back: a blank page scanned
//! as a document of its own under `blank_pages = "remove"`, batches handed over while still
//! arriving, review needs that unattended runs kept quiet, errors that misled, a progress bar that
//! did not move, and a QA report that mixed up times and colours.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::*;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha256_file(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A white A4 page at 300 dpi, as a scanner writes the blank back of a sheet.
fn blank_png(path: &Path) {
    let script = format!(
        "from PIL import Image; Image.new('L', (2480, 3508), 255).save('{}', dpi=(300, 300))",
        path.display()
    );
    let out = tool("/usr/bin/python3", &["-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Replaces the lines `key = …` of a sheet or profile text (also `# key: not set`).
fn with_lines(text: &str, lines: &[(&str, &str)]) -> String {
    let mut text: Vec<String> = text.lines().map(String::from).collect();
    for (key, value) in lines {
        let at = text
            .iter()
            .position(|l| {
                let l = l.trim_start_matches(['#', ' ']);
                l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}: not set"))
            })
            .unwrap_or_else(|| panic!("no line {key} in\n{}", text.join("\n")));
        text[at] = format!("{key} = {value}");
    }
    text.join("\n") + "\n"
}

/// `scanwerk profiles show BASE` with `lines` changed, written to `dir/NAME.toml`.
fn profile(dir: &Path, base: &str, name: &str, lines: &[(&str, &str)]) -> PathBuf {
    let out = scanwerk(&["profiles", "show", base]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut all = vec![("id", format!("\"{name}\""))];
    all.extend(lines.iter().map(|(k, v)| (*k, v.to_string())));
    let lines: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, with_lines(&String::from_utf8(out.stdout).unwrap(), &lines)).unwrap();
    path
}

/// The demo batch with batch id `id`, plus `blank1.png`: a blank page scanned as its own document
/// (four documents, six pages, as the sheet now says).
fn batch_with_blank(dir: &Path, id: &str) {
    copy_tree(&project("testdata/demo-batch"), dir);
    blank_png(&dir.join("blank1.png"));
    let sheet = std::fs::read_to_string(dir.join("batch.toml")).unwrap();
    let sheet = with_lines(
        &sheet,
        &[
            ("id", &format!("\"{id}\"")),
            ("expected_documents", "4"),
            ("expected_pages", "6"),
        ],
    );
    std::fs::write(dir.join("batch.toml"), sheet).unwrap();
}

/// Checks a published batch that took in `batch_with_blank`: no PDF for the blank document, which
/// is recorded with its source hash; the rest verifies with scanwerk and veraPDF.
fn check_blank_recorded(published: &Path, input: &Path, keys: &Keys) {
    assert!(
        !payload(published).join("documents/blank1.pdf").exists()
            && !payload(published).join("documents/blank1.json").exists(),
        "no PDF and no record for a document without pages"
    );
    let protocol = json(&payload(published).join("protocol.json"));
    let empty = &protocol["empty_documents"][0];
    assert_eq!(empty["id"], "blank1", "{protocol}");
    assert_eq!(empty["sources"][0]["path"], "blank1.png");
    assert_eq!(
        empty["sources"][0]["sha256"],
        sha256_file(&input.join("blank1.png")).as_str()
    );
    assert_eq!(empty["pages"][0]["flags"][0], "removed", "{empty}");
    assert!(
        empty["pages"][0]["image_sha256"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
    assert!(empty["reason"].as_str().unwrap().contains("blank"), "{empty}");
    let anomalies = protocol["transfer_note"]["anomalies"].to_string();
    assert!(anomalies.contains("document blank1"), "{anomalies}");
    assert_eq!(
        protocol["completeness"]["complete"], true,
        "4 documents, 6 pages received"
    );
    assert_eq!(protocol["documents"].as_array().unwrap().len(), 3);
    let out = scanwerk(&[
        "verify",
        published.to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pdfs = pdfs_in(published);
    assert_eq!(pdfs.len(), 3, "{pdfs:?}");
    verapdf(&pdfs);
    for pdf in &pdfs {
        let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
        assert!(info.status.success(), "{}: {}", pdf.display(), stderr(&info));
    }
}

#[test]
fn a_blank_document_under_remove_is_recorded_and_the_batch_goes_on() {
    let work = TempDir::new("day1-blank");
    let remove = profile(
        work.path(),
        "image-only",
        "remove",
        &[("blank_pages", "\"remove\"")],
    );
    for with_cert in [false, true] {
        let keys = keygen_with(
            &work.dir(&format!("keys-{with_cert}")),
            if with_cert { &["--cert"] } else { &[] },
        );
        let batch = work.dir(&format!("batch-{with_cert}"));
        batch_with_blank(&batch, "blank-batch");
        let archive = work.dir(&format!("archive-{with_cert}"));
        let mut extra = vec!["--profile", remove.to_str().unwrap()];
        if with_cert {
            extra.extend(["--cert", keys.cert.to_str().unwrap()]);
        }
        let out = ingest(&batch, &archive, &keys.private, &extra);
        assert_eq!(
            out.status.code(),
            Some(0),
            "certificate {with_cert}: {}",
            stderr(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("no PDF: blank1:"), "{stdout}");
        check_blank_recorded(&archive.join("blank-batch"), &batch, &keys);
    }

    // Unattended: the batch with the blank document is published and the next one follows.
    let keys = keygen_with(&work.dir("keys-run"), &["--cert"]);
    let inbox = work.dir("inbox");
    batch_with_blank(&inbox.join("a"), "run-a");
    copy_tree(&project("testdata/demo-batch"), &inbox.join("b"));
    let archive = work.dir("archive-run");
    let out = scanwerk(&run_args(
        &inbox,
        &archive,
        &keys.private,
        &[
            "--cert",
            keys.cert.to_str().unwrap(),
            "--profile",
            remove.to_str().unwrap(),
            "--settle-seconds",
            "0",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = summary["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["published", "published"], "{summary}");
    assert!(
        summary["batches"][0]["empty_documents"][0]
            .as_str()
            .unwrap()
            .starts_with("blank1: "),
        "{summary}"
    );
    check_blank_recorded(&archive.join("run-a"), &inbox.join("done/a"), &keys);
    assert!(archive.join("demo-2026-001").is_dir());
}

/// `run --inbox INBOX --archive ARCHIVE --key KEY --json EXTRA…`.
fn run_args<'a>(inbox: &'a Path, archive: &'a Path, key: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--inbox",
        inbox.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    args
}

/// `run_args` run to its end: exit code, the JSON summary and stderr.
fn run_inbox(inbox: &Path, archive: &Path, key: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let out = scanwerk(&run_args(inbox, archive, key, extra));
    let summary = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), summary, stderr(&out))
}

#[test]
fn a_batch_still_arriving_is_not_claimed_and_one_changed_meanwhile_is_never_sealed() {
    let work = TempDir::new("day1-ready");
    let keys = keygen(&work.dir("keys"));
    let (inbox, archive) = (work.dir("inbox"), work.dir("archive"));

    // The sheet first, the scans later: nothing to claim, even settled.
    let early = inbox.join("early");
    std::fs::create_dir_all(&early).unwrap();
    std::fs::copy(
        project("testdata/demo-batch/batch.toml"),
        early.join("batch.toml"),
    )
    .unwrap();
    // Scans arriving beside a sheet: not claimed until the folder settles.
    copy_tree(&project("testdata/demo-batch"), &inbox.join("arriving"));
    // A half-written sheet: waits (it may be finished in a moment), is not quarantined.
    copy_tree(&project("testdata/demo-batch"), &inbox.join("half"));
    std::fs::write(
        inbox.join("half/batch.toml"),
        "id = \"half\"\noperator = \"Erika Muster",
    )
    .unwrap();
    let (code, summary, log) = run_inbox(
        &inbox,
        &archive,
        &keys.private,
        &["--settle-seconds", "30", "--profile", "image-only"],
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        summary["waiting"],
        serde_json::json!(["arriving", "early", "half"]),
        "{summary}"
    );
    assert_eq!(entries(&archive), Vec::<String>::new());
    let (code, summary, log) = run_inbox(
        &inbox,
        &archive,
        &keys.private,
        &["--settle-seconds", "0", "--profile", "image-only"],
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        summary["waiting"],
        serde_json::json!(["early", "half"]),
        "{summary}"
    );
    assert_eq!(entries(&archive), ["demo-2026-001"]);
    // Once the quiet time has passed, the broken sheet is quarantined with its line.
    let (code, summary, log) = run_inbox(
        &inbox,
        &archive,
        &keys.private,
        &[
            "--settle-seconds",
            "0",
            "--quiet-seconds",
            "0",
            "--profile",
            "image-only",
        ],
    );
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(
        summary["waiting"],
        serde_json::json!(["early"]),
        "the sheet alone still waits: {summary}"
    );
    let error = std::fs::read_to_string(inbox.join("failed/half/error.txt")).unwrap();
    assert!(error.contains("batch.toml:2:"), "{error}");

    // A file added while the batch is processed: quarantined, nothing sealed or published.
    std::fs::remove_dir_all(&early).unwrap();
    let changing = inbox.join("changing");
    copy_tree(&project("testdata/demo-batch"), &changing);
    let sheet = std::fs::read_to_string(changing.join("batch.toml")).unwrap();
    std::fs::write(
        changing.join("batch.toml"),
        with_lines(&sheet, &[("id", "\"changing\"")]),
    )
    .unwrap();
    let child = Command::new(BIN)
        .args(run_args(
            &inbox,
            &archive,
            &keys.private,
            &["--profile", "standard", "--threads", "1", "--settle-seconds", "0"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let claimed = inbox.join("processing/changing");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !claimed.is_dir() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::copy(
        project("testdata/demo-batch/bescheid.png"),
        claimed.join("late.png"),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        entries(&archive),
        ["demo-2026-001"],
        "nothing of the changed batch is published"
    );
    let error = std::fs::read_to_string(inbox.join("failed/changing/error.txt")).unwrap();
    assert!(
        error.contains("changed while it was processed") && error.contains("added late.png"),
        "{error}"
    );
}

#[test]
fn review_and_spot_check_pages_are_named_in_run_and_ingest() {
    let work = TempDir::new("day1-review");
    let keys = keygen(&work.dir("keys"));
    let strict = profile(work.path(), "image-only", "dpi600", &[("min_dpi", "600")]);
    let inbox = work.dir("inbox");
    copy_tree(&project("testdata/demo-batch"), &inbox.join("b1"));
    let archive = work.dir("archive");
    let (code, summary, log) = run_inbox(
        &inbox,
        &archive,
        &keys.private,
        &["--settle-seconds", "0", "--profile", strict.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{log}");
    let batch = &summary["batches"][0];
    let review: Vec<&str> = batch["review"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(review.len(), 5, "every page is below 600 dpi: {batch}");
    assert!(review.contains(&"bescheid page 1: low_resolution"), "{review:?}");
    let sample = batch["spot_check"].as_array().unwrap();
    assert_eq!(sample.len(), 1, "3 % of 5 pages, at least one: {batch}");
    let protocol = json(&archive.join("demo-2026-001/data/protocol.json"));
    let drawn = &protocol["qa_sample"]["pages"][0];
    assert_eq!(
        sample[0],
        format!("{} page {}", drawn["document"].as_str().unwrap(), drawn["page"]).as_str()
    );
    assert!(log.contains("review: bescheid page 1: low_resolution"), "{log}");
    assert!(log.contains("spot check: "), "{log}");

    let out = ingest(
        &project("testdata/demo-batch"),
        &work.dir("archive2"),
        &keys.private,
        &["--profile", strict.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("review: 5 pages need a look"), "{text}");
    assert!(
        text.contains("spot check: compare this page with the paper"),
        "{text}"
    );
    assert!(text.contains(sample[0].as_str().unwrap()), "{text}");
}

#[test]
fn profile_and_sheet_problems_come_all_at_once_with_lines_and_no_false_follow_up() {
    let work = TempDir::new("day1-errors");
    let keys = keygen(&work.dir("keys"));
    let key = format!("\"{}\"", keys.private.display());
    // A typo in a profile that names its key: the typo, and no "no signing key".
    let typo = profile(work.path(), "image-only", "typo", &[("key", &key)]);
    let text = std::fs::read_to_string(&typo)
        .unwrap()
        .replace("blank_pages =", "blank_page =");
    std::fs::write(&typo, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("blank_page =")).unwrap() + 1;
    let out = scanwerk(&[
        "ingest",
        project("testdata/demo-batch").to_str().unwrap(),
        "--archive",
        work.dir("archive").to_str().unwrap(),
        "--profile",
        typo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "typo.toml:{line}: unknown key prepare.blank_page; did you mean prepare.blank_pages?"
        )),
        "{err}"
    );
    assert!(!err.contains("no signing key"), "a follow-up error: {err}");

    // A wrong type and a wrong value: both, each with its line.
    let both = profile(
        work.path(),
        "image-only",
        "both",
        &[("min_dpi", "\"300\""), ("blank_pages", "\"delete\"")],
    );
    let text = std::fs::read_to_string(&both).unwrap();
    let at = |key: &str| text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    let out = scanwerk(&["profiles", "show", both.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "both.toml:{}: quality.min_dpi: must be a number",
            at("min_dpi")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "both.toml:{}: prepare.blank_pages = \"delete\": choose one of",
            at("blank_pages")
        )),
        "{err}"
    );

    // A batch sheet: every problem with its line and a suggestion; a TOML date-time is fine.
    let batch = work.dir("sheet");
    copy_tree(&project("testdata/demo-batch"), &batch);
    std::fs::write(
        batch.join("batch.toml"),
        "operater = \"Erika Mustermann\"\nexpected_pages = \"5\"\nscanned = 2026-11-30T09:00:00+01:00\n",
    )
    .unwrap();
    let out = ingest(
        &batch,
        &work.dir("archive"),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("batch.toml:1: unknown key operater; did you mean operator?"),
        "{err}"
    );
    assert!(
        err.contains("batch.toml:2: expected_pages: must be a whole number"),
        "{err}"
    );
    assert!(
        !err.contains("scanned"),
        "a TOML date-time is a valid scanned: {err}"
    );
    std::fs::write(
        batch.join("batch.toml"),
        "id = \"dated\"\noperator = \"Erika Mustermann\"\nscanned = 2026-11-30T09:00:00+01:00\n",
    )
    .unwrap();
    let archive = work.dir("archive");
    let out = ingest(&batch, &archive, &keys.private, &["--profile", "image-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let protocol = json(&archive.join("dated/data/protocol.json"));
    assert_eq!(
        protocol["transfer_note"]["times"]["scanned"],
        "2026-11-30T08:00:00Z"
    );
    assert_eq!(protocol["transfer_note"]["times"]["scanned_source"], "batch.toml");
}

#[test]
fn ingesting_the_same_input_twice_says_so_and_publishes_nothing_twice() {
    let work = TempDir::new("day1-twice");
    let keys = keygen(&work.dir("keys"));
    let archive = work.dir("archive");
    let demo = project("testdata/demo-batch");
    let first = ingest(&demo, &archive, &keys.private, &["--profile", "image-only"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let manifest = std::fs::read(archive.join("demo-2026-001/data/manifest.json")).unwrap();
    let again = ingest(&demo, &archive, &keys.private, &["--profile", "image-only"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("already published") && text.contains("from this same input"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(archive.join("demo-2026-001/data/manifest.json")).unwrap(),
        manifest
    );

    // Other paper under the same id: refused, with what to do.
    let other = work.dir("other");
    copy_tree(&demo, &other);
    std::fs::copy(demo.join("akte.tiff"), other.join("extra.tiff")).unwrap();
    let out = ingest(&other, &archive, &keys.private, &["--profile", "image-only"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("from other input"), "{}", stderr(&out));
    assert_eq!(entries(&archive), ["demo-2026-001"]);
}

#[test]
fn progress_counts_pages_as_they_finish() {
    let keydir = TempDir::new("day1-progress-keys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("day1-progress");
    let command = format!(
        "'{}' ingest '{}' --archive '{}' --key '{}' --profile standard",
        BIN,
        project("testdata/demo-batch").display(),
        archive.path().display(),
        keys.private.display()
    );
    let out = tool("script", &["-qec", &command, "/dev/null"]);
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    let between: Vec<&str> = ["1/5 pages", "2/5 pages", "3/5 pages", "4/5 pages"]
        .into_iter()
        .filter(|s| screen.contains(s))
        .collect();
    assert!(
        between.len() >= 2,
        "the bar jumps instead of counting: {between:?}\n{screen}"
    );
    assert!(screen.contains("pages/s · ETA"), "{screen}");
    assert!(
        !screen.contains("Info in"),
        "leptonica speaks through the bar:\n{screen}"
    );
}

#[test]
fn the_report_tells_scan_time_review_from_record_and_anomalies() {
    let work = TempDir::new("day1-report");
    let keys = keygen(&work.dir("keys"));
    let batch = work.dir("batch");
    copy_tree(&project("testdata/demo-batch"), &batch);
    let sheet = std::fs::read_to_string(batch.join("batch.toml")).unwrap();
    std::fs::write(
        batch.join("batch.toml"),
        with_lines(&sheet, &[("expected_documents", "4")]),
    )
    .unwrap();
    let archive = work.dir("archive");
    let out = ingest(&batch, &archive, &keys.private, &["--profile", "standard"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = archive.join("demo-2026-001/data/report.html");
    let dom = String::from_utf8(
        crate::report::chromium(&["--dump-dom"], &format!("file://{}", report.display())).stdout,
    )
    .unwrap();
    assert!(
        dom.contains("<dt>Scanned</dt><dd>2026-11-20T08:30:00Z (from the batch sheet)</dd>"),
        "{dom}"
    );
    assert!(dom.contains("<dt>Processed</dt>"), "{dom}");
    assert!(
        dom.contains("class=\"anomalies incomplete\" id=\"anomalies\""),
        "{dom}"
    );
    assert!(
        dom.contains("INCOMPLETE against the batch sheet: 3 documents received (4 expected)"),
        "{dom}"
    );
    assert!(
        dom.contains("<li>batch sheet expects 4 documents / 5 pages, received 3 / 5</li>"),
        "{dom}"
    );
    assert!(
        !dom.contains(" 1 pages") && !dom.contains(" 1 documents"),
        "plural forms: {dom}"
    );
    assert!(
        dom.contains("Spot check</dt><dd>1 of 5 pages (sample rate 3 %)"),
        "{dom}"
    );
}

#[test]
fn the_example_sheet_comes_from_the_installed_binary() {
    let out = scanwerk(&["batch-sheet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        out.stdout,
        std::fs::read(project("testdata/batch-sheet/batch.toml")).unwrap(),
        "the binary prints the commented example"
    );
    // As printed, it is a sheet scanwerk takes (here beside the demo's images).
    let work = TempDir::new("day1-sheet");
    let keys = keygen(&work.dir("keys"));
    let batch = work.dir("batch");
    copy_tree(&project("testdata/demo-batch"), &batch);
    std::fs::write(batch.join("batch.toml"), &out.stdout).unwrap();
    let out = ingest(
        &batch,
        &work.dir("archive"),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}
