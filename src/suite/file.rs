//! The suite file: its YAML format (version 1), compiled once into a [`Suite`] whose cases hold
//! the events they send and what they expect, with every problem named by file, line, column and
//! field.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::Date;

use super::event::{self, RawEvent};
use crate::cognito::CLIENT_CREDENTIALS;
use crate::diagnostics::Problems;
use crate::diagnostics::Written;
use crate::diagnostics::errors::{with_suggestion, yaml_error_parts};
use crate::diagnostics::yaml::{present, yaml_to_json};
use crate::engine::{Event, KnownItems, Payload, Shape};
use crate::mapping::Location;

/// Largest suite file read, in bytes; and largest event file.
pub const MAX_SUITE_BYTES: usize = 1024 * 1024;

/// A suite file as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Suite")]
pub(crate) struct RawSuite {
    /// Format version; this release reads 1.
    #[schemars(range(min = 1, max = 1))]
    version: u32,
    /// The mapping the cases test, relative to this file. `claim-mapper test --mapping` or
    /// `--ssm-parameter`, and `push --test`, test another.
    #[serde(default, deserialize_with = "present")]
    mapping: Option<String>,
    /// The date `age` transforms count from (YYYY-MM-DD; default: today, UTC), so that cases about
    /// ages hold on every day.
    #[serde(default, deserialize_with = "present")]
    today: Option<String>,
    /// The cases, run in order.
    #[schemars(length(min = 1))]
    cases: Vec<RawCase>,
}

/// One case: an event, and what the mapping must do to it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Case")]
#[schemars(extend("oneOf" = [{"required": ["event"]}, {"required": ["event_file"]}]))]
struct RawCase {
    /// What the case checks, as a sentence: reports name the case by it.
    name: String,
    /// The event, described: the test builds a Cognito event of the given version from it.
    #[serde(default, deserialize_with = "present")]
    event: Option<RawEvent>,
    /// Or a whole event, from a JSON file relative to this file.
    #[serde(default, deserialize_with = "present")]
    event_file: Option<String>,
    /// The items the mapping's lookups find for this event, by lookup name: each entry a `key`
    /// and its `item`, `missing: true`, or `fails` (`timed_out`, `throttled`, `error`,
    /// `over_budget`). A lookup the event needs with no entry for its key fails.
    #[serde(default, deserialize_with = "present")]
    lookups: Option<KnownItems>,
    /// What the mapping must do to the event; only what is listed is checked.
    expect: RawExpect,
}

/// What the mapping must do to the event.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Expect")]
struct RawExpect {
    /// The ID token.
    #[serde(default, deserialize_with = "present")]
    id: Option<RawTokenExpect>,
    /// The access token (versions 2 and 3).
    #[serde(default, deserialize_with = "present")]
    access: Option<RawTokenExpect>,
    /// The group override holds exactly these groups, in this order.
    #[serde(default, deserialize_with = "present")]
    groups: Option<Vec<String>>,
    /// The invocation fails on this rule (`rule 3`, `rule clients.web.1`, `rule groups`): Cognito
    /// refuses the sign-in. Nothing else can be expected of a failed event.
    #[serde(default, deserialize_with = "present")]
    error: Option<String>,
}

/// What the mapping must do to one token.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TokenExpect")]
struct RawTokenExpect {
    /// Claims added or overridden, with exactly these values (types count: `12` is not `"12"`;
    /// version 1 sends every value as a string).
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "any_values")]
    claims: Option<BTreeMap<String, serde_yaml::Value>>,
    /// Claims the mapping does not add.
    #[serde(default, deserialize_with = "present")]
    absent: Option<Vec<String>>,
    /// Claims the mapping suppresses.
    #[serde(default, deserialize_with = "present")]
    suppressed: Option<Vec<String>>,
    /// Scopes added (access token).
    #[serde(default, deserialize_with = "present")]
    scopes_added: Option<Vec<String>>,
    /// Scopes the mapping does not add (access token).
    #[serde(default, deserialize_with = "present")]
    scopes_absent: Option<Vec<String>>,
    /// Scopes suppressed (access token).
    #[serde(default, deserialize_with = "present")]
    scopes_suppressed: Option<Vec<String>>,
}

fn any_values(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object" })
}

/// A compiled suite: the cases of one file, with the events they send.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The file, as given.
    pub file: PathBuf,
    /// The mapping the file names, resolved against the file's folder.
    pub mapping: Option<PathBuf>,
    /// The date `age` counts from, when the file sets one.
    pub today: Option<Date>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the case checks.
    pub name: String,
    /// The event it sends.
    pub(crate) event: Value,
    /// What the mapping's lookups find.
    pub(crate) items: KnownItems,
    /// What it expects.
    pub(crate) expect: Expect,
}

impl Case {
    /// The event the case sends.
    pub fn event(&self) -> &Value {
        &self.event
    }

    /// What the mapping's lookups find for the case's event.
    pub fn items(&self) -> &KnownItems {
        &self.items
    }
}

