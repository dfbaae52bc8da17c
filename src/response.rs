//! Writing a mapping's outcome into the event's `response`, in the shape of its version, and
//! reading it back (for reports).
//!
//! Only the details object is replaced, so applying a mapping twice gives the same event.
//! `groupOverrideDetails` is written only by a mapping with a group pipeline (`groups:`), and
//! then always whole: an absent or empty one would leave or clear the user's groups by accident.

use serde_json::{Map, Value};

use crate::engine::{Outcome, TokenChanges};
use crate::event::Shape;
use crate::groups::GroupOverride;

/// The response key of the V1 shape.
pub const V1_KEY: &str = "claimsOverrideDetails";
/// The response key of the V2/V3 shape.
pub const V2_KEY: &str = "claimsAndScopeOverrideDetails";

/// Writes `outcome` into `event.response` (which `Event::new` has checked is an object, null or absent).
///
/// The objects are built by moving the outcome's maps and lists in: `json!` would serialise
/// them into new values, copying every claim a second time.
pub fn write(event: &mut Value, shape: Shape, outcome: Outcome) {
    let id = token(outcome.id, None);
    let mut details = match shape {
        Shape::V1 => id,
        Shape::V2 => {
            let scopes = (outcome.scopes_add, outcome.scopes_suppress);
            object([
                ("idTokenGeneration", id),
                ("accessTokenGeneration", token(outcome.access, Some(scopes))),
            ])
        }
    };
    if let (Some(groups), Value::Object(d)) = (outcome.groups, &mut details) {
        d.insert(
            "groupOverrideDetails".into(),
            object([
                ("groupsToOverride", strings(groups.groups)),
                ("iamRolesToOverride", strings(groups.roles)),
                (
                    "preferredRole",
                    groups.preferred_role.map_or(Value::Null, Value::String),
                ),
            ]),
        );
    }
    let key = match shape {
        Shape::V1 => V1_KEY,
        Shape::V2 => V2_KEY,
    };
    if let Value::Object(root) = event {
        let response = root.entry("response").or_insert(Value::Null);
        if !response.is_object() {
            *response = Value::Object(Map::new());
        }
        if let Value::Object(r) = response {
            r.insert(key.to_owned(), details);
        }
    }
}

/// One token's `claimsToAddOrOverride` and `claimsToSuppress`, and for the access token
/// `scopesToAdd` and `scopesToSuppress`.
fn token(changes: TokenChanges, scopes: Option<(Vec<String>, Vec<String>)>) -> Value {
    let mut token = Map::new();
    token.insert("claimsToAddOrOverride".into(), Value::Object(changes.add));
    token.insert("claimsToSuppress".into(), strings(changes.suppress));
    if let Some((add, suppress)) = scopes {
        token.insert("scopesToAdd".into(), strings(add));
        token.insert("scopesToSuppress".into(), strings(suppress));
    }
    Value::Object(token)
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn strings(list: Vec<String>) -> Value {
    Value::Array(list.into_iter().map(Value::String).collect())
}

/// What a filled-in response holds for one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenView {
    /// Claims added or overridden.
    pub changes: TokenChanges,
    /// Scopes added (access token).
    pub scopes_add: Vec<String>,
    /// Scopes suppressed (access token).
    pub scopes_suppress: Vec<String>,
}

/// What a filled-in response holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseView {
    /// ID-token changes.
    pub id: TokenView,
    /// Access-token changes.
    pub access: TokenView,
    /// `groupOverrideDetails`, when present.
    pub groups: Option<GroupOverride>,
}

/// Reads a response written by [`write`] back out of an event.
pub fn read(event: &Value, shape: Shape) -> ResponseView {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let token = |t: Option<&Value>| TokenView {
        changes: TokenChanges {
            add: t
                .and_then(|t| t.get("claimsToAddOrOverride"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            suppress: strings(t.and_then(|t| t.get("claimsToSuppress"))),
        },
        scopes_add: strings(t.and_then(|t| t.get("scopesToAdd"))),
        scopes_suppress: strings(t.and_then(|t| t.get("scopesToSuppress"))),
    };
    let key = match shape {
        Shape::V1 => V1_KEY,
        Shape::V2 => V2_KEY,
    };
    let details = event.get("response").and_then(|r| r.get(key));
    let groups = details
        .and_then(|d| d.get("groupOverrideDetails"))
        .filter(|g| g.is_object())
        .map(|g| GroupOverride {
            groups: strings(g.get("groupsToOverride")),
            roles: strings(g.get("iamRolesToOverride")),
            preferred_role: g
                .get("preferredRole")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    match shape {
        Shape::V1 => ResponseView {
            id: token(details),
            access: TokenView::default(),
            groups,
        },
        Shape::V2 => ResponseView {
            id: token(details.and_then(|d| d.get("idTokenGeneration"))),
            access: token(details.and_then(|d| d.get("accessTokenGeneration"))),
            groups,
        },
    }
}
