//! Key schemas of scanwerk's TOML files (profiles, batch sheets) and the structural check that
//! runs before anything is deserialised.
//!
//! The check walks the parsed document once against a list of `(section, key, kind)` and reports
//! every syntax error, unknown key (with "did you mean"), misplaced key and wrong type at once, each
//! as `FILE:LINE: …`. It also hands back the document without the keys it rejected, so that the
//! validation that follows can still report the problems of every other key — and none that only
//! follow from a rejected one.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Integer,
    Boolean,
    TextList,
    /// An RFC 3339 date-time, as a TOML date-time or a string.
    DateTime,
    /// A table of free keys with string values (e.g. a batch sheet's `[metadata]`).
    TextTable,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Text => "a string in quotes",
            Kind::Number => "a number",
            Kind::Integer => "a whole number",
            Kind::Boolean => "true or false",
            Kind::TextList => "a list of strings, e.g. [\"deu\", \"eng\"]",
            Kind::DateTime => "a date-time with its offset, e.g. 2026-11-20T09:30:00+01:00",
            Kind::TextTable => "a table of strings, e.g. [metadata] with file_number = \"32.1\"",
        }
    }

    fn admits(self, value: &DeValue<'_>) -> bool {
        match (self, value) {
            (Kind::Text, DeValue::String(_)) => true,
            (Kind::Number, DeValue::Integer(_) | DeValue::Float(_)) => true,
            (Kind::Integer, DeValue::Integer(i)) => i.as_str().parse::<u64>().is_ok() || i.radix() != 10,
            (Kind::Boolean, DeValue::Boolean(_)) => true,
            (Kind::TextList, DeValue::Array(items)) => {
                items.iter().all(|v| matches!(v.get_ref(), DeValue::String(_)))
            }
            (Kind::DateTime, DeValue::String(_)) => true,
            (Kind::DateTime, DeValue::Datetime(d)) => {
                d.date.is_some() && d.time.is_some() && d.offset.is_some()
            }
            (Kind::TextTable, DeValue::Table(t)) => {
                t.iter().all(|(_, v)| matches!(v.get_ref(), DeValue::String(_)))
            }
            _ => false,
        }
    }
}

/// One key of a schema: section (`""` for the top level), key, kind.
pub type Key = (&'static str, &'static str, Kind);

/// The dotted name of a key: `quality.min_dpi`, or `id` at the top level.
pub fn dotted(section: &str, key: &str) -> String {
    if section.is_empty() {
        key.to_string()
    } else {
        format!("{section}.{key}")
    }
}

/// The known name most like `name`, if one is close enough to be a typo of it.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// One problem found in a file, at a line if known.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    /// `FILE:LINE: message` (or `FILE: message`).
    pub fn render(&self, origin: &str) -> String {
        match self.line {
            Some(line) => format!("{origin}:{line}: {}", self.message),
            None => format!("{origin}: {}", self.message),
        }
    }
}

/// What the structural check found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Line of every key (dotted) and section found.
    pub lines: HashMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Dotted names of the keys that were rejected (unknown or of the wrong kind).
    pub rejected: Vec<String>,
    /// The document without the rejected keys; `None` if it is not valid TOML at all.
    pub table: Option<toml::Table>,
}

impl Checked {
    /// The line of a dotted key, or of its section.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        let section = key.split('.').next().unwrap_or_default();
        self.lines.get(key).or_else(|| self.lines.get(section)).copied()
    }

    /// True if `message` speaks of a rejected key: a consequence of a problem already reported.
    pub fn follows_from_rejected(&self, message: &str) -> bool {
        self.rejected.iter().any(|key| {
            message
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .any(|word| word == key)
        })
    }
}

