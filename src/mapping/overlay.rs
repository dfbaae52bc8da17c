//! Overlays (`clients:` and `triggers:`): rule sets applied on top of the base rules for one app
//! client or one trigger source, and the choice, per event, of which rules run.
//!
//! Precedence: the base rules, then the overlay of the event's trigger source, then the overlay
//! of its app client (the most specific wins). A layer's `disable` removes every earlier rule for
//! those claims; each of its rules replaces every earlier rule for the same claim. Every
//! combination is resolved at load time into a [`Plan`]: per event, choosing is two map lookups.

use super::rule_id::Overlay;
use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::Deserialize;

use super::problems::Problems;
use super::rule::{self, RawRule, Rule};
use crate::cognito::Token;
use crate::diagnostics::Written;

/// Most `clients:` overlays in one mapping.
pub const MAX_CLIENT_OVERLAYS: usize = 100;

/// An overlay as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Overlay")]
pub(crate) struct RawOverlay {
    /// Rules for this client or trigger source; each replaces the earlier rules of its claim.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(crate) claims: Vec<RawRule>,
    /// Claims whose earlier rules do not apply here.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    pub(crate) disable: Vec<String>,
}

/// A compiled overlay.
pub(crate) struct Layer {
    /// `clients.<id>` or `triggers.<source>`.
    pub(crate) key: Overlay,
    /// Its rules, as indexes into the mapping's rules.
    pub(crate) rules: Vec<u32>,
    /// The claims its rules set.
    pub(crate) claims: HashSet<String>,
    /// Claims it disables.
    pub(crate) disable: HashSet<String>,
}

/// Compiles one overlay; its `disable` entries must name claims that `earlier` layers set.
/// Sets, not lists: a hostile mapping may hold a very long `disable` list.
pub(super) fn compile_layer(
    key: Overlay,
    raw: &RawOverlay,
    earlier: &HashSet<String>,
    default_tokens: &[Token],
    written: &Written,
    rules: &mut Vec<Rule>,
    problems: &mut Problems,
) -> Layer {
    if raw.claims.is_empty() && raw.disable.is_empty() {
        problems.add(
            key.to_string(),
            "an overlay with neither `claims` nor `disable` changes nothing; remove it, or list \
             what it changes",
        );
    }
    let indexes = rule::compile_rules(
        &raw.claims,
        Some(&key),
        default_tokens,
        written,
        rules,
        problems,
    );
    let own: HashSet<&str> = raw.claims.iter().map(|r| r.claim.as_str()).collect();
    for (i, claim) in raw.disable.iter().enumerate() {
        let path = format!("{key}.disable[{i}]");
        if !earlier.contains(claim) {
            problems.add(
                path,
                format!("no earlier rule sets `{claim}`, so there is nothing to disable"),
            );
        } else if own.contains(claim.as_str()) {
            problems.add(
                path,
                format!("`{claim}` is also set by this overlay, which already replaces the earlier rules"),
            );
        }
    }
    let claims = indexes
        .iter()
        .map(|&i| rules[i as usize].claim.clone())
        .collect();
    Layer {
        key,
        rules: indexes,
        claims,
        disable: raw.disable.iter().cloned().collect(),
    }
}

/// Why a rule does not run for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// The overlay named disables its claim.
    Disabled(Overlay),
    /// A rule of the overlay named sets the same claim.
    Replaced(Overlay),
}

/// The rules that run for one (client, trigger source) combination, in order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Indexes into the mapping's rules.
    pub rules: Vec<u32>,
    /// Rules of earlier layers that overlays removed, and why (for `explain`).
    pub dropped: Vec<(u32, Dropped)>,
}

/// Every plan of a mapping (at least one: the base rules alone).
#[derive(Debug, Clone)]
pub struct Plans {
    clients: HashMap<String, usize>,
    triggers: HashMap<String, usize>,
    plans: Vec<Plan>,
}

impl Plans {
    /// Resolves every combination of `triggers` and `clients` layers over `base`.
    pub(crate) fn build(
        rules: &[Rule],
        base: Vec<u32>,
        triggers: Vec<(String, Layer)>,
        clients: Vec<(String, Layer)>,
    ) -> Plans {
        let mut plans = Vec::with_capacity((clients.len() + 1) * (triggers.len() + 1));
        for client in std::iter::once(None).chain(clients.iter().map(|(_, l)| Some(l))) {
            for trigger in std::iter::once(None).chain(triggers.iter().map(|(_, l)| Some(l))) {
                let mut plan = Plan {
                    rules: base.clone(),
                    dropped: Vec::new(),
                };
                for layer in [trigger, client].into_iter().flatten() {
                    plan.rules.retain(|&i| {
                        let claim = &rules[i as usize].claim;
                        let why = if layer.disable.contains(claim) {
                            Dropped::Disabled(layer.key.clone())
                        } else if layer.claims.contains(claim) {
                            Dropped::Replaced(layer.key.clone())
                        } else {
                            return true;
                        };
                        plan.dropped.push((i, why));
                        false
                    });
                    plan.rules.extend_from_slice(&layer.rules);
                }
                plans.push(plan);
            }
        }
        let slots = |layers: Vec<(String, Layer)>| {
            layers
                .into_iter()
                .enumerate()
                .map(|(i, (key, _))| (key, i + 1))
                .collect()
        };
        Plans {
            triggers: slots(triggers),
            clients: slots(clients),
            plans,
        }
    }

    /// The plan for an event from `client` with `trigger` as its trigger source.
    pub(crate) fn select(&self, client: Option<&str>, trigger: &str) -> &Plan {
        if self.plans.len() == 1 {
            return &self.plans[0];
        }
        let width = self.triggers.len() + 1;
        let t = self.triggers.get(trigger).copied().unwrap_or(0);
        let c = client
            .and_then(|c| self.clients.get(c).copied())
            .unwrap_or(0);
        &self.plans[c * width + t]
    }

    /// Every plan (for load-time checks).
    pub fn all(&self) -> &[Plan] {
        &self.plans
    }

    /// Takes the rule at `index` out of every plan (for test coverage: the mapping without it).
    pub(crate) fn remove_rule(&mut self, index: u32) {
        for plan in &mut self.plans {
            plan.rules.retain(|&i| i != index);
            plan.dropped.retain(|(i, _)| *i != index);
        }
    }
}
