//! The archive's receipt for a batch (TR-RESISCAN A.T.4, REQUIREMENTS item 16): the archive
//! system (or its operator) confirms it has taken the batch as sealed. The input is kept until a
//! receipt exists, and no paper is released for destruction without one.
//!
//! `<archive>/<batch-id>.receipt.json`, next to the batch folder and outside its seal:
//!
//! ```json
//! {"format": "scanwerk/2", "batch_id": "bauakte-0815",
//!  "manifest_sha256": "<SHA-256 of the batch's data/manifest.json>",
//!  "received_by": "DMS Landesarchiv", "reference": "LA-2026-4711",
//!  "time": "2026-11-30T10:00:00Z"}
//! ```
//!
//! An archive system may write this file itself (the five fields; `reference` optional).
//! `scanwerk receipt` writes it with `recorded_by` (account and host), the signer's public key
//! (`public_key`, `key_fingerprint`) and `<batch-id>.receipt.sig`: ECDSA (DER) over the JSON
//! file's bytes, checked by `openssl dgst -sha256 -verify key.pub.pem -signature … …`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::archive::batch_id_of as batch_id;
use crate::seal::hash::sha256_hex;
use crate::seal::{SigningKey, TrustedKey};

/// A receipt as the file holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Receipt {
    pub format: String,
    pub batch_id: String,
    pub manifest_sha256: String,
    pub received_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// RFC 3339.
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// `<archive>/<batch-id>.receipt.json` for the batch folder `batch`.
pub fn receipt_path(batch: &Path) -> PathBuf {
    sibling(batch, ".receipt.json")
}

/// `<archive>/<batch-id>.receipt.sig`.
pub fn signature_path(batch: &Path) -> PathBuf {
    sibling(batch, ".receipt.sig")
}

fn sibling(batch: &Path, suffix: &str) -> PathBuf {
    let mut name = batch.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    batch.with_file_name(name)
}

/// SHA-256 of the batch's `manifest.json`: what the receipt confirms.
pub fn manifest_sha256(batch: &Path) -> Result<String, ReceiptError> {
    let path = super::bag::payload(batch).join(crate::layout::MANIFEST);
    std::fs::read(&path)
        .map(|bytes| sha256_hex(&bytes))
        .map_err(|source| ReceiptError::Io { path, source })
}

/// Writes the signed receipt for `batch` (which the caller has verified). Never replaces one.
pub fn write(
    batch: &Path,
    received_by: &str,
    reference: Option<&str>,
    key: &SigningKey,
) -> Result<Receipt, ReceiptError> {
    if received_by.trim().is_empty() {
        return Err(ReceiptError::Refused(
            "say who took the batch: --from NAME (the archive system or its operator)".into(),
        ));
    }
    let path = receipt_path(batch);
    if let Ok(existing) = read(batch) {
        return Err(ReceiptError::Refused(format!(
            "{} has a receipt already, from {} at {}; a receipt is never replaced",
            batch_id(batch),
            existing.received_by,
            existing.time
        )));
    }
    let public = key.public();
    let receipt = Receipt {
        format: crate::json::FORMAT.into(),
        batch_id: batch_id(batch),
        manifest_sha256: manifest_sha256(batch)?,
        received_by: received_by.trim().into(),
        reference: reference.map(str::to_string),
        time: crate::json::now_rfc3339(),
        recorded_by: Some(format!(
            "{}@{}",
            crate::config::current_user(),
            gethostname::gethostname().to_string_lossy()
        )),
        public_key: Some(base64::engine::general_purpose::STANDARD.encode(&public.spki)),
        key_fingerprint: Some(public.fingerprint()),
    };
    let bytes = crate::json::to_json(&receipt);
    let signature = signature_path(batch);
    let signed = key
        .sign(&bytes)
        .map_err(|e| ReceiptError::Refused(e.to_string()))?;
    match write_new(&signature, &signed) {
        Err(ReceiptError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ReceiptError::Refused(format!(
                "{} exists: another receipt for {} is being written (or one was left half-written by a crash: then remove that file)",
                signature.display(),
                batch_id(batch)
            )));
        }
        other => other?,
    }
    write_new(&path, &bytes)?;
    Ok(receipt)
}

/// Creates `path` with `bytes` beside the batch (synced, renamed in without replacing a file):
/// never two receipts, never a half-written one.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ReceiptError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let dir = path.parent().unwrap_or(Path::new("."));
    match crate::archive::add_to_published(dir, &name, bytes) {
        Ok(_) => Ok(()),
        Err(crate::archive::ArchiveError::Write { path, source }) => Err(ReceiptError::Io { path, source }),
        Err(other) => Err(ReceiptError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        }),
    }
}

/// Reads the receipt of `batch`, without checking it.
pub fn read(batch: &Path) -> Result<Receipt, ReceiptError> {
    read_with_bytes(batch).map(|(receipt, _)| receipt)
}

/// The receipt of `batch` and the file's bytes (what a signature covers).
fn read_with_bytes(batch: &Path) -> Result<(Receipt, Vec<u8>), ReceiptError> {
    let path = receipt_path(batch);
    let bytes = std::fs::read(&path).map_err(|source| ReceiptError::Io {
        path: path.clone(),
        source,
    })?;
    let receipt = serde_json::from_slice(&bytes)
        .map_err(|e| ReceiptError::Refused(format!("{} is not a receipt: {e}", path.display())))?;
    Ok((receipt, bytes))
}

/// Checks the receipt of `batch`: for this batch, for its manifest as it is now, and, where
/// signed, signed by the key it names (and by `trust`, if given).
pub fn check(batch: &Path, trust: Option<&TrustedKey>) -> Result<Receipt, String> {
    let path = receipt_path(batch);
    if !path.exists() {
        return Err(format!("no receipt ({} does not exist)", path.display()));
    }
    let (receipt, bytes) = read_with_bytes(batch).map_err(|e| e.to_string())?;
    if receipt.batch_id != batch_id(batch) {
        return Err(format!("the receipt is for batch {}", receipt.batch_id));
    }
    let manifest = manifest_sha256(batch).map_err(|e| e.to_string())?;
    if receipt.manifest_sha256 != manifest {
        return Err(format!(
            "the receipt confirms manifest {}, the batch's manifest is {manifest}: the archive took another state of the batch",
            receipt.manifest_sha256
        ));
    }
    let signature = signature_path(batch);
    if let Ok(der) = std::fs::read(&signature) {
        let key = receipt
            .public_key
            .as_deref()
            .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
            .and_then(|der| TrustedKey::from_spki(&der))
            .ok_or("the signed receipt names no valid public key")?;
        if !key.verify(&bytes, &der) {
            return Err(format!("{} does not verify", signature.display()));
        }
        if let Some(trusted) = trust
            && trusted != &key
        {
            return Err(format!(
                "the receipt is signed by key {}, not by the trusted key {}",
                key.fingerprint(),
                trusted.fingerprint()
            ));
        }
    }
    Ok(receipt)
}
