//! Input handling: bad files fail their document with a message naming file and page, nothing is
//! published and the input is untouched; configuration errors stop before any page is read.

use crate::harness::*;
use std::process::Command;

fn keys() -> (TempDir, Keys) {
    let dir = TempDir::new("inputkeys");
    let keys = keygen(dir.path());
    (dir, keys)
}

#[test]
fn damaged_file_fails_its_document_and_publishes_nothing() {
    let (_k, keys) = keys();
    let batch = TempDir::new("badbatch");
    std::fs::copy(
        project("testdata/demo-batch/bescheid.png"),
        batch.join("good.png"),
    )
    .unwrap();
    let png = std::fs::read(project("testdata/demo-batch/bescheid.png")).unwrap();
    std::fs::write(batch.join("truncated.png"), &png[..png.len() / 3]).unwrap();
    std::fs::write(batch.join("notes.txt"), "not an image").unwrap();
    let before = files(batch.path());
    let archive = TempDir::new("badarchive");
    let out = ingest(batch.path(), archive.path(), &keys.private, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("truncated.png, page 1: decode:"), "{err}");
    assert!(err.contains("notes.txt: not a TIFF, PNG or JPEG"), "{err}");
    assert!(err.contains("nothing was published"), "{err}");
    assert!(
        files(archive.path()).is_empty(),
        "archive must stay empty: {:?}",
        files(archive.path())
    );
    assert_eq!(files(batch.path()), before, "input untouched");
}

#[test]
fn strict_profile_refuses_images_without_resolution() {
    let (_k, keys) = keys();
    let batch = TempDir::new("nodpi");
    std::fs::copy(
        realscans().join("paperless-ngx/simple-no-dpi.png"),
        batch.join("simple-no-dpi.png"),
    )
    .unwrap();
    let archive = TempDir::new("nodpiarchive");
    let out = ingest(
        batch.path(),
        archive.path(),
        &keys.private,
        &["--profile", "strict"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("simple-no-dpi.png, page 1: prepare:") && err.contains("assume_dpi"),
        "{err}"
    );
    // The standard profile assumes 300 dpi and records it.
    let out = ingest(batch.path(), archive.path(), &keys.private, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("assumed 300 dpi"));
    let dir = archive.path().join(&entries(archive.path())[0]);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&dir).join("documents/simple-no-dpi.json")).unwrap())
            .unwrap();
    assert_eq!(record["pages"][0]["dpi_assumed"], true);
}

#[test]
fn profile_with_unknown_key_is_refused_naming_key_and_file() {
    let (_k, keys) = keys();
    let dir = TempDir::new("badprofile");
    let profile = dir.join("custom.toml");
    std::fs::write(
        &profile,
        "id = \"custom\"\nversion = \"1\"\n[ocr]\nlanguage = [\"deu\"]\n",
    )
    .unwrap();
    let archive = TempDir::new("badprofilearchive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", profile.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("custom.toml:4: unknown key ocr.language; did you mean ocr.languages?"),
        "{err}"
    );
}

#[test]
fn missing_key_and_archive_are_listed_together() {
    let out = scanwerk(&[
        "ingest",
        project("testdata/demo-batch").to_str().unwrap(),
        "--archive",
        "/nonexistent/archive",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no signing key") && err.contains("/nonexistent/archive"),
        "{err}"
    );
}

#[test]
fn a_published_batch_is_never_overwritten() {
    let (_k, keys) = keys();
    let archive = TempDir::new("twice");
    let batch = project("testdata/demo-batch");
    assert!(
        ingest(
            &batch,
            archive.path(),
            &keys.private,
            &["--profile", "image-only"]
        )
        .status
        .success()
    );
    let first = std::fs::read(archive.join("demo-2026-001/data/manifest.json")).unwrap();
    let out = ingest(
        &batch,
        archive.path(),
        &keys.private,
        &["--profile", "image-only"],
    );
    // The same input again: nothing to do (other input under the same id is refused with exit
    // 3, see day_one::ingesting_the_same_input_twice_says_so_and_publishes_nothing_twice).
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already published"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(archive.join("demo-2026-001/data/manifest.json")).unwrap(),
        first
    );
    assert_eq!(
        files(archive.path())
            .iter()
            .filter(|f| f.contains(".staging"))
            .count(),
        0
    );
}

