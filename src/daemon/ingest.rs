//! Ingest: the queue folders → parsed posts → guideline checks → deliveries.
//!
//! Runs on a blocking thread (it reads files and fsyncs), once per scheduler
//! wake-up. It is idempotent: the delivery ids derive from the account, the
//! file and its content (or occurrence), so running it twice, or after a
//! crash, finds the same deliveries instead of making new ones.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use super::notes;
use super::Shared;
use crate::config::Account;
use crate::control::stops::Stops;
use crate::guidelines::{Draft, Report, Verdict};
use crate::queue::{self, Candidate, Outcome, Post, PostError};
use crate::schedule::{is_stale, out_of_quiet_hours, rfc3339_in, When};
use crate::store::{content_hash, delivery_id, Cursor, Delivery, Head, MediaRef, State, StoreError};

/// A file as last read, so unchanged files are not parsed again.
pub(crate) struct Cached {
    modified: SystemTime,
    size: u64,
    hash: String,
    parsed: Result<Post, PostError>,
    /// The note last written for it: its delivery's last change and the
    /// stops in force then. While both stay the same, the note is too, and
    /// a pass neither reads the delivery nor the note again.
    noted: Option<(DateTime<Utc>, u64)>,
}

/// What ingest keeps between passes.
#[derive(Default)]
pub(crate) struct Cache {
    /// Files as last read, by path.
    pub(crate) files: HashMap<PathBuf, Cached>,
    /// Files dated in the future, watched until they stop changing.
    skewed: queue::Skewed,
}

/// Which folders a pass reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Scope {
    /// None: only the scheduler runs (a publication finished, a due instant).
    #[default]
    Nothing,
    /// The account folders something happened in (watcher events).
    Folders(HashSet<PathBuf>),
    /// Every account folder (start, a settle wake, a lost watcher event,
    /// a reload, a control request, and now and then for good measure).
    All,
}

impl Scope {
    /// Both scopes together.
    pub(crate) fn and(self, other: Scope) -> Scope {
        match (self, other) {
            (Scope::All, _) | (_, Scope::All) => Scope::All,
            (Scope::Nothing, s) | (s, Scope::Nothing) => s,
            (Scope::Folders(mut a), Scope::Folders(b)) => {
                a.extend(b);
                Scope::Folders(a)
            }
        }
    }

    fn covers(&self, folder: &Path) -> bool {
        match self {
            Scope::Nothing => false,
            Scope::Folders(f) => f.contains(folder),
            Scope::All => true,
        }
    }
}

/// What an ingest pass saw.
#[derive(Debug, Default)]
pub(crate) struct Ingested {
    /// When the first file still being written will be settled.
    pub wake: Option<SystemTime>,
    /// Whether any file is still being written.
    pub unsettled: bool,
}

