//! Configuration in two steps: what the operator asked for ([`IngestOptions`], from the command
//! line) plus the batch sheet and the profile → one validated [`Config`], built once and passed
//! down by reference. Every problem is found before any page is read and reported together, and
//! none that only follows from another (a profile that cannot be read hides its `seal.key`).

use std::path::{Path, PathBuf};

use crate::batch::Batch;
use crate::profile::{self, Profile};
use crate::seal::{self, SigningKey};
use crate::{layout, separate};

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct IngestOptions {
    pub batch_dir: PathBuf,
    pub archive: PathBuf,
    /// Profile name or file; default: the batch sheet's, else `standard`.
    pub profile: Option<String>,
    /// Signing key; default: the profile's `seal.key`.
    pub key: Option<PathBuf>,
    /// Certificate chain for the key (PEM, signer first); default: the profile's
    /// `seal.certificate`. With one, every PDF gets a PAdES signature.
    pub cert: Option<PathBuf>,
    /// Worker threads; default: the number of cores.
    pub threads: Option<usize>,
}

/// A validated ingest configuration, built once and passed down by reference.
pub struct Config {
    pub batch: Batch,
    /// Archive folder the batch is published into.
    pub archive: PathBuf,
    pub profile: Profile,
    pub key: SigningKey,
    /// The key's certificate chain, when PDFs are to carry PAdES signatures.
    pub certificate: Option<seal::cert::CertificateChain>,
    /// Worker threads, at least 1.
    pub threads: usize,
    /// Responsible operator and where the name came from (`batch.toml` or `user`).
    pub operator: (String, &'static str),
    /// Told how the batch goes (a progress bar); nothing by default.
    pub progress: std::sync::Arc<dyn crate::progress::Progress>,
    /// How the pages became documents (the profile's, or the batch sheet's `separation`).
    pub separation: profile::separation::Mode,
    /// The separator sheets the batch was split at.
    pub separators: Vec<separate::Separator>,
    /// What was asked for, paths made absolute: kept with a batch left for review, so sealing it
    /// later reads the same batch, profile and keys.
    pub origin: IngestOptions,
}

/// Every configuration problem found, listed together.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the batch:\n{}", problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Validates `opts` with the batch sheet and the profile; every problem at once.
    pub fn new(opts: &IngestOptions) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let batch = Batch::open(&opts.batch_dir)
            .map_err(|e| problems.push(format!("{e:#}")))
            .ok();
        let profile = load_profile(opts, batch.as_ref(), &mut problems);
        let (key, certificate, has_cert) = load_keys(opts, profile.as_ref(), &mut problems);
        if let (Some(profile), Some(batch)) = (&profile, &batch) {
            problems.extend(protection_gaps(profile, batch, has_cert));
        }
        check_archive(&opts.archive, &mut problems);
        if opts.threads == Some(0) {
            problems.push("--threads must be at least 1".into());
        }
        match (batch, profile, key, problems.is_empty()) {
            (Some(batch), Some(profile), Some(key), true) => {
                Config::separated(opts, batch, profile, key, certificate)
            }
            _ => Err(ConfigError { problems }),
        }
    }

    /// The configuration once everything is valid: the batch split into documents as the profile
    /// and the batch sheet say.
    fn separated(
        opts: &IngestOptions,
        mut batch: Batch,
        profile: Profile,
        key: SigningKey,
        certificate: Option<seal::cert::CertificateChain>,
    ) -> Result<Config, ConfigError> {
        let one = |problem: String| ConfigError {
            problems: vec![problem],
        };
        let settings = profile
            .separation
            .for_batch(&batch.sheet)
            .map_err(|e| one(format!("{}: {e}", batch.dir.join(layout::SHEET).display())))?;
        let separators =
            separate::apply(&mut batch, &settings, &profile.limits).map_err(|e| one(e.to_string()))?;
        if batch.documents.is_empty() {
            return Err(one(format!(
                "batch folder {} holds only separator sheets ({}), no document pages",
                batch.dir.display(),
                separators.len()
            )));
        }
        let operator = match &batch.sheet.operator {
            Some(name) => (name.clone(), "batch.toml"),
            None => (current_user(), "user"),
        };
        Ok(Config {
            batch,
            archive: opts.archive.clone(),
            profile,
            key,
            certificate,
            threads: opts.threads.unwrap_or_else(default_threads),
            operator,
            progress: std::sync::Arc::new(crate::progress::NoProgress),
            separation: settings.mode,
            separators,
            origin: absolute(opts),
        })
    }
}

