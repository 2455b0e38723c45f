//! The command line: one file per subcommand. Each renders a table for
//! people or `--json` for programs; none reaches into the daemon's internals.

mod accounts;
mod ask;
mod audit;
mod auth;
mod check;
mod completions;
mod decide;
mod doctor;
mod history;
mod man;
mod preview;
mod rules;
mod run;
mod show;
mod status;
mod stops;

mod upcoming;

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
    /// Run the daemon in the foreground (logs: the journal under systemd, else stderr).
    Run(run::RunArgs),
    /// Check post files against the guidelines before dropping them in the queue.
    Check(check::CheckArgs),
    /// Show accounts, their deliveries per state and the next due time.
    Status(status::StatusArgs),
    /// Show the exact requests herald would send to X for a post file, without sending them.
    Preview(preview::PreviewArgs),
    /// Connect an account with OAuth 2.0: `herald auth x ACCOUNT`.
    Auth(auth::AuthArgs),
    /// The account registry: owners, backups, contacts; accounts nobody can be reached for.
    Accounts(accounts::AccountsArgs),
    /// Upcoming deliveries in time order, with verdicts and what stops them.
    Queue(upcoming::QueueArgs),
    /// Past deliveries, newest first, with links.
    History(history::HistoryArgs),
    /// Everything about one delivery.
    Show(show::ShowArgs),
    /// Stop one account's publishing.
    Pause(stops::PauseArgs),
    /// Restart a paused account's publishing.
    Resume(stops::ResumeArgs),
    /// Stop all publishing except emergency posts of emergency accounts.
    Freeze(stops::FreezeArgs),
    /// Lift a freeze; late deliveries are held, not published.
    Thaw(stops::ThawArgs),
    /// Declare or lift a disaster hold (read by the guideline checks).
    DisasterHold(stops::DisasterHoldArgs),
    /// Approve a held delivery.
    Approve(decide::DeliveryArgs),
    /// Reject a held or scheduled delivery (its file moves to rejected/).
    Reject(decide::ReasonArgs),
    /// Cancel a pending delivery (its file moves to cancelled/).
    Cancel(decide::CancelArgs),
    /// Try a failed delivery again.
    Retry(decide::DeliveryArgs),
    /// Delete a published post on its platform; the record stays, marked retracted.
    Retract(decide::ReasonArgs),
    /// The audit log; --verify checks its hash chain.
    Audit(audit::AuditArgs),
    /// Check the installation: config, folders, store, credentials, clock.
    Doctor(doctor::DoctorArgs),
    /// Print shell completions (bash, zsh or fish) generated from this command line.
    Completions(completions::CompletionsArgs),
    /// Print the herald(1) manual page (roff).
    Man(man::ManArgs),
    /// List every guideline rule: default and effective severity per account, where it is configured.
    Rules(rules::RulesArgs),
}

/// Parses the arguments and runs the subcommand.
pub fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let config = crate::config::resolve_path(cli.config.as_deref());
    match cli.command {
        Command::Run(args) => run::run(&config, args),
        Command::Check(args) => check::run(&config, args),
        Command::Status(args) => status::run(&config, args),
        Command::Preview(args) => preview::run(&config, args),
        Command::Auth(args) => auth::run(&config, args),
        Command::Accounts(args) => accounts::run(&config, args),
        Command::Queue(args) => upcoming::run(&config, args),
        Command::History(args) => history::run(&config, args),
        Command::Show(args) => show::run(&config, args),
        Command::Pause(args) => stops::pause(&config, args),
        Command::Resume(args) => stops::resume(&config, args),
        Command::Freeze(args) => stops::freeze(&config, args),
        Command::Thaw(args) => stops::thaw(&config, args),
        Command::DisasterHold(args) => stops::disaster_hold(&config, args),
        Command::Approve(args) => decide::approve(&config, args),
        Command::Reject(args) => decide::reject(&config, args),
        Command::Cancel(args) => decide::cancel(&config, args),
        Command::Retry(args) => decide::retry(&config, args),
        Command::Retract(args) => decide::retract(&config, args),
        Command::Audit(args) => audit::run(&config, args),
        Command::Doctor(args) => doctor::run(&config, args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Rules(args) => rules::run(&config, args),
    }
}

/// `herald queue | head`: when the reader of stdout goes away, end quietly
/// like other command-line tools (exit status 141, as a shell reports
/// SIGPIPE), not with a panic and a backtrace. The signal itself stays
/// ignored (Rust's default): the daemon must never die of a client that hung
/// up. Any other panic is reported as before.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info)
    }));
}

/// Prints an error for a person and returns the exit code.
pub(crate) fn fail(code: u8, err: &anyhow::Error) -> ExitCode {
    eprintln!("herald: {err:#}");
    ExitCode::from(code)
}
