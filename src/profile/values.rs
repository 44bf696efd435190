//! Reading one value of a profile: one of a set of names, or a list of them. Shared by the
//! validation of every section.

/// Reads one of `choices` (key = value in the TOML), the first being the default.
pub(super) fn choice<T: Copy>(
    value: &Option<String>,
    key: &str,
    choices: &[(&str, T)],
    problems: &mut Vec<String>,
) -> T {
    match value {
        None => choices[0].1,
        Some(v) => match choices.iter().find(|(name, _)| name == v) {
            Some((_, choice)) => *choice,
            None => {
                let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
                problems.push(format!("  {key} = {v:?}: choose one of {}", names.join(", ")));
                choices[0].1
            }
        },
    }
}

/// Reads each of `names` with `parse`; one that does not parse is a problem listing `known`.
pub(super) fn parse_list<T>(
    names: &[String],
    parse: impl Fn(&str) -> Option<T>,
    known: &[&str],
    key: &str,
    not: &str,
    problems: &mut Vec<String>,
) -> Vec<T> {
    names
        .iter()
        .filter_map(|n| {
            let parsed = parse(n);
            if parsed.is_none() {
                let known: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
                problems.push(format!("  {key}: {n:?} {not}; choose from {}", known.join(", ")));
            }
            parsed
        })
        .collect()
}
