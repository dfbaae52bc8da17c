//! What a rule or step is called in logs, explanations and error messages.

use std::fmt;
use std::sync::Arc;

/// What a rule or step is called in logs, explanations and error messages (`rule 3`,
/// `rule clients.web.1`, `rule groups`); `Display` gives the part after `rule `.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// A rule of `claims:`, by 1-based position: `rule 3`.
    Base(usize),
    /// A rule of an overlay, by 1-based position in its `claims:`: `rule clients.web.1`.
    Overlay(Overlay, usize),
    /// The group pipeline.
    Groups,
}

/// An overlay of the mapping, as its key names it (`clients.<id>`, `triggers.<source>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Overlay {
    /// `clients.<app client id>`.
    Client(Arc<str>),
    /// `triggers.<trigger source>`.
    Trigger(Arc<str>),
}

impl Overlay {
    /// The app client a client overlay is for.
    pub fn client(&self) -> Option<&str> {
        match self {
            Overlay::Client(id) => Some(id),
            Overlay::Trigger(_) => None,
        }
    }

    /// The overlay a field path starts with (`clients.web.claims[0]`), if it starts with one.
    pub(crate) fn of_path(path: &str) -> Option<Overlay> {
        let (kind, rest) = path.split_once('.')?;
        let name = rest.split(".claims[").next().filter(|n| !n.is_empty())?;
        match kind {
            "clients" => Some(Overlay::Client(Arc::from(name))),
            "triggers" => Some(Overlay::Trigger(Arc::from(name))),
            _ => None,
        }
    }
}

impl fmt::Display for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Overlay::Client(id) => write!(f, "clients.{id}"),
            Overlay::Trigger(source) => write!(f, "triggers.{source}"),
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleId::Base(n) => write!(f, "{n}"),
            RuleId::Overlay(overlay, n) => write!(f, "{overlay}.{n}"),
            RuleId::Groups => write!(f, "groups"),
        }
    }
}
