//! The Lambda function and where its mapping comes from: settings from the environment, loading a
//! mapping file or (feature `ssm`) an SSM parameter, the live mapping and its refresh, logging,
//! the handler that applies the mapping to each invocation, and its metrics; and (feature `user-pool`, the CLI's)
//! reading a user pool's configuration.
//!
//! Uses the engine and the token preview (for shadow mode); nothing below imports it.

pub mod lambda;
pub mod live;
pub mod load;
pub mod logging;
pub mod metrics;
pub mod settings;
#[cfg(feature = "ssm")]
pub mod ssm;
#[cfg(feature = "user-pool")]
pub mod user_pool;