pub(crate) fn ingest(
    shared: &Shared,
    cache: &mut Cache,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Ingested, StoreError> {
    let mut result = Ingested::default();
    if *scope == Scope::Nothing {
        return Ok(result);
    }
    // Pause and freeze, read once per pass: the owners' notes say when they keep a post back.
    let stops = Stops::read(&shared.config.daemon.state_dir, shared.config.accounts.values());
    let batch = std::cell::RefCell::new(Batch::default());
    let mut pass = Pass {
        stops: &stops,
        batch: &batch,
        disaster_holds: crate::control::stops::DisasterHolds::read(&shared.config.daemon.state_dir),
        stops_stamp: stamp_of(&stops),
        now,
    };
    let mut present_paths = HashSet::new();
    let mut scanned = HashSet::new();
    for account in shared.config.accounts.values().filter(|a| scope.covers(&a.folder)) {
        scanned.insert(account.folder.as_path());
        let scan = match queue::scan(
            &account.folder,
            shared.config.daemon.settle,
            SystemTime::now(),
            &mut cache.skewed,
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(account = %account.id, folder = %account.folder.display(), "cannot read the queue folder: {e}");
                continue;
            }
        };
        if let Some(w) = scan.wake {
            result.wake = Some(result.wake.map_or(w, |r: SystemTime| r.min(w)));
            result.unsettled = true;
        }
        let mut present: HashSet<String> = scan.unsettled.iter().cloned().collect();
        for c in &scan.ready {
            present.insert(c.name.clone());
            present_paths.insert(c.path.clone());
            let cached = read_cached(shared, cache, account, c);
            if let Err(e) = handle_file(shared, account, c, cached, &mut pass) {
                tracing::error!(account = %account.id, file = %c.name, "cannot record the post: {e}");
            }
            if batch.borrow().notes.len() >= COMMIT_EVERY {
                Batch::commit(&batch, shared, now)?;
            }
        }
        // Files that disappeared before publication: the owner cancelled them.
        let gone: Vec<std::sync::Arc<str>> = shared.store.with_index(|ix| {
            ix.of_account(&account.id)
                .filter(|h| matches!(h.state, State::Scheduled | State::Held | State::Failed))
                .filter(|h| !present.contains(&*h.file))
                .map(|h| h.id.clone())
                .collect()
        })?;
        for mut d in shared.store.deliveries_by_id(gone.iter().map(|id| &**id))? {
            let mut why = "the file was deleted from the queue folder before it was published".to_string();
            if d.may_be_live() {
                // The owner called it off half-way: what stands stays on
                // record, and an admin can take it down (herald retract).
                why = format!(
                    "{why} in full. {} An admin can delete what stands: herald retract {}.",
                    super::live_parts(&d),
                    d.id
                );
                tracing::warn!(account = %account.id, delivery = %d.id, "the file was deleted with parts of it published: {why}");
            }
            d.transition(State::Cancelled, Some(why), now);
            shared.store.put_delivery(&d)?;
            let _ = queue::remove_note(&account.folder.join(&d.file));
            tracing::info!(account = %account.id, delivery = %d.id, file = %d.file, "cancelled: the file was deleted");
        }
    }
    cache
        .files
        .retain(|path, _| present_paths.contains(path) || !path.parent().is_some_and(|p| scanned.contains(p)));
    // What is left of the batch, and the cancellations.
    Batch::commit(&batch, shared, now)?;
    Ok(result)
}

/// A fingerprint of the stops in force, which owners' notes mention.
fn stamp_of(stops: &Stops) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{stops:?}").hash(&mut h);
    h.finish()
}

/// At most this many new deliveries wait for a commit: their owners' notes
/// follow soon, however many files a folder holds.
const COMMIT_EVERY: usize = 256;

fn read_cached<'c>(shared: &Shared, cache: &'c mut Cache, account: &Account, c: &Candidate) -> &'c mut Cached {
    let cache = &mut cache.files;
    let fresh = cache
        .get(&c.path)
        .is_some_and(|k| k.modified == c.modified && k.size == c.size);
    if !fresh {
        // Read once: the same bytes give the content hash and the post.
        let (hash, parsed) = match queue::post::read_bytes(&c.path, shared.config.daemon.max_file_bytes) {
            Ok(bytes) => {
                let format = queue::Format::of(&c.path).expect("scan lists only post file names");
                let parsed = queue::post::parse(&bytes, format, &account.folder, account.time_zone);
                (content_hash(&bytes), parsed)
            }
            // Unread (too large, unreadable): identified by size and time.
            Err(e) => (
                content_hash(format!("unread {} {:?}", c.size, c.modified).as_bytes()),
                Err(e),
            ),
        };
        cache.insert(
            c.path.clone(),
            Cached {
                modified: c.modified,
                size: c.size,
                hash,
                parsed,
                noted: None,
            },
        );
    }
    cache.get_mut(&c.path).expect("just cached")
}

/// What a pass has recorded but not yet made durable: it commits them
/// together (group commit) at the end of the pass, every
/// [`COMMIT_EVERY`] new deliveries, and before any file moves.
#[derive(Default)]
struct Batch {
    /// Audit events of the deliveries recorded.
    events: Vec<crate::audit::Event>,
    /// Owners' notes to write once the deliveries are durable.
    notes: Vec<(PathBuf, String)>,
}

