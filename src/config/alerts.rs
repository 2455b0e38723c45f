//! The config sections of what no scheduler does on its own (issue 17):
//! `[attestation]` (the yearly re-certification gate), `[jma]` (the disaster
//! feed that raises the disaster hold), `[notifications]` (owners and admins
//! hear at once) and `[costs]` (X's price before the post). Raw shapes here,
//! checked into the types of [`super`]; `raw.rs` only calls [`check`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::raw::Checker;
use super::ConfigError;

/// `[attestation]`: how long an owner's yearly attestation is good for.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationSettings {
    /// Days an attestation is good for (`period = "365d"`).
    pub period_days: u32,
    /// Days before the end at which the owner is told (default 30 and 7),
    /// largest first.
    pub warn_days: Vec<u32>,
    /// How to renew, in the company's words (a URL, a course name), shown
    /// in the notes of held posts and in reminders.
    pub renew: String,
}

/// A seismic intensity on the JMA scale (震度), ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Intensity {
    I1,
    I2,
    I3,
    I4,
    I5Lower,
    I5Upper,
    I6Lower,
    I6Upper,
    I7,
}

impl Intensity {
    /// Reads "1" … "7", "5-", "5+", "6-", "6+" (JMA's codes), also "5弱",
    /// "5強", "6弱", "6強".
    pub fn parse(text: &str) -> Option<Intensity> {
        Some(match text.trim() {
            "1" => Intensity::I1,
            "2" => Intensity::I2,
            "3" => Intensity::I3,
            "4" => Intensity::I4,
            "5-" | "5弱" => Intensity::I5Lower,
            "5+" | "5強" => Intensity::I5Upper,
            "6-" | "6弱" => Intensity::I6Lower,
            "6+" | "6強" => Intensity::I6Upper,
            "7" => Intensity::I7,
            _ => return None,
        })
    }

    /// JMA's code: "5-", "6+", "7".
    pub fn code(self) -> &'static str {
        match self {
            Intensity::I1 => "1",
            Intensity::I2 => "2",
            Intensity::I3 => "3",
            Intensity::I4 => "4",
            Intensity::I5Lower => "5-",
            Intensity::I5Upper => "5+",
            Intensity::I6Lower => "6-",
            Intensity::I6Upper => "6+",
            Intensity::I7 => "7",
        }
    }

    /// As Japanese say it: "震度5弱".
    pub fn japanese(self) -> String {
        let n = match self {
            Intensity::I5Lower => "5弱",
            Intensity::I5Upper => "5強",
            Intensity::I6Lower => "6弱",
            Intensity::I6Upper => "6強",
            other => other.code(),
        };
        format!("震度{n}")
    }
}

/// Tsunami bulletins from the mildest: 津波予報 is not one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TsunamiLevel {
    /// 津波注意報
    Advisory,
    /// 津波警報
    Warning,
    /// 大津波警報
    MajorWarning,
}

impl TsunamiLevel {
    pub fn parse(text: &str) -> Option<TsunamiLevel> {
        Some(match text.trim() {
            "advisory" | "津波注意報" => TsunamiLevel::Advisory,
            "warning" | "津波警報" => TsunamiLevel::Warning,
            "major" | "major-warning" | "大津波警報" => TsunamiLevel::MajorWarning,
            _ => return None,
        })
    }

    pub fn japanese(self) -> &'static str {
        match self {
            TsunamiLevel::Advisory => "津波注意報",
            TsunamiLevel::Warning => "津波警報",
            TsunamiLevel::MajorWarning => "大津波警報",
        }
    }
}

/// One `[[jma.trigger]]`: what raises the disaster hold, and for whom.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JmaTrigger {
    /// An earthquake report whose maximum intensity (anywhere, or in one
    /// of `prefectures`) is at least this.
    pub max_intensity: Option<Intensity>,
    /// Prefectures (as JMA names them: "東京都", "宮城県") the intensity is
    /// looked for in; empty means anywhere.
    pub prefectures: Vec<String>,
    /// A tsunami bulletin at least this grave, anywhere.
    pub tsunami: Option<TsunamiLevel>,
    /// Any special warning (特別警報).
    pub special_warning: bool,
    /// The accounts the hold is for; empty means every account (one
    /// company-wide hold, the same as `herald disaster-hold declare`).
    pub accounts: Vec<String>,
}

