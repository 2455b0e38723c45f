//! `herald check --fix`: writes the mechanical fixes (prh replacements and
//! width conversions, the findings that carry a `replacement`) back into the
//! post file, and nothing else. The new file is parsed again before it
//! replaces the old one, and it replaces it atomically (a temporary file in
//! the same folder, fsynced, then renamed), so an owner's file is never left
//! half-written or changed in a way herald did not intend.

use std::path::Path;

use chrono_tz::Tz;

use super::locate::locate_parts;
use crate::guidelines::Report;
use crate::queue::{self, Format, Post};
use crate::source::Position;

/// One change written to the file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub rule: String,
    /// Where the replaced text started in the file before the fix.
    pub line: usize,
    pub column: usize,
    pub from: String,
    pub to: String,
}

/// Applies the report's fixes to the file; returns what changed (empty:
/// nothing to fix). An error says why nothing was written.
pub fn apply(
    path: &Path,
    post: &Post,
    report: &Report,
    folder: &Path,
    tz: Tz,
    max_bytes: u64,
) -> Result<Vec<Change>, String> {
    let mut fixes: Vec<_> = report.findings.iter().filter(|f| f.replacement.is_some()).collect();
    if fixes.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(encoding) = post.converted_from {
        return Err(format!(
            "the file is {encoding}, not UTF-8; herald does not rewrite it. Save it as UTF-8 and run --fix again"
        ));
    }
    let format = Format::of(path).ok_or("post files end in .json or .md")?;
    let bytes = queue::post::read_bytes(path, max_bytes).map_err(|e| e.to_string())?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let (text, _) = queue::post::decode(&bytes).map_err(|e| e.to_string())?;
    let texts: Vec<&str> = post.parts.iter().map(|p| p.text.as_str()).collect();
    let places = locate_parts(&text, format, &texts);

    // Earliest first; a fix overlapping an earlier one waits for the next run.
    fixes.sort_by_key(|f| (f.part, f.start, std::cmp::Reverse(f.end)));
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut expected: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    let mut part_edits: Vec<Vec<(usize, usize, &str)>> = vec![Vec::new(); texts.len()];
    let mut changes = Vec::new();
    for f in fixes {
        let Some(place) = places[f.part] else {
            return Err(format!(
                "part {} is written with escapes herald cannot map back to the file; apply the suggestions by hand",
                f.part + 1
            ));
        };
        if part_edits[f.part].last().is_some_and(|(_, end, _)| f.start < *end) {
            continue;
        }
        let replacement = f.replacement.as_deref().unwrap_or_default();
        part_edits[f.part].push((f.start, f.end, replacement));
        let part_text = texts[f.part];
        let (fs, fe) = (
            place.file_offset(part_text, f.start),
            place.file_offset(part_text, f.end),
        );
        edits.push((fs, fe, place.encode(replacement)));
        let at = Position::of_offset(&text, fs);
        changes.push(Change {
            rule: f.rule.clone(),
            line: at.line,
            column: at.column,
            from: f.matched.clone(),
            to: replacement.to_string(),
        });
    }
    for (i, list) in part_edits.iter().enumerate() {
        for (s, e, r) in list.iter().rev() {
            expected[i].replace_range(*s..*e, r);
        }
    }
    edits.sort_by_key(|e| e.0);
    let mut fixed = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e, r) in &edits {
        fixed.push_str(&text[last..*s]);
        fixed.push_str(r);
        last = *e;
    }
    fixed.push_str(&text[last..]);
    let mut out = Vec::with_capacity(fixed.len() + 3);
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(fixed.as_bytes());

    // The fixed file must read back as the same post with the fixed texts.
    let reparsed = queue::post::parse(&out, format, folder, tz)
        .map_err(|e| format!("the fixed file would not read back ({e}); nothing was changed"))?;
    let got: Vec<&str> = reparsed.parts.iter().map(|p| p.text.as_str()).collect();
    if got != expected.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(
            "the fixed file would not read back as intended; nothing was changed. Apply the suggestions by hand".into(),
        );
    }
    write_atomically(path, &out).map_err(|e| format!("cannot write the fixed file: {e}; the original is unchanged"))?;
    Ok(changes)
}

/// Replaces `path` with `bytes`: a temporary file beside it, flushed to
/// disk, with the original's owner, group and permissions, renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let original = std::fs::metadata(path)?;
    // Private until it has the original's owner and permissions.
    crate::queue::write_atomically_with(path, bytes, 0o600, |f| {
        keep_owner(f, &original, path)?;
        // After the chown, which clears set-id bits.
        f.set_permissions(original.permissions())
    })
}

/// Gives the temporary file the original's owner and group, so that an
/// editor or root fixing an owner's file leaves it the owner's. When this
/// user may not (only root may give a file away), the fix is refused
/// rather than the file silently changing hands.
fn keep_owner(tmp: &std::fs::File, original: &std::fs::Metadata, path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mine = tmp.metadata()?;
    let uid = (mine.uid() != original.uid()).then_some(original.uid());
    let gid = (mine.gid() != original.gid()).then_some(original.gid());
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    match std::os::unix::fs::fchown(tmp, uid, gid) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let user = crate::audit::Actor::person(original.uid());
            let group = crate::audit::group_name(original.gid()).unwrap_or_else(|| format!("gid {}", original.gid()));
            Err(std::io::Error::new(
                e.kind(),
                format!(
                    "{} belongs to {user}, group {group}, and replacing it as {} would change its owner. \
                     Run --fix as its owner (or as root), or apply the suggestions by hand",
                    path.display(),
                    crate::audit::Actor::current_user()
                ),
            ))
        }
        other => other,
    }
}
