//! `herald history`: past deliveries, newest first, a page at a time, with
//! the links of what was published.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::ask::{human, inspect, parse_time, rows_of, text, zone};
use super::status::render_table;
use crate::config::Config;
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Since this time (RFC 3339, local time, or a duration like 24h meaning that long ago).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only deliveries in this state (published, failed, rejected, cancelled, expired, retracted).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub page: usize,
    #[arg(long, default_value_t = 50)]
    pub per_page: usize,
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: HistoryArgs) -> ExitCode {
    let request = |config: &Config| {
        let since = args
            .since
            .as_deref()
            .map(|t| parse_time(t, zone(config, args.account.as_deref())))
            .transpose()?;
        Ok(Request::History {
            account: args.account,
            since,
            state: args.state,
            page: args.page,
            per_page: args.per_page,
        })
    };
    inspect(config_path, args.json, request, show)
}

fn show(v: &Value) {
    let headings = ["WHEN", "ACCOUNT", "DELIVERY", "STATE", "FILE", "LINK / REASON"];
    let table = rows_of(&headings, &v["deliveries"], |d| {
        let link = if d["url"].is_null() {
            text(&d["reason"])
        } else {
            text(&d["url"])
        };
        vec![
            human(&d["updated_at"]),
            text(&d["account"]),
            text(&d["id"]),
            text(&d["state"]),
            text(&d["file"]),
            link,
        ]
    });
    print!("{}", render_table(&table));
    println!(
        "page {} of {} ({} deliveries){}",
        v["page"],
        v["pages"],
        v["total"],
        match v["next_page"].as_u64() {
            Some(n) => format!("; next: --page {n}"),
            None => String::new(),
        }
    );
}
