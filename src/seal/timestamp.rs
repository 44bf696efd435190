//! RFC 3161 time stamps on the batch hash-tree root.
//!
//! The root of `hashtree.json` is itself a hash (RFC 4998), so it is the message imprint as it is:
//! `openssl ts -verify -digest <root> -in hashtree.tsr -CAfile <tsa-ca>` checks the token without
//! scanwerk. The query goes to the profile's time-stamp service by HTTP POST
//! (`application/timestamp-query`); offline, the query is written as `hashtree.tsq` and
//! `scanwerk timestamp attach` adds the reply (`hashtree.tsr`) later. Either way the reply is
//! checked before it is stored: status granted, the TSA's signature, our imprint and our nonce.
//!
//! ASN.1 types are written out here (RFC 3161 section 2.4) on `der`; RustCrypto's `x509-tsp`
//! is not yet released for the `der` 0.8 that `cms` and `x509-cert` use.

use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use super::cms::{self, issued_by};
use super::hash::{HashAlgorithm, hex};

const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

#[derive(Clone, Debug, Sequence)]
pub struct TimeStampReq {
    pub version: u8,
    pub message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
}

#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfoAny,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// The status as it comes (the free text is kept undecoded).
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfoAny {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Any>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("time-stamp service {url}: {message}")]
    Service { url: String, message: String },
    #[error("time-stamp reply: {0}")]
    Reply(String),
    #[error("cannot encode the time-stamp query: {0}")]
    Encode(#[from] der::Error),
}

/// A time-stamp query for `root` (hashed with `algorithm`), asking for the TSA's certificate and
/// carrying a fresh random nonce.
pub fn query(algorithm: HashAlgorithm, root: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let mut nonce = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
        .map_err(|_| TimestampError::Reply("the system random generator failed".into()))?;
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01;
    let request = TimeStampReq {
        version: 1,
        message_imprint: imprint(algorithm, root)?,
        req_policy: None,
        nonce: Some(Int::new(&nonce)?),
        cert_req: true,
    };
    Ok(request.to_der()?)
}

fn imprint(algorithm: HashAlgorithm, root: &[u8]) -> Result<MessageImprint, der::Error> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: algorithm.oid(),
            parameters: None,
        },
        hashed_message: OctetString::new(root)?,
    })
}

/// Sends `query` to the time-stamp service at `url` and returns the reply's bytes.
pub fn request(url: &str, query: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let err = |message: String| TimestampError::Service {
        url: url.into(),
        message,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(query)
        .map_err(|e| err(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(format!("HTTP status {status}")));
    }
    response
        .body_mut()
        .with_config()
        .limit(4 << 20)
        .read_to_vec()
        .map_err(|e| err(e.to_string()))
}

/// The time-stamp token (DER `ContentInfo`) of a granted reply, as an evidence record holds it.
pub fn token_of(reply: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let bad = |m: String| TimestampError::Reply(m);
    let response = TimeStampResp::from_der(reply).map_err(|e| bad(format!("not a TimeStampResp: {e}")))?;
    Ok(response
        .time_stamp_token
        .ok_or_else(|| bad("no token".into()))?
        .to_der()?)
}

/// What a verified time stamp says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimeStamp {
    /// The time the TSA vouches for, RFC 3339 UTC.
    pub time: String,
    /// The TSA certificate's subject.
    pub tsa: String,
    pub policy: String,
    pub serial: String,
    /// True if the TSA certificate was checked against a trust anchor given to `verify`.
    pub tsa_trusted: bool,
}

