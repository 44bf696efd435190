//! `manifest.json`: every published file of a batch with its size and digests, plus the key that
//! signs it. The signature in `manifest.sig` covers exactly these bytes.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::hash::Digests;
use super::sign::TrustedKey;

/// File format tag of the manifest: the output contract's.
pub const FORMAT: &str = crate::json::FORMAT;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub batch_id: String,
    pub signature: SignatureInfo,
    /// Sorted by path.
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureInfo {
    /// `ecdsa-p256-sha256`: ASN.1 DER signature in `manifest.sig` over the manifest bytes.
    pub algorithm: String,
    /// The signer's SubjectPublicKeyInfo, DER, base64.
    pub public_key: String,
    /// SHA-256 of that DER, hex.
    pub key_fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Relative to the batch folder, `/`-separated.
    pub path: String,
    #[serde(flatten)]
    pub digests: Digests,
}

impl Manifest {
    pub fn new(batch_id: &str, algorithm: &str, key: &TrustedKey, mut files: Vec<ManifestEntry>) -> Manifest {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Manifest {
            format: FORMAT.into(),
            batch_id: batch_id.into(),
            signature: SignatureInfo {
                algorithm: algorithm.into(),
                public_key: base64::engine::general_purpose::STANDARD.encode(&key.spki),
                key_fingerprint: key.fingerprint(),
            },
            files,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifest serialises");
        bytes.push(b'\n');
        bytes
    }

    /// The signer key recorded in the manifest, if it is a well-formed P-256 or P-384 key.
    pub fn signer(&self) -> Option<TrustedKey> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(&self.signature.public_key)
            .ok()?;
        TrustedKey::from_spki(&der)
    }
}
