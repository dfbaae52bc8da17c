//! Why a rule or an invocation failed. Nothing here carries an attribute or claim value: these
//! texts reach logs, and [`ApplyError`]'s reaches end users.

use std::fmt;

use super::event::EventError;
use super::items::LookupFailure;
use super::transform::TransformError;
use crate::mapping::{OnError, RuleId};

/// Why a rule failed at runtime. Carries no attribute or claim value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// A `required: true` rule found no source.
    Missing,
    /// A transform could not handle the value.
    Transform(TransformError),
    /// Cognito would refuse the value.
    Refused(&'static str),
    /// A lookup the rule reads gave no answer.
    Lookup {
        /// The lookup's name.
        lookup: String,
        /// Why.
        failure: LookupFailure,
        /// The lookup's own `on_error`, which decides over the mapping's.
        on_error: Option<OnError>,
    },
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Missing => write!(f, "required source is missing"),
            FailureReason::Transform(e) => write!(f, "{e}"),
            FailureReason::Refused(r) => write!(f, "value refused: {r}"),
            FailureReason::Lookup {
                lookup, failure, ..
            } => write!(f, "lookup `{lookup}`: {failure}"),
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

/// Why [`super::apply`] refused an event. The `Display` text reaches end users through Cognito (the
/// sign-in is refused), so it names the rule number or the malformed part of the event and
/// nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
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
