//! The queue folders: `queue/<account>/` holds an owner's pending post files;
//! herald moves each finished file into an outcome folder beside a note in
//! plain language, and keeps a note beside every pending file saying what
//! will happen to it. Herald never deletes an owner's file (DESIGN.md
//! invariant 5); the only files it removes are its own notes.

pub mod post;
pub mod strays;
pub mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use post::{Format, Kind, Media, Part, Post, PostError};

/// The suffix of herald's notes: `post.json` gets `post.json.herald.txt`.
pub const NOTE_SUFFIX: &str = ".herald.txt";

/// Where a finished file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Published,
    Rejected,
    Cancelled,
    Expired,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Published,
        Outcome::Rejected,
        Outcome::Cancelled,
        Outcome::Expired,
    ];

    pub fn folder(self) -> &'static str {
        match self {
            Outcome::Published => "published",
            Outcome::Rejected => "rejected",
            Outcome::Cancelled => "cancelled",
            Outcome::Expired => "expired",
        }
    }
}

/// A file in an account's folder that may be a post.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub path: PathBuf,
    /// The file name, which (with the account) identifies the post.
    pub name: String,
    pub modified: SystemTime,
    pub size: u64,
}

/// Whether a file name is a post file herald should read now. Dotfiles,
/// editor backups and partial downloads are someone's work in progress.
pub fn is_post_file_name(name: &str) -> bool {
    if name.starts_with('.') || name.ends_with('~') || name.starts_with('#') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    for partial in [".swp", ".swx", ".tmp", ".part", ".crdownload", NOTE_SUFFIX] {
        if lower.ends_with(partial) {
            return false;
        }
    }
    Format::of(Path::new(name)).is_some()
}

/// What a scan of an account's folder found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Post files that have not changed for the settle time, by name.
    pub ready: Vec<Candidate>,
    /// Post files still being written (changed within the settle time).
    pub unsettled: Vec<String>,
    /// When the first unsettled file will be settled.
    pub wake: Option<SystemTime>,
}

/// Files whose modification time lies ahead of the clock (a queue folder on
/// a file server whose clock runs ahead, a clock stepped back by NTP), by
/// path: the time and size last seen, and when herald first saw them so.
/// Such a file cannot be judged by its modification time ("unchanged for the
/// settle time" would mean waiting until the clock catches up, possibly for
/// hours); it counts as completely written once herald has seen it unchanged
/// for the settle time.
#[derive(Debug, Default)]
pub struct Skewed(std::collections::HashMap<PathBuf, (SystemTime, u64, SystemTime)>);

impl Skewed {
    /// When a file modified at `modified` (after `now`) counts as settled.
    fn ready_at(
        &mut self,
        path: &Path,
        modified: SystemTime,
        size: u64,
        now: SystemTime,
        settle: Duration,
    ) -> SystemTime {
        match self.0.get(path) {
            Some(&(m, s, first)) if m == modified && s == size => first + settle,
            _ => {
                tracing::warn!(
                    file = %path.display(),
                    "the file's modification time is in the future (the clock of the machine that wrote it runs ahead?); herald reads it once it has stayed unchanged for the settle time"
                );
                self.0.insert(path.to_path_buf(), (modified, size, now));
                now + settle
            }
        }
    }
}

/// Lists the post files at the top of an account's folder (subfolders hold
/// outcomes and media). A file counts as completely written once it has not
/// changed for `settle`; `skewed` remembers files dated in the future.
pub fn scan(folder: &Path, settle: Duration, now: SystemTime, skewed: &mut Skewed) -> std::io::Result<Scan> {
    let mut scan = Scan::default();
    let mut ahead = std::collections::HashSet::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_post_file_name(&name) {
            continue;
        }
        // symlink_metadata: a link in the queue is not followed (invariant 4).
        let meta = entry.path().symlink_metadata()?;
        if !meta.file_type().is_file() {
            continue;
        }
        let modified = meta.modified()?;
        let ready_at = if modified > now {
            ahead.insert(entry.path());
            skewed.ready_at(&entry.path(), modified, meta.len(), now, settle)
        } else {
            modified + settle
        };
        if ready_at > now {
            scan.wake = Some(scan.wake.map_or(ready_at, |w| w.min(ready_at)));
            scan.unsettled.push(name);
            continue;
        }
        scan.ready.push(Candidate {
            path: entry.path(),
            name,
            modified,
            size: meta.len(),
        });
    }
    // Forget this folder's files that are gone or no longer ahead.
    skewed
        .0
        .retain(|path, _| path.parent() != Some(folder) || ahead.contains(path));
    scan.ready.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(scan)
}

