//! A faithful fake of X API v2 for what herald uses, on 127.0.0.1 at a
//! random port. It checks what X checks — OAuth 1.0a signatures (with our
//! verifier) and bearer tokens, bodies against X's OpenAPI description
//! (unknown fields are 400), the 280 weighted length, duplicate text per
//! account, reply targets, media states — and answers with X's statuses,
//! headers (`x-rate-limit-*`, `x-user-limit-24hour-*`) and bodies. Tests can
//! inject faults: 5xx, an answer delayed past the client's timeout, a dropped
//! connection, and an answer lost after the post was made.
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
/// X's answer to a post over 280 weighted characters.
pub const TOO_LONG_DETAIL: &str = "Your Tweet text is too long. For more information on how Twitter determines text length, see https://github.com/twitter/twitter-text.";
/// X's answer to a used or unknown refresh token.
pub const INVALID_TOKEN_DESCRIPTION: &str = "Value passed for the token was invalid.";
/// The OAuth 2.0 client the fake knows (a public client: no secret).
pub const CLIENT_ID: &str = "herald-test-client";

/// Posts per 15-minute window on POST /2/tweets (X's per-user limit).
pub const TWEETS_PER_WINDOW: i64 = 100;
/// Posts per 24 hours per user.
pub const TWEETS_PER_DAY: i64 = 1667;

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
    pub status: u16,
    /// The Authorization header, so tests can check what went over the wire.
    pub authorization: String,
    pub body: String,
}

struct User {
    id: String,
    username: String,
    oauth1: Option<oauth1::Credentials>,
}

struct State {
    clock: Arc<dyn Clock>,
    port: u16,
    users: Vec<User>,
    access: HashMap<String, (String, DateTime<Utc>)>,
    refresh: HashMap<String, String>,
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
        let id = self.add_user(username, None);
        let mut s = self.lock();
        let (access, refresh, expires) = issue(&mut s, &id);
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
        for (_, exp) in s.access.values_mut() {
            *exp = past;
        }
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
}

fn issue(s: &mut State, user: &str) -> (String, String, DateTime<Utc>) {
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
    s.access.insert(access.clone(), (user.to_string(), expires));
    s.refresh.insert(refresh.clone(), user.to_string());
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
            Ok(user) => limited(s, route, &user, req),
        }
    };
    match fault {
        Some(Fault::Delay(wait)) => Reply::After(wait, response),
        Some(Fault::LoseResponse) => Reply::Drop,
        _ => Reply::Send(response),
    }
}

/// Who the request acts for, from its OAuth 1.0a signature or bearer token.
fn authenticate(s: &mut State, req: &Request) -> Result<String, Response> {
    let header = req.header("authorization").ok_or_else(unauthorized)?;
    if let Some(token) = header.strip_prefix("Bearer ") {
        let (user, expires) = s.access.get(token).cloned().ok_or_else(unauthorized)?;
        if expires <= s.clock.now() {
            return Err(unauthorized());
        }
        return Ok(user);
    }
    let params = oauth1::parse_authorization_header(header).map_err(|_| unauthorized())?;
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
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
        oauth1::parse_form_urlencoded(&String::from_utf8_lossy(&req.body)).map_err(|_| unauthorized())?
    } else {
        Vec::new()
    };
    oauth1::verify(&creds, &req.method, &url, &form, header).map_err(|_| unauthorized())?;
    // X refuses timestamps far from its clock and replayed nonces.
    let ts: i64 = get("oauth_timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    if (ts - oauth1::unix_timestamp() as i64).abs() > 300 {
        return Err(unauthorized());
    }
    let nonce = get("oauth_nonce").unwrap_or_default();
    if !s.nonces.insert(format!("{ts}:{nonce}")) {
        return Err(unauthorized());
    }
    Ok(user.id.clone())
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
    let with_headers = |r: Response, left: i64, day_left: i64| {
        let r = r
            .with_header("x-rate-limit-limit", limit)
            .with_header("x-rate-limit-remaining", left.max(0))
            .with_header("x-rate-limit-reset", epoch(reset));
        if daily {
            r.with_header("x-user-limit-24hour-limit", TWEETS_PER_DAY)
                .with_header("x-user-limit-24hour-remaining", day_left.max(0))
                .with_header("x-user-limit-24hour-reset", epoch(day_reset))
        } else {
            r
        }
    };
    if left <= 0 || (daily && day_left <= 0) {
        return with_headers(problem(429, "Too Many Requests", "Too Many Requests"), left, day_left);
    }
    let key = (user.to_string(), route.to_string());
    s.windows.get_mut(&key).expect("inserted").0 -= 1;
    if daily {
        s.daily.get_mut(user).expect("inserted").0 -= 1;
    }
    let r = route_request(s, route, user, req);
    with_headers(r, left - 1, day_left - 1)
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
    let measured = herald::platform::x::length::weighted_length(&text);
    if measured.weighted > herald::platform::x::length::X_MAX_WEIGHTED_LENGTH {
        return Err(problem(403, "Forbidden", TOO_LONG_DETAIL));
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
        if !s.posts.iter().any(|p| &p.id == target && !p.deleted) {
            return Err(problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            ));
        }
    }
    if s.posts.iter().any(|p| p.author == user && !p.deleted && p.text == text) {
        return Err(problem(403, "Forbidden", DUPLICATE_DETAIL));
    }
    let id = next_id(s);
    s.posts.push(Post {
        id: id.clone(),
        author: user.to_string(),
        text: text.clone(),
        in_reply_to,
        media_ids,
        created_at: s.clock.now(),
        deleted: false,
    });
    Ok(Response::json(
        201,
        &json!({"data": {"id": id, "text": display_text(&text), "edit_history_post_ids": [id]}}),
    ))
}

