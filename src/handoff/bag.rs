//! BagIt (RFC 8493, version 1.0): the published batch folder as a bag, so preservation systems
//! (Archivematica, state archives' ingest tools) take it and check it with standard tools
//! (`bagit.py --validate`). The batch as scanwerk seals it moves into `data/` unchanged — its own
//! `manifest.json` and signatures stay the seal — and the bag's tag files are written beside it:
//!
//! ```text
//! bagit.txt                 BagIt-Version: 1.0, Tag-File-Character-Encoding: UTF-8
//! bag-info.txt              Source-Organization, Bagging-Date, Payload-Oxum, External-Identifier
//!                           (the batch id), Bag-Software-Agent, Scanwerk-Layout
//! manifest-sha256.txt       every payload file (data/…) with its SHA-256, the same hashes as
//! manifest-sha512.txt       manifest.json states; and with SHA-512
//! tagmanifest-sha256.txt    the tag files above, with SHA-256 and SHA-512
//! tagmanifest-sha512.txt
//! data/                     the batch: documents/, protocol.json, report.html, hashtree.*, manifest.*
//! ```
//!
//! Every tag file is written beside its place, synced and renamed in, so a reader sees the old or
//! the new file; `refresh` writes them again after `timestamp attach` added files to the payload.

use std::io::Write;
use std::path::Path;

use crate::seal::Digests;

pub const DATA: &str = "data";
pub const BAGIT_TXT: &str = "bagit.txt";
pub const BAG_INFO: &str = "bag-info.txt";
const ALGORITHMS: [&str; 2] = ["sha256", "sha512"];

/// What `bag-info.txt` says besides the payload's size.
#[derive(Debug, Clone)]
pub struct BagInfo {
    pub source_organization: String,
    /// `YYYY-MM-DD`.
    pub bagging_date: String,
    pub external_identifier: String,
}

/// True if `dir` is a bag (has `bagit.txt`).
pub fn is_bag(dir: &Path) -> bool {
    dir.join(BAGIT_TXT).is_file()
}

/// The folder a published batch's files are in: `data/` of a bag, else the folder itself.
pub fn payload(dir: &Path) -> std::path::PathBuf {
    if is_bag(dir) {
        dir.join(DATA)
    } else {
        dir.to_path_buf()
    }
}

/// A manifest path as BagIt writes it: `%`, CR and LF percent-encoded.
fn encode(path: &str) -> String {
    path.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Writes `bytes` to `dir/name` beside it, synced, then renamed into place.
fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(format!(".{name}.part-{}", std::process::id()));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, dir.join(name))
}

/// Moves everything in `dir` into `dir/data/` and writes the bag's tag files.
pub fn make(dir: &Path, info: &BagInfo) -> std::io::Result<()> {
    let data = dir.join(DATA);
    std::fs::create_dir(&data)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() != DATA {
            std::fs::rename(entry.path(), data.join(entry.file_name()))?;
        }
    }
    replace_file(
        dir,
        BAGIT_TXT,
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )?;
    write_tags(dir, info)
}

/// Writes the payload manifests, `bag-info.txt` and the tag manifests from what `data/` holds.
fn write_tags(dir: &Path, info: &BagInfo) -> std::io::Result<()> {
    let payload = crate::archive::files_below(&dir.join(DATA))?;
    let mut manifests = [String::new(), String::new()];
    let (mut bytes, mut count) = (0u64, 0usize);
    for (rel, path) in &payload {
        let digests = Digests::of_file(path)?;
        bytes += digests.bytes;
        count += 1;
        for (manifest, hash) in manifests.iter_mut().zip([&digests.sha256, &digests.sha512]) {
            manifest.push_str(&format!("{hash}  {DATA}/{}\n", encode(rel)));
        }
    }
    for (algorithm, manifest) in ALGORITHMS.iter().zip(&manifests) {
        replace_file(dir, &format!("manifest-{algorithm}.txt"), manifest.as_bytes())?;
    }
    let bag_info = format!(
        "Source-Organization: {}\nBagging-Date: {}\nPayload-Oxum: {bytes}.{count}\nExternal-Identifier: {}\n\
         Bag-Software-Agent: scanwerk {} (BagIt 1.0 around a {} batch)\nScanwerk-Layout: bagit\n",
        one_line(&info.source_organization),
        info.bagging_date,
        one_line(&info.external_identifier),
        env!("CARGO_PKG_VERSION"),
        crate::json::FORMAT
    );
    replace_file(dir, BAG_INFO, bag_info.as_bytes())?;
    let mut tags = [String::new(), String::new()];
    let mut names = vec![BAGIT_TXT.to_string(), BAG_INFO.to_string()];
    names.extend(ALGORITHMS.iter().map(|a| format!("manifest-{a}.txt")));
    for name in &names {
        let digests = Digests::of_file(&dir.join(name))?;
        for (tag, hash) in tags.iter_mut().zip([&digests.sha256, &digests.sha512]) {
            tag.push_str(&format!("{hash}  {name}\n"));
        }
    }
    for (algorithm, tag) in ALGORITHMS.iter().zip(&tags) {
        replace_file(dir, &format!("tagmanifest-{algorithm}.txt"), tag.as_bytes())?;
    }
    crate::archive::sync_dir(dir)
}

