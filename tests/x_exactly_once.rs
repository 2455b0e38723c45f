//! Exactly once on X, against a fake as strict as X: every answer X really
//! gives (media t.co links in returned text, 5xx after a create, "duplicate
//! content" after an unknown outcome, replies refused while X cannot see
//! their parent, account-wide refusals, app and usage-cap limits, a timeline
//! that cannot be read or lags) ends with the post published exactly once
//! (counted on the fake's side) or held with a reason an admin can act on:
//! never rejected while live, never posted twice.

mod common;
mod fake;

use chrono::{DateTime, TimeDelta, Utc};
use common::{utc, Env};
use fake::x::{App, FakeX, Fault};
use fake::{news_on_x, write_credentials, x_setup, NEWS};
use herald::store::{Delivery, State};

const T0: &str = "2026-12-01T01:00:00Z";

/// A small PNG-looking image in the account's folder.
fn image(env: &Env, name: &str) {
    std::fs::write(env.path("news", name), b"\x89PNG\r\n\x1a\nfake image").unwrap();
}

fn only(env: &Env, file: &str) -> Delivery {
    let mut all = env.delivery_of(file);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn reason(d: &Delivery) -> String {
    d.reason.clone().unwrap_or_default()
}

/// Asks what an admin asks (`herald retry`, `herald cancel`), in-process at
/// `now` on the test's clock, while no daemon runs.
async fn admin(env: &Env, now: DateTime<Utc>, request: herald::control::Request) -> herald::control::Response {
    let store = env.store();
    let audit = herald::audit::Audit::open(&env.config.daemon.state_dir);
    let ctx = herald::control::admin::Context {
        config: &env.config,
        store: &store,
        audit: &audit,
        now,
        actor: herald::audit::Actor::person(65534),
        platforms: &Default::default(),
        busy: &Default::default(),
        daemon: None,
    };
    herald::control::admin::handle(&ctx, request).await
}

async fn retry(env: &Env, now: DateTime<Utc>, d: &Delivery) {
    let answer = admin(env, now, herald::control::Request::Retry { delivery: d.id.clone() }).await;
    assert!(matches!(answer, herald::control::Response::Ok { .. }), "{answer:?}");
}

/// Asserts the post was published once, as the fake's only post, with its
/// id and link recorded.
fn published_once(env: &Env, fake: &FakeX, user: &str, file: &str) -> Delivery {
    let posts = fake.posts(user);
    let d = only(env, file);
    assert_eq!(d.state, State::Published, "{}", reason(&d));
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    assert_eq!(
        d.published.as_ref().unwrap().remote_ids,
        ids,
        "one post per part, all recorded"
    );
    assert_eq!(
        d.published.as_ref().unwrap().url.as_deref(),
        Some(format!("https://x.com/news/status/{}", ids[0]).as_str())
    );
    d
}

// 1. A lost answer of a post with media: X shows its text with the media's
// t.co link appended.

#[tokio::test]
async fn a_lost_answer_of_a_post_with_media_is_found_although_x_appended_the_media_link() {
    let (env, fake, user) = news_on_x().await;
    image(&env, "photo.png");
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    env.drop_post(
        "news",
        "photo.json",
        r#"{"text": "新しい店舗です https://example.com/shop", "media": [{"path": "photo.png", "alt": "店舗の外観"}]}"#,
    );
    env.run_at(utc(T0)).await;
    let d = only(&env, "photo.json");
    assert_eq!(d.state, State::Scheduled, "{}", reason(&d));
    assert!(d.unsure_since.is_some());

    env.run_at(d.due).await;
    published_once(&env, &fake, &user, "photo.json");
    assert_eq!(fake.requests_to("POST /2/tweets"), 1, "never posted again");
    assert_eq!(fake.requests_to("POST /2/media/upload"), 1, "never uploaded again");
}

// 3. A 5xx on the create, after X made the post.

#[tokio::test]
async fn a_5xx_after_x_made_the_post_is_reconciled_not_posted_blind() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::DoThenStatus(503));
    env.drop_post("news", "a.md", "サーバーエラーの後で\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Scheduled);
    assert!(d.unsure_since.is_some(), "a 5xx on a create is an unknown outcome");
    env.run_at(d.due).await;
    published_once(&env, &fake, &user, "a.md");
    assert_eq!(fake.requests_to("POST /2/tweets"), 1);
}

