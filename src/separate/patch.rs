//! Kodak patch codes: four black bars parallel to the sheet's leading edge, each narrow (0.08 in)
//! or wide (0.2 in), with narrow (0.08 in) white gaps, about half an inch in from the edge. The six
//! codes differ only in which two bars are wide, read from the edge inward:
//!
//! | code | bars  |   | code | bars  |
//! |------|-------|---|------|-------|
//! | 1    | W N N W |   | 4    | N W W N |
//! | 2    | W N W N |   | 6    | N N W W |
//! | 3    | W W N N |   | T    | N W N W |
//!
//! Read from the far side, T would look like 2 and 3 like 6, so every edge of the page is read from
//! the edge inward: a sheet fed upside down (its code at the bottom of the image) or printed with the
//! code on all four edges (as Kodak's sheets are) reads the same. Lines are sampled across each edge
//! every 1/20 inch; a line that crosses the bars at an angle (a skewed sheet) sees all of them
//! stretched alike, so their ratios hold. A code counts when at least half an inch of the edge reads
//! it and at least two thirds of the lines that read any code agree.

use std::fmt;

pub use crate::profile::separation::PatchCode;

/// Bars read from the edge inward, `true` = wide.
const CODES: [(PatchCode, [bool; 4]); 6] = [
    (PatchCode::One, [true, false, false, true]),
    (PatchCode::Two, [true, false, true, false]),
    (PatchCode::Three, [true, true, false, false]),
    (PatchCode::Four, [false, true, true, false]),
    (PatchCode::Six, [false, false, true, true]),
    (PatchCode::T, [false, true, false, true]),
];

impl PatchCode {
    /// The bars, edge inward.
    pub fn bars(self) -> [bool; 4] {
        CODES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, b)| *b)
            .unwrap_or_default()
    }
}

impl fmt::Display for PatchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Patch {}", self.name())
    }
}

/// The edge of the image a code was read at (the sheet's leading edge as it lies in the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Top,
    Bottom,
    Left,
    Right,
}

impl Edge {
    pub fn name(self) -> &'static str {
        match self {
            Edge::Top => "top",
            Edge::Bottom => "bottom",
            Edge::Left => "left",
            Edge::Right => "right",
        }
    }
}

/// A patch code found on a page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub code: PatchCode,
    pub edge: Edge,
    /// Sample lines that read this code.
    pub lines: usize,
}

/// Finds a patch code at any edge of an 8-bit grey page (`dpi` as the file states it, if at all).
pub fn detect(gray: &[u8], width: usize, height: usize, dpi: Option<f64>) -> Option<Found> {
    search(gray, width, height, dpi).found
}

/// What the search of the four edges found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Search {
    pub found: Option<Found>,
    /// Where no code was found: the edge where most sample lines still read bars of a patch
    /// code, and how many (too few, or disagreeing) — a sheet, perhaps, that a person should see.
    pub near: Option<(Edge, usize)>,
}

/// Lines reading patch bars at one edge, below the vote, from which a page is worth a look.
const NEAR_LINES: usize = 3;

/// Searches every edge of an 8-bit grey page for a patch code.
pub fn search(gray: &[u8], width: usize, height: usize, dpi: Option<f64>) -> Search {
    if width < 16 || height < 16 || gray.len() < width * height {
        return Search::default();
    }
    // Without a stated resolution, take the page's long side for about 11 inches (A4, letter).
    let dpi = dpi
        .filter(|d| *d >= 50.0)
        .unwrap_or(width.max(height) as f64 / 11.0);
    let mut search = Search::default();
    for edge in [Edge::Top, Edge::Bottom, Edge::Left, Edge::Right] {
        let (found, decoded) = read_edge(gray, width, height, dpi, edge);
        if let Some(found) = found
            && search.found.is_none_or(|b| found.lines > b.lines)
        {
            search.found = Some(found);
        }
        if decoded >= NEAR_LINES && search.near.is_none_or(|(_, n)| decoded > n) {
            search.near = Some((edge, decoded));
        }
    }
    if search.found.is_some() {
        search.near = None;
    }
    search
}

