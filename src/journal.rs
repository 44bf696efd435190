//! Journal: the documents a staging folder already holds finished, so a run interrupted by a crash
//! resumes without recognising them again.
//!
//! `journal.jsonl` in the staging folder gets one line per document once its PDF and record are
//! written and fsynced. A later run of the same batch adopts the staging folder of the dead process
//! (`Staging::create` in the archive module) and reuses a document only if everything that made it is
//! unchanged: the same input files (SHA-256), the same context (profile, key, certificate, batch
//! sheet, scanwerk version) and the staged PDF and record as journaled. Anything else is made anew.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::seal::hash::sha256_hex;

pub const FILE: &str = "journal.jsonl";

/// One finished document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub document: String,
    /// What made it, hashed: see [`context`].
    pub context: String,
    /// Input files as (relative path, SHA-256).
    pub sources: Vec<(String, String)>,
    pub pdf_sha256: String,
    pub record_sha256: String,
}

/// The finished documents of one staging folder.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    entries: HashMap<String, Entry>,
    /// The file ends in a line torn by a crash: the next entry starts on a fresh line.
    torn: bool,
}

/// The hash of everything besides the input that shapes a document's bytes.
pub fn context(profile_sha256: &str, key: &str, certificate: Option<&str>, sheet: &[u8]) -> String {
    sha256_hex(
        format!(
            "scanwerk {}\nprofile {profile_sha256}\nkey {key}\ncertificate {}\nsheet {}\n",
            env!("CARGO_PKG_VERSION"),
            certificate.unwrap_or("-"),
            sha256_hex(sheet)
        )
        .as_bytes(),
    )
}

impl Journal {
    /// Reads the journal of `staging` (empty if there is none; a torn last line is ignored).
    pub fn open(staging: &Path) -> Journal {
        let path = staging.join(FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
            .map(|e| (e.document.clone(), e))
            .collect();
        let torn = !text.is_empty() && !text.ends_with('\n');
        Journal { path, entries, torn }
    }

    pub fn get(&self, document: &str) -> Option<&Entry> {
        self.entries.get(document)
    }

    /// Every entry, by document id.
    pub fn entries(&self) -> HashMap<String, Entry> {
        self.entries.clone()
    }

    pub fn documents(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Appends `entry` and fsyncs, so it survives the crash that follows.
    pub fn record(&mut self, entry: Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&entry).expect("serialises");
        line.push(b'\n');
        if self.torn {
            line.insert(0, b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&line)?;
        file.sync_all()?;
        self.torn = false;
        self.entries.insert(entry.document.clone(), entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_reopening_and_a_torn_line_is_ignored() {
        let dir = std::env::temp_dir().join(format!("scanwerk-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut journal = Journal::open(&dir);
        let entry = Entry {
            document: "akte".into(),
            context: context("p", "k", None, b"id = 1"),
            sources: vec![("akte.tiff".into(), "ab".into())],
            pdf_sha256: "cd".into(),
            record_sha256: "ef".into(),
        };
        journal.record(entry.clone()).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(FILE))
            .unwrap();
        file.write_all(b"{\"document\": \"antr").unwrap();
        let mut reopened = Journal::open(&dir);
        assert_eq!(reopened.get("akte"), Some(&entry));
        assert_eq!(reopened.documents().count(), 1);
        let next = Entry {
            document: "antrag".into(),
            ..entry.clone()
        };
        reopened.record(next.clone()).unwrap();
        assert_eq!(
            Journal::open(&dir).get("antrag"),
            Some(&next),
            "a line after a torn one reads"
        );
        assert_ne!(entry.context, context("p", "k", Some("c"), b"id = 1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
