//! Watching the queue folders, so the scheduler wakes when an owner drops,
//! edits or deletes a file instead of polling.

use std::path::Path;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the OS watch alive; dropping it stops the events.
pub struct QueueWatcher {
    _watcher: notify::RecommendedWatcher,
}

/// Watches `queue_dir` and its account folders; every change sends `()` on
/// `wake` (coalesced: a full channel already means "look again").
pub fn watch(queue_dir: &Path, wake: mpsc::Sender<()>) -> notify::Result<QueueWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Errors from the watcher also wake the scheduler: a rescan is the
        // safe answer to "something happened that we could not see".
        let relevant = match &event {
            Ok(e) => !matches!(e.kind, notify::EventKind::Access(_)),
            Err(_) => true,
        };
        if relevant {
            let _ = wake.try_send(());
        }
    })?;
    // Recursive: account folders are one level down; outcome subfolders
    // produce events too, which only cost a cheap rescan.
    watcher.watch(queue_dir, RecursiveMode::Recursive)?;
    Ok(QueueWatcher { _watcher: watcher })
}
