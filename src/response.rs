//! Writing a mapping's outcome into the event's `response`, in the shape of its version, and
//! reading it back (for reports).
//!
//! Only the details object is replaced, so applying a mapping twice gives the same event.
//! `groupOverrideDetails` is never written: an empty one would clear the user's groups.

use serde_json::{Map, Value, json};

use crate::engine::{Outcome, TokenChanges};
use crate::event::Shape;

/// The response key of the V1 shape.
pub const V1_KEY: &str = "claimsOverrideDetails";
/// The response key of the V2/V3 shape.
pub const V2_KEY: &str = "claimsAndScopeOverrideDetails";

/// Writes `outcome` into `event.response` (which `Event::new` has checked is an object, null or absent).
pub fn write(event: &mut Value, shape: Shape, outcome: Outcome) {
    let details = match shape {
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

/// Reads the ID- and access-token changes back out of a response written by [`write`].
pub fn read(event: &Value, shape: Shape) -> (TokenView, TokenView) {
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
    let response = event.get("response");
    match shape {
        Shape::V1 => (
            token(response.and_then(|r| r.get(V1_KEY))),
            TokenView::default(),
        ),
        Shape::V2 => {
            let details = response.and_then(|r| r.get(V2_KEY));
            (
                token(details.and_then(|d| d.get("idTokenGeneration"))),
                token(details.and_then(|d| d.get("accessTokenGeneration"))),
            )
        }
    }
}
