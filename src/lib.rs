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
//! - [`workflow`]: what operators do to an AWS account (publish a mapping, move its label, set a
//!   pool's trigger), written against small traits of the AWS APIs.
//! - [`aws`] (feature `ssm`): the AWS clients, implementing those traits with the AWS SDK.
//! - [`runtime`]: the Lambda function (init, serve, the live mapping and its refresh, loading,
//!   logging), which uses the token preview for shadow mode.
//!
//! The binaries in `src/bin/` are thin shells over [`runtime`], [`workflow`] and [`report`].
#![warn(missing_docs)]

pub mod audit;
#[cfg(feature = "ssm")]
pub mod aws;
pub mod claim_size;
pub mod cognito;
pub(crate) mod diagnostics;
pub mod engine;
#[cfg(feature = "load")]
pub mod load;
pub mod mapping;
pub mod report;
#[cfg(feature = "lambda")]
pub mod runtime;
pub mod suite;
pub mod workflow;

pub use mapping::{Location, Mapping, MappingError};
