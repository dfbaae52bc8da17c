//! `when:` conditions on rules and scopes: their format and their compiled form.

use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::limits::{self, Costs};
use super::problems::Problems;
use super::source::{Lookup, is_query};
use crate::cognito::{self, Field};
use crate::diagnostics::Written;
use crate::diagnostics::errors::did_you_mean;

/// Conditions; each listed one must hold.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "When")]
pub(crate) struct RawWhen {
    /// The user is in any of these groups (after the group pipeline, when there is one).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(length(min = 1))]
    groups: Option<Vec<String>>,
    /// The app client (`callerContext.clientId`) is one of these.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(length(min = 1))]
    clients: Option<Vec<String>>,
    /// The trigger source is one of these.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::trigger_list")]
    triggers: Option<Vec<String>>,
    /// User attributes, by name, and what each must be.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::value_conditions")]
    attributes: Option<serde_yaml::Mapping>,
    /// Values anywhere in the event, by JSONPath, and what each must be.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::value_conditions")]
    paths: Option<serde_yaml::Mapping>,
}

/// Conditions that must all hold for a rule or scope to apply (at least one: a rule or scope
/// without any has no `Condition`). An absent list always holds.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The user is in any of these groups.
    pub(crate) groups: Option<Vec<String>>,
    /// `callerContext.clientId` is one of these.
    pub(crate) clients: Option<Vec<String>>,
    /// `triggerSource` is one of these.
    pub(crate) triggers: Option<Vec<String>>,
    /// Conditions on values (`attributes`, then `paths`, each in the order written).
    pub(crate) values: Vec<ValueCondition>,
}

/// A condition on one value of the event.
#[derive(Debug, Clone)]
pub(crate) struct ValueCondition {
    /// `attributes.NAME` or `paths.PATH`: how `explain` and the logs name the condition (never
    /// with the value).
    pub(crate) key: String,
    /// Where the value is read.
    pub(crate) lookup: Lookup,
    /// What the value must be.
    pub(crate) test: ValueTest,
    /// Whether it reads a user attribute (by name, or a path that may): then it never holds for
    /// an event without a user (client credentials).
    pub(crate) reads_user: bool,
}

/// What a value must be for its [`ValueCondition`] to hold. A value is present when the event
/// has it and it is not null; strings compare as they are, numbers and booleans as their JSON
/// text (`12`, `true`); a list (what a path matching several nodes finds, too) passes when one
/// of its items does; objects never equal or match.
#[derive(Debug, Clone)]
pub(crate) enum ValueTest {
    /// Present and one of these texts.
    OneOf(Vec<String>),
    /// Present (`true`) or absent (`false`).
    Present(bool),
    /// Present and matched by this regular expression (anywhere, unless anchored).
    Matches(Regex),
}

impl ValueTest {
    /// Compiles what a value must be: a value or a list of values (one of them), `{present:
    /// true|false}` or `{matches: REGEX}`. Problems are reported as (path below `path`, message).
    fn compile(raw: &Yaml, path: &str, written: &Written, problems: &mut Problems) -> Option<Self> {
        const SHAPE: &str = "a condition is a value, a list of values (the value is one of \
                             them), `{present: true}`, `{present: false}` or `{matches: REGEX}`";
        match raw {
            Yaml::Sequence(items) if items.is_empty() => {
                problems.add(path, "an empty list never matches; list values");
                None
            }
            Yaml::Sequence(items) => {
                let mut texts = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}[{i}]");
                    match compared_text(item, written.plain(&at)) {
                        Ok(text) => texts.push(text),
                        Err(why) => problems.add(at, why),
                    }
                }
                (texts.len() == items.len()).then_some(ValueTest::OneOf(texts))
            }
            Yaml::Mapping(tests) if tests.len() == 1 => {
                let (key, value) = tests.iter().next()?;
                match key.as_str() {
                    Some("present") => match value {
                        Yaml::Bool(present) => Some(ValueTest::Present(*present)),
                        _ => {
                            problems.add(format!("{path}.present"), "`present` is true or false");
                            None
                        }
                    },
                    Some("matches") => {
                        let Some(pattern) = value.as_str() else {
                            problems.add(
                                format!("{path}.matches"),
                                "`matches` is a regular expression, as a string",
                            );
                            return None;
                        };
                        match limits::regex(pattern) {
                            Ok(regex) => Some(ValueTest::Matches(regex)),
                            Err(why) => {
                                problems.add(format!("{path}.matches"), why);
                                None
                            }
                        }
                    }
                    other => {
                        let name = other.unwrap_or("?");
                        let hint = did_you_mean(name, ["present", "matches"])
                            .map(|m| format!(": did you mean `{m}`?"))
                            .unwrap_or_default();
                        problems.add(
                            format!("{path}.{name}"),
                            format!("unknown condition `{name}`{hint} ({SHAPE})"),
                        );
                        None
                    }
                }
            }
            Yaml::Mapping(_) => {
                problems.add(
                    path,
                    "a condition has one test, `present` or `matches`, not both (a value that \
                     matches is present)",
                );
                None
            }
            Yaml::Null => {
                problems.add(path, format!("the condition is empty: {SHAPE}"));
                None
            }
            scalar => match compared_text(scalar, written.plain(path)) {
                Ok(text) => Some(ValueTest::OneOf(vec![text])),
                Err(why) => {
                    problems.add(path, why);
                    None
                }
            },
        }
    }
}

