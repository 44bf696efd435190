//! Batch: a batch folder and its optional batch sheet (`batch.toml`) → ordered documents.
//!
//! Per the input contract, each file in the folder is one document and each sub-folder one document
//! of its images in natural name order (`page2` before `page10`). Nothing is skipped silently: only
//! the batch sheet, a `READY` marker and hidden files are not documents. Document ids are derived
//! from names, so the same folder always yields the same ids.

use crate::layout::{ERROR_JSON, ERROR_TEXT, READY, SHEET};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;

/// The commented example batch sheet with every key (`scanwerk batch-sheet` prints it).
pub const EXAMPLE_SHEET: &str = include_str!("../testdata/batch-sheet/batch.toml");

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("cannot read batch folder {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("batch sheet {path} is not valid:\n{}", problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Sheet { path: PathBuf, problems: Vec<String> },
    #[error("{path}: folders inside a document folder are not allowed; move its images up one level")]
    Nested { path: PathBuf },
    #[error(
        "batch folder {path} holds no documents; put one image file or one folder of images per document in it"
    )]
    Empty { path: PathBuf },
    #[error("{path}: document folder holds no images")]
    EmptyDocument { path: PathBuf },
    #[error(
        "{path} is a link to {target}, outside the batch folder; links out of a batch are refused — \
         copy the file into the batch instead"
    )]
    LinkOutside { path: PathBuf, target: PathBuf },
}

/// Reads a batch sheet date-time: RFC 3339 (`2026-11-20T09:30:00+01:00`).
fn parse_scanned(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// The batch sheet, `batch.toml`. Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSheet {
    /// Batch id; default: the folder name.
    pub id: Option<String>,
    /// Responsible operator (natural person); default: the user running scanwerk.
    pub operator: Option<String>,
    /// Profile name or path; `--profile` overrides it.
    pub profile: Option<String>,
    /// When the paper was scanned (RFC 3339); dates every document of the batch. Default: the newest
    /// modification time among each document's files, which is when the scanner wrote them.
    pub scanned: Option<String>,
    /// Organisation (authority, department) the scan is made for; goes into the transfer note.
    pub organisation: Option<String>,
    /// Scanner (make, model, serial) used; goes into the transfer note.
    pub scanner: Option<String>,
    /// Workstation name for the transfer note; default: this host's name.
    pub workstation: Option<String>,
    /// Reference to the procedure documentation (Verfahrensdokumentation) followed.
    pub procedure: Option<String>,
    /// Expected number of documents, checked after reading.
    pub expected_documents: Option<usize>,
    /// Expected number of pages over all documents.
    pub expected_pages: Option<usize>,
    /// Free index metadata, copied into the protocol.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// How the pages become documents, overriding the profile's `separation.mode`: `per-file`,
    /// `patch-code`, `barcode`, `patch-code+barcode` or `fixed-pages`.
    pub separation: Option<String>,
    /// Pages per document in `fixed-pages` mode, overriding the profile's `separation.pages`.
    pub separation_pages: Option<u32>,
}

/// One document's input: pages of files, in page order.
#[derive(Debug, Clone)]
pub struct DocumentSource {
    pub id: String,
    /// Files (absolute or batch-joined paths) and which of their pages, in page order.
    pub parts: Vec<Part>,
    /// The document's date: the batch sheet's `scanned`, else its newest file's modification time,
    /// to the second. Never the clock, so a rerun gives the same PDF bytes.
    pub date: OffsetDateTime,
    /// Index metadata of this document (e.g. `file_number` read from its separator sheet).
    pub metadata: BTreeMap<String, String>,
    /// Flags separation gave some of its pages (1-based page number in the document), e.g.
    /// `separator_back`: they ask for review like the quality flags.
    pub flags: BTreeMap<u32, Vec<&'static str>>,
}

/// Pages of one input file that belong to a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub file: PathBuf,
    /// 0-based pages; `0..u32::MAX` for every page of the file.
    pub pages: std::ops::Range<u32>,
}

impl Part {
    /// Every page of `file`.
    pub fn whole(file: PathBuf) -> Part {
        Part {
            file,
            pages: 0..u32::MAX,
        }
    }
}

impl DocumentSource {
    /// The document's files, in page order (a file split over documents appears in each).
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.parts.iter().map(|p| &p.file)
    }
}

/// A batch ready to process.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: String,
    pub dir: PathBuf,
    pub sheet: BatchSheet,
    pub documents: Vec<DocumentSource>,
    /// The folder as it was when the batch was read; see [`Batch::changes`].
    pub listing: Listing,
}

