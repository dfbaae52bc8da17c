//! Claim rules (`claims:` and each overlay's `claims:`): their compiled form, and compiling
//! them, each through the features it uses (sources, transforms, conditions).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::condition::{Condition, RawWhen};
use super::problems::{Problems, Site};
use super::rule_id::RuleId;
use super::source::Source;
use super::transform::Transform;
use super::yaml::yaml_to_json;
use crate::cognito::{self, Token};

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

/// A compiled claim rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's id in logs and errors.
    pub id: RuleId,
    /// Where it is in the file, such as `claims[2]` or `clients.web.claims[0]`.
    pub(crate) path: String,
    /// The claim name in the token.
    pub claim: String,
    /// Where the value comes from.
    pub(crate) source: Source,
    /// Steps applied to the source's value, left to right.
    pub(crate) transforms: Vec<Transform>,
    /// Value used when the source is missing (not transformed).
    pub(crate) default: Option<Value>,
    /// A missing source is a rule failure.
    pub(crate) required: bool,
    /// Put the claim into the ID token.
    pub(crate) to_id: bool,
    /// Put the claim into the access token.
    pub(crate) to_access: bool,
    /// When the rule applies: `None` for a rule without conditions (it always does).
    pub(crate) when: Option<Condition>,
    /// The claim's index in [`Mapping::claim_names`](super::Mapping): per event, values are
    /// collected by this slot. Set once all rules are compiled; below `claim_names.len()`.
    pub(crate) claim_slot: u32,
    /// The JSON bytes the claim takes besides its value ([`crate::claim_size::name_size`] of
    /// `claim`), counted once here for the per-event size guard.
    pub(crate) name_size: usize,
}

/// A claim rule: exactly one source (`from`, `value` or `template`), then optional transforms.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
#[schemars(extend("oneOf" = [
    {"required": ["from"]},
    {"required": ["value"]},
    {"required": ["template"]}
]))]
pub(crate) struct RawRule {
    /// The claim name in the token.
    pub(super) claim: String,
    /// A user attribute name, a JSONPath into the event starting with `$`, or a list of them
    /// tried in order.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::from")]
    from: Option<serde_yaml::Value>,
    /// A constant value.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::any_value")]
    value: Option<serde_yaml::Value>,
    /// A string with `{attribute}` or `{$.json.path}` placeholders.
    #[serde(default, deserialize_with = "super::yaml::present")]
    template: Option<String>,
    /// The value (used as written, not transformed) when the source is missing.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::any_value")]
    default: Option<serde_yaml::Value>,
    /// A missing source is a rule failure (see `on_error`).
    #[serde(default, deserialize_with = "super::yaml::given")]
    required: bool,
    /// The tokens that get the claim (default: `defaults.tokens`).
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(length(min = 1))]
    tokens: Option<Vec<Token>>,
    /// One transform or a list, applied left to right.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::transforms")]
    transform: Option<serde_yaml::Value>,
    /// When the rule applies; every listed condition must hold.
    #[serde(default, deserialize_with = "super::yaml::present")]
    when: Option<RawWhen>,
}

/// Compiles `raw` rules (of `claims:` when `overlay` is `None`) onto the end of `rules` and
/// returns their indexes.
pub(super) fn compile_rules(
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
        (["from"], Some(from), _, _) => Source::compile_from(from)
            .map_err(|e| report("from", e))
            .ok(),
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
        (["template"], _, _, Some(t)) => super::source::Template::parse(t)
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
            if steps.is_empty() {
                report(
                    "transform",
                    "an empty list applies no transform: remove the key, or list transforms".into(),
                );
            }
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
    let when = Condition::compile(
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
        name_size: crate::claim_size::name_size(&raw.claim),
    })
    .filter(|_| ok)
}

impl Rule {
    pub(super) fn site(&self) -> Site<'_> {
        Site {
            id: self.id.clone(),
            path: self.path.clone(),
            claim: &self.claim,
        }
    }
}
