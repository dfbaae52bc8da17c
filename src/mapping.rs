//! The mapping file (format version 1): its YAML shape, and compiling it into checked rules.
//!
//! Compiling is the only place a mapping is parsed or validated. It reports every problem it
//! finds, each with file, line/column, rule number, claim and field, and produces a [`Mapping`]
//! whose rules need no further checks per event.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cognito::{self, Token};
use crate::condition::Condition;
use crate::groups::{GroupPipeline, RawGroups};
use crate::location::{Location, LocationIndex};
use crate::overlay::{Layer, MAX_CLIENT_OVERLAYS, Plans, RawOverlay};
use crate::source::{Lookup, Source, Template};
use crate::transform::{Transform, yaml_to_json};

/// Largest mapping accepted, in bytes.
pub const MAX_MAPPING_BYTES: usize = 1024 * 1024;
/// Most claim rules accepted in one mapping, base and overlays together.
pub const MAX_RULES: usize = 2000;
/// Default of `limits.token_claim_bytes`: the JSON bytes of claims a mapping may add to one
/// token. Tokens travel in headers and cookies, often capped at 8 KB; 4 KB of claims, base64url
/// encoded, still leaves room for Cognito's own claims and the signature.
pub const DEFAULT_TOKEN_CLAIM_BYTES: usize = 4096;
/// Largest `limits.token_claim_bytes` accepted.
pub const MAX_TOKEN_CLAIM_BYTES: usize = 64 * 1024;

/// What to do when a rule fails at runtime (a failed transform, a missing `required` source, a
/// value Cognito would refuse).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Leave the rule's claim out, apply the rest, and warn.
    #[default]
    Skip,
    /// Fail the invocation, so Cognito refuses the sign-in.
    Fail,
}

/// What a rule or step is called in logs, explanations and error messages (`rule 3`,
/// `rule clients.web.1`, `rule groups`); `Display` gives the part after `rule `.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// A rule of `claims:`, by 1-based position: `rule 3`.
    Base(usize),
    /// A rule of an overlay (`clients.<id>` or `triggers.<source>`), by 1-based position in its
    /// `claims:`: `rule clients.web.1`.
    Overlay(Arc<str>, usize),
    /// The group pipeline.
    Groups,
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleId::Base(n) => write!(f, "{n}"),
            RuleId::Overlay(key, n) => write!(f, "{key}.{n}"),
            RuleId::Groups => write!(f, "groups"),
        }
    }
}

/// A compiled claim rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's id in logs and errors.
    pub id: RuleId,
    /// Where it is in the file, such as `claims[2]` or `clients.web.claims[0]`.
    pub path: String,
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
    /// When the rule applies: `None` for a rule without conditions (it always does).
    pub when: Option<Condition>,
    /// The claim's index in [`Mapping::claim_names`].
    pub claim_slot: u32,
    /// The JSON bytes the claim takes besides its value ([`crate::engine::name_size`]), counted
    /// once here for the per-event size guard.
    pub name_size: usize,
}

/// A scope added to the access token, possibly on a condition.
#[derive(Debug, Clone)]
pub struct ScopeRule {
    /// The scope.
    pub scope: String,
    /// When it is added: `None` for always.
    pub when: Option<Condition>,
}

/// A validated, compiled mapping, ready to apply to events.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Every claim rule: `claims:` in file order, then the overlays' rules.
    pub rules: Vec<Rule>,
    /// Which rules run for which client and trigger source.
    pub plans: Plans,
    /// Every claim name the rules set, sorted and each once: per event, claims are collected by
    /// their index here, which orders them as a JSON object's keys and lets a later rule replace
    /// an earlier one without a map.
    pub claim_names: Vec<String>,
    /// Every user attribute the rules read, sorted and each once: per event they are looked up
    /// together, and each lookup reads its index here.
    pub attribute_names: Vec<String>,
    /// The group pipeline; `None` leaves groups as Cognito has them.
    pub groups: Option<GroupPipeline>,
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
    /// Whether any rule reads the evaluation date (an `age` transform). The Lambda reads the
    /// clock only for such mappings.
    pub reads_date: bool,
    digest: String,
}

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

