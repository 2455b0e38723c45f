//! Publishing one delivery: record the attempt durably, call the platform,
//! record the answer durably, then move the file (DESIGN.md invariant 1).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{ingest, notes, Shared};
use crate::platform::{BoxFuture, Outgoing, OutgoingMedia, OutgoingPart, Progress, PublishError};
use crate::store::{Attempt, Cursor, Delivery, Publication, State, StoreError};

/// How many transient failures before a delivery is marked failed.
pub const MAX_ATTEMPTS: u32 = 5;

/// The wait before retry `n` (1-based): 30 s doubling to at most 30 min, with
/// a jitter derived from the delivery id so that many deliveries failing
/// together do not retry together.
pub fn backoff(id: &str, n: u32) -> TimeDelta {
    let base = 30i64 << n.saturating_sub(1).min(6);
    let jitter = id.bytes().fold(0i64, |a, b| (a * 31 + i64::from(b)) % 1000) * base / 4000;
    TimeDelta::seconds((base + jitter).min(1800))
}

fn outgoing(shared: &Shared, d: &Delivery) -> Result<Outgoing, String> {
    let account = &shared.config.accounts[&d.account];
    let folder = account
        .folder
        .canonicalize()
        .map_err(|e| format!("the account's folder is gone: {e}"))?;
    let mut parts = Vec::new();
    for (i, text) in d.text.iter().enumerate() {
        let mut media = Vec::new();
        for m in d.media.get(i).into_iter().flatten() {
            // Resolved again: the file may have been swapped since ingest.
            let path = folder
                .join(&m.path)
                .canonicalize()
                .map_err(|_| format!("the media file {} is missing", m.path))?;
            if !path.starts_with(&folder) {
                return Err(format!(
                    "the media file {} now leads outside the account's folder",
                    m.path
                ));
            }
            media.push(OutgoingMedia {
                path,
                alt: m.alt.clone(),
            });
        }
        parts.push(OutgoingPart {
            text: text.clone(),
            media,
        });
    }
    Ok(Outgoing {
        account: d.account.clone(),
        delivery_id: d.id.clone(),
        idempotency_key: d.id.clone(),
        parts,
        done: d.parts_done.clone(),
        unsure_since: d.unsure_since,
        unsure_after_id: d.unsure_since.and_then(|since| {
            d.attempts
                .iter()
                .find(|a| a.started_at == since)
                .and_then(|a| a.after_id.clone())
        }),
    })
}

/// Records each thread part durably as the platform reports it, so that a
/// crash or a failure later in the thread resumes after it.
struct StoreProgress {
    shared: Arc<Shared>,
    delivery: String,
}

impl Progress for StoreProgress {
    fn part_published<'a>(&'a self, index: usize, remote_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let store = &self.shared.store;
            let mut d = store
                .delivery(&self.delivery)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("delivery {} vanished from the store", self.delivery))?;
            if d.parts_done.len() == index {
                d.parts_done.push(remote_id.to_string());
            } else if d.parts_done.get(index).map(String::as_str) != Some(remote_id) {
                return Err(format!(
                    "part {} reported out of order ({} parts recorded)",
                    index + 1,
                    d.parts_done.len()
                ));
            }
            // The part exists now; what is known about it is no longer unsure.
            d.unsure_since = None;
            store.put_delivery(&d).map_err(|e| e.to_string())?;
            store.flush().await.map_err(|e| e.to_string())?;
            tracing::info!(account = %d.account, delivery = %d.id, part = index + 1, "part published");
            Ok(())
        })
    }
}

