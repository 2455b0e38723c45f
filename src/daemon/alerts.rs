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

/// The posts one reconciliation reads at most (X's `max_results`).
const RECONCILE_READS: u64 = 100;

/// Whether a delivery is held by the attestation or the budget gate (which
/// release it on their own), not for an admin's review.
pub(crate) fn held_by_a_gate(d: &Delivery) -> bool {
    is_attestation_hold(d) || is_budget_hold(d)
}

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
/// The account's attestation standing when it holds its posts.
fn standing_that_holds(shared: &Shared, account: &Account, now: DateTime<Utc>) -> Option<attestation::Standing> {
    let settings = shared.config.alerts.attestation.as_ref()?;
    attestation::standing(Some(settings), account, now).filter(|s| s.holds())
}

/// Whether the account's owner's attestation lapsed, so that
/// [`hold_if_lapsed`] holds its posts.
pub(super) fn lapsed(shared: &Shared, account: &Account, now: DateTime<Utc>) -> bool {
    standing_that_holds(shared, account, now).is_some()
}

pub(super) fn hold_if_lapsed(
    shared: &Shared,
    d: &mut Delivery,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(settings) = shared.config.alerts.attestation.as_ref() else {
        return Ok(false);
    };
    let Some(standing) = standing_that_holds(shared, account, now) else {
        return Ok(false);
    };
    let why = attestation::hold_reason(settings, account, standing);
    hold(
        shared,
        d,
        account,
        why,
        "attestation-hold",
        serde_json::json!({"standing": standing}),
        now,
    )?;
    Ok(true)
}

/// Holds a scheduled delivery for one of issue 17's gates: recorded,
/// logged, audited as `event` (which notifies), and the owner's note rewritten.
fn hold(
    shared: &Shared,
    d: &mut Delivery,
    account: &Account,
    why: String,
    event: &'static str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    d.transition(State::Held, Some(why.clone()), now);
    shared.store.put_delivery(d)?;
    tracing::warn!(account = %account.id, delivery = %d.id, "held: {why}");
    shared.audit.note(
        now,
        crate::audit::Event::new(event)
            .account(&account.id)
            .delivery(&d.id)
            .detail(detail),
    );
    super::notes::rewrite_pending(&shared.config.daemon.state_dir, account, d);
    Ok(())
}

/// Releases the deliveries held for a lapsed attestation of accounts whose
/// owners are current again (a start or a reload read the new date), and
/// those held for the X budget (checked again when due).
pub(super) fn release_gated_holds(shared: &Shared, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = release_budget_holds(shared, "herald started or reloaded its configuration", now)?;
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
                after: "the owner's attestation is current",
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
    // Audited: the notification desk hears them from the audit log.
    let _reminders = attestation_reminders(shared, now);
    if let Err(e) = daily_summaries(shared, now) {
        tracing::error!("the daily summary: {e}");
    }
    if shared.config.alerts.costs.monthly_budget.is_some()
        || shared.config.accounts.values().any(|a| a.monthly_budget.is_some())
    {
        new_month(shared, now);
    }
}

/// The daemon's notification desk: turns audited events into notices in
/// the spool (at once, durably) and wakes the sender. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Notices {
    inner: Arc<NoticesInner>,
}

struct NoticesInner {
    state_dir: PathBuf,
    /// The config of the moment (a reload replaces it): contacts, channels.
    config: std::sync::RwLock<Arc<crate::config::Config>>,
    /// The daemon's store, to read the delivery an event is about; let go
    /// of at stop ([`Notices::close`]), so that the sender task, which ends
    /// a moment later, never keeps the store locked.
    store: std::sync::RwLock<Option<crate::store::Store>>,
    clock: Arc<dyn crate::schedule::Clock>,
    telemetry: Arc<crate::metrics::Metrics>,
    /// Wakes the sender when a notice is queued.
    wake: tokio::sync::Notify,
    /// Serialises the writers of the month's X ledger (publishing tasks
    /// audit concurrently).
    ledger: std::sync::Mutex<()>,
}

use std::sync::Arc;