/// Reads one edge: many lines from the edge inward, each decoded on its own, then a vote; with
/// how many lines decoded as any code.
fn read_edge(gray: &[u8], width: usize, height: usize, dpi: f64, edge: Edge) -> (Option<Found>, usize) {
    let (along, across) = match edge {
        Edge::Top | Edge::Bottom => (width, height),
        Edge::Left | Edge::Right => (height, width),
    };
    let step = ((dpi / 20.0) as usize).max(1);
    // The code lies near the edge, but a skewed or shifted sheet moves it inward.
    let depth = across * 2 / 5;
    let mut votes = [0usize; 6];
    let mut decoded = 0;
    let mut line = Vec::with_capacity(depth);
    for t in (along / 20..along - along / 20).step_by(step) {
        line.clear();
        line.extend((0..depth).map(|d| {
            let (x, y) = match edge {
                Edge::Top => (t, d),
                Edge::Bottom => (t, height - 1 - d),
                Edge::Left => (d, t),
                Edge::Right => (width - 1 - d, t),
            };
            gray[y * width + x] < 128
        }));
        if let Some(code) = decode_line(&line, dpi) {
            decoded += 1;
            votes[PatchCode::ALL.iter().position(|c| *c == code).unwrap_or(0)] += 1;
        }
    }
    let Some((index, &lines)) = votes.iter().enumerate().max_by_key(|(_, v)| **v) else {
        return (None, decoded);
    };
    let half_inch = (dpi * 0.5 / step as f64).ceil() as usize;
    let found = (lines >= half_inch.max(4) && lines * 3 >= decoded * 2).then_some(Found {
        code: PatchCode::ALL[index],
        edge,
        lines,
    });
    (found, decoded)
}

/// Runs of equal pixels along a line: (dark, length), specks shorter than `min` merged away.
fn runs(line: &[bool], min: usize) -> Vec<(bool, usize)> {
    let mut raw: Vec<(bool, usize)> = Vec::new();
    for &dark in line {
        match raw.last_mut() {
            Some((d, n)) if *d == dark => *n += 1,
            _ => raw.push((dark, 1)),
        }
    }
    let mut out: Vec<(bool, usize)> = Vec::with_capacity(raw.len());
    for (i, &(dark, n)) in raw.iter().enumerate() {
        // A speck inside a run of the other colour (dust, a toner gap) belongs to that run.
        let inner = i > 0 && i + 1 < raw.len();
        let colour = if n < min && inner { !dark } else { dark };
        match out.last_mut() {
            Some((d, m)) if *d == colour => *m += n,
            _ => out.push((colour, n)),
        }
    }
    out
}

