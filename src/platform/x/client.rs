//! The X API v2 client for one account: posts (threads as chains of
//! replies, each part reported as it exists), media (simple upload for
//! images; initialize/append/finalize and `processing_info` polling for video
//! and GIF; alt text), deletion, `users/me`, and the classification of every
//! answer into what the daemon should do next.
//!
//! X offers no idempotency key, so an attempt whose outcome is unknown (a
//! timeout or a lost answer after the request went out) is reconciled by
//! reading the account's recent posts for the same text before posting again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, TimeDelta, TimeZone, Utc};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use super::credentials::{self, XCredentials};
use super::{oauth1, oauth2, requests};
use crate::config::{Account, Config, PlatformKind};
use crate::platform::{
    BoxFuture, ConnectError, Outgoing, OutgoingMedia, OutgoingPart, Platform, Progress, PublishError, Published,
};
use crate::schedule::Clock;

/// How the client proves who it acts for.
enum Auth {
    OAuth1(oauth1::Credentials),
    OAuth2(Box<oauth2::Session>),
}

/// An X account's API client.
pub struct XClient {
    account: String,
    handle: String,
    api: String,
    http: reqwest::Client,
    auth: Auth,
    user_id: tokio::sync::Mutex<Option<String>>,
    max_poll_wait: Duration,
    /// How long X takes to show a post it just made (see
    /// `XSettings::settle_wait`).
    settle_wait: Duration,
    clock: Arc<dyn Clock>,
    /// Set when X said the account's posting limit is used up
    /// (`x-rate-limit-remaining: 0`): no post is sent before this instant.
    posts_blocked_until: Mutex<Option<DateTime<Utc>>>,
}

/// An HTTP answer, whatever its status.
struct Answer {
    status: u16,
    body: Value,
}

/// What a transport error means, in words without URLs or headers.
pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off".to_string()
    } else {
        "the connection failed".to_string()
    };
    // The source chain says "connection reset", "connection closed before
    // message completed"… and never carries headers (where tokens are).
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what
    } else {
        format!("{what} ({detail})")
    }
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The latest reset among the 24-hour limits that are spent: the user's
/// (`x-user-limit-24hour-*`) and the app's (`x-app-limit-24hour-*`).
fn spent_daily_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    ["x-user-limit-24hour", "x-app-limit-24hour"]
        .iter()
        .filter(|daily| header_i64(headers, &format!("{daily}-remaining")) == Some(0))
        .filter_map(|daily| header_i64(headers, &format!("{daily}-reset")))
        .filter_map(|s| Utc.timestamp_opt(s, 0).single())
        .max()
}

/// The window's reset, when the window is spent.
fn spent_window_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    if header_i64(headers, "x-rate-limit-remaining").is_some_and(|left| left > 0) {
        return None;
    }
    header_i64(headers, "x-rate-limit-reset").and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// When a 429 ends: the later of the endpoint's window reset (unless the
/// window still has requests left: then something else stopped this one)
/// and the reset of any spent 24-hour limit.
fn rate_limit_until(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    let until = spent_window_reset(headers).max(spent_daily_reset(headers));
    // Without a usable header, wait one whole rate-limit window.
    until.filter(|u| *u > now).unwrap_or(now + TimeDelta::minutes(15))
}

/// When a successful answer says a limit is now used up: until when.
fn exhausted_until(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = if header_i64(headers, "x-rate-limit-remaining") == Some(0) {
        spent_window_reset(headers).or(Some(now + TimeDelta::minutes(15)))
    } else {
        None
    };
    window.max(spent_daily_reset(headers)).filter(|t| *t > now)
}

/// The last segment of an X problem `type`
/// (`https://api.twitter.com/2/problems/usage-capped` → `usage-capped`).
fn problem_type(body: &Value) -> &str {
    body["type"].as_str().and_then(|t| t.rsplit('/').next()).unwrap_or("")
}

/// Whether a 403 says X refuses a reply because it cannot see the post
/// replied to yet (X is eventually consistent; it passes in seconds).
fn reply_target_not_visible(body: &Value) -> bool {
    problem_detail(403, body).contains("reply to a Tweet that is deleted or not visible")
}

/// Whether a 403 says the same text was posted recently.
fn duplicate_content(body: &Value) -> bool {
    problem_detail(403, body).contains("duplicate content")
}

