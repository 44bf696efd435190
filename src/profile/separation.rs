//! The profile's `[separation]` section: how a batch's pages become documents, which patch codes
//! and barcodes mark a separator sheet, and how a barcode's value names the document. The stage
//! that finds the sheets is `separate`; this is what it is told.

use super::values::KeyProblem;

/// How a batch's pages become documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each file, and each folder of images, is one document.
    PerFile,
    /// Split at patch-code sheets.
    PatchCode,
    /// Split at barcode sheets.
    Barcode,
    /// Split at patch-code sheets and at barcode sheets.
    PatchCodeAndBarcode,
    /// Every N pages.
    FixedPages,
}

impl Mode {
    pub const ALL: [(&'static str, Mode); 5] = [
        ("per-file", Mode::PerFile),
        ("patch-code", Mode::PatchCode),
        ("barcode", Mode::Barcode),
        ("patch-code+barcode", Mode::PatchCodeAndBarcode),
        ("fixed-pages", Mode::FixedPages),
    ];

    pub fn name(self) -> &'static str {
        Mode::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("per-file", |(n, _)| n)
    }

    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    pub fn patch(self) -> bool {
        matches!(self, Mode::PatchCode | Mode::PatchCodeAndBarcode)
    }

    pub fn barcode(self) -> bool {
        matches!(self, Mode::Barcode | Mode::PatchCodeAndBarcode)
    }
}

/// What becomes of the page right after a separator sheet: in a duplex stack, the sheet's back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetBack {
    /// It is a page like any other (the first page of the next document).
    Keep,
    /// A blank one is the sheet's back: it leaves the stack with the sheet and is recorded with
    /// it. One that is not blank stays the next document's first page and is marked for review.
    DropIfBlank,
}

impl SheetBack {
    pub const ALL: [(&'static str, SheetBack); 2] = [
        ("keep", SheetBack::Keep),
        ("drop-if-blank", SheetBack::DropIfBlank),
    ];

    pub fn name(self) -> &'static str {
        SheetBack::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("keep", |(n, _)| n)
    }
}

/// The profile's `[separation]` section, possibly overridden by the batch sheet.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    /// Pages per document in `fixed-pages` mode.
    pub pages: u32,
    /// Patch codes that separate (default: all six).
    pub patch_codes: Vec<PatchCode>,
    /// Symbologies searched for (default: QR, DataMatrix, Code 128, Code 39).
    pub symbologies: Vec<Symbology>,
    /// A page is a barcode separator when one of its barcodes matches; the named groups become
    /// the following document's metadata.
    pub barcode_pattern: regex::Regex,
    /// The named group whose value becomes the document id.
    pub document_id: Option<String>,
    /// The page after a sheet: kept, or dropped when blank (duplex stacks).
    pub sheet_back: SheetBack,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::PerFile,
            pages: 1,
            patch_codes: PatchCode::ALL.to_vec(),
            symbologies: Symbology::ALL.to_vec(),
            barcode_pattern: regex::Regex::new(DEFAULT_PATTERN).expect("the default pattern compiles"),
            document_id: None,
            sheet_back: SheetBack::Keep,
        }
    }
}

/// Every barcode value separates; the whole value is recorded as `barcode`.
pub const DEFAULT_PATTERN: &str = "^(?P<barcode>.+)$";

impl Settings {
    /// The batch sheet's `separation` and `separation_pages`, which override the profile's.
    pub fn for_batch(&self, sheet: &crate::batch::BatchSheet) -> Result<Settings, String> {
        let mut settings = self.clone();
        if let Some(name) = &sheet.separation {
            settings.mode = Mode::parse(name).ok_or_else(|| {
                format!(
                    "separation = {name:?}: choose one of {}",
                    Mode::ALL.map(|(n, _)| format!("{n:?}")).join(", ")
                )
            })?;
        }
        if let Some(pages) = sheet.separation_pages {
            if pages == 0 {
                return Err("separation_pages = 0: a document has at least one page".into());
            }
            settings.pages = pages;
        }
        Ok(settings)
    }
}

/// One of the six patch codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatchCode {
    One,
    Two,
    Three,
    Four,
    Six,
    T,
}

