//! The disaster feed client (`[jma]`, off by default): polls JMA's Atom
//! feeds politely — conditional requests (ETag / If-Modified-Since), at the
//! configured interval, each message fetched once — and, when a message
//! meets a `[[jma.trigger]]`, asks the daemon for exactly what `herald
//! disaster-hold declare` does, through the same control channel, as the
//! daemon itself and with the message's EventID and link (audited).
//!
//! A cancellation (取消) lifts what the cancelled event raised, and only
//! if herald raised it; a correction (訂正) replaces the event's earlier
//! assessment. Drills (訓練) and tests (試験) are never acted on. A feed
//! that is down or malformed is logged, counted
//! (`herald_jma_feed_errors_total`) and shown by `herald doctor`; it never
//! holds publishing. While a hold stands, the admins are reminded after
//! `remind_after` of quiet, and again each `remind_after`: herald never
//! lifts a hold on its own.
//!
//! What it remembers (`<state_dir>/jma/state.json`): each feed's validators
//! and health, the entries already seen, and which events raised which holds.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::alerts::jma::{self, Scope};
use crate::audit::{Actor, Audit, Event};
use crate::config::JmaSettings;
use crate::control::server::Call;
use crate::control::{Request, Response};
use crate::metrics::Metrics;
use crate::schedule::Clock;

/// How many seen entry ids are remembered (JMA's feeds list the last few
/// hundred messages).
const SEEN_LIMIT: usize = 5000;

/// An entry older than this when herald first sees it is recorded, not acted
/// on: a restart after a long stop does not raise a hold for an old quake.
const MAX_AGE: TimeDelta = TimeDelta::hours(1);

/// Failed polls in a row after which the admins are told the feed is down.
const FEED_DOWN_AFTER: u32 = 3;

/// One feed's validators and health.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FeedState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failed polls in a row.
    pub failures: u32,
}

/// What raised a hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Raised {
    pub scopes: BTreeSet<Scope>,
    pub at: DateTime<Utc>,
    pub link: String,
    pub title: String,
}

/// The client's memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FeedMemory {
    pub feeds: BTreeMap<String, FeedState>,
    pub seen: VecDeque<String>,
    /// EventID → the holds its messages raised.
    pub raised: BTreeMap<String, Raised>,
    /// Scope (account id, or "*") → when the admins were last reminded.
    pub reminded: BTreeMap<String, DateTime<Utc>>,
}

pub fn memory_path(state_dir: &Path) -> PathBuf {
    state_dir.join("jma").join("state.json")
}