impl Batch {
    /// One store flush, one audit append and one sync per folder for all
    /// that was recorded since the last commit.
    fn commit(cell: &std::cell::RefCell<Batch>, shared: &Shared, now: DateTime<Utc>) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut *cell.borrow_mut());
        shared.store.flush_blocking()?;
        if !batch.events.is_empty() {
            shared.audit.note_all(now, batch.events);
        }
        if let Err(e) = queue::write_notes(&batch.notes) {
            tracing::warn!("cannot write an owner's note: {e}");
        }
        Ok(())
    }
}

/// What one ingest pass knows while it handles its files. (Posts accepted
/// earlier in the pass are in the store's index as soon as they are
/// recorded, so two files with the same text dropped together are caught
/// as duplicates.)
struct Pass<'a> {
    /// The pause and freeze in force.
    stops: &'a Stops,
    /// What waits for the next commit.
    batch: &'a std::cell::RefCell<Batch>,
    /// The disaster holds declared, company-wide or per account (read once per pass).
    disaster_holds: crate::control::stops::DisasterHolds,
    /// A fingerprint of `stops` (see [`Cached::noted`]).
    stops_stamp: u64,
    now: DateTime<Utc>,
}

fn handle_file(
    shared: &Shared,
    account: &Account,
    c: &Candidate,
    cached: &mut Cached,
    pass: &mut Pass<'_>,
) -> Result<(), StoreError> {
    let (stops, now) = (pass.stops, pass.now);
    let file = FileInPass {
        batch: pass.batch,
        shared,
        account,
        c,
        hash: &cached.hash,
        stops,
        now,
    };
    let post = match &cached.parsed {
        Ok(post) => post,
        Err(e) => {
            let reason = format!("herald cannot read {}: {e}", c.name);
            return file.reject(None, reason, vec![]);
        }
    };
    // A one-shot file already recorded was checked when it was; its
    // delivery says what happens next (reload re-checks on rule changes).
    if !post.when.is_recurring() {
        let id = delivery_id(&account.id, &c.name, &cached.hash);
        let changed = shared.store.with_index(|ix| ix.get(&id).map(|h| h.updated_at))?;
        let stamp = changed.map(|at| (at, pass.stops_stamp));
        if stamp.is_some() && cached.noted == stamp {
            return Ok(());
        }
        if file.note_existing_one_shot()? {
            cached.noted = stamp;
            return Ok(());
        }
    }
    // What the platform would refuse in the media: rejected now, with the
    // owner's note, before any upload (X answers only after the uploads).
    let file_text = std::fs::read_to_string(&c.path).unwrap_or_default();
    let media: Vec<_> = crate::platform::media_findings(account.platform, post, &file_text)
        .into_iter()
        .filter(|f| f.severity == crate::config::Severity::Block)
        .collect();
    if !media.is_empty() {
        let what: Vec<String> = media
            .iter()
            .map(|f| format!("part {}, line {}: {}", f.part + 1, f.line, f.message))
            .collect();
        let reason = format!(
            "{} would refuse the post's media: {}.",
            account.platform.display_name(),
            what.join("; ")
        );
        return file.reject(Some(post), reason, media);
    }
    let (report, _) = check_post(shared, account, &c.name, post, pass, None)?;
    if report.verdict == Verdict::Block {
        let rules: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity == crate::config::Severity::Block)
            .map(|f| f.rule.as_str())
            .collect();
        let reason = format!(
            "the post breaks the company's social-media guidelines ({}).",
            rules.join(", ")
        );
        return file.reject(Some(post), reason, report.findings);
    }
    if post.when.is_recurring() {
        // Each occurrence is checked at its own instant (a sensitive date, a
        // quiet period), against the posts known when the pass began.
        let check_at = |t: DateTime<Utc>| check_post(shared, account, &c.name, post, pass, Some(t)).map(|r| r.0);
        file.plan_recurring(post, &check_at)
    } else {
        file.plan_one_shot(post, report)
    }
}

