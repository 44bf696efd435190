//! The JSON every scanwerk file is written as: one format tag, pretty-printed with a trailing
//! newline, and times as RFC 3339 UTC to the second. A leaf: every record type uses it, it uses
//! none of them.

use serde::Serialize;

/// Format tag of the output contract, written into every JSON file of a published batch.
/// `scanwerk/2`: the batch is a BagIt bag by default (its files under `data/`); `scanwerk/1` was
/// the plain folder. `verify` reads both (see [`READABLE_FORMATS`]).
pub const FORMAT: &str = "scanwerk/2";

/// The batch formats `verify` checks: this one and every earlier one.
pub const READABLE_FORMATS: [&str; 2] = ["scanwerk/1", FORMAT];

/// Format tag of the JSON that commands print (`--json` summaries, `verify --json`, inbox status).
/// Its fields did not change with the bag layout, so it stays at its first version.
pub const COMMAND_FORMAT: &str = "scanwerk/1";

/// Pretty JSON with a trailing newline, as every scanwerk JSON file is written.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("scanwerk's records serialise");
    bytes.push(b'\n');
    bytes
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// A date-time as RFC 3339 UTC with seconds.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
