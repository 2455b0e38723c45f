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

/// Whether X takes alt text for this kind of file: images and GIFs, not
/// videos (X's media metadata documentation).
pub fn takes_alt_text(kind: MediaKind) -> bool {
    kind.category != "tweet_video"
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

/// One request herald would make, for `herald preview`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedRequest {
    pub method: &'static str,
    pub url: String,
    /// The JSON body; None for requests without one.
    pub body: Option<Value>,
    /// What the request is for, or what may repeat.
    pub note: String,
}

/// A part to preview: its text and its media (path, alt text).
pub struct PlannedPart<'a> {
    pub text: &'a str,
    pub media: Vec<(&'a Path, Option<&'a str>)>,
}

/// What the planned requests stand for: ids X assigns are not known before
/// sending, so the plan uses numbered placeholders of X's id shape (which
/// keeps every body valid against the OpenAPI description).
pub struct Plan {
    pub requests: Vec<PlannedRequest>,
    /// Placeholder id → what X will put there.
    pub placeholders: Vec<(String, String)>,
}

/// The requests herald makes to publish a post, in order, without sending
/// any: the same body builders as the client.
pub fn plan(api: &str, parts: &[PlannedPart<'_>]) -> Result<Plan, String> {
    let api = api.trim_end_matches('/');
    let mut requests = Vec::new();
    let mut placeholders = Vec::new();
    let mut previous: Option<String> = None;
    for (i, part) in parts.iter().enumerate() {
        let mut media_ids = Vec::new();
        for (path, alt) in &part.media {
            let kind = media_kind(path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let size = std::fs::metadata(path)
                .map_err(|e| format!("cannot read the media file {name}: {e}"))?
                .len();
            let id = format!("{}", 1_000_000_000_000_000_000u64 + placeholders.len() as u64 + 1);
            placeholders.push((id.clone(), format!("the media id X assigns to {name}")));
            if kind.chunked {
                requests.push(PlannedRequest {
                    method: "POST",
                    url: format!("{api}/2/media/upload/initialize"),
                    body: Some(initialize_upload(size, kind)),
                    note: format!("start the upload of {name} ({size} bytes)"),
                });
                let chunks = (size as usize).div_ceil(CHUNK_BYTES).max(1);
                for segment in 0..chunks {
                    requests.push(PlannedRequest {
                        method: "POST",
                        url: format!("{api}/2/media/upload/{id}/append"),
                        body: Some(append_upload(
                            &format!("<base64 of chunk {} of {name}>", segment + 1),
                            segment,
                        )),
                        note: format!("chunk {} of {chunks}", segment + 1),
                    });
                }
                requests.push(PlannedRequest {
                    method: "POST",
                    url: format!("{api}/2/media/upload/{id}/finalize"),
                    body: None,
                    note: format!("finish the upload of {name}"),
                });
                requests.push(PlannedRequest {
                    method: "GET",
                    url: format!("{api}/2/media/upload?command=STATUS&media_id={id}"),
                    body: None,
                    note: "repeated, as X's processing_info.check_after_secs says, until X has processed the file"
                        .into(),
                });
            } else {
                requests.push(PlannedRequest {
                    method: "POST",
                    url: format!("{api}/2/media/upload"),
                    body: Some(simple_upload(&format!("<base64 of {name}, {size} bytes>"), kind)),
                    note: format!("upload {name}"),
                });
            }
            if let Some(alt) = alt.filter(|a| !a.is_empty() && takes_alt_text(kind)) {
                requests.push(PlannedRequest {
                    method: "POST",
                    url: format!("{api}/2/media/metadata"),
                    body: Some(alt_text(&id, alt)),
                    note: format!("alt text of {name}"),
                });
            }
            media_ids.push(id);
        }
        let post_id = format!("{}", 2_000_000_000_000_000_000u64 + i as u64 + 1);
        placeholders.push((post_id.clone(), format!("the id X assigns to part {}", i + 1)));
        requests.push(PlannedRequest {
            method: "POST",
            url: format!("{api}/2/tweets"),
            body: Some(create_post(part.text, &media_ids, previous.as_deref())),
            note: if parts.len() > 1 {
                format!("part {} of {}", i + 1, parts.len())
            } else {
                "the post".into()
            },
        });
        previous = Some(post_id);
    }
    Ok(Plan { requests, placeholders })
}
