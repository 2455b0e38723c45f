//! Watching the queue folders, so the scheduler wakes when an owner drops,
//! edits or deletes a file instead of polling. Each wake-up says which
//! account folders changed, so that the next pass reads only those; herald's
//! own writes (its notes, their temporary files, the outcome folders, the
//! files it moves there) wake nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the OS watch alive; dropping it stops the events.
pub struct QueueWatcher {
    _watcher: notify::RecommendedWatcher,
}

/// What changed since the scheduler last looked.
#[derive(Debug, Default)]
pub struct Changes {
    /// Something the watcher could not place (an error, a path outside an
    /// account folder): every folder must be read.
    pub all: bool,
    /// The account folders (`<queue_dir>/<id>`) with a change.
    pub folders: HashSet<PathBuf>,
}

/// The changes the watcher gathers and the scheduler takes.
pub type SharedChanges = Arc<Mutex<Changes>>;

/// Takes what changed so far, leaving nothing.
pub fn take(changes: &SharedChanges) -> Changes {
    std::mem::take(&mut *changes.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Files herald is moving itself, with when: their events wake nothing.
static OWN_MOVES: Mutex<Option<HashMap<PathBuf, Instant>>> = Mutex::new(None);

/// How long a move herald made keeps its events from waking the scheduler.
const OWN_MOVE_QUIET: Duration = Duration::from_secs(10);

/// Notes that herald is about to move `path` away (to an outcome folder).
pub(crate) fn moving(path: &Path) {
    let mut own = OWN_MOVES.lock().unwrap_or_else(|p| p.into_inner());
    let own = own.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    own.retain(|_, at| now.duration_since(*at) < OWN_MOVE_QUIET);
    own.insert(path.to_path_buf(), now);
}

fn moved_by_herald(path: &Path) -> bool {
    let own = OWN_MOVES.lock().unwrap_or_else(|p| p.into_inner());
    own.as_ref()
        .and_then(|m| m.get(path))
        .is_some_and(|at| at.elapsed() < OWN_MOVE_QUIET)
}

/// Where a change at `path` must be looked at: `Some(Some(folder))` for an
/// account folder, `Some(None)` for nothing (herald's own write), `None`
/// when it cannot be placed.
fn place(queue_dir: &Path, path: &Path) -> Option<Option<PathBuf>> {
    let rel = path.strip_prefix(queue_dir).ok()?;
    let mut parts = rel.components();
    let account = parts.next()?;
    let folder = queue_dir.join(account);
    let Some(name) = parts.next() else {
        // The account folder itself (created, removed, renamed).
        return Some(Some(folder));
    };
    if parts.next().is_some() {
        // Inside an outcome folder: herald's.
        return Some(None);
    }
    let name = name.as_os_str().to_string_lossy();
    let note_or_temporary = name.ends_with(super::NOTE_SUFFIX) || (name.starts_with('.') && name.ends_with(".tmp"));
    let outcome = super::Outcome::ALL.iter().any(|o| o.folder() == name);
    if note_or_temporary || outcome || moved_by_herald(path) {
        return Some(None);
    }
    Some(Some(folder))
}

/// Watches `queue_dir` and its account folders; every change an owner
/// makes is added to `changes` and sends `()` on `wake` (coalesced: a full
/// channel already means "look again").
pub fn watch(queue_dir: &Path, wake: mpsc::Sender<()>, changes: SharedChanges) -> notify::Result<QueueWatcher> {
    let root = queue_dir.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let mut all = false;
        let mut folders = Vec::new();
        match &event {
            Ok(e) if matches!(e.kind, notify::EventKind::Access(_)) => {}
            Ok(e) if e.need_rescan() || e.paths.is_empty() => all = true,
            Ok(e) => {
                for path in &e.paths {
                    match place(&root, path) {
                        Some(Some(folder)) => folders.push(folder),
                        Some(None) => {}
                        None => all = true,
                    }
                }
            }
            // Errors from the watcher: a rescan is the safe answer to
            // "something happened that we could not see".
            Err(_) => all = true,
        }
        if !all && folders.is_empty() {
            return;
        }
        {
            let mut c = changes.lock().unwrap_or_else(|p| p.into_inner());
            c.all |= all;
            c.folders.extend(folders);
        }
        let _ = wake.try_send(());
    })?;
    // Recursive: account folders are one level down.
    watcher.watch(queue_dir, RecursiveMode::Recursive)?;
    Ok(QueueWatcher { _watcher: watcher })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_placed_in_their_account_folder_and_herald_s_own_writes_are_not() {
        let q = Path::new("/srv/queue");
        let folder = Some(Some(q.join("tokyo")));
        assert_eq!(place(q, &q.join("tokyo/post.json")), folder);
        assert_eq!(place(q, &q.join("tokyo")), folder);
        assert_eq!(place(q, &q.join("tokyo/post.json.herald.txt")), Some(None));
        assert_eq!(place(q, &q.join("tokyo/.post.json.herald.txt.42.tmp")), Some(None));
        assert_eq!(place(q, &q.join("tokyo/published/post.json")), Some(None));
        assert_eq!(place(q, &q.join("tokyo/published")), Some(None));
        assert_eq!(place(q, q), None, "the queue folder itself: read everything");
        assert_eq!(place(q, Path::new("/elsewhere/x")), None);
        moving(&q.join("tokyo/moved.json"));
        assert_eq!(place(q, &q.join("tokyo/moved.json")), Some(None), "herald moved it");
        assert_eq!(place(q, &q.join("tokyo/other.json")), folder);
    }
}
