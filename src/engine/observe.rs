//! What an observer of the per-event path sees: each rule's outcome and each group step, for
//! debug logs and `explain`.

use std::fmt;

use super::condition::Unmet;
use super::failure::FailureReason;
use super::groups::Stage;
use crate::mapping::Rule;

/// Receives what happens while a mapping is applied, for debug logs and `explain`. Every method
/// does nothing unless overridden.
pub trait Observer {
    /// A rule's outcome.
    fn rule(&mut self, _rule: &Rule, _outcome: &RuleOutcome<'_>) {}
    /// The groups after one step of the group pipeline.
    fn group_stage(&mut self, _stage: Stage, _groups: &[String]) {}
    /// Whether `scopes.add[index]` holds for the event: `None`, or the condition that did not.
    /// Called only for events whose access token the trigger changes.
    fn scope_add(&mut self, _index: usize, _unmet: Option<Unmet<'_>>) {}
}

/// Observes nothing.
impl Observer for () {}

/// What became of one rule for one event (for debug logs and explanations; never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome<'m> {
    /// The claim was added.
    Applied,
    /// The rule targets no token this event can change (e.g. access-only on V1, ID-only on
    /// client credentials).
    NoTargetToken,
    /// A `when:` condition did not hold.
    ConditionFalse(Unmet<'m>),
    /// The source was missing and the rule is optional.
    SourceMissing,
    /// The rule failed (skipped under `on_error: skip`).
    Failed(FailureReason),
}

impl fmt::Display for RuleOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOutcome::Applied => write!(f, "applied"),
            RuleOutcome::NoTargetToken => write!(f, "skipped: no target token in this event"),
            RuleOutcome::ConditionFalse(Unmet::NoUser(key)) => write!(
                f,
                "skipped: condition `{key}` is false: a client-credentials event has no user"
            ),
            RuleOutcome::ConditionFalse(unmet) => {
                write!(f, "skipped: condition `{}` is false", unmet.key())
            }
            RuleOutcome::SourceMissing => write!(f, "skipped: source missing"),
            RuleOutcome::Failed(reason) => write!(f, "failed: {reason}"),
        }
    }
}
