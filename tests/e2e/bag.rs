//! BagIt (the default layout, output format scanwerk/2): the published batch is a bag that the
//! Library of Congress's `bagit.py --validate` accepts — plain, signed and time-stamped (online and
//! attached later), real scans, and sealed after review — and `scanwerk verify` checks it too.
//! Every other batch the e2e suite publishes (separated stacks, scanner PDFs, …) is validated by
//! `bagit.py` right after publication in the harness (`validate_bags`). The plain folder of
//! `output.bagit = false` and batches of format scanwerk/1 still verify; an unknown format does not.

use std::path::Path;

use crate::harness::*;
use crate::tsa::TestTsa;

/// A profile that leaves `output.bagit` at its default, plus `extra`.
fn bagged_profile(dir: &TempDir, extra: &str) -> String {
    let path = dir.join("bag.toml");
    std::fs::write(
        &path,
        format!("id = \"bag\"\nversion = \"1\"\n[input]\nassume_dpi = 300\n{extra}\n"),
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
fn real_scans_and_a_reviewed_batch_are_valid_bags() {
    let dir = TempDir::new("bag-more");
    let keys = keygen(&dir.dir("keys"));
    // Every image of ../shared/realscans, one document each (the shared batch; not tampered with).
    assert_valid_bag(&all_published().dir, false);

    // Sealed after review.
    let reviewed = TempDir::new("bag-review");
    let profile = bagged_profile(&reviewed, "[review]\nmode = \"flagged+sample\"");
    let archive = reviewed.dir("archive");
    ingest_demo(&archive, &keys.private, &profile);
    let folder = archive.join(".review/demo-2026-001");
    crate::review::accept_all(&folder, "Anna");
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_valid_bag(&archive.join("demo-2026-001"), true);
}

/// The plain folder (`output.bagit = false`, the layout of scanwerk/1) is published and verifies;
/// a batch whose signed manifest says `scanwerk/1` verifies; one that says `scanwerk/3` is refused
/// by name. The manifests are signed again with openssl, so only the format differs.
#[test]
fn the_plain_layout_and_format_1_still_verify_and_an_unknown_format_is_refused() {
    let dir = TempDir::new("bag-plain");
    let keys = keygen(&dir.dir("keys"));
    let profile = bagged_profile(&dir, "[output]\nbagit = false\n[ocr]\nenabled = false");
    let archive = dir.dir("archive");
    ingest_demo(&archive, &keys.private, &profile);
    let batch = archive.join("demo-2026-001");
    assert!(!batch.join("bagit.txt").exists() && !batch.join("data").exists());
    assert!(batch.join("protocol.json").is_file() && batch.join("documents/akte.pdf").is_file());
    let manifest = std::fs::read_to_string(batch.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"format\": \"scanwerk/2\""), "{manifest}");
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("BagIt"));

    for (format, accepted) in [("scanwerk/1", true), ("scanwerk/3", false)] {
        std::fs::write(
            batch.join("manifest.json"),
            manifest.replace("\"format\": \"scanwerk/2\"", &format!("\"format\": \"{format}\"")),
        )
        .unwrap();
        let out = tool(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-sign",
                keys.private.to_str().unwrap(),
                "-out",
                batch.join("manifest.sig").to_str().unwrap(),
                batch.join("manifest.json").to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = scanwerk(&["verify", batch.to_str().unwrap()]);
        let err = stderr(&out);
        if accepted {
            assert!(out.status.success(), "{format}: {err}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{format}: {err}");
            assert!(
                err.contains("manifest.json: has format \"scanwerk/3\", which this scanwerk"),
                "{err}"
            );
        }
    }
}
