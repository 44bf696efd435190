//! Review before sealing: the review page driven in real headless Chromium through WebDriver
//! (Debian's chromedriver), verdicts from the command line, rescans of rejected pages, four eyes
//! under "sehr-hoch", and kill -9 in the middle of a review and of a rescan.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

const BATCH: &str = "demo-2026-001";

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A profile file with `[review]` set as given.
fn review_profile(dir: &TempDir, top: &str, review: &str, seal: &str) -> String {
    let path = dir.join("review-profile.toml");
    std::fs::write(
        &path,
        format!("id = \"review\"\nversion = \"1\"\n{top}\n[input]\nassume_dpi = 300\n[review]\n{review}\n[seal]\n{seal}\n"),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// `review status --json` of the review folder.
pub fn status(review: &Path) -> Value {
    let out = scanwerk(&["review", "status", review.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn decide(review: &Path, page: &str, verdict: &[&str], reviewer: &str) -> std::process::Output {
    let mut args = vec![
        "review",
        "decide",
        review.to_str().unwrap(),
        "--page",
        page,
        "--reviewer",
        reviewer,
    ];
    args.extend_from_slice(verdict);
    scanwerk(&args)
}

/// Accepts every page of the review folder as `reviewer`.
pub fn accept_all(review: &Path, reviewer: &str) {
    for page in status(review)["pages"].as_array().unwrap() {
        let at = format!("{}:{}", page["document"].as_str().unwrap(), page["page"]);
        let out = decide(review, &at, &["--accept"], reviewer);
        assert!(out.status.success(), "{at}: {}", stderr(&out));
    }
}

/// The state of one page in a `review status --json`.
fn state_of(status: &Value, document: &str, page: u64) -> String {
    status["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["document"] == document && p["page"] == page)
        .map(|p| p["state"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{document}:{page} not in {status}"))
}

/// The verdicts.jsonl lines of a review folder.
fn log_lines(review: &Path) -> Vec<Value> {
    std::fs::read_to_string(review.join("verdicts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `scanwerk review serve DIR`: the process and the URL it printed.
fn serve(review: &Path) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(["review", "serve", review.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    (Running(child), url)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// (status, body) of an HTTP request; a JSON body is posted when given.
fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, String) {
    let agent = agent();
    let mut response = match body {
        Some(body) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(body).unwrap())
            .unwrap(),
        None if method == "DELETE" => agent.delete(url).call().unwrap(),
        None => agent.get(url).call().unwrap(),
    };
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

/// A page of the demo batch ingested for review under `profile`: (temp dir, archive, review folder, keys).
fn composed(
    name: &str,
    review: &str,
    top: &str,
    seal: &str,
    extra: &[&str],
) -> (TempDir, PathBuf, PathBuf, Keys) {
    let dir = TempDir::new(name);
    let keys = keygen_with(&dir.dir("keys"), &["--cert"]);
    let profile = review_profile(&dir, top, review, seal);
    let archive = dir.dir("archive");
    let mut args = vec!["--profile", profile.as_str()];
    args.extend_from_slice(extra);
    let out = ingest(&project("testdata/demo-batch"), &archive, &keys.private, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let folder = archive.join(".review").join(BATCH);
    assert!(text.contains("for review (review.mode"), "{text}");
    assert!(folder.join("review.json").is_file(), "{text}");
    assert!(
        !archive.join(BATCH).exists(),
        "nothing is published before the review"
    );
    (dir, archive, folder, keys)
}

/// A minimal W3C WebDriver client for chromedriver.
struct Browser {
    _driver: Running,
    _profile: TempDir,
    base: String,
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian chromium-driver, installed by scripts/setup.sh)");
        let driver = Running(driver);
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !agent()
            .get(format!("{root}/status"))
            .call()
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = TempDir::new("chromium-review");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--no-first-run", "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.path().display())]}}}});
        let (status, body) = http("POST", &format!("{root}/session"), Some(&caps));
        assert_eq!(status, 200, "{body}");
        let session: Value = serde_json::from_str(&body).unwrap();
        let id = session["value"]["sessionId"].as_str().unwrap().to_string();
        Browser {
            _driver: driver,
            _profile: profile,
            base: format!("{root}/session/{id}"),
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let body = body.unwrap_or_else(|| json!({}));
        let (status, text) = http(method, &url, (method == "POST").then_some(&body));
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()["value"].clone()
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), None);
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Presses keys on the page (not in a field), as a person at the keyboard.
    fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.command(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    fn wait_for(&self, css: &str, what: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(css);
            if what(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{css} never matched; last: {text:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let png = self.command("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap()
    }

    fn rect(&self, css: &str) -> (f64, f64, f64, f64) {
        let id = self.find(css);
        let r = self.command("GET", &format!("/element/{id}/rect"), None);
        let f = |k: &str| r[k].as_f64().unwrap();
        (f("x"), f("y"), f("width"), f("height"))
    }

    /// Waits until the page image has loaded (its natural width is known).
    fn wait_image(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let done = self.command(
                "POST",
                "/execute/sync",
                Some(json!({"script": "const i = document.getElementById('page-image'); return i.complete && i.naturalWidth > 0;", "args": []})),
            );
            if done == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "the page image never loaded");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn review_page_in_headless_chromium_records_keyboard_verdicts() {
    let (_dir, _archive, folder, _keys) = composed("review-browser", "mode = \"all\"", "", "", &[]);
    let (_server, url) = serve(&folder);
    // Without the token, or with a wrong one, nothing is served and nothing can be posted.
    let root = url.trim_end_matches('/').rsplit_once('/').unwrap().0.to_string();
    assert_eq!(http("GET", &format!("{root}/"), None).0, 403);
    assert_eq!(http("GET", &format!("{root}/api/state?reviewer=x"), None).0, 403);
    let forged = json!({"reviewer": "Mallory", "document": "akte", "page": 1, "version": 0, "accept": true});
    assert_eq!(
        http(
            "POST",
            &format!("{root}/0123456789abcdef0123456789abcdef/api/verdict"),
            Some(&forged)
        )
        .0,
        403
    );
    assert_eq!(http("POST", &format!("{root}/api/verdict"), Some(&forged)).0, 403);

    let browser = Browser::start();
    browser.go(&url);
    browser.type_into("#reviewer", "Anna Prüferin");
    browser.click("#start");
    browser.wait_for("#progress", |t| t.starts_with("0 of 5 decided"));
    browser.wait_image();
    // The page image is on screen, large, and shows the scan (ink on paper), not an empty box.
    let shot = image::load_from_memory(&browser.screenshot()).unwrap().to_rgb8();
    let (x, y, w, h) = browser.rect("#page-image");
    let (sw, sh) = shot.dimensions();
    assert!(
        w * h > 0.10 * f64::from(sw * sh),
        "image {w}x{h} on a {sw}x{sh} screen"
    );
    let (mut paper, mut ink, mut all) = (0u64, 0u64, 0u64);
    for py in (y as u32)..((y + h) as u32).min(sh) {
        for px in (x as u32)..((x + w) as u32).min(sw) {
            let p = shot.get_pixel(px, py).0;
            all += 1;
            // Anything but the viewer's grey (#ddd) is the rendered page.
            if p != [0xdd, 0xdd, 0xdd] {
                paper += 1;
            }
            if p.iter().all(|&c| c < 110) {
                ink += 1;
            }
        }
    }
    assert!(paper as f64 > 0.9 * all as f64, "rendered {paper} of {all}");
    assert!(
        ink as f64 > 0.003 * all as f64,
        "ink {ink} of {all}: the scan is not visible"
    );
    std::fs::write(project("target/review-page.png"), browser.screenshot()).unwrap();

    // A, A, A: three pages accepted with the keyboard; R rejects the fourth with a reason.
    for n in 1..=3 {
        browser.keys("a");
        browser.wait_for("#progress", |t| t.starts_with(&format!("{n} of 5 decided")));
    }
    browser.keys("r");
    let option = browser.find("#reason option[value='incomplete']");
    browser.command("POST", &format!("/element/{option}/click"), None);
    browser.type_into("#note", "Rand abgeschnitten\u{E007}");
    browser.wait_for("#progress", |t| t.starts_with("4 of 5 decided"));

    let status = status(&folder);
    let pages = status["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 5);
    let states: Vec<&str> = pages.iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(
        states,
        ["accepted", "accepted", "accepted", "rejected", "pending"]
    );
    for page in &pages[..4] {
        let verdicts = page["verdicts"].as_array().unwrap();
        assert_eq!(verdicts.len(), 1, "{page}");
        assert_eq!(verdicts[0]["reviewer"], "Anna Prüferin");
    }
    assert_eq!(
        pages[3]["verdicts"][0]["reason"],
        "incomplete: Rand abgeschnitten"
    );
    assert_eq!(log_lines(&folder).len(), 4);
}

#[test]
fn a_rejected_page_is_rescanned_and_the_sealed_document_holds_the_new_page() {
    let (dir, archive, folder, keys) = composed("review-rescan", "mode = \"flagged+sample\"", "", "", &[]);
    let plan = status(&folder);
    let page = &plan["pages"][0];
    let at = format!("{}:{}", page["document"].as_str().unwrap(), page["page"]);
    let document = page["document"].as_str().unwrap().to_string();
    let number = page["page"].as_u64().unwrap() as u32;

    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{document} page {number}: pending")),
        "{}",
        stderr(&out)
    );

    let out = decide(&folder, &at, &["--reject", "unreadable"], "Anna");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("rejected by Anna"), "{}", stderr(&out));
    // A rejected page takes no verdict until it is rescanned.
    let out = decide(&folder, &at, &["--accept"], "Ben");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("rescan it"), "{}", stderr(&out));

    let new_scan = realscans().join("tesseract-ocr-test/phototest.tif");
    let out = scanwerk(&[
        "review",
        "rescan",
        folder.to_str().unwrap(),
        "--page",
        &at,
        new_scan.to_str().unwrap(),
        "--by",
        "Carla",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status(&folder)["pages"][0]["state"], "pending");
    let out = decide(&folder, &at, &["--accept"], "Ben");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !folder.exists(),
        "the review folder is gone once the batch is published"
    );

    let batch = archive.join(BATCH);
    let pdf = payload(&batch).join(format!("documents/{document}.pdf"));
    // The new page's text and pixels are in the sealed PDF, the old version is kept.
    let text = tool(
        "pdftotext",
        &[
            "-f",
            &number.to_string(),
            "-l",
            &number.to_string(),
            pdf.to_str().unwrap(),
            "-",
        ],
    );
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("quick brown dog"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let prefix = dir.join("page");
    let out = tool(
        "pdfimages",
        &[
            "-png",
            "-f",
            &number.to_string(),
            "-l",
            &number.to_string(),
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let out = same_pixels(&dir.join("page-000.png"), &new_scan, 0, 0);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let record = json_file(&payload(&batch).join(format!("documents/{document}.json")));
    let rescan = &record["rescans"][0];
    assert_eq!(rescan["by"], "Carla");
    assert_eq!(
        rescan["sha256"],
        scanwerk::seal::hash::sha256_hex(&std::fs::read(&new_scan).unwrap())
    );
    let replaced = payload(&batch).join(rescan["replaced"]["pdf"].as_str().unwrap());
    assert_eq!(
        rescan["replaced"]["pdf_sha256"],
        scanwerk::seal::hash::sha256_hex(&std::fs::read(&replaced).unwrap())
    );
    let protocol = json_file(&payload(&batch).join("protocol.json"));
    let anomalies = protocol["transfer_note"]["anomalies"].to_string();
    assert!(
        anomalies.contains(&format!("{document} page {number} rescanned on"))
            && anomalies.contains("by Carla"),
        "{anomalies}"
    );
    let statement = protocol["transfer_note"]["statement"].as_str().unwrap();
    assert!(
        statement.contains("Sichtprüfung durch Personen") && statement.contains("Anna, Ben"),
        "{statement}"
    );
    assert!(
        statement.contains("1 Seite(n) wurden nach Zurückweisung neu gescannt"),
        "{statement}"
    );
    let verdicts = protocol["review"]["pages"][0]["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2);
    assert_eq!(
        (verdicts[0]["verdict"].as_str(), verdicts[0]["version"].as_u64()),
        (Some("rejected"), Some(0))
    );
    assert_eq!(
        (verdicts[1]["verdict"].as_str(), verdicts[1]["version"].as_u64()),
        (Some("accepted"), Some(1))
    );
    let out = scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    verapdf(&[pdf, replaced]);
}

#[test]
fn four_eyes_under_sehr_hoch_need_two_different_people() {
    let dir = TempDir::new("review-four-eyes");
    let keys = keygen_with(&dir.dir("keys"), &["--cert"]);
    let profile = review_profile(&dir, "protection = \"sehr-hoch\"", "", "timestamp = \"offline\"");
    let archive = dir.dir("archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        &archive,
        &keys.private,
        &["--profile", &profile, "--cert", keys.cert.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = archive.join(".review").join(BATCH);
    let plan = json_file(&folder.join("review.json"));
    assert_eq!(plan["mode"], "all");
    assert_eq!(plan["reviewers_required"], 2);
    assert_eq!(plan["pages"].as_array().unwrap().len(), 5, "every page");

    accept_all(&folder, "Anna");
    // The same person twice is refused; sealing after one reviewer fails.
    let out = decide(&folder, "akte:1", &["--accept"], "Anna");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("must come from another person"),
        "{}",
        stderr(&out)
    );
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("accepted by 1, more needed"),
        "{}",
        stderr(&out)
    );
    assert!(!archive.join(BATCH).exists());

    accept_all(&folder, "Ben");
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let batch = archive.join(BATCH);
    let protocol = json_file(&payload(&batch).join("protocol.json"));
    assert!(
        protocol["transfer_note"]["statement"]
            .as_str()
            .unwrap()
            .contains("Vier-Augen-Prinzip")
    );
    for page in protocol["review"]["pages"].as_array().unwrap() {
        let names: Vec<&str> = page["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["reviewer"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Anna", "Ben"]);
    }
    let out = scanwerk(&["verify", batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // A protocol whose review lost a verdict does not verify.
    let text = std::fs::read_to_string(payload(&batch).join("protocol.json")).unwrap();
    let cut = text.replacen("\"reviewer\": \"Ben\"", "\"reviewer\": \"Anna\"", 1);
    std::fs::write(payload(&batch).join("protocol.json"), cut).unwrap();
    let out = scanwerk(&["verify", batch.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("accepted by 1, more needed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn kill_9_during_review_and_rescan_loses_no_verdict_and_records_none_twice() {
    let (_dir, _archive, folder, _keys) = composed("review-kill", "mode = \"all\"", "", "", &[]);
    let (mut first, url) = serve(&folder);
    let (_second, url2) = serve(&folder);
    let post = |url: &str, page: u32, doc: &str, accept: bool, who: &str| {
        let body = json!({"reviewer": who, "document": doc, "page": page, "version": 0, "accept": accept,
                          "reason": if accept { Value::Null } else { json!("unreadable") }});
        http("POST", &format!("{url}api/verdict"), Some(&body))
    };
    assert_eq!(post(&url, 1, "akte", true, "Anna").0, 200);
    assert_eq!(post(&url, 1, "antrag", false, "Anna").0, 200);
    // The second server sees the first's verdicts: the same verdict twice is refused there.
    let (code, body) = post(&url2, 1, "akte", true, "Anna");
    assert_eq!(code, 409, "{body}");
    unsafe { libc::kill(first.0.id() as i32, libc::SIGKILL) };
    let _ = first.0.wait();
    assert_eq!(post(&url2, 2, "antrag", true, "Anna").0, 200);
    let lines = log_lines(&folder);
    assert_eq!(lines.len(), 3, "{lines:?}");

    // A rescan killed while it composes leaves the page rejected and no rescan on record.
    let big = realscans().join("tesseract-ocr-test/eurotext.tif");
    let mut rescan = Command::new(BIN)
        .args([
            "review",
            "rescan",
            folder.to_str().unwrap(),
            "--page",
            "antrag:1",
            big.to_str().unwrap(),
            "--by",
            "Carla",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_dir(folder.join("versions")).is_ok_and(|mut d| d.next().is_some()) {
        assert!(Instant::now() < deadline, "the rescan never started composing");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(150));
    unsafe { libc::kill(rescan.id() as i32, libc::SIGKILL) };
    let _ = rescan.wait();
    let after = status(&folder);
    assert_eq!(after["rescans"].as_array().unwrap().len(), 0, "{after}");
    assert_eq!(state_of(&after, "antrag", 1), "rejected");
    assert_eq!(log_lines(&folder).len(), 3);

    let out = scanwerk(&[
        "review",
        "rescan",
        folder.to_str().unwrap(),
        "--page",
        "antrag:1",
        big.to_str().unwrap(),
        "--by",
        "Carla",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = status(&folder);
    assert_eq!(after["rescans"].as_array().unwrap().len(), 1);
    assert_eq!(state_of(&after, "antrag", 1), "pending");
    assert_eq!(state_of(&after, "akte", 1), "accepted");
    assert_eq!(state_of(&after, "antrag", 2), "accepted");
    let versions: Vec<String> = entries(&folder.join("versions"));
    assert_eq!(versions, ["antrag-v1"], "one version, no leftovers");
    let lines = log_lines(&folder);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.iter().filter(|l| l["event"] == "verdict").count(), 3);
}

#[test]
fn the_review_page_image_is_the_pdf_page_as_shown() {
    // The image the review page serves is the PDF page turned by /Rotate: compare with poppler.
    let dir = TempDir::new("review-image");
    let batch = dir.dir("batch");
    std::fs::copy(
        realscans().join("tesseract-ocr-test/phototest-rotated-R.png"),
        batch.join("turned.png"),
    )
    .unwrap();
    let keys = keygen(&dir.dir("keys"));
    let profile = review_profile(&dir, "", "mode = \"all\"", "");
    let archive = dir.dir("archive");
    let out = ingest(&batch, &archive, &keys.private, &["--profile", &profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = std::fs::read_dir(archive.join(".review"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (_server, url) = serve(&folder);
    let agent = agent();
    let mut response = agent
        .get(format!("{url}image?document=turned&page=1"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let png = response.body_mut().read_to_vec().unwrap();
    let shown = image::load_from_memory(&png).unwrap().to_luma8();
    let pdf = payload(&folder).join("documents/turned.pdf");
    let out = tool(
        "pdftoppm",
        &[
            "-r",
            "30",
            "-gray",
            "-png",
            pdf.to_str().unwrap(),
            dir.join("poppler").to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let poppler = image::open(dir.join("poppler-1.png")).unwrap().to_luma8();
    let (pw, ph) = poppler.dimensions();
    let (sw, sh) = shown.dimensions();
    assert_eq!(
        pw > ph,
        sw > sh,
        "same orientation as poppler shows it: {pw}x{ph} vs {sw}x{sh}"
    );
    let text = http("GET", &format!("{url}text?document=turned&page=1"), None).1;
    assert!(text.contains("quick brown"), "{text}");
    assert!(text.lines().count() >= 5, "one line per text line: {text}");
}

#[test]
fn run_leaves_a_batch_for_review_and_seal_finishes_it_into_done() {
    let dir = TempDir::new("review-run");
    let keys = keygen(&dir.dir("keys"));
    let profile = review_profile(&dir, "", "mode = \"flagged+sample\"", "");
    let inbox = dir.dir("inbox");
    let archive = dir.dir("archive");
    copy_tree(&project("testdata/demo-batch"), &inbox.join("stapel-1"));
    let run = || {
        scanwerk(&[
            "run",
            "--inbox",
            inbox.to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
            "--key",
            keys.private.to_str().unwrap(),
            "--profile",
            &profile,
            "--json",
            "--settle-seconds",
            "0",
        ])
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let batch = &summary["batches"][0];
    assert_eq!(batch["status"], "in_review", "{summary}");
    let folder = archive.join(".review").join(BATCH);
    assert_eq!(batch["published"], folder.to_str().unwrap());
    assert!(
        inbox.join("review/stapel-1/batch.toml").is_file(),
        "{:?}",
        entries(&inbox)
    );
    assert!(!archive.join(BATCH).exists());
    // A second run leaves it alone: review/ is not a batch.
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batches"].as_array().unwrap().len(), 0, "{summary}");

    accept_all(&folder, "Anna");
    let out = scanwerk(&["review", "seal", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        inbox.join("done/stapel-1/batch.toml").is_file(),
        "{:?}",
        entries(&inbox.join("done"))
    );
    assert!(!inbox.join("review/stapel-1").exists());
    let out = scanwerk(&[
        "verify",
        archive.join(BATCH).to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("review          flagged+sample"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
