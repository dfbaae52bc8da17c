//! `claim-mapper explain`: for one event, every rule in order with its outcome, the group
//! pipeline step by step, and the final response. It runs the Lambda's own code path
//! ([`engine::apply`]) and reports what it observed, as text for people or as JSON.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use time::Date;

use crate::cognito::CLIENT_CREDENTIALS;
use crate::engine::{self, Event, KnownItems, Observer, RuleOutcome, Shape, Stage, Unmet};
use crate::mapping::inputs::Read;
use crate::mapping::overlay::Dropped;
use crate::mapping::{Mapping, Rule, RuleId};

#[derive(Default)]
struct Recorder {
    rules: HashMap<RuleId, String>,
    stages: Vec<(Stage, Vec<String>)>,
    /// Each `scopes.add` entry's outcome, by index.
    scopes: HashMap<usize, String>,
}

impl Observer for Recorder {
    fn rule(&mut self, rule: &Rule, outcome: &RuleOutcome) {
        self.rules.insert(rule.id.clone(), outcome.to_string());
    }

    fn group_stage(&mut self, stage: Stage, groups: &[String]) {
        self.stages.push((stage, groups.to_vec()));
    }

    fn scope_add(&mut self, index: usize, unmet: Option<Unmet<'_>>) {
        let outcome = match unmet {
            None => "added".to_owned(),
            Some(unmet) => RuleOutcome::ConditionFalse(unmet).to_string(),
        };
        self.scopes.insert(index, outcome);
    }
}

/// Why a value read from `request.clientMetadata` may be missing (Developer Guide, "Pre token
/// generation Lambda trigger").
const CLIENT_METADATA_FLOWS: &str = "clientMetadata reaches this trigger from \
    RespondToAuthChallenge, GetTokensFromRefreshToken and the token endpoint's \
    aws_client_metadata only: not from InitiateAuth, its refresh flow or managed login";

/// What the mapping did to one event.
#[derive(Debug)]
pub struct Explanation {
    /// `triggerSource`, `version` and `callerContext.clientId` (`-` when absent).
    trigger: String,
    version: String,
    client: String,
    /// The overlays that apply, in precedence order.
    overlays: Vec<String>,
    /// The group pipeline's steps with the groups after each; `None` without a pipeline.
    groups: Option<Vec<(Stage, Vec<String>)>>,
    /// Every rule that could apply, in precedence order: (rule, claim, outcome).
    rules: Vec<(String, String, String)>,
    /// Every scope the mapping adds or suppresses: (place, scope, outcome).
    scopes: Vec<(String, String, String)>,
    /// Every lookup the mapping declares: (name, outcome).
    lookups: Vec<(String, String)>,
    /// The warnings (what the engine worked around, the rules skipped under `on_error: skip`)
    /// and the response; or the error the Lambda returns.
    result: Result<(Vec<String>, Value), String>,
}

