//! YAML values of a mapping, as the JSON values they stand for in a token.

use serde_json::Value;

/// Converts a YAML value from the mapping into the JSON value it stands for in a token.
pub(crate) fn yaml_to_json(value: &serde_yaml::Value) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("value cannot be represented as JSON: {e}"))
}