/// The text a listed value is compared as (Cognito sends every attribute as a string): a string
/// as written; an integer or a boolean as its text (`12` matches `"12"`), when that is what was
/// written (`written`: how the unquoted scalar was written). YAML reads `+44` as the number 44,
/// `0x1A` as 26, `True` as true and `1.50` as 1.5: compared as their YAML text they would match
/// what the mapping does not say, so they are refused, with the quoted form that compares as
/// written.
pub(crate) fn compared_text(value: &Yaml, written: Option<&str>) -> Result<String, String> {
    let (read, kind) = match value {
        Yaml::String(s) => return Ok(s.clone()),
        Yaml::Bool(b) => (b.to_string(), "the boolean"),
        Yaml::Number(n) if n.is_i64() || n.is_u64() => (n.to_string(), "the number"),
        Yaml::Number(n) => (n.to_string(), "the decimal number"),
        _ => return Err("a listed value is a string, an integer or a boolean".into()),
    };
    let written = written.unwrap_or(&read);
    if written == read && kind != "the decimal number" {
        return Ok(read);
    }
    Err(format!(
        "YAML reads `{written}` as {kind} {read}, and values compare as text: write it quoted \
         ('{written}') to compare the text as written"
    ))
}

impl RawWhen {
    /// What the conditions as written cost, as the load-time limits count them: `matches`
    /// regexes, and paths that are not plain paths. Counted before anything is compiled.
    pub(crate) fn costs(&self) -> Costs {
        // Every key, by name: a new one does not compile until it is counted here (or said to
        // cost nothing).
        let RawWhen {
            groups: _,
            clients: _,
            triggers: _,
            attributes,
            paths,
        } = self;
        let mut costs = Costs::default();
        for (kind, tests) in [("attributes", attributes), ("paths", paths)] {
            for (name, test) in tests.iter().flatten() {
                let matches = test.get("matches");
                costs.regexes += usize::from(matches.is_some());
                costs.regex_positions += matches
                    .and_then(|m| m.as_str())
                    .map_or(0, limits::pattern_positions);
                if kind == "paths" {
                    costs.queries += usize::from(name.as_str().is_some_and(is_query));
                }
            }
        }
        costs
    }
}

