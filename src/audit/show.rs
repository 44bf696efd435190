//! `scanwerk audit show --batch ID`: the history of one batch, from every log file given.

use std::path::PathBuf;

use super::Line;

/// The events of `batch` in `files` (oldest first), in log order. Lines that are not events
/// (torn) are skipped; `audit verify` reports them.
pub fn history(files: &[PathBuf], batch: &str) -> std::io::Result<Vec<Line>> {
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read(file)?;
        lines.extend(
            text.split(|&b| b == b'\n')
                .filter_map(|raw| serde_json::from_slice::<Line>(raw).ok())
                .filter(|line| line.batch.as_deref() == Some(batch)),
        );
    }
    Ok(lines)
}

impl Line {
    /// One line for people: time, event, who, and the details that say most.
    pub fn summary(&self) -> String {
        let who = match &self.operator {
            Some(operator) => format!("{operator} (as {}@{})", self.user, self.host),
            None => format!("{}@{}", self.user, self.host),
        };
        let details = match self.details.as_object() {
            Some(map) if !map.is_empty() => {
                let parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}={s}"),
                        other => format!("{k}={other}"),
                    })
                    .collect();
                format!("  {}", parts.join(", "))
            }
            _ => String::new(),
        };
        format!(
            "{}  #{:<5} {:<18} {who}{details}",
            self.time, self.seq, self.event
        )
    }
}
