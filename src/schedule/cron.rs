//! Standard 5-field crontab schedules for herald, evaluated in a user's time zone.
//!
//! Users write the classic Vixie-cron syntax (`minute hour day-of-month month
//! day-of-week`). The `cron` crate is used only as the iteration engine: it
//! expects a seconds field and numbers weekdays from 1 = Sunday, so we parse and
//! validate the 5 fields ourselves (giving errors with columns a person can act
//! on) and hand the crate a normalised 6-field expression whose weekdays are
//! spelled as names, so the two numbering schemes can never be confused.
//!
//! Daylight-saving rules (wall-clock semantics in the schedule's time zone):
//! - a wall-clock time that occurs once fires at that instant;
//! - a repeated wall-clock time (autumn fall-back) fires once, at the earlier
//!   instant, so a post is never published twice;
//! - a skipped wall-clock time (spring gap) fires at the first instant after the
//!   gap, so a post is delayed rather than lost; several skipped times that land
//!   on the same instant fire once.
//!
//! When both day-of-month and day-of-week are restricted (neither is literally
//! `*`), a day matches if either matches, as in Vixie cron and croniter. A
//! stepped star such as `*/2` counts as restricted, as croniter reads it
//! (Vixie cron would treat any field starting with `*` as unrestricted).

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A standard 5-field crontab expression (minute hour day-of-month month day-of-week).
#[derive(Debug, Clone)]
pub struct CronSpec {
    source: String,
    /// Evaluated on `Utc` as a stand-in for the naive local wall clock. More
    /// than one schedule only when the day-of-month/day-of-week OR rule applies,
    /// because the `cron` crate itself always ANDs the two day fields.
    schedules: Vec<::cron::Schedule>,
}

/// Why an expression was rejected, and where.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid schedule at column {column}: {message}")]
pub struct CronError {
    /// 1-based character column in the expression where the problem starts
    pub column: usize,
    /// plain-language message: what is wrong and what to write instead
    pub message: String,
}

const FIVE_FIELDS: &str = "herald uses the standard 5-field crontab: minute hour day-of-month month day-of-week";

/// Beyond this many naive candidates something is wrong (a real search skips
/// at most one repeated or skipped stretch of wall-clock time); stop rather than spin.
const MAX_CANDIDATES: usize = 10_000;

/// Long enough for the sparsest valid schedule (29 February can be 8 years
/// apart across a non-leap century year), short enough that an impossible
/// schedule such as `0 0 31 2 *` gives up quickly.
const HORIZON_DAYS: i64 = 9 * 366;

/// A real DST or zone-change gap is at most a day (Samoa, 2011).
const MAX_GAP_MINUTES: i64 = 48 * 60;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Kind {
    const ALL: [Kind; 5] = [Kind::Minute, Kind::Hour, Kind::DayOfMonth, Kind::Month, Kind::DayOfWeek];

    fn name(self) -> &'static str {
        match self {
            Kind::Minute => "minute",
            Kind::Hour => "hour",
            Kind::DayOfMonth => "day-of-month",
            Kind::Month => "month",
            Kind::DayOfWeek => "day-of-week",
        }
    }

    /// Inclusive bounds as the user may write them; day-of-week allows 7 for
    /// Sunday so that ranges like `5-7` (Fri..Sun) can be written.
    fn bounds(self) -> (u32, u32) {
        match self {
            Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::DayOfMonth => (1, 31),
            Kind::Month => (1, 12),
            Kind::DayOfWeek => (0, 7),
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            Kind::Minute => "0-59",
            Kind::Hour => "0-23",
            Kind::DayOfMonth => "1-31",
            Kind::Month => "1-12 or JAN-DEC",
            Kind::DayOfWeek => "0-7 (0 and 7 are Sunday) or SUN-SAT",
        }
    }

    fn lookup_name(self, word: &str) -> Option<u32> {
        let upper = word.to_ascii_uppercase();
        let (names, first): (&[&str], u32) = match self {
            Kind::Month => (&MONTH_NAMES, 1),
            Kind::DayOfWeek => (&DAY_NAMES, 0),
            _ => return None,
        };
        names.iter().position(|n| *n == upper).map(|i| i as u32 + first)
    }
}

