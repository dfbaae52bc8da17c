//! Applying transforms to a value, per event.
//!
//! Transforms never put a value into an error message: errors name the transform and what kind
//! of value it could not handle, because values are user attributes (PII).

use std::borrow::Cow;

use regex::{Captures, NoExpand, Regex, Replacer};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::Date;

use crate::mapping::transform::{TextOp, Transform};
use crate::mapping::{MAX_REGEX_INPUT_BYTES, MAX_VALUE_BYTES, OVER_REGEX_INPUT, OVER_VALUE_CAP};

/// Why a transform could not be applied to a value; never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transform `{transform}` failed: {reason}")]
pub struct TransformError {
    /// The transform's name.
    pub transform: &'static str,
    /// What was wrong with the value, without the value.
    pub reason: &'static str,
}

impl Transform {
    /// Applies the transform to `value` in place (on an error, what is left in `value` is
    /// unspecified: the rule fails). String transforms apply to each element of an array. A
    /// value that comes out unchanged, or out of the mapping (a `map` entry), stays borrowed: the
    /// per-event path copies only what a transform creates.
    pub(crate) fn run<'a>(
        &'a self,
        value: &mut Cow<'a, Value>,
        today: Date,
    ) -> Result<(), TransformError> {
        if value.is_array() {
            let items = std::mem::take(value.to_mut());
            *value = Cow::Owned(self.apply_array(items, today)?);
            return Ok(());
        }
        self.apply_scalar(value, today)?.write(value);
        Ok(())
    }

    /// The transform applied to an array (anything else is returned as it is).
    fn apply_array(&self, value: Value, today: Date) -> Result<Value, TransformError> {
        let Value::Array(items) = value else {
            return Ok(value);
        };
        match self {
            Transform::Join(sep) => {
                // A long separator between many items could make megabytes of a value within
                // the cap.
                if sep.len().saturating_mul(items.len()) > MAX_VALUE_BYTES {
                    return Err(self.error(OVER_VALUE_CAP));
                }
                let parts: Vec<String> = items.iter().map(text_of).collect();
                Ok(Value::String(parts.join(sep)))
            }
            Transform::First => items
                .into_iter()
                .next()
                .ok_or(self.error("the array is empty")),
            Transform::Split(_) => Ok(Value::Array(items)),
            _ => items
                .into_iter()
                .map(|item| {
                    let mut item = Cow::Owned(item);
                    self.apply_scalar(&item, today)?.write(&mut item);
                    Ok(item.into_owned())
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }

    /// The transform applied to one value that is not an array.
    fn apply_scalar<'a>(&'a self, value: &Value, today: Date) -> Result<Step<'a>, TransformError> {
        let new = |v| Ok(Step::New(v));
        match self {
            Transform::ToNumber => match value {
                Value::Number(_) => Ok(Step::Same),
                other => number(self.string_arg(other)?.trim())
                    .map(Step::New)
                    .ok_or(self.error("not a number")),
            },
            Transform::ToBoolean => match value {
                Value::Bool(_) => Ok(Step::Same),
                other => {
                    let text = self.string_arg(other)?;
                    let text = text.trim();
                    let is = |words: [&str; 3]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
                    if is(["true", "yes", "1"]) {
                        new(Value::Bool(true))
                    } else if is(["false", "no", "0"]) {
                        new(Value::Bool(false))
                    } else {
                        Err(self.error("not a boolean (true/false, yes/no, 1/0)"))
                    }
                }
            },
            Transform::ParseJson => match value {
                Value::String(s) => serde_json::from_str(s)
                    .map(Step::New)
                    .map_err(|_| self.error("not valid JSON")),
                _ => Ok(Step::Same),
            },
            Transform::Map { table, default } => {
                let key = self.string_arg(value)?;
                table
                    .get(key.as_ref())
                    .or(default.as_ref())
                    .map(Step::Table)
                    .ok_or(self.error("no table entry and no default"))
            }
            Transform::Text(op) => {
                let s = self.string_arg(value)?;
                match op.run(&s, today).map_err(|r| self.error(r))? {
                    // A number or boolean made text is a new value even when its text is the same.
                    None if value.is_string() => Ok(Step::Same),
                    None => new(Value::String(s.into_owned())),
                    Some(changed) => new(Value::String(changed)),
                }
            }
            Transform::Split(sep) => match value {
                Value::String(s) => new(split(s, sep)),
                _ => Ok(Step::Same),
            },
            Transform::Join(_) | Transform::First => Ok(Step::Same),
        }
    }

    /// The string form of a scalar for string transforms: strings as they are, numbers and
    /// booleans as their JSON text; objects and nulls are refused.
    fn string_arg<'v>(&self, value: &'v Value) -> Result<Cow<'v, str>, TransformError> {
        match value {
            Value::String(s) => Ok(s.as_str().into()),
            Value::Number(n) => Ok(n.to_string().into()),
            Value::Bool(b) => Ok(b.to_string().into()),
            Value::Null => Err(self.error("the value is null")),
            Value::Array(_) => Err(self.error("nested arrays are not supported")),
            Value::Object(_) => Err(self.error("the value is an object, not a string")),
        }
    }

    fn error(&self, reason: &'static str) -> TransformError {
        TransformError {
            transform: self.name(),
            reason,
        }
    }
}

