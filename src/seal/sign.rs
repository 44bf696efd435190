//! Keys and signatures: ECDSA P-256 with SHA-256 or P-384 with SHA-384; keys as PKCS#8 / SPKI in PEM.
//!
//! The private key is PKCS#8 (what `openssl pkey` reads), the public key a SubjectPublicKeyInfo,
//! and signatures are ASN.1 DER, so `openssl dgst -sha256 -verify` checks them independently.
//!
//! Signing is deterministic (RFC 6979, RustCrypto `p256`/`p384`): the same key and message give
//! the same signature, so a batch ingested twice gives the same bytes, including the signature
//! inside each PDF. ring, whose ECDSA nonces are random by design, generates keys and verifies.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use der::Decode;
use der::asn1::ObjectIdentifier;
use p256::pkcs8::DecodePrivateKey;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::hash::sha256_hex;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A signature algorithm: curve and the hash that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
}

impl Algorithm {
    /// The name recorded in manifests and the protocol.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
        }
    }

    /// The curve as operators write it (`seal.signature`, `keygen --curve`).
    pub fn curve(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "P-256",
            Algorithm::EcdsaP384Sha384 => "P-384",
        }
    }

    /// The hash OpenSSL must be told for `openssl dgst -verify`.
    pub fn openssl_digest(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "-sha256",
            Algorithm::EcdsaP384Sha384 => "-sha384",
        }
    }

    /// `ecdsa-with-SHA256` / `ecdsa-with-SHA384` (RFC 5758).
    pub fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Algorithm::EcdsaP256Sha256 => ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
            Algorithm::EcdsaP384Sha384 => ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),
        }
    }

    /// The digest that goes with the curve.
    pub fn digest(self) -> super::hash::HashAlgorithm {
        match self {
            Algorithm::EcdsaP256Sha256 => super::hash::HashAlgorithm::Sha256,
            Algorithm::EcdsaP384Sha384 => super::hash::HashAlgorithm::Sha384,
        }
    }

    fn ring_signing(self) -> &'static signature::EcdsaSigningAlgorithm {
        match self {
            Algorithm::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Algorithm::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    fn ring_verify(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Algorithm::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
            Algorithm::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_ASN1,
        }
    }
}

/// Refuses a private key file that group or others may access, as ssh does.
fn check_private_mode(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: path.into(),
            mode: mode & 0o777,
        });
    }
    Ok(())
}

/// The password of an encrypted key: the first line of the file `SCANWERK_KEY_PASSWORD_FILE`
/// names, else `SCANWERK_KEY_PASSWORD`; never a command-line argument.
fn key_password(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    if let Some(file) = std::env::var_os("SCANWERK_KEY_PASSWORD_FILE") {
        let text = Zeroizing::new(std::fs::read_to_string(&file).map_err(|source| KeyError::Read {
            path: file.into(),
            source,
        })?);
        return Ok(Zeroizing::new(
            text.lines().next().unwrap_or_default().to_string(),
        ));
    }
    std::env::var("SCANWERK_KEY_PASSWORD")
        .map(Zeroizing::new)
        .map_err(|_| KeyError::NoPassword { path: path.into() })
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "private key {path} may be read by others (mode {mode:04o}); a signing key must be readable \
         by its owner only: chmod 600 {path}"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "private key {path} is encrypted: give its password in the file SCANWERK_KEY_PASSWORD_FILE \
         names (or in SCANWERK_KEY_PASSWORD), never on the command line"
    )]
    NoPassword { path: PathBuf },
    #[error("private key {path} is encrypted and the password given does not open it")]
    WrongPassword { path: PathBuf },
    #[error("cannot read key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "key {path} is not an ECDSA P-256 or P-384 private key in PKCS#8 (PEM or DER); \
         make one with `scanwerk keygen --out DIR`"
    )]
    NotEcdsaPkcs8 { path: PathBuf },
    #[error("public key {path} is not a P-256 or P-384 public key (PEM \"PUBLIC KEY\" or DER SPKI)")]
    NotEcdsaPublic { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    #[error("the system random generator failed")]
    Random,
    #[error(transparent)]
    Token(#[from] super::token::TokenError),
    #[error("{token} holds a key that is not a P-256 or P-384 public key")]
    TokenCurve { token: String },
}

enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    /// In a PKCS#11 token: signs there, never leaves it.
    Token(super::token::TokenKey),
}

