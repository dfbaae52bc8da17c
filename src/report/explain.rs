//! `claim-mapper explain`: for one event, every rule in order with its outcome, the group
//! pipeline step by step, and the final response. It runs the Lambda's own code path
//! ([`engine::apply`]) and reports what it observed.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;
use time::Date;

use crate::engine::{self, Event, Observer, Reply, RuleOutcome, Stage};
use crate::mapping::overlay::Dropped;
use crate::mapping::{Mapping, Rule, RuleId};

#[derive(Default)]
struct Recorder {
    rules: HashMap<RuleId, String>,
    stages: Vec<(Stage, Vec<String>)>,
}

impl Observer for Recorder {
    fn rule(&mut self, rule: &Rule, outcome: &RuleOutcome) {
        self.rules.insert(rule.id.clone(), outcome.to_string());
    }

    fn group_stage(&mut self, stage: Stage, groups: &[String]) {
        self.stages.push((stage, groups.to_vec()));
    }
}

/// Explains what `mapping` does to `event` as of `today`. The second value is whether the event
/// was processed (false: the Lambda would return an error).
pub fn explain(mapping: &Mapping, event: Value, today: Date) -> (String, bool) {
    let mut out = String::new();
    let view = match Event::new(&event) {
        Ok(view) => view,
        Err(e) => {
            let _ = writeln!(out, "event refused: {e}");
            return (out, false);
        }
    };
    let client = view.client_id();
    let trigger = view.trigger_source().to_owned();
    let _ = writeln!(
        out,
        "trigger {}  version {}  client {}",
        if trigger.is_empty() { "-" } else { &trigger },
        view.version().unwrap_or("-"),
        client.unwrap_or("-")
    );
    let plan = mapping.plans.select(client, &trigger);
    // Rules in precedence order: base rules, then the overlays that apply to this event.
    let mut listed: Vec<(u32, Option<&Dropped>)> = plan
        .rules
        .iter()
        .map(|&i| (i, None))
        .chain(plan.dropped.iter().map(|(i, why)| (*i, Some(why))))
        .collect();
    listed.sort_by_key(|(i, _)| *i);
    let mut overlays: Vec<&str> = Vec::new();
    for (i, _) in &listed {
        if let RuleId::Overlay(key, _) = &mapping.rules[*i as usize].id
            && !overlays.contains(&&**key)
        {
            overlays.push(key);
        }
    }
    if !overlays.is_empty() {
        let _ = writeln!(out, "overlays: {}", overlays.join(", "));
    }

    let mut recorder = Recorder::default();
    let result = engine::apply(mapping, &event, today, &mut recorder).and_then(Reply::into_owned);

    if mapping.groups.is_some() {
        let _ = writeln!(out, "\ngroups:");
        if recorder.stages.is_empty() {
            let _ = writeln!(
                out,
                "  not applied: client-credentials tokens have no user groups"
            );
        }
        for (stage, groups) in &recorder.stages {
            let _ = writeln!(out, "  {:<15} {groups:?}", stage.name());
        }
    }

    let _ = writeln!(out, "\nrules:");
    let width = listed
        .iter()
        .map(|(i, _)| mapping.rules[*i as usize].id.to_string().len())
        .max()
        .unwrap_or(0);
    for (i, dropped) in &listed {
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
        let _ = writeln!(
            out,
            "  rule {:<width$}  {:<24} {outcome}",
            rule.id.to_string(),
            rule.claim
        );
    }
    if listed.is_empty() {
        let _ = writeln!(out, "  (none)");
    }

    let processed = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = writeln!(out, "\nresult: the Lambda returns the error `{e}`");
            return (out, false);
        }
    };
    for warning in &processed.skipped {
        let _ = writeln!(out, "warning: {warning}");
    }
    let response = processed.event.get("response").cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "\nresponse:\n{}",
        serde_json::to_string_pretty(&response).unwrap_or_default()
    );
    (out, true)
}
