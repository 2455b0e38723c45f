//! `herald queue`: the pending deliveries in time order, each in its
//! account's zone, with the verdict and what (if anything) stops it.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, human, load, parse_time, print_json, text, zone};
use super::status::render_table;
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
    let config = match load(config_path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let tz = zone(&config, args.account.as_deref());
    let parse = |t: &Option<String>| t.as_deref().map(|t| parse_time(t, tz)).transpose();
    let (from, to) = match (parse(&args.from), parse(&args.to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let request = Request::Queue {
        account: args.account,
        from,
        to,
    };
    let (v, _) = match ask(&config, request) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        print_json(&v);
        return ExitCode::SUCCESS;
    }
    let mut table = vec![
        ["DUE", "ACCOUNT", "DELIVERY", "STATE", "VERDICT", "KIND", "FILE", "NOTE"]
            .map(String::from)
            .to_vec(),
    ];
    for d in v["deliveries"].as_array().into_iter().flatten() {
        let note = match (&d["stopped_by"], &d["reason"]) {
            (serde_json::Value::String(s), _) => format!("waits: {s}"),
            (_, r) if !r.is_null() => text(r),
            _ => String::new(),
        };
        table.push(vec![
            human(&d["due"]),
            text(&d["account"]),
            text(&d["id"]),
            text(&d["state"]),
            text(&d["verdict"]),
            text(&d["kind"]),
            text(&d["file"]),
            note,
        ]);
    }
    if table.len() == 1 {
        println!("nothing pending");
    } else {
        print!("{}", render_table(&table));
    }
    ExitCode::SUCCESS
}
