//! The raw shape of `herald.toml` as serde reads it, and the checks that turn
//! it into a [`Config`]. Values that need a location in error messages are
//! read as [`toml::Spanned`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{
    parse_duration, Account, Config, ConfigError, DaemonSettings, MetricsSettings, PlatformKind, QuietHours,
    RuleSettings, Rulebook, SandboxSettings, Severity, StalePolicy, XSettings,
};
use crate::source::Position;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    daemon: RawDaemon,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    platforms: RawPlatforms,
    #[serde(default, rename = "account")]
    accounts: Vec<RawAccount>,
    #[serde(default)]
    rulebooks: BTreeMap<String, RawRulebook>,
    #[serde(default)]
    metrics: RawMetrics,
    // Issue 17's sections: checked in `alerts.rs`.
    attestation: Option<super::alerts::RawAttestation>,
    jma: Option<super::alerts::RawJma>,
    notifications: Option<super::alerts::RawNotifications>,
    costs: Option<super::alerts::RawCosts>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    queue_dir: Spanned<String>,
    state_dir: Spanned<String>,
    baseline: Spanned<String>,
    settle: Option<Spanned<String>>,
    max_file_bytes: Option<u64>,
    max_in_flight: Option<Spanned<usize>>,
    /// The control socket; `<state_dir>/herald.sock` when absent.
    socket: Option<Spanned<String>>,
    stop_grace: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    time_zone: Option<Spanned<String>>,
    max_lateness: Option<Spanned<String>>,
    min_interval: Option<Spanned<String>>,
    quiet_hours: Option<Spanned<String>>,
    stale: Option<StalePolicy>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPlatforms {
    #[serde(default)]
    sandbox: RawSandbox,
    #[serde(default)]
    x: RawX,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawX {
    api_base: Option<Spanned<String>>,
    authorize_url: Option<String>,
    credentials_dir: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_poll_wait: Option<Spanned<String>>,
    settle_wait: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    max_length: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: Spanned<String>,
    platform: PlatformKind,
    handle: String,
    owner: String,
    backup: Option<String>,
    contact: Option<String>,
    department: Option<String>,
    purpose: Option<String>,
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    rulebooks: Vec<Spanned<String>>,
    max_lateness: Option<Spanned<String>>,
    quiet_hours: Option<Spanned<String>>,
    min_interval: Option<Spanned<String>>,
    stale: Option<StalePolicy>,
    #[serde(default)]
    emergency: bool,
    /// The owner's last attestation of the guidelines (a date).
    attested: Option<Spanned<toml::Value>>,
    /// The owner's language for notifications: "ja" or "en".
    language: Option<Spanned<String>>,
    /// This account's monthly budget for X, in USD.
    monthly_budget: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRulebook {
    description: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    /// Optional for built-in rules (their default applies).
    severity: Option<Spanned<Severity>>,
    terms: Option<Spanned<Vec<String>>>,
    /// prh dictionaries (YAML), relative to the config file.
    dictionaries: Option<Vec<Spanned<String>>>,
    message: Option<String>,
    suggestion: Option<String>,
    /// The company guideline the rule enforces, as its messages cite it.
    guideline: Option<String>,
    // The keys below belong to some built-in rules only (guidelines::catalog).
    replace_defaults: Option<Spanned<bool>>,
    domains: Option<Spanned<Vec<String>>>,
    names: Option<Spanned<Vec<RawEmbargo>>>,
    clients: Option<Spanned<Vec<RawClient>>>,
    approvals: Option<Spanned<Vec<RawApproval>>>,
    earnings: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    window: Option<Spanned<String>>,
    labels: Option<Spanned<Vec<String>>>,
    affiliate_domains: Option<Spanned<Vec<String>>>,
    allow: Option<Spanned<Vec<String>>>,
    dates: Option<Spanned<Vec<Spanned<String>>>>,
    kinds: Option<Spanned<Vec<crate::queue::Kind>>>,
    humor_labels: Option<Spanned<Vec<String>>>,
    days: Option<Spanned<u32>>,
    similarity: Option<Spanned<f64>>,
    max: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbargo {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    until: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    id: String,
    #[serde(default)]
    clients: Vec<String>,
    expires: Spanned<toml::Value>,
}

impl RawRule {
    /// The rule-specific keys present, with where they are, for checking
    /// them against the keys the rule reads.
    fn option_keys(&self) -> Vec<(&'static str, usize)> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<usize> {
            v.as_ref().map(|s| s.span().start)
        }
        [
            ("terms", at(&self.terms)),
            ("replace_defaults", at(&self.replace_defaults)),
            ("domains", at(&self.domains)),
            ("names", at(&self.names)),
            ("clients", at(&self.clients)),
            ("approvals", at(&self.approvals)),
            ("earnings", at(&self.earnings)),
            ("window", at(&self.window)),
            ("labels", at(&self.labels)),
            ("affiliate_domains", at(&self.affiliate_domains)),
            ("allow", at(&self.allow)),
            ("dates", at(&self.dates)),
            ("kinds", at(&self.kinds)),
            ("humor_labels", at(&self.humor_labels)),
            ("days", at(&self.days)),
            ("similarity", at(&self.similarity)),
            ("max", at(&self.max)),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.map(|p| (k, p)))
        .collect()
    }
}

pub(super) struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    pub(super) fn error_at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.path.to_path_buf(),
            position: Some(Position::of_offset(self.text, offset)),
            message: message.into(),
        }
    }

    pub(super) fn duration(&self, value: &Spanned<String>, what: &str) -> Result<Duration, ConfigError> {
        parse_duration(value.get_ref()).map_err(|e| self.error_at(value.span().start, format!("{what}: {e}.")))
    }

    fn time_zone(&self, value: &Spanned<String>) -> Result<chrono_tz::Tz, ConfigError> {
        value.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
            self.error_at(
                value.span().start,
                format!(
                    "unknown time zone \"{}\". Use an IANA zone name such as \"Asia/Tokyo\", \"Europe/Berlin\" or \"UTC\".",
                    value.get_ref()
                ),
            )
        })
    }

    fn quiet_hours(&self, value: &Spanned<String>) -> Result<QuietHours, ConfigError> {
        QuietHours::parse(value.get_ref()).map_err(|e| self.error_at(value.span().start, format!("{e}.")))
    }

    /// A path from the config, relative to the config file's folder, made
    /// absolute and free of `..` so that notes and logs show plain paths.
    pub(super) fn resolve(&self, value: &str) -> PathBuf {
        resolve_against(self.path, value)
    }
}

