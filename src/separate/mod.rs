//! Separation: a flat stack of scanned pages → documents, split at separator sheets.
//!
//! Scan centres scan whole stacks with a separator sheet between documents. In the modes other
//! than `per-file`, every page of the batch (its files in batch order, each multi-page file page by
//! page) forms one stream. `patch-code` splits at Kodak patch-code sheets ([`patch`]), `barcode` at
//! pages carrying a barcode that matches the profile's pattern ([`barcode`]), whose named groups
//! become the next document's metadata (and may name it); `fixed-pages` cuts every N pages.
//!
//! A separator sheet leaves the document but not the evidence: [`keep`] writes its image, losslessly,
//! into the batch's `separators/` folder, and the protocol lists each sheet with its position, what
//! was read on it and the image's SHA-256.

pub mod barcode;
pub mod check;
mod keep;
pub mod patch;

pub use keep::{KeepError, keep};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::batch::{Batch, DocumentSource, Part};
use crate::decode;
use crate::decode::InputLimits;
use crate::findings::{POSSIBLE_SEPARATOR, SEPARATOR_BACK};
use crate::profile::separation::{Mode, PatchCode, Settings, SheetBack, Symbology};

/// What marked a page as a separator sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    Patch {
        code: PatchCode,
        edge: patch::Edge,
        /// How many sample lines across the bars read this code.
        lines: usize,
    },
    Barcode {
        symbology: Symbology,
        text: String,
        /// The pattern's named groups.
        metadata: BTreeMap<String, String>,
        /// Which reader read it, and where on the page.
        read: barcode::Read,
    },
}

impl Mark {
    /// How the mark was read, for people: `patch code read at the top edge by 14 lines`,
    /// `qr read by rxing at 1/2 scale at (1204, 980) px`.
    pub fn how(&self) -> String {
        match self {
            Mark::Patch { edge, lines, .. } => {
                format!("patch code read at the {} edge by {lines} lines", edge.name())
            }
            Mark::Barcode { symbology, read, .. } => format!("{} {read}", symbology.name()),
        }
    }
}

/// What reading one page for a separator sheet found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Examined {
    pub mark: Option<Mark>,
    /// Something that looks like a sheet but could not be read: finder patterns without a
    /// decodable code, bars that are nearly a patch code. A person should look.
    pub doubt: Option<String>,
    /// Barcodes read on a page that is no sheet: they do not match the pattern.
    pub unmatched: Vec<String>,
    /// The page is blank: looked at only on pages that are no sheet, and only where blank
    /// sheet backs are dropped (`sheet_back = "drop-if-blank"`).
    pub blank: bool,
}

/// A separator sheet found in the page stream.
#[derive(Debug, Clone)]
pub struct Separator {
    /// 1-based position in the batch's page stream.
    pub position: u32,
    pub file: PathBuf,
    /// 0-based page within `file`.
    pub page: u32,
    /// SHA-256 of `file` when the sheet was read: the kept image must come from the same bytes.
    pub file_sha256: String,
    pub mark: Mark,
    /// The document that follows the sheet, if any pages follow before the next sheet.
    pub next_document: Option<String>,
    /// The page right after the sheet, when `sheet_back = "drop-if-blank"` looked at it.
    pub back: Option<Back>,
}

/// The page after a separator sheet, looked at as the sheet's back side.
#[derive(Debug, Clone, PartialEq)]
pub struct Back {
    pub position: u32,
    pub file: PathBuf,
    pub page: u32,
    /// SHA-256 of `file` when it was read.
    pub file_sha256: String,
    /// Blank, so it left the stack with the sheet; else it begins the next document, flagged.
    pub dropped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SeparateError {
    #[error(
        "{0}; separating a stack needs every page read: replace or remove the file, or set separation = \"per-file\""
    )]
    Page(decode::InputError),
}

