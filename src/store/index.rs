//! An in-memory index of the deliveries: a small head per delivery (what
//! the scheduler, ingest and the duplicate rule ask about), kept beside
//! sled by [`super::Store::put_delivery`], so that a pass reads only the
//! deliveries it needs instead of decoding the whole table.
//!
//! It is built once, from one scan of the table, the first time it is
//! needed; the CLI, which seldom needs it, never pays for it. sled stays
//! the record: the index holds nothing that is not in the table.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Delivery, State};
use crate::queue::Kind;

/// What the index keeps of one delivery.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: Arc<str>,
    pub account: Arc<str>,
    pub file: Arc<str>,
    pub content_hash: String,
    pub state: State,
    pub kind: Kind,
    pub due: DateTime<Utc>,
    /// When it went out, or was meant to (the duplicate rule's instant).
    pub when: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether part of it may stand on the platform.
    pub may_be_live: bool,
    /// Its texts, for the duplicate rule, while its state counts there.
    pub texts: Option<Arc<[String]>>,
}

impl Head {
    /// Whether the duplicate rule compares with it: posts that never went
    /// out (rejected, cancelled, expired) do not count.
    pub fn counts_as_recent(&self) -> bool {
        !matches!(self.state, State::Rejected | State::Cancelled | State::Expired)
    }

    /// A delivery's head.
    pub fn of(d: &Delivery) -> Head {
        let state = d.state;
        let mut head = Head {
            id: d.id.as_str().into(),
            account: d.account.as_str().into(),
            file: d.file.as_str().into(),
            content_hash: d.content_hash.clone(),
            state,
            kind: d.kind,
            due: d.due,
            when: d.published.as_ref().map_or(d.scheduled_for, |p| p.at),
            created_at: d.created_at,
            updated_at: d.updated_at,
            may_be_live: d.may_be_live(),
            texts: None,
        };
        if head.counts_as_recent() {
            head.texts = Some(d.text.clone().into());
        }
        head
    }
}

/// The part of a stored delivery the index decodes (the rest is skipped).
#[derive(Deserialize)]
struct Stored {
    id: String,
    account: String,
    file: String,
    content_hash: String,
    text: Vec<String>,
    scheduled_for: DateTime<Utc>,
    due: DateTime<Utc>,
    state: State,
    kind: Kind,
    published: Option<StoredPublication>,
    #[serde(default)]
    parts_done: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    unsure_since: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct StoredPublication {
    at: DateTime<Utc>,
}

impl Stored {
    fn head(self) -> Head {
        let mut head = Head {
            id: self.id.into(),
            account: self.account.into(),
            file: self.file.into(),
            content_hash: self.content_hash,
            state: self.state,
            kind: self.kind,
            due: self.due,
            when: self.published.map_or(self.scheduled_for, |p| p.at),
            created_at: self.created_at,
            updated_at: self.updated_at,
            may_be_live: !self.parts_done.is_empty() || self.unsure_since.is_some(),
            texts: None,
        };
        if head.counts_as_recent() {
            head.texts = Some(self.text.into());
        }
        head
    }
}

/// Ids in the order of an instant (due, or when a post went out).
type ByInstant = BTreeSet<(DateTime<Utc>, Arc<str>)>;
/// A file's deliveries, by file name.
type Files = HashMap<Arc<str>, Vec<Arc<str>>>;

/// The index proper.
#[derive(Default)]
pub struct Index {
    heads: HashMap<Arc<str>, Head>,
    /// Scheduled deliveries in the order they fall due.
    scheduled: ByInstant,
    /// Each account's files, each with its deliveries' ids.
    files: HashMap<Arc<str>, Files>,
    /// Each account's deliveries that count for the duplicate rule, by instant.
    recent: HashMap<Arc<str>, ByInstant>,
    /// How many deliveries are in each state.
    counts: HashMap<State, usize>,
}

impl Index {
    /// Adds one stored delivery (as read from the table).
    pub(super) fn load(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let stored: Stored = serde_json::from_slice(bytes)?;
        self.insert(stored.head());
        Ok(())
    }

    /// Records a delivery just written.
    pub(super) fn put(&mut self, d: &Delivery) {
        self.insert(Head::of(d));
    }

    fn insert(&mut self, head: Head) {
        if let Some(old) = self.heads.remove(&head.id) {
            self.unlink(&old);
        }
        if head.state == State::Scheduled {
            self.scheduled.insert((head.due, head.id.clone()));
        }
        let ids = self
            .files
            .entry(head.account.clone())
            .or_default()
            .entry(head.file.clone())
            .or_default();
        if !ids.contains(&head.id) {
            ids.push(head.id.clone());
        }
        if head.counts_as_recent() {
            self.recent
                .entry(head.account.clone())
                .or_default()
                .insert((head.when, head.id.clone()));
        }
        *self.counts.entry(head.state).or_default() += 1;
        self.heads.insert(head.id.clone(), head);
    }

    /// Removes what `old` put in the secondary maps (its file entry stays:
    /// a delivery, once made, always belongs to its file).
    fn unlink(&mut self, old: &Head) {
        if old.state == State::Scheduled {
            self.scheduled.remove(&(old.due, old.id.clone()));
        }
        if old.counts_as_recent() {
            if let Some(r) = self.recent.get_mut(&old.account) {
                r.remove(&(old.when, old.id.clone()));
            }
        }
        if let Some(n) = self.counts.get_mut(&old.state) {
            *n -= 1;
        }
    }

