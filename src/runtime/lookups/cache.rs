//! The function instance's cache of lookup items: per lookup, its answers by key for the lookup's
//! TTL (a missing item for its `missing_ttl_seconds`), at most `max_entries` of them and
//! `max_bytes` of items, the oldest dropped first; an answer past its TTL is still served for
//! `stale_seconds` while the table fails. Times are passed in, so that it is tested without a
//! clock.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::engine::Fetched;
use crate::mapping::lookups::{CacheSettings, TableLookup};

/// One cached answer: an item or "no item", never a failure.
#[derive(Debug)]
struct Entry {
    fetched: Fetched,
    at: Instant,
    bytes: usize,
}

/// What the cache holds for one key.
#[derive(Debug, PartialEq)]
pub enum Cached<'c> {
    /// Within its TTL: served without a read.
    Fresh(&'c Fetched),
    /// Past its TTL but within `stale_seconds`: served only if the read fails.
    Stale(&'c Fetched),
    /// Nothing usable.
    None,
}

/// One lookup's answers.
#[derive(Debug)]
struct LookupCache {
    /// What the answers were cached under: a mapping version that changes the lookup's table,
    /// attributes or cache settings starts it afresh.
    identity: String,
    settings: CacheSettings,
    entries: HashMap<String, Entry>,
    /// Keys in the order they were stored, oldest first, for dropping the oldest.
    order: VecDeque<String>,
    bytes: usize,
}

/// The answers of every lookup, by lookup name.
#[derive(Debug, Default)]
pub struct Cache {
    lookups: HashMap<String, LookupCache>,
}

/// What tells one lookup's configuration from another's for caching.
fn identity(lookup: &TableLookup) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{:?}",
        lookup.table,
        lookup.attributes.join("\u{1e}"),
        lookup.cache
    )
}

