//! A separator sheet leaves the document but not the evidence: its image (and its dropped back
//! side's) is written into the batch's `separators/` folder losslessly — a one-page file byte for
//! byte, a page of a multi-page file as a PNG of its pixels — with the protocol record saying what
//! was read on it and where it came from.

use std::collections::BTreeMap;

use super::{Mark, Separator};
use crate::batch::Batch;
use crate::decode::{self, InputLimits, Raster};
use crate::protocol::{SeparatorRecord, SheetBackRecord};

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
        let (bytes, extension) = kept_image(batch, &s.file, s.page, &s.file_sha256, limits)?;
        let (kind, code, symbology, edge, metadata) = match &s.mark {
            Mark::Patch { code, edge, .. } => (
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
                ..
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
        let back = match &s.back {
            Some(back) => {
                let (image, image_sha256) = if back.dropped {
                    let (bytes, extension) =
                        kept_image(batch, &back.file, back.page, &back.file_sha256, limits)?;
                    let image = format!("{}/{:04}.{extension}", crate::layout::SEPARATORS, back.position);
                    let sha256 = write(&image, &bytes).map_err(KeepError::Write)?;
                    (Some(image), Some(sha256))
                } else {
                    (None, None)
                };
                Some(SheetBackRecord {
                    position: back.position,
                    source: batch.relative(&back.file),
                    source_page: back.page + 1,
                    source_sha256: back.file_sha256.clone(),
                    dropped: back.dropped,
                    image,
                    image_sha256,
                })
            }
            None => None,
        };
        records.push(SeparatorRecord {
            position: s.position,
            source: rel,
            source_page: s.page + 1,
            source_sha256: s.file_sha256.clone(),
            kind: kind.into(),
            code,
            symbology,
            edge,
            metadata,
            next_document: s.next_document.clone(),
            read: s.mark.how(),
            back,
            image,
            image_sha256,
        });
    }
    Ok(records)
}

/// The image of page `page` of `file` as it is kept: a one-page file byte for byte, a page of
/// a multi-page file as a lossless PNG; refused if the file is no longer the one read.
fn kept_image<E>(
    batch: &Batch,
    file: &std::path::Path,
    page: u32,
    sha256: &str,
    limits: &InputLimits,
) -> Result<(Vec<u8>, &'static str), KeepError<E>> {
    let rel = batch.relative(file);
    let (source, pages) =
        decode::read_source(file, &rel, limits).map_err(|e| KeepError::Source(e.to_string()))?;
    let changed = || {
        KeepError::Source(format!(
            "{rel}: the file changed after its separator sheets were read; let nothing write into \
             the batch while it is processed, then run it again"
        ))
    };
    if source.digests.sha256 != sha256 {
        return Err(changed());
    }
    Ok(match &source.content {
        decode::Content::Whole(bytes) if pages == 1 => {
            let extension = match source.format {
                decode::Format::Png => "png",
                decode::Format::Jpeg => "jpg",
                decode::Format::Tiff => "tif",
                decode::Format::Pdf => "pdf",
            };
            (bytes.to_vec(), extension)
        }
        _ if pages == 1 => {
            let bytes = std::fs::read(file).map_err(|e| KeepError::Source(format!("{rel}: {e}")))?;
            if crate::seal::hash::sha256_hex(&bytes) != sha256 {
                return Err(changed());
            }
            let extension = if source.format == decode::Format::Pdf {
                "pdf"
            } else {
                "tif"
            };
            (bytes, extension)
        }
        _ => (
            png(&decode::open_page(&source, page, limits).map_err(|e| KeepError::Source(e.to_string()))?),
            "png",
        ),
    })
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
    use crate::profile::separation::PatchCode;
    use crate::separate::patch;

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
            frame: None,
        });
        std::fs::write(dir.join("s.png"), &sheet).unwrap();
        let batch = Batch::open(&dir).unwrap();
        let mut separator = Separator {
            position: 1,
            file: dir.join("s.png"),
            page: 0,
            file_sha256: crate::seal::hash::sha256_hex(&sheet),
            mark: Mark::Patch {
                code: PatchCode::T,
                edge: patch::Edge::Top,
                lines: 9,
            },
            next_document: None,
            back: None,
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
            frame: None,
        };
        let bytes = png(&page);
        let back = decode::png::decode(&bytes).unwrap();
        assert_eq!((back.width, back.height, back.dpi), (10, 2, page.dpi));
        assert_eq!(crate::prepare::gray(&back), crate::prepare::gray(&page));
    }
}