/// Writes a file so that readers see the old or the new content, never half:
/// a temporary dotfile (which ingest ignores), fsync, rename, fsync the folder.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, contents, 0o666, |_| Ok(()))
}

/// [`write_atomically`], with the temporary file created with `mode` (less
/// the umask) and handed to `prepare` (to set its owner or permissions)
/// before it is flushed and renamed. On failure the temporary file is
/// removed and the old file is left as it was.
pub fn write_atomically_with(
    path: &Path,
    contents: &[u8],
    mode: u32,
    prepare: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace_file(path, contents, mode, prepare)?;
    sync_dir(parent_of(path))
}

/// The temporary file a replacement of `path` is written to first: a
/// dotfile, which ingest ignores.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    parent_of(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// [`write_atomically_with`] but for the folder's sync, which the caller
/// makes (once for many files).
fn replace_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    prepare: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = temporary_name(path);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        prepare(&f)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a change to a folder's entries (a rename, a removal) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The note herald keeps beside a pending file.
pub fn note_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(NOTE_SUFFIX);
    file.with_file_name(name)
}

/// Writes (or replaces) the note beside a pending file; unchanged notes are
/// not rewritten, so a rescan does not touch the disk.
pub fn write_note(file: &Path, text: &str) -> std::io::Result<()> {
    let path = note_path(file);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    write_atomically(&path, text.as_bytes())
}

