//! The parts of a compiled mapping that each do something of their own (a rule, a scope added,
//! a suppression, a step of the group pipeline), and the same mapping without one of them: what
//! test coverage (`claim-mapper test --coverage`) removes one at a time to see whether some case
//! fails without it.

use super::Mapping;
use crate::cognito::Token;

/// A part of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// A claim rule (base or overlay), by its index in the mapping's rules.
    Rule(usize),
    /// An entry of `scopes.add`.
    ScopeAdd(usize),
    /// An entry of `suppress.id` or `suppress.access`.
    Suppress(Token, usize),
    /// An entry of `scopes.suppress`.
    ScopeSuppress(usize),
    /// A step of the group pipeline.
    Groups(GroupStep),
}

/// A step of the group pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupStep {
    /// A source of `groups.from`, by index.
    From(usize),
    /// `groups.drop_idp_group`.
    DropIdpGroup,
    /// `groups.keep`.
    Keep,
    /// `groups.rename`.
    Rename,
    /// `groups.max`.
    Max,
    /// `groups.roles`.
    Roles,
}

impl Mapping {
    /// Every part of the mapping, in file order: rules, scopes added, suppressions, the group
    /// pipeline's steps.
    pub fn parts(&self) -> Vec<Part> {
        let mut parts: Vec<Part> = (0..self.rules.len()).map(Part::Rule).collect();
        parts.extend((0..self.scopes_add.len()).map(Part::ScopeAdd));
        parts.extend((0..self.suppress_id.len()).map(|i| Part::Suppress(Token::Id, i)));
        parts.extend((0..self.suppress_access.len()).map(|i| Part::Suppress(Token::Access, i)));
        parts.extend((0..self.scopes_suppress.len()).map(Part::ScopeSuppress));
        if let Some(groups) = &self.groups {
            parts.extend((0..groups.sources.len()).map(|i| Part::Groups(GroupStep::From(i))));
            let steps = [
                (groups.drop_idp_group, GroupStep::DropIdpGroup),
                (groups.keep.is_some(), GroupStep::Keep),
                (
                    groups.strip_prefix.is_some() || !groups.rename.is_empty(),
                    GroupStep::Rename,
                ),
                (groups.max.is_some(), GroupStep::Max),
                (groups.roles.is_some(), GroupStep::Roles),
            ];
            parts.extend(
                steps
                    .into_iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, s)| Part::Groups(s)),
            );
        }
        parts
    }

    /// How reports name `part`: `rule 3 (claim `birthdate`)`, `scopes.add[0] (orders-api/read)`,
    /// `suppress.id[0] (phone_number)`, `groups.keep`.
    pub fn describe(&self, part: Part) -> String {
        match part {
            Part::Rule(i) => {
                let rule = &self.rules[i];
                format!("rule {} (claim `{}`)", rule.id, rule.claim)
            }
            Part::ScopeAdd(i) => format!("scopes.add[{i}] (`{}`)", self.scopes_add[i].scope),
            Part::Suppress(token, i) => {
                let list = match token {
                    Token::Id => &self.suppress_id,
                    Token::Access => &self.suppress_access,
                };
                format!("suppress.{}[{i}] (`{}`)", token.name(), list[i])
            }
            Part::ScopeSuppress(i) => {
                format!("scopes.suppress[{i}] (`{}`)", self.scopes_suppress[i])
            }
            Part::Groups(GroupStep::From(i)) => format!("groups.from[{i}]"),
            Part::Groups(GroupStep::DropIdpGroup) => "groups.drop_idp_group".into(),
            Part::Groups(GroupStep::Keep) => "groups.keep".into(),
            Part::Groups(GroupStep::Rename) => "groups.rename".into(),
            Part::Groups(GroupStep::Max) => "groups.max".into(),
            Part::Groups(GroupStep::Roles) => "groups.roles".into(),
        }
    }

    /// The mapping without `part`: its rule never runs, its scope or suppression is not there,
    /// its step of the group pipeline does nothing.
    pub fn without(&self, part: Part) -> Mapping {
        let mut m = self.clone();
        match part {
            Part::Rule(i) => m.plans.remove_rule(i as u32),
            Part::ScopeAdd(i) => {
                m.scopes_add.remove(i);
            }
            Part::Suppress(Token::Id, i) => {
                m.suppress_id.remove(i);
            }
            Part::Suppress(Token::Access, i) => {
                m.suppress_access.remove(i);
            }
            Part::ScopeSuppress(i) => {
                m.scopes_suppress.remove(i);
            }
            Part::Groups(step) => {
                if let Some(groups) = &mut m.groups {
                    match step {
                        GroupStep::From(i) => {
                            groups.sources.remove(i);
                        }
                        GroupStep::DropIdpGroup => groups.drop_idp_group = false,
                        GroupStep::Keep => groups.keep = None,
                        GroupStep::Rename => {
                            groups.strip_prefix = None;
                            groups.rename.clear();
                        }
                        GroupStep::Max => groups.max = None,
                        GroupStep::Roles => groups.roles = None,
                    }
                }
            }
        }
        m
    }
}
