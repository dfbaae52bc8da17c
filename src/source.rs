//! Where a claim's value comes from: user attributes, JSONPath into the event, templates, constants.
//! Everything here is compiled at load time; resolving a source per event parses nothing.

use std::borrow::Cow;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use crate::event::{Event, Field};
use crate::transform::text_of;

/// Longest JSONPath expression accepted, to bound parsing work on hostile mappings.
pub const MAX_JSONPATH_LEN: usize = 1024;

/// A compiled JSONPath expression over the whole event.
#[derive(Debug, Clone)]
pub enum JsonPath {
    /// A path of plain member names and indexes (`$.a.b['c:d'][0]`), looked up directly: the
    /// common case, with no allocation per event.
    Direct(Vec<Step>),
    /// A direct path into a top-level field of the envelope (`$.request.clientMetadata.x`,
    /// `$.userPoolId`), with the steps after that field: looked up from the field the event view
    /// found, not by searching the top of the event again.
    Field(Field, Vec<Step>),
    /// Any other RFC 9535 query (wildcards, descendants, filters, slices).
    Query(JpQuery),
}

/// One step of a direct path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Member(String),
    /// An array element.
    Index(usize),
    /// Every element of an array or member of an object (`[*]`), as the last step.
    Elements,
}

impl JsonPath {
    /// Compiles `text` (RFC 9535 syntax, starting with `$`). Paths of plain steps (a strict
    /// subset of the RFC's syntax) become direct lookups without the crate's parser, which would
    /// cost a cold start its stack-limit probe (it reads `/proc/self/maps`); the crate parses and
    /// validates every other path.
    pub fn compile(text: &str) -> Result<Self, String> {
        if text.len() > MAX_JSONPATH_LEN {
            return Err(format!("JSONPath longer than {MAX_JSONPATH_LEN} bytes"));
        }
        if let Some(steps) = direct_steps(text) {
            if let Some((Step::Member(name), rest)) = steps.split_first()
                && let Some(field) = Field::named(name)
            {
                return Ok(JsonPath::Field(field, rest.to_vec()));
            }
            return Ok(JsonPath::Direct(steps));
        }
        jsonpath_rust::parser::parse_json_path(text)
            .map(JsonPath::Query)
            .map_err(|e| format!("invalid JSONPath: {e}"))
    }

    /// The value at the path: none when nothing (or only null) matches, the value when one node
    /// matches (borrowed from `root`), an array of the non-null matches when several do.
    pub fn find<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        match self {
            JsonPath::Direct(steps) => find_direct(root, steps),
            JsonPath::Field(field, steps) => find_direct(root.get(field.name())?, steps),
            JsonPath::Query(query) => {
                let found = jsonpath_rust::query::js_path_process(query, root).ok()?;
                matches(found.into_iter().map(|r| r.val).filter(|v| !v.is_null()))
            }
        }
    }

    /// [`JsonPath::find`] in `event`, starting paths into a top-level field where the view found
    /// it.
    pub fn find_in<'a>(&self, event: &Event<'a>) -> Option<Cow<'a, Value>> {
        match self {
            JsonPath::Field(field, steps) => find_direct(event.field(*field)?, steps),
            _ => self.find(event.value()),
        }
    }
}

/// The value at a direct path's `steps` from `from` (as [`JsonPath::find`] returns it).
fn find_direct<'a>(from: &'a Value, steps: &[Step]) -> Option<Cow<'a, Value>> {
    let found = steps.iter().try_fold(from, |v, step| match step {
        Step::Member(name) => v.as_object()?.get(name),
        Step::Index(i) => v.as_array()?.get(*i),
        Step::Elements => Some(v),
    })?;
    if steps.last() != Some(&Step::Elements) {
        return (!found.is_null()).then_some(Cow::Borrowed(found));
    }
    let present = |v: &&Value| !v.is_null();
    match found {
        // Two or more elements and none null: the matches are the array itself.
        Value::Array(a) if a.len() > 1 && !a.iter().any(Value::is_null) => {
            Some(Cow::Borrowed(found))
        }
        Value::Array(a) => matches(a.iter().filter(present)),
        Value::Object(o) => matches(o.values().filter(present)),
        _ => None,
    }
}