/// Checks a post against the account's guidelines, as of `at` (an
/// occurrence of a recurring post) or the post's own time. Returns the
/// report and the instant it was judged at.
fn check_post(
    shared: &Shared,
    account: &Account,
    file: &str,
    post: &Post,
    pass: &Pass<'_>,
    at: Option<DateTime<Utc>>,
) -> Result<(Report, DateTime<Utc>), StoreError> {
    let now = pass.now;
    let metric = shared.metrics[&account.id].as_ref();
    let guidelines = &shared.guidelines[&account.id];
    let mut draft = Draft::of(post, now, metric);
    if at.is_some() {
        draft.at = at;
    }
    let when = draft.when();
    // The duplicate rule compares with the account's other recent posts.
    let recent = match guidelines.duplicate_window() {
        Some(window) => shared
            .store
            .with_index(|ix| recent_texts(ix.recent(&account.id, when, window), &account.id, file, when, window))?,
        None => Vec::new(),
    };
    draft.recent = &recent;
    // A declared disaster hold keeps promotional posts back (the rule reads it).
    draft.disaster_hold = pass.disaster_holds.applies(&account.id);
    let started = std::time::Instant::now();
    let report = guidelines.check(&draft);
    shared.telemetry.observe_check(started.elapsed());
    Ok((report, when))
}

/// The texts of the account's other posts (not this file's: a recurring
/// post repeats itself by design) published or due within `window` of
/// `around`, for the duplicate rule. Posts that never went out (rejected,
/// cancelled, expired) do not count.
pub(super) fn recent_texts<'a>(
    all: impl IntoIterator<Item = &'a Head>,
    account: &str,
    file: &str,
    around: DateTime<Utc>,
    window: chrono::Duration,
) -> Vec<String> {
    all.into_iter()
        .filter(|d| &*d.account == account && &*d.file != file)
        .filter(|d| d.counts_as_recent())
        .filter(|d| (d.when - around).abs() <= window)
        .flat_map(|d| d.texts.iter().flat_map(|t| t.iter().cloned()))
        .collect()
}

/// One settled post file, as an ingest pass handles it.
#[derive(Clone, Copy)]
struct FileInPass<'a> {
    shared: &'a Shared,
    account: &'a Account,
    c: &'a Candidate,
    /// The file's content hash.
    hash: &'a str,
    /// What waits for the pass's next commit.
    batch: &'a std::cell::RefCell<Batch>,
    /// The pause and freeze in force.
    stops: &'a Stops,
    now: DateTime<Utc>,
}

