//! Keys and signatures: ECDSA P-256 with SHA-256 (ring), keys as PKCS#8 / SPKI in PEM.
//!
//! The private key is PKCS#8 (what `openssl pkey` reads), the public key a SubjectPublicKeyInfo,
//! and signatures are ASN.1 DER, so `openssl dgst -sha256 -verify` checks them independently.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};

use super::hash::sha256_hex;

/// DER prefix of a P-256 SubjectPublicKeyInfo: algorithm id-ecPublicKey + prime256v1, then the
/// BIT STRING header for a 65-byte uncompressed point.
const SPKI_P256_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "key {path} is not an ECDSA P-256 private key in PKCS#8 (PEM or DER); \
         make one with `scanwerk keygen --out DIR`"
    )]
    NotP256Pkcs8 { path: PathBuf },
    #[error("public key {path} is not a P-256 public key (PEM \"PUBLIC KEY\" or DER SPKI)")]
    NotP256Public { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    #[error("the system random generator failed")]
    Random,
}

/// A loaded ECDSA P-256 signing key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

/// A public key that signatures are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
}

impl SigningKey {
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
        let der = pem_decode(&bytes, "PRIVATE KEY").unwrap_or(bytes);
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &der, &rng)
            .map_err(|_| KeyError::NotP256Pkcs8 { path: path.into() })?;
        Ok(SigningKey { pair, rng })
    }

    /// DER signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let sig = self.pair.sign(&self.rng, message).map_err(|_| KeyError::Random)?;
        Ok(sig.as_ref().to_vec())
    }

    pub fn public(&self) -> TrustedKey {
        TrustedKey::from_point(self.pair.public_key().as_ref())
    }
}

impl TrustedKey {
    fn from_point(point: &[u8]) -> TrustedKey {
        let mut spki = SPKI_P256_PREFIX.to_vec();
        spki.extend_from_slice(point);
        TrustedKey { spki }
    }

    /// Reads a PEM or DER public key.
    pub fn load(path: &Path) -> Result<TrustedKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
        let der = pem_decode(&bytes, "PUBLIC KEY").unwrap_or(bytes);
        TrustedKey::from_spki(&der).ok_or(KeyError::NotP256Public { path: path.into() })
    }

    pub fn from_spki(der: &[u8]) -> Option<TrustedKey> {
        let ok = der.len() == SPKI_P256_PREFIX.len() + 65 && der.starts_with(&SPKI_P256_PREFIX);
        ok.then(|| TrustedKey { spki: der.to_vec() })
    }

    /// SHA-256 of the SPKI, hex: how operators and the protocol name a key.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.spki)
    }

    pub fn to_pem(&self) -> String {
        pem_encode(&self.spki, "PUBLIC KEY")
    }

    pub fn verify(&self, message: &[u8], signature_der: &[u8]) -> bool {
        let point = &self.spki[SPKI_P256_PREFIX.len()..];
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
            .verify(message, signature_der)
            .is_ok()
    }
}

/// Paths written by [`keygen`].
pub struct KeyFiles {
    pub private: PathBuf,
    pub public: PathBuf,
    pub fingerprint: String,
}

/// Generates a P-256 key pair into `dir` as `signing-key.pem` (0600) and `signing-key.pub.pem`.
pub fn keygen(dir: &Path) -> Result<KeyFiles, KeyError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let private = dir.join("signing-key.pem");
    let public = dir.join("signing-key.pub.pem");
    for p in [&private, &public] {
        if p.exists() {
            return Err(KeyError::Exists(p.clone()));
        }
    }
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| KeyError::Random)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&private)
        .map_err(write_err(&private))?;
    file.write_all(pem_encode(pkcs8.as_ref(), "PRIVATE KEY").as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(write_err(&private))?;
    let key = SigningKey::load(&private)?.public();
    std::fs::write(&public, key.to_pem()).map_err(write_err(&public))?;
    Ok(KeyFiles {
        private,
        public,
        fingerprint: key.fingerprint(),
    })
}

fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside a PEM block with `label`, or `None` if `bytes` is not such PEM.
fn pem_decode(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_sign_verify_roundtrip() {
        let dir = std::env::temp_dir().join(format!("scanwerk-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = keygen(&dir).unwrap();
        let mode = std::fs::metadata(&files.private).unwrap().permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
        let key = SigningKey::load(&files.private).unwrap();
        let public = TrustedKey::load(&files.public).unwrap();
        assert_eq!(public, key.public());
        let sig = key.sign(b"manifest").unwrap();
        assert!(public.verify(b"manifest", &sig));
        assert!(!public.verify(b"manifesT", &sig));
        assert!(matches!(keygen(&dir), Err(KeyError::Exists(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
