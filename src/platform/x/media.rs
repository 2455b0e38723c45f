//! What X accepts as a post's media, checked before anything is uploaded:
//! up to 4 photos, or 1 animated GIF, or 1 video per post (never mixed);
//! alt text of at most 1000 characters; sizes within X's limits (images
//! 5 MB, GIFs 15 MB, videos 512 MB); and a file whose content is what its
//! name says (X sniffs the bytes, not the name).
//!
//! X documents alt text (`POST /2/media/metadata`) for images and GIFs
//! only, so herald does not send the alt text of a video: `check` says so,
//! and the owner describes the video in the post's text instead.
//!
//! `herald check` reports each problem as a finding (rule [`MEDIA_RULE`]),
//! `herald preview` refuses to plan such a post, and the daemon rejects it
//! at ingest with the owner's note, before any upload.

use std::io::Read;
use std::path::Path;

use super::requests::{media_kind, MediaKind};

/// The rule id of media findings.
pub const MEDIA_RULE: &str = "x-media";
/// Photos one post may carry.
pub const MAX_PHOTOS: usize = 4;
/// Alt text, in characters (`CreateMediaMetadataMetadataAltText.maxLength`).
pub const MAX_ALT_CHARS: usize = 1000;
pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
pub const MAX_GIF_BYTES: u64 = 15 * 1024 * 1024;
pub const MAX_VIDEO_BYTES: u64 = 512 * 1024 * 1024;

/// One media file as the post names it.
pub struct MediaEntry<'a> {
    /// As written in the post file.
    pub name: &'a str,
    pub path: &'a Path,
    pub alt: Option<&'a str>,
}

/// Something X would refuse (or, for `refused == false`, ignore).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaProblem {
    /// The thread part, 0-based.
    pub part: usize,
    /// The media file it is about, as the post names it.
    pub name: String,
    /// X would refuse the post; false: X would only ignore something.
    pub refused: bool,
    pub message: String,
    pub suggestion: String,
}

/// What X calls a file by its first bytes; None when it is none of the
/// kinds X takes.
fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        // ISO base media: MP4 and QuickTime share the `ftyp` box.
        Some(if &head[8..10] == b"qt" {
            "video/quicktime"
        } else {
            "video/mp4"
        })
    } else {
        None
    }
}

