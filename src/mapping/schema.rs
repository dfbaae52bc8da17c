//! The JSON Schema of the mapping format, generated from the types the loader deserialises
//! (`claim-mapper schema`). Editors use it to complete and check mappings as they are typed; the
//! loader remains the authority (it also checks what a schema cannot, such as regexes). The
//! fields whose schema is not their Rust type's are described in `field_schemas.rs`.

use schemars::generate::SchemaSettings;
use schemars::transform::transform_subschemas;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

use super::file::RawMapping;

/// The schema, as pretty-printed JSON with a trailing newline (the committed
/// `mappings/schema.json`).
pub fn mapping_schema() -> String {
    schema_of::<RawMapping>()
}

/// The schema of a YAML file read as `T`, for editors, as [`mapping_schema`] writes it.
pub(crate) fn schema_of<T: JsonSchema>() -> String {
    let schema = SchemaSettings::draft07()
        .with_transform(no_null)
        .into_generator()
        .into_root_schema_for::<T>();
    // A `Schema` is a JSON value; serialising it cannot fail.
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// No key of a mapping may be null (`yaml::given`: a key written with no value is refused), so no
/// schema in it allows null: the null that an optional key's type would add is taken out.
fn no_null(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        if object.get("default") == Some(&Value::Null) {
            object.remove("default");
        }
        if let Some(Value::Array(types)) = object.get_mut("type") {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                object.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(any_of)) = object.get_mut("anyOf") {
            any_of.retain(|s| s.get("type") != Some(&Value::from("null")));
        }
    }
    transform_subschemas(&mut no_null, schema);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::transform::{Argument, TRANSFORMS, Transform};

    #[test]
    fn every_transform_the_loader_knows_is_in_the_schema() {
        let schema = mapping_schema();
        for t in &TRANSFORMS {
            assert!(schema.contains(&format!("\"{}\"", t.name)), "{}", t.name);
            if t.argument == Argument::None {
                let spec = serde_yaml::Value::String(t.name.into());
                assert!(Transform::parse(&spec).is_ok(), "{}", t.name);
            }
        }
    }
}