/// Publishes one delivery. Errors are only store errors; platform answers
/// become states.
pub(crate) async fn publish(shared: Arc<Shared>, mut d: Delivery) -> Result<(), StoreError> {
    let account = shared.config.accounts[&d.account].clone();
    let now = shared.clock.now();
    let n = d.attempts.len() as u32 + 1;
    let after_id = shared.store.account(&d.account)?.last_remote_id;
    d.attempts.push(Attempt {
        n,
        idempotency_key: d.id.clone(),
        started_at: now,
        finished_at: None,
        outcome: None,
        after_id,
    });
    d.transition(State::Publishing, None, now);
    shared.store.put_delivery(&d)?;
    // Invariant 1: the attempt is durable before the request goes out.
    shared.store.flush().await?;
    audit(&shared, now, "attempt", &d, serde_json::json!({"attempt": n})).await;

    let result = match outgoing(&shared, &d) {
        Ok(post) => {
            let platform = shared.platforms[&d.account].clone();
            let progress = StoreProgress {
                shared: shared.clone(),
                delivery: d.id.clone(),
            };
            platform.publish(&post, &progress).await
        }
        Err(why) => Err(PublishError::Permanent(why)),
    };
    // The parts recorded during the request (StoreProgress wrote them).
    if let Some(current) = shared.store.delivery(&d.id)? {
        d.parts_done = current.parts_done;
        d.unsure_since = current.unsure_since;
    }
    let started_at = now;
    let now = shared.clock.now();
    shared
        .telemetry
        .observe_publish(&d.account, &result, d.scheduled_for, now);
    let attempt = d.attempts.last_mut().expect("pushed above");
    attempt.finished_at = Some(now);
    // Set when the platform refused the whole account: its other due posts
    // are held with the same reason, without a request each.
    let mut account_refused = None;
    let succeeded = result.is_ok();
    // Whether, after this attempt, herald cannot tell if the post stands.
    let unsure = matches!(result, Err(PublishError::Unknown(_))) || d.unsure_since.is_some();
    match result {
        Ok(p) => {
            attempt.outcome = Some(format!(
                "published{}",
                p.url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default()
            ));
            d.published = Some(Publication {
                at: now,
                url: p.url.clone(),
                remote_ids: p.remote_ids.clone(),
            });
            d.parts_done = p.remote_ids.clone();
            d.unsure_since = None;
            d.transition(State::Published, None, now);
            let mut rec = shared.store.account(&d.account)?;
            rec.last_published = Some(now);
            if let Some(last) = p.remote_ids.last() {
                rec.last_remote_id = Some(last.clone());
            }
            shared.store.put_account(&d.account, &rec)?;
            if let Some(occurrence) = d.occurrence {
                let published = shared.store.cursor(&d.account, &d.file)?.map_or(0, |c| c.published) + 1;
                shared.store.put_cursor(
                    &d.account,
                    &d.file,
                    &Cursor {
                        v: 1,
                        last: occurrence,
                        published,
                        content_hash: d.content_hash.clone(),
                    },
                )?;
            }
            tracing::info!(account = %d.account, delivery = %d.id, url = p.url.as_deref().unwrap_or(""), "published");
        }
        Err(PublishError::Unknown(why)) if n < MAX_ATTEMPTS => {
            attempt.outcome = Some(format!("outcome unknown: {why}"));
            d.unsure_since = Some(started_at);
            d.due = now + backoff(&d.id, n);
            d.transition(
                State::Scheduled,
                Some(format!(
                    "attempt {n} may or may not have gone through ({why}); herald checks the account's posts before trying again"
                )),
                now,
            );
            tracing::warn!(account = %d.account, delivery = %d.id, attempt = n, "outcome unknown, will reconcile: {why}");
        }
        Err(PublishError::Transient(why)) if n < MAX_ATTEMPTS => {
            attempt.outcome = Some(why.clone());
            d.due = now + backoff(&d.id, n);
            d.transition(
                State::Scheduled,
                Some(format!("attempt {n} did not go through ({why}); herald tries again")),
                now,
            );
            tracing::warn!(account = %d.account, delivery = %d.id, attempt = n, "will retry: {why}");
        }
        // Out of attempts while herald still does not know whether the post
        // stands: never fail it (a failed delivery looks like nothing is
        // out) and never post blind: an admin checks the account.
        Err(PublishError::Unknown(why)) | Err(PublishError::Transient(why)) if unsure => {
            attempt.outcome = Some(format!("outcome unknown: {why}"));
            d.unsure_since = d.unsure_since.or(Some(started_at));
            let reason = unknown_outcome_hold(&d, &format!("after {n} attempts herald still cannot tell ({why})"));
            d.transition(State::Held, Some(reason), now);
            tracing::error!(account = %d.account, delivery = %d.id, "outcome unknown after {n} attempts, held: {why}");
        }
        // (An unknown outcome is always `unsure`, held above.)
        Err(PublishError::Transient(why)) | Err(PublishError::Unknown(why)) => {
            attempt.outcome = Some(why.clone());
            d.transition(
                State::Failed,
                Some(format!("{n} attempts failed; the last said: {why}")),
                now,
            );
            tracing::error!(account = %d.account, delivery = %d.id, "failed after {n} attempts: {why}");
        }
        Err(PublishError::RateLimited { until, detail }) => {
            attempt.outcome = Some(format!("rate limited: {detail}"));
            d.due = until;
            d.transition(
                State::Scheduled,
                Some(format!("the platform's rate limit; herald waits until {until}")),
                now,
            );
            tracing::warn!(account = %d.account, delivery = %d.id, "rate limited until {until}");
        }
        Err(PublishError::Permanent(why)) => {
            attempt.outcome = Some(why.clone());
            let partial = if d.parts_done.is_empty() {
                String::new()
            } else {
                format!(
                    " (the first {} of {} parts were already published, as {}; retract them if the thread must not stand half-done)",
                    d.parts_done.len(),
                    d.text.len(),
                    d.parts_done.join(", ")
                )
            };
            d.transition(
                State::Rejected,
                Some(format!("{} refused the post: {why}{partial}", account.platform.name())),
                now,
            );
            tracing::warn!(account = %d.account, delivery = %d.id, "refused by the platform: {why}");
        }
        Err(PublishError::NeedsReauth(why)) => {
            attempt.outcome = Some(why.clone());
            d.transition(State::Held, Some(format!("{REAUTH_HOLD_PREFIX}: {why}")), now);
            tracing::error!(account = %d.account, delivery = %d.id, "needs re-authorization: {why}");
        }
        Err(PublishError::AccountRefused(why)) => {
            attempt.outcome = Some(why.clone());
            let reason = format!("{ACCOUNT_HOLD_PREFIX}: {why}{}", live_suffix(&d));
            d.transition(State::Held, Some(reason.clone()), now);
            tracing::error!(account = %d.account, delivery = %d.id, "the platform refuses the whole account, holding its posts: {why}");
            account_refused = Some(reason);
        }
        Err(PublishError::NeedsAdmin(why)) => {
            attempt.outcome = Some(why.clone());
            let reason = if d.unsure_since.is_some() {
                unknown_outcome_hold(&d, &why)
            } else {
                format!(
                    "{HALF_THREAD_HOLD_PREFIX}: {why} {} Once the account works, herald retry {} publishes the rest; or herald retract {} deletes what stands.",
                    super::live_parts(&d),
                    d.id,
                    d.id
                )
            };
            d.transition(State::Held, Some(reason), now);
            tracing::error!(account = %d.account, delivery = %d.id, "held for an admin: {why}");
        }
    }
    shared.store.put_delivery(&d)?;
    // Invariant 1: the result is durable before the file moves.
    shared.store.flush().await?;
    let held_before = shared.held_accounts.lock().expect("not poisoned").contains(&d.account);
    if let Some(reason) = account_refused {
        shared
            .held_accounts
            .lock()
            .expect("not poisoned")
            .insert(d.account.clone());
        let shared = shared.clone();
        let account_id = d.account.clone();
        let _ = tokio::task::spawn_blocking(move || hold_account(&shared, &account_id, &reason, now)).await;
    } else if d.state == State::Held && is_account_hold(&d) {
        shared
            .held_accounts
            .lock()
            .expect("not poisoned")
            .insert(d.account.clone());
    } else if succeeded && held_before {
        // A post went through: whatever held the account is fixed.
        shared.held_accounts.lock().expect("not poisoned").remove(&d.account);
        let shared = shared.clone();
        let account_id = d.account.clone();
        let _ = tokio::task::spawn_blocking(move || {
            release_reauth_holds(&shared, &account_id, "a post of the account went through", now)
        })
        .await;
    }
    let detail = serde_json::json!({
        "attempt": n,
        "state": d.state.name(),
        "url": d.published.as_ref().and_then(|p| p.url.clone()),
        "text_hash": crate::audit::text_hash(&d.text),
        "answer": d.attempts.last().and_then(|a| a.outcome.clone()),
    });
    let event = if d.state == State::Published {
        "publish"
    } else {
        "attempt-result"
    };
    audit(&shared, now, event, &d, detail).await;
    let note_only = d.occurrence.is_some() || d.state.is_pending() || d.state == State::Failed;
    let state_dir = shared.config.daemon.state_dir.clone();
    tokio::task::spawn_blocking(move || {
        if note_only {
            notes::rewrite_pending(&state_dir, &account, &d);
        } else {
            ingest::finish(&account, &d);
        }
    })
    .await
    .ok();
    Ok(())
}

