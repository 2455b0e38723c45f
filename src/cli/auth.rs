//! `herald auth x ACCOUNT`: connects an X account with OAuth 2.0 (authorization
//! code with PKCE S256). It prints the URL the account's owner opens, reads
//! the code they paste back (or the whole redirect URL), exchanges it for
//! tokens, and writes the account's credentials file with mode 0600. Tokens
//! are never printed.
//!
//! Exit status: 0 connected, 1 X refused or the exchange failed, 3 bad
//! arguments or config.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::PlatformKind;
use crate::platform::x::credentials::{self, XCredentials};
use crate::platform::x::oauth2;

#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    /// The platform (only x for now).
    #[arg(value_name = "PLATFORM", value_parser = ["x"])]
    pub platform: String,
    /// The account id, as in the config.
    #[arg(value_name = "ACCOUNT")]
    pub account: String,
    /// The OAuth 2.0 client id of your X app [default: the one in the account's current credentials file].
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// A file holding the app's client secret (confidential clients only; omit for a public client).
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// The callback URL registered for the app in X's developer portal.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8765/callback")]
    pub redirect_uri: String,
}

pub fn run(config_path: &Path, args: AuthArgs) -> ExitCode {
    match connect(config_path, &args) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err((code, e)) => super::fail(code, &e),
    }
}

fn connect(config_path: &Path, args: &AuthArgs) -> Result<String, (u8, anyhow::Error)> {
    let bad = |e: anyhow::Error| (3u8, e);
    let config = crate::config::load(config_path).map_err(|e| bad(e.into()))?;
    let account = config.account(&args.account).ok_or_else(|| {
        bad(anyhow::anyhow!(
            "there is no account \"{}\" in {}",
            args.account,
            config.path.display()
        ))
    })?;
    if account.platform != PlatformKind::X {
        return Err(bad(anyhow::anyhow!(
            "account \"{}\" publishes to {}, not x",
            account.id,
            account.platform.name()
        )));
    }
    // systemd's credential folder is read-only: herald writes to the config's folder.
    let dir = config.x.credentials_dir.clone().ok_or_else(|| {
        bad(anyhow::anyhow!(
            "set [platforms.x] credentials_dir in {} to the folder where herald keeps X credentials (when herald runs under systemd, load the file written there with LoadCredential=)",
            config.path.display()
        ))
    })?;
    let path = credentials::credentials_file(&dir, &account.id);
    let existing = credentials::read_credentials(&path).ok();
    let client_id = match (&args.client_id, &existing) {
        (Some(id), _) => id.clone(),
        (None, Some(XCredentials::OAuth2(t))) => t.client_id.clone(),
        _ => {
            return Err(bad(anyhow::anyhow!(
                "pass --client-id (the OAuth 2.0 client id of your X app, in the developer portal under \"Keys and tokens\")"
            )))
        }
    };
    let client_secret = match &args.client_secret_file {
        Some(p) => Some(
            String::from_utf8(credentials::read_private(p).map_err(|e| bad(e.into()))?)
                .map_err(|_| bad(anyhow::anyhow!("{} is not text", p.display())))?
                .trim()
                .to_string(),
        ),
        None => match &existing {
            Some(XCredentials::OAuth2(t)) if args.client_id.is_none() => t.client_secret.clone(),
            _ => None,
        },
    };
    let pkce = oauth2::Pkce::new();
    let url = oauth2::authorize_url(&config.x.authorize_url, &client_id, &args.redirect_uri, &pkce);
    eprintln!(
        "Open this URL signed in as {} ({}), and authorize herald:\n\n  {url}\n\nX then sends the browser to {}?state=…&code=…\nPaste that whole address (or just the code) here and press Enter:",
        account.handle, account.id, args.redirect_uri
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| bad(anyhow::anyhow!("reading the code: {e}")))?;
    let code = oauth2::code_from_paste(&line, &pkce.state).map_err(|e| (1, anyhow::anyhow!(e)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.into()))?;
    let http = reqwest::Client::builder()
        .timeout(config.x.timeout)
        .build()
        .map_err(|e| (1, e.into()))?;
    let token_url = format!("{}/2/oauth2/token", config.x.api_base);
    let tokens = runtime
        .block_on(oauth2::exchange_code(
            &http,
            &token_url,
            &client_id,
            client_secret.as_deref(),
            &code,
            &args.redirect_uri,
            &pkce.verifier,
            chrono::Utc::now(),
        ))
        .map_err(|e| (1, e.into()))?;
    let bytes = serde_json::to_vec_pretty(&XCredentials::OAuth2(tokens)).expect("credentials serialize");
    credentials::write_private(&path, &bytes).map_err(|e| (1, e.into()))?;
    Ok(format!(
        "Connected: X credentials for {} written to {} (mode 0600). Restart herald (systemctl restart herald: credentials are read at start, a reload keeps the running clients) to use them; a \"needs re-authorization\" mark is lifted then.",
        account.id,
        path.display()
    ))
}
