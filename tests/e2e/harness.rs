//! Test harness: temp dirs, keys, running the binary, word recall, the shared real-scan batch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BIN: &str = env!("CARGO_BIN_EXE_scanwerk");

/// `../shared/realscans`, relative to the project.
pub fn realscans() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realscans")
}

pub fn project(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A fresh, empty temp directory that is removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("scanwerk-e2e-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// Creates and returns a sub-directory.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let d = self.0.join(rel);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Keys {
    pub private: PathBuf,
    pub public: PathBuf,
    /// The self-signed certificate, if `keygen --cert` made one.
    pub cert: PathBuf,
}

pub fn keygen(dir: &Path) -> Keys {
    keygen_with(dir, &[])
}

/// `scanwerk keygen --out DIR EXTRA…`, e.g. `--cert`, `--curve p384`.
pub fn keygen_with(dir: &Path, extra: &[&str]) -> Keys {
    let mut args = vec!["keygen", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = scanwerk(&args);
    assert!(out.status.success(), "keygen: {}", stderr(&out));
    Keys {
        private: dir.join("signing-key.pem"),
        public: dir.join("signing-key.pub.pem"),
        cert: dir.join("signing-cert.pem"),
    }
}

/// `pyhanko sign validate` against `trust` alone (pyHanko from PyPI, set up by scripts/setup.sh).
pub fn pyhanko_validate(pdf: &Path, trust: &Path) -> Output {
    let pyhanko = project("target/pyhanko-venv/bin/pyhanko");
    Command::new(&pyhanko)
        .args(["sign", "validate", "--trust-replace", "--trust"])
        .arg(trust)
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("{} is installed by scripts/setup.sh: {e}", pyhanko.display()))
}

/// Runs scanwerk. After an `ingest` or `run` that succeeded, every PDF now in the archive is
/// handed to [`collect_pdfs`], so that veraPDF sees what the tests publish, and every bag not seen
/// before is validated by `bagit.py` ([`validate_bags`]).
pub fn scanwerk(args: &[&str]) -> Output {
    let out = Command::new(BIN).args(args).output().expect("scanwerk runs");
    if out.status.success()
        && matches!(args.first(), Some(&"ingest") | Some(&"run"))
        && let Some(at) = args.iter().position(|a| *a == "--archive")
        && let Some(archive) = args.get(at + 1)
    {
        collect_pdfs(Path::new(archive));
        validate_bags(Path::new(archive));
    }
    // A reviewed batch is published by `review seal <archive>/.review/<batch>`.
    if out.status.success()
        && args.starts_with(&["review", "seal"])
        && let Some(archive) = args.get(2).and_then(|f| Path::new(f).parent()?.parent())
    {
        collect_pdfs(archive);
        validate_bags(archive);
    }
    out
}

/// The folder a published batch's files are in: `data/` of a bag (the default layout), else the
/// batch folder itself (`output.bagit = false`).
pub fn payload(batch: impl AsRef<Path>) -> PathBuf {
    scanwerk::handoff::bag::payload(batch.as_ref())
}

/// `bagit.py --validate BAG` (the Library of Congress's tool, PyPI `bagit` in
/// target/bagit-venv, installed by scripts/setup.sh).
pub fn bagit_validate(bag: &Path) -> Output {
    let python = project("target/bagit-venv/bin/python");
    let script = project("target/bagit-venv/bin/bagit.py");
    tool(
        python.to_str().unwrap(),
        &[script.to_str().unwrap(), "--validate", bag.to_str().unwrap()],
    )
}

/// Validates every bag in `archive` that this test run has not validated yet with `bagit.py`, right
/// after publication (before any test tampers with it): every batch the e2e suite publishes is
/// checked by the independent tool, whichever test published it.
pub fn validate_bags(archive: &Path) {
    static SEEN: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(batches) = std::fs::read_dir(archive) else {
        return;
    };
    for bag in batches.flatten().map(|e| e.path()) {
        if !bag.join("bagit.txt").is_file() || SEEN.lock().unwrap().contains(&bag) {
            continue;
        }
        let out = bagit_validate(&bag);
        assert!(
            out.status.success(),
            "bagit.py refuses {}: {}",
            bag.display(),
            stderr(&out)
        );
        SEEN.lock().unwrap().push(bag);
    }
}

/// Copies every published PDF below `archive` (`<batch>/documents/*.pdf`) into the folder
/// `SCANWERK_PDF_COLLECT` names, as `<sha256>.pdf` (the same PDF once), as it is right after
/// publication, before any test tampers with it. `scripts/test.sh` sets the folder and runs
/// veraPDF over all of them when the tests are done.
pub fn collect_pdfs(archive: &Path) {
    let Some(into) = std::env::var_os("SCANWERK_PDF_COLLECT") else {
        return;
    };
    let into = PathBuf::from(into);
    let Ok(batches) = std::fs::read_dir(archive) else {
        return;
    };
    for batch in batches.flatten() {
        let folders = ["documents", "replaced", "data/documents", "data/replaced"]
            .map(|f| std::fs::read_dir(batch.path().join(f)));
        for pdf in folders
            .into_iter()
            .flatten()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            if pdf.extension().is_some_and(|e| e == "pdf") {
                let bytes = std::fs::read(&pdf).unwrap();
                let name = format!("{}.pdf", scanwerk::seal::hash::sha256_hex(&bytes));
                std::fs::write(into.join(name), bytes).unwrap();
            }
        }
    }
}

