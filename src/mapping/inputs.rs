//! What a compiled mapping reads from the event, and what each value read decides: the questions
//! an audit asks of a mapping (`claim-mapper audit`: can the user, or the app asking for tokens,
//! set a value that decides something?), answered from the compiled rules (paths by what they
//! select, not by their text), so that they see exactly what the engine reads.

use super::Mapping;
use super::condition::{Condition, ValueCondition};
use super::groups::GroupSource;
use super::rule_id::RuleId;
use super::source::{AttributeReach, Lookup, item_text};

/// A value the mapping reads, where, and what it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// How reports name the place: `rule 3`, `rule clients.web.1`, `groups.from[1]`,
    /// `scopes.add[0]`.
    pub place: String,
    /// The field in the file (`claims[2].when.attributes.custom:role`), for its line.
    pub field: String,
    /// What the value decides.
    pub decides: Decides,
    /// What is read.
    pub read: Read,
    /// The attribute name or JSONPath as the mapping writes it.
    pub written: String,
    /// The app clients the place is limited to (a client overlay, `when.clients`); empty for
    /// every client.
    pub clients: Vec<String>,
}

/// What a value read from the event decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decides {
    /// A claim's value (after its transforms), in these tokens.
    Claim {
        /// The claim.
        claim: String,
        /// Sent in the ID token.
        id: bool,
        /// Sent in the access token.
        access: bool,
    },
    /// Whether a rule adds its claim (a `when:` condition).
    Condition {
        /// The rule's claim.
        claim: String,
    },
    /// The user's groups, and with them their roles (a group pipeline source).
    Groups,
    /// Whether a scope is added (its `when:`).
    Scope {
        /// The scope.
        scope: String,
    },
    /// Which item a lookup reads (its key), and so everything the rules reading it decide.
    LookupKey {
        /// The lookup's name.
        lookup: String,
    },
}
impl Decides {
    /// Whether the value grants something (a condition, groups and roles, a scope, the item a
    /// lookup reads) rather than being copied into a claim.
    pub fn grants(&self) -> bool {
        !matches!(self, Decides::Claim { .. })
    }
}

/// What a value the mapping reads comes from, as far as someone other than the user pool could
/// set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A user attribute, by name (`from: custom:role`, or a path naming it:
    /// `$.request.userAttributes['custom:role']`).
    Attribute(String),
    /// Any user attribute: a path that searches them (`$.request.userAttributes.*`, `$..role`,
    /// `$.request`).
    AnyAttribute,
    /// `request.clientMetadata`, or a path that may read it: whatever the caller of
    /// the app asking for tokens sends.
    ClientMetadata,
}

/// What `lookup` reads that someone other than the pool could set, as the compiled path says:
/// none, one or both of a user attribute and the client metadata.
fn reads(lookup: &Lookup) -> Vec<Read> {
    match lookup {
        Lookup::Attribute { name, .. } => vec![Read::Attribute(name.clone())],
        Lookup::Path(path) => {
            let mut reads = Vec::new();
            match path.user_attributes() {
                Some(AttributeReach::Named(name)) => reads.push(Read::Attribute(name)),
                Some(AttributeReach::Any) => reads.push(Read::AnyAttribute),
                None => {}
            }
            if path.may_read_client_metadata() {
                reads.push(Read::ClientMetadata);
            }
            reads
        }
        // The table's, not the user's or the caller's; the key that picks the item is audited
        // as an input of its own (`Decides::LookupKey`).
        Lookup::Item { .. } => Vec::new(),
    }
}

/// The attribute name or path of `lookup`, as the mapping writes it.
fn written(lookup: &Lookup) -> String {
    match lookup {
        Lookup::Attribute { name, .. } => name.clone(),
        Lookup::Path(path) => path.to_string(),
        Lookup::Item { name, path, .. } => item_text(name, path),
    }
}

/// What the audit judges of a condition: its value conditions, and the app clients it is limited
/// to. Every field by name, so that a new kind of condition does not compile until the audit says
/// what it reads.
fn condition_reads(when: Option<&Condition>) -> (&[ValueCondition], &[String]) {
    let Some(Condition {
        // The groups are the pool's (or the pipeline's, whose sources are audited as inputs of
        // their own) and the trigger source is Cognito's: neither is a user's or a caller's to set.
        groups: _,
        triggers: _,
        clients,
        values,
    }) = when
    else {
        return (&[], &[]);
    };
    (values, clients.as_deref().unwrap_or_default())
}

