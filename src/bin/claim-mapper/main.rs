//! `claim-mapper`: validate mappings, dry-run them over event files, explain and test them,
//! audit them against a user pool, and publish them (SSM Parameter Store) and the trigger (a
//! user pool's Lambda configuration).
//!
//! Each command is a file of `commands/` with its arguments and `run`; every command returns a
//! [`Status`], and the exit code is decided here alone: 0 success, 1 the command ran and found
//! something (an invalid mapping, a failed event or case, a difference, a high finding, a refused
//! write), 2 the command could not run.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

use commands::Status;

#[derive(Parser)]
#[command(
    name = "claim-mapper",
    version,
    about = "Validate, dry-run, test, audit and publish Cognito claim mappings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(commands::init::Args),
    Validate(commands::validate::Args),
    DryRun(commands::dry_run::Args),
    Explain(commands::explain::Args),
    Test(commands::test::Args),
    Diff(commands::diff::Args),
    Schema(commands::schema::Args),
    #[cfg(feature = "user-pool")]
    Audit(commands::audit::Args),
    #[cfg(feature = "user-pool")]
    Preview(commands::preview::Args),
    #[cfg(feature = "ssm")]
    Push(commands::push::Args),
    #[cfg(feature = "ssm")]
    Release(commands::release::Args),
    #[cfg(feature = "ssm")]
    Promote(commands::promote::Args),
    #[cfg(feature = "ssm")]
    Abort(commands::abort::Args),
    #[cfg(feature = "user-pool")]
    Attach(commands::attach::Args),
    #[cfg(feature = "user-pool")]
    Detach(commands::detach::Args),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let status = match Cli::parse().command {
        Command::Init(args) => commands::init::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::DryRun(args) => commands::dry_run::run(args).await,
        Command::Explain(args) => commands::explain::run(args).await,
        Command::Test(args) => commands::test::run(args).await,
        Command::Diff(args) => commands::diff::run(args).await,
        Command::Schema(args) => commands::schema::run(args),
        #[cfg(feature = "user-pool")]
        Command::Audit(args) => commands::audit::run(args).await,
        #[cfg(feature = "user-pool")]
        Command::Preview(args) => commands::preview::run(args).await,
        #[cfg(feature = "ssm")]
        Command::Push(args) => commands::push::run(args).await,
        #[cfg(feature = "ssm")]
        Command::Release(args) => commands::release::run(args).await,
        #[cfg(feature = "ssm")]
        Command::Promote(args) => commands::promote::run(args).await,
        #[cfg(feature = "ssm")]
        Command::Abort(args) => commands::abort::run(args).await,
        #[cfg(feature = "user-pool")]
        Command::Attach(args) => commands::attach::run(args).await,
        #[cfg(feature = "user-pool")]
        Command::Detach(args) => commands::detach::run(args).await,
    };
    match status {
        Ok(Status::Success) => ExitCode::SUCCESS,
        Ok(Status::Found) => ExitCode::from(1),
        // A closed output pipe (`claim-mapper dry-run | head`) ends the command quietly.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
