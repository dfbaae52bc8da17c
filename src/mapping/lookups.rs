//! Lookups (`lookups:`): items read from a DynamoDB table, declared by name, keyed by values of
//! the event, bounded in time and cached. Compiled here; which lookups an event needs, and
//! applying the items fetched, is [`crate::engine`]'s; fetching them is the shells'.
//!
//! Rules read a lookup's item as a source: `from: lookup.tenant.plan`, or a JSONPath's steps into
//! the item after the lookup's name (`lookup.tenant.limits.seats`,
//! `lookup.tenant.entitlements[*]`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::OnError;
use super::problems::Problems;
use super::rule::Rule;
use super::source::{Lookup, Template};
use crate::diagnostics::errors::did_you_mean;

/// Most lookups one mapping declares. An event needs at most this many items, which one
/// `BatchGetItem` fetches (it takes up to 100 keys: Amazon DynamoDB API Reference,
/// `BatchGetItem`).
pub const MAX_LOOKUPS: usize = 4;
/// A lookup's `timeout_ms` when not given.
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u32 = 200;
/// Largest `timeout_ms` and `limits.lookup_budget_ms`: Cognito gives the whole trigger 5 seconds
/// and retries a failed or timed-out invocation (Developer Guide, "Customizing user pool
/// workflows with Lambda triggers"), so a lookup must leave most of them to the rest.
pub const MAX_LOOKUP_TIMEOUT_MS: u32 = 1000;
/// `limits.lookup_budget_ms` when not given: what one event may spend on all its lookups.
pub const DEFAULT_LOOKUP_BUDGET_MS: u32 = 400;
/// A cache's `ttl_seconds` when not given.
pub const DEFAULT_CACHE_TTL_SECONDS: u32 = 300;
/// Largest `ttl_seconds`, `missing_ttl_seconds` and `stale_seconds`: a day.
pub const MAX_CACHE_SECONDS: u32 = 86_400;
/// A cache's `max_entries` when not given.
pub const DEFAULT_CACHE_ENTRIES: u32 = 10_000;
/// Largest `max_entries`.
pub const MAX_CACHE_ENTRIES: u32 = 1_000_000;
/// A cache's `max_bytes` when not given: 16 MiB of items, a small share of a 128 MB function.
pub const DEFAULT_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Largest `max_bytes`: 512 MiB.
pub const MAX_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// A lookup as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Lookup")]
pub(crate) struct RawLookup {
    /// The DynamoDB table's name or ARN.
    table: String,
    /// The item's key: its partition key attribute and, for a table with one, its sort key
    /// attribute, each a string with `{attribute}` or `{$.json.path}` placeholders
    /// (`TENANT#{custom:tenant_id}`) or a constant. Key values are strings (type `S`).
    #[schemars(length(min = 1, max = 2))]
    key: BTreeMap<String, String>,
    /// The item's attributes to read (its top-level names); absent: the whole item.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    attributes: Option<Vec<String>>,
    /// How long one read may take, in milliseconds (default 200, at most 1000); past it the
    /// lookup has failed.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    timeout_ms: Option<u32>,
    /// The function's cache of items (per instance).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::given")]
    cache: RawCache,
    /// What a rule reading this lookup does when the lookup fails or times out; absent: the
    /// mapping's `on_error`.
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    on_error: Option<OnError>,
}

/// A lookup's cache as written.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LookupCache")]
struct RawCache {
    /// How long an item is served from the cache, in seconds (default 300; 0: not cached).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    ttl_seconds: Option<u32>,
    /// How long "no such item" is served from the cache, in seconds (default: `ttl_seconds`).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    missing_ttl_seconds: Option<u32>,
    /// Most items held (default 10000).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    max_entries: Option<u32>,
    /// Most bytes of items held (default 16 MiB).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    max_bytes: Option<u64>,
    /// For how long past its TTL an item is still served while the table fails (default 0:
    /// never).
    #[serde(default, deserialize_with = "crate::diagnostics::yaml::present")]
    stale_seconds: Option<u32>,
}

/// A compiled lookup.
#[derive(Debug, Clone)]
pub struct TableLookup {
    /// Its name in the mapping (`lookup.NAME` in sources), in logs and metrics.
    pub name: String,
    /// The table's name or ARN.
    pub table: String,
    /// The key: one or two (attribute, value) pairs, partition key first as written.
    pub(crate) key: Vec<(String, KeyValue)>,
    /// The attributes read (a projection); empty for the whole item.
    pub attributes: Vec<String>,
    /// How long one read may take.
    pub timeout_ms: u32,
    /// The cache.
    pub cache: CacheSettings,
    /// What a failed lookup makes a rule reading it do; `None` for the mapping's `on_error`.
    pub(crate) on_error: Option<OnError>,
}

