//! `claim-mapper detach`: a user pool's Pre Token Generation trigger removed, or an earlier one
//! put back, every other setting of the pool kept.

use std::path::PathBuf;

use anyhow::Context;
use claim_mapper::aws::cognito::Cognito;
use claim_mapper::workflow::attach::{self, DetachOptions};
use claim_mapper::workflow::pool::PoolDescription;
use claim_mapper::workflow::trigger::FunctionArn;

use super::Status;
use super::attach::{report, save_previous};

/// Remove our function from a user pool's Pre Token Generation trigger, or put back the trigger
/// the pool had before (`--restore`): before deleting the stack, or to undo `attach`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper detach --user-pool-id us-east-1_Zx98Yw76V --function-arn arn:aws:lambda:us-east-1:111122223333:function:cognito-claim-mapper:live
  claim-mapper detach --user-pool-id us-east-1_Zx98Yw76V --function-arn arn:aws:lambda:us-east-1:111122223333:function:cognito-claim-mapper:live --restore before.json

It changes the pool only while its trigger is that function, and keeps every other setting as
`attach` does. --restore takes the pool's description saved by `attach --save-previous` (or the
output of `aws cognito-idp describe-user-pool`) and puts back its Pre Token Generation trigger.

Exit codes: 0 detached, or nothing attached; 1 refused (the trigger is another function's: nothing
written), or a setting read back differently after the write; 2 the command could not run.")]
pub struct Args {
    /// The user pool.
    #[arg(long, value_name = "POOL")]
    user_pool_id: String,
    /// The function's alias ARN the pool invokes now.
    #[arg(long, value_name = "ARN", value_parser = FunctionArn::parse)]
    function_arn: FunctionArn,
    /// Put back the trigger of this earlier description of the pool.
    #[arg(long, value_name = "FILE")]
    restore: Option<PathBuf>,
    /// Print the plan and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Before writing, save the pool's description to this file.
    #[arg(long, value_name = "FILE")]
    save_previous: Option<PathBuf>,
    /// The plan and the outcome as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let restore = match &args.restore {
        None => None,
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let json = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            Some(
                PoolDescription::from_json(json)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            )
        }
    };
    let options = DetachOptions {
        function: args.function_arn,
        restore,
    };
    let pools = Cognito::operator().await?;
    let save = args.save_previous.clone();
    let result = attach::detach(&pools, &args.user_pool_id, &options, args.dry_run, |plan| {
        save_previous(plan, save.as_ref())
    })
    .await;
    report(result, args.json)
}
