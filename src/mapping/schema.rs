//! The JSON Schema of the mapping format, generated from the types the loader deserialises
//! (`claim-mapper schema`). Editors use it to complete and check mappings as they are typed; the
//! loader remains the authority (it also checks what a schema cannot, such as regexes). The
//! fields whose schema is not their Rust type's are described in `field_schemas.rs`.

use schemars::generate::SchemaSettings;

use super::file::RawMapping;

/// The schema, as pretty-printed JSON with a trailing newline (the committed
/// `mappings/schema.json`).
pub fn mapping_schema() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawMapping>();
    // A `Schema` is a JSON value; serialising it cannot fail.
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
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