impl Condition {
    /// Compiles a `when:` (`None` when absent), reporting each problem as (field path, message).
    pub(crate) fn compile(
        raw: Option<&RawWhen>,
        path: &str,
        written: &Written,
        problems: &mut Problems,
    ) -> Option<Condition> {
        // Every key, by name: a new one does not compile until it is compiled here.
        let RawWhen {
            groups,
            clients,
            triggers,
            attributes,
            paths,
        } = raw?;
        for (key, list) in [
            ("groups", groups),
            ("clients", clients),
            ("triggers", triggers),
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                problems.add(
                    format!("{path}.{key}"),
                    "an empty list never matches; remove the key or list values",
                );
            }
        }
        for (i, trigger) in triggers.iter().flatten().enumerate() {
            if !cognito::TRIGGER_SOURCES.contains(&trigger.as_str()) {
                problems.add(
                    format!("{path}.triggers[{i}]"),
                    format!(
                        "unknown trigger source `{trigger}`; known: {}",
                        cognito::TRIGGER_SOURCES.join(", ")
                    ),
                );
            }
        }
        for (i, client) in clients.iter().flatten().enumerate() {
            if let Some(reason) = cognito::client_id_restriction(client) {
                problems.add(format!("{path}.clients[{i}]"), reason);
            }
        }
        let mut values = Vec::new();
        for (kind, tests) in [("attributes", attributes), ("paths", paths)] {
            let Some(tests) = tests else { continue };
            if tests.is_empty() {
                problems.add(
                    format!("{path}.{kind}"),
                    format!("`{kind}` lists no condition; remove it or name values"),
                );
            }
            for (name, test) in tests {
                let Some(name) = name.as_str() else {
                    problems.add(
                        format!("{path}.{kind}"),
                        format!("`{kind}` is keyed by names, as strings"),
                    );
                    continue;
                };
                let key = format!("{kind}.{name}");
                let here = format!("{path}.{key}");
                let lookup = match kind {
                    "attributes" => attribute_lookup(name),
                    _ => path_lookup(name),
                };
                let lookup = lookup.map_err(|why| problems.add(here.clone(), why)).ok();
                let test = ValueTest::compile(test, &here, written, problems);
                if let (Some(lookup), Some(test)) = (lookup, test) {
                    let reads_user = match &lookup {
                        Lookup::Attribute { .. } => true,
                        Lookup::Path(path) => path.user_attributes().is_some(),
                        Lookup::Item { .. } => false,
                    };
                    values.push(ValueCondition {
                        key,
                        lookup,
                        test,
                        reads_user,
                    });
                }
            }
        }
        let any = groups.is_some()
            || clients.is_some()
            || triggers.is_some()
            || attributes.is_some()
            || paths.is_some();
        if !any {
            problems.add(
                path.to_owned(),
                "`when` lists no condition, so it would hold for every user: leave `when` out for \
                 a rule that always applies, or list `groups`, `clients`, `triggers`, \
                 `attributes` or `paths`",
            );
        }
        any.then(|| Condition {
            groups: groups.clone(),
            clients: clients.clone(),
            triggers: triggers.clone(),
            values,
        })
    }

    /// The lookups of the value conditions, for numbering the mapping's attributes.
    pub(crate) fn lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        self.values.iter_mut().map(|v| &mut v.lookup)
    }
}

/// The value conditions of a `when`, if any.
pub(crate) fn value_conditions(when: &Option<Condition>) -> &[ValueCondition] {
    when.as_ref().map_or(&[], |w| &w.values)
}

/// An `attributes:` key: an attribute name, not a JSONPath.
fn attribute_lookup(name: &str) -> Result<Lookup, String> {
    if name.starts_with('$') {
        return Err(format!(
            "`{name}` is a JSONPath: put it under `paths`; `attributes` takes attribute names"
        ));
    }
    match Lookup::parse(name)? {
        Lookup::Item { .. } => Err(format!(
            "`{name}` reads a lookup's item: conditions decide from the event alone, before any \
             lookup is made; read the item in the rule's `from` and shape it with transforms"
        )),
        lookup => Ok(lookup),
    }
}

