//! `herald queue`: the pending deliveries in time order, each in its
//! account's zone, with the verdict and what (if anything) stops it.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::ask::{human, inspect, parse_time, rows_of, text, zone};
use super::status::render_table;
use crate::config::Config;
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct QueueArgs {
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// From this time (RFC 3339, or local time in the account's zone, else UTC).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Up to this time.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: QueueArgs) -> ExitCode {
    let request = |config: &Config| {
        let tz = zone(config, args.account.as_deref());
        let parse = |t: &Option<String>| t.as_deref().map(|t| parse_time(t, tz)).transpose();
        Ok(Request::Queue {
            from: parse(&args.from)?,
            to: parse(&args.to)?,
            account: args.account,
        })
    };
    inspect(config_path, args.json, request, show)
}

fn show(v: &Value) {
    let headings = ["DUE", "ACCOUNT", "DELIVERY", "STATE", "VERDICT", "KIND", "FILE", "NOTE"];
    let table = rows_of(&headings, &v["deliveries"], |d| {
        let note = match (&d["stopped_by"], &d["reason"]) {
            (Value::String(s), _) => format!("waits: {s}"),
            (_, r) if !r.is_null() => text(r),
            _ => String::new(),
        };
        vec![
            human(&d["due"]),
            text(&d["account"]),
            text(&d["id"]),
            text(&d["state"]),
            text(&d["verdict"]),
            text(&d["kind"]),
            text(&d["file"]),
            note,
        ]
    });
    if table.len() == 1 {
        println!("nothing pending");
    } else {
        print!("{}", render_table(&table));
    }
}
