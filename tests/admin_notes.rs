//! The owners' notes while publishing is stopped: a post kept back by a
//! paused account or a freeze says so in plain words (who, why, what happens
//! when the stop is lifted) instead of "scheduled", and says "scheduled"
//! again once the stop is lifted — at once, with and without a daemon.

mod admin_harness;
mod common;

use admin_harness::{eventually, herald, start};
use common::{utc, Env};

const TWO: &str = r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
time_zone = "Asia/Tokyo"

[[account]]
id = "alert"
platform = "sandbox"
handle = "@alert"
owner = "Ops"
time_zone = "Asia/Tokyo"
emergency = true
"#;

fn note(env: &Env, account: &str, file: &str) -> String {
    env.read(account, &format!("{file}.herald.txt"))
}

/// Three pending posts: a one-shot, a recurring one and one held for review
/// on tokyo, and an emergency post on alert; none due yet.
async fn planned() -> Env {
    let env = Env::new(TWO);
    env.drop_post(
        "tokyo",
        "sale.json",
        r#"{"text": "冬のセール", "at": "2026-12-05 10:00"}"#,
    );
    env.drop_post(
        "tokyo",
        "daily.json",
        r#"{"text": "おはようございます", "cron": "0 9 * * *"}"#,
    );
    env.drop_post(
        "tokyo",
        "held.json",
        r#"{"text": "業績の話", "at": "2026-12-05 11:00"}"#,
    );
    env.drop_post(
        "alert",
        "drill.json",
        r#"{"text": "避難訓練のお知らせ", "kind": "emergency", "at": "2026-12-05 12:00"}"#,
    );
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    assert!(note(&env, "tokyo", "sale.json")
        .starts_with("SCHEDULED: herald will publish this post at 2026-12-05 10:00 +09:00."));
    assert!(note(&env, "tokyo", "held.json").starts_with("HELD"));
    env
}

#[tokio::test]
async fn pause_and_resume_without_a_daemon_rewrite_the_notes_at_once() {
    let env = planned().await;
    let out = herald(&env, &["pause", "tokyo", "--reason", "owner on leave", "--json"])
        .ok()
        .json();
    assert_eq!(out["notes_updated"], 3, "{out}");

    let sale = note(&env, "tokyo", "sale.json");
    assert!(
        sale.starts_with("PAUSED: publishing of this account is paused by an admin, so herald will not publish this post (planned for 2026-12-05 10:00 +09:00) for now."),
        "{sale}"
    );
    assert!(sale.contains("Why: owner on leave (paused by "), "{sale}");
    assert!(
        sale.contains("When an admin resumes the account, herald publishes it"),
        "{sale}"
    );
    assert!(
        sale.contains(
            "more than 15 minutes late, it is not published on its own any more: it waits for an admin to review it"
        ),
        "{sale}"
    );
    assert!(!sale.contains("SCHEDULED"), "{sale}");

    let daily = note(&env, "tokyo", "daily.json");
    assert!(daily.starts_with("PAUSED"), "{daily}");
    assert!(daily.contains("This post repeats (cron \"0 9 * * *\""), "{daily}");
    assert!(
        daily.contains("this time is skipped and the post goes out at its next time"),
        "{daily}"
    );

    let held = note(&env, "tokyo", "held.json");
    assert!(held.starts_with("HELD"), "{held}");
    assert!(
        held.contains("Also, publishing of this account is paused (why: owner on leave); even once approved"),
        "{held}"
    );
    // Another account is not touched.
    assert!(note(&env, "alert", "drill.json").starts_with("SCHEDULED"));

    let out = herald(&env, &["resume", "tokyo", "--json"]).ok().json();
    assert_eq!(out["notes_updated"], 3, "{out}");
    assert!(note(&env, "tokyo", "sale.json").starts_with("SCHEDULED"));
    assert!(note(&env, "tokyo", "daily.json").starts_with("SCHEDULED"));
    assert!(!note(&env, "tokyo", "held.json").contains("paused"));
}

#[tokio::test]
async fn freeze_and_thaw_without_a_daemon_rewrite_the_notes_and_spare_emergency_posts() {
    let env = planned().await;
    herald(&env, &["freeze", "--reason", "地震のため", "--yes"]).ok();
    let sale = note(&env, "tokyo", "sale.json");
    assert!(
        sale.starts_with("FROZEN: all publishing is frozen by an admin (only emergency posts go out), so herald will not publish this post (planned for 2026-12-05 10:00 +09:00) for now."),
        "{sale}"
    );
    assert!(sale.contains("Why: 地震のため (frozen by "), "{sale}");
    assert!(
        sale.contains("When an admin lifts the freeze, herald publishes it"),
        "{sale}"
    );
    let drill = note(&env, "alert", "drill.json");
    assert!(drill.starts_with("SCHEDULED"), "{drill}");
    assert!(
        drill.contains("this is an emergency post of an account allowed to send them: it goes out anyway"),
        "{drill}"
    );
    assert!(note(&env, "tokyo", "held.json").contains("Also, all publishing is frozen (why: 地震のため)"));

    // The daemon's own pass keeps saying so (it rewrites notes every pass).
    env.run_at(utc("2026-12-01T00:05:00Z")).await;
    assert!(note(&env, "tokyo", "sale.json").starts_with("FROZEN"));

    let out = herald(&env, &["thaw", "--json"]).ok().json();
    assert!(out["notes_updated"].as_u64().unwrap() >= 3, "{out}");
    assert!(note(&env, "tokyo", "sale.json").starts_with("SCHEDULED"));
    assert!(!note(&env, "alert", "drill.json").contains("frozen"));
}

#[tokio::test]
async fn through_a_running_daemon_notes_follow_the_pause_and_new_posts_say_so_too() {
    let env = planned().await;
    let daemon = start(&env);
    herald(&env, &["pause", "tokyo", "--reason", "incident"]).ok();
    // The daemon answered after rewriting the note: no waiting needed.
    assert!(note(&env, "tokyo", "sale.json").starts_with("PAUSED"));

    // A post dropped while the account is paused is noted as paused by the daemon's pass.
    env.drop_post("tokyo", "new.json", r#"{"text": "新しいお知らせ"}"#);
    admin_harness::noted(&env, "tokyo", "new.json");
    let new = note(&env, "tokyo", "new.json");
    assert!(new.starts_with("PAUSED"), "{new}");
    assert!(new.contains("Why: incident"), "{new}");
    assert!(!env.path("tokyo", "published/new.json").exists());

    herald(&env, &["resume", "tokyo"]).ok();
    // Due now: it publishes, and the others say scheduled again.
    eventually("new.json publishes after resume", || {
        env.path("tokyo", "published/new.json").exists()
    });
    assert!(note(&env, "tokyo", "sale.json").starts_with("SCHEDULED"));
    daemon.stop();
}
