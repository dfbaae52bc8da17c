//! The Lambda function and where its mapping comes from: settings from the environment, loading a
//! mapping file or (feature `ssm`) an SSM parameter, the live mapping and its refresh, logging,
//! the handler that applies the mapping to each invocation, and its metrics.
//!
//! Uses the engine, the token preview (for shadow mode) and the SSM client; nothing below imports
//! it.

pub mod candidate;
pub mod lambda;
pub mod live;
pub mod logging;
#[cfg(feature = "lookups")]
pub mod lookups;
pub mod metrics;
pub mod settings;
