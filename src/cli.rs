//! Command line: clap arguments → library calls → documented exit codes. Nothing else.
//!
//! Exit codes: 0 success; 1 a batch or verification failed (documents failed, nothing published;
//! or a published batch does not verify; in `run`/`watch`: some batches were quarantined); 2 usage,
//! profile, key or batch-sheet error, found before any page is read; 3 the archive folder is not
//! writable, full, or the batch is already published; 130 interrupted (SIGINT/SIGTERM).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use scanwerk::{Config, Exit, IngestOptions, profile, seal, verify};

#[derive(Debug, Parser)]
#[command(
    name = "scanwerk",
    version,
    about = "Replacement scanning: scanner images in, sealed searchable PDFs out"
)]
#[command(
    after_help = "Exit codes: 0 ok (run/watch: all batches published); 1 batch failed or does not verify (run/watch: some batches quarantined in failed/); 2 usage/profile/key error; 3 archive not writable, disk full, or batch already published; 130 interrupted by SIGINT/SIGTERM"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr: text or json (one object per line). RUST_LOG sets the level.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// No progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long, global = true)]
    quiet: bool,
}

/// What `run` and `watch` share.
/// What ingest, run and watch share: how each batch is checked and sealed.
#[derive(Debug, clap::Args)]
struct SealArgs {
    /// Profile name (see `scanwerk profiles`) or path to a profile file. Default: the batch
    /// sheet's profile, else "standard".
    #[arg(long)]
    profile: Option<String>,
    /// Signing key (PKCS#8 PEM). Default: the profile's seal.key.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Certificate chain for the key (PEM, signer first): every PDF gets a PAdES signature.
    /// Default: the profile's seal.certificate.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Worker threads per batch. Default: the number of cores.
    #[arg(long)]
    threads: Option<usize>,
}

impl SealArgs {
    fn options(&self, batch_dir: PathBuf, archive: PathBuf) -> IngestOptions {
        IngestOptions {
            batch_dir,
            archive,
            profile: self.profile.clone(),
            key: self.key.clone(),
            cert: self.cert.clone(),
            threads: self.threads,
        }
    }
}

