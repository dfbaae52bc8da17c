//! Lookups for one event, in two steps around the fetch the shell makes: [`plan_lookups`] says
//! which items the event needs and under which keys, the shell fetches them (from DynamoDB, a
//! fixture file, its cache) into the plan, and [`super::apply_with`] applies the mapping with
//! the [`Items`]. The engine never fetches: it stays free of clocks, networks and the AWS SDK.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use time::Date;

use super::condition::Held;
use super::event::{Event, EventError};
use super::failure::ApplyError;
use super::items::{Fetched, Items, LookupFailure};
use super::observe::Observer;
use super::response::{OwnedReply, Reply};
use super::source::Inputs;
use crate::cognito::CLIENT_CREDENTIALS;
use crate::diagnostics::errors::yaml_error_parts;
use crate::mapping::Mapping;
use crate::mapping::lookups::{KeyValue, TableLookup};
use crate::mapping::source::{Lookup, Source};

/// One item an event needs: the lookup and the key its values render to.
#[derive(Debug, Clone)]
pub struct LookupRequest<'m> {
    /// The lookup.
    pub lookup: &'m TableLookup,
    /// Its index in the mapping's lookups.
    pub(crate) index: u32,
    /// The key: (attribute, value) pairs, partition key first. Values are the user's data:
    /// never logged.
    pub key: Vec<(&'m str, String)>,
}

/// The lookups an event needs, and the items fetched for them so far.
#[derive(Debug, Clone)]
pub struct LookupPlan<'m> {
    requests: Vec<LookupRequest<'m>>,
    items: Items,
}

impl<'m> LookupPlan<'m> {
    /// The items to fetch, each lookup at most once.
    pub fn requests(&self) -> &[LookupRequest<'m>] {
        &self.requests
    }

    /// Records what fetching `request` (one of [`Self::requests`]) gave.
    pub fn fill(&mut self, request: &LookupRequest<'m>, fetched: Fetched) {
        if let Some(slot) = self.items.fetched.get_mut(request.index as usize) {
            *slot = Some(fetched);
        }
    }

    /// The items, for [`super::apply_with`].
    pub fn into_items(self) -> Items {
        self.items
    }

    /// What became of the mapping's lookup at `index` (in [`Mapping::lookups`] order).
    pub fn state(&self, index: usize) -> LookupState<'_> {
        let fetched = self.items.fetched.get(index).and_then(Option::as_ref);
        if self.requests.iter().any(|r| r.index as usize == index) {
            return fetched.map_or(LookupState::Unanswered, LookupState::Answered);
        }
        match fetched {
            Some(_) => LookupState::NoKey,
            None => LookupState::NotNeeded,
        }
    }
}

/// What became of one lookup for an event, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LookupState<'p> {
    /// No rule that applies reads it: it is not fetched.
    NotNeeded,
    /// A value its key is built from is missing: no item is read.
    NoKey,
    /// Requested, and not answered yet.
    Unanswered,
    /// Requested and answered.
    Answered(&'p Fetched),
}

impl fmt::Display for LookupState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupState::NotNeeded => f.write_str("not read: no rule that applies needs it"),
            LookupState::NoKey => f.write_str("not read: a value its key is built from is missing"),
            LookupState::Unanswered => write!(f, "failed: {}", LookupFailure::NotFetched),
            LookupState::Answered(Fetched::Item(_)) => f.write_str("item found"),
            LookupState::Answered(Fetched::Missing) => f.write_str("no item under its key"),
            LookupState::Answered(Fetched::Failed(failure)) => write!(f, "failed: {failure}"),
        }
    }
}