/// What a case expects.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Of the ID token.
    pub(crate) id: TokenExpect,
    /// Of the access token.
    pub(crate) access: TokenExpect,
    /// The exact group override.
    pub(crate) groups: Option<Vec<String>>,
    /// The rule the invocation fails on (`rule 3`).
    pub(crate) error: Option<String>,
}

/// What a case expects of one token; empty lists check nothing.
#[derive(Debug, Clone, Default)]
pub struct TokenExpect {
    pub(crate) claims: Map<String, Value>,
    pub(crate) absent: Vec<String>,
    pub(crate) suppressed: Vec<String>,
    pub(crate) scopes_added: Vec<String>,
    pub(crate) scopes_absent: Vec<String>,
    pub(crate) scopes_suppressed: Vec<String>,
}

/// One problem of a suite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteProblem {
    /// Where, when the file says.
    pub location: Option<Location>,
    /// The field (`cases[2].expect.id.claims`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Why a suite file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file could not be read.
    #[error("cannot read test file {file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file is not a valid suite: every problem found.
    #[error("invalid test file {file}: {}", Listed(problems, file))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem.
        problems: Vec<SuiteProblem>,
    },
}

struct Listed<'a>(&'a [SuiteProblem], &'a str);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (problems, file) = (self.0, self.1);
        let s = if problems.len() == 1 { "" } else { "s" };
        write!(f, "{} problem{s}", problems.len())?;
        for p in problems {
            match p.location {
                Some(l) => write!(f, "\n  {file}:{}:{}: ", l.line, l.column)?,
                None => write!(f, "\n  {file}: ")?,
            }
            write!(f, "field `{}`: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

impl Suite {
    /// Compiles suite text as the file at `path`, reading the event files its cases name (which
    /// resolve against its folder) with `read`.
    pub fn from_yaml(text: &str, path: &Path, read: ReadFile) -> Result<Suite, SuiteError> {
        let file = path.display().to_string();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: RawSuite = serde_yaml::from_str(text).map_err(|e| {
            let (location, field, message) = yaml_error_parts(text, &e);
            let message = with_suggestion(message);
            SuiteError::Invalid {
                file: file.clone(),
                problems: vec![SuiteProblem {
                    location,
                    field,
                    message,
                }],
            }
        })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        let mut problems = Problems::default();
        let written = Written::new(text);
        let suite = compile(raw, path, folder, read, &written, &mut problems);
        if problems.found.is_empty() {
            return Ok(suite);
        }
        Err(SuiteError::Invalid {
            file,
            problems: problems
                .found
                .into_iter()
                .map(|found| SuiteProblem {
                    location: written.locate(&found.path),
                    field: found.path,
                    message: found.message,
                })
                .collect(),
        })
    }
}

/// How a suite reads the event files its cases name: the bytes of a file, or why not.
pub type ReadFile<'r> = &'r dyn Fn(&Path) -> Result<Vec<u8>, String>;

fn compile(
    raw: RawSuite,
    path: &Path,
    folder: &Path,
    read: ReadFile,
    written: &Written,
    problems: &mut Problems,
) -> Suite {
    if raw.version != 1 {
        problems.add("version", "this release reads test files of version 1");
    }
    if raw.cases.is_empty() {
        problems.add("cases", "no cases: a suite that tests nothing cannot fail");
    }
    let today = raw.today.as_deref().and_then(|text| {
        Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|e| problems.add("today", format!("not a date (YYYY-MM-DD): {e}")))
        .ok()
    });
    let mut names = HashSet::new();
    let mut cases = Vec::with_capacity(raw.cases.len());
    for (i, case) in raw.cases.into_iter().enumerate() {
        let at = format!("cases[{i}]");
        if case.name.trim().is_empty() {
            problems.add(format!("{at}.name"), "a case needs a name");
        } else if case.name.contains(char::is_control) {
            // Reports name cases on one line, and the JUnit XML cannot hold most control
            // characters at all.
            problems.add(
                format!("{at}.name"),
                "a case name is one line of text, without control characters",
            );
        } else if !names.insert(case.name.clone()) {
            problems.add(
                format!("{at}.name"),
                format!(
                    "another case is named `{}`: reports tell cases apart by name",
                    case.name
                ),
            );
        }
        let event = match (&case.event, &case.event_file) {
            (Some(described), None) => {
                event::build(described, &format!("{at}.event"), written, problems)
            }
            (None, Some(file)) => read_event(
                read,
                &folder.join(file),
                &format!("{at}.event_file"),
                problems,
            ),
            _ => {
                problems.add(
                    at.clone(),
                    "give the event as `event` (described) or `event_file` (a JSON file), one of them"
                        ,
                );
                None
            }
        };
        // The tokens the event can change, as the engine reads it: an expectation of a token it
        // cannot change could never fail.
        let tokens = event
            .as_ref()
            .and_then(|e| Event::new(e).ok())
            .map(|e| Tokens {
                id: e.trigger_source() != CLIENT_CREDENTIALS,
                access: e.shape() == Shape::V2AndV3,
            });
        let expect = compile_expect(&case.expect, &format!("{at}.expect"), tokens, problems);
        let items = case.lookups.unwrap_or_default();
        for problem in items.problems() {
            problems.add(format!("{at}.lookups"), problem);
        }
        if let (Some(event), Some(expect)) = (event, expect) {
            cases.push(Case {
                name: case.name,
                event,
                items,
                expect,
            });
        }
    }
    Suite {
        file: path.to_owned(),
        mapping: raw.mapping.map(|m| tidy(&folder.join(m))),
        today,
        cases,
    }
}

/// `path` with `.` and `folder/..` taken out, as reports show it (`mappings/tests/../prod.yaml` is
/// `mappings/prod.yaml`); the file system is not asked, so a symbolic link may mean otherwise.
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn read_event(read: ReadFile, path: &Path, field: &str, problems: &mut Problems) -> Option<Value> {
    let bytes = read(path)
        .map_err(|e| problems.add(field, format!("cannot read {}: {e}", path.display())))
        .ok()?;
    Payload::from_file(&bytes)
        .map_err(|e| {
            problems.add(
                field,
                format!("{} is not a JSON event: {e}", path.display()),
            )
        })
        .ok()
}

/// Which tokens an event lets a mapping change.
#[derive(Debug, Clone, Copy)]
struct Tokens {
    /// The ID token: not in a client-credentials event, which has no user.
    id: bool,
    /// The access token: versions 2 and 3.
    access: bool,
}

fn compile_expect(
    raw: &RawExpect,
    at: &str,
    tokens: Option<Tokens>,
    problems: &mut Problems,
) -> Option<Expect> {
    let mut ok = true;
    let mut fail = |field: String, message: String| {
        ok = false;
        problems.add(field, message);
    };
    if raw.error.is_some() && (raw.id.is_some() || raw.access.is_some() || raw.groups.is_some()) {
        fail(
            format!("{at}.error"),
            "an event that fails has no response to check: expect the error alone".into(),
        );
    }
    if let Some(error) = &raw.error
        && !error.starts_with("rule ")
    {
        fail(
            format!("{at}.error"),
            "name the rule as errors do: `rule 3`, `rule clients.web.1` or `rule groups`".into(),
        );
    }
    if raw.id.is_none() && raw.access.is_none() && raw.groups.is_none() && raw.error.is_none() {
        fail(
            at.into(),
            "the case expects nothing, so it cannot fail: list claims, scopes, groups or an error"
                .into(),
        );
    }
    if let Some(tokens) = tokens {
        if raw.access.is_some() && !tokens.access {
            fail(
                format!("{at}.access"),
                "a version 1 event cannot change the access token".into(),
            );
        }
        if raw.id.is_some() && !tokens.id {
            fail(
                format!("{at}.id"),
                "a client-credentials event has no ID token (machine tokens are access tokens)"
                    .into(),
            );
        }
    }
    let mut token = |raw: &Option<RawTokenExpect>, name: &str| -> TokenExpect {
        let Some(raw) = raw else {
            return TokenExpect::default();
        };
        let here = format!("{at}.{name}");
        let lists = [
            &raw.absent,
            &raw.suppressed,
            &raw.scopes_added,
            &raw.scopes_absent,
            &raw.scopes_suppressed,
        ];
        let expects_nothing = raw.claims.as_ref().is_none_or(BTreeMap::is_empty)
            && lists.iter().all(|l| l.as_ref().is_none_or(Vec::is_empty));
        if expects_nothing {
            fail(
                here.clone(),
                format!(
                    "`{name}` expects nothing of the token, so it cannot fail: list `claims`, \
                     `absent`, `suppressed` or scopes"
                ),
            );
        }
        if name == "id" {
            for (key, list) in [
                ("scopes_added", &raw.scopes_added),
                ("scopes_absent", &raw.scopes_absent),
                ("scopes_suppressed", &raw.scopes_suppressed),
            ] {
                if list.is_some() {
                    fail(
                        format!("{here}.{key}"),
                        "scopes are in the access token: expect them under `access`".into(),
                    );
                }
            }
        }
        let mut claims = Map::new();
        for (claim, value) in raw.claims.iter().flatten() {
            match yaml_to_json(value) {
                Ok(value) => {
                    claims.insert(claim.clone(), value);
                }
                Err(e) => fail(format!("{here}.claims.{claim}"), e),
            }
        }
        for claim in raw.absent.iter().flatten() {
            if claims.contains_key(claim) {
                fail(
                    format!("{here}.absent"),
                    format!("`{claim}` is expected both with a value and absent"),
                );
            }
        }
        TokenExpect {
            claims,
            absent: raw.absent.clone().unwrap_or_default(),
            suppressed: raw.suppressed.clone().unwrap_or_default(),
            scopes_added: raw.scopes_added.clone().unwrap_or_default(),
            scopes_absent: raw.scopes_absent.clone().unwrap_or_default(),
            scopes_suppressed: raw.scopes_suppressed.clone().unwrap_or_default(),
        }
    };
    let id = token(&raw.id, "id");
    let access = token(&raw.access, "access");
    ok.then(|| Expect {
        id,
        access,
        groups: raw.groups.clone(),
        error: raw.error.clone(),
    })
}
