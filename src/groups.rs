//! The group pipeline (`groups:`): which groups reach the tokens, under which names, and the IAM
//! roles that go with them. Its result is written to `groupOverrideDetails`.
//!
//! Steps, in order: gather (the user's pool groups and/or attributes holding group lists), drop
//! the automatic IdP group, keep (allowlist, prefixes, patterns), rename (strip a prefix, then a
//! table), cap the count, then roles from the `roles:` table. Everything is compiled at load time.

use std::collections::{HashMap, HashSet};

use regex::RegexSet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Event;
use crate::transform::MAX_REGEX_SIZE;

/// Longest group name Cognito accepts.
pub const MAX_GROUP_NAME: usize = 128;

/// The `groups:` section as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Groups")]
pub(crate) struct RawGroups {
    /// Where groups come from, merged in order (duplicates dropped). Default: `[cognito]`.
    #[serde(default = "cognito_only", deserialize_with = "group_sources")]
    from: Vec<RawGroupSource>,
    /// Drop the automatic group Cognito puts federated users in (`<userPoolId>_<Provider>`).
    #[serde(default)]
    drop_idp_group: bool,
    /// Keep only groups matching any of these. Absent: keep every group.
    keep: Option<RawKeep>,
    /// Rename groups: first strip a prefix, then look the name up in a table.
    rename: Option<RawRename>,
    /// Keep at most this many groups (the first ones, in pipeline order).
    #[schemars(range(min = 1))]
    max: Option<usize>,
    /// IAM roles of the remaining groups, in precedence order: the first remaining group's role
    /// is the preferred role. Absent: Cognito's roles are kept only while every pool group is.
    roles: Option<Vec<RawRole>>,
}

fn cognito_only() -> Vec<RawGroupSource> {
    vec![RawGroupSource::Cognito(CognitoKeyword::Cognito)]
}

/// One source of groups.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "GroupSource")]
#[serde(untagged)]
enum RawGroupSource {
    /// `cognito`: the user's user-pool groups (`request.groupConfiguration`).
    Cognito(CognitoKeyword),
    /// A user attribute holding a list.
    Attribute(RawAttributeSource),
}

// The `cognito` keyword: read by `group_sources`; the derive is for the schema only.
#[derive(Debug, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum CognitoKeyword {
    Cognito,
}

/// A user attribute holding a list of groups: a JSON array, `[a, b]`, or `a,b`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(rename = "AttributeSource")]
#[serde(deny_unknown_fields)]
struct RawAttributeSource {
    /// The attribute, e.g. `custom:ADGroups`.
    attribute: String,
    /// Separator of a delimited list. Default `,`.
    #[serde(default = "comma")]
    delimiter: String,
}

/// Reads `from:` with messages that say what a source looks like (an untagged enum would only
/// say that nothing matched).
fn group_sources<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<RawGroupSource>, D::Error> {
    use serde::de::Error;
    Vec::<serde_yaml::Value>::deserialize(deserializer)?
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            serde_yaml::Value::String(s) if s == "cognito" => {
                Ok(RawGroupSource::Cognito(CognitoKeyword::Cognito))
            }
            serde_yaml::Value::Mapping(_) => serde_yaml::from_value(item)
                .map(RawGroupSource::Attribute)
                .map_err(|e| D::Error::custom(format!("`from`, source {}: {e}", i + 1))),
            _ => Err(D::Error::custom(format!(
                "`from`, source {}: a group source is `cognito` or `{{attribute: NAME}}` (optionally with `delimiter`)",
                i + 1
            ))),
        })
        .collect()
}

fn comma() -> String {
    ",".into()
}

/// A group is kept when it matches any entry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Keep")]
struct RawKeep {
    /// Exact group names.
    #[serde(default)]
    names: Vec<String>,
    /// Name prefixes.
    #[serde(default)]
    prefixes: Vec<String>,
    /// Regular expressions (unanchored; write `^...$` for a whole-name match).
    #[serde(default)]
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rename")]
struct RawRename {
    /// Removed from the start of names that have it.
    strip_prefix: Option<String>,
    /// Old name -> new name, looked up after `strip_prefix`.
    #[serde(default)]
    table: HashMap<String, String>,
}

/// A group's IAM role.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Role")]
struct RawRole {
    /// The group (its name after renaming).
    group: String,
    /// The IAM role ARN.
    role: String,
}

/// A compiled group pipeline.
#[derive(Debug, Clone)]
pub struct GroupPipeline {
    sources: Vec<GroupSource>,
    drop_idp_group: bool,
    keep: Option<Keep>,
    strip_prefix: Option<String>,
    rename: HashMap<String, String>,
    max: Option<usize>,
    roles: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone)]
