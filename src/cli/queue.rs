//! `scanwerk submit`, `scanwerk worker`, `scanwerk queue status` and `run --queue`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use scanwerk::Exit;
use scanwerk::queue::{self, Delivery, Queue};

use super::commands::error;
use super::{InboxArgs, WorkerArgs};

fn connect(url: &str) -> Result<Queue, Exit> {
    Queue::connect(url, None).map_err(|e| {
        error(&e);
        Exit::Archive
    })
}

/// SIGINT and SIGTERM set the returned flag.
fn stop_on_signals() -> Result<Arc<AtomicBool>, Exit> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            error(format!("cannot handle signal {signal}: {e}"));
            return Err(Exit::Usage);
        }
    }
    Ok(stop)
}

fn report(submitted: &[queue::Submitted], json: bool) -> Exit {
    if json {
        let value = serde_json::json!({
            "format": scanwerk::json::COMMAND_FORMAT,
            "submitted": submitted,
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
    } else {
        for s in submitted {
            let id = s.batch_id.as_deref().unwrap_or("-");
            match &s.error {
                Some(e) => eprintln!("{}: {} ({e})", s.batch_dir.display(), s.status),
                None => println!("{} {id}: {}", s.status, s.batch_dir.display()),
            }
        }
    }
    if submitted.iter().any(|s| s.error.is_some()) {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

pub(super) fn submit(dirs: &[PathBuf], url: &str, profile: Option<&str>, json: bool) -> Exit {
    match connect(url) {
        Ok(queue) => report(&queue::submit(&queue, dirs, profile), json),
        Err(exit) => exit,
    }
}

/// `run --queue` (and `watch --queue`): ready batches of the inbox into the queue.
pub(super) fn submit_inbox(args: &InboxArgs, url: &str, watch: Option<Duration>) -> Exit {
    let stop = match stop_on_signals() {
        Ok(stop) => stop,
        Err(exit) => return exit,
    };
    let queue = match connect(url) {
        Ok(queue) => queue,
        Err(exit) => return exit,
    };
    let mut all = Vec::new();
    loop {
        match queue::submit_ready(
            &queue,
            &args.inbox,
            Duration::from_secs(args.quiet_seconds),
            Duration::from_secs(args.settle_seconds),
            args.seal.profile.as_deref(),
        ) {
            Ok(submitted) => all.extend(submitted),
            Err(e) => {
                error(format!("inbox {}: {e}", args.inbox.display()));
                return Exit::Archive;
            }
        }
        let Some(poll) = watch else { break };
        let until = std::time::Instant::now() + poll;
        while std::time::Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
        }
        if stop.load(Ordering::SeqCst) {
            return Exit::Interrupted;
        }
    }
    report(&all, args.json)
}

pub(super) fn worker(args: WorkerArgs, log_json: bool) -> Exit {
    let url = args.queue;
    let ingest = args.seal.options(PathBuf::new(), args.archive);
    let delivery = Delivery {
        ack_wait: Duration::from_secs(args.ack_wait_seconds),
        max_deliver: args.max_deliver,
    };
    let retry_delay = Duration::from_secs(args.retry_seconds);
    let name = args.name;
    let stop = match stop_on_signals() {
        Ok(stop) => stop,
        Err(exit) => return exit,
    };
    let name = name.unwrap_or_else(|| {
        format!(
            "{}:{}",
            gethostname::gethostname().to_string_lossy(),
            std::process::id()
        )
    });
    let run = scanwerk::inbox::RunOptions {
        inbox: PathBuf::new(),
        ingest,
        quiet: Duration::ZERO,
        settle: Duration::ZERO,
        stale: Duration::from_secs(600),
        progress: Arc::new(scanwerk::progress::NoProgress),
        log_json,
        purge_received: false,
    };
    if let Err((exit, message)) = scanwerk::inbox::check_setup(&run) {
        error(&message);
        return exit;
    }
    eprintln!("scanwerk worker {name}: taking jobs from {url} (stop with SIGTERM)");
    let opts = queue::WorkerOptions {
        url,
        delivery,
        run,
        retry_delay,
        name: name.clone(),
    };
    match queue::work(&opts, &stop) {
        Ok(summary) => {
            eprintln!(
                "scanwerk worker {name}: stopped after {} batches ({} dead-lettered, {} returned to the queue)",
                summary.batches.len(),
                summary.dead_lettered,
                summary.returned
            );
            Exit::Interrupted
        }
        Err(e) => {
            error(&e);
            Exit::Archive
        }
    }
}

pub(super) fn status(url: &str, json: bool) -> Exit {
    let status = match queue::status(url) {
        Ok(status) => status,
        Err(e) => {
            error(&e);
            return Exit::Archive;
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&status).expect("serialises"));
        return Exit::Ok;
    }
    println!(
        "queue {}: {} pending, {} in progress, {} dead-lettered",
        status.server,
        status.pending,
        status.in_progress,
        status.dead.len()
    );
    for w in &status.working {
        println!(
            "  working  {}  by {}  since {}  {} pages done (last word {})",
            w["batch_id"].as_str().unwrap_or("?"),
            w["worker"].as_str().unwrap_or("?"),
            w["since"].as_str().unwrap_or("?"),
            w["pages_done"],
            w["updated"].as_str().unwrap_or("?"),
        );
    }
    for d in &status.dead {
        println!(
            "  dead     {}  {}",
            d["job"]["batch_id"].as_str().unwrap_or("?"),
            d["reason"].as_str().unwrap_or("?")
        );
    }
    Exit::Ok
}
