//! `herald retract` against the faithful fake X server (issue 5: "retract
//! against … the fake X server"): a thread published on X is deleted part by
//! part (DELETE /2/tweets/:id, each request signed and verified), through a
//! running daemon and without one; a deletion X refuses or that fails on the
//! way leaves the delivery published and says what happened.

mod admin_harness;
mod common;
mod fake;

use admin_harness::{delivery_id, Out};
use common::{utc, Env};
use fake::x::{FakeX, Fault};
use fake::{news_on_x, write_credentials, x_accounts, x_setup, NEWS};
use herald::store::State;

const THREAD: &str = r#"{"thread": ["新製品を発表しました", "詳しくはウェブサイトで"]}"#;

/// Runs `herald ARGS` off the async threads (the fake X server answers on them).
async fn herald_async(env: &Env, args: &[&str]) -> Out {
    let config = env.config.path.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(&args)
            .arg("--config")
            .arg(&config)
            .env("HERALD_LOG", "warn")
            .output()
            .expect("herald runs");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// An X account (OAuth 1.0a or 2.0) that has published a two-part thread.
/// Returns the installation, the fake, the X user id, the delivery and the
/// two posts' ids.
async fn published_thread(oauth2: bool) -> (Env, FakeX, String, String, Vec<String>) {
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) = if oauth2 {
        fake.add_oauth2_user("news")
    } else {
        fake.add_oauth1_user("news")
    };
    write_credentials(&env, "news", &creds);
    env.drop_post("news", "thread.json", THREAD);
    let summary = env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(summary.published, 1);
    let ids: Vec<String> = fake.posts(&user).iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), 2, "the thread is on X");
    let id = delivery_id(&env, "thread.json");
    (env, fake, user, id, ids)
}

/// The DELETE requests the fake saw, as (path, status, authorization).
fn deletions(fake: &FakeX) -> Vec<(String, u16, String)> {
    fake.seen()
        .into_iter()
        .filter(|s| s.method == "DELETE")
        .map(|s| (s.path, s.status, s.authorization))
        .collect()
}