/// Re-forms `batch.documents` by `settings`; returns the separator sheets found. `per-file` leaves
/// the batch as it is.
pub fn apply(
    batch: &mut Batch,
    settings: &Settings,
    limits: &InputLimits,
) -> Result<Vec<Separator>, SeparateError> {
    let files: Vec<PathBuf> = batch.input_files();
    let (documents, separators) = match settings.mode {
        Mode::PerFile => return Ok(Vec::new()),
        Mode::FixedPages => {
            let mut stream = Vec::new();
            for file in &files {
                let rel = batch.relative(file);
                let pages = decode::count_pages(file).ok_or_else(|| {
                    SeparateError::Page(decode::InputError::file(&rel, "cannot count its pages"))
                })?;
                stream.extend((0..pages).map(|page| StreamPage::plain(file, page)));
            }
            split(
                stream,
                |n| n > 0 && n % settings.pages as usize == 0,
                settings.sheet_back,
            )
        }
        _ => read_stack(batch, &files, settings, limits)?,
    };
    let scanned = batch.scanned();
    let mut taken = HashSet::new();
    let mut ids = Vec::new();
    batch.documents = documents
        .into_iter()
        .enumerate()
        .map(
            |(
                i,
                Cut {
                    parts,
                    metadata,
                    flags,
                },
            )| {
                let named = settings
                    .document_id
                    .as_ref()
                    .and_then(|group| metadata.get(group))
                    .map(|v| crate::batch::sanitize(v));
                let id = crate::batch::unique(
                    named.unwrap_or_else(|| format!("document-{:03}", i + 1)),
                    &mut taken,
                );
                ids.push(id.clone());
                let files: Vec<PathBuf> = parts.iter().map(|p: &Part| p.file.clone()).collect();
                DocumentSource {
                    id,
                    date: scanned.unwrap_or_else(|| crate::batch::newest_modification(&files)),
                    parts,
                    metadata,
                    flags,
                }
            },
        )
        .collect();
    Ok(separators
        .into_iter()
        .map(|(mut s, doc)| {
            s.next_document = doc.map(|d| ids[d].clone());
            s
        })
        .collect())
}

type Split = (Vec<Cut>, Vec<(Separator, Option<usize>)>);