impl Batch {
    /// Pages in the batch's documents, counted from the file headers (a file that cannot be read
    /// counts as one page; reading it properly will tell what is wrong with it).
    pub fn count_pages(&self) -> u64 {
        self.documents
            .iter()
            .flat_map(|d| &d.parts)
            .map(|p| {
                let pages = crate::decode::count_pages(&p.file).unwrap_or(1);
                u64::from(pages.min(p.pages.end).saturating_sub(p.pages.start))
            })
            .sum()
    }

    /// Every input file of the batch once, in batch order.
    pub fn input_files(&self) -> Vec<PathBuf> {
        let mut seen = HashSet::new();
        self.documents
            .iter()
            .flat_map(|d| d.files())
            .filter(|f| seen.insert(f.as_path()))
            .cloned()
            .collect()
    }

    /// The batch sheet's `scanned` date, if it gives one (checked when the batch was opened).
    pub fn scanned(&self) -> Option<OffsetDateTime> {
        self.sheet.scanned.as_deref().and_then(parse_scanned)
    }

    /// Reads the folder and its sheet; the files themselves are read later, one at a time.
    pub fn open(dir: &Path) -> Result<Batch, BatchError> {
        // Taken first: whatever changes from here on is seen by `changes`.
        let listing = Listing::of(dir);
        let sheet = read_sheet(dir)?;
        // Checked when the sheet was read.
        let scanned = sheet.scanned.as_deref().and_then(parse_scanned);
        let mut entries = list(dir)?;
        entries.retain(|p| !is_reserved(p));
        let root = dir.canonicalize().map_err(|source| BatchError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut documents = Vec::new();
        let mut taken = HashSet::new();
        for path in entries {
            let files = if path.is_dir() {
                document_folder(&path)?
            } else {
                vec![path.clone()]
            };
            // A folder leading out of the batch is refused here, before it is listed further; a
            // file leading out fails its own document when it is read (decode::read_source), so
            // one bad link does not stop the batch's other documents from being checked.
            if path.is_dir() {
                inside(&root, &path)?;
            }
            let id = unique_id(&path, &mut taken);
            let date = scanned.unwrap_or_else(|| newest_modification(&files));
            documents.push(DocumentSource {
                id,
                parts: files.into_iter().map(Part::whole).collect(),
                date,
                metadata: BTreeMap::new(),
                flags: BTreeMap::new(),
            });
        }
        if documents.is_empty() {
            return Err(BatchError::Empty {
                path: dir.to_path_buf(),
            });
        }
        let id = match &sheet.id {
            Some(id) => sanitize(id),
            None => sanitize(&file_name(dir)),
        };
        Ok(Batch {
            id,
            dir: dir.to_path_buf(),
            sheet,
            documents,
            listing,
        })
    }

    /// What changed in the batch folder since it was read (files added, removed, rewritten), one
    /// line each; empty if nothing did. A batch whose folder changed is never sealed: what was
    /// read may be only part of what the scanner delivered.
    pub fn changes(&self) -> Vec<String> {
        self.listing.changes(&Listing::of(&self.dir))
    }

    /// Path of `file` relative to the batch folder, `/`-separated, for metadata.
    pub fn relative(&self, file: &Path) -> String {
        let rel = file.strip_prefix(&self.dir).unwrap_or(file);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Every entry below a folder: relative path → (is a folder, bytes, modification time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing(BTreeMap<String, (bool, u64, Option<std::time::SystemTime>)>);

impl Listing {
    /// Each file's path (relative, `/`-separated) and size, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0
            .iter()
            .filter(|(_, (is_dir, _, _))| !is_dir)
            .map(|(path, (_, size, _))| (path.as_str(), *size))
    }

    /// The entries below `dir` now, links not followed (an unreadable folder lists as empty).
    pub fn of(dir: &Path) -> Listing {
        let mut listing = Listing::default();
        listing.add(dir, "");
        listing
    }

    fn add(&mut self, dir: &Path, prefix: &str) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let is_dir = meta.is_dir();
            self.0
                .insert(rel.clone(), (is_dir, meta.len(), meta.modified().ok()));
            if is_dir {
                self.add(&entry.path(), &format!("{rel}/"));
            }
        }
    }

    /// `added X`, `removed X`, `changed X` for every entry that differs in `now`.
    pub fn changes(&self, now: &Listing) -> Vec<String> {
        let mut changes = Vec::new();
        for (rel, was) in &self.0 {
            match now.0.get(rel) {
                None => changes.push(format!("removed {rel}")),
                // A folder's own time changes with its entries, which are compared themselves.
                Some(is) if is != was && !(is.0 && was.0) => changes.push(format!("changed {rel}")),
                Some(_) => {}
            }
        }
        changes.extend(
            now.0
                .keys()
                .filter(|rel| !self.0.contains_key(*rel))
                .map(|rel| format!("added {rel}")),
        );
        changes
    }
}

/// True if `dir` holds anything that would be a document (not only its sheet or markers).
pub fn holds_documents(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| entries.flatten().any(|e| !is_reserved(&e.path())))
}

