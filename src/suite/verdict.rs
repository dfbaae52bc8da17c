//! A case run against a mapping, exactly as the Lambda applies it, and every expectation that
//! does not hold.

use time::Date;

use super::file::{Case, TokenExpect};
use crate::engine::{self, ApplyError, RuleFailure, TokenView};
use crate::mapping::Mapping;

/// What became of one case.
#[derive(Debug, Clone)]
pub struct Verdict<'s> {
    /// The case.
    pub case: &'s Case,
    /// Every expectation that did not hold; none when the case passed.
    pub mismatches: Vec<Mismatch>,
}

/// An expectation that did not hold. The values shown are the case's own (its event is the
/// test's, not a user's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was checked: `id.claims.admin`, `access.scopes_added`, `groups`, `error`.
    pub what: String,
    /// What the case expects.
    pub expected: String,
    /// What the mapping did.
    pub actual: String,
}

impl Verdict<'_> {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

impl Case {
    /// Runs the case against `mapping`, with `age` counting from `today`.
    pub fn run(&self, mapping: &Mapping, today: Date) -> Verdict<'_> {
        let mut mismatches = Vec::new();
        let mut differs = |what: &str, expected: String, actual: String| {
            mismatches.push(Mismatch {
                what: what.to_owned(),
                expected,
                actual,
            })
        };
        let result = engine::apply_known(mapping, &self.event, &self.items, today, &mut ());
        match (result, &self.expect.error) {
            (Err(ApplyError::Rule(failure)), Some(rule)) => {
                let actual = format!("rule {}", failure.rule);
                if actual != *rule {
                    differs(
                        "error",
                        rule.clone(),
                        format!("fails on {actual}: {}", failure.reason),
                    );
                }
            }
            (Err(e), Some(rule)) => differs("error", rule.clone(), e.to_string()),
            (Err(e), None) => differs("outcome", "a response".into(), e.to_string()),
            (Ok(_), Some(rule)) => {
                differs("error", rule.clone(), "a response: no rule failed".into())
            }
            (Ok(reply), None) => {
                let response = reply.response();
                let skipped = &reply.skipped;
                check_token("id", &self.expect.id, &response.id, skipped, &mut differs);
                check_token(
                    "access",
                    &self.expect.access,
                    &response.access,
                    skipped,
                    &mut differs,
                );
                if let Some(groups) = &self.expect.groups {
                    let actual = response.groups.map(|g| g.groups);
                    if actual.as_ref() != Some(groups) {
                        differs(
                            "groups",
                            json_text(groups),
                            actual.map_or("no group override".into(), |g| json_text(&g)),
                        );
                    }
                }
            }
        }
        Verdict {
            case: self,
            mismatches,
        }
    }
}

fn check_token(
    token: &str,
    expect: &TokenExpect,
    view: &TokenView,
    skipped: &[RuleFailure],
    differs: &mut impl FnMut(&str, String, String),
) {
    let added = &view.changes.add;
    for (claim, wanted) in &expect.claims {
        match added.get(claim) {
            Some(actual) if actual == wanted => {}
            Some(actual) => differs(
                &format!("{token}.claims.{claim}"),
                json_text(wanted),
                json_text(actual),
            ),
            None => differs(
                &format!("{token}.claims.{claim}"),
                json_text(wanted),
                not_added(claim, skipped),
            ),
        }
    }
    for claim in &expect.absent {
        if let Some(actual) = added.get(claim) {
            differs(
                &format!("{token}.absent.{claim}"),
                "not added".into(),
                json_text(actual),
            );
        }
    }
    for scope in expect
        .scopes_absent
        .iter()
        .filter(|s| view.scopes_add.contains(s))
    {
        differs(
            &format!("{token}.scopes_absent"),
            format!("{} not added", json_text(scope)),
            format!("added: {}", json_text(&view.scopes_add)),
        );
    }
    let lists = [
        ("suppressed", &expect.suppressed, &view.changes.suppress),
        ("scopes_added", &expect.scopes_added, &view.scopes_add),
        (
            "scopes_suppressed",
            &expect.scopes_suppressed,
            &view.scopes_suppress,
        ),
    ];
    for (key, wanted, actual) in lists {
        for name in wanted.iter().filter(|n| !actual.contains(n)) {
            differs(
                &format!("{token}.{key}"),
                format!("to include {}", json_text(name)),
                json_text(actual),
            );
        }
    }
}

/// "not added", with why when a rule for `claim` failed and was skipped (`on_error: skip`).
fn not_added(claim: &str, skipped: &[RuleFailure]) -> String {
    let why: Vec<String> = skipped
        .iter()
        .filter(|f| f.claim == claim)
        .map(|f| format!("rule {} skipped: {}", f.rule, f.reason))
        .collect();
    if why.is_empty() {
        "not added".into()
    } else {
        format!("not added ({})", why.join("; "))
    }
}

/// A value as JSON text.
fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
