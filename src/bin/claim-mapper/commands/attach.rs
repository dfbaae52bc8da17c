//! `claim-mapper attach`: a function (its alias) as a user pool's Pre Token Generation trigger,
//! every other setting of the pool kept.

use std::path::PathBuf;

use claim_mapper::aws::cognito::Cognito;
use claim_mapper::aws::lambda::Lambda;
use claim_mapper::workflow::attach::{self, AttachOptions, Done, Plan, Refusal};
use claim_mapper::workflow::trigger::{FunctionArn, LambdaVersion};

use super::{Status, say};

/// Set a function's alias as a user pool's Pre Token Generation trigger, keeping every other
/// setting of the pool (what CloudFormation cannot do for a pool it does not own).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper attach --user-pool-id us-east-1_Zx98Yw76V --function-arn arn:aws:lambda:us-east-1:111122223333:function:cognito-claim-mapper:live --dry-run
  claim-mapper attach --user-pool-id us-east-1_Zx98Yw76V --function-arn arn:aws:lambda:us-east-1:111122223333:function:cognito-claim-mapper:live --add-permission --save-previous before.json

It reads the pool (DescribeUserPool) and the function's policy (GetPolicy), prints the plan, and
sends the pool's settings back as they were with only the trigger changed (UpdateUserPool), then
reads the pool again to check that nothing else changed. It refuses, writing nothing, to replace
another function's trigger or lower the event version without --replace, to leave a trigger
Cognito may not invoke (--add-permission adds the permission), and a pool whose description holds
a setting this release does not know. `claim-mapper detach` undoes it.

Exit codes: 0 attached, already attached, or planned (--dry-run); 1 refused (nothing written), or
a setting read back differently after the write; 2 the command could not run (no such pool,
access denied: the permission is named; no AWS region or credentials).")]
pub struct Args {
    /// The user pool.
    #[arg(long, value_name = "POOL")]
    user_pool_id: String,
    /// The function's alias ARN Cognito is to invoke (the stack's FunctionArn output).
    #[arg(long, value_name = "ARN", value_parser = FunctionArn::parse)]
    function_arn: FunctionArn,
    /// The trigger event version (default: the pool's current one, else V2_0).
    #[arg(long, value_parser = ["V1_0", "V2_0", "V3_0"])]
    trigger_version: Option<String>,
    /// Replace another function's trigger, or lower the event version.
    #[arg(long)]
    replace: bool,
    /// Add the invoke permission for this pool if the function's policy lacks it.
    #[arg(long)]
    add_permission: bool,
    /// Do not read the function's policy (when the caller may not call lambda:GetPolicy).
    #[arg(long, conflicts_with = "add_permission")]
    no_permission_check: bool,
    /// Print the plan and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Before writing, save the pool's description (DescribeUserPool's output) to this file;
    /// `detach --restore FILE` puts its trigger back.
    #[arg(long, value_name = "FILE")]
    save_previous: Option<PathBuf>,
    /// The plan and the outcome as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let options = AttachOptions {
        function: args.function_arn,
        version: args
            .trigger_version
            .as_deref()
            .and_then(LambdaVersion::parse),
        replace: args.replace,
        add_permission: args.add_permission,
        check_permission: !args.no_permission_check,
    };
    let (pools, functions) = (Cognito::operator().await?, Lambda::operator().await?);
    let save = args.save_previous.clone();
    let result = attach::attach(
        &pools,
        &functions,
        &args.user_pool_id,
        &options,
        args.dry_run,
        |plan| save_previous(plan, save.as_ref()),
    )
    .await;
    report(result, args.json)
}

/// Writes the pool's description before the write, when asked to.
pub fn save_previous(plan: &Plan, file: Option<&PathBuf>) -> Result<(), Refusal> {
    let Some(file) = file else { return Ok(()) };
    let text = serde_json::to_string_pretty(&plan.pool.to_response()).unwrap_or_default();
    std::fs::write(file, text + "\n").map_err(|e| {
        Refusal::Plan(format!(
            "cannot save the pool's description to {}: {e}; nothing was written",
            file.display()
        ))
    })
}

/// Prints what an `attach` or `detach` planned and did, and its status.
pub fn report(
    result: Result<(Plan, Result<Done, attach::Drift>), Refusal>,
    json: bool,
) -> anyhow::Result<Status> {
    let (plan, done) = match result {
        Ok(outcome) => outcome,
        Err(Refusal::Api(e)) => return Err(e.into()),
        Err(refusal) => {
            if json {
                say!(
                    "{}",
                    serde_json::json!({"outcome": "refused", "reason": refusal.to_string()})
                )?;
            } else {
                say!("refused, nothing written: {refusal}")?;
            }
            return Ok(Status::Found);
        }
    };
    let (outcome, status) = match &done {
        Ok(Done::Planned) => ("planned", Status::Success),
        Ok(Done::Unchanged) => ("unchanged", Status::Success),
        Ok(Done::Written) => ("written", Status::Success),
        Err(_) => ("drift", Status::Found),
    };
    if json {
        let mut line = plan.to_json();
        line["outcome"] = outcome.into();
        line["previous"] = serde_json::Value::Object(plan.previous_trigger());
        if let Err(drift) = &done {
            line["changed"] = serde_json::json!(drift.changed);
        }
        say!("{line}")?;
        return Ok(status);
    }
    say!("{}", plan.to_human().trim_end())?;
    say!(
        "previous Pre Token Generation configuration: {}",
        serde_json::Value::Object(plan.previous_trigger())
    )?;
    match done {
        Ok(Done::Planned) => say!("dry run: nothing written")?,
        Ok(Done::Unchanged) => say!("nothing to change")?,
        Ok(Done::Written) => say!("written, and read back as planned")?,
        Err(drift) => say!("{drift}")?,
    }
    Ok(status)
}
