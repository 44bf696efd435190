//! Barcodes on a page (QR, DataMatrix, Code 128, Code 39), read with `rxing`, a port of ZXing.
//!
//! The whole page is searched at its own resolution: separator sheets carry their barcode anywhere,
//! 1D codes are read in both directions (a sheet fed upside down reads the same) and across a
//! skew of about ±12°.

use std::collections::HashSet;

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

/// A barcode read from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    pub symbology: Symbology,
    pub text: String,
}

/// Every barcode of `symbologies` on an 8-bit grey page, in a stable order (by symbology, then
/// text), each value once.
pub fn read(gray: &[u8], width: usize, height: usize, symbologies: &[Symbology]) -> Vec<Barcode> {
    if width == 0 || height == 0 || symbologies.is_empty() || gray.len() < width * height {
        return Vec::new();
    }
    let mut hints = DecodeHints {
        PossibleFormats: Some(symbologies.iter().map(|s| s.format()).collect::<HashSet<_>>()),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let found = rxing::helpers::detect_multiple_in_luma_with_hints(
        gray[..width * height].to_vec(),
        width as u32,
        height as u32,
        &mut hints,
    )
    .unwrap_or_default();
    let mut codes: Vec<Barcode> = found
        .iter()
        .filter_map(|r| {
            let symbology = Symbology::ALL
                .into_iter()
                .find(|s| s.format() == *r.getBarcodeFormat())?;
            Some(Barcode {
                symbology,
                text: r.getText().to_string(),
            })
        })
        .collect();
    codes.sort_by(|a, b| (a.symbology.name(), &a.text).cmp(&(b.symbology.name(), &b.text)));
    codes.dedup();
    codes
}
