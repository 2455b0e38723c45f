//! `herald.toml`: daemon settings, the account registry and the rulebooks.
//!
//! Loading happens in two stages, as in ripgrep's argument handling: serde
//! reads the file into the raw structs of [`raw`], then [`load`] checks every
//! value and builds a [`Config`] that cannot be invalid. Every error names the
//! file, the line and the column, and says what to do.

mod alerts;
mod raw;

pub use alerts::{
    AlertSettings, AttestationSettings, CostSettings, Intensity, JmaSettings, JmaTrigger, NotificationSettings,
    SmtpSettings, TsunamiLevel, WebhookFormat, WebhookSettings, NOTIFY_EVENTS,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;

use crate::source::Position;

/// The file herald reads when neither `--config` nor `HERALD_CONFIG` says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/herald/herald.toml";

/// A config error: where it is and what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{}: {message}", file.display(), position.map(|p| format!(":{p}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: PathBuf,
    pub position: Option<Position>,
    /// What is wrong and what to do, as sentences.
    pub message: String,
}

/// The checked configuration the rest of herald sees.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from; relative paths inside it resolve against its folder.
    pub path: PathBuf,
    pub daemon: DaemonSettings,
    pub sandbox: SandboxSettings,
    pub x: XSettings,
    /// Accounts by id, in id order so listings are stable.
    pub accounts: BTreeMap<String, Account>,
    pub rulebooks: BTreeMap<String, Rulebook>,
    pub metrics: MetricsSettings,
    /// `[attestation]`, `[jma]`, `[notifications]`, `[costs]` (issue 17).
    pub alerts: AlertSettings,
}

/// `[metrics]`: where herald serves Prometheus metrics, if anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `listen = "127.0.0.1:9464"`; none serves nothing.
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct DaemonSettings {
    pub queue_dir: PathBuf,
    pub state_dir: PathBuf,
    /// The rulebook every account follows; accounts cannot switch it off.
    pub baseline: String,
    /// Files modified more recently than this are still being written.
    pub settle: Duration,
    /// Post files larger than this are rejected unread.
    pub max_file_bytes: u64,
    /// How many publish requests may be in flight at once, across accounts.
    pub max_in_flight: usize,
    /// The control socket admins' commands talk to (`[daemon] socket`,
    /// default `<state_dir>/herald.sock`).
    pub socket: PathBuf,
    /// At shutdown, how long requests in flight may take before they are
    /// abandoned (recorded, and reconciled at the next start).
    pub stop_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// The length limit the sandbox platform enforces, in characters.
    pub max_length: usize,
}

/// `[platforms.x]`: how herald reaches X and where the accounts' credentials are.
#[derive(Debug, Clone)]
pub struct XSettings {
    /// The API's base URL, without a trailing slash (tests point it at a fake).
    pub api_base: String,
    /// Where `herald auth x` sends the owner to authorize herald.
    pub authorize_url: String,
    /// The folder with the credential files (`x-<account>.json`), used when
    /// systemd's `$CREDENTIALS_DIRECTORY` is not set.
    pub credentials_dir: Option<PathBuf>,
    /// How long one request may take before herald gives up on it.
    pub timeout: Duration,
    /// The longest herald waits between two polls of a video's processing.
    pub max_poll_wait: Duration,
    /// X is eventually consistent: a post just made may not be visible to
    /// a reply or in the timeline for a few seconds. Herald waits this long
    /// between thread parts, before repeating a reply X could not yet see
    /// the parent of, and before reading the timeline again when looking
    /// for a post an earlier attempt may have made.
    pub settle_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    Sandbox,
    X,
    Mastodon,
    Bluesky,
    Misskey,
}

