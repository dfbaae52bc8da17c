//! Test suites kept beside mappings (`mappings/tests/*.yaml`): cases that pin what a mapping does
//! to an event, so that CI (`claim-mapper test`) and `push --test` catch a change in behaviour
//! before it ships.
//!
//! A suite file's format and its compilation, once, at load (`file.rs`); the Cognito events its
//! compact descriptions stand for (`event.rs`); a case run against a mapping, with every
//! expectation that does not hold (`verdict.rs`); and which parts of a mapping the cases pin down
//! (`coverage.rs`). What the CLI shows of the verdicts, and the JUnit
//! report, are [`crate::report::suite`]'s.
//!
//! Uses the mapping and the engine; must not know the reports or the runtime.

mod coverage;
mod event;
mod file;
mod verdict;

pub use coverage::{Coverage, PartCoverage, State, coverage};
pub use event::described;
pub use file::{
    Case, Expect, MAX_SUITE_BYTES, ReadFile, Suite, SuiteError, SuiteProblem, TokenExpect,
};

/// The JSON Schema of suite files, as pretty-printed JSON with a trailing newline (the committed
/// `mappings/tests/schema.json`; `claim-mapper schema --suite`).
pub fn suite_schema() -> String {
    crate::mapping::schema::schema_of::<file::RawSuite>()
}
pub use verdict::{Mismatch, Verdict};
