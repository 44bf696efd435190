//! `scanwerk review …`: the batches waiting for review, verdicts from the command line or the
//! browser page, rescans, and sealing once every page is accepted.

use std::path::PathBuf;

use clap::Subcommand;

use scanwerk::Exit;
use scanwerk::review::{self, Area, Decision, ReviewError, seal::Overrides};

use super::commands::error;

#[derive(Debug, clap::Args)]
pub(super) struct Which {
    /// The review folder (<archive>/.review/<batch-id>), or the batch id with --archive.
    review: PathBuf,
    /// Archive folder, when REVIEW is a batch id.
    #[arg(long)]
    archive: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(super) struct Keys {
    /// Signing key, if not the one the batch was started with (it must be the same key).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Certificate chain, if not the one the batch was started with.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Worker threads. Default: as the batch was started.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub(super) enum ReviewAction {
    /// List the batches waiting for review in an archive.
    List {
        #[arg(long)]
        archive: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Per page to review: pending, accepted or rejected, by whom and when.
    Status {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        json: bool,
    },
    /// Record a verdict on one page: --accept, or --reject REASON (unreadable, incomplete,
    /// wrong-orientation, skewed, not-the-original, other; add ": your words").
    Decide {
        #[command(flatten)]
        which: Which,
        /// DOCUMENT:PAGE (page number in the scanned document, as in the report).
        #[arg(long)]
        page: String,
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        accept: bool,
        #[arg(long)]
        reject: Option<String>,
        /// Who decides (recorded with the verdict).
        #[arg(long)]
        reviewer: String,
    },
    /// Serve the review page on loopback; prints the address (with its access token) to open.
    Serve {
        #[command(flatten)]
        which: Which,
        /// Address to listen on. Default: loopback, a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: String,
    },
    /// Replace a rejected page by a new scan (an image or a one-page scanner PDF): the document
    /// is composed again with it, and the page goes back to pending.
    Rescan {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        page: String,
        /// The new scan of the page.
        file: PathBuf,
        /// Who rescanned it.
        #[arg(long)]
        by: String,
        #[command(flatten)]
        keys: Keys,
    },
    /// Seal and publish the batch once every page to review is accepted (exit 1 if not).
    Seal {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        keys: Keys,
    },
}

impl Which {
    fn area(&self) -> Result<Area, ReviewError> {
        Area::find(&self.review, self.archive.as_deref())
    }
}

impl Keys {
    fn overrides(&self) -> Overrides {
        Overrides {
            key: self.key.clone(),
            cert: self.cert.clone(),
            threads: self.threads,
        }
    }
}

/// `DOCUMENT:PAGE`.
fn page_of(text: &str) -> Result<(String, u32), ReviewError> {
    text.rsplit_once(':')
        .and_then(|(d, p)| Some((d.to_string(), p.parse().ok()?)))
        .ok_or_else(|| ReviewError::Refused(format!("--page {text:?}: give DOCUMENT:PAGE, e.g. akte:3")))
}

pub(super) fn review(action: ReviewAction) -> Exit {
    match act(action) {
        Ok(exit) => exit,
        Err(e) => {
            error(&e);
            e.exit()
        }
    }
}

fn act(action: ReviewAction) -> Result<Exit, ReviewError> {
    match action {
        ReviewAction::List { archive, json } => list(&archive, json),
        ReviewAction::Status { which, json } => status(&which.area()?, json),
        ReviewAction::Decide {
            which,
            page,
            accept,
            reject,
            reviewer,
        } => {
            let area = which.area()?;
            let (document, page) = page_of(&page)?;
            let verdict = area.decide(&Decision {
                document: document.clone(),
                page,
                reviewer,
                accept,
                reason: reject,
                version: None,
            })?;
            println!(
                "{document} page {page}: {} by {} at {}",
                verdict.verdict, verdict.reviewer, verdict.time
            );
            Ok(Exit::Ok)
        }
        ReviewAction::Serve { which, bind } => serve(which.area()?, &bind),
        ReviewAction::Rescan {
            which,
            page,
            file,
            by,
            keys,
        } => {
            let area = which.area()?;
            let (document, page) = page_of(&page)?;
            let rescan = review::rescan(&area, &keys.overrides(), &document, page, &file, &by)?;
            println!("{}", rescan.anomaly());
            println!(
                "{document} page {page} is pending review again (version {})",
                rescan.version
            );
            Ok(Exit::Ok)
        }
        ReviewAction::Seal { which, keys } => {
            let report = review::seal(&which.area()?, &keys.overrides())?;
            super::commands::print_published(&report);
            Ok(Exit::Ok)
        }
    }
}

fn list(archive: &std::path::Path, json: bool) -> Result<Exit, ReviewError> {
    let areas = review::list(archive);
    let mut rows = Vec::new();
    for area in &areas {
        let record = area.record()?;
        let open = record.open_pages().len();
        rows.push(
            serde_json::json!({"batch": area.batch, "dir": area.dir, "mode": record.mode,
            "pages": record.pages.len(), "open": open}),
        );
        if !json {
            println!(
                "{}  {}  {} page(s) to review, {open} not accepted  {}",
                area.batch,
                record.mode,
                record.pages.len(),
                area.dir.display()
            );
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
    } else if areas.is_empty() {
        println!("no batch waits for review in {}", archive.display());
    }
    Ok(Exit::Ok)
}

fn status(area: &Area, json: bool) -> Result<Exit, ReviewError> {
    let record = area.record()?;
    let pages = review::status(&record);
    if json {
        let body = serde_json::json!({"batch": area.batch, "mode": record.mode,
            "reviewers_required": record.reviewers_required, "pages": pages, "rescans": record.rescans});
        println!("{}", serde_json::to_string_pretty(&body).expect("serialises"));
        return Ok(Exit::Ok);
    }
    println!(
        "batch {}: mode {}, {} reviewer(s) per page",
        area.batch, record.mode, record.reviewers_required
    );
    for p in &pages {
        let by: Vec<String> = p
            .verdicts
            .iter()
            .filter(|v| v.version == p.version)
            .map(|v| format!("{} {} {}", v.reviewer, v.verdict, v.time))
            .collect();
        println!(
            "  {}:{}  {}  [{}]  {}",
            p.document,
            p.page,
            p.detail,
            p.why.join(", "),
            by.join("; ")
        );
    }
    Ok(Exit::Ok)
}

fn serve(area: Area, bind: &str) -> Result<Exit, ReviewError> {
    let server = review::serve::Server::start(area, bind)?;
    println!("{}", server.url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    eprintln!("review page: open the address above in a browser on this machine; Ctrl-C stops");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    server.run(&stop);
    Ok(Exit::Ok)
}