/// The problems X would have with each part's media (`parts[i]` lists part
/// `i`'s files). Reads each file's size and first bytes.
pub fn media_problems(parts: &[Vec<MediaEntry<'_>>]) -> Vec<MediaProblem> {
    let mut out = Vec::new();
    for (i, media) in parts.iter().enumerate() {
        let mut problem = |name: &str, refused: bool, message: String, suggestion: &str| {
            out.push(MediaProblem {
                part: i,
                name: name.to_string(),
                refused,
                message,
                suggestion: suggestion.to_string(),
            })
        };
        let mut kinds: Vec<(&str, MediaKind)> = Vec::new();
        for m in media {
            let kind = match media_kind(m.path) {
                Ok(k) => k,
                Err(_) => {
                    problem(
                        m.name,
                        true,
                        format!("X does not take \"{}\": not a kind of file X accepts", m.name),
                        "Use a .jpg, .png, .webp or .gif image, or an .mp4 or .mov video.",
                    );
                    continue;
                }
            };
            kinds.push((m.name, kind));
            let mut head = [0u8; 16];
            let read = std::fs::File::open(m.path).and_then(|mut f| {
                let size = f.metadata()?.len();
                let n = f.read(&mut head)?;
                Ok((size, n))
            });
            let Ok((size, n)) = read else {
                problem(
                    m.name,
                    true,
                    format!("\"{}\" cannot be read", m.name),
                    "Put the file in the account's folder, readable by herald.",
                );
                continue;
            };
            match sniff(&head[..n]) {
                Some(found) if found == kind.media_type => {}
                found => problem(
                    m.name,
                    true,
                    format!(
                        "\"{}\" is named as {} but its content is {}; X judges a file by its content",
                        m.name,
                        kind.media_type,
                        found.unwrap_or("none of the kinds X accepts")
                    ),
                    "Export the file again in the format its name says, or rename it to match its content.",
                ),
            }
            let (limit, what) = match kind.category {
                "tweet_video" => (MAX_VIDEO_BYTES, "a video"),
                "tweet_gif" => (MAX_GIF_BYTES, "a GIF"),
                _ => (MAX_IMAGE_BYTES, "an image"),
            };
            if size > limit {
                problem(
                    m.name,
                    true,
                    format!(
                        "\"{}\" is {} bytes; X takes {what} of at most {} MB",
                        m.name,
                        size,
                        limit / (1024 * 1024)
                    ),
                    "Make the file smaller (lower resolution or quality).",
                );
            }
            if let Some(alt) = m.alt {
                let chars = alt.chars().count();
                if kind.category == "tweet_video" && !alt.trim().is_empty() {
                    problem(
                        m.name,
                        false,
                        format!(
                            "X takes alt text for images and GIFs only; herald does not send the alt text of the video \"{}\"",
                            m.name
                        ),
                        "Describe the video in the post's text.",
                    );
                } else if chars > MAX_ALT_CHARS {
                    problem(
                        m.name,
                        true,
                        format!(
                            "the alt text of \"{}\" is {chars} characters; X takes at most {MAX_ALT_CHARS}",
                            m.name
                        ),
                        "Shorten the alt text.",
                    );
                }
            }
        }
        let photos = kinds.iter().filter(|(_, k)| k.category == "tweet_image").count();
        let moving: Vec<&str> = kinds
            .iter()
            .filter(|(_, k)| k.category != "tweet_image")
            .map(|(n, _)| *n)
            .collect();
        if !moving.is_empty() && kinds.len() > 1 {
            let name = moving.first().copied().unwrap_or_default();
            problem(
                name,
                true,
                format!(
                    "a post on X carries up to {MAX_PHOTOS} photos, or one GIF, or one video, never together; this part has {} files with \"{name}\"",
                    kinds.len()
                ),
                "Put the GIF or video in a post (or thread part) of its own.",
            );
        } else if photos > MAX_PHOTOS {
            let name = kinds.get(MAX_PHOTOS).map(|(n, _)| *n).unwrap_or_default();
            problem(
                name,
                true,
                format!("a post on X carries at most {MAX_PHOTOS} photos; this part has {photos}"),
                "Keep four photos, or move the others to a next thread part.",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nimage";
    const GIF: &[u8] = b"GIF89a....";
    const MP4: &[u8] = b"\0\0\0\x18ftypisom....";

    #[test]
    fn five_photos_a_gif_with_a_photo_and_a_mislabelled_file_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<_> = (0..5).map(|i| write(dir.path(), &format!("p{i}.png"), PNG)).collect();
        let gif = write(dir.path(), "a.gif", GIF);
        let fake_png = write(dir.path(), "fake.png", b"GIF89a....");
        let names: Vec<String> = (0..5).map(|i| format!("p{i}.png")).collect();
        let entry = |i: usize| MediaEntry {
            name: &names[i],
            path: &paths[i],
            alt: Some("写真"),
        };
        let parts = vec![
            (0..4).map(entry).collect::<Vec<_>>(),
            (0..5).map(entry).collect(),
            vec![
                entry(0),
                MediaEntry {
                    name: "a.gif",
                    path: &gif,
                    alt: None,
                },
            ],
            vec![MediaEntry {
                name: "fake.png",
                path: &fake_png,
                alt: None,
            }],
        ];
        let problems = media_problems(&parts);
        let parts_with: Vec<usize> = problems.iter().map(|p| p.part).collect();
        assert_eq!(parts_with, vec![1, 2, 3], "{problems:?}");
        assert_eq!(problems[0].name, "p4.png");
        assert!(problems[1].message.contains("never together"));
        assert!(problems[2].message.contains("its content is image/gif"));
        assert!(problems.iter().all(|p| p.refused));
    }

    #[test]
    fn alt_text_over_1000_characters_is_refused_and_a_videos_alt_is_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let png = write(dir.path(), "p.png", PNG);
        let mp4 = write(dir.path(), "v.mp4", MP4);
        let long = "あ".repeat(1001);
        let just = "あ".repeat(1000);
        let problems = media_problems(&[
            vec![MediaEntry {
                name: "p.png",
                path: &png,
                alt: Some(&long),
            }],
            vec![MediaEntry {
                name: "p.png",
                path: &png,
                alt: Some(&just),
            }],
            vec![MediaEntry {
                name: "v.mp4",
                path: &mp4,
                alt: Some("工場"),
            }],
        ]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].refused && problems[0].message.contains("1001 characters"));
        assert!(!problems[1].refused && problems[1].part == 2, "{problems:?}");
    }

    #[test]
    fn sizes_are_checked_against_xs_limits() {
        let dir = tempfile::tempdir().unwrap();
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES as usize + 1, 0);
        let p = write(dir.path(), "big.png", &big);
        let problems = media_problems(&[vec![MediaEntry {
            name: "big.png",
            path: &p,
            alt: Some("大きな写真"),
        }]]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("at most 5 MB"), "{problems:?}");
    }
}
