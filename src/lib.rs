//! scanwerk: replacement scanning (TR-RESISCAN) from raw scanner images to sealed PDF archives.
//!
//! A batch folder goes through read → prepare → recognize → compose → seal → publish; each stage
//! is a module named after it (see `DESIGN.md`). This file holds the validated [`Config`], built
//! once from the command line, the batch sheet and the profile, and [`ingest`], which runs one
//! batch through the stages and publishes it atomically, or publishes nothing.

pub mod archive;
pub mod batch;
pub mod decode;
pub mod findings;
pub mod inbox;
pub mod journal;
pub mod json;
pub mod layout;
pub mod ocr;
pub mod pdfa;
pub mod pipeline;
pub mod prepare;
pub mod profile;
pub mod protocol;
pub mod report;
pub mod schema;
pub mod seal;
pub mod separate;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use archive::{ArchiveError, Staging};
use batch::Batch;
use json::to_json;
use pipeline::{DocumentFailure, PipelineError};
use profile::Profile;
use protocol::{Completeness, ProfileRef, Protocol, Software};
use seal::{Manifest, ManifestEntry, SigningKey};

/// What the operator asked for, before validation.
#[derive(Debug, Clone, Default)]
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
    pub progress: std::sync::Arc<dyn pipeline::Progress>,
    /// How the pages became documents (the profile's, or the batch sheet's `separation`).
    pub separation: profile::separation::Mode,
    /// The separator sheets the batch was split at.
    pub separators: Vec<separate::Separator>,
}

/// Every configuration problem found, listed together.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the batch:\n{}", problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    pub fn new(opts: &IngestOptions) -> Result<Config, ConfigError> {
        prepare::lept::quiet();
        let mut problems = Vec::new();
        let batch = Batch::open(&opts.batch_dir)
            .map_err(|e| problems.push(format!("{e:#}")))
            .ok();
        let spec = opts
            .profile
            .clone()
            .or_else(|| batch.as_ref().and_then(|b| b.sheet.profile.clone()))
            .unwrap_or_else(|| profile::DEFAULT.to_string());
        let profile = profile::load(&spec)
            .map_err(|e| problems.push(e.to_string()))
            .ok();
        let key_path = opts
            .key
            .clone()
            .or_else(|| profile.as_ref().and_then(|p| p.key.clone()));
        let key = match &key_path {
            Some(path) => SigningKey::load(path)
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
        if let (Some(key), Some(profile)) = (&key, &profile)
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
            .or_else(|| profile.as_ref().and_then(|p| p.certificate.clone()));
        let certificate = match (&cert_path, &key) {
            (Some(path), Some(key)) => seal::cert::CertificateChain::load(path, key)
                .map_err(|e| problems.push(e.to_string()))
                .ok(),
            _ => None,
        };
        if let (Some(profile), Some(batch)) = (&profile, &batch) {
            problems.extend(protection_gaps(profile, batch, cert_path.is_some()));
        }
        if let Err(e) = std::fs::metadata(&opts.archive).and_then(|m| {
            if m.is_dir() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a directory"))
            }
        }) {
            problems.push(format!(
                "archive folder {}: {e}; create it first",
                opts.archive.display()
            ));
        }
        if opts.threads == Some(0) {
            problems.push("--threads must be at least 1".into());
        }
        match (batch, profile, key, problems.is_empty()) {
            (Some(mut batch), Some(profile), Some(key), true) => {
                let settings = profile
                    .separation
                    .for_batch(&batch.sheet)
                    .map_err(|e| ConfigError {
                        problems: vec![format!("{}: {e}", batch.dir.join(layout::SHEET).display())],
                    })?;
                let separators =
                    separate::apply(&mut batch, &settings, &profile.limits).map_err(|e| ConfigError {
                        problems: vec![e.to_string()],
                    })?;
                if batch.documents.is_empty() {
                    return Err(ConfigError {
                        problems: vec![format!(
                            "batch folder {} holds only separator sheets ({}), no document pages",
                            batch.dir.display(),
                            separators.len()
                        )],
                    });
                }
                let operator = match &batch.sheet.operator {
                    Some(name) => (name.clone(), "batch.toml"),
                    None => (current_user(), "user"),
                };
                let threads = opts.threads.unwrap_or_else(default_threads);
                Ok(Config {
                    batch,
                    archive: opts.archive.clone(),
                    profile,
                    key,
                    certificate,
                    threads,
                    operator,
                    progress: std::sync::Arc::new(pipeline::NoProgress),
                    separation: settings.mode,
                    separators,
                })
            }
            _ => Err(ConfigError { problems }),
        }
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

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() }))
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("signing failed: {0}")]
    Sign(#[from] seal::sign::KeyError),
    #[error(
        "{} of {} documents failed; nothing was published and the input is untouched:\n{}",
        failures.len(), total,
        failures.iter().flat_map(|f| f.errors.iter().map(move |e| format!("- {}: {e}", f.document))).collect::<Vec<_>>().join("\n")
    )]
    DocumentsFailed {
        failures: Vec<DocumentFailure>,
        total: usize,
    },
    #[error(
        "the batch is incomplete: {0}; profile {1} refuses incomplete batches (quality.incomplete_batch \
         = \"refuse\"), so nothing was published and the input is untouched. Rescan what is missing, \
         or correct the batch sheet's counts"
    )]
    Incomplete(String, String),
    #[error(
        "{0}; nothing was published and the input is untouched. Run the batch again when the \
         service answers, or set seal.timestamp = \"offline\" to write the query and attach the \
         reply later with `scanwerk timestamp attach`"
    )]
    Timestamp(#[from] seal::timestamp::TimestampError),
    #[error("keeping a separator sheet's image: {0}; nothing was published and the input is untouched")]
    Separator(String),
    #[error(
        "batch folder {} changed while it was processed ({}); what was read may be only part of \
         the delivery, so nothing was published. Let the scanner finish, then hand the batch over \
         complete (write READY last, or build the folder elsewhere and move it in) and run it again",
        dir.display(),
        summarise_changes(changes)
    )]
    InputChanged { dir: PathBuf, changes: Vec<String> },
}

