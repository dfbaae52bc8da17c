//! Auditing a mapping against the user pool it serves (`claim-mapper audit`): which values that
//! decide something a user can write for themselves, which come from whoever calls
//! the app asking for tokens, which claims hand an app attributes it may not read, and what the mapping
//! names that the pool does not have.
//!
//! The pool's configuration (`pool.rs`) is plain data: the runtime reads it through the Cognito
//! API, tests build it by hand. The findings (`findings.rs`) follow from the mapping's
//! [`inputs`](crate::Mapping::inputs) and the pool alone.
//!
//! Uses the mapping; must not know the engine, the reports or the runtime.

mod findings;
mod pool;

pub use findings::{Finding, Kind, Severity, audit};
pub use pool::{Client, Pool, PoolAttribute, TriggerVersion};
