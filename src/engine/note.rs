//! What the engine did differently from what the event asked for, because the event could not be
//! read as asked: reported beside the skipped rules (`dry-run` warnings, a log line per
//! invocation), never holding a value of the user's.

use std::fmt;

/// Something about an event the engine worked around rather than refusing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `version` is not one Cognito sends (`"$LATEST"` from LocalStack) and the event has no
    /// response key to go by: answered in the version 1 shape, which every trigger version
    /// accepts for ID-token claims. Holds the version as sent (at most 40 characters).
    AnsweredAsVersion1(String),
    /// `request.groupConfiguration` (or its `groupsToOverride`) is not what Cognito sends: the
    /// group pipeline did not run, and the groups are left as Cognito has them (an empty
    /// override would clear them).
    GroupsUnreadable,
    /// `triggerSource` is not one of those Cognito documents for this trigger (a token operation
    /// newer than this build, or an emulator's): the rules and overlays limited to trigger
    /// sources (`triggers:`) did not apply, the others did. Holds the source as sent (at most 64
    /// characters).
    UnknownTriggerSource(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::AnsweredAsVersion1(version) => write!(
                f,
                "event version {version} is not one Cognito sends and the event has no response \
                 key to go by: answered in the version 1 shape (ID-token claims only)"
            ),
            Note::GroupsUnreadable => write!(
                f,
                "request.groupConfiguration is not an object with a groupsToOverride list: the \
                 group pipeline did not run, the groups are left as Cognito has them"
            ),
            Note::UnknownTriggerSource(source) => write!(
                f,
                "trigger source `{source}` is not one Cognito documents for this trigger: rules \
                 and overlays limited to trigger sources (`triggers:`) did not apply, the others did"
            ),
        }
    }
}