impl IngestError {
    /// True if the archive side failed (not writable, full): retrying the same batch later may
    /// succeed, so an unattended run puts it back and stops. Everything else is the batch's own
    /// fault and retrying cannot fix it.
    pub fn is_archive_fault(&self) -> bool {
        let io_fault = |e: &std::io::Error| {
            !matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            )
        };
        match self {
            IngestError::Archive(ArchiveError::Unusable { .. })
            | IngestError::Pipeline(PipelineError::Archive(ArchiveError::Unusable { .. })) => true,
            IngestError::Archive(ArchiveError::Write { source, .. })
            | IngestError::Pipeline(PipelineError::Archive(ArchiveError::Write { source, .. })) => {
                io_fault(source)
            }
            _ => false,
        }
    }
}

/// The first few changes, and how many more.
fn summarise_changes(changes: &[String]) -> String {
    let mut text = changes.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if changes.len() > 5 {
        text.push_str(&format!(" and {} more", changes.len() - 5));
    }
    text
}

/// Refuses a batch whose folder changed since it was read.
fn ensure_unchanged(batch: &Batch) -> Result<(), IngestError> {
    let changes = batch.changes();
    if changes.is_empty() {
        Ok(())
    } else {
        Err(IngestError::InputChanged {
            dir: batch.dir.clone(),
            changes,
        })
    }
}

/// What a successful ingest published.
#[derive(Debug)]
pub struct IngestReport {
    pub batch_id: String,
    pub published: PathBuf,
    pub documents: usize,
    /// Pages scanned.
    pub pages: usize,
    /// Pages in the PDFs (scanned minus removed blanks).
    pub pdf_pages: usize,
    /// How many pages carry each quality flag.
    pub flags: BTreeMap<String, usize>,
    /// `<document> page <n>: <flags>` for every page that needs review.
    pub review: Vec<String>,
    /// `<document> page <n>` for every page drawn for the visual spot check: compare it with
    /// the paper.
    pub spot_check: Vec<String>,
    /// `<document>: <reason>` for every document left without a PDF (all pages removed).
    pub empty_documents: Vec<String>,
    /// Whether the counts matched the batch sheet.
    pub complete: bool,
    pub warnings: Vec<String>,
    pub key_fingerprint: String,
    pub timings: StageTimes,
}

/// Where the time of a batch went: wall time, and CPU seconds per stage summed over threads.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageTimes {
    pub wall_seconds: f64,
    pub cpu_seconds: BTreeMap<&'static str, f64>,
}

impl StageTimes {
    /// Share of the CPU time spent outside OCR.
    pub fn non_ocr_share(&self) -> f64 {
        let total: f64 = self.cpu_seconds.values().sum();
        let ocr = self.cpu_seconds.get("ocr").copied().unwrap_or(0.0);
        if total > 0.0 { (total - ocr) / total } else { 0.0 }
    }
}

