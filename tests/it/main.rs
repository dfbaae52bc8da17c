//! The integration tests, as one test binary: each file is a module (linking the AWS SDK once,
//! not once per file). `scripts/test` runs them all; a plain `cargo test` skips those that need
//! moto or the deployable zips (they are `#[ignore]`d with the command to run).

mod support;

#[cfg(feature = "user-pool")]
mod attach;
#[cfg(feature = "user-pool")]
mod audit;
mod candidates;
mod cli;
mod conditions;
mod deploy;
mod deployable;
mod docs;
mod emulator;
mod events;
mod faults;
mod fuzz_corpus;
mod golden;
mod groups;
mod hostile;
mod lambda_runtime_api;
mod layers;
mod logs;
mod lookups;
mod metrics;
mod overlays;
mod preview;
mod properties;
mod schema;
mod ssm;
mod suite;
mod validation;
