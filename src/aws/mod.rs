//! The AWS clients, in one place: configuration from the standard chain with time budgets
//! (`config.rs`), SSM Parameter Store (`ssm.rs`), DynamoDB for lookups (`dynamodb.rs`, feature
//! `lookups`), Cognito user pools (`cognito.rs`, feature
//! `user-pool`) and Lambda resource policies (`lambda.rs`, feature `user-pool`), each implementing
//! the traits the workflows are written against; and SDK errors as the workflows see them
//! (`error.rs`).
//!
//! Uses the workflows' traits and the audit's pool; nothing below imports it.

pub mod config;
#[cfg(feature = "lookups")]
pub mod dynamodb;
mod error;
pub mod ssm;

#[cfg(feature = "user-pool")]
pub mod cognito;
#[cfg(feature = "user-pool")]
pub mod lambda;
