//! Where the daemon meets issue 17's rooms ([`crate::alerts`]): the
//! attestation gate in the scheduler, the reminders ahead of it, and (in
//! their own tasks) the disaster feed and the notification spool.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::publish::{release_holds, Release};
use super::Shared;
use crate::alerts::attestation::{self, Standing};
use crate::config::Account;
use crate::store::{Delivery, State, StoreError};

/// Whether a delivery is held because its owner's attestation lapsed.
pub(crate) fn is_attestation_hold(d: &Delivery) -> bool {
    d.state == State::Held
        && d.reason
            .as_deref()
            .is_some_and(|r| r.starts_with(attestation::HOLD_PREFIX))
}

/// The scheduler's gate: holds a scheduled delivery of an account whose
/// owner's attestation has lapsed (at once, not only when due, so that the
/// owner reads why in the note beside the file). Returns whether it held it.
pub(super) fn hold_if_lapsed(
    shared: &Shared,
    d: &mut Delivery,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(settings) = shared.config.alerts.attestation.as_ref() else {
        return Ok(false);
    };
    let Some(standing) = attestation::standing(Some(settings), account, now).filter(|s| s.holds()) else {
        return Ok(false);
    };
    let why = attestation::hold_reason(settings, account, standing);
    d.transition(State::Held, Some(why.clone()), now);
    shared.store.put_delivery(d)?;
    tracing::warn!(account = %account.id, delivery = %d.id, "held: {why}");
    shared.audit.note(
        now,
        crate::audit::Event::new("attestation-hold")
            .account(&account.id)
            .delivery(&d.id)
            .detail(serde_json::json!({"standing": standing})),
    );
    super::notes::rewrite_pending(&shared.config.daemon.state_dir, account, d);
    Ok(true)
}

/// Releases the deliveries held for a lapsed attestation of accounts whose
/// owners are current again (a start or a reload read the new date).
pub(super) fn release_attestation_holds(shared: &Shared, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = 0;
    for account in shared.config.accounts.values() {
        let standing = attestation::standing(shared.config.alerts.attestation.as_ref(), account, now);
        if standing.is_some_and(|s| s.holds()) {
            continue;
        }
        let because = match account.attested {
            Some(d) if standing.is_some() => format!("the registry records an attestation on {d}"),
            _ => "the attestation gate is off".to_string(),
        };
        n += release_holds(
            shared,
            Release {
                account_id: &account.id,
                is_hold: is_attestation_hold,
                after: "the owner's attestation was renewed",
                event: "attestation-release",
            },
            &because,
            now,
        )?;
    }
    Ok(n)
}

/// What reminders were sent, so that each goes once:
/// `<state_dir>/alerts/attestation.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Told {
    /// Account → (the end date reminded of, the warnings sent: days, 0 for "lapsed").
    accounts: BTreeMap<String, (NaiveDate, Vec<u32>)>,
}

fn told_path(shared: &Shared) -> PathBuf {
    shared.config.daemon.state_dir.join("alerts").join("attestation.json")
}

/// One reminder the owner should hear.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reminder {
    pub account: String,
    pub standing: Standing,
    /// The warning reached (days), 0 once lapsed.
    pub warn: u32,
}

/// The reminders due at `now` that were not sent yet, recorded as sent
/// (the caller hands them to the notification spool, which is durable).
/// Reads the record only when some owner is within a warning.
pub(super) fn attestation_reminders(shared: &Shared, now: DateTime<Utc>) -> Vec<Reminder> {
    let settings = shared.config.alerts.attestation.as_ref();
    let mut due: Vec<(String, NaiveDate, Reminder)> = Vec::new();
    for a in shared.config.accounts.values() {
        let Some(standing) = attestation::standing(settings, a, now) else {
            return Vec::new();
        };
        let (expires, warn) = match standing {
            Standing::DueSoon { good_through, warn, .. } => (good_through, warn),
            Standing::Lapsed { good_through } => (good_through, 0),
            Standing::Current { .. } | Standing::Unrecorded => continue,
        };
        due.push((
            a.id.clone(),
            expires,
            Reminder {
                account: a.id.clone(),
                standing,
                warn,
            },
        ));
    }
    if due.is_empty() {
        return Vec::new();
    }
    let path = told_path(shared);
    let mut told: Told = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (id, expires, reminder) in due {
        let entry = told.accounts.entry(id).or_insert((expires, Vec::new()));
        if entry.0 != expires {
            *entry = (expires, Vec::new());
        }
        if entry.1.contains(&reminder.warn) {
            continue;
        }
        entry.1.push(reminder.warn);
        out.push(reminder);
    }
    if !out.is_empty() {
        let written = std::fs::create_dir_all(path.parent().expect("in alerts/"))
            .and_then(|_| serde_json::to_vec_pretty(&told).map_err(std::io::Error::other))
            .and_then(|bytes| crate::queue::write_atomically(&path, &bytes));
        if let Err(e) = written {
            tracing::error!(file = %path.display(), "cannot record the attestation reminders sent ({e}); they may be sent again");
        }
        for r in &out {
            tracing::warn!(account = %r.account, standing = r.standing.name(), "attestation reminder: {:?}", r.standing);
            shared.audit.note(
                now,
                crate::audit::Event::new("attestation-reminder")
                    .account(&r.account)
                    .detail(serde_json::json!({"standing": r.standing, "warn_days": r.warn})),
            );
        }
    }
    out
}

/// Once per scheduler pass: the reminders that fell due.
pub(super) fn on_tick(shared: &Shared, now: DateTime<Utc>) {
    let _reminders = attestation_reminders(shared, now);
}