/// Reads every page of the stack for separator sheets (files and their pages in parallel) and
/// cuts it at them; each sheet and back with its file's SHA-256.
fn read_stack(
    batch: &Batch,
    files: &[PathBuf],
    settings: &Settings,
    limits: &InputLimits,
) -> Result<Split, SeparateError> {
    let started = std::time::Instant::now();
    tracing::info!(batch = %batch.id, files = files.len(), mode = settings.mode.name(), "reading every page for separator sheets");
    let classified = files
        .par_iter()
        .map(|file| classify_file(batch, file, settings, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let hashes: HashMap<PathBuf, String> = classified
        .iter()
        .map(|(file, sha256, _)| (file.clone(), sha256.clone()))
        .collect();
    let stream: Vec<StreamPage> = classified.into_iter().flat_map(|(_, _, pages)| pages).collect();
    tracing::info!(
        batch = %batch.id,
        pages = stream.len(),
        sheets = stream.iter().filter(|p| p.mark.is_some()).count(),
        doubtful = stream.iter().filter(|p| p.doubt.is_some()).count(),
        seconds = started.elapsed().as_secs_f64(),
        "separator sheets read"
    );
    for page in stream.iter().filter(|p| p.doubt.is_some()) {
        tracing::warn!(file = %batch.relative(&page.file), page = page.page + 1, doubt = page.doubt.as_deref().unwrap_or(""), "marked for review");
    }
    let (documents, mut separators) = split(stream, |_| false, settings.sheet_back);
    let hash = |file: &PathBuf| hashes.get(file).cloned().unwrap_or_default();
    for (separator, _) in &mut separators {
        separator.file_sha256 = hash(&separator.file);
        if let Some(back) = &mut separator.back {
            back.file_sha256 = hash(&back.file);
        }
    }
    Ok((documents, separators))
}

/// One page of the stream: where it is, what marks it as a separator sheet, whether it is
/// blank (looked at only where a blank page after a sheet is dropped) and any doubt about it.
#[derive(Debug, Clone, Default)]
struct StreamPage {
    file: PathBuf,
    page: u32,
    mark: Option<Mark>,
    blank: bool,
    doubt: Option<String>,
}

impl StreamPage {
    fn plain(file: &std::path::Path, page: u32) -> StreamPage {
        StreamPage {
            file: file.to_path_buf(),
            page,
            ..StreamPage::default()
        }
    }
}

/// A document cut from the stream: its pages, the metadata its sheet gave it, and flags for
/// some of its pages (1-based page number in the document).
#[derive(Debug, Default)]
struct Cut {
    parts: Vec<Part>,
    metadata: BTreeMap<String, String>,
    flags: BTreeMap<u32, Vec<&'static str>>,
}

impl Cut {
    fn pages(&self) -> u32 {
        self.parts.iter().map(|p| p.pages.len() as u32).sum()
    }

    fn push(&mut self, file: PathBuf, page: u32) {
        match self.parts.last_mut() {
            Some(part) if part.file == file && part.pages.end == page => part.pages.end += 1,
            _ => self.parts.push(Part {
                file,
                pages: page..page + 1,
            }),
        }
    }
}

/// Cuts the stream at separator sheets, and wherever `cut(pages so far)` says; with
/// `DropIfBlank`, a blank page right after a sheet leaves with the sheet as its back.
fn split(stream: Vec<StreamPage>, cut: impl Fn(usize) -> bool, sheet_back: SheetBack) -> Split {
    let mut documents: Vec<Cut> = Vec::new();
    let mut separators: Vec<(Separator, Option<usize>)> = Vec::new();
    let mut current = Cut::default();
    let mut waiting: Vec<usize> = Vec::new();
    let mut close =
        |current: &mut Cut, waiting: &mut Vec<usize>, separators: &mut Vec<(Separator, Option<usize>)>| {
            if !current.parts.is_empty() {
                documents.push(std::mem::take(current));
                // The sheets just before a document begin it; of several in a row only the last does.
                if let Some(&last) = waiting.last() {
                    separators[last].1 = Some(documents.len() - 1);
                }
            }
            current.metadata.clear();
            current.flags.clear();
            waiting.clear();
        };
    let mut after_sheet = false;
    for (position, page) in stream.into_iter().enumerate() {
        let position = position as u32 + 1;
        if let Some(mark) = page.mark {
            close(&mut current, &mut waiting, &mut separators);
            if let Mark::Barcode { metadata, .. } = &mark {
                current.metadata = metadata.clone();
            }
            waiting.push(separators.len());
            let separator = Separator {
                position,
                file: page.file,
                page: page.page,
                file_sha256: String::new(),
                mark,
                next_document: None,
                back: None,
            };
            separators.push((separator, None));
            after_sheet = true;
            continue;
        }
        let back = std::mem::take(&mut after_sheet) && sheet_back == SheetBack::DropIfBlank;
        if back {
            let (separator, _) = separators.last_mut().expect("a sheet came just before");
            separator.back = Some(Back {
                position,
                file: page.file.clone(),
                page: page.page,
                file_sha256: String::new(),
                dropped: page.blank,
            });
            if page.blank {
                continue;
            }
        }
        if cut(current.pages() as usize) {
            close(&mut current, &mut waiting, &mut separators);
        }
        current.push(page.file, page.page);
        let number = current.pages();
        let flags = current.flags.entry(number).or_default();
        if back {
            flags.push(SEPARATOR_BACK);
        }
        if page.doubt.is_some() {
            flags.push(POSSIBLE_SEPARATOR);
        }
        if flags.is_empty() {
            current.flags.remove(&number);
        }
    }
    close(&mut current, &mut waiting, &mut separators);
    (documents, separators)
}

/// Reads every page of `file` and tells which are separator sheets; with the file's SHA-256.
fn classify_file(
    batch: &Batch,
    file: &std::path::Path,
    settings: &Settings,
    limits: &InputLimits,
) -> Result<(PathBuf, String, Vec<StreamPage>), SeparateError> {
    let (sha256, pages) =
        read_pages(file, &batch.relative(file), settings, limits).map_err(SeparateError::Page)?;
    let stream = pages
        .into_iter()
        .enumerate()
        .map(|(index, examined)| {
            let examined = examined.map_err(SeparateError::Page)?;
            Ok(StreamPage {
                file: file.to_path_buf(),
                page: index as u32,
                mark: examined.mark,
                blank: examined.blank,
                doubt: examined.doubt,
            })
        })
        .collect::<Result<Vec<_>, SeparateError>>()?;
    Ok((file.to_path_buf(), sha256, stream))
}

/// Every page of `file` (`rel` as errors name it) decoded once, in parallel, and examined, in
/// page order; with the file's SHA-256. A page that cannot be decoded is its error.
pub(crate) fn read_pages(
    file: &std::path::Path,
    rel: &str,
    settings: &Settings,
    limits: &InputLimits,
) -> Result<(String, Vec<Result<Examined, decode::InputError>>), decode::InputError> {
    let (source, pages) = decode::read_source(file, rel, limits)?;
    let examined = (0..pages)
        .into_par_iter()
        .map(|index| decode::open_page(&source, index, limits).map(|page| examine(&page, settings)))
        .collect();
    Ok((source.digests.sha256.clone(), examined))
}

/// Whether a page is a separator sheet, and what marks it; or, if it looks like one that could
/// not be read, why a person should look.
pub fn examine(page: &decode::Page, settings: &Settings) -> Examined {
    let gray = crate::prepare::gray(page);
    let (width, height) = (page.width as usize, page.height as usize);
    let mut doubt = None;
    if settings.mode.patch() {
        let dpi = page.dpi.map(|(x, y)| x.min(y));
        let search = patch::search(&gray, width, height, dpi);
        if let Some((edge, lines)) = search.near {
            doubt = Some(format!(
                "possible separator sheet not read: {lines} lines read patch-code bars at the {} edge, \
                 too few or disagreeing",
                edge.name()
            ));
        }
        if let Some(found) = search.found
            && settings.patch_codes.contains(&found.code)
        {
            return Examined {
                mark: Some(Mark::Patch {
                    code: found.code,
                    edge: found.edge,
                    lines: found.lines,
                }),
                ..Examined::default()
            };
        }
    }
    if !settings.mode.barcode() {
        return Examined {
            doubt,
            blank: is_blank(&gray, page, settings),
            ..Examined::default()
        };
    }
    let pattern = &settings.barcode_pattern;
    let reading = barcode::read(&gray, width, height, &settings.symbologies, |code| {
        pattern.is_match(&code.text)
    });
    for code in &reading.codes {
        // A code whose text could read differently from what it says (controls, direction
        // overrides) names no document: the page is left for a person to look at.
        if let Some(found) = crate::schema::suspicious(&code.text) {
            doubt = Some(format!(
                "a barcode matching the separator pattern holds {found}; it is not taken as a separator sheet"
            ));
            continue;
        }
        if let Some(captures) = pattern.captures(&code.text) {
            let metadata = pattern
                .capture_names()
                .flatten()
                .filter_map(|name| Some((name.to_string(), captures.name(name)?.as_str().to_string())))
                .collect();
            return Examined {
                mark: Some(Mark::Barcode {
                    symbology: code.symbology,
                    text: code.text.clone(),
                    metadata,
                    read: code.read,
                }),
                ..Examined::default()
            };
        }
    }
    if reading.unread_qr > 0 {
        doubt = Some(format!(
            "possible separator sheet not read: {} QR finder pattern group(s) found, no code decoded",
            reading.unread_qr
        ));
    }
    Examined {
        mark: None,
        doubt,
        blank: is_blank(&gray, page, settings),
        unmatched: reading
            .codes
            .into_iter()
            .map(|c| format!("{} {:?}", c.symbology.name(), c.text))
            .collect(),
    }
}

/// Whether a page that is no sheet is blank, where the profile drops blank sheet backs.
fn is_blank(gray: &[u8], page: &decode::Page, settings: &Settings) -> bool {
    settings.sheet_back == SheetBack::DropIfBlank
        && crate::prepare::blank::measure(
            gray,
            page.width as usize,
            page.height as usize,
            page.dpi.map_or(300.0, |(x, y)| x.min(y)),
        )
        .blank
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    fn page(file: &str, page: u32, mark: Option<Mark>) -> StreamPage {
        StreamPage {
            mark,
            ..StreamPage::plain(std::path::Path::new(file), page)
        }
    }

    fn sheet(value: &str) -> Option<Mark> {
        Some(Mark::Barcode {
            symbology: Symbology::Code128,
            text: value.into(),
            metadata: BTreeMap::from([("file_number".to_string(), value.to_string())]),
            read: barcode::Read {
                reader: barcode::Reader::Rxing,
                scale: 1,
                at: (0, 0),
            },
        })
    }

    fn patch_t() -> Option<Mark> {
        Some(Mark::Patch {
            code: PatchCode::T,
            edge: patch::Edge::Top,
            lines: 9,
        })
    }

    #[test]
    fn a_stack_is_cut_at_its_sheets_and_each_sheet_names_the_document_after_it() {
        let stream = vec![
            page("a.tif", 0, None),
            page("a.tif", 1, None),
            page("a.tif", 2, sheet("AZ-1")),
            page("a.tif", 3, None),
            page("b.png", 0, None),
            page("c.png", 0, patch_t()),
            page("d.png", 0, patch_t()),
            page("e.png", 0, None),
            page("f.png", 0, sheet("AZ-2")),
        ];
        let (documents, separators) = split(stream, |_| false, SheetBack::Keep);
        assert_eq!(documents.len(), 3);
        let ranges: Vec<Vec<(String, Range<u32>)>> = documents
            .iter()
            .map(|cut| {
                cut.parts
                    .iter()
                    .map(|p| (p.file.display().to_string(), p.pages.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(ranges[0], vec![("a.tif".to_string(), 0..2)]);
        assert_eq!(
            ranges[1],
            vec![("a.tif".to_string(), 3..4), ("b.png".to_string(), 0..1)]
        );
        assert_eq!(ranges[2], vec![("e.png".to_string(), 0..1)]);
        assert_eq!(documents[1].metadata["file_number"], "AZ-1");
        assert!(
            documents[2].metadata.is_empty(),
            "a patch sheet carries no metadata"
        );
        let positions: Vec<(u32, Option<usize>)> = separators.iter().map(|(s, d)| (s.position, *d)).collect();
        // Two sheets in a row: the second begins the document; a sheet at the end begins none.
        assert_eq!(positions, vec![(3, Some(1)), (6, None), (7, Some(2)), (9, None)]);
    }

    #[test]
    fn a_blank_back_leaves_with_its_sheet_and_a_written_one_stays_flagged() {
        let blank = |file, n| StreamPage {
            blank: true,
            ..page(file, n, None)
        };
        let doubtful = StreamPage {
            doubt: Some("finder patterns".into()),
            ..page("s.tif", 7, None)
        };
        let stream = vec![
            page("s.tif", 0, None),
            blank("s.tif", 1),
            page("s.tif", 2, sheet("AZ-1")),
            blank("s.tif", 3),
            page("s.tif", 4, None),
            blank("s.tif", 5),
            page("s.tif", 6, patch_t()),
            page("s.tif", 8, None),
            doubtful,
        ];
        let (documents, separators) = split(stream.clone(), |_| false, SheetBack::DropIfBlank);
        let pages: Vec<Vec<(u32, u32)>> = documents
            .iter()
            .map(|d| d.parts.iter().map(|p| (p.pages.start, p.pages.end)).collect())
            .collect();
        // Blank pages that are no sheet backs stay (blank-page removal is preparation's job).
        assert_eq!(pages, vec![vec![(0, 2)], vec![(4, 6)], vec![(8, 9), (7, 8)]]);
        let backs: Vec<(u32, bool)> = separators
            .iter()
            .map(|(s, _)| s.back.as_ref().map(|b| (b.position, b.dropped)).unwrap())
            .collect();
        assert_eq!(backs, vec![(4, true), (8, false)]);
        assert!(documents[1].flags.is_empty());
        assert_eq!(
            documents[2].flags,
            BTreeMap::from([(1, vec![SEPARATOR_BACK]), (2, vec![POSSIBLE_SEPARATOR])])
        );
        // Kept, the back is a page like any other.
        let (documents, separators) = split(stream, |_| false, SheetBack::Keep);
        assert_eq!(documents[1].pages(), 3);
        assert!(separators.iter().all(|(s, _)| s.back.is_none()));
    }

    #[test]
    fn fixed_pages_cut_every_n() {
        let stream: Vec<StreamPage> = (0..7).map(|i| page("stack.tif", i, None)).collect();
        let (documents, separators) = split(stream, |n| n > 0 && n % 3 == 0, SheetBack::Keep);
        let sizes: Vec<u32> = documents.iter().map(|d| d.parts[0].pages.len() as u32).collect();
        assert_eq!(sizes, vec![3, 3, 1]);
        assert!(separators.is_empty());
    }

    fn realscan(name: &str) -> decode::Page {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/realscans")
            .join(name);
        let source = decode::SourceFile::open(&path, name).unwrap();
        decode::decode_page(&source, 0).unwrap()
    }

    #[test]
    fn the_real_skewed_patch_t_sheet_is_patch_t_and_other_real_pages_are_no_sheets() {
        let settings = Settings {
            mode: Mode::PatchCodeAndBarcode,
            ..Settings::default()
        };
        let mark = examine(&realscan("naps2/skewed.jpg"), &settings).mark;
        assert!(
            matches!(
                mark,
                Some(Mark::Patch {
                    code: PatchCode::T,
                    ..
                })
            ),
            "{mark:?}"
        );
        for name in [
            "naps2/blank1.jpg",
            "naps2/notblank.jpg",
            "naps2/word_p1.jpg",
            "naps2/word_p2_bw.png",
            "unpaper/imgsrc001.png",
        ] {
            assert_eq!(examine(&realscan(name), &settings), Examined::default(), "{name}");
        }
    }
}