/// Which lookups `event` needs under `mapping`, with their keys: those read by a rule of the
/// event's plan that has a token to write and whose condition holds, a `from:` list's item only
/// when no source before it finds a value. A lookup whose key reads a value the event lacks is
/// not fetched: rules reading it find no item. Cheap for a mapping without lookups: no plan is
/// made.
pub fn plan_lookups<'m>(mapping: &'m Mapping, event: &Value) -> Result<LookupPlan<'m>, EventError> {
    let mut plan = LookupPlan {
        requests: Vec::new(),
        items: Items {
            fetched: vec![None; mapping.lookups.len()],
        },
    };
    if mapping.lookups.is_empty() {
        return Ok(plan);
    }
    let event = Event::new(event)?;
    let no_items = Items::none();
    let inputs = Inputs::new(mapping, &event, &no_items);
    let mut needed = vec![false; mapping.lookups.len()];
    let id_token = event.trigger_source() != CLIENT_CREDENTIALS;
    let access_token = event.shape() != super::Shape::V1;
    // Conditions read the event alone (a condition cannot read an item), so they are known now,
    // `when.groups` on the pipeline's groups as the evaluation will see them.
    let piped = mapping
        .groups
        .as_ref()
        .filter(|_| id_token && !event.groups_unreadable())
        .map(|pipeline| pipeline.run(&event, |_, _| {}));
    let groups = Held::new(&event, piped.as_ref().map(|g| g.groups.as_slice()));
    let rules = mapping
        .plans
        .select(event.client_id(), event.trigger_source())
        .rules
        .iter()
        .map(|&i| &mapping.rules[i as usize]);
    for rule in rules {
        let writes = (rule.to_id && id_token) || (rule.to_access && access_token);
        let reads_items = rule
            .source
            .lookups()
            .0
            .iter()
            .any(|l| matches!(l, Lookup::Item { .. }));
        if !writes || !reads_items {
            continue;
        }
        if let Some(when) = &rule.when
            && when.check(&event, &inputs, &groups).is_err()
        {
            continue;
        }
        match &rule.source {
            Source::From(lookups) => {
                for lookup in lookups {
                    match lookup {
                        Lookup::Item { lookup, .. } => needed[*lookup as usize] = true,
                        other => {
                            if matches!(other.find(&event, &inputs), Ok(Some(_))) {
                                break;
                            }
                        }
                    }
                }
            }
            Source::Template(t) => {
                for lookup in t.lookups() {
                    if let Lookup::Item { lookup, .. } = lookup {
                        needed[*lookup as usize] = true;
                    }
                }
            }
            Source::Constant(_) => {}
        }
    }
    for (index, lookup) in mapping.lookups.iter().enumerate() {
        if !needed[index] {
            continue;
        }
        match key_of(lookup, &event, &inputs) {
            Some(key) => plan.requests.push(LookupRequest {
                lookup,
                // MAX_LOOKUPS bounds the index.
                index: index as u32,
                key,
            }),
            None => plan.items.fetched[index] = Some(Fetched::Missing),
        }
    }
    Ok(plan)
}

/// The key `lookup` reads for `event`, or `None` when a value it is built from is missing or
/// renders empty (DynamoDB refuses an empty key value).
fn key_of<'m>(
    lookup: &'m TableLookup,
    event: &Event,
    inputs: &Inputs,
) -> Option<Vec<(&'m str, String)>> {
    lookup
        .key
        .iter()
        .map(|(name, value)| {
            let value = match value {
                KeyValue::Constant(text) => text.clone(),
                KeyValue::Template(t) => t.render(event, inputs).ok().flatten()?,
            };
            (!value.is_empty()).then_some((name.as_str(), value))
        })
        .collect()
}

/// Items known ahead, by lookup name: what a dry-run's `--lookup-items` file and a suite case's
/// `lookups:` give instead of a table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct KnownItems(BTreeMap<String, Vec<KnownItem>>);

/// One known answer: the key, and the item under it, or that there is none, or that the read
/// fails.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownItem {
    /// The key, as the lookup's `key:` renders it: `{pk: "TENANT#acme"}`.
    key: BTreeMap<String, String>,
    /// The item, as JSON (DynamoDB's strings, numbers, booleans, lists and maps).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    item: Option<Value>,
    /// `true`: the table has no item under the key.
    #[serde(default)]
    missing: bool,
    /// The read fails: `timed_out`, `over_budget`, `throttled` or `error`.
    #[serde(default)]
    fails: Option<LookupFailure>,
}

impl KnownItems {
    /// Reads known items from YAML (or JSON) `text`, from `origin`: every problem, each with its
    /// line and column where the parser gives one.
    pub fn from_yaml(text: &str, origin: &str) -> Result<KnownItems, Vec<String>> {
        let known: KnownItems = serde_yaml::from_str(text).map_err(|e| {
            let (location, field, message) = yaml_error_parts(text, &e);
            let at = location.map_or(String::new(), |l| format!("{}:{}:", l.line, l.column));
            let field = if field.is_empty() {
                String::new()
            } else {
                format!(" field `{field}`:")
            };
            vec![format!("{origin}:{at}{field} {message}")]
        })?;
        let problems = known.problems();
        if problems.is_empty() {
            Ok(known)
        } else {
            Err(problems
                .into_iter()
                .map(|p| format!("{origin}: {p}"))
                .collect())
        }
    }

