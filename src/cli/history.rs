//! `herald history`: past deliveries, newest first, a page at a time, with
//! the links of what was published.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, human, load, parse_time, print_json, text, zone};
use super::status::render_table;
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
    let config = match load(config_path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let since = match args
        .since
        .as_deref()
        .map(|t| parse_time(t, zone(&config, args.account.as_deref())))
        .transpose()
    {
        Ok(s) => s,
        Err(code) => return code,
    };
    let request = Request::History {
        account: args.account,
        since,
        state: args.state,
        page: args.page,
        per_page: args.per_page,
    };
    let (v, _) = match ask(&config, request) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        print_json(&v);
        return ExitCode::SUCCESS;
    }
    let mut table = vec![["WHEN", "ACCOUNT", "DELIVERY", "STATE", "FILE", "LINK / REASON"]
        .map(String::from)
        .to_vec()];
    for d in v["deliveries"].as_array().into_iter().flatten() {
        let link = if d["url"].is_null() {
            text(&d["reason"])
        } else {
            text(&d["url"])
        };
        table.push(vec![
            human(&d["updated_at"]),
            text(&d["account"]),
            text(&d["id"]),
            text(&d["state"]),
            text(&d["file"]),
            link,
        ]);
    }
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
    ExitCode::SUCCESS
}
