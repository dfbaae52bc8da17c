//! Value transforms: their table of names, and parsing them from the mapping into compiled
//! steps. Applying them per event is [`crate::engine`]'s.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use super::limits::Costs;
use crate::diagnostics::yaml::yaml_to_json;

/// One compiled transform step.
#[derive(Debug, Clone)]
pub enum Transform {
    /// A string-to-string step, applied to each element of an array.
    Text(TextOp),
    /// Split a string into an array of strings (empty parts dropped).
    Split(String),
    /// Join an array into a string.
    Join(String),
    /// Parse a string as a JSON number.
    ToNumber,
    /// Parse `true/false`, `yes/no`, `1/0` (any case) as a boolean.
    ToBoolean,
    /// Parse a string as JSON.
    ParseJson,
    /// Look a string up in a table.
    Map {
        /// The lookup table.
        table: HashMap<String, Value>,
        /// The value for strings not in the table; without it, such a value is a failure.
        default: Option<Value>,
    },
    /// The first element of an array (a non-array is kept).
    First,
}

/// A transform from a string to a string.
#[derive(Debug, Clone)]
pub enum TextOp {
    /// Strip leading and trailing whitespace.
    Trim,
    /// Lowercase (Unicode).
    Lowercase,
    /// Uppercase (Unicode).
    Uppercase,
    /// Prepend a string.
    Prefix(String),
    /// Append a string.
    Suffix(String),
    /// Render a value as a string (JSON text for numbers and booleans).
    ToString,
    /// Replace every match of a regex.
    Replace {
        /// The compiled pattern.
        pattern: Regex,
        /// The replacement, with `$1`/`${name}` group references.
        with: String,
    },
    /// Lowercase hex SHA-256 of the string.
    Sha256,
    /// Whole years since a `YYYY-MM-DD` date, as of the evaluation date.
    Age,
    /// Keep at most this many characters.
    Truncate(usize),
}

/// What a transform takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Argument {
    /// Nothing: the transform is written as a bare name.
    None,
    /// A string.
    Text,
    /// A non-empty string.
    Separator,
    /// A positive whole number.
    Count,
    /// `{pattern: REGEX, with: STRING}`.
    Replace,
    /// A lookup table, with an optional `default:` key beside the name.
    Table,
}

