//! The mapping an invocation uses: [`Fixed`] for a mapping loaded once, and (feature `ssm`)
//! [`Refreshing`], which re-reads an SSM parameter in the background.
//!
//! An invocation takes a snapshot of the live mapping and never waits for SSM. When the mapping
//! is older than the refresh interval, the invocation starts one background fetch; the next
//! invocations use the new version once it has been fetched and compiled. A version that fails
//! validation is rejected and the last good mapping stays live.
//!
//! The Lambda handler is generic over [`Live`], so the file-only binary, which only ever uses
//! [`Fixed`], contains no SSM or AWS SDK code at all.

use std::sync::Arc;

use super::candidate::Candidate;
use crate::load::Loaded;

/// Where an invocation gets its mapping.
pub trait Live: Send + Sync + 'static {
    /// The mapping to use for this invocation.
    fn current(&self) -> Arc<Loaded>;

    /// The candidate beside the live mapping (a canary or a shadow), if a release has one.
    fn candidate(&self) -> Option<Arc<Candidate>> {
        None
    }

    /// Called at the start of each invocation; may start background work, never blocks.
    fn poll(&self) {}

    /// The refreshes finished since the last call (for the invocation's metrics), or `None` when
    /// the mapping is never refreshed.
    fn take_refresh_counts(&self) -> Option<RefreshCounts> {
        None
    }
}

/// How refreshes ended, counted between two invocations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshCounts {
    /// A new version was fetched, compiled and made live.
    pub refreshed: u32,
    /// The parameter could not be read (throttled, denied, unreachable, ...).
    pub failed: u32,
    /// A new version was read but is not a valid mapping; the live mapping stays.
    pub rejected: u32,
}

/// A mapping that never changes.
#[derive(Debug, Clone)]
pub struct Fixed(Arc<Loaded>);

impl Fixed {
    /// Serves `loaded` for the life of the process.
    pub fn new(loaded: Loaded) -> Self {
        Fixed(Arc::new(loaded))
    }
}

impl Live for Fixed {
    fn current(&self) -> Arc<Loaded> {
        Arc::clone(&self.0)
    }
}

#[cfg(feature = "ssm")]
pub use refresh::{RefreshFrom, Refreshing, load_at_start};