/// Checks `text` against `keys`; `required` keys must be present at the top level.
pub fn check(text: &str, keys: &[Key], required: &[&str]) -> Checked {
    let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let (table, errors) = DeTable::parse_recoverable(text);
    let mut checked = Checked::default();
    checked.problems.extend(errors.iter().map(|e| Problem {
        line: e.span().map(|s| line(s.start)),
        message: e.message().trim().replace('\n', " "),
    }));
    let sections = sections(keys);
    for (key, value) in table.get_ref().iter() {
        let (name, at) = (key.get_ref().as_ref(), line(key.span().start));
        match value.get_ref() {
            DeValue::Table(inner) if sections.contains(&name) => {
                checked.lines.insert(name.to_string(), at);
                for (k, v) in inner.iter() {
                    let at = line(k.span().start);
                    check_key(keys, name, k.get_ref().as_ref(), at, v.get_ref(), &mut checked);
                }
            }
            DeValue::Table(_) if !is_table_key(keys, name) => {
                unknown_section(&sections, name, at, &mut checked);
            }
            other => check_key(keys, "", name, at, other, &mut checked),
        }
    }
    if errors.is_empty() {
        for key in required {
            if !table.get_ref().iter().any(|(k, _)| k.get_ref().as_ref() == *key) {
                checked.problems.push(Problem {
                    line: None,
                    message: format!("{key}: missing; it is required"),
                });
            }
        }
        checked.table = without(text, &checked.rejected);
    }
    checked.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    checked
}

/// The sections of a schema, in order, each once.
fn sections(keys: &[Key]) -> Vec<&'static str> {
    let mut sections = Vec::new();
    for (s, _, _) in keys {
        if !s.is_empty() && !sections.contains(s) {
            sections.push(*s);
        }
    }
    sections
}

/// True if `name` is a top-level key holding a table of its own (not a section).
fn is_table_key(keys: &[Key], name: &str) -> bool {
    keys.iter()
        .any(|(s, k, kind)| s.is_empty() && *k == name && *kind == Kind::TextTable)
}

/// Checks one key found at `at`: known here, and of its kind.
fn check_key(keys: &[Key], section: &str, key: &str, at: usize, value: &DeValue<'_>, checked: &mut Checked) {
    let name = dotted(section, key);
    checked.lines.insert(name.clone(), at);
    let message = match keys.iter().find(|(s, k, _)| *s == section && *k == key) {
        Some((_, _, kind)) if !kind.admits(value) => format!("{name}: must be {}", kind.name()),
        Some(_) => match texts(value).into_iter().find_map(|t| suspicious(&t)) {
            Some(found) => format!(
                "{name}: holds {found}; text that people read (transfer note, XMP, report, review \
                 page) must not carry control or direction-override characters: retype the value"
            ),
            None => return,
        },
        None => {
            let elsewhere = keys.iter().find(|(_, k, _)| *k == key);
            let here = keys.iter().filter(|(s, _, _)| *s == section).map(|(_, k, _)| *k);
            let hint = match (elsewhere, did_you_mean(key, here.clone())) {
                (Some((s, k, _)), _) => format!("; did you mean {}?", dotted(s, k)),
                (None, Some(close)) => format!("; did you mean {}?", dotted(section, close)),
                (None, None) => format!("; known keys here: {}", here.collect::<Vec<_>>().join(", ")),
            };
            format!("unknown key {name}{hint}")
        }
    };
    checked.problems.push(Problem {
        line: Some(at),
        message,
    });
    checked.rejected.push(name);
}