/// One validated field: the set of allowed values as a bitmask.
struct Field {
    /// Literally `*`: matters for the day-of-month/day-of-week OR rule.
    star: bool,
    bits: u64,
}

fn err(column: usize, message: impl Into<String>) -> CronError {
    CronError {
        column,
        message: message.into(),
    }
}

/// Splits on whitespace, keeping each piece's 1-based character column.
fn split_fields(expr: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte index, column)
    for (col0, (byte, ch)) in expr.char_indices().enumerate() {
        match (ch.is_whitespace(), start) {
            (true, Some((b, c))) => {
                out.push((c, &expr[b..byte]));
                start = None;
            }
            (false, None) => start = Some((byte, col0 + 1)),
            _ => {}
        }
    }
    if let Some((b, c)) = start {
        out.push((c, &expr[b..]));
    }
    out
}

/// Column of byte offset `byte` inside `text`, which itself starts at `base`.
fn col_at(base: usize, text: &str, byte: usize) -> usize {
    base + text[..byte].chars().count()
}

/// Explains tokens from other cron dialects, which users paste most often.
fn explain_bad_token(kind: Kind, token: &str) -> String {
    let upper = token.to_ascii_uppercase();
    if token == "?" {
        return format!(
            "`?` is a Quartz extension, not standard crontab; write `*` for \"any {}\"",
            kind.name()
        );
    }
    if token.contains('#') {
        return format!(
            "`{token}` (nth weekday of the month) is a Quartz extension that herald does not support; \
             use a day-of-week such as `MON` or a list of days-of-month such as `1-7`"
        );
    }
    let digits_then = |suffix: char| {
        upper.len() > 1 && upper.ends_with(suffix) && upper[..upper.len() - 1].chars().all(|c| c.is_ascii_digit())
    };
    if upper == "L" || upper == "LW" || digits_then('L') {
        return format!(
            "`{token}` (last day) is a Quartz extension that herald does not support; \
             list the days explicitly, e.g. `28-31` for the {}",
            kind.name()
        );
    }
    if upper == "W" || digits_then('W') {
        return format!(
            "`{token}` (nearest weekday) is a Quartz extension that herald does not support; \
             write the day-of-month as a number and the weekdays as `1-5` in the day-of-week field"
        );
    }
    if token.is_empty() {
        return format!(
            "a value is missing in the {} field; allowed: {}",
            kind.name(),
            kind.allowed()
        );
    }
    if token.chars().all(|c| c.is_ascii_alphabetic()) {
        return match kind {
            Kind::Month => format!("`{token}` is not a month; use 1-12 or JAN, FEB, ... DEC"),
            Kind::DayOfWeek => {
                format!("`{token}` is not a day of the week; use 0-7 or SUN, MON, ... SAT")
            }
            _ => format!(
                "`{token}` is not a number; the {} field only takes numbers {}",
                kind.name(),
                kind.allowed()
            ),
        };
    }
    format!(
        "`{token}` is not a valid {} value; allowed: {}",
        kind.name(),
        kind.allowed()
    )
}

/// Parses one number or name; `col` is the token's column.
fn parse_value(kind: Kind, token: &str, col: usize) -> Result<u32, CronError> {
    let value = if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) {
        // Absurdly long digit strings are simply out of range.
        token.parse::<u32>().unwrap_or(u32::MAX)
    } else if let Some(v) = kind.lookup_name(token) {
        return Ok(v);
    } else {
        return Err(err(col, explain_bad_token(kind, token)));
    };
    let (lo, hi) = kind.bounds();
    if value < lo || value > hi {
        return Err(err(
            col,
            format!("{} {token} is out of range; allowed: {}", kind.name(), kind.allowed()),
        ));
    }
    Ok(value)
}