/// A refusal X gives to everything the account would publish, whatever the
/// post, in words that say what to fix; None for a refusal of one post.
fn account_wide_refusal(account: &str, status: u16, body: &Value) -> Option<String> {
    let said = problem_detail(status, body);
    let fix = match problem_type(body) {
        "oauth1-permissions" => format!(
            "the app's keys may only read. In the X developer portal, set the app's permissions to \"Read and write\" (User authentication settings), then regenerate the access token and secret and put them in x-{account}.json"
        ),
        "client-forbidden" | "client-not-enrolled" => "the app is not enrolled for this part of the API (its access level, or it is not attached to a Project). Attach the app to a Project with an access level that allows posting, in the X developer portal".to_string(),
        "unsupported-authentication" => format!(
            "X needs user-context credentials here: OAuth 1.0a keys with the account's access token and secret, or OAuth 2.0 tokens from `herald auth x {account}`, not an app-only bearer token"
        ),
        _ if body["title"] == "Unsupported Authentication" => format!(
            "X needs user-context credentials here: OAuth 1.0a keys with the account's access token and secret, or OAuth 2.0 tokens from `herald auth x {account}`"
        ),
        _ if body["reason"] == "client-not-enrolled" => "the app is not enrolled for this part of the API. Attach the app to a Project with an access level that allows posting, in the X developer portal".to_string(),
        _ => return None,
    };
    Some(format!(
        "X refuses every request of this kind from the account ({status}: {said}). To fix: {fix}. herald tries again at its next start, when a post of the account goes through, or on herald retry"
    ))
}

/// A post's text as reconciliation compares it: X answers with `&`, `<`
/// and `>` escaped and every URL replaced by a t.co link, so both sides are
/// unescaped, NFC-normalised and have their URLs masked.
pub fn comparable(text: &str) -> String {
    let unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let measured = super::length::weighted_length(&unescaped);
    let mut out = String::new();
    let mut at = 0;
    for url in &measured.urls {
        out.push_str(&measured.normalized[at..url.start]);
        out.push('\u{1}');
        at = url.end;
    }
    out.push_str(&measured.normalized[at..]);
    out.trim().to_string()
}

/// X's own words from a problem body: `detail`, plus each `errors[].message`.
pub fn problem_detail(status: u16, body: &Value) -> String {
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .collect();
    let head = body["detail"]
        .as_str()
        .or_else(|| body["title"].as_str())
        .map(String::from)
        .unwrap_or_else(|| format!("HTTP {status}"));
    if messages.is_empty() {
        head
    } else {
        format!("{head} {}", messages.join(" "))
    }
}

/// How many times herald reads the timeline for a post before it concludes
/// the post is not there (X's timeline lags behind its posts).
const LOOKUPS: u32 = 3;

/// How many times herald sends a reply X refused because it could not see
/// the post replied to yet.
const REPLY_TRIES: u32 = 4;

/// Where a post an earlier attempt may have made would be.
struct Where<'a> {
    /// When that attempt started.
    since: DateTime<Utc>,
    /// A post id older than the post looked for.
    after_id: Option<&'a str>,
    /// The post it replies to (the previous part), None for a first part.
    reply_to: Option<&'a str>,
    /// The thread's first post, when this is a later part.
    root: Option<&'a str>,
}

/// What a timeline post replies to, in either spelling X uses
/// (`referenced_tweets` live, `referenced_posts` in the OpenAPI description).
fn replied_to(post: &Value) -> Option<&str> {
    ["referenced_tweets", "referenced_posts"]
        .iter()
        .filter_map(|field| post[*field].as_array())
        .flatten()
        .find(|r| r["type"] == "replied_to")
        .and_then(|r| r["id"].as_str())
}

/// A timeline post's text without the t.co links X appends for its media
/// (`entities.urls` entries that carry a `media_key`). Without entities, a
/// last t.co link is taken off when the part has media.
fn text_without_media_links(post: &Value, has_media: bool) -> String {
    let mut text = post["text"].as_str().unwrap_or_default().to_string();
    let urls = post["entities"]["urls"].as_array();
    let media_urls: Vec<&str> = urls
        .into_iter()
        .flatten()
        .filter(|u| !u["media_key"].is_null())
        .filter_map(|u| u["url"].as_str())
        .collect();
    if !media_urls.is_empty() {
        for url in media_urls {
            text = text.replace(url, "");
        }
    } else if has_media && urls.is_none() {
        let trimmed = text.trim_end();
        if let Some(at) = trimmed.rfind("https://t.co/") {
            if !trimmed[at..].contains(char::is_whitespace) {
                text.truncate(at);
            }
        }
    }
    text.trim_end().to_string()
}

/// Whether a timeline post is the part herald looks for.
fn same_post(post: &Value, part: &OutgoingPart, where_: &Where<'_>) -> bool {
    let wanted = comparable(&part.text);
    let text = text_without_media_links(post, !part.media.is_empty());
    if comparable(&text) != wanted {
        return false;
    }
    let id = post["id"].as_str();
    let conversation = post["conversation_id"].as_str();
    match (where_.reply_to, replied_to(post)) {
        (Some(want), Some(got)) => want == got,
        (None, None) => conversation.is_none() || conversation == id,
        (None, Some(_)) => false,
        // No reference in the answer (a field X renamed): the conversation
        // still says whether it belongs to this thread.
        (Some(_), None) => where_.root.is_some() && conversation == where_.root && id != where_.root,
    }
}