enum GroupSource {
    Cognito,
    Attribute { name: String, delimiter: String },
}

#[derive(Debug, Clone)]
struct Keep {
    names: HashSet<String>,
    prefixes: Vec<String>,
    patterns: Option<RegexSet>,
}

/// What the pipeline produced: the content of `groupOverrideDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// Compiles the `groups:` section, reporting each problem as (field path, message).
    pub(crate) fn compile(
        raw: &RawGroups,
        report: &mut dyn FnMut(String, String),
    ) -> Option<GroupPipeline> {
        let mut ok = true;
        let mut problem = |path: String, message: String| {
            ok = false;
            report(path, message);
        };
        if raw.from.is_empty() {
            problem(
                "groups.from".into(),
                "list at least one source (`cognito` or `attribute: NAME`)".into(),
            );
        }
        let mut sources = Vec::with_capacity(raw.from.len());
        for (i, source) in raw.from.iter().enumerate() {
            match source {
                RawGroupSource::Cognito(_) => sources.push(GroupSource::Cognito),
                RawGroupSource::Attribute(RawAttributeSource {
                    attribute,
                    delimiter,
                }) => {
                    if attribute.is_empty() {
                        problem(
                            format!("groups.from[{i}].attribute"),
                            "an attribute name cannot be empty".into(),
                        );
                    }
                    if delimiter.is_empty() {
                        problem(
                            format!("groups.from[{i}].delimiter"),
                            "a delimiter cannot be empty".into(),
                        );
                    }
                    sources.push(GroupSource::Attribute {
                        name: attribute.clone(),
                        delimiter: delimiter.clone(),
                    });
                }
            }
        }
        let keep = raw.keep.as_ref().map(|k| {
            if k.names.is_empty() && k.prefixes.is_empty() && k.patterns.is_empty() {
                problem(
                    "groups.keep".into(),
                    "list `names`, `prefixes` or `patterns`; an empty allowlist would drop every group".into(),
                );
            }
            for (key, list) in [("names", &k.names), ("prefixes", &k.prefixes)] {
                if let Some(i) = list.iter().position(String::is_empty) {
                    problem(
                        format!("groups.keep.{key}[{i}]"),
                        "cannot be empty".into(),
                    );
                }
            }
            let patterns = if k.patterns.is_empty() {
                None
            } else {
                match regex::RegexSetBuilder::new(&k.patterns)
                    .size_limit(MAX_REGEX_SIZE)
                    .build()
                {
                    Ok(set) => Some(set),
                    Err(e) => {
                        // Name the pattern at fault: compile each alone, only on this error path.
                        let at = k
                            .patterns
                            .iter()
                            .position(|p| {
                                regex::RegexBuilder::new(p)
                                    .size_limit(MAX_REGEX_SIZE)
                                    .build()
                                    .is_err()
                            })
                            .map_or("groups.keep.patterns".into(), |i| {
                                format!("groups.keep.patterns[{i}]")
                            });
                        problem(at, format!("invalid regex: {e}"));
                        None
                    }
                }
            };
            Keep {
                names: k.names.iter().cloned().collect(),
                prefixes: k.prefixes.clone(),
                patterns,
            }
        });
        let (strip_prefix, rename) = match &raw.rename {
            None => (None, HashMap::new()),
            Some(r) => {
                if r.strip_prefix.as_deref() == Some("") {
                    problem(
                        "groups.rename.strip_prefix".into(),
                        "cannot be empty".into(),
                    );
                }
                if r.strip_prefix.is_none() && r.table.is_empty() {
                    problem(
                        "groups.rename".into(),
                        "give `strip_prefix` or `table`".into(),
                    );
                }
                let mut names: Vec<_> = r.table.iter().collect();
                names.sort();
                for (from, to) in names {
                    if let Some(reason) = name_restriction(to) {
                        problem(format!("groups.rename.table.{from}"), reason);
                    }
                }
                (r.strip_prefix.clone(), r.table.clone())
            }
        };
        if raw.max == Some(0) {
            problem(
                "groups.max".into(),
                "must be at least 1; to remove every group, suppress `cognito:groups`".into(),
            );
        }
        let roles = raw.roles.as_ref().map(|roles| {
            let mut seen = HashSet::new();
            for (i, r) in roles.iter().enumerate() {
                if let Some(reason) = name_restriction(&r.group) {
                    problem(format!("groups.roles[{i}].group"), reason);
                }
                if !seen.insert(r.group.as_str()) {
                    problem(
                        format!("groups.roles[{i}].group"),
                        format!("`{}` is listed twice", r.group),
                    );
                }
                if !is_role_arn(&r.role) {
                    problem(
                        format!("groups.roles[{i}].role"),
                        "expected an IAM role ARN, `arn:aws:iam::123456789012:role/NAME`".into(),
                    );
                }
            }
            roles
                .iter()
                .map(|r| (r.group.clone(), r.role.clone()))
                .collect()
        });
        ok.then_some(GroupPipeline {
            sources,
            drop_idp_group: raw.drop_idp_group,
            keep,
            strip_prefix,
            rename,
            max: raw.max,
            roles,
        })
    }

    /// Runs the pipeline over `event`, reporting the groups after each configured step.
    pub fn apply(&self, event: &Event, mut observe: impl FnMut(Stage, &[String])) -> GroupOverride {
        let mut groups: Vec<String> = Vec::new();
        for source in &self.sources {
            match source {
                GroupSource::Cognito => {
                    for g in event.groups() {
                        push_unique(&mut groups, g);
                    }
                }
                GroupSource::Attribute { name, delimiter } => {
                    if let Some(value) = event.attribute(name) {
                        for g in list_of(value, delimiter) {
                            push_unique(&mut groups, &g);
                        }
                    }
                }
            }
        }
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
            groups.retain(|g| keep.matches(g));
            observe(Stage::Kept, &groups);
        }
        if self.strip_prefix.is_some() || !self.rename.is_empty() {
            let old = std::mem::take(&mut groups);
            for g in old {
                let stripped = match &self.strip_prefix {
                    Some(p) => g.strip_prefix(p.as_str()).filter(|s| !s.is_empty()),
                    None => None,
                }
                .unwrap_or(&g);
                let new = self.rename.get(stripped).map_or(stripped, String::as_str);
                push_unique(&mut groups, new);
            }
            observe(Stage::Renamed, &groups);
        }
        if let Some(max) = self.max {
            groups.truncate(max);
            observe(Stage::Capped, &groups);
        }
        let (roles, preferred_role) = match &self.roles {
            Some(table) => {
                let mut roles = Vec::new();
                for (_, role) in table.iter().filter(|(group, _)| groups.contains(group)) {
                    push_unique(&mut roles, role);
                }
                let preferred = roles.first().cloned();
                (roles, preferred)
            }
            None => {
                // The event does not say which role belongs to which group, so Cognito's roles
                // stay only while every pool group (other than the role-less IdP group) is still
                // there under its own name.
                let pool = event.user_pool_id().unwrap_or_default();
                let all_kept = event.groups().all(|g| {
                    groups.iter().any(|k| k == g) || (idp_dropped && is_idp_group(g, pool))
                });
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

impl Keep {
    fn matches(&self, group: &str) -> bool {
        self.names.contains(group)
            || self.prefixes.iter().any(|p| group.starts_with(p.as_str()))
            || self
                .patterns
                .as_ref()
                .is_some_and(|set| set.is_match(group))
    }
}

fn push_unique(groups: &mut Vec<String>, group: &str) {
    if !group.is_empty() && !groups.iter().any(|g| g == group) {
        groups.push(group.to_owned());
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

fn name_restriction(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a group name cannot be empty".into())
    } else if name.len() > MAX_GROUP_NAME {
        Some(format!("a group name is at most {MAX_GROUP_NAME} bytes"))
    } else if name.trim() != name {
        Some("a group name cannot start or end with whitespace".into())
    } else {
        None
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<name>`.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource))
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pipeline(yaml: &str) -> Result<GroupPipeline, Vec<(String, String)>> {
        let raw: RawGroups = serde_yaml::from_str(yaml).unwrap();
        let mut problems = Vec::new();
        GroupPipeline::compile(&raw, &mut |p, m| problems.push((p, m))).ok_or(problems)
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
        let out = p.apply(&ev, |s, g| stages.push((s, g.to_vec())));
        (out, stages)
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

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111122223333:role/a/b"));
        assert!(is_role_arn("arn:aws-cn:iam::111122223333:role/x"));
        assert!(!is_role_arn("arn:aws:iam::1111:role/x"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/x"));
    }
}
