//! The admin functions: one handler per [`Request`]. The daemon calls them
//! from its run loop with its own store handle; the CLI calls them with the
//! store it opened when no daemon runs. Either way a mutating handler
//! returns only after its effect is durable (store flushed, marker and audit
//! line fsynced).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::stops::{self, Stop, Stops};
use super::{Request, Response};
use crate::audit::{self, Actor, Audit, Event};
use crate::config::{Account, Config};
use crate::platform::{Platform, PublishError};
use crate::queue::{self, Outcome};
use crate::schedule::{human_in, is_stale, lateness_of, rfc3339_in};
use crate::store::{Delivery, State, Store};

/// What `status` says about a running daemon.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub version: String,
}

/// Everything a handler may use.
pub struct Context<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub audit: &'a Audit,
    pub now: DateTime<Utc>,
    /// Who asked.
    pub actor: Actor,
    /// Platform clients by account, for retraction and the doctor's token check.
    pub platforms: &'a BTreeMap<String, Arc<dyn Platform>>,
    /// Accounts with a delivery being published at this moment.
    pub busy: &'a HashSet<String>,
    /// Set when the daemon serves the request.
    pub daemon: Option<DaemonInfo>,
}

type Answer = Result<Value, String>;

/// Runs one request.
pub async fn handle(ctx: &Context<'_>, request: Request) -> Response {
    let result = match request {
        Request::Status => status(ctx),
        Request::Accounts { id } => accounts(ctx, id.as_deref()),
        Request::Queue { account, from, to } => upcoming(ctx, account.as_deref(), from, to),
        Request::History {
            account,
            since,
            state,
            page,
            per_page,
        } => history(ctx, account.as_deref(), since, state.as_deref(), page, per_page),
        Request::Show { delivery } => show(ctx, &delivery),
        Request::Pause { account, reason } => pause(ctx, &account, &reason),
        Request::Resume { account } => resume(ctx, &account),
        Request::Freeze { reason } => freeze(ctx, &reason),
        Request::Thaw => thaw(ctx),
        Request::DisasterHold {
            declare,
            account,
            source,
        } => disaster_hold(ctx, declare, account.as_deref(), source),
        Request::Approve { delivery } => approve(ctx, &delivery),
        Request::Reject { delivery, reason } => reject(ctx, &delivery, &reason),
        Request::Cancel { delivery, reason } => cancel(ctx, &delivery, reason.as_deref()),
        Request::Retry { delivery } => retry(ctx, &delivery),
        Request::Retract { delivery, reason } => retract(ctx, &delivery, &reason).await,
        Request::Audit { since, verify } => audit_log(ctx, since, verify),
        Request::Doctor => super::doctor::doctor(ctx).await,
    };
    match result {
        Ok(data) => Response::Ok { data },
        Err(message) => Response::Error { message },
    }
}

fn store_err(e: impl std::fmt::Display) -> String {
    format!("the store: {e}")
}

fn account<'c>(ctx: &'c Context<'_>, id: &str) -> Result<&'c Account, String> {
    ctx.config.accounts.get(id).ok_or_else(|| {
        let known: Vec<&str> = ctx.config.accounts.keys().map(String::as_str).collect();
        format!("there is no account \"{id}\". Accounts: {}.", known.join(", "))
    })
}

fn all(ctx: &Context<'_>) -> Result<Vec<Delivery>, String> {
    ctx.store.deliveries().map_err(store_err)
}

/// A delivery by id, or by an unambiguous prefix of its id.
fn find(ctx: &Context<'_>, id: &str) -> Result<Delivery, String> {
    if let Some(d) = ctx.store.delivery(id).map_err(store_err)? {
        return Ok(d);
    }
    let matches: Vec<Delivery> = all(ctx)?.into_iter().filter(|d| d.id.starts_with(id)).collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one")),
        0 => Err(format!(
            "there is no delivery \"{id}\". `herald queue` and `herald history` list delivery ids."
        )),
        n => Err(format!("\"{id}\" matches {n} deliveries; give more of the id.")),
    }
}

fn zone_of(ctx: &Context<'_>, d: &Delivery) -> chrono_tz::Tz {
    ctx.config
        .accounts
        .get(&d.account)
        .map_or(chrono_tz::UTC, |a| a.time_zone)
}

/// Appends an audit line as the caller; an audit that cannot be written
/// fails the request (an admin action must leave a trace).
fn record(ctx: &Context<'_>, event: Event) -> Result<(), String> {
    ctx.audit
        .record(ctx.now, &ctx.actor, event)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "cannot write the audit log {}: {e}. Anything this command reported before stays in effect (see herald status); fix the log's permissions or disk space.",
                ctx.audit.path().display()
            )
        })
}

fn flush(ctx: &Context<'_>) -> Result<(), String> {
    ctx.store.flush_blocking().map_err(store_err)
}

fn stop_json(s: &Option<Stop>) -> Value {
    match s {
        Some(s) => json!({"reason": s.reason, "by": s.by, "at": s.at.to_rfc3339()}),
        None => Value::Null,
    }
}

/// The pending file of a delivery, or where its outcome put it.
fn file_location(account: &Account, d: &Delivery) -> PathBuf {
    let pending = account.folder.join(&d.file);
    let outcome = match d.state {
        State::Published => Some(Outcome::Published),
        // A whole publication's file is in published/; a half-published
        // thread's stays where its earlier end put it (rejected/), or moved
        // to cancelled/ when it was still waiting.
        State::Retracted if d.published.is_some() => Some(Outcome::Published),
        State::Retracted => [Outcome::Rejected, Outcome::Cancelled, Outcome::Expired]
            .into_iter()
            .find(|o| account.folder.join(o.folder()).join(&d.file).exists())
            .or(Some(Outcome::Cancelled)),
        State::Rejected => Some(Outcome::Rejected),
        State::Cancelled => Some(Outcome::Cancelled),
        State::Expired => Some(Outcome::Expired),
        _ => None,
    };
    match outcome {
        Some(o) if !pending.exists() || d.occurrence.is_none() => {
            let moved = account.folder.join(o.folder()).join(&d.file);
            if moved.exists() || !pending.exists() {
                moved
            } else {
                pending
            }
        }
        _ => pending,
    }
}

