//! What a mapping produced for one event: the claims per token, suppressions, scopes and groups,
//! held by index so that writing the response needs no map and copies nothing.

use std::borrow::Cow;

use serde_json::Value;

use super::failure::RuleFailure;
use super::groups::GroupOverride;
use super::note::Note;
use crate::cognito::Token;

/// Everything a mapping produced for one event, before it is written into the response. Values
/// found in the event or the mapping are borrowed from them, and a claim set in both tokens is
/// held once.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    /// The mapping's claim names, indexed by a rule's claim slot.
    pub(crate) claim_names: &'a [String],
    /// Every value a rule added, in rule order.
    pub(crate) values: Vec<Cow<'a, Value>>,
    /// Per claim slot, the index in `values` of its value: the ID token's slots, then the access
    /// token's (V2/V3 only), in one allocation.
    pub(crate) slots: Vec<Option<u32>>,
    /// ID-token `claimsToSuppress`.
    pub(crate) suppress_id: &'a [String],
    /// Access-token `claimsToSuppress` (V2/V3 only).
    pub(crate) suppress_access: &'a [String],
    /// `scopesToAdd` (V2/V3 only).
    pub(crate) scopes_add: Vec<&'a str>,
    /// `scopesToSuppress` (V2/V3 only).
    pub(crate) scopes_suppress: &'a [String],
    /// `groupOverrideDetails`, when the mapping has a group pipeline.
    pub(crate) groups: Option<GroupOverride>,
    /// Rules that failed and were skipped (`on_error: skip`).
    pub(crate) skipped: Vec<RuleFailure>,
    /// What the engine worked around in the event.
    pub(crate) notes: Vec<Note>,
    /// Number of rules whose claim was added.
    pub(crate) applied: usize,
}

impl<'a> Outcome<'a> {
    /// One token's claim slots.
    pub(crate) fn slots(&self, token: Token) -> &[Option<u32>] {
        let (id, access) = self
            .slots
            .split_at_checked(self.claim_names.len())
            .unwrap_or_default();
        match token {
            Token::Id => id,
            Token::Access => access,
        }
    }

    /// One token's added claims, in name order.
    pub(crate) fn claims(&self, token: Token) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.slots(token)
            .iter()
            .enumerate()
            .filter_map(|(slot, value)| {
                let value = (*value)?;
                Some((
                    self.claim_names[slot].as_str(),
                    self.values[value as usize].as_ref(),
                ))
            })
    }
}
