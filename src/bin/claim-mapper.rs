//! `claim-mapper`: validate mappings, dry-run them over event files, run their test suites, and
//! (feature `ssm`) manage mappings in SSM Parameter Store.
//!
//! Exit codes: 0 success; 1 invalid mappings, failed events, or (`diff`) differences found;
//! 2 the command could not run (unreadable mapping, SSM error, bad arguments).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use claim_mapper::mapping::MappingError;
use claim_mapper::report::validation::Validation;
use claim_mapper::report::{diff, dry_run, suite};
use claim_mapper::runtime::load::{self, Loaded};
use claim_mapper::runtime::settings;
use claim_mapper::suite::Suite;
use clap::{Args, Parser, Subcommand};
use time::{Date, OffsetDateTime};

#[derive(Parser)]
#[command(
    name = "claim-mapper",
    version,
    about = "Validate, dry-run and publish Cognito claim mappings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check mapping files; list every problem, and warnings for what is allowed but probably a
    /// mistake.
    #[command(after_help = "\
Example:
  claim-mapper validate mappings/*.yaml

Exit codes: 0 every file is valid (warnings allowed, unless --strict); 1 a file is invalid (or has
warnings under --strict); 2 a file could not be read (said on stderr).")]
    Validate {
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
    },
    /// Apply a mapping to event files exactly as the Lambda would, and show what the tokens get.
    #[command(after_help = "\
Example:
  claim-mapper dry-run --mapping mappings/prod.yaml --tokens examples/events

Exit codes: 0 every event was processed; 1 an event failed (the Lambda would return an error);
2 the command could not run (unreadable mapping or folder, invalid mapping, SSM error).")]
    DryRun {
        #[command(flatten)]
        mapping: MappingSource,
        /// One JSON object per event per line: {"file", "output", "warnings"}.
        #[arg(long)]
        json: bool,
        /// Show the ID- and access-token payloads, marking the claims the mapping changed.
        #[arg(long)]
        tokens: bool,
        #[command(flatten)]
        events: Events,
    },
    /// Explain one event: every rule with its outcome, the group pipeline step by step, and the
    /// final response.
    #[command(after_help = "\
Example:
  claim-mapper explain --mapping mappings/prod.yaml examples/events/v2-authentication-custom-attrs-groups.json

Exit codes: 0 the event was processed; 1 the Lambda would return an error for it; 2 the command
could not run (unreadable or invalid mapping, unreadable event).")]
    Explain {
        /// The mapping file.
        #[arg(long, default_value = settings::DEFAULT_FILE)]
        mapping: PathBuf,
        /// The event file.
        event: PathBuf,
        /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
        #[arg(long, value_parser = parse_date)]
        today: Option<Date>,
        /// One JSON object: {"mapping", "event", "trigger", "version", "client", "overlays",
        /// "groups", "rules", then "warnings" and "response", or "error"}.
        #[arg(long)]
        json: bool,
    },
    /// Run the test suites kept beside the mappings: each case's event through the mapping as the
    /// Lambda would apply it, checked against what the case expects.
    #[command(after_help = "\
Examples:
  claim-mapper test
  claim-mapper test mappings/tests/prod.yaml --mapping candidate.yaml --junit target/claims.xml

Exit codes: 0 every case passed; 1 a case failed, or a mapping under test is invalid; 2 the
command could not run (unreadable or invalid test file, no mapping to test, SSM error).")]
    Test {
        /// Test this mapping file instead of the one each test file names.
        #[arg(long, conflicts_with = "ssm_parameter")]
        mapping: Option<PathBuf>,
        /// Test the mapping in this SSM parameter (NAME, NAME:VERSION or NAME:LABEL) instead.
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
    },
    /// Check a mapping against the user pool it serves: values users can write for themselves or
    /// callers send that decide what a token grants, claims that show apps attributes they may
    /// not read, and what the mapping names that the pool does not have. Reads the pool only.
    #[command(after_help = "\
Examples:
  claim-mapper audit --user-pool-id us-east-1_Zx98Yw76V --mapping mappings/prod.yaml
  claim-mapper audit --user-pool-id us-east-1_Zx98Yw76V --ssm-parameter /myapp/prod/claim-mapping:live --json

Exit codes: 0 no high finding; 1 a high finding; 2 the audit could not run (no such pool, access
denied: the permission refused is named; unreadable or invalid mapping; no AWS region or
credentials).")]
    Audit {
        /// The user pool (`us-east-1_Zx98Yw76V`).
        #[arg(long, value_name = "POOL")]
        user_pool_id: String,
        #[command(flatten)]
        mapping: MappingSource,
        /// One JSON object: {"pool", "mapping", "findings": [{"severity", "kind", "place",
        /// "field", "source", "clients", "message", "fix"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the mapping format, or of test files (for editors;
    /// `mappings/schema.json`, `mappings/tests/schema.json`).
    #[command(after_help = "\
Examples:
  claim-mapper schema > mappings/schema.json
  claim-mapper schema --suite > mappings/tests/schema.json

Exit codes: 0 printed.")]
    Schema {
        /// The schema of test files instead.
        #[arg(long)]
        suite: bool,
    },
    /// Validate a mapping file and publish it as a new version of an SSM parameter.
    #[command(after_help = "\
Example:
  claim-mapper push mappings/prod.yaml --ssm-parameter /claim-mapper/prod --label live --test mappings/tests/prod.yaml

Exit codes: 0 pushed (warnings are printed first); 1 the mapping is invalid, a test case failed or
the audit found something high, nothing pushed; 2 the command could not run (unreadable file,
invalid label or test file, AWS error or no credentials).")]
    Push {
        /// The mapping file.
        file: PathBuf,
        /// The parameter name (created if missing).
        #[arg(long, value_name = "NAME")]
        ssm_parameter: String,
        /// Move this label to the new version.
        #[arg(long)]
        label: Option<String>,
        /// Store as a SecureString (encrypted with the account's default SSM key).
        #[arg(long)]
        secure: bool,
        /// Run these test files against the mapping first; nothing is pushed if a case fails.
        #[arg(long = "test", value_name = "TESTFILE", num_args = 1..)]
        tests: Vec<PathBuf>,
        /// Audit the mapping against this user pool first; nothing is pushed if a finding is
        /// high.
        #[arg(long, value_name = "POOL")]
        audit_user_pool_id: Option<String>,
    },
    /// Move a label (default `live`) to a version of a mapping parameter: release a version
    /// `push` staged, or roll back to an earlier one. The deployed function reads the parameter
    /// at its label.
    #[command(after_help = "\
Examples:
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 7
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 6   # roll back

Exit codes: 0 the label moved; 1 that version holds an invalid mapping, nothing moved; 2 the
command could not run (no such version, invalid label, AWS error or no credentials).")]
    Release {
        /// The parameter name.
        #[arg(long, value_name = "NAME")]
        ssm_parameter: String,
        /// The version to release.
        #[arg(long)]
        version: i64,
        /// The label to move.
        #[arg(long, default_value = "live")]
        label: String,
    },
    /// Set a function as a user pool's Pre Token Generation trigger, keeping every other setting
    /// of the pool (what CloudFormation cannot do for a pool it does not own).
    #[command(after_help = "\
Example:
  claim-mapper attach --user-pool-id us-east-1_Zx98Yw76V --function-arn arn:aws:lambda:us-east-1:111122223333:function:cognito-claim-mapper:live

Exit codes: 0 attached; 2 the command could not run (no such pool, a feature plan without access
token customisation, access denied: the permissions are named; no AWS region or credentials).")]
    Attach {
        /// The user pool.
        #[arg(long, value_name = "POOL")]
        user_pool_id: String,
        /// The function (its live alias) Cognito is to invoke.
        #[arg(long, value_name = "ARN")]
        function_arn: String,
        /// The trigger event version.
        #[arg(long, default_value = "V2_0", value_parser = ["V1_0", "V2_0", "V3_0"])]
        trigger_version: String,
    },
    /// Show how the tokens change between the current mapping (in SSM, or a file) and a
    /// mapping file, over events.
    #[command(after_help = "\
Examples:
  claim-mapper diff mappings/prod.yaml --ssm-parameter /claim-mapper/prod:live
  claim-mapper diff mappings/prod.yaml --before mappings/dev.yaml

Exit codes: 0 nothing changes; 1 something does; 2 the command could not run (unreadable or
invalid mapping, unreadable event, SSM error).")]
    Diff {
        /// The mapping file (the proposed change).
        file: PathBuf,
        /// The parameter holding the current mapping (NAME, NAME:VERSION or NAME:LABEL).
        #[arg(
            long,
            value_name = "PARAMETER",
            required_unless_present = "before",
            conflicts_with = "before"
        )]
        ssm_parameter: Option<String>,
        /// A file holding the current mapping, instead of a parameter.
        #[arg(long, value_name = "FILE")]
        before: Option<PathBuf>,
        /// One JSON object per event per line: {"file", "changed", "differences"}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        events: Events,
    },
}

/// The mapping a command reads: a file, or an SSM parameter.
#[derive(Args)]
struct MappingSource {
    /// The mapping file.
    #[arg(long, default_value = settings::DEFAULT_FILE, conflicts_with = "ssm_parameter")]
    mapping: PathBuf,
    /// Read the mapping from this SSM parameter (NAME, NAME:VERSION or NAME:LABEL) instead.
    #[arg(long, value_name = "PARAMETER")]
    ssm_parameter: Option<String>,
}

impl MappingSource {
    async fn load(&self) -> anyhow::Result<Loaded> {
        Ok(match &self.ssm_parameter {
            Some(parameter) => ssm::load(parameter).await?,
            None => load::load_file(&self.mapping)?,
        })
    }
}

#[derive(Args)]
struct Events {
    /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Event files or folders of `*.json` events.
    #[arg(default_value = "examples/events")]
    events: Vec<PathBuf>,
}

impl Events {
    fn files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let files = dry_run::event_files(&self.events).context("cannot list event files")?;
        anyhow::ensure!(
            !files.is_empty(),
            "no event files found in {:?}",
            self.events
        );
        Ok(files)
    }

    fn today(&self) -> Date {
        self.today
            .unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }
}

/// `println!` that returns write errors instead of panicking, so a closed pipe
/// (`claim-mapper dry-run | head`) ends the command quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Ok(false)` means it ran and found invalid mappings, failed events or differences.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Validate {
            files,
            json,
            strict,
        } => validate(&files, json, strict),
        Command::DryRun {
            mapping,
            json,
            tokens,
            events,
        } => {
            let loaded = mapping.load().await?;
            let files = events.files()?;
            let today = events.today();
            if !json {
                say!("mapping {}\n", loaded.describe())?;
            }
            let (mut all_ok, mut unreadable) = (true, 0);
            for file in files {
                let run = match dry_run::read_event(&file) {
                    Ok(event) => dry_run::run_event(&loaded.mapping, &file, &event, today),
                    Err(dry_run::ReadError::Unreadable(e)) => {
                        // Not a verdict on the event: stderr, and exit 2 after the rest.
                        eprintln!("error: cannot read event {}: {e}", file.display());
                        unreadable += 1;
                        continue;
                    }
                    Err(not_an_event) => dry_run::EventRun {
                        file: file.clone(),
                        result: Err(not_an_event.to_string()),
                    },
                };
                all_ok &= run.result.is_ok();
                say!(
                    "{}",
                    if json {
                        run.to_json_line(tokens)
                    } else {
                        run.to_human(tokens)
                    }
                )?;
            }
            anyhow::ensure!(
                unreadable == 0,
                "{unreadable} event files could not be read"
            );
            Ok(all_ok)
        }
        Command::Explain {
            mapping,
            event,
            today,
            json,
        } => {
            let loaded = load::load_file(&mapping)?;
            let value = dry_run::read_event(&event)
                .map_err(|e| anyhow::anyhow!("{}: {e}", event.display()))?;
            let today = today.unwrap_or_else(|| OffsetDateTime::now_utc().date());
            let explained = claim_mapper::report::explain::explain(&loaded.mapping, value, today);
            if json {
                let mut line = explained.to_json();
                line["mapping"] = serde_json::json!(loaded.describe());
                line["event"] = serde_json::json!(event.display().to_string());
                say!("{line}")?;
            } else {
                say!(
                    "mapping {}\nevent {}\n{}",
                    loaded.describe(),
                    event.display(),
                    explained.to_human().trim_end()
                )?;
            }
            Ok(explained.processed())
        }
        Command::Test {
            mapping,
            ssm_parameter,
            junit,
            today,
            files,
        } => {
            let suites = load_suites(&files)?;
            let given = match (ssm_parameter, mapping) {
                (Some(parameter), _) => Some(ssm::load(&parameter).await?),
                (None, Some(file)) => match mapping_under_test(&file)? {
                    Some(loaded) => Some(loaded),
                    None => return Ok(false),
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
                let run = run_suite(s, &loaded.mapping, loaded.describe(), today)?;
                all_pass &= run.failed() == 0;
                runs.push(run);
            }
            let cases: usize = runs.iter().map(|r| r.verdicts.len()).sum();
            let failed: usize = runs.iter().map(suite::SuiteRun::failed).sum();
            say!("{} of {cases} cases passed", cases - failed)?;
            if let Some(path) = junit {
                std::fs::write(&path, suite::junit(&runs))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(all_pass)
        }
        Command::Schema { suite } => {
            let schema = if suite {
                claim_mapper::suite::suite_schema()
            } else {
                claim_mapper::mapping::schema::mapping_schema()
            };
            say!("{}", schema.trim_end())?;
            Ok(true)
        }
        Command::Audit {
            user_pool_id,
            mapping,
            json,
        } => {
            let loaded = mapping.load().await?;
            let report = audit::run(&loaded.mapping, loaded.describe(), &user_pool_id).await?;
            if json {
                say!("{}", report.to_json())?;
            } else {
                say!("{}", report.to_human().trim_end())?;
            }
            Ok(!report.has_high())
        }
        Command::Release {
            ssm_parameter,
            version,
            label,
        } => ssm::release(&ssm_parameter, version, &label).await,
        Command::Attach {
            user_pool_id,
            function_arn,
            trigger_version,
        } => {
            let attached = audit::attach(&user_pool_id, &function_arn, &trigger_version).await?;
            say!("{attached}")?;
            Ok(true)
        }
        Command::Push {
            file,
            ssm_parameter,
            label,
            secure,
            tests,
            audit_user_pool_id,
        } => {
            let suites = load_suites(&tests)?;
            let checks = Checks {
                suites: &suites,
                audit_pool: audit_user_pool_id.as_deref(),
            };
            ssm::push(&file, &ssm_parameter, label.as_deref(), secure, checks).await
        }
        Command::Diff {
            file,
            ssm_parameter,
            before,
            json,
            events,
        } => {
            let before = match (ssm_parameter, before) {
                (Some(parameter), _) => ssm::load(&parameter).await?,
                (None, Some(before)) => load::load_file(&before)?,
                (None, None) => anyhow::bail!("give --ssm-parameter or --before"),
            };
            let after = load::load_file(&file)?;
            let today = events.today();
            // An event that cannot be read would compare equal under both mappings: the diff
            // cannot run, so it ends here (exit 2) instead of reporting no changes.
            let mut pairs = Vec::new();
            for f in events.files()? {
                let event =
                    dry_run::read_event(&f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                pairs.push((
                    dry_run::run_event(&before.mapping, &f, &event, today),
                    dry_run::run_event(&after.mapping, &f, &event, today),
                ));
            }
            let (report, changed) = if json {
                diff::json_lines(&pairs)
            } else {
                say!(
                    "before: {}\nafter:  {}\n",
                    before.describe(),
                    after.describe()
                )?;
                diff::report(&pairs)
            };
            say!("{}", report.trim_end())?;
            Ok(changed == 0)
        }
    }
}

/// What `push` checks before it writes (only a build with SSM pushes).
#[cfg_attr(not(feature = "ssm"), allow(dead_code))]
struct Checks<'a> {
    /// Test suites the mapping must pass.
    suites: &'a [Suite],
    /// A user pool to audit the mapping against.
    audit_pool: Option<&'a str>,
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
    mapping: &claim_mapper::Mapping,
    described: String,
    today: Option<Date>,
) -> anyhow::Result<suite::SuiteRun<'s>> {
    let day = today
        .or(s.today)
        .unwrap_or_else(|| OffsetDateTime::now_utc().date());
    let run = suite::run(s, mapping, described, day);
    say!("{}", run.to_human())?;
    Ok(run)
}

/// The suites of `paths` (files, or folders of `*.yaml`), every one valid, or why not (exit 2).
fn load_suites(paths: &[PathBuf]) -> anyhow::Result<Vec<Suite>> {
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

fn validate(files: &[PathBuf], json: bool, strict: bool) -> anyhow::Result<bool> {
    let (mut all_pass, mut unreadable) = (true, 0);
    for file in files {
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
            strict,
        };
        all_pass &= validation.passes();
        if json {
            say!("{}", validation.to_json_line())?;
        } else {
            say!("{}", validation.to_human())?;
        }
    }
    anyhow::ensure!(
        unreadable == 0,
        "{unreadable} of {} files could not be read",
        files.len()
    );
    Ok(all_pass)
}

#[cfg(feature = "ssm")]
mod ssm {
    use super::*;
    use claim_mapper::Mapping;
    use claim_mapper::runtime::ssm::{MAX_PARAMETER_BYTES, ParameterRef, Ssm, label_restriction};

    /// Runs `suites` against the mapping about to be pushed; `true` when every case passes.
    fn passes_tests(
        suites: &[Suite],
        mapping: &claim_mapper::Mapping,
        file: &Path,
    ) -> anyhow::Result<bool> {
        let mut all_pass = true;
        for s in suites {
            let described = format!("file {} ({})", file.display(), mapping.digest());
            all_pass &= run_suite(s, mapping, described, None)?.failed() == 0;
        }
        Ok(all_pass)
    }

    /// Moves `label` to `version` of `name`, once that version is known to hold a valid mapping.
    pub async fn release(name: &str, version: i64, label: &str) -> anyhow::Result<bool> {
        if let Some(reason) = label_restriction(label) {
            anyhow::bail!("invalid --label: {reason}");
        }
        let at = |selector: &str| {
            ParameterRef::parse(&format!("{name}:{selector}")).map_err(anyhow::Error::msg)
        };
        let ssm = Ssm::operator().await?;
        let loaded = match load::load_parameter(&ssm, &at(&version.to_string())?).await {
            Ok(loaded) => loaded,
            Err(load::LoadError::InvalidParameter(e)) => {
                say!("{e}\nnot released: version {version} holds an invalid mapping")?;
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        let before = ssm.fetch(&at(label)?).await.ok().map(|f| f.version);
        ssm.label(name, version, label)
            .await
            .with_context(|| format!("cannot label version {version} of {name}"))?;
        let was = before.map_or("no version".into(), |v| format!("version {v}"));
        say!(
            "label {label} -> version {version} ({}), was {was}",
            loaded.mapping.digest()
        )?;
        Ok(true)
    }

    pub async fn load(parameter: &str) -> anyhow::Result<Loaded> {
        let parameter = ParameterRef::parse(parameter).map_err(anyhow::Error::msg)?;
        let ssm = Ssm::operator().await?;
        Ok(load::load_parameter(&ssm, &parameter).await?)
    }

    pub async fn push(
        file: &Path,
        name: &str,
        label: Option<&str>,
        secure: bool,
        checks: Checks<'_>,
    ) -> anyhow::Result<bool> {
        let parameter = ParameterRef::parse(name).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            parameter.selector.is_none(),
            "push takes a parameter name without :VERSION or :LABEL (use --label to move a label)"
        );
        // Checked before anything is written: a label SSM refuses would leave a new version
        // pushed but not released.
        if let Some(reason) = label.and_then(label_restriction) {
            anyhow::bail!("invalid --label: {reason}; nothing pushed");
        }
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        match Mapping::from_yaml(&text, &file.display().to_string()) {
            Err(e) => {
                say!("{e}\nnot pushed: the mapping is invalid")?;
                return Ok(false);
            }
            Ok(mapping) => {
                for warning in mapping.warnings() {
                    say!("warning: {}:{warning}", file.display())?;
                }
                if !passes_tests(checks.suites, &mapping, file)? {
                    say!("not pushed: a test case failed")?;
                    return Ok(false);
                }
                if let Some(pool) = checks.audit_pool {
                    let described = format!("file {} ({})", file.display(), mapping.digest());
                    let report = audit::run(&mapping, described, pool).await?;
                    say!("{}", report.to_human().trim_end())?;
                    if report.has_high() {
                        say!("not pushed: the audit found something high")?;
                        return Ok(false);
                    }
                }
            }
        }
        anyhow::ensure!(
            text.len() <= MAX_PARAMETER_BYTES,
            "{} is {} bytes; an SSM parameter holds at most {MAX_PARAMETER_BYTES}",
            file.display(),
            text.len()
        );
        let ssm = Ssm::operator().await?;
        let version = ssm
            .put(&parameter.name, &text, secure)
            .await
            .with_context(|| format!("cannot put parameter {name}"))?;
        say!("pushed {} to {name} as version {version}", file.display())?;
        if let Some(label) = label {
            ssm.label(&parameter.name, version, label)
                .await
                .with_context(|| format!("cannot label version {version} of {name}"))?;
            say!("label {label} -> version {version}")?;
        }
        Ok(true)
    }
}

#[cfg(not(feature = "ssm"))]
mod ssm {
    use super::*;

    const NO_SSM: &str = "this build has no SSM support (cargo feature `ssm`)";

    pub async fn load(_: &str) -> anyhow::Result<Loaded> {
        anyhow::bail!(NO_SSM)
    }

    pub async fn release(_: &str, _: i64, _: &str) -> anyhow::Result<bool> {
        anyhow::bail!(NO_SSM)
    }

    pub async fn push(
        _: &Path,
        _: &str,
        _: Option<&str>,
        _: bool,
        _: Checks<'_>,
    ) -> anyhow::Result<bool> {
        anyhow::bail!(NO_SSM)
    }
}

#[cfg(feature = "user-pool")]
mod audit {
    use claim_mapper::Mapping;
    use claim_mapper::report::audit::AuditReport;
    use claim_mapper::runtime::user_pool::read_pool;

    /// Reads `pool` and audits `mapping` (described as `described`) against it.
    pub async fn run(
        mapping: &Mapping,
        described: String,
        pool: &str,
    ) -> anyhow::Result<AuditReport> {
        let pool = read_pool(pool).await?;
        let findings = claim_mapper::audit::audit(mapping, &pool);
        Ok(AuditReport {
            pool,
            mapping: described,
            findings,
        })
    }
    /// Sets the pool's Pre Token Generation trigger.
    pub async fn attach(
        pool: &str,
        function: &str,
        version: &str,
    ) -> anyhow::Result<claim_mapper::runtime::user_pool::Attached> {
        Ok(claim_mapper::runtime::user_pool::attach(pool, function, version).await?)
    }
}

#[cfg(not(feature = "user-pool"))]
mod audit {
    use claim_mapper::Mapping;
    use claim_mapper::report::audit::AuditReport;

    pub async fn run(_: &Mapping, _: String, _: &str) -> anyhow::Result<AuditReport> {
        anyhow::bail!("this build cannot read user pools (cargo feature `user-pool`)")
    }

    pub async fn attach(_: &str, _: &str, _: &str) -> anyhow::Result<String> {
        anyhow::bail!("this build cannot change user pools (cargo feature `user-pool`)")
    }
}
