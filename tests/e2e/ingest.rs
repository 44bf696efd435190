//! Ingest: searchable PDFs that independent tools accept, recall at least the tesseract CLI's,
//! JPEG bytes passed through, the demo batch's German text, and deterministic output.

use std::path::Path;

use crate::harness::*;

fn doc_id(image: &str) -> String {
    Path::new(image)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn real_scans_are_searchable_as_well_as_with_the_tesseract_cli() {
    let published = real_published();
    let mut report = Vec::new();
    for (image, gt) in REAL_BATCH {
        let pdf = payload(&published.dir).join(format!("documents/{}.pdf", doc_id(image)));
        let truth = std::fs::read_to_string(realscans().join(gt)).unwrap();
        let ours = word_recall(&truth, &pdftotext(&pdf));
        let cli = tool(
            "tesseract",
            &[realscans().join(image).to_str().unwrap(), "-", "-l", "deu+eng"],
        );
        assert!(cli.status.success(), "tesseract CLI on {image}: {}", stderr(&cli));
        let theirs = word_recall(&truth, &String::from_utf8_lossy(&cli.stdout));
        report.push(format!("{image}: scanwerk {ours:.3}, tesseract CLI {theirs:.3}"));
        assert!(
            ours >= theirs - 0.02,
            "{image}: recall {ours:.3} < CLI {theirs:.3} - 0.02\n{}",
            report.join("\n")
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn every_real_scan_pdf_passes_qpdf_check() {
    let published = real_published();
    for (image, _) in REAL_BATCH {
        let pdf = payload(&published.dir).join(format!("documents/{}.pdf", doc_id(image)));
        let out = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "qpdf --check {image}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn one_pdf_per_input_file_with_its_page_count() {
    let published = real_published();
    for (image, _) in REAL_BATCH {
        let json = payload(&published.dir).join(format!("documents/{}.json", doc_id(image)));
        let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let expected = if image.ends_with("multi-page-images.tiff") {
            3
        } else {
            1
        };
        assert_eq!(record["page_count"], expected, "{image}");
        let pdf = payload(&published.dir).join(format!("documents/{}.pdf", doc_id(image)));
        let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&info.stdout).into_owned();
        let pages = text.lines().find_map(|l| l.strip_prefix("Pages:")).map(str::trim);
        assert_eq!(pages, Some(expected.to_string().as_str()), "{image}: {text}");
    }
}

#[test]
fn jpeg_inputs_are_embedded_byte_for_byte() {
    let published = real_published();
    for image in ["pytesseract/test.jpg", "naps2/word_p2.jpg"] {
        let pdf = payload(&published.dir).join(format!("documents/{}.pdf", doc_id(image)));
        let list = String::from_utf8_lossy(&tool("pdfimages", &["-list", pdf.to_str().unwrap()]).stdout)
            .into_owned();
        let row = list.lines().nth(2).unwrap_or_default();
        assert!(
            row.split_whitespace().nth(8) == Some("jpeg"),
            "{image} not embedded as jpeg:\n{list}"
        );
        let out = TempDir::new("pdfimages");
        pdfimages("-all", &pdf, &out.join("img"));
        let extracted = std::fs::read(out.join("img-000.jpg")).expect("pdfimages wrote img-000.jpg");
        let original = std::fs::read(realscans().join(image)).unwrap();
        assert!(
            extracted == original,
            "{image}: embedded JPEG differs from the input file"
        );
    }
}

#[test]
fn physical_page_size_follows_resolution() {
    let published = real_published();
    // eurotext.tif: 1024 x 800 px at 300 dpi = 245.76 x 192 pt.
    let pdf = payload(&published.dir).join("documents/eurotext.pdf");
    let info = String::from_utf8_lossy(&tool("pdfinfo", &[pdf.to_str().unwrap()]).stdout).into_owned();
    let size = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .map(str::trim);
    assert_eq!(size, Some("245.76 x 192 pts"), "{info}");
}

#[test]
fn protocol_records_sources_profile_and_operator() {
    let published = real_published();
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&published.dir).join("protocol.json")).unwrap())
            .unwrap();
    assert_eq!(protocol["format"], "scanwerk/2");
    assert_eq!(protocol["batch_id"], "real-1");
    assert_eq!(protocol["operator"], "Test Operator");
    let note = &protocol["transfer_note"];
    assert_eq!(note["responsible_person"], "Test Operator");
    assert_eq!(note["responsible_person_source"], "batch.toml");
    assert_eq!(note["times"]["scanned"], "2026-11-20T08:30:00Z");
    // The statement says what was done: automatic checks, with the counts of pages left for a
    // person; it never claims a visual check that nobody recorded.
    let statement = note["statement"].as_str().unwrap();
    let review = note["quality"]["pages_needing_review"].as_u64().unwrap();
    let sample = protocol["qa_sample"]["pages"].as_array().unwrap().len();
    let pages = protocol["completeness"]["pages"].as_u64().unwrap();
    assert!(
        statement.starts_with("Automatisch geprüft")
            && statement.contains(&format!(": {pages} Seite(n)."))
            && statement.contains(&format!(
                "{review} zur Sichtprüfung markierte Seite(n) und {sample} Seite(n) der Stichprobe"
            ))
            && !statement.contains("stimmt mit dem Papieroriginal"),
        "{statement}"
    );
    assert!(
        note["statement_en"]
            .as_str()
            .unwrap()
            .contains("No visual check by a person is recorded")
    );
    assert!(
        note["times"]["processing_started"].as_str().unwrap() <= note["times"]["sealed"].as_str().unwrap()
    );
    assert_eq!(protocol["operator_source"], "batch.toml");
    let profile_bytes = std::fs::read(project("profiles/standard.toml")).unwrap();
    let sha = tool(
        "sha256sum",
        &[project("profiles/standard.toml").to_str().unwrap()],
    );
    let expected = String::from_utf8_lossy(&sha.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(!profile_bytes.is_empty());
    assert_eq!(protocol["profile"]["sha256"], expected.as_str());
    assert_eq!(protocol["profile"]["id"], "standard");
    let docs = protocol["documents"].as_array().unwrap();
    assert_eq!(docs.len(), REAL_BATCH.len());
    for doc in docs {
        let source = &doc["sources"][0];
        let path = published.batch.join(source["path"].as_str().unwrap());
        let sum = tool("sha256sum", &[path.to_str().unwrap()]);
        let actual = String::from_utf8_lossy(&sum.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(source["sha256"], actual.as_str(), "{path:?}");
        assert!(doc["mean_confidence"].as_f64().unwrap() > 50.0, "{doc}");
    }
}

#[test]
fn demo_batch_recovers_german_text_and_is_deterministic() {
    let keydir = TempDir::new("demokeys");
    // With a certificate, so the PAdES signature inside each PDF is compared too.
    let keys = keygen_with(keydir.path(), &["--cert"]);
    let cert = keys.cert.to_str().unwrap();
    let (a, b) = (TempDir::new("demo-a"), TempDir::new("demo-b"));
    let batch = project("testdata/demo-batch");
    let before = files(&batch);
    assert!(
        ingest(
            &batch,
            a.path(),
            &keys.private,
            &["--threads", "2", "--cert", cert]
        )
        .status
        .success()
    );
    let out = ingest(
        &batch,
        b.path(),
        &keys.private,
        &["--threads", "1", "--cert", cert],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(&batch), before, "input untouched");
    for doc in ["bescheid", "antrag", "akte"] {
        let pdf = a.join(&format!("demo-2026-001/data/documents/{doc}.pdf"));
        let truth = std::fs::read_to_string(project(&format!("testdata/demo-gt/{doc}.txt"))).unwrap();
        let recall = word_recall(&truth, &pdftotext(&pdf));
        assert!(recall >= 0.95, "{doc}: recall {recall:.3}");
        let rel = format!("demo-2026-001/data/documents/{doc}.pdf");
        assert!(
            std::fs::read(a.join(&rel)).unwrap() == std::fs::read(b.join(&rel)).unwrap(),
            "{rel} differs between runs"
        );
        // The record is identical but for its hash-tree proof, which depends on every file of the
        // batch, the protocol's real times included.
        let rel = format!("demo-2026-001/data/documents/{doc}.json");
        let without_proof = |dir: &TempDir| {
            let mut v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join(&rel)).unwrap()).unwrap();
            assert!(v["proof"]["levels"].is_array(), "{rel} carries a proof");
            v.as_object_mut().unwrap().remove("proof");
            v
        };
        assert_eq!(without_proof(&a), without_proof(&b), "{rel} differs between runs");
    }
    let text = pdftotext(&a.join("demo-2026-001/data/documents/bescheid.pdf"));
    for word in ["Straßenverkehrsamt", "Förderung", "Müller", "Grüßen"] {
        assert!(text.contains(word), "{word} missing in:\n{text}");
    }
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("demo-2026-001/data/protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["completeness"]["complete"], true, "{protocol}");
    assert_eq!(protocol["metadata"]["file_number"], "32.1-0815/2026");
    let pages: Vec<_> = protocol["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pages"].as_u64().unwrap())
        .collect();
    assert_eq!(pages, vec![2, 2, 1], "akte, antrag, bescheid in name order");
}

#[test]
fn image_only_profile_embeds_without_text() {
    let keydir = TempDir::new("imgkeys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("imgonly");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdftotext(&archive.join("demo-2026-001/data/documents/bescheid.pdf"));
    assert!(text.trim().is_empty(), "no OCR text expected: {text}");
    assert!(
        scanwerk(&["verify", archive.join("demo-2026-001").to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn peak_memory_does_not_grow_with_pages() {
    // One document of 8 pages vs one of 80 (the same two-page TIFF repeated) through the
    // image-only profile (no OCR), measured by GNU time. In-flight pages are bounded by the
    // pipeline's slots and the PDF is streamed, so neither batch nor document size adds memory.
    let page = project("testdata/demo-batch/akte.tiff");
    let keydir = TempDir::new("memkeys");
    let keys = keygen(keydir.path());
    let rss = |count: usize| {
        let batch = TempDir::new("membatch");
        let document = batch.dir("akte");
        for i in 0..count {
            std::fs::copy(&page, document.join(format!("p{i:03}.tiff"))).unwrap();
        }
        let archive = TempDir::new("memarchive");
        let out = tool(
            "/usr/bin/time",
            &[
                "-f",
                "MAXRSS %M",
                BIN,
                "ingest",
                batch.path().to_str().unwrap(),
                "--archive",
                archive.path().to_str().unwrap(),
                "--key",
                keys.private.to_str().unwrap(),
                "--profile",
                "image-only",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        let line = err.lines().find(|l| l.starts_with("MAXRSS")).unwrap().to_string();
        line[7..].trim().parse::<u64>().unwrap()
    };
    let (small, large) = (rss(4), rss(40));
    assert!(
        large < small + small / 4 + 8_000,
        "peak RSS {small} KB at 8 pages, {large} KB at 80"
    );
}

#[test]
fn tesseract_and_leptonica_allocate_through_the_binarys_jemalloc() {
    // The binary carries jemalloc with unprefixed `malloc`/`free` (feature "jemalloc"): the
    // dynamic linker must bind the C and C++ libraries' calls to it, not to glibc's, or the two
    // engines' allocations stay on glibc's malloc. The loader's own record of its bindings, from
    // an OCR ingest of one demo page, is what proves it.
    let batch = TempDir::new("allocbatch");
    std::fs::copy(
        project("testdata/demo-batch/bescheid.png"),
        batch.dir("bescheid").join("p1.png"),
    )
    .unwrap();
    let keydir = TempDir::new("allockeys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("allocarchive");
    let log = TempDir::new("allocld");
    let out = std::process::Command::new(BIN)
        .args(["ingest", batch.path().to_str().unwrap(), "--archive"])
        .arg(archive.path())
        .arg("--key")
        .arg(&keys.private)
        .env("OMP_THREAD_LIMIT", "1")
        .env("LD_DEBUG", "bindings")
        .env("LD_DEBUG_OUTPUT", log.join("ld"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut bindings = String::new();
    for entry in std::fs::read_dir(log.path()).unwrap() {
        bindings += &std::fs::read_to_string(entry.unwrap().path()).unwrap();
    }
    let target = |library: &str, symbol: &str| {
        bindings
            .lines()
            .filter(|l| l.contains(library) && l.contains(&format!("symbol `{symbol}'")))
            // "binding file LIB [0] to TARGET [0]: normal symbol `malloc' …"
            .filter_map(|l| l.split_once(" to ")?.1.split_whitespace().next())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let bin = std::fs::canonicalize(BIN).unwrap();
    let is_bin = |t: &String| std::fs::canonicalize(t).is_ok_and(|t| t == bin);
    // tesseract allocates through libstdc++'s operator new; leptonica calls malloc and free itself.
    for (library, symbol) in [
        ("libstdc++", "malloc"),
        ("liblept", "malloc"),
        ("liblept", "free"),
    ] {
        let found = target(library, symbol);
        assert!(
            !found.is_empty() && found.iter().all(is_bin),
            "{library}'s `{symbol}` is bound to {found:?}, not to the binary {}",
            bin.display()
        );
    }
}