    /// Why the items cannot stand for reads, if they cannot: an entry must give exactly one of
    /// `item`, `missing: true` and `fails`; an item is a JSON object.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, entries) in &self.0 {
            for (i, entry) in entries.iter().enumerate() {
                let given = [entry.item.is_some(), entry.missing, entry.fails.is_some()];
                if given.iter().filter(|&&g| g).count() != 1 {
                    problems.push(format!(
                        "{name}[{i}]: give exactly one of `item`, `missing: true` and `fails`"
                    ));
                }
                if entry.item.as_ref().is_some_and(|item| !item.is_object()) {
                    problems.push(format!(
                        "{name}[{i}].item: an item is a map of its attributes"
                    ));
                }
            }
        }
        problems
    }

    /// Records what `request` found (an item, no item, or how the read failed; a read not made
    /// is not recorded), as a live read answers a dry-run.
    pub fn insert(&mut self, request: &LookupRequest, fetched: Fetched) {
        let (item, missing, fails) = match fetched {
            Fetched::Item(item) => (Some(item), false, None),
            Fetched::Missing => (None, true, None),
            Fetched::Failed(LookupFailure::NotFetched) => return,
            Fetched::Failed(failure) => (None, false, Some(failure)),
        };
        let key = request
            .key
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        self.0
            .entry(request.lookup.name.clone())
            .or_default()
            .push(KnownItem {
                key,
                item,
                missing,
                fails,
            });
    }

    /// What `request` reads, when known.
    fn answer(&self, request: &LookupRequest) -> Option<Fetched> {
        let entry = self.0.get(&request.lookup.name)?.iter().find(|entry| {
            entry.key.len() == request.key.len()
                && request
                    .key
                    .iter()
                    .all(|(name, value)| entry.key.get(*name) == Some(value))
        })?;
        Some(match (&entry.item, entry.fails) {
            (Some(item), _) => Fetched::Item(item.clone()),
            (None, Some(failure)) => Fetched::Failed(failure),
            (None, None) => Fetched::Missing,
        })
    }
}

impl LookupPlan<'_> {
    /// Answers every request `known` has an answer for; the others stay unanswered (a rule
    /// reading them fails as [`LookupFailure::NotFetched`]).
    pub fn answer_from(&mut self, known: &KnownItems) {
        for i in 0..self.requests.len() {
            if let Some(fetched) = known.answer(&self.requests[i]) {
                let index = self.requests[i].index as usize;
                self.items.fetched[index] = Some(fetched);
            }
        }
    }
}

