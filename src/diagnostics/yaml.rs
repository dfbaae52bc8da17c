//! YAML values of our files: as the JSON values they stand for in a token, keys that must hold a
//! value when they are written, and nesting too deep to parse.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, Error, Visitor};
use serde_json::Value;

use crate::diagnostics::Location;

/// Deepest nesting of YAML collections accepted in our files: serde_yaml's own recursion limit,
/// measured before the parser runs ([`too_deep`]).
pub const MAX_YAML_DEPTH: usize = 128;

/// Converts a YAML value from the mapping into the JSON value it stands for in a token.
/// A YAML tag (`!Ref Param`) is refused, not turned into an object (`{"!Ref": "Param"}`): a
/// mapping's values are written as they are, and a CloudFormation tag resolves nowhere here.
pub(crate) fn yaml_to_json(value: &serde_yaml::Value) -> Result<Value, String> {
    if let Some(tag) = first_tag(value) {
        return Err(format!(
            "YAML tag `{tag}` is not supported: write the value itself (a CloudFormation `!Ref` \
             or `!Sub` does not resolve in a mapping)"
        ));
    }
    serde_json::to_value(value).map_err(|e| format!("value cannot be represented as JSON: {e}"))
}

/// The first tag in `value`, at any depth.
fn first_tag(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::Tagged(tagged) => Some(tagged.tag.to_string()),
        serde_yaml::Value::Sequence(items) => items.iter().find_map(first_tag),
        serde_yaml::Value::Mapping(map) => map
            .iter()
            .find_map(|(k, v)| first_tag(k).or_else(|| first_tag(v))),
        _ => None,
    }
}

/// What [`given`] says of a key written with no value. serde_yaml reports it at the enclosing
/// section; the problem is then pinned on the key itself (`problems.rs`).
pub(crate) const NO_VALUE: &str = "the key has no value (null): remove the key, or give it a value";

/// Reads a key that may be left out but, when written, must hold a value. YAML reads `key:` with
/// nothing after it, as commenting out the lines below a key leaves it, as null, and serde would
/// read that as absent (an `Option`) or empty (a list, a section): an absent `when`, `keep` or
/// `suppress` widens what the mapping does, so a condition that held for some users would hold
/// for every user. Used as `#[serde(default, deserialize_with = "given")]`; the error is raised
/// while the value is read, so it carries the key's path and line.
pub(crate) fn given<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Given<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for Given<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value")
        }

        fn visit_none<E: Error>(self) -> Result<T, E> {
            Err(E::custom(NO_VALUE))
        }

        fn visit_unit<E: Error>(self) -> Result<T, E> {
            self.visit_none()
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
            T::deserialize(deserializer)
        }
    }

    deserializer.deserialize_option(Given(PhantomData))
}

/// [`given`] for a key read as an `Option`: absent is `None`, null is refused.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    given(deserializer).map(Some)
}

/// Where the YAML's flow collections (`[`, `{`) first nest deeper than [`MAX_YAML_DEPTH`], found in
/// one pass over the text before the YAML parser runs: the parser takes time quadratic in the
/// nesting before its own depth limit applies (100,000 `[` took 25 s, where Lambda gives an init
/// 10 s). Quoted scalars and comments are skipped; a bracket inside a plain or block scalar may be
/// counted, which only a mapping holding a hundred of them unbalanced could notice.
pub(crate) fn too_deep(text: &str) -> Option<Location> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut escaped = false;
    let mut previous = '\n';
    for c in text.chars() {
        column += 1;
        // A comment starts only outside quotes, so `quote` is `None` while `comment` is set.
        if c == '\n' {
            (line, column, comment) = (line + 1, 0, false);
        } else if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
        } else if !comment {
            match c {
                '"' | '\'' => quote = Some(c),
                '#' if previous.is_whitespace() => comment = true,
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return Some(Location { line, column });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_nesting_is_measured_outside_quotes_and_comments() {
        let deep = format!("a: {}", "[".repeat(MAX_YAML_DEPTH + 1));
        assert_eq!(
            too_deep(&deep),
            Some(Location {
                line: 1,
                column: 4 + MAX_YAML_DEPTH
            })
        );
        assert_eq!(
            too_deep(&format!("a: {}", "[".repeat(MAX_YAML_DEPTH))),
            None
        );
        let hidden = "[".repeat(MAX_YAML_DEPTH + 1);
        for text in [
            format!("a: '{hidden}'"),
            format!("a: \"\\\" {hidden}\""),
            format!("a: 1 # {hidden}"),
            format!("a: {}", "[]".repeat(10_000)),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
        }
    }
}