/// Several matches make an array; one match is itself; none is none.
fn matches<'a>(mut found: impl Iterator<Item = &'a Value>) -> Option<Cow<'a, Value>> {
    let first = found.next()?;
    match found.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut all = vec![first.clone(), second.clone()];
            all.extend(found.cloned());
            Some(Cow::Owned(Value::Array(all)))
        }
    }
}

/// The steps of a path made only of `.name`, `['name']`/`["name"]` and `[N]` after `$`,
/// optionally ending in `[*]`, or `None` for anything else (left to the crate's parser). Every
/// path accepted here is valid RFC 9535: shorthand names of letters, digits and `_` not starting
/// with a digit; quoted names without quotes, backslashes or control characters; indexes without
/// leading zeros within I-JSON's exact integers.
fn direct_steps(text: &str) -> Option<Vec<Step>> {
    /// Largest array index RFC 9535 allows (2^53 - 1).
    const MAX_INDEX: usize = (1 << 53) - 1;
    let mut rest = text.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            let plain = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !plain {
                return None;
            }
            steps.push(Step::Member(name.to_owned()));
            rest = &after[end..];
        } else if rest == "[*]" {
            steps.push(Step::Elements);
            rest = "";
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = &after[..end];
            let quoted = [('\'', '\''), ('"', '"')]
                .iter()
                .find_map(|(open, close)| inner.strip_prefix(*open)?.strip_suffix(*close));
            match quoted {
                Some(name)
                    if !name
                        .contains(|c: char| matches!(c, '\\' | '\'' | '"') || c.is_control()) =>
                {
                    steps.push(Step::Member(name.to_owned()))
                }
                Some(_) => return None,
                None if inner == "0"
                    || (!inner.starts_with('0')
                        && !inner.is_empty()
                        && inner.bytes().all(|b| b.is_ascii_digit())) =>
                {
                    steps.push(Step::Index(inner.parse().ok().filter(|&i| i <= MAX_INDEX)?));
                }
                None => return None,
            }
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// One place to read a value from.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// `request.userAttributes[name]`.
    Attribute {
        /// The attribute's name.
        name: String,
        /// Its index in [`crate::Mapping::attribute_names`], where each event's attributes are
        /// found.
        slot: u32,
    },
    /// A JSONPath into the whole event.
    Path(JsonPath),
}

impl Lookup {
    /// An attribute lookup's name and slot, for numbering the mapping's attributes.
    pub(crate) fn attribute_slot(&mut self) -> Option<(&str, &mut u32)> {
        match self {
            Lookup::Attribute { name, slot } => Some((name, slot)),
            Lookup::Path(_) => None,
        }
    }

    /// Parses a `from:` entry: a JSONPath when it starts with `$`, else an attribute name.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with('$') {
            JsonPath::compile(text).map(Lookup::Path)
        } else if text.is_empty() {
            Err("an attribute name cannot be empty".into())
        } else {
            Ok(Lookup::Attribute {
                name: text.to_owned(),
                slot: 0,
            })
        }
    }

    fn find<'a>(&self, event: &Event<'a>, attributes: &Attributes<'a>) -> Option<Cow<'a, Value>> {
        match self {
            Lookup::Attribute { slot, .. } => attributes
                .get(*slot as usize)
                .copied()
                .flatten()
                .map(Cow::Borrowed),
            Lookup::Path(path) => path.find_in(event),
        }
    }
}

/// Bytes [`Template`] reserves per placeholder: a name, a locale, an id.
const PLACEHOLDER_BYTES: usize = 24;

/// A `template:` string, split into literal text and placeholders at load time.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    /// Bytes to reserve for a rendering: the literal text and room for typical values, so that
    /// rendering allocates once.
    capacity: usize,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Value(Lookup),
}

