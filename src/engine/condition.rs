//! Checking `when:` conditions against an event.

use super::event::Event;
use crate::mapping::condition::Condition;

/// The first condition of a `when:` that did not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet {
    /// Not in any of the listed groups.
    Groups,
    /// Not one of the listed clients.
    Clients,
    /// Not one of the listed trigger sources.
    Triggers,
}

impl Unmet {
    /// The `when:` key that did not hold.
    pub fn key(self) -> &'static str {
        match self {
            Unmet::Groups => "groups",
            Unmet::Clients => "clients",
            Unmet::Triggers => "triggers",
        }
    }
}

impl Condition {
    /// `Ok` when every listed condition holds for `event`, else the first that does not.
    /// `groups` are the user's groups after the mapping's group pipeline, when it has one;
    /// otherwise the event's. Cheap checks (trigger, client) run before the group scan.
    pub fn check(&self, event: &Event, groups: Option<&[String]>) -> Result<(), Unmet> {
        if let Some(triggers) = &self.triggers {
            let source = event.trigger_source();
            if !triggers.iter().any(|t| t == source) {
                return Err(Unmet::Triggers);
            }
        }
        if let Some(clients) = &self.clients {
            let client = event.client_id().unwrap_or_default();
            if !clients.iter().any(|c| c == client) {
                return Err(Unmet::Clients);
            }
        }
        if let Some(wanted) = &self.groups {
            let member = match groups {
                Some(groups) => groups.iter().any(|g| wanted.contains(g)),
                None => event.groups().any(|g| wanted.iter().any(|w| w == g)),
            };
            if !member {
                return Err(Unmet::Groups);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_listed_conditions_must_hold() {
        let e = json!({
            "version": "2",
            "triggerSource": "TokenGeneration_Authentication",
            "callerContext": {"clientId": "c1"},
            "request": {"groupConfiguration": {"groupsToOverride": ["admins"]}}
        });
        let event = Event::new(&e).unwrap();
        let list = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect());
        let mut c = Condition {
            groups: list(&["admins", "x"]),
            clients: list(&["c1"]),
            triggers: None,
        };
        assert_eq!(c.check(&event, None), Ok(()));
        c.triggers = list(&["TokenGeneration_RefreshTokens"]);
        assert_eq!(c.check(&event, None), Err(Unmet::Triggers));
        c.triggers = None;
        c.clients = list(&["c2"]);
        assert_eq!(c.check(&event, None), Err(Unmet::Clients));
        c.clients = None;
        c.groups = list(&["billing"]);
        assert_eq!(c.check(&event, None), Err(Unmet::Groups));
        // After a group pipeline, its groups count, not the event's.
        let piped = ["billing".to_string()];
        assert_eq!(c.check(&event, Some(&piped)), Ok(()));
        c.groups = list(&["admins"]);
        assert_eq!(c.check(&event, Some(&piped)), Err(Unmet::Groups));
    }
}
