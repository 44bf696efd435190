//! JPEG pages: grey or colour, baseline or progressive; the file's bytes are kept for passthrough.
//!
//! The marker segments are read by hand for what the PDF needs unchanged (components, size) and
//! for the resolution (JFIF density, else EXIF); pixels are decoded only for OCR.

use std::sync::Arc;

use super::{DecodeError, Format, Page, Passthrough, Raster};

fn corrupt(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        format: Format::Jpeg,
        detail: e.to_string(),
    }
}

/// What the marker segments say.
#[derive(Debug, Default, PartialEq)]
struct Header {
    width: u32,
    height: u32,
    components: u8,
    precision: u8,
    jfif_dpi: Option<(f64, f64)>,
    exif_dpi: Option<(f64, f64)>,
}

pub fn decode(bytes: &Arc<Vec<u8>>) -> Result<Page, DecodeError> {
    let header = read_header(bytes)?;
    if header.precision != 8 {
        return Err(DecodeError::Unsupported(format!(
            "{}-bit JPEG cannot be embedded unchanged in PDF; scan with 8 bits per sample",
            header.precision
        )));
    }
    if !matches!(header.components, 1 | 3) {
        // A CMYK (or other) JPEG would need an ICC-based colour space of its own under PDF/A's
        // sRGB output intent; refusing it before decoding keeps the message clear.
        return Err(DecodeError::Unsupported(format!(
            "JPEG with {} components (CMYK) is not supported; set the scanner to RGB or greyscale",
            header.components
        )));
    }
    if !complete(bytes) {
        return Err(DecodeError::Corrupt {
            format: super::Format::Jpeg,
            detail: format!(
                "truncated JPEG: the data ends after {} bytes without the end-of-image marker, so \
                 the lower part of the page is missing",
                bytes.len()
            ),
        });
    }
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).map_err(corrupt)?;
    let raster = if header.components == 1 {
        Raster::Gray8(image.into_luma8().into_raw())
    } else {
        Raster::Rgb8(image.into_rgb8().into_raw())
    };
    Ok(Page {
        width: header.width,
        height: header.height,
        dpi: header.jfif_dpi.or(header.exif_dpi),
        raster,
        passthrough: Some(Passthrough::Jpeg {
            bytes: Arc::clone(bytes),
            components: header.components,
            colour_transform: None,
            whole_file: true,
        }),
        notes: Vec::new(),
        frame: None,
    })
}

/// True if the end-of-image marker follows the first scan: in entropy-coded data 0xFF is always
/// followed by 0x00 or a restart marker, so `FF D9` there is the end of the image and nothing else.
fn complete(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn read_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let mut header = Header::default();
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return Err(corrupt(format!("no marker at byte {pos}")));
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let body = bytes
            .get(pos + 4..pos + 2 + len)
            .ok_or_else(|| corrupt("truncated marker segment"))?;
        match marker {
            0xE0 => header.jfif_dpi = jfif_density(body),
            0xE1 => header.exif_dpi = exif_resolution(body),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                // Lossless, hierarchical and arithmetic-coded JPEG: PDF's DCTDecode carries only
                // baseline and progressive Huffman JPEG, so these cannot be passed through.
                return Err(DecodeError::Unsupported(format!(
                    "JPEG coding process SOF{} (lossless, hierarchical or arithmetic) cannot be \
                     embedded unchanged in PDF; save the scan as baseline or progressive JPEG",
                    marker - 0xC0
                )));
            }
            0xC0..=0xC2 => {
                if body.len() < 6 {
                    return Err(corrupt("short frame header"));
                }
                header.precision = body[0];
                header.height = u16::from_be_bytes([body[1], body[2]]) as u32;
                header.width = u16::from_be_bytes([body[3], body[4]]) as u32;
                header.components = body[5];
            }
            0xDA => break,
            _ => {}
        }
        pos += 2 + len;
    }
    if header.components == 0 || header.width == 0 || header.height == 0 {
        return Err(corrupt("no frame header (SOF) before the scan data"));
    }
    Ok(header)
}