    pub fn get(&self, id: &str) -> Option<&Head> {
        self.heads.get(id)
    }

    /// Every delivery's head, in no particular order.
    pub fn heads(&self) -> impl Iterator<Item = &Head> {
        self.heads.values()
    }

    /// Scheduled deliveries, earliest due first.
    pub fn scheduled(&self) -> impl Iterator<Item = &Head> {
        self.scheduled.iter().filter_map(|(_, id)| self.heads.get(id))
    }

    /// The deliveries of one file of one account.
    pub fn of_file<'a>(&'a self, account: &str, file: &str) -> impl Iterator<Item = &'a Head> + 'a {
        self.files
            .get(account)
            .and_then(|f| f.get(file))
            .into_iter()
            .flatten()
            .filter_map(|id| self.heads.get(id))
    }

    /// Every delivery of one account.
    pub fn of_account<'a>(&'a self, account: &str) -> impl Iterator<Item = &'a Head> + 'a {
        self.files
            .get(account)
            .into_iter()
            .flat_map(|f| f.values())
            .flatten()
            .filter_map(|id| self.heads.get(id))
    }

    /// The account's deliveries that count for the duplicate rule, meant
    /// for (or published) within `window` of `around`.
    pub fn recent<'a>(
        &'a self,
        account: &str,
        around: DateTime<Utc>,
        window: chrono::Duration,
    ) -> impl Iterator<Item = &'a Head> + 'a {
        let range = (around - window, Arc::<str>::from(""))..;
        let end = around + window;
        self.recent
            .get(account)
            .into_iter()
            .flat_map(move |r| r.range(range.clone()))
            .take_while(move |(t, _)| *t <= end)
            .filter_map(|(_, id)| self.heads.get(id))
    }

    /// How many deliveries are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.heads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn delivery(id: &str, account: &str, file: &str, due: &str, text: &str) -> Delivery {
        let t = at(due);
        Delivery {
            v: 1,
            id: id.into(),
            account: account.into(),
            file: file.into(),
            content_hash: format!("hash-{id}"),
            occurrence: None,
            kind: Kind::News,
            max_lateness_secs: None,
            text: vec![text.into()],
            media: vec![],
            verdict: crate::guidelines::Verdict::Pass,
            findings: vec![],
            scheduled_for: t,
            due: t,
            state: State::Scheduled,
            reason: None,
            attempts: vec![],
            parts_done: vec![],
            unsure_since: None,
            released_at: None,
            published: None,
            created_at: t,
            updated_at: t,
        }
    }

    /// What a view of the index says, in a comparable form.
    fn summary(ix: &Index) -> (Vec<String>, Vec<String>, Vec<String>, usize, usize) {
        let scheduled = ix.scheduled().map(|h| h.id.to_string()).collect();
        let mut of_file: Vec<String> = ix.of_file("a", "one.json").map(|h| h.id.to_string()).collect();
        of_file.sort();
        let mut recent: Vec<String> = ix
            .recent("a", at("2026-12-05T00:00:00Z"), chrono::Duration::days(2))
            .map(|h| h.id.to_string())
            .collect();
        recent.sort();
        (
            scheduled,
            of_file,
            recent,
            ix.count(State::Scheduled),
            ix.count(State::Published),
        )
    }

    #[test]
    fn the_index_follows_every_write_and_a_fresh_scan_agrees() {
        let store = Store::temporary().unwrap();
        // Written before the index exists: the first use scans them.
        store
            .put_delivery(&delivery("d1", "a", "one.json", "2026-12-04T00:00:00Z", "first"))
            .unwrap();
        store
            .put_delivery(&delivery("d2", "a", "two.json", "2026-12-02T00:00:00Z", "second"))
            .unwrap();
        let before = store.with_index(summary).unwrap();
        assert_eq!(before.0, vec!["d2", "d1"], "earliest due first");
        assert_eq!(before.2, vec!["d1"], "only d1 is within two days of the 5th");
        // Written after: the index follows.
        let mut d1 = store.delivery("d1").unwrap().unwrap();
        d1.state = State::Published;
        d1.published = Some(super::super::Publication {
            at: at("2026-12-07T00:00:00Z"),
            url: None,
            remote_ids: vec![],
        });
        store.put_delivery(&d1).unwrap();
        let mut d3 = delivery("d3", "a", "one.json", "2026-12-03T00:00:00Z", "edited");
        d3.state = State::Cancelled;
        store.put_delivery(&d3).unwrap();
        store
            .put_delivery(&delivery(
                "d4",
                "b",
                "one.json",
                "2026-12-05T00:00:00Z",
                "other account",
            ))
            .unwrap();
        let live = store.with_index(summary).unwrap();
        assert_eq!(live.0, vec!["d2", "d4"]);
        assert_eq!(live.1, vec!["d1", "d3"], "both versions of one.json");
        assert_eq!(
            live.2,
            vec!["d1"],
            "published on the 7th, within two days; the cancelled one does not count"
        );
        assert_eq!((live.3, live.4), (2, 1));
        assert_eq!(
            store
                .with_index(|ix| ix.get("d1").and_then(|h| h.texts.clone()))
                .unwrap()
                .as_deref(),
            Some(&["first".to_string()][..])
        );
        // A new handle on the same table scans it again, and agrees.
        let fresh = Store {
            index: Default::default(),
            ..store.clone()
        };
        assert_eq!(fresh.with_index(summary).unwrap(), live);
    }
}