/// A tag value on one line.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Writes the tag files again after files were added to `data/` (keeping bag-info's other values).
pub fn refresh(dir: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(dir.join(BAG_INFO))?;
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(String::from))
            .unwrap_or_default()
    };
    write_tags(
        dir,
        &BagInfo {
            source_organization: value("Source-Organization"),
            bagging_date: value("Bagging-Date"),
            external_identifier: value("External-Identifier"),
        },
    )
}

/// What is wrong with the bag at `dir`, as (file, problem): its declaration, every payload file
/// against both manifests (missing, unlisted, different), Payload-Oxum, the tag manifests.
pub fn check(dir: &Path) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    match std::fs::read_to_string(dir.join(BAGIT_TXT)) {
        Ok(text) if text.lines().next() == Some("BagIt-Version: 1.0") => {}
        _ => problems.push((BAGIT_TXT.into(), "is not a BagIt 1.0 declaration".into())),
    }
    let payload = match crate::archive::files_below(&dir.join(DATA)) {
        Ok(payload) => payload,
        Err(e) => return vec![(DATA.into(), format!("cannot be read: {e}"))],
    };
    let mut actual = std::collections::BTreeMap::new();
    let (mut bytes, mut count) = (0u64, 0usize);
    for (rel, path) in &payload {
        match Digests::of_file(path) {
            Ok(d) => {
                bytes += d.bytes;
                count += 1;
                actual.insert(format!("{DATA}/{}", encode(rel)), d);
            }
            Err(e) => problems.push((format!("{DATA}/{rel}"), format!("cannot be read: {e}"))),
        }
    }
    for (i, algorithm) in ALGORITHMS.iter().enumerate() {
        let name = format!("manifest-{algorithm}.txt");
        let listed = listing(dir, &name, &mut problems);
        for (path, digests) in &actual {
            let want = if i == 0 { &digests.sha256 } else { &digests.sha512 };
            match listed.get(path) {
                Some(hash) if hash == want => {}
                Some(_) => problems.push((path.clone(), format!("differs from its {algorithm} in {name}"))),
                None => problems.push((path.clone(), format!("not listed in {name}"))),
            }
        }
        for path in listed.keys().filter(|p| !actual.contains_key(*p)) {
            problems.push((path.clone(), format!("listed in {name} but missing")));
        }
        let tags = listing(dir, &format!("tagmanifest-{algorithm}.txt"), &mut problems);
        for (tag, hash) in &tags {
            let have = Digests::of_file(&dir.join(tag)).map(|d| if i == 0 { d.sha256 } else { d.sha512 });
            if have.as_ref().ok() != Some(hash) {
                problems.push((
                    tag.clone(),
                    format!("differs from its {algorithm} in tagmanifest-{algorithm}.txt"),
                ));
            }
        }
    }
    let info = std::fs::read_to_string(dir.join(BAG_INFO)).unwrap_or_default();
    if !info
        .lines()
        .any(|l| l == format!("Payload-Oxum: {bytes}.{count}"))
    {
        problems.push((BAG_INFO.into(), format!("Payload-Oxum is not {bytes}.{count}")));
    }
    problems
}

/// A manifest's lines as path → hash.
fn listing(
    dir: &Path,
    name: &str,
    problems: &mut Vec<(String, String)>,
) -> std::collections::BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
        problems.push((name.into(), "missing".into()));
        return Default::default();
    };
    text.lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(hash, path)| (path.trim_start().to_string(), hash.to_lowercase()))
        .collect()
}