impl Template {
    /// Parses `{attribute}` and `{$.json.path}` placeholders; `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(
                                    "unclosed `{` in template (write `{{` for a literal brace)"
                                        .into(),
                                );
                            }
                        }
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    let lookup = Lookup::parse(name.trim())
                        .map_err(|e| format!("template placeholder: {e}"))?;
                    parts.push(Part::Value(lookup));
                }
                '}' => {
                    return Err("unmatched `}` in template (write `}}` for a literal brace)".into());
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if !parts.iter().any(|p| matches!(p, Part::Value(_))) {
            return Err("template has no `{placeholder}`; use `value:` for a constant".into());
        }
        let capacity = parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Value(_) => PLACEHOLDER_BYTES,
            })
            .sum();
        Ok(Template { parts, capacity })
    }

    /// Renders the template, or `None` when any placeholder's source is missing.
    fn render(&self, event: &Event, attributes: &Attributes) -> Option<String> {
        let mut out = String::with_capacity(self.capacity);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(lookup) => match lookup.find(event, attributes)?.as_ref() {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&text_of(other)),
                },
            }
        }
        Some(out)
    }
}

/// A rule's value source.
#[derive(Debug, Clone)]
pub enum Source {
    /// `from:`: the first lookup that finds a value wins.
    From(Vec<Lookup>),
    /// `value:`: a constant.
    Constant(Value),
    /// `template:`: attributes interpolated into a string.
    Template(Template),
}

/// An event's user attributes that a mapping reads, indexed by [`Lookup::Attribute`] slot.
pub type Attributes<'a> = [Option<&'a Value>];

