//! Command line: clap arguments → library calls → documented exit codes. Nothing else.
//!
//! Exit codes: 0 success; 1 a batch or verification failed (documents failed, nothing published;
//! or a published batch does not verify; in `run`/`watch`: some batches were quarantined); 2 usage,
//! profile, key or batch-sheet error, found before any page is read; 3 the archive folder is not
//! writable, full, or the batch is already published; 130 interrupted (SIGINT/SIGTERM).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use scanwerk::{Exit, IngestOptions};

mod commands;
mod keys;
mod lifecycle;
mod queue;
mod review;
use commands::*;

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
    /// The audit log every event is appended to. Default: $SCANWERK_AUDIT_LOG, else
    /// <archive>/.audit/audit.jsonl.
    #[arg(long, global = true)]
    audit_log: Option<PathBuf>,
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
    /// Remove a batch's input from done/ once the archive's receipt for it checks
    /// (`scanwerk receipt`); without it, input stays in done/.
    #[arg(long)]
    purge_received: bool,
    /// Hand ready batches to this NATS JetStream work queue (nats://HOST:PORT) instead of
    /// processing them here: each is moved into queued/ and submitted; `scanwerk worker`s take them.
    #[arg(long, value_name = "URL")]
    queue: Option<String>,
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
    /// Make an ECDSA signing key (P-256 or P-384): signing-key.pem (0600) and signing-key.pub.pem;
    /// or, with --pkcs11, a key pair in a token (the private key never leaves it).
    Keygen {
        /// Folder for the key files (created if missing). With --pkcs11 it gets the public key
        /// (signing-key.pub.pem) and, with --cert, the certificate.
        #[arg(long)]
        out: PathBuf,
        /// Make the key in a PKCS#11 token instead, named by an RFC 7512 URI with object=LABEL,
        /// e.g. "pkcs11:token=scanstelle;object=seal-2026". The module comes from the URI's
        /// module-path or SCANWERK_PKCS11_MODULE, the PIN from SCANWERK_PKCS11_PIN_FILE or
        /// SCANWERK_PKCS11_PIN (never from the command line). With --cert the certificate is
        /// stored in the token too.
        #[arg(long, value_name = "URI")]
        pkcs11: Option<String>,
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
    /// Put batch folders into the NATS JetStream work queue, one job each (a batch already queued
    /// is dropped by the server: the batch id is the message id).
    Submit {
        /// Batch folders on the storage every worker shares; done/ and failed/ are made beside them.
        #[arg(required = true)]
        batch_dirs: Vec<PathBuf>,
        /// The queue: nats://HOST:PORT of a NATS server with JetStream.
        #[arg(long, value_name = "URL")]
        queue: String,
        /// Profile the workers use for these batches (default: the batch sheet's, else theirs).
        #[arg(long)]
        profile: Option<String>,
        /// Print what was submitted as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take jobs from the work queue one at a time and ingest them, until SIGTERM/SIGINT (exit 130;
    /// a batch in hand goes back to the queue).
    Worker(WorkerArgs),
    /// The work queue.
    Queue {
        #[command(subcommand)]
        action: QueueAction,
    },
    /// Keys in PKCS#11 tokens.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
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
    /// Review before sealing: batches waiting in <archive>/.review/, verdicts (browser page or
    /// command line), rescans of rejected pages, sealing once every page is accepted.
    Review {
        #[command(subcommand)]
        action: review::ReviewAction,
    },
    /// Record that the archive has taken a batch: the batch must verify; a signed receipt
    /// (<archive>/<batch-id>.receipt.json and .sig) is written beside it and logged.
    Receipt {
        /// The published batch folder, <archive>/<batch-id>.
        batch: PathBuf,
        /// Who took it: the archive system or its operator.
        #[arg(long)]
        from: String,
        /// The archive's own reference for it.
        #[arg(long)]
        reference: Option<String>,
        /// Signing key (PKCS#8 PEM) that signs the receipt.
        #[arg(long)]
        key: PathBuf,
        /// Public key (PEM) the batch must be signed by.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
    /// The destruction gate: every batch of an archive against the conditions for destroying its
    /// paper (sealed, verify, review, time stamp, receipt), checked now; with --issue, a signed
    /// destruction release for batches that meet all of them.
    Release {
        #[arg(long)]
        archive: PathBuf,
        /// Batch ids to release; every one must meet every condition.
        #[arg(long, num_args = 1..)]
        issue: Vec<String>,
        /// Who releases the paper (with --issue).
        #[arg(long)]
        by: Option<String>,
        /// Signing key (PKCS#8 PEM) that signs the release (with --issue).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Public key (PEM) the batches (and signed receipts) must be signed by.
        #[arg(long)]
        trust: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The audit log: check its chain and signatures, or show one batch's history.
    Audit {
        #[command(subcommand)]
        action: lifecycle::AuditAction,
    },
    /// Print the commented example batch sheet (batch.toml) with every key: a starting point for
    /// your own, e.g. `scanwerk batch-sheet > /scans/bauakte-0815/batch.toml`.
    BatchSheet,
    /// Print the manual page (roff) of scanwerk and its commands: `scanwerk man | man -l -`.
    Man,
    /// Print a shell completion script, e.g. `scanwerk completions bash > /etc/bash_completion.d/scanwerk`.
    Completions { shell: clap_complete::Shell },
}

/// What `scanwerk worker` is told.
#[derive(Debug, clap::Args)]
struct WorkerArgs {
    /// The queue: nats://HOST:PORT.
    #[arg(long, value_name = "URL")]
    queue: String,
    /// Archive folder the batches are published into (shared by every worker).
    #[arg(long)]
    archive: PathBuf,
    #[command(flatten)]
    seal: SealArgs,
    /// A job held this long without a sign of life goes to another worker (set on the queue's
    /// consumer; the worker started last sets it for all).
    #[arg(long, default_value_t = 60)]
    ack_wait_seconds: u64,
    /// Deliveries of one job at most, then it is dead-lettered (set on the consumer like the ack wait).
    #[arg(long, default_value_t = 5)]
    max_deliver: i64,
    /// A job that failed for a passing reason (archive full, time-stamp service down) is
    /// delivered again after this many seconds.
    #[arg(long, default_value_t = 30)]
    retry_seconds: u64,
    /// Name in `queue status` (default: host:pid).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Subcommand)]
enum QueueAction {
    /// Jobs pending, in progress (worker, since, pages done) and dead-lettered (with the reason).
    Status {
        #[arg(long, value_name = "URL")]
        queue: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// List the keys and certificates in a token: label, id, curve and public key fingerprint.
    List {
        /// The token (and optionally the object) as a PKCS#11 URI, e.g. "pkcs11:token=scanstelle".
        #[arg(long, value_name = "URI")]
        pkcs11: String,
        /// Also print each public key as PEM (SubjectPublicKeyInfo, what `openssl dgst -verify` reads).
        #[arg(long)]
        pem: bool,
    },
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

/// The commands that set up (keys, profiles, sheets, man page, completions) and those of the work
/// queue.
fn run_setup_and_queue(command: Command, log_json: bool) -> Exit {
    match command {
        Command::Keygen {
            out,
            pkcs11,
            curve,
            cert,
            name,
            days,
        } => keys::keygen(
            &out,
            pkcs11.as_deref(),
            &curve,
            cert.then_some((name.as_str(), days)),
        ),
        Command::Submit {
            batch_dirs,
            queue,
            profile,
            json,
        } => queue::submit(&batch_dirs, &queue, profile.as_deref(), json),
        Command::Worker(args) => queue::worker(args, log_json),
        Command::Queue {
            action: QueueAction::Status { queue, json },
        } => queue::status(&queue, json),
        Command::Keys {
            action: KeysAction::List { pkcs11, pem },
        } => keys::list(&pkcs11, pem),
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
        _ => unreachable!("run handles the other commands"),
    }
}

/// `run` and `watch`: the inbox processed here, or handed to the work queue (`--queue`).
fn serve_inbox(inbox: InboxArgs, poll: Option<std::time::Duration>, quiet: bool, log_json: bool) -> Exit {
    match inbox.queue.clone() {
        Some(url) => queue::submit_inbox(&inbox, &url, poll),
        None => run_inbox(inbox, poll, quiet, log_json),
    }
}

pub fn run(cli: Cli) -> ExitCode {
    init_logging(
        &cli.log_format,
        matches!(cli.command, Command::Run { .. } | Command::Watch { .. }),
    );
    let quiet = cli.quiet;
    if let Some(log) = cli.audit_log {
        scanwerk::audit::set_location(log);
    }
    let log_json = cli.log_format == "json";
    let code = match cli.command {
        Command::Run { inbox } => serve_inbox(inbox, None, quiet, log_json),
        Command::Watch { inbox, poll_seconds } => serve_inbox(
            inbox,
            Some(std::time::Duration::from_secs(poll_seconds)),
            quiet,
            log_json,
        ),
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
        Command::Review { action } => review::review(action),
        Command::Receipt {
            batch,
            from,
            reference,
            key,
            trust,
        } => lifecycle::receipt(&batch, &from, reference.as_deref(), &key, trust),
        Command::Release {
            archive,
            issue,
            by,
            key,
            trust,
            json,
        } => lifecycle::release(&archive, issue, by, key, trust, json),
        Command::Audit { action } => lifecycle::audit(action),
        Command::VerifyDocument {
            pdf,
            record,
            tree,
            signature,
            trust,
        } => verify_document(&pdf, &record, &tree, signature, &trust),
        other => run_setup_and_queue(other, log_json),
    };
    code.into()
}
