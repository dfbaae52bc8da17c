//! Evaluating a compiled mapping for one event: the group pipeline, then each rule of the
//! event's plan (condition, source, transforms, value checks, size guard), suppressions and
//! scopes, into an [`Outcome`]. This is the per-event path: it reads the mapping and never
//! parses it.

use std::borrow::Cow;

use serde_json::Value;
use time::Date;

use super::condition::Held;
use super::event::{Event, Shape};
use super::failure::{ApplyError, FailureReason, RuleFailure};
use super::items::Items;
use super::note::Note;
use super::observe::{Observer, RuleOutcome};
use super::outcome::Outcome;
use super::size_guard::{TokenBytes, within_value_cap};
use super::source::{Inputs, Unreadable};
use super::transform::text_of;
use crate::claim_size::{name_size, serialized_size};
use crate::cognito::{self, CLIENT_CREDENTIALS, Token};
use crate::mapping::{Mapping, OVER_VALUE_CAP, OnError, Rule, RuleId};

/// Evaluates the group pipeline and every rule, suppression and scope of `mapping` for `event`,
/// reporting what happens to `observer`. [`super::apply`] writes the result into the reply.
pub fn evaluate<'a>(
    mapping: &'a Mapping,
    event: &Event<'a>,
    items: &'a Items,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<Outcome<'a>, ApplyError> {
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
        slots: vec![None; 2 * claims],
        ..Outcome::default()
    };

    let source = event.trigger_source();
    if !cognito::TRIGGER_SOURCES.contains(&source) {
        out.notes.push(Note::UnknownTriggerSource(
            source.chars().take(64).collect(),
        ));
    }
    if let Some(version) = event.unknown_version() {
        out.notes
            .push(Note::AnsweredAsVersion1(version.chars().take(40).collect()));
    }
    // The pipeline's groups, and whether they fit the token to be written as its override.
    let (mut piped, mut fits) = (None, false);
    let pipeline = mapping.groups.as_ref().filter(|_| id_token);
    if pipeline.is_some() && event.groups_unreadable() {
        out.notes.push(Note::GroupsUnreadable);
    }
    if let Some(pipeline) = pipeline.filter(|_| !event.groups_unreadable()) {
        let groups = pipeline.run(event, |stage, groups| observer.group_stage(stage, groups));
        let size = name_size("cognito:groups") + serialized_size(&groups.groups);
        fits = size <= limit;
        if fits {
            // Cognito writes the overridden groups into both tokens' `cognito:groups`: they count
            // with the claims added there.
            id_bytes = TokenBytes::starting_at(size);
            if access_token {
                access_bytes = TokenBytes::starting_at(size);
            }
        } else {
            let reason = FailureReason::Refused(
                "the groups would exceed limits.token_claim_bytes; cap them with `max`",
            );
            fail(mapping, &mut out, RuleId::Groups, "cognito:groups", reason)?;
        }
        piped = Some(groups);
    }
    // `when.groups` reads the pipeline's groups even when they are not written (too large): a
    // group the pipeline drops or renames must not grant what it names.
    let groups = Held::new(event, piped.as_ref().map(|g| g.groups.as_slice()));
    // The attributes the rules read, found once: rules read them by their index here.
    let inputs = Inputs::new(mapping, event, items);

    for rule in plan.rules.iter().map(|&i| &mapping.rules[i as usize]) {
        let to_id = rule.to_id && id_token;
        let to_access = rule.to_access && access_token;
        if !(to_id || to_access) {
            observer.rule(rule, &RuleOutcome::NoTargetToken);
            continue;
        }
        if let Some(when) = &rule.when
            && let Err(unmet) = when.check(event, &inputs, &groups)
        {
            observer.rule(rule, &RuleOutcome::ConditionFalse(unmet));
            continue;
        }
        match evaluate_rule(mapping, rule, event, &inputs, today, to_id, to_access) {
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
        for (index, scope) in mapping.scopes_add.iter().enumerate() {
            let unmet = scope
                .when
                .as_ref()
                .and_then(|w| w.check(event, &inputs, &groups).err());
            observer.scope_add(index, unmet);
            if unmet.is_none() && !out.scopes_add.contains(&&*scope.scope) {
                out.scopes_add.push(&scope.scope);
            }
        }
        out.scopes_suppress = &mapping.scopes_suppress;
    }
    out.groups = piped.filter(|_| fits);
    Ok(out)
}

/// A rule failed: skipped with a warning, or (`on_error: fail`) the invocation's error.
fn fail(
    mapping: &Mapping,
    out: &mut Outcome<'_>,
    rule: RuleId,
    claim: &str,
    reason: FailureReason,
) -> Result<(), ApplyError> {
    let failure = RuleFailure {
        rule,
        claim: claim.to_owned(),
        reason,
    };
    let on_error = match &failure.reason {
        FailureReason::Lookup {
            on_error: Some(own),
            ..
        } => *own,
        _ => mapping.on_error,
    };
    match on_error {
        OnError::Skip => {
            out.skipped.push(failure);
            Ok(())
        }
        OnError::Fail => Err(ApplyError::Rule(failure)),
    }
}

/// The rule's final value, `None` when its source is missing and it is optional.
fn evaluate_rule<'a>(
    mapping: &Mapping,
    rule: &'a Rule,
    event: &Event<'a>,
    inputs: &Inputs<'a>,
    today: Date,
    to_id: bool,
    to_access: bool,
) -> Result<Option<Cow<'a, Value>>, FailureReason> {
    // Every value a rule works on stays within MAX_VALUE_BYTES, whatever the event holds: what a
    // rule costs per event is bounded by the mapping alone.
    let too_large = || FailureReason::Refused(OVER_VALUE_CAP);
    let value = match rule.source.resolve(event, inputs) {
        Err(Unreadable::TooLarge) => return Err(too_large()),
        Err(Unreadable::Lookup(index, failure)) => {
            let lookup = &mapping.lookups[index as usize];
            return Err(FailureReason::Lookup {
                lookup: lookup.name.clone(),
                failure,
                on_error: lookup.on_error,
            });
        }
        Ok(Some(mut value)) => {
            if !within_value_cap(&value) {
                return Err(too_large());
            }
            for transform in &rule.transforms {
                transform
                    .run(&mut value, today)
                    .map_err(FailureReason::Transform)?;
                if !within_value_cap(&value) {
                    return Err(too_large());
                }
            }
            value
        }
        Ok(None) => match &rule.default {
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
