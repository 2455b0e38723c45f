//! The notes herald writes for owners, beside their files: what will happen,
//! what happened, and what to do. Plain sentences, times in the account's
//! zone, no jargon and nothing an owner needs the CLI to understand.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::config::Account;
use crate::control::stops::{Stop, Stops};
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

/// Who stopped publishing, when and why, in a sentence; `how` is
/// "paused" or "frozen".
fn stopped_by(stop: &Stop, how: &str, tz: chrono_tz::Tz) -> String {
    if stop.at == DateTime::<Utc>::MIN_UTC {
        // A marker herald cannot read: its reason says so.
        format!("Why: {}", stop.reason)
    } else {
        format!(
            "Why: {} ({how} by {} at {})",
            stop.reason.trim_end_matches('.'),
            stop.by,
            human_in(stop.at, tz)
        )
    }
}

/// A duration as people say it: "15 minutes", "1 hour 30 minutes", "2 days".
fn plain_duration(d: std::time::Duration) -> String {
    let total = d.as_secs() / 60;
    let (days, hours, minutes) = (total / 1440, total / 60 % 24, total % 60);
    let unit = |n: u64, one: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {one}s")),
    };
    let parts: Vec<String> = [unit(days, "day"), unit(hours, "hour"), unit(minutes, "minute")]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        format!("{} seconds", d.as_secs())
    } else {
        parts.join(" ")
    }
}

/// What happens to a delivery held back by a stop once the stop is lifted.
fn after_the_stop(account: &Account, d: &Delivery, lifted: &str) -> String {
    let lateness = crate::schedule::max_lateness_of(d, account);
    let late = plain_duration(lateness);
    let too_late = if d.occurrence.is_some() {
        "this time is skipped and the post goes out at its next time instead"
    } else {
        "it is not published on its own any more: it waits for an admin to review it"
    };
    format!(
        "When {lifted}, herald publishes it at its time, or at once if that time has passed. If by then it is more than {late} late, {too_late}."
    )
}

/// The headline of a scheduled post that a pause or a freeze keeps back,
/// or `None` when nothing stops it.
fn held_back(account: &Account, d: &Delivery, stops: &Stops) -> Option<String> {
    let tz = account.time_zone;
    let when = human_in(d.due, tz);
    if let Some(stop) = stops.paused.get(&account.id) {
        return Some(format!(
            "PAUSED: publishing of this account is paused by an admin, so herald will not publish this post (planned for {when}) for now.\n{}.\n{}",
            stopped_by(stop, "paused", tz),
            after_the_stop(account, d, "an admin resumes the account")
        ));
    }
    let frozen = stops.frozen.as_ref()?;
    if !stops.blocks(d, account) {
        return None;
    }
    Some(format!(
        "FROZEN: all publishing is frozen by an admin (only emergency posts go out), so herald will not publish this post (planned for {when}) for now.\n{}.\n{}",
        stopped_by(frozen, "frozen", tz),
        after_the_stop(account, d, "an admin lifts the freeze")
    ))
}

/// Rewrites the pending note beside a one-shot delivery's file, with the
/// account's stops as they are now. Recurring files get theirs (with the
/// schedule) from ingest; a file no longer there gets none.
pub fn rewrite_pending(state_dir: &std::path::Path, account: &Account, d: &Delivery) {
    let path = account.folder.join(&d.file);
    if d.occurrence.is_none() && path.exists() {
        let stops = Stops::read(state_dir, std::iter::once(account));
        let _ = crate::queue::write_note(&path, &pending(account, d, None, &stops));
    }
}

