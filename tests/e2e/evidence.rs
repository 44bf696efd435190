//! Evidentiary value: PAdES signatures checked by pyHanko and pdfsig, P-384 keys, RFC 3161 time
//! stamps from a real TSA on loopback (checked by `openssl ts -verify`), offline time stamping,
//! and protection levels refused before any page is read.

use std::path::Path;

use crate::harness::*;
use crate::tsa::TestTsa;

const BATCH: &str = "demo-2026-001";

/// A profile like the bundled `image-only` (fast: no OCR) with extra lines.
fn profile(dir: &TempDir, extra_top: &str, seal: &str) -> String {
    let path = dir.join("profile.toml");
    std::fs::write(
        &path,
        format!(
            "id = \"evidence\"\nversion = \"1\"\ndescription = \"test\"\n{extra_top}\n\
             [input]\nassume_dpi = 300\n[ocr]\nenabled = false\n[seal]\n{seal}\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pades_signatures_validate_with_pyhanko_and_pdfsig_and_the_pdfs_stay_pdfa() {
    let keydir = TempDir::new("pades-keys");
    let keys = keygen_with(keydir.path(), &["--cert", "--name", "Erika Mustermann"]);
    let archive = TempDir::new("pades");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--cert", keys.cert.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    for doc in ["akte", "antrag", "bescheid"] {
        let pdf = payload(&batch).join(format!("documents/{doc}.pdf"));
        let hanko = pyhanko_validate(&pdf, &keys.cert);
        let said = stdout(&hanko);
        assert!(
            hanko.status.success(),
            "pyHanko on {doc}: {said}{}",
            stderr(&hanko)
        );
        assert!(
            said.contains(":INTACT:TRUSTED,UNTOUCHED"),
            "pyHanko on {doc}: {said}"
        );
        let sig = tool("pdfsig", &[pdf.to_str().unwrap()]);
        let said = stdout(&sig);
        for expected in [
            "Signature Validation: Signature is Valid.",
            "Total document signed",
            "Signature Type: ETSI.CAdES.detached",
            "Signer Certificate Common Name: Erika Mustermann",
        ] {
            assert!(said.contains(expected), "pdfsig on {doc}: {said}");
        }
        let qpdf = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
        assert!(qpdf.status.success(), "qpdf on {doc}: {}", stdout(&qpdf));
        let record = json(&payload(&batch).join(format!("documents/{doc}.json")));
        assert_eq!(record["pdf_signature"]["sub_filter"], "ETSI.CAdES.detached");
        assert_eq!(record["pdf_signature"]["signer"], "CN=Erika Mustermann");
    }
    let protocol = json(&payload(&batch).join("protocol.json"));
    assert_eq!(
        protocol["transfer_note"]["sealing"]["pdf_signer"],
        "CN=Erika Mustermann"
    );
    // scanwerk's own verify (incl. the PDF/A self-check) agrees and says so.
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 of 3 PAdES B-B valid, signer CN=Erika Mustermann"),
        "{}",
        stdout(&out)
    );

    // One changed byte inside the signed range: pyHanko and pdfsig both see it.
    let pdf = payload(&batch).join("documents/bescheid.pdf");
    let bad = archive.join("bad.pdf");
    let mut bytes = std::fs::read(&pdf).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    std::fs::write(&bad, &bytes).unwrap();
    // An explicit verdict from each, not merely the absence of "valid": a crash or an empty
    // answer must not count as "tampering detected".
    let out = pyhanko_validate(&bad, &keys.cert);
    let said = stdout(&out);
    assert!(
        said.trim_end().ends_with(":INVALID") && out.status.code() == Some(1),
        "pyHanko on a changed PDF: {said}{}",
        stderr(&out)
    );
    let out = tool("pdfsig", &[bad.to_str().unwrap()]);
    let said = stdout(&out);
    assert!(
        said.contains("Signature Validation: Digest Mismatch.")
            && said.contains("Signature Field Name: scanwerk"),
        "pdfsig on a changed PDF: {said}"
    );
}

