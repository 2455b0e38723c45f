//! The yearly attestation gate. Every owner re-certifies the company's
//! social-media guidelines once a period (`[attestation] period`, 365 days
//! by default); the registry records the date (`attested = "2026-04-01"`).
//! When it is older than the period, the account's posts are held (the
//! daemon does that, `daemon::alerts`); before that the owner is told
//! (`warn`, 30 and 7 days ahead by default), and `herald accounts` shows
//! who is due. Days are counted in the account's time zone.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::config::{Account, AttestationSettings};

/// Where an owner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Standing {
    /// Good for more than the first warning's days (`days_left` after today).
    Current { good_through: NaiveDate, days_left: i64 },
    /// Within a warning's days of the end: `warn` is the smallest warning
    /// (in days) already reached.
    DueSoon {
        good_through: NaiveDate,
        days_left: i64,
        warn: u32,
    },
    /// Past the end: posts are held.
    Lapsed { good_through: NaiveDate },
    /// The gate is on but the registry has no date: posts are held.
    Unrecorded,
}

impl Standing {
    /// Whether the account's posts are held.
    pub fn holds(self) -> bool {
        matches!(self, Standing::Lapsed { .. } | Standing::Unrecorded)
    }

    /// The state's name, as `herald accounts` shows it.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Current { .. } => "current",
            Standing::DueSoon { .. } => "due-soon",
            Standing::Lapsed { .. } => "lapsed",
            Standing::Unrecorded => "unrecorded",
        }
    }
}

/// The last day an attestation made on `attested` counts.
pub fn good_through(settings: &AttestationSettings, attested: NaiveDate) -> NaiveDate {
    attested + TimeDelta::days(i64::from(settings.period_days) - 1)
}

/// Where `account`'s owner stands at `now`; `None` when the gate is off.
pub fn standing(settings: Option<&AttestationSettings>, account: &Account, now: DateTime<Utc>) -> Option<Standing> {
    let settings = settings?;
    let Some(attested) = account.attested else {
        return Some(Standing::Unrecorded);
    };
    let today = now.with_timezone(&account.time_zone).date_naive();
    let good_through = good_through(settings, attested);
    let days_left = (good_through - today).num_days();
    if days_left < 0 {
        return Some(Standing::Lapsed { good_through });
    }
    let reached = settings
        .warn_days
        .iter()
        .copied()
        .filter(|w| days_left <= i64::from(*w))
        .min();
    Some(match reached {
        Some(warn) => Standing::DueSoon {
            good_through,
            days_left,
            warn,
        },
        None => Standing::Current {
            good_through,
            days_left,
        },
    })
}

/// How a held delivery's reason begins; such holds are released when the
/// registry records a renewed attestation.
pub const HOLD_PREFIX: &str = "the owner's attestation of the guidelines";

/// Why a lapsed account's post is held, with how to renew: the reason a
/// held delivery carries, and its owner's note.
pub fn hold_reason(settings: &AttestationSettings, account: &Account, standing: Standing) -> String {
    let what = match standing {
        Standing::Lapsed { good_through } => format!(
            "{HOLD_PREFIX} ran out after {good_through} (it is good for {} days), and the right to run an official account rests on it",
            settings.period_days
        ),
        _ => format!("{HOLD_PREFIX} is not on record in the account registry, and the right to run an official account rests on it"),
    };
    format!(
        "{what}. To renew: {}. Once the registry has the new date (attested = \"YYYY-MM-DD\" for account \"{}\") and herald has reloaded its configuration, this post goes back to the schedule on its own.",
        settings.renew.trim_end_matches('.'),
        account.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AttestationSettings {
        AttestationSettings {
            period_days: 365,
            warn_days: vec![30, 7],
            renew: "take the course at https://learn.example/bcg".into(),
        }
    }

    fn account(attested: Option<&str>) -> Account {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("queue/t")).unwrap();
        let text = "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"c\"\n[rulebooks.c]\n[[account]]\nid = \"t\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\ntime_zone = \"Asia/Tokyo\"\n";
        let mut a = crate::config::parse(&dir.path().join("h.toml"), text).unwrap().accounts["t"].clone();
        a.attested = attested.map(|d| d.parse().unwrap());
        a
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_attestation_is_good_for_the_period_then_lapses_at_midnight_in_the_accounts_zone() {
        let s = settings();
        let a = account(Some("2025-12-01"));
        // Good through 2026-11-30 (365 days); Tokyo is UTC+9.
        assert_eq!(
            standing(Some(&s), &a, at("2026-11-30T14:59:00Z")),
            Some(Standing::DueSoon {
                good_through: "2026-11-30".parse().unwrap(),
                days_left: 0,
                warn: 7
            })
        );
        assert_eq!(
            standing(Some(&s), &a, at("2026-11-30T15:00:00Z")),
            Some(Standing::Lapsed {
                good_through: "2026-11-30".parse().unwrap()
            })
        );
        assert!(standing(Some(&s), &a, at("2026-11-30T15:00:00Z")).unwrap().holds());
    }

    #[test]
    fn warnings_start_thirty_then_seven_days_ahead() {
        let s = settings();
        let a = account(Some("2025-12-01"));
        let st = |t: &str| standing(Some(&s), &a, at(t)).unwrap();
        assert!(matches!(
            st("2026-10-30T12:00:00Z"),
            Standing::Current { days_left: 31, .. }
        ));
        assert!(matches!(
            st("2026-11-01T12:00:00Z"),
            Standing::DueSoon {
                days_left: 29,
                warn: 30,
                ..
            }
        ));
        assert!(matches!(
            st("2026-11-24T12:00:00Z"),
            Standing::DueSoon {
                days_left: 6,
                warn: 7,
                ..
            }
        ));
        assert!(!st("2026-11-24T12:00:00Z").holds());
    }

    #[test]
    fn no_gate_no_standing_and_no_date_holds() {
        let a = account(None);
        assert_eq!(standing(None, &a, at("2026-01-01T00:00:00Z")), None);
        let st = standing(Some(&settings()), &a, at("2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(st, Standing::Unrecorded);
        assert!(st.holds());
        let why = hold_reason(&settings(), &a, st);
        assert!(why.starts_with(HOLD_PREFIX), "{why}");
        assert!(why.contains("https://learn.example/bcg"), "{why}");
    }
}
