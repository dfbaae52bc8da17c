//! Applying a compiled mapping to one event: conditions, sources, transforms, value checks,
//! suppressions and scopes. This is the per-event path: it reads the mapping and never parses it.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::Value;
use time::Date;

use crate::cognito::{self, CLIENT_CREDENTIALS, Token};
use crate::condition::Unmet;
use crate::event::{Event, EventError, Shape};
use crate::groups::{GroupOverride, Stage};
use crate::mapping::{Mapping, OnError, Rule, RuleId};
use crate::response;
use crate::source::Attributes;
use crate::transform::{TransformError, text_of};

/// Everything a mapping produced for one event, before it is written into the response. Values
/// found in the event or the mapping are borrowed from them, and a claim set in both tokens is
/// held once.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    /// The mapping's claim names, indexed by [`crate::mapping::Rule::claim_slot`].
    pub(crate) claim_names: &'a [String],
    /// Every value a rule added, in rule order.
    pub(crate) values: Vec<Cow<'a, Value>>,
    /// Per claim slot, the index in `values` of its value: the ID token's slots, then the access
    /// token's (V2/V3 only), in one allocation.
    pub(crate) slots: Vec<Option<u32>>,
    /// ID-token `claimsToSuppress`.
    pub(crate) suppress_id: &'a [String],
    /// Access-token `claimsToSuppress` (V2/V3 only).
    pub(crate) suppress_access: &'a [String],
    /// `scopesToAdd` (V2/V3 only).
    pub(crate) scopes_add: Vec<&'a str>,
    /// `scopesToSuppress` (V2/V3 only).
    pub(crate) scopes_suppress: &'a [String],
    /// `groupOverrideDetails`, when the mapping has a group pipeline.
    pub(crate) groups: Option<GroupOverride>,
    /// Rules that failed and were skipped (`on_error: skip`).
    pub skipped: Vec<RuleFailure>,
    /// Number of rules whose claim was added.
    pub applied: usize,
}

impl<'a> Outcome<'a> {
    /// One token's claim slots.
    fn slots(&self, token: Token) -> &[Option<u32>] {
        let (id, access) = self
            .slots
            .split_at_checked(self.claim_names.len())
            .unwrap_or_default();
        match token {
            Token::Id => id,
            Token::Access => access,
        }
    }

    /// One token's added claims, in name order.
    pub(crate) fn claims(&self, token: Token) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.slots(token)
            .iter()
            .enumerate()
            .filter_map(|(slot, value)| {
                let value = (*value)?;
                Some((
                    self.claim_names[slot].as_str(),
                    self.values[value as usize].as_ref(),
                ))
            })
    }
}

/// Why a rule failed at runtime. Carries no attribute or claim value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// A `required: true` rule found no source.
    Missing,
    /// A transform could not handle the value.
    Transform(TransformError),
    /// Cognito would refuse the value.
    Refused(&'static str),
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Missing => write!(f, "required source is missing"),
            FailureReason::Transform(e) => write!(f, "{e}"),
            FailureReason::Refused(r) => write!(f, "value refused: {r}"),
        }
    }
}

/// A rule (or the group pipeline) that failed at runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFailure {
    /// The rule.
    pub rule: RuleId,
    /// The rule's claim.
    pub claim: String,
    /// What went wrong.
    pub reason: FailureReason,
}

impl fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} (claim `{}`): {}",
            self.rule, self.claim, self.reason
        )
    }
}

/// Why an invocation failed. The `Display` text reaches end users through Cognito, so it names
/// the rule number or the malformed part of the event and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The event could not be read.
    #[error("claim mapping failed: {0}")]
    Event(#[from] EventError),
    /// A rule failed under `on_error: fail`.
    #[error("claim mapping failed (rule {})", .0.rule)]
    Rule(RuleFailure),
    /// The response could not be serialised (not expected: every value is JSON already).
    #[error("claim mapping failed: the response could not be written: {0}")]
    Response(String),
}

