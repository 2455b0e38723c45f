//! The yearly attestation gate (issue 17): a lapsed owner's posts are held
//! with a note saying why and how to renew, owners are reminded ahead of
//! time, `herald accounts` shows who is due, and a renewal releases them.

mod common;

use common::{utc, Env, TOKYO};
use herald::store::State;

const GATE: &str = r#"
[attestation]
period = "365d"
warn = ["30d", "7d"]
renew = "take the BCG course at https://learn.example/bcg"
"#;

fn env(attested: &str) -> Env {
    Env::new(&format!("{GATE}\n{TOKYO}attested = \"{attested}\"\n"))
}

fn audit_events(env: &Env, name: &str) -> Vec<herald::audit::Entry> {
    herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl"))
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.event == name)
        .collect()
}

#[tokio::test]
async fn a_lapsed_owners_post_is_held_with_how_to_renew_and_goes_out_after_renewal() {
    // Attested 2025-11-01: good through 2026-10-31; the clock says 2026-12-01.
    let mut env = env("2025-11-01");
    env.drop_post("tokyo", "promo.json", r#"{"text": "新商品のお知らせ"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("promo.json")[0];
    assert_eq!(d.state, State::Held);
    let reason = d.reason.as_deref().unwrap();
    assert!(reason.contains("ran out after 2026-10-31"), "{reason}");
    assert!(env.outbox("tokyo").is_empty(), "nothing published");
    let note = env.read("tokyo", "promo.json.herald.txt");
    assert!(note.contains("HELD"), "{note}");
    assert!(
        note.contains("https://learn.example/bcg"),
        "the note says how to renew: {note}"
    );
    assert_eq!(audit_events(&env, "attestation-hold").len(), 1);

    // The registry records the renewal; the next start releases the post.
    env.config.accounts.get_mut("tokyo").unwrap().attested = Some("2026-12-01".parse().unwrap());
    env.run_at(utc("2026-12-01T01:05:00Z")).await;
    let d = &env.delivery_of("promo.json")[0];
    assert_eq!(d.state, State::Published, "{:?}", d.reason);
    assert_eq!(env.outbox("tokyo").len(), 1);
    assert_eq!(audit_events(&env, "attestation-release").len(), 1);
}

#[tokio::test]
async fn an_account_with_no_attestation_on_record_is_held_when_the_gate_is_on() {
    let env = Env::new(&format!("{GATE}\n{TOKYO}"));
    env.drop_post("tokyo", "a.json", r#"{"text": "こんにちは"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("a.json")[0];
    assert_eq!(d.state, State::Held);
    assert!(d.reason.as_deref().unwrap().contains("not on record"), "{:?}", d.reason);
}

#[tokio::test]
async fn a_current_owner_publishes_and_is_reminded_once_per_warning() {
    // Good through 2026-12-25: 24 days left on 2026-12-01 (past the 30-day warning).
    let env = env("2025-12-26");
    env.drop_post("tokyo", "a.json", r#"{"text": "こんにちは"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(env.delivery_of("a.json")[0].state, State::Published);
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let reminders = audit_events(&env, "attestation-reminder");
    assert_eq!(
        reminders.len(),
        1,
        "one reminder for the 30-day warning, however many passes"
    );
    assert_eq!(reminders[0].detail["warn_days"], 30);
    // Seven days ahead, the second.
    env.run_at(utc("2026-12-19T01:00:00Z")).await;
    let reminders = audit_events(&env, "attestation-reminder");
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[1].detail["warn_days"], 7);
}

#[test]
fn herald_accounts_shows_who_is_due() {
    let env = Env::new(&format!(
        "{GATE}\n{TOKYO}attested = \"2020-01-01\"\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"Taro\"\nattested = \"2999-01-01\"\n"
    ));
    let (code, out, err) = env.run_cli("accounts", &["--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["attestation_due"], serde_json::json!(["tokyo"]));
    let tokyo = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "tokyo")
        .unwrap();
    assert_eq!(tokyo["attestation"]["state"], "lapsed");
    assert_eq!(tokyo["attestation"]["posts_held"], true);
    let (code, out, _) = env.run_cli("accounts", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("ATTESTATION tokyo: LAPSED after 2020-12-30"), "{out}");
    assert!(!out.contains("ATTESTATION osaka"), "{out}");
}

#[test]
fn a_bad_attestation_date_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("queue/tokyo")).unwrap();
    let text = format!("{}\n{GATE}\n{TOKYO}attested = \"April 2026\"\n", common::BASE_CONFIG);
    let err = herald::config::parse(&dir.path().join("herald.toml"), &text).unwrap_err();
    assert!(err.message.contains("like 2026-04-01"), "{}", err.message);
    let line = text.lines().position(|l| l.starts_with("attested")).unwrap() + 1;
    assert_eq!(err.position.unwrap().line, line);
}