// ---- the file's shape ------------------------------------------------------------------------
// These types are also the source of `claim-mapper schema`: their doc comments are what editors
// show while a mapping is typed.

/// A claim mapping for the cognito-claim-mapper Pre Token Generation trigger.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cognito-claim-mapper mapping")]
pub(crate) struct RawMapping {
    /// Format version; this release reads 1.
    version: u32,
    /// Defaults for every rule.
    #[serde(default)]
    defaults: RawDefaults,
    /// What a failing rule does: `skip` it (and warn) or `fail` the sign-in.
    #[serde(default)]
    on_error: OnError,
    /// Claim rules, applied in order; the last rule that applies to a claim wins.
    #[serde(default)]
    claims: Vec<RawRule>,
    /// Claims removed from each token.
    #[serde(default)]
    suppress: RawSuppress,
    /// Scopes added to or removed from the access token.
    #[serde(default)]
    scopes: RawScopes,
    /// The group pipeline: which groups reach the tokens (`groupOverrideDetails`). Absent: groups
    /// are left exactly as Cognito has them.
    groups: Option<RawGroups>,
    /// Overlays by app client id (`callerContext.clientId`): rules that add to, replace or
    /// disable the base rules for that client. Applied after `triggers`.
    #[serde(default)]
    clients: BTreeMap<String, RawOverlay>,
    /// Overlays by trigger source, e.g. `TokenGeneration_ClientCredentials`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::trigger_overlays")]
    triggers: BTreeMap<String, RawOverlay>,
    /// Size limits.
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Limits")]
struct RawLimits {
    /// Most JSON bytes of claims the mapping may add to one token (default 4096, at most 65536).
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Defaults")]
struct RawDefaults {
    /// Tokens a rule without `tokens:` writes to (default both).
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

/// A claim rule: exactly one source (`from`, `value` or `template`), then optional transforms.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
pub(crate) struct RawRule {
    /// The claim name in the token.
    claim: String,
    /// A user attribute name, a JSONPath into the event starting with `$`, or a list of them
    /// tried in order.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::from")]
    from: Option<serde_yaml::Value>,
    /// A constant value.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::any_value")]
    value: Option<serde_yaml::Value>,
    /// A string with `{attribute}` or `{$.json.path}` placeholders.
    template: Option<String>,
    /// The value (used as written, not transformed) when the source is missing.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::any_value")]
    default: Option<serde_yaml::Value>,
    /// A missing source is a rule failure (see `on_error`).
    #[serde(default)]
    required: bool,
    /// The tokens that get the claim (default: `defaults.tokens`).
    tokens: Option<Vec<Token>>,
    /// One transform or a list, applied left to right.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::transforms")]
    transform: Option<serde_yaml::Value>,
    /// When the rule applies; every listed condition must hold.
    when: Option<RawWhen>,
}

/// Conditions; each listed one must hold.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "When")]
struct RawWhen {
    /// The user is in any of these groups (after the group pipeline, when there is one).
    groups: Option<Vec<String>>,
    /// The app client (`callerContext.clientId`) is one of these.
    clients: Option<Vec<String>>,
    /// The trigger source is one of these.
    triggers: Option<Vec<String>>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Suppress")]
struct RawSuppress {
    /// Claims removed from the ID token.
    #[serde(default)]
    id: Vec<String>,
    /// Claims removed from the access token.
    #[serde(default)]
    access: Vec<String>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scopes")]
struct RawScopes {
    /// Scopes added to the access token.
    #[serde(default)]
    add: Vec<RawScopeAdd>,
    /// Scopes removed from the access token.
    #[serde(default)]
    suppress: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScopeAdd")]
struct RawScopeAdd {
    /// The scope, e.g. `orders-api/read`.
    scope: String,
    /// When it is added.
    when: Option<RawWhen>,
}

// ---- compiling -------------------------------------------------------------------------------

/// One problem before its location is resolved: (field path, rule, claim, message).
type Found = (String, Option<RuleId>, Option<String>, String);

/// Collects problems with their paths; locations are resolved once, at the end.
struct Problems {
    found: Vec<Found>,
}

/// Where a rule is, for its problems.
struct Site<'r> {
    id: RuleId,
    path: String,
    claim: &'r str,
}

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push((path.into(), None, None, message.into()));
    }

