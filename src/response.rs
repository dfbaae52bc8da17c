//! Writing a mapping's outcome into the event's `response`, in the shape of its version, and
//! reading it back (for reports).
//!
//! The filled-in event is serialised straight from the event and the outcome ([`Filled`]), so the
//! Lambda never builds the response as a `serde_json::Value`. Only the details object is
//! replaced, so applying a mapping twice gives the same event.
//! `groupOverrideDetails` is written only by a mapping with a group pipeline (`groups:`), and
//! then always whole: an absent or empty one would leave or clear the user's groups by accident.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::cognito::Token;
use crate::engine::Outcome;
use crate::event::{Event, Shape};
use crate::groups::GroupOverride;

/// The response key of the V1 shape.
pub const V1_KEY: &str = "claimsOverrideDetails";
/// The response key of the V2/V3 shape.
pub const V2_KEY: &str = "claimsAndScopeOverrideDetails";

/// The key of the details object in `response` for `shape`.
fn details_key(shape: Shape) -> &'static str {
    match shape {
        Shape::V1 => V1_KEY,
        Shape::V2 => V2_KEY,
    }
}

/// An event with a mapping's outcome written into its `response`, in the shape of its version.
/// It serialises as the whole event: every field as received, except that `response` (an object,
/// null or absent, as `Event::new` checked) gets the details object of the event's shape. The
/// Lambda writes it straight to JSON, reports convert it into a `Value`.
#[derive(Debug)]
pub struct Filled<'a> {
    event: Event<'a>,
    outcome: Outcome<'a>,
}

impl<'a> Filled<'a> {
    /// `event` with `outcome` written into its response.
    pub fn new(event: Event<'a>, outcome: Outcome<'a>) -> Self {
        Filled { event, outcome }
    }

    /// The event's response shape.
    pub fn shape(&self) -> Shape {
        self.event.shape()
    }

    /// What the mapping produced.
    pub fn outcome(&self) -> &Outcome<'a> {
        &self.outcome
    }

    /// What the mapping produced, taken out.
    pub fn into_outcome(self) -> Outcome<'a> {
        self.outcome
    }
}

impl Serialize for Filled<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let event = self.event.root();
        let response = self.event.response();
        let mut root =
            serializer.serialize_map(Some(event.len() + usize::from(response.is_none())))?;
        for (key, value) in event {
            if key != "response" {
                root.serialize_entry(key, value)?;
            }
        }
        let details = Details {
            shape: self.event.shape(),
            outcome: &self.outcome,
        };
        let old = response.and_then(Value::as_object);
        root.serialize_entry("response", &Response { old, details })?;
        root.end()
    }
}

/// `response`: the fields it had, with the details object of the shape written over.
struct Response<'a> {
    old: Option<&'a Map<String, Value>>,
    details: Details<'a>,
}

impl Serialize for Response<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let key = details_key(self.details.shape);
        let mut response = serializer.serialize_map(None)?;
        for (k, v) in self.old.into_iter().flatten().filter(|(k, _)| *k != key) {
            response.serialize_entry(k, v)?;
        }
        response.serialize_entry(key, &self.details)?;
        response.end()
    }
}

/// `claimsOverrideDetails` (V1) or `claimsAndScopeOverrideDetails` (V2/V3).
struct Details<'a> {
    shape: Shape,
    outcome: &'a Outcome<'a>,
}

impl Serialize for Details<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let outcome = self.outcome;
        let id = TokenDetails {
            outcome,
            token: Token::Id,
        };
        let mut details = serializer.serialize_map(None)?;
        match self.shape {
            Shape::V1 => id.entries(&mut details)?,
            Shape::V2 => {
                details.serialize_entry("idTokenGeneration", &id)?;
                let access = TokenDetails {
                    outcome,
                    token: Token::Access,
                };
                details.serialize_entry("accessTokenGeneration", &access)?;
            }
        }
        if let Some(groups) = &outcome.groups {
            details.serialize_entry("groupOverrideDetails", groups)?;
        }
        details.end()
    }
}

/// One token's `claimsToAddOrOverride` and `claimsToSuppress`, and for the access token
/// `scopesToAdd` and `scopesToSuppress`.
struct TokenDetails<'a> {
    outcome: &'a Outcome<'a>,
    token: Token,
}

impl TokenDetails<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let outcome = self.outcome;
        map.serialize_entry("claimsToAddOrOverride", &Claims(self))?;
        match self.token {
            Token::Id => map.serialize_entry("claimsToSuppress", outcome.suppress_id),
            Token::Access => {
                map.serialize_entry("claimsToSuppress", outcome.suppress_access)?;
                map.serialize_entry("scopesToAdd", &outcome.scopes_add)?;
                map.serialize_entry("scopesToSuppress", outcome.scopes_suppress)
            }
        }
    }
}

impl Serialize for TokenDetails<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.entries(&mut map)?;
        map.end()
    }
}

/// `claimsToAddOrOverride`.
struct Claims<'a>(&'a TokenDetails<'a>);

impl Serialize for Claims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.outcome.claims(self.0.token))
    }
}

/// The claims and suppressions a filled-in response holds for one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenChanges {
    /// `claimsToAddOrOverride`.
    pub add: Map<String, Value>,
    /// `claimsToSuppress`.
    pub suppress: Vec<String>,
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
    let details = event
        .get("response")
        .and_then(|r| r.get(details_key(shape)));
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
