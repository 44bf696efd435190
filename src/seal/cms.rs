//! CMS SignedData (RFC 5652): detached PAdES signatures made, and signed messages checked.
//!
//! What scanwerk signs is a CAdES-detached signature for PAdES baseline B-B (ETSI EN 319 142-1):
//! signed attributes content-type, message-digest and signing-certificate-v2 (RFC 5035), no
//! signing-time (the claimed time is the PDF signature dictionary's `/M`), the signer's chain in
//! `certificates`, one SignerInfo. Signing is deterministic (see [`super::sign`]).
//!
//! What scanwerk checks is any SignedData with one signer, ECDSA or RSA PKCS#1 v1.5: its own PDF
//! signatures and the time-stamp tokens (RFC 3161) a TSA returns.

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Reader, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use super::cert::CertificateChain;
use super::hash::HashAlgorithm;
use super::sign::SigningKey;

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const ID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");

/// `ESSCertIDv2` (RFC 5035): the signer certificate's SHA-256 and issuer/serial. The hash
/// algorithm is SHA-256, the DEFAULT, and so is left out.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: x509_cert::serial_number::SerialNumber,
}

#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("cannot encode the signature: {0}")]
    Encode(#[from] der::Error),
    #[error(transparent)]
    Sign(#[from] super::sign::KeyError),
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Result<Attribute, der::Error> {
    let value = Any::from_der(&value.to_der()?)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// A detached CAdES signature (DER `ContentInfo`) over content whose digest, with the key's
/// hash, is `content_digest`.
pub fn sign_detached(
    key: &SigningKey,
    chain: &CertificateChain,
    content_digest: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let signer = chain.signer();
    let tbs = signer.tbs_certificate();
    let hash = key.algorithm().digest();
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(HashAlgorithm::Sha256.hash(&signer.to_der()?))?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            },
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, ID_DATA)?,
        attribute(ID_MESSAGE_DIGEST, OctetString::new(content_digest)?)?,
        attribute(ID_SIGNING_CERTIFICATE_V2, ess)?,
    ])?;
    let signature = key.sign(&signed_attrs.to_der()?)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: algorithm(hash.oid()),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm(key.algorithm().signature_oid()),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let certificates = chain
        .certificates
        .iter()
        .map(|c| CertificateChoices::Certificate(c.clone()))
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(hash.oid())])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::from_der(&signed_data.to_der()?)?,
    };
    Ok(info.to_der()?)
}

/// What signs each PDF: the batch's key and the certificate chain issued for it.
#[derive(Clone, Copy)]
pub struct PadesSigner<'a> {
    pub key: &'a SigningKey,
    pub chain: &'a CertificateChain,
}

impl PadesSigner<'_> {
    /// The detached signature over content with digest `content_digest`, as an I/O result for
    /// the PDF writer.
    pub fn sign(&self, content_digest: &[u8]) -> std::io::Result<Vec<u8>> {
        sign_detached(self.key, self.chain, content_digest).map_err(std::io::Error::other)
    }

    /// What the document record says about the signature.
    pub fn record(&self) -> PdfSignatureRecord {
        PdfSignatureRecord {
            sub_filter: "ETSI.CAdES.detached".into(),
            signer: self.chain.subject(),
            certificate_sha256: self.chain.sha256(),
        }
    }
}

/// The PAdES signature a PDF carries, as its document record states it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PdfSignatureRecord {
    /// `/SubFilter` of the signature dictionary.
    pub sub_filter: String,
    /// The signer certificate's subject (RFC 4514).
    pub signer: String,
    /// SHA-256 of the signer certificate (DER).
    pub certificate_sha256: String,
}

/// The upper bound of [`sign_detached`]'s size for `chain`: the PDF reserves this much.
pub fn max_detached_len(chain: &CertificateChain) -> usize {
    // Certificates, twice the issuer name, ESS hash, digest, signature (≤ 104 bytes for P-384)
    // and the fixed ASN.1 framing, generously.
    chain.der_len()
        + 2 * chain
            .signer()
            .tbs_certificate()
            .issuer()
            .to_der()
            .map_or(512, |d| d.len())
        + 1024
}

/// A signed message whose signature has been checked against the certificate it names.
#[derive(Debug)]
pub struct SignedMessage {
    /// The signer's certificate, found in the message by the SignerInfo's identifier.
    pub signer: Certificate,
    /// Every certificate the message carries.
    pub certificates: Vec<Certificate>,
    pub content_type: ObjectIdentifier,
    /// Encapsulated content (a time-stamp token's TSTInfo); `None` for detached signatures.
    pub content: Option<Vec<u8>>,
    /// The hash the signer used, and the message-digest attribute it signed.
    pub digest_algorithm: HashAlgorithm,
    pub message_digest: Vec<u8>,
    /// Signed attributes present, by OID.
    pub signed_attributes: Vec<ObjectIdentifier>,
    /// The SHA-256 certificate hash a signing-certificate-v2 attribute names first, if any.
    pub ess_certificate_sha256: Option<Vec<u8>>,
    pub signer_infos: usize,
}

