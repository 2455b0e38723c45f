//! Files herald will never publish, found where owners might expect it to:
//! a post file in the queue folder itself, a folder that is no account's
//! (`unknown-account/`, `Tokyo-News/` for `tokyo-news`), a file name that is
//! not UTF-8. Nothing about them is silent: the daemon logs each once and
//! leaves a note beside it where it may write, and `herald doctor` lists them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why a file or folder is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrayKind {
    /// A post file in the queue folder itself, outside every account folder.
    InQueueRoot,
    /// A folder no account is registered for; `like` is the account whose id
    /// differs only in case or `_`/`-`, if any.
    UnknownFolder { like: Option<String> },
    /// A name that is not valid UTF-8 (herald names files in notes and logs).
    NotUtf8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub path: PathBuf,
    pub kind: StrayKind,
}

impl Stray {
    /// What an owner or an admin reads: what is wrong and what to do.
    pub fn explain(&self, queue_dir: &Path) -> String {
        let shown = self.path.display().to_string();
        let shown = shown.escape_debug();
        match &self.kind {
            StrayKind::InQueueRoot => format!(
                "{shown} is not published: it lies in the queue folder itself, which belongs to no account. Move it into the folder of the account that should publish it ({}/<account>/).",
                queue_dir.display()
            ),
            StrayKind::UnknownFolder { like: Some(id) } => format!(
                "nothing in {shown} is published: no account is registered for this folder. Did you mean the account \"{id}\"? Move the files into {}/{id}/.",
                queue_dir.display()
            ),
            StrayKind::UnknownFolder { like: None } => format!(
                "nothing in {shown} is published: no account is registered for this folder. Ask an admin to add the account to herald.toml, or move the files into a registered account's folder."
            ),
            StrayKind::NotUtf8 => format!(
                "{shown} is not published: its name is not valid UTF-8. Rename it (letters, digits, Japanese are all fine; save with a UTF-8 name)."
            ),
        }
    }
}

/// A folder name compared as people mistype it: case, `_` for `-`, spaces.
fn folded(name: &str) -> String {
    name.to_lowercase().replace(['_', ' '], "-")
}

/// The strays in `queue_dir` for the registered `accounts` (ids). With
/// `inside_accounts`, account folders are listed too (for names that are not
/// UTF-8): `herald doctor` does; the daemon's passes read only the queue
/// folder itself, which costs one directory listing.
pub fn find(queue_dir: &Path, accounts: &BTreeSet<&str>, inside_accounts: bool) -> Vec<Stray> {
    let mut strays = Vec::new();
    let Ok(entries) = std::fs::read_dir(queue_dir) else {
        return strays;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        let name = match entry.file_name().into_string() {
            Ok(n) => n,
            Err(_) => {
                strays.push(Stray {
                    path,
                    kind: StrayKind::NotUtf8,
                });
                continue;
            }
        };
        if name.starts_with('.') {
            continue;
        }
        if kind.is_file() && super::is_post_file_name(&name) {
            strays.push(Stray {
                path,
                kind: StrayKind::InQueueRoot,
            });
        } else if kind.is_dir() && !accounts.contains(name.as_str()) {
            let like = accounts
                .iter()
                .find(|id| folded(id) == folded(&name))
                .map(|id| id.to_string());
            strays.push(Stray {
                path,
                kind: StrayKind::UnknownFolder { like },
            });
        } else if kind.is_dir() && inside_accounts {
            // Inside an account's folder: names herald cannot even name.
            let Ok(files) = std::fs::read_dir(&path) else { continue };
            for file in files.flatten() {
                if file.file_name().to_str().is_none() {
                    strays.push(Stray {
                        path: file.path(),
                        kind: StrayKind::NotUtf8,
                    });
                }
            }
        }
    }
    strays.sort_by(|a, b| a.path.cmp(&b.path));
    strays
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn posts_no_account_will_publish_are_found_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path();
        for folder in ["tokyo-news", "Tokyo-News", "unknown-account", ".hidden"] {
            std::fs::create_dir(q.join(folder)).unwrap();
        }
        std::fs::write(q.join("post.json"), "{}").unwrap();
        std::fs::write(q.join("README.txt"), "not a post").unwrap();
        std::fs::write(q.join(".herald.lock"), "").unwrap();
        let bad = std::ffi::OsStr::from_bytes(b"\x83\x65\x83\x58\x83\x67.json"); // Shift_JIS テスト
        std::fs::write(q.join("tokyo-news").join(bad), "{}").unwrap();
        std::fs::write(q.join("tokyo-news/fine.json"), "{}").unwrap();
        let accounts = BTreeSet::from(["tokyo-news"]);
        assert_eq!(find(q, &accounts, false).len(), 3, "the queue folder alone");
        let found = find(q, &accounts, true);
        let kinds: Vec<(String, &StrayKind)> = found
            .iter()
            .map(|s| (s.path.strip_prefix(q).unwrap().to_string_lossy().into_owned(), &s.kind))
            .collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert!(kinds.contains(&("post.json".into(), &StrayKind::InQueueRoot)));
        assert!(kinds.contains(&(
            "Tokyo-News".into(),
            &StrayKind::UnknownFolder {
                like: Some("tokyo-news".into())
            }
        )));
        assert!(kinds.contains(&("unknown-account".into(), &StrayKind::UnknownFolder { like: None })));
        assert!(found.iter().any(|s| s.kind == StrayKind::NotUtf8));
        let advice = found
            .iter()
            .find(|s| s.path.ends_with("Tokyo-News"))
            .unwrap()
            .explain(q);
        assert!(advice.contains("Did you mean the account \"tokyo-news\""), "{advice}");
    }
}
