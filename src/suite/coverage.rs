//! Which parts of a mapping its test cases pin down (`claim-mapper test --coverage`).
//!
//! A part (a rule, a scope added, a suppression, a step of the group pipeline) counts as covered
//! only when a case that passes with the whole mapping fails without that part: reading the cases
//! cannot tell a rule no case looks at from one a case pins. Each part is removed in turn and
//! every case run again, which costs the parts times the cases, each a few microseconds.

use std::collections::HashSet;

use time::Date;

use super::file::Case;
use crate::engine::{self, Observer, RuleOutcome, Stage};
use crate::mapping::parts::{GroupStep, Part};
use crate::mapping::{Mapping, Rule, RuleId};

/// What became of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// A case fails without it.
    Covered,
    /// Some case makes it apply, but no case fails without it: nothing looks at what it does.
    NotAsserted,
    /// No case makes it apply.
    NeverApplied,
}

/// One part of the mapping and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartCoverage {
    /// The part.
    pub part: Part,
    /// How reports name it (`rule 3 (claim `birthdate`)`).
    pub name: String,
    /// Covered or why not.
    pub state: State,
}

/// The coverage of one mapping by the cases run against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Every part, in file order.
    pub parts: Vec<PartCoverage>,
    /// The cases that pass with the whole mapping (only they can pin a part).
    pub passing: usize,
    /// How many times a case was run to find it out.
    pub runs: usize,
}

impl Coverage {
    /// How many parts are covered.
    pub fn covered(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| p.state == State::Covered)
            .count()
    }

    /// The covered share, in percent (100 for a mapping without parts).
    pub fn percent(&self) -> f64 {
        if self.parts.is_empty() {
            return 100.0;
        }
        100.0 * self.covered() as f64 / self.parts.len() as f64
    }
}

/// What the cases make apply, seen as they run.
#[derive(Default)]
struct Applied {
    rules: HashSet<RuleId>,
    /// Steps that changed the groups in some case.
    steps: HashSet<GroupStep>,
    /// Whether the pipeline gathered a group in some case.
    gathered: bool,
    /// The groups after the step before (to tell whether a step changed them).
    last: Option<Vec<String>>,
}

impl Observer for Applied {
    fn rule(&mut self, rule: &Rule, outcome: &RuleOutcome) {
        if *outcome == RuleOutcome::Applied {
            self.rules.insert(rule.id.clone());
        }
    }

    fn group_stage(&mut self, stage: Stage, groups: &[String]) {
        let step = match stage {
            Stage::Gathered => {
                self.gathered |= !groups.is_empty();
                self.last = Some(groups.to_vec());
                return;
            }
            Stage::DroppedIdpGroup => GroupStep::DropIdpGroup,
            Stage::Kept => GroupStep::Keep,
            Stage::Renamed => GroupStep::Rename,
            Stage::Capped => GroupStep::Max,
        };
        if self.last.as_deref() != Some(groups) {
            self.steps.insert(step);
        }
        self.last = Some(groups.to_vec());
    }
}

/// The coverage of `mapping` by `cases`, each run as of its date.
pub fn coverage(mapping: &Mapping, cases: &[(&Case, Date)]) -> Coverage {
    let passing: Vec<&(&Case, Date)> = cases
        .iter()
        .filter(|(case, day)| case.run(mapping, *day).passed())
        .collect();
    let mut runs = cases.len();
    let mut applied = Applied::default();
    let mut replies = Vec::new();
    for (case, day) in cases {
        applied.last = None;
        let reply = engine::apply_known(mapping, case.event(), case.items(), *day, &mut applied);
        replies.extend(reply.ok());
    }
    runs += cases.len();
    let parts = mapping
        .parts()
        .into_iter()
        .map(|part| {
            let without = mapping.without(part);
            runs += passing.len();
            let pinned = passing
                .iter()
                .any(|(case, day)| !case.run(&without, *day).passed());
            let state = if pinned {
                State::Covered
            } else if was_applied(mapping, part, &applied, &replies) {
                State::NotAsserted
            } else {
                State::NeverApplied
            };
            PartCoverage {
                part,
                name: mapping.describe(part),
                state,
            }
        })
        .collect();
    Coverage {
        parts,
        passing: passing.len(),
        runs,
    }
}

/// Whether some case made `part` apply: a rule applied, a scope or suppression in a response, a
/// step that changed the groups.
fn was_applied(
    mapping: &Mapping,
    part: Part,
    applied: &Applied,
    replies: &[engine::OwnedReply],
) -> bool {
    let responses = || replies.iter().map(engine::OwnedReply::response);
    match part {
        Part::Rule(i) => applied.rules.contains(&mapping.rules[i].id),
        Part::ScopeAdd(i) => {
            let scope = &mapping.scopes_add[i].scope;
            responses().any(|r| r.access.scopes_add.contains(scope))
        }
        Part::Suppress(token, i) => responses().any(|r| {
            let (view, list) = match token {
                crate::cognito::Token::Id => (&r.id, &mapping.suppress_id),
                crate::cognito::Token::Access => (&r.access, &mapping.suppress_access),
            };
            view.changes.suppress.contains(&list[i])
        }),
        Part::ScopeSuppress(i) => {
            let scope = &mapping.scopes_suppress[i];
            responses().any(|r| r.access.scopes_suppress.contains(scope))
        }
        Part::Groups(GroupStep::From(_)) => applied.gathered,
        Part::Groups(GroupStep::Roles) => {
            responses().any(|r| r.groups.as_ref().is_some_and(|g| !g.roles.is_empty()))
        }
        Part::Groups(step) => applied.steps.contains(&step),
    }
}