/// Checks a `TimeStampResp`: granted, signed by the TSA certificate it carries (which must be
/// for time stamping), over `root` with `algorithm`, and, if `query` is given, with its nonce.
/// With `tsa_roots`, the TSA certificate must be one of them or issued by one.
pub fn check_reply(
    reply: &[u8],
    algorithm: HashAlgorithm,
    root: &[u8],
    query: Option<&[u8]>,
    tsa_roots: &[Certificate],
) -> Result<TimeStamp, TimestampError> {
    let bad = |m: String| TimestampError::Reply(m);
    let response = TimeStampResp::from_der(reply).map_err(|e| bad(format!("not a TimeStampResp: {e}")))?;
    if response.status.status > 1 {
        return Err(bad(format!(
            "the service refused (PKIStatus {}){}",
            response.status.status,
            response
                .status
                .status_string
                .and_then(|s| s.decode_as::<Vec<String>>().ok())
                .map(|s| format!(": {}", s.join("; ")))
                .unwrap_or_default()
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| bad("granted, but no token".into()))?
        .to_der()?;
    let message = cms::open_signed(&token).map_err(|e| bad(format!("the token: {e}")))?;
    if message.content_type != ID_CT_TST_INFO {
        return Err(bad("the token does not hold a TSTInfo".into()));
    }
    let info = TstInfo::from_der(message.content.as_deref().unwrap_or_default())
        .map_err(|e| bad(format!("TSTInfo: {e}")))?;
    if info.message_imprint != imprint(algorithm, root)? {
        return Err(bad(format!(
            "the token stamps another hash, not the hash-tree root {}",
            hex(root)
        )));
    }
    if let Some(query) = query {
        let asked = TimeStampReq::from_der(query).map_err(|e| bad(format!("the query: {e}")))?;
        if asked.message_imprint != info.message_imprint {
            return Err(bad("the query was for another hash".into()));
        }
        if asked.nonce.is_some() && asked.nonce != info.nonce {
            return Err(bad(
                "the token's nonce is not the query's: a reply to another query".into(),
            ));
        }
    }
    let eku: Option<(bool, x509_cert::ext::pkix::ExtendedKeyUsage)> =
        message.signer.tbs_certificate().get_extension().ok().flatten();
    if !eku.is_some_and(|(_, usage)| usage.0.contains(&ID_KP_TIME_STAMPING)) {
        return Err(bad(
            "the signer's certificate is not for time stamping (extended key usage)".into(),
        ));
    }
    let tsa_trusted = !tsa_roots.is_empty();
    if tsa_trusted {
        let chained = |cert: &Certificate| tsa_roots.iter().any(|root| root == cert || issued_by(cert, root));
        let intermediates = message
            .certificates
            .iter()
            .filter(|c| issued_by(&message.signer, c));
        if !chained(&message.signer) && !intermediates.clone().any(chained) {
            return Err(bad(format!(
                "the TSA certificate {} does not chain to the trusted TSA certificates",
                message.signer.tbs_certificate().subject()
            )));
        }
    }
    let time = time::OffsetDateTime::from(info.gen_time.to_system_time())
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| bad(e.to_string()))?;
    Ok(TimeStamp {
        time,
        tsa: message.signer.tbs_certificate().subject().to_string(),
        policy: info.policy.to_string(),
        serial: hex(info.serial_number.as_bytes()),
        tsa_trusted,
    })
}

/// Reads PEM certificates (trust anchors for TSAs).
pub fn load_roots(path: &std::path::Path) -> Result<Vec<Certificate>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let roots: Vec<Certificate> = super::sign::pem_decode_all(&bytes, "CERTIFICATE")
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
    if roots.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_a_v1_request_for_the_root_with_certificate_and_nonce() {
        let root = HashAlgorithm::Sha256.hash(b"root");
        let der = query(HashAlgorithm::Sha256, &root).unwrap();
        let req = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(req.version, 1);
        assert!(req.cert_req);
        assert_eq!(req.message_imprint.hashed_message.as_bytes(), root);
        assert_eq!(
            req.message_imprint.hash_algorithm.oid,
            HashAlgorithm::Sha256.oid()
        );
        assert!(req.nonce.is_some());
        assert_ne!(der, query(HashAlgorithm::Sha256, &root).unwrap(), "fresh nonce");
    }

    #[test]
    fn a_reply_that_is_not_one_is_refused() {
        let root = HashAlgorithm::Sha256.hash(b"root");
        assert!(check_reply(b"\x30\x03\x02\x01\x02", HashAlgorithm::Sha256, &root, None, &[]).is_err());
        assert!(check_reply(b"junk", HashAlgorithm::Sha256, &root, None, &[]).is_err());
    }
}
