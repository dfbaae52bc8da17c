//! CloudWatch metrics of the Lambda function, written as the Embedded Metric Format (EMF): one
//! JSON line on standard output per invocation, which CloudWatch Logs turns into metrics with no
//! API call and no added latency ("Specification: Embedded metric format",
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! Settings follow Powertools for AWS Lambda: `POWERTOOLS_METRICS_NAMESPACE`,
//! `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_FUNCTION_NAME` and
//! `POWERTOOLS_METRICS_DISABLED` ("Environment variables",
//! <https://docs.aws.amazon.com/powertools/typescript/latest/environment-variables>).
//!
//! Dimensions are low in cardinality and never come from the event: the service, the function's
//! name and the kind of mapping source. The live mapping's version and digest ride along as
//! properties (searchable in Logs Insights, not dimensions). No metric line holds a value of the
//! user's.

use std::io::Write;
use std::sync::Mutex;

use metrique::emf::Emf;
use metrique::emf::flags::NoMetric;
use metrique::unit::{Count, Millisecond};
use metrique::unit_of_work::metrics;
use metrique::writer::format::Format;
use metrique::{CloseValue, RootEntry};

use super::live::RefreshCounts;
use crate::engine::LookupFailure;
use crate::load::{Loaded, Origin};
use crate::mapping::lookups::MAX_LOOKUPS;

/// Environment variable: the metrics' CloudWatch namespace.
pub const NAMESPACE_VAR: &str = "POWERTOOLS_METRICS_NAMESPACE";
/// Environment variable: the `service` dimension.
pub const SERVICE_VAR: &str = "POWERTOOLS_SERVICE_NAME";
/// Environment variable: the `function_name` dimension (default: the function's own name).
pub const FUNCTION_NAME_VAR: &str = "POWERTOOLS_METRICS_FUNCTION_NAME";
/// Environment variable: `true` writes no metric line at all.
pub const DISABLED_VAR: &str = "POWERTOOLS_METRICS_DISABLED";
/// Namespace when none is set.
pub const DEFAULT_NAMESPACE: &str = "ClaimMapper";
/// Service when none is set.
pub const DEFAULT_SERVICE: &str = "claim-mapper";

/// Where metrics go and under which names; absent from the settings when metrics are disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// The CloudWatch namespace.
    pub namespace: String,
    /// The `service` dimension.
    pub service: String,
    /// The `function_name` dimension.
    pub function_name: String,
    /// Settings CloudWatch would refuse, each with why; the default serves in their place.
    pub refused: Vec<String>,
}

/// Why CloudWatch would drop every metric under `namespace`, if it would: 1 to 255 ASCII letters,
/// digits, `.`, `-`, `_`, `/`, `#`, `:` or spaces, at least one of them not a space, not starting
/// with `AWS/`, which is AWS's own ("Amazon CloudWatch concepts", Namespaces,
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html>;
/// `Namespace` of `PutMetricData` in the CloudWatch API Reference). A line breaking it is dropped
/// without an error: only `EMFValidationErrors` in `AWS/Logs` counts it.
fn namespace_restriction(namespace: &str) -> Option<&'static str> {
    if namespace.is_empty() || namespace.len() > 255 {
        Some("a namespace is 1 to 255 characters")
    } else if !namespace
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c))
    {
        Some(
            "a namespace holds only ASCII letters, digits, `.`, `-`, `_`, `/`, `#`, `:` and spaces",
        )
    } else if namespace.trim().is_empty() {
        Some("a namespace needs a character other than a space")
    } else if namespace.starts_with("AWS/") {
        Some("namespaces starting with `AWS/` are AWS's own")
    } else {
        None
    }
}

