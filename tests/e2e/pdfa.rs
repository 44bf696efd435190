//! PDF/A-2b and lossless images, over every image in `../shared/realscans`: each PDF passes
//! `verify` (whose PDF/A self-check re-reads it), `qpdf --check` and poppler's font check; its
//! XMP reads back with exiftool; its font program loads in fontTools with the widths the PDF
//! states; and every embedded image decodes (with poppler) to exactly the input's pixels.

use scanwerk::decode::{self, Raster, SourceFile};
use serde_json::Value;

use crate::harness::*;

/// The document records of the all-realscans batch.
fn records() -> Vec<Value> {
    let published = all_published();
    let dir = payload(&published.dir).join("documents");
    let mut out = Vec::new();
    for name in files(&dir) {
        if name.ends_with(".json") {
            out.push(serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap());
        }
    }
    assert_eq!(out.len(), all_realscan_images().len(), "one document per image");
    out
}

fn pdf_of(record: &Value) -> std::path::PathBuf {
    payload(&all_published().dir).join(record["pdf"].as_str().unwrap())
}

#[test]
fn every_realscan_pdf_passes_verify_qpdf_and_pdffonts() {
    let published = all_published();
    let out = scanwerk(&[
        "verify",
        published.dir.to_str().unwrap(),
        "--trust",
        published.keys.public.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "verify (with its PDF/A self-check): {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    for record in records() {
        let pdf = pdf_of(&record);
        let check = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
        assert!(
            check.status.success(),
            "qpdf --check {}: {}",
            pdf.display(),
            String::from_utf8_lossy(&check.stdout)
        );
        let fonts = tool("pdffonts", &[pdf.to_str().unwrap()]);
        assert!(
            fonts.status.success(),
            "pdffonts {}: {}",
            pdf.display(),
            stderr(&fonts)
        );
        let lines: Vec<String> = String::from_utf8_lossy(&fonts.stdout)
            .lines()
            .skip(2)
            .map(String::from)
            .collect();
        for line in &lines {
            // name, type (two words), encoding, emb, sub, uni, object id
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(&cols[4..7], ["yes", "no", "yes"], "{}: {line}", pdf.display());
        }
        // A document with recognised words carries exactly its one embedded text font.
        let words: u64 = record["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["words"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            lines.len(),
            usize::from(words > 0),
            "{}: {lines:?}",
            pdf.display()
        );
    }
}

#[test]
fn no_output_uses_jbig2_or_lzw() {
    for record in records() {
        let bytes = std::fs::read(pdf_of(&record)).unwrap();
        for forbidden in [&b"/JBIG2Decode"[..], b"/LZWDecode", b"/JPXDecode", b"/SMask"] {
            assert!(
                !bytes.windows(forbidden.len()).any(|w| w == forbidden),
                "{} contains {}",
                record["pdf"],
                String::from_utf8_lossy(forbidden)
            );
        }
    }
}

/// Samples as RGB at 16 bits, the one form every raster converts to without loss.
fn rgb16(raster: &Raster, width: u32) -> Vec<u16> {
    let wide = |v: u8| u16::from(v) * 257;
    match raster {
        Raster::Bilevel(bits) => {
            let stride = (width as usize).div_ceil(8);
            bits.chunks_exact(stride)
                .flat_map(|row| {
                    (0..width as usize).flat_map(move |x| {
                        let v = if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                            65535
                        } else {
                            0
                        };
                        [v; 3]
                    })
                })
                .collect()
        }
        Raster::Gray8(v) => v.iter().flat_map(|&g| [wide(g); 3]).collect(),
        Raster::Gray16(v) => v.iter().flat_map(|&g| [g; 3]).collect(),
        Raster::Rgb8(v) => v.iter().map(|&s| wide(s)).collect(),
        Raster::Rgb16(v) => v.clone(),
    }
}

