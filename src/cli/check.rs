//! `herald check`: what an owner runs before dropping a file. It reads the
//! file exactly as the daemon will, runs the same guideline checks, and
//! shows each finding with a caret under it. It never needs the network.
//!
//! Exit status: 0 publishable (pass or warn), 1 would be held, 2 would be
//! blocked, 3 a file, a `--prh` dictionary or the config could not be read.
//!
//! As a linter: `--fix` writes the prh and width fixes back into the file
//! (see [`fix`]), `--prh FILE` tries an extra prh dictionary, and
//! `--format sarif` writes a SARIF 2.1.0 log (see [`sarif`]).

mod fix;
mod locate;
mod sarif;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::{Account, Config, PlatformKind};
use crate::guidelines::{Draft, Guidelines, Report, TextMetric, Verdict};
use crate::queue::{self, Post, PostError};
use crate::schedule::{parse_instant, rfc3339_in, upcoming};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The account to check for [default: the file's queue folder].
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Evaluate as if it were this instant (RFC 3339, or local time in the account's zone).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Measure and check the text as for this platform, whatever the account's
    /// (sandbox, x, mastodon, bluesky, misskey): try a draft before it has a folder.
    #[arg(long, value_name = "PLATFORM", value_parser = ["sandbox", "x", "mastodon", "bluesky", "misskey"])]
    pub platform: Option<String>,
    /// human, json (one JSON object per line, per file) or sarif (one SARIF 2.1.0 log for all files).
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json", "sarif"])]
    pub format: String,
    /// Write the prh and width fixes back into the file (nothing else), then check it again.
    #[arg(long)]
    pub fix: bool,
    /// An extra prh dictionary for this run (repeatable); its findings have the rule id `proofreading`.
    #[arg(long, value_name = "FILE")]
    pub prh: Vec<PathBuf>,
    /// Post files (.json or .md).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What checking one file found.
enum Outcome<'a> {
    Checked {
        account: &'a Account,
        post: Box<Post>,
        report: Report,
        now: DateTime<Utc>,
        /// How the platform measures text (the account's, or `--platform`).
        metric: Box<dyn TextMetric>,
        /// What creating it costs on X, for an X account ([costs]).
        cost: Option<(crate::alerts::costs::PostCost, String)>,
    },
    Unreadable {
        account: Option<&'a Account>,
        error: PostError,
    },
}

impl Outcome<'_> {
    fn exit_code(&self) -> u8 {
        match self {
            Outcome::Checked { report, .. } => match report.verdict {
                Verdict::Pass | Verdict::Warn => 0,
                Verdict::Hold => 1,
                Verdict::Block => 2,
            },
            Outcome::Unreadable { .. } => 3,
        }
    }
}

/// The platform whose rules measure the text: `--platform`, else the account's.
fn platform_for(args: &CheckArgs, account: &Account) -> PlatformKind {
    match args.platform.as_deref() {
        Some("sandbox") => PlatformKind::Sandbox,
        Some("x") => PlatformKind::X,
        Some("mastodon") => PlatformKind::Mastodon,
        Some("bluesky") => PlatformKind::Bluesky,
        Some("misskey") => PlatformKind::Misskey,
        _ => account.platform,
    }
}

/// The account a file is for: `--account`, else the folder that holds it.
fn account_for<'c>(config: &'c Config, file: &Path, flag: Option<&str>) -> Result<&'c Account, PostError> {
    let id = match flag {
        Some(id) => id.to_string(),
        None => file
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_default(),
    };
    config.account(&id).ok_or_else(|| PostError {
        position: None,
        message: match flag {
            Some(_) => format!("there is no account \"{id}\" in {}.", config.path.display()),
            None => format!(
                "cannot tell which account this file is for: its folder \"{id}\" is not an account. Put it in queue/<account>/ or pass --account."
            ),
        },
    })
}

/// Extra dictionaries from `--prh`, loaded once for all files.
type Extra = Vec<std::sync::Arc<crate::guidelines::prh::Dictionary>>;

fn check_file<'c>(config: &'c Config, args: &CheckArgs, extra: &Extra, file: &Path) -> Outcome<'c> {
    let account = match account_for(config, file, args.account.as_deref()) {
        Ok(a) => a,
        Err(error) => return Outcome::Unreadable { account: None, error },
    };
    let now = match &args.now {
        Some(text) => parse_instant(text, account.time_zone).map_err(|m| format!("--now: {m}")),
        None => crate::schedule::clock::command_line_now(),
    };
    let now = match now {
        Ok(t) => t,
        Err(message) => {
            return Outcome::Unreadable {
                account: Some(account),
                error: PostError {
                    position: None,
                    message,
                },
            }
        }
    };
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let post = match queue::post::read(file, folder, account.time_zone, config.daemon.max_file_bytes) {
        Ok(p) => p,
        Err(error) => {
            return Outcome::Unreadable {
                account: Some(account),
                error,
            }
        }
    };
    let metric = crate::platform::metric_for(config, platform_for(args, account));
    let mut guidelines = Guidelines::for_account(config, account);
    if !extra.is_empty() {
        guidelines.add_rule(Guidelines::proofreading_rule(extra.clone()));
    }
    let mut report = guidelines.check(&Draft::of(&post, now, metric.as_ref()));
    // What the platform would refuse in the media, located in the file.
    let text = std::fs::read_to_string(file).unwrap_or_default();
    report.add(crate::platform::media_findings(
        platform_for(args, account),
        &post,
        &text,
    ));
    let cost = (platform_for(args, account) == PlatformKind::X).then(|| {
        let texts: Vec<&str> = post.parts.iter().map(|p| p.text.as_str()).collect();
        let c = crate::alerts::costs::price(&config.alerts.costs, &texts);
        (c, crate::alerts::costs::describe(&config.alerts.costs, &c))
    });
    Outcome::Checked {
        account,
        post: Box::new(post),
        report,
        now,
        metric,
        cost,
    }
}

