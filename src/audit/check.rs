//! `scanwerk audit verify`: the chain, every checkpoint's signature, the link between rotated
//! files, and the head file against the log's end; the first broken line is named.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use super::{GENESIS, Line, Log, checkpoint_message};
use crate::seal::TrustedKey;
use crate::seal::hash::sha256_hex;

/// What `audit verify` found.
#[derive(Debug, Default, Serialize)]
pub struct AuditReport {
    pub files: Vec<PathBuf>,
    pub events: u64,
    pub checkpoints: u64,
    /// Checkpoints that carry an RFC 3161 time stamp over their signed bytes (checked).
    pub timestamped_checkpoints: u64,
    /// Fingerprints of the keys that signed checkpoints, in order of first use.
    pub signers: Vec<String>,
    /// Events after the last checkpoint: held by the chain and the head file only.
    pub after_last_checkpoint: u64,
    /// Lines torn by a writer that died, each recorded by the `torn-line` event after it (or at
    /// the very end, not yet recorded).
    pub torn: Vec<String>,
    /// The first broken line, if any: `<file> line <n>: <what>`.
    pub problem: Option<String>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Where the check stands between lines and files.
struct Cursor {
    prev: Option<String>,
    seq: u64,
    torn_hash: Option<String>,
    /// The last seq and hash the head file beside the newest log records.
    head: Option<(u64, String)>,
    in_newest: bool,
}

/// Verifies `files` as one log, oldest first; with `trust`, every checkpoint must be signed by it.
pub fn verify_logs(files: &[PathBuf], trust: Option<&TrustedKey>) -> AuditReport {
    let mut report = AuditReport {
        files: files.to_vec(),
        ..Default::default()
    };
    let mut cursor = Cursor {
        prev: None,
        seq: 0,
        torn_hash: None,
        head: files
            .last()
            .and_then(|log| Log::at(log).read_head())
            .map(|h| (h.last_seq, h.last_hash)),
        in_newest: false,
    };
    for (index, file) in files.iter().enumerate() {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) => {
                report.problem = Some(format!("{}: cannot be read: {e}", file.display()));
                return report;
            }
        };
        // The head file speaks of the newest log only.
        cursor.in_newest = index + 1 == files.len();
        if let Err(problem) = check_file(file, &bytes, index == 0, &mut cursor, trust, &mut report) {
            report.problem = Some(problem);
            return report;
        }
    }
    if let Some(last) = files.last()
        && let Err(problem) = check_head(last, &cursor)
    {
        report.problem = Some(problem);
    }
    report
}

fn check_file(
    file: &Path,
    bytes: &[u8],
    first_file: bool,
    cursor: &mut Cursor,
    trust: Option<&TrustedKey>,
    report: &mut AuditReport,
) -> Result<(), String> {
    let name = file.display();
    let ends_torn = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if !ends_torn {
        lines.pop();
    }
    let count = lines.len();
    for (i, raw) in lines.into_iter().enumerate() {
        let at = |what: String| format!("{name} line {}: {what}", i + 1);
        let hash = sha256_hex(raw);
        let Ok(line) = serde_json::from_slice::<Line>(raw) else {
            if i + 1 == count && ends_torn {
                report.torn.push(format!(
                    "{name} line {}: torn last line ({} bytes without a newline: a writer stopped mid-write; the next writer records it)",
                    i + 1,
                    raw.len()
                ));
                return Ok(());
            }
            cursor.torn_hash = Some(hash);
            report
                .torn
                .push(format!("{name} line {}: torn ({} bytes)", i + 1, raw.len()));
            continue;
        };
        let expected = match (cursor.torn_hash.take(), &cursor.prev) {
            (Some(torn), _) => {
                if line.event != "torn-line" {
                    return Err(at(
                        "follows a line that is not a JSON event and does not record it as torn".into(),
                    ));
                }
                torn
            }
            (None, Some(prev)) => prev.clone(),
            (None, None) if first_file && line.event != "log-continued" => GENESIS.into(),
            (None, None) => line.prev.clone(),
        };
        if line.prev != expected {
            return Err(at(format!(
                "its prev {} is not the hash of the line before ({expected}): a line before it was changed, removed or moved",
                short(&line.prev)
            )));
        }
        if cursor.seq != 0 && line.seq != cursor.seq + 1 {
            return Err(at(format!("seq {} follows seq {}", line.seq, cursor.seq)));
        }
        if let Some((seq, head_hash)) = &cursor.head
            && cursor.in_newest
            && *seq == line.seq
            && *head_hash != hash
        {
            return Err(at(format!(
                "differs from the line the head file records for seq {seq}: it was changed"
            )));
        }
        if line.event == "checkpoint" {
            check_checkpoint(&line, cursor.seq, trust, report).map_err(at)?;
        } else {
            report.events += 1;
            report.after_last_checkpoint += 1;
        }
        cursor.seq = line.seq;
        cursor.prev = Some(hash);
    }
    Ok(())
}

