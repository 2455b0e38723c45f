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
}

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

    /// Appends several events with one write and one fsync.
    pub fn record_all(&self, at: DateTime<Utc>, actor: &Actor, events: Vec<Event>) -> std::io::Result<Vec<Entry>> {
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        if !head.loaded {
            let (seq, hash) = last_line(&self.path)?;
            *head = Head {
                loaded: true,
                seq,
                hash,
            };
        }
        let (mut seq, mut prev) = (head.seq, head.hash.clone());
        let mut text = String::new();
        let mut entries = Vec::new();
        for event in events {
            seq += 1;
            let entry = Entry {
                seq,
                at,
                actor: actor.clone(),
                event: event.event.to_string(),
                account: event.account,
                delivery: event.delivery,
                detail: event.detail,
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
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        // The head moves only once the lines are on disk.
        head.seq = seq;
        head.hash = prev;
        drop(head);
        let observer = self.observer.lock().unwrap_or_else(|p| p.into_inner()).0.clone();
        if let Some(observe) = observer {
            for e in &entries {
                observe(e);
            }
        }
        Ok(entries)
    }

    /// Records, and logs (instead of failing) when the log cannot be written:
    /// for the daemon's own events, which must not stop publishing.
    pub fn note(&self, at: DateTime<Utc>, event: Event) {
        self.note_all(at, vec![event]);
    }

    /// [`Audit::note`] for several events, with one fsync.
    pub fn note_all(&self, at: DateTime<Utc>, events: Vec<Event>) {
        let what: Vec<&str> = events.iter().map(|e| e.event).collect();
        if let Err(e) = self.record_all(at, &Actor::daemon(), events) {
            tracing::error!(file = %self.path.display(), "cannot append {} to the audit log: {e}", what.join(", "));
        }
    }
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
    let broken = |line: u64, problem: String, prev: String| Verification {
        ok: false,
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