impl TextOp {
    /// The changed string, or `None` when the step changes nothing (trimming a trimmed string,
    /// lowercasing a lowercase one), which then costs no allocation on the per-event path.
    fn run(&self, s: &str, today: Date) -> Result<Option<String>, &'static str> {
        Ok(match self {
            TextOp::Trim => Some(s.trim())
                .filter(|t| t.len() != s.len())
                .map(str::to_owned),
            TextOp::Lowercase => case_mapped(s, Case::Lower),
            TextOp::Uppercase => case_mapped(s, Case::Upper),
            TextOp::Prefix(p) => Some(format!("{p}{s}")),
            TextOp::Suffix(p) => Some(format!("{s}{p}")),
            TextOp::ToString => None,
            TextOp::Replace { .. } if s.len() > MAX_REGEX_INPUT_BYTES => {
                return Err(OVER_REGEX_INPUT);
            }
            TextOp::Replace { pattern, with } => replace(pattern, with, s),
            TextOp::Sha256 => {
                let mut hex = [0; 64];
                // A SHA-256 digest is 32 bytes: its 64 hex digits always fit.
                let _ = hex::encode_to_slice(Sha256::digest(s.as_bytes()), &mut hex);
                let hex = std::str::from_utf8(&hex).map_err(|_| "the digest is not hex")?;
                Some(hex.to_owned())
            }
            TextOp::Truncate(n) => s.char_indices().nth(*n).map(|(end, _)| s[..end].to_owned()),
            TextOp::Age => Some(age(s, today)?.to_string()),
        })
    }
}

/// `replace`: every match of `pattern` in `s` replaced by `with` (`$1`, `${name}` expanded), or
/// `None` when nothing matches. A pattern that matches everywhere (`x*`) with a long `with` could
/// make megabytes of a large value, so replacing stops once the result passes
/// [`MAX_VALUE_BYTES`] (the rule then fails on that limit); the usual short value and `with` take
/// the regex crate's own path, unchanged.
fn replace(pattern: &Regex, with: &str, s: &str) -> Option<String> {
    struct Capped<'w>(&'w str);
    impl Replacer for Capped<'_> {
        fn replace_append(&mut self, caps: &Captures<'_>, dst: &mut String) {
            if dst.len() <= MAX_VALUE_BYTES {
                caps.expand(self.0, dst);
            }
        }
    }
    // At most one replacement per position (and one at the end), each `with` long.
    let most = s.len() + (s.len() + 1) * with.len();
    let replaced = if !with.contains('$') && most <= MAX_VALUE_BYTES {
        pattern.replace_all(s, NoExpand(with))
    } else {
        pattern.replace_all(s, Capped(with))
    };
    match replaced {
        Cow::Borrowed(_) => None,
        Cow::Owned(replaced) => Some(replaced),
    }
}

/// The two case mappings.
#[derive(Clone, Copy)]
enum Case {
    Lower,
    Upper,
}

/// `s` in `case`, or `None` when no character changes. ASCII text (the usual claim) is checked
/// and mapped byte-wise; other text per character against that character's own mapping, not with
/// `char::is_uppercase`: titlecase letters (`ǅ`) change under both mappings.
fn case_mapped(s: &str, case: Case) -> Option<String> {
    if s.is_ascii() {
        let changes = match case {
            Case::Lower => s.bytes().any(|b| b.is_ascii_uppercase()),
            Case::Upper => s.bytes().any(|b| b.is_ascii_lowercase()),
        };
        return changes.then(|| match case {
            Case::Lower => s.to_ascii_lowercase(),
            Case::Upper => s.to_ascii_uppercase(),
        });
    }
    let changes = |c: char| match case {
        Case::Lower => c.to_lowercase().ne([c]),
        Case::Upper => c.to_uppercase().ne([c]),
    };
    s.chars().any(changes).then(|| match case {
        Case::Lower => s.to_lowercase(),
        Case::Upper => s.to_uppercase(),
    })
}

/// What a transform made of one value.
enum Step<'a> {
    /// The value, unchanged.
    Same,
    /// A new value.
    New(Value),
    /// An entry of the mapping's `map` table.
    Table(&'a Value),
}

