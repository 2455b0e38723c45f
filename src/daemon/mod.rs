//! The run loop: ingest the queue, decide what is due, hand each due
//! delivery to a publishing task (one at a time per account, a global cap on
//! requests in flight), and sleep until the next due instant or a change in
//! the queue folders. `daemon::run(config, clock, shutdown)` is the whole
//! daemon, which is what lets tests drive it in-process.

pub(crate) mod alerts;
mod disaster_feed;
mod ingest;
pub mod notes;
pub mod notify;
mod publish;
pub mod reload;
pub mod signals;
mod stop;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::config::{Config, StalePolicy};
use crate::guidelines::{Guidelines, TextMetric};
use crate::platform::{self, Platform};
use crate::schedule::{is_stale, lateness_of, out_of_quiet_hours, paced, Clock};
use crate::store::{Delivery, State, Store, StoreError};

pub use publish::{backoff, MAX_ATTEMPTS};
pub(crate) use publish::{is_reauth_hold, is_retryable_hold, is_unknown_outcome_hold};

/// What the publishing tasks share with the loop. Read-only but for the store.
pub(crate) struct Shared {
    config: Config,
    clock: Arc<dyn Clock>,
    store: Store,
    platforms: BTreeMap<String, Arc<dyn Platform>>,
    /// Each account's rules; accounts that follow the same rulebooks in the
    /// same time zone share one set (built once: the term automata are the
    /// bulk of herald's memory and start-up).
    guidelines: BTreeMap<String, Arc<Guidelines>>,
    metrics: BTreeMap<String, Box<dyn TextMetric>>,
    /// Prometheus counters (the [`crate::metrics`] module), kept across reloads.
    telemetry: Arc<crate::metrics::Metrics>,
    /// The audit log (control helper): the daemon's own events.
    audit: crate::audit::Audit,
    /// Notifications to owners and admins (issue 17), fed by the audit log.
    notices: alerts::Notices,
    /// Accounts whose deliveries this run held because of the account (a
    /// refusal of the whole account, re-authorization): a post of theirs
    /// that goes through releases them. Holds from before the start were
    /// released (or kept, while marked) at start, so memory suffices, and a
    /// publication costs no scan of the store. Kept across reloads.
    held_accounts: Arc<std::sync::Mutex<HashSet<String>>>,
}

/// What a `--once` run did, for the CLI to print.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub published: usize,
    pub counts: BTreeMap<String, usize>,
}

/// The daemon, opened: store, rules and platform clients ready.
pub struct Daemon {
    shared: Arc<Shared>,
    cache: ingest::Cache,
    /// Which folders the next pass reads (see [`ingest::Scope`]).
    scope: ingest::Scope,
    /// When every folder was last read.
    last_full: std::time::Instant,
    /// Accounts with a delivery in flight; an account publishes in order,
    /// one delivery at a time.
    busy: HashSet<String>,
    tasks: JoinSet<String>,
    /// Caps requests in flight across accounts.
    permits: Arc<Semaphore>,
    /// systemd notifications: READY, STATUS, WATCHDOG, STOPPING.
    notifier: notify::Notifier,
    /// Reload requests (SIGHUP, or a control request).
    reloads: Option<mpsc::Receiver<reload::ReloadRequest>>,
    /// The metrics endpoint's socket (`[metrics] listen`), bound at open.
    metrics_listener: Option<std::net::TcpListener>,
    /// Held while the daemon lives: one daemon per queue.
    _queue_lock: std::fs::File,
    /// Whether publishing waits for the audit log (said once, not every pass).
    audit_down: bool,
    /// Stray post files already reported (each is said once).
    strays: HashSet<PathBuf>,
}

/// The lock file in the queue folder: a second daemon on the same queue —
/// even with a state folder of its own — would publish every post twice.
pub const QUEUE_LOCK: &str = ".herald.lock";