/// A key attribute's value: a constant, or rendered from the event.
#[derive(Debug, Clone)]
pub(crate) enum KeyValue {
    Constant(String),
    Template(Template),
}

/// How a lookup's items are cached per function instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// How long an item is served from the cache, in seconds; 0: not cached.
    pub ttl_seconds: u32,
    /// How long a missing item is remembered, in seconds.
    pub missing_ttl_seconds: u32,
    /// Most items held.
    pub max_entries: u32,
    /// Most bytes of items held (their JSON size).
    pub max_bytes: u64,
    /// For how long past its TTL an item is still served while the table fails.
    pub stale_seconds: u32,
}

impl TableLookup {
    /// The key attributes' names, partition key first.
    pub fn key_names(&self) -> impl Iterator<Item = &str> {
        self.key.iter().map(|(name, _)| name.as_str())
    }

    /// The sources the key's values read from the event, for numbering the mapping's attributes
    /// and for the audit.
    pub(crate) fn key_lookups(&self) -> impl Iterator<Item = (&str, &Lookup)> {
        self.key.iter().flat_map(|(name, value)| {
            let lookups = match value {
                KeyValue::Constant(_) => Vec::new(),
                KeyValue::Template(t) => t.lookups().collect(),
            };
            lookups.into_iter().map(move |l| (name.as_str(), l))
        })
    }

    /// The key's sources, for numbering the mapping's attributes.
    pub(crate) fn key_lookups_mut(&mut self) -> impl Iterator<Item = &mut Lookup> {
        self.key
            .iter_mut()
            .flat_map(|(_, value)| match value {
                KeyValue::Constant(_) => None,
                KeyValue::Template(t) => Some(t.lookups_mut()),
            })
            .flatten()
    }
}

/// Whether `name` can name a lookup: letters, digits, `_` and `-`, as it is written after
/// `lookup.` in sources and in metric names.
fn name_restriction(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (!ok).then(|| {
        format!(
            "`{name}`: a lookup's name is 1 to 64 letters, digits, `_` or `-` (it is written after \
             `lookup.` in sources)"
        )
    })
}

/// Why `table` cannot be a DynamoDB table's name or ARN, if it cannot: a name is 3 to 255 of
/// `a-z A-Z 0-9 _ - .`, an ARN at most 1024 characters (Amazon DynamoDB API Reference,
/// `GetItem`, `TableName`).
fn table_restriction(table: &str) -> Option<String> {
    if table.starts_with("arn:") {
        return (table.len() > 1024 || !table.contains(":table/")).then(|| {
            format!("`{table}` is not a table ARN (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`)")
        });
    }
    let ok = (3..=255).contains(&table.len())
        && table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!ok).then(|| {
        format!(
            "`{table}` is not a DynamoDB table name: 3 to 255 letters, digits, `_`, `-` or `.` \
             (or the table's ARN)"
        )
    })
}

