//! How many JSON bytes a claim takes in `claimsToAddOrOverride` (`"name":value,`): what
//! `limits.token_claim_bytes` counts. Shared by the mapping (constant claims are checked at load)
//! and the engine (the per-event size guard).

use serde::Serialize;
use serde_json::Value;

/// The JSON bytes a claim takes in `claimsToAddOrOverride`: `"name":value,`.
pub fn claim_size(name: &str, value: &Value) -> usize {
    name_size(name) + value_size(value)
}

/// The JSON bytes a claim takes in a version 1 response, which sends every value as a string
/// (non-strings as their JSON text, whose quotes are then escaped).
pub fn v1_claim_size(name: &str, value: &Value) -> usize {
    match value {
        Value::String(_) => claim_size(name, value),
        other => name_size(name) + str_size(&other.to_string()),
    }
}

/// The JSON bytes a claim takes besides its value: `"name":` and `,`. Rules hold theirs,
/// counted at load.
pub fn name_size(name: &str) -> usize {
    2 + str_size(name)
}

/// The JSON bytes of a claim value.
pub(crate) fn value_size(value: &Value) -> usize {
    match value {
        Value::String(s) => str_size(s),
        Value::Bool(true) | Value::Null => 4,
        Value::Bool(false) => 5,
        other => serialized_size(other),
    }
}

/// The JSON bytes of a string. One with nothing JSON escapes (quotes, backslashes, control
/// characters), the common case, is written as it is between quotes.
fn str_size(s: &str) -> usize {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    if !s.bytes().any(escaped) {
        s.len() + 2
    } else {
        serialized_size(s)
    }
}

/// The JSON bytes of `value`, counted by serialising it to a counter.
pub(crate) fn serialized_size(value: &(impl Serialize + ?Sized)) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and claim values (JSON values, strings) always serialise.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn version_1_sizes_count_the_escaped_text() {
        for value in [
            json!(["ab", 1, true]),
            json!({"k": "v"}),
            json!(12.5),
            json!("plain"),
        ] {
            let v1 = Value::String(match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let written = format!("\"n\":{},", serde_json::to_string(&v1).unwrap());
            assert_eq!(v1_claim_size("n", &value), written.len(), "{value}");
        }
    }

    proptest! {
        /// The shortcut for plain strings counts exactly what serde_json writes.
        #[test]
        fn claim_sizes_are_exact(name in "\\PC{0,12}|[\\x00-\\x7f]{0,12}", text in "\\PC{0,40}|[\\x00-\\x7f]{0,40}") {
            let value = Value::String(text);
            let name_json = serde_json::to_string(&name).unwrap();
            let written = format!("{name_json}:{},", serde_json::to_string(&value).unwrap());
            prop_assert_eq!(claim_size(&name, &value), written.len());
            for value in [json!(true), json!(false), Value::Null, json!(-12.5), json!(["a", 1])] {
                let written = format!("{name_json}:{value},");
                prop_assert_eq!(claim_size(&name, &value), written.len());
            }
        }
    }
}
