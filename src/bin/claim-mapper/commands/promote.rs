//! `claim-mapper promote`: the release's candidate becomes the live mapping.

use anyhow::Context;
use claim_mapper::workflow::candidate;
use claim_mapper::workflow::parameter::{ParameterRef, label_restriction};

use super::{Status, say};

/// Make the release's candidate (the canary, else the shadow candidate) the live mapping: the
/// live label moves to its version, and the candidate labels are removed.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper promote --ssm-parameter /cognito-claim-mapper/prod/claim-mapping
  claim-mapper promote --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --region us-east-1 --region eu-west-1

Exit codes: 0 promoted; 1 there was no candidate, nothing moved; 2 the command could not run (AWS
error or no credentials).")]
pub struct Args {
    /// The parameter name.
    #[arg(long, value_name = "NAME")]
    ssm_parameter: String,
    /// The label the function reads, moved to the candidate's version.
    #[arg(long, default_value = "live")]
    label: String,
    /// Promote in this Region (repeat for each); without it, the configured Region.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// One JSON object: {"promoted", "parameter", "label", then "candidate", "version", "was"
    /// and "watch" when promoted}; with --region, "region" too, one object per Region.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    if let Some(reason) = label_restriction(&args.label) {
        anyhow::bail!("invalid --label: {reason}");
    }
    let parameter = ParameterRef::parse(&args.ssm_parameter).map_err(anyhow::Error::msg)?;
    let mut status = Status::Success;
    for (region, ssm) in super::stores(&args.regions).await? {
        let name = &parameter.name;
        let promoted = candidate::promote(&ssm, name, &args.label)
            .await
            .with_context(|| format!("cannot promote the candidate of {name}"))?;
        let at = region
            .as_deref()
            .map_or(String::new(), |r| format!("{r}: "));
        let mut out = serde_json::json!({"parameter": name, "label": args.label});
        if let Some(region) = &region {
            out["region"] = region.as_str().into();
        }
        out["promoted"] = promoted.is_some().into();
        let Some(promoted) = promoted else {
            status = Status::Found;
            if args.json {
                say!("{out}")?;
            } else {
                say!(
                    "{at}{name} has no candidate (no canary-N or candidate-shadow label): nothing promoted"
                )?;
            }
            continue;
        };
        let (served, watch) = super::when_served(name, &args.label, promoted.version);
        if args.json {
            out["candidate"] = promoted.role.label().into();
            out["version"] = promoted.version.into();
            out["was"] = promoted.was.into();
            out["watch"] = watch.into();
            say!("{out}")?;
        } else {
            let was = promoted
                .was
                .map_or("was no version".into(), |v| format!("was version {v}"));
            say!(
                "{at}label {} -> version {} (the {}), {was}; candidate labels removed\n{served}",
                args.label,
                promoted.version,
                promoted.role.label()
            )?;
        }
    }
    Ok(status)
}
