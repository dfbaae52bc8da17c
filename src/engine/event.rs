//! A lenient, borrowed view of a Pre Token Generation event.
//!
//! The event stays a `serde_json::Value` from input to output: unknown fields come back exactly as
//! they arrived, nothing is cloned, and JSONPath sources query the event as Cognito sent it. This
//! view reads the few fields the engine needs and tolerates what real events do (null or absent
//! `groupConfiguration`, `userAttributes`, `scopes`, ...). The Cognito Developer Guide asks for
//! exactly this leniency: Cognito may add fields to events as features ship, and strict input
//! validation can make a function fail ("Customizing user pool workflows with Lambda triggers",
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html>).

use serde_json::{Map, Value};

use crate::cognito::Field;

/// The response shape an event needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `claimsOverrideDetails`: ID token only, string values only.
    V1,
    /// `claimsAndScopeOverrideDetails`: ID and access tokens, scopes, typed values (V2 and V3).
    V2AndV3,
}

/// Why an event cannot be processed. Messages name fields, never values of user attributes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The payload is not JSON (a syntax error, with its position).
    #[error("the event is not JSON: {0}")]
    NotJson(String),
    /// The payload is not a JSON object.
    #[error("the event is not a JSON object")]
    NotAnObject,
    /// `response` exists but is not an object or null.
    #[error("`response` must be an object or null")]
    BadResponse,
}

/// Read-only access to the fields of an event that rules use.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    value: &'a Value,
    root: &'a Map<String, Value>,
    /// `request.userAttributes`, looked up once: rules read it many times per event.
    attributes: Option<&'a Map<String, Value>>,
    /// `request.groupConfiguration.groupsToOverride`, looked up once: `when.groups` reads it.
    groups: &'a [Value],
    /// `request.groupConfiguration` or its `groupsToOverride` is there but not what Cognito sends.
    groups_unreadable: bool,
    /// The `version` as sent (or how it was sent), when it is not one Cognito sends and no
    /// response key decided the shape.
    unknown_version: Option<&'a str>,
    /// `triggerSource` and `callerContext.clientId`, looked up once: `when` reads them.
    trigger_source: &'a str,
    client_id: Option<&'a str>,
    shape: Shape,
}

