//! The audit log: one JSON line per event in `<state>/audit.jsonl`, append
//! only, each line carrying the SHA-256 of the line before it, so that an
//! edited, inserted or removed line breaks the chain and `herald audit
//! --verify` says where.
//!
//! It records who did what and when (ingest, verdict, schedule, attempt,
//! publish, retraction, pause, freeze, approval, config reload), with post
//! text as a hash and publications as links. It never holds a token or a
//! post's text.
//!
//! What the chain cannot show on its own: lines cut off the end of the file
//! (the shorter file is still a valid chain). Archive the head hash that
//! `--verify` prints, and compare it later, to cover that.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who caused an event: a person at the command line (by uid), or the daemon itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Actor {
    Person { uid: u32, name: String },
    Daemon(DaemonActor),
}

/// Serialises as the string `"daemon"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonActor {
    Daemon,
}

impl Actor {
    pub fn daemon() -> Actor {
        Actor::Daemon(DaemonActor::Daemon)
    }

    /// A person by uid, named from the user database when possible.
    pub fn person(uid: u32) -> Actor {
        Actor::Person {
            uid,
            name: user_name(uid).unwrap_or_else(|| format!("uid {uid}")),
        }
    }

    /// The user running this process.
    pub fn current_user() -> Actor {
        Actor::person(current_uid())
    }

    pub fn uid(&self) -> Option<u32> {
        match self {
            Actor::Person { uid, .. } => Some(*uid),
            Actor::Daemon(_) => None,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Person { uid, name } => write!(f, "{name} (uid {uid})"),
            Actor::Daemon(_) => f.write_str("the daemon"),
        }
    }
}

/// The effective uid of this process (the owner of `/proc/self`), without unsafe code.
pub fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX)
}

/// A user's name from `/etc/passwd`. Users known only to NSS (LDAP, sssd)
/// are shown by uid.
pub fn user_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// A group's name from `/etc/group`.
pub fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == gid).then(|| name.to_string())
    })
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1 for the first line, one more for each next line.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// `ingest`, `verdict`, `schedule`, `attempt`, `publish`, `retraction`,
    /// `pause`, `resume`, `freeze`, `thaw`, `approval`, `rejection`,
    /// `cancellation`, `retry`, `disaster-hold`, `config-reload`…
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// What else there is to say: reasons, verdicts, text hashes, links.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
    /// The SHA-256 (hex) of the previous line's bytes, [`GENESIS`] for the first.
    pub prev: String,
}

/// An event to record; [`Audit::record`] adds the sequence and the chain.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: &'static str,
    pub account: Option<String>,
    pub delivery: Option<String>,
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(event: &'static str) -> Event {
        Event {
            event,
            account: None,
            delivery: None,
            detail: serde_json::Value::Null,
        }
    }

    pub fn account(mut self, account: &str) -> Event {
        self.account = Some(account.to_string());
        self
    }

    pub fn delivery(mut self, delivery: &str) -> Event {
        self.delivery = Some(delivery.to_string());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Event {
        self.detail = detail;
        self
    }
}

/// The hash of post text as the log keeps it: never the text itself.
pub fn text_hash(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn line_hash(line: &str) -> String {
    hex::encode(Sha256::digest(line.as_bytes()))
}

/// The log's file.
pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join("audit.jsonl")
}

#[derive(Debug, Default)]
struct Head {
    loaded: bool,
    seq: u64,
    hash: String,
    /// The daemon's events that could not be written yet, oldest first:
    /// written before anything else once the log can be written again, so
    /// the chain has no gap while the process lives.
    backlog: Vec<(DateTime<Utc>, Actor, Event)>,
    /// Why the last write failed, while the backlog is not empty.
    failure: Option<String>,
}

/// How many unwritten events the daemon keeps at most (about 1 KB each);
/// past it, the oldest are dropped and an `audit-gap` event says how many.
const MAX_BACKLOG: usize = 100_000;

/// Called with each line once it is durable (the daemon's notifications
/// listen here: every event worth telling an owner is audited first).
pub type Observer = Arc<dyn Fn(&Entry) + Send + Sync>;

#[derive(Default)]
struct Observers(Option<Observer>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observers(1)"
        } else {
            "Observers(0)"
        })
    }
}

/// An appender to the log. Cheap to clone; clones share the chain's head,
/// so that the daemon's tasks append one after the other.
#[derive(Debug, Clone)]
pub struct Audit {
    path: PathBuf,
    head: Arc<Mutex<Head>>,
    /// Shared by the clones, so that one set later reaches them all.
    observer: Arc<Mutex<Observers>>,
}

impl Audit {
    pub fn open(state_dir: &Path) -> Audit {
        Audit {
            path: path_in(state_dir),
            head: Arc::new(Mutex::new(Head::default())),
            observer: Arc::default(),
        }
    }