fn audit_events(env: &Env, delivery: &str) -> Vec<herald::audit::Entry> {
    herald::audit::read(&env.config.daemon.state_dir.join("audit.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|e| e.delivery.as_deref() == Some(delivery))
        .collect()
}

/// What every successful retraction leaves behind.
fn assert_retracted(env: &Env, fake: &FakeX, user: &str, id: &str, ids: &[String], reason: &str, scheme: &str) {
    assert!(fake.posts(user).is_empty(), "both parts are gone from X");
    let deleted: Vec<(String, u16, String)> = deletions(fake).into_iter().filter(|d| d.1 == 200).collect();
    let paths: Vec<&str> = deleted.iter().map(|d| d.0.as_str()).collect();
    // The last reply first, so the thread never shows a reply to nothing.
    assert_eq!(
        paths,
        [format!("/2/tweets/{}", ids[1]), format!("/2/tweets/{}", ids[0])],
        "{deleted:?}"
    );
    assert!(
        deleted.iter().all(|d| d.2.starts_with(scheme)),
        "each DELETE carried the account's {scheme} credentials, verified by the fake: {deleted:?}"
    );

    let d = &admin_harness::delivery_of(env, "thread.json")[0];
    assert_eq!(d.id, id);
    assert_eq!(d.state, State::Retracted);
    assert!(d.reason.as_deref().unwrap().contains(reason), "{:?}", d.reason);
    let link = d.published.as_ref().and_then(|p| p.url.clone()).unwrap();
    assert_eq!(
        link,
        format!("https://x.com/news/status/{}", ids[0]),
        "the link stays on record"
    );

    let events = audit_events(env, id);
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert!(names.ends_with(&["retraction-requested", "retraction"]), "{names:?}");
    let retraction = events.last().unwrap();
    assert_eq!(retraction.detail["reason"], reason);
    assert_eq!(retraction.detail["url"], link.as_str());
    assert!(matches!(retraction.actor, herald::audit::Actor::Person { .. }));

    let note = env.read("news", "published/thread.json.herald.txt");
    assert!(note.starts_with("RETRACTED"), "the note's first line says so: {note}");
    assert!(note.contains(reason) && note.contains("deleted from X"), "{note}");
    assert!(note.contains("Both posts of the thread were deleted"), "{note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retract_deletes_every_part_of_a_thread_on_x_through_the_running_daemon() {
    let (env, fake, user, id, ids) = published_thread(false).await;
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["retract", &id, "--reason", "wrong launch date", "--json"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["delivery"]["state"], "retracted");
    let again = herald_async(&env, &["retract", &id, "--reason", "twice"]).await;
    assert_eq!(again.code, 1, "a retracted delivery is not retracted again");
    assert!(again.stderr.contains("retracted"), "{}", again.stderr);
    daemon.stop();
    assert_retracted(&env, &fake, &user, &id, &ids, "wrong launch date", "OAuth ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retract_deletes_every_part_of_a_thread_on_x_without_a_daemon() {
    let (env, fake, user, id, ids) = published_thread(true).await;
    let out = herald_async(&env, &["retract", &id, "--reason", "posted by mistake"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("retracted"), "{}", out.stdout);
    assert_retracted(&env, &fake, &user, &id, &ids, "posted by mistake", "Bearer ");
}

/// What a failed retraction must leave: the delivery published, no
/// "retraction" line, the failure on record, the owner's note unchanged.
fn assert_still_published(env: &Env, id: &str) {
    let d = &admin_harness::delivery_of(env, "thread.json")[0];
    assert_eq!(d.state, State::Published, "no false \"retracted\"");
    let names: Vec<String> = audit_events(env, id).into_iter().map(|e| e.event).collect();
    assert!(!names.iter().any(|n| n == "retraction"), "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("retraction-failed"), "{names:?}");
    let note = env.read("news", "published/thread.json.herald.txt");
    assert!(note.starts_with("PUBLISHED"), "{note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_x_refuses_leaves_the_delivery_published_with_x_words() {
    let (env, fake, user, id, _) = published_thread(false).await;
    // The credentials file now holds another X user's keys: X refuses to
    // delete posts that are not theirs.
    let (_, other) = fake.add_oauth1_user("someone-else");
    write_credentials(&env, "news", &other);
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    daemon.stop();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("You are not authorized to delete this Tweet."),
        "X's own words: {}",
        out.stderr
    );
    assert!(out.stderr.contains("still published"), "{}", out.stderr);
    assert!(out.stderr.contains("https://x.com/news/status/"), "{}", out.stderr);
    assert_eq!(fake.posts(&user).len(), 2, "nothing was deleted");
    assert_still_published(&env, &id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_that_fails_mid_thread_stays_published_and_a_second_try_finishes_it() {
    let (env, fake, user, id, ids) = published_thread(false).await;
    // X deletes the reply, then fails with a 503 on the first post.
    fake.inject_after("DELETE /2/tweets/:id", 1, Fault::Status(503));
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("503"), "{}", out.stderr);
    assert!(
        out.stderr.contains("part 2 of 2") && out.stderr.contains("was deleted"),
        "says what is already gone: {}",
        out.stderr
    );
    assert!(out.stderr.contains("still published"), "{}", out.stderr);
    let left: Vec<String> = fake.posts(&user).into_iter().map(|p| p.id).collect();
    assert_eq!(left, [ids[0].clone()], "only the reply is gone");
    assert_still_published(&env, &id);

    // Trying again finishes the job (the reply is already gone: X's 404).
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.posts(&user).is_empty());
    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Retracted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_whose_answer_is_lost_is_not_called_retracted_until_a_second_try() {
    let (env, fake, user, id, _) = published_thread(false).await;
    // X deletes the reply but the answer never arrives (dropped connection).
    fake.inject("DELETE /2/tweets/:id", Fault::LoseResponse);
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("still published"), "{}", out.stderr);
    assert_eq!(
        fake.posts(&user).len(),
        1,
        "the reply was deleted, the first post stays"
    );
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    daemon.stop();
    assert!(fake.posts(&user).is_empty());
    assert_eq!(
        admin_harness::delivery_of(&env, "thread.json")[0].state,
        State::Retracted
    );
}

fn doctor_check(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no check \"{name}\": {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_x_accounts_that_cannot_connect_and_why() {
    use std::os::unix::fs::PermissionsExt;
    let (env, fake) = x_setup(&x_accounts(&[
        ("news", "Hanako"),
        ("careers", "Taro"),
        ("shop", "Jiro"),
    ]))
    .await;
    let (_, news) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &news);
    // careers: no credentials file at all; shop: one readable by others.
    let (_, shop) = fake.add_oauth1_user("shop");
    write_credentials(&env, "shop", &shop);
    let shop_file = env.dir.path().join("credentials/x-shop.json");
    std::fs::set_permissions(&shop_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    // careers has a post due within the next 24 hours (recorded by hand: the
    // daemon would not start without the account's credentials).
    {
        let store = admin_harness::store(&env);
        let now = chrono::Utc::now();
        let due = now + chrono::TimeDelta::hours(2);
        let d = herald::store::Delivery {
            v: 1,
            id: "dcareers0001".into(),
            account: "careers".into(),
            file: "jobs.json".into(),
            content_hash: String::new(),
            occurrence: None,
            kind: herald::queue::Kind::News,
            max_lateness_secs: None,
            text: vec!["採用情報".into()],
            media: vec![],
            verdict: herald::guidelines::Verdict::Pass,
            findings: vec![],
            scheduled_for: due,
            due,
            state: State::Scheduled,
            reason: None,
            attempts: vec![],
            parts_done: vec![],
            unsure_since: None,
            released_at: None,
            published: None,
            created_at: now,
            updated_at: now,
        };
        store.put_delivery(&d).unwrap();
        store.flush_blocking().unwrap();
    }

    let out = herald_async(&env, &["doctor", "--json"]).await;
    assert_eq!(out.code, 1, "unhealthy: {}", out.stdout);
    let v = out.json();
    assert_eq!(v["healthy"], false);
    let careers = doctor_check(&v, "platform careers");
    assert_eq!(careers["status"], "fail", "{careers}");
    let detail = careers["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot read the credentials file") && detail.contains("x-careers.json"),
        "{detail}"
    );
    let shop = doctor_check(&v, "platform shop");
    assert_eq!(shop["status"], "fail");
    assert!(
        shop["detail"]
            .as_str()
            .unwrap()
            .contains("can be read by other users (mode 644)"),
        "{shop}"
    );
    assert!(shop["detail"].as_str().unwrap().contains("chmod 600"), "{shop}");
    assert_eq!(doctor_check(&v, "platform news")["status"], "ok");
    let due = doctor_check(&v, "credentials careers");
    assert_eq!(due["status"], "fail");
    assert!(
        due["detail"].as_str().unwrap().contains("x-careers.json"),
        "the reason, not just \"no client\": {due}"
    );
    assert!(!out.stdout.contains("SECRET"), "no secret in the doctor's output");

    // The human form names them too.
    let human = herald_async(&env, &["doctor"]).await;
    assert!(
        human.stdout.contains("platform careers") && human.stdout.contains("x-careers.json"),
        "{}",
        human.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_through_the_daemon_warns_of_credentials_that_changed_since_it_started() {
    use std::os::unix::fs::PermissionsExt;
    let (env, fake) = x_setup(NEWS).await;
    let (_, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    let daemon = admin_harness::start(&env);
    let v = herald_async(&env, &["doctor", "--json"]).await.json();
    assert_eq!(doctor_check(&v, "platform news")["status"], "ok", "{v}");

    let file = env.dir.path().join("credentials/x-news.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = herald_async(&env, &["doctor", "--json"]).await;
    daemon.stop();
    assert_eq!(out.code, 1);
    let news = doctor_check(&out.json(), "platform news");
    assert_eq!(news["status"], "fail");
    let detail = news["detail"].as_str().unwrap();
    assert!(
        detail.contains("restart herald") && detail.contains("mode 640"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_through_the_daemon_names_an_account_it_started_without_credentials() {
    let (env, fake) = x_setup(&x_accounts(&[
        ("news", "Hanako"),
        ("careers", "Taro"),
        ("shop", "Jiro"),
    ]))
    .await;
    for id in ["news", "shop"] {
        let (_, creds) = fake.add_oauth1_user(id);
        write_credentials(&env, id, &creds);
    }
    // careers has no credentials file: the daemon starts anyway and holds its posts.
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["doctor", "--json"]).await;
    daemon.stop();
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v = out.json();
    assert_eq!(v["healthy"], false);
    let careers = doctor_check(&v, "platform careers");
    assert_eq!(careers["status"], "fail", "{careers}");
    let detail = careers["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot read the credentials file")
            && detail.contains("x-careers.json")
            && detail.contains("restart herald"),
        "{detail}"
    );
    assert_eq!(doctor_check(&v, "platform news")["status"], "ok");
    assert_eq!(doctor_check(&v, "platform shop")["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_x_rate_limits_says_until_when_and_deletes_nothing() {
    let (env, fake, user, id, _) = published_thread(false).await;
    let reset = utc("2026-12-01T01:15:00Z");
    fake.rate_limit_next(&user, "DELETE /2/tweets/:id", reset);
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["retract", &id, "--reason", "offensive"]).await;
    daemon.stop();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("rate limited until 2026-12-01 01:15:00"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("Run herald retract {id} again in a while")),
        "{}",
        out.stderr
    );
    assert_eq!(fake.posts(&user).len(), 2, "nothing was deleted");
    assert_still_published(&env, &id);
}

/// A three-part thread X refused in part two (duplicate content): the
/// delivery is rejected, its file in rejected/, part one stands on X.
/// Returns the installation, the fake, the X user, the delivery and part one's id.
async fn half_published_thread() -> (Env, FakeX, String, String, String) {
    let (env, fake, user) = news_on_x().await;
    env.drop_post("news", "first.md", "重複する文\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.drop_post(
        "news",
        "thread.json",
        r#"{"thread": ["新しい文", "重複する文", "三つ目"]}"#,
    );
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Rejected);
    assert_eq!(d.parts_done.len(), 1);
    let part = d.parts_done[0].clone();
    assert!(fake.posts(&user).iter().any(|p| p.id == part), "part one stands on X");
    (env, fake, user, d.id.clone(), part)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retract_deletes_the_parts_of_a_thread_x_refused_half_way() {
    let (env, fake, user, id, part) = half_published_thread().await;
    let daemon = admin_harness::start(&env);
    let out = herald_async(&env, &["retract", &id, "--reason", "half a thread makes no sense"]).await;
    daemon.stop();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let deleted: Vec<(String, u16, String)> = deletions(&fake);
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0].0, format!("/2/tweets/{part}"));
    assert_eq!(deleted[0].1, 200);
    assert!(!fake.posts(&user).iter().any(|p| p.id == part), "part one is gone");

    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Retracted, "the record stays, marked retracted");
    let reason = d.reason.as_deref().unwrap();
    assert!(reason.contains("half a thread makes no sense"), "{reason}");
    assert!(
        reason.contains("it was rejected before"),
        "what it was stays readable: {reason}"
    );
    assert_eq!(
        d.parts_done,
        vec![part.clone()],
        "which parts were deleted stays on record"
    );
    let events = audit_events(&env, &id);
    let last = events.last().unwrap();
    assert_eq!(last.event, "retraction");
    assert_eq!(last.detail["was"], "rejected");
    assert_eq!(last.detail["remote_ids"][0], part.as_str());
    let note = env.read("news", "rejected/thread.json.herald.txt");
    assert!(note.starts_with("RETRACTED"), "{note}");

    // History and show say so.
    let out = herald_async(&env, &["show", &id, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["state"], "retracted");
    assert!(
        v["file_path"].as_str().unwrap().ends_with("rejected/thread.json"),
        "{v}"
    );
    assert_eq!(v["file_exists"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_with_parts_on_x_cannot_be_cancelled_or_rejected_before_it_is_retracted() {
    let (env, fake, user) = news_on_x().await;
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    // X lets one post through, then says none are left until 01:15.
    fake.set_remaining(&user, "POST /2/tweets", 1);
    env.drop_post("news", "thread.json", r#"{"thread": ["最後の一枠", "次の枠で"]}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Scheduled);
    let part = d.parts_done[0].clone();
    let id = d.id.clone();

    for args in [
        vec!["cancel", id.as_str()],
        vec!["reject", id.as_str(), "--reason", "off"],
    ] {
        let out = herald_async(&env, &args).await;
        assert_eq!(out.code, 1, "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(&part), "names the live part: {}", out.stderr);
        assert!(
            out.stderr.contains("herald retract"),
            "says to retract first: {}",
            out.stderr
        );
    }
    assert_eq!(
        admin_harness::delivery_of(&env, "thread.json")[0].state,
        State::Scheduled
    );
    assert!(env.path("news", "thread.json").exists(), "the file did not move");

    // While it is scheduled to finish, retract asks for a pause first.
    let out = herald_async(&env, &["retract", &id, "--reason", "off"]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("herald pause news"), "{}", out.stderr);
    assert!(fake.posts(&user).iter().any(|p| p.id == part));

    // Paused, it can be retracted; the file leaves the queue for cancelled/.
    herald_async(&env, &["pause", "news", "--reason", "incident"])
        .await
        .ok();
    let out = herald_async(&env, &["retract", &id, "--reason", "off"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.posts(&user).is_empty(), "part one is gone");
    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Retracted);
    assert!(!env.path("news", "thread.json").exists());
    assert!(env.path("news", "cancelled/thread.json").exists());
    let note = env.read("news", "cancelled/thread.json.herald.txt");
    assert!(note.starts_with("RETRACTED"), "{note}");
    assert!(
        note.contains("The 1 part of the thread that had been published was deleted"),
        "{note}"
    );

    // Nothing more of it goes out after the account resumes.
    herald_async(&env, &["resume", "news"]).await.ok();
    env.run_at(utc("2026-12-01T01:15:00Z")).await;
    assert!(fake.posts(&user).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_of_unknown_outcome_cannot_be_cancelled_until_reconciled() {
    let (env, fake) = x_setup(NEWS).await;
    let (_, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    fake.inject("POST /2/tweets", Fault::LoseResponse);
    env.drop_post("news", "lost.md", "届いたかどうか\n");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let d = &admin_harness::delivery_of(&env, "lost.md")[0];
    assert!(d.unsure_since.is_some());
    let out = herald_async(&env, &["cancel", &d.id]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("may or may not have gone through"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("reconcile"), "{}", out.stderr);
    assert!(env.path("news", "lost.md").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_whose_file_was_deleted_half_way_can_still_be_retracted() {
    let (env, fake, user) = news_on_x().await;
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    fake.set_remaining(&user, "POST /2/tweets", 1);
    env.drop_post("news", "thread.json", r#"{"thread": ["最後の一枠", "次の枠で"]}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    // The owner deletes the file while part two waits.
    std::fs::remove_file(env.path("news", "thread.json")).unwrap();
    env.run_at(utc("2026-12-01T01:05:00Z")).await;
    let d = &admin_harness::delivery_of(&env, "thread.json")[0];
    assert_eq!(d.state, State::Cancelled);
    let reason = d.reason.as_deref().unwrap();
    assert!(
        reason.contains(&d.parts_done[0]) && reason.contains("herald retract"),
        "{reason}"
    );
    let out = herald_async(&env, &["retract", &d.id, "--reason", "called off"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.posts(&user).is_empty(), "part one is gone");
    assert_eq!(
        admin_harness::delivery_of(&env, "thread.json")[0].state,
        State::Retracted
    );
}
