//! What a rule or step is called in logs, explanations and error messages.

use std::fmt;
use std::sync::Arc;

/// What a rule or step is called in logs, explanations and error messages (`rule 3`,
/// `rule clients.web.1`, `rule groups`); `Display` gives the part after `rule `.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// A rule of `claims:`, by 1-based position: `rule 3`.
    Base(usize),
    /// A rule of an overlay (`clients.<id>` or `triggers.<source>`), by 1-based position in its
    /// `claims:`: `rule clients.web.1`.
    Overlay(Arc<str>, usize),
    /// The group pipeline.
    Groups,
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleId::Base(n) => write!(f, "{n}"),
            RuleId::Overlay(key, n) => write!(f, "{key}.{n}"),
            RuleId::Groups => write!(f, "groups"),
        }
    }
}
