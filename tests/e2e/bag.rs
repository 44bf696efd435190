//! BagIt (`output.bagit = true`): the published batch is a bag that the Library of Congress's
//! `bagit.py --validate` accepts — plain, signed and time-stamped (online and attached later),
//! separated, real scans, and sealed after review — and `scanwerk verify` checks it too.

use std::path::Path;

use crate::harness::*;
use crate::tsa::TestTsa;

/// `bagit.py --validate BAG` (target/bagit-venv, installed by scripts/setup.sh).
fn bagit_validate(bag: &Path) -> std::process::Output {
    let python = project("target/bagit-venv/bin/python");
    let script = project("target/bagit-venv/bin/bagit.py");
    tool(
        python.to_str().unwrap(),
        &[script.to_str().unwrap(), "--validate", bag.to_str().unwrap()],
    )
}

fn bagged_profile(dir: &TempDir, extra: &str) -> String {
    let path = dir.join("bag.toml");
    std::fs::write(
        &path,
        format!(
            "id = \"bag\"\nversion = \"1\"\n[input]\nassume_dpi = 300\n[output]\nbagit = true\n{extra}\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Asserts the bag validates with bagit.py and scanwerk, and that one flipped payload byte fails
/// both, naming the file.
fn assert_valid_bag(bag: &Path, tamper: bool) {
    let out = bagit_validate(bag);
    assert!(out.status.success(), "bagit.py: {}", stderr(&out));
    assert!(bag.join("data/protocol.json").is_file() && bag.join("bagit.txt").is_file());
    let out = scanwerk(&["verify", bag.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("bag             BagIt 1.0"));
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let id = bag.file_name().unwrap().to_string_lossy();
    assert!(info.contains(&format!("External-Identifier: {id}\n")), "{info}");
    assert!(
        info.contains("Bag-Software-Agent: scanwerk ") && info.contains("Bagging-Date: 20"),
        "{info}"
    );
    // The bag's SHA-256 of each payload file is the one scanwerk's own manifest states.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/manifest.json")).unwrap()).unwrap();
    let bag_manifest = std::fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    for file in manifest["files"].as_array().unwrap() {
        let line = format!(
            "{}  data/{}",
            file["sha256"].as_str().unwrap(),
            file["path"].as_str().unwrap()
        );
        assert!(bag_manifest.contains(&line), "{line}");
    }
    if tamper {
        let report = bag.join("data/report.html");
        let mut bytes = std::fs::read(&report).unwrap();
        bytes[100] ^= 0x01;
        std::fs::write(&report, bytes).unwrap();
        let out = bagit_validate(bag);
        assert!(!out.status.success(), "bagit.py accepted a changed payload byte");
        let out = scanwerk(&["verify", bag.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("data/report.html"), "{}", stderr(&out));
    }
}

#[test]
fn bags_validate_with_bagit_py_plain_signed_time_stamped_and_attached_later() {
    let dir = TempDir::new("bag");
    let keys = keygen_with(&dir.dir("keys"), &["--cert"]);
    let tsa = TestTsa::start("bag-tsa");
    let cert = keys.cert.to_str().unwrap().to_string();
    let cases = [
        ("plain", String::new(), vec![]),
        (
            "signed-online",
            format!("[seal]\ntsa_url = \"{}\"", tsa.url),
            vec!["--cert", cert.as_str()],
        ),
        ("offline", "[seal]\ntimestamp = \"offline\"".to_string(), vec![]),
    ];
    for (name, extra, args) in cases {
        let case = TempDir::new(name);
        let profile = bagged_profile(&case, &extra);
        let archive = case.dir("archive");
        let mut all = vec!["--profile", profile.as_str()];
        all.extend(args);
        let out = ingest(&project("testdata/demo-batch"), &archive, &keys.private, &all);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let bag = archive.join("demo-2026-001");
        if name == "offline" {
            assert_valid_bag(&bag, false);
            let reply = case.join("reply.tsr");
            std::fs::write(&reply, tsa.reply(&bag.join("data/hashtree.tsq"))).unwrap();
            let out = scanwerk(&[
                "timestamp",
                "attach",
                bag.to_str().unwrap(),
                reply.to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            assert!(bag.join("data/hashtree.tsr").is_file() && bag.join("data/documents/akte.ers").is_file());
        }
        if name != "plain" {
            let ers = std::fs::read_to_string(bag.join("manifest-sha512.txt")).unwrap();
            assert!(ers.contains("  data/documents/akte.ers\n"), "{name}: {ers}");
        }
        assert_valid_bag(&bag, true);
    }
}

#[test]
fn real_scans_a_separated_stack_and_a_reviewed_batch_are_valid_bags() {
    let dir = TempDir::new("bag-more");
    let keys = keygen(&dir.dir("keys"));
    // Real scans.
    let real = dir.dir("real");
    for (image, _) in REAL_BATCH {
        std::fs::copy(
            realscans().join(image),
            real.join(Path::new(image).file_name().unwrap()),
        )
        .unwrap();
    }
    std::fs::write(real.join("batch.toml"), "id = \"real-bag\"\n").unwrap();
    // Bagging does not depend on the text: no OCR here keeps the test short.
    let profile = bagged_profile(&dir, "[ocr]\nenabled = false");
    let archive = dir.dir("archive");
    let out = ingest(&real, &archive, &keys.private, &["--profile", &profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_valid_bag(&archive.join("real-bag"), false);

    // A stack split at separator sheets (their images kept in data/separators/).
    let stack = dir.dir("stapel");
    let out = tool(
        "/usr/bin/python3",
        &[
            project("scripts/make-separator-batch.py").to_str().unwrap(),
            stack.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(
        stack.join("batch.toml"),
        "id = \"stapel-bag\"\nseparation = \"patch-code+barcode\"\n",
    )
    .unwrap();
    let out = ingest(&stack, &archive, &keys.private, &["--profile", &profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bag = archive.join("stapel-bag");
    assert!(std::fs::read_dir(bag.join("data/separators")).unwrap().count() > 0);
    assert_valid_bag(&bag, false);

    // Sealed after review.
    let reviewed = TempDir::new("bag-review");
    let profile = bagged_profile(&reviewed, "[review]\nmode = \"flagged+sample\"");
    let archive = reviewed.dir("archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        &archive,
        &keys.private,
        &["--profile", &profile],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = archive.join(".review/demo-2026-001");
    crate::review::accept_all(&folder, "Anna");
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_valid_bag(&archive.join("demo-2026-001"), true);
}