fn check_checkpoint(
    line: &Line,
    seq_before: u64,
    trust: Option<&TrustedKey>,
    report: &mut AuditReport,
) -> Result<(), String> {
    let d = &line.details;
    let field = |name: &str| d[name].as_str().unwrap_or_default().to_string();
    if d["seq"].as_u64() != Some(seq_before) || field("head") != line.prev {
        return Err("checkpoint names another head than the line before it".into());
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(field("public_key"))
        .ok()
        .and_then(|der| TrustedKey::from_spki(&der))
        .ok_or("checkpoint carries no valid P-256 or P-384 public key")?;
    if let Some(trusted) = trust
        && trusted != &key
    {
        return Err(format!(
            "checkpoint signed by key {}, not by the trusted key {}",
            key.fingerprint(),
            trusted.fingerprint()
        ));
    }
    let signature = b64.decode(field("signature")).unwrap_or_default();
    if !key.verify(checkpoint_message(seq_before, &line.prev).as_bytes(), &signature) {
        return Err("checkpoint signature does not verify".into());
    }
    if let Some(token) = d["timestamp"].as_str() {
        use crate::seal::{hash::HashAlgorithm, timestamp};
        let reply = b64.decode(token).unwrap_or_default();
        let digest = HashAlgorithm::Sha256.hash(checkpoint_message(seq_before, &line.prev).as_bytes());
        timestamp::check_reply(&reply, HashAlgorithm::Sha256, &digest, None, &[])
            .map_err(|e| format!("checkpoint time stamp does not hold: {e}"))?;
        report.timestamped_checkpoints += 1;
    }
    report.checkpoints += 1;
    report.after_last_checkpoint = 0;
    if !report.signers.contains(&key.fingerprint()) {
        report.signers.push(key.fingerprint());
    }
    Ok(())
}

/// The head file beside the last log names a line that must still be there, unchanged.
fn check_head(log: &Path, cursor: &Cursor) -> Result<(), String> {
    match &cursor.head {
        Some((seq, _)) if *seq > cursor.seq => Err(format!(
            "{} line after seq {}: the log ends there, but {} records seq {seq}: lines at its end were removed",
            log.display(),
            cursor.seq,
            Log::at(log).head_path().display(),
        )),
        _ => Ok(()),
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

#[cfg(test)]
mod tests {
    use super::super::{Event, Log};
    use super::*;
    use crate::seal::sign::{Algorithm, SigningKey, keygen};

    /// A log of 6 events with checkpoints after the 3rd and the 6th, and its signing key.
    fn log(name: &str) -> (PathBuf, SigningKey, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("scanwerk-audit-check-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let keys = keygen(&dir.join("keys"), Algorithm::EcdsaP256Sha256).unwrap();
        let key = SigningKey::load(&keys.private).unwrap();
        let log = Log::at(&dir.join("audit.jsonl"));
        for batch in ["a", "b"] {
            let events: Vec<Event> = ["claimed", "started", "published"]
                .iter()
                .map(|e| Event::new(e, Some(batch)))
                .collect();
            log.append(&events, None, Some(&key), true).unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines = text.lines().map(str::to_string).collect();
        (log.path().to_path_buf(), key, lines)
    }

    fn rewrite(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }

    #[test]
    fn an_intact_log_passes_and_every_change_names_its_first_bad_line() {
        let (path, key, lines) = log("tamper");
        assert_eq!(lines.len(), 8, "{lines:#?}");
        let report = verify_logs(std::slice::from_ref(&path), Some(&key.public()));
        assert!(report.ok(), "{:?}", report.problem);
        assert_eq!(
            (report.events, report.checkpoints, report.after_last_checkpoint),
            (6, 2, 0)
        );

        let cases: Vec<(&str, Vec<String>, &str)> = vec![
            ("deleted", [&lines[..2], &lines[3..]].concat(), "line 3:"),
            (
                "reordered",
                {
                    let mut l = lines.clone();
                    l.swap(1, 2);
                    l
                },
                "line 2:",
            ),
            (
                "edited",
                {
                    let mut l = lines.clone();
                    l[4] = l[4].replace("\"b\"", "\"x\"");
                    l
                },
                "line 6:",
            ),
            (
                "edited last",
                {
                    let mut l = lines.clone();
                    l[7] = l[7].replace("\"checkpoint\"", "\"checkpoinT\"");
                    l
                },
                "line 8:",
            ),
            (
                "truncated after a checkpoint",
                lines[..4].to_vec(),
                "lines at its end were removed",
            ),
            (
                "last event removed",
                lines[..7].to_vec(),
                "lines at its end were removed",
            ),
        ];
        for (what, changed, named) in cases {
            rewrite(&path, &changed);
            let report = verify_logs(std::slice::from_ref(&path), None);
            let problem = report.problem.unwrap_or_default();
            assert!(problem.contains(named), "{what}: {problem}");
        }
        // A checkpoint signed by another key than the trusted one.
        rewrite(&path, &lines);
        let (_, other, _) = log("other-key");
        let report = verify_logs(std::slice::from_ref(&path), Some(&other.public()));
        assert!(
            report
                .problem
                .unwrap()
                .contains("line 4: checkpoint signed by key")
        );
    }

    #[test]
    fn a_torn_last_line_is_reported_and_rotation_keeps_the_chain() {
        let (path, key, _) = log("torn");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut file, b"{\"seq\":9,\"time\":\"20").unwrap();
        let report = verify_logs(std::slice::from_ref(&path), None);
        assert!(report.ok(), "{:?}", report.problem);
        assert!(report.torn[0].contains("torn last line"), "{:?}", report.torn);
        // Rotation: the next append records the torn line (a file is rotated only after that),
        // the one after starts a new file linked to the old one.
        let log = Log::at(&path).rotating_at(100);
        log.append(&[Event::new("verified", Some("a"))], None, Some(&key), true)
            .unwrap();
        assert!(super::super::rotated_files(&path).is_empty());
        log.append(&[Event::new("verified", Some("b"))], None, Some(&key), true)
            .unwrap();
        let mut files = super::super::rotated_files(&path);
        assert_eq!(files.len(), 1, "{files:?}");
        files.push(path.clone());
        let report = verify_logs(&files, Some(&key.public()));
        assert!(report.ok(), "{:?}", report.problem);
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(
            first.lines().next().unwrap().contains("\"log-continued\""),
            "{first}"
        );
        // Without the old file, the new one is still checked from its link on.
        assert!(verify_logs(std::slice::from_ref(&path), None).ok());
    }
}
