//! Barcodes on a page (QR, DataMatrix, Code 128, Code 39), read by two independent readers:
//! `rxing` (a port of ZXing) for every symbology and `rqrr` (a port of quirc) for QR.
//!
//! A sheet is searched in passes, and the search ends at the first pass that reads a code the
//! caller wants: rxing on the whole page at its own resolution; then rxing and rqrr on the page at
//! half and at a quarter of its resolution, where large modules and coarse print read more
//! reliably than at full size. 1D codes are read in both directions (a
//! sheet fed upside down reads the same) and across a skew of about ±12°; QR in any rotation.
//! QR finder patterns that no pass could decode are reported, so a person looks at the page.

use std::collections::HashSet;
use std::fmt;

use rxing::{BarcodeFormat, DecodeHints};

pub use crate::profile::separation::Symbology;

impl Symbology {
    fn format(self) -> BarcodeFormat {
        match self {
            Symbology::Qr => BarcodeFormat::QR_CODE,
            Symbology::DataMatrix => BarcodeFormat::DATA_MATRIX,
            Symbology::Code128 => BarcodeFormat::CODE_128,
            Symbology::Code39 => BarcodeFormat::CODE_39,
        }
    }
}

/// The two readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Rxing,
    Rqrr,
}

impl Reader {
    pub fn name(self) -> &'static str {
        match self {
            Reader::Rxing => "rxing",
            Reader::Rqrr => "rqrr",
        }
    }
}

/// How a code was read: which reader, at which scale (1 = the page's own resolution, 2 = half),
/// and where its centre lies on the page, in pixels of the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Read {
    pub reader: Reader,
    pub scale: usize,
    pub at: (u32, u32),
}

impl fmt::Display for Read {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "read by {}", self.reader.name())?;
        if self.scale > 1 {
            write!(f, " at 1/{} scale", self.scale)?;
        }
        write!(f, " at ({}, {}) px", self.at.0, self.at.1)
    }
}

/// A barcode read from a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Barcode {
    pub symbology: Symbology,
    pub text: String,
    pub read: Read,
}

/// What the passes over a page found.
#[derive(Debug, Default)]
pub struct Reading {
    /// Every code read, each value once, in a stable order (by symbology, then text).
    pub codes: Vec<Barcode>,
    /// QR finder-pattern groups found that no pass could decode.
    pub unread_qr: usize,
}

/// One pass: a reader at a scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pass {
    pub reader: Reader,
    pub scale: usize,
}

/// rqrr does not run at full scale: at half scale it finds the same codes (modules of 4 px and
/// more; rxing reads smaller ones at full scale) for a quarter of the time, which keeps the
/// search of a page without a sheet — nearly every page — near what rxing alone costs.
pub(crate) const PASSES: [Pass; 5] = [
    Pass {
        reader: Reader::Rxing,
        scale: 1,
    },
    Pass {
        reader: Reader::Rxing,
        scale: 2,
    },
    Pass {
        reader: Reader::Rqrr,
        scale: 2,
    },
    Pass {
        reader: Reader::Rxing,
        scale: 4,
    },
    Pass {
        reader: Reader::Rqrr,
        scale: 4,
    },
];

/// Reads an 8-bit grey page in passes until one reads a code that `wanted` accepts.
pub fn read(
    gray: &[u8],
    width: usize,
    height: usize,
    symbologies: &[Symbology],
    wanted: impl Fn(&Barcode) -> bool,
) -> Reading {
    let mut reading = Reading::default();
    if width == 0 || height == 0 || symbologies.is_empty() || gray.len() < width * height {
        return reading;
    }
    let qr = symbologies.contains(&Symbology::Qr);
    let mut scaled: Vec<(usize, Vec<u8>, usize, usize)> = Vec::new();
    let mut unread = Vec::new();
    for pass in PASSES {
        if pass.reader == Reader::Rqrr && !qr {
            continue;
        }
        if width / pass.scale < 64 || height / pass.scale < 64 {
            continue;
        }
        let (image, w, h) = if pass.scale == 1 {
            (gray, width, height)
        } else {
            if !scaled.iter().any(|s| s.0 == pass.scale) {
                let (small, w, h) = shrink(gray, width, height, pass.scale);
                scaled.push((pass.scale, small, w, h));
            }
            let s = scaled.iter().find(|s| s.0 == pass.scale).expect("just made");
            (s.1.as_slice(), s.2, s.3)
        };
        let (codes, grids) = run(pass, image, w, h, symbologies);
        unread.push(grids);
        let done = codes.iter().any(&wanted);
        for code in codes {
            if !reading
                .codes
                .iter()
                .any(|c| c.symbology == code.symbology && c.text == code.text)
            {
                reading.codes.push(code);
            }
        }
        if done {
            break;
        }
    }
    reading
        .codes
        .sort_by(|a, b| (a.symbology.name(), &a.text).cmp(&(b.symbology.name(), &b.text)));
    let decoded_qr = reading
        .codes
        .iter()
        .filter(|c| c.symbology == Symbology::Qr)
        .count();
    reading.unread_qr = unread.into_iter().max().unwrap_or(0).saturating_sub(decoded_qr);
    reading
}

