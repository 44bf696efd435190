//! Verify: passes on a published batch, fails naming the file for any changed byte, an extra
//! file or another trusted key; the signature also checks with openssl.

use std::path::Path;

use crate::harness::*;

fn verify(dir: &std::path::Path, trust: Option<&std::path::Path>) -> std::process::Output {
    let mut args = vec!["verify", dir.to_str().unwrap()];
    if let Some(key) = trust {
        args.extend(["--trust", key.to_str().unwrap()]);
    }
    scanwerk(&args)
}

#[test]
fn published_batch_verifies_with_pinned_key() {
    let published = real_published();
    let out = verify(&published.dir, Some(&published.keys.public));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("trusted key"));
}

#[test]
fn json_report_for_machines() {
    let published = real_published();
    let out = scanwerk(&["verify", published.dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["documents_checked"], REAL_BATCH.len());
    assert_eq!(report["problems"], serde_json::json!([]));
    let copy = TempDir::new("jsontamper");
    copy_tree(&published.dir, copy.path());
    std::fs::write(payload(&copy).join("documents/linn.pdf"), b"not a pdf").unwrap();
    let out = scanwerk(&["verify", copy.path().to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let files: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    // Named by its path in the bag; the bag's Payload-Oxum no longer matches the payload either.
    assert!(files.contains(&"data/documents/linn.pdf"), "{files:?}");
    assert!(files.contains(&"bag-info.txt"), "{files:?}");
}

#[test]
fn changing_any_byte_of_any_file_fails_and_names_it() {
    let published = real_published();
    for rel in files(&published.dir) {
        let copy = TempDir::new("tamper");
        copy_tree(&published.dir, copy.path());
        let path = copy.join(&rel);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
        let out = verify(copy.path(), None);
        assert_eq!(out.status.code(), Some(1), "{rel} changed but verify passed");
        let err = stderr(&out);
        let named = err
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains(rel.as_str()));
        assert!(named, "{rel} changed but not named:\n{err}");
    }
}

#[test]
fn unlisted_and_missing_files_fail() {
    let published = real_published();
    let copy = TempDir::new("extra");
    copy_tree(&published.dir, copy.path());
    std::fs::write(payload(&copy).join("documents/smuggled.pdf"), b"%PDF-1.7").unwrap();
    std::fs::remove_file(payload(&copy).join("documents/linn.json")).unwrap();
    let out = verify(copy.path(), None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("documents/smuggled.pdf: present but not listed"),
        "{err}"
    );
    assert!(
        err.contains("documents/linn.json: listed in the manifest but cannot be read"),
        "{err}"
    );
}

#[test]
fn another_trusted_key_fails() {
    let published = real_published();
    let other = TempDir::new("otherkey");
    let keys = keygen(other.path());
    let out = verify(&published.dir, Some(&keys.public));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("manifest.sig: signed by key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn signature_verifies_with_openssl() {
    let published = real_published();
    let out = openssl_verify(
        &published.keys.public,
        &payload(&published.dir).join("manifest.sig"),
        &payload(&published.dir).join("manifest.json"),
    );
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    // And the private key is PKCS#8 that openssl reads.
    let key = tool(
        "openssl",
        &[
            "pkey",
            "-in",
            published.keys.private.to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(String::from_utf8_lossy(&key.stdout).contains("NIST CURVE: P-256"));
}

#[test]
fn manifest_hashes_match_sha256sum_and_sha512sum() {
    let published = real_published();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&published.dir).join("manifest.json")).unwrap())
            .unwrap();
    let listed: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = files(&payload(&published.dir))
        .into_iter()
        .filter(|f| !f.starts_with("manifest."))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    for entry in manifest["files"].as_array().unwrap() {
        let path = payload(&published.dir).join(entry["path"].as_str().unwrap());
        for (field, program) in [("sha256", "sha256sum"), ("sha512", "sha512sum")] {
            let out = tool(program, &[path.to_str().unwrap()]);
            assert!(out.status.success(), "{program}: {}", stderr(&out));
            let sum = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            assert_eq!(entry[field], sum.as_str(), "{field} of {path:?}");
        }
    }
}

/// Copies one document's PDF and record and the batch's signed tree into a folder of their own.
fn apart(published: &Published, doc: &str) -> TempDir {
    let dir = TempDir::new("apart");
    for rel in [
        format!("documents/{doc}.pdf"),
        format!("documents/{doc}.json"),
        "hashtree.json".into(),
        "hashtree.sig".into(),
    ] {
        let name = std::path::Path::new(&rel).file_name().unwrap().to_owned();
        std::fs::copy(payload(&published.dir).join(&rel), dir.0.join(name)).unwrap();
    }
    dir
}

/// `scanwerk verify-document` on a document's PDF and record and a batch's tree.
fn verify_one(pdf: &Path, record: &Path, tree: &Path, trust: &Path) -> std::process::Output {
    scanwerk(&[
        "verify-document",
        pdf.to_str().unwrap(),
        "--record",
        record.to_str().unwrap(),
        "--tree",
        tree.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ])
}

/// `verify_one` on a document copied apart by [`apart`].
fn verify_document(dir: &TempDir, doc: &str, trust: &Path) -> std::process::Output {
    verify_one(
        &dir.join(&format!("{doc}.pdf")),
        &dir.join(&format!("{doc}.json")),
        &payload(dir).join("hashtree.json"),
        trust,
    )
}

#[test]
fn one_document_verifies_on_its_own_and_any_change_is_named() {
    let published = real_published();
    let doc = "eurotext";
    let good = apart(published, doc);
    let out = verify_document(&good, doc, &published.keys.public);
    assert!(out.status.success(), "{}", stderr(&out));
    // Another document's record cannot vouch for this PDF.
    let swapped = apart(published, doc);
    std::fs::copy(
        payload(&published.dir).join("documents/linn.json"),
        swapped.join(&format!("{doc}.json")),
    )
    .unwrap();
    let out = verify_document(&swapped, doc, &published.keys.public);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(
        said.contains(&format!("{doc}.pdf: differs from its record {doc}.json"))
            && said.contains("is not the document the signed hash tree holds"),
        "{said}"
    );
    for (file, name) in [
        (format!("{doc}.pdf"), format!("{doc}.pdf")),
        (format!("{doc}.json"), format!("{doc}.json")),
        ("hashtree.json".to_string(), "hashtree.sig".to_string()),
        ("hashtree.sig".to_string(), "hashtree.sig".to_string()),
    ] {
        let copy = apart(published, doc);
        let path = copy.join(&file);
        let mut bytes = std::fs::read(&path).unwrap();
        // In the record, change a hex digit of the proof; elsewhere flip a byte in the middle.
        let at = if file.ends_with(".json") && file != "hashtree.json" {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            text.find("\"levels\"").unwrap()
                + text[text.find("\"levels\"").unwrap()..].find('"').unwrap()
                + 20
        } else {
            bytes.len() / 2
        };
        bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
        std::fs::write(&path, bytes).unwrap();
        let out = verify_document(&copy, doc, &published.keys.public);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{file} changed but the document verified"
        );
        let err = stderr(&out);
        assert!(
            err.lines().any(|l| l.starts_with("FAIL") && l.contains(&name)),
            "{file} changed, {name} not named:\n{err}"
        );
    }
}

#[test]
fn the_tree_signature_checks_with_openssl() {
    let published = real_published();
    let out = openssl_verify(
        &published.keys.public,
        &payload(&published.dir).join("hashtree.sig"),
        &payload(&published.dir).join("hashtree.json"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    // The root follows from the leaves, and the leaves are the files' SHA-256.
    let tree: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&published.dir).join("hashtree.json")).unwrap())
            .unwrap();
    for leaf in tree["leaves"].as_array().unwrap() {
        let sum = tool(
            "sha256sum",
            &[payload(&published.dir)
                .join(leaf["path"].as_str().unwrap())
                .to_str()
                .unwrap()],
        );
        assert!(String::from_utf8_lossy(&sum.stdout).starts_with(leaf["hash"].as_str().unwrap()));
    }
    assert_eq!(
        tree["leaves"].as_array().unwrap().len(),
        REAL_BATCH.len() + 1,
        "every PDF and the protocol"
    );
}

