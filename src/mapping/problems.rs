//! Problems found in a mapping, located in the file (line and column) and named by rule, claim
//! and field: what `validate` prints and what a refused load says.

use std::fmt;
use std::sync::Arc;

use super::limits::MAX_MAPPING_BYTES;
use super::location::{Location, LocationIndex};
use super::rule_id::RuleId;
use super::yaml::NO_VALUE;

/// One problem found in a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// The rule, for problems inside a rule.
    pub rule: Option<RuleId>,
    /// The rule's claim name, when it has one.
    pub claim: Option<String>,
    /// The field, as a path such as `claims[2].transform[1]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Why a mapping could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The mapping could not be read.
    #[error("cannot read mapping {origin}: {reason}")]
    Read {
        /// File path or parameter name.
        origin: String,
        /// The cause.
        reason: String,
    },
    /// The mapping is larger than [`MAX_MAPPING_BYTES`].
    #[error("mapping {origin} is over {MAX_MAPPING_BYTES} bytes ({size} read)")]
    TooLarge {
        /// File path or parameter name.
        origin: String,
        /// The bytes read: its size, or for a file, the limit and one more.
        size: usize,
    },
    /// The mapping has problems.
    #[error("{}", render_problems(origin, problems))]
    Invalid {
        /// File path or parameter name.
        origin: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

impl MappingError {
    /// The error as a log line may carry it when the mapping's text is confidential (an SSM
    /// parameter, possibly a SecureString): where each problem is (line, column, rule, field) but
    /// not what it says, since messages may quote the text. The operator sees the full messages
    /// with `claim-mapper validate` or `dry-run --ssm-parameter`.
    pub fn redacted(&self) -> String {
        let MappingError::Invalid { origin, problems } = self else {
            // Read and size errors carry no mapping text.
            return self.to_string();
        };
        let mut out = problems_header(origin, problems.len());
        out.push_str(" (messages withheld from logs, as they may quote the parameter; `claim-mapper dry-run --ssm-parameter` shows them)");
        for p in problems {
            out.push_str(&format!("\n  {origin}:"));
            if let Some(l) = p.location {
                out.push_str(&format!("{}:{}:", l.line, l.column));
            }
            if let Some(rule) = &p.rule {
                out.push_str(&format!(" rule {rule},"));
            }
            out.push_str(&format!(" field `{}`", p.field));
        }
        out
    }
}

fn problems_header(origin: &str, count: usize) -> String {
    format!(
        "invalid mapping {origin}: {count} problem{}",
        if count == 1 { "" } else { "s" }
    )
}

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    let mut out = problems_header(origin, problems.len());
    for p in problems {
        out.push_str(&format!("\n  {origin}:{p}"));
    }
    out
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(l) => write!(f, "{}:{}: ", l.line, l.column)?,
            None => write!(f, " ")?,
        }
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule}")?;
            if let Some(claim) = &self.claim {
                write!(f, " (claim `{claim}`)")?;
            }
            write!(f, ", ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// One problem before its location is resolved: (field path, rule, claim, message).
pub(super) type Found = (String, Option<RuleId>, Option<String>, String);

/// Collects problems with their paths; locations are resolved once, at the end.
#[derive(Default)]
pub(crate) struct Problems {
    pub(super) found: Vec<Found>,
    /// What is allowed but probably a mistake: printed by `validate` and `push`, never a reason
    /// to refuse the mapping (unless `validate --strict`).
    pub(super) warnings: Vec<Found>,
}

/// Where a rule is, for its problems.
pub(crate) struct Site<'r> {
    pub(super) id: RuleId,
    pub(super) path: String,
    pub(super) claim: &'r str,
}

impl Problems {
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push((path.into(), None, None, message.into()));
    }

    pub(crate) fn add_rule(&mut self, site: &Site, field: &str, message: impl Into<String>) {
        self.found.push(site.found(field, message.into()));
    }

    pub(crate) fn warn_rule(&mut self, site: &Site, field: &str, message: impl Into<String>) {
        self.warnings.push(site.found(field, message.into()));
    }

    pub(crate) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings
            .push((path.into(), None, None, message.into()));
    }
}

impl Site<'_> {
    fn found(&self, field: &str, message: String) -> Found {
        let path = if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        };
        let claim = (!self.claim.is_empty()).then(|| self.claim.to_owned());
        (path, Some(self.id.clone()), claim, message)
    }
}

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

/// At most this many problems are reported from the file's structure (unknown keys, wrong types).
const MAX_STRUCTURE_PROBLEMS: usize = 100;

