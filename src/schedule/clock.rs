//! The clock, passed as a parameter so that tests never sleep.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A future the clock returns from [`Clock::sleep_until`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What the scheduler knows of time: what it is now, and how to wait.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(async move {
            // Sleep in slices of at most a minute: a suspended laptop or a
            // stepped clock should not make herald oversleep by hours.
            loop {
                let left = at - Utc::now();
                if left <= chrono::TimeDelta::zero() {
                    return;
                }
                let slice = left
                    .to_std()
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(60));
                tokio::time::sleep(slice).await;
            }
        })
    }
}

/// The environment variable that sets the instant a command-line run takes
/// as "now" (RFC 3339) wherever it has no daemon to ask: an admin command
/// run on the store itself, `herald check` without `--now`, a relative time
/// like `--since 24h`. For drills and for tests whose daemon runs on a clock
/// of their own; unset, it is the wall clock. A daemon never reads it.
pub const NOW_VAR: &str = "HERALD_NOW";

/// "Now" for a command-line run: `$HERALD_NOW` if set, else the wall clock.
pub fn command_line_now() -> Result<DateTime<Utc>, String> {
    match std::env::var(NOW_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(Utc::now()),
        Ok(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                format!("${NOW_VAR} is \"{text}\", not an RFC 3339 instant ({e}): write it like 2026-12-01T09:00:00+09:00, or unset it to use the clock")
            }),
        Err(e) => Err(format!("${NOW_VAR}: {e}; unset it to use the clock")),
    }
}

/// A clock that moves only when a test moves it.
#[derive(Debug, Clone)]
pub struct ManualClock {
    // A watch channel rather than a plain mutex: sleepers must wake when the
    // test advances time, without polling.
    now: Arc<watch::Sender<DateTime<Utc>>>,
    // Keeps the channel open even when nobody is sleeping.
    _keep: Arc<Mutex<watch::Receiver<DateTime<Utc>>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let (tx, rx) = watch::channel(start);
        ManualClock {
            now: Arc::new(tx),
            _keep: Arc::new(Mutex::new(rx)),
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_replace(to);
    }

    pub fn advance(&self, by: chrono::TimeDelta) {
        let to = *self.now.borrow() + by;
        self.set(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // wait_for checks the current value first, so no wake-up is lost.
            let _ = rx.wait_for(|now| *now >= at).await;
        })
    }
}
