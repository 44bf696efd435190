//! Per-page cost of the stages around OCR (criterion): decoding per input format, lossless
//! encoding (CCITT G4, Flate, passthrough), PDF composition with a text layer, hashing, the
//! batch signature and the PAdES signature of one PDF. `cargo bench --bench stages` measures;
//! under `cargo test` each benchmark runs once as a smoke test.
//!
//! Inputs are the demo batch's pages (A4, 300 dpi) and real scans from `../shared/realscans`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use scanwerk::decode::{self, SourceFile};
use scanwerk::ocr::parse_tsv;
use scanwerk::pdfa::{DocumentInfo, DocumentWriter, PageContent, PdfImage};
use scanwerk::seal::Digests;

fn source(path: &Path) -> SourceFile {
    let rel = path.file_name().unwrap().to_string_lossy().into_owned();
    SourceFile::open(path, &rel).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (label, path) of every page benchmarked: one per input kind.
fn pages() -> Vec<(&'static str, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = root.join("testdata/demo-batch");
    let real = root.join("../shared/realscans");
    vec![
        ("png-1bit", demo.join("bescheid.png")),
        ("tiff-g4", demo.join("antrag/seite1.tif")),
        ("jpeg-grey", demo.join("antrag/seite2.jpg")),
        ("tiff-lzw", demo.join("akte.tiff")),
        ("tiff-g4-real", real.join("tesseract-ocr-test/eurotext.tif")),
        ("png-grey-real", real.join("dinglehopper/lorem-ipsum-scan-1.png")),
        ("jpeg-colour-real", real.join("naps2/word_p2.jpg")),
    ]
    .into_iter()
    .filter(|(_, p)| p.exists())
    .collect()
}

fn info(id: &str) -> DocumentInfo {
    DocumentInfo {
        title: id.into(),
        producer: "bench".into(),
        creator_tool: "bench".into(),
        date: time::OffsetDateTime::UNIX_EPOCH,
        batch_id: "bench".into(),
        document_id: id.into(),
        profile: "standard".into(),
        operator: "bench".into(),
        transfer_note: String::new(),
        index: Default::default(),
    }
}

/// A text layer of 40 lines of 10 words, as tesseract's TSV gives it for a full page.
fn recognition() -> scanwerk::ocr::Recognition {
    let mut tsv = String::from(
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n",
    );
    for line in 1..=40 {
        tsv.push_str(&format!(
            "4\t1\t1\t1\t{line}\t0\t200\t{}\t2000\t50\t-1\t\n",
            200 + line * 70
        ));
        for word in 1..=10 {
            tsv.push_str(&format!(
                "5\t1\t1\t1\t{line}\t{word}\t{}\t{}\t180\t50\t95\tVerwaltungsakt{word}\n",
                200 + word * 200,
                200 + line * 70
            ));
        }
    }
    parse_tsv(&tsv)
}

fn stages(c: &mut Criterion) {
    let text = recognition();
    for (label, path) in pages() {
        let src = source(&path);
        let mut group = c.benchmark_group(label);
        group.sample_size(10);
        group.bench_function("decode", |b| {
            b.iter(|| decode::decode_page(&src, 0).expect("decodes"))
        });
        let page = decode::decode_page(&src, 0).expect("decodes");
        group.bench_function("encode", |b| b.iter(|| PdfImage::encode(&page)));
        group.bench_function("compose with text layer", |b| {
            b.iter(|| {
                let mut writer = DocumentWriter::create(Vec::new(), info(label)).expect("writer");
                writer
                    .add_page(PageContent {
                        image: PdfImage::encode(&page),
                        dpi: (300.0, 300.0),
                        recognition: Some(&text),
                        upright: Default::default(),
                        frame: None,
                    })
                    .expect("page");
                writer.finish().expect("finish")
            })
        });
        let bytes = std::fs::read(&path).expect("input");
        group.bench_function("hash sha256+sha512", |b| b.iter(|| Digests::of(&bytes)));
        group.finish();
    }

    let dir = std::env::temp_dir().join(format!("scanwerk-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files =
        scanwerk::seal::sign::keygen(&dir, scanwerk::seal::sign::Algorithm::EcdsaP256Sha256).expect("keygen");
    let key = scanwerk::seal::SigningKey::load(&files.private).expect("key");
    std::fs::write(
        dir.join("cert.pem"),
        scanwerk::seal::cert::self_signed(&key, "bench", 1).expect("cert"),
    )
    .unwrap();
    let chain = scanwerk::seal::cert::CertificateChain::load(&dir.join("cert.pem"), &key).expect("chain");
    let mut group = c.benchmark_group("seal");
    group.bench_function("sign manifest (ECDSA P-256, RFC 6979)", |b| {
        b.iter(|| key.sign(b"manifest bytes"))
    });
    let digest = scanwerk::seal::hash::HashAlgorithm::Sha256.hash(b"pdf");
    group.bench_function("PAdES CMS signature", |b| {
        b.iter(|| scanwerk::seal::cms::sign_detached(&key, &chain, &digest).expect("signs"))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, stages);
criterion_main!(benches);
