//! `claim-mapper explain`: why each rule did what it did, for one event.

use std::path::PathBuf;

use claim_mapper::load;
use claim_mapper::report::explain;
use claim_mapper::runtime::settings;
use time::Date;

use super::{Status, parse_date, say};

/// Explain one event: every rule with its outcome, the group pipeline step by step, and the
/// final response.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  claim-mapper explain --mapping mappings/prod.yaml examples/events/v2-authentication-custom-attrs-groups.json

Exit codes: 0 the event was processed; 1 the Lambda would return an error for it; 2 the command
could not run (unreadable or invalid mapping, unreadable event).")]
pub struct Args {
    /// The mapping file.
    #[arg(long, default_value = settings::DEFAULT_FILE)]
    mapping: PathBuf,
    /// The event file.
    #[arg(required_unless_present = "describe")]
    event: Option<PathBuf>,
    /// An event described as a test case's `event:` is, instead of a file:
    /// '{ attributes: { custom:plan: gold }, groups: [admins] }'.
    #[arg(long, value_name = "YAML", conflicts_with = "event")]
    describe: Option<String>,
    /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    #[command(flatten)]
    lookups: super::Lookups,
    /// One JSON object: {"mapping", "event", "trigger", "version", "client", "overlays",
    /// "groups", "rules", "scopes", then "warnings" and "response", or "error"}.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    super::at_default(&args.mapping, settings::DEFAULT_FILE, super::NO_MAPPING)?;
    let loaded = load::load_file(&args.mapping)?;
    let (event, value) = match (&args.event, &args.describe) {
        (_, Some(text)) => (super::DESCRIBED.to_owned(), super::described(text)?),
        (Some(file), None) => (
            file.display().to_string(),
            load::files::event(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        ),
        (None, None) => anyhow::bail!("an event file or --describe is needed"),
    };
    let today = args.today.unwrap_or_else(super::today);
    let source = args.lookups.source().await?;
    let items = source.for_event(&loaded.mapping, &value).await;
    let explained = explain::explain(&loaded.mapping, value, &items, today);
    if args.json {
        let mut line = explained.to_json();
        line["mapping"] = serde_json::json!(loaded.describe());
        line["event"] = serde_json::json!(event);
        say!("{line}")?;
    } else {
        say!(
            "mapping {}\nevent {}\n{}",
            loaded.describe(),
            event,
            explained.to_human().trim_end()
        )?;
    }
    Ok(Status::of(explained.processed()))
}