/// The profile named on the command line, else by the batch sheet, else the default.
fn load_profile(opts: &IngestOptions, batch: Option<&Batch>, problems: &mut Vec<String>) -> Option<Profile> {
    let spec = opts
        .profile
        .clone()
        .or_else(|| batch.and_then(|b| b.sheet.profile.clone()))
        .unwrap_or_else(|| profile::DEFAULT.to_string());
    profile::load(&spec)
        .map_err(|e| problems.push(e.to_string()))
        .ok()
}

/// The signing key and its certificate chain (from the command line, else the profile), the key
/// matching the profile's curve; and whether a certificate was asked for.
fn load_keys(
    opts: &IngestOptions,
    profile: Option<&Profile>,
    problems: &mut Vec<String>,
) -> (Option<SigningKey>, Option<seal::cert::CertificateChain>, bool) {
    let key_path = opts.key.clone().or_else(|| profile.and_then(|p| p.key.clone()));
    let key = match &key_path {
        Some(path) => SigningKey::open(path, profile.and_then(|p| p.pkcs11_module.as_deref()))
            .map_err(|e| problems.push(e.to_string()))
            .ok(),
        // Without a readable profile its seal.key is unknown: that problem is reported.
        None if profile.is_none() => None,
        None => {
            problems.push(
                "no signing key: give --key FILE or set seal.key in the profile \
                 (make one with `scanwerk keygen --out DIR`)"
                    .into(),
            );
            None
        }
    };
    if let (Some(key), Some(profile)) = (&key, profile)
        && key.algorithm() != profile.signature
    {
        problems.push(format!(
            "key {} is {} but profile {} signs with {}: use a {} key (`scanwerk keygen --curve {}`) \
             or change seal.signature",
            key_path.as_deref().unwrap_or(Path::new("?")).display(),
            key.algorithm().curve(),
            profile.id,
            profile.signature.curve(),
            profile.signature.curve(),
            profile.signature.curve().to_lowercase().replace('-', ""),
        ));
    }
    let cert_path = opts
        .cert
        .clone()
        .or_else(|| profile.and_then(|p| p.certificate.clone()));
    let certificate = match (&cert_path, &key) {
        (Some(path), Some(key)) => seal::cert::CertificateChain::load(path, key)
            .map_err(|e| problems.push(e.to_string()))
            .ok(),
        _ => None,
    };
    (key, certificate, cert_path.is_some())
}

/// The archive folder must exist and be a folder.
fn check_archive(archive: &Path, problems: &mut Vec<String>) {
    if let Err(e) = crate::archive::usable(archive) {
        problems.push(format!(
            "archive folder {}: {e}; create it first",
            archive.display()
        ));
    }
}

/// What the profile's protection level requires but the batch lacks (TR-RESISCAN IN.H.1,
/// IN.SH.1), each as an instruction. Checked before any page is read.
fn protection_gaps(profile: &Profile, batch: &Batch, has_certificate: bool) -> Vec<String> {
    use profile::{Protection, TimestampPolicy};
    let level = profile.protection;
    let mut gaps = Vec::new();
    if level >= Protection::Hoch {
        if !has_certificate {
            gaps.push(format!(
                "profile {} has protection \"{}\", which requires a certificate-based signature in every PDF: \
                 give --cert FILE (PEM chain, signer first) or set seal.certificate in the profile",
                profile.id,
                level.name()
            ));
        }
        if batch
            .sheet
            .operator
            .as_deref()
            .is_none_or(|o| o.trim().is_empty())
        {
            gaps.push(format!(
                "profile {} has protection \"{}\", which requires the responsible person by name: \
                 set operator = \"First Last\" in {}",
                profile.id,
                level.name(),
                batch.dir.join("batch.toml").display()
            ));
        }
    }
    if level >= Protection::SehrHoch && profile.timestamp == TimestampPolicy::Off {
        gaps.push(format!(
            "profile {} has protection \"{}\", which requires a time stamp on the batch: \
             set seal.tsa_url = \"http://…\" (or seal.timestamp = \"offline\" and attach the reply later)",
            profile.id,
            level.name()
        ));
    }
    gaps
}

/// `opts` with every path that exists made absolute (a profile given by name stays a name).
fn absolute(opts: &IngestOptions) -> IngestOptions {
    let abs = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    IngestOptions {
        batch_dir: abs(&opts.batch_dir),
        archive: abs(&opts.archive),
        profile: opts.profile.as_ref().map(|p| {
            if Path::new(p).exists() && (p.contains('/') || p.ends_with(".toml")) {
                abs(&PathBuf::from(p)).to_string_lossy().into_owned()
            } else {
                p.clone()
            }
        }),
        key: opts.key.as_ref().map(abs),
        cert: opts.cert.as_ref().map(abs),
        threads: opts.threads,
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The account this process runs as: `$USER`, `$LOGNAME`, else `uid N`.
pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() }))
}
