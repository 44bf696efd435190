//! A small owned wrapper over the leptonica images (`PIX`) that preparation and OCR use: built
//! from samples or a JPEG, rotated by quadrants or by a small angle, measured for skew.
//!
//! Leptonica is what tesseract itself uses to hold and transform pages, so working copies made
//! here are the images the tesseract CLI would see.

use leptonica_sys as sys;

/// Silences leptonica's own messages on stderr ("Error in pixReadStreamJpeg", "Info in
/// pixRotate: …"): they would run through the operator's progress bar and logs, and every failure
/// they announce reaches the operator as scanwerk's own error, naming the file and page.
pub fn quiet() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // L_SEVERITY_NONE in leptonica's environ.h: print nothing.
    const SEVERITY_NONE: i32 = 6;
    // SAFETY: setMsgSeverity only stores an integer in a process-wide variable; it is called once
    // (the Once), before any thread of ours calls into leptonica.
    ONCE.call_once(|| unsafe {
        sys::setMsgSeverity(SEVERITY_NONE);
    });
}

/// An owned leptonica image, destroyed on drop. Used by one thread at a time.
pub struct LeptImage(*mut sys::PIX);

impl Drop for LeptImage {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); it is destroyed once, here, and nulled by pixDestroy.
        unsafe { sys::pixDestroy(&mut self.0) };
    }
}

impl LeptImage {
    fn owned(ptr: *mut sys::PIX) -> Option<LeptImage> {
        (!ptr.is_null()).then_some(LeptImage(ptr))
    }

    /// From 8-bit samples: 1 per pixel (grey) or 3 (RGB), rows tightly packed.
    pub fn from_samples(data: &[u8], width: u32, height: u32, bytes_per_pixel: u8) -> Option<LeptImage> {
        let (w, h) = (width as usize, height as usize);
        if data.len() != w * h * bytes_per_pixel as usize || !matches!(bytes_per_pixel, 1 | 3) {
            return None;
        }
        let depth = if bytes_per_pixel == 1 { 8 } else { 32 };
        // SAFETY: pixCreate takes plain sizes and returns a new image or null (refused by `owned`).
        let pix = LeptImage::owned(unsafe { sys::pixCreate(width as i32, height as i32, depth) })?;
        // SAFETY: `pix` is valid; its data is `wpl` words per row for `h` rows, owned by `pix`,
        // which outlives `words` and is not touched through another path meanwhile.
        let wpl = unsafe { sys::pixGetWpl(pix.0) } as usize;
        // SAFETY: as above.
        let words = unsafe { std::slice::from_raw_parts_mut(sys::pixGetData(pix.0), wpl * h) };
        for (y, row) in words.chunks_exact_mut(wpl).enumerate() {
            if bytes_per_pixel == 1 {
                let src = &data[y * w..(y + 1) * w];
                for (x, chunk) in src.chunks(4).enumerate() {
                    let mut b = [0u8; 4];
                    b[..chunk.len()].copy_from_slice(chunk);
                    row[x] = u32::from_be_bytes(b);
                }
            } else {
                let src = &data[y * w * 3..(y + 1) * w * 3];
                for (x, px) in src.chunks_exact(3).enumerate() {
                    row[x] = u32::from_be_bytes([px[0], px[1], px[2], 0xFF]);
                }
            }
        }
        Some(pix)
    }

    /// A 1-bit image from packed rows (most significant bit first, rows padded to whole bytes,
    /// 1 = white as in PDF's DeviceGray), as leptonica holds it (1 = black). Tesseract reads a
    /// bilevel page as it is, with no thresholding, as it does a G4 TIFF from the CLI.
    pub fn from_bilevel(bits: &[u8], width: u32, height: u32) -> Option<LeptImage> {
        let (w, h) = (width as usize, height as usize);
        let row_bytes = w.div_ceil(8);
        if bits.len() != row_bytes * h {
            return None;
        }
        // SAFETY: pixCreate takes plain sizes and returns a new image or null (refused by `owned`).
        let pix = LeptImage::owned(unsafe { sys::pixCreate(width as i32, height as i32, 1) })?;
        // SAFETY: `pix` is valid; its data is `wpl` words per row for `h` rows, owned by `pix`,
        // which outlives `words` and is not touched through another path meanwhile.
        let wpl = unsafe { sys::pixGetWpl(pix.0) } as usize;
        // SAFETY: as above.
        let words = unsafe { std::slice::from_raw_parts_mut(sys::pixGetData(pix.0), wpl * h) };
        let tail = w % 32;
        for (y, row) in words.chunks_exact_mut(wpl).enumerate() {
            let src = &bits[y * row_bytes..(y + 1) * row_bytes];
            for (x, chunk) in src.chunks(4).enumerate() {
                let mut b = [0xFFu8; 4];
                b[..chunk.len()].copy_from_slice(chunk);
                row[x] = !u32::from_be_bytes(b);
            }
            // Bits past the right edge: white.
            if tail != 0 {
                row[w / 32] &= !(u32::MAX >> tail);
            }
        }
        Some(pix)
    }

    /// Decodes a JPEG with leptonica (libjpeg), as the tesseract CLI does.
    pub fn from_jpeg(bytes: &[u8]) -> Option<LeptImage> {
        // SAFETY: leptonica reads `bytes.len()` bytes from a live slice and copies what it keeps;
        // it returns a new image or null (refused by `owned`).
        LeptImage::owned(unsafe { sys::pixReadMem(bytes.as_ptr(), bytes.len()) })
    }

