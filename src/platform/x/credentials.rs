//! An X account's credentials: where the file is, how it is read (only when
//! nobody but herald's user can read it), what it holds, and how rotated
//! OAuth 2.0 tokens are written back durably.
//!
//! The file is `x-<account>.json` in systemd's `$CREDENTIALS_DIRECTORY` when
//! that is set, else in `[platforms.x] credentials_dir`. It holds either
//!
//! ```json
//! {"oauth1": {"consumer_key": "…", "consumer_secret": "…", "access_token": "…", "access_token_secret": "…"}}
//! {"oauth2": {"client_id": "…", "client_secret": null, "access_token": "…", "refresh_token": "…", "expires_at": "2026-12-01T02:00:00Z"}}
//! ```
//!
//! OAuth 2.0 refresh tokens are single-use: each refresh returns a new one,
//! which herald must keep. systemd's credential folder is read-only, so the
//! rotated tokens live in `<state_dir>/x-tokens/<account>.json` (mode 0600),
//! which remembers which credentials file it grew from: when an admin
//! re-authorizes (`herald auth x`), the new file wins.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::oauth1;
use crate::config::{Account, Config};

/// Why credentials cannot be used. Messages name files, never contents.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CredentialError {
    #[error("no credentials folder: set [platforms.x] credentials_dir in the config, or run herald under systemd with LoadCredential= (which sets $CREDENTIALS_DIRECTORY)")]
    NoFolder,
    #[error("cannot read the credentials file {path}: {why}. Put the account's keys there (see \"Connecting an X account\" in the README) or run `herald auth x ACCOUNT`.")]
    Unreadable { path: String, why: String },
    #[error("the credentials file {path} can be read by other users (mode {mode:o}); herald refuses to use it. Run `chmod 600 {path}` (and make herald's user its owner).")]
    TooOpen { path: String, mode: u32 },
    #[error("the credentials file {path} is not valid: {why}. It must hold {{\"oauth1\": {{…}}}} or {{\"oauth2\": {{…}}}}; see \"Connecting an X account\" in the README.")]
    Invalid { path: String, why: String },
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
}

/// OAuth 1.0a keys as the file spells them.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuth1Keys {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
}

impl OAuth1Keys {
    pub fn credentials(&self) -> oauth1::Credentials {
        oauth1::Credentials {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone(),
            token: self.access_token.clone(),
            token_secret: self.access_token_secret.clone(),
        }
    }
}

/// OAuth 2.0 user-context tokens.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Tokens {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token stops working; None means unknown (refresh on
    /// the first 401).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a credentials file holds.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum XCredentials {
    OAuth1(OAuth1Keys),
    OAuth2(OAuth2Tokens),
}

// Secrets must never reach a log line through `{:?}`.
impl fmt::Debug for OAuth1Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1Keys")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OAuth2Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Tokens")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for XCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XCredentials::OAuth1(k) => k.fmt(f),
            XCredentials::OAuth2(t) => t.fmt(f),
        }
    }
}

/// The folder credentials are read from: `$CREDENTIALS_DIRECTORY`, else the config's.
pub fn credentials_dir(config: &Config) -> Result<PathBuf, CredentialError> {
    match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => config.x.credentials_dir.clone().ok_or(CredentialError::NoFolder),
    }
}

/// The credentials file of an account in a folder.
pub fn credentials_file(dir: &Path, account: &str) -> PathBuf {
    dir.join(format!("x-{account}.json"))
}

/// The credentials file to read: as [`credentials_file`], or the same file
/// loaded by the unit's `LoadCredential=herald:/etc/herald/credentials`,
/// which systemd names `herald_x-<account>.json` in `$CREDENTIALS_DIRECTORY`.
pub fn credentials_file_to_read(dir: &Path, account: &str) -> PathBuf {
    let loaded = dir.join(format!("herald_x-{account}.json"));
    if loaded.is_file() {
        loaded
    } else {
        credentials_file(dir, account)
    }
}

/// Where rotated OAuth 2.0 tokens (and a "needs re-authorization" mark) are kept.
pub fn token_state_file(config: &Config, account: &Account) -> PathBuf {
    config
        .daemon
        .state_dir
        .join("x-tokens")
        .join(format!("{}.json", account.id))
}

/// The permission bits a credentials file must not have. Files that systemd
/// placed in `$CREDENTIALS_DIRECTORY` may show a group read bit: where it
/// cannot use ramfs, systemd grants the service user access with an ACL,
/// whose mask appears as the group bits (0440). That folder is private to
/// the service, so there only "others" must have no access.
fn forbidden_bits(path: &Path) -> u32 {
    forbidden_bits_with(path, std::env::var_os("CREDENTIALS_DIRECTORY").as_deref())
}

fn forbidden_bits_with(path: &Path, systemd_folder: Option<&std::ffi::OsStr>) -> u32 {
    let in_systemd_folder = systemd_folder
        .filter(|d| !d.is_empty())
        .is_some_and(|d| path.parent() == Some(Path::new(d)));
    if in_systemd_folder {
        0o007
    } else {
        0o077
    }
}

/// Reads a file only nobody but its owner can read.
pub fn read_private(path: &Path) -> Result<Vec<u8>, CredentialError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| CredentialError::Unreadable {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & forbidden_bits(path) != 0 {
        return Err(CredentialError::TooOpen { path: shown, mode });
    }
    std::fs::read(path).map_err(|e| CredentialError::Unreadable {
        path: shown,
        why: e.to_string(),
    })
}

