//! What the CLI shows of a mapping and of a mapping applied to events: `validate`'s report, the
//! dry-run, `explain`, the token preview, the diff between two mappings, and test results
//! (text and JUnit XML). Each runs the engine exactly as the Lambda does and reads
//! the response back through the engine's own definition of its shape.
//!
//! Must not know the Lambda runtime.

pub mod audit;
pub mod diff;
pub mod dry_run;
pub mod explain;
pub mod preview;
pub mod suite;
pub mod validation;
