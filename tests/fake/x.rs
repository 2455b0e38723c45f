//! A faithful fake of X API v2 for what herald uses, on 127.0.0.1 at a
//! random port. It checks what X checks — OAuth 1.0a signatures (with its
//! own verifier, `fake::oauth1`) and bearer tokens with their scopes, app
//! permissions and enrolment, bodies against X's OpenAPI description
//! (unknown fields are 400), the 280 weighted length (its own count,
//! `fake::length`), duplicate text among the account's recent posts, reply
//! targets, media states — and answers with X's statuses, headers
//! (`x-rate-limit-*`, `x-user-limit-24hour-*`, `x-app-limit-24hour-*`) and
//! problem bodies. Tests can inject faults (5xx, an answer delayed past the
//! client's timeout, a dropped connection, an answer lost or a 5xx after the
//! post was made) and switch X's behaviours ([`Quirks`]: the media t.co link
//! in returned text, reply and timeline lag, a timeline the access level
//! cannot read, the OpenAPI spelling `referenced_posts`, usage caps).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use herald::platform::x::oauth1;
use herald::schedule::Clock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::http::{self, Reply, Request, Response};
use super::schema;

/// X's answer to a second post with the same text.
pub const DUPLICATE_DETAIL: &str = "You are not allowed to create a Tweet with duplicate content.";
/// X's answer to a post over 280 weighted characters (a 400, as tweepy
/// users report: "400 Bad Request\nYour Tweet text is too long…").
pub const TOO_LONG_DETAIL: &str = "Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.";
/// X's answer to a reply whose parent it cannot see (yet).
pub const NOT_VISIBLE_DETAIL: &str = "You attempted to reply to a Tweet that is deleted or not visible to you.";
/// X's answer to a used or unknown refresh token.
pub const INVALID_TOKEN_DESCRIPTION: &str = "Value passed for the token was invalid.";
/// The OAuth 2.0 client the fake knows (a public client: no secret).
pub const CLIENT_ID: &str = "herald-test-client";
/// A confidential OAuth 2.0 client: it authenticates with HTTP Basic.
pub const CONFIDENTIAL_CLIENT_ID: &str = "herald-confidential-client";
pub const CONFIDENTIAL_CLIENT_SECRET: &str = "cc-SECRET-7f8e9d";

/// Posts per 15-minute window on POST /2/tweets (X's per-user limit).
pub const TWEETS_PER_WINDOW: i64 = 100;
/// Posts per 24 hours per user.
pub const TWEETS_PER_DAY: i64 = 1667;
/// Posts per 24 hours per app, all its users together.
pub const APP_TWEETS_PER_DAY: i64 = 10_000;

/// A fault for the next request to a route.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this 5xx status; nothing is done.
    Status(u16),
    /// Do the work, but answer only after this long (past the client's timeout).
    Delay(Duration),
    /// Do nothing, and answer 503 after this long.
    Stall(Duration),
    /// Close the connection without doing anything.
    Drop,
    /// Do the work, then close the connection without answering.
    LoseResponse,
    /// Do the work, then answer with this 5xx status (X's front end failed
    /// after the post was made).
    DoThenStatus(u16),
}

/// X's behaviours the tests switch on or off; the defaults are what X does.
#[derive(Debug, Clone)]
pub struct Quirks {
    /// A post with media shows its text with the media's t.co link
    /// appended (and an `entities.urls` entry with a `media_key`).
    pub media_links: bool,
    /// A new post is invisible to the next this-many replies to it
    /// (403 [`NOT_VISIBLE_DETAIL`]): X is eventually consistent.
    pub reply_blind_for: u32,
    /// A new post is missing from the next this-many timeline reads.
    pub timeline_hides_new_for: u32,
    /// The timeline answers 403 `client-forbidden` (an access level that
    /// may post but not read).
    pub timeline_forbidden: bool,
    /// The timeline answers with the OpenAPI description's spelling
    /// (`referenced_posts`) instead of the live `referenced_tweets`.
    pub referenced_posts: bool,
    /// How far back "duplicate content" looks.
    pub duplicate_window: TimeDelta,
    /// Every request answers 429 `usage-capped` for this period ("Monthly",
    /// "Daily"), with `x-rate-limit-remaining` still high.
    pub usage_capped: Option<String>,
}

impl Default for Quirks {
    fn default() -> Quirks {
        Quirks {
            media_links: true,
            reply_blind_for: 0,
            timeline_hides_new_for: 0,
            timeline_forbidden: false,
            referenced_posts: false,
            duplicate_window: TimeDelta::hours(24),
            usage_capped: None,
        }
    }
}

/// What the developer portal says of a user's app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// Read and write, attached to a Project: X's normal answers.
    ReadWrite,
    /// Read-only permissions: writes answer 403 `oauth1-permissions`.
    ReadOnly,
    /// Not attached to a Project: every v2 request answers 403
    /// `client-forbidden` / `client-not-enrolled`.
    NotEnrolled,
}

#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub author: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    pub media_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
    /// Replies refused before this post is visible to them.
    pub reply_blind: u32,
    /// Timeline reads that do not show it yet.
    pub hidden_reads: u32,
}

#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub owner: String,
    pub category: String,
    pub media_type: Option<String>,
    pub total_bytes: Option<usize>,
    pub received: usize,
    pub segments: HashSet<u64>,
    pub finalized: bool,
    pub polls_left: u32,
    pub fail: bool,
    pub alt: Option<String>,
}

impl Media {
    fn ready(&self) -> bool {
        self.finalized && self.polls_left == 0 && !self.fail
    }
}

/// One request as the fake saw it, for assertions.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub status: u16,
    /// The Authorization header, so tests can check what went over the wire.
    pub authorization: String,
    pub body: String,
}

