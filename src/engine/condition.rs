//! Checking `when:` conditions against an event.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashSet;

use serde_json::Value;

use super::event::Event;
use super::source::Inputs;
use crate::cognito::CLIENT_CREDENTIALS;
use crate::mapping::MAX_REGEX_INPUT_BYTES;
use crate::mapping::condition::{Condition, ValueCondition, ValueTest};

/// Group lists up to this long are searched in place (the usual handful); a longer one is hashed
/// once per event, the first time a `when.groups` reads it, so that many rules over many groups
/// cost linear time, not their product.
const SEARCHED_IN_PLACE: usize = 32;

/// The user's groups as `when.groups` reads them: the group pipeline's result when the mapping
/// has one, else the event's.
pub(crate) struct Held<'e, 'a> {
    event: &'e Event<'a>,
    pipeline: Option<&'a [String]>,
    hashed: OnceCell<HashSet<&'a str>>,
}

impl<'e, 'a> Held<'e, 'a> {
    pub(crate) fn new(event: &'e Event<'a>, pipeline: Option<&'a [String]>) -> Held<'e, 'a> {
        Held {
            event,
            pipeline,
            hashed: OnceCell::new(),
        }
    }

    /// Whether the user is in any of `wanted`.
    fn any_of(&self, wanted: &[String]) -> bool {
        let count = self
            .pipeline
            .map_or_else(|| self.event.group_count(), <[String]>::len);
        if count <= SEARCHED_IN_PLACE {
            return match self.pipeline {
                Some(groups) => groups.iter().any(|g| wanted.contains(g)),
                None => self.event.groups().any(|g| wanted.iter().any(|w| w == g)),
            };
        }
        let hashed = self.hashed.get_or_init(|| match self.pipeline {
            Some(groups) => groups.iter().map(String::as_str).collect(),
            None => self.event.groups().collect(),
        });
        wanted.iter().any(|w| hashed.contains(w.as_str()))
    }
}

/// The first condition of a `when:` that did not hold, borrowed from the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet<'m> {
    /// Not in any of the listed groups.
    Groups,
    /// Not one of the listed clients.
    Clients,
    /// Not one of the listed trigger sources.
    Triggers,
    /// A value condition, by its key (`attributes.custom:tier`): the key only, never the value.
    Value(&'m str),
    /// A value condition on a user attribute, and the event has no user (client credentials).
    NoUser(&'m str),
}

impl<'m> Unmet<'m> {
    /// The `when:` key that did not hold.
    pub fn key(self) -> &'m str {
        match self {
            Unmet::Groups => "groups",
            Unmet::Clients => "clients",
            Unmet::Triggers => "triggers",
            Unmet::Value(key) | Unmet::NoUser(key) => key,
        }
    }
}

impl Condition {
    /// `Ok` when every listed condition holds for `event`, else the first that does not.
    /// `inputs` are the event's attributes the mapping reads; `groups` are the user's groups
    /// after the mapping's group pipeline, when it has one, otherwise the event's. Cheap checks
    /// (trigger, client, values) run before the group scan.
    pub(crate) fn check<'m>(
        &'m self,
        event: &Event,
        inputs: &Inputs,
        groups: &Held<'_, '_>,
    ) -> Result<(), Unmet<'m>> {
        // Every field, by name: a new kind of condition does not compile until it is checked.
        let Condition {
            groups: wanted_groups,
            clients,
            triggers,
            values,
        } = self;
        if let Some(triggers) = triggers {
            let source = event.trigger_source();
            if !triggers.iter().any(|t| t == source) {
                return Err(Unmet::Triggers);
            }
        }
        if let Some(clients) = clients {
            let client = event.client_id().unwrap_or_default();
            if !clients.iter().any(|c| c == client) {
                return Err(Unmet::Clients);
            }
        }
        // An event without a user has no attributes: a condition on one says nothing about the
        // caller, so it does not hold, whatever it tests (`{present: false}` included).
        let no_user = event.trigger_source() == CLIENT_CREDENTIALS;
        for value in values {
            if no_user && value.reads_user {
                return Err(Unmet::NoUser(&value.key));
            }
            if !value.holds(event, inputs) {
                return Err(Unmet::Value(&value.key));
            }
        }
        if let Some(wanted) = wanted_groups
            && !groups.any_of(wanted)
        {
            return Err(Unmet::Groups);
        }
        Ok(())
    }
}