/// A path written in the config file at `config`, relative to its folder,
/// made absolute and free of `..`.
pub(crate) fn resolve_against(config: &Path, value: &str) -> PathBuf {
    let p = Path::new(value);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        config.parent().unwrap_or(Path::new(".")).join(p)
    };
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    let mut clean = PathBuf::new();
    for c in absolute.components() {
        match c {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

impl Checker<'_> {
    /// An instant in the config: a TOML date-time or a string, with an
    /// offset or in the default zone.
    fn instant(
        &self,
        value: &Spanned<toml::Value>,
        what: &str,
        tz: chrono_tz::Tz,
    ) -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                return Err(self.error_at(
                    value.span().start,
                    format!(
                        "{what} must be a date and time such as 2027-04-01T10:00:00+09:00, not {}.",
                        other.type_str()
                    ),
                ))
            }
        };
        crate::schedule::parse_instant(&text, tz)
            .map_err(|e| self.error_at(value.span().start, format!("{what}: {e}.")))
    }

    /// One `[rulebooks.NAME.rules.ID]` section, checked against what the rule reads.
    fn rule(
        &self,
        book: &str,
        id: &str,
        spanned: &Spanned<RawRule>,
        tz: chrono_tz::Tz,
    ) -> Result<RuleSettings, ConfigError> {
        use crate::guidelines::catalog;
        let r = spanned.get_ref();
        let section = spanned.span().start;
        let built_in = catalog::built_in(id);
        let keys = r.option_keys();
        match built_in {
            Some(b) => {
                if let (Some(driven), Some(sev)) = (b.drives, &r.severity) {
                    return Err(self.error_at(
                        sev.span().start,
                        format!("\"{id}\" (rulebook \"{book}\") is not a rule with a severity of its own: it sets when {driven} blocks. Remove the severity line; set {driven}'s severity outside the windows under [rulebooks.{book}.rules.{driven}]."),
                    ));
                }
                if let Some((key, at)) = keys.iter().find(|(k, _)| !b.keys.contains(k)) {
                    let reads = if b.keys.is_empty() {
                        "only severity, message, suggestion and guideline".to_string()
                    } else {
                        format!("severity, message, suggestion, guideline and {}", b.keys.join(", "))
                    };
                    return Err(self.error_at(
                        *at,
                        format!("rule \"{id}\" (rulebook \"{book}\") has no setting \"{key}\"; it reads {reads}. Remove the line or move it to the rule that reads it (config/README.md lists them)."),
                    ));
                }
                if r.dictionaries.is_some() && id != "proofreading" {
                    let at = r
                        .dictionaries
                        .as_ref()
                        .and_then(|d| d.first())
                        .map_or(section, |d| d.span().start);
                    return Err(self.error_at(at, format!("rule \"{id}\" does not read prh dictionaries; put them under [rulebooks.{book}.rules.proofreading].")));
                }
            }
            None => {
                if r.terms.is_none() && r.dictionaries.is_none() {
                    return Err(self.error_at(
                        section,
                        format!(
                            "rulebook \"{book}\" configures an unknown rule \"{id}\". Built-in rules: {}; any other rule needs a list of terms (terms = [\"...\"]) or prh dictionaries (dictionaries = [\"...\"]).",
                            catalog::BUILT_IN.iter().map(|b| b.id).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                if let Some((key, at)) = keys.iter().find(|(k, _)| *k != "terms") {
                    return Err(self.error_at(*at, format!("\"{key}\" is a setting of a built-in rule; the custom rule \"{id}\" reads only severity, terms or dictionaries, message and suggestion.")));
                }
                if r.severity.is_none() {
                    return Err(self.error_at(section, format!("the custom rule \"{id}\" in rulebook \"{book}\" needs a severity: add severity = \"warn\", \"hold\" or \"block\".")));
                }
            }
        }
        if let Some(terms) = &r.terms {
            if terms.get_ref().iter().any(|t| t.trim().is_empty()) {
                return Err(self.error_at(
                    terms.span().start,
                    format!("rule \"{id}\" in rulebook \"{book}\" has an empty term; remove it."),
                ));
            }
        }
        let mut dictionaries = Vec::new();
        for d in r.dictionaries.iter().flatten() {
            let path = self.resolve(d.get_ref());
            let dict = crate::guidelines::prh::Dictionary::load(&path)
                .map_err(|e| self.error_at(d.span().start, format!("rule \"{id}\" in rulebook \"{book}\": {e}")))?;
            dictionaries.push(std::sync::Arc::new(dict));
        }
        let list = |v: &Option<Spanned<Vec<String>>>| v.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default();
        let mut options = super::RuleOptions {
            replace_defaults: r.replace_defaults.as_ref().is_some_and(|b| *b.get_ref()),
            domains: list(&r.domains)
                .into_iter()
                .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
                .collect(),
            labels: list(&r.labels),
            affiliate_domains: list(&r.affiliate_domains)
                .into_iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .collect(),
            allow: list(&r.allow),
            humor_labels: list(&r.humor_labels),
            guideline: r.guideline.clone().filter(|g| !g.trim().is_empty()),
            kinds: r.kinds.as_ref().map(|k| k.get_ref().clone()).unwrap_or_default(),
            days: r.days.as_ref().map(|d| *d.get_ref()),
            max: r.max.as_ref().map(|d| *d.get_ref()),
            ..Default::default()
        };
        if let Some(s) = &r.similarity {
            let v = *s.get_ref();
            if !(0.5..=1.0).contains(&v) {
                return Err(self.error_at(
                    s.span().start,
                    format!(
                        "similarity {v} is out of range; use a number from 0.5 (loosely similar) to 1.0 (identical)."
                    ),
                ));
            }
            options.similarity = Some(v);
        }
        if let Some(w) = &r.window {
            options.window = Some(self.duration(w, "window")?);
        }
        for n in r.names.iter().flat_map(|n| n.get_ref()) {
            if n.name.trim().is_empty() {
                return Err(self.error_at(
                    r.names.as_ref().map_or(section, |n| n.span().start),
                    "an embargoed name is empty; remove it.",
                ));
            }
            options.embargoes.push(super::Embargo {
                name: n.name.clone(),
                aliases: n.aliases.clone(),
                until: self.instant(&n.until, &format!("the embargo on \"{}\" (until)", n.name), tz)?,
            });
        }
        for cl in r.clients.iter().flat_map(|n| n.get_ref()) {
            options.clients.push(super::Client {
                name: cl.name.clone(),
                aliases: cl.aliases.clone(),
            });
        }
        for a in r.approvals.iter().flat_map(|n| n.get_ref()) {
            options.approvals.push(super::Approval {
                id: a.id.clone(),
                clients: a.clients.clone(),
                expires: self.instant(&a.expires, &format!("approval \"{}\" (expires)", a.id), tz)?,
            });
        }
        for e in r.earnings.iter().flat_map(|n| n.get_ref()) {
            options.earnings.push(self.instant(e, "an earnings announcement", tz)?);
        }
        for d in r.dates.iter().flat_map(|n| n.get_ref()) {
            let parsed = d.get_ref().split_once('-').and_then(|(m, dd)| {
                let (m, dd) = (m.parse::<u32>().ok()?, dd.parse::<u32>().ok()?);
                chrono::NaiveDate::from_ymd_opt(2024, m, dd).map(|_| (m, dd))
            });
            match parsed {
                Some(md) => options.dates.push(md),
                None => {
                    return Err(self.error_at(
                        d.span().start,
                        format!(
                            "\"{}\" is not a date of the year; write it as MM-DD, e.g. \"03-11\".",
                            d.get_ref()
                        ),
                    ))
                }
            }
        }
        let severity = match (&r.severity, built_in) {
            (Some(s), _) => *s.get_ref(),
            (None, Some(b)) => b.default,
            (None, None) => unreachable!("custom rules without a severity were refused above"),
        };
        Ok(RuleSettings {
            dictionaries,
            severity,
            options,
            terms: r.terms.as_ref().map(|t| t.get_ref().clone()).unwrap_or_default(),
            message: r.message.clone(),
            suggestion: r.suggestion.clone(),
            origin: Some(Position::of_offset(
                self.text,
                r.severity.as_ref().map_or(section, |s| s.span().start),
            )),
        })
    }
}

fn toml_error(path: &Path, text: &str, err: toml::de::Error) -> ConfigError {
    let message = err.message().trim_end_matches('\n').to_string();
    let hint = if message.contains("unknown field") {
        " Check the spelling against config/README.md, or remove the key."
    } else if message.contains("missing field") {
        " Add it: every account needs id, platform, handle and owner; [daemon] needs queue_dir, state_dir and baseline."
    } else {
        ""
    };
    ConfigError {
        file: path.to_path_buf(),
        position: err.span().map(|s| Position::of_offset(text, s.start)),
        message: format!("{message}.{hint}").replace("..", "."),
    }
}

/// Whether an account id can name a folder without surprises.
fn valid_account_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
}

pub(super) fn check(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    let c = Checker { path, text };

    let d = &raw.defaults;
    let default_tz = match &d.time_zone {
        Some(tz) => c.time_zone(tz)?,
        None => chrono_tz::UTC,
    };

    // Rulebooks first: accounts refer to them.
    let mut rulebooks = BTreeMap::new();
    for (name, book) in &raw.rulebooks {
        let mut rules = BTreeMap::new();
        for (id, r) in &book.rules {
            let settings = c.rule(name, id, r, default_tz)?;
            rules.insert(id.clone(), settings);
        }
        rulebooks.insert(
            name.clone(),
            Rulebook {
                name: name.clone(),
                description: book.description.clone(),
                rules,
            },
        );
    }

    let baseline = raw.daemon.baseline.get_ref().clone();
    let Some(baseline_book) = rulebooks.get(&baseline) else {
        return Err(c.error_at(
            raw.daemon.baseline.span().start,
            format!("the baseline rulebook \"{baseline}\" does not exist. Define it as [rulebooks.{baseline}] or name an existing one."),
        ));
    };
    // An account may raise a baseline rule's severity but never lower it.
    for (name, book) in &raw.rulebooks {
        if *name == baseline {
            continue;
        }
        for (id, rule) in &book.rules {
            if let (Some(base), Some(severity)) = (baseline_book.rules.get(id), &rule.get_ref().severity) {
                let sev = *severity.get_ref();
                if sev < base.severity {
                    return Err(c.error_at(
                        severity.span().start,
                        format!(
                            "rulebook \"{name}\" sets rule \"{id}\" to {}, below the company baseline's {}. A rulebook may raise a baseline rule's severity, never lower it; remove the line or set it to {} or higher.",
                            sev.name(),
                            base.severity.name(),
                            base.severity.name()
                        ),
                    ));
                }
            }
        }
    }

    let queue_dir = c.resolve(raw.daemon.queue_dir.get_ref());
    if !queue_dir.is_dir() {
        return Err(c.error_at(
            raw.daemon.queue_dir.span().start,
            format!(
                "the queue folder {} does not exist. Create it, or correct queue_dir.",
                queue_dir.display()
            ),
        ));
    }
    let state_dir = c.resolve(raw.daemon.state_dir.get_ref());
    let settle = match &raw.daemon.settle {
        Some(s) => c.duration(s, "settle")?,
        None => Duration::from_secs(2),
    };
    let max_in_flight = match &raw.daemon.max_in_flight {
        Some(n) if *n.get_ref() == 0 => {
            return Err(c.error_at(n.span().start, "max_in_flight must be at least 1."));
        }
        Some(n) => *n.get_ref(),
        None => 4,
    };

    let stop_grace = match &raw.daemon.stop_grace {
        Some(s) => c.duration(s, "stop_grace")?,
        None => Duration::from_secs(60),
    };
    let metrics_listen = match &raw.metrics.listen {
        // A bare port means loopback: the figures name accounts.
        Some(l) if l.get_ref().trim().parse::<u16>().is_ok() => Some(std::net::SocketAddr::from((
            std::net::Ipv4Addr::LOCALHOST,
            l.get_ref().trim().parse::<u16>().expect("checked"),
        ))),
        Some(l) => Some(l.get_ref().parse::<std::net::SocketAddr>().map_err(|_| {
            c.error_at(
                l.span().start,
                format!(
                    "metrics listen address \"{}\" is not an IP address and port; write it like \"127.0.0.1:9464\", or just a port (\"9464\") for loopback, or leave [metrics] out to serve no metrics.",
                    l.get_ref()
                ),
            )
        })?),
        None => None,
    };

    let default_lateness = match &d.max_lateness {
        Some(v) => c.duration(v, "max_lateness")?,
        None => Duration::from_secs(15 * 60),
    };
    let default_interval = match &d.min_interval {
        Some(v) => c.duration(v, "min_interval")?,
        None => Duration::ZERO,
    };
    let default_quiet = match &d.quiet_hours {
        Some(v) => Some(c.quiet_hours(v)?),
        None => None,
    };

    let mut accounts = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut real_folders: Vec<(String, PathBuf)> = Vec::new();
    for a in &raw.accounts {
        let id = a.id.get_ref().clone();
        if !valid_account_id(&id) {
            return Err(c.error_at(
                a.id.span().start,
                format!("account id \"{id}\" cannot name a folder. Use lower-case letters, digits, '-', '_' or '.', not starting with '.'."),
            ));
        }
        if let Some(first) = seen.get(&id) {
            let p = Position::of_offset(text, *first);
            return Err(c.error_at(
                a.id.span().start,
                format!("account id \"{id}\" is used twice (first at line {}). Each account needs its own id and queue folder.", p.line),
            ));
        }
        seen.insert(id.clone(), a.id.span().start);
        let folder = queue_dir.join(&id);
        if !folder.is_dir() {
            return Err(c.error_at(
                a.id.span().start,
                format!(
                    "account \"{id}\" has no queue folder: {} does not exist. Create it (mkdir {}) and give the account's owner write access to it.",
                    folder.display(),
                    folder.display()
                ),
            ));
        }
        // The folder decides the account (DESIGN.md invariant 4): two
        // accounts must never read one folder through a link.
        let real = std::fs::canonicalize(&folder).unwrap_or_else(|_| folder.clone());
        if let Some((other, _)) = real_folders.iter().find(|(_, r)| *r == real) {
            return Err(c.error_at(
                a.id.span().start,
                format!(
                    "account \"{id}\" reads the same folder as account \"{other}\": {} is {} (a link?), so every post file there would be published on both accounts. Give each account a folder of its own (remove the link, mkdir {}).",
                    folder.display(),
                    real.display(),
                    folder.display()
                ),
            ));
        }
        real_folders.push((id.clone(), real));
        let mut books = Vec::new();
        for book in &a.rulebooks {
            if !rulebooks.contains_key(book.get_ref()) {
                let known: Vec<&str> = rulebooks.keys().map(String::as_str).collect();
                return Err(c.error_at(
                    book.span().start,
                    format!(
                        "account \"{id}\" follows rulebook \"{}\", which does not exist. Known rulebooks: {}.",
                        book.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            if !books.contains(book.get_ref()) {
                books.push(book.get_ref().clone());
            }
        }
        let account = Account {
            id: id.clone(),
            platform: a.platform,
            handle: a.handle.clone(),
            owner: a.owner.clone(),
            backup: a.backup.clone(),
            contact: a.contact.clone(),
            department: a.department.clone(),
            purpose: a.purpose.clone(),
            time_zone: match &a.time_zone {
                Some(tz) => c.time_zone(tz)?,
                None => default_tz,
            },
            rulebooks: books,
            max_lateness: match &a.max_lateness {
                Some(v) => c.duration(v, "max_lateness")?,
                None => default_lateness,
            },
            quiet_hours: match &a.quiet_hours {
                Some(v) => Some(c.quiet_hours(v)?),
                None => default_quiet,
            },
            min_interval: match &a.min_interval {
                Some(v) => c.duration(v, "min_interval")?,
                None => default_interval,
            },
            stale: a.stale.or(d.stale).unwrap_or(StalePolicy::Hold),
            emergency: a.emergency,
            attested: match &a.attested {
                Some(v) => Some(attested_date(&c, v)?),
                None => None,
            },
            language: match &a.language {
                Some(l) => Some(match l.get_ref().to_ascii_lowercase().as_str() {
                    "ja" => crate::guidelines::Lang::Ja,
                    "en" => crate::guidelines::Lang::En,
                    _ => {
                        return Err(c.error_at(
                            l.span().start,
                            format!(
                                "language \"{}\" is not one herald writes in; use \"ja\" or \"en\".",
                                l.get_ref()
                            ),
                        ))
                    }
                }),
                None => None,
            },
            monthly_budget: match &a.monthly_budget {
                Some(b) if *b.get_ref() < 0.0 => {
                    return Err(c.error_at(b.span().start, "monthly_budget must be zero or more (USD)."))
                }
                Some(b) => Some(*b.get_ref()),
                None => None,
            },
            folder,
        };
        accounts.insert(id, account);
    }

    let ids: Vec<String> = accounts.keys().cloned().collect();
    let alerts = super::alerts::check(
        &c,
        super::alerts::RawAlerts {
            attestation: raw.attestation.as_ref(),
            jma: raw.jma.as_ref(),
            notifications: raw.notifications.as_ref(),
            costs: raw.costs.as_ref(),
        },
        &ids,
    )?;
    Ok(Config {
        alerts,
        path: path.to_path_buf(),
        daemon: DaemonSettings {
            queue_dir,
            baseline,
            settle,
            max_file_bytes: raw.daemon.max_file_bytes.unwrap_or(1024 * 1024),
            max_in_flight,
            socket: match &raw.daemon.socket {
                Some(p) => c.resolve(p.get_ref()),
                None => state_dir.join("herald.sock"),
            },
            state_dir,
            stop_grace,
        },
        metrics: MetricsSettings { listen: metrics_listen },
        sandbox: SandboxSettings {
            max_length: raw.platforms.sandbox.max_length.unwrap_or(280),
        },
        x: x_settings(&c, &raw.platforms.x)?,
        accounts,
        rulebooks,
    })
}

/// An attestation date: a TOML date or "YYYY-MM-DD".
fn attested_date(c: &Checker<'_>, v: &Spanned<toml::Value>) -> Result<chrono::NaiveDate, ConfigError> {
    let text = match v.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        c.error_at(
            v.span().start,
            "attested must be the date of the owner's last attestation, like 2026-04-01.",
        )
    })
}

/// `[platforms.x]`: where the API is, where credentials are, how long to wait.
fn x_settings(c: &Checker<'_>, raw: &RawX) -> Result<XSettings, ConfigError> {
    let api_base = match &raw.api_base {
        Some(v) => {
            let base = v.get_ref().trim_end_matches('/').to_string();
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                return Err(c.error_at(
                    v.span().start,
                    format!(
                        "api_base \"{}\" is not an http(s) URL; leave it out to use https://api.x.com.",
                        v.get_ref()
                    ),
                ));
            }
            base
        }
        None => "https://api.x.com".to_string(),
    };
    Ok(XSettings {
        api_base,
        authorize_url: raw
            .authorize_url
            .clone()
            .unwrap_or_else(|| "https://x.com/i/oauth2/authorize".to_string()),
        credentials_dir: raw.credentials_dir.as_ref().map(|d| c.resolve(d.get_ref())),
        timeout: match &raw.timeout {
            Some(v) => c.duration(v, "timeout")?,
            None => Duration::from_secs(30),
        },
        max_poll_wait: match &raw.max_poll_wait {
            Some(v) => c.duration(v, "max_poll_wait")?,
            None => Duration::from_secs(30),
        },
        settle_wait: match &raw.settle_wait {
            Some(v) => c.duration(v, "settle_wait")?,
            None => Duration::from_secs(3),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(accounts: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("queue")).unwrap();
        for a in accounts {
            std::fs::create_dir_all(dir.path().join("queue").join(a)).unwrap();
        }
        dir
    }

    const HEAD: &str = "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\n\n[rulebooks.company.rules.length]\nseverity = \"block\"\n";

    fn parse_in(dir: &tempfile::TempDir, body: &str) -> Result<Config, ConfigError> {
        let path = dir.path().join("herald.toml");
        super::super::parse(&path, &format!("{HEAD}{body}"))
    }

    #[test]
    fn a_valid_config_resolves_paths_against_its_folder() {
        let dir = setup(&["tokyo"]);
        let cfg = parse_in(&dir, "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"Hanako\"\ntime_zone = \"Asia/Tokyo\"\n").unwrap();
        assert_eq!(cfg.daemon.queue_dir, dir.path().join("queue"));
        assert_eq!(cfg.accounts["tokyo"].time_zone, chrono_tz::Asia::Tokyo);
        assert_eq!(cfg.accounts["tokyo"].max_lateness, Duration::from_secs(900));
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let dir = setup(&["tokyo"]);
        let err = parse_in(&dir, "[[account]]\nid = \"tokyo\"\nplatfrom = \"sandbox\"\n").unwrap_err();
        assert_eq!(err.position.unwrap().line, 10);
        assert!(err.message.contains("unknown field `platfrom`"), "{}", err.message);
    }

    #[test]
    fn unknown_time_zone_is_an_error_with_its_position() {
        let dir = setup(&["tokyo"]);
        let err = parse_in(&dir, "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\ntime_zone = \"Asia/Tokio\"\n").unwrap_err();
        assert_eq!(err.position.unwrap(), Position { line: 13, column: 13 });
        assert!(err.message.contains("unknown time zone \"Asia/Tokio\""));
    }

    #[test]
    fn duplicate_account_ids_are_refused() {
        let dir = setup(&["tokyo"]);
        let acct = "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\n";
        let err = parse_in(&dir, &format!("{acct}{acct}")).unwrap_err();
        assert!(err.message.contains("used twice (first at line 9)"), "{}", err.message);
        assert_eq!(err.position.unwrap().line, 14);
    }

    #[test]
    fn an_account_folder_that_links_to_another_accounts_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("queue/tokyo")).unwrap();
        std::os::unix::fs::symlink("tokyo", dir.path().join("queue/osaka")).unwrap();
        let text = format!(
            "{HEAD}[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"A\"\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"B\"\n"
        );
        let err = check(&dir.path().join("herald.toml"), &text).unwrap_err();
        assert!(
            err.message.contains("reads the same folder as account \"tokyo\""),
            "{}",
            err.message
        );
        assert_eq!(err.position.unwrap().line, HEAD.lines().count() + 7);
    }

    #[test]
    fn an_account_without_a_queue_folder_is_refused() {
        let dir = setup(&[]);
        let err = parse_in(
            &dir,
            "[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"H\"\n",
        )
        .unwrap_err();
        assert!(err.message.contains("has no queue folder"), "{}", err.message);
    }

    #[test]
    fn a_missing_rulebook_is_refused() {
        let dir = setup(&["tokyo"]);
        let err = parse_in(&dir, "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\nrulebooks = [\"japanse\"]\n").unwrap_err();
        assert!(
            err.message.contains("rulebook \"japanse\", which does not exist"),
            "{}",
            err.message
        );
        assert_eq!(err.position.unwrap().line, 13);
    }

    #[test]
    fn a_rulebook_cannot_lower_the_baseline() {
        let dir = setup(&[]);
        let err = parse_in(&dir, "[rulebooks.lax.rules.length]\nseverity = \"warn\"\n").unwrap_err();
        assert!(
            err.message.contains("below the company baseline's block"),
            "{}",
            err.message
        );
    }

    #[test]
    fn metrics_listen_takes_an_address_or_a_loopback_port() {
        let dir = setup(&[]);
        let cfg = parse_in(&dir, "[metrics]\nlisten = \"9464\"\n").unwrap();
        assert_eq!(cfg.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let cfg = parse_in(&dir, "[metrics]\nlisten = \"[::1]:9000\"\n").unwrap();
        assert_eq!(cfg.metrics.listen, Some("[::1]:9000".parse().unwrap()));
        assert_eq!(parse_in(&dir, "").unwrap().metrics.listen, None);
        let err = parse_in(&dir, "[metrics]\nlisten = \"localhost:9464\"\n").unwrap_err();
        assert!(err.message.contains("is not an IP address and port"), "{}", err.message);
        assert_eq!(err.position.unwrap().line, 9);
    }

    #[test]
    fn stop_grace_is_a_duration() {
        let dir = setup(&[]);
        let text = "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\nstop_grace = \"10s\"\n\n[rulebooks.company.rules.length]\nseverity = \"block\"\n";
        let cfg = super::super::parse(&dir.path().join("herald.toml"), text).unwrap();
        assert_eq!(cfg.daemon.stop_grace, Duration::from_secs(10));
        assert_eq!(parse_in(&dir, "").unwrap().daemon.stop_grace, Duration::from_secs(60));
    }

    #[test]
    fn an_unknown_platform_names_the_choices() {
        let dir = setup(&["tokyo"]);
        let err = parse_in(
            &dir,
            "[[account]]\nid = \"tokyo\"\nplatform = \"myspace\"\nhandle = \"@t\"\nowner = \"H\"\n",
        )
        .unwrap_err();
        assert!(err.message.contains("sandbox"), "{}", err.message);
        assert_eq!(err.position.unwrap().line, 10);
    }
}