impl<'a> Step<'a> {
    /// Writes the transform's result over `value` (the value it was applied to), borrowed
    /// wherever it can be.
    fn write(self, value: &mut Cow<'a, Value>) {
        match self {
            Step::Same => {}
            Step::New(new) => *value = Cow::Owned(new),
            Step::Table(entry) => *value = Cow::Borrowed(entry),
        }
    }
}

/// `split`: the non-empty parts, as an array of strings.
fn split(s: &str, sep: &str) -> Value {
    Value::Array(
        s.split(sep)
            .filter(|part| !part.is_empty())
            .map(|part| Value::String(part.to_owned()))
            .collect(),
    )
}

/// `age`: whole years from a `YYYY-MM-DD` date (a time part after `T` is ignored) to `today`.
/// The text must be exactly that: whitespace is not trimmed here (the `trim` transform does it,
/// visibly in the mapping), and year `0000`, which OpenID Connect's `birthdate` uses for "year
/// omitted" (OpenID Connect Core 1.0, section 5.1), gives no age.
fn age(s: &str, today: Date) -> Result<i32, &'static str> {
    let date_part = s.split('T').next().unwrap_or_default();
    if date_part.len() != "YYYY-MM-DD".len() {
        return Err("not a YYYY-MM-DD date");
    }
    let born = Date::parse(
        date_part,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| "not a YYYY-MM-DD date")?;
    if born.year() == 0 {
        return Err("the year is 0000 (omitted)");
    }
    if born > today {
        return Err("the date is in the future");
    }
    let mut years = today.year() - born.year();
    if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
        years -= 1;
    }
    Ok(years)
}

