//! Scanner PDFs in (`../shared/realscans/pdf-inputs`): published with the scanner's image streams
//! byte for byte (JBIG2 excepted: decoded and stored as G4, pixel for pixel), pages as the source
//! laid them out, text recovered; and what must not be taken apart refused with its reason.
//! Checked with poppler (pdfimages, pdfinfo, pdftotext) and qpdf, not with scanwerk's own reader.

use std::path::{Path, PathBuf};

use crate::harness::*;

fn input(name: &str) -> PathBuf {
    realscans().join("pdf-inputs").join(name)
}

fn output(name: &str) -> PathBuf {
    payload(&pdf_published().dir).join("documents").join(name)
}

/// `pdfimages -list` rows: (page, object id, encoding).
fn images(pdf: &Path) -> Vec<(u32, u32, String)> {
    let out = tool("pdfimages", &["-list", pdf.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "pdfimages -list {}: {}",
        pdf.display(),
        stderr(&out)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f[0].parse().unwrap(), f[10].parse().unwrap(), f[8].to_string())
        })
        .collect()
}

/// The stream bytes of object `id` exactly as the file holds them (qpdf, filters not undone).
fn raw_stream(pdf: &Path, id: u32) -> Vec<u8> {
    let out = tool(
        "qpdf",
        &[
            &format!("--show-object={id}"),
            "--raw-stream-data",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "qpdf {}: {}", pdf.display(), stderr(&out));
    out.stdout
}

/// Page `page` (1-based) of `pdf` as poppler decodes its image, as RGB samples.
fn decoded(pdf: &Path, page: u32, dir: &TempDir, tag: &str) -> image::RgbImage {
    let prefix = dir.join(tag);
    let p = page.to_string();
    let out = tool(
        "pdfimages",
        &[
            "-png",
            "-f",
            &p,
            "-l",
            &p,
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    image::open(dir.join(&format!("{tag}-000.png")))
        .unwrap()
        .into_rgb8()
}

/// `pdfinfo -f N -l N` fields of one page: (width pt, height pt, rotate).
fn page_geometry(pdf: &Path, page: u32) -> (f64, f64, i64) {
    let p = page.to_string();
    let out = tool("pdfinfo", &["-f", &p, "-l", &p, pdf.to_str().unwrap()]);
    let info = String::from_utf8(out.stdout).unwrap();
    let field = |key: &str| {
        info.lines()
            .find(|l| l.starts_with(&format!("Page {page:>4} {key}:")))
            .unwrap_or_else(|| panic!("{key} of page {page} in {}:\n{info}", pdf.display()))
            .split(':')
            .nth(1)
            .unwrap()
            .trim()
            .to_string()
    };
    let size = field("size");
    let numbers: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1], field("rot").parse().unwrap())
}

#[test]
fn scanner_pdfs_keep_their_image_streams_byte_for_byte() {
    let scratch = TempDir::new("pdf-pixels");
    for name in PDF_INPUTS {
        let (source, ours) = (input(name), output(name));
        let (theirs, mine) = (images(&source), images(&ours));
        assert_eq!(
            theirs.iter().map(|i| i.0).collect::<Vec<_>>(),
            mine.iter().map(|i| i.0).collect::<Vec<_>>(),
            "{name}: one image on every page, as in the source"
        );
        for ((page, id, encoding), (_, out_id, out_encoding)) in theirs.iter().zip(&mine) {
            if encoding == "jbig2" {
                // Symbol coding is not carried into the scan product: the scanner's JBIG2 is
                // stored as G4, and poppler decodes both to the same pixels.
                assert_eq!(out_encoding, "ccitt", "{name} page {page}");
                let tag = format!("{}-{page}", name.trim_end_matches(".pdf"));
                let a = decoded(&source, *page, &scratch, &format!("{tag}-in"));
                let b = decoded(&ours, *page, &scratch, &format!("{tag}-out"));
                assert!(
                    a == b,
                    "{name} page {page}: pixels differ from the scanner's JBIG2"
                );
            } else {
                assert_eq!(encoding, out_encoding, "{name} page {page}");
                assert!(
                    raw_stream(&source, *id) == raw_stream(&ours, *out_id),
                    "{name} page {page}: the image stream is not the scanner's bytes"
                );
            }
        }
    }
}

#[test]
fn scanner_pdf_pages_keep_their_size_and_are_shown_upright() {
    for name in PDF_INPUTS {
        let (source, ours) = (input(name), output(name));
        for page in 1..=images(&source).len() as u32 {
            let (w, h, rotate) = page_geometry(&source, page);
            let (ow, oh, orotate) = page_geometry(&ours, page);
            assert!(
                (w - ow).abs() < 0.01 && (h - oh).abs() < 0.01,
                "{name} page {page}: size"
            );
            // cardinal.pdf draws one upright scan turned by its matrix on pages 2-4 (the source
            // shows them sideways and upside down): those pages get the turn that shows them
            // upright. Every other page keeps the source's /Rotate.
            let expected = match (*name, page) {
                ("cardinal.pdf", 2) => 270,
                ("cardinal.pdf", 3) => 180,
                ("cardinal.pdf", 4) => 90,
                _ => rotate,
            };
            assert_eq!(orotate, expected, "{name} page {page}: /Rotate (source {rotate})");
        }
    }
}

#[test]
fn scanner_pdfs_are_read_like_their_scans() {
    let truth = std::fs::read_to_string(realscans().join("ocrmypdf/linn.txt")).unwrap();
    // The LinnSequencer page in every form the source PDFs hold it.
    // skew.pdf and rotated_skew.pdf place a straight scan askew (and turned) on the page by
    // their matrix: the text layer's lines are laid level on the page all the same.
    for name in [
        "ccitt.pdf",
        "jbig2.pdf",
        "linn.pdf",
        "poster.pdf",
        "skew.pdf",
        "rotated_skew.pdf",
    ] {
        let floor = 0.93;
        let recall = word_recall(&truth, &pdftotext(&output(name)));
        eprintln!("recall {name} {recall:.3}");
        assert!(
            recall >= floor,
            "{name}: word recall {recall:.3} against linn.txt"
        );
    }
    // cardinal.pdf: the page four times, turned four ways; each page read upright.
    for page in 1..=4 {
        let p = page.to_string();
        let out = tool(
            "pdftotext",
            &["-f", &p, "-l", &p, output("cardinal.pdf").to_str().unwrap(), "-"],
        );
        let recall = word_recall(&truth, &String::from_utf8_lossy(&out.stdout));
        eprintln!("recall cardinal page {page} {recall:.3}");
        assert!(recall >= 0.9, "cardinal.pdf page {page}: word recall {recall:.3}");
    }
    let out = scanwerk(&["verify", pdf_published().dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Ingests `files` (name, bytes) as a batch; returns the run's output and the archive.
fn ingest_files(tag: &str, files: &[(&str, Vec<u8>)]) -> (std::process::Output, TempDir, TempDir) {
    let (batch, archive, keydir) = (
        TempDir::new(&format!("{tag}-batch")),
        TempDir::new(&format!("{tag}-archive")),
        TempDir::new(&format!("{tag}-keys")),
    );
    for (name, bytes) in files {
        std::fs::write(batch.join(name), bytes).unwrap();
    }
    std::fs::write(batch.join("batch.toml"), format!("id = \"{tag}\"\n")).unwrap();
    let keys = keygen(keydir.path());
    let out = ingest(batch.path(), archive.path(), &keys.private, &[]);
    (out, batch, archive)
}

/// A one-page PDF whose content is `content`, with a Helvetica font resource, built by lopdf.
fn made_on_a_computer(content: &str) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let contents = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
    let pages = doc.new_object_id();
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => contents,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn pdfs_that_are_not_plain_scans_are_refused_by_name_page_and_reason() {
    let encrypted = TempDir::new("pdf-encrypted");
    let enc = encrypted.join("enc.pdf");
    let out = tool(
        "qpdf",
        &[
            "--encrypt",
            "user",
            "owner",
            "256",
            "--",
            input("ccitt.pdf").to_str().unwrap(),
            enc.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A PDF signed by pyHanko (PAdES, a signature field with its value).
    let signer = keygen_with(encrypted.path(), &["--cert", "--name", "Test Signer"]);
    let signed = encrypted.join("signed.pdf");
    let out = tool(
        project("target/pyhanko-venv/bin/pyhanko").to_str().unwrap(),
        &[
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "pemder",
            "--key",
            signer.private.to_str().unwrap(),
            "--cert",
            signer.cert.to_str().unwrap(),
            "--no-pass",
            input("ccitt.pdf").to_str().unwrap(),
            signed.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "pyhanko: {}", stderr(&out));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "signed.pdf",
            std::fs::read(&signed).unwrap(),
            "signed.pdf: the PDF carries a digital signature, and a signed document is never modified",
        ),
        (
            "devicen.pdf",
            std::fs::read(input("jbig2_baddevicen.pdf")).unwrap(),
            "devicen.pdf, page 1: decode: its colour space (DeviceN) is not one scanwerk reads",
        ),
        (
            "mixed.pdf",
            std::fs::read(input("multipage.pdf")).unwrap(),
            "mixed.pdf: page 6: its image has a transparency mask; a scan has none",
        ),
        (
            "locked.pdf",
            std::fs::read(&enc).unwrap(),
            "locked.pdf: the PDF is encrypted",
        ),
        (
            "typed.pdf",
            made_on_a_computer("BT /F1 12 Tf 72 700 Td (Bescheid) Tj ET"),
            "typed.pdf: page 1: it has visible text",
        ),
        (
            "drawn.pdf",
            made_on_a_computer("0 0 m 100 100 l S"),
            "typed.pdf: page 1: it paints more than a scanned image (operator S",
        ),
    ];
    for (name, bytes, reason) in cases {
        let (out, batch, archive) = ingest_files("pdf-refused", &[(name, bytes.clone())]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let reason = reason.replace("typed.pdf", name);
        assert!(
            stderr(&out).contains(&reason),
            "{name}: expected {reason:?} in\n{}",
            stderr(&out)
        );
        assert!(entries(archive.path()).is_empty(), "{name}: nothing published");
        assert_eq!(
            std::fs::read(batch.join(name)).unwrap(),
            bytes,
            "{name}: input untouched"
        );
    }
}

#[test]
fn a_pdf_with_a_damaged_cross_reference_table_is_rebuilt_and_the_repair_recorded() {
    let mut bytes = std::fs::read(input("ccitt.pdf")).unwrap();
    // Point startxref at the wrong place: the table cannot be found where the file says.
    let at = bytes.windows(9).rposition(|w| w == b"startxref").unwrap() + 10;
    let end = at + bytes[at..].iter().position(|b| !b.is_ascii_digit()).unwrap();
    for b in &mut bytes[at..end] {
        *b = b'1';
    }
    let (out, batch, archive) = ingest_files("pdf-repaired", &[("damaged.pdf", bytes.clone())]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(batch.join("damaged.pdf")).unwrap(),
        bytes,
        "input untouched"
    );
    let record = std::fs::read_to_string(archive.join("pdf-repaired/data/documents/damaged.json")).unwrap();
    let sha = scanwerk::seal::hash::sha256_hex(&bytes);
    assert!(record.contains(&sha), "the record names the input's own hash");
    assert!(
        record.contains("cross-reference data was damaged and rebuilt while reading"),
        "the repair is recorded: {record}"
    );
    assert!(
        !stderr(&out).contains("WARN"),
        "no library log lines: {}",
        stderr(&out)
    );
    let truth = std::fs::read_to_string(realscans().join("ocrmypdf/linn.txt")).unwrap();
    let recall = word_recall(
        &truth,
        &pdftotext(&archive.join("pdf-repaired/data/documents/damaged.pdf")),
    );
    assert!(recall >= 0.9, "recall {recall:.3}");
}

#[test]
fn a_pdfa_scan_goes_through_again_with_its_image_and_its_identification_recorded() {
    // scanwerk's own output is a PDF/A-2b scan with an invisible text layer: ingested again, its
    // image stream stays the same bytes, and the record says what the source claimed to be.
    let source = std::fs::read(output("ccitt.pdf")).unwrap();
    let (out, _batch, archive) = ingest_files("pdfa-again", &[("again.pdf", source)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = archive.join("pdfa-again/data/documents/again.pdf");
    let (before, after) = (images(&output("ccitt.pdf")), images(&ours));
    assert!(raw_stream(&output("ccitt.pdf"), before[0].1) == raw_stream(&ours, after[0].1));
    let record = std::fs::read_to_string(archive.join("pdfa-again/data/documents/again.json")).unwrap();
    assert!(record.contains("the source PDF says it is PDF/A-2B"), "{record}");
    assert!(record.contains("invisible text layer was left out"), "{record}");
}
