//! The watchdog pings come from the scheduler loop itself: when the loop is
//! stuck, the pings stop (and systemd, after `WatchdogSec=`, restarts
//! herald); when it moves again, they resume.

mod common;

use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{Env, TOKYO};
use herald::daemon::notify::Notifier;
use herald::daemon::Daemon;
use herald::schedule::clock::{Clock, Sleep};
use herald::schedule::ManualClock;

/// A manual clock that can be made to hang, as a stuck filesystem or a
/// deadlock would hang the loop: `now()` blocks while `stuck` is set.
struct HangingClock {
    inner: ManualClock,
    stuck: Arc<(Mutex<bool>, Condvar)>,
}

impl Clock for HangingClock {
    fn now(&self) -> DateTime<Utc> {
        let (lock, cv) = &*self.stuck;
        let mut stuck = lock.lock().unwrap();
        while *stuck {
            stuck = cv.wait(stuck).unwrap();
        }
        self.inner.now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        self.inner.sleep_until(at)
    }
}

/// The watchdog pings received within `window`.
fn pings(sock: &UnixDatagram, window: Duration) -> usize {
    let end = Instant::now() + window;
    let mut n = 0;
    let mut buf = [0u8; 256];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        if let Ok(len) = sock.recv(&mut buf) {
            if &buf[..len] == b"WATCHDOG=1" {
                n += 1;
            }
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_loop_stops_pinging_the_watchdog_and_a_moving_one_resumes() {
    let env = Env::new(TOKYO);
    let path = env.dir.path().join("notify.sock");
    let sock = Arc::new(UnixDatagram::bind(&path).unwrap());
    let stuck = Arc::new((Mutex::new(false), Condvar::new()));
    let clock = HangingClock {
        inner: env.clock.clone(),
        stuck: stuck.clone(),
    };
    // WatchdogSec=400ms: a ping every 200 ms.
    let notifier = Notifier::to_socket(&path.display().to_string(), Some(Duration::from_millis(400)));
    let daemon = Daemon::open(env.config.clone(), Arc::new(clock))
        .unwrap()
        .with_notifier(notifier);
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(daemon.run(async {
        let _ = stop_rx.await;
    }));

    let s = sock.clone();
    let running = tokio::task::spawn_blocking(move || pings(&s, Duration::from_millis(1200)))
        .await
        .unwrap();
    assert!(running >= 3, "{running} pings in 1.2 s from a running loop");

    // The loop hangs at its next turn.
    *stuck.0.lock().unwrap() = true;
    let s = sock.clone();
    let hung = tokio::task::spawn_blocking(move || {
        pings(&s, Duration::from_millis(400)); // one may already be on its way
        pings(&s, Duration::from_millis(1200))
    })
    .await
    .unwrap();
    assert_eq!(hung, 0, "pings kept coming while the loop was stuck");

    *stuck.0.lock().unwrap() = false;
    stuck.1.notify_all();
    let s = sock.clone();
    let resumed = tokio::task::spawn_blocking(move || pings(&s, Duration::from_millis(1200)))
        .await
        .unwrap();
    assert!(resumed >= 2, "{resumed} pings after the loop moved again");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), handle)
        .await
        .expect("the daemon stops")
        .unwrap()
        .unwrap();
}