/// Why the batch sheet in `dir` cannot be read, if it cannot (no sheet is no problem).
pub fn sheet_problem(dir: &Path) -> Option<String> {
    read_sheet(dir).err().map(|e| e.to_string())
}

/// Every key a batch sheet may hold (see `testdata/batch-sheet/batch.toml`).
pub const SHEET_KEYS: &[crate::schema::Key] = &[
    ("", "id", Kind::Text),
    ("", "operator", Kind::Text),
    ("", "profile", Kind::Text),
    ("", "scanned", Kind::DateTime),
    ("", "organisation", Kind::Text),
    ("", "scanner", Kind::Text),
    ("", "workstation", Kind::Text),
    ("", "procedure", Kind::Text),
    ("", "expected_documents", Kind::Integer),
    ("", "expected_pages", Kind::Integer),
    ("", "separation", Kind::Text),
    ("", "separation_pages", Kind::Integer),
    ("", "metadata", Kind::TextTable),
];

use crate::schema::Kind;

/// Reads `batch.toml` (none is an empty sheet); every problem in it is reported at once, each
/// with its line.
fn read_sheet(dir: &Path) -> Result<BatchSheet, BatchError> {
    let path = dir.join(SHEET);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BatchSheet::default()),
        Err(source) => return Err(BatchError::Read { path, source }),
    };
    let origin = path.display().to_string();
    let mut checked = crate::schema::check(&text, SHEET_KEYS, &[]);
    let mut problems: Vec<String> = checked.problems.iter().map(|p| p.render(&origin)).collect();
    let sheet = checked.table.take().and_then(|mut table| {
        // A TOML date-time is read as the text it was written as.
        if let Some(toml::Value::Datetime(d)) = table.get("scanned") {
            let text = d.to_string();
            table.insert("scanned".into(), toml::Value::String(text));
        }
        toml::Value::Table(table)
            .try_into::<BatchSheet>()
            .map_err(|e| problems.push(format!("{origin}: {}", e.message().trim())))
            .ok()
    });
    if let Some(text) = sheet.as_ref().and_then(|s| s.scanned.as_deref())
        && parse_scanned(text).is_none()
    {
        let line = checked.line_of("scanned");
        let at = line.map_or(String::new(), |l| format!(":{l}"));
        problems.push(format!(
            "{origin}{at}: scanned = {text:?} is not an RFC 3339 date-time; write it like \
             2026-11-20T09:30:00+01:00"
        ));
    }
    match sheet {
        Some(sheet) if problems.is_empty() => Ok(sheet),
        _ => Err(BatchError::Sheet { path, problems }),
    }
}

/// Refuses a symbolic link that leads out of the batch folder `root` (or nowhere).
fn inside(root: &Path, path: &Path) -> Result<(), BatchError> {
    match crate::decode::limits::link_out_of(root, path) {
        None => Ok(()),
        Some(target) => Err(BatchError::LinkOutside {
            path: path.to_path_buf(),
            target,
        }),
    }
}

/// Entries of `dir` in natural name order.
fn list(dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let read_err = |source| BatchError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = std::fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err)?;
    paths.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    Ok(paths)
}