use crate::alerts::notify::{self, Channel, Message, Notice};
use crate::guidelines::Lang;

impl Notices {
    pub(crate) fn new(
        config: &crate::config::Config,
        store: crate::store::Store,
        clock: Arc<dyn crate::schedule::Clock>,
        telemetry: Arc<crate::metrics::Metrics>,
    ) -> Notices {
        Notices {
            inner: Arc::new(NoticesInner {
                state_dir: config.daemon.state_dir.clone(),
                config: std::sync::RwLock::new(Arc::new(config.clone())),
                store: std::sync::RwLock::new(Some(store)),
                clock,
                telemetry,
                wake: tokio::sync::Notify::new(),
                ledger: std::sync::Mutex::new(()),
            }),
        }
    }

    fn config(&self) -> Arc<crate::config::Config> {
        self.inner.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// At stop: lets go of the store (the sender may outlive the daemon's
    /// loop by a moment; what is spooled is sent at the next start).
    pub(crate) fn close(&self) {
        self.inner.store.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// After a reload: contacts and channels as the new config says.
    pub(crate) fn update(&self, config: &crate::config::Config) {
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config.clone());
        self.inner.wake.notify_one();
    }

    /// The audit observer: every line worth telling someone becomes notices.
    pub(crate) fn observer(&self) -> crate::audit::Observer {
        let me = self.clone();
        Arc::new(move |entry: &crate::audit::Entry| me.observe(entry))
    }

    fn observe(&self, entry: &crate::audit::Entry) {
        let config = self.config();
        let delivery = entry.delivery.as_deref().and_then(|id| {
            let store = self.inner.store.read().unwrap_or_else(|p| p.into_inner());
            store.as_ref()?.delivery(id).ok().flatten()
        });
        self.count_spend(entry, &config, delivery.as_ref());
        let settings = &config.alerts.notifications;
        if !settings.any_channel() {
            return;
        }
        let Some((message, admin)) = message_for(entry, &config, delivery.as_ref()) else {
            return;
        };
        if !settings.wants(message.event) {
            return;
        }
        let account = message.account.as_deref().and_then(|a| config.accounts.get(a));
        let contact = account.and_then(|a| a.contact.as_deref());
        let now = self.inner.clock.now();
        for (i, channel) in notify::channels(settings, contact, message.account.as_deref(), admin)
            .into_iter()
            .enumerate()
        {
            let n = Notice {
                id: format!("{}-{}-{i}", entry.seq, message.event),
                created_at: now,
                event: message.event.to_string(),
                account: message.account.clone(),
                delivery: message.delivery.clone(),
                lang: if message.lang == Lang::Ja { "ja" } else { "en" }.to_string(),
                subject: message.subject.clone(),
                text: message.text.clone(),
                channel,
                attempts: 0,
                next_at: now,
                last_error: None,
            };
            if let Err(e) = notify::enqueue(&self.inner.state_dir, &n) {
                tracing::error!("cannot queue a notification ({}): {e}", n.subject);
            }
        }
        self.inner.wake.notify_one();
    }

    /// Adds what X bills for an audited publication (each part created) or
    /// attempt that reconciles first (a read of up to 100 recent posts) to
    /// the month's ledger.
    fn count_spend(&self, entry: &crate::audit::Entry, config: &crate::config::Config, d: Option<&Delivery>) {
        let Some(d) = d else { return };
        let Some(account) = config.accounts.get(&d.account) else {
            return;
        };
        if account.platform != crate::config::PlatformKind::X {
            return;
        }
        let costs = &config.alerts.costs;
        let change: Box<dyn FnOnce(&mut crate::alerts::costs::AccountSpend)> = match entry.event.as_str() {
            "publish" => {
                let p = crate::alerts::costs::price(costs, &d.text);
                Box::new(move |s| {
                    s.creates += u64::from(p.creates);
                    s.creates_with_url += u64::from(p.creates_with_url);
                    s.usd += p.usd;
                })
            }
            // An attempt of unknown outcome is reconciled by reading the
            // account's recent posts (at most 100) before any retry.
            "attempt" if d.unsure_since.is_some() => {
                let read = costs.x_read * RECONCILE_READS as f64;
                Box::new(move |s| {
                    s.reads += RECONCILE_READS;
                    s.usd += read;
                })
            }
            _ => return,
        };
        let _one_writer = self.inner.ledger.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = crate::alerts::costs::add(&self.inner.state_dir, entry.at, &d.account, change) {
            tracing::error!(account = %d.account, "cannot record the month's spend on X: {e}");
        }
    }

    /// Sends what is due, until the task is aborted. A channel that is down
    /// only delays its own notices.
    pub(crate) async fn run_sender(self) {
        let http = reqwest::Client::builder()
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        loop {
            let now = self.inner.clock.now();
            let state_dir = self.inner.state_dir.clone();
            let waiting = tokio::task::spawn_blocking(move || notify::pending(&state_dir))
                .await
                .unwrap_or_default();
            let config = self.config();
            let settings = &config.alerts.notifications;
            let creds = notify::credentials_dir(settings, config.x.credentials_dir.as_deref());
            let mut next: Option<DateTime<Utc>> = None;
            for (path, n) in waiting {
                if n.next_at > now {
                    next = Some(next.map_or(n.next_at, |t| t.min(n.next_at)));
                    continue;
                }
                let result = match &n.channel {
                    Channel::Email { to } => match &settings.smtp {
                        Some(smtp) => notify::send_email(smtp, creds.as_deref(), to, &n).await,
                        None => Err("no [notifications.smtp] is configured any more".to_string()),
                    },
                    Channel::Webhook { name } => match settings.webhooks.iter().find(|w| &w.name == name) {
                        Some(w) => notify::send_webhook(&http, w, creds.as_deref(), &n, now).await,
                        None => Err(format!("no webhook \"{name}\" is configured any more")),
                    },
                };
                let (state_dir, settings_owned) = (self.inner.state_dir.clone(), settings.clone());
                let subject = n.subject.clone();
                let outcome = tokio::task::spawn_blocking(move || match result {
                    Ok(()) => std::fs::remove_file(&path).map(|_| notify::Sent::Done),
                    Err(why) => {
                        tracing::warn!(notice = %n.id, "a notification was not sent: {why}; it is retried");
                        notify::failed(&state_dir, &settings_owned, &path, n, why, now)
                    }
                })
                .await;
                match outcome {
                    Ok(Ok(notify::Sent::Done)) => self.inner.telemetry.count("herald_notifications_total", "sent", 1.0),
                    Ok(Ok(notify::Sent::Retry(at))) => {
                        self.inner.telemetry.count("herald_notifications_total", "retry", 1.0);
                        next = Some(next.map_or(at, |t| t.min(at)));
                    }
                    Ok(Ok(notify::Sent::GivenUp)) => {
                        self.inner
                            .telemetry
                            .count("herald_notifications_total", "given_up", 1.0);
                        tracing::error!("a notification was given up after its last attempt ({subject}); it is kept in the spool's failed/ folder");
                    }
                    Ok(Err(e)) => tracing::error!("the notification spool: {e}"),
                    Err(e) => tracing::error!("the notification spool: {e}"),
                }
            }
            let until = next.unwrap_or_else(|| self.inner.clock.now() + chrono::TimeDelta::hours(1));
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = self.inner.clock.sleep_until(until) => {}
            }
        }
    }
}

