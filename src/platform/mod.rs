//! The platforms herald publishes to. Each implements [`Platform`]; the
//! daemon holds one per account. This module knows nothing of folders or
//! schedules: it takes text and media and answers what the platform said.

pub mod sandbox;
pub mod x;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use unicode_normalization::UnicodeNormalization;

use crate::config::{Account, Config, PlatformKind};
use crate::guidelines::TextMetric;

/// A boxed future, so that `Platform` can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One part of what goes out.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingPart {
    pub text: String,
    pub media: Vec<OutgoingMedia>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMedia {
    pub path: PathBuf,
    pub alt: Option<String>,
}

/// A publish request.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub account: String,
    pub delivery_id: String,
    /// Stable across retries of one delivery, so platforms that deduplicate
    /// publish it once however often herald asks.
    pub idempotency_key: String,
    pub parts: Vec<OutgoingPart>,
    /// Remote ids of the leading parts an earlier attempt already published
    /// (a thread resumes after them instead of starting over).
    pub done: Vec<String>,
    /// Set when an earlier attempt, started at this instant, ended without
    /// knowing whether the platform made the post: platforms without
    /// idempotency look for it before posting again.
    pub unsure_since: Option<DateTime<Utc>>,
    /// With `unsure_since`: the newest remote id herald knew for the account
    /// when that attempt started; what it made is newer than this.
    pub unsure_after_id: Option<String>,
}

/// Where a platform reports each part as soon as it exists, so that the
/// daemon records it durably before the next part is sent.
pub trait Progress: Send + Sync {
    /// Part `index` (0-based) now exists as `remote_id`.
    fn part_published<'a>(&'a self, index: usize, remote_id: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// Progress that goes nowhere (previews, one-off calls).
pub struct NoProgress;

impl Progress for NoProgress {
    fn part_published<'a>(&'a self, _index: usize, _remote_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// What the platform made.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub url: Option<String>,
    pub remote_ids: Vec<String>,
    pub at: DateTime<Utc>,
}

/// Why a publish did not succeed, classified by what herald should do next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PublishError {
    /// Try again later (5xx, timeouts before sending, connection refused).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The request may or may not have been carried out (timeout after
    /// sending): reconcile before retrying.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// The platform refused the post; retrying will not help.
    #[error("refused by the platform: {0}")]
    Permanent(String),
    /// Wait until the platform's reset instant.
    #[error("rate limited until {until}: {detail}")]
    RateLimited { until: DateTime<Utc>, detail: String },
    /// The credentials no longer work; an admin must re-authorize.
    #[error("needs re-authorization: {0}")]
    NeedsReauth(String),
    /// The platform refuses everything this account would publish, whatever
    /// the post (an app without write permission, an app not enrolled, a
    /// token without a needed scope): the account's deliveries wait, held,
    /// until an admin fixes what the message says.
    #[error("the account cannot publish: {0}")]
    AccountRefused(String),
    /// Herald cannot tell what happened and must not guess: whether a post
    /// stands (the timeline cannot be read), or how to finish a thread half
    /// out. The delivery is held with this reason for an admin.
    #[error("an admin must decide: {0}")]
    NeedsAdmin(String),
}

/// A platform's API, for one account.
pub trait Platform: Send + Sync {
    fn kind(&self) -> PlatformKind;
    /// Publishes every part of a post not in `post.done` (a thread as a
    /// chain of replies), telling `progress` about each part as it succeeds.
    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>>;
    /// Deletes published posts (retraction).
    fn delete<'a>(&'a self, remote_ids: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>>;
    /// Checks that the account's credentials work; returns the handle the platform knows.
    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>>;
}

/// Why herald cannot publish to an account at all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("account \"{account}\": {message}")]
pub struct ConnectError {
    pub account: String,
    pub message: String,
}

/// Builds the platform client for an account.
/// `clock` is the daemon's: token expiry and rate-limit resets are read on it.
pub fn connect(
    config: &Config,
    account: &Account,
    clock: Arc<dyn crate::schedule::Clock>,
) -> Result<Arc<dyn Platform>, ConnectError> {
    match account.platform {
        PlatformKind::Sandbox => Ok(Arc::new(sandbox::Sandbox::new(&config.daemon.state_dir, &account.id, &account.handle))),
        PlatformKind::X => Ok(Arc::new(x::XClient::connect(config, account, clock)?)),
        other => Err(ConnectError {
            account: account.id.clone(),
            message: format!(
                "publishing to {} is not available in this version of herald yet; use platform = \"sandbox\" to try the account out.",
                other.name()
            ),
        }),
    }
}

/// Builds the platform client for an account the daemon runs. A platform
/// herald does not support is a config error (`Err`); an account whose
/// credentials are missing or unsafe gets an [`Unavailable`] client instead,
/// so one owner's broken keys never stop the company's other accounts (its
/// deliveries are held, and `herald status`/`doctor` say why).
pub fn connect_for_daemon(
    config: &Config,
    account: &Account,
    clock: Arc<dyn crate::schedule::Clock>,
) -> Result<Arc<dyn Platform>, ConnectError> {
    match account.platform {
        PlatformKind::Sandbox | PlatformKind::X => match connect(config, account, clock) {
            Ok(p) => Ok(p),
            Err(e) => {
                tracing::error!(account = %account.id, "{e}; this account's posts are held until it is fixed (then restart herald)");
                Ok(Arc::new(Unavailable {
                    kind: account.platform,
                    why: e.message,
                }))
            }
        },
        _ => connect(config, account, clock),
    }
}

