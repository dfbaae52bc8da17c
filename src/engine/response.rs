//! The response Cognito reads, defined once: its shape per event version as serde types, written
//! from an [`Outcome`] by the Lambda ([`Reply`]) and read back with the same types by the reports
//! ([`OwnedReply::response`]).
//!
//! The reply is serialised straight from the event and the outcome, so the Lambda never builds
//! the response as a `serde_json::Value`. Only the details object is replaced, so applying a
//! mapping twice gives the same event. `groupOverrideDetails` is written only by a mapping with a
//! group pipeline (`groups:`), and then always whole: an absent or empty one would leave or clear
//! the user's groups by accident.
//!
//! Source: the Cognito Developer Guide, "Pre token generation Lambda trigger", its request and
//! response parameters for version one and for versions two and three
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html>).

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::event::{Event, Shape};
use super::failure::{ApplyError, RuleFailure};
use super::groups::GroupOverride;
use super::note::Note;
use super::outcome::Outcome;
use crate::cognito::Token;

/// `claimsOverrideDetails`: the details object of a version 1 response (ID token only).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(
    deserialize = "Claims: Deserialize<'de> + Default, Names: Deserialize<'de> + Default, Groups: Deserialize<'de>"
))]
pub struct ClaimsOverrideDetails<Claims, Names, Groups> {
    /// Claims added or overridden.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_add_or_override: Claims,
    /// Claims removed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_suppress: Names,
    /// The user's groups and roles, replaced.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_as_default"
    )]
    pub group_override_details: Option<Groups>,
}

/// `claimsAndScopeOverrideDetails`: the details object of a version 2 or 3 response.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(
    deserialize = "Claims: Deserialize<'de> + Default, Names: Deserialize<'de> + Default, Scopes: Deserialize<'de> + Default, Groups: Deserialize<'de>"
))]
pub struct ClaimsAndScopeOverrideDetails<Claims, Names, Scopes, Groups> {
    /// The ID token's changes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id_token_generation: IdTokenGeneration<Claims, Names>,
    /// The access token's changes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_token_generation: AccessTokenGeneration<Claims, Names, Scopes>,
    /// The user's groups and roles, replaced.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_as_default"
    )]
    pub group_override_details: Option<Groups>,
}

/// `idTokenGeneration`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(
    deserialize = "Claims: Deserialize<'de> + Default, Names: Deserialize<'de> + Default"
))]
pub struct IdTokenGeneration<Claims, Names> {
    /// Claims added or overridden.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_add_or_override: Claims,
    /// Claims removed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_suppress: Names,
}

/// `accessTokenGeneration`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(
    deserialize = "Claims: Deserialize<'de> + Default, Names: Deserialize<'de> + Default, Scopes: Deserialize<'de> + Default"
))]
pub struct AccessTokenGeneration<Claims, Names, Scopes> {
    /// Claims added or overridden.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_add_or_override: Claims,
    /// Claims removed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims_to_suppress: Names,
    /// Scopes added.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes_to_add: Scopes,
    /// Scopes removed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes_to_suppress: Names,
}

/// A member Cognito's responses may send as null or leave out: read as its empty value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Shape {
    /// The key of the details object in `response`.
    pub fn details_key(self) -> &'static str {
        match self {
            Shape::V1 => "claimsOverrideDetails",
            Shape::V2AndV3 => "claimsAndScopeOverrideDetails",
        }
    }
}

/// An event with a mapping's outcome written into its `response`, in the shape of its version:
/// what [`super::apply`] returns. It serialises as the whole event: every field as received,
/// except that `response` (an object, null or absent, as `Event::new` checked) gets the details
/// object of the event's shape.
#[derive(Debug)]
pub struct Reply<'a> {
    event: Event<'a>,
    outcome: Outcome<'a>,
}

impl<'a> Reply<'a> {
    pub(crate) fn new(event: Event<'a>, outcome: Outcome<'a>) -> Self {
        Reply { event, outcome }
    }