pub fn ingest(batch: &Path, archive: &Path, key: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "ingest",
        batch.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    scanwerk(&args)
}

/// Ingests the demo batch into `archive` with `profile`; asserts it succeeded.
pub fn ingest_demo(archive: &Path, key: &Path, profile: &str) {
    let out = ingest(
        &project("testdata/demo-batch"),
        archive,
        key,
        &["--profile", profile],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn tool(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap_or_else(|e| panic!("{program} is installed by scripts/setup.sh: {e}"))
}

/// `pdfimages MODE PDF PREFIX` (e.g. `-all`, `-png`); the images are `PREFIX-000.ext`, ….
pub fn pdfimages(mode: &str, pdf: &Path, prefix: &Path) {
    let out = tool(
        "pdfimages",
        &[mode, pdf.to_str().unwrap(), prefix.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "pdfimages {mode} {}: {}",
        pdf.display(),
        stderr(&out)
    );
}

/// `tests/e2e/same_pixels.py EXTRACTED SOURCE PAGE TOLERANCE`: poppler's extraction against
/// Pillow's decoding of page `page` (0-based) of the input; fails on any sample beyond `tolerance`.
pub fn same_pixels(extracted: &Path, source: &Path, page: u32, tolerance: u8) -> Output {
    let script = project("tests/e2e/same_pixels.py");
    tool(
        "/usr/bin/python3",
        &[
            script.to_str().unwrap(),
            extracted.to_str().unwrap(),
            source.to_str().unwrap(),
            &page.to_string(),
            &tolerance.to_string(),
        ],
    )
}

/// Skew of an image measured independently of scanwerk (tests/e2e/skew.py: projection profile with
/// Pillow and numpy, no leptonica): degrees the text lines rise by, or `None` when the page gives no
/// clear profile. Panics when the script fails, so "not measurable" is never a silent zero.
pub fn independent_skew(image: &Path) -> Option<f64> {
    let script = project("tests/e2e/skew.py");
    let out = tool(
        "/usr/bin/python3",
        &[script.to_str().unwrap(), image.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "skew.py {}: {}",
        image.display(),
        stderr(&out)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    match line.trim() {
        "none" => None,
        degrees => Some(degrees.parse().unwrap()),
    }
}

/// `openssl dgst -sha256 -verify KEY -signature SIG FILE`.
pub fn openssl_verify(key: &Path, signature: &Path, file: &Path) -> Output {
    openssl_verify_with("-sha256", key, signature, file)
}

/// `openssl dgst DIGEST -verify KEY -signature SIG FILE`.
pub fn openssl_verify_with(digest: &str, key: &Path, signature: &Path, file: &Path) -> Output {
    tool(
        "openssl",
        &[
            "dgst",
            digest,
            "-verify",
            key.to_str().unwrap(),
            "-signature",
            signature.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    )
}

pub fn pdftotext(pdf: &Path) -> String {
    let out = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    assert!(
        out.status.success(),
        "pdftotext {}: {}",
        pdf.display(),
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Words for recall: words hyphenated across a line end joined (pdftotext joins them, the
/// tesseract CLI and most ground truth do not), split on whitespace, trimmed of surrounding
/// punctuation, non-empty. The same rule applies to every text compared.
fn words(text: &str) -> Vec<String> {
    dehyphenate(text)
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

fn dehyphenate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_end();
        let hyphenated = trimmed.len() > 1
            && trimmed.ends_with('-')
            && trimmed[..trimmed.len() - 1].ends_with(|c: char| c.is_alphabetic());
        if hyphenated {
            out.push_str(&trimmed[..trimmed.len() - 1]);
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Share of ground-truth words (as a multiset) that occur in `text`.
pub fn word_recall(ground_truth: &str, text: &str) -> f64 {
    let truth = words(ground_truth);
    let mut found: HashMap<String, usize> = HashMap::new();
    for w in words(text) {
        *found.entry(w).or_default() += 1;
    }
    let hits = truth
        .iter()
        .filter(|w| match found.get_mut(*w) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    hits as f64 / truth.len().max(1) as f64
}

/// The real scans named in issue 2, with their ground truth (relative to realscans).
pub const REAL_BATCH: &[(&str, &str)] = &[
    (
        "tesseract-ocr-test/eurotext.tif",
        "tesseract-ocr-test/eurotext.txt",
    ),
    (
        "tesseract-ocr-test/8087_054.3B.tif",
        "tesseract-ocr-test/8087_054.3B.txt",
    ),
    ("ocrmypdf/linn.png", "ocrmypdf/linn.txt"),
    (
        "dinglehopper/lorem-ipsum-scan-1.png",
        "dinglehopper/lorem-ipsum-scan-1.gt.txt",
    ),
    (
        "paperless-ngx/multi-page-images.tiff",
        "paperless-ngx/multi-page-images.gt.txt",
    ),
    ("pytesseract/test.jpg", "tesseract-ocr-test/phototest.txt"),
    ("naps2/word_p2.jpg", "naps2/word_p2.gt.txt"),
];

/// The real-scan batch, ingested once per test run and shared by the tests that only read it.
pub struct Published {
    pub batch: TempDir,
    _archive: TempDir,
    pub keys: Keys,
    pub dir: PathBuf,
    _keydir: TempDir,
}

pub fn real_published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let images: Vec<&str> = REAL_BATCH.iter().map(|(image, _)| *image).collect();
        publish("real-1", &images, |image| {
            Path::new(image)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
    })
}

/// Every image file in `../shared/realscans` (TIFF, PNG, JPEG), relative, sorted.
pub fn all_realscan_images() -> Vec<String> {
    let root = realscans();
    let mut out: Vec<String> = files(&root)
        .into_iter()
        .filter(|f| {
            let lower = f.to_lowercase();
            [".png", ".jpg", ".jpeg", ".tif", ".tiff"]
                .iter()
                .any(|ext| lower.ends_with(ext))
        })
        .collect();
    out.sort();
    out
}

/// Every realscans image as its own document (named `<folder>__<file>`), ingested once per run.
pub fn all_published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let images = all_realscan_images();
        assert!(images.len() >= 40, "realscans holds its images: {}", images.len());
        let images: Vec<&str> = images.iter().map(String::as_str).collect();
        publish("realscans-all", &images, |image| image.replace('/', "__"))
    })
}

/// The scanner PDFs of `../shared/realscans/pdf-inputs` that scanwerk publishes (the others are
/// refused for a documented reason, see `tests/e2e/pdf_input.rs`).
pub const PDF_INPUTS: &[&str] = &[
    "2400dpi.pdf",
    "3small.pdf",
    "c02-22.pdf",
    "cardinal.pdf",
    "ccitt.pdf",
    "epson.pdf",
    "jbig2.pdf",
    "kcs.pdf",
    "linn.pdf",
    "poster.pdf",
    "rotated_skew.pdf",
    "skew.pdf",
];

/// [`PDF_INPUTS`] published as one batch, each PDF one document.
pub fn pdf_published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let inputs: Vec<String> = PDF_INPUTS.iter().map(|f| format!("pdf-inputs/{f}")).collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        publish("scanner-pdfs", &inputs, |path| {
            path.rsplit('/').next().unwrap().to_string()
        })
    })
}

/// The batch file name a realscans image gets in [`all_published`].
pub fn all_published_name(image: &str) -> String {
    image.replace('/', "__")
}

/// Copies `images` (relative to realscans) into a batch `id` under `name(image)` and ingests it.
fn publish(id: &str, images: &[&str], name: impl Fn(&str) -> String) -> Published {
    let batch = TempDir::new(id);
    for image in images {
        let src = realscans().join(image);
        std::fs::copy(&src, batch.join(&name(image))).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    }
    std::fs::write(
        batch.join("batch.toml"),
        format!("id = \"{id}\"\noperator = \"Test Operator\"\nscanned = \"2026-11-20T09:30:00+01:00\"\n"),
    )
    .unwrap();
    let keydir = TempDir::new("keys");
    let keys = keygen(keydir.path());
    let archive = TempDir::new("archive");
    let out = ingest(batch.path(), archive.path(), &keys.private, &[]);
    assert!(out.status.success(), "ingest of {id} failed: {}", stderr(&out));
    let dir = archive.join(id);
    Published {
        batch,
        _archive: archive,
        keys,
        dir,
        _keydir: keydir,
    }
}

/// Copies a directory tree (for tampering with a copy of a published batch).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// All files below `dir`, relative, sorted (but the audit log's folder `.audit`).
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == ".audit" {
            continue; // the audit log's folder, as in `entries`
        }
        if path.is_dir() {
            out.extend(files(&path).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

#[test]
fn word_recall_counts_multiset_hits() {
    assert_eq!(word_recall("der Hund, der Hund", "der Hund bellt"), 0.5);
    assert_eq!(word_recall("Grüße aus Köln", "Grüße aus Köln."), 1.0);
    assert_eq!(word_recall("Grüße", "Grusse"), 0.0);
    assert_eq!(word_recall("Austri-\nans are", "Austrians\nare"), 1.0);
}

/// veraPDF 1.24.1 (`../shared/tools/verapdf`, PDF/A-2B profile) on `pdfs`: asserts every one passes.
pub fn verapdf(pdfs: &[PathBuf]) {
    assert!(!pdfs.is_empty(), "no PDF to validate");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/verapdf/verapdf");
    let out = Command::new(&script)
        .args(pdfs)
        .output()
        .unwrap_or_else(|e| panic!("{} (deps by scripts/setup.sh): {e}", script.display()));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "veraPDF refuses:\n{report}\n{}",
        stderr(&out)
    );
    assert_eq!(
        report.lines().filter(|l| *l == "PASS").count(),
        pdfs.len(),
        "{report}"
    );
}

/// The PDFs in `<batch>/documents`, sorted.
pub fn pdfs_in(batch: &Path) -> Vec<PathBuf> {
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(payload(batch).join("documents"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    pdfs.sort();
    pdfs
}

/// Every entry directly in `dir`, sorted (hidden ones too, but the audit log's folder `.audit`,
/// which every archive that saw a command has: `tests/e2e/audit.rs` checks it).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name != ".audit")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
