//! Crashes and restarts: herald records each attempt before the request and
//! each result before moving the file, so a crash anywhere publishes nothing
//! twice (counted in the sandbox outbox, which honours idempotency keys).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{utc, Env, TOKYO};
use herald::config::PlatformKind;
use herald::platform::sandbox::Sandbox;
use herald::platform::{BoxFuture, Outgoing, Platform, Progress, PublishError, Published};
use herald::store::State;

/// The sandbox, with a fault after the post is made: on the calls listed in
/// `fail_on`, it either panics (the process dies before herald hears the
/// answer) or reports that the outcome is unknown (a timeout after sending).
struct FaultAfterSend {
    inner: Sandbox,
    calls: AtomicUsize,
    fail_on: Vec<usize>,
    panic: bool,
}

impl Platform for FaultAfterSend {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Sandbox
    }

    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let result = self.inner.publish(post, progress).await;
            if self.fail_on.contains(&n) {
                if self.panic {
                    panic!("simulated crash after the post was made (call {n})");
                }
                return Err(PublishError::Unknown(
                    "the response was lost after the request was sent".into(),
                ));
            }
            result
        })
    }

    fn delete<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        self.inner.delete(ids)
    }

    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        self.inner.check_account()
    }
}

fn faulty(env: &Env, fail_on: Vec<usize>, panic: bool) -> Arc<dyn Platform> {
    Arc::new(FaultAfterSend {
        inner: Sandbox::new(&env.config.daemon.state_dir, "tokyo", "@tokyo"),
        calls: AtomicUsize::new(0),
        fail_on,
        panic,
    })
}

#[tokio::test]
async fn a_crash_after_send_before_the_result_is_recorded_publishes_once() {
    let env = Env::new(TOKYO);
    for name in ["a.json", "b.json", "c.json"] {
        env.drop_post("tokyo", name, format!(r#"{{"text": "投稿 {name}"}}"#));
    }
    let t = utc("2026-12-01T01:00:00Z");
    env.clock.set(t);
    // The second publication "crashes" after the post was made.
    env.daemon_with("tokyo", faulty(&env, vec![2], true))
        .run_once()
        .await
        .unwrap();
    let interrupted: Vec<_> = env
        .deliveries()
        .into_iter()
        .filter(|d| d.state == State::Publishing)
        .collect();
    assert_eq!(interrupted.len(), 1, "the attempt was recorded before the request");
    assert_eq!(interrupted[0].attempts.len(), 1);
    assert!(interrupted[0].attempts[0].outcome.is_none(), "its outcome is unknown");
    assert!(
        env.path("tokyo", &interrupted[0].file).exists(),
        "its file is still pending"
    );

    // Restart: the interrupted delivery is retried with the same key.
    env.run_at(t).await;
    let outbox = env.outbox("tokyo");
    assert_eq!(outbox.len(), 3, "each post exactly once: {outbox:#?}");
    let mut ids: Vec<&str> = outbox.iter().map(|l| l["delivery"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(env.deliveries().iter().all(|d| d.state == State::Published));
    for name in ["a.json", "b.json", "c.json"] {
        assert!(env.path("tokyo", &format!("published/{name}")).exists(), "{name}");
    }
}

#[tokio::test]
async fn a_response_lost_after_the_post_was_made_is_retried_without_a_second_post() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "a.json", r#"{"text": "一度だけ"}"#);
    let t = utc("2026-12-01T01:00:00Z");
    env.clock.set(t);
    env.daemon_with("tokyo", faulty(&env, vec![1], false))
        .run_once()
        .await
        .unwrap();
    let d = &env.delivery_of("a.json")[0];
    assert_eq!(d.state, State::Scheduled, "retried later");
    assert!(d.due > t);
    assert_eq!(env.outbox("tokyo").len(), 1);

    env.run_at(d.due).await;
    assert_eq!(
        env.outbox("tokyo").len(),
        1,
        "the retry carried the same idempotency key"
    );
    let d = &env.delivery_of("a.json")[0];
    assert_eq!(d.state, State::Published);
    assert_eq!(d.attempts.len(), 2);
    assert_eq!(d.attempts[0].idempotency_key, d.attempts[1].idempotency_key);
}

#[tokio::test]
async fn a_store_lost_after_publication_does_not_republish() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "a.json", r#"{"text": "公開済み"}"#);
    env.drop_post("tokyo", "daily.json", r#"{"text": "毎日", "cron": "0 * * * *"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 2);
    std::fs::remove_dir_all(env.config.store_path()).unwrap();

    // Much later, with no store: nothing in published/ goes out again, and
    // the recurring post does not make up for the hours it missed.
    env.run_at(utc("2026-12-01T05:30:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 2);
    env.run_at(utc("2026-12-01T06:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 3, "the schedule resumes from now");
}

#[tokio::test]
async fn a_second_daemon_on_the_same_queue_is_refused_even_with_its_own_state() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "p.json", r#"{"text": "一度だけ"}"#);
    let first = env.daemon();
    // Another installation: same queue folder, a state folder of its own.
    let mut other = env.config.clone();
    other.daemon.state_dir = env.dir.path().join("state-of-another");
    let err = match herald::daemon::Daemon::open(other.clone(), Arc::new(env.clock.clone())) {
        Ok(_) => panic!("a second daemon on the same queue started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("already served by another herald daemon"), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "names the other process: {err}"
    );
    assert!(
        err.contains(&env.config.daemon.state_dir.display().to_string()),
        "{err}"
    );
    // The first publishes the post once; once it is gone, the other may start.
    first.run_once().await.unwrap();
    assert_eq!(env.outbox("tokyo").len(), 1);
    let second = herald::daemon::Daemon::open(other, Arc::new(env.clock.clone())).unwrap();
    second.run_once().await.unwrap();
    assert_eq!(env.outbox("tokyo").len(), 1, "published once");
}

#[test]
fn a_daemon_starting_while_a_command_holds_the_store_waits_for_it() {
    let env = Env::new(TOKYO);
    std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
    // What `herald status` does when no daemon answers: it opens the store.
    let command = herald::store::Store::open(&env.config.store_path()).unwrap();
    let done = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(command);
    });
    // The daemon starts meanwhile: it waits for the command instead of failing.
    let daemon = herald::daemon::Daemon::open(env.config.clone(), Arc::new(env.clock.clone()));
    done.join().unwrap();
    assert!(daemon.is_ok(), "{:#}", daemon.err().unwrap());
}
