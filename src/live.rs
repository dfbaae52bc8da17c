//! The mapping an invocation uses, and (feature `ssm`) its live refresh from SSM.
//!
//! An invocation takes a snapshot of the live mapping and never waits for SSM. When the mapping
//! is older than the refresh interval, the invocation starts one background fetch; the next
//! invocations use the new version once it has been fetched and compiled. A version that fails
//! validation is rejected and the last good mapping stays live.

use std::sync::{Arc, RwLock};

use crate::load::Loaded;

/// The live mapping of a running function.
#[derive(Debug)]
pub struct LiveMapping {
    current: RwLock<Arc<Loaded>>,
    #[cfg(feature = "ssm")]
    refresher: Option<refresh::Refresher>,
}

impl LiveMapping {
    /// A mapping that never changes (file sources, or refresh disabled).
    pub fn fixed(loaded: Loaded) -> Self {
        LiveMapping {
            current: RwLock::new(Arc::new(loaded)),
            #[cfg(feature = "ssm")]
            refresher: None,
        }
    }

    /// The mapping to use for this invocation.
    pub fn current(&self) -> Arc<Loaded> {
        // A poisoned lock still holds a complete mapping: the swap is a single assignment.
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn replace(&self, loaded: Loaded) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
    }

    /// Called at the start of each invocation: starts a background refresh when one is due.
    /// Never blocks.
    pub fn poll(self: &Arc<Self>) {
        #[cfg(feature = "ssm")]
        if let Some(r) = &self.refresher {
            if r.due() {
                let live = Arc::clone(self);
                tokio::spawn(async move {
                    if let Some(r) = &live.refresher {
                        r.run(&live).await;
                    }
                });
            }
        }
    }
}

#[cfg(feature = "ssm")]
pub use refresh::RefreshFrom;

#[cfg(feature = "ssm")]
mod refresh {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::LiveMapping;
    use crate::load::{self, LoadError, Loaded, Origin};
    use crate::ssm::{ParameterRef, Ssm};

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

    #[derive(Debug)]
    pub(super) struct Refresher {
        from: RefreshFrom,
        checked: Mutex<Instant>,
        in_flight: AtomicBool,
        /// The last version rejected, so a bad version is reported once, not at every refresh.
        rejected: Mutex<Option<i64>>,
    }

    impl LiveMapping {
        /// A mapping refreshed from SSM every `from.every` (an `every` of zero, or a reference
        /// pinned to a version, gives a fixed mapping).
        pub fn refreshing(loaded: Loaded, from: RefreshFrom) -> Self {
            let mut live = LiveMapping::fixed(loaded);
            if !from.every.is_zero() && !from.parameter.is_pinned_to_version() {
                live.refresher = Some(Refresher {
                    from,
                    checked: Mutex::new(Instant::now()),
                    in_flight: AtomicBool::new(false),
                    rejected: Mutex::new(None),
                });
            }
            live
        }
    }

    impl Refresher {
        /// Whether a refresh is due and none is running; claims the refresh if so.
        pub(super) fn due(&self) -> bool {
            let checked = *self.checked.lock().unwrap_or_else(|e| e.into_inner());
            checked.elapsed() >= self.from.every
                && self
                    .in_flight
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
        }

        pub(super) async fn run(&self, live: &LiveMapping) {
            let parameter = &self.from.parameter;
            let live_version = match &live.current().origin {
                Origin::Ssm { version, .. } => Some(*version),
                Origin::File(_) => None,
            };
            match self.from.ssm.fetch(parameter).await {
                Err(cause) => tracing::warn!(
                    parameter = %parameter,
                    cause = %cause,
                    live = %live.current().describe(),
                    "mapping refresh failed; the live mapping stays"
                ),
                Ok(fetched) if Some(fetched.version) == live_version => {}
                Ok(fetched) => {
                    let mut rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
                    if *rejected != Some(fetched.version) {
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
                                *rejected = Some(fetched.version);
                                tracing::error!(
                                    parameter = %parameter,
                                    rejected_version = fetched.version,
                                    live = %live.current().describe(),
                                    "{}",
                                    LoadError::from(error)
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
        fallback: Option<&std::path::Path>,
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
                    cause = %primary,
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

#[cfg(feature = "ssm")]
pub use refresh::load_at_start;
