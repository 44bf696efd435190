//! The destruction release (Vernichtungsfreigabe): a signed list of the batches whose paper may be
//! destroyed, with each document's physical identification so the paper can be found.
//!
//! `<archive>/.releases/<release-id>.json` and `.sig` (ECDSA, DER, over the JSON file's bytes;
//! `openssl dgst -sha256 -verify signing-key.pub.pem -signature <id>.sig <id>.json`).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::seal::SigningKey;

/// The folder below the archive that holds the releases.
pub const RELEASES: &str = ".releases";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub format: String,
    pub release_id: String,
    /// RFC 3339.
    pub issued: String,
    /// The person who releases the paper (`--by`).
    pub by: String,
    /// Account and host that wrote the release.
    pub recorded_by: String,
    pub statement: String,
    pub batches: Vec<ReleasedBatch>,
    pub public_key: String,
    pub key_fingerprint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleasedBatch {
    pub batch_id: String,
    pub manifest_sha256: String,
    pub protection: String,
    pub sealed: String,
    /// Each condition that was met, with what showed it.
    pub conditions: Vec<(String, String)>,
    pub received_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_reference: Option<String>,
    /// The batch sheet's metadata (e.g. `box`, `file_number`, `department`).
    pub metadata: std::collections::BTreeMap<String, String>,
    pub documents: Vec<ReleasedDocument>,
    /// Documents set aside at ingest (not in the archive): their paper is **not** released.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_released: Vec<ReleasedDocument>,
}

/// One document's paper: where to find it and what it was scanned from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleasedDocument {
    pub id: String,
    pub pages: usize,
    /// The document's own metadata (e.g. the `file_number` read from its separator sheet).
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The scanned files, relative to the batch folder.
    pub sources: Vec<String>,
}

/// Writes `batches` as a signed release into `<archive>/.releases/`; returns its path.
pub fn write(
    archive: &Path,
    by: &str,
    batches: Vec<ReleasedBatch>,
    key: &SigningKey,
) -> std::io::Result<(PathBuf, Release)> {
    let issued = crate::json::now_rfc3339();
    let ids: Vec<&str> = batches.iter().map(|b| b.batch_id.as_str()).collect();
    let digest = crate::seal::hash::sha256_hex(ids.join("\n").as_bytes());
    let stamp: String = issued.chars().filter(char::is_ascii_alphanumeric).collect();
    let release_id = format!("release-{stamp}-{}", &digest[..8]);
    let public = key.public();
    let release = Release {
        format: crate::json::FORMAT.into(),
        release_id: release_id.clone(),
        issued,
        by: by.trim().into(),
        recorded_by: format!(
            "{}@{}",
            crate::config::current_user(),
            gethostname::gethostname().to_string_lossy()
        ),
        statement: format!(
            "The paper originals of the {} batch(es) listed are released for destruction: each was \
             sealed, verifies, was reviewed as its protection level requires, carries the time \
             stamp its level requires, and the archive has confirmed receiving it.",
            batches.len()
        ),
        batches,
        public_key: base64::engine::general_purpose::STANDARD.encode(&public.spki),
        key_fingerprint: public.fingerprint(),
    };
    let dir = archive.join(RELEASES);
    std::fs::create_dir_all(&dir)?;
    let bytes = crate::json::to_json(&release);
    let path = dir.join(format!("{release_id}.json"));
    for (name, content) in [
        (
            format!("{release_id}.sig"),
            key.sign(&bytes).map_err(std::io::Error::other)?,
        ),
        (format!("{release_id}.json"), bytes),
    ] {
        crate::archive::add_to_published(&dir, &name, &content).map_err(std::io::Error::other)?;
    }
    Ok((path, release))
}

/// The release ids (file stems) that name `batch_id`, oldest first.
pub fn releases_of(archive: &Path, batch_id: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(archive.join(RELEASES))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| serde_json::from_slice::<Release>(&std::fs::read(&p).ok()?).ok())
        .filter(|r| r.batches.iter().any(|b| b.batch_id == batch_id))
        .map(|r| r.release_id)
        .collect();
    found.sort();
    found
}
