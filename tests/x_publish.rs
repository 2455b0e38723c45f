//! Publishing to X through the daemon, against the faithful fake X server:
//! threads with media and alt text, rate limits, X's refusals, unknown
//! outcomes reconciled without a second post, threads resumed mid-way.

mod common;
mod fake;

use chrono::TimeDelta;
use common::utc;
use fake::x::{Fault, DUPLICATE_DETAIL};
use fake::{news_on_x, write_credentials, x_accounts, x_setup, NEWS};
use herald::store::State;

/// `n` bytes whose start says MP4 (an ISO `ftyp` box), as X sniffs it.
fn mp4(n: usize) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypisom".to_vec();
    v.resize(n, 7);
    v
}

fn count(fake: &fake::x::FakeX, method: &str, path: &str) -> usize {
    fake.seen()
        .iter()
        .filter(|s| s.method == method && s.path == path)
        .count()
}

#[tokio::test]
async fn a_thread_of_three_parts_with_an_image_and_alt_text() {
    let (env, fake, user) = news_on_x().await;
    std::fs::write(env.path("news", "photo.png"), b"\x89PNG\r\n\x1a\nfake image").unwrap();
    env.drop_post(
        "news",
        "thread.json",
        r#"{"thread": [{"text": "新製品を発表しました", "media": [{"path": "photo.png", "alt": "新製品の写真"}]}, "詳しくはこちら", "ご質問はお気軽に"]}"#,
    );
    let summary = env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(summary.published, 1);

    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert_eq!(posts[0].text, "新製品を発表しました");
    assert_eq!(posts[0].in_reply_to, None);
    assert_eq!(posts[1].in_reply_to.as_deref(), Some(posts[0].id.as_str()));
    assert_eq!(posts[2].in_reply_to.as_deref(), Some(posts[1].id.as_str()));
    assert_eq!(posts[0].media_ids.len(), 1);
    let media = fake.media(&posts[0].media_ids[0]).expect("uploaded");
    assert_eq!(media.alt.as_deref(), Some("新製品の写真"));
    assert_eq!(media.category, "tweet_image");
    assert!(posts[1].media_ids.is_empty());

    let d = &env.delivery_of("thread.json")[0];
    assert_eq!(d.state, State::Published);
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    assert_eq!(d.published.as_ref().unwrap().remote_ids, ids);
    assert_eq!(d.parts_done, ids);
    let url = d.published.as_ref().unwrap().url.clone().unwrap();
    assert_eq!(url, format!("https://x.com/news/status/{}", ids[0]));
    assert!(env.path("news", "published/thread.json").exists());
    // Every request was signed with OAuth 1.0a and verified by the fake.
    assert!(fake.seen().iter().all(|s| s.authorization.starts_with("OAuth ")));
}