#[test]
fn the_tree_hash_follows_the_profile() {
    let batch = TempDir::new("sha512batch");
    std::fs::copy(
        realscans().join("tesseract-ocr-test/eurotext.tif"),
        batch.join("euro.tif"),
    )
    .unwrap();
    std::fs::write(batch.join("batch.toml"), "id = \"sha512\"\n").unwrap();
    let profiles = TempDir::new("sha512profile");
    let profile = profiles.join("p.toml");
    std::fs::write(
        &profile,
        "id = \"long-hash\"\nversion = \"1\"\n[ocr]\nenabled = false\n[seal]\ntree_hash = \"sha-512\"\n",
    )
    .unwrap();
    let keydir = TempDir::new("sha512keys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("sha512archive");
    let out = ingest(
        batch.path(),
        archive.path(),
        &keys.private,
        &["--profile", profile.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = archive.join("sha512");
    let tree: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&dir).join("hashtree.json")).unwrap()).unwrap();
    assert_eq!(tree["algorithm"], "sha-512");
    for leaf in tree["leaves"].as_array().unwrap() {
        let sum = tool(
            "sha512sum",
            &[payload(&dir)
                .join(leaf["path"].as_str().unwrap())
                .to_str()
                .unwrap()],
        );
        assert!(String::from_utf8_lossy(&sum.stdout).starts_with(leaf["hash"].as_str().unwrap()));
    }
    assert!(verify(&dir, Some(&keys.public)).status.success());
    let alone = verify_one(
        &payload(&dir).join("documents/euro.pdf"),
        &payload(&dir).join("documents/euro.json"),
        &payload(&dir).join("hashtree.json"),
        &keys.public,
    );
    assert!(alone.status.success(), "{}", stderr(&alone));
}

