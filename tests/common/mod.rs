//! The test harness: a temporary installation (config, queue folders, state)
//! driven in-process with a manual clock, so tests never sleep.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use herald::config::Config;
use herald::daemon::Daemon;
use herald::platform::Platform;
use herald::schedule::{Clock, ManualClock};
use herald::store::{Delivery, Store};

mod skip;
#[allow(unused_imports)] // each test binary uses only some of them
pub use skip::{running_as_root, skip, strict, STRICT_VAR};

pub const BASE_CONFIG: &str = r#"
[daemon]
queue_dir = "queue"
state_dir = "state"
baseline = "company"

[defaults]
max_lateness = "15m"

[platforms.sandbox]
max_length = 140

[rulebooks.company.rules.length]
severity = "block"

[rulebooks.company.rules.confidential-marker]
severity = "block"
terms = ["社外秘", "極秘", "Confidential", "Internal Use Only"]

[rulebooks.company.rules.financial-topic]
severity = "hold"
terms = ["業績", "上方修正", "earnings"]
"#;

/// One sandbox account in Tokyo, the account most tests use.
pub const TOKYO: &str = r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
time_zone = "Asia/Tokyo"
"#;

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub clock: ManualClock,
}

impl Env {
    /// An installation with the base config plus `accounts` (TOML), whose
    /// ids get queue folders.
    pub fn new(accounts: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = format!("{BASE_CONFIG}\n{accounts}");
        for line in text.lines() {
            if let Some(id) = line.trim().strip_prefix("id = \"").and_then(|r| r.strip_suffix('"')) {
                std::fs::create_dir_all(dir.path().join("queue").join(id)).unwrap();
            }
        }
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, &text).unwrap();
        let config = herald::config::load(&path).unwrap_or_else(|e| panic!("test config: {e}"));
        Env {
            dir,
            config,
            clock: ManualClock::new(utc("2026-12-01T00:00:00Z")),
        }
    }

    pub fn folder(&self, account: &str) -> PathBuf {
        self.config.daemon.queue_dir.join(account)
    }

    pub fn path(&self, account: &str, rel: &str) -> PathBuf {
        self.folder(account).join(rel)
    }

    /// Drops a complete post file: written under a dotfile name (which
    /// herald ignores), dated back past the settle time, then renamed into
    /// place, so that a running daemon never sees it half-written — not even
    /// when the test's wall clock is shifted (`.ci/shifted-dates`) and the
    /// file system's own times make every new file look long settled.
    pub fn drop_post(&self, account: &str, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(account, name);
        let partial = self.path(account, &format!(".{name}.dropping"));
        std::fs::write(&partial, content).unwrap();
        settle(&partial);
        std::fs::rename(&partial, &path).unwrap();
        path
    }

    /// Opens the daemon, waiting (bounded) while a store a previous daemon of
    /// this test just dropped is still locked by sled's background thread.
    pub fn daemon(&self) -> Daemon {
        for _ in 0..400 {
            match Daemon::open(self.config.clone(), Arc::new(self.clock.clone())) {
                Ok(d) => return d,
                Err(e) if matches!(e.downcast_ref(), Some(herald::store::StoreError::Locked { .. })) => {
                    std::thread::sleep(Duration::from_millis(25))
                }
                Err(e) => panic!("daemon opens: {e:#}"),
            }
        }
        panic!("the store stayed locked");
    }

    pub fn daemon_with(&self, account: &str, platform: Arc<dyn Platform>) -> Daemon {
        self.daemon().with_platform(account, platform)
    }

    /// Sets the clock and runs the daemon once (`herald run --once`).
    pub async fn run_at(&self, t: DateTime<Utc>) -> herald::daemon::Summary {
        self.clock.set(t);
        self.daemon().run_once().await.expect("run once")
    }

    pub fn outbox(&self, account: &str) -> Vec<serde_json::Value> {
        herald::platform::sandbox::read_outbox(&herald::platform::sandbox::outbox_path(
            &self.config.daemon.state_dir,
            account,
        ))
        .unwrap()
    }

    /// Every delivery (opens the store: only while no daemon runs).
    pub fn deliveries(&self) -> Vec<Delivery> {
        let store = self.store();
        let mut d = store.deliveries().unwrap();
        d.sort_by_key(|d| (d.account.clone(), d.due, d.id.clone()));
        d
    }

    /// Opens the store (only while no daemon runs), waiting (bounded) while a
    /// daemon this test just dropped still holds it through sled's
    /// background thread.
    pub fn store(&self) -> Store {
        for _ in 0..400 {
            match Store::open(&self.config.store_path()) {
                Ok(s) => return s,
                Err(herald::store::StoreError::Locked { .. }) => std::thread::sleep(Duration::from_millis(25)),
                Err(e) => panic!("store: {e}"),
            }
        }
        panic!("the store stayed locked");
    }

    pub fn delivery_of(&self, file: &str) -> Vec<Delivery> {
        self.deliveries().into_iter().filter(|d| d.file == file).collect()
    }

    /// The instant the earliest scheduled delivery is due.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.state == herald::store::State::Scheduled)
            .map(|d| d.due)
            .min()
    }

    /// Runs the `herald` binary: `herald SUBCOMMAND --config <this config>
    /// ARGS`; returns the exit code, stdout and stderr.
    pub fn run_cli(&self, subcommand: &str, args: &[&str]) -> (i32, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg(subcommand)
            .arg("--config")
            .arg(&self.config.path)
            .args(args)
            // The test's clock, not today's date (see admin_harness::herald_cmd).
            .env(herald::schedule::clock::NOW_VAR, self.clock.now().to_rfc3339())
            .output()
            .expect("herald runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    pub fn read(&self, account: &str, rel: &str) -> String {
        std::fs::read_to_string(self.path(account, rel)).unwrap_or_else(|e| panic!("reading {account}/{rel}: {e}"))
    }
}

/// Dates a file back so it counts as completely written. Against the wall
/// clock, not the test's: herald compares a file's modification time (which
/// the file system takes from the wall clock) with the wall clock.
pub fn settle(path: &Path) {
    let past = filetime::FileTime::from_system_time(SystemTime::now() - Duration::from_secs(60));
    filetime::set_file_mtime(path, past).unwrap();
}

/// The instants at which an outbox's posts were published, from their deliveries.
pub fn published_at(env: &Env, account: &str) -> Vec<DateTime<Utc>> {
    let mut v: Vec<_> = env
        .deliveries()
        .into_iter()
        .filter(|d| d.account == account && d.state == herald::store::State::Published)
        .filter_map(|d| d.published.map(|p| p.at))
        .collect();
    v.sort();
    v
}

/// Waits (bounded) until `cond` holds, for what a daemon running in the
/// background does; panics naming `what` if it never does.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A daemon running in the background (`Daemon::run`) until [`Running::stop`].
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub fn start(daemon: Daemon) -> Running {
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(daemon.run(async {
            let _ = rx.await;
        }));
        Running {
            stop: Some(stop),
            handle,
        }
    }

    /// Stops it and waits until it has finished.
    pub async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.handle
            .await
            .expect("the daemon task")
            .expect("the daemon stops cleanly");
    }
}
