//! The audit log (TR-RESISCAN A.SC.11, REQUIREMENTS item 14): every state change of every batch
//! and every change of a profile or key in use, one JSON line per event, hash-chained and signed
//! at checkpoints.
//!
//! ```text
//! {"seq":7,"time":"2026-11-30T22:01:02Z","host":"scan-01","user":"scan","operator":"Erika",
//!  "batch":"bauakte-0815","event":"published","details":{…},"prev":"<SHA-256 of line 6>"}
//! ```
//!
//! - `prev` is the SHA-256 (hex) of the previous line's bytes without its newline; the first
//!   line of a log has 64 zeros, the first line of a rotated-to file (`log-continued`) the hash
//!   of the last line of the file before it.
//! - A `checkpoint` line signs the chain head with the seal key: ECDSA over
//!   `scanwerk-audit-checkpoint\nseq <seq of the line before>\nhead <its hash>\n`, key and
//!   signature in its details. Written at the end of every batch and, when a writer with a key
//!   appends and the last checkpoint is older than an hour, before its events.
//! - Writers take `<log>.lock` (flock), append with O_APPEND in one write and fsync, then replace
//!   `<log>.head` (the last seq and hash, the last checkpoint's time, the profiles and keys last
//!   seen), so a log cut short behind the head's line is found by `audit verify`.
//! - A line left without its newline by a writer that died mid-write is never rewritten: the next
//!   writer ends it and appends a `torn-line` event with its length and hash.
//! - Above [`ROTATE_BYTES`] (or `SCANWERK_AUDIT_ROTATE_BYTES`), the log is renamed to
//!   `<stem>.<last seq, 12 digits>.jsonl` and a new one starts with `log-continued`.
//!
//! Location: `--audit-log` (or `SCANWERK_AUDIT_LOG`), else `<archive>/.audit/audit.jsonl`.

mod check;
mod show;

pub use check::{AuditReport, verify_logs};
pub use show::history;

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::seal::SigningKey;
use crate::seal::hash::sha256_hex;

/// The default log size at which a new file is started.
pub const ROTATE_BYTES: u64 = 64 << 20;
/// A writer with a key checkpoints when the last checkpoint is older than this.
const CHECKPOINT_EVERY: time::Duration = time::Duration::hours(1);
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The default log below an archive.
pub const DEFAULT_LOG: &str = ".audit/audit.jsonl";

static LOCATION: OnceLock<PathBuf> = OnceLock::new();

/// Sets the log every command of this process writes (the command line's `--audit-log`).
pub fn set_location(path: PathBuf) {
    let _ = LOCATION.set(path);
}

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub seq: u64,
    pub time: String,
    pub host: String,
    /// The account the process ran as.
    pub user: String,
    /// The person who acted, where one is named (batch sheet operator, reviewer, `--by`, `--from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    pub event: String,
    pub details: serde_json::Value,
    pub prev: String,
}

/// What a caller records: the event's name, its batch, who, and anything else as details.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub batch: Option<String>,
    pub operator: Option<String>,
    pub details: serde_json::Value,
}

impl Event {
    pub fn new(event: &str, batch: Option<&str>) -> Event {
        Event {
            event: event.into(),
            batch: batch.map(str::to_string),
            operator: None,
            details: serde_json::json!({}),
        }
    }

    pub fn by(mut self, operator: &str) -> Event {
        self.operator = Some(operator.into());
        self
    }

    pub fn with(mut self, details: serde_json::Value) -> Event {
        self.details = details;
        self
    }
}

/// What `<log>.head` keeps between writers.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Head {
    pub last_seq: u64,
    pub last_hash: String,
    #[serde(default)]
    pub last_checkpoint: Option<String>,
    /// `profile <id>` → SHA-256 of the profile, `key` → fingerprint: as last seen in use.
    #[serde(default)]
    pub seen: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "audit log {path}: {source}; no event is lost silently: fix the folder's permissions or space, or set --audit-log"
)]
pub struct AuditError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// What in use is compared with what the log saw last: a change is logged.
pub struct InUse<'a> {
    pub profile_id: &'a str,
    pub profile_sha256: &'a str,
    pub key_fingerprint: &'a str,
}

/// An audit log file.
#[derive(Debug, Clone)]
pub struct Log {
    path: PathBuf,
    /// The size above which the next append starts a new file.
    rotate_at: u64,
    /// RFC 3161 service that stamps every checkpoint this log writes, if one is configured.
    tsa_url: Option<String>,
}