/// Reads and parses a credentials file. Parse errors say where, never what.
pub fn read_credentials(path: &Path) -> Result<XCredentials, CredentialError> {
    let bytes = read_private(path)?;
    serde_json::from_slice(&bytes).map_err(|e| CredentialError::Invalid {
        path: path.display().to_string(),
        // serde_json's messages quote unknown field names and types, not
        // values, but only line and column are certain to be harmless.
        why: format!("line {} column {}: {}", e.line(), e.column(), classify_json_error(&e)),
    })
}

fn classify_json_error(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not well-formed JSON",
        serde_json::error::Category::Data => "a field is missing, unknown or of the wrong type",
        serde_json::error::Category::Io => "read error",
    }
}

/// Writes a file durably with mode 0600: a temporary file beside it,
/// fsync, rename over the old one, fsync the folder. A crash leaves either
/// the old or the new content, never a mix.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CredentialError> {
    let err = |e: std::io::Error| CredentialError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    // Created private; a leftover temporary file keeps its old mode, so set it.
    crate::queue::write_atomically_with(path, bytes, 0o600, |f| {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
    })
    .map_err(err)
}

/// What herald keeps of an account's OAuth 2.0 session in its state folder.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct TokenState {
    /// A hash of the refresh token of the credentials file these tokens grew
    /// from; a different file (a re-authorization) replaces them.
    pub origin: String,
    pub tokens: Option<OAuth2Tokens>,
    /// Why the account needs re-authorization, once a refresh failed.
    pub needs_reauth: Option<String>,
}

impl fmt::Debug for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenState")
            .field("tokens", &self.tokens)
            .field("needs_reauth", &self.needs_reauth)
            .finish_non_exhaustive()
    }
}

/// A short fingerprint of a token: tells tokens apart without revealing them.
pub fn fingerprint(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..8])
}

/// Reads the token state (absent → default).
pub fn read_token_state(path: &Path) -> Result<TokenState, CredentialError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenState::default()),
        _ => {}
    }
    let bytes = read_private(path)?;
    serde_json::from_slice(&bytes).map_err(|e| CredentialError::Invalid {
        path: path.display().to_string(),
        why: format!("line {} column {}: {}", e.line(), e.column(), classify_json_error(&e)),
    })
}

/// Writes the token state durably (see [`write_private`]).
pub fn write_token_state(path: &Path, state: &TokenState) -> Result<(), CredentialError> {
    let bytes = serde_json::to_vec_pretty(state).expect("token state serializes");
    write_private(path, &bytes)
}

/// The "needs re-authorization" reason recorded for an account, if any (for `herald status`).
pub fn needs_reauth(config: &Config, account: &Account) -> Option<String> {
    read_token_state(&token_state_file(config, account))
        .ok()
        .and_then(|s| s.needs_reauth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = XCredentials::OAuth2(OAuth2Tokens {
            client_id: "client".into(),
            client_secret: Some("S3CRET-client".into()),
            access_token: "S3CRET-access".into(),
            refresh_token: "S3CRET-refresh".into(),
            expires_at: None,
        });
        let shown = format!("{c:?}");
        assert!(shown.contains("client"), "{shown}");
        assert!(!shown.contains("S3CRET"), "{shown}");
        let k = XCredentials::OAuth1(OAuth1Keys {
            consumer_key: "ck".into(),
            consumer_secret: "S3CRET-cs".into(),
            access_token: "S3CRET-at".into(),
            access_token_secret: "S3CRET-ats".into(),
        });
        assert!(!format!("{k:?}").contains("S3CRET"));
    }

    #[test]
    fn a_file_readable_by_others_is_refused_and_a_private_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-a.json");
        std::fs::write(&path, br#"{"oauth1": {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "u"}}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_credentials(&path).unwrap_err();
        assert!(matches!(e, CredentialError::TooOpen { mode: 0o644, .. }), "{e}");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(read_credentials(&path).unwrap(), XCredentials::OAuth1(_)));
    }

    #[test]
    fn systemd_acl_mask_is_accepted_only_in_its_credentials_folder() {
        let systemd = std::ffi::OsStr::new("/run/credentials/herald.service");
        let loaded = Path::new("/run/credentials/herald.service/herald_x-news.json");
        // 0440 from systemd's tmpfs+ACL fallback: fine there, not elsewhere.
        assert_eq!(0o440 & forbidden_bits_with(loaded, Some(systemd)), 0);
        assert_ne!(0o444 & forbidden_bits_with(loaded, Some(systemd)), 0);
        let own = Path::new("/etc/herald/credentials/x-news.json");
        assert_ne!(0o440 & forbidden_bits_with(own, Some(systemd)), 0);
        assert_ne!(0o440 & forbidden_bits_with(loaded, None), 0);
    }

    #[test]
    fn the_name_systemd_gives_a_credential_loaded_from_a_folder_is_read_first() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            credentials_file_to_read(dir.path(), "news"),
            dir.path().join("x-news.json")
        );
        std::fs::write(dir.path().join("x-news.json"), "{}").unwrap();
        assert_eq!(
            credentials_file_to_read(dir.path(), "news"),
            dir.path().join("x-news.json")
        );
        // LoadCredential=herald:/etc/herald/credentials → herald_x-news.json
        std::fs::write(dir.path().join("herald_x-news.json"), "{}").unwrap();
        assert_eq!(
            credentials_file_to_read(dir.path(), "news"),
            dir.path().join("herald_x-news.json")
        );
    }

    #[test]
    fn invalid_files_are_explained_without_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-a.json");
        write_private(&path, br#"{"oauth2": {"client_id": "c", "access_token": "S3CRET"}}"#).unwrap();
        let e = read_credentials(&path).unwrap_err().to_string();
        assert!(e.contains("x-a.json") && e.contains("line 1"), "{e}");
        assert!(!e.contains("S3CRET"), "{e}");
    }

    #[test]
    fn write_private_replaces_atomically_with_mode_600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("t.json");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }
}
