//! Stops: a paused account, a frozen daemon, a declared disaster hold. Each
//! is a marker file in `<state_dir>/stops/`, outside the store, so that it
//! survives restarts, reloads and a lost store (DESIGN.md invariant 3). A
//! marker is written to a temporary file, fsynced and renamed, and the folder
//! fsynced, so that a stop that was acknowledged is on disk.
//!
//! ```text
//! <state_dir>/stops/frozen.json
//! <state_dir>/stops/disaster-hold.json
//! <state_dir>/stops/disaster-hold/<account>.json   (a hold for one account)
//! <state_dir>/stops/paused/<account>.json
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::config::Account;
use crate::queue::Kind;
use crate::store::Delivery;

/// Who stopped what, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    pub reason: String,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

fn folder(state_dir: &Path) -> PathBuf {
    state_dir.join("stops")
}

pub fn frozen_path(state_dir: &Path) -> PathBuf {
    folder(state_dir).join("frozen.json")
}

pub fn disaster_hold_path(state_dir: &Path) -> PathBuf {
    folder(state_dir).join("disaster-hold.json")
}

/// The marker of a disaster hold for one account (`None`: for all).
pub fn disaster_hold_path_for(state_dir: &Path, account: Option<&str>) -> PathBuf {
    match account {
        Some(a) => folder(state_dir).join("disaster-hold").join(format!("{a}.json")),
        None => disaster_hold_path(state_dir),
    }
}

pub fn paused_path(state_dir: &Path, account: &str) -> PathBuf {
    folder(state_dir).join("paused").join(format!("{account}.json"))
}

/// A marker's stop, if set (an unreadable marker counts as set).
pub fn read_marker(path: &Path) -> Option<Stop> {
    read(path)
}

fn read(path: &Path) -> Option<Stop> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            // Unreadable is treated as stopped: a stop must never be lost.
            tracing::error!(file = %path.display(), "cannot read a stop marker ({e}); treating it as set");
            return Some(unreadable(path, &e.to_string()));
        }
    };
    Some(serde_json::from_slice(&text).unwrap_or_else(|e| unreadable(path, &e.to_string())))
}

fn unreadable(path: &Path, why: &str) -> Stop {
    Stop {
        reason: format!("the marker {} exists but cannot be read ({why})", path.display()),
        by: Actor::daemon(),
        at: DateTime::<Utc>::MIN_UTC,
    }
}

/// Sets a stop durably.
pub fn set(path: &Path, stop: &Stop) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let bytes = serde_json::to_vec_pretty(stop).map_err(std::io::Error::other)?;
    crate::queue::write_atomically(path, &bytes)
}

/// Lifts a stop durably. Returns whether it was set.
pub fn lift(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            crate::queue::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn frozen(state_dir: &Path) -> Option<Stop> {
    read(&frozen_path(state_dir))
}

pub fn paused(state_dir: &Path, account: &str) -> Option<Stop> {
    read(&paused_path(state_dir, account))
}

/// Whether a disaster hold is declared, and by whom and why. The guideline
/// checks read it (as `Draft::disaster_hold`) to hold posts that would be
/// tone-deaf during a disaster; unlike a freeze, it stops nothing by itself.
pub fn disaster_hold(state_dir: &Path) -> Option<Stop> {
    read(&disaster_hold_path(state_dir))
}

/// The disaster holds in force: the company-wide one and those declared
/// for single accounts (the disaster feed can raise either), read once per
/// ingest pass.
#[derive(Debug, Clone, Default)]
pub struct DisasterHolds {
    pub all: Option<Stop>,
    pub accounts: std::collections::BTreeMap<String, Stop>,
}

impl DisasterHolds {
    pub fn read(state_dir: &Path) -> DisasterHolds {
        let dir = folder(state_dir).join("disaster-hold");
        let accounts = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(String::from))
                .filter_map(|id| read(&dir.join(format!("{id}.json"))).map(|s| (id, s)))
                .collect(),
            Err(_) => Default::default(),
        };
        DisasterHolds {
            all: disaster_hold(state_dir),
            accounts,
        }
    }

    /// Whether a disaster hold applies to this account.
    pub fn applies(&self, account: &str) -> bool {
        self.all.is_some() || self.accounts.contains_key(account)
    }

    /// The hold that applies to `account`, if any (the company-wide first).
    pub fn for_account(&self, account: &str) -> Option<&Stop> {
        self.all.as_ref().or_else(|| self.accounts.get(account))
    }
}

/// The stops in force, read once per scheduler pass.
#[derive(Debug, Clone, Default)]
pub struct Stops {
    pub frozen: Option<Stop>,
    pub paused: std::collections::BTreeMap<String, Stop>,
}

