//! Reloading the configuration while the daemon runs (SIGHUP, `systemctl
//! reload herald`, or a control request).
//!
//! A reload is all or nothing: the new `herald.toml`, its rulebooks and
//! dictionaries are read and every account prepared before anything changes;
//! an invalid config is refused with its errors in the log and the running
//! one stays. Once swapped in, accounts added are scanned at once, accounts
//! removed stop publishing (their records stay), and every delivery checked
//! but not yet published is checked again against the new rules.
//! Requests already in flight finish under the config they started with.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::{ingest, Daemon, Shared};
use crate::config::{Config, Severity};
use crate::guidelines::{Draft, Verdict};
use crate::queue;
use crate::store::{content_hash, State, StoreError};

/// Asks the daemon to reload; `reply`, if given, hears how it went.
#[derive(Debug, Default)]
pub struct ReloadRequest {
    pub reply: Option<oneshot::Sender<Result<Reloaded, String>>>,
}

/// What a reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Deliveries checked again against the new rules.
    pub rechecked: usize,
    /// Of those, how many changed state (held, released or rejected).
    pub changed: usize,
}

impl std::fmt::Display for Reloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        write!(
            f,
            "accounts added: {}; removed: {}; {} deliveries re-checked, {} changed state",
            list(&self.added),
            list(&self.removed),
            self.rechecked,
            self.changed
        )
    }
}