/// Decodes the first four bars met from the edge inward, if they form a patch code.
fn decode_line(line: &[bool], dpi: f64) -> Option<PatchCode> {
    let runs = runs(line, ((dpi / 100.0) as usize).max(1));
    let mut i = 0;
    // A dark run touching the edge is the scanner's background or the sheet's shadow, not a bar.
    if runs.first().is_some_and(|r| r.0) {
        i = 1;
    }
    let lead = runs.get(i).filter(|r| !r.0)?.1;
    let body = runs.get(i + 1..i + 8)?;
    let after = runs.get(i + 8).map_or(0, |r| r.1);
    let bars = [body[0].1, body[2].1, body[4].1, body[6].1].map(|n| n as f64);
    let gaps = [body[1].1, body[3].1, body[5].1].map(|n| n as f64);
    let (min, max) = bars
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &b| (lo.min(b), hi.max(b)));
    // Nominal ratio 2.5; skew stretches both alike, print and scan blur shift it a little.
    if !(1.7..=4.0).contains(&(max / min)) {
        return None;
    }
    let threshold = (min + max) / 2.0;
    let wide = bars.map(|b| b > threshold);
    let narrow_mean = mean(bars.iter().zip(wide).filter(|(_, w)| !w).map(|(b, _)| *b));
    let wide_mean = mean(bars.iter().zip(wide).filter(|(_, w)| *w).map(|(b, _)| *b));
    let close = |v: f64, to: f64| (v / to - 1.0).abs() <= 0.35;
    let consistent = bars
        .iter()
        .zip(wide)
        .all(|(&b, w)| close(b, if w { wide_mean } else { narrow_mean }))
        && gaps.iter().all(|&g| (0.5..=1.7).contains(&(g / narrow_mean)));
    // In inches, allowing for a skew of up to 35° and for toner spread.
    let inches = |px: f64| px / dpi;
    let sized = (0.045..=0.15).contains(&inches(narrow_mean)) && (0.12..=0.36).contains(&inches(wide_mean));
    let quiet = lead as f64 >= narrow_mean && after as f64 >= wide_mean;
    if !(consistent && sized && quiet) {
        return None;
    }
    CODES
        .iter()
        .find(|(_, bars)| *bars == wide)
        .map(|(code, _)| *code)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A white page of `w`×`h` inches at `dpi` with `code`'s bars along the top edge, half an
    /// inch in, over the middle 60 % of the width.
    pub(crate) fn sheet(code: PatchCode, dpi: f64, w: f64, h: f64) -> (Vec<u8>, usize, usize) {
        let (width, height) = ((w * dpi) as usize, (h * dpi) as usize);
        let mut gray = vec![255u8; width * height];
        let mut y = 0.5 * dpi;
        for wide in code.bars() {
            let bar = if wide { 0.2 } else { 0.08 } * dpi;
            for row in y as usize..(y + bar) as usize {
                for x in width / 5..width * 4 / 5 {
                    gray[row * width + x] = 20;
                }
            }
            y += bar + 0.08 * dpi;
        }
        (gray, width, height)
    }

    /// Turned by `degrees` about the centre (nearest pixel; white where nothing maps).
    pub(crate) fn rotate(gray: &[u8], width: usize, height: usize, degrees: f64) -> Vec<u8> {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
        let mut out = vec![255u8; gray.len()];
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
                if sx >= 0.0 && sy >= 0.0 && (sx as usize) < width && (sy as usize) < height {
                    out[y * width + x] = gray[sy as usize * width + sx as usize];
                }
            }
        }
        out
    }

    #[test]
    fn every_code_is_read_at_200_and_300_dpi_upright_turned_and_skewed() {
        for dpi in [200.0, 300.0] {
            for code in PatchCode::ALL {
                let (gray, w, h) = sheet(code, dpi, 8.27, 11.69);
                for degrees in [0.0, 180.0, 7.0, -15.0, 195.0] {
                    let turned = rotate(&gray, w, h, degrees);
                    let found = detect(&turned, w, h, Some(dpi));
                    assert_eq!(
                        found.map(|f| f.code),
                        Some(code),
                        "{code} at {dpi} dpi, {degrees}°"
                    );
                    let edge = if (90.0..270.0).contains(&degrees) {
                        Edge::Bottom
                    } else {
                        Edge::Top
                    };
                    assert_eq!(found.unwrap().edge, edge);
                }
                // Without a stated resolution the page size stands in for it.
                assert_eq!(detect(&gray, w, h, None).map(|f| f.code), Some(code));
            }
        }
    }

    #[test]
    fn a_patch_code_torn_to_a_few_lines_is_no_code_but_a_page_to_look_at() {
        let dpi = 300.0;
        let (mut gray, w, h) = sheet(PatchCode::T, dpi, 8.27, 11.69);
        // All but a third of an inch of the bars torn off (or covered by a sticker).
        for row in 0..h / 3 {
            for x in (w / 5 + (dpi / 3.0) as usize)..w {
                gray[row * w + x] = 255;
            }
        }
        let found = search(&gray, w, h, Some(dpi));
        assert_eq!(found.found, None);
        assert!(
            matches!(found.near, Some((Edge::Top, n)) if n >= NEAR_LINES),
            "{found:?}"
        );
        // A whole code is found, and then there is nothing to doubt.
        let (whole, w, h) = sheet(PatchCode::T, dpi, 8.27, 11.69);
        assert_eq!(search(&whole, w, h, Some(dpi)).near, None);
    }

    #[test]
    fn bars_of_the_wrong_size_or_rhythm_are_not_a_code() {
        let dpi = 300.0;
        // Letterhead rules: thin lines far apart.
        let (w, h) = (2480, 3508);
        let mut gray = vec![255u8; w * h];
        for (y, t) in [(150, 6), (200, 16), (260, 6), (300, 16)] {
            for row in y..y + t {
                gray[row * w..(row + 1) * w].fill(0);
            }
        }
        assert_eq!(detect(&gray, w, h, Some(dpi)), None);
        // A patch code printed four times too large.
        let (small, sw, sh) = sheet(PatchCode::T, dpi * 4.0, 8.27 / 4.0, 11.69 / 4.0);
        assert_eq!(detect(&small, sw, sh, Some(dpi)), None);
        // A blank page and a black one.
        assert_eq!(detect(&vec![255; w * h], w, h, Some(dpi)), None);
        assert_eq!(detect(&vec![0; w * h], w, h, Some(dpi)), None);
    }

    #[test]
    fn names_parse() {
        assert_eq!(PatchCode::parse("T"), Some(PatchCode::T));
        assert_eq!(PatchCode::parse("patch ii"), Some(PatchCode::Two));
        assert_eq!(PatchCode::parse("6"), Some(PatchCode::Six));
        assert_eq!(PatchCode::parse("5"), None);
        assert_eq!(PatchCode::T.to_string(), "Patch T");
    }

    #[test]
    fn runs_drop_specks_inside_bars() {
        let line: Vec<bool> = [
            vec![false; 10],
            vec![true; 5],
            vec![false; 1],
            vec![true; 5],
            vec![false; 4],
        ]
        .concat();
        assert_eq!(runs(&line, 2), vec![(false, 10), (true, 11), (false, 4)]);
    }
}
