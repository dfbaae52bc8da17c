//! The commands, one file each (its arguments and `run`), and what several share: where a mapping
//! comes from, which events, the date `age` counts from, printing.

use std::path::{Path, PathBuf};

use anyhow::Context;
use claim_mapper::Mapping;
use claim_mapper::engine::KnownItems;
use claim_mapper::load::{self, Loaded};
use claim_mapper::runtime::settings;
use time::{Date, OffsetDateTime};

#[cfg(feature = "ssm")]
pub mod abort;
#[cfg(feature = "user-pool")]
pub mod attach;
#[cfg(feature = "user-pool")]
pub mod audit;
#[cfg(feature = "user-pool")]
pub mod detach;
pub mod diff;
pub mod dry_run;
pub mod explain;
pub mod init;
#[cfg(feature = "user-pool")]
pub mod preview;
#[cfg(feature = "ssm")]
pub mod promote;
#[cfg(feature = "ssm")]
pub mod push;
#[cfg(feature = "ssm")]
pub mod release;
pub mod schema;
pub mod test;
pub mod validate;

/// How a command that ran ended; a command that could not run returns an error instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything held (exit 0).
    Success,
    /// The command ran and found something: an invalid mapping, a failed event or case, a
    /// difference, a high finding, a refused write (exit 1).
    Found,
}

impl Status {
    /// [`Status::Success`] when `ok`, else [`Status::Found`].
    pub fn of(ok: bool) -> Status {
        if ok { Status::Success } else { Status::Found }
    }
}

/// `println!` that returns write errors instead of panicking, so a closed pipe
/// (`claim-mapper dry-run | head`) ends the command quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use say;

/// When functions reading `name:label` serve `version`, and how to watch them do it: for `release`
/// and `push --label`, which move the label but cannot see the fleet.
///
/// A function refreshes at its first sign-in once its mapping is older than
/// `CLAIM_MAPPING_REFRESH_SECONDS` and serves the new version from the sign-in after that read
/// (`runtime::live`); each metric line carries the version an invocation was served with.
#[cfg(feature = "ssm")]
pub fn when_served(name: &str, label: &str, version: i64) -> (String, String) {
    let query = "filter ispresent(mapping_version) | stats latest(mapping_version) as version, \
                 max(@timestamp) as last_sign_in by @logStream | sort version"
        .to_owned();
    let text = format!(
        "functions reading {name}:{label} serve version {version} from their first sign-ins \
         after their refresh interval (CLAIM_MAPPING_REFRESH_SECONDS; the SAM stack's \
         RefreshSeconds, 60 by default); an instance without sign-ins serves it from its next \
         one. Watch it per instance (each log stream) in CloudWatch Logs Insights, on the \
         function's log group:\n  {query}"
    );
    (text, query)
}

/// The SSM clients of a command that takes `--region` (repeated): one per Region named, or the
/// configured Region's (named `None`).
#[cfg(feature = "ssm")]
pub async fn stores(
    regions: &[String],
) -> anyhow::Result<Vec<(Option<String>, claim_mapper::aws::ssm::Ssm)>> {
    use claim_mapper::aws::ssm::Ssm;
    if regions.is_empty() {
        return Ok(vec![(None, Ssm::operator().await?)]);
    }
    let mut stores = Vec::new();
    for region in regions {
        stores.push((Some(region.clone()), Ssm::operator_in(Some(region)).await?));
    }
    Ok(stores)
}

/// The Logs Insights query that shows, in 5-minute bins, what a release's candidate does: a
/// canary's share of sign-ins and its roll-backs, or how often a shadow candidate differs.
#[cfg(feature = "ssm")]
pub fn candidate_watch(role: claim_mapper::workflow::candidate::Role) -> String {
    use claim_mapper::workflow::candidate::Role;
    match role {
        Role::Canary { .. } => {
            "filter ispresent(CanaryServed) | stats sum(CanaryServed) as canary, \
             count(*) as sign_ins, sum(InvocationsRefused) as refused, sum(RulesSkipped) as \
             skipped, sum(CanaryRolledBack) as rolled_back by bin(5m), mapping_version"
                .into()
        }
        Role::Shadow => "filter ispresent(CandidateDiffers) | stats sum(CandidateDiffers) as \
             differing, sum(CandidateWouldFail) as would_fail, count(*) as sign_ins by bin(5m)"
            .into(),
    }
}

/// The mapping a command reads: a file, or an SSM parameter.
#[derive(clap::Args)]
pub struct MappingSource {
    /// The mapping file.
    #[arg(long, default_value = settings::DEFAULT_FILE)]
    #[cfg_attr(feature = "ssm", arg(conflicts_with = "ssm_parameter"))]
    pub mapping: PathBuf,
    /// Read the mapping from this SSM parameter (NAME, NAME:VERSION or NAME:LABEL) instead.
    #[cfg(feature = "ssm")]
    #[arg(long, value_name = "PARAMETER")]
    pub ssm_parameter: Option<String>,
}

impl MappingSource {
    /// The mapping, read and compiled.
    pub async fn load(&self) -> anyhow::Result<Loaded> {
        #[cfg(feature = "ssm")]
        if let Some(parameter) = &self.ssm_parameter {
            return load_parameter(parameter).await;
        }
        at_default(&self.mapping, settings::DEFAULT_FILE, NO_MAPPING)?;
        Ok(load::load_file(&self.mapping)?)
    }
}

