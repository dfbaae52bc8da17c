//! `claim-mapper diff`: how the tokens change between two mappings, over events.

use std::path::PathBuf;

use claim_mapper::load;
use claim_mapper::report::{diff, dry_run};

use super::{Events, Status, say};

/// Show how the tokens change between the current mapping (in SSM, or a file) and a mapping
/// file, over events.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  claim-mapper diff mappings/prod.yaml --ssm-parameter /claim-mapper/prod:live
  claim-mapper diff mappings/prod.yaml --before mappings/dev.yaml

Exit codes: 0 nothing changes; 1 something does; 2 the command could not run (unreadable or
invalid mapping, unreadable event, SSM error).")]
pub struct Args {
    /// The mapping file (the proposed change).
    file: PathBuf,
    /// The parameter holding the current mapping (NAME, NAME:VERSION or NAME:LABEL).
    #[cfg(feature = "ssm")]
    #[arg(
        long,
        value_name = "PARAMETER",
        required_unless_present = "before",
        conflicts_with = "before"
    )]
    ssm_parameter: Option<String>,
    /// A file holding the current mapping, instead of a parameter.
    #[arg(long, value_name = "FILE")]
    #[cfg_attr(not(feature = "ssm"), arg(required = true))]
    before: Option<PathBuf>,
    /// One JSON object per event per line: {"file", "changed", "differences"}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    events: Events,
}

pub async fn run(args: Args) -> anyhow::Result<Status> {
    let before = match &args.before {
        Some(before) => load::load_file(before)?,
        #[cfg(feature = "ssm")]
        None => match &args.ssm_parameter {
            Some(parameter) => super::load_parameter(parameter).await?,
            None => anyhow::bail!("give --ssm-parameter or --before"),
        },
        #[cfg(not(feature = "ssm"))]
        None => anyhow::bail!("give --before"),
    };
    let after = load::load_file(&args.file)?;
    let today = args.events.today();
    let source = args.events.lookups.source().await?;
    // An event that cannot be read would compare equal under both mappings: the diff cannot
    // run, so it ends here (exit 2) instead of reporting no changes.
    let mut pairs = Vec::new();
    for f in args.events.files()? {
        let event = load::files::event(&f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        pairs.push((
            dry_run::run_event(
                &before.mapping,
                &f,
                &event,
                &source.for_event(&before.mapping, &event).await,
                today,
            ),
            dry_run::run_event(
                &after.mapping,
                &f,
                &event,
                &source.for_event(&after.mapping, &event).await,
                today,
            ),
        ));
    }
    let (report, changed) = if args.json {
        diff::json_lines(&pairs)
    } else {
        say!(
            "before: {}\nafter:  {}\n",
            before.describe(),
            after.describe()
        )?;
        diff::report(&pairs)
    };
    say!("{}", report.trim_end())?;
    Ok(Status::of(changed == 0))
}