fn parse_field(kind: Kind, text: &str, base: usize) -> Result<Field, CronError> {
    if text == "*" {
        let (lo, hi) = kind.bounds();
        return Ok(Field {
            star: true,
            bits: mask_range(kind, lo, hi, 1),
        });
    }
    let mut bits = 0u64;
    let mut item_start = 0usize;
    for item in text.split(',') {
        let item_col = col_at(base, text, item_start);
        bits |= parse_item(kind, item, item_col)?;
        item_start += item.len() + 1;
    }
    Ok(Field { star: false, bits })
}

fn parse_item(kind: Kind, item: &str, col: usize) -> Result<u64, CronError> {
    if item.is_empty() {
        return Err(err(
            col,
            format!(
                "empty entry in the {} list; separate values with single commas, e.g. `1,15`",
                kind.name()
            ),
        ));
    }
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    let step_col = col + range.chars().count() + 1;
    let step = match step {
        None => 1,
        Some(s) => {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(err(
                    step_col,
                    format!("step `/{s}` must be a whole number, e.g. `*/15`"),
                ));
            }
            let n = s.parse::<u32>().unwrap_or(u32::MAX);
            if n == 0 {
                return Err(err(step_col, "a step of 0 never advances; use 1 or more, e.g. `*/5`"));
            }
            n
        }
    };
    let (lo, hi) = if range == "*" {
        kind.bounds()
    } else if let Some((a, b)) = range.split_once('-') {
        let a_val = parse_value(kind, a, col)?;
        let b_col = col + a.chars().count() + 1;
        let b_val = parse_value(kind, b, b_col)?;
        if a_val > b_val {
            let (min, max) = kind.bounds();
            let max = if kind == Kind::DayOfWeek { 6 } else { max };
            return Err(err(
                col,
                format!(
                    "range `{range}` is reversed; write the smaller value first (`{b}-{a}`), \
                     or `{a}-{max},{min}-{b}` if you meant to wrap around"
                ),
            ));
        }
        (a_val, b_val)
    } else {
        let v = parse_value(kind, range, col)?;
        if step != 1 || item.contains('/') {
            // Vixie cron rejects `a/n`; say what it most likely means instead
            // of guessing silently.
            let (_, max) = kind.bounds();
            let max = if kind == Kind::DayOfWeek { 6 } else { max };
            return Err(err(
                col,
                format!("a step needs a range or `*`: write `{range}-{max}/{step}` or `*/{step}`"),
            ));
        }
        (v, v)
    };
    Ok(mask_range(kind, lo, hi, step))
}

fn mask_range(kind: Kind, lo: u32, hi: u32, step: u32) -> u64 {
    let mut bits = 0u64;
    let mut v = lo;
    while v <= hi {
        // Both 0 and 7 mean Sunday; keep a single bit for it.
        let v_norm = if kind == Kind::DayOfWeek && v == 7 { 0 } else { v };
        bits |= 1 << v_norm;
        match v.checked_add(step) {
            Some(n) => v = n,
            None => break,
        }
    }
    bits
}

/// Renders a field for the `cron` crate: a plain number list, except
/// day-of-week which is spelled with names because the crate counts 1 = Sunday.
fn render(kind: Kind, field: &Field) -> String {
    if field.star {
        return "*".to_string();
    }
    let mut out = String::new();
    for v in 0..64u32 {
        if field.bits & (1 << v) != 0 {
            if !out.is_empty() {
                out.push(',');
            }
            if kind == Kind::DayOfWeek {
                out.push_str(DAY_NAMES[v as usize]);
            } else {
                let _ = write!(out, "{v}");
            }
        }
    }
    out
}

fn expand_macro(word: &str, col: usize) -> Result<&'static str, CronError> {
    match word.to_ascii_lowercase().as_str() {
        "@hourly" => Ok("0 * * * *"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@monthly" => Ok("0 0 1 * *"),
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        "@reboot" => Err(err(
            col,
            "`@reboot` has no place in a posting schedule; use a time such as `0 9 * * *`",
        )),
        _ => Err(err(
            col,
            format!(
                "unknown macro `{word}`; use @hourly, @daily, @weekly, @monthly or @yearly, \
                 or write the 5 fields: minute hour day-of-month month day-of-week"
            ),
        )),
    }
}