/// Why CloudWatch would refuse `value` as a dimension value, if it would: 1 to 1,024 ASCII
/// characters, no control characters, at least one not whitespace (`Dimension` in the CloudWatch
/// API Reference, <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html>).
fn dimension_restriction(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.len() > 1024 {
        Some("a dimension value is 1 to 1,024 characters")
    } else if !value.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        Some("a dimension value holds only ASCII characters, no control characters")
    } else if value.trim().is_empty() {
        Some("a dimension value needs a character other than whitespace")
    } else {
        None
    }
}

impl MetricsSettings {
    /// Reads the settings through `var`; `None` when `POWERTOOLS_METRICS_DISABLED` is `true`
    /// (any case). Outside Lambda, with no function name at all, the name is `local`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if set(DISABLED_VAR).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return None;
        }
        let mut refused = Vec::new();
        // A setting CloudWatch would refuse leaves the alarms blind: the default serves instead,
        // and the init says so.
        let mut checked =
            |var: &str, default: String, check: fn(&str) -> Option<&'static str>| match set(var) {
                Some(value) => match check(&value) {
                    Some(why) => {
                        refused.push(format!("{var}: {why}; `{default}` is used instead"));
                        default
                    }
                    None => value,
                },
                None => default,
            };
        let namespace = checked(
            NAMESPACE_VAR,
            DEFAULT_NAMESPACE.into(),
            namespace_restriction,
        );
        let service = checked(SERVICE_VAR, DEFAULT_SERVICE.into(), dimension_restriction);
        let own_name = set("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into());
        let function_name = checked(FUNCTION_NAME_VAR, own_name, dimension_restriction);
        Some(MetricsSettings {
            namespace,
            service,
            function_name,
            refused,
        })
    }
}

/// What one lookup did for an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupOutcome {
    /// Answered from the cache, without a read.
    Cached,
    /// Read: the table holds the item.
    Found,
    /// Read: the table holds no item under the key.
    Missing,
    /// The read failed and the cached answer past its TTL served instead.
    Stale(LookupFailure),
    /// The read failed.
    Failed(LookupFailure),
}

/// One lookup's outcome and how long the event waited for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupCount {
    /// What it did.
    pub outcome: LookupOutcome,
    /// Milliseconds from the start of the event's lookups to its answer (0 from the cache).
    pub millis: u32,
}

/// What each of the mapping's lookups did for an invocation, by its index in
/// [`Mapping::lookups`]; `None` for a lookup the event did not need.
pub type LookupCounts = [Option<LookupCount>; MAX_LOOKUPS];

impl LookupOutcome {
    /// Whether the read failed (whether or not a stale item served instead).
    pub fn failed(self) -> bool {
        matches!(self, LookupOutcome::Failed(_) | LookupOutcome::Stale(_))
    }

    /// The outcome's name in logs.
    pub fn name(self) -> &'static str {
        match self {
            LookupOutcome::Cached => "cached",
            LookupOutcome::Found => "found",
            LookupOutcome::Missing => "missing",
            LookupOutcome::Stale(_) => "stale_served",
            LookupOutcome::Failed(failure) => failure.name(),
        }
    }
}

/// What one invocation did, as its metrics count it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Rules that wrote or suppressed a claim (apply mode).
    pub applied: usize,
    /// Rules skipped under `on_error: skip` (apply mode).
    pub skipped: usize,
    /// The invocation was answered with an error: a sign-in refused.
    pub refused: bool,
    /// Shadow mode: the mapping would change a token; compare mode: its response differs from
    /// the event's.
    pub would_change: bool,
    /// Shadow and compare modes: the mapping would fail the sign-in.
    pub would_fail: bool,
    /// What each of the mapping's lookups did.
    pub lookups: LookupCounts,
    /// With a release candidate beside the live mapping (apply mode): what it did.
    pub candidate: Option<CandidateCount>,
}

/// What a release's candidate did for one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateCount {
    /// A canary.
    Canary {
        /// It served the sign-in.
        served: bool,
        /// This invocation rolled it back on the instance.
        rolled_back: bool,
    },
    /// A candidate in shadow.
    Shadow {
        /// Its response differs from the live mapping's.
        differs: bool,
        /// It would refuse the sign-in.
        would_fail: bool,
    },
}

