//! The long-running daemon: it wakes on file events and on due instants
//! (from the injected clock, never polling), and stops cleanly.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::TimeDelta;
use common::{utc, Env, TOKYO};

/// Waits (in real time, bounded) until `cond` holds; the daemon works in
/// background tasks, so the test has to look again.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1600 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_wakes_on_new_files_and_on_due_instants_then_stops() {
    let env = Env::new(TOKYO);
    env.clock.set(utc("2026-12-01T00:00:00Z"));
    let daemon = env.daemon();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(daemon.run(async {
        let _ = stop_rx.await;
    }));

    // A new file wakes it (file event): an ASAP post goes out.
    env.drop_post("tokyo", "now.json", r#"{"text": "すぐに"}"#);
    eventually("the ASAP post is published", || {
        env.path("tokyo", "published/now.json").exists()
    })
    .await;

    // A scheduled post waits for the clock, which the test moves.
    env.drop_post("tokyo", "later.json", r#"{"text": "後で", "at": "2026-12-01 10:00"}"#);
    eventually("the scheduled post is noted", || {
        env.path("tokyo", "later.json.herald.txt").exists()
    })
    .await;
    assert!(env.path("tokyo", "later.json").exists());
    env.clock.advance(TimeDelta::hours(1));
    eventually("the scheduled post is published", || {
        env.path("tokyo", "published/later.json").exists()
    })
    .await;

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
    assert_eq!(env.outbox("tokyo").len(), 2);
}

#[test]
fn sigterm_stops_the_daemon_with_exit_code_0() {
    let env = Env::new(TOKYO);
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["run", "--config"])
        .arg(&env.config.path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it runs (it logs "herald is running"), bounded.
    let log = env.config.store_path();
    for _ in 0..200 {
        if log.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id() as i32;
    assert_eq!(send_sigterm(pid), 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// Sends SIGTERM with the `kill` command (no libc dependency for one call).
fn send_sigterm(pid: i32) -> i32 {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| s.code().unwrap_or(1))
        .unwrap_or(1)
}

#[test]
fn status_shows_counts_per_state_and_the_next_due_time() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "a.json", r#"{"text": "今すぐ"}"#);
    // The real binary runs on the wall clock: a month from today, whatever today is.
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(30))
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d")
        .to_string();
    env.drop_post(
        "tokyo",
        "b.json",
        format!(r#"{{"text": "来月", "at": "{later} 09:00"}}"#),
    );
    env.drop_post("tokyo", "c.json", r#"{"text": "極秘"}"#);
    let run = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["run", "--once", "--config"])
        .arg(&env.config.path)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["status", "--json", "--config"])
        .arg(&env.config.path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tokyo = &v["accounts"][0];
    assert_eq!(tokyo["id"], "tokyo");
    assert_eq!(tokyo["owner"], "Hanako");
    assert_eq!(tokyo["counts"]["published"], 1);
    assert_eq!(tokyo["counts"]["scheduled"], 1);
    assert_eq!(tokyo["counts"]["rejected"], 1);
    assert_eq!(tokyo["next_due"], format!("{later}T09:00:00+09:00"));
    let human = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["status", "--config"])
        .arg(&env.config.path)
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains(&format!("{later} 09:00 +09:00")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("tokyo ")), "{text}");
}
