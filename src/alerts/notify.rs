//! Owners and admins hear at once. A notice (a post rejected, held, failed
//! or published late; an account that needs re-authorization or is paused;
//! an attestation running out; the disaster hold) becomes one spool file
//! per channel — an e-mail to one address, or one webhook — written
//! durably before anything is sent. A sender task works through the spool:
//! what is sent is removed, what fails is retried with exponential backoff,
//! and after `max_attempts` it is moved to `failed/` and logged. Publishing
//! never waits for a channel: it only writes the spool file.
//!
//! ```text
//! <state_dir>/notifications/spool/<created>-<id>.json
//! <state_dir>/notifications/failed/<created>-<id>.json
//! ```
//!
//! E-mail goes by SMTP with STARTTLS (lettre), logging in with
//! `smtp.json` (`{"username", "password"}`) from the credentials folder.
//! A webhook gets a JSON body (herald's, Slack's or Teams') signed with
//! HMAC-SHA256 under `webhook-<name>.key` from the same folder:
//! `X-Herald-Timestamp: <unix seconds>` and `X-Herald-Signature:
//! sha256=<hex of HMAC(key, "<timestamp>.<body>")>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::{NotificationSettings, SmtpSettings, WebhookFormat, WebhookSettings};
use crate::guidelines::Lang;

/// Where a notice goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "lowercase")]
pub enum Channel {
    Email { to: String },
    Webhook { name: String },
}

/// One notice on one channel, as the spool keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// One of [`crate::config::NOTIFY_EVENTS`].
    pub event: String,
    pub account: Option<String>,
    pub delivery: Option<String>,
    pub lang: String,
    pub subject: String,
    pub text: String,
    pub channel: Channel,
    /// Sends tried so far.
    pub attempts: u32,
    /// Not before.
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// What to say, before it is addressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub event: &'static str,
    pub account: Option<String>,
    pub delivery: Option<String>,
    pub lang: Lang,
    pub subject: String,
    pub text: String,
}

/// Whether a registry contact is an e-mail address (contacts may also be a
/// phone number or a chat handle, which herald cannot write to).
pub fn is_email(contact: &str) -> bool {
    let c = contact.trim();
    match c.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !c.contains(char::is_whitespace) && !domain.contains('@')
        }
        None => false,
    }
}

/// The channels a message goes to: for an account's event, its contact's
/// address and the webhooks that take the account; for an admin's, the
/// admins' addresses and the webhooks marked `admin`.
pub fn channels(
    settings: &NotificationSettings,
    contact: Option<&str>,
    account: Option<&str>,
    admin: bool,
) -> Vec<Channel> {
    let mut out = Vec::new();
    if settings.smtp.is_some() {
        let mut to: Vec<&str> = Vec::new();
        if let Some(c) = contact.filter(|c| is_email(c)) {
            to.push(c.trim());
        }
        if admin {
            to.extend(settings.admins.iter().map(|a| a.trim()).filter(|a| is_email(a)));
        }
        for t in to {
            let ch = Channel::Email { to: t.to_string() };
            if !out.contains(&ch) {
                out.push(ch);
            }
        }
    }
    for w in &settings.webhooks {
        let for_account = account.is_some_and(|a| w.accounts.is_empty() || w.accounts.iter().any(|x| x == a));
        if (admin && w.admin) || for_account {
            out.push(Channel::Webhook { name: w.name.clone() });
        }
    }
    out
}

pub fn spool_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("notifications").join("spool")
}

pub fn failed_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("notifications").join("failed")
}

fn file_of(dir: &Path, n: &Notice) -> PathBuf {
    dir.join(format!("{}-{}.json", n.created_at.format("%Y%m%dT%H%M%S%.3fZ"), n.id))
}

/// Writes a notice to the spool durably (temporary file, fsync, rename).
pub fn enqueue(state_dir: &Path, n: &Notice) -> std::io::Result<PathBuf> {
    let dir = spool_dir(state_dir);
    std::fs::create_dir_all(&dir)?;
    let path = file_of(&dir, n);
    let bytes = serde_json::to_vec_pretty(n).map_err(std::io::Error::other)?;
    crate::queue::write_atomically(&path, &bytes)?;
    Ok(path)
}

