//! Verify: passes on a published batch, fails naming the file for any changed byte, an extra
//! file or another trusted key; the signature also checks with openssl.

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
    std::fs::write(copy.join("documents/smuggled.pdf"), b"%PDF-1.7").unwrap();
    std::fs::remove_file(copy.join("documents/linn.json")).unwrap();
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
    let sig = published.dir.join("manifest.sig");
    let manifest = published.dir.join("manifest.json");
    let out = tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            published.keys.public.to_str().unwrap(),
            "-signature",
            sig.to_str().unwrap(),
            manifest.to_str().unwrap(),
        ],
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
fn manifest_hashes_match_sha512sum() {
    let published = real_published();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(published.dir.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = files(&published.dir)
        .into_iter()
        .filter(|f| !f.starts_with("manifest."))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    for entry in manifest["files"].as_array().unwrap() {
        let path = published.dir.join(entry["path"].as_str().unwrap());
        let out = tool("sha512sum", &[path.to_str().unwrap()]);
        let sum = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(entry["sha512"], sum.as_str(), "{path:?}");
    }
}