impl Source {
    /// The source's value for `event`, whose attributes named by the mapping are `attributes`,
    /// or `None` when the source is missing. Values found in the event or the mapping are
    /// borrowed, not copied.
    pub fn resolve<'a>(
        &'a self,
        event: &Event<'a>,
        attributes: &Attributes<'a>,
    ) -> Option<Cow<'a, Value>> {
        match self {
            Source::From(lookups) => lookups.iter().find_map(|l| l.find(event, attributes)),
            Source::Constant(v) => Some(Cow::Borrowed(v)),
            Source::Template(t) => t
                .render(event, attributes)
                .map(|s| Cow::Owned(Value::String(s))),
        }
    }

    /// The source's lookups, for numbering the mapping's attributes.
    pub fn lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        let (from, template): (&mut [Lookup], &mut [Part]) = match self {
            Source::From(lookups) => (lookups, &mut []),
            Source::Constant(_) => (&mut [], &mut []),
            Source::Template(t) => (&mut [], &mut t.parts),
        };
        from.iter_mut()
            .chain(template.iter_mut().filter_map(|part| match part {
                Part::Value(lookup) => Some(lookup),
                Part::Text(_) => None,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "version": "2",
            "callerContext": {"clientId": "abc"},
            "request": {
                "userAttributes": {"given_name": "Jane", "family_name": "Doe", "custom:org": "o1"},
                "groupConfiguration": {"groupsToOverride": ["a", "b"]}
            }
        })
    }

    fn resolve(mut source: Source) -> Option<Value> {
        let e = event();
        let event = Event::new(&e).unwrap();
        let names =
            crate::mapping::number_names(source.lookups_mut().filter_map(Lookup::attribute_slot));
        let mut attributes = vec![None; names.len()];
        event.find_attributes(&names, &mut attributes);
        source.resolve(&event, &attributes).map(Cow::into_owned)
    }

    #[test]
    fn from_takes_the_first_present_lookup() {
        let lookups = ["custom:tenant_id", "custom:org"].map(|s| Lookup::parse(s).unwrap());
        assert_eq!(resolve(Source::From(lookups.to_vec())), Some(json!("o1")));
        let missing = vec![Lookup::parse("custom:none").unwrap()];
        assert_eq!(resolve(Source::From(missing)), None);
    }

    #[test]
    fn jsonpath_single_many_and_none() {
        let p = |s| Source::From(vec![Lookup::parse(s).unwrap()]);
        assert_eq!(resolve(p("$.callerContext.clientId")), Some(json!("abc")));
        assert_eq!(
            resolve(p("$.request.groupConfiguration.groupsToOverride[*]")),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            resolve(p("$.request.userAttributes['custom:org']")),
            Some(json!("o1"))
        );
        assert_eq!(resolve(p("$.nope")), None);
        // `[*]` leaves nulls out; a whole array without nulls is borrowed as it is.
        let e = json!({"xs": [1, null, 2], "ys": [null, 3], "zs": [4, 5]});
        let path = |s| JsonPath::compile(s).unwrap();
        assert_eq!(path("$.xs[*]").find(&e), Some(Cow::Owned(json!([1, 2]))));
        assert_eq!(path("$.ys[*]").find(&e), Some(Cow::Borrowed(&json!(3))));
        assert!(matches!(path("$.zs[*]").find(&e), Some(Cow::Borrowed(v)) if *v == json!([4, 5])));
        assert!(Lookup::parse("$.[").is_err());
        assert!(Lookup::parse(&format!("$.{}", "a".repeat(MAX_JSONPATH_LEN))).is_err());
    }

    #[test]
    fn direct_paths_agree_with_the_query_engine() {
        let e = event();
        for path in [
            "$.callerContext.clientId",
            "$.request.userAttributes['custom:org']",
            "$[\"request\"][\"userAttributes\"].given_name",
            "$.request.groupConfiguration.groupsToOverride[1]",
            "$.request.groupConfiguration.groupsToOverride[*]",
            "$.callerContext[*]",
            "$.request.groupConfiguration.groupsToOverride[7]",
            "$.nope.deeper",
            "$.version",
            "$",
        ] {
            let direct = JsonPath::compile(path).unwrap();
            assert!(
                matches!(direct, JsonPath::Direct(_) | JsonPath::Field(..)),
                "{path}"
            );
            let query = JsonPath::Query(jsonpath_rust::parser::parse_json_path(path).unwrap());
            assert_eq!(direct.find(&e), query.find(&e), "{path}");
            let view = Event::new(&e).unwrap();
            assert_eq!(direct.find_in(&view), query.find(&e), "{path}");
        }
        for path in [
            "$.a.*",
            "$..clientId",
            "$.a[?@.b]",
            "$.a[0:2]",
            "$.a[-1]",
            "$['a','b']",
            "$.a['it''s']",
        ] {
            if let Ok(p) = JsonPath::compile(path) {
                assert!(
                    matches!(p, JsonPath::Query(_)),
                    "{path} must use the query engine"
                );
            }
        }
    }

    proptest::proptest! {
        /// Every path taken directly is one the crate accepts too, and finds the same value.
        #[test]
        fn direct_paths_are_valid_rfc9535_and_agree(
            steps in proptest::collection::vec(
                "\\.[a-zA-Z_0-9é]{0,4}|\\['[a-z:\\- \"\\\\\\x01]{0,4}'\\]|\\[\"[a-z:' ]{0,3}\"\\]|\\[[0-9]{1,17}\\]|\\[ ?[0-9] ?\\]|\\[\\*\\]|\\.\\*|\\.\\.[a-z]{1,2}",
                0..5,
            ),
            below_request in proptest::bool::ANY,
        ) {
            let start = if below_request { "$.request" } else { "$" };
            let text = format!("{start}{}", steps.concat());
            if let Some(direct) = direct_steps(&text) {
                let query = jsonpath_rust::parser::parse_json_path(&text);
                proptest::prop_assert!(query.is_ok(), "{text} taken directly but refused by the crate");
                let e = event();
                let query = JsonPath::Query(query.unwrap());
                proptest::prop_assert_eq!(JsonPath::Direct(direct).find(&e), query.find(&e), "{}", text);
                // As compiled (paths below `request` start from the event view's request).
                let compiled = JsonPath::compile(&text).unwrap();
                let view = Event::new(&e).unwrap();
                proptest::prop_assert_eq!(compiled.find_in(&view), query.find(&e), "{}", text);
            }
        }
    }

    #[test]
    fn templates_interpolate_and_escape() {
        let t = |s| Source::Template(Template::parse(s).unwrap());
        assert_eq!(
            resolve(t("{given_name} {family_name}")),
            Some(json!("Jane Doe"))
        );
        assert_eq!(
            resolve(t("{{{custom:org}}}@{$.callerContext.clientId}")),
            Some(json!("{o1}@abc"))
        );
        assert_eq!(resolve(t("{given_name} {middle_name}")), None);
        assert!(Template::parse("{open").is_err());
        assert!(Template::parse("close}").is_err());
        assert!(Template::parse("plain").is_err());
        assert!(Template::parse("{}").is_err());
    }
}