fn status(ctx: &Context<'_>) -> Answer {
    let deliveries = all(ctx)?;
    let state_dir = &ctx.config.daemon.state_dir;
    let mut accounts = Vec::new();
    for a in ctx.config.accounts.values() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut next: Option<DateTime<Utc>> = None;
        let mut reauth = false;
        for d in deliveries.iter().filter(|d| d.account == a.id) {
            *counts.entry(d.state.name()).or_default() += 1;
            if d.state == State::Scheduled {
                next = Some(next.map_or(d.due, |n| n.min(d.due)));
            }
            reauth |= crate::daemon::is_reauth_hold(d);
        }
        // The X client marks an account whose refresh was refused; held
        // deliveries say so too (the daemon releases them when it starts
        // with the mark cleared by `herald auth x`).
        let reauth_reason = crate::platform::needs_reauth(ctx.config, a);
        reauth |= reauth_reason.is_some();
        let paused = stops::paused(state_dir, &a.id);
        accounts.push(json!({
            "id": a.id,
            "platform": a.platform.name(),
            "handle": a.handle,
            "owner": a.owner,
            "time_zone": a.time_zone.name(),
            "paused": paused.is_some(),
            "pause": stop_json(&paused),
            "needs_reauth": reauth,
            "reauth_reason": reauth_reason,
            "emergency": a.emergency,
            "counts": counts,
            "next_due": next.map(|t| rfc3339_in(t, a.time_zone)),
        }));
    }
    let daemon = match &ctx.daemon {
        Some(info) => json!({
            "running": true,
            "pid": info.pid,
            "started_at": info.started_at.to_rfc3339(),
            "uptime_secs": (Utc::now() - info.started_at).num_seconds().max(0),
            "version": info.version,
        }),
        None => json!({"running": false, "version": env!("CARGO_PKG_VERSION")}),
    };
    Ok(json!({
        "daemon": daemon,
        "config": ctx.config.path,
        "store": ctx.config.store_path(),
        "frozen": stop_json(&stops::frozen(state_dir)),
        "disaster_hold": stop_json(&stops::disaster_hold(state_dir)),
        "disaster_holds": stops::DisasterHolds::read(state_dir)
            .accounts
            .iter()
            .map(|(id, s)| (id.clone(), stop_json(&Some(s.clone()))))
            .collect::<serde_json::Map<String, Value>>(),
        "x_spend": x_spend_json(ctx),
        "accounts": accounts,
    }))
}

/// The month's spend on X (`[costs]`), per account with its budget.
fn x_spend_json(ctx: &Context<'_>) -> Value {
    let ledger = crate::alerts::costs::read(&ctx.config.daemon.state_dir, ctx.now);
    let accounts: serde_json::Map<String, Value> = ctx
        .config
        .accounts
        .values()
        .filter(|a| a.platform == crate::config::PlatformKind::X)
        .map(|a| {
            let spend = ledger.accounts.get(&a.id).cloned().unwrap_or_default();
            (
                a.id.clone(),
                json!({"usd": spend.usd, "creates": spend.creates, "creates_with_url": spend.creates_with_url,
                       "reads": spend.reads, "budget_usd": a.monthly_budget}),
            )
        })
        .collect();
    json!({
        "month": ledger.month,
        "total_usd": ledger.total(),
        "budget_usd": ctx.config.alerts.costs.monthly_budget,
        "accounts": accounts,
    })
}

/// Why an account's owner may be hard to reach, in words.
fn reachability_problems(a: &Account) -> Vec<String> {
    let mut problems = Vec::new();
    if a.owner.trim().is_empty() {
        problems.push("no owner listed".to_string());
    }
    if a.contact.as_deref().is_none_or(|c| c.trim().is_empty()) {
        problems.push("no contact (mail, phone or chat) listed".to_string());
    }
    if a.backup.as_deref().is_none_or(|c| c.trim().is_empty()) {
        problems.push("no backup owner listed".to_string());
    }
    problems
}

fn accounts(ctx: &Context<'_>, id: Option<&str>) -> Answer {
    let selected: Vec<&Account> = match id {
        Some(id) => vec![account(ctx, id)?],
        None => ctx.config.accounts.values().collect(),
    };
    let list: Vec<Value> = selected
        .iter()
        .map(|a| {
            let problems = reachability_problems(a);
            let rulebooks: Vec<&str> = ctx.config.rulebooks_for(a).map(|b| b.name.as_str()).collect();
            json!({
                "id": a.id,
                "platform": a.platform.name(),
                "handle": a.handle,
                "owner": a.owner,
                "backup": a.backup,
                "contact": a.contact,
                "department": a.department,
                "purpose": a.purpose,
                "time_zone": a.time_zone.name(),
                "rulebooks": rulebooks,
                "emergency": a.emergency,
                "max_lateness": humantime::format_duration(a.max_lateness).to_string(),
                "reachable": problems.is_empty(),
                "problems": problems,
                "folder": a.folder,
                "attested": a.attested.map(|d| d.to_string()),
                "attestation": attestation_json(ctx, a),
            })
        })
        .collect();
    let unreachable: Vec<&str> = selected
        .iter()
        .filter(|a| !reachability_problems(a).is_empty())
        .map(|a| a.id.as_str())
        .collect();
    let due: Vec<&str> = selected
        .iter()
        .filter(|a| {
            crate::alerts::attestation::standing(ctx.config.alerts.attestation.as_ref(), a, ctx.now)
                .is_some_and(|s| !matches!(s, crate::alerts::attestation::Standing::Current { .. }))
        })
        .map(|a| a.id.as_str())
        .collect();
    Ok(json!({"accounts": list, "unreachable": unreachable, "attestation_due": due}))
}

