//! Faithful fake platform servers for the integration tests (DESIGN.md,
//! "Tests"). A test includes them with `mod fake;` (and `mod common;`, whose
//! `Env` the X setup in `setup.rs` builds on).
#![allow(dead_code)]

pub mod http;
pub mod length;
pub mod oauth1;
pub mod schema;
pub mod x;

mod setup;

#[allow(unused_imports)] // each test binary uses only some of them
pub use setup::{news_on_x, outgoing, token_state_of, write_credentials, x_accounts, x_client, x_env, x_setup, NEWS};
