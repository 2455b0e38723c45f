//! The fake X server is only worth its tests if it refuses what X refuses.
//! These tests speak to it directly (signed requests over real HTTP) and
//! through herald's client: bad signatures, unknown fields, over-long text,
//! replies to nothing, rate-limit headers, the token endpoint, deletion.

mod common;
mod fake;

use fake::x::{Fault, CLIENT_ID, DUPLICATE_DETAIL, INVALID_TOKEN_DESCRIPTION};
use fake::{outgoing, write_credentials, x_client, x_setup, NEWS};
use herald::platform::x::oauth1;
use herald::platform::{NoProgress, Platform, PublishError};
use serde_json::{json, Value};

fn creds_of(file: &Value) -> oauth1::Credentials {
    let o = &file["oauth1"];
    oauth1::Credentials {
        consumer_key: o["consumer_key"].as_str().unwrap().into(),
        consumer_secret: o["consumer_secret"].as_str().unwrap().into(),
        token: o["access_token"].as_str().unwrap().into(),
        token_secret: o["access_token_secret"].as_str().unwrap().into(),
    }
}

async fn post_json(
    base: &str,
    creds: &oauth1::Credentials,
    path: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = format!("{base}{path}");
    let auth = oauth1::authorize(creds, "POST", &url, &[]).unwrap();
    let resp = reqwest::Client::new()
        .post(&url)
        .header("authorization", auth)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_fake_checks_signatures_bodies_and_lengths_like_x() {
    let (_env, fake) = x_setup(NEWS).await;
    let (user, file) = fake.add_oauth1_user("news");
    let creds = creds_of(&file);

    let (status, headers, body) = post_json(&fake.base, &creds, "/2/tweets", &json!({"text": "hello"})).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["data"]["id"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(headers["x-rate-limit-limit"], "100");
    assert_eq!(headers["x-rate-limit-remaining"], "99");
    assert!(headers.contains_key("x-rate-limit-reset"));
    assert!(headers.contains_key("x-user-limit-24hour-remaining"));

    // A wrong secret: the signature does not verify.
    let mut wrong = creds.clone();
    wrong.token_secret = "not-the-secret".into();
    let (status, _, body) = post_json(&fake.base, &wrong, "/2/tweets", &json!({"text": "x"})).await;
    assert_eq!(status, 401);
    assert_eq!(body["title"], "Unauthorized");

    // An unknown field: X's invalid-request problem.
    let (status, _, body) = post_json(
        &fake.base,
        &creds,
        "/2/tweets",
        &json!({"text": "x", "in_reply_to_status_id": "1"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["title"], "Invalid Request");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("$.in_reply_to_status_id"));

    // 141 Japanese characters weigh 282: X answers 400.
    let (status, _, body) = post_json(&fake.base, &creds, "/2/tweets", &json!({"text": "あ".repeat(141)})).await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"], fake::x::TOO_LONG_DETAIL);
    let (status, _, _) = post_json(&fake.base, &creds, "/2/tweets", &json!({"text": "あ".repeat(140)})).await;
    assert_eq!(status, 201);

    let (status, _, body) = post_json(&fake.base, &creds, "/2/tweets", &json!({"text": "hello"})).await;
    assert_eq!(status, 403);
    assert_eq!(body["detail"], DUPLICATE_DETAIL);

    let (status, _, _) = post_json(
        &fake.base,
        &creds,
        "/2/tweets",
        &json!({"text": "reply", "reply": {"in_reply_to_tweet_id": "1234567890"}}),
    )
    .await;
    assert_eq!(status, 403, "a reply needs an existing post");
    assert_eq!(fake.posts(&user).len(), 2);
}

#[tokio::test]
async fn the_token_endpoint_rotates_single_use_refresh_tokens() {
    let (_env, fake) = x_setup(NEWS).await;
    let (_, file) = fake.add_oauth2_user("news");
    let refresh = file["oauth2"]["refresh_token"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let url = format!("{}/2/oauth2/token", fake.base);
    let ask = |token: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let resp = http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "grant_type=refresh_token&refresh_token={token}&client_id={CLIENT_ID}"
                ))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = ask(refresh.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_ne!(body["refresh_token"].as_str().unwrap(), refresh);
    let (status, body) = ask(refresh).await;
    assert_eq!(status, 400, "a refresh token works once");
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": INVALID_TOKEN_DESCRIPTION})
    );
}

#[tokio::test]
async fn the_client_deletes_a_thread_and_checks_the_account() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, file) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &file);
    let client = x_client(&env, "news");
    assert_eq!(client.check_account().await.unwrap(), "@news");
    let post = outgoing("news", "d1", &["a", "b"]);
    let published = client.publish(&post, &NoProgress).await.unwrap();
    assert_eq!(fake.posts(&user).len(), 2);
    client.delete(&published.remote_ids).await.unwrap();
    assert!(fake.posts(&user).is_empty());
    // Deleting again is not an error: they are gone.
    client.delete(&published.remote_ids).await.unwrap();
    let deletes: Vec<String> = fake
        .seen()
        .iter()
        .filter(|s| s.method == "DELETE")
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        deletes[0],
        format!("/2/tweets/{}", published.remote_ids[1]),
        "last reply first"
    );
}

