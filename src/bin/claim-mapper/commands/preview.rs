//! `claim-mapper preview`: what a real user's tokens will hold, from the event Cognito would send
//! for them (read only).

use std::path::{Path, PathBuf};

use anyhow::Context;
use claim_mapper::aws::cognito::Cognito;
use claim_mapper::report::{dry_run, explain};
use claim_mapper::workflow::preview::{self, PreviewError, Request};
use time::Date;

use super::{MappingSource, Status, parse_date, say};

/// Show what a real user's tokens will hold: reads the user (`AdminGetUser`), their groups
/// (`AdminListGroupsForUser`), the app client (`DescribeUserPoolClient`) and the pool's trigger
/// version (`DescribeUserPool`), builds the event Cognito would send, and applies the mapping to
/// it as the Lambda would. Reads only.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper preview --user-pool-id us-east-1_Zx98Yw76V --username jdoe --client-id 1h2j3k4l5m6n7o8p9q0r1s2t3u --mapping mappings/prod.yaml
  claim-mapper preview --user-pool-id us-east-1_Zx98Yw76V --client-id 1h2j3k4l5m6n7o8p9q0r1s2t3u --trigger TokenGeneration_ClientCredentials --ssm-parameter /myapp/prod/claim-mapping:live

IAM: cognito-idp:AdminGetUser, cognito-idp:AdminListGroupsForUser,
cognito-idp:DescribeUserPoolClient, cognito-idp:DescribeUserPool (and ssm:GetParameter with
--ssm-parameter).

Exit codes: 0 the event was processed; 1 the Lambda would return an error for it; 2 the command
could not run (no such pool, user or client; access denied, naming the permission; unreadable or
invalid mapping; no AWS region or credentials).")]
pub struct Args {
    /// The user pool (`us-east-1_Zx98Yw76V`).
    #[arg(long, value_name = "POOL")]
    user_pool_id: String,
    /// The user (their username, or an alias Cognito resolves); leave out for
    /// TokenGeneration_ClientCredentials.
    #[arg(long)]
    username: Option<String>,
    /// The app client the tokens are for.
    #[arg(long, value_name = "CLIENT")]
    client_id: String,
    /// The trigger source: how the tokens are issued.
    #[arg(long, default_value = "TokenGeneration_Authentication")]
    trigger: String,
    /// The event version (1, 2 or 3); by default the pool's trigger version.
    #[arg(long)]
    version: Option<u8>,
    /// The requested scopes (repeat, or comma-separated); by default what the trigger source
    /// implies: every scope the client allows for managed login, refreshes and machines,
    /// `aws.cognito.signin.user.admin` for the user-pools API.
    #[arg(long = "scope", value_delimiter = ',')]
    scopes: Option<Vec<String>>,
    #[command(flatten)]
    mapping: MappingSource,
    /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Show why each rule did what it did, as `explain` does.
    #[arg(long)]
    explain: bool,
    /// One JSON object: {"file" (the pool, user and client), "output", "warnings", "tokens"}, or
    /// with --explain, what `explain --json` prints.
    #[arg(long)]
    json: bool,
    /// Also write the event to FILE, as a fixture for `dry-run`, `explain` or the playground. It
    /// holds the user's attribute values: keep it where the user's data may be kept.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    #[command(flatten)]
    lookups: super::Lookups,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let loaded = args.mapping.load().await?;
    let request = Request {
        pool: args.user_pool_id.clone(),
        username: args.username.clone(),
        client: args.client_id.clone(),
        trigger: args.trigger.clone(),
        version: args.version,
        scopes: args.scopes.clone(),
    };
    let cognito = Cognito::operator().await?;
    let built = preview::preview(&cognito, &request)
        .await
        .map_err(|e| match e {
            PreviewError::Invalid(m) => anyhow::anyhow!(m),
            PreviewError::Api(e) => anyhow::anyhow!("user pool {}: {e}", args.user_pool_id),
        })?;
    if let Some(file) = &args.save {
        let text = serde_json::to_string_pretty(&built.event)? + "\n";
        std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
        eprintln!(
            "saved the event to {} (it holds the user's attribute values)",
            file.display()
        );
    }
    let today = args.today.unwrap_or_else(super::today);
    let items = args.lookups.source().await?;
    let items = items.for_event(&loaded.mapping, &built.event).await;
    let name = match &args.username {
        Some(user) => format!("{}/{user} via {}", args.user_pool_id, args.client_id),
        None => format!("{}/{}", args.user_pool_id, args.client_id),
    };
    if args.explain {
        let explained = explain::explain(&loaded.mapping, built.event, &items, today);
        if args.json {
            let mut line = explained.to_json();
            line["mapping"] = serde_json::json!(loaded.describe());
            line["event"] = serde_json::json!(name);
            say!("{line}")?;
        } else {
            say!(
                "mapping {}\nevent {name} ({})\n{}",
                loaded.describe(),
                built.version_note,
                explained.to_human().trim_end()
            )?;
        }
        return Ok(Status::of(explained.processed()));
    }
    let run = dry_run::run_event(
        &loaded.mapping,
        Path::new(&name),
        &built.event,
        &items,
        today,
    );
    if args.json {
        say!("{}", run.to_json_line(true))?;
    } else {
        say!(
            "mapping {}\n{}\n{}",
            loaded.describe(),
            built.version_note,
            run.to_human(true).trim_end()
        )?;
    }
    Ok(Status::of(run.result.is_ok()))
}
