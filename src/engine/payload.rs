//! An invocation's payload as JSON: the event the Lambda runtime hands over, or why its bytes are
//! not JSON.
//!
//! `lambda_runtime` deserialises the payload before the handler runs; with a plain
//! `serde_json::Value` a payload that is not JSON never reaches the handler, and the runtime
//! answers with its own error type. [`Payload`] deserialises from anything, so the handler answers
//! such a payload with the documented `claim mapping failed: ...`, and `dry-run` reads event files
//! through [`Payload::from_slice`], the same parser reading the same way.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::event::EventError;

/// A payload parsed as `T` (a [`Value`], or a `serde_json::value::RawValue` where the bytes are
/// only passed through), or the syntax error that stopped the parse.
#[derive(Debug)]
pub struct Payload<T = Value>(pub Result<T, EventError>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Payload<T> {
    /// Never fails: a syntax error is kept as [`EventError::NotJson`]. serde_json's syntax errors
    /// name a position and what was expected, never the text around it, so the message can be
    /// logged and returned.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Payload(
            T::deserialize(deserializer).map_err(|e| EventError::NotJson(e.to_string())),
        ))
    }
}

impl Payload {
    /// Reads `bytes` as the Lambda runtime reads a payload: one JSON value, and bytes after it
    /// are not read (Lambda's Invoke API refuses a payload that is not JSON, so only a hand-made
    /// file can have any).
    pub fn from_slice(bytes: &[u8]) -> Result<Value, EventError> {
        let mut json = serde_json::Deserializer::from_slice(bytes);
        match Payload::deserialize(&mut json) {
            Ok(Payload(event)) => event,
            Err(e) => Err(EventError::NotJson(e.to_string())),
        }
    }

    /// Reads an event file's bytes as [`Payload::from_slice`] reads a payload, after a byte order
    /// mark (files saved by Windows editors, the .NET runtime's test events): Lambda never sends
    /// one, but a file may hold one.
    pub fn from_file(bytes: &[u8]) -> Result<Value, EventError> {
        Payload::from_slice(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_is_not_json_is_an_event_error_naming_the_position_only() {
        let not_json = Payload::from_slice(b"{\"email\": secret}").unwrap_err();
        assert_eq!(
            not_json.to_string(),
            "the event is not JSON: expected value at line 1 column 11"
        );
        let surrogate = Payload::from_slice(br#"{"name": "\ud800"}"#).unwrap_err();
        assert_eq!(
            surrogate.to_string(),
            "the event is not JSON: unexpected end of hex escape at line 1 column 17"
        );
        assert!(!surrogate.to_string().contains("name"), "{surrogate}");
    }

    #[test]
    fn bytes_after_the_value_are_not_read_as_by_the_lambda_runtime() {
        assert_eq!(
            Payload::from_slice(b"{\"version\": \"2\"} trailing").unwrap(),
            serde_json::json!({"version": "2"})
        );
    }

    #[test]
    fn a_file_may_start_with_a_byte_order_mark_a_payload_may_not() {
        let with_bom = b"\xEF\xBB\xBF{\"version\": \"2\"}";
        assert_eq!(
            Payload::from_file(with_bom).unwrap(),
            serde_json::json!({"version": "2"})
        );
        assert!(Payload::from_slice(with_bom).is_err());
    }

    #[test]
    fn a_raw_payload_passes_a_lone_surrogate_through() {
        let bytes = br#"{"name": "\ud800"}"#;
        let mut json = serde_json::Deserializer::from_slice(bytes);
        let Payload(raw) =
            Payload::<Box<serde_json::value::RawValue>>::deserialize(&mut json).unwrap();
        assert_eq!(raw.unwrap().get().as_bytes(), bytes);
    }
}
