//! `herald check --format sarif`: the findings as a SARIF 2.1.0 log, for
//! editors and CI systems (GitHub code scanning, VS Code's SARIF viewer).
//! Positions are the file's lines and columns (columns in Unicode code
//! points, declared with `columnKind`); fixes herald can apply are included
//! as SARIF `fixes`.

use std::path::Path;

use serde_json::{json, Value};

use super::locate::{locate_parts, PartInFile};
use crate::config::Severity;
use crate::guidelines::{catalog, redact, Finding};
use crate::queue::{self, Format, Post};
use crate::source::Position;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF's level for a severity: hold and block stop publication (error).
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Warn => "warning",
        Severity::Hold | Severity::Block => "error",
    }
}

/// What one file contributes to the log.
pub enum FileResult<'a> {
    Checked {
        path: &'a Path,
        post: &'a Post,
        findings: &'a [Finding],
    },
    Unreadable {
        path: &'a Path,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn uri(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A region in the file for `start..end` of a part, or of the part itself
/// when the part cannot be located in the file.
/// The snippet is the file's text there, with secrets masked (`shown_part`
/// is the part's text as output may show it).
fn region(
    file: Option<&str>,
    place: Option<PartInFile>,
    part_text: &str,
    shown_part: &str,
    start: usize,
    end: usize,
) -> Option<Value> {
    let (file, place) = (file?, place?);
    let (fs, fe) = (place.file_offset(part_text, start), place.file_offset(part_text, end));
    let (a, b) = (Position::of_offset(file, fs), Position::of_offset(file, fe));
    Some(json!({
        "startLine": a.line, "startColumn": a.column, "endLine": b.line, "endColumn": b.column,
        "snippet": {"text": place.encode(&shown_part[start..end])},
    }))
}

/// The log for all checked files, as one run.
pub fn log(results: &[FileResult<'_>], version: &str) -> Value {
    // Settings sections (quiet-period) make no results: not SARIF rules.
    let mut rule_ids: Vec<String> = catalog::BUILT_IN
        .iter()
        .filter(|b| b.drives.is_none())
        .map(|b| b.id.to_string())
        .collect();
    let mut out = Vec::new();
    let mut notifications = Vec::new();
    for r in results {
        match r {
            FileResult::Unreadable {
                path,
                line,
                column,
                message,
            } => {
                let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri(path)}}});
                if let (Some(l), Some(c)) = (line, column) {
                    loc["physicalLocation"]["region"] = json!({"startLine": l, "startColumn": c});
                }
                notifications.push(json!({
                    "level": "error",
                    "message": {"text": format!("cannot be read: {message}")},
                    "locations": [loc],
                }));
            }
            FileResult::Checked { path, post, findings } => {
                let file = Format::of(path).and_then(|format| {
                    let bytes = std::fs::read(path).ok()?;
                    let (text, converted) = queue::post::decode(&bytes).ok()?;
                    converted.is_none().then_some((text, format))
                });
                let texts: Vec<&str> = post.parts.iter().map(|p| p.text.as_str()).collect();
                let places = match &file {
                    Some((text, format)) => locate_parts(text, *format, &texts),
                    None => vec![None; texts.len()],
                };
                let file_text = file.as_ref().map(|(t, _)| t.as_str());
                let shown: Vec<String> = texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| redact::mask_part(t, i, findings))
                    .collect();
                for f in findings.iter() {
                    if !rule_ids.contains(&f.rule) {
                        rule_ids.push(f.rule.clone());
                    }
                    let index = rule_ids.iter().position(|r| *r == f.rule).expect("just added");
                    let part_text = texts[f.part];
                    let mut physical = json!({"artifactLocation": {"uri": uri(path)}});
                    let found = if f.rule == crate::platform::x::media::MEDIA_RULE {
                        // Already where the file names the media.
                        Some(json!({"startLine": f.line, "startColumn": f.column}))
                    } else {
                        region(file_text, places[f.part], part_text, &shown[f.part], f.start, f.end)
                    };
                    if let Some(reg) = &found {
                        physical["region"] = reg.clone();
                    }
                    let mut text = f.message.clone();
                    if let Some(s) = &f.suggestion {
                        text = format!("{text}. {s}");
                    }
                    if found.is_none() {
                        text = format!(
                            "{text} (part {}, line {}, column {} of the part's text)",
                            f.part + 1,
                            f.line,
                            f.column
                        );
                    }
                    let mut result = json!({
                        "ruleId": f.rule,
                        "ruleIndex": index,
                        "level": level(f.severity),
                        "message": {"text": text},
                        "locations": [{"physicalLocation": physical}],
                        "properties": {"severity": f.severity.name(), "part": f.part + 1, "matched": f.matched},
                    });
                    if let (Some(replacement), Some(reg)) = (&f.replacement, &found) {
                        let mut deleted = reg.clone();
                        deleted.as_object_mut().expect("an object").remove("snippet");
                        result["fixes"] = json!([{
                            "description": {"text": format!("Write \"{replacement}\".")},
                            "artifactChanges": [{
                                "artifactLocation": {"uri": uri(path)},
                                "replacements": [{"deletedRegion": deleted, "insertedContent": {"text": replacement}}],
                            }],
                        }]);
                    }
                    out.push(result);
                }
            }
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match catalog::built_in(id) {
            Some(b) => json!({
                "id": b.id,
                "shortDescription": {"text": b.catches},
                "fullDescription": {"text": format!("{} ({})", b.catches, b.guideline_en)},
                "defaultConfiguration": {"level": level(b.default)},
                "properties": {"defaultSeverity": b.default.name()},
            }),
            None => json!({"id": id, "shortDescription": {"text": format!("the rulebook's rule {id}")}}),
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "herald",
                "version": version,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": out,
        }],
    })
}
