//! Prepare: measure a decoded page against the profile and make the working copy OCR reads.
//!
//! Nothing here changes the page image that goes into the PDF. The resolution comes from the file,
//! or from the profile's `assume_dpi` (recorded as a warning), or the page is refused. The OCR
//! working copy is 8-bit grey or RGB, the forms tesseract takes directly, or for a JPEG the
//! original bytes for leptonica to decode.

pub mod blank;
pub mod geometry;
pub mod lept;
pub mod quality;

use std::sync::Arc;

use crate::decode::{Page, Passthrough, Raster};
use crate::profile::Profile;

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(
        "the image has no resolution (dpi) and profile {profile:?} assumes none; \
         rescan with the resolution recorded, or use a profile with input.assume_dpi"
    )]
    NoResolution { profile: String },
    #[error("the resolution {dpi:.1} dpi is implausible; rescan or fix the file's resolution tag")]
    BadResolution { dpi: f64 },
    #[error(
        "the page would be {width_pt:.1} × {height_pt:.1} pt ({width_px} × {height_px} px at the stated \
         resolution); PDF/A pages must be at least 3 pt per side: check the image's resolution (dpi)"
    )]
    TooSmall {
        width_pt: f64,
        height_pt: f64,
        width_px: u32,
        height_px: u32,
    },
}

/// Smallest page side PDF/A allows, in points (ISO 19005-2 6.1.13); larger pages than its maximum
/// of 14,400 pt are written with a `/UserUnit` instead of being refused.
pub const MIN_PAGE_PT: f64 = 3.0;

/// The image tesseract reads, at the page's resolution.
#[derive(Debug, Clone)]
pub struct OcrImage {
    pub width: u32,
    pub height: u32,
    pub ppi: u32,
    pub pixels: OcrPixels,
}

#[derive(Debug, Clone)]
pub enum OcrPixels {
    /// 8-bit samples, 1 (grey) or 3 (RGB) per pixel.
    Samples { bytes_per_pixel: u8, data: Vec<u8> },
    /// A bilevel page's packed rows (1 = white), read by tesseract as 1-bit.
    Bilevel(Vec<u8>),
    /// The scanner's JPEG, decoded by leptonica as the tesseract CLI does: JPEG decoders differ
    /// by a grey level here and there, which is enough to move OCR word breaks.
    Jpeg(Arc<Vec<u8>>),
}

/// What preparation found out about a page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Measurements {
    /// Resolution used, dots per inch (x, y).
    pub dpi: (f64, f64),
    /// True if the resolution was taken from the profile because the file had none.
    pub dpi_assumed: bool,
    pub colour_mode: &'static str,
    pub width_px: u32,
    pub height_px: u32,
}

/// A page with its measurements and, if the profile asks for OCR, its working copy.
pub struct PreparedPage {
    pub page: Page,
    pub measurements: Measurements,
    pub ocr_image: Option<OcrImage>,
    pub warnings: Vec<String>,
}

pub fn prepare(page: Page, profile: &Profile) -> Result<PreparedPage, PrepareError> {
    let mut warnings = page.notes.clone();
    let (dpi, dpi_assumed) = match (page.dpi, profile.assume_dpi) {
        (Some(dpi), _) => (dpi, false),
        (None, Some(assumed)) => {
            warnings.push(format!(
                "no resolution in the file; assumed {assumed} dpi (profile {})",
                profile.id
            ));
            ((assumed, assumed), true)
        }
        (None, None) => {
            return Err(PrepareError::NoResolution {
                profile: profile.id.clone(),
            });
        }
    };
    for value in [dpi.0, dpi.1] {
        if !(10.0..=10_000.0).contains(&value) {
            return Err(PrepareError::BadResolution { dpi: value });
        }
    }
    let (width_pt, height_pt) = (
        f64::from(page.width) * 72.0 / dpi.0,
        f64::from(page.height) * 72.0 / dpi.1,
    );
    if width_pt < MIN_PAGE_PT || height_pt < MIN_PAGE_PT {
        return Err(PrepareError::TooSmall {
            width_pt,
            height_pt,
            width_px: page.width,
            height_px: page.height,
        });
    }
    let measurements = Measurements {
        dpi,
        dpi_assumed,
        colour_mode: page.colour_mode(),
        width_px: page.width,
        height_px: page.height,
    };
    let ocr_image = profile
        .ocr_enabled
        .then(|| working_copy(&page, dpi.1.round() as u32));
    Ok(PreparedPage {
        page,
        measurements,
        ocr_image,
        warnings,
    })
}

/// The page as tesseract should read it.
pub fn working_copy(page: &Page, ppi: u32) -> OcrImage {
    let high = |v: &[u16]| v.iter().map(|s| (s >> 8) as u8).collect::<Vec<u8>>();
    let samples = |bytes_per_pixel, data| OcrPixels::Samples {
        bytes_per_pixel,
        data,
    };
    let pixels = match (&page.passthrough, &page.raster) {
        // A JPEG file goes to leptonica as is; a TIFF's JPEG strip (whose colour coding only the
        // TIFF tags state) is read from the decoded samples instead.
        (
            Some(Passthrough::Jpeg {
                bytes,
                whole_file: true,
                ..
            }),
            _,
        ) => OcrPixels::Jpeg(Arc::clone(bytes)),
        (_, Raster::Bilevel(bits)) => OcrPixels::Bilevel(bits.clone()),
        (_, Raster::Gray8(v)) => samples(1, v.clone()),
        (_, Raster::Gray16(v)) => samples(1, high(v)),
        (_, Raster::Rgb8(v)) => samples(3, v.clone()),
        (_, Raster::Rgb16(v)) => samples(3, high(v)),
    };
    OcrImage {
        width: page.width,
        height: page.height,
        ppi,
        pixels,
    }
}

