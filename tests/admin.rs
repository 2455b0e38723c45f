//! The admin subcommands, run as the `herald` binary against an installation
//! with no daemon (the CLI opens the store) and against a daemon running
//! in-process (the CLI goes through the control socket).

mod admin_harness;
mod common;

use admin_harness::{deliveries, delivery_id, delivery_of, eventually, herald, noted, start};
use common::{utc, Env, TOKYO};
use herald::store::State;

const TWO: &str = r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
backup = "Taro"
contact = "hanako@example.com"
department = "PR"
purpose = "Tokyo office news"
time_zone = "Asia/Tokyo"

[[account]]
id = "alert"
platform = "sandbox"
handle = "@alert"
owner = "Ops"
time_zone = "Asia/Tokyo"
emergency = true
"#;

/// Three posts: one published, one held for review, one scheduled next year.
async fn populated() -> Env {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "now.json", r#"{"text": "今すぐ"}"#);
    env.drop_post("tokyo", "held.json", r#"{"text": "業績の話"}"#);
    env.drop_post("tokyo", "later.json", r#"{"text": "来年", "at": "2030-01-01 09:00"}"#);
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    env
}

/// What the inspecting commands say, checked the same way with and without a daemon.
fn check_inspection(env: &Env, daemon: bool) {
    let status = herald(env, &["status", "--json"]).ok().json();
    assert_eq!(status["daemon"]["running"], daemon, "{status}");
    if daemon {
        assert_eq!(status["daemon"]["pid"], std::process::id());
        assert_eq!(status["daemon"]["version"], env!("CARGO_PKG_VERSION"));
    }
    assert_eq!(status["frozen"], serde_json::Value::Null);
    let tokyo = &status["accounts"][0];
    assert_eq!(tokyo["owner"], "Hanako");
    assert_eq!(tokyo["paused"], false);
    assert_eq!(tokyo["counts"]["published"], 1);
    assert_eq!(tokyo["counts"]["held"], 1);
    assert_eq!(tokyo["counts"]["scheduled"], 1);
    assert_eq!(tokyo["next_due"], "2030-01-01T09:00:00+09:00");

    let human = herald(env, &["status"]).ok().stdout;
    assert!(
        human.contains(if daemon {
            "daemon: running"
        } else {
            "daemon: not running"
        }),
        "{human}"
    );

    let accounts = herald(env, &["accounts", "--json"]).ok().json();
    assert_eq!(accounts["accounts"][0]["id"], "tokyo");
    // TOKYO lists neither a contact nor a backup.
    assert_eq!(accounts["unreachable"], serde_json::json!(["tokyo"]));
    let one = herald(env, &["accounts", "tokyo"]).ok().stdout;
    assert!(one.contains("UNREACHABLE OWNER: tokyo"), "{one}");
    let unknown = herald(env, &["accounts", "nope"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("there is no account \"nope\""),
        "{}",
        unknown.stderr
    );

    let queue = herald(env, &["queue", "--json"]).ok().json();
    let rows = queue["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{queue}");
    assert_eq!(rows[0]["file"], "held.json");
    assert_eq!(rows[0]["verdict"], "hold");
    assert_eq!(rows[1]["file"], "later.json");
    assert_eq!(rows[1]["due"], "2030-01-01T09:00:00+09:00");
    let until = herald(env, &["queue", "--account", "tokyo", "--to", "2027-01-01", "--json"])
        .ok()
        .json();
    assert_eq!(until["deliveries"].as_array().unwrap().len(), 1, "{until}");

    let history = herald(env, &["history", "--json", "--per-page", "1"]).ok().json();
    assert_eq!(history["total"], 1);
    assert_eq!(history["deliveries"][0]["state"], "published");
    assert!(history["deliveries"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("sandbox://tokyo/"));
    let none = herald(env, &["history", "--state", "retracted", "--json"]).ok().json();
    assert_eq!(none["total"], 0);
    let bad = herald(env, &["history", "--state", "gone"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("unknown state"), "{}", bad.stderr);

    let id = history["deliveries"][0]["id"].as_str().unwrap().to_string();
    let show = herald(env, &["show", &id[..6], "--json"]).ok().json();
    assert_eq!(show["id"], id.as_str());
    assert_eq!(show["text"][0], "今すぐ");
    assert_eq!(show["attempts"][0]["n"], 1);
    assert!(show["attempts"][0]["outcome"]
        .as_str()
        .unwrap()
        .starts_with("published at sandbox://"));
    assert_eq!(show["file_exists"], true);
    assert!(show["file_path"].as_str().unwrap().ends_with("published/now.json"));
    let events: Vec<&str> = show["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["ingest", "verdict", "schedule", "attempt", "publish"]);
    let human = herald(env, &["show", &id]).ok().stdout;
    assert!(human.contains("今すぐ") && human.contains("audit:"), "{human}");

    let audit = herald(env, &["audit", "--json"]).ok().stdout;
    assert!(audit.lines().count() >= 11, "{audit}");
    assert!(!audit.contains("今すぐ"), "the audit log keeps hashes, never text");
    herald(env, &["audit", "--verify"]).ok();

    // Without a daemon the doctor compares the store with the wall clock,
    // which this test's manual clock may be ahead of: the clock check is
    // covered by its own test. The queue folder is set up as deploy/ does
    // (owners' group may write, setgid), else doctor warns.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(env.folder("tokyo"), std::fs::Permissions::from_mode(0o2770)).unwrap();
    let doctor = herald(env, &["doctor", "--json"]).json();
    for c in doctor["checks"].as_array().unwrap() {
        if c["check"] != "clock" {
            assert_eq!(c["status"], "ok", "{c}");
        }
    }
    let names: Vec<&str> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for expected in ["config", "queue folder tokyo", "store", "clock", "control socket"] {
        assert!(names.contains(&expected), "{names:?}");
    }
}

#[tokio::test]
async fn inspecting_commands_without_a_daemon() {
    let env = populated().await;
    check_inspection(&env, false);
}

#[tokio::test]
async fn inspecting_commands_through_a_running_daemon() {
    let env = populated().await;
    let daemon = start(&env);
    check_inspection(&env, true);
    daemon.stop();
}

#[tokio::test]
async fn a_paused_account_publishes_nothing_while_others_continue_across_restart_and_a_lost_store() {
    let env = Env::new(TWO);
    // Installed: the state folder exists (systemd's StateDirectory makes it).
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    let out = herald(&env, &["pause", "tokyo", "--reason", "owner on leave"]).ok();
    assert!(out.stdout.contains("paused tokyo"), "{}", out.stdout);
    env.drop_post("tokyo", "t.json", r#"{"text": "東京"}"#);
    env.drop_post("alert", "a.json", r#"{"text": "警報"}"#);
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    assert_eq!(env.outbox("alert").len(), 1);

    // The store is lost: the pause is a marker beside it, and holds.
    std::fs::remove_dir_all(env.config.store_path()).unwrap();
    env.run_at(utc("2026-12-01T00:01:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    let status = herald(&env, &["status", "--json"]).ok().json();
    assert_eq!(status["accounts"][1]["id"], "tokyo");
    assert_eq!(status["accounts"][1]["paused"], true);
    assert_eq!(status["accounts"][1]["pause"]["reason"], "owner on leave");
    let queue = herald(&env, &["queue", "--json"]).ok().json();
    assert_eq!(queue["deliveries"][0]["stopped_by"], "paused");

    let out = herald(&env, &["resume", "tokyo", "--json"]).ok().json();
    assert_eq!(out["was_paused"], true);
    env.run_at(utc("2026-12-01T00:02:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 1);
    let events: Vec<String> = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl"))
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&"pause".to_string()) && events.contains(&"resume".to_string()));
}

#[tokio::test]
async fn a_pause_through_the_daemon_holds_its_account_and_survives_a_restart() {
    let env = Env::new(TWO);
    env.clock.set(utc("2026-12-01T00:00:00Z"));
    let daemon = start(&env);
    herald(&env, &["pause", "tokyo", "--reason", "incident"]).ok();
    env.drop_post("tokyo", "t.json", r#"{"text": "東京"}"#);
    env.drop_post("alert", "a.json", r#"{"text": "警報"}"#);
    eventually("alert publishes", || env.path("alert", "published/a.json").exists());
    noted(&env, "tokyo", "t.json");
    daemon.stop();
    assert!(env.outbox("tokyo").is_empty());

    let daemon = start(&env);
    let status = herald(&env, &["status", "--json"]).ok().json();
    assert_eq!(status["daemon"]["running"], true);
    assert_eq!(status["accounts"][1]["paused"], true);
    herald(&env, &["resume", "tokyo"]).ok();
    eventually("tokyo publishes after resume", || {
        env.path("tokyo", "published/t.json").exists()
    });
    daemon.stop();
}

#[tokio::test]
async fn freeze_lets_an_emergency_post_through_and_thaw_publishes_only_what_is_still_on_time() {
    let env = Env::new(TWO);
    env.clock.set(utc("2026-12-01T00:00:00Z"));
    let daemon = start(&env);
    let refused = herald(&env, &["freeze", "--reason", "earthquake"]);
    assert_eq!(refused.code, 2, "no --yes and no terminal: {}", refused.stderr);
    let out = herald(&env, &["freeze", "--reason", "earthquake", "--yes"]).ok();
    assert!(out.stdout.contains("FROZEN"), "{}", out.stdout);
    assert!(
        out.stdout.contains("alert"),
        "the emergency lane is named: {}",
        out.stdout
    );

    // 09:05 and 09:50 Tokyo are 00:05 and 00:50 UTC.
    env.drop_post("alert", "quake.json", r#"{"text": "地震情報", "kind": "emergency"}"#);
    env.drop_post(
        "tokyo",
        "fake-emergency.json",
        r#"{"text": "セール", "kind": "emergency"}"#,
    );
    env.drop_post("alert", "normal.json", r#"{"text": "通常"}"#);
    env.drop_post("tokyo", "early.json", r#"{"text": "早い", "at": "2026-12-01 09:05"}"#);
    env.drop_post("tokyo", "late.json", r#"{"text": "遅い", "at": "2026-12-01 09:50"}"#);
    eventually("the emergency post goes out during the freeze", || {
        env.path("alert", "published/quake.json").exists()
    });
    for (account, file) in [
        ("tokyo", "fake-emergency.json"),
        ("alert", "normal.json"),
        ("tokyo", "early.json"),
        ("tokyo", "late.json"),
    ] {
        noted(&env, account, file);
    }
    let queue = herald(&env, &["queue", "--json"]).ok().json();
    let frozen: Vec<&str> = queue["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["stopped_by"] == "frozen")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    // Not yet due (early, late) are not stopped yet, but the others are.
    assert!(
        frozen.contains(&"fake-emergency.json") && frozen.contains(&"normal.json"),
        "{queue}"
    );
    let status = herald(&env, &["status"]).ok().stdout;
    assert!(status.contains("FROZEN: earthquake"), "{status}");

    // An hour passes: everything is due; early and the ASAP posts are stale (15m).
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(env.outbox("tokyo").len(), 0, "nothing from tokyo while frozen");
    assert_eq!(env.outbox("alert").len(), 1);
    let thaw = herald(&env, &["thaw", "--json"]).ok().json();
    assert_eq!(thaw["was_frozen"], true);
    assert_eq!(thaw["publish"], 1, "{thaw}");
    assert_eq!(thaw["held"], 3, "{thaw}");
    eventually("the on-time post publishes after the thaw", || {
        env.path("tokyo", "published/late.json").exists()
    });
    daemon.stop();
    assert_eq!(env.outbox("tokyo").len(), 1);
    assert_eq!(env.outbox("alert").len(), 1);
    let held: Vec<String> = env
        .deliveries()
        .into_iter()
        .filter(|d| d.state == State::Held)
        .map(|d| d.file)
        .collect();
    assert_eq!(held.len(), 3, "{held:?}");
    let note = env.read("tokyo", "early.json.herald.txt");
    assert!(note.contains("while publishing was frozen"), "{note}");
}

#[tokio::test]
async fn approve_refuses_the_poster_and_accepts_another_admin() {
    let env = populated().await;
    let id = delivery_id(&env, "held.json");
    // The test runs as the file's owner: approving one's own post is refused.
    let me = herald(&env, &["approve", &id]);
    assert_eq!(me.code, 1, "{}", me.stdout);
    assert!(me.stderr.contains("nobody may approve their own post"), "{}", me.stderr);
    assert_eq!(delivery_of(&env, "held.json")[0].state, State::Held);

    // Another user dropped it (only root can hand a file to another uid).
    if common::running_as_root("approving a post another uid dropped") {
        std::os::unix::fs::chown(env.path("tokyo", "held.json"), Some(65534), None).unwrap();
        let out = herald(&env, &["approve", &id]).ok();
        assert!(out.stdout.contains("approved"), "{}", out.stdout);
        env.run_at(utc("2026-12-01T00:05:00Z")).await;
        assert!(env.path("tokyo", "published/held.json").exists());
        let audit = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
        let approval = audit.iter().find(|e| e.event == "approval").unwrap();
        assert_eq!(approval.actor.uid(), Some(0));
    }
}

#[tokio::test]
async fn reject_and_cancel_move_the_file_with_the_reason_and_never_delete_it() {
    let env = populated().await;
    let daemon = start(&env);
    let held = delivery_id_via(&env, "held.json");
    let out = herald(&env, &["reject", &held, "--reason", "numbers not public yet"]).ok();
    assert!(out.stdout.contains("rejected/held.json"), "{}", out.stdout);
    let note = env.read("tokyo", "rejected/held.json.herald.txt");
    assert!(note.contains("numbers not public yet"), "{note}");
    assert_eq!(env.read("tokyo", "rejected/held.json"), r#"{"text": "業績の話"}"#);

    let later = delivery_id_via(&env, "later.json");
    let out = herald(&env, &["cancel", &later, "--reason", "plans changed"]).ok();
    assert!(out.stdout.contains("cancelled/later.json"), "{}", out.stdout);
    assert!(env.path("tokyo", "cancelled/later.json").exists());
    assert!(env
        .read("tokyo", "cancelled/later.json.herald.txt")
        .contains("plans changed"));
    assert!(!env.path("tokyo", "later.json").exists());

    // Only pending deliveries can be cancelled.
    let again = herald(&env, &["cancel", &later]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("is cancelled"), "{}", again.stderr);
    daemon.stop();
    let states: Vec<(String, State)> = deliveries(&env).into_iter().map(|d| (d.file, d.state)).collect();
    assert!(states.contains(&("held.json".into(), State::Rejected)), "{states:?}");
    assert!(states.contains(&("later.json".into(), State::Cancelled)), "{states:?}");
}

/// A delivery's id asked of the running daemon.
fn delivery_id_via(env: &Env, file: &str) -> String {
    let queue = herald(env, &["queue", "--json"]).ok().json();
    queue["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == file)
        .unwrap_or_else(|| panic!("{file} in {queue}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn retry_gives_a_failed_delivery_another_attempt() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "f.json", r#"{"text": "再挑戦", "at": "2026-12-01 12:00"}"#);
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    // Record it as failed, as five transient failures would have.
    {
        let store = admin_harness::store(&env);
        let mut d = store.deliveries().unwrap().remove(0);
        d.transition(
            State::Failed,
            Some("5 attempts failed".into()),
            utc("2026-12-01T03:00:00Z"),
        );
        store.put_delivery(&d).unwrap();
        store.flush_blocking().unwrap();
    }
    let id = delivery_id(&env, "f.json");
    // The admin retries at 03:05, on the test's clock.
    env.clock.set(utc("2026-12-01T03:05:00Z"));
    let out = herald(&env, &["retry", &id]).ok();
    assert!(out.stdout.contains("tried again"), "{}", out.stdout);
    let published = herald(&env, &["retry", &id]);
    assert_eq!(published.code, 1, "a scheduled delivery is not retried twice");
    // The retry is due at once.
    env.run_at(utc("2026-12-01T03:05:01Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 1);
    assert_eq!(delivery_of(&env, "f.json")[0].state, State::Published);
}

#[tokio::test]
async fn retract_deletes_the_post_on_the_sandbox_and_keeps_the_record() {
    let env = populated().await;
    let daemon = start(&env);
    let history = herald(&env, &["history", "--json"]).ok().json();
    let id = history["deliveries"][0]["id"].as_str().unwrap().to_string();
    let missing = herald(&env, &["retract", &id, "--reason", ""]);
    assert_eq!(missing.code, 1, "a retraction needs a reason");
    let out = herald(&env, &["retract", &id, "--reason", "offensive"]).ok();
    assert!(out.stdout.contains("retracted"), "{}", out.stdout);
    let outbox = env.outbox("tokyo");
    let remote = format!("{id}-1");
    assert!(
        outbox.iter().any(|l| l["deleted"] == serde_json::json!([remote])),
        "the sandbox was asked to delete {remote}: {outbox:?}"
    );
    let show = herald(&env, &["show", &id, "--json"]).ok().json();
    assert_eq!(show["state"], "retracted");
    assert!(show["reason"].as_str().unwrap().contains("offensive"));
    assert!(
        show["url"].as_str().unwrap().starts_with("sandbox://"),
        "the link stays on record"
    );
    let again = herald(&env, &["retract", &id, "--reason", "twice"]);
    assert_eq!(again.code, 1);
    daemon.stop();
    let note = env.read("tokyo", "published/now.json.herald.txt");
    assert!(note.contains("RETRACTED"), "{note}");
}

#[tokio::test]
async fn disaster_hold_is_a_marker_the_guidelines_can_read() {
    let env = Env::new(TOKYO);
    let dir = env.config.daemon.state_dir.clone();
    std::fs::create_dir_all(&dir).unwrap();
    assert!(herald::control::disaster_hold(&dir).is_none());
    herald(&env, &["disaster-hold", "declare", "--reason", "typhoon"]).ok();
    let hold = herald::control::disaster_hold(&dir).expect("declared");
    assert_eq!(hold.reason, "typhoon");
    let status = herald(&env, &["status", "--json"]).ok().json();
    assert_eq!(status["disaster_hold"]["reason"], "typhoon");
    herald(&env, &["disaster-hold", "lift"]).ok();
    assert!(herald::control::disaster_hold(&dir).is_none());
}

#[tokio::test]
async fn a_declared_disaster_hold_holds_promotional_posts_at_ingest_and_lifts_nothing_else() {
    // The company rulebook lists the disaster-hold rule; the daemon reads
    // the marker `herald disaster-hold declare` writes.
    let env = Env::new(&format!("{TOKYO}\n[rulebooks.company.rules.disaster-hold]\n"));
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    herald(&env, &["disaster-hold", "declare", "--reason", "earthquake"]).ok();
    env.drop_post(
        "tokyo",
        "sale.json",
        r#"{"text": "週末セール開催", "kind": "promotion"}"#,
    );
    env.drop_post(
        "tokyo",
        "info.json",
        r#"{"text": "営業時間のお知らせ", "kind": "news"}"#,
    );
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    let sale = &delivery_of(&env, "sale.json")[0];
    assert_eq!(sale.state, State::Held);
    assert!(
        sale.findings.iter().any(|f| f.rule == "disaster-hold"),
        "{:?}",
        sale.findings
    );
    assert_eq!(delivery_of(&env, "info.json")[0].state, State::Published);

    // Lifted: a new promotion goes out (the held one waits for an admin).
    herald(&env, &["disaster-hold", "lift"]).ok();
    env.drop_post(
        "tokyo",
        "sale2.json",
        r#"{"text": "冬のセール開催", "kind": "promotion"}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(delivery_of(&env, "sale2.json")[0].state, State::Published);
    assert_eq!(delivery_of(&env, "sale.json")[0].state, State::Held);
}

#[tokio::test]
async fn doctor_flags_a_world_writable_queue_folder_and_a_clock_that_went_back() {
    use std::os::unix::fs::PermissionsExt;
    let env = populated().await;
    std::fs::set_permissions(env.folder("tokyo"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let v = herald(&env, &["doctor", "--json"]).json();
    let folder = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "queue folder tokyo")
        .unwrap();
    assert_eq!(folder["status"], "warn", "{v}");
    // A delivery recorded in 2099: the clock must have gone back since.
    env.run_at(utc("2099-01-01T00:00:00Z")).await;
    env.drop_post("tokyo", "x.json", r#"{"text": "未来"}"#);
    env.run_at(utc("2099-01-01T00:00:00Z")).await;
    // Back to 2026 (the admin's command runs on the test's clock).
    env.clock.set(utc("2026-12-01T02:00:00Z"));
    let out = herald(&env, &["doctor", "--json"]);
    assert_eq!(out.code, 1);
    let clock = out.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "clock")
        .cloned()
        .unwrap();
    assert_eq!(clock["status"], "fail", "{clock}");
}

#[test]
fn on_a_fresh_install_looking_creates_nothing_and_changing_says_what_to_do() {
    let env = Env::new(TOKYO);
    let state = env.config.daemon.state_dir.clone();
    let status = herald(&env, &["status", "--json"]).ok().json();
    assert_eq!(status["accounts"][0]["id"], "tokyo");
    assert_eq!(status["daemon"]["running"], false);
    herald(&env, &["queue"]).ok();
    assert!(!state.exists(), "looking created {}", state.display());
    let out = herald(&env, &["freeze", "--reason", "x", "--yes"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("does not exist yet"), "{}", out.stderr);
}

#[tokio::test]
async fn a_tampered_audit_line_is_detected() {
    let env = populated().await;
    let ok = herald(&env, &["audit", "--verify"]).ok();
    assert!(ok.stdout.contains("audit log intact"), "{}", ok.stdout);
    let path = env.config.daemon.state_dir.join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    // Someone rewrites history: the verdict of the held post becomes "pass".
    let forged = text.replacen("\"verdict\":\"hold\"", "\"verdict\":\"pass\"", 1);
    assert_ne!(forged, text, "the log records the verdict");
    std::fs::write(&path, forged).unwrap();
    let out = herald(&env, &["audit", "--verify"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("AUDIT LOG TAMPERED"), "{}", out.stdout);
    let v = herald(&env, &["audit", "--verify", "--json"]).json();
    assert_eq!(v["ok"], false);
    let line = v["broken_at"].as_u64().unwrap();
    let forged_line = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .position(|l| l.contains("\"verdict\":\"pass\""))
        .unwrap() as u64
        + 1;
    assert_eq!(
        line,
        forged_line + 1,
        "the line after the edited one no longer follows it"
    );
}

/// Run as root with no daemon, a command must leave the state folder
/// writable by the daemon's user (here nobody, 65534).
#[tokio::test]
async fn files_written_by_root_without_a_daemon_go_back_to_the_state_folders_owner() {
    use std::os::unix::fs::MetadataExt;
    if !common::running_as_root("handing the state folder to another uid") {
        return;
    }
    let env = populated().await;
    let state = env.config.daemon.state_dir.clone();
    let chown_all = |dir: &std::path::Path| {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(p) = stack.pop() {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
    };
    chown_all(&state);
    herald(&env, &["pause", "tokyo", "--reason", "handover"]).ok();
    for p in [
        herald::control::stops::paused_path(&state, "tokyo"),
        state.join("stops"),
        state.join("audit.jsonl"),
        state.join("store"),
    ] {
        assert_eq!(std::fs::metadata(&p).unwrap().uid(), 65534, "{}", p.display());
    }
}

/// The sandbox, except that deleting waits until the test opens a gate: a
/// platform that is slow to answer a retraction.
struct SlowDelete {
    sandbox: herald::platform::sandbox::Sandbox,
    gate: std::sync::Arc<tokio::sync::Notify>,
}

impl herald::platform::Platform for SlowDelete {
    fn kind(&self) -> herald::config::PlatformKind {
        self.sandbox.kind()
    }

    fn publish<'a>(
        &'a self,
        post: &'a herald::platform::Outgoing,
        progress: &'a dyn herald::platform::Progress,
    ) -> herald::platform::BoxFuture<'a, Result<herald::platform::Published, herald::platform::PublishError>> {
        self.sandbox.publish(post, progress)
    }

    fn delete<'a>(
        &'a self,
        remote_ids: &'a [String],
    ) -> herald::platform::BoxFuture<'a, Result<(), herald::platform::PublishError>> {
        Box::pin(async move {
            self.gate.notified().await;
            self.sandbox.delete(remote_ids).await
        })
    }

    fn check_account(&self) -> herald::platform::BoxFuture<'_, Result<String, herald::platform::PublishError>> {
        self.sandbox.check_account()
    }
}

#[tokio::test]
async fn a_retraction_waiting_for_the_platform_does_not_hold_up_a_freeze() {
    let env = populated().await;
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let slow = SlowDelete {
        sandbox: herald::platform::sandbox::Sandbox::new(&env.config.daemon.state_dir, "tokyo", "@tokyo"),
        gate: gate.clone(),
    };
    let daemon = admin_harness::start_daemon(&env, env.daemon_with("tokyo", std::sync::Arc::new(slow)));
    let history = herald(&env, &["history", "--json"]).ok().json();
    let id = history["deliveries"][0]["id"].as_str().unwrap().to_string();
    let mut retract = admin_harness::herald_cmd(&env, &["retract", &id, "--reason", "offensive"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The retraction is under way (its request is on record) …
    let audit_path = env.config.daemon.state_dir.join("audit.jsonl");
    eventually("the retraction is requested", || {
        herald::audit::read(&audit_path)
            .unwrap()
            .iter()
            .any(|e| e.event == "retraction-requested")
    });
    // … a second one is refused, and a freeze goes through meanwhile.
    let twice = herald(&env, &["retract", &id, "--reason", "again"]);
    assert_eq!(twice.code, 1);
    assert!(twice.stderr.contains("already under way"), "{}", twice.stderr);
    herald(&env, &["freeze", "--reason", "incident", "--yes"]).ok();
    assert!(
        retract.try_wait().unwrap().is_none(),
        "the retraction still waits for the platform"
    );

    gate.notify_one();
    let out = retract.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let show = herald(&env, &["show", &id, "--json"]).ok().json();
    assert_eq!(show["state"], "retracted");
    daemon.stop();
}

#[tokio::test]
async fn freeze_thaw_reject_cancel_and_retract_without_a_daemon() {
    let env = populated().await;
    herald(&env, &["freeze", "--reason", "drill", "--yes"]).ok();
    let status = herald(&env, &["status", "--json"]).ok().json();
    assert_eq!(status["frozen"]["reason"], "drill");
    assert_eq!(status["frozen"]["by"]["uid"], herald::audit::current_uid());
    let thaw = herald(&env, &["thaw", "--json"]).ok().json();
    assert_eq!(thaw["was_frozen"], true);
    assert_eq!(
        herald(&env, &["status", "--json"]).ok().json()["frozen"],
        serde_json::Value::Null
    );

    let held = delivery_id(&env, "held.json");
    herald(&env, &["reject", &held, "--reason", "not now"]).ok();
    assert!(env.path("tokyo", "rejected/held.json").exists());
    let later = delivery_id(&env, "later.json");
    herald(&env, &["cancel", &later]).ok();
    assert!(env
        .read("tokyo", "cancelled/later.json.herald.txt")
        .contains("no reason given"));

    let now = delivery_id(&env, "now.json");
    herald(&env, &["retract", &now, "--reason", "mistake"]).ok();
    assert!(env.outbox("tokyo").iter().any(|l| l["deleted"].is_array()));
    let states: Vec<(String, State)> = deliveries(&env).into_iter().map(|d| (d.file, d.state)).collect();
    assert!(states.contains(&("now.json".into(), State::Retracted)), "{states:?}");
    assert!(states.contains(&("held.json".into(), State::Rejected)), "{states:?}");
    assert!(states.contains(&("later.json".into(), State::Cancelled)), "{states:?}");
    herald(&env, &["audit", "--verify"]).ok();
}

#[tokio::test]
async fn disaster_hold_approve_and_retry_through_a_running_daemon() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "held.json", r#"{"text": "業績の話"}"#);
    env.drop_post("tokyo", "f.json", r#"{"text": "再挑戦", "at": "2026-12-01 12:00"}"#);
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    {
        let store = admin_harness::store(&env);
        let mut d = store
            .deliveries()
            .unwrap()
            .into_iter()
            .find(|d| d.file == "f.json")
            .unwrap();
        d.transition(
            State::Failed,
            Some("5 attempts failed".into()),
            utc("2026-12-01T00:00:00Z"),
        );
        store.put_delivery(&d).unwrap();
        store.flush_blocking().unwrap();
    }
    let held = delivery_id(&env, "held.json");
    let failed = delivery_id(&env, "f.json");
    env.clock.set(utc("2026-12-01T00:10:00Z"));
    let daemon = start(&env);

    herald(&env, &["disaster-hold", "declare", "--reason", "typhoon"]).ok();
    assert_eq!(
        herald::control::disaster_hold(&env.config.daemon.state_dir)
            .unwrap()
            .reason,
        "typhoon"
    );
    herald(&env, &["disaster-hold", "lift"]).ok();
    assert!(herald::control::disaster_hold(&env.config.daemon.state_dir).is_none());

    herald(&env, &["retry", &failed]).ok();
    eventually("the retried delivery publishes", || {
        env.path("tokyo", "published/f.json").exists()
    });

    let mine = herald(&env, &["approve", &held]);
    assert_eq!(mine.code, 1, "the socket's peer is the file's owner: {}", mine.stdout);
    if common::running_as_root("approving through the socket a post another uid dropped") {
        std::os::unix::fs::chown(env.path("tokyo", "held.json"), Some(65534), None).unwrap();
        herald(&env, &["approve", &held]).ok();
        eventually("the approved delivery publishes", || {
            env.path("tokyo", "published/held.json").exists()
        });
    }
    daemon.stop();
}

/// What people read from the inspecting commands: aligned tables and one
/// account's entry, to the character (times in the account's zone).
#[tokio::test]
async fn accounts_queue_history_and_status_print_aligned_tables_for_people() {
    let env = Env::new(TWO);
    env.drop_post("tokyo", "now.json", r#"{"text": "今すぐ"}"#);
    env.drop_post("tokyo", "held.json", r#"{"text": "業績の話"}"#);
    env.drop_post("tokyo", "later.json", r#"{"text": "来年", "at": "2030-01-01 09:00"}"#);
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    let [now, held, later] = ["now.json", "held.json", "later.json"].map(|f| delivery_id(&env, f));

    assert_eq!(
        herald(&env, &["accounts"]).ok().stdout,
        "\
ACCOUNT  PLATFORM  HANDLE  OWNER   BACKUP  CONTACT             DEPARTMENT  ZONE
alert    sandbox   @alert  Ops     -       -                   -           Asia/Tokyo
tokyo    sandbox   @tokyo  Hanako  Taro    hanako@example.com  PR          Asia/Tokyo
UNREACHABLE OWNER: alert: no contact (mail, phone or chat) listed; no backup owner listed
"
    );
    assert_eq!(
        herald(&env, &["accounts", "tokyo"]).ok().stdout,
        format!(
            "\
id:          tokyo
platform:    sandbox
handle:      @tokyo
owner:       Hanako
backup:      Taro
contact:     hanako@example.com
department:  PR
purpose:     Tokyo office news
time_zone:   Asia/Tokyo
rulebooks:   company
emergency:   false
max_lateness: 15m
folder:      {}
",
            env.folder("tokyo").display()
        )
    );
    assert_eq!(
        herald(&env, &["queue"]).ok().stdout,
        format!(
            "\
DUE                      ACCOUNT  DELIVERY       STATE      VERDICT  KIND  FILE        NOTE
2026-12-01 09:00 +09:00  tokyo    {held}  held       hold     news  held.json   a guideline check asks for a review before publication: financial-topic (\"業績\").
2030-01-01 09:00 +09:00  tokyo    {later}  scheduled  pass     news  later.json
"
        )
    );
    assert_eq!(
        herald(&env, &["queue", "--account", "alert"]).ok().stdout,
        "nothing pending\n"
    );
    assert_eq!(
        herald(&env, &["history"]).ok().stdout,
        format!(
            "\
WHEN                     ACCOUNT  DELIVERY       STATE      FILE      LINK / REASON
2026-12-01 09:00 +09:00  tokyo    {now}  published  now.json  sandbox://tokyo/{now}-1
page 1 of 1 (1 deliveries)
"
        )
    );
    let status = herald(&env, &["status"]).ok().stdout;
    assert!(
        status.ends_with(
            "\
ACCOUNT  PLATFORM  OWNER   PAUSED  SCHEDULED  HELD  PUBLISHING  PUBLISHED  FAILED  REJECTED  CANCELLED  EXPIRED  RETRACTED  NEXT DUE
alert    sandbox   Ops     no      0          0     0           0          0       0         0          0        0          -
tokyo    sandbox   Hanako  no      1          1     0           1          0       0         0          0        0          2030-01-01 09:00 +09:00
"
        ),
        "{status}"
    );
    // A time that does not parse stops before anything is asked.
    let bad = herald(&env, &["queue", "--to", "bad"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("\"bad\" is not a time herald understands"),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty());
}

#[test]
fn the_emergency_stop_works_while_the_config_file_on_disk_does_not_load() {
    let env = Env::new(TWO);
    let daemon = start(&env);
    let path = env.config.path.clone();
    let good = std::fs::read_to_string(&path).unwrap();
    // A typo saved over the config (a reload of it would be refused), then
    // worse: text that is not TOML at all.
    for broken in [
        good.replace("time_zone = \"Asia/Tokyo\"", "time_zone = \"Asia/Tokio\""),
        format!("{good}\n[[account]\nid = \"unclosed\n"),
    ] {
        std::fs::write(&path, &broken).unwrap();
        assert!(herald::config::load(&path).is_err());
        let out = herald(&env, &["freeze", "--reason", "earthquake", "--yes"]).ok();
        assert!(out.stdout.contains("FROZEN"), "{}", out.stdout);
        assert!(
            out.stderr.contains("warning"),
            "the broken file is named: {}",
            out.stderr
        );
        assert!(out.stderr.contains("herald.toml"), "{}", out.stderr);
        let status = herald(&env, &["status", "--json"]).ok().json();
        assert_eq!(status["daemon"]["running"], true);
        assert_eq!(status["frozen"]["reason"], "earthquake");
        herald(&env, &["pause", "tokyo", "--reason", "owner unreachable"]).ok();
        herald(&env, &["resume", "tokyo"]).ok();
        let out = herald(&env, &["thaw", "--json"]).ok().json();
        assert_eq!(out["was_frozen"], true, "{out}");
    }
    daemon.stop();
    // Without a daemon, the broken config stops the command (exit 3) and
    // says that nothing was done.
    let out = herald(&env, &["freeze", "--reason", "x", "--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("nothing was done"), "{}", out.stderr);
    assert!(!herald::control::stops::frozen_path(&env.config.daemon.state_dir).exists());
}

#[test]
fn output_piped_into_head_ends_quietly_without_a_backtrace() {
    let env = Env::new(TWO);
    let file = env.drop_post("tokyo", "p.json", r#"{"text": "投稿です"}"#);
    let file = file.to_str().unwrap();
    // Far more output than a pipe holds (64 KiB), so the writer must notice
    // that its reader went away.
    let mut args = vec!["--format", "json"];
    args.extend(std::iter::repeat_n(file, 3000));
    let mut child = admin_harness::herald_cmd(&env, &["check"])
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader takes a few bytes and goes away (what `| head -1` does).
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