impl Cache {
    /// What the cache holds for `lookup` under `key` at `now`.
    pub fn get(&mut self, lookup: &TableLookup, key: &str, now: Instant) -> Cached<'_> {
        let Some(cache) = self.lookups.get(&lookup.name) else {
            return Cached::None;
        };
        if cache.identity != identity(lookup) {
            return Cached::None;
        }
        let Some(entry) = cache.entries.get(key) else {
            return Cached::None;
        };
        let settings = cache.settings;
        let ttl = match entry.fetched {
            Fetched::Missing => settings.missing_ttl_seconds,
            _ => settings.ttl_seconds,
        };
        let age = now.saturating_duration_since(entry.at);
        if age < Duration::from_secs(u64::from(ttl)) {
            Cached::Fresh(&entry.fetched)
        } else if age < Duration::from_secs(u64::from(ttl) + u64::from(settings.stale_seconds)) {
            Cached::Stale(&entry.fetched)
        } else {
            Cached::None
        }
    }

    /// Stores what a read of `lookup` under `key` found at `now`: an item or "no item" (a failure
    /// is never cached). Makes room by dropping the oldest answers; an item larger than the
    /// lookup's `max_bytes` on its own is not stored.
    pub fn put(&mut self, lookup: &TableLookup, key: String, fetched: &Fetched, now: Instant) {
        let settings = lookup.cache;
        let ttl = match fetched {
            Fetched::Item(_) => settings.ttl_seconds,
            Fetched::Missing => settings.missing_ttl_seconds,
            Fetched::Failed(_) => return,
        };
        if ttl == 0 {
            return;
        }
        let bytes = key.len()
            + match fetched {
                Fetched::Item(item) => crate::claim_size::serialized_size(item),
                _ => 0,
            };
        if bytes as u64 > settings.max_bytes {
            return;
        }
        let identity = identity(lookup);
        let cache = self
            .lookups
            .entry(lookup.name.clone())
            .or_insert_with(|| LookupCache {
                identity: identity.clone(),
                settings,
                entries: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            });
        if cache.identity != identity {
            *cache = LookupCache {
                identity,
                settings,
                entries: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            };
        }
        if let Some(old) = cache.entries.remove(&key) {
            cache.bytes -= old.bytes;
            cache.order.retain(|k| *k != key);
        }
        while cache.entries.len() >= settings.max_entries as usize
            || (cache.bytes + bytes) as u64 > settings.max_bytes
        {
            let Some(oldest) = cache.order.pop_front() else {
                break;
            };
            if let Some(old) = cache.entries.remove(&oldest) {
                cache.bytes -= old.bytes;
            }
        }
        cache.bytes += bytes;
        cache.order.push_back(key.clone());
        cache.entries.insert(
            key,
            Entry {
                fetched: fetched.clone(),
                at: now,
                bytes,
            },
        );
    }

    /// How many answers are held for the lookup named `name`, and their bytes.
    #[cfg(test)]
    fn held(&self, name: &str) -> (usize, usize) {
        self.lookups
            .get(name)
            .map_or((0, 0), |c| (c.entries.len(), c.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mapping;
    use serde_json::json;

    fn lookup(cache: &str) -> TableLookup {
        let yaml = format!(
            "version: 1\nlookups:\n  t:\n    table: tenants\n    key: {{pk: x}}\n    cache: {cache}\n"
        );
        Mapping::from_yaml(&yaml, "t.yaml").unwrap().lookups()[0].clone()
    }

    #[test]
    fn answers_are_fresh_then_stale_then_gone() {
        let l = lookup("{ttl_seconds: 10, missing_ttl_seconds: 2, stale_seconds: 5}");
        let mut cache = Cache::default();
        let t0 = Instant::now();
        let item = Fetched::Item(json!({"plan": "gold"}));
        cache.put(&l, "a".into(), &item, t0);
        cache.put(&l, "b".into(), &Fetched::Missing, t0);
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(cache.get(&l, "a", at(9)), Cached::Fresh(&item));
        assert_eq!(cache.get(&l, "a", at(14)), Cached::Stale(&item));
        assert_eq!(cache.get(&l, "a", at(15)), Cached::None);
        assert_eq!(cache.get(&l, "b", at(1)), Cached::Fresh(&Fetched::Missing));
        assert_eq!(cache.get(&l, "b", at(3)), Cached::Stale(&Fetched::Missing));
        assert_eq!(cache.get(&l, "c", at(0)), Cached::None);
        // A failure is never stored.
        let failed = Fetched::Failed(crate::engine::LookupFailure::Error);
        cache.put(&l, "c".into(), &failed, t0);
        assert_eq!(cache.get(&l, "c", at(0)), Cached::None);
    }

    #[test]
    fn a_ttl_of_zero_caches_nothing() {
        let l = lookup("{ttl_seconds: 0}");
        let mut cache = Cache::default();
        let now = Instant::now();
        cache.put(&l, "a".into(), &Fetched::Item(json!({})), now);
        assert_eq!(cache.get(&l, "a", now), Cached::None);
        assert_eq!(cache.held("t"), (0, 0));
    }

    #[test]
    fn the_oldest_answers_make_room_within_entries_and_bytes() {
        let l = lookup("{max_entries: 2}");
        let mut cache = Cache::default();
        let now = Instant::now();
        for key in ["a", "b", "c"] {
            cache.put(&l, key.into(), &Fetched::Missing, now);
        }
        assert_eq!(cache.held("t").0, 2);
        assert_eq!(cache.get(&l, "a", now), Cached::None);
        assert!(matches!(cache.get(&l, "c", now), Cached::Fresh(_)));

        // 30 bytes: a key and its item of 20 bytes (`k1` and `{"v":"0123456789"}`) fit one at
        // a time.
        let l = lookup("{max_bytes: 30}");
        let item = |v: &str| Fetched::Item(json!({ "v": v }));
        cache.put(&l, "k1".into(), &item("0123456789"), now);
        cache.put(&l, "k2".into(), &item("0123456789"), now);
        assert_eq!(cache.held("t").0, 1);
        assert!(matches!(cache.get(&l, "k2", now), Cached::Fresh(_)));
        // Larger than the whole budget on its own: not stored, nothing dropped for it.
        cache.put(&l, "k3".into(), &item(&"x".repeat(64)), now);
        assert!(matches!(cache.get(&l, "k2", now), Cached::Fresh(_)));
        assert_eq!(cache.get(&l, "k3", now), Cached::None);
    }

    #[test]
    fn a_lookup_configured_otherwise_starts_afresh() {
        let before = lookup("{ttl_seconds: 60}");
        let after = lookup("{ttl_seconds: 61}");
        let mut cache = Cache::default();
        let now = Instant::now();
        cache.put(&before, "a".into(), &Fetched::Missing, now);
        assert_eq!(cache.get(&after, "a", now), Cached::None);
        cache.put(&after, "b".into(), &Fetched::Missing, now);
        assert_eq!(cache.held("t").0, 1);
    }
}
