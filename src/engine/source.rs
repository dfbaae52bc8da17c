//! Resolving a rule's source for one event: attribute lookups, JSONPath queries, templates.

use std::borrow::Cow;

use serde_json::Value;

use super::event::Event;
use super::items::{Fetched, Items, LookupFailure};
use super::size_guard::value_room;
use super::transform::text_of;
use crate::mapping::source::{JsonPath, Lookup, Part, Source, Step, Template};
use crate::mapping::{MAX_VALUE_BYTES, Mapping};

/// Why a source has no value to give although it is not missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The value would be over [`MAX_VALUE_BYTES`]: the rule fails, and what would have been
    /// copied or rendered past the cap never is.
    TooLarge,
    /// The lookup at this index of the mapping's lookups gave no answer.
    Lookup(u32, LookupFailure),
}

/// What resolving a source gives: its value (none when missing), or why it cannot be read.
pub(crate) type Found<'a> = Result<Option<Cow<'a, Value>>, Unreadable>;

/// What rules read besides the event's own fields: the user attributes the mapping names, found
/// once per event and read by their slot, and the lookups' items.
pub(crate) struct Inputs<'a> {
    /// By [`Lookup::Attribute`] slot.
    attributes: Vec<Option<&'a Value>>,
    items: &'a Items,
}

impl<'a> Inputs<'a> {
    /// Finds the attributes `mapping` reads in `event`.
    pub(crate) fn new(mapping: &Mapping, event: &Event<'a>, items: &'a Items) -> Inputs<'a> {
        Inputs {
            attributes: mapping
                .attribute_names
                .iter()
                .map(|name| event.attribute(name))
                .collect(),
            items,
        }
    }

    /// No attributes and no items.
    #[cfg(test)]
    pub(crate) fn empty() -> Inputs<'a> {
        static NO_ITEMS: Items = Items::none();
        Inputs {
            attributes: Vec::new(),
            items: &NO_ITEMS,
        }
    }
}

impl JsonPath {
    /// The value at the path: none when nothing (or only null) matches, the value when one node
    /// matches (borrowed from `root`), an array of the non-null matches when several do.
    pub(crate) fn find<'a>(&self, root: &'a Value) -> Found<'a> {
        match self {
            JsonPath::Direct(steps) => find_direct(root, steps),
            JsonPath::Query(query, _) => match jsonpath_rust::query::js_path_process(query, root) {
                Ok(found) => matches(found.into_iter().map(|r| r.val).filter(|v| !v.is_null())),
                Err(_) => Ok(None),
            },
        }
    }
}

/// The value at a direct path's `steps` from `from` (as [`JsonPath::find`] returns it).
fn find_direct<'a>(from: &'a Value, steps: &[Step]) -> Found<'a> {
    let found = steps.iter().try_fold(from, |v, step| match step {
        Step::Member(name) => v.as_object()?.get(name),
        Step::Index(i) => v.as_array()?.get(*i),
        Step::Elements => Some(v),
    });
    let Some(found) = found else {
        return Ok(None);
    };
    if steps.last() != Some(&Step::Elements) {
        return Ok((!found.is_null()).then_some(Cow::Borrowed(found)));
    }
    let present = |v: &&Value| !v.is_null();
    match found {
        // Two or more elements and none null: the matches are the array itself.
        Value::Array(a) if a.len() > 1 && !a.iter().any(Value::is_null) => {
            Ok(Some(Cow::Borrowed(found)))
        }
        Value::Array(a) => matches(a.iter().filter(present)),
        Value::Object(o) => matches(o.values().filter(present)),
        _ => Ok(None),
    }
}

/// Several matches make an array; one match is itself; none is none. The array is copied only
/// within [`MAX_VALUE_BYTES`]: a path matching much of a large event stops early.
fn matches<'a>(mut found: impl Iterator<Item = &'a Value>) -> Found<'a> {
    let Some(first) = found.next() else {
        return Ok(None);
    };
    let Some(second) = found.next() else {
        return Ok(Some(Cow::Borrowed(first)));
    };
    let mut room = MAX_VALUE_BYTES;
    let mut all = Vec::new();
    for value in [first, second].into_iter().chain(found) {
        room = room
            .checked_sub(1)
            .and_then(|room| value_room(value, room))
            .ok_or(Unreadable::TooLarge)?;
        all.push(value.clone());
    }
    Ok(Some(Cow::Owned(Value::Array(all))))
}

impl Lookup {
    /// The value this lookup reads in `event` and its `inputs`.
    pub(crate) fn find<'a>(&self, event: &Event<'a>, inputs: &Inputs<'a>) -> Found<'a> {
        match self {
            Lookup::Attribute { slot, .. } => Ok(inputs
                .attributes
                .get(*slot as usize)
                .copied()
                .flatten()
                .map(Cow::Borrowed)),
            Lookup::Path(path) => path.find(event.value()),
            Lookup::Item { lookup, path, .. } => match inputs.items.get(*lookup) {
                Some(Fetched::Item(item)) => path.find(item),
                Some(Fetched::Missing) => Ok(None),
                Some(Fetched::Failed(failure)) => Err(Unreadable::Lookup(*lookup, *failure)),
                None => Err(Unreadable::Lookup(*lookup, LookupFailure::NotFetched)),
            },
        }
    }
}