#[test]
fn embedded_images_are_the_input_pixels_and_jpegs_the_input_bytes() {
    let published = all_published();
    let mut checked = (0, 0);
    for record in records() {
        let pdf = pdf_of(&record);
        let out = TempDir::new("pdfimages");
        pdfimages("-png", &pdf, &out.join("img"));
        pdfimages("-all", &pdf, &out.join("raw"));
        for (i, page) in record["pages"].as_array().unwrap().iter().enumerate() {
            let source = published.batch.join(page["source"].as_str().unwrap());
            let index = page["source_page"].as_u64().unwrap() as u32 - 1;
            let encoding = page["image_encoding"].as_str().unwrap();
            if encoding == "jpeg-original" {
                let embedded = std::fs::read(out.join(&format!("raw-{i:03}.jpg"))).unwrap();
                assert!(
                    embedded == std::fs::read(&source).unwrap(),
                    "{}: embedded JPEG differs from the input file",
                    pdf.display()
                );
                checked.1 += 1;
                continue;
            }
            let file = SourceFile::open(&source, page["source"].as_str().unwrap()).unwrap();
            let input = decode::decode_page(&file, index).unwrap();
            let embedded = image::open(out.join(&format!("img-{i:03}.png")))
                .unwrap_or_else(|e| panic!("{}: page {i}: {e}", pdf.display()))
                .into_rgb16();
            assert_eq!(
                (embedded.width(), embedded.height()),
                (input.width, input.height),
                "{}",
                pdf.display()
            );
            // A JPEG inside a TIFF decodes a level apart here and there between JPEG decoders
            // (seen: 1): scanwerk's raster comes from the tiff crate's decoder, poppler and
            // Pillow use libjpeg. Everything else must match exactly.
            let jpeg_in_tiff = is_jpeg_in_tiff(&std::fs::read(&source).unwrap(), index);
            let own = rgb16(&input.raster, input.width);
            let largest = embedded
                .into_raw()
                .iter()
                .zip(&own)
                .map(|(a, b)| a.abs_diff(*b) / 257)
                .max()
                .unwrap_or(0);
            assert!(
                largest <= if jpeg_in_tiff { 2 } else { 0 },
                "{} page {}: embedded pixels ({encoding}) differ from scanwerk's decoding of the input by {largest}",
                pdf.display(),
                i + 1
            );
            // And with an independent decoder of the input (Pillow): exact, except where scanwerk
            // had to store its own decoding of a JPEG-in-TIFF page.
            let tolerance = if jpeg_in_tiff && encoding == "flate" { 2 } else { 0 };
            let extracted = out.join(&format!("img-{i:03}.png"));
            let same = same_pixels(&extracted, &source, index, tolerance);
            assert!(
                same.status.success(),
                "{} page {}: embedded pixels differ from Pillow's decoding of the input \
                 (samples beyond ±{tolerance}, largest difference): {}{}",
                pdf.display(),
                i + 1,
                String::from_utf8_lossy(&same.stdout),
                stderr(&same)
            );
            checked.0 += 1;
        }
    }
    assert!(checked.0 >= 30 && checked.1 >= 10, "pages compared: {checked:?}");
}

/// True if page `index` of a TIFF is JPEG-compressed (Compression 7).
fn is_jpeg_in_tiff(bytes: &[u8], index: u32) -> bool {
    let Ok(mut decoder) = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    if index > 0 && decoder.seek_to_image(index as usize).is_err() {
        return false;
    }
    decoder
        .find_tag_unsigned::<u16>(tiff::tags::Tag::Compression)
        .ok()
        .flatten()
        == Some(7)
}

