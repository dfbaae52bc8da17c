//! `claim-mapper test`: the test suites kept beside the mappings; and running suites before a
//! push (`push --test`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use claim_mapper::Mapping;
use claim_mapper::load::{self, Loaded};
use claim_mapper::mapping::MappingError;
use claim_mapper::report::suite;
use claim_mapper::suite::{Case, Suite};
use time::Date;

use super::{Status, parse_date, say};

/// Run the test suites kept beside the mappings: each case's event through the mapping as the
/// Lambda would apply it, checked against what the case expects; with --coverage, which parts of
/// the mapping the cases pin down.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper test
  claim-mapper test --coverage --min-coverage 100
  claim-mapper test mappings/tests/prod.yaml --mapping candidate.yaml --junit target/claims.xml

Exit codes: 0 every case passed (and the coverage is at least --min-coverage); 1 a case failed, a
mapping under test is invalid, or the coverage is below --min-coverage; 2 the command could not run
(unreadable or invalid test file, no mapping to test, SSM error).")]
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
    /// Report which parts of each mapping (rules, scopes, suppressions, group steps) no case
    /// fails without.
    #[arg(long)]
    coverage: bool,
    /// Fail when a mapping's coverage is below this percentage (implies --coverage).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(0..=100))]
    min_coverage: Option<u8>,
    /// One JSON object: {"suites", "passed", "failed", "not_run", "coverage"}.
    #[arg(long)]
    json: bool,
    /// Test files or folders of `*.yaml` test files.
    #[arg(default_value = suite::DEFAULT_FOLDER)]
    files: Vec<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    if let [only] = args.files.as_slice() {
        super::at_default(
            only,
            suite::DEFAULT_FOLDER,
            "pass test files or folders, or run `claim-mapper init` to write a first mapping \
             and its tests",
        )?;
    }
    let suites = load_suites(&args.files)?;
    // The mapping the command names, for every suite; else each suite's own, loaded once each.
    #[cfg(feature = "ssm")]
    let given = match (&args.ssm_parameter, &args.mapping) {
        (Some(parameter), _) => Some(parameter_under_test(parameter).await?),
        (None, Some(file)) => Some(mapping_under_test(file)?),
        (None, None) => None,
    };
    #[cfg(not(feature = "ssm"))]
    let given = match &args.mapping {
        Some(file) => Some(mapping_under_test(file)?),
        None => None,
    };
    let mut mappings: Vec<(Option<PathBuf>, UnderTest)> = Vec::new();
    if let Some(given) = given {
        mappings.push((None, given));
    }
    let mut of_suite = Vec::with_capacity(suites.len());
    for s in &suites {
        let index = if mappings.first().is_some_and(|(file, _)| file.is_none()) {
            0
        } else {
            let file = s.mapping.as_ref().with_context(|| {
                format!(
                    "{} names no `mapping`: give --mapping or --ssm-parameter",
                    s.file.display()
                )
            })?;
            match mappings.iter().position(|(f, _)| f.as_ref() == Some(file)) {
                Some(index) => index,
                None => {
                    mappings.push((Some(file.clone()), mapping_under_test(file)?));
                    mappings.len() - 1
                }
            }
        };
        of_suite.push(index);
    }
    let day = |s: &Suite| args.today.or(s.today).unwrap_or_else(super::today);
    let runs: Vec<suite::SuiteRun> = suites
        .iter()
        .zip(&of_suite)
        .map(|(s, &index)| match &mappings[index].1 {
            UnderTest::Valid(loaded) => suite::run(s, &loaded.mapping, loaded.describe(), day(s)),
            UnderTest::Invalid { origin, error } => {
                suite::SuiteRun::not_run(s, origin.clone(), error.clone())
            }
        })
        .collect();
    let coverage: Vec<suite::CoverageRun> = if args.coverage || args.min_coverage.is_some() {
        mappings
            .iter()
            .enumerate()
            .filter_map(|(index, (_, under_test))| match under_test {
                UnderTest::Valid(loaded) => Some((index, loaded)),
                UnderTest::Invalid { .. } => None,
            })
            .map(|(index, loaded)| {
                let cases: Vec<(&Case, Date)> = suites
                    .iter()
                    .zip(&of_suite)
                    .filter(|(_, i)| **i == index)
                    .flat_map(|(s, _)| s.cases.iter().map(move |c| (c, day(s))))
                    .collect();
                suite::CoverageRun {
                    mapping: loaded.describe(),
                    coverage: claim_mapper::suite::coverage(&loaded.mapping, &cases),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let cases: usize = runs.iter().map(|r| r.verdicts.len()).sum();
    let failed: usize = runs.iter().map(suite::SuiteRun::failed).sum();
    let not_run: usize = runs
        .iter()
        .filter(|r| r.not_run.is_some())
        .map(|r| r.suite.cases.len())
        .sum();
    let below = |c: &suite::CoverageRun| {
        args.min_coverage
            .is_some_and(|min| c.coverage.percent() < f64::from(min))
    };
    if args.json {
        let line = serde_json::json!({
            "suites": runs.iter().map(suite::SuiteRun::to_json).collect::<Vec<_>>(),
            "passed": cases - failed,
            "failed": failed,
            "not_run": not_run,
            "coverage": coverage.iter().map(suite::CoverageRun::to_json).collect::<Vec<_>>(),
        });
        say!("{line}")?;
    } else {
        for run in &runs {
            say!("{}", run.to_human())?;
        }
        for c in &coverage {
            say!("{}", c.to_human())?;
            if below(c) {
                say!(
                    "  below --min-coverage {}%",
                    args.min_coverage.unwrap_or_default()
                )?;
            }
        }
        if not_run == 0 {
            say!("{} of {cases} cases passed", cases - failed)?;
        } else {
            say!(
                "{} of {} cases passed; {not_run} did not run: their mapping is invalid",
                cases - failed,
                cases + not_run
            )?;
        }
    }
    // Written whatever the outcome, so that CI never reads a report of an earlier run.
    if let Some(path) = &args.junit {
        std::fs::write(path, suite::junit(&runs, &coverage))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let passed = runs.iter().all(suite::SuiteRun::passed) && !coverage.iter().any(below);
    Ok(Status::of(passed))
}

/// The mapping cases run against: valid, or invalid (the mapping fails its tests: exit 1).
enum UnderTest {
    Valid(Box<Loaded>),
    Invalid {
        /// The file or parameter.
        origin: String,
        /// Every problem.
        error: String,
    },
}

/// A mapping file under test: an error when it cannot be read (exit 2).
fn mapping_under_test(file: &Path) -> anyhow::Result<UnderTest> {
    match load::load_file(file) {
        Ok(loaded) => Ok(UnderTest::Valid(Box::new(loaded))),
        Err(error @ MappingError::Read { .. }) => Err(error.into()),
        Err(invalid) => Ok(UnderTest::Invalid {
            origin: format!("file {}", file.display()),
            error: invalid.to_string(),
        }),
    }
}

/// The mapping in an SSM parameter under test: an error when it cannot be read (exit 2).
#[cfg(feature = "ssm")]
async fn parameter_under_test(parameter: &str) -> anyhow::Result<UnderTest> {
    match super::load_parameter(parameter).await {
        Err(e) => match e.downcast::<load::LoadError>() {
            Ok(load::LoadError::InvalidParameter(invalid)) => Ok(UnderTest::Invalid {
                origin: format!("ssm {parameter}"),
                error: invalid.to_string(),
            }),
            Ok(other) => Err(other.into()),
            Err(other) => Err(other),
        },
        Ok(loaded) => Ok(UnderTest::Valid(Box::new(loaded))),
    }
}

/// Runs `suites` against `mapping` (read from `file`), as `push --test` does before writing.
pub fn run_suites<'s>(
    suites: &'s [Suite],
    mapping: &Mapping,
    file: &Path,
) -> Vec<suite::SuiteRun<'s>> {
    let described = format!("file {} ({})", file.display(), mapping.digest());
    suites
        .iter()
        .map(|s| {
            let day = s.today.unwrap_or_else(super::today);
            suite::run(s, mapping, described.clone(), day)
        })
        .collect()
}

/// How much of `mapping` (read from `file`) the cases of `suites` cover, as
/// `push --test --min-coverage` requires.
pub fn coverage_of(suites: &[Suite], mapping: &Mapping, file: &Path) -> suite::CoverageRun {
    let cases: Vec<(&Case, Date)> = suites
        .iter()
        .flat_map(|s| {
            let day = s.today.unwrap_or_else(super::today);
            s.cases.iter().map(move |c| (c, day))
        })
        .collect();
    suite::CoverageRun {
        mapping: format!("file {} ({})", file.display(), mapping.digest()),
        coverage: claim_mapper::suite::coverage(mapping, &cases),
    }
}

/// The suites of `paths` (files, or folders of `*.yaml`), every one valid, or why not (exit 2).
pub fn load_suites(paths: &[PathBuf]) -> anyhow::Result<Vec<Suite>> {
    let files = load::files::listed_files(paths, "yaml").context("cannot list test files")?;
    anyhow::ensure!(
        paths.is_empty() || !files.is_empty(),
        "no test files found in {paths:?}"
    );
    files
        .iter()
        .map(|f| claim_mapper::load::files::suite(f).map_err(anyhow::Error::from))
        .collect()
}