/// Parses a DER `ContentInfo` holding SignedData (trailing zero padding allowed, as in a PDF's
/// `/Contents`), and checks its one signer's signature over the signed attributes and that an
/// encapsulated content matches the message digest. A detached content's digest is the
/// caller's to compare with [`SignedMessage::message_digest`].
pub fn open_signed(bytes: &[u8]) -> Result<SignedMessage, String> {
    let data = signed_data(bytes)?;
    let certificates: Vec<Certificate> = data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let signer_infos = data.signer_infos.0.len();
    let info = match data.signer_infos.0.iter().collect::<Vec<_>>().as_slice() {
        [one] => (*one).clone(),
        other => return Err(format!("{} signers; expected exactly one", other.len())),
    };
    let signer = certificates
        .iter()
        .find(|c| identifies(&info.sid, c))
        .cloned()
        .ok_or("the signer's certificate is not in the signature")?;
    let digest_algorithm = HashAlgorithm::from_oid(&info.digest_alg.oid)
        .ok_or_else(|| format!("digest algorithm {} is not SHA-256/384/512", info.digest_alg.oid))?;
    let attrs = info.signed_attrs.as_ref().ok_or("no signed attributes")?;
    let value = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next().cloned())
    };
    let content_type: ObjectIdentifier = value(ID_CONTENT_TYPE)
        .ok_or("no content-type attribute")?
        .decode_as()
        .map_err(|e| format!("content-type attribute: {e}"))?;
    if content_type != data.encap_content_info.econtent_type {
        return Err("content-type attribute differs from the encapsulated content type".into());
    }
    let message_digest = value(ID_MESSAGE_DIGEST)
        .ok_or("no message-digest attribute")?
        .decode_as::<OctetString>()
        .map_err(|e| format!("message-digest attribute: {e}"))?
        .as_bytes()
        .to_vec();
    let signed = attrs.to_der().map_err(|e| e.to_string())?;
    if !verify_signature(
        signer.tbs_certificate().subject_public_key_info(),
        &info.signature_algorithm.oid,
        digest_algorithm,
        &signed,
        info.signature.as_bytes(),
    ) {
        return Err(
            "the signature over the signed attributes does not verify with the signer's certificate".into(),
        );
    }
    let content = encapsulated(&data, digest_algorithm, &message_digest)?;
    Ok(SignedMessage {
        signer,
        certificates,
        content_type,
        content,
        digest_algorithm,
        message_digest,
        signed_attributes: attrs.iter().map(|a| a.oid).collect(),
        ess_certificate_sha256: value(ID_SIGNING_CERTIFICATE_V2)
            .and_then(|v| v.decode_as::<SigningCertificateV2>().ok())
            .and_then(|ess| ess.certs.first().map(|c| c.cert_hash.as_bytes().to_vec())),
        signer_infos,
    })
}

/// The SignedData of a DER CMS ContentInfo (zero padding after it allowed, nothing else).
fn signed_data(bytes: &[u8]) -> Result<SignedData, String> {
    let mut reader = der::SliceReader::new(bytes).map_err(|e| e.to_string())?;
    let info = <ContentInfo as der::Decode>::decode(&mut reader).map_err(|e| format!("not CMS: {e}"))?;
    if !bytes[usize::try_from(reader.position()).unwrap_or(bytes.len())..]
        .iter()
        .all(|&b| b == 0)
    {
        return Err("bytes follow the CMS structure".into());
    }
    if info.content_type != ID_SIGNED_DATA {
        return Err(format!("content type {} is not SignedData", info.content_type));
    }
    info.content.decode_as().map_err(|e| format!("SignedData: {e}"))
}

/// The encapsulated content, if any, checked against the signed message digest.
fn encapsulated(
    data: &SignedData,
    digest_algorithm: HashAlgorithm,
    message_digest: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let Some(any) = &data.encap_content_info.econtent else {
        return Ok(None);
    };
    let octets: OctetString = any.decode_as().map_err(|e| format!("content: {e}"))?;
    if digest_algorithm.hash(octets.as_bytes()) != message_digest {
        return Err("the encapsulated content does not match the signed message digest".into());
    }
    Ok(Some(octets.as_bytes().to_vec()))
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            tbs.get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if own == *ski
        ),
    }
}

