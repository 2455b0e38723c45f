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