fn number(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = s.parse::<u64>() {
        return Some(u.into());
    }
    s.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// A value as text: strings raw, everything else as JSON text.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: Date = time::macros::date!(2026 - 11 - 26);

    fn t(spec: &str) -> Transform {
        Transform::parse(&serde_yaml::from_str(spec).unwrap()).unwrap()
    }

    /// Applies `spec` to `input` both borrowed (a value found in the event) and owned (the
    /// result of an earlier step): the two paths must agree.
    fn run(spec: &str, input: Value) -> Result<Value, TransformError> {
        let t = t(spec);
        let apply = |mut value| t.run(&mut value, TODAY).map(|()| value.into_owned());
        let borrowed = apply(Cow::Borrowed(&input));
        let owned = apply(Cow::Owned(input.clone()));
        assert_eq!(borrowed, owned, "{spec} on {input}");
        borrowed
    }

    #[test]
    fn string_transforms() {
        assert_eq!(run("trim", json!("  a b ")).unwrap(), json!("a b"));
        assert_eq!(run("lowercase", json!("ÀB")).unwrap(), json!("àb"));
        assert_eq!(run("lowercase", json!("ǅemal")).unwrap(), json!("ǆemal"));
        assert_eq!(
            run("lowercase", json!("Jane.DOE")).unwrap(),
            json!("jane.doe")
        );
        assert_eq!(run("uppercase", json!("ab")).unwrap(), json!("AB"));
        assert_eq!(
            run("uppercase", json!("ǅ straße")).unwrap(),
            json!("Ǆ STRASSE")
        );
        assert_eq!(run("trim", json!(" \u{3000}x y\t")).unwrap(), json!("x y"));
        assert_eq!(run("{prefix: 'x-'}", json!("a")).unwrap(), json!("x-a"));
        assert_eq!(run("{suffix: '@x'}", json!("a")).unwrap(), json!("a@x"));
        assert_eq!(run("{truncate: 3}", json!("abcdef")).unwrap(), json!("abc"));
        assert_eq!(run("to_string", json!(12)).unwrap(), json!("12"));
        assert_eq!(
            run("sha256", json!("abc")).unwrap(),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    proptest::proptest! {
        /// Case mapping and trimming give what the standard library gives, including for
        /// titlecase letters and non-ASCII whitespace.
        #[test]
        fn text_steps_match_std(s in "\\PC{0,16}|[\t -~]{0,16}|[ǅǈǋǲᾈ-ᾏa-zA-Z ]{0,16}") {
            let text = |spec, input: &str| run(spec, json!(input)).unwrap();
            proptest::prop_assert_eq!(text("lowercase", &s), json!(s.to_lowercase()));
            proptest::prop_assert_eq!(text("uppercase", &s), json!(s.to_uppercase()));
            proptest::prop_assert_eq!(text("trim", &s), json!(s.trim()));
        }
    }

    #[test]
    fn string_transforms_apply_to_each_element() {
        assert_eq!(
            run("uppercase", json!(["a", "b"])).unwrap(),
            json!(["A", "B"])
        );
        assert_eq!(
            run("{prefix: 'g:'}", json!(["a", 1])).unwrap(),
            json!(["g:a", "g:1"])
        );
    }

    #[test]
    fn split_join_first() {
        assert_eq!(
            run("{split: ','}", json!("a,b,,c")).unwrap(),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            run("{join: '|'}", json!(["a", 2, true])).unwrap(),
            json!("a|2|true")
        );
        assert_eq!(run("{join: '|'}", json!("a")).unwrap(), json!("a"));
        assert_eq!(run("first", json!(["a", "b"])).unwrap(), json!("a"));
        assert!(run("first", json!([])).is_err());
    }

    #[test]
    fn conversions() {
        assert_eq!(run("to_number", json!(" 25 ")).unwrap(), json!(25));
        assert_eq!(run("to_number", json!("1.5")).unwrap(), json!(1.5));
        assert_eq!(
            run("to_number", json!("18446744073709551615")).unwrap(),
            json!(u64::MAX)
        );
        assert_eq!(
            run("to_number", json!("abc")).unwrap_err(),
            TransformError {
                transform: "to_number",
                reason: "not a number"
            }
        );
        assert!(run("to_number", json!("NaN")).is_err());
        assert_eq!(run("to_boolean", json!("TRUE")).unwrap(), json!(true));
        assert_eq!(run("to_boolean", json!("0")).unwrap(), json!(false));
        assert!(run("to_boolean", json!("maybe")).is_err());
        assert_eq!(
            run("parse_json", json!("[\"a\",1]")).unwrap(),
            json!(["a", 1])
        );
        assert!(run("parse_json", json!("{nope")).is_err());
    }

    #[test]
    fn replace_and_map() {
        let spec = "{replace: {pattern: '^(\\w+)@.*$', with: '$1'}}";
        assert_eq!(run(spec, json!("jane@example.com")).unwrap(), json!("jane"));
        let map = "{map: {gold: 3, silver: 2}, default: 0}";
        assert_eq!(run(map, json!("gold")).unwrap(), json!(3));
        assert_eq!(run(map, json!("tin")).unwrap(), json!(0));
        let strict = "{map: {gold: 3}}";
        assert!(run(strict, json!("tin")).is_err());
    }

    #[test]
    fn replace_reads_values_up_to_the_regex_input_cap() {
        let spec = "{replace: {pattern: 'a', with: b}}";
        let at_cap = "a".repeat(MAX_REGEX_INPUT_BYTES);
        assert_eq!(
            run(spec, json!(at_cap)).unwrap(),
            json!("b".repeat(MAX_REGEX_INPUT_BYTES))
        );
        let err = run(spec, json!(format!("{at_cap}a"))).unwrap_err();
        assert!(err.to_string().contains(OVER_REGEX_INPUT), "{err}");
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(run("age", json!("1990-04-23")).unwrap(), json!("36"));
        assert_eq!(run("age", json!("2008-11-26")).unwrap(), json!("18"));
        assert_eq!(run("age", json!("2008-11-27")).unwrap(), json!("17"));
        assert!(run("age", json!("2030-01-01")).is_err());
        assert!(run("age", json!("23/04/1990")).is_err());
        let omitted = run("age", json!("0000-04-23")).unwrap_err().to_string();
        assert!(omitted.contains("the year is 0000"), "{omitted}");
        assert_eq!(
            run("age", json!("1990-04-23T08:00:00Z")).unwrap(),
            json!("36")
        );
        for not_a_date in [
            " 1990-04-23",
            "1990-04-23 ",
            "+1990-04-23",
            "01990-04-23",
            "1990-4-23",
        ] {
            assert!(run("age", json!(not_a_date)).is_err(), "{not_a_date}");
        }
    }

    #[test]
    fn errors_never_contain_the_value() {
        let err = run("to_number", json!("secret-value")).unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn parse_errors_are_specific() {
        let err = |spec: &str| Transform::parse(&serde_yaml::from_str(spec).unwrap()).unwrap_err();
        assert!(err("lowercse").starts_with("unknown transform `lowercse`"));
        assert!(err("prefix").contains("needs an argument"));
        assert!(err("{trim: x}").contains("takes no argument"));
        assert!(err("{replace: {pattern: '(', with: ''}}").contains("invalid regular expression"));
        assert!(err("{replace: {pattern: 'a'}}").contains("pattern: REGEX"));
        assert!(err("{truncate: -1}").contains("positive"));
        assert!(err("{split: ''}").contains("non-empty"));
        assert!(err("{map: [a]}").contains("mapping of lookup keys"));
    }
}
