//! Lookups on the sign-in path: the items an event needs ([`engine::plan_lookups`]), answered
//! from the instance's cache where it can, the rest read together from DynamoDB within the
//! mapping's deadlines, and what each lookup did, for the metric line. Nothing here logs a key,
//! an item or a value: lookup names and outcomes only.
//!
//! Deadlines: the reads of one event go out in one `BatchGetItem`, which may take as long as the
//! longest `timeout_ms` among them, and never longer than `limits.lookup_budget_ms`; past it
//! every read still out fails (`timed_out`, or `over_budget` when the budget cut it shorter than
//! its timeout). A failed read serves the cached item within its `stale_seconds`.

pub mod cache;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::metrics::{LookupCount, LookupCounts, LookupOutcome};
use crate::aws::config::Budget;
use crate::aws::dynamodb::{Dynamo, Read};
use crate::engine::{self, Fetched, Items, LookupFailure, LookupRequest};
use crate::mapping::Mapping;
use crate::mapping::lookups::MAX_LOOKUPS;
use cache::{Cache, Cached};

/// The function's lookups: a DynamoDB client and the instance's cache, both kept across
/// invocations.
#[derive(Debug)]
pub struct Lookups {
    dynamo: Dynamo,
    cache: Mutex<Cache>,
}

impl Lookups {
    /// Sets up the DynamoDB client ([`Budget::LOOKUPS`]). Costs no network call.
    pub async fn new() -> Lookups {
        Lookups {
            dynamo: Dynamo::new(Budget::LOOKUPS).await,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The items `event` needs under `mapping`, and what each lookup did. An event the engine
    /// cannot read needs none (it is refused when applied).
    pub async fn items(&self, mapping: &Mapping, event: &Value) -> (Items, LookupCounts) {
        let mut counts: LookupCounts = [None; MAX_LOOKUPS];
        let Ok(mut plan) = engine::plan_lookups(mapping, event) else {
            return (Items::none(), counts);
        };
        let start = Instant::now();
        // (request, its answer) and the reads still to make: (request, cache key, stale answer).
        let mut answered: Vec<(usize, Fetched, LookupOutcome)> = Vec::new();
        let mut to_read: Vec<(usize, String, Option<Fetched>)> = Vec::new();
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for (i, request) in plan.requests().iter().enumerate() {
                let key = cache_key(request);
                match cache.get(request.lookup, &key, start) {
                    Cached::Fresh(fetched) => {
                        answered.push((i, fetched.clone(), LookupOutcome::Cached))
                    }
                    Cached::Stale(fetched) => to_read.push((i, key, Some(fetched.clone()))),
                    Cached::None => to_read.push((i, key, None)),
                }
            }
        }
        let mut millis = 0;
        if !to_read.is_empty() {
            let requests = plan.requests();
            let reads: Vec<Read> = to_read
                .iter()
                .map(|(i, ..)| Read::of(&requests[*i]))
                .collect();
            let longest = to_read
                .iter()
                .map(|(i, ..)| requests[*i].lookup.timeout_ms)
                .max()
                .unwrap_or_default();
            let budget = mapping.lookup_budget_ms();
            let deadline = Duration::from_millis(u64::from(longest.min(budget)));
            let read = tokio::time::timeout(deadline, self.dynamo.get(&reads)).await;
            millis = u32::try_from(start.elapsed().as_millis()).unwrap_or(u32::MAX);
            let results = match read {
                Ok(results) => results,
                Err(_) => {
                    let failure = if budget < longest {
                        LookupFailure::OverBudget
                    } else {
                        LookupFailure::TimedOut
                    };
                    vec![Fetched::Failed(failure); to_read.len()]
                }
            };
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            for ((i, key, stale), fetched) in to_read.into_iter().zip(results) {
                let outcome = match (&fetched, stale) {
                    (Fetched::Failed(failure), Some(stale)) => {
                        answered.push((i, stale, LookupOutcome::Stale(*failure)));
                        continue;
                    }
                    (Fetched::Failed(failure), None) => LookupOutcome::Failed(*failure),
                    (Fetched::Item(_), _) => LookupOutcome::Found,
                    (Fetched::Missing, _) => LookupOutcome::Missing,
                };
                cache.put(requests[i].lookup, key, &fetched, now);
                answered.push((i, fetched, outcome));
            }
        }
        for (i, fetched, outcome) in answered {
            let request = plan.requests()[i].clone();
            if let Some(count) = counts.get_mut(request.index as usize) {
                let millis = if outcome == LookupOutcome::Cached {
                    0
                } else {
                    millis
                };
                *count = Some(LookupCount { outcome, millis });
            }
            if let LookupOutcome::Stale(_) | LookupOutcome::Failed(_) = outcome {
                tracing::warn!(lookup = %request.lookup.name, outcome = outcome.name(), "lookup failed");
            }
            plan.fill(&request, fetched);
        }
        (plan.into_items(), counts)
    }
}

/// The cache's key of a request: its key's values, each as written by the event (never logged).
fn cache_key(request: &LookupRequest) -> String {
    let mut key = String::new();
    for (name, value) in &request.key {
        key.push_str(name);
        key.push('\u{1f}');
        key.push_str(value);
        key.push('\u{1e}');
    }
    key
}
