//! Blank-page detection: is there any mark on the paper, once the scanner's border, paper shading,
//! show-through from the back and dust are discounted?
//!
//! The page is reduced to about 100 dpi (block means), its outer margin dropped (scanner edges and
//! shadows), and each pixel compared with the paper around it (the brightest level of its
//! neighbourhood), so shading and yellowed paper do not count. Only clear contrast counts as ink —
//! show-through is faint — and only ink that forms a mark of some size: dust specks are ignored,
//! while a short pen stroke or an initial is a mark. A page is blank when no such mark remains.

pub use crate::findings::BlankMeasure;

/// Resolution the page is reduced to before measuring.
const WORK_DPI: f64 = 100.0;
/// Margin dropped on every side, as a share of the side.
const MARGIN: f64 = 0.05;
/// A pixel is ink when it is this many grey levels darker than the paper around it.
const INK_CONTRAST: i32 = 70;
/// Neighbourhood (in reduced pixels, about 8 mm) whose brightest level is taken as the paper.
const TILE: usize = 32;
/// A mark must span at least this many millimetres; dust and scanner noise stay below.
const MIN_MARK_MM: f64 = 1.5;

/// Measures `gray` (8-bit, `width` × `height`, rows packed) scanned at `dpi`.
pub fn measure(gray: &[u8], width: usize, height: usize, dpi: f64) -> BlankMeasure {
    let factor = ((dpi / WORK_DPI).round() as usize).max(1);
    let (w, h) = (width / factor, height / factor);
    let small = reduce(gray, width, factor, w, h);
    let (x0, y0) = ((w as f64 * MARGIN) as usize, (h as f64 * MARGIN) as usize);
    let (x1, y1) = (w.saturating_sub(x0), h.saturating_sub(y0));
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return BlankMeasure {
            ink_per_mille: 0.0,
            marks: 0,
            largest_mark_mm: 0.0,
            blank: true,
        };
    }
    let paper = paper_levels(&small, w, h);
    let mut ink = vec![false; w * h];
    for y in y0..y1 {
        for x in x0..x1 {
            let i = y * w + x;
            let level = paper[(y / TILE) * w.div_ceil(TILE) + x / TILE];
            ink[i] = i32::from(level) - i32::from(small[i]) >= INK_CONTRAST;
        }
    }
    let mm_per_px = 25.4 * factor as f64 / dpi;
    let min_span = (MIN_MARK_MM / mm_per_px).ceil() as usize;
    let (mut marks, mut ink_px, mut largest) = (0, 0usize, 0usize);
    for component in components(&mut ink, w, h) {
        let span = component.width.max(component.height);
        if span >= min_span {
            marks += 1;
            ink_px += component.pixels;
            largest = largest.max(span);
        }
    }
    let area = ((x1 - x0) * (y1 - y0)) as f64;
    BlankMeasure {
        ink_per_mille: (1000.0 * ink_px as f64 / area * 1000.0).round() / 1000.0,
        marks,
        largest_mark_mm: (largest as f64 * mm_per_px * 10.0).round() / 10.0,
        blank: marks == 0,
    }
}

/// Block means of `factor` × `factor` pixels of `gray` (rows of `width`), as a `w` × `h` image.
/// Columns are summed down a band of rows first (a plain loop over whole rows, which the compiler
/// vectorises), then across each block.
pub fn reduce(gray: &[u8], width: usize, factor: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h];
    let n = (factor * factor) as u32;
    let mut columns = vec![0u32; w * factor];
    for (y, reduced) in out.chunks_exact_mut(w.max(1)).enumerate().take(h) {
        columns.fill(0);
        for dy in 0..factor {
            let row = &gray[(y * factor + dy) * width..][..w * factor];
            for (c, &v) in columns.iter_mut().zip(row) {
                *c += u32::from(v);
            }
        }
        for (o, block) in reduced.iter_mut().zip(columns.chunks_exact(factor)) {
            *o = (block.iter().sum::<u32>() / n) as u8;
        }
    }
    out
}

