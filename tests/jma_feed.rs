//! The disaster feed (issue 17): herald polls a JMA-format Atom feed (a
//! local fake on 127.0.0.1 serving messages written after JMA's format),
//! raises the disaster hold exactly as `herald disaster-hold declare` does
//! when a real message meets a trigger, ignores drills, lifts on a
//! cancellation only what it raised itself, and keeps publishing when the
//! feed is down.

mod common;
#[allow(dead_code)] // the fake X uses the rest
#[path = "fake/http.rs"]
mod http;
#[path = "fake/jma.rs"]
mod jma_fake;

use std::time::Duration;

use common::{eventually, utc, Env, Running};
use herald::audit::Actor;
use herald::store::State;
use jma_fake::{FakeJma, Fault};

/// An account allowed to send emergency posts, following the disaster-hold rule.
const ACCOUNTS: &str = r#"
[rulebooks.company.rules.disaster-hold]

[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
time_zone = "Asia/Tokyo"
emergency = true
"#;

fn env(fake: &FakeJma, triggers: &str) -> Env {
    Env::new(&format!(
        "{ACCOUNTS}\n[jma]\nenabled = true\nfeeds = [\"{}\"]\ninterval = \"60s\"\nremind_after = \"3h\"\n{triggers}",
        fake.feed_url()
    ))
}

const ANYWHERE_5: &str = "[[jma.trigger]]\nmax_intensity = \"5-\"\n\n[[jma.trigger]]\ntsunami = \"warning\"\n";

fn hold(env: &Env) -> Option<herald::control::Stop> {
    herald::control::disaster_hold(&env.config.daemon.state_dir)
}

fn audit(env: &Env, event: &str) -> Vec<herald::audit::Entry> {
    herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl"))
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.event == event)
        .collect()
}

