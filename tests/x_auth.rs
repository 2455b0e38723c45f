//! X credentials and OAuth 2.0 against the fake: an expired access token is
//! refreshed once and the rotated refresh token survives a restart; a failed
//! refresh marks the account "needs re-authorization" and holds, without
//! looping; credentials files readable by others are refused; `herald auth
//! x`'s exchange works. (Secrets in logs: tests/x_secrets.rs.)

mod common;
mod fake;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use common::utc;
use fake::x::{CLIENT_ID, INVALID_TOKEN_DESCRIPTION};
use fake::{news_on_x, write_credentials, x_setup, NEWS};
use herald::platform::x::{credentials, oauth2};
use herald::store::State;

fn token_state(env: &common::Env) -> credentials::TokenState {
    fake::token_state_of(env, "news")
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_rotated_refresh_token_survives_a_restart() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) = fake.add_oauth2_user("news");
    write_credentials(&env, "news", &creds);
    let first_refresh = creds["oauth2"]["refresh_token"].as_str().unwrap().to_string();

    // Two hours and a bit later the access token has expired.
    fake.expire_access_tokens();
    env.drop_post("news", "one.md", "一つ目\n");
    env.run_at(utc("2026-12-01T02:10:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 1);
    assert_eq!(fake.token_requests(), 1, "refreshed exactly once");
    let state = token_state(&env);
    let rotated = state.tokens.as_ref().unwrap().refresh_token.clone();
    assert_ne!(rotated, first_refresh, "the rotated refresh token is kept");
    let path = credentials::token_state_file(&env.config, &env.config.accounts["news"]);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

    // A restart (a new daemon) expires again: it must use the rotated token,
    // since the first one is spent (the fake refuses a used token).
    fake.expire_access_tokens();
    env.drop_post("news", "two.md", "二つ目\n");
    env.run_at(utc("2026-12-01T04:20:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 2);
    assert_eq!(fake.token_requests(), 2);
    assert_eq!(env.delivery_of("two.md")[0].state, State::Published);
    assert!(fake
        .seen()
        .iter()
        .filter(|s| s.path == "/2/tweets")
        .all(|s| s.authorization.starts_with("Bearer ")));
}

#[tokio::test]
async fn a_failed_refresh_holds_the_account_and_never_loops() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, mut creds) = fake.add_oauth2_user("news");
    // A refresh token X no longer knows (already used elsewhere).
    creds["oauth2"]["refresh_token"] = "RT-spent".into();
    write_credentials(&env, "news", &creds);
    fake.expire_access_tokens();
    env.drop_post("news", "one.md", "一つ目\n");
    env.run_at(utc("2026-12-01T02:10:00Z")).await;

    let d = &env.delivery_of("one.md")[0];
    assert_eq!(d.state, State::Held);
    let reason = d.reason.clone().unwrap();
    assert!(reason.contains("re-authorization"), "{reason}");
    assert!(reason.contains(INVALID_TOKEN_DESCRIPTION), "{reason}");
    assert!(reason.contains("herald auth x news"), "{reason}");
    assert_eq!(fake.token_requests(), 1);
    let why = credentials::needs_reauth(&env.config, &env.config.accounts["news"]);
    assert!(
        why.is_some_and(|w| w.contains("invalid_request")),
        "persisted for herald status"
    );

    // Another post and another run (a restart): no new token request.
    env.drop_post("news", "two.md", "二つ目\n");
    env.run_at(utc("2026-12-01T03:00:00Z")).await;
    assert_eq!(fake.token_requests(), 1, "never loops");
    assert_eq!(env.delivery_of("two.md")[0].state, State::Held);
    assert!(fake.posts(&user).is_empty());

    // Re-authorizing (a new credentials file) lifts the mark.
    let (_, fresh) = {
        let code = fake.grant_code(
            &user,
            &oauth2::s256("v".repeat(43).as_str()),
            "http://127.0.0.1:8765/callback",
        );
        let http = reqwest::Client::new();
        let tokens = oauth2::exchange_code(
            &http,
            &format!("{}/2/oauth2/token", fake.base),
            CLIENT_ID,
            None,
            &code,
            "http://127.0.0.1:8765/callback",
            &"v".repeat(43),
            env.clock_now(),
        )
        .await
        .expect("code exchange");
        (
            (),
            serde_json::to_value(credentials::XCredentials::OAuth2(tokens)).unwrap(),
        )
    };
    write_credentials(&env, "news", &fresh);
    env.drop_post("news", "three.md", "三つ目\n");
    env.run_at(utc("2026-12-01T03:30:00Z")).await;
    assert_eq!(env.delivery_of("three.md")[0].state, State::Published);
    assert!(credentials::needs_reauth(&env.config, &env.config.accounts["news"]).is_none());
}

#[tokio::test]
async fn the_code_exchange_checks_pkce() {
    let (_env, fake) = x_setup(NEWS).await;
    let (user, _) = fake.add_oauth2_user("news");
    let pkce = oauth2::Pkce::new();
    let code = fake.grant_code(&user, &pkce.challenge, "http://127.0.0.1:8765/callback");
    let http = reqwest::Client::new();
    let token_url = format!("{}/2/oauth2/token", fake.base);
    let wrong = oauth2::exchange_code(
        &http,
        &token_url,
        CLIENT_ID,
        None,
        &code,
        "http://127.0.0.1:8765/callback",
        "not-the-verifier-not-the-verifier-not-the-verifier",
        utc("2026-12-01T00:00:00Z"),
    )
    .await
    .unwrap_err();
    assert!(wrong.to_string().contains(INVALID_TOKEN_DESCRIPTION), "{wrong}");
    let code = fake.grant_code(&user, &pkce.challenge, "http://127.0.0.1:8765/callback");
    let tokens = oauth2::exchange_code(
        &http,
        &token_url,
        CLIENT_ID,
        None,
        &code,
        "http://127.0.0.1:8765/callback",
        &pkce.verifier,
        utc("2026-12-01T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(tokens.expires_at, Some(utc("2026-12-01T02:00:00Z")));
    assert!(!tokens.refresh_token.is_empty());
}

#[tokio::test]
async fn a_credentials_file_readable_by_others_is_refused_and_holds_only_that_account() {
    let (env, fake, user) = news_on_x().await;
    let path = env.dir.path().join("credentials/x-news.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = match herald::platform::connect(&env.config, &env.config.accounts["news"], Arc::new(env.clock.clone())) {
        Ok(_) => panic!("a world-readable credentials file must be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("x-news.json"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");

    // The daemon still starts (other accounts keep publishing); this
    // account's post is held with the reason, and nothing reaches X.
    env.drop_post("news", "one.md", "一つ目\n");
    env.run_at(utc("2026-12-01T02:10:00Z")).await;
    assert!(fake.posts(&user).is_empty());
    let d = &env.delivery_of("one.md")[0];
    assert_eq!(d.state, State::Held);
    let reason = d.reason.clone().unwrap_or_default();
    assert!(reason.contains("chmod 600"), "{reason}");
    assert!(!reason.contains("SECRET"), "{reason}");
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockNow for common::Env {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use herald::schedule::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn two_requests_with_an_expired_token_refresh_once() {
    use herald::platform::{NoProgress, Outgoing, OutgoingPart, Platform};
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) = fake.add_oauth2_user("news");
    write_credentials(&env, "news", &creds);
    fake.expire_access_tokens();
    let client =
        herald::platform::x::XClient::connect(&env.config, &env.config.accounts["news"], Arc::new(env.clock.clone()))
            .unwrap();
    let one = |text: &str| Outgoing {
        account: "news".into(),
        delivery_id: text.into(),
        idempotency_key: text.into(),
        parts: vec![OutgoingPart {
            text: text.into(),
            media: vec![],
        }],
        done: vec![],
        unsure_since: None,
        unsure_after_id: None,
    };
    let (a, b) = (one("a"), one("b"));
    let (ra, rb) = tokio::join!(client.publish(&a, &NoProgress), client.publish(&b, &NoProgress));
    ra.unwrap();
    rb.unwrap();
    assert_eq!(
        fake.token_requests(),
        1,
        "the second request waited for the first refresh"
    );
    assert_eq!(fake.posts(&user).len(), 2);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_it_is_used() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, mut creds) = fake.add_oauth2_user("news");
    // Two minutes left at the time of the run: within the refresh margin.
    creds["oauth2"]["expires_at"] = "2026-12-01T00:32:00Z".into();
    write_credentials(&env, "news", &creds);
    env.drop_post("news", "one.md", "一つ目\n");
    env.run_at(utc("2026-12-01T00:30:00Z")).await;
    assert_eq!(fake.token_requests(), 1);
    assert_eq!(fake.posts(&user).len(), 1);
    assert!(
        fake.seen().iter().all(|s| s.status != 401),
        "refreshed ahead, not after a 401"
    );
    let state = token_state(&env).tokens.unwrap();
    assert_eq!(
        state.expires_at,
        Some(utc("2026-12-01T02:30:00Z")),
        "two hours from the refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_auth_x_connects_an_account_end_to_end() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let (env, fake) = x_setup(NEWS).await;
    let (user, _) = fake.add_oauth2_user("news");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["auth", "x", "news", "--client-id", CLIENT_ID, "--config"])
        .arg(&env.config.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("herald runs");
    let stderr = child.stderr.take().unwrap();
    // Read the printed URL (blocking IO off the runtime's threads).
    let (url, stderr) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        loop {
            line.clear();
            assert!(reader.read_line(&mut line).unwrap() > 0, "no URL printed");
            if let Some(url) = line.trim().strip_prefix("https://x.com/i/oauth2/authorize?") {
                return (url.to_string(), reader);
            }
        }
    })
    .await
    .unwrap();
    let params = herald::platform::x::oauth1::parse_form_urlencoded(&url).unwrap();
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("code_challenge_method"), "S256");
    assert_eq!(
        get("scope"),
        "tweet.read tweet.write users.read media.write offline.access"
    );
    // The owner authorizes in the browser; X redirects with a code.
    let redirect = get("redirect_uri");
    let code = fake.grant_code(&user, &get("code_challenge"), &redirect);
    let pasted = format!("{redirect}?state={}&code={code}\n", get("state"));
    let mut stdin = child.stdin.take().unwrap();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        stdin.write_all(pasted.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let mut rest = String::new();
        let mut stderr = stderr;
        stderr.read_to_string(&mut rest).unwrap();
        (out, rest)
    })
    .await
    .unwrap();
    let (out, err) = output;
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}{err}");
    assert!(stdout.contains("x-news.json"), "{stdout}");
    let path = env.dir.path().join("credentials/x-news.json");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let saved = credentials::read_credentials(&path).unwrap();
    let credentials::XCredentials::OAuth2(tokens) = saved else {
        panic!("OAuth 2.0 credentials expected");
    };
    assert!(!stdout.contains(&tokens.access_token) && !err.contains(&tokens.access_token));
    assert!(!stdout.contains(&tokens.refresh_token) && !err.contains(&tokens.refresh_token));

    // The account now publishes with them.
    env.drop_post("news", "one.md", "接続しました\n");
    env.run_at(utc("2026-12-01T00:10:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 1);
}

/// Credentials from a new authorization of `user` (what `herald auth x` writes).
async fn reauthorized(env: &common::Env, fake: &fake::x::FakeX, user: &str) -> serde_json::Value {
    let code = fake.grant_code(
        user,
        &oauth2::s256("v".repeat(43).as_str()),
        "http://127.0.0.1:8765/callback",
    );
    let tokens = oauth2::exchange_code(
        &reqwest::Client::new(),
        &format!("{}/2/oauth2/token", fake.base),
        CLIENT_ID,
        None,
        &code,
        "http://127.0.0.1:8765/callback",
        &"v".repeat(43),
        env.clock_now(),
    )
    .await
    .expect("code exchange");
    serde_json::to_value(credentials::XCredentials::OAuth2(tokens)).unwrap()
}

#[tokio::test]
async fn deliveries_held_for_re_authorization_are_released_after_it_subject_to_their_lateness() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, mut creds) = fake.add_oauth2_user("news");
    creds["oauth2"]["refresh_token"] = "RT-spent".into();
    write_credentials(&env, "news", &creds);
    fake.expire_access_tokens();
    // One may go out up to six hours late, the other only the account's 15 minutes.
    env.drop_post(
        "news",
        "patient.json",
        r#"{"text": "待てる投稿", "max_lateness": "6h"}"#,
    );
    env.drop_post("news", "urgent.json", r#"{"text": "急ぎの投稿"}"#);
    env.run_at(utc("2026-12-01T02:10:00Z")).await;
    for f in ["patient.json", "urgent.json"] {
        let d = &env.delivery_of(f)[0];
        assert_eq!(d.state, State::Held, "{f}");
        assert!(
            d.reason.as_deref().unwrap().contains("re-authorization"),
            "{f}: {:?}",
            d.reason
        );
    }
    // A restart without re-authorization releases nothing.
    env.run_at(utc("2026-12-01T02:30:00Z")).await;
    assert_eq!(env.delivery_of("patient.json")[0].state, State::Held);
    assert_eq!(fake.token_requests(), 1, "never loops");

    // `herald auth x` wrote new credentials; herald restarts an hour later.
    let fresh = reauthorized(&env, &fake, &user).await;
    write_credentials(&env, "news", &fresh);
    env.run_at(utc("2026-12-01T03:10:00Z")).await;
    let patient = &env.delivery_of("patient.json")[0];
    assert_eq!(patient.state, State::Published, "{:?}", patient.reason);
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].text, "待てる投稿");
    let urgent = &env.delivery_of("urgent.json")[0];
    assert_eq!(urgent.state, State::Held, "an hour late is past its max lateness");
    let reason = urgent.reason.as_deref().unwrap();
    assert!(
        reason.contains("max lateness") && !reason.contains("re-authorization"),
        "{reason}"
    );
    assert!(env.read("news", "urgent.json.herald.txt").contains("max lateness"));

    let entries = herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
    let release = entries.iter().find(|e| e.event == "reauth-release").expect("audited");
    assert_eq!(release.account.as_deref(), Some("news"));
    assert_eq!(release.actor, herald::audit::Actor::daemon());
    assert_eq!(release.detail["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(release.detail["late"], 1);
}
