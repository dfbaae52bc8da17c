//! The findings of an audit: what in a mapping a user, an app or a caller of `InitiateAuth` could
//! steer, what it would disclose, and what it names that the pool does not have.

use super::pool::{Pool, TriggerVersion};
use crate::mapping::Mapping;
use crate::mapping::inputs::{Decides, Read};

/// How much a finding matters. `push --audit-user-pool-id` refuses a mapping with a high one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; nothing is exposed.
    Low,
    /// A claim someone else controls, or that the pool would not let the app see.
    Medium,
    /// Someone other than the pool decides a grant: a condition, groups and roles, a scope.
    High,
}

impl Severity {
    /// The word reports use.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that decides something comes from an attribute users can write for themselves.
    UserWritable,
    /// A value that decides something comes from `request.clientMetadata`.
    ClientInput,
    /// A claim copies an attribute into the ID token of an app client that may not read it.
    Disclosure,
    /// The mapping names something the pool does not have, or sends claims the pool's trigger
    /// version drops.
    Drift,
}

impl Kind {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::UserWritable => "user-writable",
            Kind::ClientInput => "client-input",
            Kind::Disclosure => "disclosure",
            Kind::Drift => "drift",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What kind.
    pub kind: Kind,
    /// Where in the mapping: `rule 3`, `groups.from[0]`, `scopes.add[1]`, `clients.web`.
    pub place: String,
    /// The field in the mapping file.
    pub field: String,
    /// The attribute or JSONPath concerned (empty when none is).
    pub source: String,
    /// The app clients involved, as `name (id)`.
    pub clients: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// Audits `mapping` against `pool`: every finding, the most severe first, in mapping order
/// within a severity.
pub fn audit(mapping: &Mapping, pool: &Pool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for input in mapping.inputs() {
        let what = describe(&input.decides);
        match &input.read {
            Read::Attribute(name) => {
                let writers = pool.writers(name);
                if !writers.is_empty() {
                    let severity = if input.decides.grants() {
                        Severity::High
                    } else {
                        Severity::Medium
                    };
                    findings.push(Finding {
                        severity,
                        kind: Kind::UserWritable,
                        place: input.place.clone(),
                        field: input.field.clone(),
                        source: name.clone(),
                        clients: writers.iter().map(|c| c.label()).collect(),
                        message: format!(
                            "`{name}` decides {what}, and users can change it for themselves \
                             through these app clients"
                        ),
                        fix: format!(
                            "take `{name}` out of these clients' WriteAttributes (or make it \
                             immutable, or write it only with admin credentials, as a `dev:` \
                             attribute or from a back end), or decide {what} from groups"
                        ),
                    });
                }
                if pool.attribute(name).is_none() && !name.starts_with("cognito:") {
                    findings.push(Finding {
                        severity: Severity::Medium,
                        kind: Kind::Drift,
                        place: input.place.clone(),
                        field: input.field.clone(),
                        source: name.clone(),
                        clients: Vec::new(),
                        message: format!(
                            "the pool has no attribute `{name}`: nothing is ever read from it"
                        ),
                        fix: "correct the name to one in the pool's schema (`custom:...` for \
                              the pool's own attributes)"
                            .into(),
                    });
                }
                if let Decides::Claim { id: true, .. } = input.decides {
                    let blind: Vec<String> = pool
                        .clients
                        .iter()
                        .filter(|c| input.clients.is_empty() || input.clients.contains(&c.id))
                        .filter(|c| !c.may_read(name))
                        .map(|c| c.label())
                        .collect();
                    if !blind.is_empty() && pool.attribute(name).is_some() {
                        findings.push(Finding {
                            severity: Severity::Medium,
                            kind: Kind::Disclosure,
                            place: input.place.clone(),
                            field: input.field.clone(),
                            source: name.clone(),
                            clients: blind,
                            message: format!(
                                "{what} copies `{name}` into the ID token of app clients that \
                                 may not read it: the token hands them what Cognito withholds"
                            ),
                            fix: format!(
                                "add `{name}` to these clients' ReadAttributes if they may see \
                                 it, or limit the rule to the access token or to other clients"
                            ),
                        });
                    }
                }
            }
            Read::Path {
                text,
                client_metadata: true,
            } => findings.push(Finding {
                severity: if input.decides.grants() {
                    Severity::High
                } else {
                    Severity::Low
                },
                kind: Kind::ClientInput,
                place: input.place.clone(),
                field: input.field.clone(),
                source: text.clone(),
                clients: Vec::new(),
                message: format!(
                    "`{text}` decides {what}, and it is whatever the caller of InitiateAuth \
                     sends: anyone with an app client id"
                ),
                fix: "decide grants from groups or attributes users cannot write; in a claim, \
                      treat it as the client's word"
                    .into(),
            }),
            Read::Path { .. } => {}
        }
    }
    for (client, field) in mapping.client_ids() {
        if !pool.clients.iter().any(|c| c.id == client) {
            findings.push(Finding {
                severity: Severity::Low,
                kind: Kind::Drift,
                place: field.clone(),
                field,
                source: String::new(),
                clients: vec![client.clone()],
                message: format!("the pool has no app client `{client}`: this never applies"),
                fix: "correct the client id, or remove what names it".into(),
            });
        }
    }
    if matches!(pool.trigger, Some(TriggerVersion::V1)) {
        for (place, field, claim) in mapping.access_token_rules() {
            findings.push(Finding {
                severity: Severity::Medium,
                kind: Kind::Drift,
                place,
                field,
                source: String::new(),
                clients: Vec::new(),
                message: format!(
                    "`{claim}` is aimed at the access token, but the pool's Pre Token \
                     Generation trigger is version 1 (V1_0): it never appears there"
                ),
                fix: "set the trigger's event version to V2_0 or V3_0 (needs the Essentials or \
                      Plus feature plan), or send the claim in the ID token"
                    .into(),
            });
        }
    }
    // Most severe first; the sort is stable, so mapping order holds within a severity.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// What a value decides, in a report's words.
fn describe(decides: &Decides) -> String {
    match decides {
        Decides::Claim { claim, .. } => format!("the claim `{claim}`"),
        Decides::Condition { claim } => format!("whether the claim `{claim}` is added"),
        Decides::Groups => "the user's groups and roles".into(),
        Decides::Scope { scope } => format!("whether the scope `{scope}` is added"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Client, PoolAttribute};

    fn mapping(yaml: &str) -> Mapping {
        Mapping::from_yaml(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn pool(trigger: TriggerVersion) -> Pool {
        Pool {
            id: "p".into(),
            attributes: vec![PoolAttribute {
                name: "custom:role".into(),
                mutable: true,
            }],
            clients: vec![
                Client {
                    id: "web".into(),
                    name: "web".into(),
                    read: Some(vec!["custom:role".into()]),
                    write: Some(vec!["custom:role".into()]),
                },
                Client {
                    id: "partner".into(),
                    name: "partner".into(),
                    read: None,
                    write: Some(Vec::new()),
                },
            ],
            trigger: Some(trigger),
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<(Severity, Kind, &str)> {
        findings
            .iter()
            .map(|f| (f.severity, f.kind, f.place.as_str()))
            .collect()
    }

    #[test]
    fn what_decides_a_grant_is_high_what_is_copied_is_lower() {
        let m = mapping(
            "version: 1\nclaims:\n  - {claim: role, from: custom:role, tokens: [access]}\n  - {claim: admin, value: true, when: {attributes: {custom:role: [admin]}}}\n  - {claim: app, from: $.request.clientMetadata.app, tokens: [access]}\nscopes:\n  add:\n    - {scope: s, when: {paths: {$.request.clientMetadata.tier: [gold]}}}\n",
        );
        let found = audit(&m, &pool(TriggerVersion::V2));
        assert_eq!(
            kinds(&found),
            [
                (Severity::High, Kind::UserWritable, "rule 2"),
                (Severity::High, Kind::ClientInput, "scopes.add[0]"),
                (Severity::Medium, Kind::UserWritable, "rule 1"),
                (Severity::Low, Kind::ClientInput, "rule 3"),
            ]
        );
        assert_eq!(found[0].clients, ["web (web)"]);
    }

    #[test]
    fn disclosure_counts_only_the_clients_a_rule_reaches() {
        // Sent to the ID token of every client: `partner` may not read custom:role.
        let everyone =
            mapping("version: 1\nclaims:\n  - {claim: role, from: custom:role, tokens: [id]}\n");
        let found = audit(&everyone, &pool(TriggerVersion::V2));
        let disclosed: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::Disclosure)
            .collect();
        assert_eq!(disclosed.len(), 1);
        assert_eq!(disclosed[0].clients, ["partner (partner)"]);
        // Limited to `web`, which may read it: nothing disclosed.
        let web_only = mapping(
            "version: 1\nclaims:\n  - {claim: role, from: custom:role, tokens: [id], when: {clients: [web]}}\n",
        );
        assert!(
            !audit(&web_only, &pool(TriggerVersion::V2))
                .iter()
                .any(|f| f.kind == Kind::Disclosure)
        );
    }

    #[test]
    fn version_1_drops_access_token_claims_and_unknown_clients_never_apply() {
        let m = mapping(
            "version: 1\nclaims:\n  - {claim: a, value: 1, tokens: [access]}\n  - {claim: b, value: 1, tokens: [id]}\nclients:\n  nosuchclient:\n    claims:\n      - {claim: c, value: 1, tokens: [id]}\n",
        );
        let drift = |trigger| {
            audit(&m, &pool(trigger))
                .into_iter()
                .filter(|f| f.kind == Kind::Drift)
                .map(|f| f.place)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            drift(TriggerVersion::V1),
            ["rule 1", "clients.nosuchclient"]
        );
        assert_eq!(drift(TriggerVersion::V2), ["clients.nosuchclient"]);
    }
}
