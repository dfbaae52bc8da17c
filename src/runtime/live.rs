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

use super::load::Loaded;

/// Where an invocation gets its mapping.
pub trait Live: Send + Sync + 'static {
    /// The mapping to use for this invocation.
    fn current(&self) -> Arc<Loaded>;

    /// Called at the start of each invocation; may start background work, never blocks.
    fn poll(&self) {}
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
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, RwLock};
    use std::time::{Duration, Instant};

    use super::Live;
    use crate::mapping::compile;
    use crate::runtime::load::{self, LoadError, Loaded, Origin};
    use crate::runtime::ssm::{ParameterRef, Ssm};

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

    /// A mapping that may be replaced by a newer parameter version.
    #[derive(Debug, Clone)]
    pub struct Refreshing {
        current: Arc<RwLock<Arc<Loaded>>>,
        refresher: Option<Arc<Refresher>>,
    }

    #[derive(Debug)]
    struct Refresher {
        from: RefreshFrom,
        checked: Mutex<Instant>,
        in_flight: AtomicBool,
        /// The last version rejected, with its text's digest, so a bad version is reported once,
        /// not at every refresh.
        rejected: Mutex<Option<(i64, String)>>,
    }

    impl Refreshing {
        /// Serves `loaded`; with `from`, refreshes it from SSM every `from.every` (an `every` of
        /// zero, or a reference pinned to a version, never refreshes).
        pub fn new(loaded: Loaded, from: Option<RefreshFrom>) -> Self {
            let refresher = from
                .filter(|f| !f.every.is_zero() && !f.parameter.is_pinned_to_version())
                .map(|from| {
                    Arc::new(Refresher {
                        from,
                        checked: Mutex::new(Instant::now()),
                        in_flight: AtomicBool::new(false),
                        rejected: Mutex::new(None),
                    })
                });
            Refreshing {
                current: Arc::new(RwLock::new(Arc::new(loaded))),
                refresher,
            }
        }

        fn replace(&self, loaded: Loaded) {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
        }
    }

    impl Live for Refreshing {
        fn current(&self) -> Arc<Loaded> {
            // A poisoned lock still holds a complete mapping: the swap is a single assignment.
            Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
        }

        fn poll(&self) {
            if let Some(r) = &self.refresher
                && r.due()
            {
                let (live, r) = (self.clone(), Arc::clone(r));
                tokio::spawn(async move { r.run(&live).await });
            }
        }
    }

    impl Refresher {
        /// Whether a refresh is due and none is running; claims the refresh if so.
        fn due(&self) -> bool {
            let checked = *self.checked.lock().unwrap_or_else(|e| e.into_inner());
            checked.elapsed() >= self.from.every
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
                Origin::File(_) => None,
            };
            match self.from.ssm.fetch(parameter).await {
                Err(cause) => tracing::warn!(
                    parameter = %parameter,
                    cause = %cause,
                    live = %live.current().describe(),
                    "mapping refresh failed; the live mapping stays"
                ),
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
            *self.checked.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            self.in_flight.store(false, Ordering::Release);
        }
    }

    /// Loads the mapping at cold start: the parameter, or the fallback file when the parameter
    /// cannot be read or is invalid.
    pub async fn load_at_start(
        from: &RefreshFrom,
        fallback: Option<&Path>,
    ) -> Result<Loaded, LoadError> {
        let primary = match load::load_parameter(&from.ssm, &from.parameter).await {
            Ok(loaded) => return Ok(loaded),
            Err(e) => e,
        };
        let Some(file) = fallback else {
            return Err(primary);
        };
        match load::load_file(file) {
            Ok(loaded) => {
                tracing::warn!(
                    parameter = %from.parameter,
                    cause = %primary.log_line(),
                    live = %loaded.describe(),
                    "SSM mapping unusable; serving the fallback file"
                );
                Ok(loaded)
            }
            Err(fallback) => Err(LoadError::FallbackFailed {
                primary: Box::new(primary),
                fallback: Box::new(fallback.into()),
            }),
        }
    }
}