#[derive(Debug, clap::Args)]
struct InboxArgs {
    /// Inbox folder: each sub-folder is a batch; processing/, done/ and failed/ are made in it.
    #[arg(long)]
    inbox: PathBuf,
    /// Archive folder the batches are published into (must exist).
    #[arg(long)]
    archive: PathBuf,
    #[command(flatten)]
    seal: SealArgs,
    /// A batch without batch.toml or READY is ready once unchanged this many seconds.
    #[arg(long, default_value_t = 120)]
    quiet_seconds: u64,
    /// A batch with READY or batch.toml is ready once unchanged this many seconds and its sheet
    /// parses.
    #[arg(long, default_value_t = 10)]
    settle_seconds: u64,
    /// A claim not refreshed for this many seconds was abandoned (a dead process, another host).
    #[arg(long, default_value_t = 600)]
    stale_seconds: u64,
    /// Print a summary as JSON on stdout at the end.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Turn a batch folder of scanner images into a sealed batch in the archive.
    Ingest {
        /// Batch folder: each file is a document, each sub-folder a document of its images.
        batch_dir: PathBuf,
        /// Archive folder the batch is published into (must exist).
        #[arg(long)]
        archive: PathBuf,
        #[command(flatten)]
        seal: SealArgs,
        /// Print where the time went: wall time and CPU seconds per stage.
        #[arg(long)]
        timings: bool,
    },
    /// Re-check a published batch: hashes, signature, documents.
    Verify {
        /// The published batch folder, <archive>/<batch-id>.
        batch: PathBuf,
        /// Public key (PEM) the signature must come from.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Print the report as JSON on stdout (ok, counts, signer, problems) instead of text.
        #[arg(long)]
        json: bool,
        /// Certificates (PEM) of the time-stamp authorities to trust: the batch's time stamp
        /// must be signed by one of them or by a certificate they issued.
        #[arg(long)]
        tsa_trust: Option<PathBuf>,
    },
    /// Process every ready batch of an inbox once (for cron): publish, verify, move the input to
    /// done/, or quarantine it in failed/ with error.txt and error.json.
    Run {
        #[command(flatten)]
        inbox: InboxArgs,
    },
    /// Hot folder: like run, again whenever the inbox changes (inotify, and a rescan every
    /// --poll-seconds for network filesystems), until SIGINT/SIGTERM.
    Watch {
        #[command(flatten)]
        inbox: InboxArgs,
        #[arg(long, default_value_t = 10)]
        poll_seconds: u64,
    },
    /// RFC 3161 time stamps for batches sealed with seal.timestamp = "offline".
    Timestamp {
        #[command(subcommand)]
        action: TimestampAction,
    },
    /// Verify one document on its own: its PDF, its record with the hash-tree proof, and the
    /// batch's signed hash tree (hashtree.json + hashtree.sig), wherever they are kept.
    VerifyDocument {
        /// The document's PDF.
        pdf: PathBuf,
        /// The document's record (documents/<id>.json) carrying its proof.
        #[arg(long)]
        record: PathBuf,
        /// The batch's hashtree.json; its signature is read from hashtree.sig beside it unless
        /// --signature names it.
        #[arg(long)]
        tree: PathBuf,
        #[arg(long)]
        signature: Option<PathBuf>,
        /// Public key (PEM) the tree must be signed with.
        #[arg(long)]
        trust: PathBuf,
    },
    /// Make an ECDSA signing key (P-256 or P-384): signing-key.pem (0600) and signing-key.pub.pem.
    Keygen {
        /// Folder for the key files (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Curve: p256 (ECDSA with SHA-256) or p384 (ECDSA with SHA-384); the profile's
        /// seal.signature must name the same.
        #[arg(long, default_value = "p256", value_parser = ["p256", "p384"])]
        curve: String,
        /// Also make a self-signed test certificate, signing-cert.pem (key usage digitalSignature
        /// and nonRepudiation), so each PDF gets a PAdES signature. For demos and tests: a
        /// production certificate comes from a trust service.
        #[arg(long)]
        cert: bool,
        /// Common name in the test certificate: the responsible person or the sealing organisation.
        #[arg(long, default_value = "scanwerk test signer", requires = "cert")]
        name: String,
        /// Days the test certificate is valid.
        #[arg(long, default_value_t = 730, requires = "cert")]
        days: u64,
    },
    /// Read scans as separation does and say, page by page, which are separator sheets and how
    /// each was read: try printed sheets before a stack is scanned, or find out why one was missed.
    Sheets {
        /// Scan files, or batch folders (read in batch order).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Profile (bundled name or file) whose [separation] settings are used; one that does not
        /// split at sheets is read as "patch-code+barcode".
        #[arg(long, default_value = "standard")]
        profile: String,
        /// Print the pages as JSON instead of one line each.
        #[arg(long)]
        json: bool,
    },
    /// List the bundled profiles, or show one with every key resolved.
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
    /// Print the commented example batch sheet (batch.toml) with every key: a starting point for
    /// your own, e.g. `scanwerk batch-sheet > /scans/bauakte-0815/batch.toml`.
    BatchSheet,
    /// Print the manual page (roff) of scanwerk and its commands: `scanwerk man | man -l -`.
    Man,
    /// Print a shell completion script, e.g. `scanwerk completions bash > /etc/bash_completion.d/scanwerk`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
enum ProfilesAction {
    /// List the bundled profiles (the default).
    List,
    /// Print a profile (bundled name or file) with every key resolved, defaults included, as a
    /// profile file: a starting point for your own. Every key is explained in profiles/README.md.
    Show {
        /// Bundled profile name or path to a profile file.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum TimestampAction {
    /// Check a time-stamp reply against the batch's query and hash-tree root, then add it to the
    /// published batch as hashtree.tsr. The batch must verify first.
    Attach {
        /// The published batch folder.
        batch: PathBuf,
        /// The reply (DER TimeStampResp) the time-stamp service gave for hashtree.tsq.
        reply: PathBuf,
        /// Public key (PEM) the batch must be signed by.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
    /// Send the batch's hashtree.tsq to a time-stamp service now and attach its reply.
    Fetch {
        /// The published batch folder.
        batch: PathBuf,
        /// The service URL (HTTP POST, application/timestamp-query).
        #[arg(long)]
        url: String,
        /// Public key (PEM) the batch must be signed by.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
}

pub fn run(cli: Cli) -> ExitCode {
    init_logging(
        &cli.log_format,
        matches!(cli.command, Command::Run { .. } | Command::Watch { .. }),
    );
    let quiet = cli.quiet;
    let code = match cli.command {
        Command::Run { inbox } => run_inbox(inbox, None, quiet),
        Command::Watch { inbox, poll_seconds } => {
            run_inbox(inbox, Some(std::time::Duration::from_secs(poll_seconds)), quiet)
        }
        Command::Ingest {
            batch_dir,
            archive,
            seal,
            timings,
        } => ingest(seal.options(batch_dir, archive), timings, quiet),
        Command::Verify {
            batch,
            trust,
            json,
            tsa_trust,
        } => verify(&batch, trust, tsa_trust, json),
        Command::Timestamp { action } => timestamp(action),
        Command::VerifyDocument {
            pdf,
            record,
            tree,
            signature,
            trust,
        } => verify_document(&pdf, &record, &tree, signature, &trust),
        Command::Keygen {
            out,
            curve,
            cert,
            name,
            days,
        } => keygen(&out, &curve, cert.then_some((name.as_str(), days))),
        Command::Sheets { paths, profile, json } => sheets(&paths, &profile, json),
        Command::Profiles { action } => match action {
            None | Some(ProfilesAction::List) => profiles(),
            Some(ProfilesAction::Show { name }) => show_profile(&name),
        },
        Command::BatchSheet => {
            print!("{}", scanwerk::batch::EXAMPLE_SHEET);
            Exit::Ok
        }
        Command::Man => man(),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "scanwerk", &mut std::io::stdout());
            Exit::Ok
        }
    };
    code.into()
}

fn ingest(opts: IngestOptions, timings: bool, quiet: bool) -> Exit {
    let config = match Config::new(&opts) {
        Ok(config) => Config {
            progress: scanwerk::progress::for_terminal(quiet),
            ..config
        },
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let separated = match (config.separation, config.separators.len()) {
        (scanwerk::profile::separation::Mode::PerFile, _) => String::new(),
        (mode, 0) => format!(", separated {}", mode.name()),
        (mode, n) => format!(", separated {} at {n} separator sheets", mode.name()),
    };
    eprintln!(
        "scanwerk: batch {} ({} documents{separated}), profile {} {}, {} threads",
        config.batch.id,
        config.batch.documents.len(),
        config.profile.id,
        config.profile.version,
        config.threads
    );
    let target = config.archive.join(&config.batch.id);
    if target.exists() && scanwerk::published_from(&target, &config) {
        println!(
            "batch {} is already published at {} from this same input (verified); nothing to do",
            config.batch.id,
            target.display()
        );
        return Exit::Ok;
    }
    match scanwerk::ingest(&config) {
        Ok(report) => {
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            println!(
                "published batch {}: {}, {} -> {}",
                report.batch_id,
                scanwerk::protocol::count(report.documents, "document"),
                scanwerk::protocol::count(report.pages, "page"),
                report.published.display()
            );
            println!("signed with key {}", report.key_fingerprint);
            print!("{report}");
            if timings {
                print!("{}", report.timings);
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit()
        }
    }
}

fn verify(batch: &std::path::Path, trust: Option<PathBuf>, tsa_trust: Option<PathBuf>, json: bool) -> Exit {
    let trusted = match trust.map(|p| seal::TrustedKey::load(&p)).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let tsa_roots = match tsa_trust.map(|p| seal::timestamp::load_roots(&p)).transpose() {
        Ok(roots) => roots.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let report = verify::verify(batch, trusted.as_ref(), &tsa_roots);
    if json {
        println!("{}", report.to_json());
        return if report.ok() { Exit::Ok } else { Exit::Failed };
    }
    for problem in &report.problems {
        eprintln!("FAIL {problem}");
    }
    if !report.ok() {
        eprintln!("{}: {} problem(s)", batch.display(), report.problems.len());
        return Exit::Failed;
    }
    println!("OK {}", batch.display());
    print!("{report}");
    Exit::Ok
}

fn timestamp(action: TimestampAction) -> Exit {
    let (batch, trust) = match &action {
        TimestampAction::Attach { batch, trust, .. } | TimestampAction::Fetch { batch, trust, .. } => {
            (batch.clone(), trust.clone())
        }
    };
    let trusted = match trust.map(|p| seal::TrustedKey::load(&p)).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let reply = match action {
        TimestampAction::Attach { reply, .. } => {
            std::fs::read(&reply).map_err(|e| format!("cannot read {}: {e}", reply.display()))
        }
        TimestampAction::Fetch { url, .. } => scanwerk::pending_query(&batch, trusted.as_ref())
            .map_err(|e| e.to_string())
            .and_then(|query| seal::timestamp::request(&url, &query).map_err(|e| e.to_string())),
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failed;
        }
    };
    match scanwerk::attach_timestamp(&batch, &reply, trusted.as_ref()) {
        Ok(stamp) => {
            println!(
                "time stamp attached to {}: {} by {}",
                batch.display(),
                stamp.time,
                stamp.tsa
            );
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
    }
}

fn init_logging(format: &str, unattended: bool) {
    let default = if unattended { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `run` (once) and `watch` (again on every change until a signal).
fn run_inbox(args: InboxArgs, watch: Option<std::time::Duration>, quiet: bool) -> Exit {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("error: cannot handle signal {signal}: {e}");
            return Exit::Usage;
        }
    }
    let opts = scanwerk::inbox::RunOptions {
        inbox: args.inbox.clone(),
        ingest: args.seal.options(PathBuf::new(), args.archive.clone()),
        quiet: std::time::Duration::from_secs(args.quiet_seconds),
        settle: std::time::Duration::from_secs(args.settle_seconds),
        stale: std::time::Duration::from_secs(args.stale_seconds),
        progress: scanwerk::progress::for_terminal(quiet),
    };
    if let Err((exit, message)) = scanwerk::inbox::check_setup(&opts) {
        eprintln!("error: {message}");
        return exit;
    }
    let (total, exit) = scanwerk::inbox::serve(&opts, &stop, watch);
    if args.json {
        let mut value = serde_json::to_value(&total).expect("serialises");
        value["format"] = scanwerk::json::FORMAT.into();
        value["exit_code"] = exit.code().into();
        println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
    }
    exit
}

fn keygen(out: &std::path::Path, curve: &str, cert: Option<(&str, u64)>) -> Exit {
    let algorithm = match curve {
        "p384" => seal::sign::Algorithm::EcdsaP384Sha384,
        _ => seal::sign::Algorithm::EcdsaP256Sha256,
    };
    let files = match seal::sign::keygen(out, algorithm) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    println!(
        "private key: {} (mode 0600, {})",
        files.private.display(),
        algorithm.curve()
    );
    println!("public key:  {}", files.public.display());
    println!("fingerprint: {}", files.fingerprint);
    if let Some((name, days)) = cert {
        let path = out.join("signing-cert.pem");
        let made = seal::SigningKey::load(&files.private)
            .map_err(|e| e.to_string())
            .and_then(|key| seal::cert::self_signed(&key, name, days).map_err(|e| e.to_string()))
            .and_then(|pem| {
                std::fs::write(&path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))
            });
        if let Err(e) = made {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
        println!(
            "certificate: {} (self-signed, {days} days; for tests and demos)",
            path.display()
        );
    }
    Exit::Ok
}

fn sheets(paths: &[PathBuf], profile: &str, json: bool) -> Exit {
    let profile = match profile::load(profile) {
        Ok(profile) => profile,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let mut settings = profile.separation.clone();
    if !settings.mode.patch() && !settings.mode.barcode() {
        settings.mode = profile::separation::Mode::PatchCodeAndBarcode;
    }
    match scanwerk::separate::check::check(paths, &settings, &profile.limits) {
        Ok(pages) if json => {
            println!("{}", serde_json::to_string_pretty(&pages).expect("serialises"));
            Exit::Ok
        }
        Ok(pages) => {
            print!("{}", scanwerk::separate::check::lines(&pages));
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}

fn show_profile(name: &str) -> Exit {
    match profile::load(name) {
        Ok(p) => {
            print!("{}", p.to_toml());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}

/// The manual page of scanwerk, followed by one section per command.
fn man() -> Exit {
    let command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    let rendered = clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .and_then(|_| {
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("scanwerk-{}", sub.get_name());
                let sub = sub.clone().name(name.clone()).bin_name(name.replace('-', " "));
                clap_mangen::Man::new(sub).render(&mut out)?;
            }
            Ok(())
        });
    match rendered.and_then(|_| std::io::Write::write_all(&mut std::io::stdout(), &out)) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
    }
}

fn profiles() -> Exit {
    for name in profile::bundled_names() {
        match profile::load(name) {
            Ok(p) => println!("{:<12} {:<8} {}", p.id, p.version, p.description),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Failed;
            }
        }
    }
    Exit::Ok
}

fn verify_document(
    pdf: &std::path::Path,
    record: &std::path::Path,
    tree: &std::path::Path,
    signature: Option<PathBuf>,
    trust: &std::path::Path,
) -> Exit {
    let trusted = match seal::TrustedKey::load(trust) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let signature = signature.unwrap_or_else(|| tree.with_file_name(scanwerk::layout::TREE_SIGNATURE));
    let report = verify::verify_document(pdf, record, tree, &signature, &trusted);
    for problem in &report.problems {
        eprintln!("FAIL {problem}");
    }
    if report.ok() {
        println!(
            "OK {}: in the hash tree signed by trusted key {}",
            pdf.display(),
            trusted.fingerprint()
        );
        Exit::Ok
    } else {
        eprintln!("{}: {} problem(s)", pdf.display(), report.problems.len());
        Exit::Failed
    }
}
