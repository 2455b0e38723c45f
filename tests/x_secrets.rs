//! Secrets stay secret (DESIGN.md invariant 6): with OAuth 1.0a and 2.0
//! accounts, a token refresh, a lost answer and a failed refresh, no token
//! or secret appears in the logs (at trace level), the store or the notes.

mod common;
mod fake;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::utc;
use fake::{write_credentials, x_setup, NEWS};
use herald::platform::x::credentials;

fn token_state(env: &common::Env) -> credentials::TokenState {
    fake::token_state_of(env, "careers")
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_appear_in_logs_errors_or_the_store() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The global default: a thread-local one would lose events to tracing's
    // callsite cache when other tests run alongside (this file has one test).
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let (env, fake) = x_setup(&format!(
        "{NEWS}\n[[account]]\nid = \"careers\"\nplatform = \"x\"\nhandle = \"@careers\"\nowner = \"Taro\"\n"
    ))
    .await;
    let (_, o1) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &o1);
    let (_, o2) = fake.add_oauth2_user("careers");
    write_credentials(&env, "careers", &o2);
    fake.expire_access_tokens();
    fake.inject("POST /2/tweets", fake::x::Fault::LoseResponse);
    env.drop_post("news", "a.md", "ログの確認\n");
    env.drop_post("careers", "b.md", "ログの確認\n");
    env.run_at(utc("2026-12-01T02:10:00Z")).await;
    let due = env.next_due();
    if let Some(due) = due {
        env.run_at(due).await;
    }
    // And a refresh that fails.
    let mut spent = o2.clone();
    spent["oauth2"]["refresh_token"] = "RT-spent-SECRET".into();
    write_credentials(&env, "careers", &spent);
    fake.expire_access_tokens();
    env.drop_post("careers", "c.md", "三つ目\n");
    env.run_at(utc("2026-12-01T05:00:00Z")).await;

    let mut secrets: Vec<String> = vec![
        o1["oauth1"]["consumer_secret"].as_str().unwrap().into(),
        o1["oauth1"]["access_token_secret"].as_str().unwrap().into(),
        o2["oauth2"]["access_token"].as_str().unwrap().into(),
        o2["oauth2"]["refresh_token"].as_str().unwrap().into(),
        "RT-spent-SECRET".into(),
    ];
    if let Some(t) = token_state(&env).tokens {
        secrets.push(t.access_token);
        secrets.push(t.refresh_token);
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("refreshing the X access token"),
        "logs were captured: {logs}"
    );
    let deliveries = format!("{:?}", env.deliveries());
    let mut notes = String::new();
    for entry in walk(&env.folder("news"))
        .into_iter()
        .chain(walk(&env.folder("careers")))
    {
        if entry.to_string_lossy().ends_with(".herald.txt") {
            notes.push_str(&std::fs::read_to_string(entry).unwrap());
        }
    }
    assert!(!notes.is_empty());
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a token in the logs");
        assert!(!deliveries.contains(secret.as_str()), "a token in the store");
        assert!(!notes.contains(secret.as_str()), "a token in an owner's note");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
