//! The mapping file's top-level shape, as serde reads it. These types are also the source of
//! `claim-mapper schema`: their doc comments are what editors show while a mapping is typed. Each
//! feature's own section (`when`, `groups`, overlays, rules) is defined beside its compiler.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::OnError;
use super::condition::RawWhen;
use super::groups::RawGroups;
use super::limits::DEFAULT_TOKEN_CLAIM_BYTES;
use super::lookups::{DEFAULT_LOOKUP_BUDGET_MS, RawLookup};
use super::overlay::RawOverlay;
use super::rule::RawRule;
use crate::cognito::Token;

/// A claim mapping for the cognito-claim-mapper Pre Token Generation trigger.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cognito-claim-mapper mapping")]
pub(crate) struct RawMapping {
    /// Format version; this release reads 1.
    #[schemars(schema_with = "super::field_schemas::version")]
    pub(super) version: u32,
    /// Defaults for every rule.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) defaults: RawDefaults,
    /// What a failing rule does: `skip` it (and warn) or `fail` the sign-in.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) on_error: OnError,
    /// Claim rules, applied in order; the last rule that applies to a claim wins.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) claims: Vec<RawRule>,
    /// Claims removed from each token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) suppress: RawSuppress,
    /// Scopes added to or removed from the access token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) scopes: RawScopes,
    /// The group pipeline: which groups reach the tokens (`groupOverrideDetails`). Absent: groups
    /// are left exactly as Cognito has them.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    pub(super) groups: Option<RawGroups>,
    /// Overlays by app client id (`callerContext.clientId`): rules that add to, replace or
    /// disable the base rules for that client. Applied after `triggers`.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) clients: BTreeMap<String, RawOverlay>,
    /// Overlays by trigger source, e.g. `TokenGeneration_ClientCredentials`.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    #[schemars(schema_with = "super::field_schemas::trigger_overlays::<RawOverlay>")]
    pub(super) triggers: BTreeMap<String, RawOverlay>,
    /// Items read from DynamoDB tables, by name: rules read them as `from: lookup.NAME.attribute`.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) lookups: BTreeMap<String, RawLookup>,
    /// Size and time limits.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) limits: RawLimits,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Limits")]
pub(super) struct RawLimits {
    /// Most JSON bytes of claims the mapping may add to one token (default 4096, at most 65536).
    #[serde(
        default = "default_token_claim_bytes",
        deserialize_with = "crate::diagnostics::yaml::given"
    )]
    pub(super) token_claim_bytes: usize,
    /// Most milliseconds one sign-in spends on all its lookups together (default 400, at most
    /// 1000).
    #[serde(
        default = "default_lookup_budget_ms",
        deserialize_with = "crate::diagnostics::yaml::given"
    )]
    pub(super) lookup_budget_ms: u32,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            token_claim_bytes: DEFAULT_TOKEN_CLAIM_BYTES,
            lookup_budget_ms: DEFAULT_LOOKUP_BUDGET_MS,
        }
    }
}

fn default_lookup_budget_ms() -> u32 {
    DEFAULT_LOOKUP_BUDGET_MS
}

fn default_token_claim_bytes() -> usize {
    DEFAULT_TOKEN_CLAIM_BYTES
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Defaults")]
pub(super) struct RawDefaults {
    /// Tokens a rule without `tokens:` writes to (default both).
    #[serde(
        default = "both_tokens",
        deserialize_with = "crate::diagnostics::yaml::given"
    )]
    #[schemars(length(min = 1))]
    pub(super) tokens: Vec<Token>,
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

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Suppress")]
pub(super) struct RawSuppress {
    /// Claims removed from the ID token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) id: Vec<String>,
    /// Claims removed from the access token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) access: Vec<String>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scopes")]
pub(super) struct RawScopes {
    /// Scopes added to the access token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) add: Vec<RawScopeAdd>,
    /// Scopes removed from the access token.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(super) suppress: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScopeAdd")]
pub(super) struct RawScopeAdd {
    /// The scope, e.g. `orders-api/read`.
    pub(super) scope: String,
    /// When it is added.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    pub(super) when: Option<RawWhen>,
}