/// `true` if `certificate` was signed by the key of `issuer`.
pub fn issued_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = certificate.tbs_certificate().to_der() else {
        return false;
    };
    let Some(signature) = certificate.signature().as_bytes() else {
        return false;
    };
    let oid = certificate.signature_algorithm().oid;
    let hash = signature_hash(&oid).unwrap_or(HashAlgorithm::Sha256);
    certificate.tbs_certificate().issuer() == issuer.tbs_certificate().subject()
        && verify_signature(
            issuer.tbs_certificate().subject_public_key_info(),
            &oid,
            hash,
            &tbs,
            signature,
        )
}

/// The hash an `…WithSHA…` signature algorithm names.
fn signature_hash(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    Some(match oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => HashAlgorithm::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => HashAlgorithm::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => HashAlgorithm::Sha512,
        _ => return None,
    })
}

/// Checks an ECDSA (P-256/P-384) or RSA PKCS#1 v1.5 signature with ring. `signature_algorithm`
/// may be a bare `rsaEncryption` or `ecPublicKey`, in which case `digest` names the hash.
pub fn verify_signature(
    key: &SubjectPublicKeyInfoOwned,
    signature_algorithm: &ObjectIdentifier,
    digest: HashAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    use ring::signature as rs;
    let hash = signature_hash(signature_algorithm).unwrap_or(digest);
    let Some(public) = key.subject_public_key.as_bytes() else {
        return false;
    };
    let key_type = key.algorithm.oid.to_string();
    let algorithm: &dyn rs::VerificationAlgorithm = match key_type.as_str() {
        "1.2.840.10045.2.1" => {
            let curve = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            match (curve.as_deref(), hash) {
                (Some("1.2.840.10045.3.1.7"), HashAlgorithm::Sha256) => &rs::ECDSA_P256_SHA256_ASN1,
                (Some("1.2.840.10045.3.1.7"), HashAlgorithm::Sha384) => &rs::ECDSA_P256_SHA384_ASN1,
                (Some("1.3.132.0.34"), HashAlgorithm::Sha256) => &rs::ECDSA_P384_SHA256_ASN1,
                (Some("1.3.132.0.34"), HashAlgorithm::Sha384) => &rs::ECDSA_P384_SHA384_ASN1,
                _ => return false,
            }
        }
        "1.2.840.113549.1.1.1" => match hash {
            HashAlgorithm::Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
            HashAlgorithm::Sha384 => &rs::RSA_PKCS1_2048_8192_SHA384,
            HashAlgorithm::Sha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
        },
        _ => return false,
    };
    rs::UnparsedPublicKey::new(algorithm, public)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::sign::{Algorithm, keygen};

    #[test]
    fn detached_signature_opens_verifies_and_is_deterministic() {
        for algorithm in [Algorithm::EcdsaP256Sha256, Algorithm::EcdsaP384Sha384] {
            let dir = std::env::temp_dir().join(format!(
                "scanwerk-cms-{}-{}",
                std::process::id(),
                algorithm.name()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let key = SigningKey::load(&keygen(&dir, algorithm).unwrap().private).unwrap();
            let cert = dir.join("cert.pem");
            std::fs::write(&cert, super::super::cert::self_signed(&key, "Test", 1).unwrap()).unwrap();
            let chain = CertificateChain::load(&cert, &key).unwrap();
            let digest = algorithm.digest().hash(b"the signed bytes");
            let der = sign_detached(&key, &chain, &digest).unwrap();
            assert!(der.len() <= max_detached_len(&chain));
            assert_eq!(der, sign_detached(&key, &chain, &digest).unwrap());

            let mut padded = der.clone();
            padded.resize(der.len() + 100, 0);
            let message = open_signed(&padded).unwrap();
            assert_eq!(message.message_digest, digest);
            assert_eq!(message.digest_algorithm, algorithm.digest());
            assert!(message.content.is_none());
            assert_eq!(message.signer, *chain.signer());
            assert!(message.signed_attributes.contains(&ID_SIGNING_CERTIFICATE_V2));
            assert!(!message.signed_attributes.contains(&ID_SIGNING_TIME));
            let cert_der = chain.signer().to_der().unwrap();
            assert_eq!(
                message.ess_certificate_sha256,
                Some(HashAlgorithm::Sha256.hash(&cert_der))
            );
            assert!(issued_by(chain.signer(), chain.signer()), "self-signed");

            // A flipped bit anywhere in the signature value is caught.
            let mut bad = der.clone();
            let at = bad.len() - 10;
            bad[at] ^= 1;
            assert!(open_signed(&bad).is_err());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
