//! What a post file says, and how to read it: JSON, or Markdown with a YAML
//! front matter. Every error names the line and column and says what to do,
//! in words an owner who is not a programmer can follow.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::schedule::{parse_instant, CronSpec, When};
use crate::source::Position;

/// What kind of post this is; some rules and the freeze depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    News,
    Announcement,
    Promotion,
    Sponsored,
    Event,
    Recruiting,
    Support,
    Emergency,
}

impl Kind {
    pub const ALL: &'static [&'static str] = &[
        "news",
        "announcement",
        "promotion",
        "sponsored",
        "event",
        "recruiting",
        "support",
        "emergency",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::News => "news",
            Kind::Announcement => "announcement",
            Kind::Promotion => "promotion",
            Kind::Sponsored => "sponsored",
            Kind::Event => "event",
            Kind::Recruiting => "recruiting",
            Kind::Support => "support",
            Kind::Emergency => "emergency",
        }
    }
}

/// An image or video attached to a part, resolved inside the account's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    /// As written in the file, relative to the account's folder.
    pub relative: String,
    /// Canonical path, proven to be inside the account's folder.
    pub path: PathBuf,
    pub alt: Option<String>,
}

/// One post of a thread (a single post is a thread of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub text: String,
    pub media: Vec<Media>,
}

/// A post file's contents, checked.
#[derive(Debug, Clone)]
pub struct Post {
    pub parts: Vec<Part>,
    pub when: When,
    pub kind: Kind,
    pub labels: Vec<String>,
    pub approvals: Vec<String>,
    pub language: Option<String>,
    pub max_lateness: Option<Duration>,
    /// Set when the file was not UTF-8 and herald converted it faithfully.
    pub converted_from: Option<&'static str>,
}

/// Why a post file cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", position.map(|p| format!("line {}, column {}: ", p.line, p.column)).unwrap_or_default())]
pub struct PostError {
    pub position: Option<Position>,
    /// What is wrong and what to do.
    pub message: String,
}