#[test]
fn passthrough_keeps_the_scanners_own_encodings() {
    let by_name = |image: &str| {
        let name = all_published_name(image);
        let stem = name.rsplit_once('.').unwrap().0.to_string();
        records()
            .into_iter()
            .find(|r| r["document_id"] == stem.as_str())
            .unwrap_or_else(|| panic!("{stem}"))
    };
    let encoding = |image: &str| by_name(image)["pages"][0]["image_encoding"].clone();
    assert_eq!(
        encoding("tesseract-ocr-test/8087_054.3B.tif"),
        "ccitt-g4-original"
    );
    assert_eq!(encoding("dinglehopper/lorem-ipsum-scan-1.png"), "png-original");
    assert_eq!(encoding("naps2/word_p2.jpg"), "jpeg-original");
    assert_eq!(
        encoding("ocrmypdf/linn.png"),
        "ccitt-g4",
        "palette of black and white"
    );
    assert_eq!(
        encoding("tesseract-ocr-test/eurotext.tif"),
        "ccitt-g4",
        "uncompressed bilevel"
    );
    // A JPEG of mostly blank paper travels Flate-wrapped; the JPEG inside is still the file's bytes
    // (the pixel test extracts every JPEG with pdfimages -all and compares the bytes).
    let blank = lopdf::Document::load(pdf_of(&by_name("naps2/blank2.jpg"))).unwrap();
    let filters: Vec<String> = blank
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(|v| v.as_name()).ok() == Some(b"Image"))
        .flat_map(|s| s.dict.get(b"Filter").unwrap().as_array().unwrap().clone())
        .map(|f| String::from_utf8_lossy(f.as_name().unwrap()).into_owned())
        .collect();
    assert_eq!(filters, ["FlateDecode", "DCTDecode"]);
    // The G4 strip is carried byte for byte: pdfimages -all gives back the TIFF's own data.
    let pdf = pdf_of(&by_name("tesseract-ocr-test/8087_054.3B.tif"));
    let out = TempDir::new("ccitt");
    pdfimages("-all", &pdf, &out.join("raw"));
    let strip = std::fs::read(out.join("raw-000.ccitt")).unwrap();
    let tiff = std::fs::read(realscans().join("tesseract-ocr-test/8087_054.3B.tif")).unwrap();
    assert!(strip.len() > 50_000);
    assert!(
        tiff.windows(strip.len()).any(|w| w == strip),
        "the CCITT stream is a byte range of the TIFF"
    );
}

#[test]
fn xmp_reads_back_with_exiftool_and_matches_the_info_dictionary() {
    let records = records();
    let pdfs: Vec<String> = records
        .iter()
        .map(|r| pdf_of(r).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["-j", "-G1", "-XMP:all", "-PDF:all", "-Warning"];
    args.extend(pdfs.iter().map(String::as_str));
    let out = tool("exiftool", &args);
    assert!(out.status.success(), "exiftool: {}", stderr(&out));
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all.len(), records.len());
    for (tags, record) in all.iter().zip(&records) {
        let file = &record["pdf"];
        assert!(tags.get("ExifTool:Warning").is_none(), "{file}: {tags}");
        assert_eq!(tags["XMP-pdfaid:Part"], 2, "{file}");
        assert_eq!(tags["XMP-pdfaid:Conformance"], "B", "{file}");
        assert_eq!(tags["XMP-dc:Title"], record["document_id"], "{file}");
        assert_eq!(tags["XMP-dc:Title"], tags["PDF:Title"], "{file}");
        assert_eq!(tags["XMP-pdf:Producer"], tags["PDF:Producer"], "{file}");
        assert_eq!(tags["XMP-xmp:CreatorTool"], tags["PDF:Creator"], "{file}");
        // The batch sheet's date, not the clock; exiftool prints both forms alike.
        assert_eq!(tags["XMP-xmp:CreateDate"], "2026:11:20 08:30:00Z", "{file}");
        assert_eq!(tags["PDF:CreateDate"], "2026:11:20 08:30:00Z", "{file}");
        assert_eq!(tags["XMP-scanwerk:BatchId"], "realscans-all", "{file}");
        assert_eq!(tags["XMP-scanwerk:Pages"], record["page_count"], "{file}");
        assert_eq!(
            tags["XMP-pdfaExtension:SchemasNamespaceURI"], "https://scanwerk.org/ns/xmp/1.0/",
            "{file}"
        );
    }
}

#[test]
fn font_program_loads_in_fonttools_with_the_pdfs_widths() {
    let record = records()
        .into_iter()
        .find(|r| r["document_id"] == "tesseract-ocr-test__eurotext")
        .unwrap();
    let doc = lopdf::Document::load(pdf_of(&record)).unwrap();
    let (cid_font, program) = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"CIDFontType2"))
        .map(|d| {
            let descriptor = doc
                .get_dictionary(d.get(b"FontDescriptor").unwrap().as_reference().unwrap())
                .unwrap();
            let file = doc
                .get_object(descriptor.get(b"FontFile2").unwrap().as_reference().unwrap())
                .unwrap()
                .as_stream()
                .unwrap();
            (d.clone(), file.decompressed_content().unwrap())
        })
        .next()
        .expect("the text layer has a CIDFontType2");
    let dir = TempDir::new("font");
    let path = dir.join("font.ttf");
    std::fs::write(&path, &program).unwrap();
    let script = "import sys\n\
        from fontTools.ttLib import TTFont\n\
        f = TTFont(sys.argv[1])\n\
        for tag in f.keys():\n    f[tag]\n\
        upm = f['head'].unitsPerEm\n\
        order = f.getGlyphOrder()\n\
        print(len(order), upm, *[f['hmtx'][g][0] * 1000 // upm for g in order])\n";
    let out = tool("/usr/bin/python3", &["-c", script, path.to_str().unwrap()]);
    assert!(out.status.success(), "fontTools: {}", stderr(&out));
    let fields: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let dw = cid_font.get(b"DW").unwrap().as_i64().unwrap();
    assert_eq!(fields[0], 2, "two glyphs: .notdef and the text glyph");
    assert_eq!(fields[3], dw, "the text glyph's advance is the PDF's /DW");
    assert!(!cid_font.has(b"W"), "every CID uses /DW");
}

