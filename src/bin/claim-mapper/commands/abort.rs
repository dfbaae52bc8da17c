//! `claim-mapper abort`: ends the release's candidate; the live mapping serves every user.

use anyhow::Context;
use claim_mapper::workflow::candidate;
use claim_mapper::workflow::parameter::ParameterRef;

use super::{Status, say};

/// End the release's candidate (canary or shadow): its labels are removed, the live label stays,
/// and the function serves the live mapping to every user from its next refresh.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper abort --ssm-parameter /cognito-claim-mapper/prod/claim-mapping

Exit codes: 0 the candidate ended, or there was none; 2 the command could not run (AWS error or no
credentials).")]
pub struct Args {
    /// The parameter name.
    #[arg(long, value_name = "NAME")]
    ssm_parameter: String,
    /// End it in this Region (repeat for each); without it, the configured Region.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// One JSON object: {"parameter", "ended": [{"label", "version"}]}; with --region, "region"
    /// too, one object per Region.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let parameter = ParameterRef::parse(&args.ssm_parameter).map_err(anyhow::Error::msg)?;
    let name = &parameter.name;
    for (region, ssm) in super::stores(&args.regions).await? {
        let ended = candidate::abort(&ssm, name)
            .await
            .with_context(|| format!("cannot end the candidate of {name}"))?;
        let at = region
            .as_deref()
            .map_or(String::new(), |r| format!("{r}: "));
        if args.json {
            let ended: Vec<_> = ended
                .iter()
                .map(|(role, v)| serde_json::json!({"label": role.label(), "version": v}))
                .collect();
            let mut out = serde_json::json!({"parameter": name, "ended": ended});
            if let Some(region) = &region {
                out["region"] = region.as_str().into();
            }
            say!("{out}")?;
        } else if ended.is_empty() {
            say!("{at}{name} has no candidate: nothing to end")?;
        } else {
            let labels: Vec<_> = ended
                .iter()
                .map(|(role, v)| format!("{} (version {v})", role.label()))
                .collect();
            say!(
                "{at}ended {}: functions reading {name} serve the live mapping to every user \
                 from their next refresh",
                labels.join(", ")
            )?;
        }
    }
    Ok(Status::Success)
}