struct User {
    id: String,
    username: String,
    oauth1: Option<oauth1::Credentials>,
    app: App,
}

/// What an OAuth 2.0 access token stands for.
#[derive(Clone)]
struct Access {
    user: String,
    expires: DateTime<Utc>,
    scopes: Vec<String>,
    /// An app-only bearer token: no user context.
    app_only: bool,
}

/// The scopes a token gets unless a test says otherwise.
pub const ALL_SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
];

struct State {
    clock: Arc<dyn Clock>,
    port: u16,
    users: Vec<User>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, (String, Vec<String>)>,
    quirks: Quirks,
    /// The app's posts left today and when that resets (`x-app-limit-24hour-*`).
    app_daily: Option<(i64, DateTime<Utc>)>,
    codes: HashMap<String, (String, String, String)>,
    posts: Vec<Post>,
    media: HashMap<String, Media>,
    next_id: u64,
    /// (route, matching requests to let through first, fault)
    faults: Vec<(String, usize, Fault)>,
    forced_429: Vec<(String, String, DateTime<Utc>)>,
    windows: HashMap<(String, String), (i64, DateTime<Utc>)>,
    daily: HashMap<String, (i64, DateTime<Utc>)>,
    nonces: HashSet<String>,
    seen: Vec<Seen>,
    token_requests: usize,
    /// Token requests a confidential client authenticated with HTTP Basic.
    basic_token_requests: usize,
    processing_polls: u32,
    fail_processing: bool,
    issued: u64,
}