    /// The event's response shape.
    pub fn shape(&self) -> Shape {
        self.event.shape()
    }

    /// Rules that failed and were skipped (`on_error: skip`).
    pub fn skipped(&self) -> &[RuleFailure] {
        &self.outcome.skipped
    }

    /// Number of rules whose claim was added.
    pub fn applied(&self) -> usize {
        self.outcome.applied
    }

    /// What the engine worked around in the event.
    pub fn notes(&self) -> &[Note] {
        &self.outcome.notes
    }

    /// The reply as a JSON value with what the mapping did, for reports and tests.
    pub fn into_owned(self) -> Result<OwnedReply, ApplyError> {
        let unwritten = |e: serde_json::Error| ApplyError::Response(e.to_string());
        let written = serde_json::to_string(&self).map_err(unwritten)?;
        // Not parsed back from `written`: parsing a float is not exact in every case.
        let event = serde_json::to_value(&self).map_err(unwritten)?;
        Ok(OwnedReply {
            event,
            written: serde_json::value::RawValue::from_string(written).map_err(unwritten)?,
            shape: self.shape(),
            skipped: self.outcome.skipped,
            notes: self.outcome.notes,
            applied: self.outcome.applied,
        })
    }
}

/// A [`Reply`] as a JSON value, owning everything: what reports and tests hold.
#[derive(Debug, Clone)]
pub struct OwnedReply {
    /// The whole event, as the Lambda returns it.
    pub event: Value,
    /// The same, exactly the bytes the Lambda writes (its fields in the order it writes them).
    pub written: Box<serde_json::value::RawValue>,
    /// The response shape used.
    pub shape: Shape,
    /// Rules that failed and were skipped.
    pub skipped: Vec<RuleFailure>,
    /// What the engine worked around in the event.
    pub notes: Vec<Note>,
    /// Number of rules whose claim was added.
    pub applied: usize,
}

impl OwnedReply {
    /// The warnings reports show: what the engine worked around in the event, then the rules
    /// skipped.
    pub fn warnings(&self) -> Vec<String> {
        self.notes
            .iter()
            .map(ToString::to_string)
            .chain(self.skipped.iter().map(ToString::to_string))
            .collect()
    }
}

impl Serialize for Reply<'_> {
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
        let old = response.and_then(Value::as_object);
        let response = Response {
            old,
            shape: self.event.shape(),
            outcome: &self.outcome,
        };
        root.serialize_entry("response", &response)?;
        root.end()
    }
}

/// `response`: the fields it had, with the details object of the shape written over.
struct Response<'a> {
    old: Option<&'a Map<String, Value>>,
    shape: Shape,
    outcome: &'a Outcome<'a>,
}

impl Serialize for Response<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let key = self.shape.details_key();
        let mut response = serializer.serialize_map(None)?;
        for (k, v) in self.old.into_iter().flatten().filter(|(k, _)| *k != key) {
            response.serialize_entry(k, v)?;
        }
        let outcome = self.outcome;
        let claims = |token| Claims { outcome, token };
        let groups = outcome.groups.as_ref();
        match self.shape {
            Shape::V1 => response.serialize_entry(
                key,
                &ClaimsOverrideDetails {
                    claims_to_add_or_override: claims(Token::Id),
                    claims_to_suppress: outcome.suppress_id,
                    group_override_details: groups,
                },
            )?,
            Shape::V2AndV3 => response.serialize_entry(
                key,
                &ClaimsAndScopeOverrideDetails {
                    id_token_generation: IdTokenGeneration {
                        claims_to_add_or_override: claims(Token::Id),
                        claims_to_suppress: outcome.suppress_id,
                    },
                    access_token_generation: AccessTokenGeneration {
                        claims_to_add_or_override: claims(Token::Access),
                        claims_to_suppress: outcome.suppress_access,
                        scopes_to_add: outcome.scopes_add.as_slice(),
                        scopes_to_suppress: outcome.scopes_suppress,
                    },
                    group_override_details: groups,
                },
            )?,
        }
        response.end()
    }
}

