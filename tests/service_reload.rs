//! Reloading the config in a running daemon (what SIGHUP does): atomic,
//! refused when invalid, accounts added and removed, pending deliveries
//! re-checked against the new rules.

mod common;

use std::time::Duration;

use common::{Env, BASE_CONFIG, TOKYO};
use herald::daemon::reload::{ReloadRequest, Reloaded};
use herald::store::State;
use tokio::sync::{mpsc, oneshot};

/// Waits until `cond` holds, bounded at 40 s: generous for a loaded 2-core
/// machine (a bound against hanging, not a timing assertion).
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1600 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A running daemon with a reload channel and a stop switch.
struct Running {
    reloads: mpsc::Sender<ReloadRequest>,
    stop: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn start(env: &Env) -> Running {
        let (reloads, rx) = mpsc::channel(1);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let daemon = env.daemon().with_reloads(rx);
        let handle = tokio::spawn(daemon.run(async {
            let _ = stop_rx.await;
        }));
        Running { reloads, stop, handle }
    }

    async fn reload(&self) -> Result<Reloaded, String> {
        let (tx, rx) = oneshot::channel();
        self.reloads.send(ReloadRequest { reply: Some(tx) }).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), rx)
            .await
            .expect("the reload answers")
            .unwrap()
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

fn write_config(env: &Env, text: &str) {
    std::fs::write(env.dir.path().join("herald.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_are_rechecked_against_the_new_rules() {
    let env = Env::new(TOKYO);
    let later = r#""at": "2026-12-05T09:00:00+09:00""#;
    env.drop_post(
        "tokyo",
        "launch.json",
        format!(r#"{{"text": "新製品の発表です", {later}}}"#),
    );
    env.drop_post(
        "tokyo",
        "results.json",
        format!(r#"{{"text": "業績は好調です", {later}}}"#),
    );
    env.drop_post("tokyo", "plain.json", format!(r#"{{"text": "よい一日を", {later}}}"#));
    let running = Running::start(&env);
    eventually("all three are planned", || {
        ["launch.json", "results.json", "plain.json"]
            .iter()
            .all(|f| herald::queue::note_path(&env.path("tokyo", f)).exists())
    })
    .await;

    // New rules: the product name is now confidential (block); financial
    // topics no longer need a review; "一日" needs one.
    let config = BASE_CONFIG
        .replace(
            r#"terms = ["社外秘", "極秘", "Confidential", "Internal Use Only"]"#,
            r#"terms = ["社外秘", "極秘", "Confidential", "Internal Use Only", "新製品"]"#,
        )
        .replace(
            r#"terms = ["業績", "上方修正", "earnings"]"#,
            "replace_defaults = true\nterms = [\"一日\"]",
        );
    assert_ne!(config, BASE_CONFIG);
    write_config(&env, &format!("{config}\n{TOKYO}"));
    let reloaded = running.reload().await.expect("a valid config reloads");
    assert_eq!(reloaded.rechecked, 3, "{reloaded:?}");
    assert_eq!(reloaded.changed, 3, "{reloaded:?}");
    assert!(reloaded.added.is_empty() && reloaded.removed.is_empty());
    eventually("the newly blocked post moves to rejected/", || {
        env.path("tokyo", "rejected/launch.json").exists()
    })
    .await;
    running.stop().await;

    let state = |f: &str| env.delivery_of(f)[0].state;
    assert_eq!(state("launch.json"), State::Rejected);
    assert_eq!(state("results.json"), State::Scheduled, "the financial hold was lifted");
    assert_eq!(state("plain.json"), State::Held);
    let why = std::fs::read_to_string(herald::queue::note_path(&env.path("tokyo", "rejected/launch.json"))).unwrap();
    assert!(why.contains("confidential-marker"), "{why}");
    assert!(env.outbox("tokyo").is_empty(), "nothing was published by the reload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_is_refused_and_the_running_one_keeps_publishing() {
    let env = Env::new(TOKYO);
    let running = Running::start(&env);
    let good = std::fs::read_to_string(env.dir.path().join("herald.toml")).unwrap();
    write_config(
        &env,
        &good.replace("time_zone = \"Asia/Tokyo\"", "time_zone = \"Asia/Tokio\""),
    );
    let err = running.reload().await.expect_err("an invalid config is refused");
    assert!(err.contains("herald.toml:"), "names the file and line: {err}");
    assert!(err.contains("unknown time zone \"Asia/Tokio\""), "{err}");

    // The old config still runs: the account publishes.
    env.drop_post("tokyo", "now.json", r#"{"text": "まだ動いています"}"#);
    eventually("a post published after the refused reload", || {
        env.path("tokyo", "published/now.json").exists()
    })
    .await;

    // A config that moves the store is refused too: that needs a restart.
    write_config(&env, &good.replace("state_dir = \"state\"", "state_dir = \"state2\""));
    let err = running.reload().await.expect_err("moving the store needs a restart");
    assert!(err.contains("state_dir changed"), "{err}");
    running.stop().await;
    assert_eq!(env.outbox("tokyo").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_added_and_removed_take_effect() {
    let env = Env::new(TOKYO);
    let running = Running::start(&env);
    std::fs::create_dir_all(env.dir.path().join("queue/osaka")).unwrap();
    let osaka = "\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@osaka\"\nowner = \"Ichiro\"\n";
    write_config(&env, &format!("{BASE_CONFIG}\n{osaka}"));
    let reloaded = running.reload().await.unwrap();
    assert_eq!(reloaded.added, vec!["osaka".to_string()]);
    assert_eq!(reloaded.removed, vec!["tokyo".to_string()]);

    env.drop_post("osaka", "hello.json", r#"{"text": "大阪から"}"#);
    env.drop_post("tokyo", "orphan.json", r#"{"text": "東京から"}"#);
    eventually("the new account publishes", || {
        env.path("osaka", "published/hello.json").exists()
    })
    .await;
    running.stop().await;
    assert_eq!(env.outbox("osaka").len(), 1);
    assert!(env.outbox("tokyo").is_empty(), "the removed account published");
    assert!(
        !herald::queue::note_path(&env.path("tokyo", "orphan.json")).exists(),
        "the removed account's folder was still read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_approval_survives_a_reload() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "results.json",
        r#"{"text": "業績のお知らせ", "at": "2026-12-05T09:00:00+09:00"}"#,
    );
    env.daemon().run_once().await.unwrap();
    // An admin approves the held post (as the approve command does: back to scheduled).
    {
        let store = herald::store::Store::open(&env.config.store_path()).unwrap();
        let mut d = store.deliveries().unwrap().pop().unwrap();
        assert_eq!(d.state, State::Held);
        d.transition(
            State::Scheduled,
            Some("approved by an admin".into()),
            herald::schedule::Clock::now(&env.clock),
        );
        store.put_delivery(&d).unwrap();
        store.flush_blocking().unwrap();
    }
    let running = Running::start(&env);
    let reloaded = running.reload().await.unwrap();
    assert_eq!(reloaded.rechecked, 1);
    running.stop().await;
    assert_eq!(reloaded.changed, 0, "{reloaded:?}");
    assert_eq!(env.delivery_of("results.json")[0].state, State::Scheduled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_a_duplicate_held_and_its_original_scheduled() {
    let rules = "[rulebooks.company.rules.duplicate]\n";
    let env = Env::new(&format!("{TOKYO}\n{rules}"));
    let later = r#""at": "2026-12-05T09:00:00+09:00""#;
    env.drop_post(
        "tokyo",
        "a.json",
        format!(r#"{{"text": "年末年始の営業のお知らせ", {later}}}"#),
    );
    let running = Running::start(&env);
    eventually("the original is planned", || {
        herald::queue::note_path(&env.path("tokyo", "a.json")).exists()
    })
    .await;
    env.drop_post(
        "tokyo",
        "b.json",
        format!(r#"{{"text": "年末年始の営業のお知らせ", {later}}}"#),
    );
    eventually("the copy is planned", || {
        herald::queue::note_path(&env.path("tokyo", "b.json")).exists()
    })
    .await;

    // The same rules again: the re-check compares each post with the ones
    // made before it, as ingest did, so nothing changes.
    let reloaded = running.reload().await.expect("a valid config reloads");
    running.stop().await;
    assert_eq!(reloaded.changed, 0, "{reloaded:?}");
    assert_eq!(env.delivery_of("a.json")[0].state, State::Scheduled);
    let b = &env.delivery_of("b.json")[0];
    assert_eq!(b.state, State::Held);
    assert!(b.findings.iter().any(|f| f.rule == "duplicate"), "{:?}", b.findings);
}

/// The company baseline plus a legal-topic rule that holds posts about 訴訟.
fn with_legal_hold() -> String {
    format!("{BASE_CONFIG}\n[rulebooks.company.rules.legal-topic]\nseverity = \"hold\"\nterms = [\"訴訟\"]\n\n{TOKYO}")
}

/// Approves the one held delivery by hand, as `herald approve` does.
fn approve_by_hand(env: &Env) {
    let store = herald::store::Store::open(&env.config.store_path()).unwrap();
    let mut d = store.deliveries().unwrap().pop().unwrap();
    assert_eq!(d.state, State::Held);
    d.transition(
        State::Scheduled,
        Some("approved by an admin".into()),
        herald::schedule::Clock::now(&env.clock),
    );
    store.put_delivery(&d).unwrap();
    store.flush_blocking().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_does_not_cover_a_hold_from_another_rule_after_a_reload() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "results.json",
        r#"{"text": "業績と訴訟のお知らせ", "at": "2026-12-05T09:00:00+09:00"}"#,
    );
    env.daemon().run_once().await.unwrap();
    approve_by_hand(&env);
    // The new rules also hold posts about lawsuits: the admin approved the
    // financial topic, not that.
    write_config(&env, &with_legal_hold());
    let running = Running::start(&env);
    let reloaded = running.reload().await.unwrap();
    running.stop().await;
    assert_eq!(reloaded.changed, 1, "{reloaded:?}");
    let d = &env.delivery_of("results.json")[0];
    assert_eq!(d.state, State::Held, "held again for the new rule");
    assert!(d.reason.as_deref().unwrap().contains("legal-topic"), "{:?}", d.reason);

    // The audit log has the reload and the changed verdict.
    let entries = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
    let verdict = entries
        .iter()
        .rfind(|e| e.event == "verdict" && e.delivery.as_deref() == Some(d.id.as_str()))
        .expect("a verdict event for the re-check");
    assert_eq!(verdict.detail["cause"], "config-reload");
    assert_eq!(verdict.detail["state"], "held");
    assert_eq!(verdict.detail["was"], "scheduled");
    assert_eq!(verdict.actor, herald::audit::Actor::daemon());
    let reload = entries
        .iter()
        .rfind(|e| e.event == "config-reload")
        .expect("a config-reload event");
    assert_eq!(reload.actor, herald::audit::Actor::daemon());
    assert_eq!(reload.detail["accepted"], true);
    assert_eq!(reload.detail["rechecked"], 1);
    assert_eq!(reload.detail["changed"], 1);
    assert_eq!(reload.detail["added"], serde_json::json!([]));
    assert!(reload.seq > verdict.seq, "the summary follows the verdicts it counts");
    assert!(
        herald::audit::verify(&env.config.daemon.state_dir.join("audit.jsonl"))
            .unwrap()
            .ok
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_held_by_the_same_rules_survives_a_reload_that_adds_another_rule() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "results.json",
        r#"{"text": "業績のお知らせ", "at": "2026-12-05T09:00:00+09:00"}"#,
    );
    env.daemon().run_once().await.unwrap();
    approve_by_hand(&env);
    write_config(&env, &with_legal_hold());
    let running = Running::start(&env);
    let reloaded = running.reload().await.unwrap();
    running.stop().await;
    assert_eq!(reloaded.changed, 0, "{reloaded:?}");
    assert_eq!(env.delivery_of("results.json")[0].state, State::Scheduled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_leaves_alone_deliveries_that_may_be_partly_published() {
    let env = Env::new(TOKYO);
    let later = r#""at": "2026-12-05T09:00:00+09:00""#;
    env.drop_post(
        "tokyo",
        "thread.json",
        format!(r#"{{"thread": ["新製品の一", "新製品の二"], {later}}}"#),
    );
    env.drop_post("tokyo", "unsure.json", format!(r#"{{"text": "新製品の件", {later}}}"#));
    env.daemon().run_once().await.unwrap();
    {
        // One has a part out, the other an attempt of unknown outcome.
        let store = herald::store::Store::open(&env.config.store_path()).unwrap();
        for mut d in store.deliveries().unwrap() {
            assert_eq!(d.state, State::Scheduled);
            if d.file == "thread.json" {
                d.parts_done = vec!["1001".into()];
            } else {
                d.unsure_since = Some(herald::schedule::Clock::now(&env.clock));
            }
            store.put_delivery(&d).unwrap();
        }
        store.flush_blocking().unwrap();
    }
    // The new rules block the product name.
    let config = BASE_CONFIG.replace(
        r#"terms = ["社外秘", "極秘", "Confidential", "Internal Use Only"]"#,
        r#"terms = ["社外秘", "極秘", "Confidential", "Internal Use Only", "新製品"]"#,
    );
    write_config(&env, &format!("{config}\n{TOKYO}"));
    let running = Running::start(&env);
    let reloaded = running.reload().await.unwrap();
    running.stop().await;
    assert_eq!(reloaded.changed, 0, "{reloaded:?}");
    for f in ["thread.json", "unsure.json"] {
        assert_eq!(env.delivery_of(f)[0].state, State::Scheduled, "{f}");
        assert!(env.path("tokyo", f).exists(), "{f} stays in the queue");
    }
    assert!(!env.path("tokyo", "rejected/thread.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reload_is_audited() {
    let env = Env::new(TOKYO);
    let running = Running::start(&env);
    write_config(&env, "[daemon]\nthis is not toml");
    assert!(running.reload().await.is_err());
    running.stop().await;
    let entries = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
    let reload = entries.iter().rfind(|e| e.event == "config-reload").expect("audited");
    assert_eq!(reload.detail["accepted"], false);
    assert!(
        reload.detail["error"].as_str().unwrap().contains("herald.toml"),
        "{}",
        reload.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_judges_each_occurrence_at_its_own_instant() {
    let env = Env::new(TOKYO);
    // Mondays 09:00 JST; the next occurrence is 2026-12-07.
    env.drop_post(
        "tokyo",
        "weekly.json",
        r#"{"text": "今週の業績ハイライト", "cron": "0 9 * * 1"}"#,
    );
    let running = Running::start(&env);
    eventually("the occurrence is planned", || {
        herald::queue::note_path(&env.path("tokyo", "weekly.json")).exists()
    })
    .await;
    // A quiet period that covers 2026-12-07 but not today (2026-12-01).
    let rules =
        "[rulebooks.company.rules.quiet-period]\nearnings = [\"2026-12-10T15:00:00+09:00\"]\nwindow = \"5days\"\n";
    write_config(&env, &format!("{BASE_CONFIG}\n{TOKYO}\n{rules}"));
    let reloaded = running.reload().await.expect("a valid config reloads");
    assert_eq!(reloaded.changed, 1, "{reloaded:?}");
    running.stop().await;
    let ds = env.delivery_of("weekly.json");
    let d = ds
        .iter()
        .find(|d| d.occurrence == Some(common::utc("2026-12-07T00:00:00Z")))
        .unwrap();
    assert_eq!(d.state, State::Rejected, "{:?}", d.reason);
}