impl PostError {
    fn at(position: Option<Position>, message: impl Into<String>) -> PostError {
        PostError {
            position,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPost {
    text: Option<String>,
    thread: Option<Vec<RawPart>>,
    media: Option<Vec<RawMedia>>,
    at: Option<String>,
    cron: Option<String>,
    until: Option<String>,
    count: Option<u32>,
    kind: Option<Kind>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    approvals: Vec<String>,
    language: Option<String>,
    max_lateness: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPart {
    Text(String),
    Full(RawFullPart),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFullPart {
    text: String,
    #[serde(default)]
    media: Vec<RawMedia>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMedia {
    path: String,
    alt: Option<String>,
}

/// Which syntax a post file uses, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
}

impl Format {
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// Turns a file's bytes into text. UTF-8 (with or without BOM) and UTF-16
/// with a BOM are read as they are; Japanese legacy encodings (Shift_JIS from
/// a Windows editor, EUC-JP) are converted only when every byte decodes;
/// anything else is refused with the encoding's name, so that mojibake is
/// never published.
pub fn decode(bytes: &[u8]) -> Result<(String, Option<&'static str>), PostError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        return match encoding.decode_without_bom_handling_and_without_replacement(body) {
            Some(text) if encoding == encoding_rs::UTF_8 => Ok((text.into_owned(), None)),
            Some(text) => Ok((text.into_owned(), Some(encoding.name()))),
            None => Err(PostError::at(
                None,
                format!("the file starts with a {} byte-order mark but is not valid {}. Save it again as UTF-8 and drop it again.", encoding.name(), encoding.name()),
            )),
        };
    }
    if bytes.contains(&0) {
        return Err(PostError::at(
            None,
            "this is not a text file (it contains binary data). Post files are text: JSON or Markdown saved as UTF-8.",
        ));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), None));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    let japanese = [encoding_rs::SHIFT_JIS, encoding_rs::EUC_JP, encoding_rs::ISO_2022_JP];
    if japanese.contains(&guess) {
        if let Some(text) = guess.decode_without_bom_handling_and_without_replacement(bytes) {
            return Ok((text.into_owned(), Some(guess.name())));
        }
    }
    let first_bad = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to()).unwrap_or(0);
    let valid = String::from_utf8_lossy(&bytes[..first_bad]).into_owned();
    Err(PostError::at(
        Some(Position::of_offset(&valid, valid.len())),
        format!(
            "the file is not UTF-8; it looks like {}. Herald does not guess, so that no garbled text is ever published: save the file as UTF-8 (in Notepad: File > Save As > Encoding: UTF-8) and drop it again.",
            guess.name()
        ),
    ))
}

/// Reads a post file from disk: size limit, encoding, then [`parse`].
pub fn read(path: &Path, folder: &Path, tz: Tz, max_bytes: u64) -> Result<Post, PostError> {
    let bytes = read_bytes(path, max_bytes)?;
    let format = Format::of(path).ok_or_else(|| PostError::at(None, "post files end in .json or .md"))?;
    parse(&bytes, format, folder, tz)
}

/// A post file's bytes, refusing (unread) a file larger than `max_bytes`.
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, PostError> {
    let cannot = |e: std::io::Error| PostError::at(None, format!("cannot read the file: {e}"));
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > max_bytes {
        return Err(PostError::at(
            None,
            format!(
                "the file is too large ({size} bytes; the limit is {max_bytes}). A post file holds only text and settings; put images beside it and name them under \"media\"."
            ),
        ));
    }
    std::fs::read(path).map_err(cannot)
}

/// Parses a post file's bytes.
pub fn parse(bytes: &[u8], format: Format, folder: &Path, tz: Tz) -> Result<Post, PostError> {
    let (text, converted_from) = decode(bytes)?;
    let mut post = match format {
        Format::Json => parse_json(&text, folder, tz)?,
        Format::Markdown => parse_markdown(&text, folder, tz)?,
    };
    post.converted_from = converted_from;
    Ok(post)
}

/// serde_json counts columns in bytes; owners count characters.
fn json_position(text: &str, line: usize, byte_column: usize) -> Position {
    let line_text = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let mut end = byte_column.saturating_sub(1).min(line_text.len());
    while !line_text.is_char_boundary(end) {
        end -= 1;
    }
    Position {
        line,
        column: line_text[..end].chars().count() + 1,
    }
}

fn friendly_serde_message(message: &str) -> String {
    let mut m = message.to_string();
    if let Some(i) = m.find(" at line ") {
        m.truncate(i);
    }
    if m.contains("unknown field") {
        m.push_str(". Check the spelling; the fields are listed in queue/README.md");
    } else if m.contains("unknown variant") && m.contains("news") {
        m = format!("{m}. The kind must be one of: {}", Kind::ALL.join(", "));
    } else if m.contains("did not match any variant of untagged enum RawPart") {
        m = "each part of a thread is either a text in quotes, or {\"text\": \"...\", \"media\": [...]}".to_string();
    } else if m.starts_with("EOF while parsing") {
        m.push_str(
            ": the file ends too early. Check that every { and [ is closed and the last value has no trailing comma",
        );
    } else if m.starts_with("trailing comma") {
        m.push_str(": remove the comma before the closing bracket");
    } else if m.starts_with("expected") || m.starts_with("key must be") {
        m.push_str(". Check the quotes and commas around this place");
    }
    m
}

/// Where `"key":` first appears in JSON text, for errors about a value.
fn json_key_position(text: &str, key: &str) -> Option<Position> {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let rest = text[at + needle.len()..].trim_start();
        if rest.starts_with(':') {
            let value = at + needle.len() + (text[at + needle.len()..].len() - rest.len()) + 1;
            let value = value + (text[value..].len() - text[value..].trim_start().len());
            return Some(Position::of_offset(text, value));
        }
        from = at + needle.len();
    }
    None
}

/// Where `key:` first appears at the start of a YAML line, shifted to file lines.
fn yaml_key_position(yaml: &str, key: &str, first_line: usize) -> Option<Position> {
    let prefix = format!("{key}:");
    yaml.lines()
        .enumerate()
        .find(|(_, l)| l.starts_with(&prefix))
        .map(|(i, l)| Position {
            line: first_line + i,
            column: l[..prefix.len()].chars().count()
                + 1
                + (l.len() - prefix.len() - l[prefix.len()..].trim_start().len()),
        })
}

fn parse_json(text: &str, folder: &Path, tz: Tz) -> Result<Post, PostError> {
    let raw: RawPost = serde_json::from_str(text).map_err(|e| {
        let position = (e.line() > 0).then(|| json_position(text, e.line(), e.column()));
        PostError::at(position, friendly_serde_message(&e.to_string()))
    })?;
    let locate = |key: &str| json_key_position(text, key);
    build(raw, None, folder, tz, &locate)
}

