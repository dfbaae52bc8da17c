//! The group pipeline (`groups:`): its format and compiling it. Running it per event (which
//! groups reach the tokens, under which names, with which IAM roles) is [`crate::engine`]'s.
//!
//! Steps, in order: gather (the user's pool groups and/or attributes holding group lists), drop
//! the automatic IdP group, keep (allowlist, prefixes, patterns), rename (strip a prefix, then a
//! table), cap the count, then roles from the `roles:` table. Everything is compiled at load time.

use std::collections::{HashMap, HashSet};

use regex::RegexSet;
use schemars::JsonSchema;
use serde::Deserialize;

use super::limits::{
    Costs, MAX_KEEP_PATTERN_BYTES, MAX_REGEX_INPUT_BYTES, MAX_REGEX_SIZE, pattern_positions,
};
use super::problems::Problems;

/// Longest group name Cognito accepts.
pub const MAX_GROUP_NAME: usize = 128;

/// The `groups:` section as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Groups")]
pub(crate) struct RawGroups {
    /// Where groups come from, merged in order (duplicates dropped). Default: `[cognito]`.
    #[serde(default = "cognito_only", deserialize_with = "group_sources")]
    #[schemars(length(min = 1))]
    from: Vec<RawGroupSource>,
    /// Drop the automatic group Cognito puts federated users in (`<userPoolId>_<Provider>`).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    drop_idp_group: bool,
    /// Keep only groups matching any of these. Absent: keep every group.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    keep: Option<RawKeep>,
    /// Rename groups: first strip a prefix, then look the name up in a table.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    rename: Option<RawRename>,
    /// Keep at most this many groups (the first ones, in pipeline order).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    #[schemars(range(min = 1))]
    max: Option<usize>,
    /// IAM roles of the remaining groups, in precedence order: the first remaining group's role
    /// is the preferred role. Absent: Cognito's roles are kept only while every pool group is.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
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
    #[serde(
        default = "comma",
        deserialize_with = "crate::diagnostics::yaml::given"
    )]
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
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    names: Vec<String>,
    /// Name prefixes.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    prefixes: Vec<String>,
    /// Regular expressions (unanchored; write `^...$` for a whole-name match).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rename")]
struct RawRename {
    /// Removed from the start of names that have it.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    strip_prefix: Option<String>,
    /// Old name -> new name, looked up after `strip_prefix`.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
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
    /// Where groups come from, in order.
    pub(crate) sources: Vec<GroupSource>,
    /// Drop the automatic IdP group.
    pub(crate) drop_idp_group: bool,
    /// The allowlist, when there is one.
    pub(crate) keep: Option<Keep>,
    /// A prefix stripped before the rename table applies.
    pub(crate) strip_prefix: Option<String>,
    /// Group renames.
    pub(crate) rename: HashMap<String, String>,
    /// Most groups kept.
    pub(crate) max: Option<usize>,
    /// Each group's IAM role, in precedence order; `None` keeps Cognito's roles when it can.
    pub(crate) roles: Option<Vec<(String, String)>>,
}

/// Where groups come from.
#[derive(Debug, Clone)]
pub(crate) enum GroupSource {
    /// The user's pool groups.
    Cognito,
    /// A user attribute holding a list.
    Attribute { name: String, delimiter: String },
}

/// `keep:`: a group is kept when it matches any entry.
#[derive(Debug, Clone)]
pub(crate) struct Keep {
    pub(crate) names: HashSet<String>,
    pub(crate) prefixes: Vec<String>,
    pub(crate) patterns: Option<RegexSet>,
}

impl Keep {
    /// Whether `keep:` keeps `group`, as the first group of an event.
    pub(crate) fn matches(&self, group: &str) -> bool {
        self.keeps(group, &mut MAX_KEEP_PATTERN_BYTES.clone())
    }

    /// Keeps the groups `keep:` keeps, in order. The patterns read names of at most
    /// [`MAX_REGEX_INPUT_BYTES`], [`MAX_KEEP_PATTERN_BYTES`] of them in all.
    pub(crate) fn retain<S: AsRef<str>>(&self, groups: &mut Vec<S>) {
        let mut budget = MAX_KEEP_PATTERN_BYTES;
        groups.retain(|g| self.keeps(g.as_ref(), &mut budget));
    }