/// `[jma]`: the disaster feed client. Absent or `enabled = false`: no polling.
#[derive(Debug, Clone, PartialEq)]
pub struct JmaSettings {
    /// Atom feeds to poll (JMA's `eqvol.xml`, `extra.xml`…).
    pub feeds: Vec<String>,
    /// Between two polls of a feed. JMA asks for restraint: at least 60s.
    pub interval: Duration,
    /// One request's limit.
    pub timeout: Duration,
    pub triggers: Vec<JmaTrigger>,
    /// How long after the last message that raised it herald reminds the
    /// admins that the disaster hold is still declared (and again after as
    /// long each time). Herald never lifts a hold on its own for that.
    pub remind_after: Duration,
}

/// Which events notify.
pub const NOTIFY_EVENTS: &[&str] = &[
    "rejected",
    "held",
    "failed",
    "late",
    "reauth",
    "paused",
    "attestation",
    "disaster-hold",
    "budget",
    "feed",
    "summary",
];

/// `[notifications.smtp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
    /// STARTTLS required (the default); `false` only for a relay on loopback.
    pub starttls: bool,
    /// Extra root certificate (PEM) to trust, for a company CA.
    pub ca_file: Option<PathBuf>,
    /// Whether `smtp.json` (username, password) is read from the
    /// credentials folder.
    pub login: bool,
    pub timeout: Duration,
}

/// The shape of a webhook body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// herald's own JSON document (docs/admin.md).
    Json,
    /// `{"text": ...}`, for a Slack incoming webhook.
    Slack,
    /// A MessageCard, for a Teams incoming webhook.
    Teams,
}

/// One `[[notifications.webhook]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// Accounts whose events go here; empty means all.
    pub accounts: Vec<String>,
    /// Whether admin messages (token expiry, feed down, reminders) go here.
    pub admin: bool,
}

/// `[notifications]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationSettings {
    pub smtp: Option<SmtpSettings>,
    pub webhooks: Vec<WebhookSettings>,
    /// Admins' e-mail addresses (token expiry, a feed that is down, the
    /// disaster-hold reminder).
    pub admins: Vec<String>,
    /// The events that notify (default: all of [`NOTIFY_EVENTS`]).
    pub events: Vec<String>,
    /// The first retry's wait; each next one doubles, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// After this many attempts a notification is given up (kept in the
    /// spool's `failed/` folder and logged).
    pub max_attempts: u32,
    /// Where the credentials (`smtp.json`, `webhook-<name>.key`) are read
    /// when `$CREDENTIALS_DIRECTORY` is not set.
    pub credentials_dir: Option<PathBuf>,
    /// A post published more than this after its time counts as late.
    pub late_after: Duration,
    /// When (in each account's zone) the daily summary goes out, on top of
    /// the immediate notices; none: no summary.
    pub daily_summary: Option<chrono::NaiveTime>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            smtp: None,
            webhooks: Vec::new(),
            admins: Vec::new(),
            events: NOTIFY_EVENTS.iter().map(|s| s.to_string()).collect(),
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 12,
            credentials_dir: None,
            late_after: Duration::from_secs(300),
            daily_summary: None,
        }
    }
}

impl NotificationSettings {
    /// Whether any channel is configured.
    pub fn any_channel(&self) -> bool {
        self.smtp.is_some() || !self.webhooks.is_empty()
    }

    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }
}

/// `[costs]`: what X charges per request, and the budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct CostSettings {
    /// Per created post without a URL, in USD.
    pub x_create: f64,
    /// Per created post with a URL.
    pub x_create_with_url: f64,
    /// Per post read (herald's reconciliation reads recent posts).
    pub x_read: f64,
    /// The company's monthly budget for X, across accounts.
    pub monthly_budget: Option<f64>,
}

