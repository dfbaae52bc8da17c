//! `claim-mapper`: validate mappings and dry-run them over event files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use claim_mapper::{dry_run, load};
use clap::{Parser, Subcommand};
use time::{Date, OffsetDateTime};

#[derive(Parser)]
#[command(
    name = "claim-mapper",
    version,
    about = "Validate and dry-run Cognito claim mappings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check mapping files; list every problem. Exit 1 if any file is invalid.
    Validate {
        /// Mapping files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Apply a mapping to event files exactly as the Lambda would, and show what the tokens get.
    DryRun {
        /// The mapping file.
        #[arg(long, default_value = load::DEFAULT_FILE)]
        mapping: PathBuf,
        /// One JSON object per event per line: {"file", "output", "warnings"}.
        #[arg(long)]
        json: bool,
        /// Evaluate date transforms (`age`) as of this date (YYYY-MM-DD) instead of today (UTC).
        #[arg(long, value_parser = parse_date)]
        today: Option<Date>,
        /// Event files or folders of `*.json` events.
        #[arg(default_value = "examples/events")]
        events: Vec<PathBuf>,
    },
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; `Ok(false)` means it ran and found invalid mappings or failed events.
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Validate { files } => {
            let mut all_valid = true;
            for file in files {
                match load::load_file(&file) {
                    Ok(loaded) => {
                        let rules = loaded.mapping.rules.len();
                        let plural = if rules == 1 { "" } else { "s" };
                        let digest = loaded.mapping.digest();
                        println!("{}: valid ({rules} rule{plural}, {digest})", file.display());
                    }
                    Err(e) => {
                        all_valid = false;
                        println!("{e}");
                    }
                }
            }
            Ok(all_valid)
        }
        Command::DryRun {
            mapping,
            json,
            today,
            events,
        } => {
            let loaded = load::load_file(&mapping)?;
            let today = today.unwrap_or_else(|| OffsetDateTime::now_utc().date());
            let files = dry_run::event_files(&events).context("cannot list event files")?;
            anyhow::ensure!(!files.is_empty(), "no event files found in {events:?}");
            let mut all_ok = true;
            if !json {
                println!("mapping {}\n", loaded.describe());
            }
            for file in files {
                let run = dry_run::run_file(&loaded.mapping, &file, today);
                all_ok &= run.result.is_ok();
                if json {
                    println!("{}", run.to_json_line());
                } else {
                    println!("{}", run.to_human());
                }
            }
            Ok(all_ok)
        }
    }
}
