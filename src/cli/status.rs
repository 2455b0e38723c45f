//! `herald status`: is the daemon up, is publishing frozen, and per account
//! its owner, platform, stops, deliveries per state and the next due time.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask_in_emergency, human, print_json, stop_line, text};
use crate::control::Request;
use crate::store::State;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON (stable shape, documented in docs/admin.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: StatusArgs) -> ExitCode {
    // Status works in an incident even when the config file does not load.
    match ask_in_emergency(config_path, Request::Status) {
        Ok((v, _)) if args.json => print_json(&v),
        Ok((v, _)) => show(&v),
        Err(code) => return code,
    }
    ExitCode::SUCCESS
}

fn show(v: &serde_json::Value) {
    let d = &v["daemon"];
    if d["running"] == true {
        println!(
            "daemon: running, pid {}, up {}, herald {}, config {}",
            d["pid"],
            humantime::format_duration(std::time::Duration::from_secs(d["uptime_secs"].as_u64().unwrap_or(0))),
            text(&d["version"]),
            text(&v["config"])
        );
    } else {
        println!(
            "daemon: not running (read from the store at {}; config {})",
            text(&v["store"]),
            text(&v["config"])
        );
    }
    match &v["frozen"] {
        serde_json::Value::Null => println!("publishing: not frozen"),
        f => println!(
            "publishing: FROZEN: {} (only emergency posts of emergency accounts go out)",
            stop_line(f)
        ),
    }
    if !v["disaster_hold"].is_null() {
        println!("disaster hold: DECLARED: {}", stop_line(&v["disaster_hold"]));
    }
    for (id, hold) in v["disaster_holds"].as_object().into_iter().flatten() {
        println!("disaster hold for {id}: DECLARED: {}", stop_line(hold));
    }
    if let Some(line) = spend_line(&v["x_spend"]) {
        println!("{line}");
    }
    println!();
    let states: Vec<State> = State::ALL.to_vec();
    let mut table = vec![["ACCOUNT", "PLATFORM", "OWNER", "PAUSED"].map(String::from).to_vec()];
    table[0].extend(states.iter().map(|s| s.name().to_uppercase()));
    table[0].push("NEXT DUE".into());
    let mut notes = Vec::new();
    for a in v["accounts"].as_array().into_iter().flatten() {
        let paused = if a["paused"] == true { "yes" } else { "no" };
        let mut row = vec![text(&a["id"]), text(&a["platform"]), text(&a["owner"]), paused.into()];
        row.extend(
            states
                .iter()
                .map(|s| a["counts"][s.name()].as_u64().unwrap_or(0).to_string()),
        );
        row.push(human(&a["next_due"]));
        table.push(row);
        if a["paused"] == true {
            notes.push(format!("{} is paused: {}", text(&a["id"]), stop_line(&a["pause"])));
        }
        if a["needs_reauth"] == true {
            notes.push(format!(
                "{} needs re-authorization: its posts are held until its credentials work again{}",
                text(&a["id"]),
                a["reauth_reason"]
                    .as_str()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
        }
    }
    print!("{}", render_table(&table));
    for n in notes {
        println!("{n}");
    }
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
    // One cell, one line: a line feed in a file name must not forge a row.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| crate::terminal::safe_line(c).into_owned()).collect())
        .collect();
    let mut out = String::new();
    for row in &rows {
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

/// The month's spend on X, with the budgets: "X spend 2026-12: $1.230 of
/// $50.00 (tokyo $0.215 of $10.00, …)"; nothing when no X account spent.
fn spend_line(v: &serde_json::Value) -> Option<String> {
    let accounts = v["accounts"].as_object()?;
    if accounts.is_empty() && v["budget_usd"].is_null() {
        return None;
    }
    let of = |budget: &serde_json::Value| budget.as_f64().map(|b| format!(" of ${b:.2}")).unwrap_or_default();
    let each: Vec<String> = accounts
        .iter()
        .map(|(id, a)| format!("{id} ${:.3}{}", a["usd"].as_f64().unwrap_or(0.0), of(&a["budget_usd"])))
        .collect();
    Some(format!(
        "X spend {}: ${:.3}{} ({})",
        text(&v["month"]),
        v["total_usd"].as_f64().unwrap_or(0.0),
        of(&v["budget_usd"]),
        each.join(", ")
    ))
}
