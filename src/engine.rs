//! Applying a compiled mapping to one event: conditions, sources, transforms, value checks,
//! suppressions and scopes. This is the per-event path: it reads the mapping and never parses it.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;

use crate::cognito::{self, CLIENT_CREDENTIALS, Token};
use crate::condition::Unmet;
use crate::event::{Event, EventError, Shape};
use crate::groups::{GroupOverride, Stage};
use crate::mapping::{Mapping, OnError, Rule, RuleId};
use crate::response;
use crate::transform::{TransformError, text_of};

/// The claims and suppressions a mapping produced for one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenChanges {
    /// `claimsToAddOrOverride`.
    pub add: Map<String, Value>,
    /// `claimsToSuppress`.
    pub suppress: Vec<String>,
}

/// Everything a mapping produced for one event, before it is written into the response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// ID-token changes.
    pub id: TokenChanges,
    /// Access-token changes (V2/V3 only).
    pub access: TokenChanges,
    /// `scopesToAdd` (V2/V3 only).
    pub scopes_add: Vec<String>,
    /// `scopesToSuppress` (V2/V3 only).
    pub scopes_suppress: Vec<String>,
    /// `groupOverrideDetails`, when the mapping has a group pipeline.
    pub groups: Option<GroupOverride>,
    /// Rules that failed and were skipped (`on_error: skip`).
    pub skipped: Vec<RuleFailure>,
    /// Number of rules whose claim was added.
    pub applied: usize,
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

/// Applies `mapping` to `event` as of `today` and returns the event with its response filled in.
/// The Lambda handler and the dry-run both call this.
pub fn process(mapping: &Mapping, event: Value, today: Date) -> Result<Processed, ProcessError> {
    process_observed(mapping, event, today, &mut ())
}

