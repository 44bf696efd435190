//! Keys that never leave hardware: an HSM, a smartcard or seal token, or SoftHSM2 for trials,
//! reached through PKCS#11 and named by an RFC 7512 URI (`pkcs11:token=scanwerk;object=seal-2026`).
//!
//! The module (the vendor's `.so`) comes from the URI's `module-path`, else
//! `SCANWERK_PKCS11_MODULE`, else the profile's `seal.pkcs11_module`. The PIN comes from the URI's
//! `pin-source` file, else the file `SCANWERK_PKCS11_PIN_FILE` names, else `SCANWERK_PKCS11_PIN`;
//! never from the command line (`pin-value` is refused), never logged. One PKCS#11 context per
//! module and process; one logged-in session per key, used behind a lock. The token signs the
//! digest (CKM_ECDSA); its raw r‖s is turned into DER and checked against the public key before
//! it is used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use zeroize::Zeroizing;

/// The curves a token key may be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

/// A public key as the token holds it: DER SubjectPublicKeyInfo, P-256 or P-384.
pub type Spki = Vec<u8>;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("PKCS#11 key URI: {reason}")]
    Uri { reason: String },
    #[error(
        "no PKCS#11 module for {token}: give module-path in the key URI, SCANWERK_PKCS11_MODULE, \
         or seal.pkcs11_module in the profile (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)"
    )]
    NoModule { token: String },
    #[error("cannot load the PKCS#11 module {module}: {reason}")]
    Module { module: PathBuf, reason: String },
    #[error(
        "no PIN for {token}: give it in the file SCANWERK_PKCS11_PIN_FILE names (or in \
         SCANWERK_PKCS11_PIN), never on the command line"
    )]
    NoPin { token: String },
    #[error("cannot read the PIN file {path}: {source}")]
    PinFile { path: PathBuf, source: std::io::Error },
    #[error(
        "{token} does not accept the PIN given; check the file SCANWERK_PKCS11_PIN_FILE names (or \
         SCANWERK_PKCS11_PIN); a token locks itself after a few wrong PINs"
    )]
    WrongPin { token: String },
    #[error(
        "{token} holds no private key {object}; list its keys with `scanwerk keys list --pkcs11 URI` \
         or make one with `scanwerk keygen --pkcs11 URI`"
    )]
    NoKey { token: String, object: String },
    #[error("{token}: {reason}")]
    Token { token: String, reason: String },
}

/// DER of the curve OIDs as CKA_EC_PARAMS holds them.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// A key reference in a token: the parts of an RFC 7512 URI scanwerk uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenUri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `serial=`: the token serial number.
    pub serial: Option<String>,
    /// `object=`: the key's label (CKA_LABEL).
    pub object: Option<String>,
    /// `id=`: the key's CKA_ID (percent-encoded bytes).
    pub id: Option<Vec<u8>>,
    /// `?module-path=`: the PKCS#11 module.
    pub module: Option<PathBuf>,
    /// `?pin-source=`: a file whose first line is the PIN.
    pub pin_source: Option<PathBuf>,
}

/// Whether a `seal.key` / `--key` value names a token key rather than a file.
pub fn is_uri(reference: &Path) -> bool {
    reference.to_str().is_some_and(|s| s.starts_with("pkcs11:"))
}