impl PatchCode {
    /// Every code, in the order of its name.
    pub const ALL: [PatchCode; 6] = [
        PatchCode::One,
        PatchCode::Two,
        PatchCode::Three,
        PatchCode::Four,
        PatchCode::Six,
        PatchCode::T,
    ];

    /// The name printed on the sheet: `1`, `2`, `3`, `4`, `6` or `T`.
    pub fn name(self) -> &'static str {
        match self {
            PatchCode::One => "1",
            PatchCode::Two => "2",
            PatchCode::Three => "3",
            PatchCode::Four => "4",
            PatchCode::Six => "6",
            PatchCode::T => "T",
        }
    }

    /// The code named `name` (`T`, `t`, `2`, `II`, `Patch T` …).
    pub fn parse(name: &str) -> Option<PatchCode> {
        let name = name.trim().to_ascii_uppercase();
        let name = name.strip_prefix("PATCH").unwrap_or(&name).trim();
        let name = match name {
            "I" => "1",
            "II" => "2",
            "III" => "3",
            "IV" => "4",
            "VI" => "6",
            other => other,
        };
        PatchCode::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A symbology scanwerk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    Qr,
    DataMatrix,
    Code128,
    Code39,
}

impl Symbology {
    pub const ALL: [Symbology; 4] = [
        Symbology::Qr,
        Symbology::DataMatrix,
        Symbology::Code128,
        Symbology::Code39,
    ];

    /// The name used in profiles and the protocol.
    pub fn name(self) -> &'static str {
        match self {
            Symbology::Qr => "qr",
            Symbology::DataMatrix => "datamatrix",
            Symbology::Code128 => "code128",
            Symbology::Code39 => "code39",
        }
    }

    pub fn parse(name: &str) -> Option<Symbology> {
        Symbology::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Reads `[separation]`; every problem is added to `problems`.
pub(super) fn settings(raw: &super::keys::RawSeparation, problems: &mut Vec<KeyProblem>) -> Settings {
    let mut settings = Settings::default();
    let modes: Vec<(&str, Mode)> = Mode::ALL.to_vec();
    settings.mode = super::values::choice(&raw.mode, "separation.mode", &modes, problems);
    let backs: Vec<(&str, SheetBack)> = SheetBack::ALL.to_vec();
    settings.sheet_back = super::values::choice(&raw.sheet_back, "separation.sheet_back", &backs, problems);
    if let Some(pages) = raw.pages {
        if pages == 0 {
            problems.push(KeyProblem::new(
                "separation.pages",
                "  separation.pages = 0: a document has at least one page",
            ));
        }
        settings.pages = pages.max(1);
    }
    if let Some(names) = &raw.patch_codes {
        let known = PatchCode::ALL.map(|c| c.name());
        settings.patch_codes = super::values::parse_list(
            names,
            PatchCode::parse,
            &known,
            "separation.patch_codes",
            "is not a patch code",
            problems,
        );
    }
    if let Some(names) = &raw.barcode_formats {
        let known = Symbology::ALL.map(|s| s.name());
        settings.symbologies = super::values::parse_list(
            names,
            Symbology::parse,
            &known,
            "separation.barcode_formats",
            "is not read",
            problems,
        );
    }
    if let Some(pattern) = &raw.barcode_pattern {
        match regex::Regex::new(pattern) {
            Ok(re) => settings.barcode_pattern = re,
            Err(e) => problems.push(KeyProblem::new(
                "separation.barcode_pattern",
                format!(
                    "  separation.barcode_pattern = {pattern:?}: not a regular expression: {}",
                    e.to_string().replace('\n', " ")
                ),
            )),
        }
    }
    if let Some(group) = &raw.document_id {
        if !settings
            .barcode_pattern
            .capture_names()
            .flatten()
            .any(|n| n == group)
        {
            problems.push(KeyProblem::new("separation.document_id", format!(
                "  separation.document_id = {group:?}: separation.barcode_pattern has no group of that name; \
                 write (?P<{group}>…) in the pattern"
            )));
        }
        settings.document_id = Some(group.clone());
    }
    settings
}