/// How the reason of a delivery held because its account needs
/// re-authorization begins; such holds are released once the account works.
pub(crate) const REAUTH_HOLD_PREFIX: &str = "the account needs re-authorization";

/// How the reason of a delivery held because the platform refuses its
/// whole account begins (app permissions, enrolment, a missing scope); such
/// holds are released like re-authorization holds.
pub(crate) const ACCOUNT_HOLD_PREFIX: &str = "the account cannot publish";

/// How the reason of a delivery held because herald cannot tell whether its
/// post stands begins.
pub(crate) const UNKNOWN_OUTCOME_HOLD_PREFIX: &str = "outcome unknown";

/// How the reason of a thread held half out begins.
pub(crate) const HALF_THREAD_HOLD_PREFIX: &str = "thread half out";

/// Whether a delivery is held until its account is re-authorized.
pub(crate) fn is_reauth_hold(d: &Delivery) -> bool {
    d.state == State::Held && d.reason.as_deref().is_some_and(|r| r.starts_with(REAUTH_HOLD_PREFIX))
}

/// Whether a delivery is held because of its account, not because of
/// itself: re-authorization, or a refusal of the whole account.
pub(crate) fn is_account_hold(d: &Delivery) -> bool {
    is_reauth_hold(d)
        || (d.state == State::Held && d.reason.as_deref().is_some_and(|r| r.starts_with(ACCOUNT_HOLD_PREFIX)))
}