/// A post's text as X's API shows it: NFC, every URL a t.co link, and `&`,
/// `<`, `>` escaped as HTML entities.
pub fn display_text(text: &str) -> String {
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let measured = herald::platform::x::length::weighted_length(text);
    let mut out = String::new();
    let mut at = 0;
    for url in &measured.urls {
        out.push_str(&escape(&measured.normalized[at..url.start]));
        let slug = URL_SAFE_NO_PAD.encode(Sha256::digest(measured.normalized[url.clone()].as_bytes()));
        out.push_str(&format!("https://t.co/{}", &slug[..10]));
        at = url.end;
    }
    out.push_str(&escape(&measured.normalized[at..]));
    out
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
    let fields = req.query_param("tweet.fields").unwrap_or_default();
    let fields: Vec<&str> = fields.split(',').collect();
    let mut list: Vec<&Post> = s
        .posts
        .iter()
        .filter(|p| p.author == id && !p.deleted && start.is_none_or(|t| p.created_at >= t))
        .collect();
    list.reverse();
    list.truncate(max);
    let data: Vec<Value> = list
        .iter()
        .map(|p| {
            let mut v = json!({"id": p.id, "text": display_text(&p.text), "edit_history_tweet_ids": [p.id]});
            if fields.contains(&"created_at") {
                v["created_at"] = json!(p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            if fields.contains(&"referenced_tweets") {
                if let Some(r) = &p.in_reply_to {
                    v["referenced_tweets"] = json!([{"type": "replied_to", "id": r}]);
                }
            }
            v
        })
        .collect();
    let mut meta = json!({"result_count": data.len()});
    if let (Some(first), Some(last)) = (list.first(), list.last()) {
        meta["newest_id"] = json!(first.id);
        meta["oldest_id"] = json!(last.id);
    }
    let mut out = json!({"meta": meta});
    if !data.is_empty() {
        out["data"] = json!(data);
    }
    Ok(Response::json(200, &out))
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
    let form = oauth1::parse_form_urlencoded(&String::from_utf8_lossy(&req.body)).unwrap_or_default();
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if get("client_id").as_deref() != Some(CLIENT_ID) {
        return Response::json(
            401,
            &json!({"error": "unauthorized_client", "error_description": "Missing valid authorization header"}),
        );
    }
    let user = match get("grant_type").as_deref() {
        Some("refresh_token") => {
            let Some(user) = get("refresh_token").and_then(|t| s.refresh.remove(&t)) else {
                return token_error(INVALID_TOKEN_DESCRIPTION);
            };
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
    let (access, refresh, _) = issue(s, &user);
    Response::json(
        200,
        &json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": access,
            "scope": "tweet.write users.read tweet.read offline.access media.write",
            "refresh_token": refresh
        }),
    )
}