/// An owner's attestation standing (`null` when the gate is off).
fn attestation_json(ctx: &Context<'_>, a: &Account) -> Value {
    use crate::alerts::attestation::Standing;
    match crate::alerts::attestation::standing(ctx.config.alerts.attestation.as_ref(), a, ctx.now) {
        None => Value::Null,
        Some(s) => {
            let (expires, days_left) = match s {
                Standing::Current {
                    good_through,
                    days_left,
                }
                | Standing::DueSoon {
                    good_through,
                    days_left,
                    ..
                } => (Some(good_through), Some(days_left)),
                Standing::Lapsed { good_through } => (Some(good_through), None),
                Standing::Unrecorded => (None, None),
            };
            json!({
                "state": s.name(),
                "good_through": expires.map(|d| d.to_string()),
                "days_left": days_left,
                "posts_held": s.holds(),
            })
        }
    }
}

fn delivery_row(ctx: &Context<'_>, d: &Delivery, stops: Option<&Stops>) -> Value {
    let tz = zone_of(ctx, d);
    let held_by = stops.and_then(|s| {
        let a = ctx.config.accounts.get(&d.account)?;
        if d.state != State::Scheduled || !s.blocks(d, a) {
            return None;
        }
        Some(if s.paused.contains_key(&d.account) {
            "paused"
        } else {
            "frozen"
        })
    });
    json!({
        "id": d.id,
        "account": d.account,
        "file": d.file,
        "kind": d.kind.name(),
        "state": d.state.name(),
        "verdict": d.verdict.name(),
        "scheduled_for": rfc3339_in(d.scheduled_for, tz),
        "due": rfc3339_in(d.due, tz),
        "updated_at": rfc3339_in(d.updated_at, tz),
        "reason": d.reason,
        "stopped_by": held_by,
        "url": d.published.as_ref().and_then(|p| p.url.clone()),
    })
}

fn upcoming(
    ctx: &Context<'_>,
    account_id: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Answer {
    if let Some(id) = account_id {
        account(ctx, id)?;
    }
    let stops = Stops::read(&ctx.config.daemon.state_dir, ctx.config.accounts.values());
    let mut list: Vec<Delivery> = all(ctx)?
        .into_iter()
        .filter(|d| d.state.is_pending())
        .filter(|d| account_id.is_none_or(|a| d.account == a))
        .filter(|d| from.is_none_or(|f| d.due >= f))
        .filter(|d| to.is_none_or(|t| d.due <= t))
        .collect();
    list.sort_by(|a, b| (a.due, &a.id).cmp(&(b.due, &b.id)));
    let rows: Vec<Value> = list.iter().map(|d| delivery_row(ctx, d, Some(&stops))).collect();
    Ok(json!({"deliveries": rows}))
}

fn history(
    ctx: &Context<'_>,
    account_id: Option<&str>,
    since: Option<DateTime<Utc>>,
    state: Option<&str>,
    page: usize,
    per_page: usize,
) -> Answer {
    if let Some(id) = account_id {
        account(ctx, id)?;
    }
    let state = match state {
        Some(s) => Some(State::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            let names: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
            format!("unknown state \"{s}\"; states are: {}.", names.join(", "))
        })?),
        None => None,
    };
    let mut list: Vec<Delivery> = all(ctx)?
        .into_iter()
        .filter(|d| !d.state.is_pending())
        .filter(|d| account_id.is_none_or(|a| d.account == a))
        .filter(|d| since.is_none_or(|s| d.updated_at >= s))
        .filter(|d| state.is_none_or(|s| d.state == s))
        .collect();
    // Newest first.
    list.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
    let per_page = per_page.clamp(1, 1000);
    let page = page.max(1);
    let total = list.len();
    let pages = total.div_ceil(per_page).max(1);
    let rows: Vec<Value> = list
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|d| delivery_row(ctx, d, None))
        .collect();
    Ok(json!({
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "total": total,
        "next_page": (page < pages).then_some(page + 1),
        "deliveries": rows,
    }))
}

fn show(ctx: &Context<'_>, id: &str) -> Answer {
    let d = find(ctx, id)?;
    let tz = zone_of(ctx, &d);
    let file = ctx.config.accounts.get(&d.account).map(|a| file_location(a, &d));
    let entries: Vec<audit::Entry> = audit::read(ctx.audit.path())?
        .into_iter()
        .filter(|e| e.delivery.as_deref() == Some(d.id.as_str()))
        .collect();
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| {
            json!({
                "n": a.n,
                "idempotency_key": a.idempotency_key,
                "started_at": rfc3339_in(a.started_at, tz),
                "finished_at": a.finished_at.map(|t| rfc3339_in(t, tz)),
                "outcome": a.outcome,
            })
        })
        .collect();
    let mut row = delivery_row(ctx, &d, None);
    let extra = json!({
        "file_path": file.as_ref().map(|p| p.display().to_string()),
        "file_exists": file.as_ref().is_some_and(|p| p.exists()),
        "occurrence": d.occurrence.map(|t| rfc3339_in(t, tz)),
        "content_hash": d.content_hash,
        // Secrets found in the text are shown masked; the store keeps the text.
        "text": crate::guidelines::redact::mask_parts(&d.text, &d.findings),
        "media": d.media,
        "findings": d.findings,
        "attempts": attempts,
        "published": d.published.as_ref().map(|p| json!({
            "at": rfc3339_in(p.at, tz), "url": p.url, "remote_ids": p.remote_ids,
        })),
        "created_at": rfc3339_in(d.created_at, tz),
        "audit": entries,
    });
    if let (Value::Object(row), Value::Object(extra)) = (&mut row, extra) {
        row.extend(extra);
    }
    Ok(row)
}

