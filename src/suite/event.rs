//! A case's described event (`event:`): its format, and the Cognito event it stands for, with the
//! envelope and request of the given trigger version and source as Cognito sends them (Cognito Developer Guide, "Pre token
//! generation Lambda trigger": the event's parameters for each version), so that a case needs to
//! say only what the mapping reads.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cognito::{self, CLIENT_CREDENTIALS};
use crate::diagnostics::Problems;
use crate::diagnostics::Written;
use crate::diagnostics::errors::{with_suggestion, yaml_error_parts};
use crate::diagnostics::yaml::present;
use crate::mapping::condition::compared_text;

/// An event, described by what a mapping reads.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TestEvent")]
pub(crate) struct RawEvent {
    /// The trigger event version: 1, 2 or 3 (default 2).
    #[serde(default, deserialize_with = "present")]
    #[schemars(range(min = 1, max = 3))]
    pub(crate) version: Option<u8>,
    /// The trigger source (default `TokenGeneration_Authentication`).
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "trigger_source")]
    pub(crate) trigger: Option<String>,
    /// The app client id, `callerContext.clientId` (default `testclient0000000000000000`).
    #[serde(default, deserialize_with = "present")]
    pub(crate) client: Option<String>,
    /// User attributes, by name: strings, or integers and booleans for their text (Cognito sends
    /// every attribute as a string). `sub` is set unless given.
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "attribute_values")]
    pub(crate) attributes: Option<BTreeMap<String, serde_yaml::Value>>,
    /// The user's groups, in order (`groupConfiguration.groupsToOverride`).
    #[serde(default, deserialize_with = "present")]
    pub(crate) groups: Option<Vec<String>>,
    /// The scopes requested (`request.scopes`; versions 2 and 3).
    #[serde(default, deserialize_with = "present")]
    pub(crate) scopes: Option<Vec<String>>,
    /// What the app passed as `ClientMetadata` (`request.clientMetadata`).
    #[serde(default, deserialize_with = "present")]
    pub(crate) client_metadata: Option<BTreeMap<String, String>>,
}

fn trigger_source(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": cognito::TRIGGER_SOURCES })
}

fn attribute_values(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {"type": ["string", "integer", "boolean"]}
    })
}

/// The trigger version of a described event that does not say.
pub(crate) const DEFAULT_VERSION: u8 = 2;

/// The app client of a described event that does not say.
const DEFAULT_CLIENT: &str = "testclient0000000000000000";

/// The user's `sub` when the description does not set it.
const DEFAULT_SUB: &str = "00000000-0000-4000-8000-000000000000";

/// The event a description stands for, written on its own in the format of a test case's
/// `event:` (`{ attributes: { custom:plan: gold }, groups: [admins], version: 3 }`), or every
/// problem with the field it is in.
pub fn described(text: &str) -> Result<Value, Vec<String>> {
    let raw: RawEvent = serde_yaml::from_str(text).map_err(|e| {
        let (_, field, message) = yaml_error_parts(text, &e);
        let message = with_suggestion(message);
        vec![match field.as_str() {
            "" => message,
            field => format!("`{field}`: {message}"),
        }]
    })?;
    let mut problems = Problems::default();
    let event = build(&raw, "", &Written::new(text), &mut problems);
    match event {
        Some(event) if problems.found.is_empty() => Ok(event),
        _ => Err(problems
            .found
            .into_iter()
            .map(|found| format!("`{}`: {}", found.path, found.message))
            .collect()),
    }
}

/// Builds the event `raw` describes, or reports why it cannot be one Cognito sends.
pub(crate) fn build(
    raw: &RawEvent,
    at: &str,
    written: &Written,
    problems: &mut Problems,
) -> Option<Value> {
    let before = problems.found.len();
    // `at` is empty for a description written on its own (`described`).
    let path = |field: &str| match at {
        "" => field.to_owned(),
        at => format!("{at}.{field}"),
    };
    let mut fail = |field: &str, message: String| problems.add(path(field), message);
    let version = raw.version.unwrap_or(DEFAULT_VERSION);
    if !(1..=3).contains(&version) {
        fail("version", "Cognito sends versions 1, 2 and 3".into());
    }
    let trigger = raw
        .trigger
        .as_deref()
        .unwrap_or("TokenGeneration_Authentication");
    if !cognito::TRIGGER_SOURCES.contains(&trigger) {
        fail(
            "trigger",
            format!(
                "unknown trigger source `{trigger}`; known: {}",
                cognito::TRIGGER_SOURCES.join(", ")
            ),
        );
    }
    let machine = trigger == CLIENT_CREDENTIALS;
    if machine && version != 3 {
        fail(
            "version",
            "client-credentials events are version 3 (machine identities)".into(),
        );
    }
    if machine && (raw.attributes.is_some() || raw.groups.is_some()) {
        fail(
            "trigger",
            "a client-credentials event has no user: no attributes, no groups".into(),
        );
    }
    if version == 1 && raw.scopes.is_some() {
        fail("scopes", "version 1 events carry no scopes".into());
    }
    let client = raw.client.as_deref().unwrap_or(DEFAULT_CLIENT);
    if let Some(reason) = cognito::client_id_restriction(client) {
        fail("client", reason);
    }
    let mut attributes = serde_json::Map::new();
    if !machine {
        attributes.insert("sub".into(), DEFAULT_SUB.into());
        attributes.insert("cognito:user_status".into(), "CONFIRMED".into());
    }
    for (name, value) in raw.attributes.iter().flatten() {
        // As Cognito sends them: text.
        match compared_text(value, written.plain(&path(&format!("attributes.{name}")))) {
            Ok(text) => {
                attributes.insert(name.clone(), Value::String(text));
            }
            Err(why) => fail(&format!("attributes.{name}"), why),
        }
    }
    if problems.found.len() > before {
        return None;
    }
    let mut request = json!({
        "userAttributes": attributes,
        "groupConfiguration": if machine {
            Value::Null
        } else {
            json!({
                "groupsToOverride": raw.groups.clone().unwrap_or_default(),
                "iamRolesToOverride": [],
                "preferredRole": null
            })
        },
    });
    if version > 1 {
        request["scopes"] = json!(raw.scopes.clone().unwrap_or_default());
    }
    if let Some(metadata) = &raw.client_metadata {
        request["clientMetadata"] = json!(metadata);
    }
    let response = if version == 1 {
        json!({ "claimsOverrideDetails": null })
    } else {
        json!({ "claimsAndScopeOverrideDetails": null })
    };
    Some(json!({
        "version": version.to_string(),
        "triggerSource": trigger,
        "region": "us-east-1",
        "userPoolId": "us-east-1_EXAMPLE",
        "userName": if machine { client } else { "test-user" },
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client },
        "request": request,
        "response": response,
    }))
}