/// Whether a held delivery waits for an admin to check the platform and
/// then `herald retry` it (outcome unknown, a thread half out, the account
/// refused): holds that no review decided, so a retry bypasses nothing.
pub(crate) fn is_retryable_hold(d: &Delivery) -> bool {
    is_account_hold(d)
        || (d.state == State::Held
            && d.reason
                .as_deref()
                .is_some_and(|r| r.starts_with(UNKNOWN_OUTCOME_HOLD_PREFIX) || r.starts_with(HALF_THREAD_HOLD_PREFIX)))
}

/// Whether a delivery is held because herald could not tell whether its
/// post stands (an admin who checked the account may cancel it).
pub(crate) fn is_unknown_outcome_hold(d: &Delivery) -> bool {
    d.state == State::Held
        && d.reason
            .as_deref()
            .is_some_and(|r| r.starts_with(UNKNOWN_OUTCOME_HOLD_PREFIX))
}

/// The reason of a delivery held because herald cannot tell whether its
/// post stands, with what an admin does about it.
fn unknown_outcome_hold(d: &Delivery, why: &str) -> String {
    format!(
        "{UNKNOWN_OUTCOME_HOLD_PREFIX} — {why}. {} Check the account on the platform, then herald retry {} (herald looks for the post again before posting anything) or, if it is not there, herald cancel {}.",
        super::live_parts(d),
        d.id,
        d.id
    )
}

/// What of a delivery stands, as a suffix for a hold reason.
fn live_suffix(d: &Delivery) -> String {
    let live = super::live_parts(d);
    if live.is_empty() {
        String::new()
    } else {
        format!(" ({live})")
    }
}

/// Holds an account's other scheduled deliveries with `reason`: the
/// platform refused the whole account, so each would only be refused too.
fn hold_account(shared: &Shared, account_id: &str, reason: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let Some(account) = shared.config.accounts.get(account_id) else {
        return Ok(());
    };
    let waiting = shared.store.deliveries_in(account_id, State::Scheduled)?;
    let mut ids = Vec::new();
    for mut d in waiting {
        let reason = format!("{reason}{}", live_suffix(&d));
        d.transition(State::Held, Some(reason), now);
        shared.store.put_delivery(&d)?;
        ids.push(d.id.clone());
    }
    shared.store.flush_blocking()?;
    if ids.is_empty() {
        return Ok(());
    }
    tracing::warn!(account = %account_id, held = ids.len(), "the account's other posts are held until it is fixed");
    shared.audit.note(
        now,
        crate::audit::Event::new("account-hold")
            .account(account_id)
            .detail(serde_json::json!({"reason": reason, "deliveries": ids})),
    );
    for id in &ids {
        if let Some(d) = shared.store.delivery(id)? {
            notes::rewrite_pending(&shared.config.daemon.state_dir, account, &d);
        }
    }
    Ok(())
}