#[tokio::test]
async fn a_video_goes_up_in_chunks_and_waits_for_processing() {
    let (env, fake, user) = news_on_x().await;
    fake.set_processing_polls(3);
    // Larger than one chunk, so that append runs twice.
    std::fs::write(env.path("news", "clip.mp4"), mp4(1024 * 1024 + 10)).unwrap();
    env.drop_post(
        "news",
        "clip.json",
        r#"{"text": "動画です", "media": [{"path": "clip.mp4", "alt": "工場の様子"}]}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 1);
    let media = fake.media(&posts[0].media_ids[0]).unwrap();
    assert_eq!(media.category, "tweet_video");
    assert_eq!(media.received, 1024 * 1024 + 10);
    assert_eq!(media.alt, None, "X takes alt text for images and GIFs only");
    let appends = fake.seen().iter().filter(|s| s.path.ends_with("/append")).count();
    assert_eq!(appends, 2);
    assert_eq!(count(&fake, "GET", "/2/media/upload"), 3, "polled until processed");
}

#[tokio::test]
async fn a_429_waits_until_the_reset_while_another_account_keeps_publishing() {
    let (env, fake) = x_setup(&x_accounts(&[("news", "Hanako"), ("careers", "Taro")])).await;
    let (news, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    let (careers, creds) = fake.add_oauth2_user("careers");
    write_credentials(&env, "careers", &creds);
    let t0 = utc("2026-12-01T01:00:00Z");
    let reset = t0 + TimeDelta::minutes(12);
    fake.rate_limit_next(&news, "POST /2/tweets", reset);
    env.drop_post("news", "a.md", "お知らせ一\n");
    env.drop_post("careers", "b.md", "採用情報\n");

    env.run_at(t0).await;
    assert_eq!(fake.posts(&careers).len(), 1, "the other account published");
    assert!(fake.posts(&news).is_empty());
    let d = &env.delivery_of("a.md")[0];
    assert_eq!(d.state, State::Scheduled);
    assert_eq!(d.due, reset, "waits exactly until X's reset");
    assert!(d.reason.as_deref().unwrap().contains("rate limit"), "{:?}", d.reason);
    let tries = count(&fake, "POST", "/2/tweets");
    assert_eq!(tries, 2, "one try per account, no tight loop");

    env.run_at(reset - TimeDelta::seconds(1)).await;
    assert_eq!(count(&fake, "POST", "/2/tweets"), tries, "nothing before the reset");

    env.run_at(reset).await;
    assert_eq!(fake.posts(&news).len(), 1);
    assert_eq!(env.delivery_of("a.md")[0].state, State::Published);
    // The 429 carried X's headers, which the fake sends on every answer.
    let seen_429 = fake.seen().iter().filter(|s| s.status == 429).count();
    assert_eq!(seen_429, 1);
}

#[tokio::test]
async fn duplicate_content_is_rejected_with_xs_own_words() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "本日は晴天なり\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.drop_post("news", "again.md", "本日は晴天なり\n");
    env.run_at(utc("2026-12-01T02:00:00Z")).await;

    assert_eq!(fake.posts(&user).len(), 1);
    let d = &env.delivery_of("again.md")[0];
    assert_eq!(d.state, State::Rejected);
    assert!(
        d.reason.as_deref().unwrap().contains(DUPLICATE_DETAIL),
        "{:?}",
        d.reason
    );
    assert!(env.path("news", "rejected/again.md").exists());
    let note = env.read("news", "rejected/again.md.herald.txt");
    assert!(note.contains(DUPLICATE_DETAIL), "{note}");
    assert_eq!(d.attempts.len(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn a_response_lost_after_the_post_was_made_is_reconciled_without_a_second_post() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    env.drop_post("news", "lost.md", "応答が失われる投稿\n");

    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 1, "X made the post");
    let d = &env.delivery_of("lost.md")[0];
    assert_eq!(d.state, State::Scheduled);
    assert!(d.unsure_since.is_some());
    assert!(
        d.attempts[0].outcome.as_deref().unwrap().contains("unknown"),
        "{:?}",
        d.attempts
    );

    env.run_at(d.due).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 1, "no second post");
    assert_eq!(count(&fake, "POST", "/2/tweets"), 1);
    assert_eq!(
        count(&fake, "GET", &format!("/2/users/{user}/tweets")),
        1,
        "read back before retrying"
    );
    let d = &env.delivery_of("lost.md")[0];
    assert_eq!(d.state, State::Published);
    assert_eq!(d.published.as_ref().unwrap().remote_ids, vec![posts[0].id.clone()]);
}

#[tokio::test]
async fn a_delay_past_the_timeout_is_reconciled_and_a_post_that_never_happened_is_sent() {
    let (env, fake, user) = news_on_x().await;
    // The first post is made but answered too late; the second is never made.
    fake.inject("POST /2/tweets", Fault::Delay(std::time::Duration::from_secs(2)));
    env.drop_post("news", "slow.md", "遅い応答\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("slow.md")[0];
    assert_eq!(d.state, State::Scheduled);
    env.run_at(d.due).await;
    assert_eq!(fake.posts(&user).len(), 1);
    assert_eq!(env.delivery_of("slow.md")[0].state, State::Published);

    fake.inject("POST /2/tweets", Fault::Stall(std::time::Duration::from_secs(2)));
    env.drop_post("news", "stalled.md", "届かなかった投稿\n");
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let d = &env.delivery_of("stalled.md")[0];
    assert_eq!(d.state, State::Scheduled);
    assert_eq!(fake.posts(&user).len(), 1, "the stalled request made nothing");
    env.run_at(d.due).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 2, "reconciliation found nothing, so herald posted");
    assert_eq!(posts[1].text, "届かなかった投稿");
    assert_eq!(env.delivery_of("stalled.md")[0].state, State::Published);
}

#[tokio::test]
async fn a_failure_in_part_two_of_a_thread_resumes_at_part_two() {
    let (env, fake, user) = news_on_x().await;
    fake.inject_after("POST /2/tweets", 1, Fault::Status(503));
    env.drop_post("news", "t.json", r#"{"thread": ["一つ目", "二つ目", "三つ目"]}"#);

    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.state, State::Scheduled);
    assert_eq!(d.parts_done.len(), 1, "part one recorded as it succeeded");
    assert_eq!(fake.posts(&user).len(), 1);
    assert!(
        d.attempts[0].outcome.as_deref().unwrap().contains("503"),
        "{:?}",
        d.attempts
    );

    env.run_at(d.due).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert_eq!(
        posts.iter().filter(|p| p.text == "一つ目").count(),
        1,
        "part one not sent again"
    );
    assert_eq!(posts[1].text, "二つ目");
    assert_eq!(posts[1].in_reply_to.as_deref(), Some(posts[0].id.as_str()));
    assert_eq!(posts[2].in_reply_to.as_deref(), Some(posts[1].id.as_str()));
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.state, State::Published);
    assert_eq!(d.attempts.len(), 2);
}