impl Log {
    pub fn at(path: &Path) -> Log {
        let rotate_at = std::env::var("SCANWERK_AUDIT_ROTATE_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(ROTATE_BYTES);
        Log {
            path: path.into(),
            rotate_at,
            tsa_url: None,
        }
    }

    /// The log, its checkpoints time-stamped by the service at `url` (the profile's
    /// `seal.tsa_url`).
    pub fn stamped_by(self, url: Option<&str>) -> Log {
        Log {
            tsa_url: url.map(str::to_string),
            ..self
        }
    }

    /// The log, rotated above `bytes` instead.
    pub fn rotating_at(self, bytes: u64) -> Log {
        Log {
            rotate_at: bytes,
            ..self
        }
    }

    /// The log for `archive`: the command line's `--audit-log`, `SCANWERK_AUDIT_LOG`, else
    /// `<archive>/.audit/audit.jsonl`.
    pub fn for_archive(archive: &Path) -> Log {
        let path = LOCATION
            .get()
            .cloned()
            .or_else(|| std::env::var_os("SCANWERK_AUDIT_LOG").map(PathBuf::from))
            .unwrap_or_else(|| archive.join(DEFAULT_LOG));
        Log::at(&path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sidecar(&self, extension: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(extension);
        self.path.with_file_name(name)
    }

    /// `<log>.head`.
    pub fn head_path(&self) -> PathBuf {
        self.sidecar(".head")
    }

    /// Appends `events`; with `signer`, a checkpoint follows when `checkpoint` is asked for or the
    /// last one is older than an hour. With `in_use`, a changed profile or key is logged first.
    pub fn append(
        &self,
        events: &[Event],
        in_use: Option<&InUse>,
        signer: Option<&SigningKey>,
        checkpoint: bool,
    ) -> Result<(), AuditError> {
        let err = |source| AuditError {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(self.sidecar(".lock"))
            .map_err(err)?;
        // SAFETY: flock on a descriptor this function owns; released when it is closed.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(err(std::io::Error::last_os_error()));
        }
        self.rotate_if_large().map_err(err)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o640)
            .open(&self.path)
            .map_err(err)?;
        let tail = read_tail(&mut file).map_err(err)?;
        let mut head = self.read_head().unwrap_or_default();
        let mut writer = Writer::after(&tail, &head, &self.previous_link(&tail, &head));
        writer.tsa_url = self.tsa_url.clone();
        if let Some(torn) = &tail.torn {
            writer.buffer.push(b'\n');
            writer.prev = sha256_hex(torn);
            let torn_event = Event::new("torn-line", None).with(serde_json::json!({
                "bytes": torn.len(), "sha256": writer.prev,
                "note": "a writer stopped in the middle of this line; it is kept as it was",
            }));
            writer.push(&torn_event);
        }
        if let Some(link) = tail.empty.then(|| self.rotated_from()).flatten() {
            writer.push(&link);
        }
        let now = time::OffsetDateTime::now_utc();
        let due = head
            .last_checkpoint
            .as_deref()
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .is_none_or(|t| now - t > CHECKPOINT_EVERY);
        if let Some(signer) = signer
            && due
            && writer.seq > 0
        {
            writer.checkpoint(signer, &mut head);
        }
        if let Some(in_use) = in_use {
            for event in changes(&mut head, in_use) {
                writer.push(&event);
            }
        }
        for event in events {
            writer.push(event);
        }
        if let Some(signer) = signer
            && checkpoint
        {
            writer.checkpoint(signer, &mut head);
        }
        file.write_all(&writer.buffer).map_err(err)?;
        file.sync_all().map_err(err)?;
        head.last_seq = writer.seq;
        head.last_hash = writer.prev.clone();
        self.write_head(&head).map_err(err)
    }

    /// The `prev` of the first line written now.
    fn previous_link(&self, tail: &Tail, head: &Head) -> String {
        match &tail.last {
            Some((_, hash)) => hash.clone(),
            None if tail.empty && !head.last_hash.is_empty() => head.last_hash.clone(),
            None => GENESIS.into(),
        }
    }

    /// The `log-continued` event for a log that starts after a rotation.
    fn rotated_from(&self) -> Option<Event> {
        let head = self.read_head()?;
        let previous = rotated_files(&self.path).pop()?;
        Some(Event::new("log-continued", None).with(serde_json::json!({
            "previous": previous.file_name()?.to_string_lossy(),
            "previous_last_seq": head.last_seq,
            "previous_last_hash": head.last_hash,
        })))
    }

    fn rotate_if_large(&self) -> std::io::Result<()> {
        let limit = self.rotate_at;
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Ok(());
        };
        let Some(head) = self.read_head() else {
            return Ok(());
        };
        if meta.len() < limit || !ends_with_newline(&self.path)? {
            return Ok(());
        }
        let rotated = rotated_name(&self.path, head.last_seq);
        if rotated.exists() {
            return Ok(());
        }
        std::fs::rename(&self.path, &rotated)?;
        crate::archive::sync_dir(self.path.parent().unwrap_or(Path::new(".")))
    }

    pub fn read_head(&self) -> Option<Head> {
        serde_json::from_slice(&std::fs::read(self.head_path()).ok()?).ok()
    }

    fn write_head(&self, head: &Head) -> std::io::Result<()> {
        let temp = self.sidecar(&format!(".head.part-{}", std::process::id()));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&crate::json::to_json(head))?;
        file.sync_all()?;
        std::fs::rename(&temp, self.head_path())
    }