/// After a stop is lifted: deliveries that fell due meanwhile go out only
/// while still within their max lateness; the others are held for review
/// (one-shots) or left to expire (occurrences of recurring posts, which
/// are never made up). Returns (publish now, held, expired).
fn release(ctx: &Context<'_>, only: Option<&str>, what: &str) -> Result<(usize, usize, usize), String> {
    let stops = Stops::read(&ctx.config.daemon.state_dir, ctx.config.accounts.values());
    let (mut publish, mut held, mut expired) = (0, 0, 0);
    for mut d in all(ctx)? {
        if d.state != State::Scheduled || d.due > ctx.now || only.is_some_and(|a| a != d.account) {
            continue;
        }
        let Some(account) = ctx.config.accounts.get(&d.account) else {
            continue;
        };
        // Still stopped (another stop), or perhaps being published now.
        if stops.blocks(&d, account) || ctx.busy.contains(&d.account) {
            continue;
        }
        // Counted from the post's own time, not from `due` (which a rate
        // limit or a retry may have moved on): see `lateness_origin`.
        let last = ctx.store.account(&d.account).map_err(store_err)?.last_published;
        let (origin, lateness) = lateness_of(&d, account, last);
        if !is_stale(origin, ctx.now, lateness) {
            publish += 1;
            continue;
        }
        if d.occurrence.is_some() && !d.may_be_live() {
            // The scheduler expires it and moves the post's schedule on.
            expired += 1;
            continue;
        }
        let tz = account.time_zone;
        let why = format!(
            "it was meant to go out at {} and fell due while {what}, and it is now {}, later than its max lateness ({}). Herald does not publish it on its own: an admin can approve it (herald approve {}) or reject it.",
            human_in(origin, tz),
            human_in(ctx.now, tz),
            humantime::format_duration(lateness),
            d.id
        );
        d.transition(State::Held, Some(why.clone()), ctx.now);
        ctx.store.put_delivery(&d).map_err(store_err)?;
        let path = account.folder.join(&d.file);
        if path.exists() {
            let _ = queue::write_note(
                &path,
                &format!("HELD: this post was not published: {why}\n\nDelivery: {}\n", d.id),
            );
        }
        held += 1;
    }
    flush(ctx)?;
    Ok((publish, held, expired))
}

fn pause(ctx: &Context<'_>, id: &str, reason: &str) -> Answer {
    let a = account(ctx, id)?;
    let reason = required(reason, "pause")?;
    let path = stops::paused_path(&ctx.config.daemon.state_dir, &a.id);
    if let Some(existing) = stops::paused(&ctx.config.daemon.state_dir, &a.id) {
        return Ok(json!({"account": a.id, "paused": true, "already": true, "pause": stop_json(&Some(existing))}));
    }
    let stop = Stop {
        reason: reason.to_string(),
        by: ctx.actor.clone(),
        at: ctx.now,
    };
    stops::set(&path, &stop).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    record(
        ctx,
        Event::new("pause").account(&a.id).detail(json!({"reason": reason})),
    )?;
    let in_flight = ctx.busy.contains(&a.id);
    let notes = refresh_notes(ctx, Some(&a.id))?;
    Ok(
        json!({"account": a.id, "paused": true, "already": false, "pause": stop_json(&Some(stop)), "in_flight": in_flight, "notes_updated": notes}),
    )
}

/// Rewrites the owners' notes beside the pending files of one account (or
/// all) after a stop was set or lifted, so that they say at once whether
/// their posts are kept back. Returns how many notes changed.
fn refresh_notes(ctx: &Context<'_>, only: Option<&str>) -> Result<usize, String> {
    Ok(crate::daemon::notes::refresh_pending(
        ctx.config,
        &all(ctx)?,
        only,
        ctx.busy,
    ))
}

fn required<'r>(reason: &'r str, what: &str) -> Result<&'r str, String> {
    let r = reason.trim();
    if r.is_empty() {
        Err(format!(
            "{what} needs a reason (--reason TEXT): it is shown to owners and kept in the audit log."
        ))
    } else {
        Ok(r)
    }
}