/// One pass over an image; the codes with positions in page pixels, and (rqrr) how many QR
/// finder-pattern groups it found.
pub(crate) fn run(
    pass: Pass,
    image: &[u8],
    width: usize,
    height: usize,
    symbologies: &[Symbology],
) -> (Vec<Barcode>, usize) {
    let read = |at: (f32, f32)| Read {
        reader: pass.reader,
        scale: pass.scale,
        at: (
            (at.0.max(0.0) * pass.scale as f32) as u32,
            (at.1.max(0.0) * pass.scale as f32) as u32,
        ),
    };
    match pass.reader {
        Reader::Rxing => (rxing_codes(image, width, height, symbologies, read), 0),
        Reader::Rqrr => {
            let mut prepared =
                rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| image[y * width + x]);
            let grids = prepared.detect_grids();
            let codes = grids
                .iter()
                .filter_map(|grid| {
                    let (_, text) = grid.decode().ok()?;
                    let b = grid.bounds;
                    let centre = (
                        (b.iter().map(|p| p.x).sum::<i32>() / 4) as f32,
                        (b.iter().map(|p| p.y).sum::<i32>() / 4) as f32,
                    );
                    Some(Barcode {
                        symbology: Symbology::Qr,
                        text,
                        read: read(centre),
                    })
                })
                .collect();
            (codes, grids.len())
        }
    }
}

fn rxing_codes(
    image: &[u8],
    width: usize,
    height: usize,
    symbologies: &[Symbology],
    read: impl Fn((f32, f32)) -> Read,
) -> Vec<Barcode> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(symbologies.iter().map(|s| s.format()).collect::<HashSet<_>>()),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let found = rxing::helpers::detect_multiple_in_luma_with_hints(
        image[..width * height].to_vec(),
        width as u32,
        height as u32,
        &mut hints,
    )
    .unwrap_or_default();
    found
        .iter()
        .filter_map(|r| {
            let symbology = Symbology::ALL
                .into_iter()
                .find(|s| s.format() == *r.getBarcodeFormat())?;
            let points = r.getPoints();
            let n = points.len().max(1) as f32;
            let centre = (
                points.iter().map(|p| p.x).sum::<f32>() / n,
                points.iter().map(|p| p.y).sum::<f32>() / n,
            );
            Some(Barcode {
                symbology,
                text: r.getText().to_string(),
                read: read(centre),
            })
        })
        .collect()
}

/// The page at 1/`factor` of its resolution, each pixel the mean of a `factor` × `factor` block.
fn shrink(gray: &[u8], width: usize, height: usize, factor: usize) -> (Vec<u8>, usize, usize) {
    let (w, h) = (width / factor, height / factor);
    (crate::prepare::blank::reduce(gray, width, factor, w, h), w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_averages_blocks() {
        let gray = [0, 255, 10, 10, 255, 0, 10, 10];
        let (small, w, h) = shrink(&gray, 4, 2, 2);
        assert_eq!((small, w, h), (vec![127, 10], 2, 1));
    }

    /// A QR code's three finder patterns around modules that decode to nothing (a torn or
    /// smudged sheet): no code, but reported for a person to look at.
    #[test]
    fn qr_finder_patterns_without_a_code_are_reported() {
        let (modules, px, margin) = (25usize, 12usize, 200usize);
        let side = modules * px + 2 * margin;
        let mut gray = vec![255u8; side * side];
        let finder = |mx: usize, my: usize| {
            let (dx, dy) = (mx.min(6), my.min(6));
            let ring = dx.min(dy).min(6 - dx).min(6 - dy);
            ring != 1
        };
        let mut seed = 7u32;
        for my in 0..modules {
            for mx in 0..modules {
                let dark = match (mx, my) {
                    (0..=6, 0..=6) => finder(mx, my),
                    (18..=24, 0..=6) => finder(mx - 18, my),
                    (0..=6, 18..=24) => finder(mx, my - 18),
                    (7, _) | (_, 7) | (17, 0..=7) | (0..=7, 17) => false,
                    _ => {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        seed >> 16 & 1 == 1
                    }
                };
                if dark {
                    for y in 0..px {
                        let row = (margin + my * px + y) * side + margin + mx * px;
                        gray[row..row + px].fill(0);
                    }
                }
            }
        }
        let reading = read(&gray, side, side, &[Symbology::Qr], |_| true);
        assert!(reading.codes.is_empty(), "{:?}", reading.codes);
        assert_eq!(reading.unread_qr, 1);
    }

    /// The probe behind the pass order: every pass alone over a folder of generated sheets
    /// (`scripts/make-sheets.py DIR`), e.g.
    /// `SHEETS=/tmp/sheets cargo test --release --lib probe -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn probe() {
        let dir = std::path::PathBuf::from(std::env::var("SHEETS").unwrap());
        let expected: std::collections::BTreeMap<String, Option<String>> =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        for (name, value) in expected {
            let source = crate::decode::SourceFile::open(&dir.join("pages").join(&name), &name).unwrap();
            let page = crate::decode::decode_page(&source, 0).unwrap();
            let gray = crate::prepare::gray(&page);
            let mut line = format!("{name:60} {:>3}", if value.is_some() { "S" } else { "-" });
            for pass in PASSES {
                let started = std::time::Instant::now();
                let (image, w, h) = if pass.scale == 1 {
                    (gray.to_vec(), page.width as usize, page.height as usize)
                } else {
                    shrink(&gray, page.width as usize, page.height as usize, pass.scale)
                };
                let (codes, grids) = run(pass, &image, w, h, &Symbology::ALL);
                let hit = codes.iter().any(|c| Some(&c.text) == value.as_ref());
                line += &format!(
                    " | {}{} {} g{grids} {:4}ms",
                    pass.reader.name(),
                    pass.scale,
                    if hit {
                        "HIT "
                    } else if codes.is_empty() {
                        "    "
                    } else {
                        "code"
                    },
                    started.elapsed().as_millis()
                );
            }
            let started = std::time::Instant::now();
            let all = read(
                &gray,
                page.width as usize,
                page.height as usize,
                &Symbology::ALL,
                |_| false,
            );
            line += &format!(
                " | all {} codes {:4}ms",
                all.codes.len(),
                started.elapsed().as_millis()
            );
            println!("{line}");
        }
    }
}
