//! The audit log and the destruction gate: a batch from ingest through review, sealing, receipt
//! and release, each step in `audit show` with who and when; `release` refuses a batch without a
//! receipt; the release's signature checks with openssl; every kind of change to the log is
//! found and named by its first bad line; two `run`s and a burst of `receipt` calls write one
//! unbroken chain with no event lost.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::*;

fn profile(dir: &TempDir, extra: &str) -> String {
    let path = dir.join("audit.toml");
    std::fs::write(
        &path,
        format!(
            "id = \"audit\"\nversion = \"1\"\n[input]\nassume_dpi = 300\n[ocr]\nenabled = false\n{extra}\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// `audit verify --archive ARCHIVE --json`.
fn audit_report(archive: &Path) -> Value {
    let out = scanwerk(&[
        "audit",
        "verify",
        "--archive",
        archive.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn log_lines(archive: &Path) -> Vec<Value> {
    std::fs::read_to_string(archive.join(".audit/audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_batch_goes_from_ingest_through_review_receipt_and_release_and_the_log_tells_it() {
    let dir = TempDir::new("audit-life");
    let keys = keygen(&dir.dir("keys"));
    let archive = dir.dir("archive");
    let profile = profile(&dir, "[review]\nmode = \"flagged+sample\"");
    ingest_demo(&archive, &keys.private, &profile);
    let review = archive.join(".review/demo-2026-001");
    crate::review::accept_all(&review, "Anna Prüfer");
    let out = scanwerk(&["review", "seal", review.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join("demo-2026-001");
    let (a, b, k) = (
        archive.to_str().unwrap(),
        batch.to_str().unwrap(),
        keys.private.to_str().unwrap(),
    );
    let issue_release = || {
        scanwerk(&[
            "release",
            "--archive",
            a,
            "--issue",
            "demo-2026-001",
            "--by",
            "Berta Amt",
            "--key",
            k,
        ])
    };

    // The gate: everything but the receipt; a release is refused, naming it.
    let out = scanwerk(&["release", "--archive", a, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let states: Value = serde_json::from_slice(&out.stdout).unwrap();
    let conditions: Vec<(String, bool)> = states[0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        conditions,
        [
            ("sealed", true),
            ("verify", true),
            ("review", true),
            ("time stamp", true),
            ("receipt", false)
        ]
        .map(|(n, ok)| (n.to_string(), ok))
    );
    assert_eq!(states[0]["may_destroy"], false);
    let out = issue_release();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("demo-2026-001: receipt: no receipt"),
        "{}",
        stderr(&out)
    );
    assert!(!archive.join(".releases").exists() || entries(&archive.join(".releases")).is_empty());

    // The receipt, once; then the release, whose signature openssl accepts.
    let out = scanwerk(&[
        "receipt",
        b,
        "--from",
        "DMS Landesarchiv",
        "--reference",
        "LA-4711",
        "--key",
        k,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let receipt = archive.join("demo-2026-001.receipt.json");
    assert!(
        openssl_verify(&keys.public, &archive.join("demo-2026-001.receipt.sig"), &receipt)
            .status
            .success()
    );
    let out = scanwerk(&["receipt", b, "--from", "someone else", "--key", k]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has a receipt already"), "{}", stderr(&out));
    let out = issue_release();
    assert!(out.status.success(), "{}", stderr(&out));
    let releases = archive.join(".releases");
    let json = entries(&releases)
        .into_iter()
        .find(|f| f.ends_with(".json"))
        .unwrap();
    let release_path = releases.join(&json);
    let signature = releases.join(json.replace(".json", ".sig"));
    assert!(
        openssl_verify(&keys.public, &signature, &release_path)
            .status
            .success()
    );
    let release: Value = serde_json::from_slice(&std::fs::read(&release_path).unwrap()).unwrap();
    assert_eq!(release["by"], "Berta Amt");
    let released = &release["batches"][0];
    assert_eq!(released["metadata"]["file_number"], "32.1-0815/2026");
    assert_eq!(released["received_by"], "DMS Landesarchiv");
    let ids: Vec<&str> = released["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["akte", "antrag", "bescheid"]);
    // Once released, a batch is not released again.
    let out = issue_release();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("demo-2026-001: released already (release-"),
        "{}",
        stderr(&out)
    );
    let out = scanwerk(&["release", "--archive", a]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("RELEASED (release-"));
    // A changed release byte fails openssl.
    let mut bytes = std::fs::read(&release_path).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&release_path, bytes).unwrap();
    assert!(
        !openssl_verify(&keys.public, &signature, &release_path)
            .status
            .success()
    );

    // The history: each step with who and when.
    let out = scanwerk(&[
        "audit",
        "show",
        "--batch",
        "demo-2026-001",
        "--archive",
        a,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let history: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<(String, String)> = history
        .iter()
        .map(|l| {
            assert!(l["time"].as_str().unwrap().starts_with("20"), "{l}");
            (
                l["event"].as_str().unwrap().to_string(),
                l["operator"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let step = |event: &str| {
        steps
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, who)| who.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(step("ingest-started"), ["Erika Mustermann"]);
    assert_eq!(step("left-for-review"), ["Erika Mustermann"]);
    assert!(
        !step("review-verdict").is_empty() && step("review-verdict").iter().all(|w| *w == "Anna Prüfer"),
        "{steps:?}"
    );
    assert_eq!(step("sealed"), ["Erika Mustermann"]);
    assert_eq!(step("published"), ["Erika Mustermann"]);
    assert_eq!(step("receipt-recorded"), ["DMS Landesarchiv"]);
    assert_eq!(step("receipt-refused"), ["someone else"]);
    assert_eq!(step("release-refused"), ["Berta Amt", "Berta Amt"]);
    assert_eq!(step("release-issued"), ["Berta Amt"]);
    let out = scanwerk(&["audit", "show", "--batch", "demo-2026-001", "--archive", a]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("release-issued") && text.contains("Berta Amt"),
        "{text}"
    );
    let out = scanwerk(&[
        "audit",
        "verify",
        "--archive",
        a,
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// Deleting, reordering or editing any line, or cutting the log after a checkpoint, fails
/// `audit verify` naming the first bad line; the intact log passes.
#[test]
fn every_change_to_the_log_is_named_by_its_first_bad_line() {
    let dir = TempDir::new("audit-tamper");
    let keys = keygen(&dir.dir("keys"));
    let archive = dir.dir("archive");
    let profile = profile(&dir, "");
    ingest_demo(&archive, &keys.private, &profile);
    let b = archive.join("demo-2026-001");
    let out = scanwerk(&[
        "receipt",
        b.to_str().unwrap(),
        "--from",
        "DMS",
        "--key",
        keys.private.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = archive.join(".audit/audit.jsonl");
    let original = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let checkpoints: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("\"event\":\"checkpoint\""))
        .collect();
    assert!(lines.len() >= 7 && !checkpoints.is_empty(), "{original}");
    let check = || {
        scanwerk(&[
            "audit",
            "verify",
            log.to_str().unwrap(),
            "--trust",
            keys.public.to_str().unwrap(),
        ])
    };
    assert!(check().status.success(), "{}", stderr(&check()));
    let write = |l: Vec<String>| {
        std::fs::write(&log, l.iter().map(|x| format!("{x}\n")).collect::<String>()).unwrap()
    };
    let owned: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let mut cases: Vec<(String, Vec<String>, String)> = Vec::new();
    for i in 0..owned.len() {
        let mut deleted = owned.clone();
        deleted.remove(i);
        let first_bad = if i + 1 == owned.len() {
            "lines at its end were removed".into()
        } else {
            format!("line {}:", i + 1)
        };
        cases.push((format!("line {} deleted", i + 1), deleted, first_bad));
        let mut edited = owned.clone();
        edited[i] = edited[i].replacen("\"time\":\"20", "\"time\":\"19", 1);
        let named = if i + 1 == owned.len() {
            format!("line {}:", i + 1)
        } else {
            format!("line {}:", i + 2)
        };
        cases.push((format!("line {} edited", i + 1), edited, named));
        if i + 1 < owned.len() {
            let mut swapped = owned.clone();
            swapped.swap(i, i + 1);
            cases.push((
                format!("lines {} and {} swapped", i + 1, i + 2),
                swapped,
                format!("line {}:", i + 1),
            ));
        }
    }
    let cut = checkpoints[0] + 1;
    cases.push((
        "cut after the first checkpoint".into(),
        owned[..cut].to_vec(),
        "lines at its end were removed".into(),
    ));
    for (what, changed, named) in cases {
        write(changed);
        let out = check();
        assert_eq!(out.status.code(), Some(1), "{what} passed");
        assert!(
            stderr(&out).contains(&named),
            "{what}: expected {named:?} in {}",
            stderr(&out)
        );
    }
    std::fs::write(&log, original).unwrap();
    assert!(check().status.success());
}

/// Two `run` processes on one inbox and a burst of `receipt` calls append to one log at once:
/// the chain verifies, no line is torn, and every event is there (counted).
#[test]
fn two_runs_and_a_burst_of_receipts_write_one_unbroken_chain() {
    let dir = TempDir::new("audit-concurrent");
    let keys = keygen(&dir.dir("keys"));
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    let batches = 20;
    for i in 0..batches {
        let folder = inbox.join(format!("b{i:02}"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::copy(
            project("testdata/demo-batch/bescheid.png"),
            folder.join("seite.png"),
        )
        .unwrap();
        std::fs::write(
            folder.join("batch.toml"),
            format!("id = \"c{i:02}\"\noperator = \"Op {i}\"\n"),
        )
        .unwrap();
    }
    let profile = profile(&dir, "");
    let run = || {
        Command::new(BIN)
            .args([
                "run",
                "--inbox",
                inbox.to_str().unwrap(),
                "--archive",
                archive.to_str().unwrap(),
                "--key",
                keys.private.to_str().unwrap(),
                "--profile",
                &profile,
                "--threads",
                "1",
                "--settle-seconds",
                "0",
                "--quiet-seconds",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (run(), run());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(entries(&inbox.join("done")).len(), batches);
    // A burst: 19 receipt calls per batch, 8 at a time; the first for each batch records it, the
    // others are refused, each an event.
    let calls_per_batch = 19;
    let mut calls: Vec<String> = Vec::new();
    for round in 0..calls_per_batch {
        for i in 0..batches {
            calls.push(format!("c{i:02}:{round}"));
        }
    }
    for chunk in calls.chunks(8) {
        let children: Vec<_> = chunk
            .iter()
            .map(|call| {
                let (id, round) = call.split_once(':').unwrap();
                Command::new(BIN)
                    .args([
                        "receipt",
                        archive.join(id).to_str().unwrap(),
                        "--from",
                        &format!("archive {round}"),
                        "--key",
                        keys.private.to_str().unwrap(),
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            child.wait().unwrap();
        }
    }
    let lines = log_lines(&archive);
    let count = |event: &str| lines.iter().filter(|l| l["event"] == event).count();
    assert_eq!(count("receipt-recorded"), batches);
    assert_eq!(count("receipt-refused"), batches * (calls_per_batch - 1));
    for event in [
        "claimed",
        "ingest-started",
        "sealed",
        "published",
        "verified",
        "input-done",
    ] {
        assert_eq!(count(event), batches, "{event}");
    }
    assert_eq!((count("profile-changed"), count("key-changed")), (1, 1));
    let events = lines.len() - count("checkpoint");
    assert_eq!(events, 6 * batches + 2 + batches * calls_per_batch);
    assert!(events >= 500, "{events}");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=lines.len() as u64).collect::<Vec<_>>());
    let report = audit_report(&archive);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["events"], events);
    assert_eq!(report["torn"], serde_json::json!([]));

    // The input stays in done/ until its batch is received; --purge-received then removes it.
    let extra = inbox.join("late");
    std::fs::create_dir(&extra).unwrap();
    std::fs::copy(
        project("testdata/demo-batch/bescheid.png"),
        extra.join("seite.png"),
    )
    .unwrap();
    std::fs::write(extra.join("batch.toml"), "id = \"late\"\n").unwrap();
    let out = scanwerk(&[
        "run",
        "--inbox",
        inbox.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--key",
        keys.private.to_str().unwrap(),
        "--profile",
        &profile,
        "--settle-seconds",
        "0",
        "--purge-received",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["purged"].as_array().unwrap().len(), batches, "{summary}");
    assert_eq!(entries(&inbox.join("done")), ["late"], "not received: kept");
    let lines = log_lines(&archive);
    assert_eq!(
        lines.iter().filter(|l| l["event"] == "input-purged").count(),
        batches
    );
    assert!(
        scanwerk(&["audit", "verify", "--archive", archive.to_str().unwrap()])
            .status
            .success()
    );
}

/// With `seal.tsa_url`, each checkpoint carries an RFC 3161 time stamp over the bytes it signs:
/// `audit verify` counts and checks them, and `openssl ts -verify` accepts each against the
/// SHA-256 of `scanwerk-audit-checkpoint\nseq N\nhead H\n` and the TSA's CA.
#[test]
fn checkpoints_are_time_stamped_where_the_profile_names_a_service() {
    use base64::Engine as _;
    let dir = TempDir::new("audit-tsa");
    let keys = keygen(&dir.dir("keys"));
    let archive = dir.dir("archive");
    let tsa = crate::tsa::TestTsa::start("audit-tsa");
    let profile = profile(&dir, &format!("[seal]\ntsa_url = \"{}\"", tsa.url));
    ingest_demo(&archive, &keys.private, &profile);
    let report = audit_report(&archive);
    assert_eq!(report["ok"], true, "{report}");
    assert!(
        report["timestamped_checkpoints"].as_u64().unwrap() >= 1,
        "{report}"
    );
    let mut stamped = 0;
    for line in log_lines(&archive).iter().filter(|l| l["event"] == "checkpoint") {
        let Some(token) = line["details"]["timestamp"].as_str() else {
            continue;
        };
        let reply = dir.join(&format!("checkpoint-{}.tsr", line["seq"]));
        std::fs::write(
            &reply,
            base64::engine::general_purpose::STANDARD.decode(token).unwrap(),
        )
        .unwrap();
        let message = format!(
            "scanwerk-audit-checkpoint\nseq {}\nhead {}\n",
            line["details"]["seq"],
            line["details"]["head"].as_str().unwrap()
        );
        let digest = scanwerk::seal::hash::sha256_hex(message.as_bytes());
        let out = tool(
            "openssl",
            &[
                "ts",
                "-verify",
                "-digest",
                &digest,
                "-in",
                reply.to_str().unwrap(),
                "-CAfile",
                tsa.ca.to_str().unwrap(),
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
            "{}",
            stderr(&out)
        );
        stamped += 1;
    }
    assert!(stamped >= 1);
}