impl TokenUri {
    /// Parses `pkcs11:attr=value;…?query=value&…`; unknown path attributes are refused, so a
    /// typo does not silently pick another key.
    pub fn parse(text: &str) -> Result<TokenUri, TokenError> {
        let bad = |reason: String| TokenError::Uri { reason };
        let rest = text
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("a PKCS#11 key is named by a URI starting with pkcs11:".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = TokenUri::default();
        for part in path.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} is not attribute=value")))?;
            let value = percent_decode(value).ok_or_else(|| bad(format!("{name}: bad percent-encoding")))?;
            let text = || String::from_utf8(value.clone()).map_err(|_| bad(format!("{name}: not UTF-8")));
            match name {
                "token" => uri.token = Some(text()?),
                "serial" => uri.serial = Some(text()?),
                "object" => uri.object = Some(text()?),
                "id" => uri.id = Some(value),
                "type" if value == b"private" => {}
                "type" => {
                    return Err(bad(
                        "type: scanwerk signs with a private key (type=private)".into()
                    ));
                }
                "manufacturer"
                | "model"
                | "library-manufacturer"
                | "library-description"
                | "library-version"
                | "slot-description"
                | "slot-manufacturer" => {}
                other => return Err(bad(format!("unknown attribute {other:?}"))),
            }
        }
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            if name == "pin-value" {
                return Err(bad(
                    "a PIN is never written into the key's name (pin-value): give it in the file \
                     SCANWERK_PKCS11_PIN_FILE names, in SCANWERK_PKCS11_PIN, or as ?pin-source=FILE"
                        .into(),
                ));
            }
            let value = percent_decode(value)
                .and_then(|v| String::from_utf8(v).ok())
                .ok_or_else(|| bad(format!("{name}: bad percent-encoding")))?;
            match name {
                "module-path" => uri.module = Some(value.into()),
                "pin-source" => uri.pin_source = Some(value.trim_start_matches("file:").into()),
                _ => {}
            }
        }
        Ok(uri)
    }

    /// How messages name the token: its label, else its serial, else "the token".
    pub fn token_name(&self) -> String {
        match (&self.token, &self.serial) {
            (Some(label), _) => format!("token \"{label}\""),
            (None, Some(serial)) => format!("token with serial {serial}"),
            (None, None) => "the token".into(),
        }
    }

    fn object_name(&self) -> String {
        match (&self.object, &self.id) {
            (Some(label), _) => format!("\"{label}\""),
            (None, Some(id)) => format!("id {}", hex(id)),
            (None, None) => "(any)".into(),
        }
    }

    /// The module: the URI's, else `SCANWERK_PKCS11_MODULE`, else the profile's.
    fn module(&self, profile: Option<&Path>) -> Result<PathBuf, TokenError> {
        self.module
            .clone()
            .or_else(|| std::env::var_os("SCANWERK_PKCS11_MODULE").map(PathBuf::from))
            .or_else(|| profile.map(Path::to_path_buf))
            .ok_or_else(|| TokenError::NoModule {
                token: self.token_name(),
            })
    }

    /// The PIN: `pin-source`, else the file `SCANWERK_PKCS11_PIN_FILE` names, else
    /// `SCANWERK_PKCS11_PIN`.
    fn pin(&self) -> Result<AuthPin, TokenError> {
        let file = self
            .pin_source
            .clone()
            .or_else(|| std::env::var_os("SCANWERK_PKCS11_PIN_FILE").map(PathBuf::from));
        let pin = match file {
            Some(file) => {
                let text =
                    Zeroizing::new(
                        std::fs::read_to_string(&file).map_err(|source| TokenError::PinFile {
                            path: file.clone(),
                            source,
                        })?,
                    );
                text.lines().next().unwrap_or_default().to_string()
            }
            None => std::env::var("SCANWERK_PKCS11_PIN").map_err(|_| TokenError::NoPin {
                token: self.token_name(),
            })?,
        };
        Ok(AuthPin::from(pin))
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let pair = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(pair, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The process's context for `module`: loaded and initialised once, kept until exit.
fn context(module: &Path) -> Result<Pkcs11, TokenError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let failed = |e: P11Error| TokenError::Module {
        module: module.into(),
        reason: e.to_string(),
    };
    let ctx = Pkcs11::new(module).map_err(failed)?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(e)),
    }
    contexts.insert(module.into(), ctx.clone());
    Ok(ctx)
}

/// What went wrong in the token, in words, with the PKCS#11 return value.
fn token_error(uri: &TokenUri, doing: &str) -> impl Fn(P11Error) -> TokenError {
    let token = uri.token_name();
    let doing = doing.to_string();
    move |e| TokenError::Token {
        token: token.clone(),
        reason: format!("{doing}: {e}"),
    }
}

/// The slot holding the token the URI names (by label and serial); without either, the only one.
fn slot(ctx: &Pkcs11, uri: &TokenUri) -> Result<Slot, TokenError> {
    let mut found = Vec::new();
    let mut seen = Vec::new();
    for slot in ctx
        .get_slots_with_token()
        .map_err(token_error(uri, "listing slots"))?
    {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        let label = info.label().trim_end().to_string();
        let serial = info.serial_number().trim_end().to_string();
        let matches = uri.token.as_ref().is_none_or(|t| *t == label)
            && uri.serial.as_ref().is_none_or(|s| *s == serial);
        if matches && info.token_initialized() {
            found.push(slot);
        }
        seen.push(format!("\"{label}\""));
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(TokenError::Token {
            token: uri.token_name(),
            reason: format!(
                "not present (tokens the module sees: {})",
                if seen.is_empty() {
                    "none".into()
                } else {
                    seen.join(", ")
                }
            ),
        }),
        _ => Err(TokenError::Token {
            token: uri.token_name(),
            reason: format!("{} tokens match; name one with token= or serial=", found.len()),
        }),
    }
}