fn resume(ctx: &Context<'_>, id: &str) -> Answer {
    let a = account(ctx, id)?;
    let path = stops::paused_path(&ctx.config.daemon.state_dir, &a.id);
    let was = stops::lift(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    if !was {
        return Ok(
            json!({"account": a.id, "paused": false, "was_paused": false, "publish": 0, "held": 0, "expired": 0}),
        );
    }
    let (publish, held, expired) = release(ctx, Some(&a.id), "the account was paused")?;
    record(
        ctx,
        Event::new("resume")
            .account(&a.id)
            .detail(json!({"publish": publish, "held": held, "expired": expired})),
    )?;
    let notes = refresh_notes(ctx, Some(&a.id))?;
    Ok(
        json!({"account": a.id, "paused": false, "was_paused": true, "publish": publish, "held": held, "expired": expired, "notes_updated": notes}),
    )
}

fn freeze(ctx: &Context<'_>, reason: &str) -> Answer {
    let reason = required(reason, "freeze")?;
    let state_dir = &ctx.config.daemon.state_dir;
    let emergency: Vec<&str> = ctx
        .config
        .accounts
        .values()
        .filter(|a| a.emergency)
        .map(|a| a.id.as_str())
        .collect();
    if let Some(existing) = stops::frozen(state_dir) {
        return Ok(
            json!({"frozen": true, "already": true, "freeze": stop_json(&Some(existing)), "emergency_accounts": emergency}),
        );
    }
    let stop = Stop {
        reason: reason.to_string(),
        by: ctx.actor.clone(),
        at: ctx.now,
    };
    let path = stops::frozen_path(state_dir);
    stops::set(&path, &stop).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    record(ctx, Event::new("freeze").detail(json!({"reason": reason})))?;
    let in_flight: Vec<&String> = ctx.busy.iter().collect();
    let notes = refresh_notes(ctx, None)?;
    Ok(json!({
        "frozen": true,
        "already": false,
        "freeze": stop_json(&Some(stop)),
        "emergency_accounts": emergency,
        "in_flight": in_flight,
        "notes_updated": notes,
    }))
}

fn thaw(ctx: &Context<'_>) -> Answer {
    let path = stops::frozen_path(&ctx.config.daemon.state_dir);
    let was = stops::lift(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    if !was {
        return Ok(json!({"frozen": false, "was_frozen": false, "publish": 0, "held": 0, "expired": 0}));
    }
    let (publish, held, expired) = release(ctx, None, "publishing was frozen")?;
    record(
        ctx,
        Event::new("thaw").detail(json!({"publish": publish, "held": held, "expired": expired})),
    )?;
    let notes = refresh_notes(ctx, None)?;
    Ok(
        json!({"frozen": false, "was_frozen": true, "publish": publish, "held": held, "expired": expired, "notes_updated": notes}),
    )
}

/// Declares or lifts a disaster hold, company-wide or for one account.
/// A person's declaration always stands as asked. The disaster feed's
/// (`source` set) never replaces a hold already declared, and its lift
/// (a JMA cancellation) lifts only a hold the feed itself raised: lifting a
/// person's hold stays a person's decision.
fn disaster_hold(ctx: &Context<'_>, declare: Option<String>, scope: Option<&str>, source: Option<Value>) -> Answer {
    if let Some(id) = scope {
        account(ctx, id)?;
    }
    let path = stops::disaster_hold_path_for(&ctx.config.daemon.state_dir, scope);
    let existing = stops::read_marker(&path);
    let by_feed = source.is_some();
    let event = || {
        let e = Event::new("disaster-hold");
        match scope {
            Some(a) => e.account(a),
            None => e,
        }
    };
    match declare {
        Some(reason) => {
            let reason = required(&reason, "a disaster hold")?;
            if let (true, Some(existing)) = (by_feed, &existing) {
                record(
                    ctx,
                    event().detail(json!({"declared": true, "already": true, "reason": reason, "source": source})),
                )?;
                return Ok(
                    json!({"disaster_hold": stop_json(&Some(existing.clone())), "account": scope, "already": true}),
                );
            }
            let stop = Stop {
                reason: reason.to_string(),
                by: ctx.actor.clone(),
                at: ctx.now,
            };
            stops::set(&path, &stop).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            record(
                ctx,
                event().detail(json!({"declared": true, "reason": reason, "source": source})),
            )?;
            Ok(json!({"disaster_hold": stop_json(&Some(stop)), "account": scope, "already": false}))
        }
        None => {
            if let (true, Some(existing)) = (by_feed, &existing) {
                if existing.by != Actor::daemon() {
                    record(
                        ctx,
                        event().detail(json!({"declared": true, "kept": "declared by a person", "source": source})),
                    )?;
                    return Ok(
                        json!({"disaster_hold": stop_json(&Some(existing.clone())), "account": scope, "kept": true}),
                    );
                }
            }
            let was = stops::lift(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            if was {
                record(ctx, event().detail(json!({"declared": false, "source": source})))?;
            }
            Ok(json!({"disaster_hold": null, "account": scope, "was_declared": was}))
        }
    }
}

/// Refuses to change a delivery the daemon may be publishing right now.
fn not_in_flight(ctx: &Context<'_>, d: &Delivery) -> Result<(), String> {
    if d.state == State::Publishing || (d.state == State::Scheduled && ctx.busy.contains(&d.account)) {
        return Err(format!(
            "delivery {} of account {} is being published at this moment; look again in a few seconds (herald show {}).",
            d.id, d.account, d.id
        ));
    }
    Ok(())
}

fn decided(d: &Delivery, allowed: &[State], what: &str) -> Result<(), String> {
    if allowed.contains(&d.state) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| s.name()).collect();
    Err(format!(
        "delivery {} is {}{}; only a {} delivery can be {what}.",
        d.id,
        d.state.name(),
        d.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
        names.join(" or ")
    ))
}

/// The uid owning a delivery's post file, when the file is still there.
fn file_owner(ctx: &Context<'_>, d: &Delivery) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let a = ctx.config.accounts.get(&d.account)?;
    std::fs::metadata(a.folder.join(&d.file)).ok().map(|m| m.uid())
}

fn approve(ctx: &Context<'_>, id: &str) -> Answer {
    let mut d = find(ctx, id)?;
    decided(&d, &[State::Held], "approved")?;
    if let (Some(owner), Some(me)) = (file_owner(ctx, &d), ctx.actor.uid()) {
        if owner == me {
            return Err(format!(
                "you, {}, dropped this post (its file {} is yours), and nobody may approve their own post. Ask another admin to approve it.",
                ctx.actor, d.file
            ));
        }
    }
    let tz = zone_of(ctx, &d);
    let previous = d.reason.clone();
    // An approved delivery that is already late goes out now, not held
    // again as stale: its lateness counts from this approval.
    let due = d.due.max(ctx.now);
    let detail = json!({"was_held_because": previous, "due": due.to_rfc3339()});
    reschedule(ctx, &mut d, due, "approved", "approval", detail)?;
    if let Some(a) = ctx.config.accounts.get(&d.account) {
        let path = a.folder.join(&d.file);
        if path.exists() {
            let _ = queue::write_note(
                &path,
                &format!(
                    "APPROVED by {} at {}: it will be published at {} (or as soon as the account's pacing allows).\n\nDelivery: {}\n",
                    ctx.actor,
                    human_in(ctx.now, tz),
                    human_in(d.due, tz),
                    d.id
                ),
            );
        }
    }
    Ok(json!({"delivery": delivery_row(ctx, &d, None)}))
}

/// Ends a pending delivery and, for a one-shot post (or when `whole_file`),
/// moves its file to the outcome folder with a note. Herald never deletes
/// the owner's file.
fn end_pending(
    ctx: &Context<'_>,
    mut d: Delivery,
    state: State,
    outcome: Outcome,
    reason: String,
    whole_file: bool,
) -> Result<(Delivery, Option<PathBuf>), String> {
    d.transition(state, Some(reason.clone()), ctx.now);
    ctx.store.put_delivery(&d).map_err(store_err)?;
    let Some(account) = ctx.config.accounts.get(&d.account) else {
        flush(ctx)?;
        return Ok((d, None));
    };
    if whole_file {
        // The file's other pending deliveries (later occurrences) end with it.
        for mut other in all(ctx)? {
            if other.account == d.account
                && other.file == d.file
                && other.id != d.id
                && matches!(other.state, State::Scheduled | State::Held | State::Failed)
            {
                other.transition(state, Some(reason.clone()), ctx.now);
                ctx.store.put_delivery(&other).map_err(store_err)?;
            }
        }
    }
    // Durable before the file moves (invariant 1).
    flush(ctx)?;
    let path = account.folder.join(&d.file);
    let mut moved = None;
    if (whole_file || d.occurrence.is_none()) && path.exists() {
        let tz = account.time_zone;
        let note = format!(
            "{}: this post was not published.\n\n{reason}\n\nWhen: {}\nDelivery: {}\nAccount: {} ({} on {})\n\nHerald keeps your file here; nothing was deleted. To publish it after all, fix what the reason says and drop it into {}/ again.\n",
            state.name().to_uppercase(),
            human_in(ctx.now, tz),
            d.id,
            account.id,
            account.handle,
            account.platform.name(),
            account.folder.display()
        );
        moved = Some(queue::move_to_outcome(&path, outcome, &note).map_err(|e| {
            format!(
                "recorded, but cannot move {} to {}/: {e}",
                path.display(),
                outcome.folder()
            )
        })?);
    }
    Ok((d, moved))
}

/// Refuses to end a delivery of which something may stand on the platform:
/// ending it would leave published parts that no record leads to.
fn nothing_live(d: &Delivery, what: &str) -> Result<(), String> {
    if !d.parts_done.is_empty() {
        return Err(format!(
            "delivery {} cannot be {what}: {} of its {} parts are already published ({}). Retract them first (herald retract {} --reason TEXT), which deletes them and ends the delivery; or approve it to publish the rest.",
            d.id,
            d.parts_done.len(),
            d.text.len(),
            d.parts_done.join(", "),
            d.id
        ));
    }
    if let Some(since) = d.unsure_since {
        return Err(format!(
            "delivery {} cannot be {what}: its attempt of {} may or may not have gone through, and herald does not know yet. Let herald reconcile it first (it looks for the post on the platform before any new attempt: herald approve {} if it is held, herald retry {} if it failed, or wait for its next attempt), then retract what stands; or check the account by hand.",
            d.id,
            since.to_rfc3339(),
            d.id,
            d.id
        ));
    }
    Ok(())
}

fn reject(ctx: &Context<'_>, id: &str, reason: &str) -> Answer {
    let d = find(ctx, id)?;
    let reason = required(reason, "reject")?;
    decided(&d, &[State::Held, State::Scheduled], "rejected")?;
    not_in_flight(ctx, &d)?;
    nothing_live(&d, "rejected")?;
    end_by_admin(
        ctx,
        d,
        (State::Rejected, Outcome::Rejected),
        "rejected",
        reason,
        false,
        "rejection",
    )
}

/// Ends a delivery an admin rejected or cancelled: the file moves to its
/// outcome folder with a note, and the decision is audited.
fn end_by_admin(
    ctx: &Context<'_>,
    d: Delivery,
    (state, outcome): (State, Outcome),
    verb: &str,
    reason: &str,
    whole_file: bool,
    event: &'static str,
) -> Answer {
    let text = format!("{verb} by {}: {reason}", ctx.actor);
    let (d, moved) = end_pending(ctx, d, state, outcome, text, whole_file)?;
    record(
        ctx,
        Event::new(event)
            .account(&d.account)
            .delivery(&d.id)
            .detail(json!({"reason": reason})),
    )?;
    Ok(json!({"delivery": delivery_row(ctx, &d, None), "moved_to": moved}))
}

fn cancel(ctx: &Context<'_>, id: &str, reason: Option<&str>) -> Answer {
    let d = find(ctx, id)?;
    decided(&d, &[State::Scheduled, State::Held, State::Failed], "cancelled")?;
    not_in_flight(ctx, &d)?;
    if crate::daemon::is_unknown_outcome_hold(&d) && d.parts_done.is_empty() {
        // Herald could not tell whether the post stands and asked an admin
        // to check the account: cancelling says it is not there.
    } else {
        nothing_live(&d, "cancelled")?;
    }
    // Cancelling ends the file's other pending deliveries too: none of
    // them may have parts out either.
    for other in all(ctx)? {
        if other.account == d.account
            && other.file == d.file
            && other.id != d.id
            && matches!(other.state, State::Scheduled | State::Held | State::Failed)
        {
            nothing_live(&other, "cancelled with its post")?;
        }
    }
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("no reason given");
    end_by_admin(
        ctx,
        d,
        (State::Cancelled, Outcome::Cancelled),
        "cancelled",
        reason,
        true,
        "cancellation",
    )
}

fn retry(ctx: &Context<'_>, id: &str) -> Answer {
    let mut d = find(ctx, id)?;
    // A hold no review decided (the outcome was unknown, a thread is half
    // out, the platform refused the account) is retried like a failure:
    // herald reconciles before it posts anything.
    if !crate::daemon::is_retryable_hold(&d) {
        decided(&d, &[State::Failed], "retried")?;
    }
    not_in_flight(ctx, &d)?;
    let detail = json!({"attempts_so_far": d.attempts.len()});
    reschedule(ctx, &mut d, ctx.now, "retry requested", "retry", detail)?;
    Ok(json!({"delivery": delivery_row(ctx, &d, None)}))
}

/// Puts a delivery an admin decided on back on the schedule, due at `due`;
/// its lateness counts from now. Durable and audited before it answers.
fn reschedule(
    ctx: &Context<'_>,
    d: &mut Delivery,
    due: DateTime<Utc>,
    what: &str,
    event: &'static str,
    detail: Value,
) -> Result<(), String> {
    let tz = zone_of(ctx, d);
    d.due = due;
    d.released_at = Some(ctx.now);
    d.transition(
        State::Scheduled,
        Some(format!("{what} by {} at {}", ctx.actor, human_in(ctx.now, tz))),
        ctx.now,
    );
    ctx.store.put_delivery(d).map_err(store_err)?;
    flush(ctx)?;
    record(
        ctx,
        Event::new(event).account(&d.account).delivery(&d.id).detail(detail),
    )
}

/// Deliveries whose retraction is under way in this process, by store
/// (state folder) and delivery id: delivery ids are derived from content,
/// so two installations served by one process (tests) can share one.
static RETRACTING: std::sync::Mutex<BTreeSet<(PathBuf, String)>> = std::sync::Mutex::new(BTreeSet::new());

/// Holds a delivery's place in [`RETRACTING`] until dropped.
struct Retracting((PathBuf, String));

impl Retracting {
    fn claim(ctx: &Context<'_>, id: &str) -> Result<Retracting, String> {
        let key = (ctx.config.daemon.state_dir.clone(), id.to_string());
        let mut set = RETRACTING.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key.clone()) {
            return Err(format!(
                "a retraction of delivery {id} is already under way; herald show {id} tells when it is done."
            ));
        }
        Ok(Retracting(key))
    }
}

impl Drop for Retracting {
    fn drop(&mut self) {
        RETRACTING.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.0);
    }
}