#[test]
fn archive_side_size_stays_near_the_input_for_every_encoding() {
    // Not a size gate (that is scripts/compare-ocrmypdf.sh): a guard that catches an accidental
    // raw or re-inflated embedding. Originals kept as they are cost at most the text layer and
    // the PDF's own structure; lossless re-encodings (Flate for PNG/TIFF samples, G4 for bilevel)
    // may differ from the scanner's compression, but not by more than half again.
    for record in records() {
        let pdf = std::fs::metadata(pdf_of(&record)).unwrap().len();
        let input: u64 = record["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["bytes"].as_u64().unwrap())
            .sum();
        let encodings: Vec<&str> = record["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["image_encoding"].as_str().unwrap())
            .collect();
        let limit = if encodings.iter().all(|e| e.ends_with("-original")) {
            input + 40_000
        } else {
            input + input / 2 + 40_000
        };
        assert!(
            pdf < limit,
            "{}: {pdf} bytes from {input} bytes ({encodings:?}), more than {limit}",
            record["pdf"]
        );
    }
}

/// The veraPDF checks of the suite refuse what they must: a published PDF whose XMP lost its
/// `pdfaid:part` (same length, so the file stays well-formed) fails the harness helper and
/// `scripts/verapdf-all.sh`, and the untouched PDF passes both.
#[test]
fn the_verapdf_checks_refuse_a_pdf_without_its_pdfa_identification() {
    let published = real_published();
    let good = pdfs_in(&published.dir).remove(0);
    let bytes = std::fs::read(&good).unwrap();
    let at = bytes
        .windows(13)
        .position(|w| w == b"<pdfaid:part>")
        .expect("the XMP names its PDF/A part");
    let mut broken = bytes.clone();
    broken[at..at + 13].copy_from_slice(b"<pdfaid:xart>");
    let end = broken.windows(14).position(|w| w == b"</pdfaid:part>").unwrap();
    broken[end..end + 14].copy_from_slice(b"</pdfaid:xart>");
    let tmp = TempDir::new("verapdf-self");
    let (ok_dir, bad_dir) = (tmp.dir("ok"), tmp.dir("bad"));
    std::fs::write(ok_dir.join("good.pdf"), &bytes).unwrap();
    std::fs::write(bad_dir.join("broken.pdf"), &broken).unwrap();
    verapdf(&[ok_dir.join("good.pdf")]);
    let refused = std::panic::catch_unwind(|| verapdf(&[bad_dir.join("broken.pdf")]));
    assert!(
        refused.is_err(),
        "the harness helper passed a PDF without pdfaid:part"
    );
    let script = project("scripts/verapdf-all.sh");
    let ok = tool(script.to_str().unwrap(), &[ok_dir.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let bad = tool(script.to_str().unwrap(), &[bad_dir.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("6.6.4"),
        "names the PDF/A identification rule: {}",
        stderr(&bad)
    );
}

/// Every measured number in the README is in a results file (scripts/check-readme-numbers.py),
/// and the check refuses a number that is in none.
#[test]
fn readme_numbers_come_from_results_files() {
    let script = project("scripts/check-readme-numbers.py");
    let out = tool("/usr/bin/python3", &[script.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let tmp = TempDir::new("readme-numbers");
    let copy = tmp.join("README.md");
    let mut text = std::fs::read_to_string(project("README.md")).unwrap();
    text.push_str("\nA page takes 12345.6 ms.\n");
    std::fs::write(&copy, text).unwrap();
    let out = tool(
        "/usr/bin/python3",
        &[script.to_str().unwrap(), copy.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("12345.6 ms"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