/// A read-write session on the URI's token, logged in as the user with the configured PIN.
fn session(uri: &TokenUri, profile_module: Option<&Path>) -> Result<Session, TokenError> {
    let ctx = context(&uri.module(profile_module)?)?;
    let slot = slot(&ctx, uri)?;
    let pin = uri.pin()?;
    let session = ctx
        .open_rw_session(slot)
        .map_err(token_error(uri, "opening a session"))?;
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(P11Error::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => Err(TokenError::WrongPin {
            token: uri.token_name(),
        }),
        Err(e) => Err(token_error(uri, "logging in")(e)),
    }
}

/// The template that picks the URI's object of `class`.
fn template(uri: &TokenUri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// A private key in a token, signing through one logged-in session.
pub(super) struct TokenKey {
    session: Mutex<Session>,
    key: ObjectHandle,
    token: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({})", self.token)
    }
}

impl TokenKey {
    /// Opens the URI's private key and finds its public key (the public key object with the same
    /// CKA_ID, else the certificate).
    pub(super) fn open(
        uri: &TokenUri,
        profile_module: Option<&Path>,
    ) -> Result<(TokenKey, Spki), TokenError> {
        let session = session(uri, profile_module)?;
        let keys = session
            .find_objects(&template(uri, ObjectClass::PRIVATE_KEY))
            .map_err(token_error(uri, "finding the key"))?;
        let key = match keys.as_slice() {
            [key] => *key,
            [] => {
                return Err(TokenError::NoKey {
                    token: uri.token_name(),
                    object: uri.object_name(),
                });
            }
            _ => {
                return Err(TokenError::Token {
                    token: uri.token_name(),
                    reason: format!(
                        "{} private keys match {}; name one with object= and id=",
                        keys.len(),
                        uri.object_name()
                    ),
                });
            }
        };
        let id = attribute_bytes(&session, key, AttributeType::Id).unwrap_or_default();
        let public = public_key(&session, uri, &id)?;
        let token = uri.token_name();
        Ok((
            TokenKey {
                session: Mutex::new(session),
                key,
                token,
            },
            public,
        ))
    }

    /// How messages name the token.
    pub(super) fn name(&self) -> &str {
        &self.token
    }

    /// Raw r‖s over `digest` (CKM_ECDSA: the token gets the hash, not the message).
    pub(super) fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, TokenError> {
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        session
            .sign(&Mechanism::Ecdsa, self.key, digest)
            .map_err(|e| TokenError::Token {
                token: self.token.clone(),
                reason: format!("signing: {e}"),
            })
    }
}

fn attribute_bytes(session: &Session, object: ObjectHandle, kind: AttributeType) -> Option<Vec<u8>> {
    let attrs = session.get_attributes(object, &[kind]).ok()?;
    attrs.into_iter().find_map(|a| match a {
        Attribute::Id(v)
        | Attribute::Label(v)
        | Attribute::EcParams(v)
        | Attribute::EcPoint(v)
        | Attribute::Value(v) => Some(v),
        _ => None,
    })
}

/// The key's public half: the public key object with its CKA_ID (or the URI's label), else the
/// certificate with that id.
fn public_key(session: &Session, uri: &TokenUri, id: &[u8]) -> Result<Spki, TokenError> {
    let by_id = TokenUri {
        id: Some(id.to_vec()),
        object: if id.is_empty() { uri.object.clone() } else { None },
        ..uri.clone()
    };
    let find = |class| session.find_objects(&template(&by_id, class)).unwrap_or_default();
    if let Some(&object) = find(ObjectClass::PUBLIC_KEY).first() {
        let params = attribute_bytes(session, object, AttributeType::EcParams).unwrap_or_default();
        let point = attribute_bytes(session, object, AttributeType::EcPoint).unwrap_or_default();
        if let Some(public) = spki_of(&params, &point) {
            return Ok(public);
        }
    }
    if let Some(&object) = find(ObjectClass::CERTIFICATE).first()
        && let Some(der) = attribute_bytes(session, object, AttributeType::Value)
        && let Ok(cert) = x509_cert::Certificate::from_der(&der)
        && let Ok(spki) = cert.tbs_certificate().subject_public_key_info().to_der()
        && curve_of_spki(&spki).is_some()
    {
        return Ok(spki);
    }
    Err(TokenError::Token {
        token: uri.token_name(),
        reason: format!(
            "the key {} has no P-256/P-384 public key or certificate beside it (same CKA_ID)",
            uri.object_name()
        ),
    })
}

