//! The command line: one file per subcommand. Each renders a table for
//! people or `--json` for programs; none reaches into the daemon's internals.

mod check;
mod rules;
mod run;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Publishes the scheduled posts of your company's social accounts, within its guidelines.
#[derive(Parser, Debug)]
#[command(name = "herald", version, about)]
pub struct Cli {
    /// The config file [default: /etc/herald/herald.toml].
    #[arg(long, global = true, env = "HERALD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon in the foreground (logs go to stderr).
    Run(run::RunArgs),
    /// Check post files against the guidelines before dropping them in the queue.
    Check(check::CheckArgs),
    /// Show accounts, their deliveries per state and the next due time.
    Status(status::StatusArgs),
    /// List every guideline rule: default and effective severity per account, where it is configured.
    Rules(rules::RulesArgs),
}

/// Parses the arguments and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = crate::config::resolve_path(cli.config.as_deref());
    match cli.command {
        Command::Run(args) => run::run(&config, args),
        Command::Check(args) => check::run(&config, args),
        Command::Status(args) => status::run(&config, args),
        Command::Rules(args) => rules::run(&config, args),
    }
}

/// Prints an error for a person and returns the exit code.
pub(crate) fn fail(code: u8, err: &anyhow::Error) -> ExitCode {
    eprintln!("herald: {err:#}");
    ExitCode::from(code)
}
