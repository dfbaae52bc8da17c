//! Writing a mapping's outcome into the event's `response`, in the shape of its version, and
//! reading it back (for reports).
//!
//! Only the details object is replaced, so applying a mapping twice gives the same event.
//! `groupOverrideDetails` is written only by a mapping with a group pipeline (`groups:`), and
//! then always whole: an absent or empty one would leave or clear the user's groups by accident.

use serde_json::{Map, Value, json};

use crate::engine::{Outcome, TokenChanges};
use crate::event::Shape;
use crate::groups::GroupOverride;

/// The response key of the V1 shape.
pub const V1_KEY: &str = "claimsOverrideDetails";
/// The response key of the V2/V3 shape.
pub const V2_KEY: &str = "claimsAndScopeOverrideDetails";

/// Writes `outcome` into `event.response` (which `Event::new` has checked is an object, null or absent).
pub fn write(event: &mut Value, shape: Shape, outcome: Outcome) {
    let mut details = match shape {
        Shape::V1 => json!({
            "claimsToAddOrOverride": outcome.id.add,
            "claimsToSuppress": outcome.id.suppress,
        }),
        Shape::V2 => json!({
            "idTokenGeneration": {
                "claimsToAddOrOverride": outcome.id.add,
                "claimsToSuppress": outcome.id.suppress,
            },
            "accessTokenGeneration": {
                "claimsToAddOrOverride": outcome.access.add,
                "claimsToSuppress": outcome.access.suppress,
                "scopesToAdd": outcome.scopes_add,
                "scopesToSuppress": outcome.scopes_suppress,
            },
        }),
    };
    if let (Some(groups), Value::Object(d)) = (outcome.groups, &mut details) {
        d.insert(
            "groupOverrideDetails".into(),
            json!({
                "groupsToOverride": groups.groups,
                "iamRolesToOverride": groups.roles,
                "preferredRole": groups.preferred_role,
            }),
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