impl CronSpec {
    /// Parses and validates a 5-field expression or an `@daily`-style macro.
    /// Errors carry the column of the offending text and a suggested fix.
    pub fn parse(expr: &str) -> Result<CronSpec, CronError> {
        let pieces = split_fields(expr);
        let fields_text: Vec<(usize, &str)> = match pieces.first() {
            None => {
                return Err(err(
                    1,
                    format!("the schedule is empty; {FIVE_FIELDS}, e.g. `0 9 * * 1-5`"),
                ))
            }
            Some((col, word)) if word.starts_with('@') => {
                if let Some((extra_col, _)) = pieces.get(1) {
                    return Err(err(
                        *extra_col,
                        format!("a macro such as `{word}` stands alone; remove what follows it"),
                    ));
                }
                // Expansions are well-formed, so their (synthetic) columns never surface.
                split_fields(expand_macro(word, *col)?)
            }
            Some(_) => pieces,
        };
        if fields_text.len() != 5 {
            let n = fields_text.len();
            if n > 5 {
                return Err(err(
                    fields_text[5].0,
                    format!(
                        "{FIVE_FIELDS}; found {n} fields. Seconds and years are not supported, \
                         so remove the extra field(s)"
                    ),
                ));
            }
            let missing: Vec<&str> = Kind::ALL[n..].iter().map(|k| k.name()).collect();
            return Err(err(
                expr.chars().count() + 1,
                format!("{FIVE_FIELDS}; found {n} field(s), missing: {}", missing.join(", ")),
            ));
        }

        let mut parsed = Vec::with_capacity(5);
        for (kind, (col, text)) in Kind::ALL.iter().zip(fields_text.iter()) {
            parsed.push(parse_field(*kind, text, *col)?);
        }
        let [minute, hour, dom, month, dow] = [0, 1, 2, 3, 4].map(|i| &parsed[i]);

        let m = render(Kind::Minute, minute);
        let h = render(Kind::Hour, hour);
        let mo = render(Kind::Month, month);
        let d = render(Kind::DayOfMonth, dom);
        let w = render(Kind::DayOfWeek, dow);
        let sources = if !dom.star && !dow.star {
            vec![format!("0 {m} {h} {d} {mo} *"), format!("0 {m} {h} * {mo} {w}")]
        } else {
            vec![format!("0 {m} {h} {d} {mo} {w}")]
        };
        let schedules = sources
            .iter()
            .map(|s| {
                ::cron::Schedule::from_str(s).map_err(|e| {
                    // Only reachable if our validation and the crate disagree.
                    err(1, format!("internal error translating `{expr}` ({s}): {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CronSpec {
            source: expr.to_string(),
            schedules,
        })
    }

    /// The original expression text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// First occurrence strictly after `after`, interpreted in time zone `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        // Walk the local wall clock; instants for wall times earlier than the
        // local time of `after` can only be second-pass times of a repeated hour,
        // which never fire, so starting there misses nothing.
        let offset = tz.offset_from_utc_datetime(&after.naive_utc()).fix();
        let start = after
            .naive_utc()
            .checked_add_signed(Duration::seconds(offset.local_minus_utc().into()))?;
        let horizon = start
            .checked_add_signed(Duration::days(HORIZON_DAYS))
            .unwrap_or(NaiveDateTime::MAX);
        let mut cursor = start;
        for _ in 0..MAX_CANDIDATES {
            let candidate = self.next_naive(cursor)?;
            if candidate > horizon {
                return None;
            }
            // Candidates map to an instant <= `after` when they are in the
            // repeated hour after `after`'s first pass, or in a gap whose
            // transition instant was already returned: skip them.
            if let Some(instant) = resolve_local(candidate, tz) {
                if instant > after {
                    return Some(instant);
                }
            }
            cursor = candidate;
        }
        None
    }

    /// Convenience: the next `n` occurrences after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut cursor = after;
        while out.len() < n {
            match self.next_after(cursor, tz) {
                Some(t) => {
                    out.push(t);
                    cursor = t;
                }
                None => break,
            }
        }
        out
    }

    fn next_naive(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let after = after.and_utc();
        self.schedules
            .iter()
            .filter_map(|s| s.after(&after).next())
            .min()
            .map(|t| t.naive_utc())
    }
}

/// Maps a wall-clock time in `tz` to the instant herald fires at.
fn resolve_local(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // `local` was skipped. Find the first wall time that exists again; the
    // transition lies within the minute before its instant (whole-minute
    // stepping can overshoot a gap end that is not on a minute boundary, as
    // in some historical zone changes), so settle it to the second.
    for k in 1..=MAX_GAP_MINUTES {
        let probe = local.checked_add_signed(Duration::minutes(k))?;
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            let end = t.with_timezone(&Utc);
            let new_offset = tz.offset_from_utc_datetime(&end.naive_utc()).fix();
            let mut transition = end - Duration::seconds(59);
            while transition < end && tz.offset_from_utc_datetime(&transition.naive_utc()).fix() != new_offset {
                transition += Duration::seconds(1);
            }
            return Some(transition);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
            .with_timezone(&Utc)
    }

    fn spec(expr: &str) -> CronSpec {
        CronSpec::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn next_n(expr: &str, after: &str, tz: Tz, n: usize) -> Vec<String> {
        spec(expr)
            .upcoming(utc(after), tz, n)
            .iter()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .collect()
    }

    fn error(expr: &str) -> CronError {
        match CronSpec::parse(expr) {
            Ok(_) => panic!("`{expr}` should have been rejected"),
            Err(e) => e,
        }
    }

    #[test]
    fn keeps_original_text() {
        assert_eq!(spec("0  9 * * mon-fri").as_str(), "0  9 * * mon-fri");
        assert_eq!(spec("@daily").as_str(), "@daily");
    }

    #[test]
    fn field_count_errors_point_at_the_problem() {
        let e = error("0 0 9 * * 1");
        assert_eq!(e.column, 11);
        assert!(e.message.contains(FIVE_FIELDS), "{}", e.message);
        assert!(e.message.contains("found 6 fields"), "{}", e.message);

        let e = error("0 9 * *");
        assert_eq!(e.column, 8);
        assert!(e.message.contains("missing: day-of-week"), "{}", e.message);

        let e = error("   ");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("empty"), "{}", e.message);
    }

    #[test]
    fn value_errors_have_columns() {
        let e = error("60 * * * *");
        assert_eq!(
            (e.column, e.message.as_str()),
            (1, "minute 60 is out of range; allowed: 0-59")
        );

        let e = error("0 24 * * *");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("hour 24 is out of range"), "{}", e.message);

        let e = error("0 9 0 * *");
        assert_eq!(e.column, 5);

        let e = error("0 9 * 13 *");
        assert_eq!(e.column, 7);

        let e = error("0 9 * * 8");
        assert_eq!(e.column, 9);

        // Second value of a range is reported at its own column.
        let e = error("0 9 1-32 * *");
        assert_eq!(e.column, 7);

        // Within a list.
        let e = error("0,15,75 * * * *");
        assert_eq!(e.column, 6);
    }

    #[test]
    fn foreign_dialect_errors_explain_what_to_write() {
        let e = error("0 9 ? * MON");
        assert_eq!(e.column, 5);
        assert!(e.message.contains("write `*`"), "{}", e.message);

        let e = error("0 9 L * *");
        assert_eq!(e.column, 5);
        assert!(e.message.contains("last day"), "{}", e.message);

        let e = error("0 9 15W * *");
        assert_eq!(e.column, 5);
        assert!(e.message.contains("nearest weekday"), "{}", e.message);

        let e = error("0 9 * * 5L");
        assert_eq!(e.column, 9);
        assert!(e.message.contains("last day"), "{}", e.message);

        let e = error("0 9 * * MON#2");
        assert_eq!(e.column, 9);
        assert!(e.message.contains("nth weekday"), "{}", e.message);

        let e = error("0 9 * FOO *");
        assert_eq!(e.column, 7);
        assert!(e.message.contains("not a month"), "{}", e.message);

        let e = error("0 MON * * *");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("only takes numbers"), "{}", e.message);
    }