/// One token's `claimsToAddOrOverride`, written from the outcome's claim slots.
struct Claims<'a> {
    outcome: &'a Outcome<'a>,
    token: Token,
}

impl Serialize for Claims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.outcome.claims(self.token))
    }
}

/// The claims and suppressions a response holds for one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenChanges {
    /// `claimsToAddOrOverride`.
    pub add: Map<String, Value>,
    /// `claimsToSuppress`.
    pub suppress: Vec<String>,
}

/// What a response holds for one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenView {
    /// Claims added or overridden.
    pub changes: TokenChanges,
    /// Scopes added (access token).
    pub scopes_add: Vec<String>,
    /// Scopes suppressed (access token).
    pub scopes_suppress: Vec<String>,
}

/// What a response holds, read back with the types it was written with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseView {
    /// ID-token changes.
    pub id: TokenView,
    /// Access-token changes.
    pub access: TokenView,
    /// `groupOverrideDetails`, when present.
    pub groups: Option<GroupOverride>,
}

/// Claims as read back.
type ReadClaims = Map<String, Value>;

impl OwnedReply {
    /// The response the reply holds, read through the same shape types the Lambda wrote it with
    /// (what the engine wrote always reads).
    pub fn response(&self) -> ResponseView {
        read_response(&self.event, self.shape).unwrap_or_default()
    }
}

/// The response `event` carries in the details object of `shape` (what another trigger wrote, in
/// compare mode), read through the shape types the Lambda writes: a member null or left out is
/// empty; any other member of the wrong type makes the response unreadable, and the error names
/// it (`claimsAndScopeOverrideDetails.idTokenGeneration.claimsToSuppress: invalid type ...`).
pub fn read_response(event: &Value, shape: Shape) -> Result<ResponseView, String> {
    let key = shape.details_key();
    let details = event
        .get("response")
        .and_then(|r| r.get(key))
        .unwrap_or(&Value::Null);
    let unreadable = |e: serde_path_to_error::Error<serde_json::Error>| {
        let at = e.path().to_string();
        let at = if at == "." {
            key.to_owned()
        } else {
            format!("{key}.{at}")
        };
        format!("{at}: {}", e.into_inner())
    };
    if details.is_null() {
        return Ok(ResponseView::default());
    }
    match shape {
        Shape::V1 => {
            let d: ClaimsOverrideDetails<ReadClaims, Vec<String>, GroupOverride> =
                serde_path_to_error::deserialize(details).map_err(unreadable)?;
            Ok(ResponseView {
                id: TokenView {
                    changes: TokenChanges {
                        add: d.claims_to_add_or_override,
                        suppress: d.claims_to_suppress,
                    },
                    ..TokenView::default()
                },
                access: TokenView::default(),
                groups: d.group_override_details,
            })
        }
        Shape::V2AndV3 => {
            let d: ClaimsAndScopeOverrideDetails<
                ReadClaims,
                Vec<String>,
                Vec<String>,
                GroupOverride,
            > = serde_path_to_error::deserialize(details).map_err(unreadable)?;
            let (id, access) = (d.id_token_generation, d.access_token_generation);
            Ok(ResponseView {
                id: TokenView {
                    changes: TokenChanges {
                        add: id.claims_to_add_or_override,
                        suppress: id.claims_to_suppress,
                    },
                    ..TokenView::default()
                },
                access: TokenView {
                    changes: TokenChanges {
                        add: access.claims_to_add_or_override,
                        suppress: access.claims_to_suppress,
                    },
                    scopes_add: access.scopes_to_add,
                    scopes_suppress: access.scopes_to_suppress,
                },
                groups: d.group_override_details,
            })
        }
    }
}