/// The hash tree checked by an independent implementation of its rule (tests/e2e/hashtree.py:
/// hashlib, RFC 4998 sorted concatenation), not by scanwerk's own code: every leaf recomputed from
/// its file, the root rebuilt (an even and an odd number of leaves), every document's proof
/// reduced to it; the signature over hashtree.json checked by openssl. A changed root is refused.
#[test]
fn the_hash_tree_and_every_proof_check_out_with_an_independent_implementation() {
    let script = project("tests/e2e/hashtree.py");
    for published in [real_published(), all_published()] {
        let out = tool(
            "/usr/bin/python3",
            &[
                script.to_str().unwrap(),
                payload(&published.dir).to_str().unwrap(),
            ],
        );
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{said}{}", stderr(&out));
        let tree: serde_json::Value =
            serde_json::from_slice(&std::fs::read(payload(&published.dir).join("hashtree.json")).unwrap())
                .unwrap();
        let pdfs = pdfs_in(&published.dir).len();
        assert_eq!(
            said.trim(),
            format!("ok {} {} {pdfs}", tree["root"].as_str().unwrap(), pdfs + 1),
            "root, leaves (PDFs and protocol.json), proofs"
        );
        let sig = openssl_verify(
            &published.keys.public,
            &payload(&published.dir).join("hashtree.sig"),
            &payload(&published.dir).join("hashtree.json"),
        );
        assert!(sig.status.success(), "openssl: {}", stderr(&sig));
    }
    // The check can fail: a copy whose tree names another root.
    let tmp = TempDir::new("tree-changed");
    let copy = tmp.join("batch");
    copy_tree(&real_published().dir, &copy);
    let text = std::fs::read_to_string(payload(&copy).join("hashtree.json")).unwrap();
    let root = serde_json::from_str::<serde_json::Value>(&text).unwrap()["root"]
        .as_str()
        .unwrap()
        .to_string();
    let other: String = root.chars().rev().collect();
    std::fs::write(payload(&copy).join("hashtree.json"), text.replace(&root, &other)).unwrap();
    let out = tool(
        "/usr/bin/python3",
        &[script.to_str().unwrap(), payload(&copy).to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("root rebuilt from the leaves"),
        "{}",
        stderr(&out)
    );
}
