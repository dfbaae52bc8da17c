//! The answers to an event's lookups, as the engine reads them: an item, no item, or a failure.
//! What carries no key or value, so that it can reach logs and metrics.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Why a lookup gave no answer. Carries no key or value: it reaches logs and metrics. A fixture's
/// `fails:` names one, as [`LookupFailure::name`] spells it (not `not_fetched`, which only a read
/// not made gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupFailure {
    /// The read took longer than the lookup's `timeout_ms`.
    TimedOut,
    /// The event's lookups had spent `limits.lookup_budget_ms` before this one was answered.
    OverBudget,
    /// The table refused the read for its throughput (DynamoDB throttled it).
    Throttled,
    /// The read failed (no such table, access denied, network).
    Error,
    /// Nothing fetched the item: a dry-run without an item for this key in its fixture.
    #[serde(skip)]
    NotFetched,
}

impl LookupFailure {
    /// The failure's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            LookupFailure::TimedOut => "timed_out",
            LookupFailure::OverBudget => "over_budget",
            LookupFailure::Throttled => "throttled",
            LookupFailure::Error => "error",
            LookupFailure::NotFetched => "not_fetched",
        }
    }
}

impl fmt::Display for LookupFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LookupFailure::TimedOut => "timed out",
            LookupFailure::OverBudget => "the event's lookup budget was spent",
            LookupFailure::Throttled => "throttled by the table",
            LookupFailure::Error => "the read failed",
            LookupFailure::NotFetched => {
                "no item was given for its key (`--lookup-items`, or a suite case's `lookups:`)"
            }
        })
    }
}

/// What fetching one lookup's item gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// The item, as JSON (the shell converts DynamoDB's attribute values).
    Item(Value),
    /// The table has no item under the key: rules reading it find their source missing.
    Missing,
    /// No answer.
    Failed(LookupFailure),
}

/// The items of an event's lookups, by lookup. A lookup with no entry was not fetched: a rule
/// reading it fails with [`LookupFailure::NotFetched`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Items {
    /// By the lookup's index in the mapping.
    pub(super) fetched: Vec<Option<Fetched>>,
}

impl Items {
    /// No items: what a mapping without lookups is applied with.
    pub const fn none() -> Items {
        Items {
            fetched: Vec::new(),
        }
    }

    /// What rules read of the lookup at `index`.
    pub(crate) fn get(&self, index: u32) -> Option<&Fetched> {
        self.fetched.get(index as usize)?.as_ref()
    }
}
