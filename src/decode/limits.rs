//! Input limits: what one file may be before it is decoded (`[input]` of a profile), and the two
//! ways every stage reads a file within them — a whole file read once and hashed, a page decoded
//! once its size is known. Checked from the headers, so a decompression bomb is refused before a
//! byte of it is inflated.

use super::{Page, SourceFile, decode_page, dimensions};

/// What one input file may be, checked before it is decoded (`[input]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputLimits {
    /// Pixels of one page, in millions (`max_megapixels`, default 300: A0 at 400 dpi).
    pub max_megapixels: f64,
    /// Pages of one file (`max_pages`, default 5,000).
    pub max_pages: u32,
    /// Size of one file in MiB (`max_file_mb`, default 2,048).
    pub max_file_mb: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_megapixels: 300.0,
            max_pages: 5_000,
            max_file_mb: 2_048,
        }
    }
}

/// What went wrong with an input file or one of its pages: the file (relative to the batch), the
/// page (1-based) and the step, if the problem is a page's, and the cause. Shown as
/// `FILE: cause` or `FILE, page N: step: cause`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub file: String,
    pub page: Option<u32>,
    pub step: &'static str,
    pub cause: String,
}

impl InputError {
    /// A problem with the file as a whole.
    pub fn file(file: &str, cause: impl std::fmt::Display) -> InputError {
        InputError {
            file: file.to_string(),
            page: None,
            step: "read",
            cause: cause.to_string(),
        }
    }

    /// A problem with page `index` (0-based) of `file` in `step`.
    pub fn page(file: &str, index: u32, step: &'static str, cause: impl std::fmt::Display) -> InputError {
        InputError {
            file: file.to_string(),
            page: Some(index + 1),
            step,
            cause: cause.to_string(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.page {
            None => write!(f, "{}: {}", self.file, self.cause),
            Some(page) => write!(f, "{}, page {page}: {}: {}", self.file, self.step, self.cause),
        }
    }
}

impl serde::Serialize for InputError {
    /// As people read it: the error is a line in `error.json`'s problems.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where `path` leads if it is a symbolic link out of its batch folder (the folder `rel` is
/// relative to), or to nothing; `None` for a plain file or a link that stays inside.
fn link_out_of_batch(path: &std::path::Path, rel: &str) -> Option<std::path::PathBuf> {
    let root = path
        .ancestors()
        .nth(rel.split('/').count())?
        .canonicalize()
        .ok()?;
    link_out_of(&root, path)
}

/// Where `path` leads if it is a symbolic link out of the folder `root` (canonical), or to
/// nothing; `None` for anything that is not such a link.
pub fn link_out_of(root: &std::path::Path, path: &std::path::Path) -> Option<std::path::PathBuf> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    match path.canonicalize() {
        Ok(target) if target.starts_with(root) && target != root => None,
        Ok(target) => Some(target),
        Err(_) => Some(std::fs::read_link(path).unwrap_or_default()),
    }
}

/// Reads a file once, hashes it, tells its format and counts its pages.
pub fn read_source(
    path: &std::path::Path,
    rel: &str,
    limits: &InputLimits,
) -> Result<(SourceFile, u32), InputError> {
    if let Some(target) = link_out_of_batch(path, rel) {
        return Err(InputError::file(
            rel,
            format!(
                "the file is a link to {}, outside the batch folder; links out of a batch are \
                 refused — copy the file into the batch instead",
                target.display()
            ),
        ));
    }
    let meta =
        std::fs::metadata(path).map_err(|e| InputError::file(rel, format!("cannot read the file: {e}")))?;
    if meta.len() == 0 {
        return Err(InputError::file(
            rel,
            "the file is empty (0 bytes); scan the page again",
        ));
    }
    if meta.len() > limits.max_file_mb << 20 {
        return Err(InputError::file(
            rel,
            format!(
                "{} MiB is above the profile's limit of {} MiB (input.max_file_mb); split the file",
                meta.len() >> 20,
                limits.max_file_mb
            ),
        ));
    }
    let source = SourceFile::open(path, rel).map_err(|e| InputError::file(rel, e))?;
    let pages = source.pages();
    if pages > limits.max_pages {
        return Err(InputError::file(
            rel,
            format!(
                "{pages} pages is above the profile's limit of {} (input.max_pages); split the file",
                limits.max_pages
            ),
        ));
    }
    Ok((source, pages))
}

/// Decodes page `index` of `source` once its size is known to be within the profile's limits.
pub fn open_page(source: &SourceFile, index: u32, limits: &InputLimits) -> Result<Page, InputError> {
    let at = |e: &dyn std::fmt::Display| InputError::page(&source.rel, index, "decode", e);
    let (width, height) = dimensions(source, index).map_err(|e| at(&e))?;
    let megapixels = f64::from(width) * f64::from(height) / 1e6;
    if megapixels > limits.max_megapixels {
        return Err(at(&format!(
            "{width} × {height} pixels ({megapixels:.0} megapixels) is above the profile's limit of {} \
             (input.max_megapixels); a damaged or hostile file, or scan at a lower resolution",
            limits.max_megapixels
        )));
    }
    decode_page(source, index).map_err(|e| at(&e))
}