// 2. "Duplicate content" after an unknown outcome means the post exists.

#[tokio::test]
async fn duplicate_content_after_an_unknown_outcome_is_recorded_as_published_with_its_link() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    // The timeline lags long enough that the first reconciliation misses it.
    fake.set_quirks(|q| q.timeline_hides_new_for = 3);
    env.drop_post("news", "dup.md", "重複と言われても公開済み\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "dup.md");
    assert_eq!(d.state, State::Scheduled);

    env.run_at(d.due).await;
    let d = published_once(&env, &fake, &user, "dup.md");
    assert_eq!(
        fake.requests_to("POST /2/tweets"),
        2,
        "the second try met X's duplicate check"
    );
    assert!(fake.seen().iter().any(|s| s.status == 403), "X said duplicate content");
    assert!(!env.path("news", "rejected/dup.md").exists());
    assert!(env.path("news", "published/dup.md").exists());
    assert_eq!(d.attempts.len(), 2);
}

#[tokio::test]
async fn duplicate_content_after_an_unknown_outcome_that_herald_cannot_find_is_held_not_rejected() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    fake.set_quirks(|q| q.timeline_hides_new_for = 100);
    env.drop_post("news", "lost.md", "見つからない投稿\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "lost.md");
    env.run_at(d.due).await;
    let d = only(&env, "lost.md");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    let why = reason(&d);
    assert!(why.starts_with("outcome unknown"), "{why}");
    assert!(why.contains("already exists"), "{why}");
    assert!(why.contains(&format!("herald retry {}", d.id)), "{why}");
    assert!(why.contains(&format!("herald cancel {}", d.id)), "{why}");
    assert_eq!(fake.posts(&user).len(), 1, "never posted twice");
    assert!(
        !env.path("news", "rejected/lost.md").exists(),
        "never rejected while live"
    );
}

#[tokio::test]
async fn duplicate_content_without_an_earlier_attempt_is_still_refused() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "同じ文\n");
    env.run_at(utc(T0)).await;
    env.drop_post("news", "again.md", "同じ文\n");
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    assert_eq!(only(&env, "again.md").state, State::Rejected);
    assert_eq!(fake.posts(&user).len(), 1);
}

#[tokio::test]
async fn x_checks_duplicates_over_recent_posts_only() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "毎年のご挨拶\n");
    env.run_at(utc(T0)).await;
    env.drop_post("news", "later.md", "毎年のご挨拶\n");
    env.run_at(utc(T0) + TimeDelta::hours(25)).await;
    assert_eq!(only(&env, "later.md").state, State::Published);
    assert_eq!(fake.posts(&user).len(), 2);
}

// 4. Replies right after their parent.

