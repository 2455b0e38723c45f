//! Platform tokens as the unit hands them over: `LoadCredential=herald:
//! /etc/herald/credentials` puts `x-news.json` into `$CREDENTIALS_DIRECTORY`
//! as `herald_x-news.json`, mode 0400. The daemon publishes with it, against
//! the faithful fake X server. (One test per binary: it sets the process's
//! environment.)

mod common;
mod fake;

use std::os::unix::fs::PermissionsExt;

use common::utc;
use fake::{x_setup, NEWS};
use herald::store::State;

#[tokio::test]
async fn an_x_account_publishes_with_the_credential_systemd_loaded() {
    let (env, fake) = x_setup(NEWS).await;
    let (user, creds) = fake.add_oauth1_user("news");
    // Nothing in the config's credentials_dir: only systemd's copy exists.
    let loaded = env.dir.path().join("run-credentials-herald.service");
    std::fs::create_dir_all(&loaded).unwrap();
    let path = loaded.join("herald_x-news.json");
    std::fs::write(&path, serde_json::to_vec(&creds).unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::env::set_var("CREDENTIALS_DIRECTORY", &loaded);

    env.drop_post("news", "hello.json", r#"{"text": "認証情報はsystemdから"}"#);
    let summary = env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(summary.published, 1);
    let posts = fake.posts(&user);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].text, "認証情報はsystemdから");
    assert_eq!(env.delivery_of("hello.json")[0].state, State::Published);
}
