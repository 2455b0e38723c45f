//! The setup the X tests share: an installation pointed at the fake X
//! server (one manual clock for both), the usual `news` account, its
//! credentials file and token state, and herald's client for it.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use herald::platform::x::{credentials, XClient};
use herald::platform::{Outgoing, OutgoingPart};

use super::x;
use crate::common::Env;

/// One X account, `news` (@news, Hanako's, in Tokyo), the one most X tests
/// publish to.
pub const NEWS: &str = r#"
[[account]]
id = "news"
platform = "x"
handle = "@news"
owner = "Hanako"
time_zone = "Asia/Tokyo"
"#;

/// `[[account]]` entries for X accounts in Tokyo, each `(id, owner)` with
/// the handle `@id`; `x_accounts(&[("news", "Hanako")])` is [`NEWS`].
pub fn x_accounts(accounts: &[(&str, &str)]) -> String {
    accounts
        .iter()
        .map(|(id, owner)| {
            format!("\n[[account]]\nid = \"{id}\"\nplatform = \"x\"\nhandle = \"@{id}\"\nowner = \"{owner}\"\ntime_zone = \"Asia/Tokyo\"\n")
        })
        .collect()
}

/// The most common start of an X test: the `news` account ([`NEWS`]) on a
/// fresh fake, connected with OAuth 1.0a keys. Returns its X user id.
pub async fn news_on_x() -> (Env, x::FakeX, String) {
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) = fake.add_oauth1_user("news");
    write_credentials(&env, "news", &creds);
    (env, fake, user)
}

/// An installation whose accounts publish to `fake`: `accounts` is TOML for
/// `[[account]]` entries with `platform = "x"`; `[platforms.x]` points at the
/// fake, with a short timeout so injected delays cost little.
pub fn x_env(fake_base: &str, accounts: &str) -> Env {
    let text = format!(
        "[platforms.x]\napi_base = \"{fake_base}\"\ncredentials_dir = \"credentials\"\ntimeout = \"700ms\"\nmax_poll_wait = \"10ms\"\nsettle_wait = \"5ms\"\n{accounts}"
    );
    Env::new(&text)
}

/// Writes an account's credentials file (mode 0600) where herald looks.
pub fn write_credentials(env: &Env, account: &str, json: &serde_json::Value) {
    let dir = env.dir.path().join("credentials");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("x-{account}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A fake X server and an installation pointed at it, sharing one manual clock.
pub async fn x_setup(accounts: &str) -> (Env, x::FakeX) {
    let clock = herald::schedule::ManualClock::new(crate::common::utc("2026-12-01T00:00:00Z"));
    let fake = x::FakeX::start(Arc::new(clock.clone())).await;
    let mut env = x_env(&fake.base, accounts);
    env.clock = clock;
    (env, fake)
}

/// The OAuth 2.0 tokens herald keeps for `account` (after a refresh).
pub fn token_state_of(env: &Env, account: &str) -> credentials::TokenState {
    let account = &env.config.accounts[account];
    credentials::read_token_state(&credentials::token_state_file(&env.config, account)).unwrap()
}

/// herald's X client for `account`, on the installation's clock.
pub fn x_client(env: &Env, account: &str) -> XClient {
    XClient::connect(&env.config, &env.config.accounts[account], Arc::new(env.clock.clone())).unwrap()
}

/// What the daemon hands a platform for a text-only post (a thread when
/// `texts` has more than one part), nothing published yet.
pub fn outgoing(account: &str, delivery_id: &str, texts: &[&str]) -> Outgoing {
    Outgoing {
        account: account.into(),
        delivery_id: delivery_id.into(),
        idempotency_key: delivery_id.into(),
        parts: texts
            .iter()
            .map(|t| OutgoingPart {
                text: t.to_string(),
                media: vec![],
            })
            .collect(),
        done: vec![],
        unsure_since: None,
        unsure_after_id: None,
    }
}