#[test]
fn formats_of_the_input_contract_decode() {
    // TIFF: G4 bilevel, LZW RGBA, deflate grey; PNG: palette, 1-bit, RGBA; JPEG: grey, RGB.
    let (_k, keys) = keys();
    let batch = TempDir::new("formats");
    let inputs = [
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototestrot.tif",
        "pytesseract/test.tiff",
        "tesseract-ocr-test/phototest-rotated-180.png",
        "ocrmypdf/cardinal-1.png",
        "tesseract.js/testocr.png",
        "pytesseract/test-european.jpg",
        "paperless-ngx/simple.jpg",
        "naps2/word_p1_rotated.jpg",
    ];
    for (i, input) in inputs.iter().enumerate() {
        let name = std::path::Path::new(input).file_name().unwrap().to_str().unwrap();
        std::fs::copy(realscans().join(input), batch.join(&format!("{i}-{name}"))).unwrap();
    }
    let archive = TempDir::new("formatsarchive");
    let out = ingest(
        batch.path(),
        archive.path(),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = archive.path().join(&entries(archive.path())[0]);
    assert!(scanwerk(&["verify", dir.to_str().unwrap()]).status.success());
    let pdfs = files(&payload(&dir).join("documents"))
        .into_iter()
        .filter(|f| f.ends_with(".pdf"))
        .count();
    assert_eq!(pdfs, inputs.len());
    // The PNG behind a .jpg name is read as PNG, and RGBA pages are flattened and recorded.
    let rotated: serde_json::Value = serde_json::from_slice(
        &std::fs::read(payload(&dir).join("documents/8-word_p1_rotated.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rotated["sources"][0]["format"], "png");
    let rgba: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&dir).join("documents/1-phototestrot.json")).unwrap())
            .unwrap();
    assert!(
        rgba["pages"][0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("alpha"),
        "{rgba}"
    );
}

/// The formats the README lists that no real scan covers, made by Pillow and zlib
/// (tests/e2e/make_formats.py): TIFF PackBits, LZW RGB and 16-bit grey, PNG 2-, 4- and 16-bit
/// grey. Each becomes a PDF whose image poppler extracts with exactly the pixels Pillow decodes
/// from the input (16-bit compared at 16 bits); CMYK TIFF and JPEG and CCITT G3 TIFF are refused
/// with the message the README promises, naming the file.
#[test]
fn packbits_and_16_bit_tiff_and_2_4_16_bit_png_keep_their_pixels_cmyk_and_g3_are_refused() {
    let (_k, keys) = keys();
    let tmp = TempDir::new("formats-made");
    let script = project("tests/e2e/make_formats.py");
    let out = tool(
        "/usr/bin/python3",
        &[script.to_str().unwrap(), tmp.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let archive = tmp.dir("archive");
    let ok = tmp.join("ok");
    let out = ingest(&ok, &archive, &keys.private, &["--profile", "image-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = archive.join("ok");
    assert!(scanwerk(&["verify", dir.to_str().unwrap()]).status.success());
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&dir).join("protocol.json")).unwrap()).unwrap();
    let documents = protocol["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 6, "{documents:?}");
    for doc in documents {
        let id = doc["id"].as_str().unwrap();
        let record: serde_json::Value = serde_json::from_slice(
            &std::fs::read(payload(&dir).join(format!("documents/{id}.json"))).unwrap(),
        )
        .unwrap();
        let input = record["sources"][0]["path"].as_str().unwrap();
        let pdf = payload(&dir).join(doc["pdf"].as_str().unwrap());
        let source = ok.join(input);
        let prefix = tmp.join(&format!("x-{id}"));
        pdfimages("-png", &pdf, &prefix);
        let extracted = tmp.join(&format!("x-{id}-000.png"));
        let same = if input.starts_with("grey16") {
            tool(
                "/usr/bin/python3",
                &[
                    script.to_str().unwrap(),
                    "--same16",
                    pdf.to_str().unwrap(),
                    source.to_str().unwrap(),
                ],
            )
        } else {
            same_pixels(&extracted, &source, 0, 0)
        };
        assert!(
            same.status.success(),
            "{input}: {}{}",
            String::from_utf8_lossy(&same.stdout),
            stderr(&same)
        );
    }
    for (file, message) in [
        (
            "cmyk.jpg",
            "JPEG with 4 components (CMYK) is not supported; set the scanner to RGB or greyscale",
        ),
        (
            "cmyk.tif",
            "CMYK TIFF is not supported; set the scanner to RGB or greyscale",
        ),
    ] {
        let batch = tmp.dir(&format!("refused-{file}"));
        std::fs::copy(tmp.join(&format!("refused/{file}")), batch.join(file)).unwrap();
        let out = ingest(&batch, &archive, &keys.private, &["--profile", "image-only"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stderr(&out));
        let said = stderr(&out);
        assert!(said.contains(file) && said.contains(message), "{file}: {said}");
    }
}

/// The profile's input limits refuse a file over `input.max_file_mb` and one over
/// `input.max_pages`, each named with its size or pages and what to do, both in one run.
#[test]
fn files_over_the_size_and_page_limits_are_refused_naming_each() {
    let (_k, keys) = keys();
    let tmp = TempDir::new("limits");
    let batch = tmp.dir("batch");
    // 3.1 MB and 3 pages.
    std::fs::copy(
        realscans().join("naps2/word_p1_rotated.jpg"),
        batch.join("big.jpg"),
    )
    .unwrap();
    std::fs::copy(
        realscans().join("paperless-ngx/multi-page-images.tiff"),
        batch.join("pages.tiff"),
    )
    .unwrap();
    let profile = tmp.join("limits.toml");
    std::fs::write(
        &profile,
        "id = \"limits\"\nversion = \"1\"\n[input]\nassume_dpi = 300\nmax_file_mb = 1\nmax_pages = 2\n[ocr]\nenabled = false\n",
    )
    .unwrap();
    let archive = tmp.dir("archive");
    let out = ingest(
        &batch,
        &archive,
        &keys.private,
        &["--profile", profile.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(
            "big.jpg: 2 MiB is above the profile's limit of 1 MiB (input.max_file_mb); split the file"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "pages.tiff: 3 pages is above the profile's limit of 2 (input.max_pages); split the file"
        ),
        "{said}"
    );
    assert_eq!(entries(&archive), Vec::<String>::new(), "nothing published");
}

/// Without the OCR language data (an empty `TESSDATA_PREFIX`) nothing is read: exit 2, naming the
/// languages and how to install them. `--timings` prints where the time went, stage by stage.
#[test]
fn missing_language_data_is_a_setup_error_and_timings_name_every_stage() {
    let (_k, keys) = keys();
    let tmp = TempDir::new("tessdata");
    let batch = tmp.dir("batch");
    std::fs::copy(realscans().join("naps2/word_p2.jpg"), batch.join("p.jpg")).unwrap();
    let archive = tmp.dir("archive");
    let empty = tmp.dir("empty-tessdata");
    let out = Command::new(BIN)
        .args([
            "ingest",
            batch.to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
        ])
        .args(["--key", keys.private.to_str().unwrap()])
        .env("TESSDATA_PREFIX", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("cannot start tesseract with languages \"deu+eng\": is the traineddata installed?"),
        "{}",
        stderr(&out)
    );
    assert_eq!(entries(&archive), Vec::<String>::new());
    let out = ingest(&batch, &archive, &keys.private, &["--timings"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("timings: ") && said.contains("% outside OCR"),
        "{said}"
    );
    for stage in ["read", "decode", "prepare", "ocr", "encode", "compose", "seal"] {
        assert!(
            said.lines()
                .any(|l| l.trim_start().starts_with(stage) && l.contains("s CPU")),
            "{stage}: {said}"
        );
    }
}

/// The bad batch of issue 20: six bad files of six kinds and three good ones with odd names.
/// Returns each bad file with the words its reason must carry.
fn six_bad_three_good(batch: &std::path::Path) -> Vec<(&'static str, &'static str)> {
    use std::os::unix::ffi::OsStrExt;
    let jpeg = std::fs::read(realscans().join("pytesseract/test.jpg")).unwrap();
    let tiff = std::fs::read(realscans().join("tesseract-ocr-test/phototest.tif")).unwrap();
    std::fs::write(batch.join("zero.tif"), b"").unwrap();
    std::fs::write(batch.join("trunc.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    std::fs::write(batch.join("trunc.tif"), &tiff[..tiff.len() / 2]).unwrap();
    std::fs::write(batch.join("notimage.png"), "just text\n").unwrap();
    std::fs::write(
        batch.join("bomb.png"),
        crate::unattended::png_claiming(60_000, 60_000),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", batch.join("link.png")).unwrap();
    let good = project("testdata/demo-batch/bescheid.png");
    std::fs::copy(&good, batch.join("Seite ü 1.png")).unwrap();
    std::fs::copy(&good, batch.join(std::ffi::OsStr::from_bytes(b"scan-\xff.png"))).unwrap();
    std::fs::copy(realscans().join("ocrmypdf/linn.png"), batch.join("good.png")).unwrap();
    std::fs::write(batch.join("batch.toml"), "id = \"bad-and-good\"\n").unwrap();
    vec![
        ("zero.tif", "zero.tif: the file is empty (0 bytes)"),
        (
            "trunc.jpg",
            "trunc.jpg, page 1: decode: Jpeg image is damaged or unsupported: truncated JPEG",
        ),
        (
            "trunc.tif",
            "trunc.tif, page 1: decode: Tiff image is damaged or unsupported: truncated TIFF",
        ),
        (
            "notimage.png",
            "notimage.png: not a TIFF, PNG or JPEG image or a PDF",
        ),
        (
            "bomb.png",
            "bomb.png, page 1: decode: 60000 × 60000 pixels (3600 megapixels) is above",
        ),
        (
            "link.png",
            "link.png: the file is a link to /etc/passwd, outside the batch folder",
        ),
    ]
}

/// Library chatter that must not reach the operator's terminal (leptonica, libjpeg, tesseract).
fn no_library_text(err: &str) {
    for noise in [
        "Error in ",
        "Info in ",
        "Warning in ",
        "Premature end",
        "Error opening data file",
        "Corrupt JPEG",
    ] {
        assert!(!err.contains(noise), "library text {noise:?} on stderr:\n{err}");
    }
}

#[test]
fn one_run_names_every_bad_file_with_its_own_reason() {
    let (_k, keys) = keys();
    let batch = TempDir::new("sixbad");
    let bad = six_bad_three_good(batch.path());
    let archive = TempDir::new("sixbad-archive");
    let out = ingest(batch.path(), archive.path(), &keys.private, &[]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "per-file problems are document failures: {err}"
    );
    assert!(err.contains("6 of 9 documents failed"), "{err}");
    for (_, reason) in &bad {
        assert!(err.contains(reason), "{reason:?} not in:\n{err}");
    }
    no_library_text(&err);
    assert!(entries(archive.path()).is_empty(), "nothing published by default");
}

#[test]
fn set_aside_publishes_the_good_documents_and_records_the_bad_ones() {
    let (_k, keys) = keys();
    let batch = TempDir::new("setaside");
    let bad = six_bad_three_good(batch.path());
    let profiles = TempDir::new("setaside-profile");
    let profile = profiles.join("set-aside.toml");
    std::fs::write(
        &profile,
        "id = \"set-aside\"\nversion = \"1\"\n[input]\nassume_dpi = 300\non_document_error = \"set-aside\"\n",
    )
    .unwrap();
    let archive = TempDir::new("setaside-archive");
    let out = ingest(
        batch.path(),
        archive.path(),
        &keys.private,
        &["--profile", profile.to_str().unwrap()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    no_library_text(&err);
    let published = archive.join("bad-and-good");
    let verified = scanwerk(&["verify", published.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let pdfs = pdfs_in(&published);
    assert_eq!(pdfs.len(), 3, "the three good documents: {pdfs:?}");
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(payload(&published).join("protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["completeness"]["complete"], false);
    let set_aside = protocol["set_aside"].as_array().unwrap();
    assert_eq!(set_aside.len(), 6, "{set_aside:?}");
    let anomalies = protocol["transfer_note"]["anomalies"].to_string();
    for (file, reason) in &bad {
        let record = set_aside
            .iter()
            .find(|d| d["files"][0]["path"] == *file)
            .unwrap_or_else(|| panic!("{file} is not recorded: {set_aside:?}"));
        assert!(record["reasons"].to_string().contains(reason), "{file}: {record}");
        let expected = if *file == "link.png" {
            serde_json::Value::Null
        } else {
            scanwerk::seal::hash::sha256_hex(&std::fs::read(batch.join(file)).unwrap()).into()
        };
        assert_eq!(record["files"][0]["sha256"], expected, "{file}");
        assert!(
            anomalies.contains(&format!("{} set aside", record["id"].as_str().unwrap())),
            "{file}"
        );
    }
}

/// A batch sheet value with a direction override or a control character (an operator name that
/// would read backwards in the transfer note) is refused before any page is read, naming the key,
/// the file and the line; nothing is published.
#[test]
fn sheet_text_that_could_be_spoofed_is_refused_naming_key_and_file() {
    let tmp = TempDir::new("spoof");
    let keys = keygen(&tmp.dir("keys"));
    let batch = tmp.dir("batch");
    copy_tree(&project("testdata/demo-batch"), &batch);
    std::fs::write(
        batch.join("batch.toml"),
        "id = \"spoof\"\noperator = \"Anna \u{202E}nnamlliW\"\n[metadata]\nbox = \"K\u{7}12\"\n",
    )
    .unwrap();
    let archive = tmp.dir("archive");
    let out = ingest(&batch, &archive, &keys.private, &["--profile", "image-only"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let sheet = batch.join("batch.toml").display().to_string();
    assert!(
        err.contains(&format!(
            "{sheet}:2: operator: holds a bidirectional embedding or override (U+202E)"
        )),
        "{err}"
    );
    assert!(
        err.contains("metadata: holds a control character (U+0007)"),
        "{err}"
    );
    assert!(entries(&archive).is_empty(), "nothing published");
}