/// One transform a mapping may name.
pub(crate) struct Spec {
    /// The name as written in a mapping.
    pub(crate) name: &'static str,
    /// What it takes after its name.
    pub(crate) argument: Argument,
    /// What it does, in one sentence (the JSON Schema's description of it).
    pub(crate) description: &'static str,
    /// Compiles it from its name and argument (for [`Argument::Table`], the whole one-entry-plus-
    /// `default` mapping; for [`Argument::None`], nothing that is read).
    build: fn(&'static str, &serde_yaml::Value) -> Result<Transform, String>,
}

/// Every transform a mapping may name, in the order error messages list them. The parser, its
/// error hints and the JSON Schema (`claim-mapper schema`) are all derived from this table.
pub(crate) static TRANSFORMS: [Spec; 17] = [
    bare("trim", "Strip leading and trailing whitespace.", |_, _| {
        Ok(Transform::Text(TextOp::Trim))
    }),
    bare("lowercase", "Lowercase (Unicode).", |_, _| {
        Ok(Transform::Text(TextOp::Lowercase))
    }),
    bare("uppercase", "Uppercase (Unicode).", |_, _| {
        Ok(Transform::Text(TextOp::Uppercase))
    }),
    with(
        Argument::Text,
        "prefix",
        "Prepend a string.",
        |name, arg| Ok(Transform::Text(TextOp::Prefix(text(name, arg)?))),
    ),
    with(Argument::Text, "suffix", "Append a string.", |name, arg| {
        Ok(Transform::Text(TextOp::Suffix(text(name, arg)?)))
    }),
    with(
        Argument::Separator,
        "split",
        "A string to an array of strings at a separator; empty parts are dropped.",
        |name, arg| Ok(Transform::Split(non_empty(name, text(name, arg)?)?)),
    ),
    with(
        Argument::Text,
        "join",
        "An array to a string, joined with a separator (non-strings as JSON text).",
        |name, arg| Ok(Transform::Join(text(name, arg)?)),
    ),
    bare(
        "to_number",
        "A numeric string to a number; anything else fails.",
        |_, _| Ok(Transform::ToNumber),
    ),
    bare(
        "to_boolean",
        "true/false, yes/no, 1/0 (any case) to a boolean; anything else fails.",
        |_, _| Ok(Transform::ToBoolean),
    ),
    bare(
        "to_string",
        "Numbers and booleans to their text.",
        |_, _| Ok(Transform::Text(TextOp::ToString)),
    ),
    bare(
        "parse_json",
        "A JSON-encoded string to its value.",
        |_, _| Ok(Transform::ParseJson),
    ),
    with(
        Argument::Replace,
        "replace",
        "Replace every match of a regex (`$1`/`${name}` groups in `with`).",
        |_, arg| parse_replace(arg),
    ),
    with(
        Argument::Table,
        "map",
        "A lookup table from strings to any value, with an optional `default`; without it, a value not in the table fails.",
        |_, spec| match spec {
            serde_yaml::Value::Mapping(map) => parse_map(map),
            _ => Err("transform `map` takes a mapping of lookup keys to values".into()),
        },
    ),
    bare("sha256", "Lowercase hex SHA-256 of the text.", |_, _| {
        Ok(Transform::Text(TextOp::Sha256))
    }),
    bare(
        "age",
        "Whole years since a YYYY-MM-DD date, as of today (UTC), as a string.",
        |_, _| Ok(Transform::Text(TextOp::Age)),
    ),
    bare(
        "first",
        "The first element of an array (an empty array fails).",
        |_, _| Ok(Transform::First),
    ),
    with(
        Argument::Count,
        "truncate",
        "Keep at most this many characters.",
        |_, arg| match arg.as_u64() {
            Some(n) if n > 0 => Ok(Transform::Text(TextOp::Truncate(n as usize))),
            _ => Err("transform `truncate` takes a positive whole number".into()),
        },
    ),
];

const fn bare(
    name: &'static str,
    description: &'static str,
    build: fn(&'static str, &serde_yaml::Value) -> Result<Transform, String>,
) -> Spec {
    with(Argument::None, name, description, build)
}

const fn with(
    argument: Argument,
    name: &'static str,
    description: &'static str,
    build: fn(&'static str, &serde_yaml::Value) -> Result<Transform, String>,
) -> Spec {
    Spec {
        name,
        argument,
        description,
        build,
    }
}

/// The names a mapping may use, for error hints: `trim, lowercase, ...`.
fn known() -> String {
    let names: Vec<&str> = TRANSFORMS.iter().map(|t| t.name).collect();
    names.join(", ")
}

/// Every transform name a mapping may use, in the order error messages list them.
pub fn names() -> impl Iterator<Item = &'static str> {
    TRANSFORMS.iter().map(|t| t.name)
}

/// The transform called `name`, or the error naming the one probably meant and every known one.
fn spec(name: &str) -> Result<&'static Spec, String> {
    TRANSFORMS.iter().find(|t| t.name == name).ok_or_else(|| {
        let meant = match crate::diagnostics::errors::did_you_mean(name, names()) {
            Some(meant) => format!("did you mean `{meant}`? "),
            None => String::new(),
        };
        format!("unknown transform `{name}`; {meant}known: {}", known())
    })
}

/// What a `transform:` entry as written costs, as the load-time limits count it: one transform,
/// and a regular expression for `replace` with the positions its pattern spells out. Counted
/// before anything is compiled.
pub(crate) fn raw_costs(spec: &serde_yaml::Value) -> Costs {
    let replace = spec.get("replace");
    let pattern = replace
        .and_then(|r| r.get("pattern"))
        .and_then(|p| p.as_str());
    Costs {
        transforms: 1,
        regexes: usize::from(replace.is_some()),
        queries: 0,
        regex_positions: pattern.map_or(0, super::limits::pattern_positions),
    }
}

impl Transform {
    /// Parses one entry of a `transform:` list: a bare name or a one-key mapping.
    pub fn parse(spec_value: &serde_yaml::Value) -> Result<Transform, String> {
        use serde_yaml::Value as Y;
        let shape = || {
            format!(
                "a transform is a name or a one-key mapping; known: {}",
                known()
            )
        };
        match spec_value {
            Y::String(name) => {
                let t = spec(name)?;
                if t.argument != Argument::None {
                    return Err(format!(
                        "transform `{name}` needs an argument, e.g. `{{{name}: ...}}`"
                    ));
                }
                (t.build)(t.name, spec_value)
            }
            Y::Mapping(map) => {
                let mut entries = map.iter();
                let Some((Y::String(name), arg)) = entries.next() else {
                    return Err(shape());
                };
                let t = spec(name);
                if let Ok(t) = t
                    && t.argument == Argument::Table
                {
                    return (t.build)(t.name, spec_value);
                }
                if entries.next().is_some() {
                    return Err(format!(
                        "transform `{name}` takes one key, found {}",
                        map.len()
                    ));
                }
                let t = t?;
                if t.argument == Argument::None {
                    return Err(format!(
                        "transform `{name}` takes no argument; write it as a bare name"
                    ));
                }
                (t.build)(t.name, arg)
            }
            _ => Err(shape()),
        }
    }