/// Whether a delivery can be retracted: published, or ended or waiting with
/// some thread parts already out (X refused a later part, the retries ran
/// out, or it waits to be finished). A waiting one must not be picked up by
/// the scheduler meanwhile: it is held, or its account paused or frozen.
fn retractable(ctx: &Context<'_>, d: &Delivery) -> Result<(), String> {
    if d.state == State::Published {
        return Ok(());
    }
    // Cancelled and expired ones too: an edited file supersedes its
    // delivery whatever stands of it, and older records may have ended so.
    let partial = [
        State::Rejected,
        State::Failed,
        State::Held,
        State::Scheduled,
        State::Cancelled,
        State::Expired,
    ];
    if !partial.contains(&d.state) || d.parts_done.is_empty() {
        return decided(d, &[State::Published], "retracted").map_err(|e| {
            format!("{e} (A delivery that is not published can be retracted only when some of its thread parts are.)")
        });
    }
    not_in_flight(ctx, d)?;
    if d.state == State::Scheduled {
        let stops = Stops::read(&ctx.config.daemon.state_dir, ctx.config.accounts.values());
        let blocked = ctx.config.accounts.get(&d.account).is_some_and(|a| stops.blocks(d, a));
        if !blocked {
            return Err(format!(
                "delivery {} is scheduled to finish its thread ({} of {} parts are out), so herald may publish the rest while it deletes. Pause the account first (herald pause {} --reason TEXT), then retract.",
                d.id,
                d.parts_done.len(),
                d.text.len(),
                d.account
            ));
        }
    }
    Ok(())
}