/// Ends the progress display however the batch ends.
struct EndProgress<'a>(&'a dyn pipeline::Progress);

impl Drop for EndProgress<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Runs one batch through every stage and publishes it, or publishes nothing.
pub fn ingest(config: &Config) -> Result<IngestReport, IngestError> {
    ingest_until(config, &std::sync::atomic::AtomicBool::new(false))
}

/// [`ingest`], stopping between pages once `stop` is set (then nothing is published).
pub fn ingest_until(
    config: &Config,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<IngestReport, IngestError> {
    let started = json::now_rfc3339();
    let wall = std::time::Instant::now();
    let timings = pipeline::Timings::default();
    let staging = Staging::create(&config.archive, &config.batch.id)?;
    config.progress.begin(&config.batch);
    let _end = EndProgress(&*config.progress);
    let output = pipeline::run(
        &config.batch,
        &config.profile,
        &config.operator.0,
        config.threads,
        pipeline::Target {
            staging: &staging,
            signer: config.certificate.as_ref().map(|chain| seal::cms::PadesSigner {
                key: &config.key,
                chain,
            }),
            context: journal::context(
                &config.profile.sha256,
                &config.key.public().fingerprint(),
                config.certificate.as_ref().map(|c| c.sha256()).as_deref(),
                &std::fs::read(config.batch.dir.join(layout::SHEET)).unwrap_or_default(),
            ),
            progress: &*config.progress,
        },
        stop,
        &timings,
    )?;
    let seal_started = pipeline::thread_cpu();
    if !output.failures.is_empty() {
        let total = config.batch.documents.len();
        return Err(IngestError::DocumentsFailed {
            failures: output.failures,
            total,
        });
    }
    ensure_unchanged(&config.batch)?;
    let mut protocol = batch_protocol(config, started, output.documents, output.empty, output.pages);
    protocol.resumed = output.resumed;
    protocol.separators = keep_separators(&staging, config)?;
    protocol.completeness.separator_sheets = protocol.separators.len();
    if !protocol.completeness.complete && config.profile.quality.refuse_incomplete {
        return Err(IngestError::Incomplete(
            protocol.warnings[0].clone(),
            config.profile.id.clone(),
        ));
    }
    protocol.qa_sample = Some(report::draw_sample(
        &protocol,
        config.profile.quality.qa_sample_percent,
    ));
    staging.write_file(layout::PROTOCOL, &to_json(&protocol))?;
    write_report(&staging, &protocol)?;
    seal_tree(&staging, config, &protocol)?;
    let manifest = seal_staging(&staging, config, &protocol)?;
    ensure_unchanged(&config.batch)?;
    let published = staging.publish()?;
    timings.add(
        pipeline::Stage::Seal,
        pipeline::thread_cpu().saturating_sub(seal_started),
    );
    let review: Vec<String> = protocol
        .documents
        .iter()
        .flat_map(|d| {
            d.flagged_pages
                .iter()
                .filter(|p| p.needs_review)
                .map(move |p| format!("{} page {}: {}", d.id, p.number, p.flags.join(", ")))
        })
        .collect();
    Ok(IngestReport {
        batch_id: config.batch.id.clone(),
        published,
        documents: protocol.documents.len(),
        pages: protocol.completeness.pages,
        pdf_pages: protocol.documents.iter().map(|d| d.pages).sum(),
        flags: protocol.transfer_note.quality.flags.clone(),
        review,
        spot_check: protocol
            .qa_sample
            .iter()
            .flat_map(|s| &s.pages)
            .map(|p| format!("{} page {}", p.document, p.page))
            .collect(),
        empty_documents: protocol
            .empty_documents
            .iter()
            .map(|d| format!("{}: {}", d.id, d.reason))
            .collect(),
        complete: protocol.completeness.complete,
        warnings: protocol
            .documents
            .iter()
            .flat_map(|d| d.warnings.iter().map(|w| format!("{}: {w}", d.id)))
            .chain(protocol.warnings.iter().cloned())
            .collect(),
        key_fingerprint: manifest.signature.key_fingerprint,
        timings: StageTimes {
            wall_seconds: wall.elapsed().as_secs_f64(),
            cpu_seconds: timings.seconds(),
        },
    })
}

fn batch_protocol(
    config: &Config,
    started: String,
    documents: Vec<protocol::DocumentSummary>,
    empty_documents: Vec<protocol::EmptyDocument>,
    pages: usize,
) -> Protocol {
    let sheet = &config.batch.sheet;
    let received = documents.len() + empty_documents.len();
    let completeness = Completeness {
        documents: received,
        pages,
        expected_documents: sheet.expected_documents,
        expected_pages: sheet.expected_pages,
        separator_sheets: 0,
        complete: sheet.expected_documents.is_none_or(|n| n == received)
            && sheet.expected_pages.is_none_or(|n| n == pages),
    };
    let mut warnings = Vec::new();
    if !completeness.complete {
        warnings.push(format!(
            "batch sheet expects {} documents / {} pages, received {} / {}",
            opt(sheet.expected_documents),
            opt(sheet.expected_pages),
            received,
            pages
        ));
    }
    let finished = json::now_rfc3339();
    let mut anomalies = warnings.clone();
    anomalies.extend(empty_documents.iter().map(protocol::EmptyDocument::anomaly));
    let mut flags: BTreeMap<String, usize> = BTreeMap::new();
    for doc in &documents {
        anomalies.extend(protocol::anomalies(&doc.id, &doc.flagged_pages));
    }
    let flagged = || {
        documents
            .iter()
            .flat_map(|d| &d.flagged_pages)
            .chain(empty_documents.iter().flat_map(|d| &d.pages))
    };
    for flag in flagged().flat_map(|p| &p.flags) {
        *flags.entry(flag.clone()).or_default() += 1;
    }
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let transfer_note = protocol::TransferNote {
        responsible_person: config.operator.0.clone(),
        responsible_person_source: config.operator.1.into(),
        organisation: sheet.organisation.clone(),
        scanner: sheet.scanner.clone(),
        workstation: sheet.workstation.clone().unwrap_or_else(|| host.clone()),
        procedure: sheet.procedure.clone(),
        times: protocol::NoteTimes {
            scanned: config
                .batch
                .documents
                .iter()
                .map(|d| d.date)
                .max()
                .map(json::rfc3339),
            scanned_source: Some(
                if config.batch.scanned().is_some() {
                    "batch.toml"
                } else {
                    "file times"
                }
                .into(),
            ),
            processing_started: started.clone(),
            processing_finished: finished.clone(),
            sealed: json::now_rfc3339(),
        },
        sealing: protocol::NoteSealing {
            protection: config.profile.protection.name().into(),
            batch_signature: config.key.algorithm().name().into(),
            key_fingerprint: config.key.public().fingerprint(),
            pdf_signer: config.certificate.as_ref().map(|c| c.subject()),
            timestamp: match &config.profile.timestamp {
                profile::TimestampPolicy::Off => "off".into(),
                profile::TimestampPolicy::Offline => "offline".into(),
                profile::TimestampPolicy::Online { url } => format!("online {url}"),
            },
        },
        quality: protocol::NoteQuality {
            pages_scanned: pages,
            pages_in_pdfs: documents.iter().map(|d| d.pages).sum(),
            pages_flagged: flagged().filter(|p| !p.flags.is_empty()).count(),
            pages_needing_review: flagged().filter(|p| p.needs_review).count(),
            flags,
        },
        anomalies,
        statement: protocol::STATEMENT_DE.into(),
        statement_en: protocol::STATEMENT_EN.into(),
    };
    Protocol {
        format: json::FORMAT.into(),
        batch_id: config.batch.id.clone(),
        software: Software::this(),
        profile: ProfileRef {
            id: config.profile.id.clone(),
            version: config.profile.version.clone(),
            sha256: config.profile.sha256.clone(),
            origin: config.profile.origin.clone(),
        },
        host,
        operator: config.operator.0.clone(),
        operator_source: config.operator.1.into(),
        started,
        finished,
        signature_key_fingerprint: config.key.public().fingerprint(),
        metadata: sheet.metadata.clone(),
        completeness,
        transfer_note,
        separation: config.separation.name().into(),
        separators: Vec::new(),
        documents,
        empty_documents,
        warnings,
        qa_sample: None,
        resumed: Vec::new(),
    }
}

/// Writes the separator sheets' images into the staging folder; their protocol records.
fn keep_separators(
    staging: &Staging,
    config: &Config,
) -> Result<Vec<protocol::SeparatorRecord>, IngestError> {
    if config.separators.is_empty() {
        return Ok(Vec::new());
    }
    let dir = staging.dir().join(layout::SEPARATORS);
    std::fs::create_dir_all(&dir).map_err(staging.write_err(layout::SEPARATORS))?;
    separate::keep(
        &config.batch,
        &config.separators,
        &config.profile.limits,
        |rel, bytes| staging.write_file(rel, bytes).map(|d| d.sha256),
    )
    .map_err(|e| match e {
        separate::KeepError::Source(message) => IngestError::Separator(message),
        separate::KeepError::Write(e) => e.into(),
    })
}

fn opt(n: Option<usize>) -> String {
    n.map_or("?".into(), |n| n.to_string())
}

/// Builds the hash tree over every PDF and the protocol, signs its root file, and gives each
/// document record its proof.
fn seal_tree(staging: &Staging, config: &Config, protocol: &Protocol) -> Result<(), IngestError> {
    let algorithm = config.profile.tree_hash;
    let mut leaves = Vec::new();
    for rel in protocol
        .documents
        .iter()
        .map(|d| d.pdf.clone())
        .chain([layout::PROTOCOL.to_string()])
    {
        let path = staging.dir().join(&rel);
        let leaf = algorithm
            .digest_file(&path)
            .map_err(|source| ArchiveError::Write { path, source })?;
        leaves.push((rel, leaf));
    }
    let hashes: std::collections::HashMap<String, Vec<u8>> = leaves.iter().cloned().collect();
    let (tree, file) = seal::tree::TreeFile::build(&config.batch.id, algorithm, leaves);
    let bytes = file.to_bytes();
    staging.write_file(layout::TREE, &bytes)?;
    staging.write_file(layout::TREE_SIGNATURE, &config.key.sign(&bytes))?;
    stamp_root(staging, config, algorithm.algorithm(), tree.root())?;
    for doc in &protocol.documents {
        let rel = layout::document_record(&doc.id);
        let path = staging.dir().join(&rel);
        let read = std::fs::read(&path).map_err(|source| ArchiveError::Write {
            path: path.clone(),
            source,
        })?;
        let mut record: protocol::DocumentRecord =
            serde_json::from_slice(&read).expect("the record scanwerk just wrote parses");
        record.proof = tree.proof(&hashes[&doc.pdf]);
        staging.write_file(&rel, &to_json(&record))?;
    }
    Ok(())
}

/// Time-stamps the hash-tree root as the profile says: the query file always, the checked reply
/// when the service is asked now.
fn stamp_root(
    staging: &Staging,
    config: &Config,
    algorithm: seal::hash::HashAlgorithm,
    root: &[u8],
) -> Result<(), IngestError> {
    use profile::TimestampPolicy;
    use seal::timestamp;
    if config.profile.timestamp == TimestampPolicy::Off {
        return Ok(());
    }
    let query = timestamp::query(algorithm, root)?;
    staging.write_file(layout::TIMESTAMP_QUERY, &query)?;
    if let TimestampPolicy::Online { url } = &config.profile.timestamp {
        let reply = timestamp::request(url.as_str(), &query)?;
        timestamp::check_reply(&reply, algorithm, root, Some(&query), &[])?;
        staging.write_file(layout::TIMESTAMP_REPLY, &reply)?;
    }
    Ok(())
}

/// Writes `report.html` from the staged records and thumbnails, then drops the thumbnails.
fn write_report(staging: &Staging, protocol: &Protocol) -> Result<(), ArchiveError> {
    let mut file = staging.create_file(layout::REPORT)?;
    report::write(staging.dir(), protocol, &mut file).map_err(staging.write_err(layout::REPORT))?;
    staging.close_file(layout::REPORT, file)?;
    let thumbnails = staging.dir().join(layout::THUMBNAILS);
    match std::fs::remove_dir_all(&thumbnails) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(staging.write_err(layout::THUMBNAILS)(e)),
        _ => Ok(()),
    }
}

