//! `herald status`: accounts with their deliveries per state and the next
//! due time, read from the store (when no daemon holds it).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::store::{State, Store, StoreError};

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON (stable shape, documented in the README).
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: StatusArgs) -> ExitCode {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(e) => return super::fail(3, &e.into()),
    };
    let store = match Store::open(&config.store_path()) {
        Ok(s) => s,
        Err(e @ StoreError::Locked { .. }) => {
            return super::fail(
                1,
                &anyhow::anyhow!(
                    "{e} (status through the daemon's control socket is not available in this version yet)"
                ),
            )
        }
        Err(e) => return super::fail(1, &e.into()),
    };
    let deliveries = match store.deliveries() {
        Ok(d) => d,
        Err(e) => return super::fail(1, &e.into()),
    };
    let mut rows = Vec::new();
    for account in config.accounts.values() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut next = None;
        for d in deliveries.iter().filter(|d| d.account == account.id) {
            *counts.entry(d.state.name()).or_default() += 1;
            if d.state == State::Scheduled {
                next = Some(next.map_or(d.due, |n: chrono::DateTime<chrono::Utc>| n.min(d.due)));
            }
        }
        rows.push((account, counts, next));
    }
    if args.json {
        let accounts: Vec<_> = rows
            .iter()
            .map(|(a, counts, next)| {
                json!({
                    "id": a.id,
                    "platform": a.platform.name(),
                    "handle": a.handle,
                    "owner": a.owner,
                    "time_zone": a.time_zone.name(),
                    "paused": false,
                    "counts": counts,
                    "next_due": next.map(|t| crate::schedule::rfc3339_in(t, a.time_zone)),
                    "needs_reauth": crate::platform::needs_reauth(&config, a),
                })
            })
            .collect();
        println!(
            "{}",
            json!({ "daemon": "not running", "config": config.path, "accounts": accounts })
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "daemon: not running (read from the store at {})",
        config.store_path().display()
    );
    let states: Vec<State> = State::ALL.to_vec();
    let mut table = vec![["ACCOUNT", "PLATFORM", "OWNER", "PAUSED"].map(String::from).to_vec()];
    table[0].extend(states.iter().map(|s| s.name().to_uppercase()));
    table[0].push("NEXT DUE".into());
    for (a, counts, next) in &rows {
        let mut row = vec![a.id.clone(), a.platform.name().into(), a.owner.clone(), "no".into()];
        row.extend(
            states
                .iter()
                .map(|s| counts.get(s.name()).copied().unwrap_or(0).to_string()),
        );
        row.push(
            next.map(|t| crate::schedule::human_in(t, a.time_zone))
                .unwrap_or_else(|| "-".into()),
        );
        table.push(row);
    }
    print!("{}", render_table(&table));
    for (a, _, _) in &rows {
        if let Some(why) = crate::platform::needs_reauth(&config, a) {
            println!("{} needs re-authorization: {why}", a.id);
        }
    }
    ExitCode::SUCCESS
}

/// Aligns columns by character width (wide CJK characters count two).
pub(crate) fn render_table(rows: &[Vec<String>]) -> String {
    let width = |s: &str| {
        s.chars()
            .map(|c| if (c as u32) >= 0x1100 && !c.is_ascii() { 2 } else { 1 })
            .sum::<usize>()
    };
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - width(c))))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