/// A `paths:` key: a JSONPath that does not read the response, which is what the function writes
/// (Cognito sends it empty).
fn path_lookup(text: &str) -> Result<Lookup, String> {
    if !text.starts_with('$') {
        return Err(format!(
            "a path starts with `$`; for the attribute `{text}`, use `attributes`"
        ));
    }
    let lookup = Lookup::parse(text)?;
    if let Lookup::Path(path) = &lookup
        && path.starts_at(Field::Response)
    {
        return Err(
            "a condition cannot read `response`: it is what the function writes, and \
                    Cognito sends it empty"
                .into(),
        );
    }
    Ok(lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> (Option<Condition>, Vec<(String, String)>) {
        let raw: RawWhen = serde_yaml::from_str(yaml).unwrap();
        // The document the paths are in: `when:` holding `yaml`.
        let indented: String = yaml.lines().map(|l| format!("  {l}\n")).collect();
        let document = format!("when:\n{indented}");
        let written = Written::new(&document);
        let mut problems = Problems::default();
        let condition = Condition::compile(Some(&raw), "when", &written, &mut problems);
        let found = problems.found.into_iter().map(|f| (f.path, f.message));
        (condition, found.collect())
    }

    #[test]
    fn value_conditions_compile_in_the_order_written() {
        let (condition, problems) = compile(
            "attributes:\n  custom:tier: [gold, 2, true]\n  custom:org: {present: false}\n  \
             email: {matches: '@example\\.com$'}\n  custom:role: admin\n\
             paths:\n  $.request.clientMetadata.step_up: [done]\n",
        );
        assert_eq!(problems, vec![]);
        let values = condition.unwrap().values;
        let keys: Vec<&str> = values.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "attributes.custom:tier",
                "attributes.custom:org",
                "attributes.email",
                "attributes.custom:role",
                "paths.$.request.clientMetadata.step_up"
            ]
        );
        assert!(matches!(&values[0].test, ValueTest::OneOf(v) if v == &["gold", "2", "true"]));
        assert!(matches!(values[1].test, ValueTest::Present(false)));
        assert!(matches!(values[2].test, ValueTest::Matches(_)));
        assert!(matches!(&values[3].test, ValueTest::OneOf(v) if v == &["admin"]));
    }

    #[test]
    fn what_cannot_work_is_refused_with_its_field() {
        let cases = [
            (
                "attributes:\n  custom:tier: []\n",
                "when.attributes.custom:tier",
                "empty list",
            ),
            (
                "attributes:\n  custom:tier: [1.5]\n",
                "when.attributes.custom:tier[0]",
                "quoted",
            ),
            (
                "attributes:\n  custom:country_code: +44\n",
                "when.attributes.custom:country_code",
                "('+44')",
            ),
            (
                "attributes:\n  custom:code: [0x1A, 7]\n",
                "when.attributes.custom:code[0]",
                "('0x1A')",
            ),
            (
                "attributes:\n  custom:flag: [True]\n",
                "when.attributes.custom:flag[0]",
                "('True')",
            ),
            (
                "attributes:\n  custom:n: 1e3\n",
                "when.attributes.custom:n",
                "('1e3')",
            ),
            (
                "attributes:\n  custom:tier: [[a]]\n",
                "when.attributes.custom:tier[0]",
                "string",
            ),
            (
                "attributes:\n  email: {matches: '('}\n",
                "when.attributes.email.matches",
                "regular expression",
            ),
            (
                "attributes:\n  email: {present: yes}\n",
                "when.attributes.email.present",
                "true or false",
            ),
            (
                "attributes:\n  email: {presnt: true}\n",
                "when.attributes.email.presnt",
                "did you mean `present`",
            ),
            (
                "attributes:\n  email: {present: true, matches: a}\n",
                "when.attributes.email",
                "one test",
            ),
            ("attributes:\n  email:\n", "when.attributes.email", "empty"),
            (
                "attributes:\n  $.request.x: [a]\n",
                "when.attributes.$.request.x",
                "under `paths`",
            ),
            ("attributes: {}\n", "when.attributes", "no condition"),
            (
                "paths:\n  custom:tier: [a]\n",
                "when.paths.custom:tier",
                "starts with `$`",
            ),
            (
                "paths:\n  $.response.claimsOverrideDetails: {present: true}\n",
                "when.paths.$.response.claimsOverrideDetails",
                "cannot read `response`",
            ),
            (
                "paths:\n  $.response..x: {present: true}\n",
                "when.paths.$.response..x",
                "cannot read `response`",
            ),
            (
                "paths:\n  $.request[: [a]\n",
                "when.paths.$.request[",
                "JSONPath",
            ),
        ];
        for (yaml, field, message) in cases {
            let (_, problems) = compile(yaml);
            assert!(
                problems
                    .iter()
                    .any(|(f, m)| f == field && m.contains(message)),
                "{yaml}: {problems:?}"
            );
        }
    }
}