/// [`process`], reporting what happens to `observer`.
pub fn process_observed(
    mapping: &Mapping,
    mut event: Value,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Processed, ProcessError> {
    let (shape, mut outcome) = {
        let view = Event::new(&event)?;
        (view.shape(), evaluate(mapping, &view, today, observer)?)
    };
    let skipped = std::mem::take(&mut outcome.skipped);
    let applied = outcome.applied;
    response::write(&mut event, shape, outcome);
    Ok(Processed {
        event,
        shape,
        skipped,
        applied,
    })
}

/// The JSON bytes a claim takes in `claimsToAddOrOverride`: `"name":value,`.
pub fn claim_size(name: &str, value: &impl Serialize) -> usize {
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
    let mut count = Count(2);
    // Writing to a counter cannot fail, and claim values (JSON values, strings) always serialise.
    let _ = serde_json::to_writer(&mut count, name);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The JSON bytes of claims added to one token so far, against the mapping's limit.
struct TokenBytes {
    used: usize,
}

impl TokenBytes {
    /// The bytes used after setting `claim` (of `size` bytes) in `claims`, replacing any earlier
    /// value.
    fn after(&self, claims: &Map<String, Value>, claim: &str, size: usize) -> usize {
        let replaced = claims.get(claim).map_or(0, |old| claim_size(claim, old));
        self.used - replaced + size
    }
}

/// Evaluates the group pipeline and every rule, suppression and scope of `mapping` for `event`,
/// reporting what happens to `observer`.
pub fn evaluate(
    mapping: &Mapping,
    event: &Event,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Outcome, ProcessError> {
    let v1 = event.shape() == Shape::V1;
    // Client-credentials tokens have no ID token (and no user, so no groups); V1 can change only
    // the ID token.
    let id_token = event.trigger_source() != CLIENT_CREDENTIALS;
    let access_token = !v1;
    let mut out = Outcome::default();
    let (mut id_bytes, mut access_bytes) = (TokenBytes { used: 0 }, TokenBytes { used: 0 });

    let mut group_override = None;
    if let Some(pipeline) = mapping.groups.as_ref().filter(|_| id_token) {
        let groups = pipeline.apply(event, |stage, groups| observer.group_stage(stage, groups));
        if claim_size("cognito:groups", &groups.groups) > mapping.token_claim_bytes {
            let reason = FailureReason::Refused(
                "the groups would exceed limits.token_claim_bytes; cap them with `max`",
            );
            fail(mapping, &mut out, RuleId::Groups, "cognito:groups", reason)?;
        } else {
            group_override = Some(groups);
        }
    }
    let groups = group_override.as_ref().map(|g| g.groups.as_slice());

    let plan = mapping
        .plans
        .select(event.client_id(), event.trigger_source());
    for rule in plan.rules.iter().map(|&i| &mapping.rules[i as usize]) {
        let to_id = rule.to_id && id_token;
        let to_access = rule.to_access && access_token;
        if !(to_id || to_access) {
            observer.rule(rule, &RuleOutcome::NoTargetToken);
            continue;
        }
        if let Err(unmet) = rule.when.check(event, groups) {
            observer.rule(rule, &RuleOutcome::ConditionFalse(unmet));
            continue;
        }
        match evaluate_rule(rule, event, today, to_id, to_access) {
            Ok(None) => observer.rule(rule, &RuleOutcome::SourceMissing),
            Ok(Some(value)) => {
                let value = if v1 {
                    Value::String(text_of(&value))
                } else {
                    value
                };
                let size = claim_size(&rule.claim, &value);
                let id_after = to_id.then(|| id_bytes.after(&out.id.add, &rule.claim, size));
                let access_after =
                    to_access.then(|| access_bytes.after(&out.access.add, &rule.claim, size));
                if id_after
                    .max(access_after)
                    .is_some_and(|b| b > mapping.token_claim_bytes)
                {
                    let reason = FailureReason::Refused(
                        "the token's added claims would exceed limits.token_claim_bytes",
                    );
                    observer.rule(rule, &RuleOutcome::Failed(reason.clone()));
                    fail(mapping, &mut out, rule.id.clone(), &rule.claim, reason)?;
                    continue;
                }
                observer.rule(rule, &RuleOutcome::Applied);
                out.applied += 1;
                id_bytes.used = id_after.unwrap_or(id_bytes.used);
                access_bytes.used = access_after.unwrap_or(access_bytes.used);
                match (to_id, to_access) {
                    (true, true) => {
                        out.access.add.insert(rule.claim.clone(), value.clone());
                        out.id.add.insert(rule.claim.clone(), value);
                    }
                    (true, false) => {
                        out.id.add.insert(rule.claim.clone(), value);
                    }
                    _ => {
                        out.access.add.insert(rule.claim.clone(), value);
                    }
                }
            }
            Err(reason) => {
                observer.rule(rule, &RuleOutcome::Failed(reason.clone()));
                fail(mapping, &mut out, rule.id.clone(), &rule.claim, reason)?;
            }
        }
    }

    if id_token {
        out.id.suppress.clone_from(&mapping.suppress_id);
    }
    if access_token {
        out.access.suppress.clone_from(&mapping.suppress_access);
        for scope in &mapping.scopes_add {
            if scope.when.check(event, groups).is_ok() && !out.scopes_add.contains(&scope.scope) {
                out.scopes_add.push(scope.scope.clone());
            }
        }
        out.scopes_suppress.clone_from(&mapping.scopes_suppress);
    }
    out.groups = group_override;
    Ok(out)
}

/// A rule failed: skipped with a warning, or (`on_error: fail`) the invocation's error.
fn fail(
    mapping: &Mapping,
    out: &mut Outcome,
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
fn evaluate_rule(
    rule: &Rule,
    event: &Event,
    today: Date,
    to_id: bool,
    to_access: bool,
) -> Result<Option<Value>, FailureReason> {
    let value = match rule.source.resolve(event) {
        Some(mut value) => {
            for transform in &rule.transforms {
                value = transform
                    .apply(value, today)
                    .map_err(FailureReason::Transform)?;
            }
            value
        }
        None => match &rule.default {
            Some(default) => default.clone(),
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