/// Takes the queue folder's lock (released when the file is closed, also by
/// a crash), or says which daemon holds it.
fn lock_queue(queue_dir: &Path, state_dir: &Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    let path = queue_dir.join(QUEUE_LOCK);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening the queue's lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let me = format!("pid {}\nstate_dir {}\n", std::process::id(), state_dir.display());
            file.set_len(0)?;
            file.seek(std::io::SeekFrom::Start(0))?;
            file.write_all(me.as_bytes())
                .with_context(|| format!("writing the queue's lock file {}", path.display()))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
            anyhow::bail!(
                "the queue folder {} is already served by another herald daemon ({}). Two daemons on one queue would publish every post twice: stop the other one, or give this one a queue_dir of its own.",
                queue_dir.display(),
                if holder.is_empty() { "it has not said which".to_string() } else { holder }
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking the queue's lock file {}", path.display()))
        }
    }
}

/// How long a starting daemon waits for a command that holds the store (an
/// admin's `herald status` run while no daemon answered): such a command
/// finishes in moments, and must not fail a (re)start under systemd.
const WAIT_FOR_A_COMMAND: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens the store, moving a damaged one aside (pending work lives in the
/// queue folders, so a fresh store loses history, never a post). While a
/// command holds it, waits (bounded); another daemon (its pid file names a
/// live process) is refused at once.
fn open_store(path: &Path) -> anyhow::Result<Store> {
    let state_dir = path.parent().unwrap_or(Path::new("."));
    let started = std::time::Instant::now();
    let mut said = false;
    let opened = loop {
        match Store::open(path) {
            Err(StoreError::Locked { .. })
                if crate::control::client::running_pid(state_dir).is_none()
                    && started.elapsed() < WAIT_FOR_A_COMMAND =>
            {
                if !said {
                    tracing::warn!(
                        "the store {} is in use by a herald command (no daemon runs); waiting up to {}s for it to finish",
                        path.display(),
                        WAIT_FOR_A_COMMAND.as_secs()
                    );
                    said = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => break other,
        }
    };
    match opened {
        Ok(s) => Ok(s),
        Err(StoreError::Corrupt { detail, .. }) => {
            let aside = path.with_extension(format!("damaged-{}", Utc::now().format("%Y%m%dT%H%M%SZ")));
            std::fs::rename(path, &aside)
                .with_context(|| format!("moving the damaged store {} aside", path.display()))?;
            tracing::error!(
                "the store at {} was damaged ({detail}); it was moved to {} and a new one started. Posts still in the queue folders will be published; posts already in published/ will not be published again; recurring posts continue from now without making up missed occurrences.",
                path.display(),
                aside.display()
            );
            Ok(Store::open(path)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Each account's platform client, rules and text metric.
type PerAccount = (
    BTreeMap<String, Arc<dyn Platform>>,
    BTreeMap<String, Arc<Guidelines>>,
    BTreeMap<String, Box<dyn TextMetric>>,
);

/// Prepares every account of `config`: a client from `reuse` where it has
/// one (a reload keeps unchanged accounts' clients), else a new one.
fn per_account(
    config: &Config,
    clock: &Arc<dyn Clock>,
    reuse: impl Fn(&crate::config::Account) -> Option<Arc<dyn Platform>>,
) -> Result<PerAccount, platform::ConnectError> {
    let mut platforms = BTreeMap::new();
    let mut guidelines = BTreeMap::new();
    let mut metrics = BTreeMap::new();
    // What an account's rules depend on: its rulebooks (after the baseline)
    // and its time zone.
    let mut built: BTreeMap<(Vec<&str>, &str), Arc<Guidelines>> = BTreeMap::new();
    for account in config.accounts.values() {
        let client = match reuse(account) {
            Some(p) => p,
            None => platform::connect_for_daemon(config, account, clock.clone())?,
        };
        platforms.insert(account.id.clone(), client);
        let books = config.rulebooks_for(account).map(|b| b.name.as_str()).collect();
        let rules = built
            .entry((books, account.time_zone.name()))
            .or_insert_with(|| Arc::new(Guidelines::for_account(config, account)));
        guidelines.insert(account.id.clone(), rules.clone());
        metrics.insert(account.id.clone(), platform::metric_for(config, account.platform));
    }
    Ok((platforms, guidelines, metrics))
}

impl Daemon {
    /// Opens the store and prepares every account. Fails if an account's
    /// platform cannot be used.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Daemon> {
        std::fs::create_dir_all(&config.daemon.state_dir)
            .with_context(|| format!("creating the state folder {}", config.daemon.state_dir.display()))?;
        let store = open_store(&config.store_path())?;
        let queue_lock = lock_queue(&config.daemon.queue_dir, &config.daemon.state_dir)?;
        let (platforms, guidelines, metrics) = per_account(&config, &clock, |_| None)?;
        let permits = Arc::new(Semaphore::new(config.daemon.max_in_flight));
        let telemetry = Arc::new(crate::metrics::Metrics::new());
        let audit = crate::audit::Audit::open(&config.daemon.state_dir);
        let notices = alerts::Notices::new(&config, store.clone(), clock.clone(), telemetry.clone());
        audit.set_observer(notices.observer());
        let shared = Shared {
            audit,
            notices,
            config,
            clock,
            store,
            platforms,
            guidelines,
            metrics,
            telemetry,
            held_accounts: Default::default(),
        };
        let metrics_listener = match shared.config.metrics.listen {
            Some(addr) => {
                let l = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("listening on {addr} for metrics ([metrics] listen)"))?;
                l.set_nonblocking(true)?;
                Some(l)
            }
            None => None,
        };
        let n = publish::recover_interrupted(&shared, shared.clock.now())?;
        if n > 0 {
            tracing::warn!("{n} deliveries were interrupted by the last stop; they are retried first");
        }
        // Deliveries held because an account needed re-authorization go back
        // to the scheduler once it is no longer marked: `herald auth x`
        // wrote new credentials, which the platform client just read (they
        // are read only at start, so a start is when this can change). An
        // OAuth 1.0a key X refused carries no mark: it gets one new try per
        // start, and is held again if X still refuses it.
        for account in shared.config.accounts.values() {
            if platform::needs_reauth(&shared.config, account).is_none() {
                let because = "it is no longer marked as needing re-authorization at start-up";
                publish::release_reauth_holds(&shared, &account.id, because, shared.clock.now())?;
            }
        }
        // Attestations renewed while herald was down.
        alerts::release_gated_holds(&shared, shared.clock.now())?;
        Ok(Daemon {
            shared: Arc::new(shared),
            cache: Default::default(),
            scope: ingest::Scope::All,
            last_full: std::time::Instant::now(),
            busy: HashSet::new(),
            tasks: JoinSet::new(),
            permits,
            notifier: notify::Notifier::disabled(),
            reloads: None,
            metrics_listener,
            _queue_lock: queue_lock,
            audit_down: false,
            strays: HashSet::new(),
        })
    }

    /// Where the metrics endpoint listens, if it does.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Sends systemd notifications through `notifier` while running.
    pub fn with_notifier(mut self, notifier: notify::Notifier) -> Daemon {
        self.notifier = notifier;
        self
    }

    /// Reloads the config on each request (see [`reload`]).
    pub fn with_reloads(mut self, reloads: mpsc::Receiver<reload::ReloadRequest>) -> Daemon {
        self.reloads = Some(reloads);
        self
    }

    /// Replaces an account's platform client (tests use faithful fakes).
    pub fn with_platform(mut self, account: &str, platform: Arc<dyn Platform>) -> Daemon {
        Arc::get_mut(&mut self.shared)
            .expect("before the daemon runs")
            .platforms
            .insert(account.to_string(), platform);
        self
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Ingests the queue and starts publishing what is due at `now`.
    /// Returns when the loop should wake up again.
    async fn tick(&mut self) -> anyhow::Result<(Option<DateTime<Utc>>, Option<SystemTime>, usize)> {
        let now = self.shared.clock.now();
        self.report_strays();
        let shared = self.shared.clone();
        let mut cache = std::mem::take(&mut self.cache);
        // Every folder now and then, whatever the events said: a change
        // the watcher missed is found within minutes.
        if self.last_full.elapsed() > FULL_SCAN_EVERY {
            self.scope = ingest::Scope::All;
        }
        let scope = std::mem::take(&mut self.scope);
        if scope == ingest::Scope::All {
            self.last_full = std::time::Instant::now();
        }
        let (cache, ingested) = tokio::task::spawn_blocking(move || {
            let r = ingest::ingest(&shared, &mut cache, &scope, now);
            (cache, r)
        })
        .await?;
        self.cache = cache;
        let ingested = ingested?;
        // Nothing is published unaudited: while the audit log cannot be
        // written, publishing waits (and says why), and tries again soon.
        if let Some(why) = self.shared.audit.unwritable() {
            if !self.audit_down {
                tracing::error!("publishing is held: {why}. Free space or fix the permissions of the state folder; publishing resumes by itself.");
                self.notifier.status(&format!("publishing held: {why}"));
                self.audit_down = true;
            }
            return Ok((Some(now + chrono::TimeDelta::seconds(15)), ingested.wake, 0));
        }
        if std::mem::take(&mut self.audit_down) {
            tracing::info!("the audit log can be written again: publishing resumes");
        }
        let shared = self.shared.clone();
        let busy = self.busy.clone();
        let (due, next, changed) = tokio::task::spawn_blocking(move || select_due(&shared, &busy, now)).await??;
        // Reminders and notices of issue 17 (attestation, notifications).
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || alerts::on_tick(&shared, now)).await?;
        // Deliveries that changed state (stale ones) count as progress: the
        // next pass may plan what replaces them.
        let started = due.len() + changed;
        if changed > 0 {
            // A stale recurring occurrence ended: its series plans the next.
            self.scope = ingest::Scope::All;
        }
        for d in due {
            self.busy.insert(d.account.clone());
            let shared = self.shared.clone();
            let permits = self.permits.clone();
            self.tasks.spawn(async move {
                let account = d.account.clone();
                let _permit = permits.acquire_owned().await;
                if let Err(e) = publish::publish(shared, d).await {
                    tracing::error!(account = %account, "cannot record a publication: {e}");
                }
                account
            });
        }
        Ok((next, ingested.wake, started))
    }

    /// Post files no account will publish (in the queue folder itself, in
    /// a folder no account is registered for): logged once each, with a
    /// note beside them where herald may write. `herald doctor` lists them.
    fn report_strays(&mut self) {
        let queue_dir = &self.shared.config.daemon.queue_dir;
        let ids = self.shared.config.accounts.keys().map(String::as_str).collect();
        let strays = crate::queue::strays::find(queue_dir, &ids, false);
        let now: HashSet<PathBuf> = strays.iter().map(|s| s.path.clone()).collect();
        for stray in strays {
            if self.strays.contains(&stray.path) {
                continue;
            }
            let why = stray.explain(queue_dir);
            tracing::warn!("{why}");
            let note =
                format!("NOT PUBLISHED: {why}\n\nWritten by herald; it replaces this note when something changes.\n");
            if let Err(e) = crate::queue::write_note(&stray.path, &note) {
                tracing::debug!("no note beside {}: {e}", stray.path.display());
            }
            self.shared.telemetry.observe_stray_file();
        }
        self.strays = now;
    }

    fn task_done(&mut self, joined: Result<String, tokio::task::JoinError>) {
        match joined {
            Ok(account) => {
                // Its folder changed (the file moved on), and a recurring
                // post plans its next occurrence: that folder alone is read.
                if let Some(a) = self.shared.config.accounts.get(&account) {
                    let folder = ingest::Scope::Folders(HashSet::from([a.folder.clone()]));
                    self.scope = std::mem::take(&mut self.scope).and(folder);
                }
                self.busy.remove(&account);
            }
            Err(e) => {
                tracing::error!("a publishing task failed: {e}");
                // Which account is unknown: let every account go again; the
                // store's `publishing` state stops a double send.
                if self.tasks.is_empty() {
                    self.busy.clear();
                }
                self.scope = ingest::Scope::All;
            }
        }
    }

    /// One pass: ingest the queue, publish what is due now, and wait for
    /// those requests to finish. Returns how many deliveries it started and
    /// when the first file still being written will be settled.
    pub async fn pass(&mut self) -> anyhow::Result<(usize, Option<SystemTime>)> {
        self.scope = ingest::Scope::All;
        let (_, wake, started) = self.tick().await?;
        while let Some(joined) = self.tasks.join_next().await {
            self.task_done(joined);
        }
        Ok((started, wake))
    }

    /// Publishes everything due now, then returns (`herald run --once`).
    /// Files still being written are waited for (they settle within the
    /// settle time).
    pub async fn run_once(mut self) -> anyhow::Result<Summary> {
        loop {
            let (started, wake) = self.pass().await?;
            if started > 0 {
                continue;
            }
            match wake {
                Some(at) => {
                    let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                    tokio::time::sleep(wait + std::time::Duration::from_millis(50)).await;
                }
                None => break,
            }
        }
        // One last pass so notes reflect the final states.
        self.scope = ingest::Scope::All;
        self.tick().await?;
        self.summary()
    }

    fn summary(&self) -> anyhow::Result<Summary> {
        let mut s = Summary::default();
        self.shared.store.with_index(|ix| {
            for state in State::ALL {
                let n = ix.count(state);
                if n > 0 {
                    s.counts.insert(state.name().to_string(), n);
                }
            }
            s.published = ix.count(State::Published);
        })?;
        Ok(s)
    }

    /// The daemon proper: runs until `shutdown` resolves, then lets the
    /// requests in flight finish, flushes the store and returns.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let (wake_tx, mut wake_rx) = mpsc::channel(1);
        let changes = crate::queue::watch::SharedChanges::default();
        let _watcher = crate::queue::watch::watch(&self.shared.config.daemon.queue_dir, wake_tx, changes.clone())
            .with_context(|| format!("watching {}", self.shared.config.daemon.queue_dir.display()))?;
        let (control, mut calls) = crate::control::server::Server::bind(&self.shared.config)?;
        tokio::pin!(shutdown);
        // The endpoint reads the config of the moment: reloads update `view`.
        let (view, metrics_server) = self.serve_metrics()?;
        tracing::info!(accounts = self.shared.config.accounts.len(), "herald is running");
        // Say at start-up, not at the first post, when credentials do not
        // work; in the background, so a slow platform delays nothing.
        for (id, platform) in &self.shared.platforms {
            let (id, platform) = (id.clone(), platform.clone());
            tokio::spawn(async move {
                match platform.check_account().await {
                    Ok(handle) => tracing::info!(account = %id, handle = %handle, "the account's credentials work"),
                    Err(e) => tracing::error!(account = %id, "the account's credentials do not work: {e}"),
                }
            });
        }
        // Issue 17: the notification sender and the disaster feed run beside
        // the loop; neither ever holds publishing.
        let _sender = AbortOnDrop(Some(tokio::spawn(self.shared.notices.clone().run_sender())));
        let _feed = AbortOnDrop(alerts::start_feed(&self.shared, control.caller()));
        self.notifier.status("scanning the queue");
        let mut ready = false;
        loop {
            let (next, settle_wake, _) = self.tick().await?;
            // The watchdog hears from the loop itself: a stuck loop stops pinging.
            self.notifier.watchdog();
            if !ready {
                ready = true;
                self.notifier.ready(&self.status_line());
            } else if self.notifier.is_enabled() {
                let status = format!(
                    "running: {} accounts, {} publishing, next due {}",
                    self.shared.config.accounts.len(),
                    self.tasks.len(),
                    next.map_or("none".to_string(), |t| t
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                );
                self.notifier.status_if_changed(&status);
            }
            let clock = self.shared.clock.clone();
            // With nothing scheduled, wake hourly anyway: cheap, and it
            // notices a clock that jumped.
            let next = next.unwrap_or_else(|| clock.now() + chrono::TimeDelta::hours(1));
            let settle = settle_wake.map(|w| {
                w.duration_since(SystemTime::now()).unwrap_or_default() + std::time::Duration::from_millis(50)
            });
            tokio::select! {
                _ = &mut shutdown => break,
                // A due instant, or a finished publication: the scheduler
                // alone (the queue folders did not change).
                _ = clock.sleep_until(next) => {}
                _ = async { match settle { Some(d) => tokio::time::sleep(d).await, None => std::future::pending().await } } => {
                    self.scope = std::mem::take(&mut self.scope).and(ingest::Scope::All);
                }
                Some(()) = wake_rx.recv() => {
                    // Let a burst of file events settle into one rescan.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    while wake_rx.try_recv().is_ok() {}
                    let c = crate::queue::watch::take(&changes);
                    let scope = if c.all { ingest::Scope::All } else { ingest::Scope::Folders(c.folders) };
                    self.scope = std::mem::take(&mut self.scope).and(scope);
                }
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => self.task_done(joined),
                Some(call) = calls.recv() => {
                    self.serve(call, &control.info).await;
                    self.scope = ingest::Scope::All;
                }
                _ = notify::sleep_until(self.notifier.watchdog_deadline()) => {}
                Some(request) = reload::next(&mut self.reloads) => {
                    self.scope = ingest::Scope::All;
                    let result = self.reload().await;
                    view.send_replace(self.shared.clone());
                    if let Some(reply) = request.reply {
                        let _ = reply.send(result);
                    }
                }
            }
        }
        self.stop().await?;
        metrics_server.stop().await;
        drop(control);
        tracing::info!("stopped");
        Ok(())
    }
}

/// Aborts the metrics endpoint when the daemon stops.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    /// Aborts and waits until the task (and its socket) is gone.
    async fn stop(mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}

impl Daemon {
    /// Starts the metrics endpoint if `[metrics] listen` is set.
    fn serve_metrics(&mut self) -> anyhow::Result<(tokio::sync::watch::Sender<Arc<Shared>>, AbortOnDrop)> {
        let (view, rx) = tokio::sync::watch::channel(self.shared.clone());
        let Some(listener) = self.metrics_listener.take() else {
            return Ok((view, AbortOnDrop(None)));
        };
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let body = Arc::new(move || {
            let shared = rx.borrow().clone();
            match crate::metrics::Gauges::collect(&shared.store, &shared.config, shared.clock.now()) {
                Ok(g) => shared.telemetry.render(&g),
                Err(e) => {
                    tracing::error!("metrics: cannot read the store: {e}");
                    shared.telemetry.render(&Default::default())
                }
            }
        });
        tracing::info!("serving metrics at http://{addr}/metrics");
        Ok((
            view,
            AbortOnDrop(Some(tokio::spawn(crate::metrics::serve(listener, body)))),
        ))
    }

    /// Lets the requests in flight finish within the stop grace, abandons
    /// (and records) the rest, and flushes the store.
    async fn stop(&mut self) -> anyhow::Result<()> {
        let grace = self.shared.config.daemon.stop_grace;
        let in_flight = self.tasks.len();
        tracing::info!(in_flight, "stopping: finishing the requests in flight");
        self.notifier.stopping(&format!(
            "stopping: finishing {in_flight} requests in flight (at most {})",
            humantime::format_duration(grace)
        ));
        let finished = tokio::time::timeout(grace, async {
            while let Some(joined) = self.tasks.join_next().await {
                self.task_done(joined);
            }
        })
        .await;
        if finished.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
            let shared = self.shared.clone();
            let now = shared.clock.now();
            let n = tokio::task::spawn_blocking(move || stop::record_abandoned(&shared, now)).await??;
            tracing::warn!("{n} requests did not finish within the stop grace; they are reconciled at the next start");
        }
        self.shared.store.flush().await?;
        self.shared.notices.close();
        Ok(())
    }

    /// What the daemon is doing, for systemd's STATUS= line.
    fn status_line(&self) -> String {
        let scheduled = self
            .shared
            .store
            .with_index(|ix| ix.count(State::Scheduled))
            .unwrap_or(0);
        format!(
            "running: {} accounts, {scheduled} deliveries scheduled, {} publishing",
            self.shared.config.accounts.len(),
            self.tasks.len()
        )
    }
}

impl Daemon {
    /// Answers one control request with the daemon's own store handle,
    /// between scheduler passes (so that it never races ingest or the
    /// scheduler; deliveries in flight are refused by the handlers). The
    /// handlers fsync, so they run on a blocking thread.
    async fn serve(&mut self, call: crate::control::server::Call, info: &crate::control::admin::DaemonInfo) {
        // A retraction waits for the platform: it runs beside the loop so
        // that a pause or a freeze sent meanwhile is not kept waiting. It
        // touches only published deliveries, which nothing else changes, or
        // half-published ones the scheduler leaves alone (held, rejected,
        // failed, or scheduled under a pause or freeze; not in flight).
        let beside = matches!(call.request, crate::control::Request::Retract { .. });
        let shared = self.shared.clone();
        let busy = self.busy.clone();
        let info = info.clone();
        let job = tokio::task::spawn_blocking(move || {
            let ctx = crate::control::admin::Context {
                config: &shared.config,
                store: &shared.store,
                audit: &shared.audit,
                now: shared.clock.now(),
                actor: call.actor,
                platforms: &shared.platforms,
                busy: &busy,
                daemon: Some(info),
            };
            let recheck = matches!(call.request, crate::control::Request::DisasterHold { .. });
            let response =
                tokio::runtime::Handle::current().block_on(crate::control::admin::handle(&ctx, call.request));
            // A disaster hold declared or lifted applies to the posts
            // already scheduled too, not only to files ingested later.
            if recheck && matches!(response, crate::control::Response::Ok { .. }) {
                if let Err(e) = reload::recheck(&shared, ctx.now) {
                    tracing::error!("re-checking deliveries after the disaster hold changed: {e}");
                }
            }
            let _ = call.reply.send(response);
        });
        if !beside {
            if let Err(e) = job.await {
                tracing::error!("a control request failed: {e}");
            }
        }
    }
}

/// How often the loop reads every queue folder even without events.
const FULL_SCAN_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// How many due deliveries of one account [`select_due`] reads per pass.
const DUE_PER_ACCOUNT: usize = 4;

/// What [`select_due`] chose: deliveries to publish now, the next instant
/// something else falls due, and how many deliveries changed state.
type Selection = (Vec<Delivery>, Option<DateTime<Utc>>, usize);

/// Picks the deliveries to publish now: per account, the earliest scheduled
/// delivery that is due, once it has passed the stale and pacing checks.
/// Returns them and the next instant something else falls due.
fn select_due(shared: &Shared, busy: &HashSet<String>, now: DateTime<Utc>) -> Result<Selection, StoreError> {
    // Pause and freeze (control helper): markers in the state folder.
    let stops = crate::control::stops::Stops::read(&shared.config.daemon.state_dir, shared.config.accounts.values());
    // From the index, earliest due first: the deliveries due now (one per
    // account that is free), and the first that falls due later. Only
    // those are read from the table.
    let (due_ids, mut next) = shared.store.with_index(|ix| {
        let mut ids: Vec<std::sync::Arc<str>> = Vec::new();
        // Up to a few due deliveries per account: the first may turn out
        // stale or paced, and the next one then goes in its place.
        let mut taken: HashMap<&str, usize> = HashMap::new();
        let mut next = None;
        // Accounts whose owner's attestation lapsed (issue 17): all their
        // scheduled deliveries are read, to be held, due or not.
        let gate = shared.config.alerts.attestation.is_some();
        let mut lapsed: HashMap<&str, bool> = HashMap::new();
        for h in ix.scheduled() {
            let Some(account) = shared.config.accounts.get(&*h.account) else {
                continue;
            };
            if stops.blocks_kind(h.kind, account) {
                continue;
            }
            if gate
                && *lapsed
                    .entry(&h.account)
                    .or_insert_with(|| alerts::lapsed(shared, account, now))
            {
                ids.push(h.id.clone());
                continue;
            }
            if busy.contains(&*h.account) {
                continue;
            }
            let n = taken.get(&*h.account).copied().unwrap_or(0);
            if n >= DUE_PER_ACCOUNT || (n > 0 && h.due > now) {
                continue;
            }
            if h.due > now {
                next.get_or_insert(h.due);
                if gate {
                    // Later ones may still belong to a lapsed account.
                    continue;
                }
                break;
            }
            *taken.entry(&h.account).or_default() += 1;
            ids.push(h.id.clone());
        }
        (ids, next)
    })?;
    let scheduled = shared.store.deliveries_by_id(due_ids.iter().map(|id| &**id))?;
    let mut chosen: Vec<Delivery> = Vec::new();
    let mut ended = Vec::new();
    let mut changed = 0;
    for mut d in scheduled {
        let Some(account) = shared.config.accounts.get(&d.account) else {
            continue;
        };
        if stops.blocks(&d, account) {
            continue;
        }
        // The yearly attestation gate (issue 17): a lapsed owner's posts are held.
        if alerts::hold_if_lapsed(shared, &mut d, account, now)? {
            changed += 1;
            continue;
        }
        if busy.contains(&d.account) || chosen.iter().any(|c| c.account == d.account) {
            continue;
        }
        if d.due > now {
            next = Some(next.map_or(d.due, |n| n.min(d.due)));
            continue;
        }
        let last = shared.store.account(&d.account)?.last_published;
        // Lateness counts from the post's own time (as the account's quiet
        // hours and pacing place it), not from `due`, which rate limits,
        // retries and re-authorization move on.
        let (origin, lateness) = lateness_of(&d, account, last);
        if is_stale(origin, now, lateness) {
            // Invariant 8: no stale bursts.
            let tz = account.time_zone;
            let why = format!(
                "it was meant to go out at {}, and herald could only get to it at {}, later than its max lateness ({}).",
                crate::schedule::human_in(origin, tz),
                crate::schedule::human_in(now, tz),
                humantime::format_duration(lateness)
            );
            if d.may_be_live() {
                // Part of it may stand on the platform: never expire it
                // silently; an admin finishes it (approve) or retracts it.
                d.transition(
                    State::Held,
                    Some(format!(
                        "too late to finish on its own: {why} {} An admin can approve it (herald approve {}) to finish it, or retract what stands (herald retract {}).",
                        live_parts(&d),
                        d.id,
                        d.id
                    )),
                    now,
                );
            } else if d.occurrence.is_some() || account.stale == StalePolicy::Expire {
                d.transition(State::Expired, Some(format!("too late: {why}")), now);
                if let Some(occurrence) = d.occurrence {
                    let published = shared.store.cursor(&d.account, &d.file)?.map_or(0, |c| c.published);
                    shared.store.put_cursor(
                        &d.account,
                        &d.file,
                        &crate::store::Cursor {
                            v: 1,
                            last: occurrence,
                            published,
                            content_hash: d.content_hash.clone(),
                        },
                    )?;
                }
                ended.push(d.clone());
            } else {
                d.transition(
                    State::Held,
                    Some(format!(
                        "too late to publish on its own: {why} An admin can still approve it."
                    )),
                    now,
                );
            }
            tracing::warn!(account = %d.account, delivery = %d.id, state = d.state.name(), "stale: {why}");
            shared.audit.note(
                now,
                crate::audit::Event::new("stale")
                    .account(&d.account)
                    .delivery(&d.id)
                    .detail(serde_json::json!({"state": d.state.name(), "due": d.due.to_rfc3339(), "meant_for": origin.to_rfc3339()})),
            );
            shared.store.put_delivery(&d)?;
            changed += 1;
            continue;
        }
        if d.kind != crate::queue::Kind::Emergency {
            let allowed = out_of_quiet_hours(
                paced(d.due, last, account.min_interval),
                account.quiet_hours.as_ref(),
                account.time_zone,
            );
            if allowed > now {
                d.due = allowed;
                shared.store.put_delivery(&d)?;
                next = Some(next.map_or(allowed, |n| n.min(allowed)));
                continue;
            }
        }
        // X's price (issue 17): a post over the month's budget is held.
        if alerts::hold_if_over_budget(shared, &mut d, account, now)? {
            changed += 1;
            continue;
        }
        chosen.push(d);
    }
    if changed > 0 {
        // What replaces them may be due already: come round again at once.
        next = Some(now);
    }
    shared.store.flush_blocking()?;
    for d in &ended {
        if let Some(account) = shared.config.accounts.get(&d.account) {
            ingest::finish(account, d);
        }
    }
    Ok((chosen, next, changed))
}

/// What of a delivery may stand on its platform, in words, for reasons and notes.
pub(crate) fn live_parts(d: &Delivery) -> String {
    let mut out = String::new();
    if !d.parts_done.is_empty() {
        out.push_str(&format!(
            "{} of its {} parts already stand on the platform ({}).",
            d.parts_done.len(),
            d.text.len(),
            d.parts_done.join(", ")
        ));
    }
    if d.unsure_since.is_some() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("Its last attempt may or may not have gone through.");
    }
    out
}

/// Runs the daemon until `shutdown` resolves (no systemd notifications,
/// no reloads: `herald run` wires those).
pub async fn run(config: Config, clock: Arc<dyn Clock>, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    Daemon::open(config, clock)?.run(shutdown).await
}
