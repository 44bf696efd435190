//! The QA report: `report.html` of the all-realscans batch (blank, turned and skewed pages among
//! them) rendered by headless Chromium — a DOM with every page, a print with every thumbnail — and
//! the spot-check draw repeated from the protocol alone.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::*;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `chromium --headless --no-sandbox --disable-gpu ARGS URL`, with its own profile folder.
pub fn chromium(args: &[&str], url: &str) -> std::process::Output {
    let profile = TempDir::new("chromium-profile");
    let user_data = format!("--user-data-dir={}", profile.0.display());
    let mut all = vec!["120", "chromium", "--headless", "--no-sandbox", "--disable-gpu"];
    all.push(&user_data);
    all.extend_from_slice(args);
    all.push(url);
    let out = tool("timeout", &all);
    assert!(out.status.success(), "chromium {args:?}: {}", stderr(&out));
    out
}

/// Flags that only record what was done; every other flag asks for review (red in the report).
const RECORD_ONLY: [&str; 3] = ["rotated", "skewed", "removed"];

/// The pages of the all-realscans batch that need review, with their flags: the two blank NAPS2
/// test pages, the badly skewed NAPS2 page tesseract reads poorly, and the images scanned (or
/// stored) below the profile's minimum resolution.
const FOR_REVIEW: &[&str] = &[
    r#"naps2__blank1 1 ["blank"]"#,
    r#"naps2__blank2 1 ["blank"]"#,
    r#"naps2__skewed 1 ["low_confidence","skewed"]"#,
    r#"paperless-ngx__simple_png 1 ["low_resolution"]"#,
    r#"tesseract-ocr-test__phototest_2 1 ["low_resolution"]"#,
    r#"tesseract.js__simple 1 ["low_resolution"]"#,
    r#"tesseract.js__simple-180 1 ["low_resolution","rotated"]"#,
    r#"tesseract.js__simple-270 1 ["low_resolution","rotated"]"#,
    r#"tesseract.js__simple-90 1 ["low_resolution","rotated"]"#,
];

