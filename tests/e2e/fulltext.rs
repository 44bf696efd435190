//! Full text beside each PDF: ALTO 4 (default) and hOCR (by profile), checked against poppler's
//! reading of the PDF's text layer (`tests/e2e/alto_check.py`: same words, boxes within 2 pt).

use serde_json::Value;

use crate::harness::*;

/// `alto_check.py`'s verdict on one document of a published batch.
fn alto_check(batch: &std::path::Path, id: &str) -> Value {
    let script = project("tests/e2e/alto_check.py");
    let alto = payload(batch).join(format!("documents/{id}.alto.xml"));
    let pdf = payload(batch).join(format!("documents/{id}.pdf"));
    let out = tool(
        "/usr/bin/python3",
        &[
            script.to_str().unwrap(),
            alto.to_str().unwrap(),
            pdf.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{id}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The ids of a published batch's documents.
fn documents(batch: &std::path::Path) -> Vec<String> {
    entries(&payload(batch).join("documents"))
        .into_iter()
        .filter_map(|f| f.strip_suffix(".pdf").map(String::from))
        .collect()
}

#[test]
fn alto_of_every_realscans_page_holds_the_text_layer_words_where_poppler_finds_them() {
    let published = all_published();
    let manifest = std::fs::read_to_string(payload(&published.dir).join("manifest.json")).unwrap();
    let (mut pages, mut words, mut apart, mut worst) = (0, 0, 0, 0.0f64);
    let ids = documents(&published.dir);
    assert!(ids.len() >= 40, "{ids:?}");
    for id in &ids {
        let verdict = alto_check(&published.dir, id);
        assert_eq!(verdict["problems"], serde_json::json!([]), "{id}: {verdict}");
        assert!(
            manifest.contains(&format!("\"documents/{id}.alto.xml\"")),
            "{id} listed in the manifest"
        );
        pages += verdict["pages"].as_u64().unwrap();
        words += verdict["words"].as_u64().unwrap();
        apart += verdict["read_apart_by_poppler"].as_u64().unwrap();
        worst = worst.max(verdict["worst_pt"].as_f64().unwrap());
    }
    assert!(words > 2000, "{words} words on {pages} pages");
    // Words tesseract put on top of each other, which poppler reads as other pieces: rare.
    assert!(apart * 200 < words, "{apart} of {words} words read apart");
    eprintln!(
        "ALTO: {} documents, {pages} pages, {words} words ({apart} overlapping, read apart by poppler), \
         worst box {worst} pt from poppler's",
        ids.len()
    );
    let out = scanwerk(&["verify", published.dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hocr_by_profile_holds_the_same_words_as_alto() {
    let dir = TempDir::new("hocr");
    let keys = keygen(&dir.dir("keys"));
    let profile = dir.join("hocr.toml");
    std::fs::write(
        &profile,
        "id = \"hocr\"\nversion = \"1\"\n[output]\nhocr = true\n",
    )
    .unwrap();
    let archive = dir.dir("archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        &archive,
        &keys.private,
        &["--profile", profile.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join("demo-2026-001");
    let script = "import sys, xml.etree.ElementTree as ET\n\
        X = '{http://www.w3.org/1999/xhtml}'\n\
        A = '{http://www.loc.gov/standards/alto/ns-v4#}'\n\
        h = ET.parse(sys.argv[1]).getroot()\n\
        a = ET.parse(sys.argv[2]).getroot()\n\
        hw = [s.text for s in h.iter(X + 'span') if s.get('class') == 'ocrx_word']\n\
        aw = [s.get('CONTENT') for s in a.iter(A + 'String')]\n\
        pages = [d for d in h.iter(X + 'div') if d.get('class') == 'ocr_page']\n\
        assert hw == aw and hw, (hw, aw)\n\
        print(len(pages), len(hw))\n";
    for id in documents(&batch) {
        let hocr = payload(&batch).join(format!("documents/{id}.hocr"));
        let alto = payload(&batch).join(format!("documents/{id}.alto.xml"));
        let out = tool(
            "/usr/bin/python3",
            &["-c", script, hocr.to_str().unwrap(), alto.to_str().unwrap()],
        );
        assert!(out.status.success(), "{id}: {}", stderr(&out));
        assert_eq!(alto_check(&batch, &id)["problems"], serde_json::json!([]));
    }
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}