impl PlatformKind {
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Sandbox => "sandbox",
            PlatformKind::X => "x",
            PlatformKind::Mastodon => "mastodon",
            PlatformKind::Bluesky => "bluesky",
            PlatformKind::Misskey => "misskey",
        }
    }

    /// The platform's name as people write it, for owners' notes.
    pub fn display_name(self) -> &'static str {
        match self {
            PlatformKind::Sandbox => "the sandbox",
            PlatformKind::X => "X",
            PlatformKind::Mastodon => "Mastodon",
            PlatformKind::Bluesky => "Bluesky",
            PlatformKind::Misskey => "Misskey",
        }
    }
}

/// What happens to a one-shot delivery found later than its max lateness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StalePolicy {
    /// Wait for an admin to approve or reject it.
    Hold,
    /// Give up on it: the file moves to `expired/`.
    Expire,
}

/// One registry entry: who runs the account and how it publishes.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub platform: PlatformKind,
    pub handle: String,
    pub owner: String,
    pub backup: Option<String>,
    pub contact: Option<String>,
    pub department: Option<String>,
    pub purpose: Option<String>,
    pub time_zone: Tz,
    /// Rulebooks beyond the baseline, in the order listed.
    pub rulebooks: Vec<String>,
    pub max_lateness: Duration,
    pub quiet_hours: Option<QuietHours>,
    pub min_interval: Duration,
    pub stale: StalePolicy,
    /// Whether this account may publish `emergency` posts during a freeze.
    pub emergency: bool,
    /// The owner's last attestation of the guidelines (`[attestation]`).
    pub attested: Option<chrono::NaiveDate>,
    /// The owner's language, for notifications not about one post.
    pub language: Option<crate::guidelines::Lang>,
    /// This account's monthly budget for X, in USD (`[costs]`).
    pub monthly_budget: Option<f64>,
    /// The account's folder: `<queue_dir>/<id>`.
    pub folder: PathBuf,
}

/// A daily window, in the account's zone, during which nothing is published.
/// `start > end` means the window crosses midnight (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn parse(text: &str) -> Result<QuietHours, String> {
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| format!("quiet hours \"{text}\" should look like \"22:00-07:00\""))?;
        let parse = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("\"{}\" is not a time of day like \"07:00\"", s.trim()))
        };
        let (start, end) = (parse(a)?, parse(b)?);
        if start == end {
            return Err(format!(
                "quiet hours \"{text}\" start and end at the same time; leave quiet_hours out to have none"
            ));
        }
        Ok(QuietHours { start, end })
    }

    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M"))
    }
}

/// How bad a finding is; ordered so that `max` gives the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Publish, and record the finding.
    Warn,
    /// Wait for an admin.
    Hold,
    /// Never publish.
    Block,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Hold => "hold",
            Severity::Block => "block",
        }
    }
}

/// A named set of rules with their severities.
#[derive(Debug, Clone)]
pub struct Rulebook {
    pub name: String,
    pub description: Option<String>,
    /// Rules by id.
    pub rules: BTreeMap<String, RuleSettings>,
}

/// One rule's settings in one rulebook.
#[derive(Debug, Clone)]
pub struct RuleSettings {
    /// As configured, or the built-in rule's default when the section has no `severity`.
    pub severity: Severity,
    /// The settings only some built-in rules read (see config/README.md).
    pub options: RuleOptions,
    /// Terms for term-list rules, as written (folding happens in the engine).
    pub terms: Vec<String>,
    /// prh dictionaries for proofreading rules, loaded (and their specs run) with the config.
    pub dictionaries: Vec<std::sync::Arc<crate::guidelines::prh::Dictionary>>,
    /// The message shown to the owner; `{term}` is replaced with the match.
    pub message: Option<String>,
    pub suggestion: Option<String>,
    /// Where it was configured, for `herald rules` and for error messages.
    pub origin: Option<Position>,
}