#[tokio::test]
async fn a_lost_answer_in_part_two_is_found_and_the_thread_continues_at_part_three() {
    let (env, fake, user) = news_on_x().await;
    fake.inject_after("POST /2/tweets", 1, Fault::LoseResponse);
    env.drop_post("news", "t.json", r#"{"thread": ["A", "B", "C"]}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.parts_done.len(), 1);
    assert_eq!(fake.posts(&user).len(), 2, "part two was made, its answer lost");
    env.run_at(d.due).await;
    let posts = fake.posts(&user);
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["A", "B", "C"]);
    assert_eq!(posts[2].in_reply_to.as_deref(), Some(posts[1].id.as_str()));
    assert_eq!(env.delivery_of("t.json")[0].state, State::Published);
}

/// Runs the daemon at each retry's due time, from 01:00 UTC, as many times
/// as herald attempts a delivery.
async fn run_every_attempt(env: &common::Env) {
    let mut t = utc("2026-12-01T01:00:00Z");
    for _ in 0..herald::daemon::MAX_ATTEMPTS {
        env.run_at(t).await;
        if let Some(next) = env.next_due() {
            assert!(next > t, "a retry waits");
            t = next;
        }
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_then_fail() {
    let (env, fake, user) = news_on_x().await;
    // An upload that fails changed nothing on X: retried, then failed.
    for _ in 0..herald::daemon::MAX_ATTEMPTS {
        fake.inject("POST /2/media/upload", Fault::Status(503));
    }
    std::fs::write(env.path("news", "photo.png"), b"\x89PNG\r\n\x1a\nfake image").unwrap();
    env.drop_post(
        "news",
        "e.json",
        r#"{"text": "障害中", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    run_every_attempt(&env).await;
    let d = &env.delivery_of("e.json")[0];
    assert_eq!(d.state, State::Failed);
    assert_eq!(d.attempts.len() as u32, herald::daemon::MAX_ATTEMPTS);
    assert!(fake.posts(&user).is_empty());
    assert_eq!(count(&fake, "POST", "/2/tweets"), 0);
}

#[tokio::test]
async fn an_unknown_outcome_on_the_last_attempt_is_held_never_failed() {
    let (env, fake, user) = news_on_x().await;
    for _ in 1..herald::daemon::MAX_ATTEMPTS {
        fake.inject("POST /2/media/upload", Fault::Status(503));
    }
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    std::fs::write(env.path("news", "photo.png"), b"\x89PNG\r\n\x1a\nfake image").unwrap();
    env.drop_post(
        "news",
        "last.json",
        r#"{"text": "最後の試み", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    run_every_attempt(&env).await;
    let d = &env.delivery_of("last.json")[0];
    assert_eq!(d.attempts.len() as u32, herald::daemon::MAX_ATTEMPTS);
    assert_eq!(fake.posts(&user).len(), 1, "the last attempt made the post");
    assert_eq!(d.state, State::Held, "{:?}", d.reason);
    assert!(
        d.reason.as_deref().unwrap().starts_with("outcome unknown"),
        "{:?}",
        d.reason
    );
    assert!(d.unsure_since.is_some(), "a retry looks for it first");
}

#[tokio::test]
async fn server_errors_on_a_create_are_reconciled_each_time_and_end_held_as_outcome_unknown() {
    let (env, fake, user) = news_on_x().await;
    for _ in 0..herald::daemon::MAX_ATTEMPTS {
        fake.inject("POST /2/tweets", Fault::Status(503));
    }
    env.drop_post("news", "e.md", "障害中\n");
    run_every_attempt(&env).await;
    let d = &env.delivery_of("e.md")[0];
    // X does not say whether a create that answered 5xx made the post:
    // never `failed` (which reads as "nothing is out"), but held.
    assert_eq!(d.state, State::Held, "{:?}", d.reason);
    assert!(
        d.reason.as_deref().unwrap().starts_with("outcome unknown"),
        "{:?}",
        d.reason
    );
    assert_eq!(d.attempts.len() as u32, herald::daemon::MAX_ATTEMPTS);
    assert!(fake.posts(&user).is_empty());
    let reads = count(&fake, "GET", &format!("/2/users/{user}/tweets"));
    assert_eq!(
        reads as u32,
        3 * (herald::daemon::MAX_ATTEMPTS - 1),
        "each retry looked first"
    );
}

#[tokio::test]
async fn a_dropped_connection_before_anything_happened_is_retried() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::Drop);
    env.drop_post("news", "d.md", "接続断\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("d.md")[0];
    assert_eq!(d.state, State::Scheduled);
    env.run_at(d.due).await;
    assert_eq!(fake.posts(&user).len(), 1);
    assert_eq!(env.delivery_of("d.md")[0].state, State::Published);
}

/// herald's X client, dying (a panic stands for a crash) right after X made
/// the post and before herald heard the answer.
struct CrashAfterPost {
    inner: herald::platform::x::XClient,
}

impl herald::platform::Platform for CrashAfterPost {
    fn kind(&self) -> herald::config::PlatformKind {
        herald::config::PlatformKind::X
    }

    fn publish<'a>(
        &'a self,
        post: &'a herald::platform::Outgoing,
        _progress: &'a dyn herald::platform::Progress,
    ) -> herald::platform::BoxFuture<'a, Result<herald::platform::Published, herald::platform::PublishError>> {
        Box::pin(async move {
            let _ = self.inner.publish(post, &herald::platform::NoProgress).await;
            panic!("simulated crash after X made the post");
        })
    }

    fn delete<'a>(
        &'a self,
        ids: &'a [String],
    ) -> herald::platform::BoxFuture<'a, Result<(), herald::platform::PublishError>> {
        self.inner.delete(ids)
    }

    fn check_account(&self) -> herald::platform::BoxFuture<'_, Result<String, herald::platform::PublishError>> {
        self.inner.check_account()
    }
}

