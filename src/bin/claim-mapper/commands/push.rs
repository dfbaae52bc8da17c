//! `claim-mapper push`: a mapping file, checked, published as a new version of its parameter.

use std::path::PathBuf;

use anyhow::Context;
use claim_mapper::aws::ssm::Ssm;
use claim_mapper::report::validation::problem_json;
use claim_mapper::workflow::parameter::{
    self, MAX_PARAMETER_BYTES, ParameterRef, ParameterStore, PushOptions, label_restriction,
};
use claim_mapper::{Mapping, MappingError};

use super::{Status, say};

/// Validate a mapping file and publish it as a new version of an SSM parameter.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper push mappings/prod.yaml --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --label live --test mappings/tests/prod.yaml
  claim-mapper push mappings/prod.yaml --ssm-parameter /team/prod/claim-mapping --create --secure --kms-key-id alias/team
  claim-mapper push mappings/prod.yaml --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --label live --region us-east-1 --region eu-west-1

An existing parameter keeps its type and its KMS key (--kms-key-id re-encrypts with another); a
parameter is created only with --create.

Exit codes: 0 pushed (warnings are printed first); 1 the mapping is invalid, a test case failed or
the audit found something high, nothing pushed; 2 the command could not run (unreadable file,
invalid label or test file, no such parameter without --create, a String parameter with --secure,
AWS error or no credentials).")]
pub struct Args {
    /// The mapping file.
    file: PathBuf,
    /// The parameter name.
    #[arg(long, value_name = "NAME")]
    ssm_parameter: String,
    /// Push to this Region (repeat for each Region the function runs in, as with a replicated
    /// user pool); without it, the configured Region. The checks run once, before any write.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// Move this label to the new version.
    #[arg(long)]
    label: Option<String>,
    /// Create the parameter if it does not exist (a String, or with --secure a SecureString).
    #[arg(long)]
    create: bool,
    /// Create it as a SecureString (with the account's default key `alias/aws/ssm`, or
    /// --kms-key-id). An existing String cannot become one.
    #[arg(long)]
    secure: bool,
    /// The KMS key of a SecureString: for one created, or to re-encrypt an existing one.
    #[arg(long, value_name = "KEY")]
    kms_key_id: Option<String>,
    /// Run these test files against the mapping first; nothing is pushed if a case fails.
    #[arg(long = "test", value_name = "TESTFILE", num_args = 1..)]
    tests: Vec<PathBuf>,
    /// With --test: nothing is pushed if the cases cover less than this percentage of the
    /// mapping's parts (`claim-mapper test --coverage`).
    #[arg(long, value_name = "PERCENT", requires = "tests", value_parser = clap::value_parser!(u8).range(0..=100))]
    min_coverage: Option<u8>,
    /// Audit the mapping against this user pool first; nothing is pushed if a finding is
    /// high.
    #[cfg(feature = "user-pool")]
    #[arg(long, value_name = "POOL")]
    audit_user_pool_id: Option<String>,
    /// One JSON object for CI: {"pushed", "file", "parameter", "warnings", then "version",
    /// "type", "created", "label" and "watch" (with --label) when pushed (with --region: those
    /// in "regions", one object per Region with its "region"), or "reason" (and "problems" for
    /// an invalid mapping) when not; "tests", "coverage" and "audit" when they ran}.
    #[arg(long)]
    json: bool,
}

/// What `push` says: as it goes in text, or once at the end as one JSON object.
struct Report {
    json: Option<serde_json::Value>,
}

impl Report {
    /// Text printed now; JSON kept under `key` (nothing when `value` is `None`).
    fn part(
        &mut self,
        text: &str,
        key: &str,
        value: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        match (&mut self.json, value) {
            (Some(json), Some(value)) => json[key] = value,
            (Some(_), None) => {}
            (None, _) if text.trim_end().is_empty() => {}
            (None, _) => say!("{}", text.trim_end())?,
        }
        Ok(())
    }

    /// What was written in one Region (`None`: the configured one, named nowhere).
    fn pushed(
        &mut self,
        region: Option<&str>,
        file: &std::path::Path,
        name: &str,
        pushed: Pushed,
    ) -> anyhow::Result<()> {
        let at = region.map_or(String::new(), |r| format!("{r}: "));
        let mut text = format!(
            "{at}pushed {} to {name} ({}) as version {}",
            file.display(),
            pushed.how,
            pushed.version
        );
        let mut watch = None;
        if let Some(label) = &pushed.label {
            let (served, query) = super::when_served(name, label, pushed.version);
            text += &format!(
                "\n{at}label {label} -> version {}\n{served}",
                pushed.version
            );
            watch = Some(query);
        }
        let Some(json) = &mut self.json else {
            say!("{text}")?;
            return Ok(());
        };
        let mut part = serde_json::json!({
            "version": pushed.version,
            "type": pushed.kind,
            "created": pushed.created,
        });
        if let Some(label) = pushed.label {
            part["label"] = label.into();
            part["watch"] = watch.into();
        }
        json["pushed"] = true.into();
        match region {
            None => {
                for (key, value) in part.as_object().into_iter().flatten() {
                    json[key] = value.clone();
                }
            }
            Some(region) => {
                part["region"] = region.into();
                match json["regions"].as_array_mut() {
                    Some(regions) => regions.push(part),
                    None => json["regions"] = serde_json::json!([part]),
                }
            }
        }
        Ok(())
    }

