//! Faithful fake platform servers for the integration tests (DESIGN.md,
//! "Tests"). A test includes them with `mod fake;` (and `mod common;`, whose
//! `Env` the X helpers below build on).
#![allow(dead_code)]

pub mod http;
pub mod schema;
pub mod x;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use crate::common::Env;

/// An installation whose accounts publish to `fake`: `accounts` is TOML for
/// `[[account]]` entries with `platform = "x"`; `[platforms.x]` points at the
/// fake, with a short timeout so injected delays cost little.
pub fn x_env(fake_base: &str, accounts: &str) -> Env {
    let text = format!(
        "[platforms.x]\napi_base = \"{fake_base}\"\ncredentials_dir = \"credentials\"\ntimeout = \"700ms\"\nmax_poll_wait = \"10ms\"\n{accounts}"
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