fn jfif_density(body: &[u8]) -> Option<(f64, f64)> {
    if body.len() < 12 || &body[..5] != b"JFIF\0" {
        return None;
    }
    let x = u16::from_be_bytes([body[8], body[9]]) as f64;
    let y = u16::from_be_bytes([body[10], body[11]]) as f64;
    let scale = match body[7] {
        1 => 1.0,
        2 => 2.54,
        _ => return None,
    };
    (x > 0.0 && y > 0.0).then_some((x * scale, y * scale))
}

/// XResolution/YResolution/ResolutionUnit from IFD0 of an EXIF segment.
fn exif_resolution(body: &[u8]) -> Option<(f64, f64)> {
    let tiff = body.strip_prefix(b"Exif\0\0")?;
    let big = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |o: usize| {
        tiff.get(o..o + 2).map(|b| {
            if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |o: usize| {
        tiff.get(o..o + 4).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        })
    };
    let ifd = u32_at(4)? as usize;
    let (mut x, mut y, mut unit) = (None, None, 2);
    for i in 0..u16_at(ifd)? as usize {
        let entry = ifd + 2 + i * 12;
        let rational = || {
            let off = u32_at(entry + 8)? as usize;
            let (n, d) = (u32_at(off)?, u32_at(off + 4)?);
            (d != 0).then(|| n as f64 / d as f64)
        };
        match u16_at(entry)? {
            282 => x = rational(),
            283 => y = rational(),
            296 => unit = u16_at(entry + 8)?,
            _ => {}
        }
    }
    let scale = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    let (x, y) = (x?, y.or(x)?);
    (x > 0.0 && y > 0.0).then_some((x * scale, y * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jfif_units() {
        let mut body = b"JFIF\0\x01\x01\x01".to_vec();
        body.extend([1, 44, 1, 44, 0, 0]);
        assert_eq!(jfif_density(&body), Some((300.0, 300.0)));
        body[7] = 0;
        assert_eq!(jfif_density(&body), None);
    }

    #[test]
    fn cmyk_jpeg_is_refused_before_decoding() {
        // SOI, SOF0 (8 bit, 2×2, 4 components), SOS: enough for the header check.
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 8, 0, 2, 0, 2, 4];
        for id in 1..=4u8 {
            bytes.extend([id, 0x11, 0]);
        }
        bytes.extend([0xFF, 0xDA, 0x00, 0x02]);
        let err = decode(&Arc::new(bytes)).unwrap_err().to_string();
        assert!(err.contains("CMYK") && err.contains("RGB or greyscale"), "{err}");
    }

    #[test]
    fn only_baseline_and_progressive_jpeg_is_taken() {
        for (sof, ok) in [(0xC0u8, true), (0xC2, true), (0xC3, false), (0xC9, false)] {
            let mut bytes = vec![0xFF, 0xD8, 0xFF, sof, 0x00, 0x0B, 8, 0, 2, 0, 2, 1, 1, 0x11, 0];
            bytes.extend([0xFF, 0xDA, 0x00, 0x02]);
            let result = read_header(&bytes);
            assert_eq!(result.is_ok(), ok, "SOF{}", sof - 0xC0);
            if let Err(e) = result {
                assert!(e.to_string().contains("baseline or progressive"), "{e}");
            }
        }
    }

    #[test]
    fn a_jpeg_cut_off_in_its_scan_is_called_truncated_before_decoding() {
        let whole = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realscans/pytesseract/test.jpg"),
        )
        .unwrap();
        assert!(complete(&whole));
        let cut = Arc::new(whole[..whole.len() / 2].to_vec());
        let err = decode(&cut).unwrap_err().to_string();
        assert!(
            err.starts_with("Jpeg image is damaged or unsupported: truncated JPEG"),
            "{err}"
        );
        assert!(err.contains(&format!("after {} bytes", whole.len() / 2)), "{err}");
    }

    #[test]
    fn truncated_jpeg_is_refused() {
        let err = read_header(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x40, 0x4A]).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
