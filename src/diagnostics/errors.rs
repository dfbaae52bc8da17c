//! What a YAML parse or deserialisation error of one of our files (mappings, test suites) says,
//! where the mistake is, and the hints and suggestions that make it readable.

use super::location::{Location, LocationIndex};
use super::yaml::NO_VALUE;

/// The candidate nearest to `word`, when one is near enough to be the word meant (a typo: an
/// edit distance of at most 2, or a third of the word).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let most = 2.max(word.chars().count() / 3);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(distance, _)| distance <= most)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// The key an "unknown field" message names.
pub(crate) fn unknown_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Removes `key` from the map at `path` in `doc`; whether it was there.
pub(crate) fn remove_key(doc: &mut serde_yaml::Value, path: &str, key: &str) -> bool {
    map_at(doc, path).and_then(|map| map.remove(key)).is_some()
}

/// The map at `path` (`claims[2].when`) in `doc`, if there is one.
fn map_at<'d>(doc: &'d mut serde_yaml::Value, path: &str) -> Option<&'d mut serde_yaml::Mapping> {
    let mut node = doc;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            node = node.get_mut(name)?;
        }
        for index in indexes.split('[') {
            if let Some(i) = index
                .strip_suffix(']')
                .and_then(|i| i.parse::<usize>().ok())
            {
                node = node.get_mut(i)?;
            }
        }
    }
    node.as_mapping_mut()
}

/// Sets `key` of the map at `path` in `doc` to `value`; whether the key was there.
pub(crate) fn set_key(
    doc: &mut serde_yaml::Value,
    path: &str,
    key: &str,
    value: serde_yaml::Value,
) -> bool {
    match map_at(doc, path).and_then(|map| map.get_mut(key)) {
        Some(slot) => {
            *slot = value;
            true
        }
        None => false,
    }
}

/// `message` with "did you mean ...?" when it names an unknown key or variant close to one of
/// those serde lists as expected.
pub(crate) fn with_suggestion(message: String) -> String {
    let Some((unknown, expected)) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
        .and_then(|rest| rest.split_once('`'))
    else {
        return message;
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match did_you_mean(unknown, candidates) {
        Some(meant) => format!("{message}: did you mean `{meant}`?"),
        None => message,
    }
}

/// A `serde_yaml` error of any YAML file of ours (mappings, test suites) as where it is, the field
/// it names (empty when it names none) and what went wrong, with a hint for the usual mistakes
/// (and no "did you mean": [`with_suggestion`] adds it):
/// the position the parser reports is moved to where a mistake is made (an unclosed `{`, a key
/// written twice).
pub(crate) fn yaml_error_parts(
    text: &str,
    error: &serde_yaml::Error,
) -> (Option<Location>, String, String) {
    let location = error.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let mut message = error.to_string();
    // A `{`/`[` left open is noticed where the parser expected its end, lines later: the
    // mistake is where it opened, the position the message gives last
    // (`..., while parsing a flow mapping at line 3 column 5`).
    let opened = message
        .split_once("while parsing a flow ")
        .and_then(|(_, rest)| rest.split_once(" at line "))
        .and_then(|(_, at)| at.split_once(" column "))
        .and_then(|(line, column)| {
            Some(Location {
                line: line.parse().ok()?,
                column: column.trim().parse().ok()?,
            })
        });
    let location = opened.or(location);
    // The position is in the location; the message keeps what went wrong.
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    // serde_yaml prefixes the path (`claims[1].tokens[0]: ...`) when it has one.
    let (field, mut message) = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_owned(), rest.to_owned()),
        _ => (String::new(), message),
    };
    message = without_type_names(&message);
    let at = location.and_then(|l| {
        text.lines()
            .nth(l.line.checked_sub(1)?)?
            .chars()
            .nth(l.column.checked_sub(1)?)
    });
    if let Some(hint) = syntax_hint(&message, at).or_else(|| field_hint(&field, &message)) {
        message = format!("{message}: {hint}");
    }
    let mut location = duplicate_key_line(text, location, &message).or(location);
    let mut field = field;
    pin_null_key(text, &message, &mut field, &mut location);
    (location, field, message)
}

/// `message` with our types' names (`expected struct RawScopeAdd`) said as what they are in
/// the file: a mapping of keys.
fn without_type_names(message: &str) -> String {
    match message.split_once("expected struct ") {
        Some((before, name)) if name.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("{before}expected a mapping (`key: value`)")
        }
        _ => message.to_owned(),
    }
}