/// The notices waiting, with their files, oldest first. Unreadable files
/// are logged and left alone.
pub fn pending(state_dir: &Path) -> Vec<(PathBuf, Notice)> {
    let Ok(entries) = std::fs::read_dir(spool_dir(state_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Notice)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| match std::fs::read(&p).map(|b| serde_json::from_slice::<Notice>(&b)) {
            Ok(Ok(n)) => Some((p, n)),
            Ok(Err(e)) => {
                tracing::error!(file = %p.display(), "a notification in the spool cannot be read ({e}); it is left there");
                None
            }
            Err(_) => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// How many notices wait in the spool (for metrics and doctor).
pub fn queued(state_dir: &Path) -> usize {
    std::fs::read_dir(spool_dir(state_dir))
        .map(|e| {
            e.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// The wait before the attempt after `attempts` failed ones: `backoff`
/// doubled each time, at most `max`.
pub fn backoff(settings: &NotificationSettings, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    settings.backoff.saturating_mul(factor).min(settings.max_backoff)
}

/// What happened to one send.
#[derive(Debug)]
pub enum Sent {
    Done,
    /// Retried at the instant given.
    Retry(DateTime<Utc>),
    GivenUp,
}

/// Records a failed send: the notice is retried later, or moved to
/// `failed/` once it has had `max_attempts`.
pub fn failed(
    state_dir: &Path,
    settings: &NotificationSettings,
    path: &Path,
    mut n: Notice,
    why: String,
    now: DateTime<Utc>,
) -> std::io::Result<Sent> {
    n.attempts += 1;
    n.last_error = Some(why);
    if n.attempts >= settings.max_attempts {
        let dir = failed_dir(state_dir);
        std::fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec_pretty(&n).map_err(std::io::Error::other)?;
        crate::queue::write_atomically(&file_of(&dir, &n), &bytes)?;
        std::fs::remove_file(path)?;
        return Ok(Sent::GivenUp);
    }
    n.next_at = now + TimeDelta::from_std(backoff(settings, n.attempts)).unwrap_or(TimeDelta::hours(1));
    let bytes = serde_json::to_vec_pretty(&n).map_err(std::io::Error::other)?;
    crate::queue::write_atomically(path, &bytes)?;
    Ok(Sent::Retry(n.next_at))
}

/// The credentials folder: `$CREDENTIALS_DIRECTORY`, else
/// `[notifications] credentials_dir`, else `[platforms.x] credentials_dir`.
pub fn credentials_dir(settings: &NotificationSettings, x_dir: Option<&Path>) -> Option<PathBuf> {
    match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => settings
            .credentials_dir
            .clone()
            .or_else(|| x_dir.map(Path::to_path_buf)),
    }
}

/// A credential file, also under systemd's `herald_` prefix
/// (`LoadCredential=herald:/etc/herald/credentials`).
fn credential(dir: &Path, name: &str) -> Result<String, String> {
    let loaded = dir.join(format!("herald_{name}"));
    let path = if loaded.is_file() { loaded } else { dir.join(name) };
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read the credential {}: {e}", path.display()))
}

#[derive(Deserialize)]
struct SmtpLogin {
    username: String,
    password: String,
}

/// Sends one e-mail.
pub async fn send_email(smtp: &SmtpSettings, creds: Option<&Path>, to: &str, n: &Notice) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

    let email = lettre::Message::builder()
        .from(
            smtp.from
                .parse()
                .map_err(|e| format!("the sender {}: {e}", smtp.from))?,
        )
        .to(to.parse().map_err(|e| format!("the address {to}: {e}"))?)
        .subject(&n.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(n.text.clone())
        .map_err(|e| format!("cannot build the e-mail: {e}"))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(smtp.timeout));
    if smtp.starttls {
        let mut tls = TlsParameters::builder(smtp.host.clone());
        if let Some(ca) = &smtp.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
            tls = tls.add_root_certificate(
                Certificate::from_pem(&pem).map_err(|e| format!("ca_file {}: {e}", ca.display()))?,
            );
        }
        builder = builder.tls(Tls::Required(tls.build().map_err(|e| format!("TLS setup: {e}"))?));
    }
    if smtp.login {
        let dir = creds.ok_or("no credentials folder for smtp.json: set [notifications] credentials_dir")?;
        let login: SmtpLogin = serde_json::from_str(&credential(dir, "smtp.json")?)
            .map_err(|e| format!("smtp.json should hold {{\"username\", \"password\"}}: {e}"))?;
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            login.username,
            login.password,
        ));
    }
    builder
        .build()
        .send(email)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))
}

/// The body a webhook gets.
pub fn webhook_body(format: WebhookFormat, n: &Notice) -> serde_json::Value {
    match format {
        WebhookFormat::Json => serde_json::json!({
            "id": n.id,
            "event": n.event,
            "account": n.account,
            "delivery": n.delivery,
            "lang": n.lang,
            "subject": n.subject,
            "text": n.text,
            "at": n.created_at.to_rfc3339(),
        }),
        WebhookFormat::Slack => serde_json::json!({"text": format!("*{}*\n{}", n.subject, n.text)}),
        WebhookFormat::Teams => serde_json::json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": n.subject,
            "themeColor": "D13438",
            "title": n.subject,
            "text": n.text.replace('\n', "  \n"),
        }),
    }
}