/// Plans `event`'s lookups, answers them from `known`, and applies `mapping` with the items: the
/// whole path for reports and suites, which keep their reply.
pub fn apply_known(
    mapping: &Mapping,
    event: &Value,
    known: &KnownItems,
    today: Date,
    observer: &mut (impl Observer + ?Sized),
) -> Result<OwnedReply, ApplyError> {
    let mut plan = plan_lookups(mapping, event)?;
    plan.answer_from(known);
    let items = plan.into_items();
    super::apply_with(mapping, event, &items, today, observer).and_then(Reply::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ApplyError, FailureReason, OwnedReply};
    use serde_json::json;

    const TODAY: Date = time::macros::date!(2026 - 12 - 07);

    /// A mapping with a `tenant` lookup keyed by `custom:tenant_id`, then `claims`.
    fn mapping(claims: &str) -> Mapping {
        let yaml = format!(
            "version: 1\nlookups:\n  tenant:\n    table: tenants\n    key: {{pk: 'TENANT#{{custom:tenant_id}}'}}\n  region:\n    table: regions\n    key: {{id: '{{$.region}}'}}\nclaims:\n{claims}"
        );
        Mapping::from_yaml(&yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn event(version: &str, attributes: Value, groups: &[&str]) -> Value {
        json!({
            "version": version,
            "triggerSource": "TokenGeneration_Authentication",
            "region": "eu-west-1",
            "callerContext": {"clientId": "web"},
            "request": {
                "userAttributes": attributes,
                "groupConfiguration": {"groupsToOverride": groups},
            },
            "response": {}
        })
    }

    /// The lookups an event needs, as (name, key values).
    fn needed(m: &Mapping, e: &Value) -> Vec<(String, Vec<String>)> {
        plan_lookups(m, e)
            .unwrap()
            .requests()
            .iter()
            .map(|r| {
                let key = r.key.iter().map(|(n, v)| format!("{n}={v}")).collect();
                (r.lookup.name.clone(), key)
            })
            .collect()
    }

    fn known(yaml: &str) -> KnownItems {
        KnownItems::from_yaml(yaml, "items.yaml").unwrap()
    }

    fn access_claims(reply: &OwnedReply) -> Value {
        reply.event["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
            ["claimsToAddOrOverride"]
            .clone()
    }

    #[test]
    fn only_lookups_read_by_rules_that_apply_are_planned() {
        let m = mapping(
            "  - {claim: plan, from: lookup.tenant.plan, when: {groups: [admins]}}\n  - {claim: r, from: lookup.region.name, tokens: [access]}\n",
        );
        let tenant = event("2", json!({"custom:tenant_id": "acme"}), &["admins"]);
        assert_eq!(
            needed(&m, &tenant),
            [
                ("region".to_owned(), vec!["id=eu-west-1".to_owned()]),
                ("tenant".to_owned(), vec!["pk=TENANT#acme".to_owned()]),
            ]
        );
        // The condition does not hold: no read.
        let other = event("2", json!({"custom:tenant_id": "acme"}), &["staff"]);
        assert_eq!(needed(&m, &other).len(), 1);
        // Version 1 has no access token: the access-only rule needs nothing.
        let v1 = event("1", json!({"custom:tenant_id": "acme"}), &["staff"]);
        assert!(needed(&m, &v1).is_empty());
        // No lookups at all: nothing is planned.
        let plain = Mapping::from_yaml("version: 1\n", "t.yaml").unwrap();
        assert!(needed(&plain, &tenant).is_empty());
    }

    #[test]
    fn a_from_list_reads_an_item_only_when_the_sources_before_it_are_missing() {
        let m = mapping("  - {claim: plan, from: [custom:plan, lookup.tenant.plan]}\n");
        let has_plan = event(
            "2",
            json!({"custom:tenant_id": "acme", "custom:plan": "gold"}),
            &[],
        );
        assert!(needed(&m, &has_plan).is_empty());
        let no_plan = event("2", json!({"custom:tenant_id": "acme"}), &[]);
        assert_eq!(needed(&m, &no_plan).len(), 1);
    }

    #[test]
    fn the_group_pipeline_decides_conditions_as_in_the_evaluation() {
        // `admins` comes from an attribute through the pipeline, not from Cognito's groups.
        let m = Mapping::from_yaml(
            "version: 1\nlookups:\n  tenant: {table: tenants, key: {pk: '{custom:tenant_id}'}}\ngroups:\n  from: [cognito, {attribute: custom:roles}]\nclaims:\n  - {claim: plan, from: lookup.tenant.plan, when: {groups: [admins]}}\n",
            "t.yaml",
        )
        .unwrap();
        let e = event(
            "2",
            json!({"custom:tenant_id": "acme", "custom:roles": "[admins]"}),
            &[],
        );
        assert_eq!(needed(&m, &e).len(), 1);
    }

    #[test]
    fn groups_the_evaluation_cannot_read_are_not_piped_for_the_plan_either() {
        // The pipeline would make `admins` from the attribute, but the event's groups are
        // unreadable: the evaluation runs no pipeline, so the rule does not apply and its item
        // is not read.
        let m = Mapping::from_yaml(
            "version: 1\nlookups:\n  tenant: {table: tenants, key: {pk: '{custom:tenant_id}'}}\ngroups:\n  from: [cognito, {attribute: custom:roles}]\nclaims:\n  - {claim: plan, from: lookup.tenant.plan, when: {groups: [admins]}}\n",
            "t.yaml",
        )
        .unwrap();
        let mut e = event(
            "2",
            json!({"custom:tenant_id": "acme", "custom:roles": "[admins]"}),
            &[],
        );
        e["request"]["groupConfiguration"]["groupsToOverride"] = json!("admins");
        assert!(needed(&m, &e).is_empty());
    }

    #[test]
    fn items_found_missing_and_failed_reach_the_rules() {
        let m = mapping(
            "  - {claim: plan, from: lookup.tenant.plan, default: free}\n  - {claim: seats, from: lookup.tenant.limits.seats}\n  - {claim: label, template: '{lookup.tenant.plan}/{$.region}'}\n",
        );
        let run = |tenant: &str, items: &str| {
            let e = event("2", json!({"custom:tenant_id": tenant}), &[]);
            apply_known(&m, &e, &known(items), TODAY, &mut ())
        };
        let found = run(
            "acme",
            "tenant:\n  - {key: {pk: 'TENANT#acme'}, item: {plan: gold, limits: {seats: 5}}}\n",
        )
        .unwrap();
        assert_eq!(
            access_claims(&found),
            json!({"label": "gold/eu-west-1", "plan": "gold", "seats": 5})
        );
        let missing = run(
            "acme",
            "tenant:\n  - {key: {pk: 'TENANT#acme'}, missing: true}\n",
        )
        .unwrap();
        assert_eq!(access_claims(&missing), json!({"plan": "free"}));
        assert!(missing.warnings().is_empty());
        // A failed read is not a missing item: the default is not used, the rule is skipped.
        let failed = run(
            "acme",
            "tenant:\n  - {key: {pk: 'TENANT#acme'}, fails: throttled}\n",
        )
        .unwrap();
        assert_eq!(access_claims(&failed), json!({}));
        assert_eq!(failed.warnings().len(), 3, "{:?}", failed.warnings());
        assert!(failed.warnings()[0].contains("lookup `tenant`: throttled by the table"));
        // No answer given for the key: the rules say so.
        let unanswered = run(
            "other",
            "tenant:\n  - {key: {pk: 'TENANT#acme'}, missing: true}\n",
        )
        .unwrap();
        assert!(unanswered.warnings()[0].contains("no item was given for its key"));
    }

    #[test]
    fn a_lookup_with_on_error_fail_refuses_the_sign_in_under_a_skipping_mapping() {
        let m = Mapping::from_yaml(
            "version: 1\non_error: skip\nlookups:\n  tenant: {table: tenants, key: {pk: '{custom:tenant_id}'}, on_error: fail}\nclaims:\n  - {claim: plan, from: lookup.tenant.plan}\n",
            "t.yaml",
        )
        .unwrap();
        let e = event("2", json!({"custom:tenant_id": "acme"}), &[]);
        let items = known("tenant:\n  - {key: {pk: acme}, fails: timed_out}\n");
        match apply_known(&m, &e, &items, TODAY, &mut ()) {
            Err(ApplyError::Rule(failure)) => assert!(matches!(
                failure.reason,
                FailureReason::Lookup {
                    failure: LookupFailure::TimedOut,
                    ..
                }
            )),
            other => panic!("expected the rule's failure, got {other:?}"),
        }
        let found = known("tenant:\n  - {key: {pk: acme}, item: {plan: gold}}\n");
        assert!(apply_known(&m, &e, &found, TODAY, &mut ()).is_ok());
    }

    #[test]
    fn a_key_missing_a_value_reads_no_item() {
        let m = mapping("  - {claim: plan, from: lookup.tenant.plan, default: free}\n");
        let e = event("2", json!({"email": "a@example.com"}), &[]);
        let plan = plan_lookups(&m, &e).unwrap();
        assert!(plan.requests().is_empty());
        assert_eq!(plan.state(1), LookupState::NoKey);
        // The region lookup is not read by any rule.
        assert_eq!(plan.state(0), LookupState::NotNeeded);
        let reply = apply_known(&m, &e, &KnownItems::default(), TODAY, &mut ()).unwrap();
        assert_eq!(access_claims(&reply), json!({"plan": "free"}));
    }

    #[test]
    fn known_items_say_what_is_wrong_with_them() {
        let problems = KnownItems::from_yaml(
            "tenant:\n  - {key: {pk: a}}\n  - {key: {pk: b}, item: {x: 1}, missing: true}\n  - {key: {pk: c}, item: [1]}\n",
            "items.yaml",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("items.yaml: tenant[0]: give exactly one of"));
        let parse =
            KnownItems::from_yaml("tenant:\n  - {key: {pk: a}, fails: slow}\n", "items.yaml")
                .unwrap_err();
        assert!(parse[0].starts_with("items.yaml:2:"), "{parse:?}");
        assert!(parse[0].contains("timed_out"), "{parse:?}");
    }
}
