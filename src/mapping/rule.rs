//! Claim rules (`claims:` and each overlay's `claims:`): their compiled form, and compiling
//! them, each through the features it uses (sources, transforms, conditions).

use super::rule_id::Overlay;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::condition::{Condition, RawWhen, compared_text};
use super::limits::Costs;
use super::problems::{Problems, Site};
use super::rule_id::RuleId;
use super::source::{Source, is_query, template_queries};
use super::transform::{self, Transform};
use crate::cognito::{self, Token};
use crate::diagnostics::Written;
use crate::diagnostics::yaml::yaml_to_json;

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
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::from")]
    from: Option<serde_yaml::Value>,
    /// A constant value.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::any_value")]
    value: Option<serde_yaml::Value>,
    /// A string with `{attribute}` or `{$.json.path}` placeholders.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    template: Option<String>,
    /// The value (used as written, not transformed) when the source is missing.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::any_value")]
    default: Option<serde_yaml::Value>,
    /// A missing source is a rule failure (see `on_error`).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    required: bool,
    /// The tokens that get the claim (default: `defaults.tokens`).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(length(min = 1))]
    tokens: Option<Vec<Token>>,
    /// One transform or a list, applied left to right.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::transforms")]
    transform: Option<serde_yaml::Value>,
    /// When the rule applies; every listed condition must hold.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    when: Option<RawWhen>,
}

/// Compiles `raw` rules (of `claims:` when `overlay` is `None`) onto the end of `rules` and
/// returns their indexes.
pub(super) fn compile_rules(
    raw: &[RawRule],
    overlay: Option<&Overlay>,
    default_tokens: &[Token],
    written: &Written,
    rules: &mut Vec<Rule>,
    problems: &mut Problems,
) -> Vec<u32> {
    let mut indexes = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let site = r.site(overlay, i);
        if let Some(rule) = compile_rule(r, site, default_tokens, written, problems) {
            // MAX_RULES bounds the count far below u32::MAX.
            indexes.push(rules.len() as u32);
            rules.push(rule);
        }
    }
    indexes
}

impl RawRule {
    /// Where the rule at `index` of `claims:` (of `overlay`, when it is in one) is.
    pub(super) fn site(&self, overlay: Option<&Overlay>, index: usize) -> Site<'_> {
        match overlay {
            None => Site {
                id: RuleId::Base(index + 1),
                path: format!("claims[{index}]"),
                claim: &self.claim,
            },
            Some(key) => Site {
                id: RuleId::Overlay(key.clone(), index + 1),
                path: format!("{key}.claims[{index}]"),
                claim: &self.claim,
            },
        }
    }

    /// What the rule as written costs, by field, as the load-time limits count it: its
    /// source's JSONPaths that are not plain paths, its transforms and `replace` regexes, its
    /// conditions' regexes and paths. Counted before anything is compiled.
    pub(super) fn costs(&self) -> [(&'static str, Costs); 3] {
        let queries = match (&self.from, &self.template) {
            (Some(from), _) => match from {
                serde_yaml::Value::String(one) => usize::from(is_query(one)),
                serde_yaml::Value::Sequence(many) => many
                    .iter()
                    .filter(|s| s.as_str().is_some_and(is_query))
                    .count(),
                _ => 0,
            },
            (None, Some(template)) => template_queries(template),
            (None, None) => 0,
        };
        let source = if self.template.is_some() {
            "template"
        } else {
            "from"
        };
        let transforms = match &self.transform {
            Some(serde_yaml::Value::Sequence(steps)) => steps
                .iter()
                .map(transform::raw_costs)
                .fold(Costs::default(), |mut all, one| {
                    all.add(one);
                    all
                }),
            Some(step) => transform::raw_costs(step),
            None => Costs::default(),
        };
        [
            (
                source,
                Costs {
                    queries,
                    ..Costs::default()
                },
            ),
            ("transform", transforms),
            (
                "when",
                self.when.as_ref().map(RawWhen::costs).unwrap_or_default(),
            ),
        ]
    }
}

fn compile_rule(
    raw: &RawRule,
    site: Site,
    default_tokens: &[Token],
    written: &Written,
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
    let steps: Vec<(String, &serde_yaml::Value)> = match &raw.transform {
        None => Vec::new(),
        Some(serde_yaml::Value::Sequence(steps)) => {
            if steps.is_empty() {
                report(
                    "transform",
                    "an empty list applies no transform: remove the key, or list transforms".into(),
                );
            }
            steps
                .iter()
                .enumerate()
                .map(|(i, step)| (format!("transform[{i}]"), step))
                .collect()
        }
        Some(step) => vec![("transform".to_owned(), step)],
    };
    for (field, step) in steps {
        let as_written = map_keys_as_written(step, &format!("{}.{field}", site.path), written);
        match as_written.and_then(|()| Transform::parse(step)) {
            Ok(t) => transforms.push(t),
            Err(e) => report(&field, e),
        }
    }

    let prefix = format!("{}.", site.path);
    let (when, refused) = problems.about(&site.about(), |problems| {
        Condition::compile(raw.when.as_ref(), &site.field("when"), written, problems)
    });
    ok &= !refused;
    for (field, value) in [("value", &raw.value), ("default", &raw.default)] {
        let path = format!("{prefix}{field}");
        if let Some(warning) = value
            .as_ref()
            .and_then(|v| read_otherwise(v, written.plain(&path)))
        {
            problems.warn_rule(&site, field, warning);
        }
    }

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

/// What a constant claim value YAML reads as a number or a boolean other than it was written
/// (`+44` as 44, `0x1A` as 26, `True` as true, `1.50` as 1.5) is sent as, when it differs.
fn read_otherwise(value: &serde_yaml::Value, written: Option<&str>) -> Option<String> {
    let (read, kind) = match value {
        serde_yaml::Value::Number(n) => (n.to_string(), "number"),
        serde_yaml::Value::Bool(b) => (b.to_string(), "boolean"),
        _ => return None,
    };
    let written = written.filter(|w| *w != read)?;
    Some(format!(
        "YAML reads `{written}` as the {kind} {read}, which is what the token gets: quote it \
         ('{written}') to send the text as written"
    ))
}

/// A `map` table's keys are compared with text: a key YAML reads as a number or boolean must be
/// written as that reading's text (`+44` would be looked up as `44`).
fn map_keys_as_written(
    step: &serde_yaml::Value,
    path: &str,
    written: &Written,
) -> Result<(), String> {
    let Some(serde_yaml::Value::Mapping(table)) = step.get("map") else {
        return Ok(());
    };
    let scalar = |k: &serde_yaml::Value| {
        matches!(k, serde_yaml::Value::Number(_) | serde_yaml::Value::Bool(_))
    };
    if !table.keys().any(scalar) {
        return Ok(());
    }
    for (key, as_written) in table.keys().zip(written.keys(&format!("{path}.map"))) {
        if scalar(key) {
            compared_text(key, Some(as_written))
                .map_err(|why| format!("transform `map`, key `{as_written}`: {why}"))?;
        }
    }
    Ok(())
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