/// Receives what happens while a mapping is applied, for debug logs and `explain`. Every method
/// does nothing unless overridden.
pub trait Observer {
    /// A rule's outcome.
    fn rule(&mut self, _rule: &Rule, _outcome: &RuleOutcome) {}
    /// The groups after one step of the group pipeline.
    fn group_stage(&mut self, _stage: Stage, _groups: &[String]) {}
}

/// Observes nothing.
impl Observer for () {}

/// What became of one rule for one event (for debug logs and explanations; never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome {
    /// The claim was added.
    Applied,
    /// The rule targets no token this event can change (e.g. access-only on V1, ID-only on
    /// client credentials).
    NoTargetToken,
    /// A `when:` condition did not hold.
    ConditionFalse(Unmet),
    /// The source was missing and the rule is optional.
    SourceMissing,
    /// The rule failed (skipped under `on_error: skip`).
    Failed(FailureReason),
}

impl fmt::Display for RuleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOutcome::Applied => write!(f, "applied"),
            RuleOutcome::NoTargetToken => write!(f, "skipped: no target token in this event"),
            RuleOutcome::ConditionFalse(unmet) => {
                write!(f, "skipped: condition `{}` is false", unmet.key())
            }
            RuleOutcome::SourceMissing => write!(f, "skipped: source missing"),
            RuleOutcome::Failed(reason) => write!(f, "failed: {reason}"),
        }
    }
}

/// An event with its response filled in, and what the mapping did.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The whole event, as the Lambda returns it.
    pub event: Value,
    /// The response shape used.
    pub shape: Shape,
    /// Rules that failed and were skipped.
    pub skipped: Vec<RuleFailure>,
    /// Number of rules whose claim was added.
    pub applied: usize,
}

/// Applies `mapping` to `event` as of `today` and returns the event with its response filled in,
/// for the dry-run and other reports (the Lambda serialises [`apply`]'s result directly).
pub fn process(mapping: &Mapping, event: Value, today: Date) -> Result<Processed, ProcessError> {
    process_observed(mapping, &event, today, &mut ())
}

