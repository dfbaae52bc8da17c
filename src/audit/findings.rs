//! The findings of an audit: what in a mapping a user or the app asking for tokens could
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
        let severity = |grants: Severity, copies: Severity| {
            if input.decides.grants() {
                grants
            } else {
                copies
            }
        };
        let found = |severity, kind, clients, message, fix| Finding {
            severity,
            kind,
            place: input.place.clone(),
            field: input.field.clone(),
            source: input.written.clone(),
            clients,
            message,
            fix,
        };
        match &input.read {
            Read::Attribute(name) => {
                let writers = pool.writers(name);
                if !writers.is_empty() {
                    findings.push(found(
                        severity(Severity::High, Severity::Medium),
                        Kind::UserWritable,
                        writers.iter().map(|c| c.label()).collect(),
                        format!(
                            "`{name}` decides {what}, and users can change it for themselves \
                             through these app clients"
                        ),
                        format!(
                            "take `{name}` out of these clients' WriteAttributes (or make it \
                             immutable, or write it only with admin credentials, as a `dev:` \
                             attribute or from a back end), or decide {what} from groups"
                        ),
                    ));
                }
                if pool.attribute(name).is_none() && !name.starts_with("cognito:") {
                    findings.push(found(
                        Severity::Medium,
                        Kind::Drift,
                        Vec::new(),
                        format!("the pool has no attribute `{name}`: nothing is ever read from it"),
                        "correct the name to one in the pool's schema (`custom:...` for \
                              the pool's own attributes)"
                            .into(),
                    ));
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
                        findings.push(found(
                            Severity::Medium,
                            Kind::Disclosure,
                            blind,
                            format!(
                                "{what} copies `{name}` into the ID token of app clients that \
                                 may not read it: the token hands them what Cognito withholds"
                            ),
                            format!(
                                "add `{name}` to these clients' ReadAttributes if they may see \
                                 it, or limit the rule to the access token or to other clients"
                            ),
                        ));
                    }
                }
            }
            Read::AnyAttribute => {
                let writable = pool.user_writable();
                if !writable.is_empty() {
                    let text = input.written.as_str();
                    findings.push(found(
                        severity(Severity::High, Severity::Medium),
                        Kind::UserWritable,
                        Vec::new(),
                        format!(
                            "`{text}` may read any user attribute and decides {what}; users can \
                             change some for themselves: {}",
                            writable.join(", ")
                        ),
                        "read one attribute by name that users cannot write (a path \
                              `$.request.userAttributes['custom:x']` or `from: custom:x`), or \
                              decide from groups"
                            .into(),
                    ));
                }
            }
            Read::ClientMetadata => findings.push(found(
                severity(Severity::High, Severity::Low),
                Kind::ClientInput,
                Vec::new(),
                format!(
                    "`{}` decides {what}, and it is whatever the app asking for the tokens \
                     sends (`ClientMetadata` of RespondToAuthChallenge or \
                     GetTokensFromRefreshToken, `aws_client_metadata` at the token endpoint): \
                     anyone with an app client id; and absent from InitiateAuth and its refresh \
                     flow, so what it decides at sign-in can be gone at the next refresh",
                    input.written
                ),
                "decide grants from groups or attributes users cannot write; in a claim, \
                      treat it as the client's word"
                    .into(),
            )),
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
    // Without a group pipeline, `when.groups` names the pool's own groups, and one the pool does
    // not have never holds (a pipeline may rename groups, so its names need not be the pool's).
    if let (None, Some(groups)) = (&mapping.groups, &pool.groups) {
        for (group, place, field) in mapping.condition_group_names() {
            if groups.contains(&group) {
                continue;
            }
            let same_but_case = groups
                .iter()
                .find(|g| g.to_lowercase() == group.to_lowercase());
            let hint = match same_but_case {
                Some(g) => format!(": group names are case-sensitive, did you mean `{g}`?"),
                None => String::new(),
            };
            findings.push(Finding {
                severity: Severity::Medium,
                kind: Kind::Drift,
                place,
                field,
                source: group.clone(),
                clients: Vec::new(),
                message: format!(
                    "the pool has no group `{group}`: this condition never holds{hint}"
                ),
                fix: "write the group's name as the pool has it".into(),
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
        Decides::LookupKey { lookup } => format!(
            "which item the lookup `{lookup}` reads (a user who sets it reads another's item)"
        ),
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
            groups: Some(vec!["admins".into(), "support".into()]),
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
    fn a_lookup_key_users_can_write_is_a_high_finding() {
        let m = mapping(
            "version: 1\nlookups:\n  tenant: {table: tenants, key: {pk: 'T#{custom:role}', sk: '{sub}'}}\nclaims:\n  - {claim: plan, from: lookup.tenant.plan, tokens: [access]}\n",
        );
        let found = audit(&m, &pool(TriggerVersion::V2));
        let key: Vec<_> = found
            .iter()
            .filter(|f| f.place == "lookups.tenant" && f.kind == Kind::UserWritable)
            .collect();
        assert_eq!(key.len(), 1, "{found:#?}");
        assert_eq!(key[0].severity, Severity::High);
        assert_eq!(key[0].field, "lookups.tenant.key.pk");
        assert_eq!(key[0].clients, ["web (web)"]);
        assert!(
            key[0]
                .message
                .contains("which item the lookup `tenant` reads"),
            "{}",
            key[0].message
        );
        // The item itself is the table's: the rule reading it is no finding.
        assert!(!found.iter().any(|f| f.place == "rule 1"), "{found:#?}");
    }

    #[test]
    fn a_group_the_pool_does_not_have_is_drift_and_a_case_slip_is_named() {
        let m = mapping(
            "version: 1\nclaims:\n  - {claim: admin, value: true, when: {groups: [Admins, support]}}\nscopes:\n  add:\n    - {scope: s, when: {groups: [ops]}}\n",
        );
        let found = audit(&m, &pool(TriggerVersion::V2));
        let drift: Vec<_> = found.iter().filter(|f| f.kind == Kind::Drift).collect();
        assert_eq!(drift.len(), 2, "{found:#?}");
        assert_eq!(drift[0].field, "claims[0].when.groups[0]");
        assert_eq!(drift[0].place, "rule 1");
        assert!(
            drift[0].message.contains("did you mean `admins`?"),
            "{}",
            drift[0].message
        );
        assert_eq!(drift[1].field, "scopes.add[0].when.groups[0]");
        assert!(
            !drift[1].message.contains("did you mean"),
            "{}",
            drift[1].message
        );
        // A group pipeline may rename groups: its names are not the pool's to check.
        let piped = mapping(
            "version: 1\ngroups:\n  from: [cognito]\n  rename: { strip_prefix: app- }\nclaims:\n  - {claim: admin, value: true, when: {groups: [Admins]}}\n",
        );
        assert!(
            audit(&piped, &pool(TriggerVersion::V2))
                .iter()
                .all(|f| f.kind != Kind::Drift)
        );
        // Groups not read: nothing said about them.
        let unread = Pool {
            groups: None,
            ..pool(TriggerVersion::V2)
        };
        assert!(audit(&m, &unread).iter().all(|f| f.kind != Kind::Drift));
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

    #[test]
    fn attributes_read_through_a_jsonpath_are_audited_as_attributes() {
        // The same grant written three ways: by name, and through paths the compiled mapping
        // reads as that attribute, or as any attribute.
        let by_name = "version: 1\nclaims:\n  - {claim: admin, value: true, when: {attributes: {custom:role: [admin]}}}\n";
        let by_path = "version: 1\nclaims:\n  - {claim: admin, value: true, when: {paths: {\"$.request.userAttributes['custom:role']\": [admin]}}}\nscopes:\n  add:\n    - {scope: s, when: {paths: {\"$[ 'request' ].userAttributes['custom:role']\": [admin]}}}\n";
        let any = "version: 1\nclaims:\n  - {claim: admin, value: true, when: {paths: {\"$.request.userAttributes.*\": [admin]}}}\n";
        for (yaml, places) in [
            (by_name, vec!["rule 1"]),
            (by_path, vec!["rule 1", "scopes.add[0]"]),
            (any, vec!["rule 1"]),
        ] {
            let found = audit(&mapping(yaml), &pool(TriggerVersion::V2));
            let high: Vec<_> = found
                .iter()
                .filter(|f| f.severity == Severity::High && f.kind == Kind::UserWritable)
                .map(|f| f.place.as_str())
                .collect();
            assert_eq!(high, places, "{yaml}\n{found:?}");
            // Not client metadata, and named as written.
            assert!(
                !found.iter().any(|f| f.kind == Kind::ClientInput),
                "{found:?}"
            );
        }
        let found = audit(&mapping(any), &pool(TriggerVersion::V2));
        assert_eq!(found[0].source, "$.request.userAttributes.*");
        assert!(
            found[0].message.contains("custom:role"),
            "{}",
            found[0].message
        );
    }
}
