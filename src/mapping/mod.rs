//! The mapping: its YAML format (version 1) and its compilation into a [`Mapping`].
//!
//! Owns everything that happens once, at load: the file's shape (`file.rs` and each feature's
//! section), the JSON Schema editors read, problems with their file:line:column, and compiling.
//! Compiling is the only place a mapping is parsed or validated; each feature compiles its own
//! section (`condition.rs`, `source.rs`, `transform.rs`, `groups.rs`, `overlay.rs`, `rule.rs`) and
//! `compile.rs` orchestrates them into rules that need no further checks per event.
//!
//! Must not know events or the engine: what a compiled mapping does to an event is
//! [`crate::engine`]'s, which reads the compiled types defined here.

pub(crate) mod compile;
pub(crate) mod condition;
mod field_schemas;
mod file;
pub(crate) mod groups;
pub mod inputs;
pub(crate) mod limits;
pub mod lookups;
pub(crate) mod overlay;
pub mod parts;
pub(crate) mod problems;
mod rule;
mod rule_id;
pub mod schema;
pub(crate) mod source;
pub mod transform;

pub use crate::diagnostics::{Location, MAX_YAML_DEPTH};
pub use limits::{
    DEFAULT_TOKEN_CLAIM_BYTES, MAX_KEEP_PATTERN_BYTES, MAX_MAPPING_BYTES,
    MAX_MAPPING_REGEX_POSITIONS, MAX_QUERY_PATHS, MAX_REGEX_INPUT_BYTES, MAX_REGEX_POSITIONS,
    MAX_REGEX_SIZE, MAX_REGEXES, MAX_RULES, MAX_TOKEN_CLAIM_BYTES, MAX_TRANSFORMS, MAX_VALUE_BYTES,
    OVER_REGEX_INPUT, OVER_VALUE_CAP, regex_positions,
};
pub use problems::{MappingError, Problem};
pub use rule::{OnError, Rule};
pub use rule_id::{Overlay, RuleId};

use condition::Condition;
use groups::GroupPipeline;
use lookups::TableLookup;
use overlay::Plans;

/// A scope added to the access token, possibly on a condition.
#[derive(Debug, Clone)]
pub struct ScopeRule {
    /// The scope.
    pub(crate) scope: String,
    /// When it is added: `None` for always.
    pub(crate) when: Option<Condition>,
}

/// A validated, compiled mapping, ready to apply to events.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Every claim rule: `claims:` in file order, then the overlays' rules.
    pub(crate) rules: Vec<Rule>,
    /// Which rules run for which client and trigger source.
    pub(crate) plans: Plans,
    /// Every claim name the rules set, sorted and each once: per event, claims are collected by
    /// their index here, which orders them as a JSON object's keys and lets a later rule replace
    /// an earlier one without a map.
    pub(crate) claim_names: Vec<String>,
    /// Every user attribute the rules read, sorted and each once: per event they are looked up
    /// together, and each lookup reads its index here.
    pub(crate) attribute_names: Vec<String>,
    /// The lookups (`lookups:`), in name order: item sources and fetched items are indexed by
    /// position here.
    pub(crate) lookups: Vec<TableLookup>,
    /// Most milliseconds one event spends on all its lookups (`limits.lookup_budget_ms`).
    pub(crate) lookup_budget_ms: u32,
    /// The group pipeline; `None` leaves groups as Cognito has them.
    pub(crate) groups: Option<GroupPipeline>,
    /// Runtime failure policy.
    pub(crate) on_error: OnError,
    /// Claims suppressed in the ID token.
    pub(crate) suppress_id: Vec<String>,
    /// Claims suppressed in the access token.
    pub(crate) suppress_access: Vec<String>,
    /// Scopes added to the access token.
    pub(crate) scopes_add: Vec<ScopeRule>,
    /// Scopes suppressed from the access token.
    pub(crate) scopes_suppress: Vec<String>,
    /// Most JSON bytes of claims the mapping may add to one token (`limits.token_claim_bytes`).
    pub(crate) token_claim_bytes: usize,
    /// Whether any rule reads the evaluation date (an `age` transform). The Lambda reads the
    /// clock only for such mappings.
    pub(crate) reads_date: bool,
    pub(crate) digest: String,
    /// What is allowed but probably a mistake, located like problems.
    pub(crate) warnings: Vec<Problem>,
}

impl Mapping {
    /// What the mapping allows but is probably a mistake (an attribute name no pool can have),
    /// located like problems. `validate` prints them; `validate --strict` refuses them.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// A short digest of the mapping's text, naming the version that is live in logs.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// How many claim rules the mapping has, base and overlays together.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The most JSON bytes of claims the mapping may add to one token
    /// (`limits.token_claim_bytes`).
    pub fn token_claim_bytes(&self) -> usize {
        self.token_claim_bytes
    }

    /// How many (app client, trigger source) combinations the overlays were resolved into at
    /// load: at least one, the base rules alone.
    pub fn plan_count(&self) -> usize {
        self.plans.all().len()
    }

    /// Whether any rule reads the evaluation date (an `age` transform): the Lambda reads the
    /// clock only for such mappings.
    pub fn reads_date(&self) -> bool {
        self.reads_date
    }

    /// The lookups the mapping declares, in name order (`lookups:`).
    pub fn lookups(&self) -> &[TableLookup] {
        &self.lookups
    }

    /// Most milliseconds one event spends on all its lookups together
    /// (`limits.lookup_budget_ms`).
    pub fn lookup_budget_ms(&self) -> u32 {
        self.lookup_budget_ms
    }
}