/// Writes many notes (file, text) as [`write_note`] does, with two syncs
/// of the file system for all of them instead of two per note (group
/// commit): every note's temporary file is written, one `syncfs` makes
/// them durable, they are renamed into place, and one more `syncfs` makes
/// the renames durable. Returns the first error, having tried every note.
pub fn write_notes(notes: &[(PathBuf, String)]) -> std::io::Result<()> {
    let mut first_error = None;
    let mut staged = Vec::new();
    for (file, text) in notes {
        let path = note_path(file);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        let tmp = temporary_name(&path);
        match std::fs::write(&tmp, text.as_bytes()) {
            Ok(()) => staged.push((tmp, path)),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((first, _)) = staged.first() else {
        return first_error.map_or(Ok(()), Err);
    };
    if let Err(e) = sync_file_system(first) {
        // Not durable: leave the notes as they were.
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (tmp, path) in &staged {
        if let Err(e) = std::fs::rename(tmp, path) {
            let _ = std::fs::remove_file(tmp);
            first_error.get_or_insert(e);
        }
    }
    if let Err(e) = sync_file_system(first.parent().unwrap_or(Path::new("."))) {
        first_error.get_or_insert(e);
    }
    first_error.map_or(Ok(()), Err)
}

/// Makes everything written to the file system holding `path` durable
/// (syncfs(2)): one call for many files.
fn sync_file_system(path: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)?;
    // SAFETY: syncfs only reads the descriptor, which `f` keeps open.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Removes herald's note beside a file, if any.
pub fn remove_note(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(note_path(file)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A free name in `dir` for `name`: the name itself, or `stem-2.ext`, … so
/// that an outcome never overwrites an earlier one.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let candidate = dir.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .expect("some numbered name is free")
}

/// Moves a finished post file into `<folder>/<outcome>/` with its note
/// beside it, and removes the pending note. The note is written first: if
/// herald stops in between, the file is still pending and the move is
/// simply done again (the note is rewritten at the same name).
pub fn move_to_outcome(file: &Path, outcome: Outcome, note: &str) -> std::io::Result<PathBuf> {
    let folder = file.parent().unwrap_or(Path::new("."));
    let dir = folder.join(outcome.folder());
    std::fs::create_dir_all(&dir)?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("post");
    let target = free_name(&dir, name);
    write_atomically(&note_path(&target), note.as_bytes())?;
    // The watcher need not wake the scheduler for this move.
    watch::moving(file);
    std::fs::rename(file, &target)?;
    sync_dir(&dir)?;
    sync_dir(folder)?;
    remove_note(file)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_written_together_land_whole_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        write_note(&a.join("same.json"), "unchanged").unwrap();
        let notes = vec![
            (a.join("one.json"), "first".to_string()),
            (b.join("two.json"), "second".to_string()),
            (a.join("same.json"), "unchanged".to_string()),
        ];
        write_notes(&notes).unwrap();
        for (file, text) in &notes {
            assert_eq!(&std::fs::read_to_string(note_path(file)).unwrap(), text);
        }
        for folder in [&a, &b] {
            let names: Vec<String> = std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(names.iter().all(|n| n.ends_with(NOTE_SUFFIX)), "{names:?}");
        }
    }

    #[test]
    fn work_in_progress_names_are_not_posts() {
        for name in [
            ".post.json",
            "post.json~",
            "post.json.swp",
            "post.json.tmp",
            "post.md.part",
            "#post.md#",
            "post.json.herald.txt",
            "photo.jpg",
            "README",
        ] {
            assert!(!is_post_file_name(name), "{name}");
        }
        for name in ["post.json", "告知.md", "Post.JSON", "a.markdown"] {
            assert!(is_post_file_name(name), "{name}");
        }
    }

    #[test]
    fn a_file_changed_just_now_is_not_settled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        let now = std::fs::metadata(dir.path().join("a.json"))
            .unwrap()
            .modified()
            .unwrap();
        let mut skewed = Skewed::default();
        let s = scan(dir.path(), Duration::from_secs(2), now, &mut skewed).unwrap();
        assert!(s.ready.is_empty());
        assert_eq!(s.unsettled, vec!["a.json".to_string()]);
        assert_eq!(s.wake, Some(now + Duration::from_secs(2)));
        let s = scan(
            dir.path(),
            Duration::from_secs(2),
            now + Duration::from_secs(3),
            &mut skewed,
        )
        .unwrap();
        assert_eq!(s.ready.len(), 1);
        assert!(s.wake.is_none());
    }

    #[test]
    fn a_file_dated_in_the_future_is_read_once_it_stops_changing_without_waiting_for_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, "{}").unwrap();
        // Written by a machine whose clock runs five hours ahead.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ahead = now + Duration::from_secs(5 * 3600);
        filetime::set_file_mtime(&path, filetime::FileTime::from_system_time(ahead)).unwrap();
        let settle = Duration::from_secs(2);
        let mut skewed = Skewed::default();
        let s = scan(dir.path(), settle, now, &mut skewed).unwrap();
        assert!(s.ready.is_empty(), "not yet seen unchanged for the settle time");
        assert_eq!(
            s.wake,
            Some(now + settle),
            "wakes after the settle time, not in five hours"
        );
        // Unchanged one settle time later: ready, although still "in the future".
        let s = scan(dir.path(), settle, now + Duration::from_secs(3), &mut skewed).unwrap();
        assert_eq!(s.ready.len(), 1);
        assert!(s.wake.is_none());

        // Changed again (still dated ahead): the settle time starts over.
        std::fs::write(&path, "{\"text\": 1}").unwrap();
        filetime::set_file_mtime(
            &path,
            filetime::FileTime::from_system_time(ahead + Duration::from_secs(1)),
        )
        .unwrap();
        let later = now + Duration::from_secs(10);
        let s = scan(dir.path(), settle, later, &mut skewed).unwrap();
        assert!(s.ready.is_empty());
        assert_eq!(s.wake, Some(later + settle));
        let s = scan(dir.path(), settle, later + settle, &mut skewed).unwrap();
        assert_eq!(s.ready.len(), 1);

        // A removed file is forgotten.
        std::fs::remove_file(&path).unwrap();
        scan(dir.path(), settle, later + settle, &mut skewed).unwrap();
        assert!(skewed.0.is_empty());
    }

    #[test]
    fn outcomes_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..2 {
            let f = dir.path().join("post.json");
            std::fs::write(&f, format!("{{\"text\":\"{round}\"}}")).unwrap();
            write_note(&f, "pending").unwrap();
            let moved = move_to_outcome(&f, Outcome::Published, "done").unwrap();
            assert!(moved.exists());
            assert!(!f.exists());
            assert!(!note_path(&f).exists());
            assert_eq!(std::fs::read_to_string(note_path(&moved)).unwrap(), "done");
        }
        assert!(dir.path().join("published/post.json").exists());
        assert!(dir.path().join("published/post-2.json").exists());
    }
}