/// The language of a notice: the post's (Japanese if it has kana), else
/// the account's (`language`, else Japanese for an account in Japan's zone).
fn language(config: &crate::config::Config, account: Option<&str>, d: Option<&Delivery>) -> Lang {
    let kana = |c: char| matches!(c, '\u{3041}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}');
    if let Some(d) = d {
        return if d.text.iter().any(|t| t.chars().any(kana)) {
            Lang::Ja
        } else {
            Lang::En
        };
    }
    match account.and_then(|a| config.accounts.get(a)) {
        Some(a) => a.language.unwrap_or(if a.time_zone == chrono_tz::Asia::Tokyo {
            Lang::Ja
        } else {
            Lang::En
        }),
        None => Lang::Ja,
    }
}

/// What an audited event tells whom: the message, and whether the admins
/// hear it (rather than, or besides, the account's contact).
fn message_for(
    entry: &crate::audit::Entry,
    config: &crate::config::Config,
    d: Option<&Delivery>,
) -> Option<(Message, bool)> {
    let account = entry.account.clone();
    let acc = account.as_deref().unwrap_or("-");
    let lang = language(config, account.as_deref(), d);
    let file = d.map(|d| d.file.as_str()).unwrap_or("-");
    let reason = d
        .and_then(|d| d.reason.clone())
        .or_else(|| entry.detail["reason"].as_str().map(String::from))
        .unwrap_or_default();
    let id = entry.delivery.clone().unwrap_or_default();
    let state = entry.detail["state"].as_str().unwrap_or_default();
    let say = |ja: String, en: String| lang.say(ja, en);
    // Every notice: the same frame, its own words.
    let notice = |event: &'static str, delivery: Option<String>, subject: String, text: String| Message {
        event,
        account: account.clone(),
        delivery,
        lang,
        subject,
        text,
    };
    let post = |event: &'static str, ja_subject: &str, en_subject: &str, ja: &str, en: &str| {
        notice(
            event,
            entry.delivery.clone(),
            say(
                format!("[herald] {ja_subject}: {acc}/{file}"),
                format!("[herald] {en_subject}: {acc}/{file}"),
            ),
            say(
                format!("アカウント {acc} の投稿 {file} は{ja}\n理由: {reason}\n配信ID: {id}（herald show {id}）\n投稿ファイルの横の .herald.txt にも説明があります。"),
                format!("The post {file} of account {acc} {en}\nWhy: {reason}\nDelivery: {id} (herald show {id})\nThe .herald.txt note beside the post file says the same."),
            ),
        )
    };
    let m = match (entry.event.as_str(), state) {
        ("schedule", "held") | ("stale", "held") => (
            post("held", "投稿が保留されました", "Post held", "保留されています。公開されず、管理者の判断を待っています。", "was not published: it waits for an admin."),
            false,
        ),
        ("schedule", "rejected") | ("attempt-result", "rejected") | ("rejection", _) => (
            post("rejected", "投稿は公開されません", "Post rejected", "公開されません。", "will not be published."),
            false,
        ),
        ("attempt-result", "failed") => (
            post("failed", "投稿の公開に失敗しました", "Post failed", "公開に失敗しました。", "could not be published."),
            false,
        ),
        ("stale", "expired") => (
            post("late", "投稿が時間切れになりました", "Post too late", "予定時刻を過ぎたため公開されませんでした。", "was not published: it was too late."),
            false,
        ),
        ("publish", _) => {
            let d = d?;
            let at = d.published.as_ref()?.at;
            let late = (at - d.scheduled_for).to_std().unwrap_or_default();
            if late <= config.alerts.notifications.late_after {
                return None;
            }
            let mins = late.as_secs() / 60;
            let url = d.published.as_ref().and_then(|p| p.url.clone()).unwrap_or_default();
            let mut m = post(
                "late",
                "投稿が遅れて公開されました",
                "Post published late",
                &format!("予定より{mins}分遅れて公開されました。{url}"),
                &format!("was published {mins} minutes after its time. {url}"),
            );
            m.text = m.text.replace(&format!("\n理由: {reason}"), "").replace(&format!("\nWhy: {reason}"), "");
            (m, false)
        }
        ("attempt-result", "held") if d.is_some_and(super::is_reauth_hold) => {
            let platform = account
                .as_deref()
                .and_then(|a| config.accounts.get(a))
                .map_or("x", |a| a.platform.name());
            (
                notice(
                    "reauth",
                    entry.delivery.clone(),
                    say(
                        format!("[herald] アカウント {acc} の再認証が必要です"),
                        format!("[herald] Account {acc} needs re-authorization"),
                    ),
                    say(
                        format!("アカウント {acc} のトークンが使えなくなりました（{reason}）。投稿は再認証まで保留されます。\n管理者の方へ: herald auth {platform} {acc} を実行してください。"),
                        format!("The token of account {acc} no longer works ({reason}). Its posts are held until it is re-authorized.\nAdmins: run herald auth {platform} {acc} to fix it."),
                    ),
                ),
                true,
            )
        }
        ("pause", _) => (
            notice(
                "paused",
                None,
                say(
                    format!("[herald] アカウント {acc} の公開が一時停止されました"),
                    format!("[herald] Publishing of account {acc} is paused"),
                ),
                say(
                    format!("管理者 {} がアカウント {acc} の公開を一時停止しました。理由: {reason}\n再開されるまで投稿は公開されません。", entry.actor),
                    format!("{} paused publishing of account {acc}. Why: {reason}\nNo post goes out until an admin resumes it.", entry.actor),
                ),
            ),
            false,
        ),
        ("attestation-reminder", _) => {
            let a = config.accounts.get(account.as_deref()?)?;
            let renew = config.alerts.attestation.as_ref().map(|s| s.renew.clone()).unwrap_or_default();
            let warn = entry.detail["warn_days"].as_u64().unwrap_or(0);
            let through = entry.detail["standing"]["good_through"].as_str().unwrap_or("-");
            let (ja, en) = if warn == 0 {
                (
                    format!("{} さん、ガイドライン誓約の有効期限（{through}まで）が切れました。アカウント {acc} の投稿は更新まで保留されます。\n更新方法: {renew}", a.owner),
                    format!("{}, your attestation of the guidelines ran out after {through}. Posts of account {acc} are held until you renew it.\nTo renew: {renew}", a.owner),
                )
            } else {
                (
                    format!("{} さん、ガイドライン誓約の有効期限は{through}までです（あと{warn}日以内）。期限を過ぎるとアカウント {acc} の投稿は保留されます。\n更新方法: {renew}", a.owner),
                    format!("{}, your attestation of the guidelines is good through {through} (within {warn} days). After that, posts of account {acc} are held.\nTo renew: {renew}", a.owner),
                )
            };
            (
                notice(
                    "attestation",
                    None,
                    say(
                        format!("[herald] ガイドライン誓約の更新: {acc}"),
                        format!("[herald] Guideline attestation due: {acc}"),
                    ),
                    say(ja, en),
                ),
                false,
            )
        }
        ("disaster-hold", _) if entry.detail["source"].is_object() && entry.detail["declared"] == true => {
            let s = &entry.detail["source"];
            (
                notice(
                    "disaster-hold",
                    None,
                    say(
                        "[herald] 災害時の投稿保留を自動で宣言しました（気象庁）".to_string(),
                        "[herald] Disaster hold raised by the JMA feed".to_string(),
                    ),
                    say(
                        format!("気象庁の情報により災害時の投稿保留を宣言しました（対象: {}）。宣伝的な投稿は保留され、緊急の投稿は公開されます。\n{}\nEventID {} {}\n解除は管理者の判断です: herald disaster-hold lift", if acc == "-" { "全アカウント" } else { acc }, reason, s["event_id"].as_str().unwrap_or(""), s["link"].as_str().unwrap_or("")),
                        format!("A JMA message raised the disaster hold (for {}). Promotional posts are held; emergency posts go out.\n{}\nEventID {} {}\nLifting it is an admin's decision: herald disaster-hold lift", if acc == "-" { "every account" } else { acc }, reason, s["event_id"].as_str().unwrap_or(""), s["link"].as_str().unwrap_or("")),
                    ),
                ),
                true,
            )
        }
        ("disaster-hold-reminder", _) => (
            notice(
                "disaster-hold",
                None,
                say(
                    "[herald] 災害時の投稿保留が続いています".to_string(),
                    "[herald] The disaster hold still stands".to_string(),
                ),
                say(
                    format!("{} から災害時の投稿保留が続いています（理由: {reason}）。herald は自動では解除しません。状況が許せば: herald disaster-hold lift", entry.detail["declared_at"].as_str().unwrap_or("")),
                    format!("The disaster hold declared at {} still stands (why: {reason}). Herald never lifts it on its own; when the situation allows: herald disaster-hold lift", entry.detail["declared_at"].as_str().unwrap_or("")),
                ),
            ),
            true,
        ),
        ("daily-summary", _) => {
            let n = |state: &str| entry.detail["last_24h"][state].as_u64().unwrap_or(0);
            let held_now = entry.detail["held_now"].as_u64().unwrap_or(0);
            let date = entry.detail["date"].as_str().unwrap_or("");
            (
                notice(
                    "summary",
                    None,
                    say(
                        format!("[herald] {acc} の1日のまとめ ({date})"),
                        format!("[herald] Daily summary for {acc} ({date})"),
                    ),
                    say(
                        format!(
                            "過去24時間: 公開 {}件、保留 {}件、却下 {}件、失敗 {}件、期限切れ {}件。\n管理者の判断を待っている投稿: {held_now}件（herald queue --account {acc}）。",
                            n("published"), n("held"), n("rejected"), n("failed"), n("expired")
                        ),
                        format!(
                            "Last 24 hours: {} published, {} held, {} rejected, {} failed, {} expired.\nWaiting for review now: {held_now} (herald queue --account {acc}).",
                            n("published"), n("held"), n("rejected"), n("failed"), n("expired")
                        ),
                    ),
                ),
                false,
            )
        }
        ("budget-hold", _) => (
            post("budget", "X の月間予算を超えるため保留", "Post held: X budget", "X の月間予算を超えるため保留されています。", "is held: it would exceed the month's budget for X."),
            true,
        ),
        ("jma-feed-down", _) => (
            Message {
                event: "feed",
                account: None,
                delivery: None,
                lang,
                subject: say(
                    "[herald] 気象庁フィードを取得できません".to_string(),
                    "[herald] The JMA feed cannot be read".to_string(),
                ),
                text: say(
                    format!("気象庁の防災情報フィードを取得できません: {}\n投稿の公開は続きます。災害時の投稿保留は手動で宣言できます: herald disaster-hold declare --reason ...", entry.detail["error"].as_str().unwrap_or("")),
                    format!("The JMA disaster feed cannot be read: {}\nPublishing goes on. Declare the disaster hold by hand if needed: herald disaster-hold declare --reason ...", entry.detail["error"].as_str().unwrap_or("")),
                ),
            },
            true,
        ),
        _ => return None,
    };
    Some(m)
}