/// Compiles `lookups:`. A lookup's key may not read another lookup.
pub(crate) fn compile_lookups(
    raw: &BTreeMap<String, RawLookup>,
    problems: &mut Problems,
) -> Vec<TableLookup> {
    if raw.len() > MAX_LOOKUPS {
        problems.add(
            "lookups",
            format!(
                "{} lookups; at most {MAX_LOOKUPS}, each one a read on the sign-in's path",
                raw.len()
            ),
        );
    }
    let mut lookups = Vec::with_capacity(raw.len());
    for (name, raw) in raw.iter().take(MAX_LOOKUPS) {
        let path = format!("lookups.{name}");
        let mut ok = true;
        let mut report = |field: &str, message: String| {
            ok = false;
            let at = if field.is_empty() {
                path.clone()
            } else {
                format!("{path}.{field}")
            };
            problems.add(at, message);
        };
        if let Some(why) = name_restriction(name) {
            report("", why);
        }
        if let Some(why) = table_restriction(&raw.table) {
            report("table", why);
        }
        if raw.key.is_empty() || raw.key.len() > 2 {
            report(
                "key",
                "a key is the partition key attribute and, for a table with a sort key, the sort \
                 key attribute: one or two entries"
                    .into(),
            );
        }
        let mut key = Vec::with_capacity(raw.key.len());
        for (attribute, text) in &raw.key {
            if attribute.is_empty() {
                report("key", "a key attribute's name cannot be empty".into());
                continue;
            }
            match compile_key_value(text) {
                Ok(value) => key.push((attribute.clone(), value)),
                Err(why) => report(&format!("key.{attribute}"), why),
            }
        }
        let attributes = raw.attributes.clone().unwrap_or_default();
        if raw.attributes.as_ref().is_some_and(Vec::is_empty) {
            report(
                "attributes",
                "an empty list reads nothing: list the item's attributes, or leave `attributes` \
                 out to read the whole item"
                    .into(),
            );
        }
        for (i, attribute) in attributes.iter().enumerate() {
            if attribute.is_empty() {
                report(
                    &format!("attributes[{i}]"),
                    "an attribute name cannot be empty".into(),
                );
            }
        }
        let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_LOOKUP_TIMEOUT_MS);
        if timeout_ms == 0 || timeout_ms > MAX_LOOKUP_TIMEOUT_MS {
            report(
                "timeout_ms",
                format!(
                    "must be between 1 and {MAX_LOOKUP_TIMEOUT_MS}: Cognito gives the whole \
                     trigger 5 seconds"
                ),
            );
        }
        let c = &raw.cache;
        let ttl_seconds = c.ttl_seconds.unwrap_or(DEFAULT_CACHE_TTL_SECONDS);
        let cache = CacheSettings {
            ttl_seconds,
            missing_ttl_seconds: c.missing_ttl_seconds.unwrap_or(ttl_seconds),
            max_entries: c.max_entries.unwrap_or(DEFAULT_CACHE_ENTRIES),
            max_bytes: c.max_bytes.unwrap_or(DEFAULT_CACHE_BYTES),
            stale_seconds: c.stale_seconds.unwrap_or(0),
        };
        for (field, seconds) in [
            ("ttl_seconds", cache.ttl_seconds),
            ("missing_ttl_seconds", cache.missing_ttl_seconds),
            ("stale_seconds", cache.stale_seconds),
        ] {
            if seconds > MAX_CACHE_SECONDS {
                report(
                    &format!("cache.{field}"),
                    format!("at most {MAX_CACHE_SECONDS} (a day)"),
                );
            }
        }
        if cache.max_entries == 0 || cache.max_entries > MAX_CACHE_ENTRIES {
            report(
                "cache.max_entries",
                format!(
                    "must be between 1 and {MAX_CACHE_ENTRIES}; `ttl_seconds: 0` turns the cache off"
                ),
            );
        }
        if cache.max_bytes == 0 || cache.max_bytes > MAX_CACHE_BYTES {
            report(
                "cache.max_bytes",
                format!(
                    "must be between 1 and {MAX_CACHE_BYTES}; `ttl_seconds: 0` turns the cache off"
                ),
            );
        }
        if ok {
            lookups.push(TableLookup {
                name: name.clone(),
                table: raw.table.clone(),
                key,
                attributes,
                timeout_ms,
                cache,
                on_error: raw.on_error,
            });
        }
    }
    lookups
}

/// A key attribute's value: a template when it has placeholders (which may not read a lookup),
/// else a constant.
fn compile_key_value(text: &str) -> Result<KeyValue, String> {
    if text.is_empty() {
        return Err("DynamoDB refuses an empty key value".into());
    }
    let template = match Template::parse(text) {
        Ok(template) => template,
        // No placeholder: a constant, braces written as `{{`/`}}` unescaped.
        Err(_) if !text.contains(['{', '}']) => return Ok(KeyValue::Constant(text.to_owned())),
        Err(why) => return Err(why),
    };
    if template.lookups().any(|l| matches!(l, Lookup::Item { .. })) {
        return Err("a key cannot read a lookup: keys are built from the event".into());
    }
    Ok(KeyValue::Template(template))
}

/// Sets each rule's item sources to the index of the lookup they name, and reports a name not
/// declared, with the name meant. `declared` holds every name under `lookups:`, compiled or not.
pub(crate) fn resolve_names(
    rules: &mut [Rule],
    lookups: &[TableLookup],
    declared: &[&str],
    problems: &mut Problems,
) {
    for rule in rules {
        let mut unknown = Vec::new();
        for source in rule.source.lookups_mut() {
            let Lookup::Item { name, lookup, .. } = source else {
                continue;
            };
            match lookups.iter().position(|l| l.name == *name) {
                // MAX_LOOKUPS bounds the index.
                Some(index) => *lookup = index as u32,
                // Declared but refused: its own problem says why.
                None if declared.contains(&name.as_str()) => {}
                None => unknown.push(name.clone()),
            }
        }
        let site = rule.site();
        let (_, field) = rule.source.lookups();
        for name in unknown {
            let hint = did_you_mean(&name, declared.iter().copied())
                .map(|meant| format!(": did you mean `{meant}`?"))
                .unwrap_or_else(|| " (declare it under `lookups:`)".to_owned());
            problems.add_rule(&site, field, format!("no lookup is named `{name}`{hint}"));
        }
    }
}