    /// Appends `event` (with `key`, a signed checkpoint after it) and, if that fails, says so on
    /// stderr's log and carries on: for steps whose outcome stands already (a verify, a verdict in
    /// the review's own log, input moved) and must not depend on the log being writable.
    pub fn note(&self, event: Event, key: Option<&SigningKey>) {
        if let Err(e) = self.append(&[event], None, key, key.is_some()) {
            tracing::error!("{e}");
        }
    }
}

/// False if the file's last line is torn: it is recorded before the file may be rotated.
fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// `<stem>.<seq, 12 digits>.jsonl` beside `path`.
fn rotated_name(path: &Path, last_seq: u64) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{stem}.{last_seq:012}.jsonl"))
}

/// The files a log was rotated into, oldest first.
pub fn rotated_files(path: &Path) -> Vec<PathBuf> {
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.strip_prefix(&format!("{stem}."))
                .and_then(|rest| rest.strip_suffix(".jsonl"))
                .is_some_and(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    files.sort();
    files
}

/// The end of a log file: its last complete line's seq and hash, and a torn last line.
struct Tail {
    last: Option<(u64, String)>,
    torn: Option<Vec<u8>>,
    empty: bool,
}

/// Reads the last complete line (and a line without newline after it) from the file's end.
fn read_tail(file: &mut std::fs::File) -> std::io::Result<Tail> {
    let len = file.metadata()?.len();
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (complete, torn) = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => (&bytes[..end], Some(&bytes[end + 1..]).filter(|t| !t.is_empty())),
            None => (&bytes[..0], Some(&bytes[..]).filter(|t| !t.is_empty())),
        };
        let line_start = complete.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        if line_start.is_none() && start > 0 && !complete.is_empty() {
            window *= 4;
            continue;
        }
        if torn.is_some() && complete.is_empty() && start > 0 {
            window *= 4;
            continue;
        }
        let last_line = &complete[line_start.unwrap_or(0)..];
        let last = (!last_line.is_empty()).then(|| {
            let seq = serde_json::from_slice::<Line>(last_line).map_or(0, |l| l.seq);
            (seq, sha256_hex(last_line))
        });
        return Ok(Tail {
            last,
            torn: torn.map(<[u8]>::to_vec),
            empty: len == 0,
        });
    }
}

/// Builds the lines of one append.
struct Writer {
    buffer: Vec<u8>,
    seq: u64,
    prev: String,
    host: String,
    user: String,
    tsa_url: Option<String>,
}

