//! X's price before the post (issue 17): `herald check` and `preview` show
//! what a post costs, the month's spend is kept per account, `status` and
//! the metrics show it, and a post that would go over a budget is held
//! (an emergency post never is).

mod common;

use std::sync::{Arc, Mutex};

use common::{utc, Env};
use herald::platform::{BoxFuture, Outgoing, Platform, Progress, PublishError, Published};
use herald::store::State;

/// Stands in for X: accepts every post (X's own fake is tested elsewhere).
#[derive(Default)]
struct Accepting {
    posted: Mutex<Vec<String>>,
}

impl Platform for Accepting {
    fn kind(&self) -> herald::config::PlatformKind {
        herald::config::PlatformKind::X
    }
    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        _: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(async move {
            let mut posted = self.posted.lock().unwrap();
            posted.extend(post.parts.iter().map(|p| p.text.clone()));
            let id = format!("{}", 1000 + posted.len());
            Ok(Published {
                url: Some(format!("https://x.com/brand/status/{id}")),
                remote_ids: vec![id],
                at: utc("2026-12-01T01:00:00Z"),
            })
        })
    }
    fn delete<'a>(&'a self, _: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async { Ok(()) })
    }
    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        Box::pin(async { Ok("@brand".into()) })
    }
}

fn env(budget: &str) -> Env {
    Env::new(&format!(
        r#"
[costs]
x_create = 0.015
x_create_with_url = 0.200
monthly_budget = 5.0

[[account]]
id = "brand"
platform = "x"
handle = "@brand"
owner = "Hanako"
time_zone = "Asia/Tokyo"
emergency = true
{budget}
"#
    ))
}