impl Tally {
    /// An invocation answered with an error.
    pub fn refused() -> Tally {
        Tally {
            refused: true,
            ..Tally::default()
        }
    }
}

/// One invocation's metrics: what it did and what served it.
#[derive(Debug, Clone, Copy)]
pub struct InvocationMetrics<'a> {
    /// The first invocation of the process.
    pub cold_start: bool,
    /// The function only evaluates the mapping (`shadow` and `compare` modes).
    pub shadow: bool,
    /// What the invocation did.
    pub tally: Tally,
    /// Refreshes since the last invocation, when the mapping is refreshed from SSM.
    pub refresh: Option<RefreshCounts>,
    /// The mapping that served the invocation: the live one, or a canary.
    pub loaded: &'a Loaded,
}

/// The metric line of one invocation, as `metrique` writes it. Metrics that do not apply to the
/// function's mode or source are `None` and left out of the line (no data point, no metric).
#[metrics(
    rename_all = "PascalCase",
    emf::dimension_sets = [
        ["service", "function_name"],
        ["service", "function_name", "mapping_source"]
    ]
)]
struct Line<'a> {
    #[metrics(name = "service")]
    service: &'a str,
    #[metrics(name = "function_name")]
    function_name: &'a str,
    #[metrics(name = "mapping_source")]
    mapping_source: &'static str,
    #[metrics(unit = Count)]
    cold_start: u64,
    #[metrics(unit = Count)]
    rules_applied: Option<u64>,
    #[metrics(unit = Count)]
    rules_skipped: Option<u64>,
    #[metrics(unit = Count)]
    invocations_refused: u64,
    #[metrics(unit = Count)]
    shadow_would_change: Option<u64>,
    #[metrics(unit = Count)]
    shadow_would_fail: Option<u64>,
    /// The invocation's lookups that failed (a stale item served included): what the lookup
    /// alarm watches, whatever the lookup's name. Only for a mapping with lookups.
    #[metrics(unit = Count)]
    lookups_failed: Option<u64>,
    /// A canary is out: it served this sign-in (1) or the live mapping did (0).
    #[metrics(unit = Count)]
    canary_served: Option<u64>,
    /// A canary is out: this invocation rolled it back on the instance (1, once per instance).
    #[metrics(unit = Count)]
    canary_rolled_back: Option<u64>,
    /// A candidate is in shadow: its response differs from the live mapping's.
    #[metrics(unit = Count)]
    candidate_differs: Option<u64>,
    /// A candidate is in shadow: it would refuse the sign-in.
    #[metrics(unit = Count)]
    candidate_would_fail: Option<u64>,
    #[metrics(unit = Count)]
    fallback_served: Option<u64>,
    #[metrics(unit = Count)]
    mapping_refreshed: Option<u64>,
    #[metrics(unit = Count)]
    mapping_refresh_failed: Option<u64>,
    #[metrics(unit = Count)]
    mapping_version_rejected: Option<u64>,
    #[metrics(name = "mapping_version", flags(NoMetric))]
    mapping_version: Option<u64>,
    #[metrics(name = "mapping_digest")]
    mapping_digest: &'a str,
}

