//! The mapping file (format version 1): its YAML shape, and compiling it into checked rules.
//!
//! Compiling is the only place a mapping is parsed or validated. It reports every problem it
//! finds, each with file, line/column, rule number, claim and field, and produces a [`Mapping`]
//! whose rules need no further checks per event.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cognito::{self, Token};
use crate::condition::Condition;
use crate::location::{Location, LocationIndex};
use crate::source::{Lookup, Source, Template};
use crate::transform::{Transform, yaml_to_json};

/// Largest mapping accepted, in bytes.
pub const MAX_MAPPING_BYTES: usize = 1024 * 1024;
/// Most claim rules accepted in one mapping.
pub const MAX_RULES: usize = 2000;
/// Default of `limits.token_claim_bytes`: the JSON bytes of claims a mapping may add to one
/// token. Tokens travel in headers and cookies, often capped at 8 KB; 4 KB of claims, base64url
/// encoded, still leaves room for Cognito's own claims and the signature.
pub const DEFAULT_TOKEN_CLAIM_BYTES: usize = 4096;
/// Largest `limits.token_claim_bytes` accepted.
pub const MAX_TOKEN_CLAIM_BYTES: usize = 64 * 1024;

/// What to do when a rule fails at runtime (a failed transform, a missing `required` source, a
/// value Cognito would refuse).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Leave the rule's claim out, apply the rest, and warn.
    #[default]
    Skip,
    /// Fail the invocation, so Cognito refuses the sign-in.
    Fail,
}

/// A compiled claim rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in `claims:`, the rule's id in logs and errors.
    pub number: usize,
    /// The claim name in the token.
    pub claim: String,
    /// Where the value comes from.
    pub source: Source,
    /// Steps applied to the source's value, left to right.
    pub transforms: Vec<Transform>,
    /// Value used when the source is missing (not transformed).
    pub default: Option<Value>,
    /// A missing source is a rule failure.
    pub required: bool,
    /// Put the claim into the ID token.
    pub to_id: bool,
    /// Put the claim into the access token.
    pub to_access: bool,
    /// When the rule applies.
    pub when: Condition,
}

/// A scope added to the access token, possibly on a condition.
#[derive(Debug, Clone)]
pub struct ScopeRule {
    /// The scope.
    pub scope: String,
    /// When it is added.
    pub when: Condition,
}

/// A validated, compiled mapping, ready to apply to events.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Claim rules in file order.
    pub rules: Vec<Rule>,
    /// Runtime failure policy.
    pub on_error: OnError,
    /// Claims suppressed in the ID token.
    pub suppress_id: Vec<String>,
    /// Claims suppressed in the access token.
    pub suppress_access: Vec<String>,
    /// Scopes added to the access token.
    pub scopes_add: Vec<ScopeRule>,
    /// Scopes suppressed from the access token.
    pub scopes_suppress: Vec<String>,
    /// Most JSON bytes of claims the mapping may add to one token (`limits.token_claim_bytes`).
    pub token_claim_bytes: usize,
    digest: String,
}

/// One problem found in a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// 1-based rule number, for problems inside `claims:`.
    pub rule: Option<usize>,
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
    #[error("mapping {origin} is {size} bytes; the limit is {MAX_MAPPING_BYTES}")]
    TooLarge {
        /// File path or parameter name.
        origin: String,
        /// Its size.
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

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "invalid mapping {origin}: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
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
        if let Some(rule) = self.rule {
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

// ---- the file's shape ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    version: u32,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    on_error: OnError,
    #[serde(default)]
    claims: Vec<RawRule>,
    #[serde(default)]
    suppress: RawSuppress,
    #[serde(default)]
    scopes: RawScopes,
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default = "default_token_claim_bytes")]
    token_claim_bytes: usize,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            token_claim_bytes: DEFAULT_TOKEN_CLAIM_BYTES,
        }
    }
}

fn default_token_claim_bytes() -> usize {
    DEFAULT_TOKEN_CLAIM_BYTES
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default = "both_tokens")]
    tokens: Vec<Token>,
}

impl Default for RawDefaults {
    fn default() -> Self {
        RawDefaults {
            tokens: both_tokens(),
        }
    }
}