/// Settings of the built-in rules beyond severity, message and terms. Each
/// key belongs to the rules listed in `guidelines::catalog`; the config
/// refuses a key on a rule that does not read it.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// The company guideline the rule's messages cite, replacing the built-in citation.
    pub guideline: Option<String>,
    /// `terms` replace the rule's built-in list instead of extending it.
    pub replace_defaults: bool,
    /// internal-link: intranet domains (a host equal to one or below it).
    pub domains: Vec<String>,
    /// embargo: unannounced names and when they may be said.
    pub embargoes: Vec<Embargo>,
    /// client-reference: the companies that need an approval to be named.
    pub clients: Vec<Client>,
    /// client-reference: the approvals posts may cite.
    pub approvals: Vec<Approval>,
    /// quiet-period: the instants of the earnings announcements.
    pub earnings: Vec<chrono::DateTime<chrono::Utc>>,
    /// quiet-period: how long before each announcement the quiet period starts.
    pub window: Option<Duration>,
    /// stealth-marketing: the disclosure labels (広告, PR, …), beyond the built-in ones.
    pub labels: Vec<String>,
    /// stealth-marketing: hosts of affiliate links, beyond the built-in ones.
    pub affiliate_domains: Vec<String>,
    /// personal-data: official addresses and numbers that may be posted.
    pub allow: Vec<String>,
    /// sensitive-date: (month, day) in the account's zone.
    pub dates: Vec<(u32, u32)>,
    /// sensitive-date and disaster-hold: the post kinds concerned.
    pub kinds: Vec<crate::queue::Kind>,
    /// sensitive-date: post labels that mark a humorous post.
    pub humor_labels: Vec<String>,
    /// duplicate: how many days back (and ahead) a post is compared.
    pub days: Option<u32>,
    /// duplicate: how similar (0–1) two texts must be to count as the same.
    pub similarity: Option<f64>,
    /// hashtags: the most hashtags a part may have.
    pub max: Option<usize>,
}

/// A name that must not appear before its announcement.
#[derive(Debug, Clone)]
pub struct Embargo {
    pub name: String,
    pub aliases: Vec<String>,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// A client, partner or supplier whose name needs an approval.
#[derive(Debug, Clone)]
pub struct Client {
    pub name: String,
    pub aliases: Vec<String>,
}

/// A recorded approval to name clients publicly, cited in a post's `approvals`.
#[derive(Debug, Clone)]
pub struct Approval {
    pub id: String,
    /// The clients it covers; empty means every client.
    pub clients: Vec<String>,
    pub expires: chrono::DateTime<chrono::Utc>,
}

impl Config {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// The rulebooks an account follows, baseline first.
    pub fn rulebooks_for<'a>(&'a self, account: &'a Account) -> impl Iterator<Item = &'a Rulebook> + 'a {
        std::iter::once(self.daemon.baseline.as_str())
            .chain(
                account
                    .rulebooks
                    .iter()
                    .map(String::as_str)
                    .filter(move |name| *name != self.daemon.baseline),
            )
            .filter_map(|name| self.rulebooks.get(name))
    }

    /// The path of the sled store.
    pub fn store_path(&self) -> PathBuf {
        self.daemon.state_dir.join("store")
    }
}

/// Finds the config file: `--config`, then `HERALD_CONFIG` (clap handles
/// both), then the default path.
pub fn resolve_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH))
}

/// Where a daemon started with a config listens and keeps its state: all a
/// command needs to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPaths {
    pub socket: PathBuf,
    pub state_dir: PathBuf,
}

impl Config {
    pub fn control_paths(&self) -> ControlPaths {
        ControlPaths {
            socket: self.daemon.socket.clone(),
            state_dir: self.daemon.state_dir.clone(),
        }
    }
}