impl Default for CostSettings {
    fn default() -> Self {
        CostSettings {
            x_create: 0.015,
            x_create_with_url: 0.200,
            x_read: 0.005,
            monthly_budget: None,
        }
    }
}

/// The sections as checked.
#[derive(Debug, Clone, Default)]
pub struct AlertSettings {
    pub attestation: Option<AttestationSettings>,
    pub jma: Option<JmaSettings>,
    pub notifications: NotificationSettings,
    pub costs: CostSettings,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttestation {
    period: Option<Spanned<String>>,
    warn: Option<Vec<Spanned<String>>>,
    renew: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJma {
    #[serde(default)]
    enabled: bool,
    feeds: Option<Vec<Spanned<String>>>,
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    remind_after: Option<Spanned<String>>,
    #[serde(default, rename = "trigger")]
    triggers: Vec<Spanned<RawTrigger>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    max_intensity: Option<Spanned<toml::Value>>,
    #[serde(default)]
    prefectures: Vec<String>,
    tsunami: Option<Spanned<toml::Value>>,
    #[serde(default)]
    special_warning: bool,
    #[serde(default)]
    accounts: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    smtp: Option<RawSmtp>,
    #[serde(default, rename = "webhook")]
    webhooks: Vec<RawWebhook>,
    #[serde(default)]
    admins: Vec<String>,
    events: Option<Vec<Spanned<String>>>,
    backoff: Option<Spanned<String>>,
    max_backoff: Option<Spanned<String>>,
    max_attempts: Option<u32>,
    credentials_dir: Option<Spanned<String>>,
    late_after: Option<Spanned<String>>,
    daily_summary: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    from: Spanned<String>,
    starttls: Option<Spanned<bool>>,
    ca_file: Option<String>,
    #[serde(default)]
    login: bool,
    timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Spanned<String>,
    url: Spanned<String>,
    format: Option<WebhookFormat>,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    admin: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCosts {
    x_create: Option<f64>,
    x_create_with_url: Option<f64>,
    x_read: Option<f64>,
    monthly_budget: Option<Spanned<f64>>,
}

/// The raw sections, as `RawConfig` holds them.
#[derive(Default)]
pub(super) struct RawAlerts<'r> {
    pub attestation: Option<&'r RawAttestation>,
    pub jma: Option<&'r RawJma>,
    pub notifications: Option<&'r RawNotifications>,
    pub costs: Option<&'r RawCosts>,
}

fn days(c: &Checker<'_>, v: &Spanned<String>, what: &str) -> Result<u32, ConfigError> {
    let d = c.duration(v, what)?;
    let n = d.as_secs() / 86_400;
    if n == 0 || d.as_secs() % 86_400 != 0 {
        return Err(c.error_at(
            v.span().start,
            format!(
                "{what} \"{}\" should be a whole number of days, like \"365d\" or \"30d\".",
                v.get_ref()
            ),
        ));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn http_url(c: &Checker<'_>, v: &Spanned<String>, what: &str) -> Result<String, ConfigError> {
    let u = v.get_ref().trim();
    if u.starts_with("https://") || u.starts_with("http://") {
        Ok(u.to_string())
    } else {
        Err(c.error_at(
            v.span().start,
            format!("{what} \"{u}\" is not an http(s) URL; write it in full, like \"https://…\"."),
        ))
    }
}

fn text_of(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Checks the sections. `accounts` are the registry's ids, which triggers
/// and webhooks may name.
pub(super) fn check(c: &Checker<'_>, raw: RawAlerts<'_>, accounts: &[String]) -> Result<AlertSettings, ConfigError> {
    let mut out = AlertSettings::default();
    let unknown_account = |v: &Spanned<String>| -> Result<(), ConfigError> {
        if accounts.iter().any(|a| a == v.get_ref()) {
            Ok(())
        } else {
            Err(c.error_at(
                v.span().start,
                format!(
                    "there is no account \"{}\" in the registry. Accounts: {}.",
                    v.get_ref(),
                    accounts.join(", ")
                ),
            ))
        }
    };
    if let Some(a) = raw.attestation {
        let period_days = match &a.period {
            Some(p) => days(c, p, "the attestation period")?,
            None => 365,
        };
        let mut warn_days = match &a.warn {
            Some(list) => list
                .iter()
                .map(|w| days(c, w, "an attestation warning"))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![30, 7],
        };
        warn_days.sort_unstable_by(|a, b| b.cmp(a));
        warn_days.dedup();
        out.attestation = Some(AttestationSettings {
            period_days,
            warn_days,
            renew: a
                .renew
                .clone()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "renew your attestation of the social-media guidelines and ask an admin to record its date (attested = \"YYYY-MM-DD\" in your account's registry entry)".into()),
        });
    }
    if let Some(j) = raw.jma.filter(|j| j.enabled) {
        let feeds = match &j.feeds {
            Some(f) if !f.is_empty() => f
                .iter()
                .map(|u| http_url(c, u, "the JMA feed"))
                .collect::<Result<Vec<_>, _>>()?,
            _ => vec![
                "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml".to_string(),
                "https://www.data.jma.go.jp/developer/xml/feed/extra.xml".to_string(),
            ],
        };
        let interval = match &j.interval {
            Some(v) => {
                let d = c.duration(v, "the JMA poll interval")?;
                if d < Duration::from_secs(60) && feeds.iter().any(|f| f.contains("jma.go.jp")) {
                    return Err(c.error_at(
                        v.span().start,
                        "JMA asks clients to poll politely: an interval below 60s is refused for JMA's own servers. Use \"60s\" or more.",
                    ));
                }
                d
            }
            None => Duration::from_secs(60),
        };
        let mut triggers = Vec::new();
        for t in &j.triggers {
            let at = t.span().start;
            let t = t.get_ref();
            let max_intensity = match &t.max_intensity {
                Some(v) => Some(text_of(v.get_ref()).and_then(|s| Intensity::parse(&s)).ok_or_else(|| {
                    c.error_at(
                        v.span().start,
                        "max_intensity must be a JMA intensity: \"1\" … \"4\", \"5-\", \"5+\", \"6-\", \"6+\" or \"7\".",
                    )
                })?),
                None => None,
            };
            let tsunami = match &t.tsunami {
                Some(v) => match v.get_ref() {
                    toml::Value::Boolean(true) => Some(TsunamiLevel::Advisory),
                    toml::Value::Boolean(false) => None,
                    other => Some(text_of(other).and_then(|s| TsunamiLevel::parse(&s)).ok_or_else(|| {
                        c.error_at(
                            v.span().start,
                            "tsunami must be true (any tsunami bulletin) or the mildest that counts: \"advisory\" (津波注意報), \"warning\" (津波警報) or \"major\" (大津波警報).",
                        )
                    })?),
                },
                None => None,
            };
            if max_intensity.is_none() && tsunami.is_none() && !t.special_warning {
                return Err(c.error_at(
                    at,
                    "this [[jma.trigger]] raises on nothing: give max_intensity, tsunami or special_warning = true.",
                ));
            }
            if !t.prefectures.is_empty() && max_intensity.is_none() {
                return Err(c.error_at(at, "prefectures narrow max_intensity; add max_intensity = \"4\" (or the level you mean) to this trigger."));
            }
            for a in &t.accounts {
                unknown_account(a)?;
            }
            triggers.push(JmaTrigger {
                max_intensity,
                prefectures: t.prefectures.clone(),
                tsunami,
                special_warning: t.special_warning,
                accounts: t.accounts.iter().map(|a| a.get_ref().clone()).collect(),
            });
        }
        out.jma = Some(JmaSettings {
            feeds,
            interval,
            timeout: match &j.timeout {
                Some(v) => c.duration(v, "the JMA request timeout")?,
                None => Duration::from_secs(20),
            },
            triggers,
            remind_after: match &j.remind_after {
                Some(v) => c.duration(v, "remind_after")?,
                None => Duration::from_secs(6 * 3600),
            },
        });
    }
    if let Some(n) = raw.notifications {
        let mut s = NotificationSettings::default();
        if let Some(m) = &n.smtp {
            if !m.from.get_ref().contains('@') {
                return Err(c.error_at(
                    m.from.span().start,
                    format!("from \"{}\" is not an e-mail address.", m.from.get_ref()),
                ));
            }
            let starttls = m.starttls.as_ref().is_none_or(|s| *s.get_ref());
            if !starttls && !matches!(m.host.as_str(), "127.0.0.1" | "::1" | "localhost") {
                let at = m.starttls.as_ref().map_or(m.from.span().start, |s| s.span().start);
                return Err(c.error_at(at, "starttls = false is allowed only for a relay on this machine (host 127.0.0.1): mail to any other host goes encrypted."));
            }
            s.smtp = Some(SmtpSettings {
                host: m.host.clone(),
                port: m.port.unwrap_or(587),
                from: m.from.get_ref().clone(),
                starttls,
                ca_file: m.ca_file.as_deref().map(|p| c.resolve(p)),
                login: m.login,
                timeout: match &m.timeout {
                    Some(v) => c.duration(v, "the SMTP timeout")?,
                    None => Duration::from_secs(30),
                },
            });
        }
        let mut names = BTreeMap::new();
        for w in &n.webhooks {
            let name = w.name.get_ref().clone();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                return Err(c.error_at(
                    w.name.span().start,
                    "a webhook name names its key file (webhook-<name>.key): use letters, digits, '-' or '_'.",
                ));
            }
            if names.insert(name.clone(), ()).is_some() {
                return Err(c.error_at(w.name.span().start, format!("the webhook \"{name}\" is defined twice.")));
            }
            for a in &w.accounts {
                if !accounts.contains(a) {
                    return Err(c.error_at(
                        w.name.span().start,
                        format!("the webhook \"{name}\" names the account \"{a}\", which is not in the registry."),
                    ));
                }
            }
            s.webhooks.push(WebhookSettings {
                url: http_url(c, &w.url, "the webhook URL")?,
                name,
                format: w.format.unwrap_or(WebhookFormat::Json),
                accounts: w.accounts.clone(),
                admin: w.admin,
            });
        }
        s.admins = n.admins.clone();
        if let Some(events) = &n.events {
            s.events = Vec::new();
            for e in events {
                if !NOTIFY_EVENTS.contains(&e.get_ref().as_str()) {
                    return Err(c.error_at(
                        e.span().start,
                        format!(
                            "unknown event \"{}\"; events are: {}.",
                            e.get_ref(),
                            NOTIFY_EVENTS.join(", ")
                        ),
                    ));
                }
                s.events.push(e.get_ref().clone());
            }
        }
        if let Some(b) = &n.backoff {
            s.backoff = c.duration(b, "backoff")?.max(Duration::from_secs(1));
        }
        if let Some(b) = &n.max_backoff {
            s.max_backoff = c.duration(b, "max_backoff")?;
        }
        if let Some(m) = n.max_attempts {
            s.max_attempts = m.max(1);
        }
        s.credentials_dir = n.credentials_dir.as_ref().map(|d| c.resolve(d.get_ref()));
        if let Some(l) = &n.late_after {
            s.late_after = c.duration(l, "late_after")?;
        }
        if let Some(t) = &n.daily_summary {
            s.daily_summary = Some(chrono::NaiveTime::parse_from_str(t.get_ref().trim(), "%H:%M").map_err(|_| {
                c.error_at(
                    t.span().start,
                    format!("daily_summary \"{}\" is not a time of day; write it like \"09:00\" (in each account's zone).", t.get_ref()),
                )
            })?);
        }
        out.notifications = s;
    }
    if let Some(k) = raw.costs {
        let mut s = CostSettings::default();
        for (v, slot) in [
            (k.x_create, &mut s.x_create),
            (k.x_create_with_url, &mut s.x_create_with_url),
            (k.x_read, &mut s.x_read),
        ] {
            if let Some(v) = v {
                *slot = v;
            }
        }
        if [s.x_create, s.x_create_with_url, s.x_read]
            .iter()
            .any(|p| *p < 0.0 || !p.is_finite())
        {
            return Err(c.error_at(0, "[costs]: prices must be zero or more (USD per request)."));
        }
        if let Some(b) = &k.monthly_budget {
            if *b.get_ref() < 0.0 {
                return Err(c.error_at(b.span().start, "monthly_budget must be zero or more (USD)."));
            }
            s.monthly_budget = Some(*b.get_ref());
        }
        out.costs = s;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::ConfigError;

    fn parse(extra: &str) -> Result<super::super::Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("queue/tokyo")).unwrap();
        let text = format!(
            "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"c\"\n[rulebooks.c]\n[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\n{extra}"
        );
        super::super::parse(&dir.path().join("herald.toml"), &text)
    }

    #[test]
    fn jma_is_off_unless_enabled_and_polls_jma_no_faster_than_a_minute() {
        assert!(parse("[jma]\n").unwrap().alerts.jma.is_none());
        let jma = parse("[jma]\nenabled = true\n").unwrap().alerts.jma.unwrap();
        assert_eq!(jma.interval, std::time::Duration::from_secs(60));
        assert!(jma.feeds[0].ends_with("/eqvol.xml"));
        let err = parse("[jma]\nenabled = true\ninterval = \"10s\"\n").unwrap_err();
        assert!(err.message.contains("politely"), "{}", err.message);
        assert_eq!(err.position.unwrap().line, 13);
    }

    #[test]
    fn a_trigger_must_raise_on_something_and_name_known_accounts() {
        let err = parse("[jma]\nenabled = true\n[[jma.trigger]]\naccounts = [\"tokyo\"]\n").unwrap_err();
        assert!(err.message.contains("raises on nothing"), "{}", err.message);
        let err = parse("[jma]\nenabled = true\n[[jma.trigger]]\nmax_intensity = \"5-\"\naccounts = [\"osaka\"]\n")
            .unwrap_err();
        assert!(err.message.contains("no account \"osaka\""), "{}", err.message);
        let err = parse("[jma]\nenabled = true\n[[jma.trigger]]\nmax_intensity = \"5弱強\"\n").unwrap_err();
        assert!(err.message.contains("5-"), "{}", err.message);
        let t = &parse("[jma]\nenabled = true\n[[jma.trigger]]\nmax_intensity = 4\nprefectures = [\"東京都\"]\n")
            .unwrap()
            .alerts
            .jma
            .unwrap()
            .triggers[0];
        assert_eq!(t.max_intensity, Some(super::Intensity::I4));
    }

    #[test]
    fn notifications_refuse_plain_smtp_off_this_machine_and_unknown_events() {
        let err =
            parse("[notifications.smtp]\nhost = \"smtp.example.com\"\nfrom = \"h@example.com\"\nstarttls = false\n")
                .unwrap_err();
        assert!(
            err.message.contains("only for a relay on this machine"),
            "{}",
            err.message
        );
        let err = parse("[notifications]\nevents = [\"held\", \"exploded\"]\n").unwrap_err();
        assert!(err.message.contains("unknown event \"exploded\""), "{}", err.message);
        let n = parse("[notifications]\nadmins = [\"ops@example.com\"]\n[[notifications.webhook]]\nname = \"ops\"\nurl = \"https://hooks.example.com/x\"\nformat = \"teams\"\n")
            .unwrap()
            .alerts
            .notifications;
        assert_eq!(n.webhooks[0].format, super::WebhookFormat::Teams);
        assert!(n.wants("held"));
    }
}
