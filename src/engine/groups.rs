//! Running the group pipeline over one event. Its result is written to `groupOverrideDetails`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::Event;
use crate::mapping::groups::{GroupPipeline, GroupSource};

/// What the pipeline produced: the content of `groupOverrideDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupOverride {
    /// `groupsToOverride`.
    #[serde(rename = "groupsToOverride")]
    pub groups: Vec<String>,
    /// `iamRolesToOverride`.
    #[serde(rename = "iamRolesToOverride")]
    pub roles: Vec<String>,
    /// `preferredRole` (`null` when there is none).
    #[serde(rename = "preferredRole")]
    pub preferred_role: Option<String>,
}

/// A step of the pipeline, reported with the groups after it (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Groups gathered from the sources.
    Gathered,
    /// After dropping the automatic IdP group.
    DroppedIdpGroup,
    /// After `keep`.
    Kept,
    /// After `rename`.
    Renamed,
    /// After `max`.
    Capped,
}

impl Stage {
    /// The step's name in explanations.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Gathered => "from",
            Stage::DroppedIdpGroup => "drop_idp_group",
            Stage::Kept => "keep",
            Stage::Renamed => "rename",
            Stage::Capped => "max",
        }
    }
}

impl GroupPipeline {
    /// Runs the pipeline over `event`, reporting the groups after each configured step.
    pub(crate) fn run(
        &self,
        event: &Event,
        mut observe: impl FnMut(Stage, &[String]),
    ) -> GroupOverride {
        let mut gathered = Distinct::default();
        for source in &self.sources {
            match source {
                GroupSource::Cognito => {
                    for g in event.groups() {
                        gathered.push(g);
                    }
                }
                GroupSource::Attribute { name, delimiter } => {
                    if let Some(value) = event.attribute(name) {
                        for g in list_of(value, delimiter) {
                            gathered.push(&g);
                        }
                    }
                }
            }
        }
        let mut groups = gathered.names;
        observe(Stage::Gathered, &groups);
        let mut idp_dropped = false;
        if self.drop_idp_group
            && let Some(pool) = event.user_pool_id()
        {
            let before = groups.len();
            groups.retain(|g| !is_idp_group(g, pool));
            idp_dropped = groups.len() != before;
            observe(Stage::DroppedIdpGroup, &groups);
        }
        if let Some(keep) = &self.keep {
            keep.retain(&mut groups);
            observe(Stage::Kept, &groups);
        }
        if self.strip_prefix.is_some() || !self.rename.is_empty() {
            let mut renamed = Distinct::default();
            for g in &groups {
                let stripped = match &self.strip_prefix {
                    Some(p) => g.strip_prefix(p.as_str()).filter(|s| !s.is_empty()),
                    None => None,
                }
                .unwrap_or(g);
                renamed.push(self.rename.get(stripped).map_or(stripped, String::as_str));
            }
            groups = renamed.names;
            observe(Stage::Renamed, &groups);
        }
        if let Some(max) = self.max {
            groups.truncate(max);
            observe(Stage::Capped, &groups);
        }
        let (roles, preferred_role) = match &self.roles {
            Some(table) => {
                let held = Members::of(&groups);
                let mut roles = Distinct::default();
                for (_, role) in table.iter().filter(|(group, _)| held.contains(group)) {
                    roles.push(role);
                }
                let preferred = roles.names.first().cloned();
                (roles.names, preferred)
            }
            None => {
                // The event does not say which role belongs to which group, so Cognito's roles
                // stay only while every pool group (other than the role-less IdP group) is still
                // there under its own name.
                let pool = event.user_pool_id().unwrap_or_default();
                let held = Members::of(&groups);
                let all_kept = event
                    .groups()
                    .all(|g| held.contains(g) || (idp_dropped && is_idp_group(g, pool)));
                if all_kept {
                    (
                        event.roles().map(str::to_owned).collect(),
                        event.preferred_role().map(str::to_owned),
                    )
                } else {
                    (Vec::new(), None)
                }
            }
        };
        GroupOverride {
            groups,
            roles,
            preferred_role,
        }
    }
}

