//! When to publish: one-shot (`at`), as soon as possible, or recurring
//! (`cron`), in the account's time zone; then quiet hours, pacing and the
//! max-lateness rule that prevents stale bursts.
//!
//! Instants are `DateTime<Utc>` everywhere; local times exist only at the
//! edges (parsing a post file, showing a time to a person).

pub mod clock;
pub mod cron;

use std::time::Duration;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cron::{CronError, CronSpec};

use crate::config::{Account, QuietHours};
use crate::store::Delivery;

/// A post's schedule.
#[derive(Debug, Clone)]
pub enum When {
    /// As soon as possible after the file is ingested.
    Asap,
    /// Once, at this instant.
    At(DateTime<Utc>),
    /// Every occurrence of a crontab expression in the account's zone.
    Cron {
        spec: CronSpec,
        until: Option<DateTime<Utc>>,
        count: Option<u32>,
    },
}

impl When {
    pub fn is_recurring(&self) -> bool {
        matches!(self, When::Cron { .. })
    }

    /// The next occurrence of a recurring schedule strictly after `after`,
    /// honouring `until` (count is the caller's: it needs the store).
    pub fn next_occurrence(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match self {
            When::Cron { spec, until, .. } => spec.next_after(after, tz).filter(|t| until.is_none_or(|u| *t <= u)),
            _ => None,
        }
    }
}

/// A local wall-clock time made an instant by the rules of DESIGN.md: a time
/// that a DST change skips becomes the first instant after the gap, and a
/// time that it repeats means its first occurrence.
pub fn resolve_local(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Walk forward to the first minute that exists: that is the
            // transition instant (gaps are whole minutes, at most hours long).
            let mut probe = naive;
            for _ in 0..(26 * 60) {
                probe += chrono::TimeDelta::minutes(1);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) = tz.from_local_datetime(&probe) {
                    return t.with_timezone(&Utc);
                }
            }
            naive.and_utc()
        }
    }
}

/// Parses a time in a post file: RFC 3339 with an offset, or a local
/// date-time (`2026-12-01 09:00`, `2026-12-01T09:00:00`) in the account's zone.
pub fn parse_instant(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(resolve_local(naive, tz));
        }
    }
    Err(format!(
        "\"{text}\" is not a time herald understands. Write it as \"2026-12-01 09:00\" (the account's time zone, {tz}) or with an offset, \"2026-12-01T09:00:00+09:00\""
    ))
}

/// Moves an instant that falls in the quiet hours to the end of that window.
pub fn out_of_quiet_hours(t: DateTime<Utc>, quiet: Option<&QuietHours>, tz: Tz) -> DateTime<Utc> {
    let Some(q) = quiet else { return t };
    let local = t.with_timezone(&tz).naive_local();
    if !q.contains(local.time()) {
        return t;
    }
    let mut end_date = local.date();
    if q.start > q.end && local.time() >= q.start {
        // The window crosses midnight and we are before it: it ends tomorrow.
        end_date = end_date.succ_opt().unwrap_or(end_date);
    }
    resolve_local(end_date.and_time(q.end), tz)
}

/// The earliest instant the account's pacing allows after its last publication.
pub fn paced(due: DateTime<Utc>, last_published: Option<DateTime<Utc>>, min_interval: Duration) -> DateTime<Utc> {
    match last_published {
        Some(last) if !min_interval.is_zero() => {
            let earliest = last + chrono::TimeDelta::from_std(min_interval).unwrap_or(chrono::TimeDelta::MAX);
            due.max(earliest)
        }
        _ => due,
    }
}

/// Whether a delivery due at `due` is too late to publish automatically at `now`.
pub fn is_stale(due: DateTime<Utc>, now: DateTime<Utc>, max_lateness: Duration) -> bool {
    let late = now - due;
    late > chrono::TimeDelta::from_std(max_lateness).unwrap_or(chrono::TimeDelta::MAX)
}

/// The instant a delivery's lateness counts from: the post's own time
/// (`scheduled_for`; an occurrence's own instant), moved past the account's
/// quiet hours and spaced by its `min_interval` after the account's last
/// publication — the account's own plan for it — or, when later, the moment
/// an admin released it (approve, retry). Every other wait counts as
/// lateness: downtime, a pause, a freeze, a platform's rate limit, retries
/// after failures, a re-authorization. `due` moves with those waits; this
/// instant does not, so that no wait can make a stale post look fresh.
pub fn lateness_origin(d: &Delivery, account: &Account, last_published: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let planned = if d.kind == crate::queue::Kind::Emergency {
        d.scheduled_for
    } else {
        out_of_quiet_hours(
            paced(d.scheduled_for, last_published, account.min_interval),
            account.quiet_hours.as_ref(),
            account.time_zone,
        )
    };
    d.released_at.map_or(planned, |r| planned.max(r))
}

