//! `herald accounts [ID]`: the registry — who runs each account and how to
//! reach them — and which accounts have nobody reachable listed.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::ask::{inspect, rows_of, text};
use super::status::render_table;
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct AccountsArgs {
    /// One account's full entry.
    pub id: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// The registry fields the table shows, with their headings.
const COLUMNS: [(&str, &str); 8] = [
    ("id", "ACCOUNT"),
    ("platform", "PLATFORM"),
    ("handle", "HANDLE"),
    ("owner", "OWNER"),
    ("backup", "BACKUP"),
    ("contact", "CONTACT"),
    ("department", "DEPARTMENT"),
    ("time_zone", "ZONE"),
];

/// One account's full entry, in this order.
const ENTRY: [&str; 14] = [
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
    "attested",
    "folder",
];

pub fn run(config_path: &Path, args: AccountsArgs) -> ExitCode {
    let one = args.id.is_some();
    inspect(
        config_path,
        args.json,
        |_| Ok(Request::Accounts { id: args.id }),
        |v| show(v, one),
    )
}

fn show(v: &Value, one: bool) {
    let accounts = &v["accounts"];
    if one {
        for a in accounts.as_array().into_iter().flatten() {
            for key in ENTRY {
                // Only with the attestation gate on, or a date on record.
                if key == "attested" && a[key].is_null() && a["attestation"].is_null() {
                    continue;
                }
                let value = match &a[key] {
                    Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
                    other => text(other),
                };
                println!("{:<12} {value}", format!("{key}:"));
            }
        }
    } else {
        let headings = COLUMNS.map(|(_, heading)| heading);
        let table = rows_of(&headings, accounts, |a| {
            COLUMNS.iter().map(|(key, _)| text(&a[*key])).collect()
        });
        print!("{}", render_table(&table));
    }
    for a in accounts
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["reachable"] == false)
    {
        let problems: Vec<String> = a["problems"].as_array().into_iter().flatten().map(text).collect();
        println!("UNREACHABLE OWNER: {}: {}", text(&a["id"]), problems.join("; "));
    }
    for a in accounts.as_array().into_iter().flatten() {
        if let Some(line) = attestation_line(&a["attestation"]) {
            println!("ATTESTATION {}: {line}", text(&a["id"]));
        }
    }
}

/// What `herald accounts` says of an owner who is due (nothing when current).
fn attestation_line(v: &Value) -> Option<String> {
    let through = text(&v["good_through"]);
    Some(match v["state"].as_str()? {
        "due-soon" => format!("due: good through {through} ({} days left)", text(&v["days_left"])),
        "lapsed" => format!("LAPSED after {through}: the account's posts are held until it is renewed"),
        "unrecorded" => {
            "NOT ON RECORD: the account's posts are held until the registry has a date (attested = \"YYYY-MM-DD\")"
                .to_string()
        }
        _ => return None,
    })
}
