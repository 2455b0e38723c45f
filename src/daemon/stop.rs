//! Stopping (SIGTERM, `systemctl stop`): requests in flight get
//! `[daemon] stop_grace` to finish; those still running then are abandoned.
//! An abandoned delivery stays `publishing` with its attempt recorded as
//! abandoned, and the next start treats its outcome as unknown: it retries
//! with the same idempotency key (or reconciles, where the platform has
//! none), so nothing is lost and nothing published twice.

use chrono::{DateTime, Utc};

use super::Shared;
use crate::store::{State, StoreError};

/// Records, for every delivery still `publishing`, that its request was
/// abandoned at shutdown. Returns how many.
pub(super) fn record_abandoned(shared: &Shared, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = 0;
    for mut d in shared.store.deliveries_where(|h| h.state == State::Publishing)? {
        let attempt = d.attempts.len();
        if let Some(a) = d.attempts.last_mut() {
            a.outcome = Some("abandoned: herald was stopped while the request was in flight".into());
        }
        // Still `publishing`: the next start reconciles it before any retry.
        d.transition(
            State::Publishing,
            Some(format!(
                "herald was stopped during attempt {attempt}; whether it went out is checked at the next start"
            )),
            now,
        );
        shared.store.put_delivery(&d)?;
        tracing::warn!(account = %d.account, delivery = %d.id, "abandoned the request in flight at shutdown; it is reconciled at the next start");
        n += 1;
    }
    shared.store.flush_blocking()?;
    Ok(n)
}
