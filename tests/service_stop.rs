//! Stopping during a slow publish (a real SIGTERM): the request in flight either
//! finishes within the stop grace or is abandoned and recorded; either way
//! nothing is lost and nothing is published twice after the restart.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{Env, TOKYO};
use herald::config::PlatformKind;
use herald::platform::sandbox::Sandbox;
use herald::platform::{BoxFuture, Outgoing, Platform, Progress, PublishError, Published};
use herald::store::State;
use tokio::sync::{oneshot, Notify};

/// The sandbox behind a slow network: the post is made at once (the
/// request reached the platform) but the answer takes `answer_after`.
struct SlowAnswer {
    inner: Sandbox,
    answer_after: Duration,
    started: Arc<Notify>,
    calls: AtomicUsize,
}

impl Platform for SlowAnswer {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Sandbox
    }

    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let made = self.inner.publish(post, progress).await;
            self.started.notify_one();
            tokio::time::sleep(self.answer_after).await;
            made
        })
    }

    fn delete<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        self.inner.delete(ids)
    }

    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        self.inner.check_account()
    }
}

/// Runs the daemon with a slow platform, stops it as soon as the publish
/// is in flight (with a real SIGTERM to this process, or a plain future),
/// and returns how long the stop took.
async fn stop_during_publish(env: &Env, answer_after: Duration, sigterm: bool) -> (Duration, Arc<SlowAnswer>) {
    let started = Arc::new(Notify::new());
    let platform = Arc::new(SlowAnswer {
        inner: Sandbox::new(&env.config.daemon.state_dir, "tokyo", "@tokyo"),
        answer_after,
        started: started.clone(),
        calls: AtomicUsize::new(0),
    });
    env.drop_post("tokyo", "slow.json", r#"{"text": "ゆっくり"}"#);
    let daemon = env.daemon_with("tokyo", platform.clone());
    let (stop, stop_rx) = oneshot::channel::<()>();
    // Listening before the signal is sent, so SIGTERM reaches the daemon
    // instead of ending the test process.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    let handle = tokio::spawn(daemon.run(async move {
        if sigterm {
            term.recv().await;
        } else {
            let _ = stop_rx.await;
        }
    }));
    tokio::time::timeout(Duration::from_secs(20), started.notified())
        .await
        .expect("the publish starts");
    let asked = std::time::Instant::now();
    if sigterm {
        let pid = std::process::id().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    } else {
        stop.send(()).unwrap();
    }
    tokio::time::timeout(Duration::from_secs(20), handle)
        .await
        .expect("the daemon stops")
        .unwrap()
        .expect("a clean stop");
    (asked.elapsed(), platform)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_slower_than_the_grace_is_abandoned_recorded_and_not_published_twice() {
    let mut env = Env::new(TOKYO);
    env.config.daemon.stop_grace = Duration::from_millis(300);
    let (took, platform) = stop_during_publish(&env, Duration::from_secs(3600), true).await;
    assert!(took < Duration::from_secs(10), "the stop waited {took:?}");
    assert_eq!(platform.calls.load(Ordering::SeqCst), 1);

    // Recorded: still publishing, the attempt marked abandoned.
    let d = &env.delivery_of("slow.json")[0];
    assert_eq!(d.state, State::Publishing);
    let outcome = d.attempts.last().unwrap().outcome.clone().unwrap_or_default();
    assert!(outcome.starts_with("abandoned"), "{outcome}");
    assert!(env.path("tokyo", "slow.json").exists(), "the file stays in the queue");

    // Restart: retried with the same idempotency key, published once.
    let summary = env.daemon().run_once().await.unwrap();
    assert_eq!(summary.published, 1);
    assert_eq!(env.outbox("tokyo").len(), 1, "published twice");
    assert_eq!(env.delivery_of("slow.json")[0].state, State::Published);
    assert!(env.path("tokyo", "published/slow.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_within_the_grace_finishes_before_the_daemon_exits() {
    let env = Env::new(TOKYO);
    let (took, _) = stop_during_publish(&env, Duration::from_millis(400), false).await;
    assert!(
        took >= Duration::from_millis(300),
        "the stop did not wait for the request: {took:?}"
    );
    let d = &env.delivery_of("slow.json")[0];
    assert_eq!(d.state, State::Published);
    assert!(env.path("tokyo", "published/slow.json").exists());

    // Nothing left to do after a restart; still one post.
    let summary = env.daemon().run_once().await.unwrap();
    assert_eq!(summary.published, 1);
    assert_eq!(env.outbox("tokyo").len(), 1);
}
