//! `claim-mapper test`: the test suites kept beside the mappings; and running suites before a
//! push (`push --test`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use claim_mapper::Mapping;
use claim_mapper::mapping::MappingError;
use claim_mapper::report::{dry_run, suite};
use claim_mapper::runtime::load::{self, Loaded};
use claim_mapper::suite::Suite;
use time::Date;

use super::{Status, parse_date, say};

/// Run the test suites kept beside the mappings: each case's event through the mapping as the
/// Lambda would apply it, checked against what the case expects.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper test
  claim-mapper test mappings/tests/prod.yaml --mapping candidate.yaml --junit target/claims.xml

Exit codes: 0 every case passed; 1 a case failed, or a mapping under test is invalid; 2 the
command could not run (unreadable or invalid test file, no mapping to test, SSM error).")]
pub struct Args {
    /// Test this mapping file instead of the one each test file names.
    #[arg(long)]
    #[cfg_attr(feature = "ssm", arg(conflicts_with = "ssm_parameter"))]
    mapping: Option<PathBuf>,
    /// Test the mapping in this SSM parameter (NAME, NAME:VERSION or NAME:LABEL) instead.
    #[cfg(feature = "ssm")]
    #[arg(long, value_name = "PARAMETER")]
    ssm_parameter: Option<String>,
    /// Also write the results as JUnit XML to this file (for CI systems).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Evaluate `age` as of this date (YYYY-MM-DD) instead of the test file's `today`, or
    /// today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Test files or folders of `*.yaml` test files.
    #[arg(default_value = suite::DEFAULT_FOLDER)]
    files: Vec<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let suites = load_suites(&args.files)?;
    #[cfg(feature = "ssm")]
    let from_ssm = match &args.ssm_parameter {
        Some(parameter) => Some(super::load_parameter(parameter).await?),
        None => None,
    };
    #[cfg(not(feature = "ssm"))]
    let from_ssm = None;
    let given = match (from_ssm, &args.mapping) {
        (Some(loaded), _) => Some(loaded),
        (None, Some(file)) => match mapping_under_test(file)? {
            Some(loaded) => Some(loaded),
            None => return Ok(Status::Found),
        },
        (None, None) => None,
    };
    let mut runs = Vec::with_capacity(suites.len());
    let mut all_pass = true;
    for s in &suites {
        let own;
        let loaded = match &given {
            Some(loaded) => loaded,
            None => {
                let file = s.mapping.as_ref().with_context(|| {
                    format!(
                        "{} names no `mapping`: give --mapping or --ssm-parameter",
                        s.file.display()
                    )
                })?;
                let Some(loaded) = mapping_under_test(file)? else {
                    all_pass = false;
                    continue;
                };
                own = loaded;
                &own
            }
        };
        let run = run_suite(s, &loaded.mapping, loaded.describe(), args.today)?;
        all_pass &= run.failed() == 0;
        runs.push(run);
    }
    let cases: usize = runs.iter().map(|r| r.verdicts.len()).sum();
    let failed: usize = runs.iter().map(suite::SuiteRun::failed).sum();
    say!("{} of {cases} cases passed", cases - failed)?;
    if let Some(path) = &args.junit {
        std::fs::write(path, suite::junit(&runs))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Status::of(all_pass))
}

/// A mapping file under test: `None` when it is invalid, which is said (the mapping fails its
/// tests: exit 1); an error when it cannot be read (exit 2).
fn mapping_under_test(file: &Path) -> anyhow::Result<Option<Loaded>> {
    match load::load_file(file) {
        Ok(loaded) => Ok(Some(loaded)),
        Err(error @ MappingError::Read { .. }) => Err(error.into()),
        Err(invalid) => {
            say!("{invalid}\nnot tested: the mapping is invalid")?;
            Ok(None)
        }
    }
}

/// Runs every case of `s` against `mapping` (described as `described`) and prints the run; `age`
/// counts from `today`, else the suite's `today`, else today (UTC).
fn run_suite<'s>(
    s: &'s Suite,
    mapping: &Mapping,
    described: String,
    today: Option<Date>,
) -> anyhow::Result<suite::SuiteRun<'s>> {
    let day = today.or(s.today).unwrap_or_else(super::today);
    let run = suite::run(s, mapping, described, day);
    say!("{}", run.to_human())?;
    Ok(run)
}

/// Runs `suites` against `mapping` (read from `file`), as `push --test` does before writing;
/// `true` when every case passes.
pub fn passes(suites: &[Suite], mapping: &Mapping, file: &Path) -> anyhow::Result<bool> {
    let mut all_pass = true;
    for s in suites {
        let described = format!("file {} ({})", file.display(), mapping.digest());
        all_pass &= run_suite(s, mapping, described, None)?.failed() == 0;
    }
    Ok(all_pass)
}

/// The suites of `paths` (files, or folders of `*.yaml`), every one valid, or why not (exit 2).
pub fn load_suites(paths: &[PathBuf]) -> anyhow::Result<Vec<Suite>> {
    let files = dry_run::listed_files(paths, "yaml").context("cannot list test files")?;
    anyhow::ensure!(
        paths.is_empty() || !files.is_empty(),
        "no test files found in {paths:?}"
    );
    files
        .iter()
        .map(|f| Suite::load(f).map_err(anyhow::Error::from))
        .collect()
}