/// One lookup's metric line, for an invocation that needed it: its outcome counted once, and how
/// long the event waited for it. Dimensioned by the lookup's name (the mapping's, never the
/// event's), so that its alarm and dashboard are per lookup.
#[metrics(
    rename_all = "PascalCase",
    emf::dimension_sets = [["service", "function_name", "lookup"]]
)]
struct LookupLine<'a> {
    #[metrics(name = "service")]
    service: &'a str,
    #[metrics(name = "function_name")]
    function_name: &'a str,
    #[metrics(name = "lookup")]
    lookup: &'a str,
    #[metrics(unit = Count)]
    lookup_cache_hit: u64,
    #[metrics(unit = Count)]
    lookup_item_found: u64,
    #[metrics(unit = Count)]
    lookup_item_missing: u64,
    #[metrics(unit = Count)]
    lookup_stale_served: u64,
    /// Every failure, timeouts included: what the alarm watches.
    #[metrics(unit = Count)]
    lookup_failed: u64,
    #[metrics(unit = Count)]
    lookup_timed_out: u64,
    #[metrics(unit = Millisecond)]
    lookup_latency: u64,
}

/// Writes one metric line per invocation to standard output.
pub struct Metrics {
    settings: MetricsSettings,
    /// `metrique`'s formatter keeps per-line scratch state, hence `&mut` and the lock; invocations
    /// never overlap, so it is never contended.
    format: Mutex<Emf>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics under `settings`, written to standard output.
    pub fn stdout(settings: MetricsSettings) -> Self {
        // No dimensions besides the line's own sets (`metrique` crosses the line's sets with these
        // "global" ones, and one empty set leaves them as they are).
        let format = Emf::builder(settings.namespace.clone(), vec![vec![]]).build();
        Metrics {
            settings,
            format: Mutex::new(format),
        }
    }

    /// Writes `invocation`'s line to standard output in one write, so that it never interleaves
    /// with a log line. A line that cannot be written is logged and dropped: metrics never fail
    /// an invocation.
    pub fn write(&self, invocation: &InvocationMetrics) {
        let line = self.line(invocation);
        if let Err(error) = line.and_then(|l| Ok(std::io::stdout().lock().write_all(&l)?)) {
            tracing::warn!(%error, "no metric line for this invocation");
        }
    }

    /// `invocation`'s lines: its own, then one per lookup it needed, each a JSON object ending
    /// in a newline.
    pub fn line(&self, invocation: &InvocationMetrics) -> Result<Vec<u8>, MetricsError> {
        let InvocationMetrics {
            cold_start,
            shadow,
            tally,
            refresh,
            loaded,
        } = *invocation;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let (mapping_source, fallback_served, mapping_version) = match &loaded.origin {
            Origin::File(_) => ("file", None, None),
            Origin::Fallback(_) => ("fallback", Some(1), None),
            Origin::Ssm { version, .. } => ("ssm", Some(0), u64::try_from(*version).ok()),
        };
        let (canary_served, canary_rolled_back, candidate_differs, candidate_would_fail) =
            match tally.candidate {
                None => (None, None, None, None),
                Some(CandidateCount::Canary {
                    served,
                    rolled_back,
                }) => (
                    Some(u64::from(served)),
                    Some(u64::from(rolled_back)),
                    None,
                    None,
                ),
                Some(CandidateCount::Shadow {
                    differs,
                    would_fail,
                }) => (
                    None,
                    None,
                    Some(u64::from(differs)),
                    Some(u64::from(would_fail)),
                ),
            };
        let line = Line {
            service: &self.settings.service,
            function_name: &self.settings.function_name,
            mapping_source,
            cold_start: u64::from(cold_start),
            rules_applied: (!shadow).then(|| count(tally.applied)),
            rules_skipped: (!shadow).then(|| count(tally.skipped)),
            invocations_refused: u64::from(tally.refused),
            shadow_would_change: shadow.then(|| u64::from(tally.would_change)),
            shadow_would_fail: shadow.then(|| u64::from(tally.would_fail)),
            lookups_failed: (!loaded.mapping.lookups().is_empty()).then(|| {
                let failed = tally
                    .lookups
                    .iter()
                    .flatten()
                    .filter(|c| c.outcome.failed());
                count(failed.count())
            }),
            canary_served,
            canary_rolled_back,
            candidate_differs,
            candidate_would_fail,
            fallback_served,
            mapping_refreshed: refresh.map(|r| u64::from(r.refreshed)),
            mapping_refresh_failed: refresh.map(|r| u64::from(r.failed)),
            mapping_version_rejected: refresh.map(|r| u64::from(r.rejected)),
            mapping_version,
            mapping_digest: loaded.mapping.digest(),
        };
        let mut out = Vec::with_capacity(1024);
        let mut format = self.format.lock().unwrap_or_else(|e| e.into_inner());
        format.format(&RootEntry::new(line.close()), &mut out)?;
        let lookups = loaded.mapping.lookups().iter().zip(tally.lookups);
        for (lookup, count) in lookups.filter_map(|(l, c)| Some((l, c?))) {
            let timed_out = matches!(
                count.outcome,
                LookupOutcome::Failed(LookupFailure::TimedOut | LookupFailure::OverBudget)
                    | LookupOutcome::Stale(LookupFailure::TimedOut | LookupFailure::OverBudget)
            );
            let line = LookupLine {
                service: &self.settings.service,
                function_name: &self.settings.function_name,
                lookup: &lookup.name,
                lookup_cache_hit: u64::from(count.outcome == LookupOutcome::Cached),
                lookup_item_found: u64::from(count.outcome == LookupOutcome::Found),
                lookup_item_missing: u64::from(count.outcome == LookupOutcome::Missing),
                lookup_stale_served: u64::from(matches!(count.outcome, LookupOutcome::Stale(_))),
                lookup_failed: u64::from(count.outcome.failed()),
                lookup_timed_out: u64::from(timed_out),
                lookup_latency: u64::from(count.millis),
            };
            format.format(&RootEntry::new(line.close()), &mut out)?;
        }
        Ok(out)
    }
}