impl ValueCondition {
    /// Whether the value this condition reads passes its test (see [`ValueTest`]).
    fn holds(&self, event: &Event, inputs: &Inputs) -> bool {
        let found = self.lookup.find(event, inputs);
        // A multi-node JSONPath match over the value cap is not looked through: nothing holds.
        let Ok(found) = found else {
            return false;
        };
        self.test.holds(found.as_deref())
    }
}

impl ValueTest {
    /// Whether `value` (`None` when absent) passes the test: a list when one of its items does.
    fn holds(&self, value: Option<&Value>) -> bool {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return matches!(self, ValueTest::Present(false));
        };
        match (self, value) {
            (ValueTest::Present(present), _) => *present,
            (_, Value::Array(items)) => items.iter().any(|item| self.passes(item)),
            (_, one) => self.passes(one),
        }
    }

    /// Whether one value that is there equals or matches: strings as they are, numbers and
    /// booleans as their JSON text; lists and objects never.
    fn passes(&self, value: &Value) -> bool {
        let text = match value {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            Value::Number(n) => Cow::Owned(n.to_string()),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            _ => return false,
        };
        match self {
            ValueTest::Present(present) => *present,
            ValueTest::OneOf(texts) => texts.iter().any(|t| *t == text),
            // A regex's cost grows with the text it reads; the cap bounds the text.
            ValueTest::Matches(regex) => {
                text.len() <= MAX_REGEX_INPUT_BYTES && regex.is_match(&text)
            }
        }
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
            values: Vec::new(),
        };
        let none = Held::new(&event, None);
        assert_eq!(c.check(&event, &Inputs::empty(), &none), Ok(()));
        c.triggers = list(&["TokenGeneration_RefreshTokens"]);
        assert_eq!(
            c.check(&event, &Inputs::empty(), &none),
            Err(Unmet::Triggers)
        );
        c.triggers = None;
        c.clients = list(&["c2"]);
        assert_eq!(
            c.check(&event, &Inputs::empty(), &none),
            Err(Unmet::Clients)
        );
        c.clients = None;
        c.groups = list(&["billing"]);
        assert_eq!(c.check(&event, &Inputs::empty(), &none), Err(Unmet::Groups));
        // After a group pipeline, its groups count, not the event's.
        let piped = ["billing".to_string()];
        let piped = Held::new(&event, Some(&piped));
        assert_eq!(c.check(&event, &Inputs::empty(), &piped), Ok(()));
        c.groups = list(&["admins"]);
        assert_eq!(
            c.check(&event, &Inputs::empty(), &piped),
            Err(Unmet::Groups)
        );
    }

    #[test]
    fn value_tests_read_text_and_a_value_over_the_regex_input_cap_never_matches_a_regex() {
        let regex = ValueTest::Matches(regex::Regex::new("a").unwrap());
        assert!(regex.holds(Some(&json!("xa"))));
        let long = "a".repeat(MAX_REGEX_INPUT_BYTES + 1);
        assert!(regex.holds(Some(&json!(&long[1..]))));
        assert!(!regex.holds(Some(&json!(long))));
        let one_of = ValueTest::OneOf(vec!["12".into(), "true".into()]);
        assert!(one_of.holds(Some(&json!(12))) && one_of.holds(Some(&json!(true))));
        assert!(!one_of.holds(None));
        assert!(ValueTest::Present(false).holds(Some(&Value::Null)));
        assert!(ValueTest::Present(true).holds(Some(&json!({}))));
        // A list passes when one of its items does (a path matching several nodes finds one);
        // nested lists and objects never do.
        assert!(one_of.holds(Some(&json!(["x", "12"]))));
        assert!(!one_of.holds(Some(&json!(["x", ["12"], {"a": "12"}]))));
        assert!(regex.holds(Some(&json!(["b", "xa"]))));
        assert!(!ValueTest::Present(false).holds(Some(&json!(["x"]))));
    }

    #[test]
    fn long_group_lists_are_hashed_with_the_same_answers() {
        let groups: Vec<String> = (0..1000).map(|i| format!("g{i}")).collect();
        let e = json!({"version": "2", "request": {"groupConfiguration": {"groupsToOverride": groups}}});
        let event = Event::new(&e).unwrap();
        let wanted = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for held in [Held::new(&event, None), Held::new(&event, Some(&groups))] {
            assert!(held.any_of(&wanted(&["nope", "g999"])));
            assert!(!held.any_of(&wanted(&["nope", "g1000"])));
            assert!(held.hashed.get().is_some());
        }
        let few = Held::new(&event, Some(&groups[..3]));
        assert!(few.any_of(&wanted(&["g2"])) && !few.any_of(&wanted(&["g3"])));
        assert!(few.hashed.get().is_none());
    }
}