/// Starts the disaster feed client when `[jma]` is enabled.
pub(super) fn start_feed(
    shared: &Shared,
    calls: tokio::sync::mpsc::Sender<crate::control::server::Call>,
) -> Option<tokio::task::JoinHandle<()>> {
    let settings = shared.config.alerts.jma.clone()?;
    let http = reqwest::Client::builder()
        .user_agent(concat!(
            "herald/",
            env!("CARGO_PKG_VERSION"),
            " (disaster hold; polls politely)"
        ))
        .build()
        .ok()?;
    tracing::info!(feeds = settings.feeds.len(), interval = %humantime::format_duration(settings.interval), "the JMA disaster feed is on");
    let poller = super::disaster_feed::Poller {
        settings,
        state_dir: shared.config.daemon.state_dir.clone(),
        clock: shared.clock.clone(),
        audit: shared.audit.clone(),
        telemetry: shared.telemetry.clone(),
        calls,
        http,
    };
    Some(tokio::spawn(poller.run()))
}

/// What `herald doctor` says of issue 17's parts: the disaster feed's
/// health (a feed that is down is a warning: publishing never waits for
/// it) and the notification spool.
pub(crate) fn doctor_checks(config: &crate::config::Config, now: DateTime<Utc>) -> Vec<serde_json::Value> {
    let check = |name: &str, status: &str, detail: String| serde_json::json!({"check": name, "status": status, "detail": detail});
    let mut out = Vec::new();
    let state_dir = &config.daemon.state_dir;
    if let Some(jma) = &config.alerts.jma {
        let memory = super::disaster_feed::FeedMemory::read(state_dir);
        for feed in &jma.feeds {
            let name = format!("disaster feed {feed}");
            out.push(match memory.feeds.get(feed) {
                None => check(&name, "warn", "not polled yet (the daemon polls it while it runs)".into()),
                Some(s) if s.failures > 0 => check(
                    &name,
                    "warn",
                    format!(
                        "the last {} polls failed, the last at {}: {}. Publishing goes on; declare the disaster hold by hand if needed",
                        s.failures,
                        s.last_error_at.map_or("-".into(), |t| t.to_rfc3339()),
                        s.last_error.as_deref().unwrap_or("")
                    ),
                ),
                Some(s) => {
                    let ago = s.last_ok.map(|t| (now - t).num_seconds());
                    let stale = ago.is_some_and(|a| a > 10 * jma.interval.as_secs() as i64);
                    check(
                        &name,
                        if stale { "warn" } else { "ok" },
                        format!("last read {}s ago", ago.map_or("?".into(), |a| a.to_string())),
                    )
                }
            });
        }
    }
    let settings = &config.alerts.notifications;
    if settings.any_channel() {
        // The credentials the channels need, by name only (never their content).
        let dir = notify::credentials_dir(settings, config.x.credentials_dir.as_deref());
        let mut needed: Vec<String> = settings
            .webhooks
            .iter()
            .map(|w| format!("webhook-{}.key", w.name))
            .collect();
        if settings.smtp.as_ref().is_some_and(|s| s.login) {
            needed.push("smtp.json".into());
        }
        let missing: Vec<&String> = needed
            .iter()
            .filter(|n| {
                dir.as_ref()
                    .is_none_or(|d| !d.join(n).is_file() && !d.join(format!("herald_{n}")).is_file())
            })
            .collect();
        out.push(if missing.is_empty() {
            check("notification credentials", "ok", format!("{} found", needed.len()))
        } else {
            check(
                "notification credentials",
                "fail",
                format!(
                    "missing in {}: {}; notices on those channels cannot be sent (they wait in the spool)",
                    dir.as_ref().map_or(
                        "(no credentials folder: set [notifications] credentials_dir)".into(),
                        |d| d.display().to_string()
                    ),
                    missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        });
        let queued = notify::queued(state_dir);
        let failed = std::fs::read_dir(notify::failed_dir(state_dir))
            .map(|e| e.count())
            .unwrap_or(0);
        let status = if failed > 0 || queued > 50 { "warn" } else { "ok" };
        out.push(check(
            "notifications",
            status,
            format!(
                "{queued} waiting in {}, {failed} given up in {}",
                notify::spool_dir(state_dir).display(),
                notify::failed_dir(state_dir).display()
            ),
        ));
    }
    out
}

/// How the reason of a delivery held for the budget begins.
pub(crate) const BUDGET_HOLD_PREFIX: &str = "publishing it on X would exceed";

fn is_budget_hold(d: &Delivery) -> bool {
    d.state == State::Held && d.reason.as_deref().is_some_and(|r| r.starts_with(BUDGET_HOLD_PREFIX))
}

/// The budget gate, just before a due delivery is published: an X post that
/// would take the month's spend over the account's or the company's
/// budget is held (emergency posts never are). Returns whether it held it.
pub(super) fn hold_if_over_budget(
    shared: &Shared,
    d: &mut Delivery,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let costs = &shared.config.alerts.costs;
    if account.platform != crate::config::PlatformKind::X
        || d.kind == crate::queue::Kind::Emergency
        || (account.monthly_budget.is_none() && costs.monthly_budget.is_none())
        // An admin who approves a post held for the budget decides to spend.
        || d.reason.as_deref().is_some_and(|r| r.starts_with("approved by "))
    {
        return Ok(false);
    }
    let todo: Vec<&String> = d.text.iter().skip(d.parts_done.len()).collect();
    let cost = crate::alerts::costs::price(costs, &todo).usd;
    let ledger = crate::alerts::costs::read(&shared.config.daemon.state_dir, now);
    let Some(why) = crate::alerts::costs::over_budget(costs, account.monthly_budget, &ledger, &account.id, cost) else {
        return Ok(false);
    };
    let reason = format!(
        "{BUDGET_HOLD_PREFIX} the budget: {why}. It waits for next month (it is then released on its own) or an admin's decision: raise the budget in the config and reload, or approve it (herald approve {}).",
        d.id
    );
    let detail = serde_json::json!({"cost_usd": cost, "month": ledger.month, "spent_usd": ledger.of(&account.id), "company_usd": ledger.total()});
    hold(shared, d, account, reason, "budget-hold", detail, now)?;
    Ok(true)
}

/// Releases budget holds: at start, after a reload (a budget may have been
/// raised) and when a new month begins. The scheduler's gate holds again
/// what is still over.
pub(super) fn release_budget_holds(shared: &Shared, because: &str, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = 0;
    for account in shared
        .config
        .accounts
        .values()
        .filter(|a| a.platform == crate::config::PlatformKind::X)
    {
        n += release_holds(
            shared,
            Release {
                account_id: &account.id,
                is_hold: is_budget_hold,
                after: "the budget is checked again",
                event: "budget-release",
            },
            because,
            now,
        )?;
    }
    Ok(n)
}

/// At the first pass of a new month (UTC): budget holds are released.
fn new_month(shared: &Shared, now: DateTime<Utc>) {
    let path = shared.config.daemon.state_dir.join("costs").join("month");
    let month = crate::alerts::costs::month_of(now);
    if std::fs::read_to_string(&path).is_ok_and(|m| m.trim() == month) {
        return;
    }
    let _ = std::fs::create_dir_all(path.parent().expect("in costs/"));
    if let Err(e) = crate::queue::write_atomically(&path, month.as_bytes()) {
        tracing::error!(file = %path.display(), "cannot record the month: {e}");
    }
    match release_budget_holds(shared, &format!("a new month ({month}) began"), now) {
        Ok(0) => {}
        Ok(n) => tracing::info!("{n} deliveries held for the X budget go back to the schedule: {month} began"),
        Err(e) => tracing::error!("releasing budget holds: {e}"),
    }
}

/// The daily summary (`[notifications] daily_summary`), on top of the
/// immediate notices: once a day, at that time in each account's zone, what
/// happened to the account's posts in the last 24 hours and what waits for
/// review. Audited as `daily-summary` (which notifies); the days sent are
/// remembered in `<state_dir>/alerts/summary.json`. The store is read only
/// when some account's summary is due.
fn daily_summaries(shared: &Shared, now: DateTime<Utc>) -> Result<(), StoreError> {
    let Some(at) = shared.config.alerts.notifications.daily_summary else {
        return Ok(());
    };
    let path = shared.config.daemon.state_dir.join("alerts").join("summary.json");
    let mut sent: BTreeMap<String, NaiveDate> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let due: Vec<&Account> = shared
        .config
        .accounts
        .values()
        .filter(|a| {
            let local = now.with_timezone(&a.time_zone);
            local.time() >= at && sent.get(&a.id) != Some(&local.date_naive())
        })
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let all = shared.store.deliveries()?;
    let since = now - chrono::TimeDelta::hours(24);
    for a in due {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut waiting = 0;
        for d in all.iter().filter(|d| d.account == a.id) {
            if d.updated_at > since {
                *counts.entry(d.state.name()).or_default() += 1;
            }
            waiting += usize::from(d.state == State::Held);
        }
        let date = now.with_timezone(&a.time_zone).date_naive();
        shared.audit.note(
            now,
            crate::audit::Event::new("daily-summary")
                .account(&a.id)
                .detail(serde_json::json!({"date": date.to_string(), "last_24h": counts, "held_now": waiting})),
        );
        sent.insert(a.id.clone(), date);
    }
    let written = std::fs::create_dir_all(path.parent().expect("in alerts/"))
        .and_then(|_| serde_json::to_vec_pretty(&sent).map_err(std::io::Error::other))
        .and_then(|bytes| crate::queue::write_atomically(&path, &bytes));
    if let Err(e) = written {
        tracing::error!(file = %path.display(), "cannot record the daily summaries sent ({e}); they may be sent again");
    }
    Ok(())
}