/// A hint for a mistake in one place of the format, by the field it is in.
fn field_hint(field: &str, message: &str) -> Option<&'static str> {
    let in_scopes_add = field.starts_with("scopes.add[") || field.contains(".scopes.add[");
    (in_scopes_add && message.starts_with("invalid type: string"))
        .then_some("each `scopes.add` item names its scope: `- scope: orders-api/read`")
}

/// A plain hint for the YAML mistakes people make most, by the parser's message and the character
/// at the position it gives.
fn syntax_hint(message: &str, at: Option<char>) -> Option<&'static str> {
    if message.starts_with("found character that cannot start any token") {
        return match at {
            Some('\t') => Some("a tab: YAML indents with spaces, not tabs"),
            Some('@' | '`' | '%') => {
                Some("a value starting with `@`, a backtick or `%` must be quoted")
            }
            _ => None,
        };
    }
    const HINTS: [(&str, &str); 8] = [
        (
            "did not find expected '-' indicator",
            "the indentation does not match the lines above: every item of a list starts with `- ` at the same column",
        ),
        (
            "did not find expected key",
            "the indentation does not match the lines above: the keys of one mapping start at the same column",
        ),
        (
            "found a tab character",
            "YAML indents with spaces, not tabs",
        ),
        (
            "did not find expected ',' or '}'",
            "this `{ ... }` mapping is not closed: end it with `}`",
        ),
        (
            "did not find expected ',' or ']'",
            "this `[ ... ]` list is not closed: end it with `]`",
        ),
        (
            "mapping values are not allowed in this context",
            "a `: ` inside a value: quote the value (`'a: b'`), or check the indentation",
        ),
        (
            "invalid type: map, expected a string",
            "a value starting with `{` is read as a mapping: quote it (`'{given_name} {family_name}'`)",
        ),
        (
            "invalid type: map, expected a sequence",
            "a list is expected here: start each item with `- `",
        ),
    ];
    HINTS
        .iter()
        .find(|(says, _)| message.starts_with(says))
        .map(|(_, hint)| *hint)
}

/// For a duplicate key, the line and column of the duplicate (serde_yaml points at the mapping
/// that holds it): the second line at the mapping's column that writes `key:`.
fn duplicate_key_line(text: &str, map: Option<Location>, message: &str) -> Option<Location> {
    let map = map?;
    let key = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next())?;
    let at_column = |line: &str| {
        let (indent, rest) = line.split_at_checked(map.column - 1)?;
        let indent_ok = indent.chars().all(|c| c == ' ' || c == '-');
        (indent_ok
            && (rest.starts_with(&format!("{key}:")) || rest.starts_with(&format!("\"{key}\":"))))
        .then_some(())
    };
    text.lines()
        .enumerate()
        .skip(map.line - 1)
        .filter(|(_, line)| at_column(line).is_some())
        .nth(1)
        .map(|(i, _)| Location {
            line: i + 1,
            column: map.column,
        })
}

/// serde_yaml names the section that holds a key written with no value, not the key: this finds
/// it (the section's first such key, as serde reads keys in order) in a lenient second read, and
/// moves `field` and `location` to it.
pub(crate) fn pin_null_key(
    text: &str,
    message: &str,
    field: &mut String,
    location: &mut Option<Location>,
) {
    if message == NO_VALUE
        && let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text)
        && let Some(key) = null_key(&doc, field)
    {
        *field = if field.is_empty() {
            key
        } else {
            format!("{field}.{key}")
        };
        *location = LocationIndex::new(text).locate(field).or(*location);
    }
}

/// The first key written with no value in the mapping at `path` (`claims[1]`, `groups`,
/// `clients.abc`; empty for the top level) of `doc`.
fn null_key(doc: &serde_yaml::Value, path: &str) -> Option<String> {
    let mut node = doc;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            node = node.get(name)?;
        }
        for index in indexes.split('[') {
            if let Some(i) = index
                .strip_suffix(']')
                .and_then(|i| i.parse::<usize>().ok())
            {
                node = node.get(i)?;
            }
        }
    }
    node.as_mapping()?
        .iter()
        .find(|(_, value)| value.is_null())
        .and_then(|(key, _)| key.as_str().map(str::to_owned))
}