/// Lists every staged file in the manifest, writes it and its signature.
fn seal_staging(staging: &Staging, config: &Config, protocol: &Protocol) -> Result<Manifest, IngestError> {
    let mut files = Vec::new();
    for doc in &protocol.documents {
        for rel in [doc.pdf.clone(), layout::document_record(&doc.id)] {
            files.push(entry(staging.dir(), &rel)?);
        }
    }
    for separator in &protocol.separators {
        files.push(entry(staging.dir(), &separator.image)?);
    }
    for rel in [
        layout::PROTOCOL,
        layout::REPORT,
        layout::TREE,
        layout::TREE_SIGNATURE,
    ] {
        files.push(entry(staging.dir(), rel)?);
    }
    for rel in [layout::TIMESTAMP_QUERY, layout::TIMESTAMP_REPLY] {
        if staging.dir().join(rel).exists() {
            files.push(entry(staging.dir(), rel)?);
        }
    }
    let public = config.key.public();
    let manifest = Manifest::new(&config.batch.id, config.profile.signature.name(), &public, files);
    let bytes = manifest.to_bytes();
    staging.write_file(layout::MANIFEST, &bytes)?;
    staging.write_file(layout::MANIFEST_SIGNATURE, &config.key.sign(&bytes))?;
    Ok(manifest)
}