/// The signature header's value for a body sent at `timestamp`.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts one webhook.
pub async fn send_webhook(
    http: &reqwest::Client,
    w: &WebhookSettings,
    creds: Option<&Path>,
    n: &Notice,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let dir = creds.ok_or("no credentials folder for the webhook's key: set [notifications] credentials_dir")?;
    let key = credential(dir, &format!("webhook-{}.key", w.name))?;
    let body = serde_json::to_vec(&webhook_body(w.format, n)).map_err(|e| e.to_string())?;
    let ts = now.timestamp();
    let response = http
        .post(&w.url)
        .timeout(Duration::from_secs(20))
        .header("content-type", "application/json")
        .header("x-herald-timestamp", ts.to_string())
        .header("x-herald-signature", signature(key.trim().as_bytes(), ts, &body))
        .header("x-herald-event", &n.event)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("webhook {}: {e}", w.name))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook {} answered {}", w.name, response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mail_addresses_are_mailed() {
        assert!(is_email("hanako@example.co.jp"));
        assert!(!is_email("@tokyo_official"));
        assert!(!is_email("03-1234-5678"));
        assert!(!is_email("hanako at example"));
    }

    fn notice() -> Notice {
        Notice {
            id: "7-held-0".into(),
            created_at: DateTime::parse_from_rfc3339("2026-12-01T01:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            event: "held".into(),
            account: Some("tokyo".into()),
            delivery: Some("d1".into()),
            lang: "en".into(),
            subject: "[herald] Post held: tokyo/a.json".into(),
            text: "line one\nline two".into(),
            channel: Channel::Webhook { name: "ops".into() },
            attempts: 0,
            next_at: DateTime::parse_from_rfc3339("2026-12-01T01:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            last_error: None,
        }
    }

    #[test]
    fn webhook_bodies_fit_slack_teams_and_herald_json() {
        let n = notice();
        let slack = webhook_body(WebhookFormat::Slack, &n);
        assert_eq!(slack["text"], "*[herald] Post held: tokyo/a.json*\nline one\nline two");
        let teams = webhook_body(WebhookFormat::Teams, &n);
        assert_eq!(teams["@type"], "MessageCard");
        assert_eq!(teams["title"], n.subject);
        assert_eq!(
            teams["text"], "line one  \nline two",
            "Teams needs two spaces for a line break"
        );
        let json = webhook_body(WebhookFormat::Json, &n);
        assert_eq!(json["event"], "held");
        assert_eq!(json["delivery"], "d1");
    }

    #[test]
    fn a_notice_is_retried_then_given_up_into_failed() {
        let dir = tempfile::tempdir().unwrap();
        let s = NotificationSettings {
            max_attempts: 2,
            ..Default::default()
        };
        let n = notice();
        let path = enqueue(dir.path(), &n).unwrap();
        assert_eq!(queued(dir.path()), 1);
        let now = n.created_at;
        assert!(
            matches!(failed(dir.path(), &s, &path, n, "503".into(), now).unwrap(), Sent::Retry(at) if at == now + TimeDelta::seconds(30))
        );
        let (path, n) = pending(dir.path()).remove(0);
        assert_eq!(n.attempts, 1);
        assert!(matches!(
            failed(dir.path(), &s, &path, n, "503".into(), now).unwrap(),
            Sent::GivenUp
        ));
        assert_eq!(queued(dir.path()), 0);
        assert_eq!(std::fs::read_dir(failed_dir(dir.path())).unwrap().count(), 1);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = NotificationSettings {
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            ..Default::default()
        };
        assert_eq!(backoff(&s, 1), Duration::from_secs(30));
        assert_eq!(backoff(&s, 2), Duration::from_secs(60));
        assert_eq!(backoff(&s, 3), Duration::from_secs(120));
        assert_eq!(backoff(&s, 10), Duration::from_secs(300));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed with Python's hmac module: hmac.new(b"Jefe",
        // b'1700000000.{"a":1}', hashlib.sha256).hexdigest().
        assert_eq!(
            signature(b"Jefe", 1_700_000_000, br#"{"a":1}"#),
            "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a"
        );
        assert_ne!(
            signature(b"Jefe", 1_700_000_001, br#"{"a":1}"#),
            signature(b"Jefe", 1_700_000_000, br#"{"a":1}"#)
        );
    }
}
