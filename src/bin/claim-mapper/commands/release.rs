//! `claim-mapper release`: moves a label of a mapping parameter to a version (release or roll
//! back), or makes a version the candidate beside the live one (a canary, or a shadow), in the
//! configured Region or in several.

use anyhow::Context;
use claim_mapper::Mapping;
use claim_mapper::aws::ssm::Ssm;
use claim_mapper::workflow::candidate::{self, Role};
use claim_mapper::workflow::parameter::{self, ParameterRef, label_restriction};

use super::{Status, say};

/// Move a label (default `live`) to a version of a mapping parameter: release a version `push`
/// staged, or roll back to an earlier one. The deployed function reads the parameter at its
/// label. With --canary or --shadow, the version becomes the candidate beside the live one
/// instead; `promote` makes it live, `abort` ends it.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 7
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 6   # roll back
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 8 --canary 10%
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 8 --shadow
  claim-mapper release --ssm-parameter /cognito-claim-mapper/prod/claim-mapping --version 7 --region us-east-1 --region eu-west-1

A canary serves the candidate to the users whose bucket (SHA-256 of their sub, modulo 100) is
below the share, so a user sees one mapping across sign-ins and instances; each instance stops
serving it by itself when it refuses or skips more sign-ins than the live mapping (5 points more
once it served 20). A shadow candidate is evaluated beside the live mapping and its differences
logged by claim name; it is never applied. The function reads candidates at every refresh.

With several --region: every Region's version must hold the same text (each Region numbers its
versions itself), else nothing moves.

Exit codes: 0 the label moved; 1 that version holds an invalid mapping, or another text in some
Region, nothing moved; 2 the command could not run (no such version, invalid label or share, AWS
error or no credentials).")]
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
    /// Serve the version to this share of users beside the live mapping (1, 5, 10, 25 or 50
    /// percent), replacing any other candidate; the live label stays.
    #[arg(long, value_name = "PERCENT", value_parser = candidate::parse_share, conflicts_with_all = ["shadow", "label"])]
    canary: Option<u8>,
    /// Evaluate the version beside the live mapping and log its differences, never applying it,
    /// replacing any other candidate; the live label stays.
    #[arg(long, conflicts_with = "label")]
    shadow: bool,
    /// Release in this Region (repeat for each Region the function runs in, as with a replicated
    /// user pool); without it, the configured Region.
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// One JSON object: {"released": true, "parameter", "label", "version", "digest", "was",
    /// "watch" (a Logs Insights query showing the version each instance serves)}, or
    /// {"released": false, "parameter", "label", "version", "error"} for an invalid mapping;
    /// with --canary or --shadow, "candidate" ("canary" or "shadow"), "share" and "replaced"
    /// (the candidates it replaced: [{"label", "version"}]) in place of "was"; with --region,
    /// "region" too, one object per Region (one line each).
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    if let Some(reason) = label_restriction(&args.label) {
        anyhow::bail!("invalid --label: {reason}");
    }
    let parameter = ParameterRef::parse(&args.ssm_parameter).map_err(anyhow::Error::msg)?;
    let (name, version) = (&parameter.name, args.version);
    let stores = super::stores(&args.regions).await?;
    if stores.len() > 1 {
        let named: Vec<(String, Ssm)> = stores
            .iter()
            .map(|(region, ssm)| (region.clone().unwrap_or_default(), ssm.clone()))
            .collect();
        let differing = parameter::regions_differing(&named, name, version)
            .await
            .map_err(|(region, e)| {
                anyhow::Error::new(e).context(format!(
                    "cannot read version {version} of {name} in {region}"
                ))
            })?;
        if !differing.is_empty() {
            say!(
                "version {version} of {name} holds another text in {} than in {}: nothing \
                 released. Each Region numbers its parameter's versions itself; release each \
                 Region by its own version, or push the file to every Region with one `push \
                 --label {} --region ...`",
                differing.join(", "),
                named[0].0,
                args.label
            )?;
            return Ok(Status::Found);
        }
    }
    for (region, ssm) in &stores {
        if release_in(ssm, region.as_deref(), name, version, &args).await? == Status::Found {
            return Ok(Status::Found);
        }
    }
    Ok(Status::Success)
}