/// The strings a value holds (itself, a list's items, a table's keys and values).
fn texts(value: &DeValue<'_>) -> Vec<String> {
    match value {
        DeValue::String(s) => vec![s.to_string()],
        DeValue::Array(items) => items.iter().flat_map(|v| texts(v.get_ref())).collect(),
        DeValue::Table(t) => t
            .iter()
            .flat_map(|(k, v)| {
                let mut all = vec![k.get_ref().to_string()];
                all.extend(texts(v.get_ref()));
                all
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The first character in `text` that could make what people read differ from what it says: C0
/// and C1 controls (tab and newline are allowed), DEL, and the bidirectional embeddings,
/// overrides and isolates U+202A–U+202E, U+2066–U+2069. Named with its code point and position.
pub fn suspicious(text: &str) -> Option<String> {
    text.chars().enumerate().find_map(|(at, c)| {
        let kind = match c {
            '\t' | '\n' => return None,
            '\u{0}'..='\u{1f}' | '\u{7f}' => "a control character",
            '\u{80}'..='\u{9f}' => "a C1 control character",
            '\u{202a}'..='\u{202e}' => "a bidirectional embedding or override",
            '\u{2066}'..='\u{2069}' => "a bidirectional isolate",
            _ => return None,
        };
        Some(format!("{kind} (U+{:04X}) at character {}", c as u32, at + 1))
    })
}

fn unknown_section(sections: &[&str], name: &str, at: usize, checked: &mut Checked) {
    let hint = match did_you_mean(name, sections.iter().copied()) {
        Some(close) => format!("did you mean [{close}]? "),
        None => String::new(),
    };
    let list: Vec<String> = sections.iter().map(|s| format!("[{s}]")).collect();
    checked.problems.push(Problem {
        line: Some(at),
        message: format!("unknown section [{name}]; {hint}sections are {}", list.join(", ")),
    });
    checked.rejected.push(name.to_string());
}

/// The document without the `rejected` keys (dotted names), if it parses.
fn without(text: &str, rejected: &[String]) -> Option<toml::Table> {
    let mut table = toml::from_str::<toml::Table>(text).ok()?;
    for name in rejected {
        match name.split_once('.') {
            Some((section, key)) => {
                if let Some(toml::Value::Table(inner)) = table.get_mut(section) {
                    inner.remove(key);
                }
            }
            None => {
                table.remove(name);
            }
        }
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_with_an_override_or_a_control_character_is_refused_with_its_key() {
        let keys = [
            ("", "operator", super::Kind::Text),
            ("", "metadata", super::Kind::TextTable),
        ];
        let checked = super::check("operator = \"Anna \u{202E}nesrom\"\n", &keys, &[]);
        assert_eq!(checked.problems.len(), 1);
        let problem = &checked.problems[0];
        assert_eq!(problem.line, Some(1));
        assert!(
            problem
                .message
                .starts_with("operator: holds a bidirectional embedding or override (U+202E) at character 6"),
            "{}",
            problem.message
        );
        let checked = super::check("[metadata]\nbox = \"K\\u0007 12\"\n", &keys, &[]);
        assert!(
            checked.problems[0]
                .message
                .contains("metadata: holds a control character (U+0007)")
        );
        let checked = super::check("operator = \"Jürgen\tMüller\"\n", &keys, &[]);
        assert!(checked.problems.is_empty(), "tab is allowed");
    }

    use super::*;

    const KEYS: &[Key] = &[
        ("", "id", Kind::Text),
        ("", "when", Kind::DateTime),
        ("", "metadata", Kind::TextTable),
        ("prepare", "blank_pages", Kind::Text),
        ("quality", "min_dpi", Kind::Number),
    ];

    #[test]
    fn every_problem_at_once_with_lines_and_suggestions() {
        let text = "id = 1\nwhen = 2026-11-30T09:00:00+01:00\n[prepare]\nblank_page = \"remove\"\n\
                    [quality]\nmin_dpi = \"300\"\n[qualty]\nx = 1\n";
        let checked = check(text, KEYS, &["id"]);
        let shown: Vec<String> = checked.problems.iter().map(|p| p.render("f.toml")).collect();
        assert_eq!(
            shown,
            [
                "f.toml:1: id: must be a string in quotes",
                "f.toml:4: unknown key prepare.blank_page; did you mean prepare.blank_pages?",
                "f.toml:6: quality.min_dpi: must be a number",
                "f.toml:7: unknown section [qualty]; did you mean [quality]? sections are [prepare], [quality]",
            ],
            "{shown:#?}"
        );
        let table = checked.table.as_ref().unwrap();
        assert!(!table.contains_key("id") && !table.contains_key("qualty"));
        assert!(table["quality"].as_table().unwrap().is_empty());
        assert!(table["when"].is_datetime(), "a TOML date-time is a date-time");
        assert!(checked.follows_from_rejected("  quality.min_dpi is needed for x"));
        assert!(!checked.follows_from_rejected("quality.min_dpi_other"));
    }

    #[test]
    fn a_syntax_error_is_located_and_leaves_no_table() {
        let checked = check("id = \"x\"\n[prepare\n", KEYS, &["id"]);
        assert_eq!(checked.problems.len(), 1, "{:?}", checked.problems);
        assert_eq!(checked.problems[0].line, Some(2));
        assert!(checked.table.is_none());
    }

    #[test]
    fn local_date_times_and_free_tables() {
        let checked = check("when = 2026-11-30\n[metadata]\na = \"1\"\nb = 2\n", KEYS, &[]);
        let shown: Vec<String> = checked.problems.iter().map(|p| p.render("s")).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with("s:1: when: must be a date-time"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("s:2: metadata: must be a table of strings"),
            "{shown:?}"
        );
    }
}
