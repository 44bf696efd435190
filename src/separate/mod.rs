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
pub mod patch;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::batch::{Batch, DocumentSource, Part};
use crate::decode::InputLimits;
use crate::decode::{self, Raster};
use crate::profile::separation::{Mode, PatchCode, Settings, Symbology};
use crate::protocol::SeparatorRecord;

/// What marked a page as a separator sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    Patch {
        code: PatchCode,
        edge: patch::Edge,
    },
    Barcode {
        symbology: Symbology,
        text: String,
        /// The pattern's named groups.
        metadata: BTreeMap<String, String>,
    },
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
                stream.extend((0..pages).map(|page| (file.clone(), page, None)));
            }
            split(stream, |n| n > 0 && n % settings.pages as usize == 0)
        }
        _ => {
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
            let classified = classified.into_iter().map(|(_, _, pages)| pages);
            let stream: Vec<StreamPage> = classified.into_iter().flatten().collect();
            tracing::info!(
                batch = %batch.id,
                pages = stream.len(),
                sheets = stream.iter().filter(|p| p.2.is_some()).count(),
                seconds = started.elapsed().as_secs_f64(),
                "separator sheets read"
            );
            let (documents, mut separators) = split(stream, |_| false);
            for (separator, _) in &mut separators {
                separator.file_sha256 = hashes.get(&separator.file).cloned().unwrap_or_default();
            }
            (documents, separators)
        }
    };
    let scanned = batch.scanned();
    let mut taken = HashSet::new();
    let mut ids = Vec::new();
    batch.documents = documents
        .into_iter()
        .enumerate()
        .map(|(i, (parts, metadata))| {
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
            }
        })
        .collect();
    Ok(separators
        .into_iter()
        .map(|(mut s, doc)| {
            s.next_document = doc.map(|d| ids[d].clone());
            s
        })
        .collect())
}

/// One page of the stream: where it is and, for a separator sheet, what marks it.
type StreamPage = (PathBuf, u32, Option<Mark>);
type Documents = Vec<(Vec<Part>, BTreeMap<String, String>)>;

/// Cuts the stream at separator sheets, and wherever `cut(pages so far)` says.
fn split(
    stream: Vec<StreamPage>,
    cut: impl Fn(usize) -> bool,
) -> (Documents, Vec<(Separator, Option<usize>)>) {
    let mut documents: Documents = Vec::new();
    let mut separators = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut metadata = BTreeMap::new();
    let mut pages_in_document = 0;
    let mut waiting: Vec<usize> = Vec::new();
    let mut close = |parts: &mut Vec<Part>,
                     metadata: &mut BTreeMap<String, String>,
                     waiting: &mut Vec<usize>,
                     separators: &mut Vec<(Separator, Option<usize>)>| {
        if !parts.is_empty() {
            documents.push((std::mem::take(parts), std::mem::take(metadata)));
            let doc = documents.len() - 1;
            // The sheets just before a document begin it; of several in a row only the last does.
            if let Some(&last) = waiting.last() {
                separators[last].1 = Some(doc);
            }
        }
        waiting.clear();
    };
    for (position, (file, page, mark)) in stream.into_iter().enumerate() {
        match mark {
            Some(mark) => {
                close(&mut parts, &mut metadata, &mut waiting, &mut separators);
                pages_in_document = 0;
                if let Mark::Barcode { metadata: values, .. } = &mark {
                    metadata = values.clone();
                }
                waiting.push(separators.len());
                separators.push((
                    Separator {
                        position: position as u32 + 1,
                        file,
                        page,
                        file_sha256: String::new(),
                        mark,
                        next_document: None,
                    },
                    None,
                ));
            }
            None => {
                if cut(pages_in_document) {
                    close(&mut parts, &mut metadata, &mut waiting, &mut separators);
                    pages_in_document = 0;
                }
                match parts.last_mut() {
                    Some(part) if part.file == file && part.pages.end == page => part.pages.end += 1,
                    _ => parts.push(Part {
                        file,
                        pages: page..page + 1,
                    }),
                }
                pages_in_document += 1;
            }
        }
    }
    close(&mut parts, &mut metadata, &mut waiting, &mut separators);
    (documents, separators)
}

/// Reads every page of `file` and tells which are separator sheets; with the file's SHA-256.
fn classify_file(
    batch: &Batch,
    file: &std::path::Path,
    settings: &Settings,
    limits: &InputLimits,
) -> Result<(PathBuf, String, Vec<StreamPage>), SeparateError> {
    let rel = batch.relative(file);
    let (source, pages) = decode::read_source(file, &rel, limits).map_err(SeparateError::Page)?;
    let stream = (0..pages)
        .into_par_iter()
        .map(|index| {
            let page = decode::open_page(&source, index, limits).map_err(SeparateError::Page)?;
            Ok((file.to_path_buf(), index, examine(&page, settings)))
        })
        .collect::<Result<Vec<_>, SeparateError>>()?;
    Ok((file.to_path_buf(), source.digests.sha256.clone(), stream))
}

