//! A source PDF's image XObject kept as it is: the stream bytes, the dictionary entries that give
//! them meaning, and the objects those refer to, made local so the writer can place them anew.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

/// Generation number marking a reference to [`SourceImage::objects`] (a local index), not to an
/// object of any file.
pub const LOCAL_GENERATION: u16 = u16::MAX;

/// An image XObject as the source file holds it: its stream bytes unchanged, the dictionary
/// entries that give them meaning, and the objects those refer to (ICC profiles, JBIG2 globals,
/// lookup tables), with references among them made local (see [`LOCAL_GENERATION`]).
#[derive(Debug)]
pub struct SourceImage {
    pub dict: Dictionary,
    pub data: Vec<u8>,
    pub objects: Vec<Object>,
}

/// Dictionary entries of an image that carry its meaning; everything else is left behind
/// (`/Interpolate` must be false in PDF/A, `/Name`, `/Length`, `/Metadata` are the file's).
const IMAGE_KEYS: [&[u8]; 8] = [
    b"Width",
    b"Height",
    b"BitsPerComponent",
    b"ColorSpace",
    b"Filter",
    b"DecodeParms",
    b"Decode",
    b"Intent",
];

/// The image stream as it is, with its meaningful entries and the objects they refer to.
pub(super) fn source_image(doc: &Document, stream: &Stream) -> Result<SourceImage, String> {
    let dict = &stream.dict;
    if dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Form") {
        return Err("it draws a form XObject, not an image; export the scan as one image per page".into());
    }
    if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
        return Err("the object it draws is not an image".into());
    }
    if dict.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false) {
        return Err("its image is a stencil mask (painted in a colour the page chooses), not a scan".into());
    }
    if dict.has(b"SMask") || dict.has(b"Mask") {
        return Err("its image has a transparency mask; a scan has none".into());
    }
    let mut out = SourceImage {
        dict: Dictionary::new(),
        data: stream.content.clone(),
        objects: Vec::new(),
    };
    let mut copied = std::collections::BTreeMap::new();
    for key in IMAGE_KEYS {
        if let Ok(value) = dict.get(key) {
            let local = localize(doc, value, &mut out.objects, &mut copied, 0)?;
            out.dict.set(key, local);
        }
    }
    out.dict.set("Type", "XObject");
    out.dict.set("Subtype", "Image");
    Ok(out)
}