/// Lets the poller come round again (it sleeps on the daemon's clock).
fn next_poll(env: &Env) {
    env.clock.advance(chrono::TimeDelta::seconds(61));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_earthquake_raises_the_hold_the_next_poll_is_conditional_and_the_cancellation_lifts_it() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.publish(
        "urn:uuid:q1",
        "震源・震度に関する情報",
        "2026-12-01T00:55:00Z",
        "vxse53_quake.xml",
    );
    let daemon = Running::start(env.daemon());

    eventually("the hold is raised", || hold(&env).is_some()).await;
    let stop = hold(&env).unwrap();
    assert_eq!(stop.by, Actor::daemon());
    assert!(stop.reason.contains("震度5強"), "{}", stop.reason);
    assert!(stop.reason.contains("EventID 20261201095200"), "{}", stop.reason);
    let declared = audit(&env, "disaster-hold");
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0].detail["source"]["event_id"], "20261201095200");
    assert!(declared[0].detail["source"]["link"]
        .as_str()
        .unwrap()
        .ends_with("vxse53_quake.xml"));

    // The next poll sends the validator it got and is answered 304; the
    // message is not fetched again.
    next_poll(&env);
    eventually("a second feed request", || fake.feed_requests().len() >= 2).await;
    let second = &fake.feed_requests()[1];
    assert_eq!(second.header("if-none-match"), Some("\"eqvol-v1\""));
    assert!(second.header("if-modified-since").is_some());
    let fetched = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("vxse53_quake.xml"))
        .count();
    assert_eq!(fetched, 1, "each message is fetched once");

    // JMA cancels the message: herald lifts the hold it raised.
    fake.publish(
        "urn:uuid:q1-cancel",
        "震源・震度に関する情報",
        "2026-12-01T00:58:00Z",
        "vxse53_cancel.xml",
    );
    next_poll(&env);
    eventually("the hold is lifted", || hold(&env).is_none()).await;
    let lifted = audit(&env, "disaster-hold");
    assert_eq!(lifted.last().unwrap().detail["declared"], false);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_never_raises_the_hold_and_a_tsunami_warning_does() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.publish("urn:uuid:drill", "震度速報", "2026-12-01T00:59:00Z", "vxse51_drill.xml");
    let daemon = Running::start(env.daemon());
    let state = env.config.daemon.state_dir.join("jma/state.json");
    eventually("the drill was read", || {
        std::fs::read_to_string(&state).is_ok_and(|s| s.contains("urn:uuid:drill"))
    })
    .await;
    assert!(
        fake.requests().iter().any(|r| r.path.ends_with("vxse51_drill.xml")),
        "the drill message was fetched and read"
    );
    assert!(hold(&env).is_none(), "訓練 is never acted on, even at intensity 6+");

    fake.publish(
        "urn:uuid:tsunami",
        "津波警報・注意報・予報a",
        "2026-12-01T00:56:00Z",
        "vtse41_tsunami.xml",
    );
    next_poll(&env);
    eventually("the tsunami warning raises the hold", || hold(&env).is_some()).await;
    assert!(
        hold(&env).unwrap().reason.contains("津波警報"),
        "{}",
        hold(&env).unwrap().reason
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_never_lifts_a_hold_a_person_declared() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    let (code, _, err) = env.run_cli(
        "disaster-hold",
        &["declare", "--reason", "typhoon, declared by the duty officer"],
    );
    assert_eq!(code, 0, "{err}");
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.publish(
        "urn:uuid:q1",
        "震源・震度に関する情報",
        "2026-12-01T00:55:00Z",
        "vxse53_quake.xml",
    );
    fake.publish(
        "urn:uuid:q1-cancel",
        "震源・震度に関する情報",
        "2026-12-01T00:58:00Z",
        "vxse53_cancel.xml",
    );
    let daemon = Running::start(env.daemon());
    eventually("the feed asked to lift and was refused", || {
        audit(&env, "disaster-hold")
            .iter()
            .any(|e| e.detail["kept"] == "declared by a person")
    })
    .await;
    let stop = hold(&env).expect("the person's hold stands");
    assert!(stop.reason.contains("duty officer"), "{}", stop.reason);
    assert_ne!(stop.by, Actor::daemon());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_below_the_threshold_lifts_what_the_first_report_raised() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    env.clock.set(utc("2026-12-01T01:20:00Z"));
    fake.publish(
        "urn:uuid:first",
        "震源・震度に関する情報",
        "2026-12-01T01:16:00Z",
        "vxse53_first.xml",
    );
    let daemon = Running::start(env.daemon());
    eventually("5- raises", || hold(&env).is_some()).await;
    fake.publish(
        "urn:uuid:fix",
        "震源・震度に関する情報",
        "2026-12-01T01:18:00Z",
        "vxse53_correction.xml",
    );
    next_poll(&env);
    eventually("corrected to 4: lifted", || hold(&env).is_none()).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_for_listed_prefectures_holds_only_its_accounts() {
    let fake = FakeJma::start().await;
    let env = Env::new(&format!(
        "{ACCOUNTS}\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"Taro\"\n\n[jma]\nenabled = true\nfeeds = [\"{}\"]\n\n[[jma.trigger]]\nmax_intensity = \"3\"\nprefectures = [\"東京都\"]\naccounts = [\"tokyo\"]\n",
        fake.feed_url()
    ));
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.publish(
        "urn:uuid:q1",
        "震源・震度に関する情報",
        "2026-12-01T00:55:00Z",
        "vxse53_quake.xml",
    );
    let daemon = Running::start(env.daemon());
    let holds = || herald::control::stops::DisasterHolds::read(&env.config.daemon.state_dir);
    eventually("tokyo's hold", || holds().accounts.contains_key("tokyo")).await;
    assert!(holds().all.is_none(), "no company-wide hold");
    assert!(!holds().applies("osaka"));
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_a_fake_earthquake_holds_promotions_while_an_emergency_post_goes_out() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    // A promotion scheduled for later is already in the store when the earth shakes.
    env.drop_post(
        "tokyo",
        "later-sale.json",
        r#"{"text": "週末セール開催", "kind": "promotion", "at": "2026-12-01T12:00:00+09:00"}"#,
    );
    let daemon = Running::start(env.daemon());
    eventually("the promotion is scheduled", || {
        std::fs::read_to_string(env.path("tokyo", "later-sale.json.herald.txt")).is_ok_and(|n| n.contains("SCHEDULED"))
    })
    .await;

    fake.publish(
        "urn:uuid:q1",
        "震源・震度に関する情報",
        "2026-12-01T00:55:00Z",
        "vxse53_quake.xml",
    );
    next_poll(&env);
    eventually("the hold is raised", || hold(&env).is_some()).await;
    env.drop_post(
        "tokyo",
        "sale.json",
        r#"{"text": "本日限りのセール", "kind": "promotion"}"#,
    );
    env.drop_post(
        "tokyo",
        "shelter.json",
        r#"{"text": "【緊急】店舗は臨時休業します。避難所の情報はこちら", "kind": "emergency"}"#,
    );
    eventually("the emergency post is published", || {
        env.path("tokyo", "published/shelter.json").exists()
    })
    .await;
    eventually("both promotions are held", || {
        ["sale.json", "later-sale.json"].iter().all(|f| {
            std::fs::read_to_string(env.path("tokyo", &format!("{f}.herald.txt"))).is_ok_and(|n| n.contains("HELD"))
        })
    })
    .await;
    daemon.stop().await;
    assert!(env.outbox("tokyo").iter().all(|p| !p.to_string().contains("セール")));
    // sled lets go of the store a moment after the daemon returns.
    let mut all = Vec::new();
    eventually("the store is free", || {
        match herald::store::Store::open(&env.config.store_path()) {
            Ok(store) => {
                all = store.deliveries().unwrap();
                true
            }
            Err(_) => false,
        }
    })
    .await;
    for f in ["sale.json", "later-sale.json"] {
        let d = all.iter().find(|d| d.file == f).unwrap();
        assert_eq!(d.state, State::Held, "{f}");
        assert!(
            d.findings.iter().any(|x| x.rule == "disaster-hold"),
            "{f}: {:?}",
            d.findings
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_that_is_down_or_malformed_is_counted_and_shown_and_publishing_goes_on() {
    let fake = FakeJma::start().await;
    let env = Env::new(&format!(
        "{ACCOUNTS}\n[metrics]\nlisten = \"127.0.0.1:0\"\n\n[jma]\nenabled = true\nfeeds = [\"{}\"]\n{ANYWHERE_5}",
        fake.feed_url()
    ));
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.set_fault(Fault::ServerError);
    let daemon = env.daemon();
    let metrics = daemon.metrics_addr().unwrap();
    let running = Running::start(daemon);
    env.drop_post("tokyo", "news.json", r#"{"text": "営業時間のお知らせ"}"#);
    eventually("the post is published while the feed is down", || {
        env.path("tokyo", "published/news.json").exists()
    })
    .await;
    eventually("the failed poll is counted", || !fake.feed_requests().is_empty()).await;
    fake.set_fault(Fault::NotXml);
    next_poll(&env);
    eventually("the malformed feed is counted too", || fake.feed_requests().len() >= 2).await;
    let url = format!("http://{metrics}/metrics");
    let want = format!("herald_jma_feed_errors_total{{feed=\"{}\"}} 2", fake.feed_url());
    let mut text = String::new();
    for _ in 0..400 {
        text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        if text.contains(&want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(text.contains(&want), "{text}");
    assert!(text.contains("herald_jma_polls_total{result=\"error\"} 2"), "{text}");
    let (_, out, _) = env.run_cli("doctor", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let feed = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with("disaster feed"))
        .cloned()
        .expect("doctor shows the feed");
    assert_eq!(feed["status"], "warn", "{feed}");
    assert!(
        feed["detail"].as_str().unwrap().contains("not an Atom feed")
            || feed["detail"].as_str().unwrap().contains("well-formed"),
        "{feed}"
    );
    assert!(hold(&env).is_none(), "a feed that fails raises nothing");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_quiet_time_the_admins_are_reminded_and_the_hold_stays() {
    let fake = FakeJma::start().await;
    let env = env(&fake, ANYWHERE_5);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.publish(
        "urn:uuid:q1",
        "震源・震度に関する情報",
        "2026-12-01T00:55:00Z",
        "vxse53_quake.xml",
    );
    let daemon = Running::start(env.daemon());
    eventually("the hold is raised", || hold(&env).is_some()).await;
    next_poll(&env);
    eventually("a second poll", || fake.feed_requests().len() >= 2).await;
    assert!(
        audit(&env, "disaster-hold-reminder").is_empty(),
        "not before remind_after (3h)"
    );
    env.clock.advance(chrono::TimeDelta::hours(3));
    eventually("the reminder", || !audit(&env, "disaster-hold-reminder").is_empty()).await;
    next_poll(&env);
    eventually("another poll", || fake.feed_requests().len() >= 4).await;
    assert_eq!(audit(&env, "disaster-hold-reminder").len(), 1, "once per quiet time");
    assert!(hold(&env).is_some(), "herald never lifts the hold on its own");
    daemon.stop().await;
}

#[tokio::test]
async fn a_person_can_declare_and_lift_the_hold_of_one_account() {
    let env = Env::new(&format!(
        "{ACCOUNTS}\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"Taro\"\n"
    ));
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    let (code, _, err) = env.run_cli(
        "disaster-hold",
        &["declare", "--account", "tokyo", "--reason", "flooding in Tokyo"],
    );
    assert_eq!(code, 0, "{err}");
    let promo = r#"{"text": "週末セール開催", "kind": "promotion"}"#;
    env.drop_post("tokyo", "sale.json", promo);
    env.drop_post("osaka", "sale.json", promo);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let states: Vec<(String, State)> = env
        .delivery_of("sale.json")
        .into_iter()
        .map(|d| (d.account, d.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("osaka".to_string(), State::Published),
            ("tokyo".to_string(), State::Held)
        ]
    );
    let (_, out, _) = env.run_cli("status", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["disaster_holds"]["tokyo"]["reason"], "flooding in Tokyo");
    assert!(v["disaster_hold"].is_null());
    let (code, out, _) = env.run_cli("disaster-hold", &["lift", "--account", "tokyo", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["was_declared"], true, "{out}");
    assert!(!herald::control::stops::DisasterHolds::read(&env.config.daemon.state_dir).applies("tokyo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_special_warning_raises_the_hold_and_is_fetched_only_when_a_trigger_reads_it() {
    for (triggers, raises) in [
        // Only an intensity trigger: the weather warning is not even fetched.
        ("[[jma.trigger]]\nmax_intensity = \"5-\"\n", false),
        ("[[jma.trigger]]\nspecial_warning = true\n", true),
    ] {
        let fake = FakeJma::start().await;
        let env = env(&fake, triggers);
        env.clock.set(utc("2026-12-01T00:45:00Z"));
        fake.publish(
            "urn:uuid:rain",
            "気象特別警報・警報・注意報",
            "2026-12-01T00:40:00Z",
            "vpww53_special.xml",
        );
        let daemon = Running::start(env.daemon());
        let state = env.config.daemon.state_dir.join("jma/state.json");
        eventually("the entry was seen", || {
            std::fs::read_to_string(&state).is_ok_and(|s| s.contains("urn:uuid:rain"))
        })
        .await;
        let fetched = fake.requests().iter().any(|r| r.path.ends_with("vpww53_special.xml"));
        assert_eq!(fetched, raises, "{triggers}");
        match hold(&env) {
            Some(stop) => {
                assert!(raises, "{triggers}");
                assert!(stop.reason.contains("大雨特別警報"), "{}", stop.reason);
            }
            None => assert!(!raises, "{triggers}"),
        }
        daemon.stop().await;
    }
}