/// The paper level of each tile: the brightest level of the tile and its eight neighbours (a
/// tile full of text still has paper next to it), taken at the 95th percentile against noise.
fn paper_levels(small: &[u8], w: usize, h: usize) -> Vec<u8> {
    let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
    let mut bright = vec![0u8; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            let mut histogram = [0u32; 256];
            let mut count = 0u32;
            for y in ty * TILE..((ty + 1) * TILE).min(h) {
                for x in tx * TILE..((tx + 1) * TILE).min(w) {
                    histogram[small[y * w + x] as usize] += 1;
                    count += 1;
                }
            }
            let mut seen = 0;
            let mut level = 255;
            for (v, &n) in histogram.iter().enumerate() {
                seen += n;
                if seen * 100 >= count * 95 {
                    level = v as u8;
                    break;
                }
            }
            bright[ty * tw + tx] = level;
        }
    }
    let mut paper = vec![0u8; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            let mut best = 0;
            for ny in ty.saturating_sub(1)..=(ty + 1).min(th - 1) {
                for nx in tx.saturating_sub(1)..=(tx + 1).min(tw - 1) {
                    best = best.max(bright[ny * tw + nx]);
                }
            }
            paper[ty * tw + tx] = best;
        }
    }
    paper
}

struct Component {
    pixels: usize,
    width: usize,
    height: usize,
}

/// 8-connected components of `mask` (cleared as they are visited).
fn components(mask: &mut [bool], w: usize, h: usize) -> Vec<Component> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] {
            continue;
        }
        mask[start] = false;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1, mut pixels) = (usize::MAX, usize::MAX, 0, 0, 0);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            pixels += 1;
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] {
                        mask[j] = false;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(Component {
            pixels,
            width: x1 - x0 + 1,
            height: y1 - y0 + 1,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An A4 page at 100 dpi: paper shaded from 235 (left) to 205 (right).
    fn shaded_page() -> (Vec<u8>, usize, usize) {
        let (w, h) = (827, 1169);
        let data = (0..w * h).map(|i| (235 - (i % w) * 30 / w) as u8).collect();
        (data, w, h)
    }

    #[test]
    fn shading_show_through_dust_and_edges_are_blank() {
        let (mut page, w, h) = shaded_page();
        // Show-through: a faint text block, 40 levels below the paper.
        for y in 300..500 {
            for x in 100..700 {
                if (y / 6) % 2 == 0 && (x / 4) % 3 != 0 {
                    page[y * w + x] -= 40;
                }
            }
        }
        // Dust: isolated dark specks of 2 × 2 px (0.5 mm).
        for (x, y) in [(200, 800), (600, 900), (400, 150)] {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                page[(y + dy) * w + x + dx] = 30;
            }
        }
        // A black scanner edge along the left border.
        for y in 0..h {
            for x in 0..20 {
                page[y * w + x] = 10;
            }
        }
        let m = measure(&page, w, h, 100.0);
        assert!(m.blank, "{m:?}");
        assert_eq!(m.ink_per_mille, 0.0);
    }

    #[test]
    fn a_small_pen_mark_is_not_blank() {
        let (mut page, w, h) = shaded_page();
        // A 6 mm tick, half a millimetre thick, in mid-grey ink (a ballpoint at 100 dpi).
        for i in 0..24usize {
            for t in 0..2 {
                let (x, y) = (500 + i, 700 - i / 2 + t);
                page[y * w + x] = 90;
            }
        }
        let m = measure(&page, w, h, 100.0);
        assert!(!m.blank, "{m:?}");
        assert_eq!(m.marks, 1);
        assert!(m.largest_mark_mm > 5.0 && m.largest_mark_mm < 7.0, "{m:?}");
    }

    #[test]
    fn reduces_to_about_100_dpi() {
        let (page, w, h) = shaded_page();
        // The same page at 300 dpi: every pixel tripled each way.
        let big: Vec<u8> = (0..h * 3)
            .flat_map(|y| {
                let page = &page;
                (0..w * 3).map(move |x| page[(y / 3) * w + x / 3])
            })
            .collect();
        assert!(measure(&big, w * 3, h * 3, 300.0).blank);
    }
}
