//! Problems found in a mapping, located in the file (line and column) and named by rule, claim
//! and field: what `validate` prints and what a refused load says.

use std::fmt;

use super::limits::MAX_MAPPING_BYTES;
use super::rule_id::{Overlay, RuleId};
use crate::diagnostics::errors::{
    pin_null_key, remove_key, set_key, unknown_key, with_suggestion, yaml_error_parts,
};
use crate::diagnostics::{Location, LocationIndex, NO_VALUE};

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

/// What a mapping's problem is about beyond its field: the rule, and its claim name when it has
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AboutRule {
    pub(crate) id: RuleId,
    pub(crate) claim: Option<String>,
}

/// The problems of a mapping: each may be about a rule.
pub(crate) type Problems = crate::diagnostics::Problems<AboutRule>;

/// Where a rule is, for its problems.
pub(crate) struct Site<'r> {
    pub(super) id: RuleId,
    pub(super) path: String,
    pub(super) claim: &'r str,
}

impl Site<'_> {
    /// What a problem of this rule is about.
    pub(crate) fn about(&self) -> AboutRule {
        AboutRule {
            id: self.id.clone(),
            claim: (!self.claim.is_empty()).then(|| self.claim.to_owned()),
        }
    }

    /// The path of `field` of this rule (the rule itself when `field` is empty).
    pub(crate) fn field(&self, field: &str) -> String {
        if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        }
    }
}

impl Problems {
    /// A problem at `field` of the rule at `site`.
    pub(crate) fn add_rule(&mut self, site: &Site, field: &str, message: impl Into<String>) {
        self.about(&site.about(), |p| p.add(site.field(field), message));
    }

    /// A warning at `field` of the rule at `site`.
    pub(crate) fn warn_rule(&mut self, site: &Site, field: &str, message: impl Into<String>) {
        self.about(&site.about(), |p| p.warn(site.field(field), message));
    }
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
    let mut placeholders = false;
    while problems.len() < MAX_STRUCTURE_PROBLEMS {
        let last = &problems[problems.len() - 1];
        // An unknown key, a key written with no value, or a value of the wrong type: the copy
        // goes on without it.
        let mistyped = is_type_error(&last.message);
        let (parent, key) = match unknown_key(&last.message) {
            Some(key) => (last.field.clone(), key),
            None if last.message == NO_VALUE || mistyped => match last.field.rsplit_once('.') {
                Some((parent, key)) => (parent.to_owned(), key.to_owned()),
                None => (String::new(), last.field.clone()),
            },
            None => break,
        };
        if key.is_empty() || key.contains('[') {
            break;
        }
        // A value of the wrong type is replaced by a blank one of the type expected where there
        // is one (a required key stays), else dropped.
        let blank = if mistyped {
            blank_of(&last.message)
        } else {
            None
        };
        placeholders |= blank.is_some();
        let changed = match blank {
            Some(blank) => set_key(&mut doc, &parent, &key, blank),
            None => remove_key(&mut doc, &parent, &key),
        };
        if !changed {
            break;
        }
        let e = match serde_path_to_error::deserialize::<_, T>(doc.clone()) {
            // A copy with blanks put in is not the file: its later checks would be about them.
            Ok(read) => return (problems, (!placeholders).then_some(read)),
            Err(e) => e,
        };
        let mut field = e.path().to_string();
        let message = e.into_inner().to_string();
        // A required key dropped for its wrong type is missing from the copy: the same mistake.
        if mistyped && message == format!("missing field `{key}`") {
            break;
        }
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

/// A blank value of the type a type error says was expected (`expected a string`), when it is
/// one that stands on its own.
fn blank_of(message: &str) -> Option<serde_yaml::Value> {
    let expected = message.split(", expected ").nth(1)?;
    let expected = expected.split(':').next().unwrap_or(expected);
    Some(match expected {
        "a string" => serde_yaml::Value::String(String::new()),
        "a boolean" => serde_yaml::Value::Bool(false),
        "a sequence" => serde_yaml::Value::Sequence(Vec::new()),
        _ => return None,
    })
}

/// Whether serde's `message` says a value has the wrong type or is not one the key takes.
fn is_type_error(message: &str) -> bool {
    message.starts_with("invalid type: ") || message.starts_with("invalid value: ")
}

/// Turns a `serde_yaml` error into a problem with rule number and claim where the path has them.
fn yaml_problem(text: &str, error: &serde_yaml::Error) -> Problem {
    let (location, field, message) = yaml_error_parts(text, error);
    problem_at(text, location, field, message)
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
    let rule = index.map(|n| match overlay.and_then(Overlay::of_path) {
        None => RuleId::Base(n + 1),
        Some(key) => RuleId::Overlay(key, n + 1),
    });
    Problem {
        location,
        rule,
        claim,
        field,
        message,
    }
}