/// Every unknown key (and key with no value) in the file, not only the first one serde stops at:
/// `first` (located by the YAML parser) and, while the last problem is such a key, the next one
/// found by dropping that key from a lenient copy of the document and reading the copy as `T`
/// again. The reading
/// ends at a problem of another kind (reported too), or when the copy reads: then the copy is
/// returned too, so that the checks after reading can report their problems in the same run.
pub(super) fn structure_problems<T: serde::de::DeserializeOwned>(
    text: &str,
    first: &serde_yaml::Error,
) -> (Vec<Problem>, Option<T>) {
    let mut problems = vec![yaml_problem(text, first)];
    let Ok(mut doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return (problems, None);
    };
    let index = LocationIndex::new(text);
    while problems.len() < MAX_STRUCTURE_PROBLEMS {
        let last = &problems[problems.len() - 1];
        // An unknown key, or a key written with no value: the copy goes on without it.
        let (parent, key) = match unknown_key(&last.message) {
            Some(key) => (last.field.clone(), key),
            None if last.message == NO_VALUE => match last.field.rsplit_once('.') {
                Some((parent, key)) => (parent.to_owned(), key.to_owned()),
                None => (String::new(), last.field.clone()),
            },
            None => break,
        };
        if !remove_key(&mut doc, &parent, &key) {
            break;
        }
        let e = match serde_path_to_error::deserialize::<_, T>(doc.clone()) {
            Ok(read) => return (problems, Some(read)),
            Err(e) => e,
        };
        let mut field = e.path().to_string();
        let message = e.into_inner().to_string();
        // The path may end in the unknown key itself; problems name the map that holds it.
        if let Some(key) = unknown_key(&message)
            && let Some(parent) = field.strip_suffix(key.as_str())
        {
            field = parent.trim_end_matches('.').to_owned();
        }
        if field == "." {
            field.clear();
        }
        let at = match unknown_key(&message) {
            Some(key) if field.is_empty() => key,
            Some(key) => format!("{field}.{key}"),
            None => field.clone(),
        };
        let location = index.locate(&at).or_else(|| index.locate(&field));
        problems.push(problem_at(text, location, field, message));
    }
    (problems, None)
}

/// The key an "unknown field" message names.
fn unknown_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Removes `key` from the map at `path` in `doc`; whether it was there.
fn remove_key(doc: &mut serde_yaml::Value, path: &str, key: &str) -> bool {
    let mut node = doc;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            let Some(next) = node.get_mut(name) else {
                return false;
            };
            node = next;
        }
        for index in indexes.split('[') {
            if let Some(i) = index
                .strip_suffix(']')
                .and_then(|i| i.parse::<usize>().ok())
            {
                let Some(next) = node.get_mut(i) else {
                    return false;
                };
                node = next;
            }
        }
    }
    node.as_mapping_mut()
        .and_then(|map| map.remove(key))
        .is_some()
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

/// Turns a `serde_yaml` error into a problem with rule number and claim where the path has them.
fn yaml_problem(text: &str, error: &serde_yaml::Error) -> Problem {
    let (location, field, message) = yaml_error_parts(text, error);
    problem_at(text, location, field, message)
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
    if let Some(hint) = syntax_hint(&message) {
        message = format!("{message}: {hint}");
    }
    let mut location = duplicate_key_line(text, location, &message).or(location);
    let mut field = field;
    pin_null_key(text, &message, &mut field, &mut location);
    (location, field, message)
}

/// A plain hint for the YAML mistakes people make most, by the parser's message.
fn syntax_hint(message: &str) -> Option<&'static str> {
    const HINTS: [(&str, &str); 9] = [
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
            "found character that cannot start any token",
            "a value starting with `@`, a backtick or `%` must be quoted",
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
fn pin_null_key(text: &str, message: &str, field: &mut String, location: &mut Option<Location>) {
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

/// A problem from serde at `field` of the mapping in `text`, with rule number and claim where the
/// path has them.
fn problem_at(
    text: &str,
    location: Option<Location>,
    mut field: String,
    message: String,
) -> Problem {
    let message = with_suggestion(message);
    let mut location = location;
    pin_null_key(text, &message, &mut field, &mut location);
    // `claims[N]` or `clients.ID.claims[N]` / `triggers.SOURCE.claims[N]`.
    let (overlay, rest) = match field.split_once("claims[") {
        Some(("", rest)) => (None, rest),
        Some((key, rest)) if key.starts_with("clients.") || key.starts_with("triggers.") => {
            (key.strip_suffix('.'), rest)
        }
        _ => (None, ""),
    };
    let index = rest.split(']').next().and_then(|n| n.parse::<usize>().ok());
    // The claim name from a lenient second read; only on this error path.
    let claim = index.and_then(|n| {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
        let mut node = &doc;
        if let Some(key) = overlay {
            for part in key.splitn(2, '.') {
                node = node.get(part)?;
            }
        }
        node.get("claims")?
            .get(n)?
            .get("claim")?
            .as_str()
            .map(str::to_owned)
    });
    let rule = index.map(|n| match overlay {
        None => RuleId::Base(n + 1),
        Some(key) => RuleId::Overlay(Arc::from(key), n + 1),
    });
    Problem {
        location,
        rule,
        claim,
        field,
        message,
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
