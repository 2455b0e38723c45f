//! `herald rules`: every rule with its id, its default severity, the
//! severity in force for each account (after the baseline and the account's
//! rulebooks are merged; "off" when no rulebook the account follows lists
//! it), and where it is configured. Reads only the config.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::config::{Account, Config, Severity};
use crate::guidelines::catalog;

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// Show only this account's column.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// One JSON document: {"rules": [{id, builtin, default, drives, catches, guideline, configured, accounts}]}.
    #[arg(long)]
    pub json: bool,
}

/// A rule as the config uses it.
struct Listed {
    id: String,
    builtin: Option<&'static catalog::BuiltIn>,
    /// (rulebook, severity, line) for every rulebook that lists it.
    configured: Vec<(String, Severity, Option<usize>)>,
}

/// Built-in rules in catalog order, then custom rules by id.
fn listed(config: &Config) -> Vec<Listed> {
    let mut all: Vec<Listed> = catalog::BUILT_IN
        .iter()
        .map(|b| Listed {
            id: b.id.to_string(),
            builtin: Some(b),
            configured: Vec::new(),
        })
        .collect();
    for book in config.rulebooks.values() {
        for (id, settings) in &book.rules {
            let entry = match all.iter().position(|l| l.id == *id) {
                Some(i) => &mut all[i],
                None => {
                    all.push(Listed {
                        id: id.clone(),
                        builtin: None,
                        configured: Vec::new(),
                    });
                    all.last_mut().expect("just pushed")
                }
            };
            entry
                .configured
                .push((book.name.clone(), settings.severity, settings.origin.map(|p| p.line)));
        }
    }
    all
}

/// The severity in force for an account: the highest among the rulebooks it follows.
fn effective(config: &Config, account: &Account, id: &str) -> Option<Severity> {
    config
        .rulebooks_for(account)
        .filter_map(|b| b.rules.get(id).map(|r| r.severity))
        .max()
}

/// What a rule's cell says for an account: its severity, or "off"; a
/// settings section (quiet-period) has no severity: "on" or "off".
fn cell(config: &Config, account: &Account, rule: &Listed) -> &'static str {
    match (
        effective(config, account, &rule.id),
        rule.builtin.and_then(|b| b.drives),
    ) {
        (None, _) => "off",
        (Some(_), Some(_)) => "on",
        (Some(s), None) => s.name(),
    }
}

/// The default column: a severity, or "-" for custom rules and settings sections.
fn default_of(rule: &Listed) -> Option<&'static str> {
    rule.builtin.filter(|b| b.drives.is_none()).map(|b| b.default.name())
}

pub fn run(config_path: &Path, args: RulesArgs) -> ExitCode {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(e) => return super::fail(3, &e.into()),
    };
    let accounts: Vec<&Account> = match &args.account {
        Some(id) => match config.account(id) {
            Some(a) => vec![a],
            None => {
                return super::fail(
                    3,
                    &anyhow::anyhow!("there is no account \"{id}\" in {}.", config.path.display()),
                )
            }
        },
        None => config.accounts.values().collect(),
    };
    let rules = listed(&config);
    let file = config.path.display().to_string();
    if args.json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| {
                let per_account: serde_json::Map<String, serde_json::Value> = accounts
                    .iter()
                    .map(|a| (a.id.clone(), json!(cell(&config, a, r))))
                    .collect();
                json!({
                    "id": r.id,
                    "builtin": r.builtin.is_some(),
                    "default": default_of(r),
                    "drives": r.builtin.and_then(|b| b.drives),
                    "catches": r.builtin.map(|b| b.catches),
                    "guideline": r.builtin.map(|b| b.guideline_en),
                    "configured": r.configured.iter().map(|(book, sev, line)| json!({
                        "rulebook": book,
                        "severity": r.builtin.and_then(|b| b.drives).map_or(Some(sev.name()), |_| None),
                        "file": file, "line": line,
                        "baseline": *book == config.daemon.baseline,
                    })).collect::<Vec<_>>(),
                    "accounts": per_account,
                })
            })
            .collect();
        println!("{}", json!({ "baseline": config.daemon.baseline, "rules": list }));
        return ExitCode::SUCCESS;
    }
    let mut header = vec!["RULE".to_string(), "DEFAULT".to_string()];
    header.extend(accounts.iter().map(|a| a.id.to_uppercase()));
    header.push("CONFIGURED IN".to_string());
    let mut rows = vec![header];
    for r in &rules {
        let mut row = vec![r.id.clone(), default_of(r).unwrap_or("-").to_string()];
        row.extend(accounts.iter().map(|a| cell(&config, a, r).to_string()));
        let places: Vec<String> = r
            .configured
            .iter()
            .map(|(book, _, line)| match line {
                Some(l) => format!("{book} ({file}:{l})"),
                None => book.clone(),
            })
            .collect();
        row.push(if places.is_empty() {
            "-".into()
        } else {
            places.join(", ")
        });
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c + 1 == row.len() {
                    cell.clone()
                } else {
                    format!("{cell}{}", " ".repeat(widths[c] - cell.chars().count()))
                }
            })
            .collect();
        println!("{}", cells.join("  "));
    }
    for r in rules.iter().filter(|r| r.builtin.is_some_and(|b| b.drives.is_some())) {
        let driven = r.builtin.and_then(|b| b.drives).unwrap_or_default();
        println!(
            "\n{}: not a rule of its own; it sets the windows in which {driven} blocks",
            r.id
        );
    }
    println!("\nbaseline rulebook: {} (every account follows it; other rulebooks may raise its severities, never lower them)", config.daemon.baseline);
    ExitCode::SUCCESS
}