/// Explains what `mapping` does to `event` as of `today`.
pub fn explain(mapping: &Mapping, event: Value, items: &KnownItems, today: Date) -> Explanation {
    let dash = |s: Option<&str>| s.filter(|s| !s.is_empty()).unwrap_or("-").to_owned();
    let view = match Event::new(&event) {
        Ok(view) => view,
        Err(e) => {
            return Explanation {
                trigger: "-".into(),
                version: "-".into(),
                client: "-".into(),
                overlays: Vec::new(),
                groups: None,
                rules: Vec::new(),
                scopes: Vec::new(),
                lookups: Vec::new(),
                result: Err(format!("event refused: {e}")),
            };
        }
    };
    let client = view.client_id();
    let trigger = view.trigger_source().to_owned();
    let plan = mapping.plans.select(client, &trigger);
    // Rules in precedence order: base rules, then the overlays that apply to this event.
    let mut listed: Vec<(u32, Option<&Dropped>)> = plan
        .rules
        .iter()
        .map(|&i| (i, None))
        .chain(plan.dropped.iter().map(|(i, why)| (*i, Some(why))))
        .collect();
    listed.sort_by_key(|(i, _)| *i);
    let mut overlays: Vec<String> = Vec::new();
    for (i, _) in &listed {
        if let RuleId::Overlay(overlay, _) = &mapping.rules[*i as usize].id {
            let key = overlay.to_string();
            if !overlays.contains(&key) {
                overlays.push(key);
            }
        }
    }

    // Rules whose value or condition reads `request.clientMetadata`: missing from most flows.
    let reads_metadata: Vec<String> = mapping
        .inputs()
        .into_iter()
        .filter(|input| matches!(input.read, Read::ClientMetadata))
        .map(|input| input.place)
        .collect();
    let mut recorder = Recorder::default();
    let result = engine::apply_known(mapping, &event, items, today, &mut recorder);
    let lookups = match engine::plan_lookups(mapping, &event) {
        Ok(mut plan) => {
            plan.answer_from(items);
            let states = (0..mapping.lookups().len()).map(|i| plan.state(i).to_string());
            mapping
                .lookups()
                .iter()
                .map(|l| l.name.clone())
                .zip(states)
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let rules = listed
        .iter()
        .map(|(i, dropped)| {
            let rule = &mapping.rules[*i as usize];
            let outcome = match dropped {
                Some(Dropped::Disabled(by)) => format!("not run: disabled by {by}"),
                Some(Dropped::Replaced(by)) => format!("not run: replaced by {by}"),
                None => recorder
                    .rules
                    .get(&rule.id)
                    .cloned()
                    .unwrap_or_else(|| "not reached: an earlier rule failed".into()),
            };
            let outcome = if outcome == "skipped: source missing"
                && reads_metadata.contains(&format!("rule {}", rule.id))
            {
                format!("{outcome} ({CLIENT_METADATA_FLOWS})")
            } else {
                outcome
            };
            (rule.id.to_string(), rule.claim.clone(), outcome)
        })
        .collect();
    // Scopes are the access token's: a version 1 event has none to change; an event the Lambda
    // fails stops before them.
    let not_run = if view.shape() == Shape::V1 {
        "not run: a version 1 event has no access token to change"
    } else {
        "not reached: an earlier rule failed"
    };
    let suppressed = if view.shape() == Shape::V1 || result.is_err() {
        not_run
    } else {
        "suppressed"
    };
    let scopes = mapping
        .scopes_add
        .iter()
        .enumerate()
        .map(|(i, add)| {
            let outcome = recorder.scopes.get(&i).cloned();
            let outcome = outcome.unwrap_or_else(|| not_run.to_owned());
            (format!("scopes.add[{i}]"), add.scope.clone(), outcome)
        })
        .chain(
            mapping
                .scopes_suppress
                .iter()
                .enumerate()
                .map(|(i, scope)| {
                    let place = format!("scopes.suppress[{i}]");
                    (place, scope.clone(), suppressed.to_owned())
                }),
        )
        .collect();
    Explanation {
        trigger: dash(Some(&trigger)),
        version: dash(view.version()),
        client: dash(client),
        overlays,
        groups: mapping.groups.is_some().then_some(recorder.stages),
        rules,
        scopes,
        lookups,
        result: result
            .map(|done| {
                let response = done.event.get("response").cloned().unwrap_or_default();
                (done.warnings(), response)
            })
            .map_err(|e| format!("the Lambda returns the error `{e}`")),
    }
}

impl Explanation {
    /// Whether the event was processed (false: the Lambda would return an error).
    pub fn processed(&self) -> bool {
        self.result.is_ok()
    }

    /// The explanation for people.
    pub fn to_human(&self) -> String {
        if let Err(refused) = &self.result
            && refused.starts_with("event refused")
        {
            return format!("{refused}\n");
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "trigger {}  version {}  client {}",
            self.trigger, self.version, self.client
        );
        if !self.overlays.is_empty() {
            let _ = writeln!(out, "overlays: {}", self.overlays.join(", "));
        }
        if !self.lookups.is_empty() {
            let _ = writeln!(out, "\nlookups:");
            for (name, outcome) in &self.lookups {
                let _ = writeln!(out, "  {name:<24} {outcome}");
            }
        }
        if let Some(stages) = &self.groups {
            let _ = writeln!(out, "\ngroups:");
            if stages.is_empty() {
                let why = if self.trigger == CLIENT_CREDENTIALS {
                    "client-credentials tokens have no user groups"
                } else {
                    "the event's groups cannot be read (see the warning)"
                };
                let _ = writeln!(out, "  not applied: {why}");
            }
            for (stage, groups) in stages {
                let _ = writeln!(out, "  {:<15} {groups:?}", stage.name());
            }
        }
        let _ = writeln!(out, "\nrules:");
        let width = self
            .rules
            .iter()
            .map(|(id, ..)| id.len())
            .max()
            .unwrap_or(0);
        for (id, claim, outcome) in &self.rules {
            let _ = writeln!(out, "  rule {id:<width$}  {claim:<24} {outcome}");
        }
        if self.rules.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        if !self.scopes.is_empty() {
            let _ = writeln!(out, "\nscopes:");
            let width = self.scopes.iter().map(|(place, ..)| place.len()).max();
            let width = width.unwrap_or(0);
            for (place, scope, outcome) in &self.scopes {
                let _ = writeln!(out, "  {place:<width$}  {scope:<24} {outcome}");
            }
        }
        match &self.result {
            Err(error) => {
                let _ = writeln!(out, "\nresult: {error}");
            }
            Ok((skipped, response)) => {
                for warning in skipped {
                    let _ = writeln!(out, "warning: {warning}");
                }
                let _ = writeln!(
                    out,
                    "\nresponse:\n{}",
                    serde_json::to_string_pretty(response).unwrap_or_default()
                );
            }
        }
        out
    }

    /// The explanation as one JSON object: `trigger`, `version`, `client`, `overlays`, `groups`
    /// (each step with its groups; `null` without a pipeline), `rules` (`rule`, `claim`,
    /// `outcome`), `scopes` (`place`, `scope`, `outcome`), for a mapping with lookups `lookups`
    /// (`lookup`, `outcome`), then `warnings` and `response`, or `error`.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "trigger": self.trigger,
            "version": self.version,
            "client": self.client,
            "overlays": self.overlays,
            "groups": self.groups.as_ref().map(|stages| stages
                .iter()
                .map(|(stage, groups)| json!({"step": stage.name(), "groups": groups}))
                .collect::<Vec<_>>()),
            "rules": self.rules
                .iter()
                .map(|(rule, claim, outcome)| json!({"rule": rule, "claim": claim, "outcome": outcome}))
                .collect::<Vec<_>>(),
            "scopes": self.scopes
                .iter()
                .map(|(place, scope, outcome)| json!({"place": place, "scope": scope, "outcome": outcome}))
                .collect::<Vec<_>>(),
        });
        if !self.lookups.is_empty() {
            out["lookups"] = self
                .lookups
                .iter()
                .map(|(lookup, outcome)| json!({"lookup": lookup, "outcome": outcome}))
                .collect();
        }
        match &self.result {
            Ok((skipped, response)) => {
                out["warnings"] = json!(skipped);
                out["response"] = response.clone();
            }
            Err(error) => out["error"] = json!(error),
        }
        out
    }
}
