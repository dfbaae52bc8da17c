//! `claim-mapper validate`: every problem of every mapping file, and warnings.

use std::path::PathBuf;

use claim_mapper::load;
use claim_mapper::mapping::MappingError;
use claim_mapper::report::validation::Validation;

use super::{Status, say};

/// Check mapping files; list every problem, and warnings for what is allowed but probably a
/// mistake.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  claim-mapper validate mappings/*.yaml

Exit codes: 0 every file is valid (warnings allowed, unless --strict); 1 a file is invalid (or has
warnings under --strict); 2 a file could not be read (said on stderr).")]
pub struct Args {
    /// Mapping files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file per line: {"file", "valid", "rules", "digest", "warnings"}
    /// or {"file", "valid": false, "problems"}.
    #[arg(long)]
    json: bool,
    /// Count warnings as problems (for CI).
    #[arg(long)]
    strict: bool,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    let (mut all_pass, mut unreadable) = (true, 0);
    for file in &args.files {
        let result = load::load_file(file).map(|loaded| loaded.mapping);
        if let Err(error @ MappingError::Read { .. }) = &result {
            // A file that cannot be read says nothing about a mapping: stderr, and exit 2.
            eprintln!("error: {error}");
            unreadable += 1;
            continue;
        }
        let name = file.display().to_string();
        let validation = Validation {
            file: &name,
            result: &result,
            strict: args.strict,
        };
        all_pass &= validation.passes();
        if args.json {
            say!("{}", validation.to_json_line())?;
        } else {
            say!("{}", validation.to_human())?;
        }
    }
    anyhow::ensure!(
        unreadable == 0,
        "{unreadable} of {} files could not be read",
        args.files.len()
    );
    Ok(Status::of(all_pass))
}