    /// Calls `observer` with every line appended from now on, by this
    /// handle and its clones.
    pub fn set_observer(&self, observer: Observer) {
        self.observer.lock().unwrap_or_else(|p| p.into_inner()).0 = Some(observer);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event and fsyncs it: when this returns, the line is durable.
    /// Blocking; async code calls it through `spawn_blocking`.
    pub fn record(&self, at: DateTime<Utc>, actor: &Actor, event: Event) -> std::io::Result<Entry> {
        let mut entries = self.record_all(at, actor, vec![event])?;
        Ok(entries.remove(0))
    }

    /// Appends several events with one write and one fsync (after any
    /// backlog of the daemon's, which keeps its place in the chain).
    pub fn record_all(&self, at: DateTime<Utc>, actor: &Actor, events: Vec<Event>) -> std::io::Result<Vec<Entry>> {
        let items = events.into_iter().map(|e| (at, actor.clone(), e)).collect();
        self.append(items, false)
    }

    /// Writes the backlog, then `items`. With `keep`, `items` join the
    /// backlog when the write fails; without, the caller hears the error.
    fn append(&self, items: Vec<(DateTime<Utc>, Actor, Event)>, keep: bool) -> std::io::Result<Vec<Entry>> {
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        // First: a torn tail's repair joins the front of the backlog.
        let loaded = self.load_head(&mut head);
        let mut all = std::mem::take(&mut head.backlog);
        let earlier = all.len();
        all.extend(items);
        let written = loaded.and_then(|()| self.write_lines(&mut head, &all));
        match written {
            Ok(mut entries) => {
                head.failure = None;
                drop(head);
                // Outside the lock: the observer (notifications) takes its time.
                let observer = self.observer.lock().unwrap_or_else(|p| p.into_inner()).0.clone();
                if let Some(observe) = observer {
                    for e in &entries {
                        observe(e);
                    }
                }
                Ok(entries.split_off(earlier))
            }
            Err(e) => {
                if !keep {
                    all.truncate(earlier);
                }
                if all.len() > MAX_BACKLOG {
                    let dropped = all.len() - MAX_BACKLOG;
                    all.drain(..dropped);
                    let detail = serde_json::json!({"events_lost": dropped, "because": e.to_string()});
                    all.insert(0, (Utc::now(), Actor::daemon(), Event::new("audit-gap").detail(detail)));
                }
                head.backlog = all;
                head.failure = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Reads the chain's head once, repairing a torn last line first.
    fn load_head(&self, head: &mut Head) -> std::io::Result<()> {
        if head.loaded {
            return Ok(());
        }
        if let Some(repair) = repair_torn_tail(&self.path)? {
            head.backlog.insert(0, (Utc::now(), Actor::daemon(), repair));
        }
        let (seq, hash) = last_line(&self.path)?;
        head.loaded = true;
        head.seq = seq;
        head.hash = hash;
        Ok(())
    }

    fn write_lines(&self, head: &mut Head, items: &[(DateTime<Utc>, Actor, Event)]) -> std::io::Result<Vec<Entry>> {
        let (mut seq, mut prev) = (head.seq, head.hash.clone());
        let mut text = String::new();
        let mut entries = Vec::new();
        for (at, actor, event) in items {
            seq += 1;
            let entry = Entry {
                seq,
                at: *at,
                actor: actor.clone(),
                event: event.event.to_string(),
                account: event.account.clone(),
                delivery: event.delivery.clone(),
                detail: event.detail.clone(),
                prev,
            };
            let line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
            prev = line_hash(&line);
            text.push_str(&line);
            text.push('\n');
            entries.push(entry);
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        let before = f.metadata()?.len();
        if let Err(e) = f.write_all(text.as_bytes()).and_then(|()| f.sync_data()) {
            // Part of a line (a full disk) would look like tampering: cut
            // the file back to where this write began.
            let _ = f.set_len(before).and_then(|()| f.sync_data());
            return Err(e);
        }
        // The head moves only once the lines are on disk.
        head.seq = seq;
        head.hash = prev;
        Ok(entries)
    }

    /// Records, and logs (instead of failing) when the log cannot be written:
    /// for the daemon's own events, which must not stop on it. Unwritten
    /// events are kept and written first next time; meanwhile
    /// [`Audit::unwritable`] says why, and the daemon publishes nothing.
    pub fn note(&self, at: DateTime<Utc>, event: Event) {
        self.note_all(at, vec![event]);
    }

    /// [`Audit::note`] for several events, with one fsync.
    pub fn note_all(&self, at: DateTime<Utc>, events: Vec<Event>) {
        let what: Vec<&str> = events.iter().map(|e| e.event).collect();
        let items = events.into_iter().map(|e| (at, Actor::daemon(), e)).collect();
        if let Err(e) = self.append(items, true) {
            tracing::error!(file = %self.path.display(), "cannot append {} to the audit log: {e}; kept in memory, and herald publishes nothing until the log can be written", what.join(", "));
        }
    }

    /// `Some(why)` while events wait to be written: tries to write them
    /// first. The daemon publishes nothing unaudited (DESIGN.md: the record
    /// tells the truth).
    pub fn unwritable(&self) -> Option<String> {
        let waiting = {
            let head = self.head.lock().unwrap_or_else(|p| p.into_inner());
            head.backlog.len()
        };
        if waiting == 0 {
            return None;
        }
        match self.append(Vec::new(), true) {
            Ok(_) => {
                tracing::info!(file = %self.path.display(), "the audit log can be written again: {waiting} waiting events written");
                None
            }
            Err(e) => Some(format!(
                "the audit log {} cannot be written ({e}); {waiting} events wait in memory",
                self.path.display()
            )),
        }
    }
}

/// A last line without its line feed is what a crash or a full disk leaves
/// in the middle of a write. A complete entry just gets its line feed; a
/// torn one is moved to `<log>.torn` (kept, never destroyed) and cut off, so
/// the chain goes on from the last complete line. Returns the event that
/// says so, to be recorded first.
fn repair_torn_tail(path: &Path) -> std::io::Result<Option<Event>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let start = bytes.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    let tail = &bytes[start..];
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    if serde_json::from_slice::<Entry>(tail).is_ok() {
        f.write_all(b"\n")?;
        f.sync_data()?;
        return Ok(None);
    }
    let kept = path.with_extension("jsonl.torn");
    let mut k = std::fs::OpenOptions::new().create(true).append(true).open(&kept)?;
    k.write_all(tail)?;
    k.write_all(b"\n")?;
    k.sync_data()?;
    f.set_len(start as u64)?;
    f.sync_data()?;
    tracing::warn!(file = %path.display(), "the audit log's last line was cut off while being written (a crash or a full disk): {} bytes moved to {}", tail.len(), kept.display());
    Ok(Some(Event::new("audit-repair").detail(serde_json::json!({
        "torn_bytes": tail.len(),
        "kept_in": kept.display().to_string(),
        "torn_sha256": hex::encode(Sha256::digest(tail)),
    }))))
}

/// The sequence number and hash of the file's last line.
fn last_line(path: &Path) -> std::io::Result<(u64, String)> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, GENESIS.to_string())),
        Err(e) => return Err(e),
    };
    let mut last = None;
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if !line.trim().is_empty() {
            last = Some(line);
        }
    }
    Ok(match last {
        None => (0, GENESIS.to_string()),
        Some(line) => {
            let seq = serde_json::from_str::<Entry>(&line).map(|e| e.seq).unwrap_or(0);
            (seq, line_hash(&line))
        }
    })
}