fn encode_query(query: &[(&str, String)]) -> String {
    query
        .iter()
        .map(|(k, v)| format!("{}={}", oauth1::percent_encode(k), oauth1::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl XClient {
    /// Builds the client for an account from its credentials file.
    pub fn connect(config: &Config, account: &Account, clock: Arc<dyn Clock>) -> Result<XClient, ConnectError> {
        let fail = |message: String| ConnectError {
            account: account.id.clone(),
            message,
        };
        let dir = credentials::credentials_dir(config).map_err(|e| fail(e.to_string()))?;
        let path = credentials::credentials_file_to_read(&dir, &account.id);
        let creds = credentials::read_credentials(&path).map_err(|e| fail(e.to_string()))?;
        XClient::new(
            account,
            &config.x.api_base,
            creds,
            credentials::token_state_file(config, account),
            config.x.timeout,
            config.x.max_poll_wait,
            clock,
        )
        .map(|c| c.with_settle_wait(config.x.settle_wait))
        .map_err(fail)
    }

    /// Builds a client from credentials already read.
    pub fn new(
        account: &Account,
        api_base: &str,
        creds: XCredentials,
        token_state: PathBuf,
        timeout: Duration,
        max_poll_wait: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<XClient, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        let api = api_base.trim_end_matches('/').to_string();
        let auth = match creds {
            XCredentials::OAuth1(keys) => Auth::OAuth1(keys.credentials()),
            XCredentials::OAuth2(tokens) => Auth::OAuth2(Box::new(
                oauth2::Session::open(
                    &account.id,
                    format!("{api}/2/oauth2/token"),
                    tokens,
                    token_state,
                    clock.clone(),
                )
                .map_err(|e| e.to_string())?,
            )),
        };
        Ok(XClient {
            account: account.id.clone(),
            handle: account.handle.trim_start_matches('@').to_string(),
            api,
            http,
            auth,
            user_id: tokio::sync::Mutex::new(None),
            max_poll_wait,
            settle_wait: Duration::from_secs(3),
            clock,
            posts_blocked_until: Mutex::new(None),
        })
    }

    /// How long X takes to show a post it just made: herald waits this long
    /// between thread parts and between two reads of the timeline.
    pub fn with_settle_wait(mut self, wait: Duration) -> XClient {
        self.settle_wait = wait;
        self
    }

    /// One request, with the account's authorization; a 401 under OAuth 2.0
    /// refreshes the token once and repeats the request. `posting` marks the
    /// request that makes a post: an error after it may have gone out is
    /// `Unknown`, not `Transient`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        posting: bool,
    ) -> Result<Answer, PublishError> {
        let url = if query.is_empty() {
            format!("{}{path}", self.api)
        } else {
            format!("{}{path}?{}", self.api, encode_query(query))
        };
        let mut refreshed = false;
        loop {
            let (authorization, bearer) = match &self.auth {
                Auth::OAuth1(creds) => (
                    oauth1::authorize(creds, method.as_str(), &url, &[])
                        .map_err(|e| PublishError::Permanent(format!("cannot sign the request: {e}")))?,
                    None,
                ),
                Auth::OAuth2(session) => {
                    let token = session.access_token(&self.http).await?;
                    (format!("Bearer {token}"), Some(token))
                }
            };
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("authorization", authorization);
            if let Some(b) = body {
                req = req.json(b);
            }
            let what = format!("{method} {path}");
            let unsent_or_unknown = |e: reqwest::Error| {
                let why = format!("{what}: {}", describe_reqwest(&e));
                if e.is_connect() || !posting {
                    PublishError::Transient(why)
                } else {
                    PublishError::Unknown(why)
                }
            };
            let resp = req.send().await.map_err(unsent_or_unknown)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.map_err(unsent_or_unknown)?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if let (Some(limit), Some(left)) = (
                header_i64(&headers, "x-rate-limit-limit"),
                header_i64(&headers, "x-rate-limit-remaining"),
            ) {
                tracing::debug!(account = %self.account, request = %what, limit, left, "X rate limit");
            }
            match status {
                200..=299 => {
                    if posting {
                        if let Some(until) = exhausted_until(&headers, self.clock.now()) {
                            tracing::warn!(account = %self.account, "X's posting limit is used up until {until}");
                            self.block_posts_until(until);
                        }
                    }
                    return Ok(Answer { status, body });
                }
                401 => match (&self.auth, bearer) {
                    (Auth::OAuth2(session), Some(used)) if !refreshed => {
                        refreshed = true;
                        session.refresh_after_401(&self.http, &used).await?;
                        continue;
                    }
                    (Auth::OAuth2(session), _) => {
                        let why = format!(
                            "X refused a freshly refreshed token for {what} (401); run `herald auth x {}`",
                            self.account
                        );
                        session.mark_needs_reauth(&why).await;
                        return Err(PublishError::NeedsReauth(why));
                    }
                    (Auth::OAuth1(_), _) => {
                        return Err(PublishError::NeedsReauth(format!(
                            "X refused the account's OAuth 1.0a keys for {what} (401 {}); check the keys in the credentials file x-{}.json",
                            problem_detail(status, &body),
                            self.account
                        )))
                    }
                },
                429 => {
                    let refusal = self.rate_limited(&what, &headers, &body);
                    // Every request of the account's posts meets the same
                    // limit: block them all until it ends, so none uploads
                    // its media first (timeline reads have their own window).
                    let app_wide = problem_type(&body) == "usage-capped" || spent_daily_reset(&headers).is_some();
                    if let PublishError::RateLimited { until, .. } = &refusal {
                        if app_wide || method != Method::GET {
                            self.block_posts_until(*until);
                        }
                    }
                    return Err(refusal);
                }
                // X does not say whether a create that failed on its side
                // made the post: a 5xx on a create is an unknown outcome.
                500..=599 if posting => {
                    return Err(PublishError::Unknown(format!(
                        "{what}: X answered {status} ({})",
                        problem_detail(status, &body)
                    )))
                }
                500..=599 => {
                    return Err(PublishError::Transient(format!(
                        "{what}: X answered {status} ({})",
                        problem_detail(status, &body)
                    )))
                }
                _ => return Ok(Answer { status, body }),
            }
        }
    }

    /// [`XClient::send`], with every answer that is not a success turned into a refusal.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        posting: bool,
    ) -> Result<Value, PublishError> {
        let a = self.send(method, path, query, body, posting).await?;
        if (200..300).contains(&a.status) {
            return Ok(a.body);
        }
        let refusal = self.refusal(path, a.status, &a.body);
        if let (PublishError::NeedsReauth(why), Auth::OAuth2(session)) = (&refusal, &self.auth) {
            // Marked, so `herald status` says so and the start after
            // `herald auth x` releases the account's posts.
            session.mark_needs_reauth(why).await;
        }
        Err(refusal)
    }

    /// What a refusal (4xx) means: the whole account, or this one post.
    fn refusal(&self, path: &str, status: u16, body: &Value) -> PublishError {
        if let Some(why) = account_wide_refusal(&self.account, status, body) {
            return PublishError::AccountRefused(why);
        }
        // A token granted without `media.write` uploads nothing: X answers
        // a bare 403. Only a new authorization grants the scope.
        if status == 403 && path.starts_with("/2/media") && problem_type(body) == "about:blank" {
            if let Auth::OAuth2(_) = &self.auth {
                return PublishError::NeedsReauth(format!(
                    "X refused the media upload ({status} {}): the account's OAuth 2.0 token was most likely granted without the media.write scope; run `herald auth x {}` to grant it",
                    problem_detail(status, body),
                    self.account
                ));
            }
        }
        PublishError::Permanent(problem_detail(status, body))
    }

    /// What a 429 means: which limit, and until when.
    fn rate_limited(&self, what: &str, headers: &HeaderMap, body: &Value) -> PublishError {
        let now = self.clock.now();
        let detail = format!("{what}: {}", problem_detail(429, body));
        if problem_type(body) == "usage-capped" {
            let period = body["period"].as_str().unwrap_or("");
            if period.eq_ignore_ascii_case("daily") || spent_daily_reset(headers).is_some() {
                return PublishError::RateLimited {
                    until: spent_daily_reset(headers)
                        .filter(|u| *u > now)
                        .unwrap_or(now + TimeDelta::hours(24)),
                    detail: format!("X's daily usage cap is used up ({detail})"),
                };
            }
            // A monthly cap renews with the project's billing period, which
            // X does not tell: weeks, past any post's lateness.
            return PublishError::AccountRefused(format!(
                "X's {} usage cap for the app's project is used up ({detail}). To fix: raise the cap or wait for the project's billing period to renew (see the X developer portal); herald tries again at its next start, when a post of the account goes through, or on herald retry",
                if period.is_empty() { "monthly" } else { period }.to_lowercase()
            ));
        }
        PublishError::RateLimited {
            until: rate_limit_until(headers, now),
            detail,
        }
    }

    /// No post of this account is sent before `until`.
    fn block_posts_until(&self, until: DateTime<Utc>) {
        let mut blocked = self.posts_blocked_until.lock().expect("not poisoned");
        *blocked = (*blocked).max(Some(until));
    }

    /// The account's numeric id, from `GET /2/users/me` (cached).
    async fn user_id(&self) -> Result<String, PublishError> {
        let mut cached = self.user_id.lock().await;
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let me = self.call(Method::GET, "/2/users/me", &[], None, false).await?;
        let id = me["data"]["id"]
            .as_str()
            .ok_or_else(|| PublishError::Transient("GET /2/users/me answered without an id".into()))?
            .to_string();
        *cached = Some(id.clone());
        Ok(id)
    }

    /// Looks for a post an earlier attempt may have made: same text (X's
    /// rewrites undone), same place in the thread. It reads the account's
    /// posts after `where_.after_id` (X's `since_id`; the previous part, or
    /// the newest post herald knew when the attempt started), else since a
    /// little before `where_.since`. X's timeline lags behind its posts, so
    /// a miss is read again, `LOOKUPS` times in all, `settle_wait` apart,
    /// before herald concludes the post is not there.
    async fn find_post(
        &self,
        user_id: &str,
        part: &OutgoingPart,
        where_: &Where<'_>,
    ) -> Result<Option<String>, PublishError> {
        let mut query = vec![
            ("max_results", "100".to_string()),
            (
                "tweet.fields",
                "created_at,conversation_id,referenced_tweets,entities".to_string(),
            ),
        ];
        match where_.after_id {
            Some(id) => query.push(("since_id", id.to_string())),
            None => query.push((
                "start_time",
                (where_.since - TimeDelta::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true),
            )),
        }
        for lookup in 1..=LOOKUPS {
            let timeline = self
                .call(Method::GET, &format!("/2/users/{user_id}/tweets"), &query, None, false)
                .await
                .map_err(|e| match e {
                    // Without the timeline herald cannot know: never post
                    // blind, never guess; an admin looks at the account.
                    PublishError::Permanent(why) | PublishError::AccountRefused(why) => PublishError::NeedsAdmin(format!(
                        "herald cannot read the account's posts to see whether an earlier attempt went through (X answered: {why}); reading them needs an X access level that includes the user posts timeline (see herald's README)"
                    )),
                    other => other,
                })?;
            let posts = timeline["data"].as_array().map(Vec::as_slice).unwrap_or_default();
            if let Some(found) = posts.iter().find(|p| same_post(p, part, where_)) {
                return Ok(found["id"].as_str().map(String::from));
            }
            if lookup < LOOKUPS {
                tokio::time::sleep(self.settle_wait).await;
            }
        }
        Ok(None)
    }

    /// Uploads one file and sets its alt text; returns the media id.
    async fn upload(&self, media: &OutgoingMedia) -> Result<String, PublishError> {
        let kind = requests::media_kind(&media.path).map_err(PublishError::Permanent)?;
        let name = media
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = tokio::fs::read(&media.path)
            .await
            .map_err(|e| PublishError::Permanent(format!("cannot read the media file {name}: {e}")))?;
        let id = if kind.chunked {
            self.upload_chunked(&name, &bytes, kind).await?
        } else {
            let body = requests::simple_upload(&BASE64.encode(&bytes), kind);
            let answer = self
                .call(Method::POST, "/2/media/upload", &[], Some(&body), false)
                .await?;
            media_id(&answer, &name)?
        };
        // X takes alt text for images and GIFs only (see `media`).
        if let Some(alt) = media
            .alt
            .as_deref()
            .filter(|a| !a.is_empty() && requests::takes_alt_text(kind))
        {
            let body = requests::alt_text(&id, alt);
            self.call(Method::POST, "/2/media/metadata", &[], Some(&body), false)
                .await?;
        }
        Ok(id)
    }

    async fn upload_chunked(
        &self,
        name: &str,
        bytes: &[u8],
        kind: requests::MediaKind,
    ) -> Result<String, PublishError> {
        let init = requests::initialize_upload(bytes.len() as u64, kind);
        let answer = self
            .call(Method::POST, "/2/media/upload/initialize", &[], Some(&init), false)
            .await?;
        let id = media_id(&answer, name)?;
        for (i, chunk) in bytes.chunks(requests::CHUNK_BYTES).enumerate() {
            let body = requests::append_upload(&BASE64.encode(chunk), i);
            self.call(
                Method::POST,
                &format!("/2/media/upload/{id}/append"),
                &[],
                Some(&body),
                false,
            )
            .await?;
        }
        let mut answer = self
            .call(
                Method::POST,
                &format!("/2/media/upload/{id}/finalize"),
                &[],
                None,
                false,
            )
            .await?;
        // Bounded: a video X never finishes processing must not hold the
        // account's publishing task forever.
        for _ in 0..120 {
            let info = &answer["data"]["processing_info"];
            match info["state"].as_str() {
                None | Some("succeeded") => return Ok(id),
                Some("failed") => {
                    return Err(PublishError::Permanent(format!(
                        "X could not process {name}: {}",
                        info["error"]["message"].as_str().unwrap_or("no reason given")
                    )))
                }
                Some(_) => {
                    let after = Duration::from_secs(info["check_after_secs"].as_u64().unwrap_or(1));
                    tokio::time::sleep(after.min(self.max_poll_wait)).await;
                    answer = self
                        .call(
                            Method::GET,
                            "/2/media/upload",
                            &[("command", "STATUS".to_string()), ("media_id", id.clone())],
                            None,
                            false,
                        )
                        .await?;
                }
            }
        }
        Err(PublishError::Transient(format!(
            "X is still processing {name}; herald tries again later"
        )))
    }

    async fn publish_post(&self, post: &Outgoing, progress: &dyn Progress) -> Result<Published, PublishError> {
        // A limit X reported stops every post of the account, before any
        // upload: uploads made now would be thrown away after the wait.
        self.not_blocked()?;
        let mut ids = post.done.clone();
        let user = match post.unsure_since {
            Some(_) => Some(self.user_id().await?),
            None => None,
        };
        // While true, the earlier attempt may have made the next part.
        let mut reconciling = post.unsure_since.is_some();
        for (i, part) in post.parts.iter().enumerate().skip(ids.len()) {
            let reply_to = ids.last().cloned();
            let where_ = Where {
                since: post.unsure_since.unwrap_or_else(|| self.clock.now()),
                after_id: reply_to.as_deref().or(post.unsure_after_id.as_deref()),
                reply_to: reply_to.as_deref(),
                root: ids.first().map(String::as_str),
            };
            if reconciling {
                let user = user.as_deref().expect("read when unsure");
                match self.find_post(user, part, &where_).await? {
                    Some(found) => {
                        self.found(post, progress, i, &found).await?;
                        ids.push(found);
                        continue;
                    }
                    // A chain: if this part is missing, later ones are too.
                    None => reconciling = false,
                }
            }
            self.not_blocked()?;
            if reply_to.is_some() {
                // X shows a new post to replies only after a moment.
                tokio::time::sleep(self.settle_wait).await;
            }
            let mut media_ids = Vec::new();
            for m in &part.media {
                media_ids.push(self.upload(m).await?);
            }
            let body = requests::create_post(&part.text, &media_ids, reply_to.as_deref());
            let answer = match self.create(&body, i, post.parts.len()).await {
                Err(CreateError::Refused { status, body: refusal }) if post.unsure_since.is_some() && duplicate_content(&refusal) => {
                    // After an attempt whose outcome was unknown, "duplicate
                    // content" is X saying that attempt went through.
                    let user = match &user {
                        Some(u) => u.clone(),
                        None => self.user_id().await?,
                    };
                    match self.find_post(&user, part, &where_).await? {
                        Some(found) => {
                            self.found(post, progress, i, &found).await?;
                            ids.push(found);
                            continue;
                        }
                        None => {
                            return Err(PublishError::NeedsAdmin(format!(
                                "X says part {} of {} already exists ({status}: {}) after an attempt whose outcome was unknown, but herald cannot find it among the account's posts",
                                i + 1,
                                post.parts.len(),
                                problem_detail(status, &refusal)
                            )))
                        }
                    }
                }
                Err(CreateError::Refused { status, body }) if status == 403 && reply_target_not_visible(&body) && !ids.is_empty() => {
                    return Err(PublishError::NeedsAdmin(format!(
                        "X kept refusing part {} of {} as a reply to part {} ({}), {REPLY_TRIES} times, though herald made that part",
                        i + 1,
                        post.parts.len(),
                        i,
                        problem_detail(status, &body)
                    )))
                }
                Err(CreateError::Refused { status, body }) => return Err(self.refusal("/2/tweets", status, &body)),
                Err(CreateError::Failed(e)) => return Err(e),
                Ok(answer) => answer,
            };
            let id = answer["data"]["id"]
                .as_str()
                .ok_or_else(|| PublishError::Unknown("X accepted the post but its answer has no id".into()))?
                .to_string();
            progress.part_published(i, &id).await.map_err(|e| {
                PublishError::Unknown(format!(
                    "part {} was published as {id} but herald could not record it: {e}",
                    i + 1
                ))
            })?;
            ids.push(id);
        }
        let url = ids
            .first()
            .map(|id| format!("https://x.com/{}/status/{id}", self.handle));
        Ok(Published {
            url,
            remote_ids: ids,
            at: self.clock.now(),
        })
    }

    /// `POST /2/tweets`; a reply X refuses because it cannot see its parent
    /// yet is sent again, up to [`REPLY_TRIES`] times, waiting longer each
    /// time.
    async fn create(&self, body: &Value, part: usize, parts: usize) -> Result<Value, CreateError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let a = self
                .send(Method::POST, "/2/tweets", &[], Some(body), true)
                .await
                .map_err(CreateError::Failed)?;
            if (200..300).contains(&a.status) {
                return Ok(a.body);
            }
            let replying = body.get("reply").is_some();
            if a.status == 403 && replying && reply_target_not_visible(&a.body) && tries < REPLY_TRIES {
                tracing::info!(account = %self.account, part = part + 1, parts, "X cannot see the post replied to yet; trying again");
                tokio::time::sleep(self.settle_wait * tries).await;
                continue;
            }
            return Err(CreateError::Refused {
                status: a.status,
                body: a.body,
            });
        }
    }

    /// Records a part an earlier attempt had made.
    async fn found(&self, post: &Outgoing, progress: &dyn Progress, i: usize, id: &str) -> Result<(), PublishError> {
        tracing::info!(account = %self.account, delivery = %post.delivery_id, part = i + 1, id = %id, "the earlier attempt had published this part; not posting it again");
        progress.part_published(i, id).await.map_err(PublishError::Transient)
    }

    /// Err while X's answers said the account's limit is used up.
    fn not_blocked(&self) -> Result<(), PublishError> {
        let blocked = *self.posts_blocked_until.lock().expect("not poisoned");
        match blocked.filter(|u| *u > self.clock.now()) {
            Some(until) => Err(PublishError::RateLimited {
                until,
                detail: "X said the account's limit is used up; nothing was sent".into(),
            }),
            None => Ok(()),
        }
    }
}

