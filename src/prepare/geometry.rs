//! How the OCR working copy lies on the page image: quarter turns that make it upright, then a
//! small rotation that straightens its lines. OCR reads the working copy; its word boxes are
//! mapped back through [`Upright::to_image`] so the text layer lands on the scanner's image.

/// The turns from the page image (as scanned) to the working copy OCR reads.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Upright {
    /// Clockwise quarter turns that bring the page upright (the PDF page's `/Rotate` / 90).
    pub quadrants: u8,
    /// Then a clockwise rotation in degrees about the centre that straightens the lines (0: none).
    pub deskew_degrees: f32,
}

/// An affine map of the plane: `x' = a x + c y + e`, `y' = b x + d y + f` (PDF's matrix order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub e: f64,
    pub f: f64,
}

impl Affine {
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 1.0,
        e: 0.0,
        f: 0.0,
    };

    pub fn apply(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }

    /// The linear part applied to a direction.
    pub fn direction(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.a * x + self.c * y, self.b * x + self.d * y)
    }

    /// `self` after `first`: maps p to self(first(p)).
    pub fn after(&self, first: &Affine) -> Affine {
        Affine {
            a: self.a * first.a + self.c * first.b,
            b: self.b * first.a + self.d * first.b,
            c: self.a * first.c + self.c * first.d,
            d: self.b * first.c + self.d * first.d,
            e: self.a * first.e + self.c * first.f + self.e,
            f: self.b * first.e + self.d * first.f + self.f,
        }
    }
}

impl Upright {
    /// The PDF page's `/Rotate`: degrees clockwise that display the page upright.
    pub fn rotate_degrees(&self) -> u16 {
        u16::from(self.quadrants % 4) * 90
    }

    /// Size of the working copy for a page image of `width` × `height`.
    pub fn working_size(&self, width: u32, height: u32) -> (u32, u32) {
        if self.quadrants % 2 == 1 {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Maps working-copy pixel coordinates (x right, y down) to page-image pixel coordinates.
    pub fn to_image(&self, width: u32, height: u32) -> Affine {
        let (w0, h0) = (f64::from(width), f64::from(height));
        let (w1, h1) = self.working_size(width, height);
        let (cx, cy) = (f64::from(w1) / 2.0, f64::from(h1) / 2.0);
        // Undo the deskew: rotate counter-clockwise by the angle about the centre (y points down,
        // so a clockwise turn by t is [cos −sin; sin cos]).
        let t = f64::from(self.deskew_degrees).to_radians();
        let (cos, sin) = (t.cos(), t.sin());
        let unskew = Affine {
            a: cos,
            b: -sin,
            c: sin,
            d: cos,
            e: cx - cos * cx - sin * cy,
            f: cy + sin * cx - cos * cy,
        };
        // Undo the quarter turns: upright (x, y) back to the image as scanned.
        let unturn = match self.quadrants % 4 {
            0 => Affine::IDENTITY,
            // Scanned → upright was (x, y) ↦ (h0 − y, x); back: (x, y) ↦ (y, h0 − x).
            1 => Affine {
                a: 0.0,
                b: -1.0,
                c: 1.0,
                d: 0.0,
                e: 0.0,
                f: h0,
            },
            2 => Affine {
                a: -1.0,
                b: 0.0,
                c: 0.0,
                d: -1.0,
                e: w0,
                f: h0,
            },
            // Scanned → upright was (x, y) ↦ (y, w0 − x); back: (x, y) ↦ (w0 − y, x).
            _ => Affine {
                a: 0.0,
                b: 1.0,
                c: -1.0,
                d: 0.0,
                e: w0,
                f: 0.0,
            },
        };
        unturn.after(&unskew)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::lept::LeptImage;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1.5 && (a.1 - b.1).abs() < 1.5
    }

    /// Finds the one dark pixel of a grey image.
    fn dark(image: &LeptImage) -> (f64, f64) {
        let g = image.gray_samples().unwrap();
        let w = image.width() as usize;
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for (i, &v) in g.iter().enumerate() {
            if v < 128 {
                sx += (i % w) as f64 + 0.5;
                sy += (i / w) as f64 + 0.5;
                n += 1.0;
            }
        }
        (sx / n, sy / n)
    }

    #[test]
    fn maps_working_copy_points_back_to_the_scan() {
        // A 200 × 120 scan with a dark 3 × 3 dot at (40, 30): turn it as leptonica does, find the
        // dot in the working copy, map it back.
        let (w, h) = (200u32, 120u32);
        let mut data = vec![255u8; (w * h) as usize];
        for y in 29..32 {
            for x in 39..42 {
                data[(y * w + x) as usize] = 0;
            }
        }
        let scan = LeptImage::from_samples(&data, w, h, 1).unwrap();
        for quadrants in 0..4u8 {
            for deskew in [0.0f32, 3.0, -2.5] {
                let upright = Upright {
                    quadrants,
                    deskew_degrees: deskew,
                };
                let mut copy = scan.rotated_quadrants(quadrants).unwrap();
                if deskew != 0.0 {
                    copy = copy.rotated(deskew).unwrap();
                }
                assert_eq!((copy.width(), copy.height()), upright.working_size(w, h));
                let back = upright.to_image(w, h).apply(dark(&copy));
                assert!(close(back, (40.5, 30.5)), "{upright:?}: {back:?}");
            }
        }
    }

    #[test]
    fn composition_order() {
        let shift = Affine {
            e: 5.0,
            ..Affine::IDENTITY
        };
        let double = Affine {
            a: 2.0,
            d: 2.0,
            ..Affine::IDENTITY
        };
        assert_eq!(double.after(&shift).apply((1.0, 1.0)), (12.0, 2.0));
        assert_eq!(Upright::default().to_image(10, 10), Affine::IDENTITY);
    }
}
