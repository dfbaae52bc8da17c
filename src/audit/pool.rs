//! A user pool's configuration as an audit needs it, and the permissions that follow from it.
//! The defaults are Cognito's documented ones (Amazon Cognito API Reference, `UserPoolClientType`,
//! `ReadAttributes` and `WriteAttributes`): an app client with no `WriteAttributes` lets users
//! write the pool's standard attributes, one with no `ReadAttributes` lets the app read the
//! standard attributes (with `email_verified` and `phone_number_verified`); custom attributes only
//! when listed.

use crate::cognito::STANDARD_ATTRIBUTES;

/// A user pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pool {
    /// The pool id.
    pub id: String,
    /// The attributes of its schema (`SchemaAttributes`). Standard attributes a response leaves
    /// out are taken as the pool has them by default: present, and mutable unless `sub`.
    pub attributes: Vec<PoolAttribute>,
    /// Its app clients.
    pub clients: Vec<Client>,
    /// The Pre Token Generation trigger's event version; `None` when the pool has no such trigger.
    pub trigger: Option<TriggerVersion>,
    /// The names of its groups (`ListGroups`); `None` when they were not read.
    pub groups: Option<Vec<String>>,
}

/// One attribute of a pool's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolAttribute {
    /// Its name as events carry it (`custom:tier`, `email`).
    pub name: String,
    /// Whether it can be changed after the user is created.
    pub mutable: bool,
}

/// An app client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `ReadAttributes`; `None` for Cognito's default set.
    pub read: Option<Vec<String>>,
    /// `WriteAttributes`; `None` for Cognito's default set.
    pub write: Option<Vec<String>>,
}

/// The Pre Token Generation trigger's event version (`LambdaConfig.PreTokenGenerationConfig`;
/// the legacy `PreTokenGeneration` setting is version 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerVersion {
    /// `V1_0`: ID-token claims only.
    V1,
    /// `V2_0`: ID and access tokens.
    V2,
    /// `V3_0`: also machine identities.
    V3,
}

/// Standard attributes no user or app writes: Cognito sets them.
const SYSTEM_SET: [&str; 2] = ["sub", "identities"];

impl Pool {
    /// The attribute by name: from the schema, else a standard attribute as Cognito has it by
    /// default; `None` for an attribute the pool does not have.
    pub fn attribute(&self, name: &str) -> Option<PoolAttribute> {
        if let Some(found) = self.attributes.iter().find(|a| a.name == name) {
            return Some(found.clone());
        }
        STANDARD_ATTRIBUTES.contains(&name).then(|| PoolAttribute {
            name: name.to_owned(),
            mutable: !SYSTEM_SET.contains(&name),
        })
    }

    /// The clients through which a signed-in user can change `name` for themselves: it is
    /// mutable and in the client's effective write set. Developer-only (`dev:`) and Cognito's own
    /// (`cognito:`) attributes are never user-writable.
    pub fn writers(&self, name: &str) -> Vec<&Client> {
        if name.starts_with("dev:") || name.starts_with("cognito:") {
            return Vec::new();
        }
        match self.attribute(name) {
            Some(attribute) if attribute.mutable => {
                self.clients.iter().filter(|c| c.may_write(name)).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl Pool {
    /// Every attribute of the pool users can change for themselves through some app client
    /// (standard ones and the schema's), each once, in name order.
    pub fn user_writable(&self) -> Vec<String> {
        let mut names: Vec<String> = STANDARD_ATTRIBUTES
            .iter()
            .map(|n| (*n).to_owned())
            .chain(self.attributes.iter().map(|a| a.name.clone()))
            .filter(|n| !self.writers(n).is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Client {
    /// Whether the client's effective write set holds `name`.
    pub fn may_write(&self, name: &str) -> bool {
        match &self.write {
            Some(listed) => listed.iter().any(|a| a == name),
            None => STANDARD_ATTRIBUTES.contains(&name) && !SYSTEM_SET.contains(&name),
        }
    }

    /// Whether the client's effective read set holds `name`.
    pub fn may_read(&self, name: &str) -> bool {
        match &self.read {
            Some(listed) => listed.iter().any(|a| a == name),
            None => STANDARD_ATTRIBUTES.contains(&name),
        }
    }

    /// How reports name the client: `web (1h2j...)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Pool {
        Pool {
            id: "p".into(),
            attributes: vec![
                PoolAttribute {
                    name: "custom:role".into(),
                    mutable: true,
                },
                PoolAttribute {
                    name: "custom:tenant".into(),
                    mutable: false,
                },
            ],
            clients: vec![
                Client {
                    id: "d".into(),
                    name: "default".into(),
                    read: None,
                    write: None,
                },
                Client {
                    id: "w".into(),
                    name: "web".into(),
                    read: Some(vec!["custom:role".into()]),
                    write: Some(vec!["custom:role".into(), "custom:tenant".into()]),
                },
            ],
            trigger: Some(TriggerVersion::V2),
            groups: None,
        }
    }

    #[test]
    fn the_default_sets_are_cognitos() {
        let p = pool();
        let names =
            |clients: Vec<&Client>| clients.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(names(p.writers("email")), ["d"]);
        assert_eq!(names(p.writers("custom:role")), ["w"]);
        // Immutable, Cognito's own, developer-only, or not in the pool: no one writes it.
        for name in [
            "custom:tenant",
            "sub",
            "identities",
            "cognito:user_status",
            "dev:custom:x",
            "custom:nope",
        ] {
            assert!(p.writers(name).is_empty(), "{name}");
        }
        assert!(p.clients[0].may_read("email") && !p.clients[0].may_read("custom:role"));
        assert!(p.clients[1].may_read("custom:role") && !p.clients[1].may_read("email"));
        assert!(p.attribute("custom:nope").is_none() && p.attribute("locale").is_some());
    }
}