/// Every entry, in order. Lines that cannot be read are an error naming the line.
pub fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("{}:{}: not an audit entry: {e}", path.display(), i + 1))
        })
        .collect()
}

/// What `--verify` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub ok: bool,
    /// A last line cut off while being written (a crash or a full disk), in
    /// bytes: not tampering; herald moves it aside at its next write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub torn_tail: Option<usize>,
    /// How many lines were checked.
    pub lines: u64,
    /// The last line's hash: archive it to detect a cut-off tail later.
    pub head: String,
    /// Where the chain breaks, and how.
    pub broken_at: Option<u64>,
    pub problem: Option<String>,
}

/// Checks the hash chain and the sequence numbers.
pub fn verify(path: &Path) -> std::io::Result<Verification> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut prev = GENESIS.to_string();
    let mut n = 0u64;
    // A torn last line (no line feed, not an entry) is not part of the chain.
    let mut torn_tail = None;
    let mut text = text.as_str();
    if !text.is_empty() && !text.ends_with('\n') {
        let start = text.rfind('\n').map_or(0, |i| i + 1);
        if serde_json::from_str::<Entry>(&text[start..]).is_err() {
            torn_tail = Some(text.len() - start);
            text = &text[..start];
        }
    }
    let broken = |line: u64, problem: String, prev: String| Verification {
        ok: false,
        torn_tail,
        lines: line - 1,
        head: prev,
        broken_at: Some(line),
        problem: Some(problem),
    };
    for line in text.lines() {
        n += 1;
        let entry: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => return Ok(broken(n, format!("line {n} is not an audit entry ({e})"), prev)),
        };
        if entry.prev != prev {
            return Ok(broken(
                n,
                format!("line {n} does not follow line {}: the previous line was changed, or a line was inserted or removed here", n - 1),
                prev,
            ));
        }
        if entry.seq != n {
            return Ok(broken(
                n,
                format!("line {n} carries sequence number {}", entry.seq),
                prev,
            ));
        }
        prev = line_hash(line);
    }
    Ok(Verification {
        ok: true,
        torn_tail,
        lines: n,
        head: prev,
        broken_at: None,
        problem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_verifies_and_an_edit_in_the_middle_breaks_it_at_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path());
        let at = Utc::now();
        for i in 0..4 {
            audit
                .record(
                    at,
                    &Actor::daemon(),
                    Event::new("publish").account("a").detail(serde_json::json!({"i": i})),
                )
                .unwrap();
        }
        let v = verify(audit.path()).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.lines, 4);
        // A second appender (another process) continues the same chain.
        Audit::open(dir.path())
            .record(at, &Actor::person(0), Event::new("pause"))
            .unwrap();
        assert!(verify(audit.path()).unwrap().ok);
        assert_eq!(read(audit.path()).unwrap()[4].seq, 5);

        let text = std::fs::read_to_string(audit.path()).unwrap();
        std::fs::write(audit.path(), text.replacen("\"i\":1", "\"i\":7", 1)).unwrap();
        let v = verify(audit.path()).unwrap();
        assert!(!v.ok);
        assert_eq!(v.broken_at, Some(3));
    }

    #[test]
    fn a_torn_last_line_is_not_tampering_and_the_next_write_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path());
        let at = Utc::now();
        for _ in 0..2 {
            audit.record(at, &Actor::daemon(), Event::new("ingest")).unwrap();
        }
        // A crash (or a full disk) in the middle of the third line.
        let mut f = std::fs::OpenOptions::new().append(true).open(audit.path()).unwrap();
        f.write_all(br#"{"seq":3,"at":"2026-12-01T00:00:00Z","act"#).unwrap();
        drop(f);
        let v = verify(audit.path()).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.lines, 2);
        assert_eq!(v.torn_tail, Some(41));
        // Another process (a restarted daemon) writes next: it repairs first.
        let next = Audit::open(dir.path());
        next.record(at, &Actor::daemon(), Event::new("publish")).unwrap();
        let v = verify(audit.path()).unwrap();
        assert!(v.ok && v.torn_tail.is_none(), "{v:?}");
        let events: Vec<String> = read(audit.path()).unwrap().into_iter().map(|e| e.event).collect();
        assert_eq!(events, ["ingest", "ingest", "audit-repair", "publish"]);
        let kept = std::fs::read_to_string(dir.path().join("audit.jsonl.torn")).unwrap();
        assert!(kept.starts_with(r#"{"seq":3"#), "{kept}");
    }

    #[test]
    fn events_that_cannot_be_written_wait_in_order_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path());
        let at = Utc::now();
        audit.note(at, Event::new("ingest"));
        assert_eq!(audit.unwritable(), None);
        // The log becomes unwritable (a folder where the file was: even root cannot append).
        std::fs::rename(audit.path(), dir.path().join("saved")).unwrap();
        std::fs::create_dir(audit.path()).unwrap();
        audit.note(at, Event::new("verdict"));
        audit.note(at, Event::new("schedule"));
        let why = audit.unwritable().expect("said");
        assert!(why.contains("2 events wait"), "{why}");
        assert!(
            audit.record(at, &Actor::person(0), Event::new("pause")).is_err(),
            "a command hears it"
        );
        // Writable again: the waiting events go first, in order, in the chain.
        std::fs::remove_dir(audit.path()).unwrap();
        std::fs::rename(dir.path().join("saved"), audit.path()).unwrap();
        assert_eq!(audit.unwritable(), None);
        audit.note(at, Event::new("publish"));
        let events: Vec<String> = read(audit.path()).unwrap().into_iter().map(|e| e.event).collect();
        assert_eq!(events, ["ingest", "verdict", "schedule", "publish"]);
        assert!(verify(audit.path()).unwrap().ok);
    }

    #[test]
    fn a_removed_line_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path());
        for _ in 0..3 {
            audit
                .record(Utc::now(), &Actor::daemon(), Event::new("ingest"))
                .unwrap();
        }
        let text = std::fs::read_to_string(audit.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(audit.path(), format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        assert_eq!(verify(audit.path()).unwrap().broken_at, Some(2));
    }

    #[test]
    fn actors_serialise_as_a_person_or_the_word_daemon() {
        assert_eq!(serde_json::to_string(&Actor::daemon()).unwrap(), "\"daemon\"");
        let p: Actor = serde_json::from_str(r#"{"uid": 1000, "name": "hanako"}"#).unwrap();
        assert_eq!(p.uid(), Some(1000));
    }
}