    fn add_rule(&mut self, site: &Site, field: &str, message: impl Into<String>) {
        let path = if field.is_empty() {
            site.path.clone()
        } else {
            format!("{}.{field}", site.path)
        };
        let claim = (!site.claim.is_empty()).then(|| site.claim.to_owned());
        self.found
            .push((path, Some(site.id.clone()), claim, message.into()));
    }
}

impl Rule {
    fn site(&self) -> Site<'_> {
        Site {
            id: self.id.clone(),
            path: self.path.clone(),
            claim: &self.claim,
        }
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
            return Ok(mapping);
        }
        let index = LocationIndex::new(text);
        let mut seen = std::collections::HashSet::new();
        let problems = problems
            .found
            .into_iter()
            // Checks run per overlay combination can find the same problem more than once.
            .filter(|found| seen.insert(found.clone()))
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
    let total = raw.claims.len()
        + raw
            .clients
            .values()
            .chain(raw.triggers.values())
            .map(|o| o.claims.len())
            .sum::<usize>();
    if total > MAX_RULES {
        problems.add(
            "claims",
            format!("{total} rules (base and overlays); the limit is {MAX_RULES}"),
        );
        return empty(raw, text);
    }
    let suppress_id = compile_suppressions(&raw.suppress.id, "suppress.id", problems);
    let suppress_access = compile_suppressions(&raw.suppress.access, "suppress.access", problems);
    let tokens = &raw.defaults.tokens;

    let mut rules = Vec::with_capacity(total);
    let base = compile_rules(&raw.claims, None, tokens, &mut rules, problems);
    let base_claims: HashSet<String> = rules.iter().map(|r: &Rule| r.claim.clone()).collect();
    let mut triggers = Vec::with_capacity(raw.triggers.len());
    for (source, overlay) in &raw.triggers {
        let key = format!("triggers.{source}");
        if !cognito::TRIGGER_SOURCES.contains(&source.as_str()) {
            problems.add(
                key.clone(),
                format!(
                    "unknown trigger source `{source}`; known: {}",
                    cognito::TRIGGER_SOURCES.join(", ")
                ),
            );
        }
        let layer = compile_layer(&key, overlay, &base_claims, tokens, &mut rules, problems);
        triggers.push((source.clone(), layer));
    }
    if raw.clients.len() > MAX_CLIENT_OVERLAYS {
        problems.add(
            "clients",
            format!(
                "{} client overlays; the limit is {MAX_CLIENT_OVERLAYS}",
                raw.clients.len()
            ),
        );
    }
    // A client overlay may disable what the base or any trigger overlay sets.
    let earlier_claims: HashSet<String> = rules.iter().map(|r| r.claim.clone()).collect();
    let mut clients = Vec::with_capacity(raw.clients.len());
    for (client, overlay) in raw.clients.iter().take(MAX_CLIENT_OVERLAYS) {
        let key = format!("clients.{client}");
        if let Some(reason) = client_id_restriction(client) {
            problems.add(key.clone(), reason);
        }
        let layer = compile_layer(&key, overlay, &earlier_claims, tokens, &mut rules, problems);
        clients.push((client.clone(), layer));
    }