/// Releases an account's deliveries held because it needed
/// re-authorization, now that it works again (`because` says how herald
/// knows). They go back to scheduled at once; the scheduler's stale check
/// then holds (or expires, per the account's policy) those that waited
/// longer than their max lateness, as for any other wait. Logged, audited,
/// and the owners' notes rewritten. Returns how many were released.
pub(crate) fn release_reauth_holds(
    shared: &Shared,
    account_id: &str,
    because: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    release_holds(
        shared,
        Release {
            account_id,
            is_hold: is_account_hold,
            after: "the account works again",
            event: "reauth-release",
        },
        because,
        now,
    )
}

/// Which holds [`release_holds`] lifts, and how it says so.
pub(crate) struct Release<'a> {
    pub account_id: &'a str,
    /// Whether a delivery is held for the reason now gone.
    pub is_hold: fn(&Delivery) -> bool,
    /// What happened, for the delivery's reason: "released: {after}".
    pub after: &'a str,
    /// The audit event.
    pub event: &'static str,
}

/// Releases an account's deliveries held for a reason that is gone (see
/// [`release_reauth_holds`]): back to scheduled, logged, audited, notes
/// rewritten. Returns how many were released.
pub(crate) fn release_holds(
    shared: &Shared,
    r: Release<'_>,
    because: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let account_id = r.account_id;
    let Some(account) = shared.config.accounts.get(account_id) else {
        return Ok(0);
    };
    let held: Vec<Delivery> = shared
        .store
        .deliveries_in(account_id, State::Held)?
        .into_iter()
        .filter(|d| (r.is_hold)(d))
        .collect();
    if held.is_empty() {
        return Ok(0);
    }
    let last = shared.store.account(account_id)?.last_published;
    let mut ids = Vec::new();
    let mut late = 0;
    for mut d in held {
        let (origin, lateness) = crate::schedule::lateness_of(&d, account, last);
        let stale = crate::schedule::is_stale(origin, now, lateness);
        late += usize::from(stale);
        d.due = d.due.max(now);
        d.transition(
            State::Scheduled,
            Some(format!(
                "released: {} ({because}){}",
                r.after,
                if stale {
                    "; it waited longer than its max lateness, so herald checks whether it is still on time before publishing"
                } else {
                    ""
                }
            )),
            now,
        );
        shared.store.put_delivery(&d)?;
        ids.push(d.id.clone());
        tracing::info!(account = %account_id, delivery = %d.id, stale, "released: {} ({because})", r.after);
    }
    shared.store.flush_blocking()?;
    shared.audit.note(
        now,
        crate::audit::Event::new(r.event)
            .account(account_id)
            .detail(serde_json::json!({"because": because, "deliveries": ids, "late": late})),
    );
    for id in &ids {
        if let Some(d) = shared.store.delivery(id)? {
            notes::rewrite_pending(&shared.config.daemon.state_dir, account, &d);
        }
    }
    Ok(ids.len())
}

/// Appends a daemon event to the audit log off the async threads (it fsyncs).
async fn audit(shared: &Arc<Shared>, at: DateTime<Utc>, name: &'static str, d: &Delivery, detail: serde_json::Value) {
    let log = shared.audit.clone();
    let event = crate::audit::Event::new(name)
        .account(&d.account)
        .delivery(&d.id)
        .detail(detail);
    let _ = tokio::task::spawn_blocking(move || log.note(at, event)).await;
}

/// Deliveries left in `publishing` by a crash: their outcome is unknown. They
/// are retried with the same idempotency key, which platforms that support
/// it (and the sandbox) answer without posting twice; platforms without one
/// (X) look for the post first (`unsure_since`).
pub(crate) fn recover_interrupted(shared: &Shared, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = 0;
    for mut d in shared.store.deliveries_where(|h| h.state == State::Publishing)? {
        let attempt = d.attempts.len();
        d.unsure_since = d.attempts.last().map(|a| a.started_at).or(Some(now));
        d.transition(
            State::Scheduled,
            Some(format!(
                "herald stopped during attempt {attempt}; it tries again with the same idempotency key (on X, after checking the account's posts for it)"
            )),
            now,
        );
        shared.store.put_delivery(&d)?;
        tracing::warn!(account = %d.account, delivery = %d.id, "outcome of attempt {attempt} unknown; retrying with the same idempotency key, or after reconciling where the platform has none");
        n += 1;
    }
    shared.store.flush_blocking()?;
    Ok(n)
}
