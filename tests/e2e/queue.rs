//! Batches through a NATS JetStream work queue: a real `nats-server -js` (Debian's, started by the
//! test on a free port with a store of its own, stopped at the end), 12 batches submitted (one
//! twice, one that cannot succeed), three `scanwerk worker` processes — two of them in network
//! namespaces of their own as separate hosts where namespaces can be made — SIGKILLed at seeded
//! random moments and restarted, the server restarted in the middle: every good batch is published
//! exactly once and verifies, the poison batch is dead-lettered with its reason, and the queue is
//! empty at the end.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

/// A NATS server with JetStream on `port`, its store in `store`; killed when dropped.
struct Nats {
    child: Child,
    port: u16,
    bind: String,
    store: PathBuf,
    log: PathBuf,
}

impl Nats {
    fn start(bind: &str, store: &Path, log: &Path) -> Nats {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = Nats {
            child: spawn_nats(bind, port, store, log),
            port,
            bind: bind.into(),
            store: store.into(),
            log: log.into(),
        };
        nats.wait();
        nats
    }

    fn wait(&mut self) {
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < until,
                "nats-server did not start: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGTERM: as an operator restarts it) and starts it again on the same
    /// port and store.
    fn restart(&mut self) {
        signal(&self.child, "TERM");
        let _ = self.child.wait();
        self.child = spawn_nats(&self.bind, self.port, &self.store, &self.log);
        self.wait();
    }

    fn url(&self, host: &str) -> String {
        format!("nats://{host}:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_nats(bind: &str, port: u16, store: &Path, log: &Path) -> Child {
    Command::new("nats-server")
        .args(["-js", "-a", bind, "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .spawn()
        .expect("nats-server is installed by scripts/setup.sh")
}

fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
}

/// A network namespace joined to this host by a veth pair: a second host for the test.
struct Host {
    name: String,
    /// This machine's address as the namespace sees it.
    server: String,
}

impl Host {
    fn new(index: u8) -> Result<Host, String> {
        let name = format!("swq{}-{index}", std::process::id());
        let (outside, inside) = (
            format!("swq{index}o{}", std::process::id() % 10000),
            format!("swq{index}i{}", std::process::id() % 10000),
        );
        let net = format!("10.{}.{index}", 200 + std::process::id() % 50);
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), name.clone()],
            vec![
                "link".into(),
                "add".into(),
                outside.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                inside.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                inside.clone(),
                "netns".into(),
                name.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{net}.1/24"),
                "dev".into(),
                outside.clone(),
            ],
            vec!["link".into(), "set".into(), outside.clone(), "up".into()],
            vec![
                "-n".into(),
                name.clone(),
                "addr".into(),
                "add".into(),
                format!("{net}.2/24"),
                "dev".into(),
                inside.clone(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                inside,
                "up".into(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
        ];
        let host = Host {
            name,
            server: format!("{net}.1"),
        };
        for step in steps {
            let out = Command::new("ip")
                .args(&step)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if !out.status.success() {
                return Err(format!("ip {}: {}", step.join(" "), stderr(&out).trim()));
            }
        }
        Ok(host)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // Deleting the namespace removes its end of the veth pair, and so the pair.
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// A worker process, in a namespace or on this host.
struct Worker {
    host: Option<String>,
    url: String,
    args: Vec<String>,
    log: PathBuf,
    child: Child,
}

impl Worker {
    fn start(host: Option<&Host>, url: String, args: Vec<String>, log: PathBuf) -> Worker {
        let child = spawn_worker(host.map(|h| h.name.as_str()), &url, &args, &log);
        Worker {
            host: host.map(|h| h.name.clone()),
            url,
            args,
            log,
            child,
        }
    }

    fn restart(&mut self) {
        self.child = spawn_worker(self.host.as_deref(), &self.url, &self.args, &self.log);
    }
}

/// A worker's arguments: the archive, the key, one OCR thread, then `extra`.
fn worker_args(archive: &Path, key: &Path, extra: &[&str]) -> Vec<String> {
    let (archive, key) = (archive.to_str().unwrap(), key.to_str().unwrap());
    ["--archive", archive, "--key", key, "--threads", "1"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn spawn_worker(netns: Option<&str>, url: &str, args: &[String], log: &Path) -> Child {
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, BIN]);
            c
        }
        None => Command::new(BIN),
    };
    command
        .args(["worker", "--queue", url])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .spawn()
        .unwrap()
}

/// A small deterministic generator: the kills happen at the same moments on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn status_json(url: &str) -> serde_json::Value {
    let out = scanwerk(&["queue", "status", "--queue", url, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// How many `published` events the archive's audit log holds per batch.
fn published_events(archive: &Path) -> std::collections::BTreeMap<String, usize> {
    let log = std::fs::read_to_string(archive.join(".audit/audit.jsonl")).unwrap_or_default();
    let mut counts = std::collections::BTreeMap::new();
    for line in log.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event["event"] == "published" {
            *counts
                .entry(event["batch"].as_str().unwrap_or("?").to_string())
                .or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn workers_killed_at_random_and_a_server_restart_lose_no_batch_and_publish_none_twice() {
    let dir = TempDir::new("queue");
    let keys = keygen(&dir.dir("keys"));
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    let mut batches = Vec::new();
    for i in 1..=12 {
        let id = if i == 12 {
            "poison".to_string()
        } else {
            format!("q{i:02}")
        };
        let batch = inbox.join(&id);
        copy_tree(&project("testdata/demo-batch"), &batch);
        let sheet = std::fs::read_to_string(batch.join("batch.toml")).unwrap();
        std::fs::write(batch.join("batch.toml"), sheet.replace("demo-2026-001", &id)).unwrap();
        if id == "poison" {
            std::fs::write(batch.join("bescheid.png"), b"\x89PNG\r\n\x1a\n broken").unwrap();
        }
        batches.push(batch);
    }
    let hosts: Vec<Host> = match (Host::new(1), Host::new(2)) {
        (Ok(a), Ok(b)) => vec![a, b],
        (a, b) => {
            eprintln!(
                "SKIPPED (separate hosts): network namespaces cannot be made here ({}); all three workers run on this host",
                a.err().or(b.err()).unwrap_or_default()
            );
            Vec::new()
        }
    };
    let bind = if hosts.is_empty() { "127.0.0.1" } else { "0.0.0.0" };
    let mut nats = Nats::start(bind, &dir.dir("nats-store"), &dir.join("nats.log"));
    let url = nats.url("127.0.0.1");

    let mut submit: Vec<&str> = vec!["submit", "--queue", &url, "--json"];
    let dirs: Vec<String> = batches.iter().map(|b| b.to_str().unwrap().to_string()).collect();
    submit.extend(dirs.iter().map(String::as_str));
    submit.push(&dirs[0]); // the double submit
    let out = scanwerk(&submit);
    assert!(out.status.success(), "{}", stderr(&out));
    let submitted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = submitted["submitted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "queued").count(),
        12,
        "{submitted}"
    );
    assert_eq!(
        statuses.last(),
        Some(&"duplicate"),
        "the double submit is dropped by the server"
    );

    let args = worker_args(
        &archive,
        &keys.private,
        &[
            "--ack-wait-seconds",
            "3",
            "--max-deliver",
            "4",
            "--retry-seconds",
            "1",
        ],
    );
    let mut workers: Vec<Worker> = (0..3)
        .map(|i| {
            let host = hosts.get(i);
            let url = match host {
                Some(h) => nats.url(&h.server),
                None => url.clone(),
            };
            Worker::start(host, url, args.clone(), dir.join(&format!("worker-{i}.log")))
        })
        .collect();

    let mut random = Seeded(20261201);
    let started = Instant::now();
    let mut kills = 0;
    let mut restarted_server = false;
    let done = |archive: &Path| published_events(archive).len() >= 11;
    while !done(&archive) {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "not done after 240 s: {:?}",
            published_events(&archive)
        );
        std::thread::sleep(Duration::from_millis(300 + random.next(1200)));
        if kills == 2 && !restarted_server {
            nats.restart();
            restarted_server = true;
        } else if kills < 5 {
            let victim = random.next(3) as usize;
            signal(&workers[victim].child, "KILL");
            let _ = workers[victim].child.wait();
            workers[victim].restart();
            kills += 1;
        }
    }
    assert!(
        restarted_server && kills == 5,
        "the batches were done before the kills and the restart: make them slower"
    );
    // Wait for the queue to settle: the poison dead-lettered, nothing pending or held.
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = status_json(&url);
        let settled = status["pending"] == 0
            && status["in_progress"] == 0
            && status["working"].as_array().is_some_and(|w| w.is_empty())
            && status["dead"].as_array().is_some_and(|d| !d.is_empty());
        if settled {
            break status;
        }
        assert!(Instant::now() < until, "the queue did not settle: {status}");
        std::thread::sleep(Duration::from_millis(500));
    };
    // SIGTERM: a worker stops between jobs with exit 130.
    for worker in &mut workers {
        signal(&worker.child, "TERM");
        let code = worker.child.wait().unwrap().code();
        assert_eq!(
            code,
            Some(130),
            "{}",
            std::fs::read_to_string(&worker.log).unwrap_or_default()
        );
    }
    eprintln!(
        "queue: {kills} workers killed, server restarted: {restarted_server}, {} s",
        started.elapsed().as_secs()
    );

    let published = published_events(&archive);
    assert_eq!(published.len(), 11, "{published:?}");
    assert!(
        published.values().all(|n| *n == 1),
        "a batch was published twice: {published:?}"
    );
    for id in published.keys() {
        let batch = archive.join(id);
        let out = scanwerk(&["verify", batch.to_str().unwrap()]);
        assert!(out.status.success(), "{id}: {}", stderr(&out));
        assert!(inbox.join("done").join(id).is_dir(), "{id}: input not in done/");
    }
    collect_pdfs(&archive);
    validate_bags(&archive);
    let dead = status["dead"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{status}");
    assert_eq!(dead[0]["job"]["batch_id"], "poison", "{status}");
    assert!(
        dead[0]["reason"].as_str().unwrap().contains("bescheid.png"),
        "{status}"
    );
    assert!(inbox.join("failed/poison/error.txt").exists());
    assert!(!archive.join("poison").exists());
}

/// A worker frozen mid-batch (SIGSTOP: a slow network, a paused VM) loses its job to a second
/// worker after the ack wait; when it thaws, both have worked the same batch: it is published
/// once, verifies, and nothing is dead-lettered.
#[test]
fn a_job_two_workers_hold_at_once_is_published_once() {
    let dir = TempDir::new("queue-twice");
    let keys = keygen(&dir.dir("keys"));
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    let batch = inbox.join("twice");
    copy_tree(&project("testdata/demo-batch"), &batch);
    let nats = Nats::start("127.0.0.1", &dir.dir("nats-store"), &dir.join("nats.log"));
    let url = nats.url("127.0.0.1");
    let out = scanwerk(&["submit", "--queue", &url, batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let args = worker_args(&archive, &keys.private, &["--ack-wait-seconds", "2"]);
    let mut first = Worker::start(None, url.clone(), args.clone(), dir.join("first.log"));
    // Frozen in the middle of the OCR, once it reported a page done: not while it appends to the
    // archive's audit log, whose lock a frozen process keeps (README, the work queue).
    let until = Instant::now() + Duration::from_secs(60);
    while status_json(&url)["working"][0]["pages_done"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(Instant::now() < until, "the first worker never took the job");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&first.child, "STOP");
    std::thread::sleep(Duration::from_secs(3));
    let mut second = Worker::start(None, url.clone(), args, dir.join("second.log"));
    let until = Instant::now() + Duration::from_secs(120);
    while published_events(&archive).is_empty() {
        assert!(Instant::now() < until, "the second worker did not publish");
        std::thread::sleep(Duration::from_millis(200));
    }
    signal(&first.child, "CONT");
    // The thawed worker finishes its copy of the work and settles the job as done.
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(&first.log).unwrap_or_default();
        if log.contains("published meanwhile") || log.contains("already published") || log.contains("done") {
            break;
        }
        assert!(Instant::now() < until, "the thawed worker did not finish: {log}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    let status = status_json(&url);
    for worker in [&mut first, &mut second] {
        signal(&worker.child, "TERM");
        assert_eq!(worker.child.wait().unwrap().code(), Some(130));
    }
    let first_log = std::fs::read_to_string(&first.log).unwrap_or_default();
    let second_log = std::fs::read_to_string(&second.log).unwrap_or_default();
    assert_eq!(
        published_events(&archive).get("demo-2026-001"),
        Some(&1),
        "{first_log}\n{second_log}"
    );
    assert!(
        status["dead"].as_array().is_some_and(|d| d.is_empty()),
        "{status}\n{first_log}"
    );
    assert_eq!(status["pending"], 0, "{status}");
    let out = scanwerk(&["verify", archive.join("demo-2026-001").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(inbox.join("done/twice").is_dir());
    collect_pdfs(&archive);
}

/// `run --queue` hands the inbox's ready batches to the queue (moved into `queued/` first, so no
/// other run takes them) and leaves batches that are not ready; a worker publishes them and moves
/// the input to the inbox's `done/`.
#[test]
fn run_with_a_queue_hands_ready_batches_to_the_workers() {
    let dir = TempDir::new("queue-run");
    let keys = keygen(&dir.dir("keys"));
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    copy_tree(&project("testdata/demo-batch"), &inbox.join("ready"));
    std::fs::create_dir_all(inbox.join("arriving")).unwrap();
    std::fs::write(inbox.join("arriving/batch.toml"), "id = \"arriving\"\n").unwrap();
    let nats = Nats::start("127.0.0.1", &dir.dir("nats-store"), &dir.join("nats.log"));
    let url = nats.url("127.0.0.1");
    let (i, a) = (inbox.to_str().unwrap(), archive.to_str().unwrap());
    let out = scanwerk(&[
        "run",
        "--inbox",
        i,
        "--archive",
        a,
        "--queue",
        &url,
        "--settle-seconds",
        "0",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["submitted"].as_array().map(Vec::len), Some(1), "{said}");
    assert_eq!(said["submitted"][0]["status"], "queued", "{said}");
    assert!(inbox.join("queued/ready").is_dir() && !inbox.join("ready").exists());
    assert!(
        inbox.join("arriving").is_dir(),
        "a folder with only its sheet waits"
    );
    assert_eq!(status_json(&url)["pending"], 1);

    let args = worker_args(&archive, &keys.private, &[]);
    let mut worker = Worker::start(None, url.clone(), args, dir.join("worker.log"));
    let until = Instant::now() + Duration::from_secs(120);
    while !inbox.join("done/ready").is_dir() {
        assert!(
            Instant::now() < until,
            "{}",
            std::fs::read_to_string(&worker.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    signal(&worker.child, "TERM");
    assert_eq!(worker.child.wait().unwrap().code(), Some(130));
    let out = scanwerk(&["verify", archive.join("demo-2026-001").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status_json(&url)["pending"], 0);
    collect_pdfs(&archive);
}

/// A fault a retry may cure (here: the archive folder gone) returns the job with a delay; once it
/// was delivered the configured number of times it is dead-lettered, saying so, and the batch stays
/// in the inbox untouched.
#[test]
fn a_passing_fault_is_retried_and_dead_lettered_after_the_configured_attempts() {
    let dir = TempDir::new("queue-retry");
    let keys = keygen(&dir.dir("keys"));
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    let batch = inbox.join("later");
    copy_tree(&project("testdata/demo-batch"), &batch);
    let nats = Nats::start("127.0.0.1", &dir.dir("nats-store"), &dir.join("nats.log"));
    let url = nats.url("127.0.0.1");
    let args = worker_args(
        &archive,
        &keys.private,
        &["--max-deliver", "3", "--retry-seconds", "1"],
    );
    let mut worker = Worker::start(None, url.clone(), args, dir.join("worker.log"));
    // The worker checked the archive when it started; then the archive's mount goes away.
    std::thread::sleep(Duration::from_secs(2));
    std::fs::remove_dir_all(&archive).unwrap();
    let out = scanwerk(&["submit", "--queue", &url, batch.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = status_json(&url);
        if status["dead"].as_array().is_some_and(|d| !d.is_empty()) {
            break status;
        }
        assert!(
            Instant::now() < until,
            "not dead-lettered: {status}\n{}",
            std::fs::read_to_string(&worker.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    signal(&worker.child, "TERM");
    assert_eq!(worker.child.wait().unwrap().code(), Some(130));
    let reason = status["dead"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("delivered 3 times"), "{status}");
    assert!(
        reason.contains(archive.to_str().unwrap()),
        "the reason names the archive: {status}"
    );
    assert_eq!(status["pending"], 0, "{status}");
    let log = std::fs::read_to_string(&worker.log).unwrap_or_default();
    assert_eq!(log.matches("job returned for a retry").count(), 2, "{log}");
    assert!(batch.join("batch.toml").exists(), "the input stays where it was");
}