/// Why a create did not make a post.
enum CreateError {
    /// No answer, a 5xx, a 429…: as [`XClient::send`] classified it.
    Failed(PublishError),
    /// X's refusal: its status and problem body, for the caller to read.
    Refused { status: u16, body: Value },
}

/// Says which parts of a thread a failed deletion had already deleted: it
/// works from the last part back, so parts after `part` (1-based) are gone.
fn deletion_context(e: PublishError, part: usize, total: usize) -> PublishError {
    let context = match total - part {
        _ if total == 1 => return e,
        0 => format!("part {part} of {total}"),
        1 => format!("part {total} of {total} was deleted, but not part {part}"),
        _ => format!(
            "parts {}–{total} of {total} were deleted, but not part {part}",
            part + 1
        ),
    };
    match e {
        PublishError::Transient(m) => PublishError::Transient(format!("{context}: {m}")),
        PublishError::Unknown(m) => PublishError::Unknown(format!("{context}: {m}")),
        PublishError::Permanent(m) => PublishError::Permanent(format!("{context}: {m}")),
        PublishError::NeedsReauth(m) => PublishError::NeedsReauth(format!("{context}: {m}")),
        PublishError::AccountRefused(m) => PublishError::AccountRefused(format!("{context}: {m}")),
        PublishError::NeedsAdmin(m) => PublishError::NeedsAdmin(format!("{context}: {m}")),
        PublishError::RateLimited { until, detail } => PublishError::RateLimited {
            until,
            detail: format!("{context}: {detail}"),
        },
    }
}

