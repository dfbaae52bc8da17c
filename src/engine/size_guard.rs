//! The token size guard: the JSON bytes of the claims added to each token, against
//! `limits.token_claim_bytes`, kept per event at the cost of a few additions per rule.

use serde_json::Value;

use super::outcome::Outcome;
use crate::claim_size::{claim_size, value_size};
use crate::cognito::Token;
use crate::mapping::MAX_VALUE_BYTES;
use crate::mapping::Rule;

/// Whether `value` is within [`MAX_VALUE_BYTES`] (value bytes, as that limit defines them). A
/// string costs one comparison, an array or object at most that many steps, however large it is.
#[inline]
pub(crate) fn within_value_cap(value: &Value) -> bool {
    value_room(value, MAX_VALUE_BYTES).is_some()
}

/// The value bytes left of `room` after `value`, or `None` once it does not fit. Every member
/// costs at least one byte, so a walk stops within `room` steps.
pub(crate) fn value_room(value: &Value, room: usize) -> Option<usize> {
    match value {
        Value::String(s) => room.checked_sub(s.len()),
        Value::Array(items) => items
            .iter()
            .try_fold(room, |room, item| value_room(item, room.checked_sub(1)?)),
        Value::Object(members) => members.iter().try_fold(room, |room, (key, item)| {
            value_room(item, room.checked_sub(key.len() + 1)?)
        }),
        _ => room.checked_sub(8),
    }
}

/// The most bytes serde_json writes for a number: an `f64` in ryu's shortest form, such as
/// `-2.2250738585072014e-308`.
const MAX_NUMBER_BYTES: usize = 24;

/// The JSON bytes a claim value takes at most, found without writing or scanning it: a string
/// counted as if every byte were escaped (`\u00XX`), a number as the longest number, arrays and
/// objects from their parts.
#[inline]
fn size_bound(value: &Value) -> usize {
    match value {
        Value::String(s) => 6 * s.len() + 2,
        other => other_size_bound(other),
    }
}

/// [`size_bound`] of a value that is not a string.
fn other_size_bound(value: &Value) -> usize {
    match value {
        Value::Number(_) => MAX_NUMBER_BYTES,
        // `[`, `]` and each item with a comma.
        Value::Array(items) => 2 + items.iter().map(|v| size_bound(v) + 1).sum::<usize>(),
        // `{`, `}` and each `"key":value,`.
        Value::Object(members) => {
            2 + members
                .iter()
                .map(|(k, v)| 6 * k.len() + 4 + size_bound(v))
                .sum::<usize>()
        }
        other => value_size(other),
    }
}

/// The JSON bytes of the claims added to one token so far, against the mapping's limit. While
/// far below the limit it keeps an upper bound made of [`size_bound`]s, which needs no scan of the
/// values; the first time the bound passes the limit it counts the token's claims exactly, once,
/// and from then on keeps the exact count (so a large mapping costs one recount, not one per
/// rule). Most events never leave the bound.
#[derive(Default)]
pub(crate) struct TokenBytes {
    /// Bytes the token carries before any rule: the overridden groups.
    base: usize,
    bound: usize,
    exact: Option<usize>,
}

impl TokenBytes {
    /// A token that already carries `base` bytes of overridden claims (the groups), which count
    /// with the rules' claims against the limit.
    pub(crate) fn starting_at(base: usize) -> TokenBytes {
        TokenBytes {
            base,
            bound: base,
            exact: None,
        }
    }

    /// The token's bytes after `rule` sets its claim to `value` in `token` (replacing any earlier
    /// value), or `None` when the claims would exceed `limit`. In the bound, a replaced value is
    /// not deducted (it stays an upper bound); the exact count deducts it.
    #[inline]
    pub(crate) fn after(
        &mut self,
        outcome: &Outcome,
        token: Token,
        rule: &Rule,
        value: &Value,
        limit: usize,
    ) -> Option<usize> {
        if self.exact.is_none() {
            let bound = self.bound + rule.name_size + size_bound(value);
            if bound <= limit {
                return Some(bound);
            }
        }
        self.after_exact(outcome, token, rule, value, limit)
    }

    /// [`TokenBytes::after`] once the bound has passed the limit.
    fn after_exact(
        &mut self,
        outcome: &Outcome,
        token: Token,
        rule: &Rule,
        value: &Value,
        limit: usize,
    ) -> Option<usize> {
        let exact = *self.exact.get_or_insert_with(|| {
            self.base
                + outcome
                    .claims(token)
                    .map(|(n, v)| claim_size(n, v))
                    .sum::<usize>()
        });
        let replaced = outcome.slots(token)[rule.claim_slot as usize].map_or(0, |old| {
            rule.name_size + value_size(&outcome.values[old as usize])
        });
        let after = exact - replaced + rule.name_size + value_size(value);
        (after <= limit).then_some(after)
    }

    /// Records the bytes [`TokenBytes::after`] returned for a claim that was set.
    pub(crate) fn set(&mut self, bytes: usize) {
        match &mut self.exact {
            Some(exact) => *exact = bytes,
            None => self.bound = bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_value_cap_counts_members_and_stops_early() {
        assert_eq!(value_room(&json!("abc"), 10), Some(7));
        assert_eq!(value_room(&json!(["ab", 1]), 20), Some(20 - 3 - 9));
        assert_eq!(value_room(&json!({"k": "v"}), 3), Some(0));
        assert_eq!(value_room(&json!({"k": "v"}), 2), None);
        let huge = Value::Array(vec![json!(null); 10 * MAX_VALUE_BYTES]);
        assert!(!within_value_cap(&huge));
        assert!(within_value_cap(&json!("x".repeat(MAX_VALUE_BYTES))));
        assert!(!within_value_cap(&json!("x".repeat(MAX_VALUE_BYTES + 1))));
    }

    #[test]
    fn bounds_are_upper_bounds() {
        for value in [
            json!(-2.2250738585072014e-308),
            json!(-1.7976931348623157e308),
            json!(i64::MIN),
            json!(u64::MAX),
            json!("a\"\\\u{1}é"),
            json!(["\u{0}", 1.5, [true, null], {"k\"": [false]}]),
            json!({"": {}, "a": [], "\n": "\t"}),
        ] {
            let written = serde_json::to_string(&value).unwrap().len();
            assert!(size_bound(&value) >= written, "{value}");
            assert_eq!(value_size(&value), written, "{value}");
        }
    }
}