async fn retract(ctx: &Context<'_>, id: &str, reason: &str) -> Answer {
    let d = find(ctx, id)?;
    let reason = required(reason, "retract")?.to_string();
    retractable(ctx, &d)?;
    let _claim = Retracting::claim(ctx, &d.id)?;
    // Read again under the claim: another retraction may have just finished.
    let mut d = find(ctx, &d.id)?;
    retractable(ctx, &d)?;
    let was = d.state;
    // A half-published thread has no publication record: what stands is
    // the parts recorded one by one as they went out.
    let publication = match &d.published {
        Some(p) if was == State::Published => p.clone(),
        None if was == State::Published => {
            return Err(format!(
                "delivery {} is marked published but has no record of where; retract it by hand on the platform.",
                d.id
            ))
        }
        _ => crate::store::Publication {
            at: d.updated_at,
            url: None,
            remote_ids: d.parts_done.clone(),
        },
    };
    let platform = ctx
        .platforms
        .get(&d.account)
        .cloned()
        .ok_or_else(|| {
            let why = ctx
                .config
                .accounts
                .get(&d.account)
                .and_then(|a| crate::platform::check_credentials(ctx.config, a).err())
                .map_or_else(|| "see herald doctor".to_string(), |e| e.message);
            format!(
                "herald cannot connect to the platform of account {} ({why}); nothing was deleted and the delivery stays published.",
                d.account
            )
        })?;
    // The request is on record before it goes out.
    record(
        ctx,
        Event::new("retraction-requested")
            .account(&d.account)
            .delivery(&d.id)
            .detail(json!({"reason": reason, "url": publication.url, "remote_ids": publication.remote_ids})),
    )?;
    if let Err(e) = platform.delete(&publication.remote_ids).await {
        record(
            ctx,
            Event::new("retraction-failed")
                .account(&d.account)
                .delivery(&d.id)
                .detail(json!({"error": e.to_string()})),
        )?;
        let platform_name = ctx
            .config
            .accounts
            .get(&d.account)
            .map_or("the platform", |a| a.platform.display_name());
        let advice = match e {
            PublishError::Permanent(_) => format!(
                "Trying again will not help until that changes: delete it by hand on {platform_name}, or fix what {platform_name} said and run herald retract {} again.",
                d.id
            ),
            PublishError::NeedsReauth(_) | PublishError::AccountRefused(_) => format!(
                "Fix what it said about the account, or re-authorize the account (see herald status), and run herald retract {} again, or delete it by hand on {platform_name}.",
                d.id
            ),
            _ => format!(
                "Run herald retract {} again in a while (what is already deleted is skipped), or delete it by hand on {platform_name}.",
                d.id
            ),
        };
        return Err(format!(
            "{platform_name} did not delete the post ({e}); it is still published at {}, and herald keeps the delivery marked published. {advice}",
            publication.url.as_deref().unwrap_or("an unknown link")
        ));
    }
    let tz = zone_of(ctx, &d);
    let mut text = format!("retracted by {} at {}: {reason}", ctx.actor, human_in(ctx.now, tz));
    if was != State::Published {
        text.push_str(&format!(
            " (the {} of its {} parts that were out were deleted; it was {} before{})",
            d.parts_done.len(),
            d.text.len(),
            was.name(),
            d.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ));
    }
    // Where the file is before the state changes (a waiting file is still in the queue folder).
    let pending_file = ctx
        .config
        .accounts
        .get(&d.account)
        .map(|a| a.folder.join(&d.file))
        .filter(|p| (was.is_pending() || was == State::Failed) && d.occurrence.is_none() && p.exists());
    d.transition(State::Retracted, Some(text.clone()), ctx.now);
    ctx.store.put_delivery(&d).map_err(store_err)?;
    flush(ctx)?;
    if let Some(path) = pending_file {
        // Nothing more of it goes out: the file leaves the queue (it is kept).
        if let Err(e) = queue::move_to_outcome(&path, Outcome::Cancelled, "") {
            tracing::warn!(file = %path.display(), "cannot move the retracted post's file to cancelled/: {e}");
        }
    }
    record(
        ctx,
        Event::new("retraction")
            .account(&d.account)
            .delivery(&d.id)
            .detail(json!({"reason": reason, "url": publication.url, "remote_ids": publication.remote_ids, "was": was.name(), "text_hash": audit::text_hash(&d.text)})),
    )?;
    // Tell the owner beside the published file, at the top of its note.
    if let Some(a) = ctx.config.accounts.get(&d.account) {
        let path = file_location(a, &d);
        let note = queue::note_path(&path);
        // A retracted occurrence of a repeating post leaves its file where it is.
        let path_exists = path.exists();
        let before = std::fs::read_to_string(&note).unwrap_or_default();
        let text = retraction_note(ctx, a, &d, &reason, &publication, &before);
        if !path_exists {
            tracing::info!(file = %path.display(), "no file to write the retraction note beside");
        } else if let Err(e) = queue::write_atomically(&note, text.as_bytes()) {
            tracing::warn!(file = %note.display(), "cannot write the owner's note about the retraction: {e}");
        }
    }
    Ok(json!({"delivery": delivery_row(ctx, &d, None)}))
}

