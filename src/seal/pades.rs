//! Checking the PAdES signature inside a PDF, as `verify` does for every document.
//!
//! Independent of how the file was written: the signature field is found through the catalog's
//! `/AcroForm`, the signed bytes are taken from the file by `/ByteRange`, which must cover all of it
//! but the `/Contents` hex string (ISO 19005-2 6.4.3), and the CMS signature inside must verify
//! over them with the signer certificate it carries and the signing-certificate-v2 attribute must
//! name that certificate (ETSI EN 319 142-1 B-B).

use der::Encode;
use lopdf::{Document, Object};

use super::cms::{self, ID_SIGNING_CERTIFICATE_V2, ID_SIGNING_TIME};
use super::hash::sha256_hex;

/// A PDF signature that verified.
#[derive(Debug, Clone)]
pub struct PdfSignature {
    pub sub_filter: String,
    /// The signer certificate's subject (RFC 4514).
    pub signer: String,
    /// SHA-256 of the signer certificate (DER).
    pub certificate_sha256: String,
    /// The signer's public key, DER SubjectPublicKeyInfo.
    pub signer_spki: Vec<u8>,
}

/// The signature dictionaries of the document's signature fields.
fn signature_values(doc: &Document) -> Result<Vec<&lopdf::Dictionary>, String> {
    fn resolve<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
        match o {
            Object::Reference(id) => doc.get_object(*id).ok(),
            other => Some(other),
        }
    }
    let resolve = |o| resolve(doc, o);
    let catalog = doc.catalog().map_err(|e| format!("no catalog: {e}"))?;
    let Some(form) = catalog.get(b"AcroForm").ok().and_then(resolve) else {
        return Ok(Vec::new());
    };
    let form = form.as_dict().map_err(|_| "/AcroForm is not a dictionary")?;
    let fields = match form.get(b"Fields").ok().and_then(resolve) {
        Some(Object::Array(a)) => a,
        _ => return Ok(Vec::new()),
    };
    let mut values = Vec::new();
    for field in fields.iter().filter_map(resolve) {
        let Ok(field) = field.as_dict() else { continue };
        if field.get(b"FT").and_then(Object::as_name).ok() != Some(b"Sig".as_slice()) {
            continue;
        }
        match field.get(b"V").ok().and_then(resolve).map(Object::as_dict) {
            Some(Ok(v)) => values.push(v),
            _ => return Err("a signature field has no signature value".into()),
        }
    }
    Ok(values)
}

/// Checks the one PAdES signature of the PDF `bytes` (parsed as `doc`). `Ok(None)` if the PDF has
/// no signature field; `Err` names what is wrong.
pub fn check(bytes: &[u8], doc: &Document) -> Result<Option<PdfSignature>, String> {
    let values = signature_values(doc)?;
    let value = match values.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        more => return Err(format!("{} signatures; scanwerk writes one", more.len())),
    };
    let sub_filter = value
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .map_err(|_| "the signature has no /SubFilter")?;
    if sub_filter != "ETSI.CAdES.detached" {
        return Err(format!(
            "/SubFilter is /{sub_filter}, not /ETSI.CAdES.detached (PAdES)"
        ));
    }
    let range: Vec<usize> = value
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map_err(|_| "the signature has no /ByteRange")?
        .iter()
        .map(|o| o.as_i64().ok().and_then(|v| usize::try_from(v).ok()))
        .collect::<Option<_>>()
        .ok_or("/ByteRange holds a value that is not a byte offset")?;
    let [0, first_len, second_at, second_len] = range[..] else {
        return Err("/ByteRange does not start at byte 0 with two ranges".into());
    };
    let gap = bytes
        .get(first_len..second_at)
        .filter(|g| g.len() >= 2 && g[0] == b'<' && g[g.len() - 1] == b'>')
        .ok_or("/ByteRange does not leave out exactly the /Contents hex string (PDF/A-2 6.4.3)")?;
    if second_at.checked_add(second_len) != Some(bytes.len()) {
        return Err(format!(
            "/ByteRange ends at byte {}, the file at {}: it does not cover the entire file (PDF/A-2 6.4.3)",
            second_at.saturating_add(second_len),
            bytes.len()
        ));
    }
    let contents = std::str::from_utf8(&gap[1..gap.len() - 1])
        .ok()
        .and_then(super::tree::unhex)
        .ok_or("/Contents is not a hex string")?;
    let message = cms::open_signed(&contents).map_err(|e| format!("the CMS signature: {e}"))?;
    if message.signer_infos != 1 {
        return Err("the signature must have exactly one signer (PDF/A-2 6.4.3)".into());
    }
    let mut digest = message.digest_algorithm.hasher();
    digest.update(&bytes[..first_len]);
    digest.update(&bytes[second_at..]);
    if digest.finish() != message.message_digest {
        return Err("the signed bytes were changed after signing (message digest differs)".into());
    }
    if message.signed_attributes.contains(&ID_SIGNING_TIME) {
        return Err("a signing-time attribute is present; PAdES puts the time in /M".into());
    }
    if !message.signed_attributes.contains(&ID_SIGNING_CERTIFICATE_V2) {
        return Err("no signing-certificate-v2 attribute (PAdES B-B)".into());
    }
    let cert_der = message.signer.to_der().map_err(|e| e.to_string())?;
    if message.ess_certificate_sha256 != Some(super::hash::HashAlgorithm::Sha256.hash(&cert_der)) {
        return Err("signing-certificate-v2 does not name the signer's certificate".into());
    }
    let signer_spki = message
        .signer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| e.to_string())?;
    Ok(Some(PdfSignature {
        sub_filter,
        signer: message.signer.tbs_certificate().subject().to_string(),
        certificate_sha256: sha256_hex(&cert_der),
        signer_spki,
    }))
}