    pub fn width(&self) -> u32 {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`).
        unsafe { sys::pixGetWidth(self.0) as u32 }
    }

    pub fn height(&self) -> u32 {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`).
        unsafe { sys::pixGetHeight(self.0) as u32 }
    }

    pub fn set_resolution(&mut self, ppi: u32) {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`), borrowed mutably here.
        unsafe { sys::pixSetResolution(self.0, ppi as i32, ppi as i32) };
    }

    /// Rotated clockwise by `quadrants` × 90° (pixels permuted, none changed).
    pub fn rotated_quadrants(&self, quadrants: u8) -> Option<LeptImage> {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); leptonica returns a new image or null (refused by `owned`).
        LeptImage::owned(unsafe { sys::pixRotateOrth(self.0, i32::from(quadrants % 4)) })
    }

    /// Rotated clockwise by `degrees` about the centre, same size, white brought in.
    pub fn rotated(&self, degrees: f32) -> Option<LeptImage> {
        let radians = degrees.to_radians();
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); leptonica returns a new image or null (refused by `owned`).
        LeptImage::owned(unsafe {
            sys::pixRotate(
                self.0,
                radians,
                sys::L_ROTATE_AREA_MAP as i32,
                sys::L_BRING_IN_WHITE as i32,
                0,
                0,
            )
        })
    }

    /// The skew of the text lines in degrees (positive: the page must turn clockwise to be
    /// straight) and leptonica's confidence; `None` where it finds no lines to measure.
    pub fn skew(&self) -> Option<(f32, f32)> {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); leptonica returns a new image or null (refused by `owned`).
        let binary = LeptImage::owned(unsafe { sys::pixConvertTo1(self.0, 130) })?;
        let (mut angle, mut confidence) = (0f32, 0f32);
        // SAFETY: `binary` is valid; the two out-pointers are live locals leptonica only writes.
        let failed = unsafe { sys::pixFindSkew(binary.0, &mut angle, &mut confidence) };
        (failed == 0 && confidence > 0.0).then_some((angle, confidence))
    }

    /// The raw image, for tesseract's C API; valid while `self` lives.
    pub fn as_ptr(&self) -> *mut sys::PIX {
        self.0
    }

    /// The image as 8-bit RGB samples, rows tightly packed (a 32-bit image; `None` otherwise).
    pub fn rgb_samples(&self) -> Option<Vec<u8>> {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`).
        if unsafe { sys::pixGetDepth(self.0) } != 32 {
            return None;
        }
        let (w, h) = (self.width() as usize, self.height() as usize);
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); its data is `wpl` words per row for `h` rows and is only read
        // while `self` is borrowed.
        let wpl = unsafe { sys::pixGetWpl(self.0) } as usize;
        // SAFETY: as above.
        let words = unsafe { std::slice::from_raw_parts(sys::pixGetData(self.0), wpl * h) };
        let mut out = Vec::with_capacity(w * h * 3);
        for row in words.chunks_exact(wpl) {
            for word in &row[..w] {
                let [r, g, b, _] = word.to_be_bytes();
                out.extend_from_slice(&[r, g, b]);
            }
        }
        Some(out)
    }

    /// The image as 8-bit grey samples (luminance for colour), rows tightly packed.
    pub fn gray_samples(&self) -> Option<Vec<u8>> {
        // SAFETY: `self.0` is a valid, non-null PIX owned by this value alone (made only through `owned`); leptonica returns a new image or null (refused by `owned`).
        let gray = LeptImage::owned(unsafe { sys::pixConvertTo8(self.0, 0) })?;
        let (w, h) = (gray.width() as usize, gray.height() as usize);
        // SAFETY: `gray` is valid; its data is `wpl` words per row for `h` rows, read while
        // `gray` lives.
        let wpl = unsafe { sys::pixGetWpl(gray.0) } as usize;
        // SAFETY: as above.
        let words = unsafe { std::slice::from_raw_parts(sys::pixGetData(gray.0), wpl * h) };
        let mut out = Vec::with_capacity(w * h);
        for row in words.chunks_exact(wpl) {
            out.extend(row.iter().flat_map(|word| word.to_be_bytes()).take(w));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with dark horizontal "text lines" 40 px apart, each 400 px long.
    fn lines(width: u32, height: u32) -> Vec<u8> {
        let mut data = vec![255u8; (width * height) as usize];
        for line in 0..8 {
            let y0 = 60 + line * 40;
            for y in y0..y0 + 8 {
                for x in 50..450 {
                    data[(y * width + x) as usize] = 0;
                }
            }
        }
        data
    }

    #[test]
    fn samples_round_trip_and_quadrants_permute() {
        let data: Vec<u8> = (0..6 * 4).map(|v| v as u8 * 10).collect();
        let pix = LeptImage::from_samples(&data, 6, 4, 1).unwrap();
        assert_eq!(pix.gray_samples().unwrap(), data);
        let turned = pix.rotated_quadrants(1).unwrap();
        assert_eq!((turned.width(), turned.height()), (4, 6));
        // Clockwise: the top-left pixel goes to the top-right corner.
        let g = turned.gray_samples().unwrap();
        assert_eq!(g[3], data[0]);
    }

    #[test]
    fn skew_is_measured_with_its_sign() {
        let (w, h) = (500, 420);
        let pix = LeptImage::from_samples(&lines(w, h), w, h, 1).unwrap();
        let (straight, _) = pix.skew().unwrap_or((0.0, 0.0));
        assert!(straight.abs() < 0.2, "{straight}");
        // Turn clockwise by 2°: the page must turn back counter-clockwise, so the skew is -2°.
        let tilted = pix.rotated(2.0).unwrap();
        let (angle, confidence) = tilted.skew().unwrap();
        assert!(
            (angle + 2.0).abs() < 0.3,
            "measured {angle} (confidence {confidence})"
        );
        let back = tilted.rotated(angle).unwrap().skew().unwrap_or((0.0, 0.0)).0;
        assert!(back.abs() < 0.3, "after correcting: {back}");
    }
}