/// Lists up to this long are searched in place (the usual handful of groups); longer ones through
/// a hash set, so that a list of a hundred thousand names costs linear time, not quadratic.
const INDEXED: usize = 32;

/// Distinct non-empty names in the order first seen.
#[derive(Default)]
struct Distinct {
    names: Vec<String>,
    /// The same names, once there are more than [`INDEXED`].
    index: HashSet<String>,
}

impl Distinct {
    fn push(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        if self.names.len() < INDEXED {
            if self.names.iter().any(|n| n == name) {
                return;
            }
        } else {
            if self.index.is_empty() {
                self.index.extend(self.names.iter().cloned());
            }
            if !self.index.insert(name.to_owned()) {
                return;
            }
        }
        self.names.push(name.to_owned());
    }
}

/// Membership in a list of names, searched in place or hashed as [`Distinct`] does.
enum Members<'a> {
    Few(&'a [String]),
    Many(HashSet<&'a str>),
}

impl<'a> Members<'a> {
    fn of(names: &'a [String]) -> Members<'a> {
        if names.len() <= INDEXED {
            Members::Few(names)
        } else {
            Members::Many(names.iter().map(String::as_str).collect())
        }
    }

    fn contains(&self, name: &str) -> bool {
        match self {
            Members::Few(names) => names.iter().any(|n| n == name),
            Members::Many(set) => set.contains(name),
        }
    }
}

/// `<userPoolId>_<Provider>`: the group Cognito adds federated users to.
fn is_idp_group(group: &str, pool: &str) -> bool {
    !pool.is_empty()
        && group
            .strip_prefix(pool)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|provider| !provider.is_empty())
}

/// The groups in an attribute value: a JSON array, a bracketed list `[a, b]`, or a delimited
/// string. Names are trimmed; empty ones dropped.
fn list_of(value: &Value, delimiter: &str) -> Vec<String> {
    let text = match value {
        Value::Array(items) => return items.iter().filter_map(scalar_text).collect(),
        Value::String(s) => s.trim(),
        other => return scalar_text(other).into_iter().collect(),
    };
    if text.starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text)
    {
        return items.iter().filter_map(scalar_text).collect();
    }
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    inner
        .split(delimiter)
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::groups::RawGroups;
    use serde_json::json;

    fn pipeline(yaml: &str) -> Result<GroupPipeline, Vec<(String, String)>> {
        let raw: RawGroups = serde_yaml::from_str(yaml).unwrap();
        let mut problems = crate::mapping::problems::Problems::default();
        GroupPipeline::compile(&raw, &mut problems).ok_or_else(|| {
            let found = problems.found.into_iter();
            found.map(|f| (f.path, f.message)).collect()
        })
    }

    fn event() -> Value {
        json!({
            "version": "2",
            "userPoolId": "us-east-1_Pool",
            "request": {
                "userAttributes": {"custom:ADGroups": "[app-Admins, app-Sales, Staff]"},
                "groupConfiguration": {
                    "groupsToOverride": ["admins", "us-east-1_Pool_Google"],
                    "iamRolesToOverride": ["arn:aws:iam::111122223333:role/Admin"],
                    "preferredRole": "arn:aws:iam::111122223333:role/Admin"
                }
            }
        })
    }

    fn run(p: &GroupPipeline) -> (GroupOverride, Vec<(Stage, Vec<String>)>) {
        let e = event();
        let ev = Event::new(&e).unwrap();
        let mut stages = Vec::new();
        let out = p.run(&ev, |s, g| stages.push((s, g.to_vec())));
        (out, stages)
    }

    #[test]
    fn keep_patterns_read_names_up_to_the_caps() {
        use crate::mapping::{MAX_KEEP_PATTERN_BYTES, MAX_REGEX_INPUT_BYTES};
        let p = pipeline("keep: {patterns: ['^g'], prefixes: [gp-]}").unwrap();
        let keep = p.keep.as_ref().unwrap();
        let long = format!("g{}", "x".repeat(MAX_REGEX_INPUT_BYTES));
        assert!(keep.matches(&long[..MAX_REGEX_INPUT_BYTES]));
        assert!(!keep.matches(&long), "a name over the cap is not read");
        assert!(
            keep.matches(&format!("gp-{long}")),
            "prefixes still keep it"
        );
        // Names of 1 KiB: the patterns read 64 of them, then keep no more; a prefix still does.
        let name = &long[..MAX_REGEX_INPUT_BYTES];
        let fits = MAX_KEEP_PATTERN_BYTES / MAX_REGEX_INPUT_BYTES;
        let mut groups = vec![name.to_owned(); fits + 2];
        groups.push(format!("gp-{name}"));
        keep.retain(&mut groups);
        assert_eq!(groups.len(), fits + 1);
        assert!(groups[fits].starts_with("gp-"));
    }

    #[test]
    fn attribute_lists_in_every_shape() {
        for (value, expected) in [
            (json!("[a, b]"), vec!["a", "b"]),
            (json!("[\"a\",\"b\"]"), vec!["a", "b"]),
            (json!("a, ,b,"), vec!["a", "b"]),
            (json!(["a", 1]), vec!["a", "1"]),
            (json!(""), vec![]),
        ] {
            assert_eq!(list_of(&value, ","), expected, "{value}");
        }
        assert_eq!(list_of(&json!("a;b"), ";"), vec!["a", "b"]);
    }

    #[test]
    fn steps_run_in_order_and_report_each() {
        let p = pipeline(
            "from: [cognito, {attribute: 'custom:ADGroups'}]\ndrop_idp_group: true\nkeep: {prefixes: [app-], names: [admins]}\nrename: {strip_prefix: app-, table: {Admins: admins}}\nmax: 5\nroles:\n  - {group: admins, role: 'arn:aws:iam::111122223333:role/Admin'}\n  - {group: Sales, role: 'arn:aws:iam::111122223333:role/Sales'}\n",
        )
        .unwrap();
        let (out, stages) = run(&p);
        assert_eq!(out.groups, ["admins", "Sales"]);
        assert_eq!(out.roles.len(), 2);
        assert_eq!(
            out.preferred_role.as_deref(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
        let names: Vec<_> = stages.iter().map(|(s, _)| s.name()).collect();
        assert_eq!(names, ["from", "drop_idp_group", "keep", "rename", "max"]);
        assert_eq!(stages[0].1.len(), 5);
        assert_eq!(stages[1].1.len(), 4);
    }

    #[test]
    fn cognito_roles_stay_only_while_every_pool_group_does() {
        let p = pipeline("drop_idp_group: true").unwrap();
        let (out, _) = run(&p);
        assert_eq!(out.groups, ["admins"]);
        assert_eq!(out.roles, ["arn:aws:iam::111122223333:role/Admin"]);
        let p = pipeline("keep: {names: [other]}").unwrap();
        let (out, _) = run(&p);
        assert!(out.groups.is_empty() && out.roles.is_empty() && out.preferred_role.is_none());
        // A pool group under a new name: its role can no longer be attributed.
        let p = pipeline("rename: {table: {admins: Admins}}").unwrap();
        let (out, _) = run(&p);
        assert_eq!(out.groups, ["Admins", "us-east-1_Pool_Google"]);
        assert!(out.roles.is_empty() && out.preferred_role.is_none());
        // Groups added from an attribute do not disturb the pool's roles.
        let p = pipeline("from: [cognito, {attribute: 'custom:ADGroups'}]").unwrap();
        let (out, _) = run(&p);
        assert_eq!(out.groups.len(), 5);
        assert_eq!(out.roles, ["arn:aws:iam::111122223333:role/Admin"]);
    }

    #[test]
    fn bad_steps_are_reported() {
        let problems = pipeline(
            "from: []\nkeep: {patterns: ['(']}\nmax: 0\nroles: [{group: a, role: nope}, {group: a, role: 'arn:aws:iam::111122223333:role/x'}]\n",
        )
        .unwrap_err();
        let paths: Vec<_> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "groups.from",
                "groups.keep.patterns[0]",
                "groups.max",
                "groups.roles[0].role",
                "groups.roles[1].group"
            ]
        );
    }
}