fn both_tokens() -> Vec<Token> {
    vec![Token::Id, Token::Access]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    claim: String,
    from: Option<serde_yaml::Value>,
    value: Option<serde_yaml::Value>,
    template: Option<String>,
    default: Option<serde_yaml::Value>,
    #[serde(default)]
    required: bool,
    tokens: Option<Vec<Token>>,
    transform: Option<serde_yaml::Value>,
    when: Option<RawWhen>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    groups: Option<Vec<String>>,
    clients: Option<Vec<String>>,
    triggers: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSuppress {
    #[serde(default)]
    id: Vec<String>,
    #[serde(default)]
    access: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScopes {
    #[serde(default)]
    add: Vec<RawScopeAdd>,
    #[serde(default)]
    suppress: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScopeAdd {
    scope: String,
    when: Option<RawWhen>,
}

// ---- compiling -------------------------------------------------------------------------------

/// Collects problems with their paths; locations are resolved once, at the end.
struct Problems {
    found: Vec<(String, Option<usize>, Option<String>, String)>,
}

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push((path.into(), None, None, message.into()));
    }

    fn add_rule(&mut self, rule: &RawRule, index: usize, field: &str, message: impl Into<String>) {
        let path = if field.is_empty() {
            format!("claims[{index}]")
        } else {
            format!("claims[{index}].{field}")
        };
        let claim = (!rule.claim.is_empty()).then(|| rule.claim.clone());
        self.found
            .push((path, Some(index + 1), claim, message.into()));
    }
}

impl Mapping {
    /// Parses, validates and compiles a mapping. `origin` (a file path or parameter name) is used
    /// in error messages.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        if text.len() > MAX_MAPPING_BYTES {
            return Err(MappingError::TooLarge {
                origin: origin.to_owned(),
                size: text.len(),
            });
        }
        let raw: RawMapping = serde_yaml::from_str(text).map_err(|e| MappingError::Invalid {
            origin: origin.to_owned(),
            problems: vec![yaml_problem(text, &e)],
        })?;
        let mut problems = Problems { found: Vec::new() };
        let mapping = compile(raw, text, &mut problems);
        if problems.found.is_empty() {
            Ok(mapping)
        } else {
            let index = LocationIndex::new(text);
            let problems = problems
                .found
                .into_iter()
                .map(|(field, rule, claim, message)| Problem {
                    location: index.locate(&field),
                    rule,
                    claim,
                    field,
                    message,
                })
                .collect();
            Err(MappingError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// A short digest of the mapping's text, naming the version that is live in logs.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

fn compile(raw: RawMapping, text: &str, problems: &mut Problems) -> Mapping {
    if raw.version != 1 {
        problems.add(
            "version",
            format!(
                "unsupported mapping version {}; this release reads version 1",
                raw.version
            ),
        );
    }
    if raw.defaults.tokens.is_empty() {
        problems.add(
            "defaults.tokens",
            "list at least one token (`id`, `access`)",
        );
    }
    if raw.claims.len() > MAX_RULES {
        problems.add(
            "claims",
            format!("{} rules; the limit is {MAX_RULES}", raw.claims.len()),
        );
    }
    let suppress_id = compile_suppressions(&raw.suppress.id, "suppress.id", problems);
    let suppress_access = compile_suppressions(&raw.suppress.access, "suppress.access", problems);
    let rules: Vec<Rule> = raw
        .claims
        .iter()
        .take(MAX_RULES)
        .enumerate()
        .filter_map(|(i, r)| compile_rule(r, i, &raw.defaults.tokens, problems))
        .collect();
    for rule in &rules {
        for (token, added, suppressed) in [
            (Token::Id, rule.to_id, &suppress_id),
            (Token::Access, rule.to_access, &suppress_access),
        ] {
            if added && suppressed.contains(&rule.claim) {
                let raw_rule = &raw.claims[rule.number - 1];
                problems.add_rule(
                    raw_rule,
                    rule.number - 1,
                    "claim",
                    format!(
                        "the claim is also in `suppress.{}`; suppression would always win",
                        token.name()
                    ),
                );
            }
        }
    }
    let limit = raw.limits.token_claim_bytes;
    if limit == 0 || limit > MAX_TOKEN_CLAIM_BYTES {
        problems.add(
            "limits.token_claim_bytes",
            format!("must be between 1 and {MAX_TOKEN_CLAIM_BYTES}"),
        );
    }
    check_constant_sizes(&rules, &raw.claims, limit, problems);
    let mut scopes_add = Vec::with_capacity(raw.scopes.add.len());
    for (i, add) in raw.scopes.add.iter().enumerate() {
        let path = format!("scopes.add[{i}]");
        if let Some(reason) = cognito::scope_restriction(&add.scope) {
            problems.add(format!("{path}.scope"), reason);
        }
        let when = compile_when(add.when.as_ref(), &format!("{path}.when"), &mut |f, m| {
            problems.add(f, m)
        });
        scopes_add.push(ScopeRule {
            scope: add.scope.clone(),
            when,
        });
    }
    for (i, scope) in raw.scopes.suppress.iter().enumerate() {
        if scope.is_empty() {
            problems.add(format!("scopes.suppress[{i}]"), "a scope cannot be empty");
        }
    }
    Mapping {
        rules,
        on_error: raw.on_error,
        suppress_id,
        suppress_access,
        scopes_add,
        scopes_suppress: raw.scopes.suppress,
        token_claim_bytes: limit,
        digest: format!("sha256:{:.12x}", Sha256::digest(text.as_bytes())),
    }
}

/// Constant claims alone must fit the token size limit: each one, and per token all those that
/// apply unconditionally (a later rule for the same claim replaces the earlier one).
fn check_constant_sizes(rules: &[Rule], raw: &[RawRule], limit: usize, problems: &mut Problems) {
    let mut always: [std::collections::HashMap<&str, usize>; 2] = Default::default();
    for rule in rules {
        let Source::Constant(value) = &rule.source else {
            continue;
        };
        let size = crate::engine::claim_size(&rule.claim, value);
        let raw_rule = &raw[rule.number - 1];
        if size > limit {
            problems.add_rule(
                raw_rule,
                rule.number - 1,
                "value",
                format!("the claim is {size} bytes of JSON; limits.token_claim_bytes is {limit}"),
            );
            continue;
        }
        if !rule.when.is_always() {
            continue;
        }
        for (i, targeted) in [rule.to_id, rule.to_access].into_iter().enumerate() {
            if targeted {
                always[i].insert(&rule.claim, size);
                let total: usize = always[i].values().sum();
                if total > limit {
                    let token = ["id", "access"][i];
                    problems.add_rule(
                        raw_rule,
                        rule.number - 1,
                        "value",
                        format!("constant claims for the {token} token reach {total} bytes of JSON here; limits.token_claim_bytes is {limit}"),
                    );
                }
            }
        }
    }
}

fn compile_suppressions(claims: &[String], path: &str, problems: &mut Problems) -> Vec<String> {
    for (i, claim) in claims.iter().enumerate() {
        if let Some(reason) = cognito::suppress_restriction(claim) {
            problems.add(format!("{path}[{i}]"), reason);
        }
    }
    claims.to_vec()
}

fn compile_rule(
    raw: &RawRule,
    index: usize,
    default_tokens: &[Token],
    problems: &mut Problems,
) -> Option<Rule> {
    let mut ok = true;
    let mut report = |field: &str, message: String| {
        ok = false;
        problems.add_rule(raw, index, field, message);
    };
    let tokens = raw.tokens.as_deref().unwrap_or(default_tokens);
    if tokens.is_empty() {
        report("tokens", "list at least one token (`id`, `access`)".into());
    }
    for &token in tokens {
        if let Some(reason) = cognito::add_restriction(&raw.claim, token) {
            report("claim", reason);
            break;
        }
    }

    let given: Vec<&str> = [
        ("from", raw.from.is_some()),
        ("value", raw.value.is_some()),
        ("template", raw.template.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    let source = match (given.as_slice(), &raw.from, &raw.value, &raw.template) {
        (["from"], Some(from), _, _) => compile_from(from).map_err(|e| report("from", e)).ok(),
        (["value"], _, Some(value), _) => match yaml_to_json(value) {
            Ok(v) => {
                for &token in tokens {
                    if let Some(reason) = cognito::value_restriction(&raw.claim, token, &v) {
                        report("value", reason.into());
                        break;
                    }
                }
                Some(Source::Constant(v))
            }
            Err(e) => {
                report("value", e);
                None
            }
        },
        (["template"], _, _, Some(t)) => Template::parse(t)
            .map(Source::Template)
            .map_err(|e| report("template", e))
            .ok(),
        ([], ..) => {
            report(
                "",
                "a rule needs one source: `from`, `value` or `template`".into(),
            );
            None
        }
        _ => {
            report(
                "",
                format!(
                    "a rule takes exactly one of `from`, `value`, `template`; found {}",
                    given.join(" and ")
                ),
            );
            None
        }
    };

    let default = raw.default.as_ref().and_then(|d| match yaml_to_json(d) {
        Ok(v) => {
            if let Some(reason) = tokens
                .iter()
                .find_map(|&t| cognito::value_restriction(&raw.claim, t, &v))
            {
                report("default", reason.into());
            }
            Some(v)
        }
        Err(e) => {
            report("default", e);
            None
        }
    });
    if default.is_some() && raw.required {
        report(
            "required",
            "`required` and `default` exclude each other".into(),
        );
    }
    if raw.value.is_some() && (default.is_some() || raw.required) {
        report(
            "",
            "a `value:` rule is never missing, so `default` and `required` do not apply".into(),
        );
    }

    let mut transforms = Vec::new();
    match &raw.transform {
        None => {}
        Some(serde_yaml::Value::Sequence(steps)) => {
            for (i, step) in steps.iter().enumerate() {
                match Transform::parse(step) {
                    Ok(t) => transforms.push(t),
                    Err(e) => report(&format!("transform[{i}]"), e),
                }
            }
        }
        Some(step) => match Transform::parse(step) {
            Ok(t) => transforms.push(t),
            Err(e) => report("transform", e),
        },
    }

    let when = compile_when(
        raw.when.as_ref(),
        &format!("claims[{index}].when"),
        &mut |field, message| {
            ok = false;
            problems.add_rule(
                raw,
                index,
                field
                    .strip_prefix(&format!("claims[{index}]."))
                    .unwrap_or(&field),
                message,
            );
        },
    );

    Some(Rule {
        number: index + 1,
        claim: raw.claim.clone(),
        source: source?,
        transforms,
        default,
        required: raw.required,
        to_id: tokens.contains(&Token::Id),
        to_access: tokens.contains(&Token::Access),
        when,
    })
    .filter(|_| ok)
}

fn compile_from(from: &serde_yaml::Value) -> Result<Source, String> {
    const SHAPE: &str =
        "`from` is an attribute name, a JSONPath starting with `$`, or a list of them";
    let lookups = match from {
        serde_yaml::Value::String(s) => vec![Lookup::parse(s)?],
        serde_yaml::Value::Sequence(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| SHAPE.to_string())
                    .and_then(Lookup::parse)
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(SHAPE.into()),
    };
    Ok(Source::From(lookups))
}

fn compile_when(
    raw: Option<&RawWhen>,
    path: &str,
    report: &mut dyn FnMut(String, String),
) -> Condition {
    let Some(raw) = raw else {
        return Condition::default();
    };
    for (key, list) in [
        ("groups", &raw.groups),
        ("clients", &raw.clients),
        ("triggers", &raw.triggers),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            report(
                format!("{path}.{key}"),
                "an empty list never matches; remove the key or list values".into(),
            );
        }
    }
    for (i, trigger) in raw.triggers.iter().flatten().enumerate() {
        if !cognito::TRIGGER_SOURCES.contains(&trigger.as_str()) {
            report(
                format!("{path}.triggers[{i}]"),
                format!(
                    "unknown trigger source `{trigger}`; known: {}",
                    cognito::TRIGGER_SOURCES.join(", ")
                ),
            );
        }
    }
    Condition {
        groups: raw.groups.clone(),
        clients: raw.clients.clone(),
        triggers: raw.triggers.clone(),
    }
}

/// Turns a `serde_yaml` error into a problem with rule number and claim where the path has them.
fn yaml_problem(text: &str, error: &serde_yaml::Error) -> Problem {
    let location = error.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let mut message = error.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    // serde_yaml prefixes the path (`claims[1].tokens[0]: ...`) when it has one.
    let (field, message) = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_owned(), rest.to_owned()),
        _ => (String::new(), message),
    };
    let rule = field
        .strip_prefix("claims[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse::<usize>().ok());
    // The claim name from a lenient second read; only on this error path.
    let claim = rule.and_then(|n| {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
        doc.get("claims")?
            .get(n)?
            .get("claim")?
            .as_str()
            .map(str::to_owned)
    });
    Problem {
        location,
        rule: rule.map(|n| n + 1),
        claim,
        field,
        message,
    }
}
