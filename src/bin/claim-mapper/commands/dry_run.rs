//! `claim-mapper dry-run`: a mapping over event files, exactly as the Lambda applies it.

use claim_mapper::report::dry_run;

use std::path::Path;

use super::{DESCRIBED, Events, MappingSource, Status, say};

/// Apply a mapping to event files exactly as the Lambda would, and show what the tokens get.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper dry-run --mapping mappings/prod.yaml --tokens examples/events
  claim-mapper dry-run --mapping mappings/prod.yaml --tokens --describe '{ attributes: { custom:tenant_id: t1 }, groups: [admins] }'

Exit codes: 0 every event was processed; 1 an event failed (the Lambda would return an error);
2 the command could not run (unreadable mapping or folder, invalid mapping, SSM error).")]
pub struct Args {
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
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let loaded = args.mapping.load().await?;
    let today = args.events.today();
    let source = args.events.lookups.source().await?;
    if let Some(text) = &args.events.describe {
        let event = super::described(text)?;
        let items = source.for_event(&loaded.mapping, &event).await;
        let run = dry_run::run_event(&loaded.mapping, Path::new(DESCRIBED), &event, &items, today);
        if args.json {
            say!("{}", run.to_json_line(args.tokens))?;
        } else {
            say!(
                "mapping {}\n\n{}",
                loaded.describe(),
                run.to_human(args.tokens)
            )?;
        }
        return Ok(Status::of(run.result.is_ok()));
    }
    let files = args.events.files()?;
    if !args.json {
        say!("mapping {}\n", loaded.describe())?;
    }
    let (mut all_ok, mut unreadable) = (true, 0);
    for file in files {
        let run = match claim_mapper::load::files::event(&file) {
            Ok(event) => {
                let items = source.for_event(&loaded.mapping, &event).await;
                dry_run::run_event(&loaded.mapping, &file, &event, &items, today)
            }
            Err(claim_mapper::load::files::ReadError::Unreadable(e)) => {
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
        if args.json {
            say!("{}", run.to_json_line(args.tokens))?;
        } else {
            say!("{}", run.to_human(args.tokens))?;
        }
    }
    anyhow::ensure!(
        unreadable == 0,
        "{unreadable} event files could not be read"
    );
    Ok(Status::of(all_ok))
}
