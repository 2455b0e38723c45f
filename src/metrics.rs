//! Prometheus metrics: what the daemon counts while it runs, what it reads
//! from the store when scraped, and the small HTTP endpoint that serves both
//! in the Prometheus text format (version 0.0.4) at `GET /metrics`.
//!
//! Served only when `[metrics] listen` is set (loopback, e.g.
//! `127.0.0.1:9464`, is the sensible choice: the figures name accounts).
//! Every metric is documented in docs/metrics.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::platform::{PublishError, Published};
use crate::store::{State, Store, StoreError};

/// Bucket bounds, in seconds, for the time from a delivery's due instant to its publication.
const LATENCY_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0];
/// Bucket bounds, in seconds, for one guideline check of one post.
const CHECK_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative); the last is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    fn observe(&mut self, v: f64) {
        let i = self.bounds.iter().position(|b| v <= *b).unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
    }
}

#[derive(Debug, Default)]
struct Counts {
    published: BTreeMap<String, u64>,
    /// (account, class) → count.
    platform_errors: BTreeMap<(String, &'static str), u64>,
    rate_limit_waits: BTreeMap<String, u64>,
    rate_limit_wait_seconds: BTreeMap<String, f64>,
    latency: BTreeMap<String, Histogram>,
    check: Option<Histogram>,
    /// "ok" or "refused" → count.
    reloads: BTreeMap<&'static str, u64>,
    /// Post files found where no account publishes them (each counted once).
    stray_files: u64,
    /// Issue 17's counters (the disaster feed, notifications), by family
    /// name and label value (families in [`ALERT_FAMILIES`]).
    alerts: BTreeMap<(&'static str, String), f64>,
}

/// Issue 17's counter families: name, label, help.
const ALERT_FAMILIES: &[(&str, &str, &str)] = &[
    (
        "herald_jma_polls_total",
        "result",
        "Polls of the JMA disaster feeds, by result (ok, not_modified, error).",
    ),
    (
        "herald_jma_feed_errors_total",
        "feed",
        "JMA feeds or messages that could not be fetched or read, by feed URL. Publishing never waits for the feed.",
    ),
    (
        "herald_jma_holds_total",
        "action",
        "Disaster holds the JMA feed asked for, by action (raised, lifted, kept, reminded).",
    ),
    (
        "herald_notifications_total",
        "result",
        "Notification sends, by result (sent, retry, given_up).",
    ),
];

/// The counters and histograms the daemon bumps; shared by the daemon's
/// tasks and the endpoint.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// The class of a platform error, as the `class` label says it.
pub fn error_class(e: &PublishError) -> &'static str {
    match e {
        PublishError::Transient(_) => "transient",
        PublishError::Unknown(_) => "unknown_outcome",
        PublishError::Permanent(_) => "refused",
        PublishError::RateLimited { .. } => "rate_limited",
        PublishError::NeedsReauth(_) => "needs_reauth",
        PublishError::AccountRefused(_) => "account_refused",
        PublishError::NeedsAdmin(_) => "needs_admin",
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic elsewhere while holding the lock leaves plain numbers behind.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One platform answer for `account`: a publication due at `due` and
    /// answered at `now`, or an error of some class.
    pub fn observe_publish(
        &self,
        account: &str,
        result: &Result<Published, PublishError>,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let mut c = self.counts();
        match result {
            Ok(_) => {
                *c.published.entry(account.to_string()).or_default() += 1;
                let late = (now - due).to_std().unwrap_or_default().as_secs_f64();
                c.latency
                    .entry(account.to_string())
                    .or_insert_with(|| Histogram::new(LATENCY_BUCKETS))
                    .observe(late);
            }
            Err(e) => {
                *c.platform_errors
                    .entry((account.to_string(), error_class(e)))
                    .or_default() += 1;
                if let PublishError::RateLimited { until, .. } = e {
                    *c.rate_limit_waits.entry(account.to_string()).or_default() += 1;
                    let wait = (*until - now).to_std().unwrap_or_default().as_secs_f64();
                    *c.rate_limit_wait_seconds.entry(account.to_string()).or_default() += wait;
                }
            }
        }
    }

    /// How long one guideline check of one post took.
    pub fn observe_check(&self, took: Duration) {
        self.counts()
            .check
            .get_or_insert_with(|| Histogram::new(CHECK_BUCKETS))
            .observe(took.as_secs_f64());
    }

    /// Adds to one of issue 17's counters (a family of [`ALERT_FAMILIES`]).
    pub fn count(&self, family: &'static str, label: &str, by: f64) {
        debug_assert!(ALERT_FAMILIES.iter().any(|(f, _, _)| *f == family), "{family}");
        *self.counts().alerts.entry((family, label.to_string())).or_default() += by;
    }

    pub fn observe_reload(&self, ok: bool) {
        *self
            .counts()
            .reloads
            .entry(if ok { "ok" } else { "refused" })
            .or_default() += 1;
    }

    /// A post file no account will publish was found (see `queue::strays`).
    pub fn observe_stray_file(&self) {
        self.counts().stray_files += 1;
    }

    /// The whole exposition: the counters and the store's figures.
    pub fn render(&self, gauges: &Gauges) -> String {
        let c = self.counts();
        let mut out = String::new();
        let w = &mut out;

        family(
            w,
            "herald_build_info",
            "gauge",
            "The running herald's version (always 1).",
        );
        sample(w, "herald_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1.0);

        family(
            w,
            "herald_deliveries",
            "gauge",
            "Deliveries in the store, by account and state.",
        );
        for ((account, state), n) in &gauges.deliveries {
            sample(
                w,
                "herald_deliveries",
                &[("account", account), ("state", state)],
                *n as f64,
            );
        }
        family(
            w,
            "herald_queue_pending",
            "gauge",
            "Deliveries not yet ended (scheduled, held or publishing), by account.",
        );
        for (account, n) in &gauges.pending {
            sample(w, "herald_queue_pending", &[("account", account)], *n as f64);
        }
        family(
            w,
            "herald_overdue_seconds",
            "gauge",
            "How far past its due instant the oldest scheduled, unpublished delivery is (0 when none is due), by account.",
        );
        for (account, s) in &gauges.overdue {
            sample(w, "herald_overdue_seconds", &[("account", account)], *s);
        }
        family(
            w,
            "herald_last_publish_timestamp_seconds",
            "gauge",
            "When the account last published successfully (Unix time); absent if never.",
        );
        for (account, t) in &gauges.last_publish {
            sample(w, "herald_last_publish_timestamp_seconds", &[("account", account)], *t);
        }

        family(
            w,
            "herald_published_total",
            "counter",
            "Successful publications since start, by account.",
        );
        for (account, n) in &c.published {
            sample(w, "herald_published_total", &[("account", account)], *n as f64);
        }
        family(
            w,
            "herald_platform_errors_total",
            "counter",
            "Failed publish requests since start, by account and class (transient, unknown_outcome, refused, rate_limited, needs_reauth).",
        );
        for ((account, class), n) in &c.platform_errors {
            sample(
                w,
                "herald_platform_errors_total",
                &[("account", account), ("class", class)],
                *n as f64,
            );
        }
        family(
            w,
            "herald_rate_limit_waits_total",
            "counter",
            "Times a platform's rate limit made herald wait, by account.",
        );
        for (account, n) in &c.rate_limit_waits {
            sample(w, "herald_rate_limit_waits_total", &[("account", account)], *n as f64);
        }
        family(
            w,
            "herald_rate_limit_wait_seconds_total",
            "counter",
            "Seconds of waiting imposed by platforms' rate limits, by account.",
        );
        for (account, s) in &c.rate_limit_wait_seconds {
            sample(w, "herald_rate_limit_wait_seconds_total", &[("account", account)], *s);
        }
        family(
            w,
            "herald_publish_latency_seconds",
            "histogram",
            "Time from a delivery's due instant to its publication, by account.",
        );
        for (account, h) in &c.latency {
            histogram(w, "herald_publish_latency_seconds", &[("account", account)], h);
        }
        family(
            w,
            "herald_check_duration_seconds",
            "histogram",
            "Time to check one post against its account's guidelines.",
        );
        let empty = Histogram::new(CHECK_BUCKETS);
        histogram(
            w,
            "herald_check_duration_seconds",
            &[],
            c.check.as_ref().unwrap_or(&empty),
        );
        family(
            w,
            "herald_reloads_total",
            "counter",
            "Configuration reloads since start, by result (ok, refused).",
        );
        for result in ["ok", "refused"] {
            let n = c.reloads.get(result).copied().unwrap_or(0);
            sample(w, "herald_reloads_total", &[("result", result)], n as f64);
        }
        family(
            w,
            "herald_stray_files_total",
            "counter",
            "Post files found where no account publishes them (queue folder itself, unregistered folders), each counted once.",
        );
        sample(w, "herald_stray_files_total", &[], c.stray_files as f64);
        for (name, label, help) in ALERT_FAMILIES {
            family(w, name, "counter", help);
            for ((_, value), n) in c
                .alerts
                .range((*name, String::new())..)
                .take_while(|((f, _), _)| f == name)
            {
                sample(w, name, &[(label, value)], *n);
            }
        }
        gauges.render_alerts(w);
        out
    }
}

/// Figures read from the store at scrape time.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Gauges {
    /// (account, state) → deliveries.
    pub deliveries: BTreeMap<(String, String), u64>,
    pub pending: BTreeMap<String, u64>,
    pub overdue: BTreeMap<String, f64>,
    /// Unix seconds.
    pub last_publish: BTreeMap<String, f64>,
    /// Notifications waiting in the spool.
    pub notifications_queued: u64,
    /// This month's spend on X in USD, by account (issue 17).
    pub x_spend: BTreeMap<String, f64>,
}

impl Gauges {
    /// Reads the store for the configured accounts (a removed account's
    /// history is not reported).
    pub fn collect(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Gauges, StoreError> {
        let mut g = Gauges {
            notifications_queued: crate::alerts::notify::queued(&config.daemon.state_dir) as u64,
            ..Default::default()
        };
        let ledger = crate::alerts::costs::read(&config.daemon.state_dir, now);
        for a in config
            .accounts
            .values()
            .filter(|a| a.platform == crate::config::PlatformKind::X)
        {
            g.x_spend.insert(a.id.clone(), ledger.of(&a.id));
        }
        for id in config.accounts.keys() {
            g.pending.insert(id.clone(), 0);
            g.overdue.insert(id.clone(), 0.0);
            if let Some(t) = store.account(id)?.last_published {
                g.last_publish.insert(
                    id.clone(),
                    t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0,
                );
            }
        }
        for d in store.deliveries()? {
            if !config.accounts.contains_key(&d.account) {
                continue;
            }
            *g.deliveries
                .entry((d.account.clone(), d.state.name().to_string()))
                .or_default() += 1;
            if d.state.is_pending() {
                *g.pending.entry(d.account.clone()).or_default() += 1;
            }
            if d.state == State::Scheduled && d.due < now {
                let late = (now - d.due).to_std().unwrap_or_default().as_secs_f64();
                let o = g.overdue.entry(d.account.clone()).or_default();
                *o = o.max(late);
            }
        }
        Ok(g)
    }
}

impl Gauges {
    fn render_alerts(&self, w: &mut String) {
        family(
            w,
            "herald_notifications_queued",
            "gauge",
            "Notifications waiting in the spool to be sent or retried.",
        );
        sample(w, "herald_notifications_queued", &[], self.notifications_queued as f64);
        family(
            w,
            "herald_x_spend_usd",
            "gauge",
            "This month's spend on X's API in USD (per the [costs] price table), by account.",
        );
        for (account, usd) in &self.x_spend {
            sample(w, "herald_x_spend_usd", &[("account", account)], *usd);
        }
    }
}

fn family(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(w, "# TYPE {name} {kind}");
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.is_nan() {
        "NaN".to_string()
    } else {
        format!("{v}")
    }
}

fn sample(w: &mut String, name: &str, pairs: &[(&str, &str)], v: f64) {
    let _ = writeln!(w, "{name}{} {}", labels(pairs), number(v));
}

fn histogram(w: &mut String, name: &str, pairs: &[(&str, &str)], h: &Histogram) {
    let mut cumulative = 0;
    for (i, count) in h.counts.iter().enumerate() {
        cumulative += count;
        let le = h.bounds.get(i).map_or("+Inf".to_string(), |b| number(*b));
        let mut with_le = pairs.to_vec();
        with_le.push(("le", &le));
        sample(w, &format!("{name}_bucket"), &with_le, cumulative as f64);
    }
    sample(w, &format!("{name}_sum"), pairs, h.sum);
    sample(w, &format!("{name}_count"), pairs, cumulative as f64);
}

/// Serves `GET /metrics` on `listener` until the task is dropped; `body`
/// renders the exposition for each request.
pub async fn serve(listener: TcpListener, body: Arc<dyn Fn() -> String + Send + Sync>) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            continue;
        };
        let body = body.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(1024);
            let mut chunk = [0u8; 1024];
            // Read the request head (bounded: a scraper's request is small).
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return false,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                true
            })
            .await;
            if !matches!(read, Ok(true)) {
                return;
            }
            let head = String::from_utf8_lossy(&buf);
            let mut parts = head.lines().next().unwrap_or("").split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = target.split('?').next().unwrap_or("");
            let (status, content_type, text) = match (method, path) {
                ("GET", "/metrics") => {
                    // The store is read on a blocking thread.
                    let text = tokio::task::spawn_blocking(move || body()).await.unwrap_or_default();
                    ("200 OK", "text/plain; version=0.0.4; charset=utf-8", text)
                }
                ("GET", _) => (
                    "404 Not Found",
                    "text/plain; charset=utf-8",
                    "herald serves its metrics at /metrics\n".to_string(),
                ),
                _ => (
                    "405 Method Not Allowed",
                    "text/plain; charset=utf-8",
                    "only GET /metrics\n".to_string(),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = conn.write_all(response.as_bytes()).await;
            let _ = conn.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let m = Metrics::new();
        let due = Utc::now();
        let ok: Result<Published, PublishError> = Ok(Published {
            url: None,
            remote_ids: vec![],
            at: due,
        });
        m.observe_publish("a", &ok, due, due + chrono::TimeDelta::seconds(3));
        m.observe_publish("a", &ok, due, due + chrono::TimeDelta::seconds(7200));
        let text = m.render(&Gauges::default());
        assert!(text.contains("herald_publish_latency_seconds_bucket{account=\"a\",le=\"1\"} 0\n"));
        assert!(text.contains("herald_publish_latency_seconds_bucket{account=\"a\",le=\"5\"} 1\n"));
        assert!(text.contains("herald_publish_latency_seconds_bucket{account=\"a\",le=\"3600\"} 1\n"));
        assert!(text.contains("herald_publish_latency_seconds_bucket{account=\"a\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("herald_publish_latency_seconds_sum{account=\"a\"} 7203\n"));
        assert!(text.contains("herald_publish_latency_seconds_count{account=\"a\"} 2\n"));
    }

    #[test]
    fn rate_limits_count_waits_and_seconds() {
        let m = Metrics::new();
        let now = Utc::now();
        let limited: Result<Published, PublishError> = Err(PublishError::RateLimited {
            until: now + chrono::TimeDelta::seconds(90),
            detail: "429".into(),
        });
        m.observe_publish("b", &limited, now, now);
        let text = m.render(&Gauges::default());
        assert!(text.contains("herald_platform_errors_total{account=\"b\",class=\"rate_limited\"} 1\n"));
        assert!(text.contains("herald_rate_limit_waits_total{account=\"b\"} 1\n"));
        assert!(text.contains("herald_rate_limit_wait_seconds_total{account=\"b\"} 90\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), "{a=\"x\\\"y\\\\z\\nw\"}");
    }
}
