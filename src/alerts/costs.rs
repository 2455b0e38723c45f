//! X's price before the post. X bills its API per request: a created post
//! with a URL costs more than one without, and reads of posts are billed
//! too — herald's own reconciliation reads the account's recent posts. The
//! price table lives in the config (`[costs]`), so it can follow X's
//! prices without a release; this module prices a post, keeps the month's
//! ledger (`<state_dir>/costs/x-YYYY-MM.json`, months in UTC) and says
//! whether a post would go over a budget.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::CostSettings;

/// What creating a post (each part of a thread is one create) costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PostCost {
    /// Creates without a URL.
    pub creates: u32,
    /// Creates whose text has a URL (as X detects them, t.co-wrapped).
    pub creates_with_url: u32,
    pub usd: f64,
}

/// Prices the parts of a post as X would bill their creation.
pub fn price<S: AsRef<str>>(costs: &CostSettings, parts: &[S]) -> PostCost {
    let mut c = PostCost {
        creates: 0,
        creates_with_url: 0,
        usd: 0.0,
    };
    for p in parts {
        if crate::platform::x::length::weighted_length(p.as_ref()).urls.is_empty() {
            c.creates += 1;
            c.usd += costs.x_create;
        } else {
            c.creates_with_url += 1;
            c.usd += costs.x_create_with_url;
        }
    }
    c
}

/// A post's price in words: "Cost on X: $0.215 (1 create with a URL at
/// $0.200, 1 without at $0.015)".
pub fn describe(costs: &CostSettings, c: &PostCost) -> String {
    let mut what = Vec::new();
    if c.creates_with_url > 0 {
        what.push(format!(
            "{} create(s) with a URL at ${:.3}",
            c.creates_with_url, costs.x_create_with_url
        ));
    }
    if c.creates > 0 {
        what.push(format!("{} without at ${:.3}", c.creates, costs.x_create));
    }
    format!("Cost on X: ${:.3} ({})", c.usd, what.join(", "))
}

/// One account's month on X.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountSpend {
    pub creates: u64,
    pub creates_with_url: u64,
    /// Posts read (reconciliation; counted at the most a read returns).
    pub reads: u64,
    pub usd: f64,
}

/// The month's ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// `2026-12`.
    pub month: String,
    pub accounts: BTreeMap<String, AccountSpend>,
}

impl Ledger {
    pub fn total(&self) -> f64 {
        self.accounts.values().map(|a| a.usd).sum()
    }

    pub fn of(&self, account: &str) -> f64 {
        self.accounts.get(account).map_or(0.0, |a| a.usd)
    }
}

pub fn month_of(now: DateTime<Utc>) -> String {
    now.format("%Y-%m").to_string()
}

pub fn ledger_path(state_dir: &Path, month: &str) -> PathBuf {
    state_dir.join("costs").join(format!("x-{month}.json"))
}

/// The ledger of the month `now` falls in (empty when nothing was spent).
pub fn read(state_dir: &Path, now: DateTime<Utc>) -> Ledger {
    let month = month_of(now);
    std::fs::read(ledger_path(state_dir, &month))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Ledger {
            month,
            accounts: BTreeMap::new(),
        })
}

/// Adds to an account's month, durably. Callers serialise (one writer: the
/// daemon's audit observer, under its lock).
pub fn add(
    state_dir: &Path,
    now: DateTime<Utc>,
    account: &str,
    change: impl FnOnce(&mut AccountSpend),
) -> std::io::Result<Ledger> {
    let mut ledger = read(state_dir, now);
    change(ledger.accounts.entry(account.to_string()).or_default());
    let path = ledger_path(state_dir, &ledger.month);
    std::fs::create_dir_all(path.parent().expect("in costs/"))?;
    let bytes = serde_json::to_vec_pretty(&ledger).map_err(std::io::Error::other)?;
    crate::queue::write_atomically(&path, &bytes)?;
    Ok(ledger)
}

/// Why a post of `cost` would go over a budget, if it would: the account's
/// (`monthly_budget` in its registry entry) or the company's (`[costs]
/// monthly_budget`).
pub fn over_budget(
    costs: &CostSettings,
    account_budget: Option<f64>,
    ledger: &Ledger,
    account: &str,
    cost: f64,
) -> Option<String> {
    let spent = ledger.of(account);
    if let Some(b) = account_budget.filter(|b| spent + cost > *b + 1e-9) {
        return Some(format!(
            "the month's budget for X of account {account} (${b:.2}) would be exceeded: ${spent:.3} spent in {}, this post costs ${cost:.3}",
            ledger.month
        ));
    }
    let total = ledger.total();
    if let Some(b) = costs.monthly_budget.filter(|b| total + cost > *b + 1e-9) {
        return Some(format!(
            "the company's month's budget for X (${b:.2}) would be exceeded: ${total:.3} spent in {} across accounts, this post costs ${cost:.3}",
            ledger.month
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_makes_a_create_cost_the_url_price() {
        let c = CostSettings::default();
        let p = price(&c, &["新商品です", "詳しくは https://example.com/new を"]);
        assert_eq!((p.creates, p.creates_with_url), (1, 1));
        assert!((p.usd - 0.215).abs() < 1e-9, "{}", p.usd);
        // X detects bare domains too.
        assert_eq!(price(&c, &["see example.com"]).creates_with_url, 1);
    }

    #[test]
    fn the_account_budget_then_the_company_budget() {
        let c = CostSettings {
            monthly_budget: Some(1.0),
            ..Default::default()
        };
        let mut ledger = Ledger {
            month: "2026-12".into(),
            ..Default::default()
        };
        ledger.accounts.insert(
            "a".into(),
            AccountSpend {
                usd: 0.5,
                ..Default::default()
            },
        );
        ledger.accounts.insert(
            "b".into(),
            AccountSpend {
                usd: 0.4,
                ..Default::default()
            },
        );
        assert!(over_budget(&c, Some(0.6), &ledger, "a", 0.015).is_none());
        assert!(over_budget(&c, Some(0.6), &ledger, "a", 0.2)
            .unwrap()
            .contains("account a"));
        assert!(over_budget(&c, None, &ledger, "b", 0.2).unwrap().contains("company"));
        assert!(
            over_budget(&c, None, &ledger, "b", 0.1).is_none(),
            "exactly at the budget is allowed"
        );
    }

    #[test]
    fn the_ledger_adds_up_per_month() {
        let dir = tempfile::tempdir().unwrap();
        let dec = DateTime::parse_from_rfc3339("2026-12-31T23:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let jan = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        add(dir.path(), dec, "a", |s| s.usd += 0.2).unwrap();
        add(dir.path(), dec, "a", |s| s.usd += 0.015).unwrap();
        assert!((read(dir.path(), dec).of("a") - 0.215).abs() < 1e-9);
        assert_eq!(read(dir.path(), jan).of("a"), 0.0, "a new month starts at zero");
    }
}