/// The page turned clockwise by `degrees` about its centre (white brought in at the corners), for
/// a profile that straightens the image itself; `None` for forms this does not cover (16-bit)
/// or a leptonica failure. Bilevel pages stay bilevel; the caller encodes the result anew.
pub fn deskewed(page: &Page, degrees: f32) -> Option<Page> {
    let (w, h) = (page.width, page.height);
    let raster = match &page.raster {
        Raster::Bilevel(bits) => {
            let gray = unpack_bilevel(bits, w as usize);
            let turned = lept::LeptImage::from_samples(&gray, w, h, 1)?.rotated(degrees)?;
            Raster::Bilevel(crate::decode::pack_bilevel(&turned.gray_samples()?, w as usize))
        }
        Raster::Gray8(v) => Raster::Gray8(
            lept::LeptImage::from_samples(v, w, h, 1)?
                .rotated(degrees)?
                .gray_samples()?,
        ),
        Raster::Rgb8(v) => Raster::Rgb8(
            lept::LeptImage::from_samples(v, w, h, 3)?
                .rotated(degrees)?
                .rgb_samples()?,
        ),
        Raster::Gray16(_) | Raster::Rgb16(_) => return None,
    };
    Some(Page {
        raster,
        passthrough: None,
        ..page.clone()
    })
}

/// The page as 8-bit grey samples (luminance for colour) for measurements.
pub fn gray(page: &Page) -> std::borrow::Cow<'_, [u8]> {
    match &page.raster {
        Raster::Bilevel(bits) => unpack_bilevel(bits, page.width as usize).into(),
        Raster::Gray8(v) => v.as_slice().into(),
        Raster::Gray16(v) => v.iter().map(|s| (s >> 8) as u8).collect::<Vec<u8>>().into(),
        Raster::Rgb8(v) => v
            .chunks_exact(3)
            .map(|p| luma(p[0], p[1], p[2]))
            .collect::<Vec<u8>>()
            .into(),
        Raster::Rgb16(v) => v
            .chunks_exact(3)
            .map(|p| luma((p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8))
            .collect::<Vec<u8>>()
            .into(),
    }
}

/// ITU-R BT.601 luma, as leptonica and most scanners compute grey.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

fn unpack_bilevel(bits: &[u8], width: usize) -> Vec<u8> {
    // Eight grey pixels per packed byte, looked up rather than tested bit by bit.
    let table: [[u8; 8]; 256] = std::array::from_fn(|byte| {
        std::array::from_fn(|bit| if byte & (0x80 >> bit) != 0 { 255 } else { 0 })
    });
    let stride = width.div_ceil(8);
    let mut gray = Vec::with_capacity(bits.len() / stride.max(1) * width);
    let mut row_pixels = Vec::with_capacity(stride * 8);
    for row in bits.chunks_exact(stride.max(1)) {
        row_pixels.clear();
        for &byte in row {
            row_pixels.extend_from_slice(&table[usize::from(byte)]);
        }
        gray.extend_from_slice(&row_pixels[..width]);
    }
    gray
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::pack_bilevel;

    fn page(dpi: Option<(f64, f64)>) -> Page {
        Page {
            width: 90,
            height: 20,
            dpi,
            raster: Raster::Bilevel(vec![0x80; 12 * 20]),
            passthrough: None,
            notes: vec![],
            frame: None,
        }
    }

    #[test]
    fn pages_below_three_points_are_refused() {
        // ISO 19005-2 6.1.13: 90 px at 3000 dpi would be a 2.16 pt wide page.
        let standard = crate::profile::load("standard").unwrap();
        let err = prepare(page(Some((3000.0, 300.0))), &standard).err().unwrap();
        assert!(matches!(err, PrepareError::TooSmall { .. }));
        assert!(err.to_string().contains("at least 3 pt"), "{err}");
        assert!(prepare(page(Some((2000.0, 300.0))), &standard).is_ok());
    }

    #[test]
    fn missing_resolution_is_assumed_or_refused() {
        let standard = crate::profile::load("standard").unwrap();
        let p = prepare(page(None), &standard).unwrap();
        assert!(p.measurements.dpi_assumed);
        assert_eq!(p.measurements.dpi, (300.0, 300.0));
        assert!(p.warnings[0].contains("assumed 300 dpi"));
        let strict = crate::profile::load("strict").unwrap();
        let err = prepare(page(None), &strict).err().unwrap();
        assert!(err.to_string().contains("assume_dpi"));
        assert!(
            !prepare(page(Some((200.0, 200.0))), &strict)
                .unwrap()
                .measurements
                .dpi_assumed
        );
    }

    #[test]
    fn bilevel_unpacks_to_grey() {
        let grey = vec![255, 0, 0, 255, 0, 0, 0, 0, 255];
        assert_eq!(unpack_bilevel(&pack_bilevel(&grey, 9), 9), grey);
    }
}