#[cfg(feature = "ssm")]
mod refresh {
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Mutex, RwLock};
    use std::time::{Duration, Instant};

    use super::{Candidate, Live, RefreshCounts};
    use crate::aws::ssm::Ssm;
    use crate::load::{self, LoadError, Loaded, Origin};
    use crate::mapping::compile;
    use crate::workflow::ApiErrorKind;
    use crate::workflow::candidate::{self, Role};
    use crate::workflow::parameter::{Fetched, ParameterRef};

    /// What a refresh reads.
    #[derive(Debug, Clone)]
    pub struct RefreshFrom {
        /// The client, set up once at init.
        pub ssm: Ssm,
        /// The parameter.
        pub parameter: ParameterRef,
        /// How old the mapping may get.
        pub every: Duration,
    }

    /// A mapping that may be replaced by a newer parameter version, with the candidate a release
    /// puts beside it.
    #[derive(Debug, Clone)]
    pub struct Refreshing {
        current: Arc<RwLock<Arc<Loaded>>>,
        candidate: Arc<RwLock<Option<Arc<Candidate>>>>,
        refresher: Option<Arc<Refresher>>,
    }

    #[derive(Debug)]
    struct Refresher {
        from: RefreshFrom,
        /// When the next refresh is due ([`next_delay`]).
        due: Mutex<Instant>,
        /// Refreshes that failed in a row.
        failures: AtomicU32,
        in_flight: AtomicBool,
        /// The last version rejected, with its text's digest, so a bad version is reported once,
        /// not at every refresh.
        rejected: Mutex<Option<(i64, String)>>,
        /// How refreshes ended since the counts were last taken.
        counts: Counters,
        /// The last candidate version rejected, as `rejected` for the live one.
        candidate_rejected: Mutex<Option<(i64, String)>>,
        /// The role may not read the candidate labels: said once, not at every refresh.
        candidates_denied: AtomicBool,
    }

    /// [`RefreshCounts`], counted as refreshes end (in the background) and taken by invocations.
    #[derive(Debug, Default)]
    struct Counters {
        refreshed: AtomicU32,
        failed: AtomicU32,
        rejected: AtomicU32,
    }

    impl Counters {
        fn add(count: &AtomicU32) {
            count.fetch_add(1, Ordering::Relaxed);
        }

        fn take(&self) -> RefreshCounts {
            let take = |count: &AtomicU32| count.swap(0, Ordering::Relaxed);
            RefreshCounts {
                refreshed: take(&self.refreshed),
                failed: take(&self.failed),
                rejected: take(&self.rejected),
            }
        }
    }

    impl Refreshing {
        /// Serves `loaded`; with `from`, refreshes it from SSM every `from.every` (an `every` of
        /// zero, or a reference pinned to a version, never refreshes).
        pub fn new(loaded: Loaded, from: Option<RefreshFrom>) -> Self {
            let refresher = from
                .filter(|f| !f.every.is_zero() && !f.parameter.is_pinned_to_version())
                .map(|from| {
                    let fallback = matches!(loaded.origin, Origin::Fallback(_));
                    // Instances started together refresh apart; one on the fallback file soon
                    // tries the parameter again.
                    let (failed, failures) = (fallback.then_some(false), u32::from(fallback));
                    let first = next_delay(from.every, fallback, failed, failures, fastrand::f64());
                    Arc::new(Refresher {
                        from,
                        due: Mutex::new(Instant::now() + first),
                        failures: AtomicU32::new(failures),
                        in_flight: AtomicBool::new(false),
                        rejected: Mutex::new(None),
                        counts: Default::default(),
                        candidate_rejected: Mutex::new(None),
                        candidates_denied: AtomicBool::new(false),
                    })
                });
            Refreshing {
                current: Arc::new(RwLock::new(Arc::new(loaded))),
                candidate: Arc::new(RwLock::new(None)),
                refresher,
            }
        }

        /// Takes the release's candidate from the labels read with the mapping at init, so that a
        /// new instance serves a canary's users as the others do from its first sign-in.
        pub fn adopt_candidates(&self, found: &[(String, Fetched)]) {
            if let Some(r) = &self.refresher {
                r.adopt_candidate(self, found);
            }
        }

        fn replace(&self, loaded: Loaded) {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
        }

        fn set_candidate(&self, candidate: Option<Arc<Candidate>>) {
            *self.candidate.write().unwrap_or_else(|e| e.into_inner()) = candidate;
        }
    }

    impl Live for Refreshing {
        fn current(&self) -> Arc<Loaded> {
            // A poisoned lock still holds a complete mapping: the swap is a single assignment.
            Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
        }

        fn candidate(&self) -> Option<Arc<Candidate>> {
            self.candidate
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }

        fn poll(&self) {
            if let Some(r) = &self.refresher
                && r.due()
            {
                let (live, r) = (self.clone(), Arc::clone(r));
                tokio::spawn(async move { r.run(&live).await });
            }
        }

        fn take_refresh_counts(&self) -> Option<RefreshCounts> {
            Some(self.refresher.as_ref()?.counts.take())
        }
    }

    impl Refresher {
        /// Whether a refresh is due and none is running; claims the refresh if so.
        fn due(&self) -> bool {
            let due = *self.due.lock().unwrap_or_else(|e| e.into_inner());
            Instant::now() >= due
                && self
                    .in_flight
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
        }

        async fn run(&self, live: &Refreshing) {
            let parameter = &self.from.parameter;
            // The live text is named by its version and its digest: a parameter deleted and
            // created again starts over at version 1 with other content.
            let current = live.current();
            let live_version = match &current.origin {
                Origin::Ssm { version, .. } => Some((*version, current.mapping.digest())),
                Origin::File(_) | Origin::Fallback(_) => None,
            };
            let read = self
                .from
                .ssm
                .fetch_with_labels(parameter, &candidate::labels(), true)
                .await;
            let failed = read
                .as_ref()
                .err()
                .map(|cause| cause.kind == ApiErrorKind::Throttled);
            let fetched = read.map(|read| {
                match read.labels_denied {
                    true => self.say_candidates_denied(),
                    false => self.adopt_candidate(live, &read.labels),
                }
                read.live
            });
            match fetched {
                Err(cause) => {
                    Counters::add(&self.counts.failed);
                    tracing::warn!(
                        parameter = %parameter,
                        cause = %load::ssm_cause(&cause),
                        live = %live.current().describe(),
                        "mapping refresh failed; the live mapping stays"
                    )
                }
                Ok(fetched)
                    if live_version == Some((fetched.version, &compile::digest(&fetched.text))) => {
                }
                Ok(fetched) => {
                    let seen = (fetched.version, compile::digest(&fetched.text));
                    let mut rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
                    if rejected.as_ref() != Some(&seen) {
                        let origin = format!("{parameter} (version {})", fetched.version);
                        match crate::Mapping::from_yaml(&fetched.text, &origin) {
                            Ok(mapping) => {
                                // Counted first, so that the first invocation served by the new
                                // version reports it.
                                Counters::add(&self.counts.refreshed);
                                live.replace(Loaded {
                                    mapping,
                                    origin: Origin::Ssm {
                                        parameter: parameter.to_string(),
                                        version: fetched.version,
                                    },
                                });
                                tracing::info!(live = %live.current().describe(), "mapping refreshed");
                            }
                            Err(error) => {
                                Counters::add(&self.counts.rejected);
                                *rejected = Some(seen);
                                tracing::error!(
                                    parameter = %parameter,
                                    rejected_version = fetched.version,
                                    live = %live.current().describe(),
                                    "{}",
                                    error.redacted()
                                );
                            }
                        }
                    }
                }
            }
            let failures = match failed {
                Some(_) => self.failures.fetch_add(1, Ordering::Relaxed) + 1,
                None => {
                    self.failures.store(0, Ordering::Relaxed);
                    0
                }
            };
            let fallback = matches!(live.current().origin, Origin::Fallback(_));
            let wait = next_delay(self.from.every, fallback, failed, failures, fastrand::f64());
            *self.due.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + wait;
            self.in_flight.store(false, Ordering::Release);
        }

        /// Says once that the role may not read the candidate labels (no `ssm:GetParameters`):
        /// the live mapping serves every user.
        fn say_candidates_denied(&self) {
            if !self.candidates_denied.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    parameter = %self.from.parameter.name,
                    "release candidates not read: the function's role needs ssm:GetParameters \
                     on the parameter; the live mapping serves every user"
                );
            }
        }

        /// Makes the first candidate `found` ([`Role::all`]'s order) the one beside the live
        /// mapping: compiled once per version, kept with its counts while its version and text
        /// stay, dropped when its label is gone. A candidate that is not a valid mapping is
        /// reported once and not served.
        fn adopt_candidate(&self, live: &Refreshing, found: &[(String, Fetched)]) {
            let name = &self.from.parameter.name;
            let first = Role::all().find_map(|role| {
                let label = role.label();
                let (_, fetched) = found.iter().find(|(l, _)| *l == label)?;
                Some((role, label, fetched))
            });
            let current = live.candidate();
            let Some((role, label, fetched)) = first else {
                if let Some(ended) = current {
                    live.set_candidate(None);
                    tracing::info!(candidate = %ended.loaded.describe(), "release candidate ended");
                }
                return;
            };
            let digest = compile::digest(&fetched.text);
            let same = |c: &Candidate| {
                c.role == role
                    && c.loaded.mapping.digest() == digest
                    && matches!(c.loaded.origin, Origin::Ssm { version, .. } if version == fetched.version)
            };
            if current.as_deref().is_some_and(same) {
                return;
            }
            let seen = (fetched.version, digest);
            let mut rejected = self
                .candidate_rejected
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if rejected.as_ref() == Some(&seen) {
                return;
            }
            let origin = format!("{name}:{label} (version {})", fetched.version);
            match crate::Mapping::from_yaml(&fetched.text, &origin) {
                Ok(mapping) => {
                    let loaded = Loaded {
                        mapping,
                        origin: Origin::Ssm {
                            parameter: format!("{name}:{label}"),
                            version: fetched.version,
                        },
                    };
                    let candidate = Candidate::new(loaded, role);
                    tracing::info!(
                        candidate = %candidate.loaded.describe(),
                        role = role.name(),
                        "release candidate loaded"
                    );
                    live.set_candidate(Some(Arc::new(candidate)));
                }
                Err(error) => {
                    *rejected = Some(seen);
                    live.set_candidate(None);
                    tracing::error!(
                        parameter = %name,
                        rejected_candidate = fetched.version,
                        "{}",
                        error.redacted()
                    );
                }
            }
        }
    }

    /// How long to wait before the next refresh, from now. `failed` is `None` after a read,
    /// `Some(throttled)` after `failures` failed reads in a row; `unit` is uniform in [0, 1).
    ///
    /// - After a read, about `every`, spread over its last fifth (0.8 to 1x), so that instances
    ///   started together drift apart rather than read in lockstep, and a new version is never
    ///   picked up later than `every`.
    /// - While the fallback file serves, soon: 2 s doubling with each failure, up to `every`,
    ///   spread over its second half, so the parameter's mapping replaces the file's within
    ///   seconds once SSM answers, without the instances retrying in step.
    /// - After a throttled read, `every` doubled with each failure up to 4x: an instance that
    ///   SSM throttles reads less often, which is what lets a fleet over the quota get under it.
    /// - After any other failure, as after a read.
    fn next_delay(
        every: Duration,
        fallback: bool,
        failed: Option<bool>,
        failures: u32,
        unit: f64,
    ) -> Duration {
        let doubled = |base: Duration, cap: Duration| {
            base.saturating_mul(1 << failures.saturating_sub(1).min(8))
                .min(cap)
        };
        let (base, spread) = match failed {
            Some(_) if fallback => (doubled(Duration::from_secs(2), every), 0.5),
            Some(true) => (doubled(every, every.saturating_mul(4)), 0.2),
            _ => (every, 0.2),
        };
        base.mul_f64(1.0 - spread * unit)
    }

    /// Loads the mapping at cold start: the parameter, or the fallback file when the parameter
    /// cannot be read or is invalid. With refreshes, the release's candidate labels are read in
    /// the same call, and returned for [`Refreshing::adopt_candidates`].
    pub async fn load_at_start(
        from: &RefreshFrom,
        fallback: Option<&Path>,
    ) -> Result<(Loaded, Vec<(String, Fetched)>), LoadError> {
        let refreshed = !from.every.is_zero() && !from.parameter.is_pinned_to_version();
        let labels = if refreshed {
            candidate::labels()
        } else {
            Vec::new()
        };
        let read = from.ssm.fetch_with_labels(&from.parameter, &labels, false);
        let primary = match read.await {
            Ok(read) => match load::compile_parameter(&from.parameter, read.live) {
                Ok(loaded) => return Ok((loaded, read.labels)),
                Err(e) => e,
            },
            Err(cause) => load::unreadable(&from.parameter, &cause),
        };
        let Some(file) = fallback else {
            return Err(primary);
        };
        match load::load_file(file) {
            Ok(Loaded { mapping, .. }) => {
                let loaded = Loaded {
                    mapping,
                    origin: Origin::Fallback(file.to_path_buf()),
                };
                tracing::warn!(
                    parameter = %from.parameter,
                    cause = %primary.log_line(),
                    live = %loaded.describe(),
                    "SSM mapping unusable; serving the fallback file"
                );
                Ok((loaded, Vec::new()))
            }
            Err(fallback) => Err(LoadError::FallbackFailed {
                primary: Box::new(primary),
                fallback: Box::new(fallback.into()),
            }),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const MINUTE: Duration = Duration::from_secs(60);

        #[test]
        fn refreshes_spread_over_the_last_fifth_of_the_interval() {
            assert_eq!(next_delay(MINUTE, false, None, 0, 0.0), MINUTE);
            assert_eq!(next_delay(MINUTE, false, None, 0, 0.5), MINUTE.mul_f64(0.9));
            assert!(next_delay(MINUTE, false, None, 0, 0.999) > MINUTE.mul_f64(0.8));
            // Any failure but throttling waits as a read does.
            assert_eq!(next_delay(MINUTE, false, Some(false), 3, 0.0), MINUTE);
        }

        #[test]
        fn throttled_refreshes_back_off_up_to_four_intervals() {
            let throttled = |failures| next_delay(MINUTE, false, Some(true), failures, 0.0);
            assert_eq!(throttled(1), MINUTE);
            assert_eq!(throttled(2), 2 * MINUTE);
            assert_eq!(throttled(3), 4 * MINUTE);
            assert_eq!(throttled(30), 4 * MINUTE);
        }

        #[test]
        fn the_fallback_file_retries_the_parameter_within_seconds() {
            let retry = |failures, unit| next_delay(MINUTE, true, Some(true), failures, unit);
            assert_eq!(retry(1, 0.0), Duration::from_secs(2));
            assert_eq!(retry(1, 0.5), Duration::from_millis(1500));
            assert_eq!(retry(2, 0.0), Duration::from_secs(4));
            assert_eq!(retry(6, 0.0), MINUTE, "never longer than the interval");
            assert_eq!(
                next_delay(Duration::from_secs(1), true, Some(false), 1, 0.0),
                Duration::from_secs(1)
            );
        }
    }
}