#[tokio::test]
async fn the_client_classifies_every_answer() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, file) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &file);
    let client = x_client(&env, "news");
    let one = |text: &str| outgoing("news", text, &[text]);
    fake.inject("POST /2/tweets", Fault::Status(503));
    let r = client.publish(&one("a"), &NoProgress).await;
    assert!(
        matches!(r, Err(PublishError::Unknown(_))),
        "{r:?}: X does not say whether a create that answered 5xx made the post"
    );
    fake.inject("GET /2/users/me", Fault::Status(503));
    let r = client.check_account().await;
    assert!(
        matches!(r, Err(PublishError::Transient(_))),
        "{r:?}: a read that failed changed nothing"
    );
    fake.inject("POST /2/tweets", Fault::Drop);
    let r = client.publish(&one("b"), &NoProgress).await;
    assert!(
        matches!(r, Err(PublishError::Unknown(_))),
        "{r:?}: a dropped connection after sending is unknown"
    );
    fake.inject("POST /2/tweets", Fault::Delay(std::time::Duration::from_secs(2)));
    assert!(matches!(
        client.publish(&one("c"), &NoProgress).await,
        Err(PublishError::Unknown(_))
    ));
    let reset = herald::schedule::Clock::now(&env.clock) + chrono::TimeDelta::minutes(7);
    fake.rate_limit_next(&user, "POST /2/tweets", reset);
    match client.publish(&one("d"), &NoProgress).await {
        Err(PublishError::RateLimited { until, .. }) => assert_eq!(until, reset),
        other => panic!("{other:?}"),
    }
    // Still limited until the reset, then open again.
    assert!(matches!(
        client.publish(&one("d"), &NoProgress).await,
        Err(PublishError::RateLimited { .. })
    ));
    env.clock.set(reset);
    // "c" was made although its answer came too late: a repeat is refused as X does.
    match client.publish(&one("c"), &NoProgress).await {
        Err(PublishError::Permanent(why)) => assert_eq!(why, DUPLICATE_DETAIL),
        other => panic!("{other:?}"),
    }
    // Unknown keys: 401 → needs re-authorization, not a retry.
    let mut wrong = file.clone();
    wrong["oauth1"]["access_token_secret"] = "wrong".into();
    write_credentials(&env, "news", &wrong);
    let bad = x_client(&env, "news");
    let r = bad.publish(&one("e"), &NoProgress).await;
    assert!(matches!(r, Err(PublishError::NeedsReauth(_))), "{r:?}");
}

#[derive(serde::Deserialize)]
struct SignatureVector {
    source: String,
    method: String,
    url: String,
    authorization: String,
    form: String,
    consumer_secret: String,
    token_secret: String,
    signature: String,
}