/// A loaded ECDSA signing key.
pub struct SigningKey {
    secret: Secret,
    public: TrustedKey,
}

/// A public key that signatures are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    algorithm: Algorithm,
    /// Offset of the uncompressed point inside `spki`.
    point_at: usize,
}

impl SigningKey {
    /// Loads a PKCS#8 key file (PEM or DER), readable by its owner only. An encrypted one
    /// ("ENCRYPTED PRIVATE KEY", PBES2) is opened with the password from the file
    /// `$SCANWERK_KEY_PASSWORD_FILE` names, else `$SCANWERK_KEY_PASSWORD`. Every copy of the key
    /// material and the password is zeroized when dropped.
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        SigningKey::open(path, None)
    }

    /// A key file as [`SigningKey::load`] reads it, or a key in a PKCS#11 token named by a
    /// `pkcs11:` URI; `module` is the profile's `seal.pkcs11_module` (see [`super::token`]).
    pub fn open(reference: &Path, module: Option<&Path>) -> Result<SigningKey, KeyError> {
        if super::token::is_uri(reference) {
            let uri = super::token::TokenUri::parse(&reference.to_string_lossy())?;
            let (token, spki) = super::token::TokenKey::open(&uri, module)?;
            let public = TrustedKey::from_spki(&spki).ok_or_else(|| KeyError::TokenCurve {
                token: uri.token_name(),
            })?;
            return Ok(SigningKey {
                secret: Secret::Token(token),
                public,
            });
        }
        let path = reference;
        check_private_mode(path)?;
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?);
        let not_key = || KeyError::NotEcdsaPkcs8 { path: path.into() };
        if let Some(encrypted) = pem_decode(&bytes, "ENCRYPTED PRIVATE KEY").map(Zeroizing::new) {
            let password = key_password(path)?;
            let info =
                pkcs8::EncryptedPrivateKeyInfoRef::try_from(encrypted.as_slice()).map_err(|_| not_key())?;
            let document = info
                .decrypt(password.as_bytes())
                .map_err(|_| KeyError::WrongPassword { path: path.into() })?;
            return SigningKey::from_pkcs8(document.as_bytes()).ok_or_else(not_key);
        }
        let der = Zeroizing::new(pem_decode(&bytes, "PRIVATE KEY").unwrap_or_else(|| bytes.to_vec()));
        SigningKey::from_pkcs8(&der).ok_or_else(not_key)
    }

    fn from_pkcs8(der: &[u8]) -> Option<SigningKey> {
        use p256::pkcs8::EncodePublicKey;
        let (secret, spki) = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            let spki = k.verifying_key().to_public_key_der().ok()?;
            (Secret::P256(k), spki)
        } else {
            let k = p384::ecdsa::SigningKey::from_pkcs8_der(der).ok()?;
            let spki = k.verifying_key().to_public_key_der().ok()?;
            (Secret::P384(k), spki)
        };
        let public = TrustedKey::from_spki(spki.as_bytes())?;
        Some(SigningKey { secret, public })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm
    }

    /// Whether the key lives in a token (whose ECDSA may be randomised: see the README).
    pub fn in_token(&self) -> bool {
        matches!(self.secret, Secret::Token(_))
    }

    /// DER signature over `message`. A key file signs deterministically (RFC 6979: the same
    /// message gives the same signature); a token signs the digest, and its signature is checked
    /// against the public key before it is returned.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use p256::ecdsa::signature::Signer;
        Ok(match &self.secret {
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::Token(token) => {
                let raw = token.sign_digest(&self.algorithm().digest().hash(message))?;
                let der = match self.algorithm() {
                    Algorithm::EcdsaP256Sha256 => {
                        p256::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec())
                    }
                    Algorithm::EcdsaP384Sha384 => {
                        p384::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec())
                    }
                };
                match der {
                    Ok(der) if self.public.verify(message, &der) => der,
                    _ => {
                        return Err(super::token::TokenError::Token {
                            token: token.name().to_string(),
                            reason: "the token returned a signature that does not verify with its public key"
                                .into(),
                        }
                        .into());
                    }
                }
            }
        })
    }

    pub fn public(&self) -> TrustedKey {
        self.public.clone()
    }
}