/// [`process`], reporting what happens to `observer`.
pub fn process_observed(
    mapping: &Mapping,
    event: &Value,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Processed, ProcessError> {
    let filled = apply(mapping, event, today, observer)?;
    let written =
        serde_json::to_value(&filled).map_err(|e| ProcessError::Response(e.to_string()))?;
    let shape = filled.shape();
    let outcome = filled.into_outcome();
    Ok(Processed {
        event: written,
        shape,
        skipped: outcome.skipped,
        applied: outcome.applied,
    })
}

/// Applies `mapping` to `event`: the event with its response filled in, ready to be written. The
/// Lambda serialises it straight to JSON, so the response is written from the rules' values
/// (borrowed from the event and the mapping where no transform changed them) and never built as
/// a `serde_json::Value`.
pub fn apply<'a>(
    mapping: &'a Mapping,
    event: &'a Value,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<response::Filled<'a>, ProcessError> {
    let view = Event::new(event)?;
    let outcome = evaluate(mapping, &view, today, observer)?;
    Ok(response::Filled::new(view, outcome))
}

/// The JSON bytes a claim takes in `claimsToAddOrOverride`: `"name":value,`.
pub fn claim_size(name: &str, value: &Value) -> usize {
    name_size(name) + value_size(value)
}

/// The JSON bytes a claim takes besides its value: `"name":` and `,`. Rules hold theirs
/// ([`Rule::name_size`]).
pub fn name_size(name: &str) -> usize {
    2 + str_size(name)
}

/// The JSON bytes of a claim value.
fn value_size(value: &Value) -> usize {
    match value {
        Value::String(s) => str_size(s),
        Value::Bool(true) | Value::Null => 4,
        Value::Bool(false) => 5,
        other => serialized_size(other),
    }
}

/// The JSON bytes of a string. One with nothing JSON escapes (quotes, backslashes, control
/// characters), the common case, is written as it is between quotes.
fn str_size(s: &str) -> usize {
    // No early exit, so that the check compiles to vector instructions.
    let escaped = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !escaped {
        s.len() + 2
    } else {
        serialized_size(s)
    }
}

/// The JSON bytes of `value`, counted by serialising it to a counter.
fn serialized_size(value: &(impl Serialize + ?Sized)) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and claim values (JSON values, strings) always serialise.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The most bytes serde_json writes for a number: an `f64` in ryu's shortest form, such as
/// `-2.2250738585072014e-308`.
const MAX_NUMBER_BYTES: usize = 24;

/// The JSON bytes a claim value takes at most, found without writing or scanning it: a string
/// counted as if every byte were escaped (`\u00XX`), a number as the longest number, arrays and
/// objects from their parts.
#[inline]
fn size_bound(value: &Value) -> usize {
    match value {
        Value::String(s) => 6 * s.len() + 2,
        other => other_size_bound(other),
    }
}

/// [`size_bound`] of a value that is not a string.
fn other_size_bound(value: &Value) -> usize {
    match value {
        Value::Number(_) => MAX_NUMBER_BYTES,
        // `[`, `]` and each item with a comma.
        Value::Array(items) => 2 + items.iter().map(|v| size_bound(v) + 1).sum::<usize>(),
        // `{`, `}` and each `"key":value,`.
        Value::Object(members) => {
            2 + members
                .iter()
                .map(|(k, v)| 6 * k.len() + 4 + size_bound(v))
                .sum::<usize>()
        }
        other => value_size(other),
    }
}

/// The JSON bytes of the claims added to one token so far, against the mapping's limit. While
/// far below the limit it keeps an upper bound made of [`size_bound`]s, which needs no scan of the
/// values; the first time the bound passes the limit it counts the token's claims exactly, once,
/// and from then on keeps the exact count (so a large mapping costs one recount, not one per
/// rule). Most events never leave the bound.
#[derive(Default)]
struct TokenBytes {
    bound: usize,
    exact: Option<usize>,
}

impl TokenBytes {
    /// The token's bytes after `rule` sets its claim to `value` in `token` (replacing any earlier
    /// value), or `None` when the claims would exceed `limit`. In the bound, a replaced value is
    /// not deducted (it stays an upper bound); the exact count deducts it.
    #[inline]
    fn after(
        &mut self,
        outcome: &Outcome,
        token: Token,
        rule: &Rule,
        value: &Value,
        limit: usize,
    ) -> Option<usize> {
        if self.exact.is_none() {
            let bound = self.bound + rule.name_size + size_bound(value);
            if bound <= limit {
                return Some(bound);
            }
        }
        self.after_exact(outcome, token, rule, value, limit)
    }

    /// [`TokenBytes::after`] once the bound has passed the limit.
    fn after_exact(
        &mut self,
        outcome: &Outcome,
        token: Token,
        rule: &Rule,
        value: &Value,
        limit: usize,
    ) -> Option<usize> {
        let exact = *self
            .exact
            .get_or_insert_with(|| outcome.claims(token).map(|(n, v)| claim_size(n, v)).sum());
        let replaced = outcome.slots(token)[rule.claim_slot as usize].map_or(0, |old| {
            rule.name_size + value_size(&outcome.values[old as usize])
        });
        let after = exact - replaced + rule.name_size + value_size(value);
        (after <= limit).then_some(after)
    }

    /// Records the bytes [`TokenBytes::after`] returned for a claim that was set.
    fn set(&mut self, bytes: usize) {
        match &mut self.exact {
            Some(exact) => *exact = bytes,
            None => self.bound = bytes,
        }
    }
}

/// Evaluates the group pipeline and every rule, suppression and scope of `mapping` for `event`,
/// reporting what happens to `observer`.
pub fn evaluate<'a>(
    mapping: &'a Mapping,
    event: &Event<'a>,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Outcome<'a>, ProcessError> {
    let v1 = event.shape() == Shape::V1;
    // Client-credentials tokens have no ID token (and no user, so no groups); V1 can change only
    // the ID token.
    let id_token = event.trigger_source() != CLIENT_CREDENTIALS;
    let access_token = !v1;
    let claims = mapping.claim_names.len();
    let plan = mapping
        .plans
        .select(event.client_id(), event.trigger_source());
    let limit = mapping.token_claim_bytes;
    let (mut id_bytes, mut access_bytes) = (TokenBytes::default(), TokenBytes::default());
    let mut out = Outcome {
        claim_names: &mapping.claim_names,
        values: Vec::with_capacity(plan.rules.len()),
        // Not `vec![None; n]`: a zeroed allocation is a `calloc`, which glibc serves past its
        // per-thread cache (measured: ~280 instructions more per event).
        slots: std::iter::repeat_n(None, 2 * claims).collect(),
        ..Outcome::default()
    };

    let mut group_override = None;
    if let Some(pipeline) = mapping.groups.as_ref().filter(|_| id_token) {
        let groups = pipeline.apply(event, |stage, groups| observer.group_stage(stage, groups));
        let size = name_size("cognito:groups") + serialized_size(&groups.groups);
        if size > limit {
            let reason = FailureReason::Refused(
                "the groups would exceed limits.token_claim_bytes; cap them with `max`",
            );
            fail(mapping, &mut out, RuleId::Groups, "cognito:groups", reason)?;
        } else {
            group_override = Some(groups);
        }
    }
    let groups = group_override.as_ref().map(|g| g.groups.as_slice());
    // The attributes the rules read, found once; on the stack for the usual few dozen.
    let names = &mapping.attribute_names;
    let (mut on_stack, mut on_heap) = ([None; 32], Vec::new());
    let attributes = if names.len() <= on_stack.len() {
        &mut on_stack[..names.len()]
    } else {
        on_heap.resize(names.len(), None);
        &mut on_heap[..]
    };
    event.find_attributes(names, attributes);
    let attributes = &*attributes;

    for rule in plan.rules.iter().map(|&i| &mapping.rules[i as usize]) {
        let to_id = rule.to_id && id_token;
        let to_access = rule.to_access && access_token;
        if !(to_id || to_access) {
            observer.rule(rule, &RuleOutcome::NoTargetToken);
            continue;
        }
        if let Some(when) = &rule.when
            && let Err(unmet) = when.check(event, groups)
        {
            observer.rule(rule, &RuleOutcome::ConditionFalse(unmet));
            continue;
        }
        match evaluate_rule(rule, event, attributes, today, to_id, to_access) {
            Ok(None) => observer.rule(rule, &RuleOutcome::SourceMissing),
            Ok(Some(mut value)) => {
                // V1 claims are strings.
                if v1 && !value.is_string() {
                    value = Cow::Owned(Value::String(text_of(&value)));
                }
                let id_after = to_id.then(|| id_bytes.after(&out, Token::Id, rule, &value, limit));
                let access_after =
                    to_access.then(|| access_bytes.after(&out, Token::Access, rule, &value, limit));
                if id_after == Some(None) || access_after == Some(None) {
                    let reason = FailureReason::Refused(
                        "the token's added claims would exceed limits.token_claim_bytes",
                    );
                    observer.rule(rule, &RuleOutcome::Failed(reason.clone()));
                    fail(mapping, &mut out, rule.id.clone(), &rule.claim, reason)?;
                    continue;
                }
                observer.rule(rule, &RuleOutcome::Applied);
                out.applied += 1;
                // MAX_RULES bounds the count far below u32::MAX.
                let index = Some(out.values.len() as u32);
                out.values.push(value);
                let slot = rule.claim_slot as usize;
                if let Some(Some(bytes)) = id_after {
                    id_bytes.set(bytes);
                    out.slots[slot] = index;
                }
                if let Some(Some(bytes)) = access_after {
                    access_bytes.set(bytes);
                    out.slots[claims + slot] = index;
                }
            }
            Err(reason) => {
                observer.rule(rule, &RuleOutcome::Failed(reason.clone()));
                fail(mapping, &mut out, rule.id.clone(), &rule.claim, reason)?;
            }
        }
    }

    if id_token {
        out.suppress_id = &mapping.suppress_id;
    }
    if access_token {
        out.suppress_access = &mapping.suppress_access;
        for scope in &mapping.scopes_add {
            let holds = scope
                .when
                .as_ref()
                .is_none_or(|w| w.check(event, groups).is_ok());
            if holds && !out.scopes_add.contains(&&*scope.scope) {
                out.scopes_add.push(&scope.scope);
            }
        }
        out.scopes_suppress = &mapping.scopes_suppress;
    }
    out.groups = group_override;
    Ok(out)
}

/// A rule failed: skipped with a warning, or (`on_error: fail`) the invocation's error.
fn fail(
    mapping: &Mapping,
    out: &mut Outcome<'_>,
    rule: RuleId,
    claim: &str,
    reason: FailureReason,
) -> Result<(), ProcessError> {
    let failure = RuleFailure {
        rule,
        claim: claim.to_owned(),
        reason,
    };
    match mapping.on_error {
        OnError::Skip => {
            out.skipped.push(failure);
            Ok(())
        }
        OnError::Fail => Err(ProcessError::Rule(failure)),
    }
}

/// The rule's final value, `None` when its source is missing and it is optional.
fn evaluate_rule<'a>(
    rule: &'a Rule,
    event: &Event<'a>,
    attributes: &Attributes<'a>,
    today: Date,
    to_id: bool,
    to_access: bool,
) -> Result<Option<Cow<'a, Value>>, FailureReason> {
    let value = match rule.source.resolve(event, attributes) {
        Some(mut value) => {
            for transform in &rule.transforms {
                transform
                    .apply(&mut value, today)
                    .map_err(FailureReason::Transform)?;
            }
            value
        }
        None => match &rule.default {
            Some(default) => Cow::Borrowed(default),
            None if rule.required => return Err(FailureReason::Missing),
            None => return Ok(None),
        },
    };
    for (token, wanted) in [(Token::Id, to_id), (Token::Access, to_access)] {
        if wanted && let Some(reason) = cognito::value_restriction(&rule.claim, token, &value) {
            return Err(FailureReason::Refused(reason));
        }
    }
    if to_access && rule.claim == "aud" {
        match (value.as_str(), event.client_id()) {
            (Some(aud), Some(client)) if aud == client => {}
            _ => return Err(FailureReason::Refused("`aud` must equal the app client id")),
        }
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn bounds_are_upper_bounds() {
        for value in [
            json!(-2.2250738585072014e-308),
            json!(-1.7976931348623157e308),
            json!(i64::MIN),
            json!(u64::MAX),
            json!("a\"\\\u{1}é"),
            json!(["\u{0}", 1.5, [true, null], {"k\"": [false]}]),
            json!({"": {}, "a": [], "\n": "\t"}),
        ] {
            let written = serde_json::to_string(&value).unwrap().len();
            assert!(size_bound(&value) >= written, "{value}");
            assert_eq!(value_size(&value), written, "{value}");
        }
    }

    proptest! {
        /// The shortcut for plain strings counts exactly what serde_json writes.
        #[test]
        fn claim_sizes_are_exact(name in "\\PC{0,12}|[\\x00-\\x7f]{0,12}", text in "\\PC{0,40}|[\\x00-\\x7f]{0,40}") {
            let value = Value::String(text);
            let name_json = serde_json::to_string(&name).unwrap();
            let written = format!("{name_json}:{},", serde_json::to_string(&value).unwrap());
            prop_assert_eq!(claim_size(&name, &value), written.len());
            for value in [json!(true), json!(false), Value::Null, json!(-12.5), json!(["a", 1])] {
                let written = format!("{name_json}:{value},");
                prop_assert_eq!(claim_size(&name, &value), written.len());
            }
        }
    }
}
