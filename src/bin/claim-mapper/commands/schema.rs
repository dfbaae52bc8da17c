//! `claim-mapper schema`: the JSON Schema of mappings or of test files, for editors.

use super::{Status, say};

/// Print the JSON Schema of the mapping format, or of test files (for editors;
/// `mappings/schema.json`, `mappings/tests/schema.json`).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper schema > mappings/schema.json
  claim-mapper schema --suite > mappings/tests/schema.json

Exit codes: 0 printed.")]
pub struct Args {
    /// The schema of test files instead.
    #[arg(long)]
    suite: bool,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    let schema = if args.suite {
        claim_mapper::suite::suite_schema()
    } else {
        claim_mapper::mapping::schema::mapping_schema()
    };
    say!("{}", schema.trim_end())?;
    Ok(Status::Success)
}