impl Stops {
    /// Reads the markers: one listing of the paused folder, however many
    /// accounts there are.
    pub fn read<'a>(state_dir: &Path, accounts: impl IntoIterator<Item = &'a Account>) -> Stops {
        let dir = folder(state_dir).join("paused");
        let listed: std::collections::BTreeSet<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(String::from))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            // Cannot list: look at each account's marker (unreadable counts as set).
            Err(_) => accounts.into_iter().map(|a| a.id.clone()).collect(),
        };
        Stops {
            frozen: frozen(state_dir),
            paused: listed
                .into_iter()
                .filter_map(|id| paused(state_dir, &id).map(|s| (id, s)))
                .collect(),
        }
    }

    /// Whether a stop keeps this delivery from publishing now. A paused
    /// account publishes nothing; a freeze lets through only `emergency`
    /// posts of accounts allowed to send them.
    pub fn blocks(&self, d: &Delivery, account: &Account) -> bool {
        self.blocks_kind(d.kind, account)
    }

    /// [`Stops::blocks`] for a delivery of this kind.
    pub fn blocks_kind(&self, kind: Kind, account: &Account) -> bool {
        if self.paused.contains_key(&account.id) {
            return true;
        }
        self.frozen.is_some() && !(kind == Kind::Emergency && account.emergency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::State;

    fn setup() -> (tempfile::TempDir, crate::config::Config) {
        let dir = tempfile::tempdir().unwrap();
        for id in ["plain", "lane"] {
            std::fs::create_dir_all(dir.path().join("queue").join(id)).unwrap();
        }
        let text = r#"
[daemon]
queue_dir = "queue"
state_dir = "state"
baseline = "company"
[rulebooks.company.rules.length]
severity = "block"
[[account]]
id = "plain"
platform = "sandbox"
handle = "@plain"
owner = "A"
[[account]]
id = "lane"
platform = "sandbox"
handle = "@lane"
owner = "B"
emergency = true
"#;
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, text).unwrap();
        let config = crate::config::parse(&path, text).unwrap();
        (dir, config)
    }

    fn delivery(account: &str, kind: Kind) -> Delivery {
        let now = Utc::now();
        Delivery {
            v: 1,
            id: "d1".into(),
            account: account.into(),
            file: "p.json".into(),
            content_hash: String::new(),
            occurrence: None,
            kind,
            max_lateness_secs: None,
            text: vec![],
            media: vec![],
            verdict: crate::guidelines::Verdict::Pass,
            findings: vec![],
            scheduled_for: now,
            due: now,
            state: State::Scheduled,
            reason: None,
            attempts: vec![],
            parts_done: vec![],
            unsure_since: None,
            released_at: None,
            published: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn stop() -> Stop {
        Stop {
            reason: "r".into(),
            by: Actor::daemon(),
            at: Utc::now(),
        }
    }

    #[test]
    fn a_freeze_lets_only_emergency_posts_of_emergency_accounts_through() {
        let (_dir, config) = setup();
        let state = &config.daemon.state_dir;
        set(&frozen_path(state), &stop()).unwrap();
        let stops = Stops::read(state, config.accounts.values());
        let (plain, lane) = (&config.accounts["plain"], &config.accounts["lane"]);
        assert!(!stops.blocks(&delivery("lane", Kind::Emergency), lane));
        assert!(stops.blocks(&delivery("lane", Kind::News), lane));
        assert!(stops.blocks(&delivery("plain", Kind::Emergency), plain));
        assert!(lift(&frozen_path(state)).unwrap());
        assert!(!lift(&frozen_path(state)).unwrap(), "lifting twice says it was not set");
        assert!(!Stops::read(state, config.accounts.values()).blocks(&delivery("plain", Kind::News), plain));
    }

    #[test]
    fn a_paused_account_is_silent_even_for_emergencies_and_an_unreadable_marker_counts() {
        let (_dir, config) = setup();
        let state = &config.daemon.state_dir;
        let lane = &config.accounts["lane"];
        set(&paused_path(state, "lane"), &stop()).unwrap();
        let stops = Stops::read(state, config.accounts.values());
        assert!(stops.blocks(&delivery("lane", Kind::Emergency), lane));
        assert!(!stops.paused.contains_key("plain"));

        std::fs::write(frozen_path(state), b"{ not json").unwrap();
        let frozen = frozen(state).expect("a damaged marker still stops");
        assert!(frozen.reason.contains("cannot be read"), "{}", frozen.reason);
    }
}