/// The owner's note after a retraction: what was deleted, when, by whom and
/// why, above what the note said before.
fn retraction_note(
    ctx: &Context<'_>,
    a: &Account,
    d: &Delivery,
    reason: &str,
    publication: &crate::store::Publication,
    before: &str,
) -> String {
    let tz = a.time_zone;
    let platform = a.platform.display_name();
    let what = match publication.remote_ids.len() {
        n if d.published.is_none() => format!(
            "The {n} part{} of the thread that had been published {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        ),
        0 | 1 => "The post was".to_string(),
        2 => "Both posts of the thread were".to_string(),
        n => format!("All {n} posts of the thread were"),
    };
    let mut out = format!(
        "RETRACTED: this post was deleted from {platform} at {} by {}.\nWhy: {reason}\n{what} deleted from {platform}",
        human_in(ctx.now, tz),
        ctx.actor,
    );
    match &publication.url {
        Some(url) => out.push_str(&format!(" (the link {url} no longer works).\n")),
        None => out.push_str(".\n"),
    }
    out.push_str(&format!(
        "Herald keeps your file here and the record of the publication. Ask an admin (give them delivery {}) before you publish it again.\n",
        d.id
    ));
    if !before.trim().is_empty() {
        out.push_str("\nWhat this note said before:\n\n");
        out.push_str(before);
    }
    out
}

fn audit_log(ctx: &Context<'_>, since: Option<DateTime<Utc>>, verify: bool) -> Answer {
    let path = ctx.audit.path();
    let entries: Vec<audit::Entry> = audit::read(path)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| since.is_none_or(|s| e.at >= s))
        .collect();
    let verification = if verify {
        Some(audit::verify(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
    } else {
        None
    };
    Ok(json!({"file": path, "entries": entries, "verification": verification}))
}

/// The path a delivery's file has now, for tests and `show`.
pub fn delivery_file(config: &Config, d: &Delivery) -> Option<PathBuf> {
    config.accounts.get(&d.account).map(|a| file_location(a, d))
}