/// SubjectPublicKeyInfo from CKA_EC_PARAMS and CKA_EC_POINT (a DER OCTET STRING, or the raw point
/// as some modules give it).
fn spki_of(params: &[u8], point: &[u8]) -> Option<Spki> {
    use p256::pkcs8::EncodePublicKey;
    let raw = match der::asn1::OctetString::from_der(point) {
        Ok(octets) if octets.as_bytes().first() == Some(&4) => octets.as_bytes().to_vec(),
        _ => point.to_vec(),
    };
    let der = if params == P256_PARAMS {
        p256::PublicKey::from_sec1_bytes(&raw)
            .ok()?
            .to_public_key_der()
            .ok()?
    } else if params == P384_PARAMS {
        p384::PublicKey::from_sec1_bytes(&raw)
            .ok()?
            .to_public_key_der()
            .ok()?
    } else {
        return None;
    };
    Some(der.as_bytes().to_vec())
}

/// The curve of a P-256 or P-384 SubjectPublicKeyInfo.
fn curve_of_spki(der: &[u8]) -> Option<Curve> {
    use p256::pkcs8::DecodePublicKey;
    if p256::PublicKey::from_public_key_der(der).is_ok() {
        Some(Curve::P256)
    } else if p384::PublicKey::from_public_key_der(der).is_ok() {
        Some(Curve::P384)
    } else {
        None
    }
}

/// Generates a key pair in the token under the URI's `object` label (and `id`, else a random
/// one): private, sensitive, not extractable, for signing only. Refuses a label already in use.
pub fn generate(uri: &TokenUri, profile_module: Option<&Path>, curve: Curve) -> Result<Spki, TokenError> {
    let label = uri.object.clone().ok_or_else(|| TokenError::Uri {
        reason: "name the new key with object=LABEL".into(),
    })?;
    let session = session(uri, profile_module)?;
    let taken = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(token_error(uri, "looking for the label"))?;
    if !taken.is_empty() {
        return Err(TokenError::Token {
            token: uri.token_name(),
            reason: format!("an object labelled \"{label}\" already exists; refusing to overwrite a key"),
        });
    }
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => {
            let mut id = vec![0u8; 16];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id).map_err(|_| {
                TokenError::Token {
                    token: uri.token_name(),
                    reason: "the system random generator failed".into(),
                }
            })?;
            id
        }
    };
    let params = match curve {
        Curve::P256 => P256_PARAMS.to_vec(),
        Curve::P384 => P384_PARAMS.to_vec(),
    };
    let common = [
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
        Attribute::KeyType(KeyType::EC),
    ];
    let public_template = [
        &common[..],
        &[Attribute::Verify(true), Attribute::EcParams(params)],
    ]
    .concat();
    let private_template = [
        &common[..],
        &[
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
        ],
    ]
    .concat();
    let (public, _) = session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public_template, &private_template)
        .map_err(token_error(uri, "generating the key pair"))?;
    let point = attribute_bytes(&session, public, AttributeType::EcPoint).unwrap_or_default();
    let params = attribute_bytes(&session, public, AttributeType::EcParams).unwrap_or_default();
    spki_of(&params, &point).ok_or_else(|| TokenError::Token {
        token: uri.token_name(),
        reason: "the new public key is not a P-256/P-384 point".into(),
    })
}

