//! The JSON Schema of the mapping format, generated from the types the loader deserialises
//! (`claim-mapper schema`). Editors use it to complete and check mappings as they are typed; the
//! loader remains the authority (it also checks what a schema cannot, such as regexes).

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator, json_schema};

use crate::cognito::TRIGGER_SOURCES;
use crate::mapping::RawMapping;
use crate::overlay::RawOverlay;

/// Transforms written as a bare name.
const BARE_TRANSFORMS: [&str; 10] = [
    "trim",
    "lowercase",
    "uppercase",
    "to_number",
    "to_boolean",
    "to_string",
    "parse_json",
    "sha256",
    "age",
    "first",
];

/// The schema, as pretty-printed JSON with a trailing newline (the committed
/// `mappings/schema.json`).
pub fn mapping_schema() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawMapping>();
    // A `Schema` is a JSON value; serialising it cannot fail.
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

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

/// `triggers`: overlays keyed by the trigger sources Cognito sends.
pub(crate) fn trigger_overlays(generator: &mut SchemaGenerator) -> Schema {
    let overlay = generator.subschema_for::<RawOverlay>();
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
        "anyOf": [one, {"type": "array", "items": one}]
    })
}

fn transform() -> serde_json::Value {
    let keyed = |name: &str, arg: serde_json::Value| {
        serde_json::json!({
            "type": "object",
            "properties": {name: arg},
            "required": [name],
            "additionalProperties": false
        })
    };
    let text = serde_json::json!({"type": "string"});
    serde_json::json!({
        "anyOf": [
            {"type": "string", "enum": BARE_TRANSFORMS},
            keyed("prefix", text.clone()),
            keyed("suffix", text.clone()),
            keyed("split", serde_json::json!({"type": "string", "minLength": 1})),
            keyed("join", text),
            keyed("truncate", serde_json::json!({"type": "integer", "minimum": 1})),
            keyed("replace", serde_json::json!({
                "type": "object",
                "properties": {"pattern": {"type": "string"}, "with": {"type": "string"}},
                "required": ["pattern", "with"],
                "additionalProperties": false
            })),
            {
                "type": "object",
                "properties": {"map": {"type": "object"}, "default": {}},
                "required": ["map"],
                "additionalProperties": false
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{TRANSFORM_NAMES, Transform};

    #[test]
    fn every_transform_the_loader_knows_is_in_the_schema() {
        let schema = mapping_schema();
        for name in TRANSFORM_NAMES.split(", ") {
            assert!(schema.contains(&format!("\"{name}\"")), "{name}");
        }
        for name in BARE_TRANSFORMS {
            let spec = serde_yaml::Value::String(name.into());
            assert!(Transform::parse(&spec).is_ok(), "{name}");
        }
    }
}
