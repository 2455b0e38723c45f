//! `herald pause|resume ACCOUNT`, `herald freeze|thaw`, `herald
//! disaster-hold declare|lift`: the stops. Each survives restarts and a
//! lost store (markers in the state folder).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask_in_emergency, print_json, stop_line, text};
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct PauseArgs {
    pub account: String,
    /// Why (shown in status and kept in the audit log).
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ResumeArgs {
    pub account: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct FreezeArgs {
    /// Why (shown in status and kept in the audit log).
    #[arg(long)]
    pub reason: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ThawArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum DisasterHoldCommand {
    /// Declare a disaster: the guideline checks hold posts that would be out of place.
    Declare {
        #[arg(long)]
        reason: String,
        /// For one account only (default: every account).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Lift the disaster hold.
    Lift {
        /// One account's hold (default: the company-wide hold).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct DisasterHoldArgs {
    #[command(subcommand)]
    pub command: DisasterHoldCommand,
}

/// Stops must work in an incident even when the config file on disk does
/// not load: see [`ask_in_emergency`].
fn send(config_path: &Path, request: Request) -> Result<serde_json::Value, ExitCode> {
    ask_in_emergency(config_path, request).map(|(v, _)| v)
}

pub fn pause(config_path: &Path, args: PauseArgs) -> ExitCode {
    let v = match send(
        config_path,
        Request::Pause {
            account: args.account,
            reason: args.reason,
        },
    ) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if args.json {
        print_json(&v);
    } else if v["already"] == true {
        println!("{} was already paused: {}", text(&v["account"]), stop_line(&v["pause"]));
    } else {
        println!(
            "paused {}: it publishes nothing until herald resume {}",
            text(&v["account"]),
            text(&v["account"])
        );
        if v["in_flight"] == true {
            println!(
                "one request was already in flight and will finish; look with herald queue --account {}",
                text(&v["account"])
            );
        }
    }
    ExitCode::SUCCESS
}

fn release_summary(v: &serde_json::Value) -> String {
    format!(
        "{} due meanwhile and still on time will publish now; {} later than their max lateness are held for review (herald queue, herald approve); {} missed occurrences of recurring posts are skipped",
        v["publish"], v["held"], v["expired"]
    )
}

pub fn resume(config_path: &Path, args: ResumeArgs) -> ExitCode {
    let v = match send(config_path, Request::Resume { account: args.account }) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if args.json {
        print_json(&v);
    } else if v["was_paused"] == false {
        println!("{} was not paused", text(&v["account"]));
    } else {
        println!("resumed {}: {}", text(&v["account"]), release_summary(&v));
    }
    ExitCode::SUCCESS
}

pub fn freeze(config_path: &Path, args: FreezeArgs) -> ExitCode {
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return super::fail(
                2,
                &anyhow::anyhow!("freeze stops publishing on every account; confirm with --yes when not at a terminal"),
            );
        }
        // The question names the accounts when the config loads; a broken
        // config file must not stand between an admin and the stop.
        let question = match crate::config::load(config_path) {
            Ok(config) => {
                let lane: Vec<&str> = config
                    .accounts
                    .values()
                    .filter(|a| a.emergency)
                    .map(|a| a.id.as_str())
                    .collect();
                format!(
                    "Freeze publishing on all {} accounts{}?",
                    config.accounts.len(),
                    if lane.is_empty() {
                        " (no account may send emergency posts)".to_string()
                    } else {
                        format!(" (emergency posts of {} still go out)", lane.join(", "))
                    }
                )
            }
            Err(_) => {
                "Freeze publishing on every account (the config file does not load; the running daemon is asked)?"
                    .to_string()
            }
        };
        print!("{question} [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("not frozen");
            return ExitCode::from(1);
        }
    }
    let v = match send(config_path, Request::Freeze { reason: args.reason }) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if args.json {
        print_json(&v);
    } else if v["already"] == true {
        println!("publishing was already frozen: {}", stop_line(&v["freeze"]));
    } else {
        let lane: Vec<String> = v["emergency_accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        println!("FROZEN: nothing is published until herald thaw");
        if !lane.is_empty() {
            println!(
                "emergency posts (kind: emergency) still go out from: {}",
                lane.join(", ")
            );
        }
        let in_flight: Vec<String> = v["in_flight"].as_array().into_iter().flatten().map(text).collect();
        if !in_flight.is_empty() {
            println!(
                "requests already in flight finish (accounts {}); look with herald queue",
                in_flight.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}

pub fn thaw(config_path: &Path, args: ThawArgs) -> ExitCode {
    let v = match send(config_path, Request::Thaw) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if args.json {
        print_json(&v);
    } else if v["was_frozen"] == false {
        println!("publishing was not frozen");
    } else {
        println!("thawed: {}", release_summary(&v));
    }
    ExitCode::SUCCESS
}

pub fn disaster_hold(config_path: &Path, args: DisasterHoldArgs) -> ExitCode {
    let (request, json) = match args.command {
        DisasterHoldCommand::Declare { reason, account, json } => (
            Request::DisasterHold {
                declare: Some(reason),
                account,
                source: None,
            },
            json,
        ),
        DisasterHoldCommand::Lift { account, json } => (
            Request::DisasterHold {
                declare: None,
                account,
                source: None,
            },
            json,
        ),
    };
    let v = match send(config_path, request) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if json {
        print_json(&v);
    } else if v["disaster_hold"].is_null() {
        println!(
            "{}",
            if v["was_declared"] == true {
                "disaster hold lifted"
            } else {
                "no disaster hold was declared"
            }
        );
    } else {
        println!("DISASTER HOLD declared: {}", stop_line(&v["disaster_hold"]));
    }
    ExitCode::SUCCESS
}