/// The max lateness that applies to a delivery: the post's own, else its account's.
/// How late a delivery is allowed to be: from when ([`lateness_origin`]) and
/// for how long ([`max_lateness_of`]). `is_stale(origin, now, max)` decides.
pub fn lateness_of(
    d: &Delivery,
    account: &Account,
    last_published: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, Duration) {
    (lateness_origin(d, account, last_published), max_lateness_of(d, account))
}

pub fn max_lateness_of(d: &Delivery, account: &Account) -> Duration {
    d.max_lateness_secs
        .map(Duration::from_secs)
        .unwrap_or(account.max_lateness)
}

/// The next `n` publication instants of a schedule after `after`, with quiet
/// hours applied, as `herald check` shows them.
pub fn upcoming(when: &When, after: DateTime<Utc>, account: &Account, n: usize) -> Vec<DateTime<Utc>> {
    let tz = account.time_zone;
    let quiet = account.quiet_hours.as_ref();
    let raw: Vec<DateTime<Utc>> = match when {
        When::Asap => vec![after],
        When::At(t) => vec![*t],
        When::Cron { count, .. } => {
            let limit = count.map_or(n, |c| (c as usize).min(n));
            let mut out = Vec::with_capacity(limit);
            let mut t = after;
            while out.len() < limit {
                match when.next_occurrence(t, tz) {
                    Some(next) => {
                        out.push(next);
                        t = next;
                    }
                    None => break,
                }
            }
            out
        }
    };
    let mut shown: Vec<DateTime<Utc>> = raw.into_iter().map(|t| out_of_quiet_hours(t, quiet, tz)).collect();
    shown.dedup();
    shown
}

/// RFC 3339 in the account's zone, as JSON outputs show instants.
pub fn rfc3339_in(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// "2026-12-01 09:00 +09:00", as tables and notes show instants.
pub fn human_in(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_local_time_in_the_spring_gap_runs_right_after_it() {
        let t = parse_instant("2026-03-29 02:30", Berlin).unwrap();
        assert_eq!(t, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn a_repeated_local_time_means_its_first_occurrence() {
        let t = parse_instant("2026-10-25 02:30", Berlin).unwrap();
        assert_eq!(t, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn an_offset_wins_over_the_account_zone() {
        let t = parse_instant("2026-12-01T09:00:00+09:00", Berlin).unwrap();
        assert_eq!(t, utc("2026-12-01T00:00:00Z"));
    }

    #[test]
    fn nonsense_times_say_how_to_write_them() {
        let e = parse_instant("next tuesday", Berlin).unwrap_err();
        assert!(e.contains("2026-12-01 09:00"));
    }

    #[test]
    fn quiet_hours_push_to_the_end_of_the_window() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        let tokyo = chrono_tz::Asia::Tokyo;
        // 23:30 JST → 07:00 JST next day.
        let t = out_of_quiet_hours(utc("2026-12-01T14:30:00Z"), Some(&q), tokyo);
        assert_eq!(t, utc("2026-12-01T22:00:00Z"));
        // 06:00 JST → 07:00 JST same day.
        let t = out_of_quiet_hours(utc("2026-12-01T21:00:00Z"), Some(&q), tokyo);
        assert_eq!(t, utc("2026-12-01T22:00:00Z"));
        // 12:00 JST is not quiet.
        let t = out_of_quiet_hours(utc("2026-12-01T03:00:00Z"), Some(&q), tokyo);
        assert_eq!(t, utc("2026-12-01T03:00:00Z"));
    }

    #[test]
    fn pacing_and_lateness() {
        let last = utc("2026-12-01T00:00:00Z");
        assert_eq!(
            paced(utc("2026-12-01T00:05:00Z"), Some(last), Duration::from_secs(600)),
            utc("2026-12-01T00:10:00Z")
        );
        assert_eq!(
            paced(utc("2026-12-01T00:30:00Z"), Some(last), Duration::from_secs(600)),
            utc("2026-12-01T00:30:00Z")
        );
        assert!(!is_stale(last, utc("2026-12-01T00:15:00Z"), Duration::from_secs(900)));
        assert!(is_stale(last, utc("2026-12-01T00:15:01Z"), Duration::from_secs(900)));
    }
}