fn document_folder(dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let mut files = list(dir)?;
    files.retain(|p| !file_name(p).starts_with('.'));
    if let Some(nested) = files.iter().find(|p| p.is_dir()) {
        return Err(BatchError::Nested { path: nested.clone() });
    }
    if files.is_empty() {
        return Err(BatchError::EmptyDocument {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// The newest modification time of `files`, to the second (the Unix epoch if none can be read).
pub(crate) fn newest_modification(files: &[PathBuf]) -> OffsetDateTime {
    let newest = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .max()
        .unwrap_or(std::time::UNIX_EPOCH);
    let date = OffsetDateTime::from(newest);
    date.replace_nanosecond(0).unwrap_or(date)
}

fn is_reserved(path: &Path) -> bool {
    let name = file_name(path);
    name == SHEET || name == READY || name == ERROR_TEXT || name == ERROR_JSON || name.starts_with('.')
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A document id from a file or folder name: the stem, or the whole name if the stem is taken.
fn unique_id(path: &Path, taken: &mut HashSet<String>) -> String {
    let stem = if path.is_dir() {
        file_name(path)
    } else {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut id = sanitize(&stem);
    if taken.contains(&id) {
        id = sanitize(&file_name(path).replace('.', "_"));
    }
    unique(id, taken)
}

/// `id`, or `id-2`, `id-3` … if it is taken; the result is taken from then on.
pub(crate) fn unique(id: String, taken: &mut HashSet<String>) -> String {
    let mut candidate = id.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    candidate
}

/// Keeps ASCII letters, digits, `.`, `_` and `-`; everything else becomes `_`.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "unnamed".into() } else { s }
}

/// Compares names so that digit runs compare by value: `p2` < `p10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return std::cmp::Ordering::Equal,
            (true, false) => return std::cmp::Ordering::Less,
            (false, true) => return std::cmp::Ordering::Greater,
            _ => {}
        }
        let (ra, rest_a) = run(a);
        let (rb, rest_b) = run(b);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = if digits(ra) && digits(rb) {
            let (ta, tb) = (ra.trim_start_matches('0'), rb.trim_start_matches('0'));
            ta.len()
                .cmp(&tb.len())
                .then(ta.cmp(tb))
                .then(ra.len().cmp(&rb.len()))
        } else {
            ra.cmp(rb)
        };
        if order.is_ne() {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
}

/// Splits off the leading run of digits or of non-digits.
fn run(s: &str) -> (&str, &str) {
    let digit = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s.find(|c: char| c.is_ascii_digit() != digit).unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_sheet_shows_every_key() {
        let text = EXAMPLE_SHEET;
        let sheet: BatchSheet = toml::from_str(text).unwrap();
        let BatchSheet {
            id,
            operator,
            profile,
            scanned,
            organisation,
            scanner,
            workstation,
            procedure,
            expected_documents,
            expected_pages,
            metadata,
            separation,
            separation_pages,
        } = sheet;
        assert!(
            [
                &id,
                &operator,
                &profile,
                &scanned,
                &organisation,
                &scanner,
                &workstation,
                &procedure
            ]
            .iter()
            .all(|v| v.is_some())
                && expected_documents.is_some()
                && expected_pages.is_some()
                && separation.is_some()
                && separation_pages.is_some()
                && !metadata.is_empty(),
            "testdata/batch-sheet/batch.toml must show every key"
        );
        assert!(parse_scanned(scanned.as_deref().unwrap()).is_some());
    }

    #[test]
    fn document_date_is_its_newest_file_to_the_second() {
        let dir = std::env::temp_dir().join(format!("scanwerk-dates-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let times = [1_795_163_400u64, 1_795_170_000];
        let mut files = Vec::new();
        for (i, t) in times.iter().enumerate() {
            let path = dir.join(format!("p{i}.png"));
            let file = std::fs::File::create(&path).unwrap();
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(t * 1000 + 700);
            file.set_modified(when).unwrap();
            files.push(path);
        }
        assert_eq!(newest_modification(&files).unix_timestamp(), 1_795_170_000);
        assert_eq!(newest_modification(&files).nanosecond(), 0);
        assert_eq!(newest_modification(&[dir.join("missing")]).unix_timestamp(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn natural_order() {
        let mut names = vec!["p10.tif", "p2.tif", "p1.tif", "p02b.tif", "a.tif"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, vec!["a.tif", "p1.tif", "p2.tif", "p02b.tif", "p10.tif"]);
    }

    #[test]
    fn sanitize_names() {
        assert_eq!(sanitize("Akte 12/ä.tif"), "Akte_12__.tif");
        assert_eq!(sanitize("..x"), "x");
        assert_eq!(sanitize(""), "unnamed");
    }

    #[test]
    fn folder_and_files_become_documents() {
        let dir = std::env::temp_dir().join(format!("scanwerk-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("akte")).unwrap();
        for f in [
            "akte/p10.png",
            "akte/p2.png",
            "brief.tif",
            "brief.png",
            ".hidden",
            "READY",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        std::fs::write(dir.join(SHEET), "id = \"B 1\"\noperator = \"Erika Muster\"\n").unwrap();
        let batch = Batch::open(&dir).unwrap();
        assert_eq!(batch.id, "B_1");
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, vec!["akte", "brief", "brief_tif"]);
        assert_eq!(batch.relative(&batch.documents[0].parts[0].file), "akte/p2.png");
        std::fs::write(dir.join(SHEET), "scanned = \"2026-11-20T09:30:00+01:00\"\n").unwrap();
        let dated = Batch::open(&dir).unwrap();
        assert_eq!(dated.documents[1].date.unix_timestamp(), 1_795_163_400);
        std::fs::write(dir.join(SHEET), "scanned = \"gestern\"\n").unwrap();
        let err = Batch::open(&dir).unwrap_err().to_string();
        assert!(err.contains("RFC 3339") && err.contains("gestern"), "{err}");
        std::fs::write(dir.join(SHEET), "operater = \"x\"\n").unwrap();
        let err = Batch::open(&dir).unwrap_err().to_string();
        assert!(err.contains("operater") && err.contains(SHEET), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
