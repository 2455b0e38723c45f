//! The sandbox platform: publishes nothing, and appends what it would publish
//! to `<state>/sandbox/<account>.jsonl`, one JSON line per post. It honours
//! idempotency keys like Mastodon does, so a retried delivery appears once.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::json;

use super::{BoxFuture, Outgoing, Platform, Progress, PublishError, Published};
use crate::config::PlatformKind;

pub struct Sandbox {
    outbox: PathBuf,
    account: String,
    handle: String,
}

impl Sandbox {
    pub fn new(state_dir: &Path, account: &str, handle: &str) -> Sandbox {
        Sandbox {
            outbox: outbox_path(state_dir, account),
            account: account.to_string(),
            handle: handle.to_string(),
        }
    }
}

/// Where the sandbox writes an account's posts.
pub fn outbox_path(state_dir: &Path, account: &str) -> PathBuf {
    state_dir.join("sandbox").join(format!("{account}.jsonl"))
}

/// Reads an outbox: one JSON value per line.
pub fn read_outbox(path: &Path) -> std::io::Result<Vec<serde_json::Value>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if let Ok(v) = serde_json::from_str(&line) {
            out.push(v);
        }
    }
    Ok(out)
}

fn publish_blocking(outbox: &Path, account: &str, handle: &str, post: &Outgoing) -> std::io::Result<Published> {
    // An earlier attempt with the same key already published: answer as
    // the first time, like an idempotent API.
    for line in read_outbox(outbox)? {
        if line["idempotency_key"] == post.idempotency_key.as_str() {
            let ids: Vec<String> = line["parts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(String::from))
                .collect();
            let at = line["published_at"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(Utc::now);
            return Ok(Published {
                url: line["url"].as_str().map(String::from),
                remote_ids: ids,
                at,
            });
        }
    }
    let at = Utc::now();
    let ids: Vec<String> = (0..post.parts.len())
        .map(|i| format!("{}-{}", post.delivery_id, i + 1))
        .collect();
    let url = format!("sandbox://{account}/{}", ids[0]);
    let parts: Vec<serde_json::Value> = post
        .parts
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (p, id))| {
            json!({
                "id": id,
                "in_reply_to": if i == 0 { serde_json::Value::Null } else { json!(ids[i - 1]) },
                "text": p.text,
                "media": p.media.iter().map(|m| json!({"file": m.path.file_name().map(|n| n.to_string_lossy()), "alt": m.alt})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let line = json!({
        "account": account,
        "handle": handle,
        "delivery": post.delivery_id,
        "idempotency_key": post.idempotency_key,
        "published_at": at.to_rfc3339(),
        "url": url,
        "parts": parts,
    });
    std::fs::create_dir_all(outbox.parent().unwrap_or(Path::new(".")))?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(outbox)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_all()?;
    Ok(Published {
        url: Some(url),
        remote_ids: ids,
        at,
    })
}

impl Platform for Sandbox {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Sandbox
    }

    // The sandbox publishes a whole post at once, idempotently, so it has no
    // per-part progress to report.
    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        _progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        let outbox = self.outbox.clone();
        let account = self.account.clone();
        let handle = self.handle.clone();
        let post = post.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || publish_blocking(&outbox, &account, &handle, &post))
                .await
                .map_err(|e| PublishError::Transient(format!("sandbox task failed: {e}")))?
                .map_err(|e| PublishError::Transient(format!("cannot write the sandbox outbox: {e}")))
        })
    }

    fn delete<'a>(&'a self, remote_ids: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        let outbox = self.outbox.clone();
        let ids = remote_ids.to_vec();
        Box::pin(async move {
            let line = json!({"deleted": ids, "at": Utc::now().to_rfc3339()});
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&outbox)?;
                f.write_all(format!("{line}\n").as_bytes())?;
                f.sync_all()
            })
            .await
            .map_err(|e| PublishError::Transient(e.to_string()))?
            .map_err(|e| PublishError::Transient(e.to_string()))
        })
    }

    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        let handle = self.handle.clone();
        Box::pin(async move { Ok(handle) })
    }
}
