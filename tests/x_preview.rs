//! `herald preview`, run as the binary: the requests it shows conform to X's
//! OpenAPI description, come in the order herald sends them, redact the
//! Authorization header, and match what the client really sends to the fake.

mod common;
mod fake;

use common::utc;
use fake::schema;
use fake::{news_on_x, x_setup, NEWS};
use serde_json::Value;

/// `herald preview --config <env> ARGS`.
fn preview(env: &common::Env, args: &[&str]) -> (i32, String, String) {
    env.run_cli("preview", args)
}

/// The spec's path template for a request path (ids become `{id}`).
fn template(path: &str) -> String {
    path.split('/')
        .map(|p| {
            if p.len() > 2 && p.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn preview_shows_requests_that_conform_to_the_openapi_description() {
    let (env, _fake) = x_setup(NEWS).await;
    std::fs::write(env.path("news", "photo.png"), b"\x89PNG\r\n\x1a\nimage").unwrap();
    let mut clip = b"\0\0\0\x18ftypisom".to_vec();
    clip.resize(1024 * 1024 + 1, 0);
    std::fs::write(env.path("news", "clip.mp4"), clip).unwrap();
    let file = env.drop_post(
        "news",
        "thread.json",
        r#"{"thread": [{"text": "写真", "media": [{"path": "photo.png", "alt": "写真"}]}, {"text": "動画", "media": [{"path": "clip.mp4", "alt": "動画"}]}, "三つ目"]}"#,
    );
    let (code, out, err) = preview(&env, &["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let requests = v["requests"].as_array().unwrap();
    let base = env.config.x.api_base.clone();
    let mut shown = Vec::new();
    for r in requests {
        assert_eq!(r["headers"]["authorization"], "<redacted>");
        let url = r["url"].as_str().unwrap();
        let path = url.strip_prefix(&base).unwrap().split('?').next().unwrap();
        let method = r["method"].as_str().unwrap();
        shown.push(format!("{method} {}", template(path)));
        if !r["body"].is_null() {
            let errors = schema::validate(
                &r["body"],
                schema::request_schema(&template(path), &method.to_lowercase()),
            );
            assert!(errors.is_empty(), "{method} {path}: {errors:?}\n{}", r["body"]);
        }
    }
    assert_eq!(
        shown,
        [
            "POST /2/media/upload",
            "POST /2/media/metadata",
            "POST /2/tweets",
            "POST /2/media/upload/initialize",
            "POST /2/media/upload/{id}/append",
            "POST /2/media/upload/{id}/append",
            "POST /2/media/upload/{id}/finalize",
            "GET /2/media/upload",
            // No alt text for the video: X takes it for images and GIFs only.
            "POST /2/tweets",
            "POST /2/tweets",
        ]
    );
    let first = &requests[2]["body"];
    let second = &requests[8]["body"];
    assert_eq!(first["media"]["media_ids"].as_array().unwrap().len(), 1);
    assert_eq!(second["media"]["media_ids"].as_array().unwrap().len(), 1);
    assert!(first.get("reply").is_none());
    let first_id = second["reply"]["in_reply_to_tweet_id"].as_str().unwrap();
    assert!(v["placeholders"][first_id].as_str().unwrap().contains("part 1"));
    // The human form shows the same requests.
    let (code, human, _) = preview(&env, &[file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(human.contains("10 request(s)"), "{human}");
    assert!(human.contains("Authorization: <redacted>"), "{human}");
    assert!(human.contains(&format!("POST {base}/2/tweets")), "{human}");
}

#[tokio::test]
async fn preview_bodies_are_what_the_client_sends() {
    let (env, fake, user) = news_on_x().await;
    let file = env.drop_post("news", "t.json", r#"{"thread": ["一", "二", "三"]}"#);
    let (code, out, err) = preview(&env, &["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let mut planned: Vec<Value> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].clone())
        .collect();

    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 3);
    let sent: Vec<Value> = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/2/tweets")
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    // Placeholders stand for the ids X assigned.
    for (i, body) in planned.iter_mut().enumerate().skip(1) {
        body["reply"]["in_reply_to_tweet_id"] = Value::String(posts[i - 1].id.clone());
    }
    assert_eq!(planned, sent);
}

#[test]
fn the_validator_refuses_what_x_refuses() {
    let schema = schema::request_schema("/2/tweets", "post");
    assert!(schema::validate(&serde_json::json!({"text": "a"}), schema).is_empty());
    let errors = schema::validate(&serde_json::json!({"text": "a", "in_reply_to": "1"}), schema);
    assert_eq!(
        errors,
        ["$.in_reply_to: is not defined in the schema and the schema does not allow additional properties"]
    );
    let errors = schema::validate(
        &serde_json::json!({"text": "a", "reply": {"in_reply_to_tweet_id": "abc"}}),
        schema,
    );
    assert!(errors[0].contains("pattern"), "{errors:?}");
    let errors = schema::validate(
        &serde_json::json!({"text": "a", "media": {"media_ids": ["1", "2", "3", "4", "5"]}}),
        schema,
    );
    assert!(errors[0].contains("maximum of 4"), "{errors:?}");
}

#[tokio::test]
async fn preview_refuses_a_file_outside_an_x_account() {
    let (env, _fake) = x_setup(&format!(
        "{NEWS}\n[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@tokyo\"\nowner = \"Hanako\"\n"
    ))
    .await;
    let file = env.drop_post("tokyo", "a.md", "こんにちは\n");
    let (code, _, err) = preview(&env, &[file.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("X accounts only"), "{err}");
}

#[tokio::test]
async fn preview_refuses_what_x_would_refuse_in_the_media() {
    let (env, _fake) = x_setup(NEWS).await;
    for i in 1..=5 {
        std::fs::write(env.path("news", &format!("p{i}.png")), b"\x89PNG\r\n\x1a\nimage").unwrap();
    }
    let file = env.drop_post(
        "news",
        "five.json",
        r#"{"text": "五枚",
  "media": [{"path": "p1.png", "alt": "1"}, {"path": "p2.png", "alt": "2"}, {"path": "p3.png", "alt": "3"},
            {"path": "p4.png", "alt": "4"}, {"path": "p5.png", "alt": "5"}]}"#,
    );
    let (code, out, err) = preview(&env, &[file.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.is_empty(), "no plan: {out}");
    assert!(err.contains("at most 4 photos"), "{err}");
    assert!(err.contains("five.json:3:"), "names the file, line and column: {err}");
}