/// Reads only `[daemon] state_dir` and `socket` from a config file that does
/// not load as a whole — a typo elsewhere, even text that is not TOML — so
/// that an emergency stop still reaches the running daemon (DESIGN.md
/// invariant 9). `None` when the file cannot be read or names no state
/// folder.
pub fn control_paths(path: &Path) -> Option<ControlPaths> {
    let text = std::fs::read_to_string(path).ok()?;
    let (state_dir, socket) = match text.parse::<toml::Table>() {
        Ok(table) => {
            let daemon = table.get("daemon")?.as_table()?;
            let get = |key: &str| daemon.get(key).and_then(|v| v.as_str()).map(str::to_string);
            (get("state_dir")?, get("socket"))
        }
        Err(_) => daemon_keys_line_by_line(&text)?,
    };
    let state_dir = raw::resolve_against(path, &state_dir);
    let socket = match socket {
        Some(s) => raw::resolve_against(path, &s),
        None => state_dir.join("herald.sock"),
    };
    Some(ControlPaths { socket, state_dir })
}

/// `state_dir` and `socket` of the `[daemon]` table, read line by line from
/// text that does not parse as TOML: `key = "value"` lines only.
fn daemon_keys_line_by_line(text: &str) -> Option<(String, Option<String>)> {
    let (mut in_daemon, mut state_dir, mut socket) = (false, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_daemon = line.trim_start_matches('[').trim_end_matches(']').trim() == "daemon";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let quoted = value
            .strip_prefix('"')
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| v.to_string());
        match (in_daemon, key.trim(), quoted) {
            (true, "state_dir", Some(v)) => state_dir = Some(v),
            (true, "socket", Some(v)) => socket = Some(v),
            _ => {}
        }
    }
    Some((state_dir?, socket))
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        position: None,
        message: format!("cannot read the config file: {e}. Pass the right path with --config or HERALD_CONFIG."),
    })?;
    parse(path, &text)
}

/// Checks config text as if read from `path` (relative paths resolve against its folder).
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    raw::check(path, text)
}

/// Parses "15m", "2h 30m", "0s".
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| format!("\"{text}\" is not a duration; write it like \"15m\", \"2h\" or \"1h 30m\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_across_midnight_contain_late_night_and_early_morning() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert!(q.contains(NaiveTime::from_hms_opt(23, 30, 0).unwrap()));
        assert!(q.contains(NaiveTime::from_hms_opt(6, 59, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(7, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    }

    #[test]
    fn quiet_hours_within_a_day() {
        let q = QuietHours::parse("12:00-13:00").unwrap();
        assert!(q.contains(NaiveTime::from_hms_opt(12, 30, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(13, 0, 0).unwrap()));
    }

    #[test]
    fn the_daemon_is_found_in_a_config_that_does_not_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        // Valid TOML, invalid config (an unknown zone): the table is read.
        std::fs::write(
            &path,
            "[daemon]\nstate_dir = \"state\"\nsocket = \"/run/herald/herald.sock\"\n[[account]]\ntime_zone = \"Asia/Tokio\"\n",
        )
        .unwrap();
        assert!(load(&path).is_err());
        let found = control_paths(&path).unwrap();
        assert_eq!(found.socket, PathBuf::from("/run/herald/herald.sock"));
        assert_eq!(found.state_dir, dir.path().join("state"));
        // Not TOML at all (an unclosed string further down): read line by line.
        std::fs::write(
            &path,
            "[daemon]\nqueue_dir = \"q\"\nstate_dir = \"state\" # here\n\n[[account]]\nid = \"tokyo\nowner = x\n",
        )
        .unwrap();
        let found = control_paths(&path).unwrap();
        assert_eq!(found.state_dir, dir.path().join("state"));
        assert_eq!(found.socket, dir.path().join("state/herald.sock"));
        // A state_dir outside [daemon] is not the daemon's.
        std::fs::write(&path, "[other]\nstate_dir = \"x\"\n").unwrap();
        assert_eq!(control_paths(&path), None);
    }

    #[test]
    fn quiet_hours_reject_nonsense() {
        assert!(QuietHours::parse("22:00").is_err());
        assert!(QuietHours::parse("25:00-07:00").is_err());
        assert!(QuietHours::parse("07:00-07:00").is_err());
    }
}
