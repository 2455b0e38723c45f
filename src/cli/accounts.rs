//! `herald accounts [ID]`: the registry — who runs each account and how to
//! reach them — and which accounts have nobody reachable listed.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, load, print_json, text};
use super::status::render_table;
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct AccountsArgs {
    /// One account's full entry.
    pub id: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: AccountsArgs) -> ExitCode {
    let config = match load(config_path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let one = args.id.is_some();
    let (v, _) = match ask(&config, Request::Accounts { id: args.id }) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        print_json(&v);
        return ExitCode::SUCCESS;
    }
    let accounts = v["accounts"].as_array().cloned().unwrap_or_default();
    if one {
        for a in &accounts {
            for key in [
                "id",
                "platform",
                "handle",
                "owner",
                "backup",
                "contact",
                "department",
                "purpose",
                "time_zone",
                "rulebooks",
                "emergency",
                "max_lateness",
                "folder",
            ] {
                let value = match &a[key] {
                    serde_json::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
                    other => text(other),
                };
                println!("{:<12} {value}", format!("{key}:"));
            }
        }
    } else {
        let mut table = vec![[
            "ACCOUNT",
            "PLATFORM",
            "HANDLE",
            "OWNER",
            "BACKUP",
            "CONTACT",
            "DEPARTMENT",
            "ZONE",
        ]
        .map(String::from)
        .to_vec()];
        for a in &accounts {
            table.push(
                [
                    "id",
                    "platform",
                    "handle",
                    "owner",
                    "backup",
                    "contact",
                    "department",
                    "time_zone",
                ]
                .iter()
                .map(|k| text(&a[*k]))
                .collect(),
            );
        }
        print!("{}", render_table(&table));
    }
    for a in accounts.iter().filter(|a| a["reachable"] == false) {
        let problems: Vec<String> = a["problems"].as_array().into_iter().flatten().map(text).collect();
        println!("UNREACHABLE OWNER: {}: {}", text(&a["id"]), problems.join("; "));
    }
    ExitCode::SUCCESS
}
