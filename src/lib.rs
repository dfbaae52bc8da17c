//! cognito-claim-mapper: a configuration-driven Amazon Cognito Pre Token Generation trigger.
//!
//! The folders are the layers, each importing only those below it:
//!
//! - [`cognito`] and [`claim_size`]: facts of the Cognito trigger contract, and how many bytes a
//!   claim takes; used by every layer above.
//! - [`mapping`]: the YAML format and its compilation, once, into a [`Mapping`].
//! - [`engine`]: a compiled mapping applied to one event ([`engine::apply`]).
//! - [`suite`]: test suites kept beside mappings: their format, the events they describe, and a
//!   case's verdict against a mapping.
//! - [`audit`]: a mapping checked against the user pool it serves.
//! - [`report`]: what the CLI shows: dry-run, explain, token preview, diff, test results.
//! - [`runtime`]: the Lambda function (init, serve, the live mapping and its refresh, loading,
//!   SSM, logging), which uses the token preview for shadow mode.
//!
//! The binaries in `src/bin/` are thin shells over [`runtime`] and [`report`].
#![warn(missing_docs)]

pub mod audit;
pub mod claim_size;
pub mod cognito;
pub mod engine;
pub mod mapping;
pub mod report;
pub mod runtime;
pub mod suite;

pub use mapping::{Location, Mapping, MappingError};
