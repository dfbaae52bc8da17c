//! The JSON Schema of the fields whose schema is not their Rust type's: a `from` that is one
//! source or a list, any value, the transforms (from the table of transforms), value conditions,
//! and the trigger overlays keyed by the trigger sources Cognito sends. Named by the raw types'
//! `#[schemars(schema_with = ...)]`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::transform::{Argument, TRANSFORMS};
use crate::cognito::TRIGGER_SOURCES;

/// `from`: an attribute or JSONPath, or a non-empty list of them.
pub(crate) fn from(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A user attribute name, a JSONPath into the event starting with `$`, or a list of them tried in order.",
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
        ]
    })
}

/// `version`: exactly 1.
pub(crate) fn version(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Format version; this release reads 1.",
        "const": 1
    })
}

/// `when.triggers`: trigger sources Cognito sends, at least one.
pub(crate) fn trigger_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The trigger source is one of these.",
        "type": "array",
        "items": {"enum": TRIGGER_SOURCES},
        "minItems": 1
    })
}

/// `when.attributes`, `when.paths`: what each named value must be.
pub(crate) fn value_conditions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Each named value must be: one of a list of values (or a single value), present or absent (`{present: true|false}`), or matched by a regular expression (`{matches: REGEX}`). Values compare as text.",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "anyOf": [
                {"type": ["string", "integer", "boolean"]},
                {"type": "array", "items": {"type": ["string", "integer", "boolean"]}, "minItems": 1},
                {
                    "type": "object",
                    "properties": {"present": {"type": "boolean"}},
                    "required": ["present"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {"matches": {"type": "string", "format": "regex"}},
                    "required": ["matches"],
                    "additionalProperties": false
                }
            ]
        }
    })
}

/// `triggers`: overlays keyed by the trigger sources Cognito sends.
pub(crate) fn trigger_overlays<Overlay: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let overlay = generator.subschema_for::<Overlay>();
    json_schema!({
        "description": "Overlays by trigger source, e.g. `TokenGeneration_ClientCredentials`. Applied before `clients`.",
        "type": "object",
        "propertyNames": {"enum": TRIGGER_SOURCES},
        "additionalProperties": overlay
    })
}

/// `value` and `default`: any YAML value.
pub(crate) fn any_value(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Any value: string, number, boolean, list or mapping (not null)."
    })
}

/// `transform`: one transform or a list.
pub(crate) fn transforms(_: &mut SchemaGenerator) -> Schema {
    let one = transform();
    json_schema!({
        "description": "One transform or a list, applied left to right.",
        "anyOf": [one, {"type": "array", "items": one, "minItems": 1}]
    })
}

/// One transform, from the table of transforms: a bare name, or a one-key mapping whose value
/// is the transform's argument.
fn transform() -> serde_json::Value {
    use serde_json::json;
    let bare: Vec<&str> = TRANSFORMS
        .iter()
        .filter(|t| t.argument == Argument::None)
        .map(|t| t.name)
        .collect();
    // A bare transform is one of the names, each described.
    let bare: Vec<serde_json::Value> = TRANSFORMS
        .iter()
        .filter(|t| bare.contains(&t.name))
        .map(|t| json!({"const": t.name, "description": t.description}))
        .collect();
    let mut any_of = vec![json!({"type": "string", "oneOf": bare})];
    for t in TRANSFORMS.iter().filter(|t| t.argument != Argument::None) {
        let argument = match t.argument {
            Argument::None => continue,
            Argument::Text => json!({"type": "string"}),
            Argument::Separator => json!({"type": "string", "minLength": 1}),
            Argument::Count => json!({"type": "integer", "minimum": 1}),
            Argument::Replace => json!({
                "type": "object",
                "properties": {"pattern": {"type": "string"}, "with": {"type": "string"}},
                "required": ["pattern", "with"],
                "additionalProperties": false
            }),
            // The table, with an optional `default` beside the transform's own key.
            Argument::Table => {
                any_of.push(json!({
                    "type": "object",
                    "description": t.description,
                    "properties": {t.name: {"type": "object"}, "default": {}},
                    "required": [t.name],
                    "additionalProperties": false
                }));
                continue;
            }
        };
        any_of.push(json!({
            "type": "object",
            "description": t.description,
            "properties": {t.name: argument},
            "required": [t.name],
            "additionalProperties": false
        }));
    }
    json!({ "anyOf": any_of })
}