/// Hashes a staged file from disk, so the manifest states what is really there.
fn entry(dir: &Path, rel: &str) -> Result<ManifestEntry, ArchiveError> {
    let path = dir.join(rel);
    let digests = seal::Digests::of_file(&path).map_err(|source| ArchiveError::Write { path, source })?;
    Ok(ManifestEntry {
        path: rel.into(),
        digests,
    })
}

/// True if the batch published at `target` verifies against the configured key and was made
/// from exactly this batch's input files (relative paths and SHA-256, documents left without a
/// PDF included): publishing it again would publish the same paper twice.
pub fn published_from(target: &Path, config: &Config) -> bool {
    if !verify::verify(target, Some(&config.key.public()), &[]).ok() {
        return false;
    }
    let Ok(Ok(published)) =
        std::fs::read(target.join(layout::PROTOCOL)).map(|b| serde_json::from_slice::<Protocol>(&b))
    else {
        return false;
    };
    let sources = published
        .documents
        .iter()
        .flat_map(|d| &d.sources)
        .chain(published.empty_documents.iter().flat_map(|d| &d.sources));
    let published: std::collections::BTreeSet<(String, String)> = sources
        .map(|s| (s.path.clone(), s.digests.sha256.clone()))
        .collect();
    let mut input = std::collections::BTreeSet::new();
    for file in &config.batch.input_files() {
        match seal::Digests::of_file(file) {
            Ok(d) => input.insert((config.batch.relative(file), d.sha256)),
            Err(_) => return false,
        };
    }
    published == input
}