#[test]
fn p384_keys_sign_batch_and_pdfs_and_a_curve_mismatch_is_refused() {
    let keydir = TempDir::new("p384-keys");
    let keys = keygen_with(keydir.path(), &["--curve", "p384", "--cert"]);
    let dir = TempDir::new("p384-profile");
    let p384 = profile(&dir, "", "signature = \"ecdsa-p384\"");
    let archive = TempDir::new("p384");
    let batch_dir = project("testdata/demo-batch");
    let out = ingest(
        &batch_dir,
        archive.path(),
        &keys.private,
        &["--profile", &p384, "--cert", keys.cert.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    let manifest = json(&payload(&batch).join("manifest.json"));
    assert_eq!(
        manifest["signature"]["algorithm"], "ecdsa-p384-sha384",
        "{manifest}"
    );
    for (sig, file) in [
        ("manifest.sig", "manifest.json"),
        ("hashtree.sig", "hashtree.json"),
    ] {
        let out = openssl_verify_with(
            "-sha384",
            &keys.public,
            &payload(&batch).join(sig),
            &payload(&batch).join(file),
        );
        assert!(out.status.success(), "openssl on {file}: {}", stderr(&out));
    }
    let hanko = pyhanko_validate(&payload(&batch).join("documents/akte.pdf"), &keys.cert);
    assert!(
        stdout(&hanko).contains(":INTACT:TRUSTED,UNTOUCHED"),
        "{}",
        stdout(&hanko)
    );
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A P-256 key under a P-384 profile is refused before anything is read or written.
    let p256_dir = TempDir::new("p256-keys");
    let p256 = keygen(p256_dir.path());
    let archive = TempDir::new("mismatch");
    let out = ingest(&batch_dir, archive.path(), &p256.private, &["--profile", &p384]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is P-256 but profile evidence signs with P-384"),
        "{}",
        stderr(&out)
    );
    assert_eq!(files(archive.path()), Vec::<String>::new());
}

#[test]
fn online_time_stamp_from_a_loopback_tsa_verifies_with_openssl_and_scanwerk() {
    let tsa = TestTsa::start("tsa-online");
    let keydir = TempDir::new("tsa-keys");
    let keys = keygen(keydir.path());
    let dir = TempDir::new("tsa-profile");
    let stamped = profile(&dir, "", &format!("tsa_url = \"{}\"", tsa.url));
    let archive = TempDir::new("tsa-archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", &stamped],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    let tree = json(&payload(&batch).join("hashtree.json"));
    let root = tree["root"].as_str().unwrap();
    let reply = payload(&batch).join("hashtree.tsr");
    // openssl checks the token on its own: over the root itself, and against the query.
    for how in [
        ["-digest", root],
        [
            "-queryfile",
            payload(&batch).join("hashtree.tsq").to_str().unwrap(),
        ],
    ] {
        let out = tool(
            "openssl",
            &[
                "ts",
                "-verify",
                how[0],
                how[1],
                "-in",
                reply.to_str().unwrap(),
                "-CAfile",
                tsa.ca.to_str().unwrap(),
            ],
        );
        assert!(
            stdout(&out).contains("Verification: OK"),
            "openssl ts -verify {how:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let manifest = json(&payload(&batch).join("manifest.json"));
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"hashtree.tsr") && listed.contains(&"hashtree.tsq"),
        "{listed:?}"
    );

    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--tsa-trust",
        tsa.ca.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("by CN=scanwerk test TSA (TSA certificate trusted)"),
        "{}",
        stdout(&out)
    );
    let out = scanwerk(&["verify", batch.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["timestamp"]["tsa"], "CN=scanwerk test TSA", "{report}");

    // Another TSA's root does not vouch for this one.
    let other = TestTsa::start("tsa-other");
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--tsa-trust",
        other.ca.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hashtree.tsr: time-stamp reply: the TSA certificate"),
        "{}",
        stderr(&out)
    );

    // A reply for another batch's root, put in place of this one, is named.
    let archive2 = TempDir::new("tsa-archive2");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive2.path(),
        &keys.private,
        &["--profile", &stamped],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::copy(archive2.join(&format!("{BATCH}/data/hashtree.tsr")), &reply).unwrap();
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("FAIL data/hashtree.tsr"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn offline_time_stamp_query_is_attached_later_and_checked() {
    let tsa = TestTsa::start("tsa-offline");
    let keydir = TempDir::new("offline-keys");
    let keys = keygen(keydir.path());
    let dir = TempDir::new("offline-profile");
    let offline = profile(&dir, "", "timestamp = \"offline\"");
    let archive = TempDir::new("offline-archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", &offline],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    assert!(!payload(&batch).join("hashtree.tsr").exists());
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pending: hashtree.tsq written"),
        "{}",
        stdout(&out)
    );

    // The query goes to the TSA by other means; its reply is attached.
    let reply = archive.join("reply.tsr");
    std::fs::write(&reply, tsa.reply(&payload(&batch).join("hashtree.tsq"))).unwrap();
    let attach = |reply: &Path| {
        scanwerk(&[
            "timestamp",
            "attach",
            batch.to_str().unwrap(),
            reply.to_str().unwrap(),
            "--trust",
            keys.public.to_str().unwrap(),
        ])
    };
    // First a reply to some other query: refused, nothing added.
    let stranger = archive.join("stranger.tsq");
    let out = tool(
        "openssl",
        &[
            "ts",
            "-query",
            "-digest",
            &"ab".repeat(32),
            "-sha256",
            "-cert",
            "-out",
            stranger.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let wrong = archive.join("wrong.tsr");
    std::fs::write(&wrong, tsa.reply(&stranger)).unwrap();
    let out = attach(&wrong);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stamps another hash"), "{}", stderr(&out));
    assert!(!payload(&batch).join("hashtree.tsr").exists());

    let out = attach(&reply);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("by CN=scanwerk test TSA"),
        "{}",
        stdout(&out)
    );
    let root = json(&payload(&batch).join("hashtree.json"))["root"]
        .as_str()
        .unwrap()
        .to_string();
    let out = tool(
        "openssl",
        &[
            "ts",
            "-verify",
            "-digest",
            &root,
            "-in",
            payload(&batch).join("hashtree.tsr").to_str().unwrap(),
            "-CAfile",
            tsa.ca.to_str().unwrap(),
        ],
    );
    assert!(
        stdout(&out).contains("Verification: OK"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--tsa-trust",
        tsa.ca.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("TSA certificate trusted"),
        "{}",
        stdout(&out)
    );
    // Once stamped, never again.
    let out = attach(&reply);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already has a time stamp"),
        "{}",
        stderr(&out)
    );
    // `timestamp fetch` asks a service itself; on a stamped batch it is refused the same way.
    let out = scanwerk(&["timestamp", "fetch", batch.to_str().unwrap(), "--url", &tsa.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already has a time stamp"),
        "{}",
        stderr(&out)
    );

    // A protocol raised to "hoch" after the fact: besides the broken hashes, verify names the
    // signatures the level would have required.
    let protocol = payload(&batch).join("protocol.json");
    let text = std::fs::read_to_string(&protocol).unwrap();
    assert!(text.contains("\"protection\": \"normal\""));
    std::fs::write(
        &protocol,
        text.replace("\"protection\": \"normal\"", "\"protection\": \"hoch\""),
    )
    .unwrap();
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("protection level \"hoch\" requires a PAdES signature in every PDF; 0 of 3"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_time_stamp_service_publishes_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsr", listener.local_addr().unwrap());
    drop(listener);
    let keydir = TempDir::new("down-keys");
    let keys = keygen(keydir.path());
    let dir = TempDir::new("down-profile");
    let down = profile(&dir, "", &format!("tsa_url = \"{url}\""));
    let archive = TempDir::new("down-archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", &down],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("time-stamp service {url}")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("nothing was published"), "{}", stderr(&out));
    assert_eq!(files(archive.path()), Vec::<String>::new());
}

#[test]
fn protection_levels_are_refused_before_any_page_is_read_when_unmet() {
    let keydir = TempDir::new("level-keys");
    let keys = keygen_with(keydir.path(), &["--cert"]);
    let dir = TempDir::new("level-profiles");
    let hoch = profile(&dir, "protection = \"hoch\"", "");
    let archive = TempDir::new("level-archive");
    let demo = project("testdata/demo-batch");

    let out = ingest(&demo, archive.path(), &keys.private, &["--profile", &hoch]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "protection \"hoch\", which requires a certificate-based signature in every PDF: give --cert FILE"
        ),
        "{}",
        stderr(&out)
    );
    // Without a named person in the batch sheet, "hoch" is refused too.
    let anonymous = TempDir::new("anonymous-batch");
    copy_tree(&demo, anonymous.path());
    let sheet = std::fs::read_to_string(demo.join("batch.toml")).unwrap();
    let sheet: String = sheet
        .lines()
        .filter(|l| !l.starts_with("operator"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(anonymous.join("batch.toml"), sheet).unwrap();
    let out = ingest(
        anonymous.path(),
        archive.path(),
        &keys.private,
        &["--profile", &hoch, "--cert", keys.cert.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("requires the responsible person by name: set operator"),
        "{}",
        stderr(&out)
    );

    let sehr_hoch = profile(&dir, "protection = \"sehr-hoch\"", "");
    let out = ingest(
        &demo,
        archive.path(),
        &keys.private,
        &["--profile", &sehr_hoch, "--cert", keys.cert.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("requires a time stamp on the batch: set seal.tsa_url"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        files(archive.path()),
        Vec::<String>::new(),
        "nothing staged, nothing published"
    );

    // Met: every page is marked for the full visual check "sehr hoch" asks for, and the batch
    // waits for it: sealed only after two people accepted every page.
    let sehr_hoch = profile(&dir, "protection = \"sehr-hoch\"", "timestamp = \"offline\"");
    let out = ingest(
        &demo,
        archive.path(),
        &keys.private,
        &["--profile", &sehr_hoch, "--cert", keys.cert.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let review = archive.join(".review").join(BATCH);
    crate::review::accept_all(&review, "Anna");
    crate::review::accept_all(&review, "Ben");
    let out = scanwerk(&["review", "seal", review.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    for doc in ["akte", "antrag", "bescheid"] {
        let record = json(&payload(&batch).join(format!("documents/{doc}.json")));
        for page in record["pages"].as_array().unwrap() {
            assert_eq!(page["needs_review"], true, "{page}");
            assert!(
                page["flags"].as_array().unwrap().contains(&"full_review".into()),
                "{page}"
            );
        }
    }
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("protection      sehr-hoch"),
        "{}",
        stdout(&out)
    );
    let protocol = json(&payload(&batch).join("protocol.json"));
    assert_eq!(protocol["transfer_note"]["sealing"]["protection"], "sehr-hoch");
    assert_eq!(protocol["transfer_note"]["sealing"]["timestamp"], "offline");
}

/// `tests/ers/ErsCheck.java` compiled once with the JDK against Debian's Bouncy Castle jars; the
/// classpath to run it with.
fn ers_checker() -> &'static str {
    static CLASSPATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLASSPATH.get_or_init(|| {
        let jars = ["bcprov", "bcpkix", "bcutil"]
            .map(|j| format!("/usr/share/java/{j}.jar"))
            .join(":");
        let out_dir = project("target/ers-check");
        std::fs::create_dir_all(&out_dir).unwrap();
        let source = project("tests/ers/ErsCheck.java");
        let out = tool(
            "javac",
            &[
                "-cp",
                &jars,
                "-d",
                out_dir.to_str().unwrap(),
                source.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "javac: {}", stderr(&out));
        format!("{jars}:{}", out_dir.display())
    })
}

/// Bouncy Castle's RFC 4998 verdict on `ers` covering `data`.
fn bouncy_castle_ers(ers: &Path, data: &Path) -> std::process::Output {
    tool(
        "java",
        &[
            "-cp",
            ers_checker(),
            "ErsCheck",
            ers.to_str().unwrap(),
            data.to_str().unwrap(),
        ],
    )
}

#[test]
fn evidence_records_verify_with_bouncy_castle_and_openssl_reads_them() {
    let tsa = TestTsa::start("ers-tsa");
    let keydir = TempDir::new("ers-keys");
    let keys = keygen(keydir.path());
    let dir = TempDir::new("ers-profile");
    let stamped = profile(&dir, "", &format!("tsa_url = \"{}\"", tsa.url));
    let archive = TempDir::new("ers-archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", &stamped],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    let protocol = json(&payload(&batch).join("protocol.json"));
    let manifest = std::fs::read_to_string(payload(&batch).join("manifest.json")).unwrap();
    for doc in ["akte", "antrag", "bescheid"] {
        let ers = payload(&batch).join(format!("documents/{doc}.ers"));
        let pdf = payload(&batch).join(format!("documents/{doc}.pdf"));
        let out = tool(
            "openssl",
            &["asn1parse", "-inform", "DER", "-in", ers.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "openssl asn1parse {doc}.ers: {}",
            stderr(&out)
        );
        let out = bouncy_castle_ers(&ers, &pdf);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        assert!(
            manifest.contains(&format!("\"documents/{doc}.ers\"")),
            "listed in the manifest"
        );
        // A PDF with one byte flipped is not what the record covers.
        let mut bytes = std::fs::read(&pdf).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        let flipped = dir.join(&format!("{doc}-flipped.pdf"));
        std::fs::write(&flipped, bytes).unwrap();
        let out = bouncy_castle_ers(&ers, &flipped);
        assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    }
    assert!(
        protocol["transfer_note"]["sealing"]["evidence_records"]
            .as_str()
            .unwrap()
            .starts_with("documents/<id>.ers (RFC 4998)")
    );
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--tsa-trust",
        tsa.ca.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 RFC 4998 evidence records"),
        "{}",
        stdout(&out)
    );
    // An evidence record whose reduced hash tree no longer holds its PDF's hash is named by verify
    // (a sibling's record would still be right: in RFC 4998 two leaves of one pair share theirs).
    let ers_path = payload(&batch).join("documents/antrag.ers");
    let leaf = scanwerk::seal::tree::TreeHash::Sha256
        .digest(&std::fs::read(payload(&batch).join("documents/antrag.pdf")).unwrap());
    let mut ers = std::fs::read(&ers_path).unwrap();
    let at = ers
        .windows(32)
        .position(|w| w == leaf.as_slice())
        .expect("the PDF's hash is in its record");
    ers[at] ^= 0x01;
    std::fs::write(&ers_path, ers).unwrap();
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("documents/antrag.ers: its reduced hash tree does not lead from documents/antrag.pdf"),
        "{}",
        stderr(&out)
    );

    // Without a time stamp there is none, and the protocol says why.
    let plain = TempDir::new("ers-none");
    let out = ingest(
        &project("testdata/demo-batch"),
        plain.path(),
        &keys.private,
        &["--profile", &profile(&dir, "", "")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = plain.join(BATCH);
    assert!(!payload(&batch).join("documents/akte.ers").exists());
    let protocol = json(&payload(&batch).join("protocol.json"));
    let why = protocol["transfer_note"]["sealing"]["evidence_records"]
        .as_str()
        .unwrap();
    assert!(
        why.starts_with("none: an RFC 4998 evidence record needs a time stamp"),
        "{why}"
    );

    // Sealed offline: the records come with the attached reply, and Bouncy Castle takes them.
    let offline = TempDir::new("ers-offline");
    let out = ingest(
        &project("testdata/demo-batch"),
        offline.path(),
        &keys.private,
        &["--profile", &profile(&dir, "", "timestamp = \"offline\"")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = offline.join(BATCH);
    assert!(!payload(&batch).join("documents/akte.ers").exists());
    let reply = offline.join("reply.tsr");
    std::fs::write(&reply, tsa.reply(&payload(&batch).join("hashtree.tsq"))).unwrap();
    let out = scanwerk(&[
        "timestamp",
        "attach",
        batch.to_str().unwrap(),
        reply.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for doc in ["akte", "antrag", "bescheid"] {
        let out = bouncy_castle_ers(
            &payload(&batch).join(format!("documents/{doc}.ers")),
            &payload(&batch).join(format!("documents/{doc}.pdf")),
        );
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 RFC 4998 evidence records"),
        "{}",
        stdout(&out)
    );
}
