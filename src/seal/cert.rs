//! Signer certificates: the chain configured with a key, and self-signed test certificates.
//!
//! A PAdES signature names its signer by an X.509 certificate. In production the certificate
//! comes from a trust service (for "hoch": a qualified one); `keygen --cert` makes a self-signed
//! one with the nonRepudiation key usage so demos and tests can sign and validate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use p256::ecdsa::signature::Keypair;
use p256::pkcs8::DecodePublicKey;
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey};

use super::sign::{Algorithm, SigningKey, pem_decode_all, pem_encode};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read certificate {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "certificate {path} holds no PEM \"CERTIFICATE\" block; give the signer's certificate first, then its issuers"
    )]
    Empty { path: PathBuf },
    #[error("certificate {path}, block {index}: not an X.509 certificate: {reason}")]
    Parse {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error(
        "certificate {path} is for another key (certificate key {certificate}, signing key {key}); \
         configure the certificate issued for the signing key"
    )]
    WrongKey {
        path: PathBuf,
        certificate: String,
        key: String,
    },
    #[error("cannot make a certificate: {0}")]
    Build(String),
}

/// The signer's certificate followed by its issuers, as DER, checked against the signing key.
#[derive(Debug, Clone)]
pub struct CertificateChain {
    pub certificates: Vec<Certificate>,
    pub path: PathBuf,
}

impl CertificateChain {
    /// Reads a PEM chain (signer first) and checks that the signer's public key is `key`'s.
    pub fn load(path: &Path, key: &SigningKey) -> Result<CertificateChain, CertError> {
        let bytes = std::fs::read(path).map_err(|source| CertError::Read {
            path: path.into(),
            source,
        })?;
        let blocks = pem_decode_all(&bytes, "CERTIFICATE");
        if blocks.is_empty() {
            return Err(CertError::Empty { path: path.into() });
        }
        let certificates = blocks
            .iter()
            .enumerate()
            .map(|(i, der)| {
                Certificate::from_der(der).map_err(|e| CertError::Parse {
                    path: path.into(),
                    index: i + 1,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let spki = certificates[0]
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| CertError::Build(e.to_string()))?;
        let public = key.public();
        if spki != public.spki {
            return Err(CertError::WrongKey {
                path: path.into(),
                certificate: super::hash::sha256_hex(&spki),
                key: public.fingerprint(),
            });
        }
        Ok(CertificateChain {
            certificates,
            path: path.into(),
        })
    }

    pub fn signer(&self) -> &Certificate {
        &self.certificates[0]
    }

    /// The signer's subject as RFC 4514 text, for the protocol and the operator.
    pub fn subject(&self) -> String {
        self.signer().tbs_certificate().subject().to_string()
    }

    /// SHA-256 (hex) of the signer certificate's DER.
    pub fn sha256(&self) -> String {
        self.signer()
            .to_der()
            .map(|d| super::hash::sha256_hex(&d))
            .unwrap_or_default()
    }

    /// Total DER size of the chain: what a CMS signature carrying it needs at least.
    pub fn der_len(&self) -> usize {
        self.certificates
            .iter()
            .map(|c| c.to_der().map_or(0, |d| d.len()))
            .sum()
    }
}

/// A self-signed end-entity certificate: not a CA, key usage digitalSignature + nonRepudiation.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        use x509_cert::ext::ToExtension;
        let subject = tbs.subject();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation);
        let basic = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        Ok(vec![
            (true, &basic).to_extension(subject, &[])?,
            (true, &usage).to_extension(subject, &[])?,
            (false, &ski).to_extension(subject, &[])?,
        ])
    }
}

