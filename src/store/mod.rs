//! Delivery state in sled: history and bookkeeping. Pending work lives in the
//! queue folders (DESIGN.md invariant 2), so losing this store loses history,
//! never a post.
//!
//! Keys carry a format version prefix (`v1/`) and every value a `v` field, so
//! a later format can be migrated in place. Writes that precede a side effect
//! are flushed with [`Store::flush`] before the effect (invariant 1).

mod delivery;
pub mod index;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use delivery::{content_hash, delivery_id, Attempt, Delivery, MediaRef, Publication, State};
pub use index::{Head, Index};

/// The store's format; written once, checked on open.
pub const FORMAT: u32 = 1;
const PREFIX: &str = "v1/";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another herald process (the daemon holds it while it runs). Stop the daemon, or ask it through its control socket.")]
    Locked { path: String },
    #[error("the store at {path} is damaged: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("the store at {path} has format {found}, newer than this herald understands ({FORMAT}). Run the newer herald, or restore a backup.")]
    TooNew { path: String, found: u32 },
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("a record in the store cannot be read: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Per-account bookkeeping.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountRecord {
    pub v: u32,
    /// When the account last published, for pacing.
    pub last_published: Option<DateTime<Utc>>,
    /// The remote id of the account's newest post herald made (where the
    /// platform's ids grow with time, as X's do): where a later search for
    /// a post whose outcome was unknown starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_remote_id: Option<String>,
}

/// Where a recurring post is in its schedule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub v: u32,
    /// The last occurrence that was decided (published, expired, rejected…).
    pub last: DateTime<Utc>,
    /// How many occurrences were published, for `count`.
    pub published: u32,
    /// The post's content hash when the cursor was written.
    pub content_hash: String,
}

/// The embedded store.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    deliveries: sled::Tree,
    cursors: sled::Tree,
    accounts: sled::Tree,
    /// The deliveries' heads, built at first use and kept by
    /// [`Store::put_delivery`] (every clone shares it).
    index: std::sync::Arc<std::sync::Mutex<Option<Index>>>,
}

fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = PREFIX.to_string();
    k.push_str(&parts.join("/"));
    k.into_bytes()
}

impl Store {
    /// Opens (or creates) the store.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let db = sled::Config::new().path(path).open().map_err(|e| match e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
                StoreError::Locked { path: shown.clone() }
            }
            sled::Error::Corruption { .. } => StoreError::Corrupt {
                path: shown.clone(),
                detail: e.to_string(),
            },
            other => StoreError::Sled(other),
        })?;
        Self::with_db(db, shown)
    }

    /// A store that lives in memory and vanishes when dropped: what the CLI
    /// reads when no store exists yet, so that looking never creates one.
    pub fn temporary() -> Result<Store, StoreError> {
        Self::with_db(sled::Config::new().temporary(true).open()?, "(temporary)".into())
    }

    fn with_db(db: sled::Db, shown: String) -> Result<Store, StoreError> {
        let meta = db.open_tree("meta")?;
        match meta.get("format")? {
            Some(v) => {
                let found: u32 = std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
                if found > FORMAT {
                    return Err(StoreError::TooNew { path: shown, found });
                }
            }
            None => {
                meta.insert("format", FORMAT.to_string().as_bytes())?;
            }
        }
        Ok(Store {
            deliveries: db.open_tree("deliveries")?,
            cursors: db.open_tree("cursors")?,
            accounts: db.open_tree("accounts")?,
            index: Default::default(),
            db,
        })
    }

    fn read<T: DeserializeOwned>(tree: &sled::Tree, k: &[u8]) -> Result<Option<T>, StoreError> {
        Ok(match tree.get(k)? {
            Some(v) => Some(serde_json::from_slice(&v)?),
            None => None,
        })
    }

    fn write<T: Serialize>(tree: &sled::Tree, k: &[u8], value: &T) -> Result<(), StoreError> {
        tree.insert(k, serde_json::to_vec(value)?)?;
        Ok(())
    }

    /// Makes every write so far durable. Called before each side effect.
    ///
    /// On a blocking thread, not with sled's `flush_async`: that runs on
    /// sled's small I/O thread pool, and enough flushes at once (a burst of
    /// publications) fill the pool with flushes waiting for the very
    /// buffer writes queued behind them, and the daemon stalls. Flushes at
    /// the same time share the sync that makes them all durable (sled
    /// writes the log once up to the highest position asked for; the others
    /// find it done): group commit.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(result) => {
                result?;
                Ok(())
            }
            Err(e) => Err(StoreError::Sled(sled::Error::Io(std::io::Error::other(e.to_string())))),
        }
    }

    /// The same as [`Store::flush`], for code already on a blocking thread.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        Self::read(&self.deliveries, &key(&[id]))
    }

    /// Writes a delivery (not yet durable: call [`Store::flush`]).
    pub fn put_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        // Under the index's lock, so that the index and the table agree.
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        Self::write(&self.deliveries, &key(&[&d.id]), d)?;
        if let Some(index) = index.as_mut() {
            index.put(d);
        }
        Ok(())
    }

    /// Runs `f` on the deliveries' index, building it on first use from one
    /// scan of the table.
    pub fn with_index<T>(&self, f: impl FnOnce(&Index) -> T) -> Result<T, StoreError> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let mut index = Index::default();
            for item in self.deliveries.scan_prefix(PREFIX) {
                let (_, v) = item?;
                index.load(&v)?;
            }
            *guard = Some(index);
        }
        Ok(f(guard.as_ref().expect("just built")))
    }

    /// The deliveries with these ids (those that exist), read from the table.
    pub fn deliveries_by_id<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(d) = self.delivery(id)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// One account's deliveries in `state`: only those are read from the table.
    pub fn deliveries_in(&self, account: &str, state: State) -> Result<Vec<Delivery>, StoreError> {
        let ids: Vec<std::sync::Arc<str>> = self.with_index(|ix| {
            ix.of_account(account)
                .filter(|h| h.state == state)
                .map(|h| h.id.clone())
                .collect()
        })?;
        self.deliveries_by_id(ids.iter().map(|id| &**id))
    }

    /// The deliveries whose heads match `keep`, read from the table.
    pub fn deliveries_where(&self, keep: impl Fn(&Head) -> bool) -> Result<Vec<Delivery>, StoreError> {
        let ids: Vec<std::sync::Arc<str>> =
            self.with_index(|ix| ix.heads().filter(|h| keep(h)).map(|h| h.id.clone()).collect())?;
        self.deliveries_by_id(ids.iter().map(|id| &**id))
    }

    /// Every delivery, in no particular order.
    pub fn deliveries(&self) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for item in self.deliveries.scan_prefix(PREFIX) {
            let (_, v) = item?;
            out.push(serde_json::from_slice(&v)?);
        }
        Ok(out)
    }

    pub fn cursor(&self, account: &str, file: &str) -> Result<Option<Cursor>, StoreError> {
        Self::read(&self.cursors, &key(&[account, file]))
    }

    pub fn put_cursor(&self, account: &str, file: &str, cursor: &Cursor) -> Result<(), StoreError> {
        Self::write(&self.cursors, &key(&[account, file]), cursor)
    }

    pub fn account(&self, account: &str) -> Result<AccountRecord, StoreError> {
        Ok(Self::read(&self.accounts, &key(&[account]))?.unwrap_or(AccountRecord {
            v: 1,
            last_published: None,
            last_remote_id: None,
        }))
    }

    pub fn put_account(&self, account: &str, record: &AccountRecord) -> Result<(), StoreError> {
        Self::write(&self.accounts, &key(&[account]), record)
    }
}