/// Pages of every realscans image, counted by Pillow (frames of a multi-page TIFF).
fn input_pages() -> usize {
    let script = "import sys\nfrom PIL import Image\n\
        print(sum(getattr(Image.open(p), 'n_frames', 1) for p in sys.argv[1:]))\n";
    let images: Vec<String> = all_realscan_images()
        .iter()
        .map(|i| realscans().join(i).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["-c", script];
    args.extend(images.iter().map(String::as_str));
    let out = tool("/usr/bin/python3", &args);
    assert!(out.status.success(), "Pillow: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn report_renders_every_page_with_its_flags() {
    let dir = &all_published().dir;
    let report = payload(dir).join("report.html");
    let manifest = json(&payload(dir).join("manifest.json"));
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "report.html"),
        "the manifest covers report.html"
    );
    assert!(
        !dir.join(".thumbnails").exists(),
        "working thumbnails are not published"
    );
    let url = format!("file://{}", report.display());

    let dom = String::from_utf8(chromium(&["--dump-dom"], &url).stdout).unwrap();
    let protocol = json(&payload(dir).join("protocol.json"));
    let sample = &protocol["qa_sample"];
    let (mut pages, mut flagged) = (0, 0);
    for doc in protocol["documents"].as_array().unwrap() {
        let id = doc["id"].as_str().unwrap();
        let record = json(&payload(dir).join(format!("documents/{id}.json")));
        for page in record["pages"].as_array().unwrap() {
            let n = page["number"].as_u64().unwrap();
            let element = format!("id=\"page-{id}-{n}\"");
            let at = dom
                .find(&element)
                .unwrap_or_else(|| panic!("{id} page {n} is not in the DOM"));
            let tag_start = dom[..at].rfind('<').unwrap();
            let tag = &dom[tag_start..at + dom[at..].find('>').unwrap()];
            assert!(tag.contains("card"), "{tag}");
            let drawn = sample["pages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["document"] == id && p["page"] == n);
            assert_eq!(tag.contains("sampled"), drawn, "{id} page {n}: {tag}");
            if page["needs_review"] == true {
                flagged += 1;
                assert!(tag.contains("review"), "{id} page {n} needs review: {tag}");
                let card = &dom[at..at + dom[at..].find("</figure>").unwrap()];
                for flag in page["flags"].as_array().unwrap() {
                    let flag = flag.as_str().unwrap();
                    let class = if RECORD_ONLY.contains(&flag) {
                        "recorded"
                    } else {
                        "review"
                    };
                    let shown = format!("<span class=\"flag {class}\">{flag}</span>");
                    assert!(card.contains(&shown), "{id} page {n}: flag {flag} not shown");
                }
            }
            pages += 1;
        }
    }
    // Exactly the pages the batch received, and exactly the pages the protocol lists for review
    // (counted from the protocol, independently of the document records walked above).
    let received = protocol["completeness"]["pages"].as_u64().unwrap() as usize;
    let for_review = protocol["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["flagged_pages"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["needs_review"] == true)
        .count();
    assert_eq!(pages, received, "a card for every page received");
    assert_eq!(
        flagged, for_review,
        "a review frame for every page the protocol lists"
    );
    // The fixture's counts, from outside scanwerk: every page of every input image as Pillow
    // counts them, and the pages known to need a person's eyes.
    assert_eq!(
        received,
        input_pages(),
        "pages received vs Pillow's count of the inputs"
    );
    let mut review: Vec<String> = protocol["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            let id = d["id"].as_str().unwrap().to_string();
            d["flagged_pages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p["needs_review"] == true)
                .map(move |p| format!("{id} {} {}", p["number"], p["flags"]))
        })
        .collect();
    review.sort();
    assert_eq!(review, FOR_REVIEW, "the pages that need review");
    assert_eq!(
        dom.matches("data:image/png;base64,").count(),
        pages,
        "a thumbnail per page"
    );

    // Printed by Chromium, every thumbnail is a decoded image on the paper (pdfimages counts
    // them), and every flag of a page for review is there in words.
    let printed = TempDir::new("report-print");
    let pdf = printed.join("report.pdf");
    chromium(
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
        ],
        &url,
    );
    let list = tool("pdfimages", &["-list", pdf.to_str().unwrap()]);
    let images = String::from_utf8(list.stdout).unwrap().lines().skip(2).count();
    assert_eq!(images, pages, "every thumbnail rendered as an image");
    let text = pdftotext(&pdf);
    for entry in &review {
        let id = entry.split(' ').next().unwrap();
        assert!(text.contains(id), "{id} is named in the printed report");
        for flag in ["blank", "low_confidence", "low_resolution"] {
            if entry.contains(flag) {
                assert!(text.contains(flag), "{id}: flag {flag} is printed");
            }
        }
    }
}

#[test]
fn the_spot_check_is_redrawn_from_the_protocol_alone() {
    let protocol = json(&payload(&all_published().dir).join("protocol.json"));
    let sample = &protocol["qa_sample"];
    let mut seed = format!("scanwerk qa sample\n{}\n", protocol["batch_id"].as_str().unwrap());
    let mut lots = Vec::new();
    for doc in protocol["documents"].as_array().unwrap() {
        for source in doc["sources"].as_array().unwrap() {
            seed.push_str(source["sha256"].as_str().unwrap());
            seed.push('\n');
        }
    }
    let seed = hex(&Sha256::digest(seed.as_bytes()));
    assert_eq!(sample["seed"], seed.as_str());
    for doc in protocol["documents"].as_array().unwrap() {
        let id = doc["id"].as_str().unwrap();
        for n in 1..=doc["scanned_pages"].as_u64().unwrap() {
            let lot = hex(&Sha256::digest(format!("{seed}\n{id}\n{n}").as_bytes()));
            lots.push((lot, id.to_string(), n));
        }
    }
    assert_eq!(sample["population"], lots.len());
    // The standard profile draws 3 %, at least one page.
    let wanted = (lots.len() as f64 * 0.03).ceil() as usize;
    lots.sort();
    let mut drawn: Vec<(String, u64)> = lots.into_iter().take(wanted).map(|(_, d, n)| (d, n)).collect();
    drawn.sort();
    let mut recorded: Vec<(String, u64)> = sample["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["document"].as_str().unwrap().to_string(),
                p["page"].as_u64().unwrap(),
            )
        })
        .collect();
    recorded.sort();
    assert_eq!(recorded, drawn);
    assert!(!drawn.is_empty());
}