#[tokio::test]
async fn a_crash_after_the_post_was_made_is_reconciled_after_the_restart() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "crash.md", "再起動の前に\n");
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    let inner = herald::platform::x::XClient::connect(
        &env.config,
        &env.config.accounts["news"],
        std::sync::Arc::new(env.clock.clone()),
    )
    .unwrap();
    let daemon = env.daemon_with("news", std::sync::Arc::new(CrashAfterPost { inner }));
    let _ = daemon.run_once().await;
    assert_eq!(fake.posts(&user).len(), 1);
    assert_eq!(env.delivery_of("crash.md")[0].state, State::Publishing);

    // The restart finds the interrupted attempt and reconciles before posting.
    env.run_at(utc("2026-12-01T01:00:30Z")).await;
    let d = &env.delivery_of("crash.md")[0];
    assert_eq!(d.state, State::Published, "{:?}", d.reason);
    assert_eq!(fake.posts(&user).len(), 1, "no second post");
    assert_eq!(count(&fake, "POST", "/2/tweets"), 1);
    assert_eq!(
        d.published.as_ref().unwrap().remote_ids,
        vec![fake.posts(&user)[0].id.clone()]
    );
}

#[tokio::test]
async fn a_crash_between_xs_create_and_heralds_record_of_a_post_with_media_publishes_once() {
    let (env, fake, user) = news_on_x().await;
    std::fs::write(env.path("news", "photo.png"), b"\x89PNG\r\n\x1a\nfake image").unwrap();
    env.drop_post(
        "news",
        "crash.json",
        r#"{"text": "再起動の前に 写真つき", "media": [{"path": "photo.png", "alt": "写真"}]}"#,
    );
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    let inner = herald::platform::x::XClient::connect(
        &env.config,
        &env.config.accounts["news"],
        std::sync::Arc::new(env.clock.clone()),
    )
    .unwrap();
    let daemon = env.daemon_with("news", std::sync::Arc::new(CrashAfterPost { inner }));
    let _ = daemon.run_once().await;
    assert_eq!(fake.posts(&user).len(), 1, "X made the post");
    assert_eq!(env.delivery_of("crash.json")[0].state, State::Publishing);

    // The restart finds the interrupted attempt; X shows the post's text
    // with its media link appended, and herald still recognises it.
    env.run_at(utc("2026-12-01T01:00:30Z")).await;
    let d = &env.delivery_of("crash.json")[0];
    assert_eq!(d.state, State::Published, "{:?}", d.reason);
    assert_eq!(fake.posts(&user).len(), 1, "no second post");
    assert_eq!(count(&fake, "POST", "/2/tweets"), 1);
    assert_eq!(count(&fake, "POST", "/2/media/upload"), 1, "no second upload");
    assert_eq!(
        d.published.as_ref().unwrap().remote_ids,
        vec![fake.posts(&user)[0].id.clone()]
    );
}