/// A self-signed certificate for `key`, valid from now for `days`, as PEM.
pub fn self_signed(key: &SigningKey, common_name: &str, days: u64) -> Result<String, CertError> {
    let err = |e: &dyn std::fmt::Display| CertError::Build(e.to_string());
    let subject: Name = format!("CN={}", escape_rdn(common_name))
        .parse()
        .map_err(|e: der::Error| err(&e))?;
    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| CertError::Build("the system random generator failed".into()))?;
    serial[0] &= 0x7f;
    serial[0] |= 0x40;
    let serial = SerialNumber::new(&serial).map_err(|e| err(&e))?;
    let validity = Validity::from_now(Duration::from_secs(days * 86_400)).map_err(|e| err(&e))?;
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(&key.public().spki).map_err(|e| err(&e))?;
    let builder =
        CertificateBuilder::new(SelfSigned { subject }, serial, validity, spki).map_err(|e| err(&e))?;
    let public = &key.public().spki;
    let der = match key.algorithm() {
        Algorithm::EcdsaP256Sha256 => sign_certificate(
            builder,
            key,
            p256::ecdsa::VerifyingKey::from_public_key_der(public).map_err(|e| err(&e))?,
        ),
        Algorithm::EcdsaP384Sha384 => sign_certificate(
            builder,
            key,
            p384::ecdsa::VerifyingKey::from_public_key_der(public).map_err(|e| err(&e))?,
        ),
    }?;
    Ok(pem_encode(&der, "CERTIFICATE"))
}

/// The issuer as the certificate builder sees it: a public key and the signature algorithm. The
/// signing itself is [`SigningKey::sign`], so a file's key and a token's key sign alike.
struct Issuer<V> {
    public: V,
    algorithm: Algorithm,
}

impl<V: Clone> Keypair for Issuer<V> {
    type VerifyingKey = V;
    fn verifying_key(&self) -> V {
        self.public.clone()
    }
}

impl<V: Clone> DynSignatureAlgorithmIdentifier for Issuer<V> {
    fn signature_algorithm_identifier(&self) -> spki::Result<spki::AlgorithmIdentifierOwned> {
        Ok(spki::AlgorithmIdentifierOwned {
            oid: self.algorithm.signature_oid(),
            parameters: None,
        })
    }
}

/// Signs the certificate's TBS part with `key` and assembles the certificate (DER).
fn sign_certificate<V: Clone + EncodePublicKey>(
    mut builder: CertificateBuilder<SelfSigned>,
    key: &SigningKey,
    public: V,
) -> Result<Vec<u8>, CertError> {
    let err = |e: &dyn std::fmt::Display| CertError::Build(e.to_string());
    let issuer = Issuer {
        public,
        algorithm: key.algorithm(),
    };
    let tbs = builder.finalize(&issuer).map_err(|e| err(&e))?;
    let signature = key.sign(&tbs).map_err(|e| err(&e))?;
    let signature = der::asn1::BitString::from_bytes(&signature).map_err(|e| err(&e))?;
    let cert = builder.assemble(signature, &issuer).map_err(|e| err(&e))?;
    cert.to_der().map_err(|e| err(&e))
}

/// Escapes the characters RFC 4514 reserves in an attribute value.
fn escape_rdn(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        let reserved = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i + 1 == value.chars().count() && c == ' ');
        if reserved {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::sign::keygen;

    #[test]
    fn self_signed_certificate_belongs_to_its_key_and_names_the_signer() {
        for algorithm in [Algorithm::EcdsaP256Sha256, Algorithm::EcdsaP384Sha384] {
            let dir = std::env::temp_dir().join(format!(
                "scanwerk-cert-{}-{}",
                std::process::id(),
                algorithm.name()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let files = keygen(&dir, algorithm).unwrap();
            let key = SigningKey::load(&files.private).unwrap();
            let pem = self_signed(&key, "Erika Mustermann, Scanstelle", 30).unwrap();
            let path = dir.join("cert.pem");
            std::fs::write(&path, &pem).unwrap();
            let chain = CertificateChain::load(&path, &key).unwrap();
            assert_eq!(chain.subject(), "CN=Erika Mustermann\\, Scanstelle");
            let usage: KeyUsage = chain
                .signer()
                .tbs_certificate()
                .get_extension()
                .unwrap()
                .unwrap()
                .1;
            assert!(usage.non_repudiation() && usage.digital_signature());

            let other = dir.join("other");
            let other_key = SigningKey::load(&keygen(&other, algorithm).unwrap().private).unwrap();
            assert!(matches!(
                CertificateChain::load(&path, &other_key),
                Err(CertError::WrongKey { .. })
            ));
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
