//! OAuth 2.0 user context for X: the PKCE authorization (for `herald auth x`),
//! the code exchange, and an account's token session, which refreshes ahead
//! of expiry under a lock (two refreshes never race for one account: X's
//! refresh tokens are single-use) and persists each rotated refresh token
//! durably before the new access token is used.

use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::credentials::{self, fingerprint, OAuth2Tokens, TokenState};
use crate::platform::PublishError;
use crate::schedule::Clock;

/// The scopes herald asks for: post, read back (reconciliation, users/me),
/// upload media, and keep access (refresh tokens).
pub const SCOPES: &str = "tweet.read tweet.write users.read media.write offline.access";

/// Refresh this long before the access token expires.
pub const REFRESH_AHEAD: TimeDelta = TimeDelta::minutes(5);

/// A PKCE pair (RFC 7636) with the `state` that ties the answer to the request.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
}

fn random_urlsafe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 challenge of a verifier: BASE64URL(SHA256(verifier)).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Pkce {
    pub fn new() -> Pkce {
        // 32 random bytes → a 43-character verifier, the RFC's minimum length.
        let verifier = random_urlsafe(32);
        Pkce {
            challenge: s256(&verifier),
            verifier,
            state: random_urlsafe(16),
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::oauth1::percent_encode(k),
                super::oauth1::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The URL an owner opens to let herald act for the account.
pub fn authorize_url(authorize: &str, client_id: &str, redirect_uri: &str, pkce: &Pkce) -> String {
    format!(
        "{authorize}?{}",
        form_encode(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", SCOPES),
            ("state", &pkce.state),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
    )
}

/// Takes what the owner pasted (the code, or the whole redirect URL) and
/// returns the code, checking `state` when the URL carries one.
pub fn code_from_paste(pasted: &str, expected_state: &str) -> Result<String, String> {
    let pasted = pasted.trim();
    let Some((_, query)) = pasted.split_once('?') else {
        return if pasted.is_empty() {
            Err("nothing was pasted".into())
        } else {
            Ok(pasted.to_string())
        };
    };
    let pairs = super::oauth1::parse_form_urlencoded(query.split('#').next().unwrap_or(""))
        .map_err(|e| format!("the pasted URL cannot be read: {e}"))?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Some(err) = get("error") {
        return Err(format!("X did not authorize herald: {err}"));
    }
    if get("state").as_deref() != Some(expected_state) {
        return Err("the pasted URL belongs to another authorization (its state does not match); start again".into());
    }
    get("code").ok_or_else(|| "the pasted URL has no code".into())
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct TokenProblem {
    error: Option<String>,
    error_description: Option<String>,
}

/// Why a token request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    /// X refused the grant (used or revoked refresh token, bad code): only a
    /// new authorization helps.
    #[error("X refused the token request: {0}")]
    Refused(String),
    /// The request did not get an answer worth trusting; try later.
    #[error("the token request failed: {0}")]
    Transient(String),
}

/// POSTs a grant to the token endpoint (confidential clients authenticate
/// with HTTP Basic, public ones send `client_id`).
async fn token_request(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: Option<&str>,
    grant: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<OAuth2Tokens, TokenError> {
    let mut pairs = grant.to_vec();
    pairs.push(("client_id", client_id));
    let mut req = http
        .post(token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_encode(&pairs));
    if let Some(secret) = client_secret {
        req = req.basic_auth(client_id, Some(secret));
    }
    let resp = req
        .send()
        .await
        .map_err(|e| TokenError::Transient(super::client::describe_reqwest(&e)))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| TokenError::Transient(super::client::describe_reqwest(&e)))?;
    if status.is_success() {
        let a: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| TokenError::Transient("the token endpoint answered something that is not a token".into()))?;
        let refresh = a.refresh_token.ok_or_else(|| {
            TokenError::Refused("X sent no refresh token; was the offline.access scope granted?".into())
        })?;
        return Ok(OAuth2Tokens {
            client_id: client_id.to_string(),
            client_secret: client_secret.map(String::from),
            access_token: a.access_token,
            refresh_token: refresh,
            expires_at: a.expires_in.map(|s| now + TimeDelta::seconds(s)),
        });
    }
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(TokenError::Transient(format!("the token endpoint answered {status}")));
    }
    let why = serde_json::from_slice::<TokenProblem>(&body)
        .ok()
        .map(|p| {
            format!(
                "{}{}",
                p.error.unwrap_or_else(|| status.to_string()),
                p.error_description.map(|d| format!(": {d}")).unwrap_or_default()
            )
        })
        .unwrap_or_else(|| status.to_string());
    Err(TokenError::Refused(why))
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
#[allow(clippy::too_many_arguments)]
pub async fn exchange_code(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: Option<&str>,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<OAuth2Tokens, TokenError> {
    token_request(
        http,
        token_url,
        client_id,
        client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
        now,
    )
    .await
}

/// One account's OAuth 2.0 session.
pub struct Session {
    account: String,
    token_url: String,
    state_path: PathBuf,
    origin: String,
    clock: Arc<dyn Clock>,
    /// The lock that serialises refreshes: held across the token request and
    /// the write of the rotated token.
    inner: tokio::sync::Mutex<TokenState>,
}

impl Session {
    /// Starts from the token state in the state folder, unless the
    /// credentials file is a newer authorization than what it grew from.
    pub fn open(
        account: &str,
        token_url: String,
        from_file: OAuth2Tokens,
        state_path: PathBuf,
        clock: Arc<dyn Clock>,
    ) -> Result<Session, credentials::CredentialError> {
        let origin = fingerprint(&from_file.refresh_token);
        let mut state = credentials::read_token_state(&state_path)?;
        if state.origin != origin || state.tokens.is_none() {
            state = TokenState {
                origin: origin.clone(),
                tokens: Some(from_file),
                needs_reauth: None,
            };
            // A new authorization: forget the old session (and its "needs
            // re-authorization" mark) on disk too.
            credentials::write_token_state(&state_path, &state)?;
        }
        Ok(Session {
            account: account.to_string(),
            token_url,
            state_path,
            origin,
            clock,
            inner: tokio::sync::Mutex::new(state),
        })
    }

    /// Whether a failed refresh left the account needing re-authorization.
    pub async fn needs_reauth(&self) -> Option<String> {
        self.inner.lock().await.needs_reauth.clone()
    }

    /// A usable access token, refreshed first when it expires within
    /// [`REFRESH_AHEAD`].
    pub async fn access_token(&self, http: &reqwest::Client) -> Result<String, PublishError> {
        let mut state = self.inner.lock().await;
        if let Some(why) = &state.needs_reauth {
            return Err(PublishError::NeedsReauth(why.clone()));
        }
        let tokens = state.tokens.as_ref().expect("set on open");
        let now = self.clock.now();
        if tokens.expires_at.is_some_and(|at| at - REFRESH_AHEAD <= now) {
            self.refresh_locked(http, &mut state).await?;
        }
        Ok(state.tokens.as_ref().expect("set on open").access_token.clone())
    }

    /// X said 401 to `used`: refresh once, unless another request already did.
    pub async fn refresh_after_401(&self, http: &reqwest::Client, used: &str) -> Result<String, PublishError> {
        let mut state = self.inner.lock().await;
        if let Some(why) = &state.needs_reauth {
            return Err(PublishError::NeedsReauth(why.clone()));
        }
        if state.tokens.as_ref().is_some_and(|t| t.access_token != used) {
            return Ok(state.tokens.as_ref().expect("checked").access_token.clone());
        }
        self.refresh_locked(http, &mut state).await?;
        Ok(state.tokens.as_ref().expect("set").access_token.clone())
    }

    /// Marks the account as needing re-authorization (a 401 after a fresh token).
    pub async fn mark_needs_reauth(&self, why: &str) {
        let mut state = self.inner.lock().await;
        state.needs_reauth = Some(why.to_string());
        let path = self.state_path.clone();
        let to_write = state.clone();
        match tokio::task::spawn_blocking(move || credentials::write_token_state(&path, &to_write)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(account = %self.account, "cannot record that the account needs re-authorization: {e}")
            }
            Err(e) => tracing::error!(account = %self.account, "the write of the re-authorization mark failed: {e}"),
        }
    }

    async fn refresh_locked(&self, http: &reqwest::Client, state: &mut TokenState) -> Result<(), PublishError> {
        let old = state.tokens.clone().expect("set on open");
        tracing::info!(account = %self.account, "refreshing the X access token");
        match token_request(
            http,
            &self.token_url,
            &old.client_id,
            old.client_secret.as_deref(),
            &[("grant_type", "refresh_token"), ("refresh_token", &old.refresh_token)],
            self.clock.now(),
        )
        .await
        {
            Ok(new) => {
                let next = TokenState {
                    origin: self.origin.clone(),
                    tokens: Some(new),
                    needs_reauth: None,
                };
                // The old refresh token is spent: the new one must be on disk
                // before anything uses the new access token.
                let path = self.state_path.clone();
                let to_write = next.clone();
                tokio::task::spawn_blocking(move || credentials::write_token_state(&path, &to_write))
                    .await
                    .map_err(|e| PublishError::Transient(format!("the token write did not finish: {e}")))?
                    .map_err(|e| {
                        // Without the new refresh token on disk a restart
                        // could not refresh again: stop here, loudly.
                        PublishError::NeedsReauth(format!(
                            "X rotated the refresh token but herald could not save it ({e}); run `herald auth x {}`",
                            self.account
                        ))
                    })?;
                *state = next;
                tracing::info!(account = %self.account, "X access token refreshed; the rotated refresh token is saved");
                Ok(())
            }
            Err(TokenError::Refused(why)) => {
                let reason = format!(
                    "refreshing the X token failed ({why}); run `herald auth x {}` to authorize herald again",
                    self.account
                );
                state.needs_reauth = Some(reason.clone());
                let path = self.state_path.clone();
                let to_write = state.clone();
                let _ = tokio::task::spawn_blocking(move || credentials::write_token_state(&path, &to_write)).await;
                tracing::error!(account = %self.account, "{reason}");
                Err(PublishError::NeedsReauth(reason))
            }
            Err(TokenError::Transient(why)) => Err(PublishError::Transient(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_carries_pkce_and_scopes() {
        let p = Pkce::new();
        let url = authorize_url(
            "https://x.com/i/oauth2/authorize",
            "cid",
            "http://127.0.0.1:8765/callback",
            &p,
        );
        assert!(url.contains("code_challenge_method=S256"));
        assert!(url.contains(&format!("code_challenge={}", p.challenge)));
        assert!(url.contains("scope=tweet.read%20tweet.write%20users.read%20media.write%20offline.access"));
        assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback"));
    }

    #[test]
    fn pasted_code_or_redirect_url() {
        assert_eq!(code_from_paste("  abc \n", "s").unwrap(), "abc");
        assert_eq!(
            code_from_paste("http://127.0.0.1:8765/callback?state=s&code=xyz", "s").unwrap(),
            "xyz"
        );
        assert!(code_from_paste("http://127.0.0.1:8765/callback?state=other&code=xyz", "s").is_err());
        assert!(code_from_paste("http://127.0.0.1:8765/callback?error=access_denied&state=s", "s").is_err());
    }
}
