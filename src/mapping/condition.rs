//! `when:` conditions on rules and scopes: their format and their compiled form.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cognito;

/// Conditions; each listed one must hold.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "When")]
pub(crate) struct RawWhen {
    /// The user is in any of these groups (after the group pipeline, when there is one).
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(length(min = 1))]
    groups: Option<Vec<String>>,
    /// The app client (`callerContext.clientId`) is one of these.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(length(min = 1))]
    clients: Option<Vec<String>>,
    /// The trigger source is one of these.
    #[serde(default, deserialize_with = "super::yaml::present")]
    #[schemars(schema_with = "super::field_schemas::trigger_list")]
    triggers: Option<Vec<String>>,
}

/// Conditions that must all hold for a rule or scope to apply (at least one list: a rule or
/// scope without any has no `Condition`). An absent list always holds.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The user is in any of these groups.
    pub(crate) groups: Option<Vec<String>>,
    /// `callerContext.clientId` is one of these.
    pub(crate) clients: Option<Vec<String>>,
    /// `triggerSource` is one of these.
    pub(crate) triggers: Option<Vec<String>>,
}

impl Condition {
    /// Compiles a `when:` (`None` when absent), reporting each problem as (field path, message).
    pub(crate) fn compile(
        raw: Option<&RawWhen>,
        path: &str,
        report: &mut dyn FnMut(String, String),
    ) -> Option<Condition> {
        let raw = raw?;
        for (key, list) in [
            ("groups", &raw.groups),
            ("clients", &raw.clients),
            ("triggers", &raw.triggers),
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                report(
                    format!("{path}.{key}"),
                    "an empty list never matches; remove the key or list values".into(),
                );
            }
        }
        for (i, trigger) in raw.triggers.iter().flatten().enumerate() {
            if !cognito::TRIGGER_SOURCES.contains(&trigger.as_str()) {
                report(
                    format!("{path}.triggers[{i}]"),
                    format!(
                        "unknown trigger source `{trigger}`; known: {}",
                        cognito::TRIGGER_SOURCES.join(", ")
                    ),
                );
            }
        }
        for (i, client) in raw.clients.iter().flatten().enumerate() {
            if let Some(reason) = cognito::client_id_restriction(client) {
                report(format!("{path}.clients[{i}]"), reason);
            }
        }
        let any = raw.groups.is_some() || raw.clients.is_some() || raw.triggers.is_some();
        if !any {
            report(
                path.to_owned(),
                "`when` lists no condition, so it would hold for every user: leave `when` out for \
                 a rule that always applies, or list `groups`, `clients` or `triggers`"
                    .into(),
            );
        }
        any.then(|| Condition {
            groups: raw.groups.clone(),
            clients: raw.clients.clone(),
            triggers: raw.triggers.clone(),
        })
    }
}