/// Why a metric line could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// `metrique` refused the line.
    #[error("the metric line could not be formatted: {0}")]
    Format(#[from] metrique::writer::IoStreamError),
    /// Standard output refused it.
    #[error("the metric line could not be written: {0}")]
    Write(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Mapping;

    fn settings(vars: &[(&str, &str)]) -> Option<MetricsSettings> {
        MetricsSettings::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    fn loaded(origin: Origin) -> Loaded {
        Loaded {
            mapping: Mapping::from_yaml(include_str!("../../mappings/default.yaml"), "d.yaml")
                .unwrap(),
            origin,
        }
    }

    fn line(invocation: InvocationMetrics) -> Value {
        let metrics = Metrics::stdout(settings(&[("AWS_LAMBDA_FUNCTION_NAME", "fn")]).unwrap());
        let bytes = metrics.line(&invocation).unwrap();
        assert_eq!(bytes.last(), Some(&b'\n'), "one line");
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 1);
        serde_json::from_slice(&bytes).unwrap()
    }

    fn metric_names(line: &Value) -> Vec<&str> {
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn settings_follow_powertools_names_and_defaults() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.namespace, "ClaimMapper");
        assert_eq!(defaults.service, "claim-mapper");
        assert_eq!(defaults.function_name, "local");
        let set = settings(&[
            (NAMESPACE_VAR, "Auth"),
            (SERVICE_VAR, "tokens"),
            ("AWS_LAMBDA_FUNCTION_NAME", "fn-1"),
        ])
        .unwrap();
        assert_eq!(
            (set.namespace.as_str(), set.service.as_str()),
            ("Auth", "tokens")
        );
        assert_eq!(set.function_name, "fn-1");
        let named = settings(&[
            (FUNCTION_NAME_VAR, "stable"),
            ("AWS_LAMBDA_FUNCTION_NAME", "x"),
        ]);
        assert_eq!(named.unwrap().function_name, "stable");
        assert_eq!(settings(&[(DISABLED_VAR, "TRUE")]), None);
        // What CloudWatch would drop is refused, and the default serves.
        let long = "x".repeat(1025);
        let bad = settings(&[
            (NAMESPACE_VAR, "AWS/Lambda"),
            (SERVICE_VAR, "clàim"),
            (FUNCTION_NAME_VAR, &long),
            ("AWS_LAMBDA_FUNCTION_NAME", "fn-1"),
        ])
        .unwrap();
        assert_eq!(
            (
                bad.namespace.as_str(),
                bad.service.as_str(),
                bad.function_name.as_str()
            ),
            ("ClaimMapper", "claim-mapper", "fn-1")
        );
        assert_eq!(bad.refused.len(), 3, "{:?}", bad.refused);
        assert!(
            bad.refused[0]
                .starts_with("POWERTOOLS_METRICS_NAMESPACE: namespaces starting with `AWS/`")
        );
        for namespace in ["Auth Team/claims-1.0#a:b", "a"] {
            assert!(
                settings(&[(NAMESPACE_VAR, namespace)])
                    .unwrap()
                    .refused
                    .is_empty()
            );
        }
        assert!(
            !settings(&[(NAMESPACE_VAR, "bad!")])
                .unwrap()
                .refused
                .is_empty()
        );
        assert!(settings(&[(DISABLED_VAR, "false")]).is_some());
    }

    #[test]
    fn each_lookup_an_invocation_needed_gets_a_line_of_its_own() {
        let with_lookups = Loaded {
            mapping: Mapping::from_yaml(
                "version: 1\nlookups:\n  plan: {table: tenants, key: {pk: x}}\n  region: {table: regions, key: {pk: x}}\n  team: {table: teams, key: {pk: x}}\n",
                "l.yaml",
            )
            .unwrap(),
            origin: Origin::File("l.yaml".into()),
        };
        let mut lookups = LookupCounts::default();
        lookups[0] = Some(LookupCount {
            outcome: LookupOutcome::Stale(LookupFailure::TimedOut),
            millis: 150,
        });
        lookups[2] = Some(LookupCount {
            outcome: LookupOutcome::Found,
            millis: 12,
        });
        let metrics = Metrics::stdout(settings(&[("AWS_LAMBDA_FUNCTION_NAME", "fn")]).unwrap());
        let bytes = metrics
            .line(&InvocationMetrics {
                cold_start: false,
                shadow: false,
                tally: Tally {
                    lookups,
                    ..Tally::default()
                },
                refresh: None,
                loaded: &with_lookups,
            })
            .unwrap();
        let lines: Vec<Value> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(
            lines.len(),
            3,
            "the invocation's line and one per lookup needed"
        );
        assert_eq!(lines[0]["LookupsFailed"], 1);
        let (plan, team) = (&lines[1], &lines[2]);
        assert_eq!(plan["lookup"], "plan");
        assert_eq!(team["lookup"], "team");
        assert_eq!(
            plan["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["service", "function_name", "lookup"]])
        );
        for (key, at_plan, at_team) in [
            ("LookupCacheHit", 0, 0),
            ("LookupItemFound", 0, 1),
            ("LookupItemMissing", 0, 0),
            ("LookupStaleServed", 1, 0),
            ("LookupFailed", 1, 0),
            ("LookupTimedOut", 1, 0),
            ("LookupLatency", 150, 12),
        ] {
            assert_eq!(plan[key], at_plan, "{key}");
            assert_eq!(team[key], at_team, "{key}");
        }
        assert!(metric_names(plan).contains(&"LookupLatency"));
    }

    #[test]
    fn an_applied_invocation_counts_rules_and_names_its_source() {
        let file = loaded(Origin::File("d.yaml".into()));
        let line = line(InvocationMetrics {
            cold_start: true,
            shadow: false,
            tally: Tally {
                applied: 3,
                skipped: 1,
                ..Tally::default()
            },
            refresh: None,
            loaded: &file,
        });
        assert_eq!(
            metric_names(&line),
            [
                "ColdStart",
                "RulesApplied",
                "RulesSkipped",
                "InvocationsRefused"
            ]
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ClaimMapper"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([
                ["service", "function_name"],
                ["service", "function_name", "mapping_source"]
            ])
        );
        for (key, value) in [
            ("ColdStart", json!(1)),
            ("RulesApplied", json!(3)),
            ("RulesSkipped", json!(1)),
            ("InvocationsRefused", json!(0)),
            ("service", json!("claim-mapper")),
            ("function_name", json!("fn")),
            ("mapping_source", json!("file")),
            ("mapping_digest", json!(file.mapping.digest())),
        ] {
            assert_eq!(line[key], value, "{key}");
        }
        assert!(line.get("mapping_version").is_none());
        assert!(
            line.get("FallbackServed").is_none(),
            "no parameter, no fallback"
        );
    }

    #[test]
    fn shadow_and_refresh_metrics_appear_where_they_apply() {
        let ssm = loaded(Origin::Ssm {
            parameter: "/p:live".into(),
            version: 7,
        });
        let shadow = line(InvocationMetrics {
            cold_start: false,
            shadow: true,
            tally: Tally {
                would_change: true,
                ..Tally::default()
            },
            refresh: Some(RefreshCounts {
                refreshed: 1,
                failed: 2,
                rejected: 0,
            }),
            loaded: &ssm,
        });
        let names = metric_names(&shadow);
        assert!(!names.contains(&"RulesApplied"), "{names:?}");
        assert!(
            !names.contains(&"mapping_version"),
            "a property, not a metric"
        );
        for (key, value) in [
            ("ColdStart", 0),
            ("ShadowWouldChange", 1),
            ("ShadowWouldFail", 0),
            ("FallbackServed", 0),
            ("MappingRefreshed", 1),
            ("MappingRefreshFailed", 2),
            ("MappingVersionRejected", 0),
            ("mapping_version", 7),
        ] {
            assert_eq!(shadow[key], json!(value), "{key}");
        }
        assert_eq!(shadow["mapping_source"], "ssm");

        let fallback = loaded(Origin::Fallback("d.yaml".into()));
        let refused = line(InvocationMetrics {
            cold_start: false,
            shadow: false,
            tally: Tally {
                refused: true,
                ..Tally::default()
            },
            refresh: None,
            loaded: &fallback,
        });
        assert_eq!(refused["FallbackServed"], 1);
        assert_eq!(refused["InvocationsRefused"], 1);
        assert_eq!(refused["mapping_source"], "fallback");
    }

    #[test]
    fn candidate_metrics_appear_only_beside_their_candidate() {
        let canary = loaded(Origin::Ssm {
            parameter: "/p:canary-10".into(),
            version: 8,
        });
        let with = |candidate| {
            line(InvocationMetrics {
                cold_start: false,
                shadow: false,
                tally: Tally {
                    candidate,
                    ..Tally::default()
                },
                refresh: None,
                loaded: &canary,
            })
        };
        let served = with(Some(CandidateCount::Canary {
            served: true,
            rolled_back: false,
        }));
        assert_eq!(served["CanaryServed"], 1);
        assert_eq!(served["CanaryRolledBack"], 0);
        assert_eq!(served["mapping_version"], 8, "the version that served");
        let names = metric_names(&served);
        assert!(!names.contains(&"CandidateDiffers"), "{names:?}");
        let shadow = with(Some(CandidateCount::Shadow {
            differs: true,
            would_fail: false,
        }));
        assert_eq!(shadow["CandidateDiffers"], 1);
        assert_eq!(shadow["CandidateWouldFail"], 0);
        assert!(!metric_names(&shadow).contains(&"CanaryServed"));
        let without = with(None);
        let none = metric_names(&without);
        for name in ["CanaryServed", "CanaryRolledBack", "CandidateDiffers"] {
            assert!(!none.contains(&name), "{name}: {none:?}");
        }
    }
}