    /// Whether `keep:` keeps `group`, its patterns reading it out of `budget` bytes.
    fn keeps(&self, group: &str, budget: &mut usize) -> bool {
        if self.names.contains(group) || self.prefixes.iter().any(|p| group.starts_with(p.as_str()))
        {
            return true;
        }
        let Some(set) = &self.patterns else {
            return false;
        };
        if group.len() > MAX_REGEX_INPUT_BYTES || group.len() > *budget {
            return false;
        }
        *budget -= group.len();
        set.is_match(group)
    }
}

impl RawGroups {
    /// What `keep.patterns` as written cost, as the load-time limits count them: the positions
    /// they spell out. Counted before anything is compiled.
    pub(crate) fn costs(&self) -> Costs {
        let patterns = self.keep.iter().flat_map(|k| &k.patterns);
        Costs {
            regex_positions: patterns
                .map(|p| pattern_positions(p))
                .fold(0, u64::saturating_add),
            ..Costs::default()
        }
    }
}

impl GroupPipeline {
    /// Why no group can come out of the pipeline named `name` (which step removes it), or
    /// `None` when some group can. A `when.groups` naming such a group could never hold.
    pub(crate) fn cannot_produce(&self, name: &str) -> Option<String> {
        // The names that `rename` turns into `name`: the table's keys that map to it, and
        // `name` itself unless the table renames it to something else.
        let renamed_away = self.rename.get(name).filter(|to| to.as_str() != name);
        let mut before_rename: Vec<&str> = self
            .rename
            .iter()
            .filter(|(from, to)| to.as_str() == name && from.as_str() != name)
            .map(|(from, _)| from.as_str())
            .collect();
        if renamed_away.is_none() {
            before_rename.push(name);
        }
        if before_rename.is_empty() {
            let to = renamed_away.map(String::as_str).unwrap_or_default();
            return Some(format!(
                "the group pipeline never produces `{name}`: `rename.table` renames it to `{to}`"
            ));
        }
        // The groups that become those names: with `strip_prefix`, the prefixed name, or the
        // name itself when it does not start with the prefix.
        let gathered: Vec<String> = before_rename
            .iter()
            .flat_map(|n| match &self.strip_prefix {
                Some(p) if n.starts_with(p.as_str()) => vec![format!("{p}{n}")],
                Some(p) => vec![format!("{p}{n}"), (*n).to_owned()],
                None => vec![(*n).to_owned()],
            })
            .collect();
        let keep = self.keep.as_ref()?;
        if gathered.iter().any(|g| keep.matches(g)) {
            return None;
        }
        let names = gathered
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ");
        Some(format!(
            "the group pipeline never produces `{name}`: `keep` drops {names}, the only groups \
             that would become it"
        ))
    }

    /// Compiles the `groups:` section, reporting each problem as (field path, message).
    pub(crate) fn compile(raw: &RawGroups, problems: &mut Problems) -> Option<GroupPipeline> {
        let mut ok = true;
        let mut problem = |path: String, message: String| {
            ok = false;
            problems.add(path, message);
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
                    if let Some(why) = super::source::attribute_name_restriction(attribute) {
                        problem(format!("groups.from[{i}].attribute"), why);
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
            let costly = k.patterns.iter().enumerate().find_map(|(i, p)| {
                super::limits::check_regex(p).err().map(|why| (i, why))
            });
            let patterns = if k.patterns.is_empty() {
                None
            } else if let Some((i, why)) = costly {
                problem(format!("groups.keep.patterns[{i}]"), why);
                None
            } else {
                match regex::RegexSetBuilder::new(&k.patterns)
                    .size_limit(MAX_REGEX_SIZE)
                    .dfa_size_limit(MAX_REGEX_SIZE)
                    .build()
                {
                    Ok(set) => Some(set),
                    Err(e) => {
                        // Name the pattern at fault: compile each alone, only on this error path.
                        let at = k
                            .patterns
                            .iter()
                            .position(|p| super::limits::regex(p).is_err())
                            .map_or("groups.keep.patterns".into(), |i| {
                                format!("groups.keep.patterns[{i}]")
                            });
                        problem(at, format!("invalid regular expression: {e}"));
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

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111122223333:role/a/b"));
        assert!(is_role_arn("arn:aws-cn:iam::111122223333:role/x"));
        assert!(!is_role_arn("arn:aws:iam::1111:role/x"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/x"));
    }
}