/// Stores a certificate (DER) in the token beside the key, with the key's label and CKA_ID.
pub fn store_certificate(
    uri: &TokenUri,
    profile_module: Option<&Path>,
    der: &[u8],
) -> Result<(), TokenError> {
    let session = session(uri, profile_module)?;
    let key = session
        .find_objects(&template(uri, ObjectClass::PRIVATE_KEY))
        .map_err(token_error(uri, "finding the key"))?;
    let id = key
        .first()
        .and_then(|k| attribute_bytes(&session, *k, AttributeType::Id))
        .unwrap_or_default();
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| TokenError::Token {
        token: uri.token_name(),
        reason: format!("the certificate does not parse: {e}"),
    })?;
    let subject = cert.tbs_certificate().subject().to_der().unwrap_or_default();
    let mut t = vec![
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
        Attribute::Token(true),
        Attribute::Id(id),
        Attribute::Subject(subject),
        Attribute::Value(der.to_vec()),
    ];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    session
        .create_object(&t)
        .map_err(token_error(uri, "storing the certificate"))?;
    Ok(())
}

/// One object in a token as `keys list --pkcs11` shows it.
#[derive(Debug, Clone)]
pub struct TokenObject {
    pub class: &'static str,
    pub label: String,
    pub id: String,
    /// The public key (of a public key or certificate object), if it is P-256/P-384.
    pub public: Option<Spki>,
}

/// The token's keys and certificates (private keys without their secret, which never leaves).
pub fn list(uri: &TokenUri, profile_module: Option<&Path>) -> Result<(String, Vec<TokenObject>), TokenError> {
    let session = session(uri, profile_module)?;
    let mut objects = Vec::new();
    for (class, name) in [
        (ObjectClass::PRIVATE_KEY, "private key"),
        (ObjectClass::PUBLIC_KEY, "public key"),
        (ObjectClass::CERTIFICATE, "certificate"),
    ] {
        let handles = session
            .find_objects(&template(uri, class))
            .map_err(token_error(uri, "listing objects"))?;
        for handle in handles {
            let label = attribute_bytes(&session, handle, AttributeType::Label).unwrap_or_default();
            let id = attribute_bytes(&session, handle, AttributeType::Id).unwrap_or_default();
            let public = match class {
                ObjectClass::PRIVATE_KEY => None,
                _ => public_key(&session, uri, &id).ok(),
            };
            objects.push(TokenObject {
                class: name,
                label: String::from_utf8_lossy(&label).into_owned(),
                id: hex(&id),
                public,
            });
        }
    }
    Ok((uri.token_name(), objects))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_token_object_id_module_and_never_carry_a_pin() {
        let uri = TokenUri::parse(
            "pkcs11:token=Scan%20Stelle;object=seal-2026;id=%01%ab;type=private\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("Scan Stelle"));
        assert_eq!(uri.object.as_deref(), Some("seal-2026"));
        assert_eq!(uri.id, Some(vec![0x01, 0xab]));
        assert_eq!(uri.module, Some("/usr/lib/softhsm/libsofthsm2.so".into()));
        assert_eq!(uri.pin_source, Some("/run/pin".into()));
        let refused = TokenUri::parse("pkcs11:token=t;object=k?pin-value=123456").unwrap_err();
        assert!(!refused.to_string().contains("123456"), "{refused}");
        assert!(
            refused.to_string().contains("SCANWERK_PKCS11_PIN_FILE"),
            "{refused}"
        );
        assert!(
            TokenUri::parse("pkcs11:tokne=t").is_err(),
            "a typo does not pick any key"
        );
        assert!(TokenUri::parse("pkcs11:token=t;type=cert").is_err());
        assert!(is_uri(Path::new("pkcs11:token=t")));
        assert!(!is_uri(Path::new("keys/pkcs11.pem")));
    }

    #[test]
    fn ec_points_come_as_der_octet_strings_or_raw() {
        use p256::pkcs8::EncodePublicKey;
        let key = p256::SecretKey::from_slice(&[7u8; 32]).unwrap().public_key();
        let spki = key.to_public_key_der().unwrap();
        let raw = &spki.as_bytes()[spki.as_bytes().len() - 65..];
        let wrapped = der::asn1::OctetString::new(raw).unwrap().to_der().unwrap();
        let a = spki_of(&P256_PARAMS, raw).unwrap();
        let b = spki_of(&P256_PARAMS, &wrapped).unwrap();
        assert_eq!(a, b);
        assert_eq!(curve_of_spki(&a), Some(Curve::P256));
        assert!(
            spki_of(&P384_PARAMS, raw).is_none(),
            "a P-256 point is not a P-384 key"
        );
    }
}