/// The next reload request, or never when there is no channel.
pub(crate) async fn next(reloads: &mut Option<mpsc::Receiver<ReloadRequest>>) -> Option<ReloadRequest> {
    match reloads {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Why a new config cannot replace the running one.
fn refuse_restart_only(old: &Config, new: &Config) -> Result<(), String> {
    if old.daemon.state_dir != new.daemon.state_dir {
        return Err(format!(
            "{}: state_dir changed from {} to {}; the store stays open where it is until a restart (systemctl restart herald).",
            new.path.display(),
            old.daemon.state_dir.display(),
            new.daemon.state_dir.display()
        ));
    }
    if old.daemon.queue_dir != new.daemon.queue_dir {
        return Err(format!(
            "{}: queue_dir changed from {} to {}; herald watches the queue it started with until a restart (systemctl restart herald).",
            new.path.display(),
            old.daemon.queue_dir.display(),
            new.daemon.queue_dir.display()
        ));
    }
    Ok(())
}

/// Builds what the publishing tasks share from a checked config. Platform
/// clients of accounts that stay on the same platform with the same handle
/// are kept (with their rate-limit state); credentials are read at start,
/// so new tokens need a restart.
fn prepare(config: Config, old: &Shared) -> Result<Shared, String> {
    let (platforms, guidelines, metrics) = super::per_account(&config, &old.clock, |account| {
        let same = old
            .config
            .accounts
            .get(&account.id)
            .is_some_and(|a| a.platform == account.platform && a.handle == account.handle);
        old.platforms.get(&account.id).filter(|_| same).cloned()
    })
    .map_err(|e| format!("{}: {e}", config.path.display()))?;
    Ok(Shared {
        config,
        clock: old.clock.clone(),
        store: old.store.clone(),
        platforms,
        guidelines,
        metrics,
        telemetry: old.telemetry.clone(),
        audit: old.audit.clone(),
        notices: old.notices.clone(),
        held_accounts: old.held_accounts.clone(),
    })
}

impl Daemon {
    /// Reloads the config from the file the running one came from. On
    /// error nothing changed.
    pub(super) async fn reload(&mut self) -> Result<Reloaded, String> {
        let path = self.shared.config.path.clone();
        self.notifier.reloading(&format!("reloading {}", path.display()));
        let old = self.shared.clone();
        let loaded = tokio::task::spawn_blocking(move || -> Result<Shared, String> {
            let config = crate::config::load(&path).map_err(|e| e.to_string())?;
            refuse_restart_only(&old.config, &config)?;
            prepare(config, &old)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the reload failed: {e}")));
        let new = match loaded {
            Ok(new) => new,
            Err(why) => {
                tracing::error!("reload refused, the running configuration stays: {why}");
                let (log, at) = (self.shared.audit.clone(), self.shared.clock.now());
                let event = crate::audit::Event::new("config-reload").detail(serde_json::json!({
                    "accepted": false,
                    "config": self.shared.config.path,
                    "error": why,
                }));
                let _ = tokio::task::spawn_blocking(move || log.note(at, event)).await;
                self.shared.telemetry.observe_reload(false);
                self.notifier
                    .ready(&format!("reload refused ({why}); running the previous configuration"));
                return Err(why);
            }
        };
        let mut summary = Reloaded {
            added: new
                .config
                .accounts
                .keys()
                .filter(|id| !self.shared.config.accounts.contains_key(*id))
                .cloned()
                .collect(),
            removed: self
                .shared
                .config
                .accounts
                .keys()
                .filter(|id| !new.config.accounts.contains_key(*id))
                .cloned()
                .collect(),
            ..Default::default()
        };
        if new.config.metrics.listen != self.shared.config.metrics.listen {
            tracing::warn!(
                "[metrics] listen changed; the endpoint moves at the next restart (systemctl restart herald)"
            );
        }
        if new.config.daemon.stop_grace > std::time::Duration::from_secs(85) {
            tracing::warn!("stop_grace is close to or above the unit's TimeoutStopSec=90s; systemd may kill herald before it records what it abandons");
        }
        if new.config.daemon.max_in_flight != self.shared.config.daemon.max_in_flight {
            // Requests in flight keep their permits from the old limit.
            self.permits = Arc::new(Semaphore::new(new.config.daemon.max_in_flight));
        }
        self.shared = Arc::new(new);
        self.shared.notices.update(&self.shared.config);
        self.shared.telemetry.observe_reload(true);
        // Parsed files depend on the account's zone and folder: read again.
        self.cache.files.clear();
        let shared = self.shared.clone();
        let now = shared.clock.now();
        match tokio::task::spawn_blocking(move || {
            // Renewed attestations release their holds first, so that the
            // recheck sees those deliveries scheduled again.
            if let Err(e) = super::alerts::release_gated_holds(&shared, now) {
                tracing::error!("releasing attestation holds after the reload: {e}");
            }
            recheck(&shared, now)
        })
        .await
        {
            Ok(Ok((rechecked, changed))) => {
                summary.rechecked = rechecked;
                summary.changed = changed;
            }
            Ok(Err(e)) => tracing::error!("re-checking deliveries after the reload: {e}"),
            Err(e) => tracing::error!("re-checking deliveries after the reload: {e}"),
        }
        let log = self.shared.audit.clone();
        let event = crate::audit::Event::new("config-reload").detail(serde_json::json!({
            "accepted": true,
            "config": self.shared.config.path,
            "added": summary.added,
            "removed": summary.removed,
            "rechecked": summary.rechecked,
            "changed": summary.changed,
        }));
        // It fsyncs: off the async threads.
        let _ = tokio::task::spawn_blocking(move || log.note(now, event)).await;
        tracing::info!("configuration reloaded: {summary}");
        self.notifier.ready(&format!("reloaded: {summary}"));
        Ok(summary)
    }
}

/// The reason ingest gives a delivery held by a guideline check; only such
/// holds are lifted when the new rules no longer ask for a review.
fn held_by_guidelines(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with(ingest::GUIDELINE_HOLD_PREFIX))
}

/// The rules whose findings hold a post for review.
fn holding_rules(findings: &[crate::guidelines::Finding]) -> std::collections::BTreeSet<&str> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Hold)
        .map(|f| f.rule.as_str())
        .collect()
}

/// Checks every delivery not yet published against the current rules:
/// one the new rules block is rejected (its file moves to `rejected/`),
/// one they newly hold waits for review (one an admin already approved
/// stays approved if the same rules hold it), and one held only by a rule
/// that no longer asks for review is scheduled again. Deliveries of which
/// something may already be published (thread parts out, an attempt of
/// unknown outcome) are left alone. Returns how many were
/// checked and how many changed state.
pub(super) fn recheck(shared: &Shared, now: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
    let mut checked = 0;
    let mut changed = 0;
    let mut verdicts = Vec::new();
    let all = shared.store.deliveries()?;
    let heads: Vec<crate::store::Head> = all.iter().map(crate::store::Head::of).collect();
    let disaster_holds = crate::control::stops::DisasterHolds::read(&shared.config.daemon.state_dir);
    for mut d in all.clone() {
        let guideline_hold = d.state == State::Held && held_by_guidelines(d.reason.as_deref());
        if d.state != State::Scheduled && !guideline_hold {
            continue;
        }
        let Some(account) = shared.config.accounts.get(&d.account) else {
            continue;
        };
        if d.may_be_live() {
            // Part of it may already stand on the platform: rejecting it
            // now would move its file away from parts that are out, and
            // holding it would stop a thread half-way. It stays as it is;
            // an admin can still retract or reject it once reconciled.
            tracing::info!(
                account = %d.account,
                delivery = %d.id,
                parts_done = d.parts_done.len(),
                unsure = d.unsure_since.is_some(),
                "not re-checked after the reload: part of it may already be published"
            );
            continue;
        }
        let path = account.folder.join(&d.file);
        let Some(format) = queue::Format::of(&path) else {
            continue;
        };
        // The file as the delivery was made from; an edited one is ingest's.
        let Ok(bytes) = queue::post::read_bytes(&path, shared.config.daemon.max_file_bytes) else {
            continue;
        };
        if content_hash(&bytes) != d.content_hash {
            continue;
        }
        let Ok(post) = queue::post::parse(&bytes, format, &account.folder, account.time_zone) else {
            continue;
        };
        checked += 1;
        let metric = shared.metrics[&account.id].as_ref();
        let guidelines = &shared.guidelines[&account.id];
        let mut draft = Draft::of(&post, now, metric);
        // An occurrence of a recurring post is judged at its own instant, as ingest does.
        if d.occurrence.is_some() {
            draft.at = d.occurrence;
        }
        draft.disaster_hold = disaster_holds.applies(&account.id);
        // The duplicate rule compares with the account's posts made no
        // later than this one, as ingest did, leaving out copies it already
        // held as duplicates: a held copy must not hold its original.
        let recent = guidelines
            .duplicate_window()
            .map(|window| {
                ingest::recent_texts(
                    all.iter()
                        .zip(&heads)
                        .filter(|(o, _)| {
                            o.id != d.id
                                && o.created_at <= d.created_at
                                && (o.state == State::Published || !o.findings.iter().any(|f| f.rule == "duplicate"))
                        })
                        .map(|(_, h)| h),
                    &account.id,
                    &d.file,
                    draft.when(),
                    window,
                )
            })
            .unwrap_or_default();
        draft.recent = &recent;
        let report = guidelines.check(&draft);
        let before = d.state;
        match report.verdict {
            Verdict::Block => {
                let rules: Vec<&str> = report
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Block)
                    .map(|f| f.rule.as_str())
                    .collect();
                d.transition(
                    State::Rejected,
                    Some(format!(
                        "the post breaks the company's social-media guidelines as they were changed after it was planned ({}).",
                        rules.join(", ")
                    )),
                    now,
                );
            }
            // A scheduled delivery already judged "hold" was approved by an
            // admin: the approval stands only for the rules the admin saw.
            // A hold from another rule (or one more) needs a new review.
            Verdict::Hold
                if d.state == State::Scheduled
                    && (d.verdict < Verdict::Hold || holding_rules(&d.findings) != holding_rules(&report.findings)) =>
            {
                d.transition(State::Held, Some(ingest::held_reason(&report)), now);
            }
            Verdict::Pass | Verdict::Warn if guideline_hold => {
                d.transition(State::Scheduled, None, now);
            }
            _ => {}
        }
        if d.state == before && d.verdict == report.verdict && d.findings == report.findings {
            continue;
        }
        d.verdict = report.verdict;
        d.findings = report.findings;
        shared.store.put_delivery(&d)?;
        shared.store.flush_blocking()?;
        if d.state != before {
            changed += 1;
            verdicts.push(
                crate::audit::Event::new("verdict")
                    .account(&d.account)
                    .delivery(&d.id)
                    .detail(serde_json::json!({
                        "verdict": d.verdict.name(),
                        "rules": d.findings.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
                        "state": d.state.name(),
                        "was": before.name(),
                        "cause": "config-reload",
                    })),
            );
            let rules = ingest::rule_ids(&d.findings);
            tracing::info!(
                account = %d.account,
                delivery = %d.id,
                rule = rules.as_deref(),
                state = d.state.name(),
                "re-checked against the reloaded rules: {} → {}",
                before.name(),
                d.state.name()
            );
            if d.state == State::Rejected {
                // A one-shot file moves to rejected/; a recurring file is
                // rejected by the next ingest pass, which checks it again.
                ingest::finish(account, &d);
            } else {
                super::notes::rewrite_pending(&shared.config.daemon.state_dir, account, &d);
            }
        }
    }
    // The verdicts the new rules changed, on record as ingest's are.
    if !verdicts.is_empty() {
        shared.audit.note_all(now, verdicts);
    }
    Ok((checked, changed))
}
