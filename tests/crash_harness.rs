//! The crash harness: the real `herald` binary on several sandbox accounts,
//! killed with SIGKILL at random moments while it publishes, restarted, and
//! killed again; at the end every post is out exactly once (counted in the
//! sandbox outboxes, one line per publication), every file is in
//! `published/`, the store opens and the audit log verifies.
//!
//! Short mode runs in CI (60 posts, up to a dozen kills while posts are
//! still pending). The long mode
//! is `HERALD_CRASH_LONG=1 cargo test --release --test crash_harness --
//! --nocapture` (300 posts, threads among them, 100 kills); RELIABILITY.md
//! keeps its latest figures. Kill moments come from a seed printed at the
//! start (`HERALD_CRASH_SEED` repeats a run).

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;

const ACCOUNTS: &str = r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
time_zone = "Asia/Tokyo"

[[account]]
id = "osaka"
platform = "sandbox"
handle = "@osaka"
owner = "Taro"
time_zone = "Asia/Tokyo"

[[account]]
id = "berlin"
platform = "sandbox"
handle = "@berlin"
owner = "Anna"
time_zone = "Europe/Berlin"
"#;

/// A small deterministic generator (xorshift), so a seed repeats a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn herald(env: &Env) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
    c.args(["run", "--config"])
        .arg(&env.config.path)
        .env("HERALD_LOG", "error")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn killed_at_random_moments_herald_publishes_every_post_exactly_once() {
    let long = std::env::var_os("HERALD_CRASH_LONG").is_some();
    let (posts, kills) = if long { (300, 100) } else { (60, 12) };
    let seed = std::env::var("HERALD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()) * 2_654_435_761 + 1);
    eprintln!("crash harness: {posts} posts, {kills} kills, seed {seed}");
    let mut rng = Rng(seed);

    let env = Env::new(ACCOUNTS);
    let accounts = ["tokyo", "osaka", "berlin"];
    // One text per part, unique, so the outboxes count each publication.
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..posts {
        let account = accounts[n % accounts.len()];
        let body = if n % 5 == 0 {
            let parts = [format!("thread {n} part 1"), format!("thread {n} part 2")];
            for p in &parts {
                expected.insert(p.clone(), 0);
            }
            serde_json::json!({ "thread": parts }).to_string()
        } else {
            let text = format!("post {n}");
            expected.insert(text.clone(), 0);
            serde_json::json!({ "text": text }).to_string()
        };
        env.drop_post(account, &format!("p{n:03}.json"), body);
    }

    let pending = || {
        accounts
            .iter()
            .map(|a| {
                std::fs::read_dir(env.folder(a))
                    .unwrap()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .sum::<usize>()
    };
    let started = Instant::now();
    let mut during_work = 0;
    for _ in 0..kills {
        if pending() == 0 {
            break;
        }
        let mut child = herald(&env).spawn().expect("herald starts");
        std::thread::sleep(Duration::from_millis(20 + rng.next() % 300));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        during_work += 1;
    }
    // Then let it finish: run --once publishes what is left.
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["run", "--once", "--config"])
        .arg(&env.config.path)
        .env("HERALD_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut published_lines = 0;
    for account in accounts {
        for line in env.outbox(account) {
            published_lines += 1;
            for part in line["parts"].as_array().unwrap() {
                let text = part["text"].as_str().unwrap().to_string();
                *expected.entry(text).or_default() += 1;
            }
        }
    }
    let lost: Vec<&String> = expected.iter().filter(|(_, n)| **n == 0).map(|(t, _)| t).collect();
    let doubled: Vec<(&String, &usize)> = expected.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "crash harness: {during_work} kills while posts were pending, in {:.1} s; {published_lines} publications; lost {}, duplicated {}",
        started.elapsed().as_secs_f64(),
        lost.len(),
        doubled.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(doubled.is_empty(), "published twice: {doubled:?}");

    for (n, account) in (0..posts).map(|n| (n, accounts[n % accounts.len()])) {
        let name = format!("p{n:03}.json");
        assert!(
            env.path(account, &format!("published/{name}")).exists(),
            "{account}/{name} not in published/"
        );
        assert!(!env.path(account, &name).exists(), "{account}/{name} still pending");
    }
    let published = env
        .deliveries()
        .into_iter()
        .filter(|d| d.state == herald::store::State::Published)
        .count();
    assert_eq!(published, posts, "the store records every post as published");
    let audit = herald::audit::verify(&env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
    assert!(audit.ok, "{audit:?}");
}