/// The note beside a file that is still waiting. `stops` are the pause and
/// freeze in force: a post they keep back says so instead of "scheduled".
pub fn pending(account: &Account, d: &Delivery, recurring: Option<&str>, stops: &Stops) -> String {
    let tz = account.time_zone;
    let mut out = String::new();
    let stopped = matches!(d.state, State::Scheduled)
        .then(|| held_back(account, d, stops))
        .flatten();
    let what = match d.state {
        State::Scheduled if stopped.is_some() => stopped.clone().unwrap_or_default(),
        State::Scheduled | State::Publishing => format!("SCHEDULED: herald will publish this post at {}.", human_in(d.due, tz)),
        // Issue 17's gates release their posts on their own (a renewed
        // attestation, a new month's budget); the reason says how.
        State::Held if super::alerts::held_by_a_gate(d) => format!(
            "HELD: this post is not published for now.\nWhy: {}",
            d.reason.as_deref().unwrap_or_default()
        ),
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
    if stopped.is_none() && d.state == State::Scheduled && stops.frozen.is_some() && !stops.blocks(d, account) {
        let _ = writeln!(
            out,
            "All publishing is frozen at the moment, but this is an emergency post of an account allowed to send them: it goes out anyway."
        );
    }
    if d.state == State::Held {
        if let Some(stop) = stops.paused.get(&account.id) {
            let _ = writeln!(
                out,
                "Also, publishing of this account is paused (why: {}); even once approved, it waits until an admin resumes the account.",
                stop.reason.trim_end_matches('.')
            );
        } else if let Some(frozen) = stops.frozen.as_ref().filter(|_| stops.blocks(d, account)) {
            let _ = writeln!(
                out,
                "Also, all publishing is frozen (why: {}); even once approved, it waits until an admin lifts the freeze.",
                frozen.reason.trim_end_matches('.')
            );
        }
    }
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

/// The cron expression of a recurring post file, for its note; `None` when
/// the file no longer reads as the version `d` came from (the daemon's next
/// pass deals with an edited file).
fn recurring_spec(account: &Account, path: &std::path::Path, d: &Delivery, max_bytes: u64) -> Option<String> {
    let bytes = crate::queue::post::read_bytes(path, max_bytes).ok()?;
    if crate::store::content_hash(&bytes) != d.content_hash {
        return None;
    }
    let format = crate::queue::Format::of(path)?;
    match crate::queue::post::parse(&bytes, format, &account.folder, account.time_zone)
        .ok()?
        .when
    {
        crate::schedule::When::Cron { spec, .. } => Some(spec.as_str().to_string()),
        _ => None,
    }
}

/// Rewrites the notes beside the pending files of the accounts `only`
/// names (all when `None`), after a pause, a freeze or their lifting, so
/// that owners read at once whether their posts are kept back. Accounts in
/// `busy` (a delivery being published) are left to the daemon's next pass.
/// Returns how many notes changed.
pub fn refresh_pending(
    config: &crate::config::Config,
    deliveries: &[Delivery],
    only: Option<&str>,
    busy: &std::collections::HashSet<String>,
) -> usize {
    let stops = Stops::read(&config.daemon.state_dir, config.accounts.values());
    // Per file, the delivery its note is about: the earliest one waiting.
    let mut by_file: std::collections::BTreeMap<(&str, &str), &Delivery> = Default::default();
    for d in deliveries {
        let waiting = match d.occurrence {
            None => matches!(d.state, State::Scheduled | State::Held | State::Failed),
            Some(_) => matches!(d.state, State::Scheduled | State::Held),
        };
        if !waiting || only.is_some_and(|a| a != d.account) || busy.contains(&d.account) {
            continue;
        }
        let slot = by_file.entry((d.account.as_str(), d.file.as_str())).or_insert(d);
        if (d.due, &d.id) < (slot.due, &slot.id) {
            *slot = d;
        }
    }
    let mut changed = 0;
    for ((account_id, file), d) in by_file {
        let Some(account) = config.accounts.get(account_id) else {
            continue;
        };
        let path = account.folder.join(file);
        if !path.exists() {
            continue;
        }
        let recurring = match d.occurrence {
            Some(_) => match recurring_spec(account, &path, d, config.daemon.max_file_bytes) {
                Some(spec) => Some(spec),
                None => continue,
            },
            None => None,
        };
        let text = pending(account, d, recurring.as_deref(), &stops);
        if std::fs::read_to_string(crate::queue::note_path(&path)).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        match crate::queue::write_note(&path, &text) {
            Ok(()) => changed += 1,
            Err(e) => tracing::warn!(file = %path.display(), "cannot update the owner's note: {e}"),
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::plain_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(plain_duration(Duration::from_secs(15 * 60)), "15 minutes");
        assert_eq!(plain_duration(Duration::from_secs(90 * 60)), "1 hour 30 minutes");
        assert_eq!(plain_duration(Duration::from_secs(2 * 86400 + 3600)), "2 days 1 hour");
        assert_eq!(plain_duration(Duration::from_secs(30)), "30 seconds");
    }
}