#[test]
fn the_fakes_own_oauth1_check_matches_the_published_examples() {
    let vectors: Vec<SignatureVector> =
        serde_json::from_str(include_str!("data/x/oauth1_vectors.json")).expect("oauth1_vectors.json parses");
    assert!(vectors.len() >= 3);
    for v in &vectors {
        let params = fake::oauth1::header_params(&v.authorization).expect(&v.source);
        let sent = params
            .iter()
            .find(|(k, _)| k == "oauth_signature")
            .map(|(_, s)| s.clone());
        assert_eq!(sent.as_deref(), Some(v.signature.as_str()), "{}", v.source);
        let expected =
            fake::oauth1::expected_signature(&v.method, &v.url, &v.form, &params, &v.consumer_secret, &v.token_secret);
        assert_eq!(expected, v.signature, "{}", v.source);
        // Anything signed that changes changes the signature.
        let tampered = fake::oauth1::expected_signature(
            &v.method,
            &format!("{}x", v.url),
            &v.form,
            &params,
            &v.consumer_secret,
            &v.token_secret,
        );
        assert_ne!(tampered, v.signature, "{}", v.source);
        let wrong_secret = fake::oauth1::expected_signature(
            &v.method,
            &v.url,
            &v.form,
            &params,
            &v.consumer_secret,
            "not-the-secret",
        );
        assert_ne!(wrong_secret, v.signature, "{}", v.source);
    }
}

#[tokio::test]
async fn a_confidential_client_refreshes_its_token_with_http_basic() {
    use fake::x::{CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET};
    let (env, fake) = x_setup(NEWS).await;
    let (user, mut file) = fake.add_oauth2_user("news");
    file["oauth2"]["client_id"] = CONFIDENTIAL_CLIENT_ID.into();
    file["oauth2"]["client_secret"] = CONFIDENTIAL_CLIENT_SECRET.into();
    write_credentials(&env, "news", &file);
    fake.expire_access_tokens();
    env.drop_post("news", "a.md", "機密クライアント\n");
    env.run_at(common::utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(fake.basic_token_requests(), 1, "refreshed with HTTP Basic");
    assert_eq!(fake.posts(&user).len(), 1);
    let token_request = fake.seen().into_iter().find(|s| s.path == "/2/oauth2/token").unwrap();
    assert!(token_request.authorization.starts_with("Basic "));
    assert!(
        !token_request.body.contains(CONFIDENTIAL_CLIENT_SECRET),
        "the secret travels in the header only"
    );

    // A wrong secret is refused as X refuses it: the account is held.
    let (user2, mut file) = fake.add_oauth2_user("news2");
    file["oauth2"]["client_id"] = CONFIDENTIAL_CLIENT_ID.into();
    file["oauth2"]["client_secret"] = "wrong".into();
    write_credentials(&env, "news", &file);
    fake.expire_access_tokens();
    env.drop_post("news", "b.md", "二つ目のお知らせ\n");
    env.run_at(common::utc("2026-12-01T02:00:00Z")).await;
    let d = &env.delivery_of("b.md")[0];
    assert_eq!(d.state, herald::store::State::Held, "{:?}", d.reason);
    assert!(fake.posts(&user2).is_empty());
    assert_eq!(fake.basic_token_requests(), 1, "the wrong secret was refused");
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LengthVector {
    text: String,
    weighted_length: usize,
}

#[test]
fn the_fakes_own_length_count_matches_the_golden_vectors() {
    let vectors: Vec<LengthVector> =
        serde_json::from_str(include_str!("data/x/length_vectors.json")).expect("length_vectors.json parses");
    let known: Vec<&str> = fake::length::KNOWN_DIFFERENCES.iter().map(|(t, _)| *t).collect();
    let mut wrong = Vec::new();
    let mut differs = Vec::new();
    for v in &vectors {
        let got = fake::length::weighted_length(&v.text);
        if known.contains(&v.text.as_str()) {
            differs.push(&v.text);
            assert_ne!(
                got, v.weighted_length,
                "{:?} is listed as a known difference but agrees",
                v.text
            );
        } else if got != v.weighted_length {
            wrong.push(format!(
                "{:?}: twitter-text {}, the fake {got}",
                v.text, v.weighted_length
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        vectors.len(),
        wrong.join("\n")
    );
    assert_eq!(differs.len(), known.len(), "every known difference is a golden vector");
    assert!(vectors.len() - known.len() >= 250);
}
