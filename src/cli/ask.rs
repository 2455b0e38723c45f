//! What every admin subcommand shares: load the config, send the request
//! (to the daemon, or to the store when no daemon runs), and turn the answer
//! into output and an exit status.

use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::config::Config;
use crate::control::client::{self, ClientError};
use crate::control::{Request, Response};

/// Exit status when the daemon runs but cannot be reached (permissions), or
/// speaks another protocol version.
pub const UNREACHABLE: u8 = 4;

pub(crate) fn load(config_path: &Path) -> Result<Config, ExitCode> {
    crate::config::load(config_path).map_err(|e| super::fail(3, &e.into()))
}

/// Sends the request; prints errors and returns the exit status on failure.
/// On success returns the answer's data and whether a daemon answered.
pub(crate) fn ask(config: &Config, request: Request) -> Result<(Value, bool), ExitCode> {
    answered(client::request(config, request))
}

/// [`ask`] for the commands an incident needs (status, pause, resume,
/// freeze, thaw, disaster-hold): when the config file does not load (a typo
/// on disk that a reload refused), the running daemon is still reached — the
/// socket's place is read from the file alone — and the command works, with
/// a warning about the file. Only without a daemon does the config error stop it.
pub(crate) fn ask_in_emergency(config_path: &Path, request: Request) -> Result<(Value, bool), ExitCode> {
    let error = match crate::config::load(config_path) {
        Ok(config) => return ask(&config, request),
        Err(e) => e,
    };
    let Some(paths) = crate::config::control_paths(config_path) else {
        return Err(super::fail(3, &error.into()));
    };
    match client::ask_daemon(&paths, &request) {
        Ok(None) => Err(super::fail(
            3,
            &anyhow::Error::from(error).context(format!(
                "no herald daemon answers at {} either, so nothing was done",
                paths.socket.display()
            )),
        )),
        answer => {
            eprintln!(
                "herald: warning: {error}\n  The running daemon answered: it keeps the config it loaded last. Fix the file before the next reload or restart (herald doctor)."
            );
            answered(answer.map(|r| (r.expect("answered"), true)))
        }
    }
}

fn answered(answer: Result<(Response, bool), ClientError>) -> Result<(Value, bool), ExitCode> {
    match answer {
        Ok((Response::Ok { data }, by_daemon)) => Ok((data, by_daemon)),
        Ok((Response::Error { message }, _)) => Err(super::fail(1, &anyhow::anyhow!(message))),
        Err(e @ (ClientError::Unreachable(_) | ClientError::Refused(_))) => {
            Err(super::fail(UNREACHABLE, &anyhow::anyhow!(e)))
        }
        Err(e) => Err(super::fail(1, &anyhow::anyhow!(e))),
    }
}

/// What an inspecting subcommand does: load the config, build the request
/// from it, send it, then print the answer as the `--json` document or hand
/// it to `show` for people. A failure has been reported when its exit
/// status comes back.
pub(crate) fn inspect(
    config_path: &Path,
    json: bool,
    request: impl FnOnce(&Config) -> Result<Request, ExitCode>,
    show: impl FnOnce(&Value),
) -> ExitCode {
    let answer = load(config_path).and_then(|config| ask(&config, request(&config)?));
    match answer {
        Ok((v, _)) if json => print_json(&v),
        Ok((v, _)) => show(&v),
        Err(code) => return code,
    }
    ExitCode::SUCCESS
}

/// A table for `render_table`: the headings, then a row for each item of
/// the answer's array `list` (none when it is not an array).
pub(crate) fn rows_of(headings: &[&str], list: &Value, row: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    let mut table = vec![headings.iter().map(|h| h.to_string()).collect()];
    table.extend(list.as_array().into_iter().flatten().map(row));
    table
}

/// Prints the `--json` document.
pub(crate) fn print_json(v: &Value) {
    println!("{v}");
}

/// Parses a time the admin typed: `24h` / `7d` (that long ago), RFC 3339,
/// or a local date(-time) in `tz`.
pub(crate) fn parse_time(text: &str, tz: Tz) -> Result<DateTime<Utc>, ExitCode> {
    let t = text.trim();
    if let Ok(d) = humantime::parse_duration(t) {
        if let Ok(d) = chrono::TimeDelta::from_std(d) {
            let now =
                crate::schedule::clock::command_line_now().map_err(|e| super::fail(2, &anyhow::anyhow!("{e}")))?;
            return Ok(now - d);
        }
    }
    let with_time = if t.len() == 10 {
        format!("{t} 00:00")
    } else {
        t.to_string()
    };
    crate::schedule::parse_instant(&with_time, tz)
        .map_err(|e| super::fail(2, &anyhow::anyhow!("{e}; a duration like \"24h\" means that long ago")))
}

/// The zone times given on the command line are read in: the account's when
/// one is named, else UTC.
pub(crate) fn zone(config: &Config, account: Option<&str>) -> Tz {
    account
        .and_then(|a| config.accounts.get(a))
        .map_or(chrono_tz::UTC, |a| a.time_zone)
}

/// A time from a `--json` document, shown for people (`2026-12-01 09:00 +09:00`).
pub(crate) fn human(v: &Value) -> String {
    match v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => t.format("%Y-%m-%d %H:%M %:z").to_string(),
        None => "-".into(),
    }
}

/// An audit time (UTC), to the second.
pub(crate) fn utc_second(v: &Value) -> String {
    match v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => t.with_timezone(&Utc).format("%Y-%m-%d %H:%M:%SZ").to_string(),
        None => text(v),
    }
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        // Written by owners, platforms or the file system: shown, not obeyed.
        Value::String(s) => crate::terminal::safe(s).into_owned(),
        other => other.to_string(),
    }
}

/// Who stopped something, for people.
pub(crate) fn stop_line(v: &Value) -> String {
    let by = match &v["by"] {
        Value::String(s) => s.clone(),
        by => format!("{} (uid {})", text(&by["name"]), text(&by["uid"])),
    };
    format!("{} — by {by} at {}", text(&v["reason"]), human(&v["at"]))
}
