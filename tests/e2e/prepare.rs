//! Page preparation on the real scans: rotated pages come out upright (`/Rotate`, text layer on
//! the words, the scanner's image untouched), skewed pages are measured and read straight, blank
//! pages are found, and every flag and operation is in the JSON.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;

/// The document record of a realscans image in the all-realscans batch.
fn record(image: &str) -> Value {
    let name = all_published_name(image);
    let dir = payload(&all_published().dir).join("documents");
    for file in files(&dir) {
        if file.ends_with(".json") {
            let record: Value = serde_json::from_slice(&std::fs::read(dir.join(&file)).unwrap()).unwrap();
            if record["sources"][0]["path"] == name.as_str() {
                return record;
            }
        }
    }
    panic!("no document for {image}");
}

fn pdf(record: &Value) -> std::path::PathBuf {
    payload(&all_published().dir).join(record["pdf"].as_str().unwrap())
}

fn recall(image: &str, truth: &str) -> f64 {
    let truth = std::fs::read_to_string(realscans().join(truth)).unwrap();
    word_recall(&truth, &pdftotext(&pdf(&record(image))))
}

/// `pdfinfo`'s line `NAME: value` for the PDF's first page.
fn pdfinfo(pdf: &Path, name: &str) -> String {
    let out = tool("pdfinfo", &[pdf.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "pdfinfo {}: {}",
        pdf.display(),
        stderr(&out)
    );
    let info = String::from_utf8(out.stdout).unwrap();
    let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap();
    line[name.len() + 1..].trim().to_string()
}

/// `/Rotate` of the PDF's first page, as poppler reads it.
fn rotate(record: &Value) -> i64 {
    pdfinfo(&pdf(record), "Page rot").parse().unwrap()
}

/// Word boxes (xMin, xMax, yMin, text) of the first words, as poppler sees the displayed page.
fn word_boxes(record: &Value, n: usize) -> Vec<(f64, f64, f64, String)> {
    let out = tool("pdftotext", &["-bbox", pdf(record).to_str().unwrap(), "-"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .take(n)
        .map(|l| {
            let attr = |name: &str| -> f64 {
                let start = l.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                l[start..].split('"').next().unwrap().parse().unwrap()
            };
            let text = l
                .split('>')
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_string();
            (attr("xMin"), attr("xMax"), attr("yMin"), text)
        })
        .collect()
}

/// Word recall against the ground truth every turned page reaches on its own.
const MIN_TURNED_RECALL: f64 = 0.9;

/// Rotated variants, their upright twin, ground truth, and the `/Rotate` that shows them upright.
const ROTATED: &[(&str, &str, &str, i64)] = &[
    (
        "tesseract-ocr-test/phototest-rotated-180.png",
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototest.txt",
        180,
    ),
    (
        "tesseract-ocr-test/phototest-rotated-L.png",
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototest.txt",
        90,
    ),
    (
        "tesseract-ocr-test/phototest-rotated-R.png",
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototest.txt",
        270,
    ),
    (
        "tesseract-ocr-test/phototestrot.tif",
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototest.txt",
        90,
    ),
    (
        "ocrmypdf/cardinal-2.png",
        "ocrmypdf/cardinal-1.png",
        "ocrmypdf/linn.txt",
        270,
    ),
    (
        "ocrmypdf/cardinal-3.png",
        "ocrmypdf/cardinal-1.png",
        "ocrmypdf/linn.txt",
        180,
    ),
    (
        "ocrmypdf/cardinal-4.png",
        "ocrmypdf/cardinal-1.png",
        "ocrmypdf/linn.txt",
        90,
    ),
    (
        "tesseract.js/simple-90.jpg",
        "tesseract.js/simple.png",
        "tesseract.js/simple.gt.txt",
        90,
    ),
    (
        "tesseract.js/simple-180.jpg",
        "tesseract.js/simple.png",
        "tesseract.js/simple.gt.txt",
        180,
    ),
    (
        "tesseract.js/simple-270.jpg",
        "tesseract.js/simple.png",
        "tesseract.js/simple.gt.txt",
        270,
    ),
    (
        "naps2/word_p1_rotated.jpg",
        "naps2/word_p1.jpg",
        "naps2/word_p1.gt.txt",
        270,
    ),
];

#[test]
fn rotated_pages_come_out_upright_with_the_image_untouched() {
    for &(image, twin, truth, expected) in ROTATED {
        let r = record(image);
        let page = &r["pages"][0];
        assert_eq!(page["orientation"]["rotate"], expected, "{image}: {page}");
        assert_eq!(rotate(&r), expected, "{image}: /Rotate");
        assert!(
            page["flags"].as_array().unwrap().contains(&"rotated".into()),
            "{image}"
        );
        let operation = page["operations"][0].as_str().unwrap_or("");
        assert!(
            operation.contains("/Rotate") && operation.contains("image unchanged"),
            "{image}: {operation}"
        );
        // The image is the scanner's, as scanned and not turned: the pixel test in pdfa.rs
        // compares every embedded image with the input.
        let (ours, upright) = (recall(image, truth), recall(twin, truth));
        assert!(
            ours >= upright - 0.02,
            "{image}: recall {ours:.3}, upright twin {twin} {upright:.3}"
        );
        // And an absolute floor, so that a twin read badly as well cannot carry the turned page.
        assert!(
            ours >= MIN_TURNED_RECALL,
            "{image}: recall {ours:.3} against its ground truth"
        );
    }
}

/// Word boxes (xMin, xMax, yMin in points, text) of the first `n` words tesseract's own CLI finds
/// in an upright image (`tesseract IMG - tsv`), scaled to a page `page_width` points wide.
fn tesseract_boxes(image: &Path, page_width: f64, n: usize) -> Vec<(f64, f64, f64, String)> {
    let out = tool(
        "tesseract",
        &[image.to_str().unwrap(), "-", "-l", "deu+eng", "tsv"],
    );
    assert!(out.status.success(), "tesseract: {}", stderr(&out));
    let tsv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let image_width: f64 = rows.iter().find(|r| r[0] == "1").unwrap()[8].parse().unwrap();
    let scale = page_width / image_width;
    rows.iter()
        .filter(|r| r[0] == "5" && r.len() > 11 && !r[11].trim().is_empty())
        .take(n)
        .map(|r| {
            let px = |i: usize| r[i].parse::<f64>().unwrap() * scale;
            (px(6), px(6) + px(8), px(7), r[11].to_string())
        })
        .collect()
}

/// Width in points of the PDF's first page as displayed (after `/Rotate`), as poppler reads it.
fn page_width(pdf: &Path) -> f64 {
    let size = pdfinfo(pdf, "Page size");
    let mut numbers = size.split_whitespace().filter_map(|w| w.parse::<f64>().ok());
    let (width, height) = (numbers.next().unwrap(), numbers.next().unwrap());
    match pdfinfo(pdf, "Page rot").as_str() {
        "90" | "270" => height,
        _ => width,
    }
}

#[test]
fn words_of_a_turned_page_sit_where_tesseract_puts_them_on_the_upright_scan() {
    // The reference is tesseract's own CLI on the upright scan, not scanwerk's output: the
    // displayed page of every variant must carry each word where that word is on the paper,
    // whichever way the paper went through the scanner.
    let upright = realscans().join("tesseract-ocr-test/phototest.tif");
    for image in [
        "tesseract-ocr-test/phototest.tif",
        "tesseract-ocr-test/phototest-rotated-180.png",
        "tesseract-ocr-test/phototest-rotated-L.png",
        "tesseract-ocr-test/phototest-rotated-R.png",
    ] {
        let r = record(image);
        let width = page_width(&pdf(&r));
        let expected = tesseract_boxes(&upright, width, 12);
        assert_eq!(expected.len(), 12, "tesseract reads the upright scan");
        let ours = word_boxes(&r, 12);
        assert_eq!(ours.len(), 12, "{image}: its words, all of them");
        for (a, b) in ours.iter().zip(&expected) {
            assert_eq!(a.3, b.3, "{image}");
            // Left and right edge as tesseract measured them; the top may sit on the line's top
            // rather than the word's (a small "a" starts lower than its line).
            assert!(
                (a.0 - b.0).abs() < 0.5 && (a.1 - b.1).abs() < 0.5 && (a.2 - b.2).abs() < 2.5,
                "{image}: {a:?} vs tesseract {b:?}"
            );
        }
    }
}

#[test]
fn skewed_pages_are_measured_and_read_straight() {
    for (image, twin) in [
        (
            "ocrmypdf/skew-1.png",
            Some(("ocrmypdf/cardinal-1.png", "ocrmypdf/linn.txt")),
        ),
        (
            "dinglehopper/lorem-ipsum-scan-bad-1.png",
            Some((
                "dinglehopper/lorem-ipsum-scan-1.png",
                "dinglehopper/lorem-ipsum-scan-1.gt.txt",
            )),
        ),
        ("unpaper/imgsrc001.png", None),
    ] {
        let r = record(image);
        let page = &r["pages"][0];
        let skew = &page["skew"];
        let degrees = skew["degrees"].as_f64().unwrap();
        // Sign and size against an independent projection-profile measurement of the same scan.
        let expected = independent_skew(&realscans().join(image))
            .unwrap_or_else(|| panic!("{image}: the independent check found no skew to compare"));
        assert!(
            expected.abs() >= 1.0,
            "{image}: the fixture is skewed ({expected}°)"
        );
        assert!(
            (degrees - expected).abs() <= 0.15,
            "{image}: scanwerk measured {degrees}°, the projection profile {expected}°"
        );
        assert_eq!(skew["corrected"], true, "{image}");
        assert!(
            page["flags"].as_array().unwrap().contains(&"skewed".into()),
            "{image}"
        );
        let operation = page["operations"][0].as_str().unwrap();
        assert!(
            operation.contains("deskewed") && operation.contains("image unchanged"),
            "{operation}"
        );
        if let Some((twin, truth)) = twin {
            let own_truth = if image.contains("lorem") {
                "dinglehopper/lorem-ipsum-scan-bad-1.gt.txt"
            } else {
                truth
            };
            let (ours, upright) = (recall(image, own_truth), recall(twin, truth));
            assert!(
                ours >= upright - 0.03,
                "{image}: recall {ours:.3}, twin {upright:.3}"
            );
        }
    }
    // An upright page is measured too, and left alone.
    let straight = &record("ocrmypdf/cardinal-1.png")["pages"][0];
    let expected = independent_skew(&realscans().join("ocrmypdf/cardinal-1.png")).unwrap();
    assert!(expected.abs() < 0.1, "the fixture is upright ({expected}°)");
    assert!(
        straight["skew"]["degrees"].as_f64().unwrap().abs() < 0.2,
        "{straight}"
    );
    assert!(straight["operations"].is_null());
}

#[test]
fn the_image_itself_is_straightened_when_the_profile_asks() {
    let batch = TempDir::new("deskewimage");
    std::fs::copy(realscans().join("ocrmypdf/skew-1.png"), batch.join("skew.png")).unwrap();
    std::fs::write(batch.join("batch.toml"), "id = \"deskew-image\"\n").unwrap();
    let (out, archive) = ingest_with_profile(
        &batch,
        "id = \"straighten\"\nversion = \"1\"\n[input]\nassume_dpi = 300\n[prepare]\ndeskew = \"image\"\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let published = archive.join("deskew-image");
    let record: Value =
        serde_json::from_slice(&std::fs::read(payload(&published).join("documents/skew.json")).unwrap())
            .unwrap();
    let page = &record["pages"][0];
    let degrees = page["skew"]["degrees"].as_f64().unwrap();
    let operation = page["operations"][0].as_str().unwrap();
    assert!(
        operation.starts_with("image deskewed by") && operation.contains("losslessly"),
        "{operation}"
    );
    assert_eq!(
        page["image_encoding"], "ccitt-g4",
        "re-encoded, still bilevel and lossless"
    );
    // The embedded image is now straight: leptonica measures what was 1.9° as almost nothing.
    let out_dir = TempDir::new("deskewimages");
    let prefix = out_dir.join("img");
    let pdf = payload(&published).join("documents/skew.pdf");
    pdfimages("-png", &pdf, &prefix);
    // Measured independently (projection profile, not leptonica); "not measurable" fails.
    let residual = independent_skew(&out_dir.join("img-000.png"))
        .expect("the straightened page still has a measurable text-line profile");
    let before = independent_skew(&realscans().join("ocrmypdf/skew-1.png")).unwrap();
    assert!(
        residual.abs() < 0.25 && (degrees - before).abs() <= 0.15,
        "skew {degrees}° (independently {before}°) left {residual}°"
    );
    let truth = std::fs::read_to_string(realscans().join("ocrmypdf/linn.txt")).unwrap();
    let recall = word_recall(&truth, &pdftotext(&pdf));
    assert!(recall > 0.9, "recall {recall}");
}

#[test]
fn blank_pages_are_found_and_flagged_for_review() {
    for image in ["naps2/blank1.jpg", "naps2/blank2.jpg"] {
        let page = &record(image)["pages"][0];
        assert_eq!(page["blank"]["blank"], true, "{image}: {page}");
        assert_eq!(page["flags"], serde_json::json!(["blank"]), "{image}");
        assert_eq!(page["needs_review"], true);
        assert_eq!(page["pdf_page"], 1, "the standard profile keeps blank pages");
    }
    let marked = &record("naps2/notblank.jpg")["pages"][0];
    assert_eq!(marked["blank"]["blank"], false, "{marked}");
    // The batch protocol lists every flagged page.
    let protocol: Value =
        serde_json::from_slice(&std::fs::read(payload(&all_published().dir).join("protocol.json")).unwrap())
            .unwrap();
    let flagged: Vec<String> = protocol["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["flagged_pages"].as_array().is_some_and(|pages| {
                pages
                    .iter()
                    .any(|p| p["flags"].as_array().unwrap().contains(&"blank".into()))
            })
        })
        .map(|d| d["id"].to_string())
        .collect();
    assert_eq!(flagged.len(), 2, "{flagged:?}");
}

/// Ingests `batch` under a profile given as TOML text, with a fresh key and archive.
fn ingest_with_profile(batch: &TempDir, profile: &str) -> (std::process::Output, TempDir) {
    let profiles = TempDir::new("profile");
    let path = profiles.join("profile.toml");
    std::fs::write(&path, profile).unwrap();
    let keydir = TempDir::new("keys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("archive");
    let out = ingest(
        batch.path(),
        archive.path(),
        &keys.private,
        &["--profile", path.to_str().unwrap()],
    );
    (out, archive)
}

/// A white A4 page at 300 dpi as a grey PNG, optionally with a short pen tick.
fn write_page(path: &Path, tick: bool) {
    let (w, h) = (2480u32, 3508u32);
    let mut page = image::GrayImage::from_pixel(w, h, image::Luma([238]));
    if tick {
        // About 4 mm long and 0.5 mm thick, in ballpoint grey.
        for i in 0..48u32 {
            for t in 0..6u32 {
                page.put_pixel(1400 + i, 1800 - i / 2 + t, image::Luma([80]));
            }
        }
    }
    page.save(path).unwrap();
    // 300 dpi in pHYs: 11811 px per metre. The image crate writes none, so patch a pHYs chunk in.
    let bytes = std::fs::read(path).unwrap();
    let mut chunk = b"pHYs".to_vec();
    chunk.extend(11811u32.to_be_bytes());
    chunk.extend(11811u32.to_be_bytes());
    chunk.push(1);
    let crc = crc32(&chunk);
    let mut out = bytes[..33].to_vec(); // signature + IHDR
    out.extend(9u32.to_be_bytes());
    out.extend(&chunk);
    out.extend(crc.to_be_bytes());
    out.extend(&bytes[33..]);
    std::fs::write(path, out).unwrap();
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_small_pen_mark_is_not_blank_and_removal_keeps_the_hash() {
    let batch = TempDir::new("blankbatch");
    let doc = batch.dir("akte");
    write_page(&doc.join("p1.png"), true);
    write_page(&doc.join("p2.png"), false);
    std::fs::copy(realscans().join("naps2/blank2.jpg"), doc.join("p3.jpg")).unwrap();
    std::fs::write(batch.join("batch.toml"), "id = \"blankbatch\"\n").unwrap();
    let (out, archive) = ingest_with_profile(
        &batch,
        "id = \"remove-blanks\"\nversion = \"1\"\n[ocr]\nenabled = false\n[prepare]\nblank_pages = \"remove\"\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 pages scanned, 2 blank removed"), "{stdout}");
    let published = archive.join("blankbatch");
    let record: Value =
        serde_json::from_slice(&std::fs::read(payload(&published).join("documents/akte.json")).unwrap())
            .unwrap();
    let pages = record["pages"].as_array().unwrap();
    assert_eq!(
        pages[0]["blank"]["blank"], false,
        "the pen tick is a mark: {}",
        pages[0]
    );
    assert_eq!(pages[0]["pdf_page"], 1);
    for page in &pages[1..] {
        assert_eq!(page["blank"]["blank"], true, "{page}");
        assert_eq!(page["pdf_page"], Value::Null);
        assert_eq!(page["flags"], serde_json::json!(["removed"]));
    }
    // The removed JPEG page keeps its hash: the file's own SHA-256.
    assert_eq!(pages[2]["image_sha256"], record["sources"][2]["sha256"]);
    assert_eq!(record["page_count"], 1);
    // The transfer note names the removed pages, in the record, the protocol and the PDF's XMP.
    let anomalies = record["transfer_note"]["anomalies"].to_string();
    assert!(
        anomalies.contains("akte page 2: removed") && anomalies.contains("akte page 3: removed"),
        "{anomalies}"
    );
    let protocol: Value =
        serde_json::from_slice(&std::fs::read(payload(&published).join("protocol.json")).unwrap()).unwrap();
    assert_eq!(protocol["transfer_note"]["quality"]["pages_scanned"], 3);
    assert_eq!(protocol["transfer_note"]["quality"]["pages_in_pdfs"], 1);
    assert!(
        protocol["transfer_note"]["anomalies"]
            .to_string()
            .contains("akte page 3: removed")
    );
    let xmp = tool(
        "exiftool",
        &[
            "-XMP-scanwerk:TransferNote",
            "-b",
            payload(&published).join("documents/akte.pdf").to_str().unwrap(),
        ],
    );
    let xmp = String::from_utf8_lossy(&xmp.stdout);
    assert!(
        xmp.contains("Transfervermerk") && xmp.contains("akte page 2: removed"),
        "{xmp}"
    );
    let info = tool(
        "pdfinfo",
        &[payload(&published).join("documents/akte.pdf").to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&info.stdout).contains("Pages:           1"));
    let verify = scanwerk(&["verify", published.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn an_incomplete_batch_is_recorded_or_refused_as_the_profile_says() {
    let batch = TempDir::new("incomplete");
    write_page(&batch.join("a.png"), true);
    std::fs::write(
        batch.join("batch.toml"),
        "id = \"incomplete\"\nexpected_pages = 2\n",
    )
    .unwrap();
    let (out, archive) = ingest_with_profile(
        &batch,
        "id = \"refuse\"\nversion = \"1\"\n[ocr]\nenabled = false\n[quality]\nincomplete_batch = \"refuse\"\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("incomplete") && stderr(&out).contains("expects ? documents / 2 pages"));
    assert!(files(archive.path()).is_empty(), "nothing published");
    let (out, archive) = ingest_with_profile(
        &batch,
        "id = \"record\"\nversion = \"1\"\n[ocr]\nenabled = false\n[quality]\nincomplete_batch = \"record\"\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"));
    let protocol: Value =
        serde_json::from_slice(&std::fs::read(archive.path().join("incomplete/data/protocol.json")).unwrap())
            .unwrap();
    assert_eq!(protocol["completeness"]["complete"], false);
    assert_eq!(protocol["completeness"]["pages"], 1);
}
