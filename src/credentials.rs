//! Platform tokens, as systemd hands them over: credentials.
//!
//! The unit loads every file of `/etc/herald/credentials/` with
//! `LoadCredential=herald:/etc/herald/credentials`, so the file
//! `/etc/herald/credentials/<account id>` becomes the credential
//! `herald_<account id>` in `$CREDENTIALS_DIRECTORY` (a private, read-only,
//! non-swappable mount only the service can read). Outside systemd, point
//! `$CREDENTIALS_DIRECTORY` at a folder holding `<account id>` files.
//!
//! What a credential file contains is the platform client's business (the
//! X client defines its own fields); this module only finds and reads it,
//! and keeps it out of logs: [`Secret`] prints as `<redacted>`.

use std::path::{Path, PathBuf};

/// The credential id prefix the unit's `LoadCredential=herald:…` gives.
pub const PREFIX: &str = "herald_";

/// A credential's bytes; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("account \"{account}\" has no credential: neither {PREFIX}{account} nor {account} is in {dir}. Put its tokens in /etc/herald/credentials/{account} (mode 0600, owner root) and restart herald (systemctl restart herald): credentials are loaded at start.", dir = dir.display())]
    Missing { account: String, dir: PathBuf },
    #[error("account \"{account}\" needs a credential, but herald runs without $CREDENTIALS_DIRECTORY. Under systemd the unit sets it (LoadCredential=); in a terminal, set CREDENTIALS_DIRECTORY to a folder holding a file named {account}.")]
    NoDirectory { account: String },
    #[error("cannot read the credential {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
}

/// Where an account's credential is in `dir`, if it is there.
pub fn locate(dir: &Path, account: &str) -> Option<PathBuf> {
    [format!("{PREFIX}{account}"), account.to_string()]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

/// Reads an account's credential from `dir` (`$CREDENTIALS_DIRECTORY`).
pub fn read_from(dir: Option<&Path>, account: &str) -> Result<Secret, CredentialError> {
    let Some(dir) = dir else {
        return Err(CredentialError::NoDirectory {
            account: account.to_string(),
        });
    };
    let path = locate(dir, account).ok_or_else(|| CredentialError::Missing {
        account: account.to_string(),
        dir: dir.to_path_buf(),
    })?;
    std::fs::read(&path)
        .map(Secret)
        .map_err(|source| CredentialError::Unreadable { path, source })
}

/// Reads an account's credential from `$CREDENTIALS_DIRECTORY`.
pub fn read(account: &str) -> Result<Secret, CredentialError> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    read_from(dir.as_deref(), account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systemd_name_comes_first_then_the_plain_file_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokyo"), "plain").unwrap();
        assert_eq!(read_from(Some(dir.path()), "tokyo").unwrap().expose(), b"plain");
        std::fs::write(dir.path().join("herald_tokyo"), "loaded").unwrap();
        assert_eq!(read_from(Some(dir.path()), "tokyo").unwrap().expose(), b"loaded");
    }

    #[test]
    fn a_missing_credential_says_where_to_put_it_and_never_prints_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_from(Some(dir.path()), "osaka").unwrap_err().to_string();
        assert!(err.contains("/etc/herald/credentials/osaka"), "{err}");
        assert!(err.contains("systemctl restart herald"), "{err}");
        let err = read_from(None, "osaka").unwrap_err().to_string();
        assert!(err.contains("CREDENTIALS_DIRECTORY"), "{err}");
        std::fs::write(dir.path().join("osaka"), "token-123").unwrap();
        let secret = read_from(Some(dir.path()), "osaka").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }
}