#[tokio::test]
async fn replies_x_cannot_see_yet_are_retried_and_the_thread_completes() {
    let (env, fake, user) = news_on_x().await;
    fake.set_quirks(|q| q.reply_blind_for = 2);
    env.drop_post("news", "t.json", r#"{"thread": ["一つ目", "二つ目", "三つ目"]}"#);
    env.run_at(utc(T0)).await;
    let d = published_once(&env, &fake, &user, "t.json");
    assert_eq!(d.attempts.len(), 1, "retried within the attempt");
    assert_eq!(fake.requests_to("POST /2/tweets"), 3 + 2 + 2, "two refusals per reply");
}

#[tokio::test]
async fn a_reply_x_never_sees_holds_the_thread_naming_the_parts_that_stand() {
    let (env, fake, user) = news_on_x().await;
    fake.set_quirks(|q| q.reply_blind_for = 20);
    env.drop_post("news", "t.json", r#"{"thread": ["一つ目", "二つ目", "三つ目"]}"#);
    env.run_at(utc(T0)).await;
    let d = only(&env, "t.json");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    let why = reason(&d);
    let first = fake.posts(&user)[0].id.clone();
    assert!(why.starts_with("thread half out"), "{why}");
    assert!(why.contains(&first), "names the part that stands: {why}");
    assert!(why.contains("1 of its 3 parts"), "{why}");
    assert!(why.contains(&format!("herald retry {}", d.id)), "{why}");
    assert!(
        !env.path("news", "rejected/t.json").exists(),
        "never rejected while part of it is live"
    );
    assert_eq!(fake.posts(&user).len(), 1);

    // X catches up; the admin retries; the thread finishes from part two.
    fake.set_quirks(|q| q.reply_blind_for = 0);
    fake.set_reply_blind(&first, 0);
    let later = utc(T0) + TimeDelta::minutes(5);
    retry(&env, later, &d).await;
    env.run_at(later).await;
    let d = published_once(&env, &fake, &user, "t.json");
    assert_eq!(d.published.unwrap().remote_ids[0], first);
}

// 5. Account-wide refusals.

#[tokio::test]
async fn a_read_only_app_holds_every_post_of_the_account_until_it_is_fixed() {
    let (env, fake, user) = news_on_x().await;
    fake.set_app(&user, App::ReadOnly);
    image(&env, "photo.png");
    env.drop_post("news", "a.md", "一つ目のお知らせ\n");
    env.drop_post(
        "news",
        "b.json",
        r#"{"text": "二つ目のお知らせ", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    env.run_at(utc(T0)).await;
    for file in ["a.md", "b.json"] {
        let d = only(&env, file);
        assert_eq!(d.state, State::Held, "{file}: {}", reason(&d));
        let why = reason(&d);
        assert!(why.starts_with("the account cannot publish"), "{why}");
        assert!(why.contains("Read and write"), "says what to fix: {why}");
        assert!(why.contains("oauth1 app permissions"), "says what X said: {why}");
        assert!(!env.path("news", &format!("rejected/{file}")).exists());
    }
    let refused = fake.requests_to("POST /2/tweets") + fake.requests_to("POST /2/media/upload");
    assert_eq!(
        refused, 1,
        "one refusal holds the account; the other post sends nothing"
    );

    // Fixed in the developer portal; herald's next start tries again.
    fake.set_app(&user, App::ReadWrite);
    env.run_at(utc(T0) + TimeDelta::minutes(5)).await;
    assert_eq!(only(&env, "a.md").state, State::Published);
    assert_eq!(only(&env, "b.json").state, State::Published);
    assert_eq!(fake.posts(&user).len(), 2);
}

#[tokio::test]
async fn an_app_not_enrolled_holds_the_account_with_what_to_fix() {
    let (env, fake, user) = news_on_x().await;
    fake.set_app(&user, App::NotEnrolled);
    env.drop_post("news", "a.md", "登録されていないアプリ\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    assert!(reason(&d).contains("Project"), "{}", reason(&d));
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn an_app_only_token_is_unsupported_authentication_and_holds_the_account() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, mut creds) = fake.add_oauth2_user("news");
    creds["oauth2"]["access_token"] = fake.app_only_token(&user).into();
    write_credentials(&env, "news", &creds);
    env.drop_post("news", "a.md", "アプリだけのトークン\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    assert!(reason(&d).contains("Unsupported Authentication") || reason(&d).contains("Application-Only"));
    assert!(reason(&d).contains("user-context"), "{}", reason(&d));
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_token_without_media_write_holds_the_post_for_re_authorization() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) =
        fake.add_oauth2_user_with_scopes("news", &["tweet.read", "tweet.write", "users.read", "offline.access"]);
    write_credentials(&env, "news", &creds);
    image(&env, "photo.png");
    env.drop_post(
        "news",
        "p.json",
        r#"{"text": "画像つき", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    env.run_at(utc(T0)).await;
    let d = only(&env, "p.json");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    let why = reason(&d);
    assert!(why.starts_with("the account needs re-authorization"), "{why}");
    assert!(why.contains("media.write"), "{why}");
    assert!(why.contains("herald auth x news"), "{why}");
    assert!(fake.posts(&user).is_empty());
}

// 6. Rate limits other than the user's 15-minute window.

#[tokio::test]
async fn the_apps_24_hour_limit_waits_for_its_reset_and_blocks_the_accounts_other_posts() {
    let (env, fake, user) = news_on_x().await;
    let reset = utc(T0) + TimeDelta::hours(20);
    fake.set_app_daily_remaining(0, reset);
    image(&env, "photo.png");
    env.drop_post("news", "a.md", "一つ目\n");
    env.drop_post(
        "news",
        "b.json",
        r#"{"text": "二つ目", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    env.run_at(utc(T0)).await;
    for file in ["a.md", "b.json"] {
        let d = only(&env, file);
        assert_eq!(d.state, State::Scheduled, "{file}: {}", reason(&d));
        assert_eq!(d.due, reset, "{file} waits for the app's 24-hour reset");
    }
    assert_eq!(fake.requests_to("POST /2/tweets"), 1, "one 429, then nothing");
    assert_eq!(
        fake.requests_to("POST /2/media/upload"),
        0,
        "no upload before the same 429"
    );
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_daily_usage_cap_waits_a_day_not_fifteen_minutes() {
    let (env, fake, user) = news_on_x().await;
    fake.set_quirks(|q| q.usage_capped = Some("Daily".into()));
    env.drop_post("news", "a.md", "上限に達した日\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Scheduled, "{}", reason(&d));
    assert_eq!(d.due, utc(T0) + TimeDelta::hours(24));
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_monthly_usage_cap_holds_the_account_with_what_to_do() {
    let (env, fake, user) = news_on_x().await;
    fake.set_quirks(|q| q.usage_capped = Some("Monthly".into()));
    env.drop_post("news", "a.md", "月の上限\n");
    env.drop_post("news", "b.md", "月の上限その二\n");
    env.run_at(utc(T0)).await;
    for file in ["a.md", "b.md"] {
        let d = only(&env, file);
        assert_eq!(d.state, State::Held, "{file}: {}", reason(&d));
        assert!(reason(&d).contains("monthly usage cap"), "{}", reason(&d));
    }
    assert_eq!(fake.requests_to("POST /2/tweets"), 1);
    assert!(fake.posts(&user).is_empty());
}

// 7. A timeline herald cannot read, or that lags.

#[tokio::test]
async fn a_timeline_herald_cannot_read_holds_the_post_as_outcome_unknown() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    fake.set_quirks(|q| q.timeline_forbidden = true);
    env.drop_post("news", "a.md", "読めないタイムライン\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    env.run_at(d.due).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    let why = reason(&d);
    assert!(why.starts_with("outcome unknown"), "{why}");
    assert!(why.contains("access level"), "{why}");
    assert!(why.contains(&format!("herald retry {}", d.id)), "{why}");
    assert_eq!(fake.posts(&user).len(), 1);
    assert_eq!(fake.requests_to("POST /2/tweets"), 1, "never posted blind");

    // The admin upgrades the access level and retries: herald finds the post.
    fake.set_quirks(|q| q.timeline_forbidden = false);
    let later = d.due + TimeDelta::minutes(10);
    retry(&env, later, &d).await;
    env.run_at(later).await;
    published_once(&env, &fake, &user, "a.md");
    assert_eq!(fake.requests_to("POST /2/tweets"), 1);
}

#[tokio::test]
async fn an_admin_who_checked_the_account_may_cancel_an_outcome_unknown_hold() {
    let (env, fake, user) = news_on_x().await;
    // The request stalls and X makes nothing; the timeline cannot be read.
    fake.inject("POST /2/tweets", Fault::Stall(std::time::Duration::from_secs(2)));
    fake.set_quirks(|q| q.timeline_forbidden = true);
    env.drop_post("news", "a.md", "作られなかった投稿\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    env.run_at(d.due).await;
    let d = only(&env, "a.md");
    assert_eq!(d.state, State::Held, "{}", reason(&d));
    let answer = admin(
        &env,
        d.due + TimeDelta::minutes(1),
        herald::control::Request::Cancel {
            delivery: d.id.clone(),
            reason: Some("checked the account: not there".into()),
        },
    )
    .await;
    assert!(matches!(answer, herald::control::Response::Ok { .. }), "{answer:?}");
    assert_eq!(only(&env, "a.md").state, State::Cancelled);
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_lagging_timeline_is_read_again_before_herald_concludes_not_posted() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    fake.set_quirks(|q| q.timeline_hides_new_for = 2);
    env.drop_post("news", "a.md", "遅れて見えるタイムライン\n");
    env.run_at(utc(T0)).await;
    let d = only(&env, "a.md");
    env.run_at(d.due).await;
    published_once(&env, &fake, &user, "a.md");
    assert_eq!(
        fake.requests_to("POST /2/tweets"),
        1,
        "waited for the timeline, did not post again"
    );
    assert_eq!(fake.requests_to("GET /2/users/:id/tweets"), 3);
}

#[tokio::test]
async fn reconciliation_reads_after_the_last_id_herald_saw_not_after_a_clock_reading() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "最初の投稿\n");
    env.run_at(utc(T0)).await;
    let first = only(&env, "first.md").published.unwrap().remote_ids[0].clone();
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    env.drop_post("news", "second.md", "二つ目の投稿\n");
    env.run_at(utc(T0) + TimeDelta::hours(1)).await;
    let d = only(&env, "second.md");
    env.run_at(d.due).await;
    published_once_of(&env, &fake, &user, "second.md", 2);
    let reads: Vec<String> = fake
        .seen()
        .iter()
        .filter(|s| s.method == "GET" && s.path.ends_with("/tweets"))
        .map(|s| s.query.clone())
        .collect();
    assert_eq!(reads.len(), 1);
    assert!(reads[0].contains(&format!("since_id={first}")), "{reads:?}");
    assert!(!reads[0].contains("start_time"), "{reads:?}");
}

/// The delivery of `file` was published once, as one of `total` posts.
fn published_once_of(env: &Env, fake: &FakeX, user: &str, file: &str, total: usize) {
    let d = only(env, file);
    assert_eq!(d.state, State::Published, "{}", reason(&d));
    assert_eq!(fake.posts(user).len(), total);
    let ids = d.published.unwrap().remote_ids;
    assert_eq!(ids.len(), 1);
    assert!(fake.posts(user).iter().any(|p| p.id == ids[0]));
}

#[tokio::test]
async fn a_thread_is_reconciled_when_x_answers_with_the_specs_referenced_posts_spelling() {
    let (env, fake, user) = news_on_x().await;
    fake.set_quirks(|q| q.referenced_posts = true);
    fake.inject_after("POST /2/tweets", 1, Fault::LoseResponse);
    env.drop_post("news", "t.json", r#"{"thread": ["一", "二", "三"]}"#);
    env.run_at(utc(T0)).await;
    let d = only(&env, "t.json");
    assert_eq!(d.parts_done.len(), 1);
    env.run_at(d.due).await;
    published_once(&env, &fake, &user, "t.json");
    assert_eq!(fake.requests_to("POST /2/tweets"), 3);
}

// 8. A thread of three parts with two images whose second answer is lost.

#[tokio::test]
async fn a_three_part_thread_with_two_images_whose_second_answer_is_lost_is_published_once() {
    let (env, fake, user) = news_on_x().await;
    image(&env, "one.png");
    image(&env, "two.png");
    fake.inject_after("POST /2/tweets", 1, Fault::LoseResponse);
    env.drop_post(
        "news",
        "t.json",
        r#"{"thread": [
            {"text": "一つ目 https://example.com/a", "media": [{"path": "one.png", "alt": "一枚目"}]},
            {"text": "二つ目", "media": [{"path": "two.png", "alt": "二枚目"}]},
            "三つ目"]}"#,
    );
    env.run_at(utc(T0)).await;
    let d = only(&env, "t.json");
    assert_eq!(d.state, State::Scheduled, "{}", reason(&d));
    assert_eq!(d.parts_done.len(), 1);
    assert_eq!(fake.posts(&user).len(), 2, "X made part two");

    env.run_at(d.due).await;
    let d = published_once(&env, &fake, &user, "t.json");
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[1].in_reply_to.as_deref(), Some(posts[0].id.as_str()));
    assert_eq!(posts[2].in_reply_to.as_deref(), Some(posts[1].id.as_str()));
    assert_eq!(fake.requests_to("POST /2/tweets"), 3, "part two was not posted again");
    assert_eq!(
        fake.requests_to("POST /2/media/upload"),
        2,
        "its image was not uploaded again"
    );
    assert_eq!(d.parts_done.len(), 3);
}

// Limits X enforces on media: found before any upload.

#[tokio::test]
async fn media_x_would_refuse_is_rejected_at_ingest_before_any_upload() {
    let (env, fake, user) = news_on_x().await;
    for i in 1..=5 {
        image(&env, &format!("p{i}.png"));
    }
    std::fs::write(env.path("news", "anim.gif"), b"GIF89a fake animation").unwrap();
    env.drop_post(
        "news",
        "five.json",
        r#"{"text": "五枚",
  "media": [{"path": "p1.png", "alt": "1"}, {"path": "p2.png", "alt": "2"}, {"path": "p3.png", "alt": "3"},
            {"path": "p4.png", "alt": "4"}, {"path": "p5.png", "alt": "5"}]}"#,
    );
    env.drop_post(
        "news",
        "mixed.json",
        r#"{"text": "混在", "media": [{"path": "p1.png", "alt": "写真"}, {"path": "anim.gif", "alt": "動き"}]}"#,
    );
    env.drop_post(
        "news",
        "alt.json",
        format!(
            r#"{{"text": "長い説明", "media": [{{"path": "p2.png", "alt": "{}"}}]}}"#,
            "あ".repeat(1001)
        ),
    );
    env.run_at(utc(T0)).await;
    for (file, says) in [
        ("five.json", "at most 4 photos"),
        ("mixed.json", "never together"),
        ("alt.json", "1001 characters"),
    ] {
        let d = only(&env, file);
        assert_eq!(d.state, State::Rejected, "{file}: {}", reason(&d));
        assert!(reason(&d).contains(says), "{file}: {}", reason(&d));
        let note = env.read("news", &format!("rejected/{file}.herald.txt"));
        assert!(note.contains(says), "the owner's note says why: {note}");
    }
    assert_eq!(fake.requests_to("POST /2/media/upload"), 0, "nothing uploaded");
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn check_reports_media_x_would_refuse_with_line_and_column() {
    let (env, _fake, _user) = news_on_x().await;
    for i in 1..=5 {
        image(&env, &format!("p{i}.png"));
    }
    let file = env.path("news", "five.json");
    std::fs::write(
        &file,
        r#"{"text": "五枚",
  "media": [{"path": "p1.png", "alt": "1"}, {"path": "p2.png", "alt": "2"}, {"path": "p3.png", "alt": "3"},
            {"path": "p4.png", "alt": "4"}, {"path": "p5.png", "alt": "5"}]}"#,
    )
    .unwrap();
    let (code, out, err) = env.run_cli("check", &["--format", "json", file.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["verdict"], "block", "{v}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "x-media")
        .expect("a media finding");
    assert_eq!(f["line"], 3, "{f}");
    assert_eq!(f["column"], 55, "where p5.png is named: {f}");
    let (_, human, _) = env.run_cli("check", &[file.to_str().unwrap()]);
    assert!(human.contains("line 3, column 55 of the file"), "{human}");
    assert!(human.contains("Keep four photos"), "says what to do: {human}");
    let (_, sarif, _) = env.run_cli("check", &["--format", "sarif", file.to_str().unwrap()]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "x-media")
        .expect("a media result")
        .clone();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].clone(), region["startColumn"].clone()),
        (3.into(), 55.into()),
        "{result}"
    );
}

#[tokio::test]
async fn an_account_hold_is_released_when_a_post_of_the_account_goes_through() {
    let (env, fake, user) = news_on_x().await;
    fake.set_app(&user, App::ReadOnly);
    env.drop_post("news", "a.md", "一つ目\n");
    env.drop_post("news", "b.md", "二つ目\n");
    env.clock.set(utc(T0));
    // One daemon throughout: no start-up in between releases anything.
    let mut daemon = env.daemon();
    daemon.pass().await.unwrap();
    let held: Vec<Delivery> = daemon
        .store()
        .deliveries()
        .unwrap()
        .into_iter()
        .filter(|d| d.state == State::Held)
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");

    // Fixed on X's side; an admin retries one; it goes through, and the
    // other is released with it.
    fake.set_app(&user, App::ReadWrite);
    let audit = herald::audit::Audit::open(&env.config.daemon.state_dir);
    let ctx = herald::control::admin::Context {
        config: &env.config,
        store: daemon.store(),
        audit: &audit,
        now: utc(T0),
        actor: herald::audit::Actor::person(65534),
        platforms: &Default::default(),
        busy: &Default::default(),
        daemon: None,
    };
    let answer = herald::control::admin::handle(
        &ctx,
        herald::control::Request::Retry {
            delivery: held[0].id.clone(),
        },
    )
    .await;
    assert!(matches!(answer, herald::control::Response::Ok { .. }), "{answer:?}");
    daemon.pass().await.unwrap();
    daemon.pass().await.unwrap();
    let states: Vec<State> = daemon.store().deliveries().unwrap().iter().map(|d| d.state).collect();
    assert_eq!(states, vec![State::Published, State::Published]);
    assert_eq!(fake.posts(&user).len(), 2);
}