    for rule in &rules {
        for (token, added, suppressed) in [
            (Token::Id, rule.to_id, &suppress_id),
            (Token::Access, rule.to_access, &suppress_access),
        ] {
            if added && suppressed.contains(&rule.claim) {
                problems.add_rule(
                    &rule.site(),
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
    let claim_names = number_names(rules.iter_mut().map(|r| (&*r.claim, &mut r.claim_slot)));
    let reads_date = rules
        .iter()
        .flat_map(|r| &r.transforms)
        .any(Transform::reads_date);
    let attribute_names = number_names(
        rules
            .iter_mut()
            .flat_map(|r| r.source.lookups_mut())
            .filter_map(Lookup::attribute_slot),
    );
    let plans = Plans::build(&rules, base, triggers, clients);
    for plan in plans.all() {
        check_constant_sizes(&rules, &plan.rules, limit, problems);
    }
    let groups = raw.groups.as_ref().and_then(|g| {
        GroupPipeline::compile(g, &mut |field, message| problems.add(field, message))
    });
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
        plans,
        claim_names,
        attribute_names,
        groups,
        on_error: raw.on_error,
        suppress_id,
        suppress_access,
        scopes_add,
        scopes_suppress: raw.scopes.suppress,
        token_claim_bytes: limit,
        reads_date,
        digest: digest(text),
    }
}

/// A mapping with no rules, returned alongside problems that stop compiling early.
fn empty(raw: RawMapping, text: &str) -> Mapping {
    Mapping {
        rules: Vec::new(),
        plans: Plans::build(&[], Vec::new(), Vec::new(), Vec::new()),
        claim_names: Vec::new(),
        attribute_names: Vec::new(),
        groups: None,
        on_error: raw.on_error,
        suppress_id: Vec::new(),
        suppress_access: Vec::new(),
        scopes_add: Vec::new(),
        scopes_suppress: Vec::new(),
        token_claim_bytes: DEFAULT_TOKEN_CLAIM_BYTES,
        reads_date: false,
        digest: digest(text),
    }
}

/// The names of `named`, sorted and each once; sets each entry's slot to its name's index there
/// (claims: [`Rule::claim_slot`]; attributes: the slot of a [`Lookup::Attribute`]).
pub(crate) fn number_names<'n>(
    named: impl IntoIterator<Item = (&'n str, &'n mut u32)>,
) -> Vec<String> {
    let mut named: Vec<_> = named.into_iter().collect();
    let mut names: Vec<String> = named.iter().map(|(name, _)| name.to_string()).collect();
    names.sort_unstable();
    names.dedup();
    for (name, slot) in &mut named {
        // Present by construction; the mapping's size bounds the count far below u32::MAX.
        **slot = names
            .binary_search_by(|n| n.as_str().cmp(name))
            .unwrap_or_default() as u32;
    }
    names
}

fn digest(text: &str) -> String {
    format!("sha256:{:.12x}", Sha256::digest(text.as_bytes()))
}

/// Compiles `raw` rules (of `claims:` when `overlay` is `None`) onto the end of `rules` and
/// returns their indexes.
fn compile_rules(
    raw: &[RawRule],
    overlay: Option<&Arc<str>>,
    default_tokens: &[Token],
    rules: &mut Vec<Rule>,
    problems: &mut Problems,
) -> Vec<u32> {
    let mut indexes = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let site = match overlay {
            None => Site {
                id: RuleId::Base(i + 1),
                path: format!("claims[{i}]"),
                claim: &r.claim,
            },
            Some(key) => Site {
                id: RuleId::Overlay(Arc::clone(key), i + 1),
                path: format!("{key}.claims[{i}]"),
                claim: &r.claim,
            },
        };
        if let Some(rule) = compile_rule(r, site, default_tokens, problems) {
            // MAX_RULES bounds the count far below u32::MAX.
            indexes.push(rules.len() as u32);
            rules.push(rule);
        }
    }
    indexes
}

/// Compiles one overlay; its `disable` entries must name claims that `earlier` layers set.
/// Sets, not lists: a hostile mapping may hold a very long `disable` list.
fn compile_layer(
    key: &str,
    raw: &RawOverlay,
    earlier: &HashSet<String>,
    default_tokens: &[Token],
    rules: &mut Vec<Rule>,
    problems: &mut Problems,
) -> Layer {
    let key: Arc<str> = Arc::from(key);
    let indexes = compile_rules(&raw.claims, Some(&key), default_tokens, rules, problems);
    let own: HashSet<&str> = raw.claims.iter().map(|r| r.claim.as_str()).collect();
    for (i, claim) in raw.disable.iter().enumerate() {
        let path = format!("{key}.disable[{i}]");
        if !earlier.contains(claim) {
            problems.add(
                path,
                format!("no earlier rule sets `{claim}`, so there is nothing to disable"),
            );
        } else if own.contains(claim.as_str()) {
            problems.add(
                path,
                format!("`{claim}` is also set by this overlay, which already replaces the earlier rules"),
            );
        }
    }
    let claims = indexes
        .iter()
        .map(|&i| rules[i as usize].claim.clone())
        .collect();
    Layer {
        key,
        rules: indexes,
        claims,
        disable: raw.disable.iter().cloned().collect(),
    }
}

/// Cognito app client ids: 1 to 128 word characters or `+`.
fn client_id_restriction(client: &str) -> Option<String> {
    let valid = !client.is_empty()
        && client.len() <= 128
        && client
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+');
    (!valid)
        .then(|| format!("`{client}` is not an app client id (1-128 letters, digits, `_` or `+`)"))
}

/// Constant claims alone must fit the token size limit: each one, and per token all those that
/// apply unconditionally in one plan (a later rule for the same claim replaces the earlier one).
fn check_constant_sizes(rules: &[Rule], plan: &[u32], limit: usize, problems: &mut Problems) {
    let mut always: [std::collections::HashMap<&str, usize>; 2] = Default::default();
    for rule in plan.iter().map(|&i| &rules[i as usize]) {
        let Source::Constant(value) = &rule.source else {
            continue;
        };
        let size = crate::engine::claim_size(&rule.claim, value);
        if size > limit {
            problems.add_rule(
                &rule.site(),
                "value",
                format!("the claim is {size} bytes of JSON; limits.token_claim_bytes is {limit}"),
            );
            continue;
        }
        if rule.when.is_some() {
            continue;
        }
        for (i, targeted) in [rule.to_id, rule.to_access].into_iter().enumerate() {
            if targeted {
                always[i].insert(&rule.claim, size);
                let total: usize = always[i].values().sum();
                if total > limit {
                    let token = ["id", "access"][i];
                    problems.add_rule(
                        &rule.site(),
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
    site: Site,
    default_tokens: &[Token],
    problems: &mut Problems,
) -> Option<Rule> {
    let mut ok = true;
    let mut report = |field: &str, message: String| {
        ok = false;
        problems.add_rule(&site, field, message);
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

    let prefix = format!("{}.", site.path);
    let when = compile_when(
        raw.when.as_ref(),
        &format!("{prefix}when"),
        &mut |field, message| {
            ok = false;
            problems.add_rule(
                &site,
                field.strip_prefix(&prefix).unwrap_or(&field),
                message,
            );
        },
    );

    Some(Rule {
        id: site.id,
        path: site.path,
        claim: raw.claim.clone(),
        source: source?,
        transforms,
        default,
        required: raw.required,
        to_id: tokens.contains(&Token::Id),
        to_access: tokens.contains(&Token::Access),
        when,
        claim_slot: 0,
        name_size: crate::engine::name_size(&raw.claim),
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
) -> Option<Condition> {
    let raw = raw?;
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
    let any = raw.groups.is_some() || raw.clients.is_some() || raw.triggers.is_some();
    any.then(|| Condition {
        groups: raw.groups.clone(),
        clients: raw.clients.clone(),
        triggers: raw.triggers.clone(),
    })
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