impl Mapping {
    /// Every value the mapping reads and what it decides, in file order: rule sources, rule
    /// conditions, group pipeline sources, lookup keys, scope conditions.
    pub fn inputs(&self) -> Vec<Input> {
        let mut inputs = Vec::new();
        for rule in &self.rules {
            let place = format!("rule {}", rule.id);
            let mut clients = match &rule.id {
                RuleId::Overlay(overlay, _) => {
                    overlay.client().map(str::to_owned).into_iter().collect()
                }
                RuleId::Base(_) | RuleId::Groups => Vec::new(),
            };
            let (values, listed) = condition_reads(rule.when.as_ref());
            clients.extend(listed.iter().cloned());
            let (lookups, key) = rule.source.lookups();
            for lookup in lookups {
                let decides = Decides::Claim {
                    claim: rule.claim.clone(),
                    id: rule.to_id,
                    access: rule.to_access,
                };
                let field = format!("{}.{key}", rule.path);
                push(&mut inputs, &place, field, decides, lookup, &clients);
            }
            for value in values {
                let decides = Decides::Condition {
                    claim: rule.claim.clone(),
                };
                let field = format!("{}.when.{}", rule.path, value.key);
                push(&mut inputs, &place, field, decides, &value.lookup, &clients);
            }
        }
        for (i, source) in self.groups.iter().flat_map(|g| &g.sources).enumerate() {
            if let GroupSource::Attribute { name, .. } = source {
                inputs.push(Input {
                    place: format!("groups.from[{i}]"),
                    field: format!("groups.from[{i}].attribute"),
                    decides: Decides::Groups,
                    read: Read::Attribute(name.clone()),
                    written: name.clone(),
                    clients: Vec::new(),
                });
            }
        }
        for lookup in &self.lookups {
            let place = format!("lookups.{}", lookup.name);
            for (attribute, source) in lookup.key_lookups() {
                let decides = Decides::LookupKey {
                    lookup: lookup.name.clone(),
                };
                let field = format!("{place}.key.{attribute}");
                push(&mut inputs, &place, field, decides, source, &[]);
            }
        }
        for (i, scope) in self.scopes_add.iter().enumerate() {
            let (values, clients) = condition_reads(scope.when.as_ref());
            let clients = clients.to_vec();
            for value in values {
                let decides = Decides::Scope {
                    scope: scope.scope.clone(),
                };
                let field = format!("scopes.add[{i}].when.{}", value.key);
                let place = format!("scopes.add[{i}]");
                push(&mut inputs, &place, field, decides, &value.lookup, &clients);
            }
        }
        inputs
    }

    /// The app client ids the mapping names: client overlays and `when.clients` lists, each
    /// once, with the field that names it first.
    pub fn client_ids(&self) -> Vec<(String, String)> {
        let mut named: Vec<(String, String)> = Vec::new();
        let mut add = |id: &str, field: String| {
            if !named.iter().any(|(known, _)| known == id) {
                named.push((id.to_owned(), field));
            }
        };
        for rule in &self.rules {
            if let RuleId::Overlay(overlay, _) = &rule.id
                && let Some(client) = overlay.client()
            {
                add(client, format!("clients.{client}"));
            }
            for (i, client) in condition_reads(rule.when.as_ref()).1.iter().enumerate() {
                add(client, format!("{}.when.clients[{i}]", rule.path));
            }
        }
        for (n, scope) in self.scopes_add.iter().enumerate() {
            for (i, client) in condition_reads(scope.when.as_ref()).1.iter().enumerate() {
                add(client, format!("scopes.add[{n}].when.clients[{i}]"));
            }
        }
        named
    }

    /// Every group name a `when.groups` condition lists (rules, overlays' rules, scopes), each
    /// once, as (group, place, field) where it is first written.
    pub fn condition_group_names(&self) -> Vec<(String, String, String)> {
        let mut named: Vec<(String, String, String)> = Vec::new();
        let mut add = |when: Option<&Condition>, place: String, path: &str| {
            let groups = when.and_then(|w| w.groups.as_deref()).unwrap_or_default();
            for (i, group) in groups.iter().enumerate() {
                if !named.iter().any(|(known, ..)| known == group) {
                    let field = format!("{path}.when.groups[{i}]");
                    named.push((group.clone(), place.clone(), field));
                }
            }
        };
        for rule in &self.rules {
            add(rule.when.as_ref(), format!("rule {}", rule.id), &rule.path);
        }
        for (n, scope) in self.scopes_add.iter().enumerate() {
            let place = format!("scopes.add[{n}]");
            add(scope.when.as_ref(), place.clone(), &place);
        }
        named
    }

    /// The rules that send a claim to the access token, as (place, field, claim).
    pub fn access_token_rules(&self) -> Vec<(String, String, String)> {
        self.rules
            .iter()
            .filter(|r| r.to_access)
            .map(|r| {
                (
                    format!("rule {}", r.id),
                    format!("{}.tokens", r.path),
                    r.claim.clone(),
                )
            })
            .collect()
    }
}

/// One input per thing `lookup` reads that someone other than the pool could set.
fn push(
    inputs: &mut Vec<Input>,
    place: &str,
    field: String,
    decides: Decides,
    lookup: &Lookup,
    clients: &[String],
) {
    for read in reads(lookup) {
        inputs.push(Input {
            place: place.to_owned(),
            field: field.clone(),
            decides: decides.clone(),
            read,
            written: written(lookup),
            clients: clients.to_vec(),
        });
    }
}