/// Whether a page is a separator sheet, and what marks it.
pub fn examine(page: &decode::Page, settings: &Settings) -> Option<Mark> {
    let gray = crate::prepare::gray(page);
    let (width, height) = (page.width as usize, page.height as usize);
    if settings.mode.patch() {
        let dpi = page.dpi.map(|(x, y)| x.min(y));
        if let Some(found) = patch::detect(&gray, width, height, dpi)
            && settings.patch_codes.contains(&found.code)
        {
            return Some(Mark::Patch {
                code: found.code,
                edge: found.edge,
            });
        }
    }
    if settings.mode.barcode() {
        for code in barcode::read(&gray, width, height, &settings.symbologies) {
            if let Some(captures) = settings.barcode_pattern.captures(&code.text) {
                let metadata = settings
                    .barcode_pattern
                    .capture_names()
                    .flatten()
                    .filter_map(|name| Some((name.to_string(), captures.name(name)?.as_str().to_string())))
                    .collect();
                return Some(Mark::Barcode {
                    symbology: code.symbology,
                    text: code.text,
                    metadata,
                });
            }
        }
    }
    None
}

/// Why a separator sheet's image was not kept.
#[derive(Debug)]
pub enum KeepError<E> {
    /// Its source file cannot be read again, or is no longer the file the sheet was read from.
    Source(String),
    /// Writing the image failed.
    Write(E),
}

/// Writes each separator sheet's image into `dir/separators/` and returns the protocol records.
/// A sheet that is a file of its own is kept as that file, byte for byte; a page of a multi-page
/// file is kept as a PNG of its decoded pixels (lossless).
pub fn keep<E>(
    batch: &Batch,
    separators: &[Separator],
    limits: &InputLimits,
    mut write: impl FnMut(&str, &[u8]) -> Result<String, E>,
) -> Result<Vec<SeparatorRecord>, KeepError<E>> {
    let mut records = Vec::new();
    for s in separators {
        let rel = batch.relative(&s.file);
        let (source, pages) =
            decode::read_source(&s.file, &rel, limits).map_err(|e| KeepError::Source(e.to_string()))?;
        let changed = || {
            format!(
                "{rel}: the file changed after its separator sheets were read; let nothing write into \
                 the batch while it is processed, then run it again"
            )
        };
        if source.digests.sha256 != s.file_sha256 {
            return Err(KeepError::Source(changed()));
        }
        let (bytes, extension) = match &source.content {
            decode::Content::Whole(bytes) if pages == 1 => {
                let extension = match source.format {
                    decode::Format::Png => "png",
                    decode::Format::Jpeg => "jpg",
                    decode::Format::Tiff => "tif",
                };
                (bytes.to_vec(), extension)
            }
            _ if pages == 1 => {
                let bytes = std::fs::read(&s.file).map_err(|e| KeepError::Source(format!("{rel}: {e}")))?;
                if crate::seal::hash::sha256_hex(&bytes) != s.file_sha256 {
                    return Err(KeepError::Source(changed()));
                }
                (bytes, "tif")
            }
            _ => (
                png(&decode::open_page(&source, s.page, limits)
                    .map_err(|e| KeepError::Source(e.to_string()))?),
                "png",
            ),
        };
        let (kind, code, symbology, edge, metadata) = match &s.mark {
            Mark::Patch { code, edge } => (
                "patch-code",
                code.name().to_string(),
                None,
                Some(edge.name().to_string()),
                BTreeMap::new(),
            ),
            Mark::Barcode {
                symbology,
                text,
                metadata,
            } => (
                "barcode",
                text.clone(),
                Some(symbology.name().to_string()),
                None,
                metadata.clone(),
            ),
        };
        let image = format!("{}/{:04}.{extension}", crate::layout::SEPARATORS, s.position);
        let image_sha256 = write(&image, &bytes).map_err(KeepError::Write)?;
        records.push(SeparatorRecord {
            position: s.position,
            source: rel,
            source_page: s.page + 1,
            source_sha256: source.digests.sha256.clone(),
            kind: kind.into(),
            code,
            symbology,
            edge,
            metadata,
            next_document: s.next_document.clone(),
            image,
            image_sha256,
        });
    }
    Ok(records)
}

