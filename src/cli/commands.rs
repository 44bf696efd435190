//! The commands' handlers: each turns its arguments into library calls, prints the outcome for
//! people (or JSON) and returns the exit code.

use std::path::PathBuf;

use scanwerk::{Config, Exit, IngestOptions, profile, seal, verify};

use super::{Cli, InboxArgs, TimestampAction};

pub(super) fn ingest(opts: IngestOptions, timings: bool, quiet: bool) -> Exit {
    let config = match Config::new(&opts) {
        Ok(config) => Config {
            progress: scanwerk::progress::for_terminal(quiet),
            ..config
        },
        Err(e) => {
            error(&e);
            scanwerk::ingest::audit::refused(&opts, &e);
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
            if let Some(pages) = report.in_review {
                println!(
                    "composed batch {}: {}, {}; {} for review (review.mode {}) in {}",
                    report.batch_id,
                    scanwerk::protocol::count(report.documents, "document"),
                    scanwerk::protocol::count(report.pages, "page"),
                    scanwerk::protocol::count(pages, "page"),
                    config.profile.review.mode.name(),
                    report.published.display()
                );
                println!(
                    "next: scanwerk review serve {0}   (or: scanwerk review decide {0} --page DOC:PAGE …)
then: scanwerk review seal {0}",
                    report.published.display()
                );
                return Exit::Ok;
            }
            print_published(&report);
            print!("{report}");
            if timings {
                print!("{}", report.timings);
            }
            Exit::Ok
        }
        Err(e) => {
            error(&e);
            e.exit()
        }
    }
}

/// The two lines that say a batch is published and with which key.
pub(super) fn print_published(report: &scanwerk::ingest::IngestReport) {
    println!(
        "published batch {}: {}, {} -> {}",
        report.batch_id,
        scanwerk::protocol::count(report.documents, "document"),
        scanwerk::protocol::count(report.pages, "page"),
        report.published.display()
    );
    println!("signed with key {}", report.key_fingerprint);
}

pub(super) fn verify(
    batch: &std::path::Path,
    trust: Option<PathBuf>,
    tsa_trust: Option<PathBuf>,
    json: bool,
) -> Exit {
    let trusted = match trust.map(|p| seal::TrustedKey::load(&p)).transpose() {
        Ok(key) => key,
        Err(e) => {
            error(&e);
            return Exit::Usage;
        }
    };
    let tsa_roots = match tsa_trust.map(|p| seal::timestamp::load_roots(&p)).transpose() {
        Ok(roots) => roots.unwrap_or_default(),
        Err(e) => {
            error(&e);
            return Exit::Usage;
        }
    };
    let report = verify::verify(batch, trusted.as_ref(), &tsa_roots);
    verify::record(batch, &report);
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

pub(super) fn timestamp(action: TimestampAction) -> Exit {
    let (batch, trust) = match &action {
        TimestampAction::Attach { batch, trust, .. } | TimestampAction::Fetch { batch, trust, .. } => {
            (batch.clone(), trust.clone())
        }
    };
    let trusted = match trust.map(|p| seal::TrustedKey::load(&p)).transpose() {
        Ok(key) => key,
        Err(e) => {
            error(&e);
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
            error(&e);
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
            error(&e);
            Exit::Failed
        }
    }
}

/// Whether errors go out as JSON log events (`--log-format json`) rather than `error:` lines.
static ERRORS_AS_JSON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Reports an error that ends the command: an `error: …` line for people, or under
/// `--log-format json` an error event like every other line on stderr, so a log shipper that
/// parses line by line never meets plain text.
pub(super) fn error(message: impl std::fmt::Display) {
    if ERRORS_AS_JSON.get().copied().unwrap_or(false) {
        tracing::error!("{message}");
    } else {
        eprintln!("error: {message}");
    }
}

pub(super) fn init_logging(format: &str, unattended: bool) {
    let _ = ERRORS_AS_JSON.set(format == "json");
    // lopdf's own warnings (a rebuilt cross-reference table) are recorded in the page's record
    // instead, in scanwerk's words.
    let default = if unattended {
        "info,lopdf=error"
    } else {
        "warn,lopdf=error"
    };
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
pub(super) fn run_inbox(
    args: InboxArgs,
    watch: Option<std::time::Duration>,
    quiet: bool,
    log_json: bool,
) -> Exit {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            error(format!("cannot handle signal {signal}: {e}"));
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
        log_json,
        purge_received: args.purge_received,
    };
    if let Err((exit, message)) = scanwerk::inbox::check_setup(&opts) {
        error(&message);
        return exit;
    }
    let (total, exit) = scanwerk::inbox::serve(&opts, &stop, watch);
    if args.json {
        let mut value = serde_json::to_value(&total).expect("serialises");
        value["format"] = scanwerk::json::COMMAND_FORMAT.into();
        value["exit_code"] = exit.code().into();
        println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
    }
    exit
}

pub(super) fn sheets(paths: &[PathBuf], profile: &str, json: bool) -> Exit {
    let profile = match profile::load(profile) {
        Ok(profile) => profile,
        Err(e) => {
            error(&e);
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
            error(&e);
            Exit::Usage
        }
    }
}

pub(super) fn show_profile(name: &str) -> Exit {
    match profile::load(name) {
        Ok(p) => {
            print!("{}", p.to_toml());
            Exit::Ok
        }
        Err(e) => {
            error(&e);
            Exit::Usage
        }
    }
}

/// The manual page of scanwerk, followed by one section per command.
pub(super) fn man() -> Exit {
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
            error(&e);
            Exit::Failed
        }
    }
}

pub(super) fn profiles() -> Exit {
    for name in profile::bundled_names() {
        match profile::load(name) {
            Ok(p) => println!("{:<12} {:<8} {}", p.id, p.version, p.description),
            Err(e) => {
                error(&e);
                return Exit::Failed;
            }
        }
    }
    Exit::Ok
}

pub(super) fn verify_document(
    pdf: &std::path::Path,
    record: &std::path::Path,
    tree: &std::path::Path,
    signature: Option<PathBuf>,
    trust: &std::path::Path,
) -> Exit {
    let trusted = match seal::TrustedKey::load(trust) {
        Ok(key) => key,
        Err(e) => {
            error(&e);
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