#[tokio::test]
async fn a_video_x_cannot_process_is_rejected_with_the_reason() {
    let (env, fake, user) = news_on_x().await;
    fake.fail_processing();
    std::fs::write(env.path("news", "bad.mp4"), mp4(100)).unwrap();
    env.drop_post(
        "news",
        "v.json",
        r#"{"text": "壊れた動画", "media": [{"path": "bad.mp4", "alt": "動画"}]}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("v.json")[0];
    assert_eq!(d.state, State::Rejected);
    assert!(
        d.reason.as_deref().unwrap().contains("could not process bad.mp4"),
        "{:?}",
        d.reason
    );
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_thread_refused_in_part_two_says_which_parts_stand() {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "重複する文\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.drop_post("news", "t.json", r#"{"thread": ["新しい文", "重複する文", "三つ目"]}"#);
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.state, State::Rejected);
    let reason = d.reason.clone().unwrap();
    assert!(reason.contains(DUPLICATE_DETAIL), "{reason}");
    assert!(
        reason.contains("the first 1 of 3 parts were already published"),
        "{reason}"
    );
    assert!(reason.contains(&d.parts_done[0]), "{reason}");
    assert_eq!(fake.posts(&user).len(), 2);
}

#[tokio::test]
async fn when_x_says_no_posts_are_left_herald_waits_for_the_reset_without_asking() {
    let (env, fake, user) = news_on_x().await;
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.set_remaining(&user, "POST /2/tweets", 1);
    env.drop_post("news", "t.json", r#"{"thread": ["最後の一枠", "次の枠で"]}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.state, State::Scheduled);
    assert_eq!(d.parts_done.len(), 1);
    assert_eq!(d.due, utc("2026-12-01T01:15:00Z"), "X's x-rate-limit-reset");
    assert_eq!(
        count(&fake, "POST", "/2/tweets"),
        1,
        "part two was not sent into a certain 429"
    );
    assert!(fake.seen().iter().all(|s| s.status != 429));
    env.run_at(d.due).await;
    assert_eq!(fake.posts(&user).len(), 2);
    assert_eq!(env.delivery_of("t.json")[0].state, State::Published);
}

#[tokio::test]
async fn reconciliation_recognises_a_post_whose_links_x_rewrote() {
    let (env, fake, user) = news_on_x().await;
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    let text = "詳細 & 申込: https://example.com/event?id=42 <先着順>";
    env.drop_post("news", "link.md", format!("{text}\n"));
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("link.md")[0];
    assert_eq!(d.state, State::Scheduled);
    env.run_at(d.due).await;
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 1, "no second post");
    assert_eq!(posts[0].text, text);
    assert_eq!(count(&fake, "POST", "/2/tweets"), 1);
    assert_eq!(env.delivery_of("link.md")[0].state, State::Published);
}

#[tokio::test]
async fn the_daemon_checks_each_account_at_start_up() {
    let (env, fake) = x_setup(NEWS).await;
    let (_, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    // The daemon runs until the fake has seen the check (bounded by the timeout).
    let seen = || count(&fake, "GET", "/2/users/me") > 0;
    let shutdown = async {
        while !seen() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), env.daemon().run(shutdown))
        .await
        .expect("the check happens at start-up")
        .unwrap();
    assert_eq!(count(&fake, "GET", "/2/users/me"), 1);
    assert!(fake.seen().iter().all(|s| s.status == 200));
}

/// One post published, one left waiting for X's 24-hour reset: the daily
/// limit is spent.
async fn spend_the_daily_limit(env: &common::Env, fake: &fake::x::FakeX, user: &str, second: &str) {
    let t0 = utc("2026-12-01T01:00:00Z");
    env.clock.set(t0);
    fake.set_daily_remaining(user, 1);
    // The last post the day allows goes first (09:59 JST); the second one
    // is meant for 10:00 JST.
    env.drop_post(
        "news",
        "a.json",
        r#"{"text": "今日最後の投稿", "at": "2026-12-01 09:59"}"#,
    );
    env.drop_post("news", "b.json", second);
    env.run_at(t0).await;
    assert_eq!(fake.posts(user).len(), 1);
    assert_eq!(env.delivery_of("a.json")[0].state, State::Published);
    let waiting: Vec<_> = env
        .deliveries()
        .into_iter()
        .filter(|d| d.state == State::Scheduled)
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].due, t0 + TimeDelta::hours(24), "x-user-limit-24hour-reset");
    assert!(
        fake.seen().iter().all(|s| s.status != 429),
        "nothing sent into the limit"
    );
}