/// The page's pixels as a PNG, in the raster's own form (1-bit, 8/16-bit grey, RGB).
fn png(page: &decode::Page) -> Vec<u8> {
    let (colour, depth, data): (png::ColorType, png::BitDepth, std::borrow::Cow<'_, [u8]>) =
        match &page.raster {
            Raster::Bilevel(bits) => (png::ColorType::Grayscale, png::BitDepth::One, bits.into()),
            Raster::Gray8(v) => (png::ColorType::Grayscale, png::BitDepth::Eight, v.into()),
            Raster::Rgb8(v) => (png::ColorType::Rgb, png::BitDepth::Eight, v.into()),
            Raster::Gray16(v) => (
                png::ColorType::Grayscale,
                png::BitDepth::Sixteen,
                be_bytes(v).into(),
            ),
            Raster::Rgb16(v) => (png::ColorType::Rgb, png::BitDepth::Sixteen, be_bytes(v).into()),
        };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, page.width, page.height);
    encoder.set_color(colour);
    encoder.set_depth(depth);
    if let Some((x, y)) = page.dpi {
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: (x / 0.0254).round() as u32,
            yppu: (y / 0.0254).round() as u32,
            unit: png::Unit::Meter,
        }));
    }
    let mut writer = encoder.write_header().expect("a PNG header in memory");
    writer.write_image_data(&data).expect("PNG data in memory");
    writer.finish().expect("a PNG in memory");
    out
}

fn be_bytes(samples: &[u16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    fn page(file: &str, page: u32, mark: Option<Mark>) -> StreamPage {
        (PathBuf::from(file), page, mark)
    }

    fn sheet(value: &str) -> Option<Mark> {
        Some(Mark::Barcode {
            symbology: Symbology::Code128,
            text: value.into(),
            metadata: BTreeMap::from([("file_number".to_string(), value.to_string())]),
        })
    }

    fn patch_t() -> Option<Mark> {
        Some(Mark::Patch {
            code: PatchCode::T,
            edge: patch::Edge::Top,
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
        let (documents, separators) = split(stream, |_| false);
        assert_eq!(documents.len(), 3);
        let ranges: Vec<Vec<(String, Range<u32>)>> = documents
            .iter()
            .map(|(parts, _)| {
                parts
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
        assert_eq!(documents[1].1["file_number"], "AZ-1");
        assert!(documents[2].1.is_empty(), "a patch sheet carries no metadata");
        let positions: Vec<(u32, Option<usize>)> = separators.iter().map(|(s, d)| (s.position, *d)).collect();
        // Two sheets in a row: the second begins the document; a sheet at the end begins none.
        assert_eq!(positions, vec![(3, Some(1)), (6, None), (7, Some(2)), (9, None)]);
    }

    #[test]
    fn fixed_pages_cut_every_n() {
        let stream: Vec<StreamPage> = (0..7).map(|i| page("stack.tif", i, None)).collect();
        let (documents, separators) = split(stream, |n| n > 0 && n % 3 == 0);
        let sizes: Vec<u32> = documents.iter().map(|(p, _)| p[0].pages.len() as u32).collect();
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
        let mark = examine(&realscan("naps2/skewed.jpg"), &settings);
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
            assert_eq!(examine(&realscan(name), &settings), None, "{name}");
        }
    }

    #[test]
    fn a_sheet_is_kept_byte_for_byte_unless_its_file_changed_since_it_was_read() {
        let dir = std::env::temp_dir().join(format!("scanwerk-keep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sheet = png(&decode::Page {
            width: 8,
            height: 1,
            dpi: Some((300.0, 300.0)),
            raster: Raster::Gray8(vec![0, 255, 0, 255, 0, 255, 0, 255]),
            passthrough: None,
            notes: vec![],
        });
        std::fs::write(dir.join("s.png"), &sheet).unwrap();
        let batch = Batch::open(&dir).unwrap();
        let mut separator = Separator {
            position: 1,
            file: dir.join("s.png"),
            page: 0,
            file_sha256: crate::seal::hash::sha256_hex(&sheet),
            mark: patch_t().unwrap(),
            next_document: None,
        };
        let mut kept = Vec::new();
        let records = keep(
            &batch,
            std::slice::from_ref(&separator),
            &InputLimits::default(),
            |rel, bytes| {
                kept.push((rel.to_string(), bytes.to_vec()));
                Ok::<_, ()>(crate::seal::hash::sha256_hex(bytes))
            },
        )
        .unwrap();
        assert_eq!(kept, vec![("separators/0001.png".to_string(), sheet.clone())]);
        assert_eq!(
            (records[0].kind.as_str(), records[0].code.as_str()),
            ("patch-code", "T")
        );
        assert_eq!(records[0].image_sha256, records[0].source_sha256);
        separator.file_sha256 = "0".repeat(64);
        let err = keep(&batch, &[separator], &InputLimits::default(), |_, _| {
            Ok::<_, ()>(String::new())
        });
        assert!(
            matches!(&err, Err(KeepError::Source(m)) if m.contains("s.png: the file changed")),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn kept_pages_are_lossless_pngs() {
        let page = decode::Page {
            width: 10,
            height: 2,
            dpi: Some((300.0, 300.0)),
            raster: Raster::Bilevel(vec![0b1010_1010, 0b1100_0000, 0xff, 0x00]),
            passthrough: None,
            notes: vec![],
        };
        let bytes = png(&page);
        let back = decode::png::decode(&bytes).unwrap();
        assert_eq!((back.width, back.height, back.dpi), (10, 2, page.dpi));
        assert_eq!(crate::prepare::gray(&back), crate::prepare::gray(&page));
    }
}
