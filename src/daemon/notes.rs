//! The notes herald writes for owners, beside their files: what will happen,
//! what happened, and what to do. Plain sentences, times in the account's
//! zone, no jargon and nothing an owner needs the CLI to understand.

use std::fmt::Write;

use crate::config::Account;
use crate::guidelines::Finding;
use crate::schedule::human_in;
use crate::store::{Delivery, State};

fn findings_section(out: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWhat the guideline checks found:");
    for f in findings {
        let _ = writeln!(
            out,
            "- [{}] {} (part {}, line {}, column {}: \"{}\")",
            f.severity.name(),
            f.message,
            f.part + 1,
            f.line,
            f.column,
            f.matched
        );
        if let Some(s) = &f.suggestion {
            let _ = writeln!(out, "  What to do: {s}");
        }
    }
}

fn footer(out: &mut String, account: &Account, d: &Delivery) {
    let _ = writeln!(
        out,
        "\nAccount: {} ({} on {})",
        account.id,
        account.handle,
        account.platform.name()
    );
    let _ = writeln!(out, "Delivery: {} (give this to an admin if you need help)", d.id);
    let _ = writeln!(out, "Written by herald; it replaces this note when something changes.");
}

/// The note beside a file that is still waiting.
pub fn pending(account: &Account, d: &Delivery, recurring: Option<&str>) -> String {
    let tz = account.time_zone;
    let mut out = String::new();
    let what = match d.state {
        State::Scheduled | State::Publishing => format!("SCHEDULED: herald will publish this post at {}.", human_in(d.due, tz)),
        State::Held => format!(
            "HELD: this post waits for an admin and will not be published on its own.\nWhy: {}",
            d.reason.as_deref().unwrap_or("a guideline check asked for a review")
        ),
        State::Failed => format!(
            "FAILED: herald could not publish this post: {}\nAsk an admin to try again (give them the delivery id below), or fix the cause and drop the file again.",
            d.reason.as_deref().unwrap_or("the platform did not accept it"),
        ),
        other => format!("{}: {}", other.name().to_uppercase(), d.reason.as_deref().unwrap_or("")),
    };
    let _ = writeln!(out, "{what}");
    if let Some(spec) = recurring {
        let _ = writeln!(
            out,
            "This post repeats (cron \"{spec}\", in {tz}); the file stays here while it does. Delete it to stop it."
        );
    }
    if d.scheduled_for != d.due && d.state == State::Scheduled {
        let _ = writeln!(
            out,
            "It was asked for {}; it moved because of the account's quiet hours, pacing or a retry.",
            human_in(d.scheduled_for, tz)
        );
    }
    if let Some(r) = &d.reason {
        if matches!(d.state, State::Scheduled) {
            let _ = writeln!(out, "Note: {r}");
        }
    }
    findings_section(&mut out, &d.findings);
    let _ = writeln!(
        out,
        "\nTo change the post, edit this file before its time; to cancel it, delete the file."
    );
    footer(&mut out, account, d);
    out
}

/// The note beside a published file.
pub fn published(account: &Account, d: &Delivery) -> String {
    let tz = account.time_zone;
    let mut out = String::new();
    let p = d.published.as_ref();
    let when = p.map(|p| human_in(p.at, tz)).unwrap_or_default();
    let _ = writeln!(
        out,
        "PUBLISHED on {} as {} at {when}.",
        account.platform.name(),
        account.handle
    );
    if let Some(url) = p.and_then(|p| p.url.as_ref()) {
        let _ = writeln!(out, "Link: {url}");
    }
    if d.text.len() > 1 {
        let _ = writeln!(out, "It went out as a thread of {} posts.", d.text.len());
    }
    findings_section(&mut out, &d.findings);
    footer(&mut out, account, d);
    out
}

/// The note beside a file that will not be published.
pub fn rejected(account: &Account, d: &Delivery, folder_hint: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "NOT PUBLISHED: {}",
        d.reason.as_deref().unwrap_or("herald could not accept this file.")
    );
    findings_section(&mut out, &d.findings);
    let _ = writeln!(
        out,
        "\nNothing was posted. Fix the file and drop it again into {folder_hint}; herald checks it again from the start."
    );
    footer(&mut out, account, d);
    out
}

/// The note beside a file given up on (too late, or cancelled).
pub fn ended(account: &Account, d: &Delivery) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {}",
        d.state.name().to_uppercase(),
        d.reason.as_deref().unwrap_or("herald will not publish this post.")
    );
    let _ = writeln!(
        out,
        "Nothing was posted. To publish it after all, drop it again with a new time."
    );
    footer(&mut out, account, d);
    out
}
