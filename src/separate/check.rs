//! `scanwerk sheets`: reads scans as the separation stage does and says, page by page, which are
//! separator sheets and how each was read — to try printed sheets before a stack is scanned, and
//! to see why a sheet was missed.

use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use super::{Examined, Mark, read_pages};
use crate::batch::Batch;
use crate::decode::{self, InputLimits};
use crate::profile::separation::Settings;

/// One page as the separation stage saw it.
#[derive(Debug, Serialize)]
pub struct CheckedPage {
    /// The file, relative to the folder given (or as given), and the 1-based page in it.
    pub file: String,
    pub page: u32,
    /// `patch-code` or `barcode`, if the page is a separator sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The patch code or the barcode's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// How it was read: reader, symbology or edge, agreement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// A page that looks like a sheet but could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doubt: Option<String>,
    /// Barcodes read on a page that is no sheet, because they do not match the pattern.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched: Vec<String>,
    /// The page could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every page of `paths` (files, or batch folders in batch order), read for separator sheets.
pub fn check(
    paths: &[PathBuf],
    settings: &Settings,
    limits: &InputLimits,
) -> Result<Vec<CheckedPage>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let batch = Batch::open(path).map_err(|e| e.to_string())?;
            files.extend(batch.input_files().into_iter().map(|f| (batch.relative(&f), f)));
        } else {
            files.push((path.display().to_string(), path.clone()));
        }
    }
    let pages = files
        .par_iter()
        .map(|(rel, file)| check_file(file, rel, settings, limits))
        .collect::<Vec<_>>();
    Ok(pages.into_iter().flatten().collect())
}

fn check_file(
    file: &std::path::Path,
    rel: &str,
    settings: &Settings,
    limits: &InputLimits,
) -> Vec<CheckedPage> {
    let unread = |page, error: decode::InputError| CheckedPage {
        file: rel.to_string(),
        page,
        kind: None,
        code: None,
        read: None,
        doubt: None,
        unmatched: Vec::new(),
        error: Some(error.to_string()),
    };
    match read_pages(file, rel, settings, limits) {
        Ok((_, pages)) => pages
            .into_iter()
            .zip(1..)
            .map(|(examined, page)| match examined {
                Ok(examined) => checked(rel, page, examined),
                Err(e) => unread(page, e),
            })
            .collect(),
        Err(e) => vec![unread(1, e)],
    }
}

fn checked(file: &str, page: u32, examined: Examined) -> CheckedPage {
    let (kind, code) = match &examined.mark {
        Some(Mark::Patch { code, .. }) => (Some("patch-code"), Some(code.name().to_string())),
        Some(Mark::Barcode { text, .. }) => (Some("barcode"), Some(text.clone())),
        None => (None, None),
    };
    CheckedPage {
        file: file.to_string(),
        page,
        kind,
        code,
        read: examined.mark.as_ref().map(Mark::how),
        doubt: examined.doubt,
        unmatched: examined.unmatched,
        error: None,
    }
}

/// One line per page: `FILE page N: sheet …`, `… no sheet`, `… POSSIBLE SHEET NOT READ: …`.
pub fn lines(pages: &[CheckedPage]) -> String {
    let mut out = String::new();
    for p in pages {
        let what = match (&p.kind, &p.error, &p.doubt) {
            (Some(kind), _, _) => format!(
                "{kind} sheet {:?} ({})",
                p.code.as_deref().unwrap_or(""),
                p.read.as_deref().unwrap_or("")
            ),
            (None, Some(error), _) => format!("NOT READ: {error}"),
            (None, None, Some(doubt)) => format!("POSSIBLE SHEET NOT READ: {doubt}"),
            (None, None, None) if p.unmatched.is_empty() => "no sheet".to_string(),
            (None, None, None) => format!(
                "no sheet (read {}: not matching the profile's barcode_pattern)",
                p.unmatched.join(", ")
            ),
        };
        out.push_str(&format!("{} page {}: {what}\n", p.file, p.page));
    }
    let sheets = pages.iter().filter(|p| p.kind.is_some()).count();
    let doubts = pages
        .iter()
        .filter(|p| p.kind.is_none() && p.doubt.is_some())
        .count();
    out.push_str(&format!(
        "{}, {}, {} to look at\n",
        crate::protocol::count(pages.len(), "page"),
        crate::protocol::count(sheets, "separator sheet"),
        doubts
    ));
    out
}