fn json_line(file: &Path, outcome: &Outcome<'_>) -> serde_json::Value {
    match outcome {
        Outcome::Checked {
            account,
            post,
            report,
            now,
            metric,
            cost,
        } => {
            let findings: Vec<_> = report
                .findings
                .iter()
                .map(|f| {
                    json!({
                        "rule": f.rule, "severity": f.severity.name(), "message": f.message, "part": f.part,
                        "line": f.line, "column": f.column, "start": f.start, "end": f.end,
                        "matched": f.matched, "suggestion": f.suggestion, "replacement": f.replacement,
                    })
                })
                .collect();
            let parts: Vec<_> = post
                .parts
                .iter()
                .map(|p| json!({"length": metric.length(&p.text), "limit": metric.limit(), "platform": metric.platform()}))
                .collect();
            let next: Vec<String> = upcoming(&post.when, *now, account, 5)
                .into_iter()
                .map(|t| rfc3339_in(t, account.time_zone))
                .collect();
            json!({
                "file": file, "account": account.id, "verdict": report.verdict.name(),
                "findings": findings, "parts": parts, "schedule": {"next": next},
                "cost": cost.as_ref().map(|(c, _)| json!({"platform": "x", "usd": c.usd, "creates": c.creates, "creates_with_url": c.creates_with_url})),
            })
        }
        Outcome::Unreadable { account, error } => json!({
            "file": file, "account": account.map(|a| a.id.clone()), "verdict": "unreadable",
            "findings": [], "parts": [], "schedule": {"next": []},
            "error": {"line": error.position.map(|p| p.line), "column": error.position.map(|p| p.column), "message": error.message},
        }),
    }
}

fn human(file: &Path, outcome: &Outcome<'_>) -> String {
    let mut out = String::new();
    match outcome {
        Outcome::Unreadable { error, .. } => {
            let at = error
                .position
                .map(|p| format!(":{}:{}", p.line, p.column))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}{at}: cannot be read: {}\n",
                crate::terminal::safe_line(&file.display().to_string()),
                crate::terminal::safe_line(&error.message)
            ));
        }
        Outcome::Checked {
            account,
            post,
            report,
            now,
            metric,
            cost,
        } => {
            let summary = match report.verdict {
                Verdict::Pass => "publishable, no findings".to_string(),
                Verdict::Warn => "publishable, with warnings".to_string(),
                Verdict::Hold => "would be HELD for an admin's review".to_string(),
                Verdict::Block => "would be BLOCKED (never published)".to_string(),
            };
            out.push_str(&format!(
                "{}: {summary} (account {}, {})\n",
                crate::terminal::safe_line(&file.display().to_string()),
                account.id,
                account.platform.name()
            ));
            // The excerpts show secrets masked (same offsets, so the carets still fit).
            let texts: Vec<String> = post.parts.iter().map(|p| p.text.clone()).collect();
            let shown = crate::guidelines::redact::mask_parts(&texts, &report.findings);
            for f in &report.findings {
                if f.rule == crate::platform::x::media::MEDIA_RULE {
                    // Located in the file, where the media entry is.
                    out.push_str(&format!(
                        "  part {}, line {}, column {} of the file: {} [{}] {}\n",
                        f.part + 1,
                        f.line,
                        f.column,
                        f.severity.name(),
                        f.rule,
                        f.message
                    ));
                    if let Some(s) = &f.suggestion {
                        out.push_str(&format!("    = {s}\n"));
                    }
                    continue;
                }
                let text = &shown[f.part];
                let line_text = text.lines().nth(f.line - 1).unwrap_or("");
                let line_start = text[..f.start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = line_start + line_text.len();
                let span_end = f.end.min(line_end).max(f.start);
                let pad: usize = text[line_start..f.start].chars().map(display_width).sum();
                let carets: usize = text[f.start..span_end].chars().map(display_width).sum::<usize>().max(1);
                // The owner's text, shown and not obeyed (one column per
                // character, so the carets still fit).
                let line_text = crate::terminal::safe_line(line_text);
                out.push_str(&format!(
                    "  part {}, line {}, column {}: {} [{}] {}\n",
                    f.part + 1,
                    f.line,
                    f.column,
                    f.severity.name(),
                    f.rule,
                    crate::terminal::safe_line(&f.message)
                ));
                out.push_str(&format!(
                    "    | {line_text}\n    | {}{}\n",
                    " ".repeat(pad),
                    "^".repeat(carets)
                ));
                if let Some(s) = &f.suggestion {
                    out.push_str(&format!("    = {}\n", crate::terminal::safe_line(s)));
                }
            }
            for (i, p) in post.parts.iter().enumerate() {
                out.push_str(&format!(
                    "  part {}: {} of {} ({})\n",
                    i + 1,
                    metric.length(&p.text),
                    metric.limit(),
                    metric.platform()
                ));
            }
            let next: Vec<String> = upcoming(&post.when, *now, account, 5)
                .into_iter()
                .map(|t| crate::schedule::human_in(t, account.time_zone))
                .collect();
            out.push_str(&format!("  next: {}\n", next.join(", ")));
            if let Some((_, words)) = cost {
                out.push_str(&format!("  {words}\n"));
            }
        }
    }
    out
}

