//! What changes between two mappings, shown as the per-token claim and scope differences they
//! make on the same events.

use std::fmt::Write as _;

use super::dry_run::EventRun;
use crate::engine::GroupOverride;
use crate::engine::Shape;
use crate::engine::TokenView;

/// The differences one event shows between `before` and `after`, as report lines; empty when
/// both mappings give the same response.
pub fn event_diff(before: &EventRun, after: &EventRun) -> Vec<String> {
    let mut lines = Vec::new();
    match (&before.result, &after.result) {
        (Ok(b), Ok(a)) => {
            let (b, a) = (b.response(), a.response());
            token_diff(&mut lines, "id token", &b.id, &a.id);
            if after
                .result
                .as_ref()
                .is_ok_and(|a| a.shape == Shape::V2AndV3)
            {
                token_diff(&mut lines, "access token", &b.access, &a.access);
            }
            if b.groups != a.groups {
                let show = |g: &Option<GroupOverride>| match g {
                    None => "as Cognito has them".to_owned(),
                    Some(g) => format!("{:?}", g.groups),
                };
                lines.push(format!(
                    "  groups: {} -> {}",
                    show(&b.groups),
                    show(&a.groups)
                ));
            }
        }
        (Err(b), Err(a)) if a == b => {}
        (b, a) => {
            let state = |r: &Result<_, String>| match r {
                Ok(_) => "succeeds".to_owned(),
                Err(e) => format!("fails: {e}"),
            };
            lines.push(format!("  before {}; after {}", state(b), state(a)));
        }
    }
    lines
}

fn token_diff(lines: &mut Vec<String>, title: &str, before: &TokenView, after: &TokenView) {
    let mut changes = Vec::new();
    let (b, a) = (&before.changes.add, &after.changes.add);
    for (claim, value) in a {
        match b.get(claim) {
            None => changes.push(format!("    + {claim} = {value}")),
            Some(old) if old != value => changes.push(format!("    ~ {claim}: {old} -> {value}")),
            Some(_) => {}
        }
    }
    for (claim, value) in b {
        if !a.contains_key(claim) {
            changes.push(format!("    - {claim} (was {value})"));
        }
    }
    list_diff(
        &mut changes,
        "suppressed",
        &before.changes.suppress,
        &after.changes.suppress,
    );
    list_diff(
        &mut changes,
        "scope added",
        &before.scopes_add,
        &after.scopes_add,
    );
    list_diff(
        &mut changes,
        "scope suppressed",
        &before.scopes_suppress,
        &after.scopes_suppress,
    );
    if !changes.is_empty() {
        lines.push(format!("  {title}:"));
        lines.extend(changes);
    }
}

fn list_diff(changes: &mut Vec<String>, what: &str, before: &[String], after: &[String]) {
    for item in after.iter().filter(|i| !before.contains(i)) {
        changes.push(format!("    + {what} {item}"));
    }
    for item in before.iter().filter(|i| !after.contains(i)) {
        changes.push(format!("    - {what} {item}"));
    }
}

/// The differences as JSON lines, one per event: `{"file", "changed", "differences"}` (each
/// difference as `report` writes it); the second value is how many events change.
pub fn json_lines(pairs: &[(EventRun, EventRun)]) -> (String, usize) {
    let mut out = String::new();
    let mut changed = 0;
    for (before, after) in pairs {
        let lines: Vec<String> = event_diff(before, after)
            .iter()
            .map(|l| l.trim_start().to_owned())
            .collect();
        changed += usize::from(!lines.is_empty());
        let line = serde_json::json!({
            "file": after.file.display().to_string(),
            "changed": !lines.is_empty(),
            "differences": lines,
        });
        let _ = writeln!(out, "{line}");
    }
    (out, changed)
}

/// The whole report for people: one block per event that changes, then a count; the second value
/// is how many events change.
pub fn report(pairs: &[(EventRun, EventRun)]) -> (String, usize) {
    let mut out = String::new();
    let mut changed = 0;
    for (before, after) in pairs {
        let lines = event_diff(before, after);
        if lines.is_empty() {
            let _ = writeln!(out, "{}: no changes", after.file.display());
        } else {
            changed += 1;
            let _ = writeln!(out, "{}:", after.file.display());
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let _ = writeln!(out, "\n{changed} of {} events change", pairs.len());
    (out, changed)
}

/// Where one response differs from another for one token, by claim and scope name only (for
/// logs, which never show a value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedDifferences {
    /// Claims the expected response adds that the other does not.
    pub missing: Vec<String>,
    /// Claims the other response adds that the expected one does not.
    pub extra: Vec<String>,
    /// Claims both add, with different values.
    pub changed: Vec<String>,
    /// Claims suppressed by one response and not the other.
    pub suppressed: Vec<String>,
    /// Scopes added or suppressed by one response and not the other.
    pub scopes: Vec<String>,
}

impl NamedDifferences {
    /// Where `actual` differs from `expected` for one token.
    pub fn between(expected: &TokenView, actual: &TokenView) -> NamedDifferences {
        let (e, a) = (&expected.changes.add, &actual.changes.add);
        let not_in = |from: &serde_json::Map<String, serde_json::Value>,
                      other: &serde_json::Map<String, serde_json::Value>| {
            from.keys()
                .filter(|k| !other.contains_key(*k))
                .cloned()
                .collect::<Vec<_>>()
        };
        let one_sided = |x: &[String], y: &[String]| {
            x.iter()
                .filter(|n| !y.contains(n))
                .chain(y.iter().filter(|n| !x.contains(n)))
                .cloned()
                .collect::<Vec<_>>()
        };
        let mut scopes = one_sided(&expected.scopes_add, &actual.scopes_add);
        scopes.extend(one_sided(
            &expected.scopes_suppress,
            &actual.scopes_suppress,
        ));
        NamedDifferences {
            missing: not_in(e, a),
            extra: not_in(a, e),
            changed: e
                .iter()
                .filter(|(k, v)| a.get(*k).is_some_and(|w| w != *v))
                .map(|(k, _)| k.clone())
                .collect(),
            suppressed: one_sided(&expected.changes.suppress, &actual.changes.suppress),
            scopes,
        }
    }

    /// Whether the two responses agree for the token.
    pub fn is_empty(&self) -> bool {
        *self == NamedDifferences::default()
    }
}