/// Why a time-stamp reply was not attached.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("{batch} does not verify, so no time stamp is attached to it:\n{}", problems.join("\n"))]
    Unsound { batch: PathBuf, problems: Vec<String> },
    #[error("{0} already has a time stamp ({file}); remove nothing from a published batch", file = layout::TIMESTAMP_REPLY)]
    AlreadyStamped(PathBuf),
    #[error(
        "{0} holds no time-stamp query ({file}): it was not sealed with seal.timestamp = \"offline\"",
        file = layout::TIMESTAMP_QUERY
    )]
    NoQuery(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Timestamp(#[from] seal::timestamp::TimestampError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// The query of a published batch sealed offline, after checking the batch verifies.
pub fn pending_query(batch: &Path, trust: Option<&seal::TrustedKey>) -> Result<Vec<u8>, AttachError> {
    use layout::{TIMESTAMP_QUERY as QUERY_FILE, TIMESTAMP_REPLY as REPLY_FILE};
    let report = verify::verify(batch, trust, &[]);
    if !report.ok() {
        return Err(AttachError::Unsound {
            batch: batch.into(),
            problems: report.problems.iter().map(|p| format!("- {p}")).collect(),
        });
    }
    if batch.join(REPLY_FILE).exists() {
        return Err(AttachError::AlreadyStamped(batch.into()));
    }
    std::fs::read(batch.join(QUERY_FILE)).map_err(|_| AttachError::NoQuery(batch.into()))
}

/// Checks `reply` against a published batch's query and hash-tree root and adds it to the batch
/// as `hashtree.tsr`. The batch must verify first (against `trust` if given).
pub fn attach_timestamp(
    batch: &Path,
    reply: &[u8],
    trust: Option<&seal::TrustedKey>,
) -> Result<seal::timestamp::TimeStamp, AttachError> {
    let query = pending_query(batch, trust)?;
    let path = batch.join(layout::TREE);
    let bytes = std::fs::read(&path).map_err(|source| AttachError::Read { path, source })?;
    // Verified above, so it parses and its root is hex.
    let tree: seal::tree::TreeFile = serde_json::from_slice(&bytes).expect("verified hash tree");
    let root = seal::tree::unhex(&tree.root).expect("verified hash tree");
    let stamp = seal::timestamp::check_reply(reply, tree.algorithm.algorithm(), &root, Some(&query), &[])?;
    archive::add_to_published(batch, layout::TIMESTAMP_REPLY, reply)?;
    Ok(stamp)
}