    #[test]
    fn range_and_step_errors() {
        let e = error("0 9 * * 5-1");
        assert_eq!(e.column, 9);
        assert!(e.message.contains("reversed"), "{}", e.message);
        assert!(e.message.contains("`5-6,0-1`"), "{}", e.message);

        let e = error("*/0 * * * *");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("step of 0"), "{}", e.message);

        let e = error("5/15 * * * *");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("`5-59/15`"), "{}", e.message);

        let e = error("*/x * * * *");
        assert_eq!(e.column, 3);

        let e = error("1,,2 * * * *");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("empty entry"), "{}", e.message);
    }

    #[test]
    fn macro_errors() {
        let e = error("@reboot");
        assert_eq!(e.column, 1);
        let e = error("  @fortnightly");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("unknown macro"), "{}", e.message);
        let e = error("@daily 0");
        assert_eq!(e.column, 8);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "é" is two bytes in UTF-8 but one column.
        let e = error("é * * * *");
        assert_eq!(e.column, 1);
        let e = error("0\u{a0}9 * * * 99");
        // NBSP is whitespace, so this is 6 fields; the 6th starts at column 11.
        assert_eq!(e.column, 11);
    }

    #[test]
    fn error_display_includes_column() {
        let e = error("0 9 * * 8");
        assert_eq!(
            e.to_string(),
            "invalid schedule at column 9: day-of-week 8 is out of range; \
             allowed: 0-7 (0 and 7 are Sunday) or SUN-SAT"
        );
    }

    #[test]
    fn zero_and_seven_are_both_sunday() {
        let zero = next_n("0 9 * * 0", "2026-01-01T00:00:00Z", Tz::UTC, 3);
        let seven = next_n("0 9 * * 7", "2026-01-01T00:00:00Z", Tz::UTC, 3);
        let sun = next_n("0 9 * * sun", "2026-01-01T00:00:00Z", Tz::UTC, 3);
        let expected = ["2026-01-04T09:00:00Z", "2026-01-11T09:00:00Z", "2026-01-18T09:00:00Z"];
        assert_eq!(zero, expected);
        assert_eq!(seven, expected);
        assert_eq!(sun, expected);
    }

    #[test]
    fn one_to_five_is_monday_to_friday() {
        // 2026-01-01 is a Thursday.
        let got = spec("0 9 * * 1-5").upcoming(utc("2026-01-01T00:00:00Z"), Tz::UTC, 10);
        let days: Vec<Weekday> = got.iter().map(|t| t.weekday()).collect();
        use Weekday::*;
        assert_eq!(days, [Thu, Fri, Mon, Tue, Wed, Thu, Fri, Mon, Tue, Wed]);
        assert_eq!(got[2], utc("2026-01-05T09:00:00Z"));
        let names = spec("0 9 * * MON-FRI").upcoming(utc("2026-01-01T00:00:00Z"), Tz::UTC, 10);
        assert_eq!(names, got);
    }

    #[test]
    fn five_to_seven_is_friday_to_sunday() {
        assert_eq!(
            next_n("0 0 * * 5-7", "2026-01-01T00:00:00Z", Tz::UTC, 4),
            [
                "2026-01-02T00:00:00Z",
                "2026-01-03T00:00:00Z",
                "2026-01-04T00:00:00Z",
                "2026-01-09T00:00:00Z"
            ]
        );
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // 1st and 15th of each month, or any Monday.
        assert_eq!(
            next_n("0 12 1,15 * 1", "2026-01-01T00:00:00Z", Tz::UTC, 6),
            [
                "2026-01-01T12:00:00Z", // Thu, the 1st
                "2026-01-05T12:00:00Z", // Mon
                "2026-01-12T12:00:00Z", // Mon
                "2026-01-15T12:00:00Z", // Thu, the 15th
                "2026-01-19T12:00:00Z", // Mon
                "2026-01-26T12:00:00Z", // Mon
            ]
        );
        // `*/2` is a restriction too: odd days of the month, or Mondays.
        assert_eq!(
            next_n("0 0 */2 * 1", "2026-01-01T00:00:00Z", Tz::UTC, 6),
            [
                "2026-01-03T00:00:00Z",
                "2026-01-05T00:00:00Z",
                "2026-01-07T00:00:00Z",
                "2026-01-09T00:00:00Z",
                "2026-01-11T00:00:00Z",
                "2026-01-12T00:00:00Z", // Mon, even day
            ]
        );
        // With day-of-week `*`, day-of-month alone decides.
        assert_eq!(
            next_n("0 12 1,15 * *", "2026-01-01T00:00:00Z", Tz::UTC, 3),
            ["2026-01-01T12:00:00Z", "2026-01-15T12:00:00Z", "2026-02-01T12:00:00Z"]
        );
    }

    #[test]
    fn names_steps_and_ranges() {
        assert_eq!(
            next_n("15 10 1 jan-dec/3 *", "2026-01-01T00:00:00Z", Tz::UTC, 4),
            [
                "2026-01-01T10:15:00Z",
                "2026-04-01T10:15:00Z",
                "2026-07-01T10:15:00Z",
                "2026-10-01T10:15:00Z"
            ]
        );
        assert_eq!(
            next_n("10-30/10 8 * * *", "2026-01-01T00:00:00Z", Tz::UTC, 4),
            [
                "2026-01-01T08:10:00Z",
                "2026-01-01T08:20:00Z",
                "2026-01-01T08:30:00Z",
                "2026-01-02T08:10:00Z"
            ]
        );
    }

    #[test]
    fn macros_expand() {
        let after = utc("2026-05-17T10:20:00Z");
        let cases = [
            ("@hourly", "2026-05-17T11:00:00Z"),
            ("@daily", "2026-05-18T00:00:00Z"),
            ("@midnight", "2026-05-18T00:00:00Z"),
            ("@weekly", "2026-05-24T00:00:00Z"),
            ("@monthly", "2026-06-01T00:00:00Z"),
            ("@yearly", "2027-01-01T00:00:00Z"),
            ("@annually", "2027-01-01T00:00:00Z"),
        ];
        for (expr, want) in cases {
            assert_eq!(spec(expr).next_after(after, Tz::UTC), Some(utc(want)), "{expr}");
        }
    }

    #[test]
    fn strictly_after() {
        let s = spec("*/15 * * * *");
        assert_eq!(
            s.next_after(utc("2026-01-01T10:15:00Z"), Tz::UTC),
            Some(utc("2026-01-01T10:30:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-01-01T10:14:59.999Z"), Tz::UTC),
            Some(utc("2026-01-01T10:15:00Z"))
        );
    }

    #[test]
    fn impossible_schedule_ends() {
        assert_eq!(
            spec("0 0 31 2 *").next_after(utc("2026-01-01T00:00:00Z"), Tz::UTC),
            None
        );
        assert!(spec("0 0 30 2 *")
            .upcoming(utc("2026-01-01T00:00:00Z"), Tz::Europe__Berlin, 5)
            .is_empty());
        // Sparse but possible: the next 29 February.
        assert_eq!(
            spec("0 0 29 2 *").next_after(utc("2026-01-01T00:00:00Z"), Tz::UTC),
            Some(utc("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let s = spec("* * * * *");
        // The cron crate searches up to the year 2100 only.
        assert_eq!(s.next_after(DateTime::<Utc>::MAX_UTC, Tz::Europe__Berlin), None);
        assert_eq!(s.next_after(utc("2100-12-31T23:59:00Z"), Tz::UTC), None);
        // Far in the past the bounded search gives up instead of walking millennia.
        assert_eq!(s.next_after(DateTime::<Utc>::MIN_UTC, Tz::UTC), None);
        assert_eq!(
            s.next_after(utc("1969-12-31T23:59:30Z"), Tz::UTC),
            Some(utc("1970-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn berlin_spring_gap_fires_at_transition() {
        // 02:30 does not exist on 2026-03-29 in Berlin; clocks jump 02:00 CET -> 03:00 CEST.
        assert_eq!(
            next_n("30 2 * * *", "2026-03-28T12:00:00Z", Tz::Europe__Berlin, 3),
            [
                "2026-03-29T01:00:00Z", // 03:00 CEST
                "2026-03-30T00:30:00Z",
                "2026-03-31T00:30:00Z"
            ]
        );
    }

    #[test]
    fn berlin_spring_gap_collapses_several_times_into_one() {
        assert_eq!(
            next_n("*/20 * * * *", "2026-03-29T00:30:00Z", Tz::Europe__Berlin, 5),
            [
                "2026-03-29T00:40:00Z", // 01:40 CET
                "2026-03-29T01:00:00Z", // 02:00, 02:20, 02:40 -> 03:00 CEST, once
                "2026-03-29T01:20:00Z",
                "2026-03-29T01:40:00Z",
                "2026-03-29T02:00:00Z"
            ]
        );
    }

    #[test]
    fn berlin_autumn_repeat_runs_once() {
        // 02:30 happens twice on 2026-10-25 (00:30Z CEST and 01:30Z CET); fire only the first.
        assert_eq!(
            next_n("30 2 * * *", "2026-10-24T12:00:00Z", Tz::Europe__Berlin, 3),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"]
        );
        // Asking from inside the second pass does not re-fire it.
        assert_eq!(
            spec("30 2 * * *").next_after(utc("2026-10-25T01:00:00Z"), Tz::Europe__Berlin),
            Some(utc("2026-10-26T01:30:00Z"))
        );
    }

    #[test]
    fn half_hourly_across_autumn_repeat_runs_each_wall_time_once() {
        assert_eq!(
            next_n("*/30 * * * *", "2026-10-24T23:00:00Z", Tz::Europe__Berlin, 6),
            [
                "2026-10-24T23:30:00Z", // 01:30 CEST
                "2026-10-25T00:00:00Z", // 02:00 CEST
                "2026-10-25T00:30:00Z", // 02:30 CEST
                // 02:00 and 02:30 CET (01:00Z, 01:30Z) are repeats: skipped.
                "2026-10-25T02:00:00Z", // 03:00 CET
                "2026-10-25T02:30:00Z",
                "2026-10-25T03:00:00Z"
            ]
        );
    }

    #[test]
    fn new_york_gaps_and_repeats() {
        // US DST 2026: 8 March (02:00 -> 03:00) and 1 November (02:00 -> 01:00).
        assert_eq!(
            next_n("30 2 * * *", "2026-03-07T12:00:00Z", Tz::America__New_York, 2),
            ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"]
        );
        assert_eq!(
            next_n("30 1 * * *", "2026-10-31T12:00:00Z", Tz::America__New_York, 2),
            ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
        );
    }

    #[test]
    fn tokyo_has_no_dst() {
        assert_eq!(
            next_n("30 2 * * *", "2026-03-28T00:00:00Z", Tz::Asia__Tokyo, 3),
            ["2026-03-28T17:30:00Z", "2026-03-29T17:30:00Z", "2026-03-30T17:30:00Z"]
        );
        assert_eq!(
            next_n("0 9 * * 1-5", "2026-10-23T00:00:00Z", Tz::Asia__Tokyo, 2),
            ["2026-10-26T00:00:00Z", "2026-10-27T00:00:00Z"]
        );
    }

    #[test]
    fn gap_end_off_the_minute_is_found_to_the_second() {
        // Berlin left local mean time (+00:53:28) for CET on 1893-04-01, skipping
        // 00:00:00-00:06:31. The cron crate cannot search before 1970, so
        // exercise the resolver directly.
        let local = NaiveDateTime::parse_from_str("1893-04-01 00:03:00", "%Y-%m-%d %H:%M:%S").expect("valid");
        assert_eq!(
            resolve_local(local, Tz::Europe__Berlin),
            Some(utc("1893-03-31T23:06:32Z"))
        );
    }
}