/// Releases in one Region (`None`: the configured one, and the output names none).
async fn release_in(
    ssm: &Ssm,
    region: Option<&str>,
    name: &str,
    version: i64,
    args: &Args,
) -> anyhow::Result<Status> {
    let label = &args.label;
    let mut digest = String::new();
    let valid = |fetched: &parameter::Fetched| {
        let origin = format!("{name} (version {version})");
        Mapping::from_yaml(&fetched.text, &origin).map(|m| digest = m.digest().to_owned())
    };
    let cannot = || match region {
        None => format!("cannot release version {version} of {name}"),
        Some(region) => format!("cannot release version {version} of {name} in {region}"),
    };
    let mut out = serde_json::json!({
        "parameter": name,
        "label": label,
        "version": version,
    });
    if let Some(region) = region {
        out["region"] = region.into();
    }
    let at = region.map_or(String::new(), |r| format!("{r}: "));
    let role = match (args.canary, args.shadow) {
        (Some(share), _) => Some(Role::Canary { share }),
        (None, true) => Some(Role::Shadow),
        (None, false) => None,
    };
    if let Some(role) = role {
        let started = candidate::start(ssm, name, version, role, valid)
            .await
            .with_context(cannot)?;
        let started = match started {
            Ok(started) => started,
            Err(invalid) => return not_released(invalid, &at, version, out, args.json),
        };
        let watch = super::candidate_watch(role);
        let replaced: Vec<_> = started
            .replaced
            .iter()
            .map(|(role, version)| serde_json::json!({"label": role.label(), "version": version}))
            .collect();
        if args.json {
            out["released"] = true.into();
            out["label"] = role.label().into();
            out["candidate"] = role.name().into();
            out["share"] = match role {
                Role::Canary { share } => share.into(),
                Role::Shadow => serde_json::Value::Null,
            };
            out["digest"] = digest.into();
            out["replaced"] = replaced.into();
            out["watch"] = watch.into();
            say!("{out}")?;
        } else {
            let what = match role {
                Role::Canary { share } => format!("serves {share}% of users"),
                Role::Shadow => "is evaluated in shadow beside the live mapping".into(),
            };
            let replaced = match started.replaced.as_slice() {
                [] => String::new(),
                r => format!(
                    ", replacing {}",
                    r.iter()
                        .map(|(role, v)| format!("{} on version {v}", role.label()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            say!(
                "{at}label {} -> version {version} ({digest}): it {what}{replaced}; the live \
                 label stays. Functions reading {name} pick it up at their next refresh. \
                 `claim-mapper promote` makes it live, `claim-mapper abort` ends it. Watch it in \
                 CloudWatch Logs Insights, on the function's log group:\n  {watch}",
                role.label()
            )?;
        }
        return Ok(Status::Success);
    }
    let released = parameter::release(ssm, name, version, label, valid)
        .await
        .with_context(cannot)?;
    match released {
        Ok(released) => {
            let (served, watch) = super::when_served(name, label, version);
            if args.json {
                out["released"] = true.into();
                out["digest"] = digest.into();
                out["was"] = released.was.into();
                out["watch"] = watch.into();
                say!("{out}")?;
            } else {
                let was = released
                    .was
                    .map_or("was no version".into(), |v| format!("was version {v}"));
                say!("{at}label {label} -> version {version} ({digest}), {was}\n{served}")?;
            }
            Ok(Status::Success)
        }
        Err(invalid) => not_released(invalid, &at, version, out, args.json),
    }
}

/// Says that `version` holds an invalid mapping and nothing moved.
fn not_released(
    invalid: claim_mapper::MappingError,
    at: &str,
    version: i64,
    mut out: serde_json::Value,
    json: bool,
) -> anyhow::Result<Status> {
    if json {
        out["released"] = false.into();
        out["error"] = invalid.to_string().into();
        say!("{out}")?;
    } else {
        say!("{at}{invalid}\nnot released: version {version} holds an invalid mapping")?;
    }
    Ok(Status::Found)
}