    /// Whether the transform reads the evaluation date (`today`): only `age` does.
    pub fn reads_date(&self) -> bool {
        matches!(self, Transform::Text(TextOp::Age))
    }

    /// The transform's name as written in a mapping.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Text(op) => op.name(),
            Transform::Split(_) => "split",
            Transform::Join(_) => "join",
            Transform::ToNumber => "to_number",
            Transform::ToBoolean => "to_boolean",
            Transform::ParseJson => "parse_json",
            Transform::Map { .. } => "map",
            Transform::First => "first",
        }
    }
}

impl TextOp {
    /// The transform's name as written in a mapping.
    pub fn name(&self) -> &'static str {
        match self {
            TextOp::Trim => "trim",
            TextOp::Lowercase => "lowercase",
            TextOp::Uppercase => "uppercase",
            TextOp::Prefix(_) => "prefix",
            TextOp::Suffix(_) => "suffix",
            TextOp::ToString => "to_string",
            TextOp::Replace { .. } => "replace",
            TextOp::Sha256 => "sha256",
            TextOp::Age => "age",
            TextOp::Truncate(_) => "truncate",
        }
    }
}

/// A transform's string argument.
fn text(name: &str, arg: &serde_yaml::Value) -> Result<String, String> {
    arg.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("transform `{name}` takes a string argument"))
}

fn parse_replace(arg: &serde_yaml::Value) -> Result<Transform, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Replace {
        pattern: String,
        with: String,
    }
    let Replace { pattern, with } = serde_yaml::from_value(arg.clone())
        .map_err(|e| format!("transform `replace` takes {{pattern: REGEX, with: STRING}}: {e}"))?;
    let pattern =
        super::limits::regex(&pattern).map_err(|e| format!("transform `replace`: {e}"))?;
    Ok(Transform::Text(TextOp::Replace { pattern, with }))
}

fn parse_map(map: &serde_yaml::Mapping) -> Result<Transform, String> {
    let mut table_spec = None;
    let mut default = None;
    for (key, value) in map {
        match key.as_str() {
            Some("map") => table_spec = Some(value),
            Some("default") => default = Some(map_value(value)?),
            _ => return Err("transform `map` takes the keys `map` and `default` only".into()),
        }
    }
    let Some(serde_yaml::Value::Mapping(spec)) = table_spec else {
        return Err("transform `map` takes a mapping of lookup keys to values".into());
    };
    let mut table = HashMap::with_capacity(spec.len());
    for (key, value) in spec {
        let key = match key {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(
                    "transform `map`: lookup keys must be strings, numbers or booleans".into(),
                );
            }
        };
        table.insert(key, map_value(value)?);
    }
    Ok(Transform::Map { table, default })
}

/// A value of a `map` table (or its `default`): any value a claim can hold. Null (`~`, and
/// `.nan`, which JSON writes as null) is refused here, not on every lookup that finds it.
fn map_value(value: &serde_yaml::Value) -> Result<Value, String> {
    match yaml_to_json(value)? {
        Value::Null => Err(
            "transform `map`: a value cannot be null (`~`, `.nan`); Cognito refuses null claims"
                .into(),
        ),
        json => Ok(json),
    }
}

fn non_empty(name: &str, s: String) -> Result<String, String> {
    if s.is_empty() {
        Err(format!("transform `{name}` needs a non-empty separator"))
    } else {
        Ok(s)
    }
}