#[test]
fn check_and_preview_show_what_a_post_costs_on_x() {
    let env = env("");
    let file = env.drop_post(
        "brand",
        "launch.json",
        r#"{"thread": ["新商品です", "詳しくは https://example.com/new"]}"#,
    );
    let (code, out, err) = env.run_cli("check", &["--format", "json", file.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["cost"]["creates"], 1);
    assert_eq!(v["cost"]["creates_with_url"], 1);
    assert!((v["cost"]["usd"].as_f64().unwrap() - 0.215).abs() < 1e-9, "{v}");
    let (_, out, _) = env.run_cli("check", &[file.to_str().unwrap()]);
    assert!(
        out.contains("Cost on X: $0.215 (1 create(s) with a URL at $0.200, 1 without at $0.015)"),
        "{out}"
    );
    let (code, out, err) = env.run_cli("preview", &[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Cost on X: $0.215"), "{out}");
}

#[tokio::test]
async fn the_months_spend_is_recorded_and_a_post_over_the_budget_is_held_but_not_an_emergency() {
    // $0.30 a month for this account: one post with a URL ($0.20) fits, a second does not.
    let env = env("monthly_budget = 0.30");
    let x = Arc::new(Accepting::default());
    env.drop_post("brand", "a.json", r#"{"text": "詳しくは https://example.com/a"}"#);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    assert_eq!(env.delivery_of("a.json")[0].state, State::Published);

    env.drop_post("brand", "b.json", r#"{"text": "こちらも https://example.com/b"}"#);
    env.drop_post(
        "brand",
        "c.json",
        r#"{"text": "【緊急】臨時休業します https://example.com/c", "kind": "emergency"}"#,
    );
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    let b = &env.delivery_of("b.json")[0];
    assert_eq!(b.state, State::Held);
    assert!(
        b.reason
            .as_deref()
            .unwrap()
            .contains("budget for X of account brand ($0.30)"),
        "{:?}",
        b.reason
    );
    assert!(env.read("brand", "b.json.herald.txt").contains("HELD"));
    assert_eq!(
        env.delivery_of("c.json")[0].state,
        State::Published,
        "an emergency post is never held for money"
    );
    assert_eq!(x.posted.lock().unwrap().len(), 2);

    let (code, out, err) = env.run_cli("status", &["--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let spend = &v["x_spend"];
    assert_eq!(spend["month"], "2026-12");
    assert!(
        (spend["accounts"]["brand"]["usd"].as_f64().unwrap() - 0.4).abs() < 1e-9,
        "{spend}"
    );
    assert_eq!(spend["accounts"]["brand"]["creates_with_url"], 2);
    assert_eq!(spend["accounts"]["brand"]["budget_usd"], 0.3);
    let store = herald::store::Store::open(&env.config.store_path()).unwrap();
    let gauges = herald::metrics::Gauges::collect(&store, &env.config, utc("2026-12-01T02:00:00Z")).unwrap();
    drop(store);
    let text = herald::metrics::Metrics::new().render(&gauges);
    assert!(text.contains("herald_x_spend_usd{account=\"brand\"} 0.4"), "{text}");
    let (_, out, _) = env.run_cli("status", &[]);
    assert!(
        out.contains("X spend 2026-12: $0.400 of $5.00 (brand $0.400 of $0.30)"),
        "{out}"
    );

    // A new month releases it; a month late, it is then held for review
    // as any stale post is (no stale bursts), no longer for the budget.
    env.clock.set(utc("2027-01-01T00:00:10Z"));
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    let b = &env.delivery_of("b.json")[0];
    assert!(b.reason.as_deref().unwrap().starts_with("too late"), "{:?}", b.reason);
    let released = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "budget-release")
        .count();
    assert_eq!(released, 1);
}

#[tokio::test]
async fn a_budget_held_post_approved_by_an_admin_goes_out() {
    let env = env("monthly_budget = 0.0");
    let x = Arc::new(Accepting::default());
    env.drop_post("brand", "a.json", r#"{"text": "Launch day"}"#);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    let a = &env.delivery_of("a.json")[0];
    assert_eq!(a.state, State::Held);
    if common::running_as_root("approving a post another uid dropped") {
        std::os::unix::fs::chown(env.path("brand", "a.json"), Some(65534), None).unwrap();
        let (code, _, err) = env.run_cli("approve", &[&a.id]);
        assert_eq!(code, 0, "{err}");
        // The command ran on the real clock: the approved post is due from then.
        let approved = env.delivery_of("a.json")[0].clone();
        assert_eq!(approved.state, State::Scheduled);
        env.clock.set(approved.due);
        env.daemon_with("brand", x.clone()).run_once().await.unwrap();
        assert_eq!(env.delivery_of("a.json")[0].state, State::Published);
    }
}

/// Loses the answer to its first request (the outcome is unknown), then works.
#[derive(Default)]
struct LosesFirstAnswer {
    calls: Mutex<u32>,
}

impl Platform for LosesFirstAnswer {
    fn kind(&self) -> herald::config::PlatformKind {
        herald::config::PlatformKind::X
    }
    fn publish<'a>(&'a self, _: &'a Outgoing, _: &'a dyn Progress) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(async move {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            if *calls == 1 {
                return Err(PublishError::Unknown(
                    "the connection dropped after the request went out".into(),
                ));
            }
            Ok(Published {
                url: Some("https://x.com/brand/status/1".into()),
                remote_ids: vec!["1".into()],
                at: utc("2026-12-01T01:10:00Z"),
            })
        })
    }
    fn delete<'a>(&'a self, _: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async { Ok(()) })
    }
    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        Box::pin(async { Ok("@brand".into()) })
    }
}

#[tokio::test]
async fn reconciling_an_unknown_outcome_counts_the_posts_read() {
    let env = env("");
    let x = Arc::new(LosesFirstAnswer::default());
    env.drop_post("brand", "a.json", r#"{"text": "Launch day"}"#);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    let d = env.delivery_of("a.json")[0].clone();
    assert_eq!(d.state, State::Scheduled, "retried later");
    env.clock.set(d.due);
    env.daemon_with("brand", x.clone()).run_once().await.unwrap();
    assert_eq!(env.delivery_of("a.json")[0].state, State::Published);
    let ledger = herald::alerts::costs::read(&env.config.daemon.state_dir, d.due);
    let spend = &ledger.accounts["brand"];
    assert_eq!(spend.reads, 100, "one reconciliation, counted at the most it reads");
    assert_eq!(spend.creates, 1);
    assert!((spend.usd - (0.015 + 100.0 * 0.005)).abs() < 1e-9, "{spend:?}");
}
