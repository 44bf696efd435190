//! Per-page cost of the stages around OCR, on the demo batch's pages: decode, lossless encoding,
//! PDF composition, hashing and signing. `cargo bench --bench stages` prints medians of 15 runs;
//! under `cargo test` each stage runs once as a smoke test.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scanwerk::decode::{self, SourceFile};
use scanwerk::pdfa::{DocumentInfo, DocumentWriter, PageContent, PdfImage};
use scanwerk::seal::Digests;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(name: &str, iterations: usize, mut f: impl FnMut()) {
    let runs: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    println!(
        "{name:<40} median {:>9.3} ms",
        median(runs).as_secs_f64() * 1000.0
    );
}

fn source(path: &Path) -> SourceFile {
    let bytes = std::fs::read(path).expect("demo batch present");
    let format = decode::sniff(&bytes).expect("image");
    SourceFile {
        rel: path.file_name().unwrap().to_string_lossy().into_owned(),
        path: path.to_path_buf(),
        digests: Digests::of(&bytes),
        bytes: Arc::new(bytes),
        format,
    }
}

fn main() {
    let iterations = if std::env::args().any(|a| a == "--bench") {
        15
    } else {
        1
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo-batch");
    let pages = [
        "bescheid.png",
        "antrag/seite1.tif",
        "antrag/seite2.jpg",
        "akte.tiff",
    ];
    let key_dir = std::env::temp_dir().join(format!("scanwerk-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&key_dir);
    let key_files = scanwerk::seal::sign::keygen(&key_dir, scanwerk::seal::sign::Algorithm::EcdsaP256Sha256)
        .expect("keygen");
    let key = scanwerk::seal::SigningKey::load(&key_files.private).expect("key");
    for rel in pages {
        let src = source(&dir.join(rel));
        measure(&format!("decode {rel}"), iterations, || {
            decode::decode_page(&src, 0).expect("decodes");
        });
        let page = decode::decode_page(&src, 0).expect("decodes");
        measure(&format!("encode {rel}"), iterations, || {
            PdfImage::encode(&page);
        });
        measure(&format!("compose {rel}"), iterations, || {
            let info = DocumentInfo {
                title: rel.into(),
                producer: "bench".into(),
                creator_tool: "bench".into(),
                date: time::OffsetDateTime::UNIX_EPOCH,
                batch_id: "bench".into(),
                document_id: rel.into(),
                profile: "standard".into(),
                operator: "bench".into(),
                transfer_note: String::new(),
            };
            let mut writer = DocumentWriter::create(Vec::new(), info).expect("writer");
            let content = PageContent {
                image: PdfImage::encode(&page),
                dpi: (300.0, 300.0),
                recognition: None,
                upright: Default::default(),
            };
            writer.add_page(content).expect("page");
            writer.finish().expect("finish");
        });
        measure(&format!("hash sha256+sha512 {rel}"), iterations, || {
            Digests::of(&src.bytes);
        });
    }
    measure("sign manifest (ECDSA P-256)", iterations, || {
        key.sign(b"manifest bytes");
    });
    let _ = std::fs::remove_dir_all(&key_dir);
}