/// What to do without `mappings/default.yaml`.
pub const NO_MAPPING: &str =
    "pass --mapping FILE, or run `claim-mapper init` to write a first mapping and its tests";

/// Refuses a default path (`mappings/default.yaml`, `mappings/tests`, `examples/events`) that is
/// not where the command runs, saying what to pass instead: the defaults are this repository's
/// layout, which a team's own repository has only after `init`.
pub fn at_default(path: &Path, default: &str, instead: &str) -> anyhow::Result<()> {
    if path == Path::new(default) && !path.exists() {
        anyhow::bail!("there is no {default} here (the default): {instead}");
    }
    Ok(())
}

/// The mapping in `parameter` (NAME, NAME:VERSION, NAME:LABEL), read with the operator's client.
#[cfg(feature = "ssm")]
pub async fn load_parameter(parameter: &str) -> anyhow::Result<Loaded> {
    use claim_mapper::aws::ssm::Ssm;
    use claim_mapper::workflow::parameter::ParameterRef;
    let parameter = ParameterRef::parse(parameter).map_err(anyhow::Error::msg)?;
    let ssm = Ssm::operator().await?;
    Ok(load::load_parameter(&ssm, &parameter).await?)
}

/// Event files and the evaluation date.
#[derive(clap::Args)]
pub struct Events {
    /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_parser = parse_date)]
    pub today: Option<Date>,
    /// Event files or folders of `*.json` events.
    #[arg(default_value = "examples/events", conflicts_with = "describe")]
    pub events: Vec<PathBuf>,
    /// An event described as a test case's `event:` is, instead of files:
    /// '{ attributes: { custom:plan: gold }, groups: [admins], version: 3 }'.
    #[arg(long, value_name = "YAML")]
    pub describe: Option<String>,
    #[command(flatten)]
    pub lookups: Lookups,
}

/// What a mapping's lookups find when a command applies it.
#[derive(clap::Args)]
pub struct Lookups {
    /// What the mapping's lookups find, instead of reading their tables: a YAML file of items by
    /// lookup name and key (docs/lookups.md).
    #[arg(long, value_name = "FILE", conflicts_with = "live_lookups")]
    pub lookup_items: Option<PathBuf>,
    /// Read the mapping's lookups from their DynamoDB tables, with your AWS credentials
    /// (`dynamodb:BatchGetItem` on the tables).
    #[arg(long)]
    pub live_lookups: bool,
}

/// Where a command's lookups find their items.
pub enum ItemSource {
    /// A `--lookup-items` file's, or none (a rule reading a lookup then fails, saying no item was
    /// given).
    Known(KnownItems),
    /// The tables (`--live-lookups`).
    #[cfg(feature = "lookups")]
    Live(claim_mapper::aws::dynamodb::Dynamo),
}

impl Lookups {
    /// Where the items come from: the file read (every problem of it as the error), or a
    /// DynamoDB client set up.
    pub async fn source(&self) -> anyhow::Result<ItemSource> {
        if self.live_lookups {
            #[cfg(feature = "lookups")]
            return Ok(ItemSource::Live(
                claim_mapper::aws::dynamodb::Dynamo::operator().await?,
            ));
            #[cfg(not(feature = "lookups"))]
            anyhow::bail!("this build reads no tables: build it with the `lookups` feature");
        }
        let Some(path) = &self.lookup_items else {
            return Ok(ItemSource::Known(KnownItems::default()));
        };
        claim_mapper::load::files::known_items(path)
            .map(ItemSource::Known)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("\n")))
    }
}

impl ItemSource {
    /// What `event`'s lookups under `mapping` find.
    #[cfg_attr(not(feature = "lookups"), allow(unused_variables))]
    pub async fn for_event(&self, mapping: &Mapping, event: &serde_json::Value) -> KnownItems {
        match self {
            ItemSource::Known(known) => known.clone(),
            #[cfg(feature = "lookups")]
            ItemSource::Live(dynamo) => dynamo.read_known(mapping, event).await,
        }
    }
}

/// The event `text` describes (a test case's `event:` format), or its problems as the error.
pub fn described(text: &str) -> anyhow::Result<serde_json::Value> {
    claim_mapper::suite::described(text)
        .map_err(|problems| anyhow::anyhow!("the described event: {}", problems.join("; ")))
}

/// What a described event is called in reports.
pub const DESCRIBED: &str = "(described event)";

impl Events {
    /// The event files, folders expanded; at least one.
    pub fn files(&self) -> anyhow::Result<Vec<PathBuf>> {
        if let [only] = self.events.as_slice() {
            at_default(
                only,
                "examples/events",
                "pass event files or folders (`claim-mapper preview` builds a real user's event, \
                 and `--save` keeps it)",
            )?;
        }
        let files = claim_mapper::load::files::event_files(&self.events)
            .context("cannot list event files")?;
        anyhow::ensure!(
            !files.is_empty(),
            "no event files found in {:?}",
            self.events
        );
        Ok(files)
    }

    /// The evaluation date: `--today`, else today (UTC).
    pub fn today(&self) -> Date {
        self.today.unwrap_or_else(today)
    }
}

/// Today, in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// A `YYYY-MM-DD` argument.
pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| e.to_string())
}