impl Writer {
    /// Continues after the file's last line, or after the head's seq in a file just started.
    fn after(tail: &Tail, head: &Head, prev: &str) -> Writer {
        let seq = match &tail.last {
            Some((seq, _)) => *seq,
            None if tail.empty => head.last_seq,
            None => 0,
        };
        Writer {
            buffer: Vec::new(),
            seq,
            prev: prev.into(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            user: crate::config::current_user(),
            tsa_url: None,
        }
    }

    fn push(&mut self, event: &Event) {
        self.seq += 1;
        let line = Line {
            seq: self.seq,
            time: crate::json::now_rfc3339(),
            host: self.host.clone(),
            user: self.user.clone(),
            operator: event.operator.clone(),
            batch: event.batch.clone(),
            event: event.event.clone(),
            details: event.details.clone(),
            prev: std::mem::take(&mut self.prev),
        };
        let bytes = serde_json::to_vec(&line).expect("audit lines serialise");
        self.prev = sha256_hex(&bytes);
        self.buffer.extend_from_slice(&bytes);
        self.buffer.push(b'\n');
    }

    /// A checkpoint over the chain so far.
    fn checkpoint(&mut self, signer: &SigningKey, head: &mut Head) {
        let message = checkpoint_message(self.seq, &self.prev);
        let public = signer.public();
        let b64 = base64::engine::general_purpose::STANDARD;
        // A token that cannot sign now (removed, locked) leaves the chain unsealed until the next
        // checkpoint, and says so in the log.
        let signature = match signer.sign(message.as_bytes()) {
            Ok(signature) => signature,
            Err(e) => {
                let reason = serde_json::json!({ "reason": e.to_string() });
                self.push(&Event::new("checkpoint-failed", None).with(reason));
                return;
            }
        };
        let mut details = serde_json::json!({
            "seq": self.seq,
            "head": self.prev,
            "algorithm": signer.algorithm().name(),
            "key_fingerprint": public.fingerprint(),
            "public_key": b64.encode(&public.spki),
            "signature": b64.encode(signature),
        });
        if let Some(url) = &self.tsa_url {
            // The service stamps the SHA-256 of the signed bytes; a service that does not answer
            // leaves the checkpoint signed only, and says why.
            match stamp(url, message.as_bytes()) {
                Ok(reply) => details["timestamp"] = b64.encode(reply).into(),
                Err(e) => details["timestamp_error"] = e.to_string().into(),
            }
        }
        self.push(&Event::new("checkpoint", None).with(details));
        head.last_checkpoint = Some(crate::json::now_rfc3339());
    }
}

/// An RFC 3161 reply from `url` over the SHA-256 of `message`, checked.
fn stamp(url: &str, message: &[u8]) -> Result<Vec<u8>, crate::seal::timestamp::TimestampError> {
    use crate::seal::{hash::HashAlgorithm, timestamp};
    let digest = HashAlgorithm::Sha256.hash(message);
    let query = timestamp::query(HashAlgorithm::Sha256, &digest)?;
    let reply = timestamp::request(url, &query)?;
    timestamp::check_reply(&reply, HashAlgorithm::Sha256, &digest, Some(&query), &[])?;
    Ok(reply)
}

/// The bytes a checkpoint signs.
pub fn checkpoint_message(seq: u64, head: &str) -> String {
    format!("scanwerk-audit-checkpoint\nseq {seq}\nhead {head}\n")
}

/// `profile-changed` / `key-changed` events for what differs from what the log saw last.
fn changes(head: &mut Head, in_use: &InUse) -> Vec<Event> {
    let mut events = Vec::new();
    let profile = format!("profile {}", in_use.profile_id);
    for (slot, now, event) in [
        (profile, in_use.profile_sha256, "profile-changed"),
        ("key".to_string(), in_use.key_fingerprint, "key-changed"),
    ] {
        let before = head.seen.insert(slot.clone(), now.to_string());
        if before.as_deref() != Some(now) {
            events.push(Event::new(event, None).with(serde_json::json!({
                "what": slot, "now": now, "before": before,
            })));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scanwerk-audit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn lines_chain_and_a_torn_line_is_recorded_not_rewritten() {
        let dir = temp("chain");
        let log = Log::at(&dir.join("audit.jsonl"));
        log.append(
            &[
                Event::new("claimed", Some("b1")),
                Event::new("published", Some("b1")),
            ],
            None,
            None,
            false,
        )
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<Line> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0].prev, GENESIS);
        assert_eq!(lines[1].prev, sha256_hex(text.lines().next().unwrap().as_bytes()));
        assert_eq!((lines[0].seq, lines[1].seq), (1, 2));
        // A writer dies mid-line.
        let mut file = std::fs::OpenOptions::new().append(true).open(log.path()).unwrap();
        file.write_all(b"{\"seq\":3,\"ti").unwrap();
        log.append(&[Event::new("verified", Some("b1"))], None, None, false)
            .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.contains("{\"seq\":3,\"ti\n"), "{text}");
        let last: Vec<Line> = text
            .lines()
            .skip(3)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(last[0].event, "torn-line");
        assert_eq!(last[0].prev, sha256_hex(b"{\"seq\":3,\"ti"));
        assert_eq!((last[0].seq, last[1].seq), (3, 4));
        let head = log.read_head().unwrap();
        assert_eq!(head.last_seq, 4);
        assert_eq!(
            head.last_hash,
            sha256_hex(text.lines().last().unwrap().as_bytes())
        );
    }

    #[test]
    fn a_changed_profile_or_key_is_logged_once() {
        let dir = temp("changes");
        let log = Log::at(&dir.join("audit.jsonl"));
        let use_a = InUse {
            profile_id: "standard",
            profile_sha256: "aa",
            key_fingerprint: "k1",
        };
        log.append(&[], Some(&use_a), None, false).unwrap();
        log.append(&[], Some(&use_a), None, false).unwrap();
        let use_b = InUse {
            profile_sha256: "bb",
            ..use_a
        };
        log.append(&[], Some(&use_b), None, false).unwrap();
        let events: Vec<String> = std::fs::read_to_string(log.path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Line>(l).unwrap().event)
            .collect();
        assert_eq!(events, ["profile-changed", "key-changed", "profile-changed"]);
    }
}