/// How deep a post's front matter may nest lists and maps. A post's
/// settings need two levels (`media:` holding `- file: …`); the bound keeps
/// a hostile or broken file (`[[[[…` 100,000 deep) from costing the YAML
/// parser time that grows with the square of its depth.
const MAX_NESTING: usize = 32;

/// Refuses front matter nested deeper than [`MAX_NESTING`], naming where,
/// before the YAML parser sees it. Counts flow brackets (`[`, `{`) outside
/// quotes and comments, and block nesting by indentation and `- ` chains.
fn check_nesting(yaml: &str) -> Result<(), PostError> {
    let too_deep = |line: usize, column: usize| {
        PostError::at(
            Some(Position { line: line + 2, column }),
            format!(
                "the front matter nests lists or settings more than {MAX_NESTING} levels deep here. A post's settings need at most two levels (for example \"labels: [PR, 広告]\" or a media list); remove the extra brackets or indentation."
            ),
        )
    };
    let mut flow = 0usize;
    for (n, line) in yaml.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut dashes = 0;
        let mut rest = &line[indent..];
        while let Some(r) = rest.strip_prefix("- ") {
            dashes += 1;
            rest = r.trim_start_matches(' ');
        }
        if indent / 2 + dashes > MAX_NESTING * 2 {
            return Err(too_deep(n, indent + 1));
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow > MAX_NESTING {
                        return Err(too_deep(n, column + 1));
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    Ok(())
}

/// Splits a Markdown post into its front matter (YAML between `---` lines)
/// and body; the body's `---` lines separate the parts of a thread.
fn parse_markdown(text: &str, folder: &Path, tz: Tz) -> Result<Post, PostError> {
    let normalized = text.replace("\r\n", "\n");
    let (yaml, body, body_line) = match normalized.strip_prefix("---\n") {
        Some(rest) => {
            let end = if rest.starts_with("---\n") || rest == "---" {
                Some(0)
            } else {
                rest.find("\n---\n")
                    .map(|i| i + 1)
                    .or_else(|| rest.strip_suffix("\n---").map(|r| r.len() + 1))
            };
            let Some(end) = end else {
                return Err(PostError::at(
                    Some(Position { line: 1, column: 1 }),
                    "the front matter that starts on line 1 with --- is never closed. Add a line with only --- after the settings, then the text.",
                ));
            };
            let yaml = &rest[..end];
            let body = rest[end..]
                .strip_prefix("---")
                .unwrap_or("")
                .strip_prefix('\n')
                .unwrap_or("");
            let body_line = 2 + yaml.lines().count() + 1;
            (yaml.to_string(), body.to_string(), body_line)
        }
        None => (String::new(), normalized.clone(), 1),
    };
    let raw: RawPost = if yaml.trim().is_empty() {
        RawPost {
            text: None,
            thread: None,
            media: None,
            at: None,
            cron: None,
            until: None,
            count: None,
            kind: None,
            labels: vec![],
            approvals: vec![],
            language: None,
            max_lateness: None,
        }
    } else {
        check_nesting(&yaml)?;
        serde_yaml_ng::from_str(&yaml).map_err(|e| {
            let position = e.location().map(|l| Position {
                line: l.line() + 1,
                column: l.column(),
            });
            let mut message = friendly_serde_message(&e.to_string());
            if message.contains("invalid type: string") && message.contains("expected struct RawPost") {
                message = "the front matter must be settings written as \"name: value\" lines".to_string();
            }
            PostError::at(position, message)
        })?
    };
    if raw.text.is_some() || raw.thread.is_some() {
        let key = if raw.text.is_some() { "text" } else { "thread" };
        return Err(PostError::at(
            yaml_key_position(&yaml, key, 2),
            format!("in a Markdown post the text goes below the front matter, not in \"{key}:\". Move it below the closing --- line (separate thread parts with a line of ---)."),
        ));
    }
    let parts: Vec<String> = split_thread(&body);
    let locate = |key: &str| yaml_key_position(&yaml, key, 2);
    let parts_position = Position {
        line: body_line,
        column: 1,
    };
    build(raw, Some((parts, parts_position)), folder, tz, &locate)
}

fn split_thread(body: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for line in body.split('\n') {
        if line.trim_end() == "---" {
            parts.push(String::new());
        } else {
            let current = parts.last_mut().expect("parts is never empty");
            current.push_str(line);
            current.push('\n');
        }
    }
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

fn build(
    raw: RawPost,
    markdown_parts: Option<(Vec<String>, Position)>,
    folder: &Path,
    tz: Tz,
    locate: &dyn Fn(&str) -> Option<Position>,
) -> Result<Post, PostError> {
    let media_of = |list: Vec<RawMedia>, key: &str| -> Result<Vec<Media>, PostError> {
        list.into_iter()
            .map(|m| resolve_media(m, folder).map_err(|msg| PostError::at(locate(key), msg)))
            .collect()
    };
    let top_media = media_of(raw.media.unwrap_or_default(), "media")?;
    let mut parts: Vec<Part> = match (raw.text, raw.thread, markdown_parts) {
        (_, _, Some((texts, position))) => {
            if texts.iter().all(|t| t.is_empty()) {
                return Err(PostError::at(
                    Some(position),
                    "the post has no text. Write it below the front matter.",
                ));
            }
            if let Some(i) = texts.iter().position(String::is_empty) {
                return Err(PostError::at(
                    Some(position),
                    format!(
                        "part {} of the thread is empty. Remove the extra --- line or write the part.",
                        i + 1
                    ),
                ));
            }
            texts.into_iter().map(|text| Part { text, media: vec![] }).collect()
        }
        (Some(_), Some(_), None) => {
            return Err(PostError::at(
                locate("thread"),
                "the post has both \"text\" and \"thread\". Use \"text\" for a single post, or \"thread\" for several posts in a row, not both.",
            ));
        }
        (None, None, None) => {
            return Err(PostError::at(
                Some(Position { line: 1, column: 1 }),
                "the post has no text. Add \"text\": \"...\" (or \"thread\": [\"...\", \"...\"]).",
            ));
        }
        (Some(text), None, None) => {
            if text.trim().is_empty() {
                return Err(PostError::at(
                    locate("text"),
                    "the text is empty. Write the post's text between the quotes.",
                ));
            }
            vec![Part { text, media: vec![] }]
        }
        (None, Some(thread), None) => {
            if thread.is_empty() {
                return Err(PostError::at(
                    locate("thread"),
                    "the thread has no parts. List at least one text.",
                ));
            }
            let mut parts = Vec::new();
            for (i, p) in thread.into_iter().enumerate() {
                let (text, media) = match p {
                    RawPart::Text(t) => (t, vec![]),
                    RawPart::Full(f) => (f.text, media_of(f.media, "thread")?),
                };
                if text.trim().is_empty() {
                    return Err(PostError::at(
                        locate("thread"),
                        format!("part {} of the thread is empty. Write it or remove it.", i + 1),
                    ));
                }
                parts.push(Part { text, media });
            }
            parts
        }
    };
    if !top_media.is_empty() {
        let first = &mut parts[0];
        let mut media = top_media;
        media.append(&mut first.media);
        first.media = media;
    }

    if raw.cron.is_none() && (raw.until.is_some() || raw.count.is_some()) {
        let key = if raw.until.is_some() { "until" } else { "count" };
        return Err(PostError::at(
            locate(key),
            format!("\"{key}\" only applies to a recurring post; add \"cron\" or remove \"{key}\"."),
        ));
    }
    let when = match (raw.at, raw.cron) {
        (Some(_), Some(_)) => {
            return Err(PostError::at(
                locate("cron"),
                "the post has both \"at\" (publish once) and \"cron\" (publish repeatedly). Keep one of them.",
            ));
        }
        (Some(at), None) => When::At(parse_instant(&at, tz).map_err(|m| PostError::at(locate("at"), format!("{m}.")))?),
        (None, Some(expr)) => {
            let spec = CronSpec::parse(&expr).map_err(|e| {
                let position = locate("cron").map(|p| Position {
                    line: p.line,
                    column: p.column + e.column,
                });
                PostError::at(
                    position,
                    format!("the cron expression \"{expr}\" is not valid: {}", e.message),
                )
            })?;
            let until = match raw.until {
                Some(u) => Some(parse_instant(&u, tz).map_err(|m| PostError::at(locate("until"), format!("{m}.")))?),
                None => None,
            };
            if raw.count == Some(0) {
                return Err(PostError::at(
                    locate("count"),
                    "\"count\" is 0, so the post would never be published. Give a positive number or remove it.",
                ));
            }
            When::Cron {
                spec,
                until,
                count: raw.count,
            }
        }
        (None, None) => When::Asap,
    };
    let max_lateness = match raw.max_lateness {
        Some(text) => Some(
            crate::config::parse_duration(&text).map_err(|m| PostError::at(locate("max_lateness"), format!("{m}.")))?,
        ),
        None => None,
    };
    Ok(Post {
        parts,
        when,
        kind: raw.kind.unwrap_or(Kind::News),
        labels: raw.labels,
        approvals: raw.approvals,
        language: raw.language,
        max_lateness,
        converted_from: None,
    })
}

/// Media paths stay inside the account's folder (DESIGN.md invariant 4): no
/// absolute paths, no `..`, and no symbolic link that leads outside.
fn resolve_media(raw: RawMedia, folder: &Path) -> Result<Media, String> {
    let rel = Path::new(&raw.path);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "the media path \"{}\" points outside the account's folder. Put the image in the same folder as the post (or a subfolder) and write its name, like \"photo.jpg\".",
            raw.path
        ));
    }
    let folder = folder
        .canonicalize()
        .map_err(|e| format!("cannot resolve the account's folder: {e}"))?;
    let path = folder.join(rel).canonicalize().map_err(|_| {
        format!("the media file \"{}\" does not exist. Put it in the account's folder beside the post, or correct the name.", raw.path)
    })?;
    if !path.starts_with(&folder) {
        return Err(format!(
            "the media path \"{}\" leads outside the account's folder (through a link). Copy the file into the folder instead.",
            raw.path
        ));
    }
    if !path.is_file() {
        return Err(format!("the media path \"{}\" is not a file.", raw.path));
    }
    Ok(Media {
        relative: raw.path,
        path,
        alt: raw.alt,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn front_matter_nested_100000_deep_is_refused_at_once_with_its_place() {
        let folder = std::path::Path::new("/nonexistent");
        for (deep, line) in [
            (format!("---\nlabels: {}\n---\ntext\n", "[".repeat(100_000)), 2),
            (
                format!(
                    "---\nlabels: {}a{}\n---\ntext\n",
                    "{x: ".repeat(50_000),
                    "}".repeat(50_000)
                ),
                2,
            ),
            (format!("---\nlabels:\n{}x\n---\ntext\n", "- ".repeat(100_000)), 3),
        ] {
            let e = parse(deep.as_bytes(), Format::Markdown, folder, chrono_tz::Asia::Tokyo).unwrap_err();
            assert!(e.message.contains("more than 32 levels"), "{}", e.message);
            assert_eq!(e.position.map(|p| p.line), Some(line));
        }
        // Brackets inside quotes or comments are text, and normal settings pass.
        let fine = "---\nlabels: [\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\", b] # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n---\ntext\n";
        let post = parse(fine.as_bytes(), Format::Markdown, folder, chrono_tz::Asia::Tokyo).unwrap();
        assert_eq!(post.labels.len(), 2);
    }

    use super::*;
    use chrono_tz::Asia::Tokyo;

    fn json(text: &str) -> Result<Post, PostError> {
        parse(text.as_bytes(), Format::Json, Path::new("."), Tokyo)
    }

    fn md(text: &str) -> Result<Post, PostError> {
        parse(text.as_bytes(), Format::Markdown, Path::new("."), Tokyo)
    }

    #[test]
    fn a_minimal_json_post_is_news_as_soon_as_possible() {
        let p = json(r#"{"text": "こんにちは"}"#).unwrap();
        assert_eq!(p.parts[0].text, "こんにちは");
        assert!(matches!(p.when, When::Asap));
        assert_eq!(p.kind, Kind::News);
    }

    #[test]
    fn a_local_time_is_in_the_accounts_zone() {
        let p = json(r#"{"text": "x", "at": "2026-12-01 09:00"}"#).unwrap();
        let When::At(t) = p.when else { panic!("expected at") };
        assert_eq!(t.to_rfc3339(), "2026-12-01T00:00:00+00:00");
    }

    #[test]
    fn an_unknown_field_names_its_line_and_column() {
        let e = json("{\n  \"text\": \"x\",\n  \"colour\": \"red\"\n}").unwrap_err();
        assert_eq!(e.position.unwrap().line, 3);
        assert!(e.message.contains("unknown field `colour`"), "{}", e.message);
    }

    #[test]
    fn bad_json_points_at_the_problem() {
        let e = json("{\n  \"text\": \"x\",\n}").unwrap_err();
        assert_eq!(e.position.unwrap().line, 3);
        assert!(e.message.contains("comma"), "{}", e.message);
    }

    #[test]
    fn text_and_thread_both_is_an_error_at_thread() {
        let e = json("{\"text\": \"a\",\n \"thread\": [\"b\"]}").unwrap_err();
        assert_eq!(e.position.unwrap(), Position { line: 2, column: 12 });
        assert!(e.message.contains("both"));
    }

    #[test]
    fn missing_text_is_an_error() {
        let e = json(r#"{"kind": "news"}"#).unwrap_err();
        assert!(e.message.contains("no text"), "{}", e.message);
    }

    #[test]
    fn an_unknown_kind_lists_the_kinds() {
        let e = json(r#"{"text": "a", "kind": "advert"}"#).unwrap_err();
        assert!(e.message.contains("sponsored"), "{}", e.message);
    }

    #[test]
    fn a_bad_time_says_how_to_write_one() {
        let e = json("{\"text\": \"a\",\n\"at\": \"tomorrow 9am\"}").unwrap_err();
        assert_eq!(e.position.unwrap().line, 2);
        assert!(e.message.contains("2026-12-01 09:00"));
    }

    #[test]
    fn markdown_front_matter_and_thread_parts() {
        let p = md("---\nkind: event\ncron: \"0 9 * * 1-5\"\n---\nfirst part\n---\nsecond part\n").unwrap();
        assert_eq!(p.kind, Kind::Event);
        assert_eq!(p.parts.len(), 2);
        assert_eq!(p.parts[1].text, "second part");
        assert!(p.when.is_recurring());
    }

    #[test]
    fn markdown_without_front_matter_is_just_text() {
        let p = md("Hello\n\nworld\n").unwrap();
        assert_eq!(p.parts[0].text, "Hello\n\nworld");
    }

    #[test]
    fn markdown_yaml_errors_are_file_lines() {
        let e = md("---\nkind: news\nat: [\n---\ntext\n").unwrap_err();
        assert!(e.position.unwrap().line >= 3, "{e}");
    }

    #[test]
    fn markdown_unclosed_front_matter() {
        let e = md("---\nkind: news\ntext\n").unwrap_err();
        assert!(e.message.contains("never closed"));
    }

    #[test]
    fn utf8_bom_is_accepted() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("{\"text\": \"おはよう\"}".as_bytes());
        let p = parse(&bytes, Format::Json, Path::new("."), Tokyo).unwrap();
        assert_eq!(p.parts[0].text, "おはよう");
        assert_eq!(p.converted_from, None);
    }

    #[test]
    fn shift_jis_is_converted_faithfully() {
        let (bytes, _, _) =
            encoding_rs::SHIFT_JIS.encode("{\"text\": \"本日、新製品を発表しました。ぜひご覧ください。\"}");
        let p = parse(&bytes, Format::Json, Path::new("."), Tokyo).unwrap();
        assert_eq!(p.parts[0].text, "本日、新製品を発表しました。ぜひご覧ください。");
        assert_eq!(p.converted_from, Some("Shift_JIS"));
    }

    #[test]
    fn latin1_is_refused_by_name() {
        let bytes = b"{\"text\": \"Caf\xe9 cr\xe8me br\xfbl\xe9e\"}";
        let e = parse(bytes, Format::Json, Path::new("."), Tokyo).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
        assert!(e.message.contains("windows-1252"), "{}", e.message);
    }

    #[test]
    fn binary_files_are_refused() {
        let e = parse(b"\x89PNG\r\n\x1a\n\0\0\0", Format::Json, Path::new("."), Tokyo).unwrap_err();
        assert!(e.message.contains("not a text file"));
    }

    #[test]
    fn media_outside_the_folder_is_refused() {
        let e = json(r#"{"text": "a", "media": [{"path": "../secret.png", "alt": "x"}]}"#).unwrap_err();
        assert!(e.message.contains("outside the account's folder"), "{}", e.message);
    }

    #[test]
    fn cron_errors_point_into_the_expression() {
        let e = json("{\"text\": \"a\",\n\"cron\": \"0 9 * *\"}").unwrap_err();
        assert_eq!(e.position.unwrap().line, 2);
        assert!(e.message.contains("not valid"));
    }
}