/// `object` with every reference replaced by a local one into `objects`, copying what it
/// refers to (once).
fn localize(
    doc: &Document,
    object: &Object,
    objects: &mut Vec<Object>,
    copied: &mut std::collections::BTreeMap<ObjectId, u32>,
    depth: u32,
) -> Result<Object, String> {
    if depth > 16 {
        return Err("its image refers to objects nested too deeply".into());
    }
    Ok(match object {
        Object::Reference(id) => {
            if let Some(&local) = copied.get(id) {
                return Ok(Object::Reference((local, LOCAL_GENERATION)));
            }
            let local = objects.len() as u32;
            copied.insert(*id, local);
            objects.push(Object::Null);
            let target = doc
                .get_object(*id)
                .map_err(|e| format!("its image refers to a missing object: {e}"))?;
            objects[local as usize] = localize(doc, target, objects, copied, depth + 1)?;
            Object::Reference((local, LOCAL_GENERATION))
        }
        Object::Array(items) => Object::Array(
            items
                .iter()
                .map(|o| localize(doc, o, objects, copied, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Object::Dictionary(d) => Object::Dictionary(localize_dict(doc, d, objects, copied, depth)?),
        Object::Stream(s) => {
            let dict = localize_dict(doc, &s.dict, objects, copied, depth)?;
            Object::Stream(Stream::new(dict, s.content.clone()).with_compression(false))
        }
        other => other.clone(),
    })
}

fn localize_dict(
    doc: &Document,
    dict: &Dictionary,
    objects: &mut Vec<Object>,
    copied: &mut std::collections::BTreeMap<ObjectId, u32>,
    depth: u32,
) -> Result<Dictionary, String> {
    let mut out = Dictionary::new();
    for (key, value) in dict.iter() {
        out.set(key.clone(), localize(doc, value, objects, copied, depth + 1)?);
    }
    Ok(out)
}

/// An indexed image's palette: components of its base colour space, and the table.
pub(super) type Palette = (u8, Vec<u8>);

impl SourceImage {
    pub(super) fn local<'a>(&'a self, object: &'a Object) -> Option<&'a Object> {
        match object {
            Object::Reference((i, LOCAL_GENERATION)) => self.objects.get(*i as usize),
            other => Some(other),
        }
    }

    pub(super) fn int(&self, key: &[u8]) -> Option<i64> {
        self.dict
            .get(key)
            .ok()
            .and_then(|o| self.local(o))
            .and_then(|o| o.as_i64().ok())
    }

    /// The stream's filters, in decoding order.
    pub fn filters(&self) -> Vec<String> {
        match self.dict.get(b"Filter").ok().and_then(|f| self.local(f)) {
            Some(Object::Name(n)) => vec![String::from_utf8_lossy(n).into_owned()],
            Some(Object::Array(a)) => a
                .iter()
                .filter_map(|o| self.local(o).and_then(|o| o.as_name().ok()))
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn width(&self) -> u32 {
        self.int(b"Width").unwrap_or(0).clamp(0, u32::MAX as i64) as u32
    }

    pub fn height(&self) -> u32 {
        self.int(b"Height").unwrap_or(0).clamp(0, u32::MAX as i64) as u32
    }

    /// The decode parameters of filter `index` (a dictionary or one per filter).
    pub(super) fn parms(&self, index: usize) -> Option<&Dictionary> {
        match self.dict.get(b"DecodeParms").ok().and_then(|p| self.local(p))? {
            Object::Dictionary(d) => Some(d),
            Object::Array(a) => a
                .get(index)
                .and_then(|p| self.local(p))
                .and_then(|p| p.as_dict().ok()),
            _ => None,
        }
    }

    /// The colour space's components and, for `/Indexed`, the palette (entries of the base space).
    pub(super) fn colour(&self) -> Result<(u8, Option<Palette>), String> {
        let space = self
            .dict
            .get(b"ColorSpace")
            .ok()
            .and_then(|c| self.local(c))
            .ok_or("the image has no colour space")?;
        self.components(space, 0)
    }

    fn components(&self, space: &Object, depth: u32) -> Result<(u8, Option<Palette>), String> {
        let unsupported = || {
            format!(
                "its colour space ({}) is not one scanwerk reads (grey, RGB, ICC-based, indexed); set the \
                 scanner to grey or colour (RGB) output",
                describe(space)
            )
        };
        match space {
            Object::Name(n) if n == b"DeviceGray" || n == b"CalGray" => Ok((1, None)),
            Object::Name(n) if n == b"DeviceRGB" || n == b"CalRGB" => Ok((3, None)),
            Object::Array(a) if depth < 4 => {
                let kind = a.first().and_then(|k| k.as_name().ok()).unwrap_or(b"");
                match kind {
                    b"ICCBased" => {
                        let stream = a
                            .get(1)
                            .and_then(|s| self.local(s))
                            .and_then(|s| s.as_stream().ok());
                        match stream
                            .and_then(|s| s.dict.get(b"N").ok())
                            .and_then(|n| n.as_i64().ok())
                        {
                            Some(1) => Ok((1, None)),
                            Some(3) => Ok((3, None)),
                            _ => Err(unsupported()),
                        }
                    }
                    b"CalGray" => Ok((1, None)),
                    b"CalRGB" => Ok((3, None)),
                    b"Indexed" => {
                        let base = a.get(1).and_then(|b| self.local(b)).ok_or_else(unsupported)?;
                        let (n, _) = self.components(base, depth + 1)?;
                        let table = match a.get(3).and_then(|t| self.local(t)) {
                            Some(Object::String(s, _)) => s.clone(),
                            Some(Object::Stream(s)) => s.decompressed_content().map_err(|e| e.to_string())?,
                            _ => return Err(unsupported()),
                        };
                        Ok((1, Some((n, table))))
                    }
                    _ => Err(unsupported()),
                }
            }
            _ => Err(unsupported()),
        }
    }
}

fn describe(space: &Object) -> String {
    match space {
        Object::Name(n) => String::from_utf8_lossy(n).into_owned(),
        Object::Array(a) => a
            .first()
            .and_then(|k| k.as_name().ok())
            .map_or("an array".into(), |k| String::from_utf8_lossy(k).into_owned()),
        _ => "unknown".into(),
    }
}