/// The client of an account herald cannot connect (credentials missing,
/// unreadable or readable by others): every request answers
/// [`PublishError::NeedsReauth`] with the reason, so deliveries are held, not
/// retried in a loop, and nothing is sent.
pub struct Unavailable {
    kind: PlatformKind,
    why: String,
}

impl Platform for Unavailable {
    fn kind(&self) -> PlatformKind {
        self.kind
    }

    fn publish<'a>(&'a self, _: &'a Outgoing, _: &'a dyn Progress) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(async move { Err(PublishError::NeedsReauth(self.why.clone())) })
    }

    fn delete<'a>(&'a self, _: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async move { Err(PublishError::NeedsReauth(self.why.clone())) })
    }

    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        Box::pin(async move { Err(PublishError::NeedsReauth(self.why.clone())) })
    }
}

/// Whether an account's platform could be connected, without connecting:
/// its credentials file is there, private and well-formed. Nothing is
/// written and nothing is sent (`herald doctor` asks this of a running
/// daemon's accounts without disturbing their sessions).
pub fn check_credentials(config: &Config, account: &Account) -> Result<(), ConnectError> {
    let fail = |message: String| ConnectError {
        account: account.id.clone(),
        message,
    };
    match account.platform {
        PlatformKind::Sandbox => Ok(()),
        PlatformKind::X => {
            let dir = x::credentials::credentials_dir(config).map_err(|e| fail(e.to_string()))?;
            x::credentials::read_credentials(&x::credentials::credentials_file(&dir, &account.id))
                .map(|_| ())
                .map_err(|e| fail(e.to_string()))
        }
        other => Err(fail(format!(
            "publishing to {} is not available in this version of herald yet",
            other.name()
        ))),
    }
}

/// Why an account cannot publish until an admin re-authorizes it (a failed
/// OAuth 2.0 refresh), as recorded in the state folder; for `herald status`.
pub fn needs_reauth(config: &Config, account: &Account) -> Option<String> {
    match account.platform {
        PlatformKind::X => x::credentials::needs_reauth(config, account),
        _ => None,
    }
}

/// Counts characters after NFC, as most platforms do.
pub struct CharCount {
    pub platform: &'static str,
    pub limit: usize,
}

impl TextMetric for CharCount {
    fn platform(&self) -> &str {
        self.platform
    }

    fn length(&self, text: &str) -> usize {
        text.nfc().count()
    }

    fn limit(&self) -> usize {
        self.limit
    }
}

/// How a platform measures text and what it allows.
pub fn metric_for(config: &Config, platform: PlatformKind) -> Box<dyn TextMetric> {
    match platform {
        PlatformKind::Sandbox => Box::new(CharCount {
            platform: "sandbox",
            limit: config.sandbox.max_length,
        }),
        PlatformKind::X => Box::new(x::XLength),
        PlatformKind::Mastodon => Box::new(CharCount {
            platform: "mastodon",
            limit: 500,
        }),
        PlatformKind::Bluesky => Box::new(CharCount {
            platform: "bluesky",
            limit: 300,
        }),
        PlatformKind::Misskey => Box::new(CharCount {
            platform: "misskey",
            limit: 3000,
        }),
    }
}

/// What the platform would refuse (or ignore) in a post's media, as
/// findings of rule `x-media` (block when the platform would refuse the
/// post, warn when it would only ignore something). Their line and column
/// are where the media file is named in the post file (`file_text`), not
/// in the part's text; start and end are 0. Only X has such limits here.
pub fn media_findings(
    platform: PlatformKind,
    post: &crate::queue::Post,
    file_text: &str,
) -> Vec<crate::guidelines::Finding> {
    if platform != PlatformKind::X {
        return Vec::new();
    }
    let parts: Vec<Vec<x::media::MediaEntry<'_>>> = post
        .parts
        .iter()
        .map(|p| {
            p.media
                .iter()
                .map(|m| x::media::MediaEntry {
                    name: &m.relative,
                    path: &m.path,
                    alt: m.alt.as_deref(),
                })
                .collect()
        })
        .collect();
    x::media::media_problems(&parts)
        .into_iter()
        .map(|p| {
            // The n-th time this part names the file, counting earlier parts.
            let before: usize = post.parts[..p.part]
                .iter()
                .map(|q| q.media.iter().filter(|m| m.relative == p.name).count())
                .sum();
            let at = file_text
                .match_indices(p.name.as_str())
                .nth(before)
                .map(|(i, _)| crate::source::Position::of_offset(file_text, i))
                .unwrap_or(crate::source::Position { line: 1, column: 1 });
            crate::guidelines::Finding {
                rule: x::media::MEDIA_RULE.to_string(),
                severity: if p.refused {
                    crate::config::Severity::Block
                } else {
                    crate::config::Severity::Warn
                },
                part: p.part,
                start: 0,
                end: 0,
                line: at.line,
                column: at.column,
                matched: p.name,
                message: p.message,
                suggestion: Some(p.suggestion),
                replacement: None,
            }
        })
        .collect()
}