impl TrustedKey {
    /// Reads a PEM or DER public key.
    pub fn load(path: &Path) -> Result<TrustedKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
        let der = pem_decode(&bytes, "PUBLIC KEY").unwrap_or(bytes);
        TrustedKey::from_spki(&der).ok_or(KeyError::NotEcdsaPublic { path: path.into() })
    }

    /// A P-256 or P-384 SubjectPublicKeyInfo, or `None`.
    pub fn from_spki(der: &[u8]) -> Option<TrustedKey> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
        if info.algorithm.oid != ID_EC_PUBLIC_KEY {
            return None;
        }
        let curve: ObjectIdentifier = info.algorithm.parameters?.decode_as().ok()?;
        let (algorithm, point_len) = match curve {
            c if c == SECP256R1 => (Algorithm::EcdsaP256Sha256, 65),
            c if c == SECP384R1 => (Algorithm::EcdsaP384Sha384, 97),
            _ => return None,
        };
        let point = info.subject_public_key.as_bytes()?;
        if point.len() != point_len || point[0] != 4 || !der.ends_with(point) {
            return None;
        }
        Some(TrustedKey {
            spki: der.to_vec(),
            algorithm,
            point_at: der.len() - point_len,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// SHA-256 of the SPKI, hex: how operators and the protocol name a key.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.spki)
    }

    pub fn to_pem(&self) -> String {
        pem_encode(&self.spki, "PUBLIC KEY")
    }

    /// Checks a DER ECDSA signature made with this key's curve and hash.
    pub fn verify(&self, message: &[u8], signature_der: &[u8]) -> bool {
        UnparsedPublicKey::new(self.algorithm.ring_verify(), &self.spki[self.point_at..])
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

/// Generates a key pair into `dir` as `signing-key.pem` (0600) and `signing-key.pub.pem`.
pub fn keygen(dir: &Path, algorithm: Algorithm) -> Result<KeyFiles, KeyError> {
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
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm.ring_signing(), &rng).map_err(|_| KeyError::Random)?;
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

pub(crate) fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER of every PEM block with `label`, in order.
pub(crate) fn pem_decode_all(bytes: &[u8], label: &str) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let end = format!("-----END {label}-----");
    text.split_inclusive(&end)
        .filter_map(|block| pem_decode(block.as_bytes(), label))
        .collect()
}

/// The DER inside a PEM block with `label`, or `None` if `bytes` is not such PEM.
pub fn pem_decode(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: Zeroizing<String> =
        Zeroizing::new(text[start..stop].chars().filter(|c| !c.is_whitespace()).collect());
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_sign_verify_roundtrip() {
        let dir = std::env::temp_dir().join(format!("scanwerk-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = keygen(&dir, Algorithm::EcdsaP256Sha256).unwrap();
        let mode = std::fs::metadata(&files.private).unwrap().permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
        let key = SigningKey::load(&files.private).unwrap();
        let public = TrustedKey::load(&files.public).unwrap();
        assert_eq!(public, key.public());
        let sig = key.sign(b"manifest").unwrap();
        assert!(public.verify(b"manifest", &sig));
        assert_eq!(
            sig,
            key.sign(b"manifest").unwrap(),
            "RFC 6979 signatures are deterministic"
        );
        assert!(!public.verify(b"manifesT", &sig));
        assert!(matches!(
            keygen(&dir, Algorithm::EcdsaP256Sha256),
            Err(KeyError::Exists(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod p384_tests {
    use super::*;

    #[test]
    fn p384_keys_sign_with_sha384_and_ring_verifies() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(Algorithm::EcdsaP384Sha384.ring_signing(), &rng).unwrap();
        let key = SigningKey::from_pkcs8(pkcs8.as_ref()).unwrap();
        assert_eq!(key.algorithm(), Algorithm::EcdsaP384Sha384);
        let public = TrustedKey::from_spki(&key.public().spki).unwrap();
        let sig = key.sign(b"root").unwrap();
        assert!(public.verify(b"root", &sig));
        assert!(!public.verify(b"roof", &sig));
    }
}