/// Terminal columns a character takes (CJK and full-width take two).
fn display_width(c: char) -> usize {
    let u = c as u32;
    if (0x1100..=0x115F).contains(&u)
        || (0x2E80..=0xA4CF).contains(&u)
        || (0xAC00..=0xD7A3).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFF00..=0xFF60).contains(&u)
        || (0xFFE0..=0xFFE6).contains(&u)
        || (0x1F300..=0x1FAFF).contains(&u)
    {
        2
    } else {
        1
    }
}

/// Applies `--fix` to a checked file; returns what changed, or why nothing did.
fn fix_file(config: &Config, file: &Path, outcome: &Outcome<'_>) -> Option<Result<Vec<fix::Change>, String>> {
    let Outcome::Checked {
        account, post, report, ..
    } = outcome
    else {
        return None;
    };
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(fix::apply(
        file,
        post,
        report,
        folder,
        account.time_zone,
        config.daemon.max_file_bytes,
    ))
}

fn describe_fixes(file: &Path, result: &Result<Vec<fix::Change>, String>) -> String {
    match result {
        Ok(changes) if changes.is_empty() => String::new(),
        Ok(changes) => {
            let mut out = format!("{}: fixed {} place(s):\n", file.display(), changes.len());
            for c in changes {
                out.push_str(&format!(
                    "  line {}, column {}: \"{}\" → \"{}\" [{}]\n",
                    c.line, c.column, c.from, c.to, c.rule
                ));
            }
            out
        }
        Err(why) => format!("{}: not fixed: {why}\n", file.display()),
    }
}

pub fn run(config_path: &Path, args: CheckArgs) -> ExitCode {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(e) => return super::fail(3, &e.into()),
    };
    let mut extra = Vec::new();
    for path in &args.prh {
        match crate::guidelines::prh::Dictionary::load(path) {
            Ok(d) => extra.push(std::sync::Arc::new(d)),
            Err(e) => return super::fail(3, &anyhow::anyhow!("--prh {}: {e}", path.display())),
        }
    }
    let mut worst = 0u8;
    let mut checked = Vec::new();
    for file in &args.files {
        let mut outcome = check_file(&config, &args, &extra, file);
        let mut fixed = None;
        if args.fix {
            fixed = fix_file(&config, file, &outcome);
            if matches!(&fixed, Some(Ok(changes)) if !changes.is_empty()) {
                // Report on the file as it now is.
                outcome = check_file(&config, &args, &extra, file);
            }
        }
        worst = worst.max(outcome.exit_code());
        match args.format.as_str() {
            "json" => {
                let mut line = json_line(file, &outcome);
                if let Some(f) = &fixed {
                    line["fixed"] = match f {
                        Ok(changes) => json!(changes),
                        Err(why) => json!({"error": why}),
                    };
                }
                println!("{line}");
            }
            "sarif" => {
                if let Some(f) = &fixed {
                    eprint!("{}", describe_fixes(file, f));
                }
                checked.push((file.clone(), outcome));
            }
            _ => {
                if let Some(f) = &fixed {
                    print!("{}", describe_fixes(file, f));
                }
                print!("{}", human(file, &outcome));
            }
        }
    }
    if args.format == "sarif" {
        let results: Vec<sarif::FileResult<'_>> = checked
            .iter()
            .map(|(path, outcome)| match outcome {
                Outcome::Checked { post, report, .. } => sarif::FileResult::Checked {
                    path,
                    post,
                    findings: &report.findings,
                },
                Outcome::Unreadable { error, .. } => sarif::FileResult::Unreadable {
                    path,
                    line: error.position.map(|p| p.line),
                    column: error.position.map(|p| p.column),
                    message: error.message.clone(),
                },
            })
            .collect();
        let log = sarif::log(&results, env!("CARGO_PKG_VERSION"));
        println!("{}", serde_json::to_string_pretty(&log).expect("JSON values serialise"));
    }
    ExitCode::from(worst)
}