    /// The end: not pushed, for `reason`.
    fn refused(mut self, reason: &str) -> anyhow::Result<Status> {
        match &mut self.json {
            Some(json) => {
                json["pushed"] = false.into();
                json["reason"] = reason.into();
                say!("{json}")?;
            }
            None => say!("not pushed: {reason}")?,
        }
        Ok(Status::Found)
    }
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let parameter = ParameterRef::parse(&args.ssm_parameter).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        parameter.selector.is_none(),
        "push takes a parameter name without :VERSION or :LABEL (use --label to move a label)"
    );
    // Checked before anything is written: a label SSM refuses would leave a new version pushed
    // but not released.
    if let Some(reason) = args.label.as_deref().and_then(label_restriction) {
        anyhow::bail!("invalid --label: {reason}; nothing pushed");
    }
    let suites = super::test::load_suites(&args.tests)?;
    let file = &args.file;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut report = Report {
        json: args.json.then(|| {
            serde_json::json!({
                "pushed": false,
                "file": file.display().to_string(),
                "parameter": parameter.name,
                "warnings": [],
            })
        }),
    };
    let mapping = match Mapping::from_yaml(&text, &file.display().to_string()) {
        Ok(mapping) => mapping,
        Err(e) => {
            let problems = match &e {
                MappingError::Invalid { problems, .. } => {
                    problems.iter().map(problem_json).collect()
                }
                _ => Vec::new(),
            };
            report.part(&e.to_string(), "problems", Some(problems.into()))?;
            return report.refused("the mapping is invalid");
        }
    };
    let warnings = mapping.warnings();
    let warning_lines: Vec<String> = warnings
        .iter()
        .map(|w| format!("warning: {}:{w}", file.display()))
        .collect();
    let warnings_json = warnings.iter().map(problem_json).collect::<Vec<_>>();
    report.part(
        &warning_lines.join("\n"),
        "warnings",
        Some(warnings_json.into()),
    )?;
    if !suites.is_empty() {
        let runs = super::test::run_suites(&suites, &mapping, file);
        let human: Vec<String> = runs.iter().map(|r| r.to_human()).collect();
        let json = runs.iter().map(|r| r.to_json()).collect::<Vec<_>>();
        report.part(&human.join("\n"), "tests", Some(json.into()))?;
        if !runs.iter().all(|r| r.passed()) {
            return report.refused("a test case failed");
        }
    }
    if let Some(min) = args.min_coverage {
        let run = super::test::coverage_of(&suites, &mapping, file);
        report.part(&run.to_human(), "coverage", Some(run.to_json()))?;
        if run.coverage.percent() < f64::from(min) {
            return report.refused(&format!("the cases cover less than {min}% of the mapping"));
        }
    }
    #[cfg(feature = "user-pool")]
    if let Some(pool) = &args.audit_user_pool_id {
        let described = format!("file {} ({})", file.display(), mapping.digest());
        let audit = super::audit::against(&mapping, described, pool).await?;
        report.part(&audit.to_human(), "audit", Some(audit.to_json()))?;
        if audit.has_high() {
            return report.refused("the audit found something high");
        }
    }
    anyhow::ensure!(
        text.len() <= MAX_PARAMETER_BYTES,
        "{} is {} bytes; an SSM parameter holds at most {MAX_PARAMETER_BYTES}",
        file.display(),
        text.len()
    );
    let name = &parameter.name;
    let options = PushOptions {
        create: args.create,
        secure: args.secure,
        kms_key_id: args.kms_key_id.clone(),
    };
    // Each Region in turn (none given: the configured one); a failure says which Regions have
    // the new version already.
    let regions: Vec<Option<&str>> = match args.regions.is_empty() {
        true => vec![None],
        false => args.regions.iter().map(|r| Some(r.as_str())).collect(),
    };
    let mut done: Vec<String> = Vec::new();
    for region in regions {
        let pushed = async {
            let ssm = Ssm::operator_in(region).await?;
            push_to(&ssm, name, &text, &options, &args).await
        }
        .await;
        let pushed = match region {
            None => pushed?,
            Some(region) => pushed.with_context(|| match done.is_empty() {
                true => format!("in {region}; pushed to no Region"),
                false => format!("in {region}; pushed already to {}", done.join(", ")),
            })?,
        };
        if let Some(region) = region {
            done.push(format!("{region} (version {})", pushed.version));
        }
        report.pushed(region, file, name, pushed)?;
    }
    if let Some(json) = &report.json {
        say!("{json}")?;
    }
    Ok(Status::Success)
}

/// What was written in one Region.
struct Pushed {
    version: i64,
    /// How the parameter was written: created, its type and key.
    how: String,
    kind: &'static str,
    created: bool,
    label: Option<String>,
}

/// Writes the mapping as a new version in one Region, and moves the label to it.
async fn push_to(
    ssm: &Ssm,
    name: &str,
    text: &str,
    options: &PushOptions,
    args: &Args,
) -> anyhow::Result<Pushed> {
    let existing = ssm.existing(name).await?;
    let put = parameter::plan_put(name, existing.as_ref(), options).map_err(anyhow::Error::msg)?;
    let version = ssm
        .put(&put, text)
        .await
        .with_context(|| format!("cannot put parameter {name}"))?;
    let how = match (&existing, &put.key_id) {
        (None, _) => format!("created as a {}", put.kind.name()),
        (Some(_), Some(key)) => format!("a {} with key {key}", put.kind.name()),
        (Some(_), None) => format!("a {}", put.kind.name()),
    };
    if let Some(label) = &args.label {
        ssm.label(name, version, label)
            .await
            .with_context(|| format!("cannot label version {version} of {name}"))?;
    }
    Ok(Pushed {
        version,
        how,
        kind: put.kind.name(),
        created: existing.is_none(),
        label: args.label.clone(),
    })
}