fn media_id(answer: &Value, name: &str) -> Result<String, PublishError> {
    answer["data"]["id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| PublishError::Transient(format!("X's answer to the upload of {name} has no media id")))
}

impl Platform for XClient {
    fn kind(&self) -> PlatformKind {
        PlatformKind::X
    }

    fn publish<'a>(
        &'a self,
        post: &'a Outgoing,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(self.publish_post(post, progress))
    }

    fn delete<'a>(&'a self, remote_ids: &'a [String]) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(async move {
            let total = remote_ids.len();
            // Last reply first, so the thread never shows replies to nothing.
            for (part, id) in remote_ids.iter().enumerate().rev() {
                let failure = match self
                    .send(Method::DELETE, &format!("/2/tweets/{id}"), &[], None, false)
                    .await
                {
                    // 404: already gone (an earlier try whose answer was lost).
                    Ok(a) if a.status == 404 => continue,
                    // X says whether it deleted; only `deleted: true` counts.
                    Ok(a) if (200..300).contains(&a.status) && a.body["data"]["deleted"] != false => continue,
                    Ok(a) if (200..300).contains(&a.status) => {
                        PublishError::Permanent(format!("X answered that post {id} was not deleted"))
                    }
                    Ok(a) => PublishError::Permanent(problem_detail(a.status, &a.body)),
                    Err(e) => e,
                };
                return Err(deletion_context(failure, part + 1, total));
            }
            Ok(())
        })
    }

    fn check_account(&self) -> BoxFuture<'_, Result<String, PublishError>> {
        Box::pin(async move {
            let me = self.call(Method::GET, "/2/users/me", &[], None, false).await?;
            if let Some(id) = me["data"]["id"].as_str() {
                *self.user_id.lock().await = Some(id.to_string());
            }
            me["data"]["username"]
                .as_str()
                .map(|u| format!("@{u}"))
                .ok_or_else(|| PublishError::Transient("GET /2/users/me answered without a username".into()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_detail_prefers_x_words() {
        let dup = serde_json::json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403});
        assert_eq!(
            problem_detail(403, &dup),
            "You are not allowed to create a Tweet with duplicate content."
        );
        let invalid = serde_json::json!({"errors": [{"message": "$.foo: is not defined in the schema and the schema does not allow additional properties"}], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"});
        assert!(problem_detail(400, &invalid).contains("$.foo"));
        assert_eq!(problem_detail(502, &Value::Null), "HTTP 502");
    }

    #[test]
    fn comparable_text_ignores_what_x_rewrites() {
        assert_eq!(
            comparable("新製品 & 詳細 https://example.com/a?b=1 <必見>"),
            comparable("新製品 &amp; 詳細 https://t.co/AbCdEf1234 &lt;必見&gt;")
        );
        assert_ne!(comparable("a https://example.com"), comparable("b https://example.com"));
    }

    #[test]
    fn a_failed_deletion_says_which_parts_are_already_gone() {
        let e = || PublishError::Transient("X answered 503".into());
        assert_eq!(deletion_context(e(), 1, 1), e(), "a single post needs no parts");
        assert_eq!(
            deletion_context(e(), 3, 3),
            PublishError::Transient("part 3 of 3: X answered 503".into())
        );
        assert_eq!(
            deletion_context(e(), 2, 3),
            PublishError::Transient("part 3 of 3 was deleted, but not part 2: X answered 503".into())
        );
        assert_eq!(
            deletion_context(PublishError::Permanent("no".into()), 1, 3),
            PublishError::Permanent("parts 2–3 of 3 were deleted, but not part 1: no".into())
        );
    }

    #[test]
    fn the_media_link_x_appends_is_taken_off_before_comparing() {
        let post = serde_json::json!({
            "id": "2", "text": "新しい店舗 https://t.co/AAAAAAAAAA https://t.co/BBBBBBBBBB",
            "entities": {"urls": [
                {"url": "https://t.co/AAAAAAAAAA", "expanded_url": "https://example.com/shop"},
                {"url": "https://t.co/BBBBBBBBBB", "media_key": "3_1"}
            ]}
        });
        assert_eq!(
            text_without_media_links(&post, true),
            "新しい店舗 https://t.co/AAAAAAAAAA"
        );
        // Without entities, only a post with media loses its last t.co link.
        let bare = serde_json::json!({"id": "2", "text": "写真 https://t.co/BBBBBBBBBB"});
        assert_eq!(text_without_media_links(&bare, true), "写真");
        assert_eq!(text_without_media_links(&bare, false), "写真 https://t.co/BBBBBBBBBB");
    }

    #[test]
    fn replies_are_matched_in_either_spelling_or_by_conversation() {
        let part = OutgoingPart {
            text: "二つ目".into(),
            media: vec![],
        };
        let at = Where {
            since: Utc::now(),
            after_id: Some("1"),
            reply_to: Some("1"),
            root: Some("1"),
        };
        let live =
            serde_json::json!({"id": "2", "text": "二つ目", "referenced_tweets": [{"type": "replied_to", "id": "1"}]});
        let spec =
            serde_json::json!({"id": "2", "text": "二つ目", "referenced_posts": [{"type": "replied_to", "id": "1"}]});
        let conversation = serde_json::json!({"id": "2", "text": "二つ目", "conversation_id": "1"});
        let elsewhere =
            serde_json::json!({"id": "2", "text": "二つ目", "referenced_tweets": [{"type": "replied_to", "id": "9"}]});
        let alone = serde_json::json!({"id": "2", "text": "二つ目", "conversation_id": "2"});
        assert!(same_post(&live, &part, &at));
        assert!(same_post(&spec, &part, &at));
        assert!(same_post(&conversation, &part, &at));
        assert!(!same_post(&elsewhere, &part, &at));
        assert!(!same_post(&alone, &part, &at));
    }

    #[test]
    fn account_wide_refusals_are_told_apart_from_refusals_of_one_post() {
        let read_only = serde_json::json!({"title": "Forbidden", "status": 403, "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.", "type": "https://api.twitter.com/2/problems/oauth1-permissions"});
        let why = account_wide_refusal("news", 403, &read_only).unwrap();
        assert!(why.contains("Read and write") && why.contains("x-news.json"), "{why}");
        let enrol = serde_json::json!({"title": "Client Forbidden", "reason": "client-not-enrolled", "type": "https://api.twitter.com/2/problems/client-forbidden"});
        assert!(account_wide_refusal("news", 403, &enrol).unwrap().contains("Project"));
        let dup = serde_json::json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403});
        assert_eq!(account_wide_refusal("news", 403, &dup), None);
        assert!(duplicate_content(&dup));
    }

    #[test]
    fn an_apps_spent_24_hour_limit_outlasts_a_window_with_requests_left() {
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-remaining", "99".parse().unwrap());
        h.insert("x-rate-limit-reset", "1800000900".parse().unwrap());
        h.insert("x-app-limit-24hour-remaining", "0".parse().unwrap());
        h.insert("x-app-limit-24hour-reset", "1800050000".parse().unwrap());
        assert_eq!(rate_limit_until(&h, now).timestamp(), 1_800_050_000);
        assert_eq!(exhausted_until(&h, now).map(|t| t.timestamp()), Some(1_800_050_000));
    }

    #[test]
    fn rate_limit_until_takes_the_later_reset() {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", "1800000000".parse().unwrap());
        // A fixed instant before the resets (no test depends on today's date).
        let now = Utc.timestamp_opt(1_799_999_000, 0).unwrap();
        assert_eq!(rate_limit_until(&h, now).timestamp(), 1_800_000_000);
        h.insert("x-user-limit-24hour-remaining", "0".parse().unwrap());
        h.insert("x-user-limit-24hour-reset", "1800050000".parse().unwrap());
        assert_eq!(rate_limit_until(&h, now).timestamp(), 1_800_050_000);
        assert_eq!(rate_limit_until(&HeaderMap::new(), now), now + TimeDelta::minutes(15));
    }
}