impl Template {
    /// Renders the template, or `None` when any placeholder's source is missing. Rendering stops
    /// as soon as the text would pass [`MAX_VALUE_BYTES`].
    pub(crate) fn render(
        &self,
        event: &Event,
        inputs: &Inputs,
    ) -> Result<Option<String>, Unreadable> {
        let mut out = String::with_capacity(self.capacity);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(lookup) => {
                    let Some(value) = lookup.find(event, inputs)? else {
                        return Ok(None);
                    };
                    MAX_VALUE_BYTES
                        .checked_sub(out.len())
                        .and_then(|room| value_room(&value, room))
                        .ok_or(Unreadable::TooLarge)?;
                    match value.as_ref() {
                        Value::String(s) => out.push_str(s),
                        other => out.push_str(&text_of(other)),
                    }
                }
            }
        }
        if out.len() > MAX_VALUE_BYTES {
            return Err(Unreadable::TooLarge);
        }
        Ok(Some(out))
    }
}

impl Source {
    /// The source's value for `event` and its `inputs`, or `None` when the source is missing.
    /// Values found in the event, the items or the mapping are borrowed, not copied.
    pub(crate) fn resolve<'a>(&'a self, event: &Event<'a>, inputs: &Inputs<'a>) -> Found<'a> {
        match self {
            Source::From(lookups) => {
                for lookup in lookups {
                    if let Some(value) = lookup.find(event, inputs)? {
                        return Ok(Some(value));
                    }
                }
                Ok(None)
            }
            Source::Constant(v) => Ok(Some(Cow::Borrowed(v))),
            Source::Template(t) => Ok(t
                .render(event, inputs)?
                .map(|s| Cow::Owned(Value::String(s)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::source::{MAX_JSONPATH_LEN, direct_steps, is_query};
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
        let names = crate::mapping::compile::number_names(
            source.lookups_mut().filter_map(Lookup::attribute_slot),
        );
        let items = Items::none();
        let inputs = Inputs {
            attributes: names.iter().map(|n| event.attribute(n)).collect(),
            items: &items,
        };
        source
            .resolve(&event, &inputs)
            .unwrap()
            .map(Cow::into_owned)
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
        assert_eq!(
            path("$.xs[*]").find(&e),
            Ok(Some(Cow::Owned(json!([1, 2]))))
        );
        assert_eq!(path("$.ys[*]").find(&e), Ok(Some(Cow::Borrowed(&json!(3)))));
        assert!(
            matches!(path("$.zs[*]").find(&e), Ok(Some(Cow::Borrowed(v))) if *v == json!([4, 5]))
        );
        assert!(Lookup::parse("$.[").is_err());
        assert!(Lookup::parse(&format!("$.{}", "a".repeat(MAX_JSONPATH_LEN))).is_err());
    }

    #[test]
    fn matches_are_copied_only_within_the_value_cap() {
        let many = Value::Array(vec![json!("x"); MAX_VALUE_BYTES]);
        let e = json!({"request": {"clientMetadata": {"many": many}}});
        let path = |s| JsonPath::compile(s).unwrap();
        // Borrowed whole: no copy, so no cap here (the rule checks the value it gets).
        assert!(path("$.request.clientMetadata.many[*]").find(&e).is_ok());
        assert_eq!(
            path("$.request.clientMetadata.many[?@ == 'x']").find(&e),
            Err(Unreadable::TooLarge)
        );
        assert_eq!(path("$..*").find(&e), Err(Unreadable::TooLarge));
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
            assert!(matches!(direct, JsonPath::Direct(_)), "{path}");
            let query = JsonPath::Query(
                jsonpath_rust::parser::parse_json_path(path).unwrap(),
                path.to_owned(),
            );
            assert_eq!(direct.find(&e), query.find(&e), "{path}");
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
                    matches!(p, JsonPath::Query(..)),
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
                let query = JsonPath::Query(query.unwrap(), text.clone());
                proptest::prop_assert_eq!(JsonPath::Direct(direct).find(&e), query.find(&e), "{}", text);
            }
        }
    }

    #[test]
    fn item_paths_count_as_queries_when_they_are_not_plain() {
        assert!(!is_query("lookup.tenant.plan"));
        assert!(!is_query("lookup.tenant"));
        assert!(!is_query("lookup.tenant.entitlements[*]"));
        assert!(is_query("lookup.tenant.entitlements[?@ == 'a']"));
        assert!(is_query("lookup.tenant..plan"));
        assert!(!is_query("custom:plan"));
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
