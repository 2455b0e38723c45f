//! The bodies of the requests herald sends to X API v2, built in one place
//! so that the client and `herald preview` cannot drift apart. Every body
//! conforms to X's OpenAPI description (`CreatePostsRequest` and the media
//! schemas have `additionalProperties: false`; a stray field is a 400).

use std::path::Path;

use serde_json::{json, Value};

/// Size of one chunk in the chunked upload (X accepts up to 5 MB; herald
/// sends 1 MiB so a lost chunk costs little).
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// How a media file goes to X.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaKind {
    pub media_type: &'static str,
    pub category: &'static str,
    /// Videos and GIFs use the chunked initialize/append/finalize flow.
    pub chunked: bool,
}

/// What X calls a file, by its extension.
pub fn media_kind(path: &Path) -> Result<MediaKind, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let kind = |media_type, category, chunked| MediaKind {
        media_type,
        category,
        chunked,
    };
    Ok(match ext.as_str() {
        "jpg" | "jpeg" => kind("image/jpeg", "tweet_image", false),
        "png" => kind("image/png", "tweet_image", false),
        "webp" => kind("image/webp", "tweet_image", false),
        "gif" => kind("image/gif", "tweet_gif", true),
        "mp4" => kind("video/mp4", "tweet_video", true),
        "mov" => kind("video/quicktime", "tweet_video", true),
        _ => {
            return Err(format!(
                "{} is not a kind of file X accepts (use .jpg, .png, .webp, .gif, .mp4 or .mov)",
                path.display()
            ))
        }
    })
}

/// `POST /2/tweets`.
pub fn create_post(text: &str, media_ids: &[String], in_reply_to: Option<&str>) -> Value {
    let mut body = json!({ "text": text });
    if !media_ids.is_empty() {
        body["media"] = json!({ "media_ids": media_ids });
    }
    if let Some(id) = in_reply_to {
        body["reply"] = json!({ "in_reply_to_tweet_id": id });
    }
    body
}

/// `POST /2/media/upload` (simple upload, base64 in JSON).
pub fn simple_upload(media_base64: &str, kind: MediaKind) -> Value {
    json!({ "media": media_base64, "media_category": kind.category })
}

/// `POST /2/media/upload/initialize`.
pub fn initialize_upload(total_bytes: u64, kind: MediaKind) -> Value {
    json!({ "media_type": kind.media_type, "media_category": kind.category, "total_bytes": total_bytes })
}

/// `POST /2/media/upload/{id}/append`.
pub fn append_upload(chunk_base64: &str, segment_index: usize) -> Value {
    json!({ "media": chunk_base64, "segment_index": segment_index })
}

/// `POST /2/media/metadata` (alt text).
pub fn alt_text(media_id: &str, alt: &str) -> Value {
    json!({ "id": media_id, "metadata": { "alt_text": { "text": alt } } })
}