/// The running fake. Stops when dropped.
pub struct FakeX {
    pub base: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeX {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    Response::problem(
        status,
        &json!({"title": title, "detail": detail, "type": "about:blank", "status": status}),
    )
}

fn invalid_request(messages: &[String]) -> Response {
    Response::problem(
        400,
        &json!({
            "errors": messages.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        }),
    )
}

fn unauthorized() -> Response {
    problem(401, "Unauthorized", "Unauthorized")
}

fn not_found(kind: &str, id: &str) -> Response {
    Response::problem(
        404,
        &json!({
            "title": "Not Found Error",
            "detail": format!("Could not find {kind} with id: [{id}]."),
            "type": "https://api.x.com/2/problems/resource-not-found",
            "resource_type": kind,
            "resource_id": id,
            "status": 404
        }),
    )
}

/// Replaces ids in a path by `:id`, for matching faults and limits.
fn route_of(method: &str, path: &str) -> String {
    let parts: Vec<String> = path
        .split('/')
        .map(|p| {
            // Ids are long numbers; the API version ("2") is not one.
            if p.len() > 2 && p.bytes().all(|b| b.is_ascii_digit()) {
                ":id".to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    format!("{method} {}", parts.join("/"))
}

impl FakeX {
    /// Starts the fake; its notion of time (token expiry, rate-limit
    /// windows, `created_at`) is `clock`, the test's manual clock.
    pub async fn start(clock: Arc<dyn Clock>) -> FakeX {
        let state = Arc::new(Mutex::new(State {
            clock,
            port: 0,
            users: Vec::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            quirks: Quirks::default(),
            app_daily: None,
            codes: HashMap::new(),
            posts: Vec::new(),
            media: HashMap::new(),
            next_id: 1_861_000_000_000_000_000,
            faults: Vec::new(),
            forced_429: Vec::new(),
            windows: HashMap::new(),
            daily: HashMap::new(),
            nonces: HashSet::new(),
            seen: Vec::new(),
            token_requests: 0,
            basic_token_requests: 0,
            processing_polls: 2,
            fail_processing: false,
            issued: 0,
        }));
        let shared = state.clone();
        let (port, task) = http::serve(Arc::new(move |req| handle(&shared, req))).await;
        state.lock().unwrap().port = port;
        FakeX {
            base: format!("http://127.0.0.1:{port}"),
            state,
            task,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn add_user(&self, username: &str, oauth1: Option<oauth1::Credentials>) -> String {
        let mut s = self.lock();
        let id = format!("{}", 1_500_000_000_000_000_000u64 + s.users.len() as u64 + 1);
        s.users.push(User {
            id: id.clone(),
            username: username.to_string(),
            oauth1,
            app: App::ReadWrite,
        });
        id
    }

    /// A user with OAuth 1.0a keys; returns its id and the credentials file's JSON.
    pub fn add_oauth1_user(&self, username: &str) -> (String, Value) {
        let creds = oauth1::Credentials {
            consumer_key: format!("ck-{username}"),
            consumer_secret: format!("cs-SECRET-{username}-0a1b2c"),
            token: format!("1500-at-{username}"),
            token_secret: format!("ats-SECRET-{username}-3d4e5f"),
        };
        let file = json!({"oauth1": {
            "consumer_key": creds.consumer_key,
            "consumer_secret": creds.consumer_secret,
            "access_token": creds.token,
            "access_token_secret": creds.token_secret,
        }});
        (self.add_user(username, Some(creds)), file)
    }

    /// A user authorized with OAuth 2.0; returns its id and the credentials
    /// file's JSON (an access token valid two hours on the fake's clock).
    pub fn add_oauth2_user(&self, username: &str) -> (String, Value) {
        self.add_oauth2_user_with_scopes(username, ALL_SCOPES)
    }

    /// As [`FakeX::add_oauth2_user`], with the token granted only `scopes`.
    pub fn add_oauth2_user_with_scopes(&self, username: &str, scopes: &[&str]) -> (String, Value) {
        let id = self.add_user(username, None);
        let mut s = self.lock();
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (access, refresh, expires) = issue(&mut s, &id, &scopes);
        let file = json!({"oauth2": {
            "client_id": CLIENT_ID,
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": expires.to_rfc3339(),
        }});
        (id, file)
    }

    /// Registers an authorization the owner granted in the browser; returns the code.
    pub fn grant_code(&self, user_id: &str, code_challenge: &str, redirect_uri: &str) -> String {
        let mut s = self.lock();
        s.issued += 1;
        let code = format!("code-{}", s.issued);
        s.codes.insert(
            code.clone(),
            (
                user_id.to_string(),
                code_challenge.to_string(),
                redirect_uri.to_string(),
            ),
        );
        code
    }

    /// Makes every access token expired (as two hours passing would).
    pub fn expire_access_tokens(&self) {
        let mut s = self.lock();
        let past = s.clock.now() - TimeDelta::seconds(1);
        for a in s.access.values_mut() {
            a.expires = past;
        }
    }

    /// An app-only bearer token (OAuth 2.0 Application-Only, no user
    /// context) for the app of `user_id`, as the developer portal shows it.
    pub fn app_only_token(&self, user_id: &str) -> String {
        let mut s = self.lock();
        s.issued += 1;
        let token = format!("AAAAAAAAAAAAAAAAAAAAA-app-{}", s.issued);
        let expires = s.clock.now() + TimeDelta::days(365);
        s.access.insert(
            token.clone(),
            Access {
                user: user_id.to_string(),
                expires,
                scopes: Vec::new(),
                app_only: true,
            },
        );
        token
    }

    /// Makes a post visible to the next `n`-th reply only (0: at once).
    pub fn set_reply_blind(&self, post_id: &str, n: u32) {
        let mut s = self.lock();
        if let Some(p) = s.posts.iter_mut().find(|p| p.id == post_id) {
            p.reply_blind = n;
        }
    }

    /// Changes what X's behaviours are for the rest of the test.
    pub fn set_quirks(&self, change: impl FnOnce(&mut Quirks)) {
        change(&mut self.lock().quirks);
    }

    /// Sets the permissions and enrolment of a user's app.
    pub fn set_app(&self, user_id: &str, app: App) {
        let mut s = self.lock();
        if let Some(u) = s.users.iter_mut().find(|u| u.id == user_id) {
            u.app = app;
        }
    }

    /// Sets how many posts the app (every user) has left today: the
    /// `x-app-limit-24hour-*` headers, reset at `reset`.
    pub fn set_app_daily_remaining(&self, left: i64, reset: DateTime<Utc>) {
        self.lock().app_daily = Some((left, reset));
    }

    /// How many times `route` was asked by anyone (e.g. "POST /2/media/upload").
    pub fn requests_to(&self, route: &str) -> usize {
        self.lock()
            .seen
            .iter()
            .filter(|r| route_of(&r.method, &r.path) == route)
            .count()
    }

    /// The next request to `route` (e.g. "POST /2/tweets") meets `fault`.
    pub fn inject(&self, route: &str, fault: Fault) {
        self.inject_after(route, 0, fault);
    }

    /// The request to `route` after `skip` others meets `fault` (part two of a thread: skip 1).
    pub fn inject_after(&self, route: &str, skip: usize, fault: Fault) {
        self.lock().faults.push((route.to_string(), skip, fault));
    }

    /// The next request of `user_id` to `route` gets a 429 until `reset`.
    pub fn rate_limit_next(&self, user_id: &str, route: &str, reset: DateTime<Utc>) {
        self.lock()
            .forced_429
            .push((user_id.to_string(), route.to_string(), reset));
    }

    /// Sets how many requests of `user_id` to `route` are left in the current window.
    pub fn set_remaining(&self, user_id: &str, route: &str, left: i64) {
        let mut s = self.lock();
        let reset = s.clock.now() + TimeDelta::minutes(15);
        s.windows
            .insert((user_id.to_string(), route.to_string()), (left, reset));
    }

    /// Sets how many posts `user_id` has left today (the 24-hour user limit).
    pub fn set_daily_remaining(&self, user_id: &str, left: i64) {
        let mut s = self.lock();
        let reset = s.clock.now() + TimeDelta::hours(24);
        s.daily.insert(user_id.to_string(), (left, reset));
    }

    /// How many STATUS polls a video or GIF needs before it is processed.
    pub fn set_processing_polls(&self, n: u32) {
        self.lock().processing_polls = n;
    }

    pub fn fail_processing(&self) {
        self.lock().fail_processing = true;
    }

    /// The user's live posts, oldest first.
    pub fn posts(&self, user_id: &str) -> Vec<Post> {
        self.lock()
            .posts
            .iter()
            .filter(|p| p.author == user_id && !p.deleted)
            .cloned()
            .collect()
    }

    pub fn media(&self, id: &str) -> Option<Media> {
        self.lock().media.get(id).cloned()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    /// Token requests a confidential client made with HTTP Basic.
    pub fn basic_token_requests(&self) -> usize {
        self.lock().basic_token_requests
    }
}

fn issue(s: &mut State, user: &str, scopes: &[String]) -> (String, String, DateTime<Utc>) {
    s.issued += 1;
    let n = s.issued;
    let access = format!(
        "AT-{n}-{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(format!("a{n}{user}")))
    );
    let refresh = format!(
        "RT-{n}-{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(format!("r{n}{user}")))
    );
    let expires = s.clock.now() + TimeDelta::hours(2);
    s.access.insert(
        access.clone(),
        Access {
            user: user.to_string(),
            expires,
            scopes: scopes.to_vec(),
            app_only: false,
        },
    );
    s.refresh.insert(refresh.clone(), (user.to_string(), scopes.to_vec()));
    (access, refresh, expires)
}

fn handle(state: &Arc<Mutex<State>>, req: Request) -> Reply {
    let mut s = state.lock().unwrap();
    let route = route_of(&req.method, &req.path);
    let authorization = req.header("authorization").unwrap_or("").to_string();
    let reply = answer(&mut s, &route, &req);
    let status = match &reply {
        Reply::Send(r) | Reply::After(_, r) => r.status,
        Reply::Drop => 0,
    };
    s.seen.push(Seen {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status,
        authorization,
        body: String::from_utf8_lossy(&req.body).into_owned(),
    });
    reply
}

fn answer(s: &mut State, route: &str, req: &Request) -> Reply {
    // Faults first: they model the network and X's front end.
    let mut fault = None;
    if let Some(i) = s.faults.iter().position(|(r, _, _)| r == route) {
        if s.faults[i].1 == 0 {
            fault = Some(s.faults.remove(i).2);
        } else {
            s.faults[i].1 -= 1;
        }
    }
    match fault {
        Some(Fault::Status(code)) => {
            let title = match code {
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                504 => "Gateway Timeout",
                _ => "Service Unavailable",
            };
            return Reply::Send(problem(code, title, title));
        }
        Some(Fault::Stall(wait)) => {
            return Reply::After(wait, problem(503, "Service Unavailable", "Service Unavailable"));
        }
        Some(Fault::Drop) => return Reply::Drop,
        _ => {}
    }
    let response = if route == "POST /2/oauth2/token" {
        token(s, req)
    } else {
        match authenticate(s, req) {
            Err(r) => r,
            Ok(caller) => match permitted(s, route, &caller) {
                Err(r) => r,
                Ok(()) => limited(s, route, &caller.user, req),
            },
        }
    };
    match fault {
        Some(Fault::Delay(wait)) => Reply::After(wait, response),
        Some(Fault::LoseResponse) => Reply::Drop,
        Some(Fault::DoThenStatus(code)) => Reply::Send(problem(code, "Service Unavailable", "Service Unavailable")),
        _ => Reply::Send(response),
    }
}

/// Who a request acts for, and with what rights.
struct Caller {
    user: String,
    /// An OAuth 2.0 token's scopes; None under OAuth 1.0a (the app's
    /// permissions decide).
    scopes: Option<Vec<String>>,
    app_only: bool,
}

/// Who the request acts for, from its OAuth 1.0a signature or bearer token.
fn authenticate(s: &mut State, req: &Request) -> Result<Caller, Response> {
    let header = req.header("authorization").ok_or_else(unauthorized)?;
    if let Some(token) = header.strip_prefix("Bearer ") {
        let access = s.access.get(token).cloned().ok_or_else(unauthorized)?;
        if access.expires <= s.clock.now() {
            return Err(unauthorized());
        }
        return Ok(Caller {
            user: access.user,
            scopes: Some(access.scopes),
            app_only: access.app_only,
        });
    }
    let params = super::oauth1::header_params(header).ok_or_else(unauthorized)?;
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if get("oauth_signature_method").as_deref() != Some("HMAC-SHA1")
        || get("oauth_version").is_some_and(|v| v != "1.0")
        || get("oauth_nonce").is_none()
    {
        return Err(unauthorized());
    }
    let key = get("oauth_consumer_key").unwrap_or_default();
    let token = get("oauth_token").unwrap_or_default();
    let user = s
        .users
        .iter()
        .find(|u| {
            u.oauth1
                .as_ref()
                .is_some_and(|c| c.consumer_key == key && c.token == token)
        })
        .ok_or_else(unauthorized)?;
    let creds = user.oauth1.clone().expect("found by its keys");
    let url = if req.query.is_empty() {
        format!("http://127.0.0.1:{}{}", s.port, req.path)
    } else {
        format!("http://127.0.0.1:{}{}?{}", s.port, req.path, req.query)
    };
    let form = if req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        String::from_utf8_lossy(&req.body).into_owned()
    } else {
        String::new()
    };
    let expected = super::oauth1::expected_signature(
        &req.method,
        &url,
        &form,
        &params,
        &creds.consumer_secret,
        &creds.token_secret,
    );
    if get("oauth_signature").as_deref() != Some(expected.as_str()) {
        return Err(unauthorized());
    }
    // X refuses timestamps far from its clock and replayed nonces.
    let ts: i64 = get("oauth_timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    if (ts - Utc::now().timestamp()).abs() > 300 {
        return Err(unauthorized());
    }
    let nonce = get("oauth_nonce").unwrap_or_default();
    if !s.nonces.insert(format!("{ts}:{nonce}")) {
        return Err(unauthorized());
    }
    Ok(Caller {
        user: user.id.clone(),
        scopes: None,
        app_only: false,
    })
}

/// X's 403 for an app not attached to a Project (or whose access level
/// does not include the endpoint).
fn client_forbidden() -> Response {
    Response::problem(
        403,
        &json!({
            "client_id": "28391634",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.",
            "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": "https://api.twitter.com/2/problems/client-forbidden"
        }),
    )
}

/// What X refuses before it looks at the request: the app's enrolment and
/// permissions, the kind of token, its scopes, the project's usage cap.
fn permitted(s: &State, route: &str, caller: &Caller) -> Result<(), Response> {
    let app = s
        .users
        .iter()
        .find(|u| u.id == caller.user)
        .map_or(App::ReadWrite, |u| u.app);
    if app == App::NotEnrolled || (route == "GET /2/users/:id/tweets" && s.quirks.timeline_forbidden) {
        return Err(client_forbidden());
    }
    if let Some(period) = &s.quirks.usage_capped {
        let reset = epoch(s.clock.now() + TimeDelta::minutes(15));
        return Err(Response::problem(
            429,
            &json!({
                "account_id": 1_700_000_001u64,
                "product_name": "standard-basic",
                "title": "UsageCapExceeded",
                "period": period,
                "scope": "Product",
                "detail": format!("Usage cap exceeded: {period} product cap"),
                "type": "https://api.twitter.com/2/problems/usage-capped"
            }),
        )
        .with_header("x-rate-limit-limit", 100)
        .with_header("x-rate-limit-remaining", 99)
        .with_header("x-rate-limit-reset", reset));
    }
    let writes = !route.starts_with("GET ");
    if caller.app_only && (writes || route == "GET /2/users/me") {
        return Err(Response::problem(
            403,
            &json!({
                "title": "Unsupported Authentication",
                "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "type": "https://api.twitter.com/2/problems/unsupported-authentication",
                "status": 403
            }),
        ));
    }
    if app == App::ReadOnly && writes && caller.scopes.is_none() {
        return Err(Response::problem(
            403,
            &json!({
                "title": "Forbidden",
                "status": 403,
                "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.",
                "type": "https://api.twitter.com/2/problems/oauth1-permissions"
            }),
        ));
    }
    if let Some(scopes) = &caller.scopes {
        let needed: &[&str] = match route {
            "POST /2/tweets" | "DELETE /2/tweets/:id" => &["tweet.read", "tweet.write", "users.read"],
            r if r.contains("/2/media/") || r.ends_with("/2/media/upload") => &["media.write"],
            "GET /2/users/me" => &["tweet.read", "users.read"],
            "GET /2/users/:id/tweets" => &["tweet.read", "users.read"],
            _ => &[],
        };
        if needed.iter().any(|n| !scopes.iter().any(|s| s == n)) {
            return Err(problem(403, "Forbidden", "Forbidden"));
        }
    }
    Ok(())
}

fn epoch(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Applies X's rate limits to a user's request and adds the headers.
fn limited(s: &mut State, route: &str, user: &str, req: &Request) -> Response {
    let now = s.clock.now();
    let (limit, window) = match route {
        "POST /2/tweets" => (TWEETS_PER_WINDOW, TimeDelta::minutes(15)),
        "DELETE /2/tweets/:id" => (50, TimeDelta::minutes(15)),
        "GET /2/users/me" => (75, TimeDelta::minutes(15)),
        "GET /2/users/:id/tweets" => (900, TimeDelta::minutes(15)),
        _ => (500, TimeDelta::minutes(15)),
    };
    if let Some(i) = s.forced_429.iter().position(|(u, r, _)| u == user && r == route) {
        let (_, _, reset) = s.forced_429.remove(i);
        s.windows.insert((user.to_string(), route.to_string()), (0, reset));
    }
    let key = (user.to_string(), route.to_string());
    let entry = s.windows.entry(key).or_insert((limit, now + window));
    if entry.1 <= now {
        *entry = (limit, now + window);
    }
    let (left, reset) = *entry;
    let daily = route == "POST /2/tweets";
    let (day_left, day_reset) = if daily {
        let d = s
            .daily
            .entry(user.to_string())
            .or_insert((TWEETS_PER_DAY, now + TimeDelta::hours(24)));
        if d.1 <= now {
            *d = (TWEETS_PER_DAY, now + TimeDelta::hours(24));
        }
        *d
    } else {
        (0, now)
    };
    // The app's own 24-hour limit on posts, shared by all its users.
    let app = if daily {
        s.app_daily.map(|(left, reset)| {
            if reset <= now {
                (APP_TWEETS_PER_DAY, now + TimeDelta::hours(24))
            } else {
                (left, reset)
            }
        })
    } else {
        None
    };
    let with_headers = |r: Response, left: i64, day_left: i64, app_left: i64| {
        let mut r = r
            .with_header("x-rate-limit-limit", limit)
            .with_header("x-rate-limit-remaining", left.max(0))
            .with_header("x-rate-limit-reset", epoch(reset));
        if daily {
            r = r
                .with_header("x-user-limit-24hour-limit", TWEETS_PER_DAY)
                .with_header("x-user-limit-24hour-remaining", day_left.max(0))
                .with_header("x-user-limit-24hour-reset", epoch(day_reset));
        }
        if let Some((_, app_reset)) = app {
            r = r
                .with_header("x-app-limit-24hour-limit", APP_TWEETS_PER_DAY)
                .with_header("x-app-limit-24hour-remaining", app_left.max(0))
                .with_header("x-app-limit-24hour-reset", epoch(app_reset));
        }
        r
    };
    let app_left = app.map_or(1, |(left, _)| left);
    if left <= 0 || (daily && day_left <= 0) || app_left <= 0 {
        return with_headers(
            problem(429, "Too Many Requests", "Too Many Requests"),
            left,
            day_left,
            app_left,
        );
    }
    let key = (user.to_string(), route.to_string());
    s.windows.get_mut(&key).expect("inserted").0 -= 1;
    if daily {
        s.daily.get_mut(user).expect("inserted").0 -= 1;
    }
    if let Some((left, reset)) = app {
        s.app_daily = Some((left - 1, reset));
    }
    let r = route_request(s, route, user, req);
    with_headers(r, left - 1, day_left - 1, app_left - 1)
}

fn json_body(req: &Request, path: &str, method: &str) -> Result<Value, Response> {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err(invalid_request(&["Content-Type must be application/json".into()]));
    }
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|e| invalid_request(&[format!("Request body is not valid JSON: {e}")]))?;
    let errors = schema::validate(&body, schema::request_schema(path, method));
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(invalid_request(&errors))
    }
}

fn next_id(s: &mut State) -> String {
    s.next_id += 1;
    s.next_id.to_string()
}

fn route_request(s: &mut State, route: &str, user: &str, req: &Request) -> Response {
    let result = match route {
        "POST /2/tweets" => create_post(s, user, req),
        "GET /2/users/me" => {
            let u = s.users.iter().find(|u| u.id == user).expect("authenticated");
            Ok(Response::json(
                200,
                &json!({"data": {"id": u.id, "name": u.username, "username": u.username}}),
            ))
        }
        "GET /2/users/:id/tweets" => timeline(s, req),
        "DELETE /2/tweets/:id" => delete_post(s, user, req),
        "POST /2/media/upload" => simple_upload(s, user, req),
        "GET /2/media/upload" => media_status(s, user, req),
        "POST /2/media/upload/initialize" => initialize(s, user, req),
        "POST /2/media/upload/:id/append" => append(s, user, req),
        "POST /2/media/upload/:id/finalize" => finalize(s, user, req),
        "POST /2/media/metadata" => metadata(s, user, req),
        _ => Err(Response::problem(
            404,
            &json!({"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}),
        )),
    };
    result.unwrap_or_else(|r| r)
}

fn create_post(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let body = json_body(req, "/2/tweets", "post")?;
    let text = body["text"].as_str().unwrap_or("").to_string();
    let media_ids: Vec<String> = body["media"]["media_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    if text.is_empty() && media_ids.is_empty() {
        return Err(invalid_request(&["text: Post text or media is required.".into()]));
    }
    // The fake's own count (`fake::length`), never herald's.
    if super::length::weighted_length(&text) > super::length::LIMIT {
        return Err(problem(400, "Bad Request", TOO_LONG_DETAIL));
    }
    for id in &media_ids {
        match s.media.get(id) {
            Some(m) if m.owner == user && m.ready() => {}
            _ => {
                return Err(invalid_request(&[format!(
                    "media.media_ids: Your media IDs are invalid: [{id}]."
                )]))
            }
        }
    }
    let in_reply_to = body["reply"]["in_reply_to_tweet_id"].as_str().map(String::from);
    if let Some(target) = &in_reply_to {
        match s.posts.iter_mut().find(|p| &p.id == target && !p.deleted) {
            None => return Err(problem(403, "Forbidden", NOT_VISIBLE_DETAIL)),
            // X is eventually consistent: a post just made is not yet
            // visible to a reply.
            Some(parent) if parent.reply_blind > 0 => {
                parent.reply_blind -= 1;
                return Err(problem(403, "Forbidden", NOT_VISIBLE_DETAIL));
            }
            Some(_) => {}
        }
    }
    // "Duplicate content" looks at the account's recent posts, not forever.
    let recent = s.clock.now() - s.quirks.duplicate_window;
    if s.posts
        .iter()
        .any(|p| p.author == user && !p.deleted && p.text == text && p.created_at >= recent)
    {
        return Err(problem(403, "Forbidden", DUPLICATE_DETAIL));
    }
    let id = next_id(s);
    let post = Post {
        id: id.clone(),
        author: user.to_string(),
        text: text.clone(),
        in_reply_to,
        media_ids,
        created_at: s.clock.now(),
        deleted: false,
        reply_blind: s.quirks.reply_blind_for,
        hidden_reads: s.quirks.timeline_hides_new_for,
    };
    let shown = shown_text(s, &post);
    s.posts.push(post);
    Ok(Response::json(
        201,
        &json!({"data": {"id": id, "text": shown, "edit_history_post_ids": [id]}}),
    ))
}

/// The t.co link X gives a post's media (one for all of them), and the
/// `entities.urls` entry that says so.
fn media_link(s: &State, p: &Post) -> Option<(String, Value)> {
    let first = p.media_ids.first()?;
    let username = s
        .users
        .iter()
        .find(|u| u.id == p.author)
        .map_or("i", |u| u.username.as_str());
    let slug = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("media {}", p.id).as_bytes()));
    let url = format!("https://t.co/{}", &slug[..10]);
    let key = match s.media.get(first).map(|m| m.category.as_str()) {
        Some("tweet_image") => format!("3_{first}"),
        _ => format!("7_{first}"),
    };
    let entity = json!({
        "url": url,
        "expanded_url": format!("https://x.com/{username}/status/{}/photo/1", p.id),
        "display_url": format!("pic.x.com/{}", &slug[..10]),
        "media_key": key
    });
    Some((url, entity))
}

/// A post's text as X shows it: [`display_text`], plus the media's t.co
/// link when the post has media (and the quirk is on).
fn shown_text(s: &State, p: &Post) -> String {
    let text = display_text(&p.text);
    match media_link(s, p).filter(|_| s.quirks.media_links) {
        Some((url, _)) if text.is_empty() => url,
        Some((url, _)) => format!("{text} {url}"),
        None => text,
    }
}

/// A post's text as X's API shows it: NFC, every URL a t.co link, and `&`,
/// `<`, `>` escaped as HTML entities.
pub fn display_text(text: &str) -> String {
    displayed(text).0
}

/// The `entities.urls` entries of the URLs a text contains, as X gives them.
fn display_entities(text: &str) -> Vec<Value> {
    displayed(text).1
}

/// A text as X shows it, and the entities of its t.co links (start and end
/// in characters of the shown text).
fn displayed(text: &str) -> (String, Vec<Value>) {
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let (normalized, urls) = super::length::urls(text);
    let mut out = String::new();
    let mut entities = Vec::new();
    let mut at = 0;
    for url in &urls {
        out.push_str(&escape(&normalized[at..url.start]));
        let original = &normalized[url.clone()];
        let slug = URL_SAFE_NO_PAD.encode(Sha256::digest(original.as_bytes()));
        let link = format!("https://t.co/{}", &slug[..10]);
        let start = out.chars().count();
        out.push_str(&link);
        entities.push(json!({
            "start": start,
            "end": start + link.chars().count(),
            "url": link,
            "expanded_url": original,
            "display_url": original.trim_start_matches("https://").trim_start_matches("http://")
        }));
        at = url.end;
    }
    out.push_str(&escape(&normalized[at..]));
    (out, entities)
}

fn timeline(s: &mut State, req: &Request) -> Result<Response, Response> {
    let id = req.path.split('/').nth(3).unwrap_or_default().to_string();
    if !s.users.iter().any(|u| u.id == id) {
        return Err(not_found("user", &id));
    }
    let max: usize = match req.query_param("max_results") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (5..=100).contains(&n) => n,
            _ => {
                return Err(invalid_request(&[format!(
                    "The `max_results` query parameter value [{v}] is not between 5 and 100"
                )]))
            }
        },
        None => 10,
    };
    let start = match req.query_param("start_time") {
        Some(v) => Some(
            DateTime::parse_from_rfc3339(&v)
                .map_err(|_| invalid_request(&[format!("Invalid 'start_time':'{v}'.")]))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let since_id: Option<u64> = match req.query_param("since_id") {
        Some(v) => Some(
            v.parse()
                .map_err(|_| invalid_request(&[format!("The `since_id` query parameter value [{v}] is not valid")]))?,
        ),
        None => None,
    };
    // The live API takes `tweet.fields`; the OpenAPI description (2.167)
    // names it `post.fields`. Either asks for the same fields.
    let fields = req
        .query_param("tweet.fields")
        .or_else(|| req.query_param("post.fields"))
        .unwrap_or_default();
    let fields: Vec<&str> = fields.split(',').collect();
    let wants = |f: &str| fields.contains(&f) || (f == "referenced_tweets" && fields.contains(&"referenced_posts"));
    let mut shown = Vec::new();
    for p in s.posts.iter_mut().rev() {
        let in_range = p.author == id
            && !p.deleted
            && start.is_none_or(|t| p.created_at >= t)
            && since_id.is_none_or(|since| p.id.parse::<u64>().is_ok_and(|n| n > since));
        if !in_range {
            continue;
        }
        // X's timeline lags behind its posts.
        if p.hidden_reads > 0 {
            p.hidden_reads -= 1;
            continue;
        }
        shown.push(p.clone());
    }
    shown.truncate(max);
    let data: Vec<Value> = shown
        .iter()
        .map(|p| {
            let mut v = json!({"id": p.id, "text": shown_text(s, p), "edit_history_tweet_ids": [p.id]});
            if wants("created_at") {
                v["created_at"] = json!(p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            if wants("conversation_id") {
                v["conversation_id"] = json!(conversation_of(s, p));
            }
            if wants("referenced_tweets") {
                if let Some(r) = &p.in_reply_to {
                    let spelling = if s.quirks.referenced_posts {
                        "referenced_posts"
                    } else {
                        "referenced_tweets"
                    };
                    v[spelling] = json!([{"type": "replied_to", "id": r}]);
                }
            }
            if wants("entities") {
                let mut urls = display_entities(&p.text);
                if let Some((_, entity)) = media_link(s, p).filter(|_| s.quirks.media_links) {
                    urls.push(entity);
                }
                if !urls.is_empty() {
                    v["entities"] = json!({ "urls": urls });
                }
            }
            v
        })
        .collect();
    let mut meta = json!({"result_count": data.len()});
    if let (Some(first), Some(last)) = (shown.first(), shown.last()) {
        meta["newest_id"] = json!(first.id);
        meta["oldest_id"] = json!(last.id);
    }
    let mut out = json!({"meta": meta});
    if !data.is_empty() {
        out["data"] = json!(data);
    }
    Ok(Response::json(200, &out))
}

/// The first post of the thread a post belongs to.
fn conversation_of(s: &State, p: &Post) -> String {
    let mut at = p;
    while let Some(parent) = at
        .in_reply_to
        .as_ref()
        .and_then(|r| s.posts.iter().find(|q| &q.id == r))
    {
        at = parent;
    }
    at.id.clone()
}

fn delete_post(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let id = req.path.rsplit('/').next().unwrap_or_default().to_string();
    match s.posts.iter_mut().find(|p| p.id == id && !p.deleted) {
        None => Err(not_found("tweet", &id)),
        Some(p) if p.author != user => Err(problem(
            403,
            "Forbidden",
            "You are not authorized to delete this Tweet.",
        )),
        Some(p) => {
            p.deleted = true;
            Ok(Response::json(200, &json!({"data": {"deleted": true}})))
        }
    }
}

fn decode_media(v: &Value) -> Result<Vec<u8>, Response> {
    BASE64
        .decode(v.as_str().unwrap_or(""))
        .map_err(|_| invalid_request(&["media: is not valid base64".into()]))
}

fn simple_upload(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let body = json_body(req, "/2/media/upload", "post")?;
    let bytes = decode_media(&body["media"])?;
    let category = body["media_category"].as_str().unwrap_or_default().to_string();
    if category != "tweet_image" && category != "dm_image" {
        return Err(invalid_request(&[format!(
            "media_category: {category} must be uploaded with the chunked upload (initialize, append, finalize)"
        )]));
    }
    let id = next_id(s);
    s.media.insert(
        id.clone(),
        Media {
            id: id.clone(),
            owner: user.to_string(),
            category,
            media_type: None,
            total_bytes: Some(bytes.len()),
            received: bytes.len(),
            segments: HashSet::from([0]),
            finalized: true,
            polls_left: 0,
            fail: false,
            alt: None,
        },
    );
    Ok(Response::json(
        200,
        &json!({"data": {"id": id, "media_key": format!("3_{id}"), "size": bytes.len(), "expires_after_secs": 86400}}),
    ))
}

fn owned_media<'a>(s: &'a mut State, user: &str, id: &str) -> Result<&'a mut Media, Response> {
    match s.media.get_mut(id) {
        Some(m) if m.owner == user => Ok(m),
        _ => Err(not_found("media", id)),
    }
}

fn initialize(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let body = json_body(req, "/2/media/upload/initialize", "post")?;
    let (Some(total), Some(media_type)) = (body["total_bytes"].as_u64(), body["media_type"].as_str()) else {
        return Err(invalid_request(&["total_bytes and media_type are required".into()]));
    };
    let id = next_id(s);
    let polls = s.processing_polls;
    let fail = s.fail_processing;
    s.media.insert(
        id.clone(),
        Media {
            id: id.clone(),
            owner: user.to_string(),
            category: body["media_category"].as_str().unwrap_or("tweet_video").to_string(),
            media_type: Some(media_type.to_string()),
            total_bytes: Some(total as usize),
            received: 0,
            segments: HashSet::new(),
            finalized: false,
            polls_left: polls,
            fail,
            alt: None,
        },
    );
    Ok(Response::json(
        200,
        &json!({"data": {"id": id, "media_key": format!("7_{id}"), "expires_after_secs": 86400}}),
    ))
}

fn append(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let id = req.path.split('/').nth(4).unwrap_or_default().to_string();
    let body = json_body(req, "/2/media/upload/{id}/append", "post")?;
    let bytes = decode_media(&body["media"])?;
    let index = body["segment_index"].as_u64().unwrap_or(0);
    let expires = epoch(s.clock.now() + TimeDelta::hours(24));
    let m = owned_media(s, user, &id)?;
    if m.finalized {
        return Err(invalid_request(&["The media upload was already finalized".into()]));
    }
    if m.segments.insert(index) {
        m.received += bytes.len();
    }
    Ok(Response::json(200, &json!({"data": {"expires_at": expires}})))
}

fn processing_info(m: &Media) -> Value {
    if m.fail && m.polls_left == 0 {
        json!({"state": "failed", "progress_percent": 100})
    } else if m.polls_left == 0 {
        json!({"state": "succeeded", "progress_percent": 100})
    } else if m.finalized {
        json!({"state": "in_progress", "check_after_secs": 1, "progress_percent": 50})
    } else {
        json!({"state": "pending", "check_after_secs": 1})
    }
}

fn finalize(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let id = req.path.split('/').nth(4).unwrap_or_default().to_string();
    let m = owned_media(s, user, &id)?;
    if Some(m.received) != m.total_bytes {
        return Err(invalid_request(&[
            "Segments do not add up to provided total file size.".into(),
        ]));
    }
    m.finalized = true;
    let mut data = json!({"id": id, "media_key": format!("7_{id}"), "size": m.received, "expires_after_secs": 86400});
    if m.polls_left > 0 || m.fail {
        data["processing_info"] = json!({"state": "pending", "check_after_secs": 1});
    }
    Ok(Response::json(200, &json!({ "data": data })))
}

fn media_status(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    if req.query_param("command").as_deref() != Some("STATUS") {
        return Err(invalid_request(&["command: must be STATUS".into()]));
    }
    let id = req.query_param("media_id").unwrap_or_default();
    let m = owned_media(s, user, &id)?;
    if !m.finalized {
        return Err(invalid_request(&["The media upload has not been finalized".into()]));
    }
    m.polls_left = m.polls_left.saturating_sub(1);
    let info = processing_info(m);
    Ok(Response::json(
        200,
        &json!({"data": {"id": id, "media_key": format!("7_{id}"), "processing_info": info}}),
    ))
}

fn metadata(s: &mut State, user: &str, req: &Request) -> Result<Response, Response> {
    let body = json_body(req, "/2/media/metadata", "post")?;
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let alt = body["metadata"]["alt_text"]["text"].as_str().map(String::from);
    let m = owned_media(s, user, &id)?;
    m.alt = alt.clone();
    Ok(Response::json(
        200,
        &json!({"data": {"id": id, "associated_metadata": {"alt_text": {"text": alt}}}}),
    ))
}

fn token_error(description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": "invalid_request", "error_description": description}),
    )
}

/// POST /2/oauth2/token: authorization codes (with PKCE) and single-use,
/// rotating refresh tokens.
fn token(s: &mut State, req: &Request) -> Response {
    s.token_requests += 1;
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return token_error("Missing required parameter [grant_type].");
    }
    let form = http::parse_form(&String::from_utf8_lossy(&req.body));
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    // A confidential client proves itself with HTTP Basic (id:secret); a
    // public one names itself in the form and has no secret.
    let basic = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| BASE64.decode(b.trim()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let client_ok = match &basic {
        Some(pair) => pair == &format!("{CONFIDENTIAL_CLIENT_ID}:{CONFIDENTIAL_CLIENT_SECRET}"),
        None => get("client_id").as_deref() == Some(CLIENT_ID),
    };
    if !client_ok {
        return Response::json(
            401,
            &json!({"error": "unauthorized_client", "error_description": "Missing valid authorization header"}),
        );
    }
    if basic.is_some() {
        s.basic_token_requests += 1;
    }
    let mut scopes: Vec<String> = ALL_SCOPES.iter().map(|s| s.to_string()).collect();
    let user = match get("grant_type").as_deref() {
        Some("refresh_token") => {
            let Some((user, granted)) = get("refresh_token").and_then(|t| s.refresh.remove(&t)) else {
                return token_error(INVALID_TOKEN_DESCRIPTION);
            };
            scopes = granted;
            user
        }
        Some("authorization_code") => {
            let Some((user, challenge, redirect)) = get("code").and_then(|c| s.codes.remove(&c)) else {
                return token_error(INVALID_TOKEN_DESCRIPTION);
            };
            let verifier = get("code_verifier").unwrap_or_default();
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge
                || get("redirect_uri").as_deref() != Some(redirect.as_str())
            {
                return token_error(INVALID_TOKEN_DESCRIPTION);
            }
            user
        }
        _ => return token_error("Missing required parameter [grant_type]."),
    };
    let (access, refresh, _) = issue(s, &user, &scopes);
    Response::json(
        200,
        &json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": access,
            "scope": scopes.join(" "),
            "refresh_token": refresh
        }),
    )
}