#[tokio::test]
async fn a_spent_daily_limit_waits_for_the_24_hour_reset() {
    let (env, fake, user) = news_on_x().await;
    // A post that may go out up to a day and a half late waits for the reset.
    spend_the_daily_limit(
        &env,
        &fake,
        &user,
        r#"{"text": "明日の投稿", "at": "2026-12-01 10:00", "max_lateness": "36h"}"#,
    )
    .await;
    env.run_at(utc("2026-12-02T01:00:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 2);
    assert_eq!(env.delivery_of("b.json")[0].state, State::Published);
}

#[tokio::test]
async fn a_rate_limit_wait_past_the_max_lateness_holds_the_post_instead_of_publishing_it_late() {
    let (env, fake, user) = news_on_x().await;
    // The account's max lateness (15 minutes): a 24-hour wait makes it stale.
    spend_the_daily_limit(
        &env,
        &fake,
        &user,
        r#"{"text": "今日中の投稿", "at": "2026-12-01 10:00"}"#,
    )
    .await;
    env.run_at(utc("2026-12-02T01:00:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 1, "not published a day late");
    let d = &env.delivery_of("b.json")[0];
    assert_eq!(d.state, State::Held, "{:?}", d.reason);
    let reason = d.reason.as_deref().unwrap();
    assert!(
        reason.contains("2026-12-01 10:00 +09:00"),
        "counted from its own time: {reason}"
    );
    assert!(reason.contains("max lateness"), "{reason}");
    assert!(env.path("news", "b.json").exists(), "held, the file waits");

    // An admin approves it after X's reset: it goes out, not held again as stale.
    let reset = utc("2026-12-02T01:05:00Z");
    {
        let store = herald::store::Store::open(&env.config.store_path()).unwrap();
        let audit = herald::audit::Audit::open(&env.config.daemon.state_dir);
        let ctx = herald::control::admin::Context {
            config: &env.config,
            store: &store,
            audit: &audit,
            now: reset,
            actor: herald::audit::Actor::person(65534),
            platforms: &Default::default(),
            busy: &Default::default(),
            daemon: None,
        };
        let answer =
            herald::control::admin::handle(&ctx, herald::control::Request::Approve { delivery: d.id.clone() }).await;
        assert!(matches!(answer, herald::control::Response::Ok { .. }), "{answer:?}");
    }
    env.run_at(reset).await;
    assert_eq!(env.delivery_of("b.json")[0].state, State::Published);
    assert_eq!(fake.posts(&user).len(), 2);
}

#[tokio::test]
async fn a_rate_limit_wait_past_the_max_lateness_expires_the_post_where_the_account_says_so() {
    let (env, fake) = x_setup(&format!("{NEWS}stale = \"expire\"\n")).await;
    let (user, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    spend_the_daily_limit(
        &env,
        &fake,
        &user,
        r#"{"text": "今日中の投稿", "at": "2026-12-01 10:00", "max_lateness": "2h"}"#,
    )
    .await;
    env.run_at(utc("2026-12-02T01:00:00Z")).await;
    assert_eq!(fake.posts(&user).len(), 1, "not published a day late");
    let d = &env.delivery_of("b.json")[0];
    assert_eq!(d.state, State::Expired, "{:?}", d.reason);
    assert!(env.path("news", "expired/b.json").exists());
}

#[tokio::test]
async fn retries_past_the_max_lateness_stop_retrying_and_hold_the_post() {
    let (env, fake, user) = news_on_x().await;
    for _ in 0..herald::daemon::MAX_ATTEMPTS {
        fake.inject("POST /2/tweets", Fault::Status(503));
    }
    // One minute of lateness: the second retry (30 s, then 60 s on) is too late.
    env.drop_post("news", "e.json", r#"{"text": "障害中", "max_lateness": "1m"}"#);
    let mut t = utc("2026-12-01T01:00:00Z");
    for _ in 0..herald::daemon::MAX_ATTEMPTS {
        env.run_at(t).await;
        if let Some(next) = env.next_due() {
            t = next;
        }
    }
    let d = &env.delivery_of("e.json")[0];
    assert_eq!(d.state, State::Held, "{:?}", d.reason);
    assert_eq!(d.attempts.len(), 2, "no attempt later than a minute after its time");
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test]
async fn a_thread_with_parts_out_that_waited_too_long_is_held_never_expired() {
    // The account expires stale posts; a half-published thread is held instead.
    let (env, fake) = x_setup(&format!("{NEWS}stale = \"expire\"\n")).await;
    let (user, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.set_remaining(&user, "POST /2/tweets", 1);
    env.drop_post(
        "news",
        "t.json",
        r#"{"thread": ["最後の一枠", "次の枠で"], "max_lateness": "5m"}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.parts_done.len(), 1);
    assert_eq!(d.due, utc("2026-12-01T01:15:00Z"));
    env.run_at(d.due).await;
    let d = &env.delivery_of("t.json")[0];
    assert_eq!(d.state, State::Held, "{:?}", d.reason);
    let reason = d.reason.as_deref().unwrap();
    assert!(
        reason.contains(&d.parts_done[0]),
        "names the part that stands: {reason}"
    );
    assert!(reason.contains("herald retract"), "{reason}");
    assert_eq!(fake.posts(&user).len(), 1, "part two not published late");
    assert!(env.path("news", "t.json").exists(), "not moved to expired/");
}

#[tokio::test]
async fn an_edit_after_part_one_is_out_does_not_publish_the_thread_again() {
    let (env, fake, user) = news_on_x().await;
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.set_remaining(&user, "POST /2/tweets", 1);
    env.drop_post("news", "t.json", r#"{"thread": ["最後の一枠", "次の枠で"]}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let started = env.delivery_of("t.json")[0].clone();
    assert_eq!(started.parts_done.len(), 1);

    // The owner edits the file while part two waits for X's reset.
    env.drop_post("news", "t.json", r#"{"thread": ["書き直した一", "書き直した二"]}"#);
    env.run_at(utc("2026-12-01T01:05:00Z")).await;
    let all = env.delivery_of("t.json");
    assert_eq!(all.len(), 1, "no second delivery for the edit: {all:?}");
    assert_eq!(all[0].state, State::Scheduled, "{:?}", all[0].reason);
    let note = env.read("news", "t.json.herald.txt");
    assert!(note.starts_with("EDIT NOT USED"), "{note}");
    assert!(note.contains(&started.parts_done[0]), "{note}");

    env.run_at(started.due).await;
    let texts: Vec<String> = fake.posts(&user).into_iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        ["最後の一枠", "次の枠で"],
        "the started version is finished, nothing twice"
    );
    assert_eq!(env.delivery_of("t.json")[0].state, State::Published);
}