impl FileInPass<'_> {
    /// A new delivery record for this file.
    fn new_delivery(
        &self,
        post: Option<&Post>,
        id: String,
        occurrence: Option<DateTime<Utc>>,
        scheduled_for: DateTime<Utc>,
    ) -> Delivery {
        let FileInPass {
            account, c, hash, now, ..
        } = *self;
        Delivery {
            v: 1,
            id,
            account: account.id.clone(),
            file: c.name.clone(),
            content_hash: hash.to_string(),
            occurrence,
            kind: post.map_or(crate::queue::Kind::News, |p| p.kind),
            max_lateness_secs: post.and_then(|p| p.max_lateness).map(|d| d.as_secs()),
            text: post
                .map(|p| p.parts.iter().map(|x| x.text.clone()).collect())
                .unwrap_or_default(),
            media: post
                .map(|p| {
                    p.parts
                        .iter()
                        .map(|x| {
                            x.media
                                .iter()
                                .map(|m| MediaRef {
                                    path: m.relative.clone(),
                                    alt: m.alt.clone(),
                                })
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default(),
            verdict: Verdict::Pass,
            findings: vec![],
            scheduled_for,
            due: scheduled_for,
            state: State::Scheduled,
            reason: None,
            attempts: vec![],
            published: None,
            parts_done: Vec::new(),
            unsure_since: None,
            released_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The rules with findings, for the log's `rule` field (`RULE=` in the journal).
pub(crate) fn rule_ids(findings: &[crate::guidelines::Finding]) -> Option<String> {
    let mut ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    ids.dedup();
    (!ids.is_empty()).then(|| ids.join(","))
}

/// How the reason of a delivery held by a guideline check begins (a reload
/// lifts such holds when the new rules no longer ask for a review).
pub(crate) const GUIDELINE_HOLD_PREFIX: &str = "a guideline check asks for a review";

pub(crate) fn held_reason(report: &Report) -> String {
    let rules: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == crate::config::Severity::Hold)
        .map(|f| format!("{} (\"{}\")", f.rule, f.matched))
        .collect();
    format!("{GUIDELINE_HOLD_PREFIX} before publication: {}.", rules.join(", "))
}

impl FileInPass<'_> {
    /// Records the file as rejected and moves it to `rejected/`.
    fn reject(
        &self,
        post: Option<&Post>,
        reason: String,
        findings: Vec<crate::guidelines::Finding>,
    ) -> Result<(), StoreError> {
        let FileInPass {
            shared,
            account,
            c,
            hash,
            now,
            ..
        } = *self;
        let id = delivery_id(&account.id, &c.name, hash);
        let d = match shared.store.delivery(&id)? {
            Some(d) => d,
            None => {
                let mut d = self.new_delivery(post, id, None, now);
                d.verdict = if findings.is_empty() {
                    Verdict::Block
                } else {
                    Verdict::Block.max(d.verdict)
                };
                d.findings = findings;
                d.transition(State::Rejected, Some(reason), now);
                shared.store.put_delivery(&d)?;
                self.audit_ingest(&d);
                d
            }
        };
        // The result is durable before the file moves.
        self.commit()?;
        finish_file(account, &c.path, &d);
        Ok(())
    }
}

/// Moves a file whose delivery has ended to its outcome folder.
fn finish_file(account: &Account, path: &Path, d: &Delivery) {
    let hint = format!("{}/", account.folder.display());
    let (outcome, note) = match d.state {
        State::Published | State::Retracted => (Outcome::Published, notes::published(account, d)),
        State::Rejected => (Outcome::Rejected, notes::rejected(account, d, &hint)),
        State::Cancelled => (Outcome::Cancelled, notes::ended(account, d)),
        State::Expired => (Outcome::Expired, notes::ended(account, d)),
        _ => return,
    };
    let rules = rule_ids(&d.findings);
    match queue::move_to_outcome(path, outcome, &note) {
        Ok(to) => {
            tracing::info!(account = %account.id, delivery = %d.id, rule = rules.as_deref(), "{} → {}", d.file, to.display())
        }
        Err(e) => {
            tracing::error!(account = %account.id, file = %d.file, "cannot move the file to {}/: {e}", outcome.folder())
        }
    }
}

/// Cancels the pending deliveries of a file that was edited.
impl FileInPass<'_> {
    /// A pending delivery of an earlier version of this file of which
    /// something may already be published. The edit must not replace it:
    /// the new version would publish again what stands. Herald finishes the
    /// version it started and says so in the owner's note.
    fn started_version(&self) -> Result<Option<Delivery>, StoreError> {
        let FileInPass {
            shared,
            account,
            c,
            hash,
            ..
        } = *self;
        let id = shared.store.with_index(|ix| {
            ix.of_file(&account.id, &c.name)
                .find(|d| {
                    d.content_hash != hash
                        && matches!(d.state, State::Scheduled | State::Held | State::Failed)
                        && d.may_be_live
                })
                .map(|d| d.id.clone())
        })?;
        Ok(match id {
            Some(id) => shared.store.delivery(&id)?,
            None => None,
        })
    }

    /// This file's deliveries of another content than `keep_hash` still to
    /// be published.
    fn other_versions(&self, keep_hash: &str) -> Result<Vec<Delivery>, StoreError> {
        let FileInPass { shared, account, c, .. } = *self;
        let ids: Vec<std::sync::Arc<str>> = shared.store.with_index(|ix| {
            ix.of_file(&account.id, &c.name)
                .filter(|d| {
                    d.content_hash != keep_hash && matches!(d.state, State::Scheduled | State::Held | State::Failed)
                })
                .map(|d| d.id.clone())
                .collect()
        })?;
        shared.store.deliveries_by_id(ids.iter().map(|id| &**id))
    }

    /// Keeps the started version (see [`FileInPass::started_version`]) and
    /// tells the owner; true when there is one.
    fn keep_started_version(&self) -> Result<bool, StoreError> {
        let Some(d) = self.started_version()? else {
            return Ok(false);
        };
        let d = &d;
        let FileInPass { account, c, .. } = *self;
        tracing::warn!(account = %account.id, delivery = %d.id, file = %c.name, "the file was edited after part of it was published; herald finishes the version it started");
        let note = format!(
            "EDIT NOT USED: this post was edited after herald had begun to publish it. {} Herald finishes the version it started (delivery {}), so that nothing is published twice; your edit is not published. To replace what stands, ask an admin to retract it (herald retract {}) and drop the new version again.\n\n{}",
            super::live_parts(d),
            d.id,
            d.id,
            notes::pending(account, d, None, self.stops)
        );
        let _ = queue::write_note(&c.path, &note);
        Ok(true)
    }

    fn cancel_superseded(&self) -> Result<(), StoreError> {
        let FileInPass {
            shared,
            account,
            hash: keep_hash,
            now,
            ..
        } = *self;
        for mut d in self.other_versions(keep_hash)? {
            d.transition(
                State::Cancelled,
                Some("the file was edited; the new version replaces this one".into()),
                now,
            );
            shared.store.put_delivery(&d)?;
            tracing::info!(account = %account.id, delivery = %d.id, file = %d.file, "replaced by an edited version");
        }
        Ok(())
    }

    /// For a one-shot file already recorded: refreshes its note while it
    /// is pending, or moves it if its delivery ended while it stayed here
    /// (herald stopped before the move). False for a file not yet recorded.
    fn note_existing_one_shot(&self) -> Result<bool, StoreError> {
        let FileInPass {
            shared,
            account,
            c,
            hash,
            ..
        } = *self;
        let Some(d) = shared.store.delivery(&delivery_id(&account.id, &c.name, hash))? else {
            return Ok(false);
        };
        if d.state.is_pending() || d.state == State::Failed {
            let _ = queue::write_note(&c.path, &notes::pending(account, &d, None, self.stops));
        } else {
            finish_file(account, &c.path, &d);
        }
        Ok(true)
    }

    /// Plans a one-shot file not yet recorded.
    fn plan_one_shot(&self, post: &Post, report: Report) -> Result<(), StoreError> {
        let FileInPass {
            account, c, hash, now, ..
        } = *self;
        let id = delivery_id(&account.id, &c.name, hash);
        if self.keep_started_version()? {
            return Ok(());
        }
        self.cancel_superseded()?;
        let scheduled_for = match post.when {
            When::At(t) => t,
            _ => now,
        };
        self.schedule(post, report, id, None, scheduled_for, None)
    }

    /// Records a new delivery of the post at `at` (moved out of quiet
    /// hours unless it is an emergency), held if the checks ask for a
    /// review, and writes the owner's note.
    fn schedule(
        &self,
        post: &Post,
        report: Report,
        id: String,
        occurrence: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        recurring: Option<&str>,
    ) -> Result<(), StoreError> {
        let FileInPass {
            shared,
            account,
            c,
            now,
            ..
        } = *self;
        let mut d = self.new_delivery(Some(post), id, occurrence, at);
        if post.kind != crate::queue::Kind::Emergency {
            d.due = out_of_quiet_hours(at, account.quiet_hours.as_ref(), account.time_zone);
        }
        d.verdict = report.verdict;
        if report.verdict == Verdict::Hold {
            d.transition(State::Held, Some(held_reason(&report)), now);
        }
        d.findings = report.findings;
        // Durable, audited and noted with the pass's next commit.
        shared.store.put_delivery(&d)?;
        self.audit_ingest(&d);
        let rules = rule_ids(&d.findings);
        tracing::info!(account = %account.id, delivery = %d.id, file = %c.name, state = d.state.name(), rule = rules.as_deref(), due = %rfc3339_in(d.due, account.time_zone), "planned");
        self.batch
            .borrow_mut()
            .notes
            .push((c.path.clone(), notes::pending(account, &d, recurring, self.stops)));
        Ok(())
    }

    fn plan_recurring(
        &self,
        post: &Post,
        check_at: &dyn Fn(DateTime<Utc>) -> Result<Report, StoreError>,
    ) -> Result<(), StoreError> {
        let FileInPass {
            shared,
            account,
            c,
            hash,
            now,
            ..
        } = *self;
        let When::Cron { spec, count, .. } = &post.when else {
            return Ok(());
        };
        let tz = account.time_zone;
        let spec_text = spec.as_str().to_string();
        let pending = shared.store.with_index(|ix| {
            ix.of_file(&account.id, &c.name)
                .find(|d| d.content_hash == hash && d.state.is_pending())
                .map(|d| d.id.clone())
        })?;
        if let Some(d) = pending.map(|id| shared.store.delivery(&id)).transpose()?.flatten() {
            let _ = queue::write_note(&c.path, &notes::pending(account, &d, Some(&spec_text), self.stops));
            return Ok(());
        }
        if self.keep_started_version()? {
            return Ok(());
        }
        self.cancel_superseded()?;

        let mut cursor = shared.store.cursor(&account.id, &c.name)?;
        let published = cursor.as_ref().map_or(0, |k| k.published);
        let lateness = post.max_lateness.unwrap_or(account.max_lateness);
        // Without a cursor (a new file, or a lost store) the schedule starts
        // now: herald never backfills missed occurrences (invariant 2).
        let mut after = cursor.as_ref().map_or(now, |k| k.last);
        let mut next = post.when.next_occurrence(after, tz);
        for _ in 0..1000 {
            let Some(t) = next else { break };
            if count.is_some_and(|n| published >= n) {
                next = None;
                break;
            }
            let id = delivery_id(&account.id, &c.name, &t.to_rfc3339());
            match shared.store.delivery(&id)? {
                // Already decided (the cursor write was lost): move past it.
                Some(existing) if !existing.state.is_pending() => {
                    after = t;
                    next = post.when.next_occurrence(after, tz);
                    continue;
                }
                Some(existing) => {
                    let _ = queue::write_note(
                        &c.path,
                        &notes::pending(account, &existing, Some(&spec_text), self.stops),
                    );
                    return Ok(());
                }
                None => {}
            }
            if is_stale(t, now, lateness) {
                // Missed while herald was not running: skip to the first
                // occurrence that is still on time, and record the gap once.
                let resume = post
                    .when
                    .next_occurrence(now - chrono::TimeDelta::from_std(lateness).unwrap_or_default(), tz);
                let mut skipped = self.new_delivery(
                    Some(post),
                    delivery_id(&account.id, &c.name, &format!("skipped@{}", t.to_rfc3339())),
                    Some(t),
                    t,
                );
                skipped.transition(
                State::Expired,
                Some(format!(
                    "herald was not running at {} and later occurrences until {}; missed occurrences are skipped, never published late.",
                    crate::schedule::human_in(t, tz),
                    crate::schedule::human_in(now, tz)
                )),
                now,
            );
                shared.store.put_delivery(&skipped)?;
                tracing::warn!(account = %account.id, file = %c.name, "skipped occurrences missed since {}", rfc3339_in(t, tz));
                let last = now - chrono::TimeDelta::from_std(lateness).unwrap_or_default();
                cursor = Some(Cursor {
                    v: 1,
                    last,
                    published,
                    content_hash: hash.to_string(),
                });
                shared
                    .store
                    .put_cursor(&account.id, &c.name, cursor.as_ref().expect("just set"))?;
                next = resume;
                continue;
            }
            let occurrence_report = check_at(t)?;
            if occurrence_report.verdict == Verdict::Block {
                // This occurrence must not go out (a quiet period, an
                // embargo still on): it is recorded as rejected and the
                // series goes on with the next one.
                let mut d = self.new_delivery(Some(post), id, Some(t), t);
                let rules = rule_ids(&occurrence_report.findings).unwrap_or_default();
                d.verdict = occurrence_report.verdict;
                d.findings = occurrence_report.findings;
                d.transition(
                    State::Rejected,
                    Some(format!(
                        "the occurrence at {} breaks the company's social-media guidelines ({rules}); it is skipped and the next one is planned.",
                        crate::schedule::human_in(t, tz)
                    )),
                    now,
                );
                shared.store.put_delivery(&d)?;
                self.audit_ingest(&d);
                tracing::warn!(account = %account.id, delivery = %d.id, file = %c.name, rule = %rules, "occurrence at {} rejected by the guidelines", rfc3339_in(t, tz));
                after = t;
                next = post.when.next_occurrence(after, tz);
                continue;
            }
            return self.schedule(post, occurrence_report, id, Some(t), t, Some(&spec_text));
        }
        // No occurrence left (until passed or count reached): the post is done.
        if next.is_some() {
            // Too many already-decided occurrences in a row; continue next pass.
            return Ok(());
        }
        let mut d = self.new_delivery(Some(post), delivery_id(&account.id, &c.name, "finished"), None, now);
        d.transition(
            State::Expired,
            Some(format!(
                "the recurring post has no occurrences left (published {published} times)."
            )),
            now,
        );
        shared.store.put_delivery(&d)?;
        self.commit()?;
        let note = format!(
        "FINISHED: this recurring post (cron \"{spec_text}\") has no occurrences left; it was published {published} times.\n"
    );
        match queue::move_to_outcome(&c.path, Outcome::Published, &note) {
            Ok(to) => {
                tracing::info!(account = %account.id, file = %c.name, "recurring post finished → {}", to.display())
            }
            Err(e) => tracing::error!(account = %account.id, file = %c.name, "cannot move the finished post: {e}"),
        }
        Ok(())
    }
}

/// The audit trail of a new delivery: the file read, the checks' verdict,
/// and when it is planned (or why not). Text as a hash, never the text.
fn ingest_events(d: &Delivery) -> Vec<crate::audit::Event> {
    use crate::audit::Event;
    use serde_json::json;
    let event = |name| Event::new(name).account(&d.account).delivery(&d.id);
    let rules: Vec<&str> = d.findings.iter().map(|f| f.rule.as_str()).collect();
    vec![
            event("ingest").detail(json!({"file": d.file, "content_hash": d.content_hash, "text_hash": crate::audit::text_hash(&d.text), "kind": d.kind.name()})),
            event("verdict").detail(json!({"verdict": d.verdict.name(), "rules": rules})),
            event("schedule").detail(json!({"state": d.state.name(), "due": d.due.to_rfc3339(), "reason": d.reason})),
    ]
}

impl FileInPass<'_> {
    /// Audits a delivery just recorded, with the pass's next commit.
    fn audit_ingest(&self, d: &Delivery) {
        self.batch.borrow_mut().events.extend(ingest_events(d));
    }

    /// Makes everything recorded so far durable (before a file moves).
    fn commit(&self) -> Result<(), StoreError> {
        Batch::commit(self.batch, self.shared, self.now)
    }
}

/// Ends the delivery of a file whose delivery state ended outside ingest
/// (stale, platform refusal): the daemon calls it to move the file.
pub(crate) fn finish(account: &Account, d: &Delivery) {
    let path = account.folder.join(&d.file);
    if path.exists() && d.occurrence.is_none() {
        finish_file(account, &path, d);
    }
}