impl FeedMemory {
    pub fn read(state_dir: &Path) -> FeedMemory {
        std::fs::read(memory_path(state_dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn write(&self, state_dir: &Path) -> std::io::Result<()> {
        let path = memory_path(state_dir);
        std::fs::create_dir_all(path.parent().expect("in jma/"))?;
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::queue::write_atomically(&path, &bytes)
    }

    fn saw(&mut self, id: &str) {
        self.seen.push_back(id.to_string());
        while self.seen.len() > SEEN_LIMIT {
            self.seen.pop_front();
        }
    }

    /// Whether another event than `except` still holds `scope`.
    fn still_held(&self, scope: &Scope, except: &str) -> bool {
        self.raised
            .iter()
            .any(|(id, r)| id != except && r.scopes.contains(scope))
    }
}

fn scope_key(s: &Scope) -> String {
    s.account().unwrap_or("*").to_string()
}

/// What the poller needs, taken from the daemon at start (a change to
/// `[jma]` takes a restart).
pub(crate) struct Poller {
    pub settings: JmaSettings,
    pub state_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub audit: Audit,
    pub telemetry: Arc<Metrics>,
    pub calls: mpsc::Sender<Call>,
    pub http: reqwest::Client,
}

impl Poller {
    /// Polls until the task is aborted.
    pub async fn run(self) {
        let mut memory = FeedMemory::read(&self.state_dir);
        loop {
            let now = self.clock.now();
            for feed in self.settings.feeds.clone() {
                self.poll(&feed, &mut memory, now).await;
            }
            self.remind(&mut memory, self.clock.now()).await;
            let (state_dir, snapshot) = (self.state_dir.clone(), memory.clone());
            match tokio::task::spawn_blocking(move || snapshot.write(&state_dir)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("cannot record the disaster feed's state: {e}"),
                Err(e) => tracing::error!("cannot record the disaster feed's state: {e}"),
            }
            let next = now + TimeDelta::from_std(self.settings.interval).unwrap_or(TimeDelta::seconds(60));
            self.clock.sleep_until(next).await;
        }
    }

    fn failed(&self, feed: &str, memory: &mut FeedMemory, now: DateTime<Utc>, why: String) {
        tracing::error!(
            feed,
            "the disaster feed: {why}; publishing goes on, the next poll tries again"
        );
        self.telemetry.count("herald_jma_polls_total", "error", 1.0);
        self.telemetry.count("herald_jma_feed_errors_total", feed, 1.0);
        let state = memory.feeds.entry(feed.to_string()).or_default();
        state.last_error = Some(why.clone());
        state.last_error_at = Some(now);
        state.failures += 1;
        if state.failures == FEED_DOWN_AFTER {
            // Audited (so the admins are notified) once per outage.
            let log = self.audit.clone();
            let event = Event::new("jma-feed-down")
                .detail(serde_json::json!({"feed": feed, "error": why, "failures": FEED_DOWN_AFTER}));
            tokio::task::spawn_blocking(move || log.note(now, event));
        }
    }

    async fn get(&self, url: &str, state: Option<&FeedState>) -> Result<reqwest::Response, String> {
        let mut request = self.http.get(url).timeout(self.settings.timeout);
        if let Some(s) = state {
            if let Some(etag) = &s.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &s.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        request.send().await.map_err(|e| format!("cannot fetch {url}: {e}"))
    }

    async fn poll(&self, feed: &str, memory: &mut FeedMemory, now: DateTime<Utc>) {
        let response = match self.get(feed, memory.feeds.get(feed)).await {
            Ok(r) => r,
            Err(why) => return self.failed(feed, memory, now, why),
        };
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            self.telemetry.count("herald_jma_polls_total", "not_modified", 1.0);
            let state = memory.feeds.entry(feed.to_string()).or_default();
            state.last_ok = Some(now);
            state.failures = 0;
            return;
        }
        if !response.status().is_success() {
            let why = format!("{feed} answered {}", response.status());
            return self.failed(feed, memory, now, why);
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let (etag, last_modified) = (header(reqwest::header::ETAG), header(reqwest::header::LAST_MODIFIED));
        let body = match response.text().await {
            Ok(b) => b,
            Err(e) => return self.failed(feed, memory, now, format!("cannot read {feed}: {e}")),
        };
        let entries = match jma::parse_feed(&body) {
            Ok(e) => e,
            Err(e) => return self.failed(feed, memory, now, format!("{feed}: {e}")),
        };
        // Oldest first: a correction or a cancellation follows what it amends.
        let mut fresh: Vec<jma::Entry> = entries.into_iter().filter(|e| !memory.seen.contains(&e.id)).collect();
        fresh.sort_by(|a, b| a.updated.cmp(&b.updated));
        let mut complete = true;
        for entry in fresh {
            let old = DateTime::parse_from_rfc3339(&entry.updated).is_ok_and(|t| now - t.with_timezone(&Utc) > MAX_AGE);
            if !entry.is_relevant(&self.settings.triggers) || old {
                memory.saw(&entry.id);
                continue;
            }
            match self.fetch_message(&entry).await {
                Ok(message) => {
                    self.act(feed, &entry, &message, memory, now).await;
                    memory.saw(&entry.id);
                }
                Err(why) => {
                    // Not marked seen, and the validators not kept: the
                    // next poll fetches the feed and this message again.
                    complete = false;
                    self.failed(feed, memory, now, why);
                }
            }
        }
        if complete {
            self.telemetry.count("herald_jma_polls_total", "ok", 1.0);
            let state = memory.feeds.entry(feed.to_string()).or_default();
            state.etag = etag;
            state.last_modified = last_modified;
            state.last_ok = Some(now);
            state.failures = 0;
        }
    }

    async fn fetch_message(&self, entry: &jma::Entry) -> Result<jma::Message, String> {
        let response = self.get(&entry.link, None).await?;
        if !response.status().is_success() {
            return Err(format!("{} answered {}", entry.link, response.status()));
        }
        let body = response
            .text()
            .await
            .map_err(|e| format!("cannot read {}: {e}", entry.link))?;
        jma::parse_message(&body).map_err(|e| format!("{}: {e}", entry.link))
    }

    /// Decides what one message asks for, and asks the daemon.
    async fn act(&self, feed: &str, entry: &jma::Entry, m: &jma::Message, memory: &mut FeedMemory, now: DateTime<Utc>) {
        if !m.is_real() {
            tracing::info!(event_id = %m.event_id, status = %m.status, title = %m.title, "a JMA {} message: not acted on", m.status);
            return;
        }
        let source = serde_json::json!({
            "feed": feed,
            "event_id": m.event_id,
            "link": entry.link,
            "title": m.title,
            "info_type": m.info_type,
            "reported": m.reported,
        });
        let before: BTreeSet<Scope> = memory
            .raised
            .get(&m.event_id)
            .map(|r| r.scopes.clone())
            .unwrap_or_default();
        let asked: Vec<(Scope, String)> = if m.is_cancellation() {
            Vec::new()
        } else {
            jma::assess(&self.settings.triggers, &m.observed)
        };
        let now_scopes: BTreeSet<Scope> = asked.iter().map(|(s, _)| s.clone()).collect();
        // A cancellation or a correction drops what the event no longer
        // asks for; a further report of the same event only adds.
        let dropped: Vec<Scope> = if m.is_cancellation() || m.is_correction() {
            before.difference(&now_scopes).cloned().collect()
        } else {
            Vec::new()
        };
        let kept: BTreeSet<Scope> = if m.is_cancellation() || m.is_correction() {
            now_scopes.clone()
        } else {
            before.union(&now_scopes).cloned().collect()
        };
        if kept.is_empty() {
            memory.raised.remove(&m.event_id);
        } else {
            let entry_raised = memory.raised.entry(m.event_id.clone()).or_insert_with(|| Raised {
                scopes: BTreeSet::new(),
                at: now,
                link: entry.link.clone(),
                title: m.title.clone(),
            });
            entry_raised.scopes = kept;
            entry_raised.at = now;
            entry_raised.link = entry.link.clone();
        }
        for scope in dropped {
            if memory.still_held(&scope, &m.event_id) {
                continue;
            }
            self.ask(&scope, None, source.clone()).await;
        }
        for (scope, why) in asked.into_iter().filter(|(s, _)| !before.contains(s)) {
            let reason = format!(
                "JMA {}: {why} (EventID {}, {}). Raised by herald's disaster feed; lift it with herald disaster-hold lift{} when the situation allows.",
                m.title,
                m.event_id,
                entry.link,
                scope.account().map(|a| format!(" --account {a}")).unwrap_or_default()
            );
            self.ask(&scope, Some(reason), source.clone()).await;
        }
    }

    /// Sends one disaster-hold request to the daemon's loop, as the daemon.
    async fn ask(&self, scope: &Scope, declare: Option<String>, source: serde_json::Value) {
        let raising = declare.is_some();
        let (reply, answer) = oneshot::channel();
        let call = Call {
            request: Request::DisasterHold {
                declare,
                account: scope.account().map(String::from),
                source: Some(source),
            },
            actor: Actor::daemon(),
            reply,
        };
        if self.calls.send(call).await.is_err() {
            return; // The daemon is stopping.
        }
        match answer.await {
            Ok(Response::Ok { data }) => {
                let action = match (raising, data["kept"] == true, data["already"] == true) {
                    (true, _, true) => "already",
                    (true, _, false) => "raised",
                    (false, true, _) => "kept",
                    (false, false, _) => "lifted",
                };
                tracing::warn!(scope = %scope_key(scope), action, "the disaster feed: disaster hold {action}");
                self.telemetry.count("herald_jma_holds_total", action, 1.0);
            }
            Ok(Response::Error { message }) => {
                tracing::error!(scope = %scope_key(scope), "the disaster feed could not change the disaster hold: {message}")
            }
            Err(_) => {}
        }
    }

    /// Reminds the admins of holds that have stood for `remind_after`
    /// since the last message that raised them (or since they were
    /// declared, or last reminded of).
    async fn remind(&self, memory: &mut FeedMemory, now: DateTime<Utc>) {
        let holds = crate::control::stops::DisasterHolds::read(&self.state_dir);
        let quiet = TimeDelta::from_std(self.settings.remind_after).unwrap_or(TimeDelta::hours(6));
        let standing = holds
            .all
            .iter()
            .map(|s| (Scope::All, s))
            .chain(holds.accounts.iter().map(|(a, s)| (Scope::Account(a.clone()), s)));
        for (scope, stop) in standing {
            let key = scope_key(&scope);
            let last_message = memory
                .raised
                .values()
                .filter(|r| r.scopes.contains(&scope))
                .map(|r| r.at)
                .max();
            let since = [Some(stop.at), last_message, memory.reminded.get(&key).copied()]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(stop.at);
            if now - since < quiet {
                continue;
            }
            memory.reminded.insert(key.clone(), now);
            let hours = (now - stop.at).num_hours();
            tracing::warn!(scope = %key, "the disaster hold declared {hours}h ago still stands; herald never lifts it on its own: an admin decides (herald disaster-hold lift)");
            self.telemetry.count("herald_jma_holds_total", "reminded", 1.0);
            let event = Event::new("disaster-hold-reminder").detail(serde_json::json!({
                "scope": key, "declared_at": stop.at.to_rfc3339(), "by": stop.by, "reason": stop.reason,
            }));
            let event = match scope.account() {
                Some(a) => event.account(a),
                None => event,
            };
            let log = self.audit.clone();
            let _ = tokio::task::spawn_blocking(move || log.note(now, event)).await;
        }
    }
}
