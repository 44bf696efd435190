//! `scanwerk keygen` and `scanwerk keys`: signing keys in files and in PKCS#11 tokens.

use std::path::Path;

use scanwerk::Exit;
use scanwerk::seal::sign::{Algorithm, KeyError, SigningKey, TrustedKey};
use scanwerk::seal::token::{self, TokenUri};

use super::commands::error;

/// The file the public key is written to beside (or instead of) the private key.
const PUBLIC: &str = "signing-key.pub.pem";
const CERTIFICATE: &str = "signing-cert.pem";

pub(super) fn keygen(out: &Path, pkcs11: Option<&str>, curve: &str, cert: Option<(&str, u64)>) -> Exit {
    let algorithm = match curve {
        "p384" => Algorithm::EcdsaP384Sha384,
        _ => Algorithm::EcdsaP256Sha256,
    };
    let made = match pkcs11 {
        Some(uri) => keygen_in_token(out, uri, algorithm, cert),
        None => keygen_in_file(out, algorithm, cert),
    };
    match made {
        Ok(()) => Exit::Ok,
        Err(e) => {
            error(&e);
            Exit::Usage
        }
    }
}

fn keygen_in_file(out: &Path, algorithm: Algorithm, cert: Option<(&str, u64)>) -> Result<(), String> {
    let files = scanwerk::seal::sign::keygen(out, algorithm).map_err(|e| e.to_string())?;
    println!(
        "private key: {} (mode 0600, {})",
        files.private.display(),
        algorithm.curve()
    );
    println!("public key:  {}", files.public.display());
    println!("fingerprint: {}", files.fingerprint);
    if let Some((name, days)) = cert {
        let key = SigningKey::load(&files.private).map_err(|e| e.to_string())?;
        certificate(out, &key, name, days)?;
    }
    Ok(())
}

/// A key pair made in the token; its public key (and certificate) written to `out` as well.
fn keygen_in_token(
    out: &Path,
    uri: &str,
    algorithm: Algorithm,
    cert: Option<(&str, u64)>,
) -> Result<(), String> {
    let parsed = TokenUri::parse(uri).map_err(|e| e.to_string())?;
    let public_path = out.join(PUBLIC);
    let cert_path = out.join(CERTIFICATE);
    for p in [&public_path, &cert_path] {
        if p.exists() {
            return Err(KeyError::Exists(p.clone()).to_string());
        }
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let curve = match algorithm {
        Algorithm::EcdsaP256Sha256 => token::Curve::P256,
        Algorithm::EcdsaP384Sha384 => token::Curve::P384,
    };
    let spki = token::generate(&parsed, None, curve).map_err(|e| e.to_string())?;
    let public = TrustedKey::from_spki(&spki).ok_or("the token made a key that is not P-256/P-384")?;
    write(&public_path, public.to_pem().as_bytes())?;
    println!(
        "private key: {uri} (in {}, {})",
        parsed.token_name(),
        algorithm.curve()
    );
    println!("public key:  {}", public_path.display());
    println!("fingerprint: {}", public.fingerprint());
    if let Some((name, days)) = cert {
        let key = SigningKey::open(Path::new(uri), None).map_err(|e| e.to_string())?;
        let pem = certificate(out, &key, name, days)?;
        let der = scanwerk::seal::sign::pem_decode(pem.as_bytes(), "CERTIFICATE").unwrap_or_default();
        token::store_certificate(&parsed, None, &der).map_err(|e| e.to_string())?;
        println!("             (the certificate is stored in the token beside the key, too)");
    }
    Ok(())
}

/// A self-signed test certificate for `key` in `out`; its PEM.
fn certificate(out: &Path, key: &SigningKey, name: &str, days: u64) -> Result<String, String> {
    let path = out.join(CERTIFICATE);
    let pem = scanwerk::seal::cert::self_signed(key, name, days).map_err(|e| e.to_string())?;
    write(&path, pem.as_bytes())?;
    println!(
        "certificate: {} (self-signed, {days} days; for tests and demos)",
        path.display()
    );
    Ok(pem)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `keys list --pkcs11 URI [--pem]`: the token's objects; private keys by label and id only.
pub(super) fn list(uri: &str, pem: bool) -> Exit {
    let listed = TokenUri::parse(uri).and_then(|parsed| token::list(&parsed, None));
    let (token, objects) = match listed {
        Ok(listed) => listed,
        Err(e) => {
            error(&e);
            return Exit::Usage;
        }
    };
    println!("{token}: {} objects", objects.len());
    for object in &objects {
        let key = object.public.as_deref().and_then(TrustedKey::from_spki);
        let public = key
            .as_ref()
            .map(|p| format!("  {}  {}", p.algorithm().curve(), p.fingerprint()))
            .unwrap_or_default();
        println!(
            "  {:<12} {:<24} id {}{public}",
            object.class, object.label, object.id
        );
        if let (true, Some(public)) = (pem, &key) {
            print!("{}", public.to_pem());
        }
    }
    Exit::Ok
}
