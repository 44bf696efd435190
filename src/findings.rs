//! What preparation measured on a page, as the records carry it: how it lay (orientation), how
//! skewed it was, how blank it is. Plain data and a leaf, so that the records (`protocol`), the
//! QA report and the stages that measure share them without importing each other.

/// Page flags separation gives (both ask a person to look before the paper goes): a page that
/// looks like a separator sheet but could not be read, and a separator sheet's back side that is
/// not blank and so stayed the next document's first page.
pub const POSSIBLE_SEPARATOR: &str = "possible_separator";
pub const SEPARATOR_BACK: &str = "separator_back";

/// How the page's orientation was found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrientationFinding {
    /// Degrees clockwise that turn the page upright (the PDF page's `/Rotate`).
    pub rotate: u16,
    /// `ocr-upright` (the page read as it lies gave clearly upright text, so no detection was
    /// needed), `osd` (tesseract's orientation detection) or `ocr-vote` (too little text for OSD: the
    /// page was read in all four orientations and the most confident reading won).
    pub method: String,
    /// OSD's confidence; for `ocr-upright` and a vote the (winning) reading's mean word confidence.
    pub confidence: f32,
}

/// The measured skew of the (upright) page.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SkewFinding {
    /// Degrees clockwise that straighten the lines (leptonica's measure).
    pub degrees: f32,
    pub confidence: f32,
    /// Whether the OCR working copy was straightened by it.
    pub corrected: bool,
}

/// What the detector measured, recorded for every page.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlankMeasure {
    /// Share of the inspected area covered by ink marks, in per mille (0 for a blank page).
    pub ink_per_mille: f64,
    /// Number of ink marks found (connected components of at least the minimum size).
    pub marks: usize,
    /// Extent of the largest mark in millimetres (its bounding box's longer side).
    pub largest_mark_mm: f64,
    pub blank: bool,
}