impl<'a> Event<'a> {
    /// Views `value` as an event, deciding its response shape.
    ///
    /// `version` "1" is V1, "2" and "3" are V2. Anything else (emulators send `"$LATEST"`) is
    /// decided by which response key the event carries; without one it is an error.
    pub fn new(value: &'a Value) -> Result<Self, EventError> {
        let root = value.as_object().ok_or(EventError::NotAnObject)?;
        // One pass over the top-level fields rather than a search for each.
        let field = |field: Field| root.get(field.name());
        let version_field = field(Field::Version);
        let response_field = field(Field::Response);
        let request = field(Field::Request);
        let version = match version_field {
            Some(Value::String(v)) => v.as_str(),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(1) => "1",
                Some(2) => "2",
                Some(3) => "3",
                _ => "",
            },
            _ => "",
        };
        let response = match response_field {
            None | Some(Value::Null) => None,
            Some(Value::Object(r)) => Some(r),
            Some(_) => return Err(EventError::BadResponse),
        };
        let (shape, unknown_version) = match version {
            "1" => (Shape::V1, None),
            "2" | "3" => (Shape::V2AndV3, None),
            other => match response {
                Some(r) if r.contains_key("claimsAndScopeOverrideDetails") => {
                    (Shape::V2AndV3, None)
                }
                Some(r) if r.contains_key("claimsOverrideDetails") => (Shape::V1, None),
                // LocalStack sends `"$LATEST"` with `"response": {}`: the version 1 shape is the
                // one every trigger version accepts for ID-token claims.
                _ => {
                    let shown = match version_field {
                        None => "(missing)",
                        Some(Value::String(_)) => other,
                        Some(_) => "(not a string)",
                    };
                    (Shape::V1, Some(shown))
                }
            },
        };
        let request_fields = request.and_then(Value::as_object);
        let attributes = request_fields
            .and_then(|r| r.get("userAttributes"))
            .and_then(Value::as_object);
        let (groups, groups_unreadable) =
            match request_fields.and_then(|r| r.get("groupConfiguration")) {
                None | Some(Value::Null) => (&[][..], false),
                Some(Value::Object(g)) => match g.get("groupsToOverride") {
                    None | Some(Value::Null) => (&[][..], false),
                    Some(Value::Array(groups)) => (groups.as_slice(), false),
                    Some(_) => (&[][..], true),
                },
                Some(_) => (&[][..], true),
            };
        Ok(Event {
            value,
            root,
            attributes,
            groups,
            groups_unreadable,
            unknown_version,
            trigger_source: field(Field::TriggerSource)
                .and_then(Value::as_str)
                .unwrap_or(""),
            client_id: field(Field::CallerContext)
                .and_then(|c| c.get("clientId"))
                .and_then(Value::as_str),
            shape,
        })
    }

    /// Whether `request.groupConfiguration` is there but cannot be read as Cognito sends it.
    pub(crate) fn groups_unreadable(&self) -> bool {
        self.groups_unreadable
    }

    /// The `version` as sent, when it is not one Cognito sends and the shape was chosen without
    /// a response key to go by.
    pub(crate) fn unknown_version(&self) -> Option<&'a str> {
        self.unknown_version
    }

    /// The response shape for this event.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The whole event, for JSONPath sources.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The event's fields.
    pub fn root(&self) -> &'a Map<String, Value> {
        self.root
    }

    /// The `response` field as received: absent, null or an object (`new` refuses anything else).
    pub fn response(&self) -> Option<&'a Value> {
        self.field(Field::Response)
    }

    /// `version` as sent, if it is a string.
    pub fn version(&self) -> Option<&'a str> {
        self.field(Field::Version).and_then(Value::as_str)
    }

    /// `triggerSource`, or `""` when absent.
    pub fn trigger_source(&self) -> &'a str {
        self.trigger_source
    }

    /// `callerContext.clientId`.
    pub fn client_id(&self) -> Option<&'a str> {
        self.client_id
    }

    /// A top-level field of the envelope, as received.
    pub fn field(&self, field: Field) -> Option<&'a Value> {
        self.root.get(field.name())
    }

    fn request(&self, key: &str) -> Option<&'a Value> {
        self.field(Field::Request)?.get(key)
    }

    /// `request.userAttributes[name]`, if present and not null.
    pub fn attribute(&self, name: &str) -> Option<&'a Value> {
        self.attributes?.get(name).filter(|v| !v.is_null())
    }

    /// The user's groups (`request.groupConfiguration.groupsToOverride`); empty when absent.
    pub fn groups(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.groups.iter().filter_map(Value::as_str)
    }

    /// How many entries `groupsToOverride` has.
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// `userPoolId`.
    pub fn user_pool_id(&self) -> Option<&'a str> {
        self.field(Field::UserPoolId)?.as_str()
    }

    /// The IAM roles of the user's groups (`request.groupConfiguration.iamRolesToOverride`).
    pub fn roles(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.request("groupConfiguration")
            .and_then(|g| g.get("iamRolesToOverride"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// The preferred role (`request.groupConfiguration.preferredRole`), when it is a string.
    pub fn preferred_role(&self) -> Option<&'a str> {
        self.request("groupConfiguration")?
            .get("preferredRole")?
            .as_str()
    }

    /// The requested scopes (`request.scopes`); empty when absent.
    pub fn scopes(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.request("scopes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_found_by_name() {
        let e = json!({"version": "2", "userPoolId": "p", "request": {"a": 1}, "other": 2});
        let view = Event::new(&e).unwrap();
        assert_eq!(view.field(Field::UserPoolId), Some(&json!("p")));
        assert_eq!(view.field(Field::Request), Some(&json!({"a": 1})));
        assert_eq!(view.field(Field::Region), None);
    }

    #[test]
    fn versions_choose_the_shape() {
        for (version, shape) in [
            ("1", Shape::V1),
            ("2", Shape::V2AndV3),
            ("3", Shape::V2AndV3),
        ] {
            let e = json!({"version": version});
            assert_eq!(Event::new(&e).unwrap().shape(), shape);
        }
        let numeric = json!({"version": 3});
        assert_eq!(Event::new(&numeric).unwrap().shape(), Shape::V2AndV3);
    }

    #[test]
    fn emulator_versions_fall_back_to_the_response_key() {
        let e = json!({"version": "$LATEST", "response": {"claimsOverrideDetails": null}});
        assert_eq!(Event::new(&e).unwrap().shape(), Shape::V1);
        let e = json!({"version": "$LATEST", "response": {"claimsAndScopeOverrideDetails": null}});
        assert_eq!(Event::new(&e).unwrap().shape(), Shape::V2AndV3);
    }

    #[test]
    fn bad_events_are_named() {
        assert_eq!(
            Event::new(&json!([1])).unwrap_err(),
            EventError::NotAnObject
        );
        for (event, shown) in [
            (json!({"version": "$LATEST", "response": {}}), "$LATEST"),
            (json!({"version": "9"}), "9"),
            (json!({}), "(missing)"),
            (json!({"version": [1]}), "(not a string)"),
        ] {
            let view = Event::new(&event).unwrap();
            assert_eq!(view.shape(), Shape::V1, "{event}");
            assert_eq!(view.unknown_version(), Some(shown), "{event}");
        }
        for (config, unreadable) in [
            (json!(["admins"]), true),
            (json!({"groupsToOverride": "admins"}), true),
            (json!({"groupsToOverride": null}), false),
            (json!(null), false),
            (json!({"groupsToOverride": ["admins"]}), false),
        ] {
            let event = json!({"version": "2", "request": {"groupConfiguration": config}});
            let view = Event::new(&event).unwrap();
            assert_eq!(view.groups_unreadable(), unreadable, "{event}");
        }
        assert_eq!(
            Event::new(&json!({"version": "2", "response": 5})).unwrap_err(),
            EventError::BadResponse
        );
    }

    #[test]
    fn quirks_read_as_empty() {
        let e = json!({
            "version": "2",
            "request": {"groupConfiguration": null, "userAttributes": null, "scopes": null}
        });
        let ev = Event::new(&e).unwrap();
        assert_eq!(ev.groups().count(), 0);
        assert_eq!(ev.scopes().count(), 0);
        assert_eq!(ev.attribute("email"), None);
        assert_eq!(ev.client_id(), None);
        assert_eq!(ev.trigger_source(), "");
    }
}
