//! `claim-mapper release`: moves a label of a mapping parameter to a version (release or roll
//! back).

use anyhow::Context;
use claim_mapper::Mapping;
use claim_mapper::aws::ssm::Ssm;
use claim_mapper::workflow::parameter::{self, ParameterRef, label_restriction};

use super::{Status, say};

/// Move a label (default `live`) to a version of a mapping parameter: release a version `push`
/// staged, or roll back to an earlier one. The deployed function reads the parameter at its
/// label.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 7
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 6   # roll back

Exit codes: 0 the label moved; 1 that version holds an invalid mapping, nothing moved; 2 the
command could not run (no such version, invalid label, AWS error or no credentials).")]
pub struct Args {
    /// The parameter name.
    #[arg(long, value_name = "NAME")]
    ssm_parameter: String,
    /// The version to release.
    #[arg(long)]
    version: i64,
    /// The label to move.
    #[arg(long, default_value = "live")]
    label: String,
    /// One JSON object: {"released": true, "parameter", "label", "version", "digest", "was",
    /// "watch" (a Logs Insights query showing the version each instance serves)}, or
    /// {"released": false, "parameter", "label", "version", "error"} for an invalid mapping.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    if let Some(reason) = label_restriction(&args.label) {
        anyhow::bail!("invalid --label: {reason}");
    }
    let parameter = ParameterRef::parse(&args.ssm_parameter).map_err(anyhow::Error::msg)?;
    let (name, version, label) = (&parameter.name, args.version, &args.label);
    let ssm = Ssm::operator().await?;
    let mut digest = String::new();
    let released = parameter::release(&ssm, name, version, label, |fetched| {
        let origin = format!("{name} (version {version})");
        Mapping::from_yaml(&fetched.text, &origin).map(|m| digest = m.digest().to_owned())
    })
    .await
    .with_context(|| format!("cannot release version {version} of {name}"))?;
    let out = serde_json::json!({
        "parameter": name,
        "label": label,
        "version": version,
    });
    match released {
        Ok(released) => {
            let (served, watch) = super::when_served(name, label, version);
            if args.json {
                let mut out = out;
                out["released"] = true.into();
                out["digest"] = digest.into();
                out["was"] = released.was.into();
                out["watch"] = watch.into();
                say!("{out}")?;
            } else {
                let was = released
                    .was
                    .map_or("was no version".into(), |v| format!("was version {v}"));
                say!("label {label} -> version {version} ({digest}), {was}\n{served}")?;
            }
            Ok(Status::Success)
        }
        Err(invalid) => {
            if args.json {
                let mut out = out;
                out["released"] = false.into();
                out["error"] = invalid.to_string().into();
                say!("{out}")?;
            } else {
                say!("{invalid}\nnot released: version {version} holds an invalid mapping")?;
            }
            Ok(Status::Found)
        }
    }
}
