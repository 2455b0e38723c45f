//! `herald audit [--since T] [--verify]`: the audit log, for people or as
//! JSON lines for an archive; `--verify` checks its hash chain.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, load, parse_time, text, utc_second};
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Since this time (RFC 3339, local time in UTC, or a duration like 24h meaning that long ago).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Check the hash chain; exit 1 if a line was changed, inserted or removed.
    #[arg(long)]
    pub verify: bool,
    /// Print the entries as JSON lines (the log's own format), for archive systems.
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: AuditArgs) -> ExitCode {
    let config = match load(config_path) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let since = match args.since.as_deref().map(|t| parse_time(t, chrono_tz::UTC)).transpose() {
        Ok(s) => s,
        Err(c) => return c,
    };
    let (v, _) = match ask(
        &config,
        Request::Audit {
            since,
            verify: args.verify,
        },
    ) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let entries = v["entries"].as_array().cloned().unwrap_or_default();
    if args.verify {
        let ver = &v["verification"];
        if args.json {
            println!("{ver}");
        } else if ver["ok"] == true {
            println!("audit log intact: {} lines; head {}", ver["lines"], text(&ver["head"]));
            if let Some(n) = ver["torn_tail"].as_u64() {
                println!(
                    "its last line ({n} bytes) was cut off while being written — a crash or a full disk, not tampering; herald moves it to audit.jsonl.torn and records that at its next write"
                );
            }
        } else {
            println!("AUDIT LOG TAMPERED: {}", text(&ver["problem"]));
        }
        return if ver["ok"] == true {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    for e in &entries {
        if args.json {
            println!("{e}");
            continue;
        }
        let actor = match &e["actor"] {
            serde_json::Value::String(s) => s.clone(),
            a => format!("{} (uid {})", text(&a["name"]), a["uid"]),
        };
        let subject = [&e["account"], &e["delivery"]]
            .iter()
            .filter(|x| !x.is_null())
            .map(|x| text(x))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:>5}  {}  {:<20} {:<18} {subject}  {}",
            e["seq"],
            utc_second(&e["at"]),
            text(&e["event"]),
            actor,
            if e["detail"].is_null() {
                String::new()
            } else {
                e["detail"].to_string()
            }
        );
    }
    ExitCode::SUCCESS
}
