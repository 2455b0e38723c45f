//! `herald doctor` checks what herald really keeps: the rotated X OAuth 2.0
//! tokens in `<state_dir>/x-tokens/` (private, herald's user's), and queue
//! folders the account's owners' group can write in (group write, setgid)
//! besides herald's own access.

mod admin_harness;
mod common;

use std::os::unix::fs::PermissionsExt;

use admin_harness::herald;
use common::{Env, TOKYO};
use herald::platform::x::credentials;
use serde_json::Value;

fn doctor(env: &Env) -> (i32, Value) {
    let out = herald(env, &["doctor", "--json"]);
    let v = out.json();
    (out.code, v)
}

fn checks_named(v: &Value, prefix: &str) -> Vec<Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with(prefix))
        .cloned()
        .collect()
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn rotated_token_files_must_be_private_and_herald_s() {
    let env = Env::new(TOKYO);
    let state = env.config.daemon.state_dir.clone();
    let tokens = state.join("x-tokens");
    // As herald writes them: doctor is content.
    let file = tokens.join("tokyo.json");
    credentials::write_private(&file, br#"{"refresh_token": "RT-private-value"}"#).unwrap();
    let (code, v) = doctor(&env);
    let found = checks_named(&v, "token file");
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(
        (found[0]["check"].as_str(), found[0]["status"].as_str()),
        (Some("token file tokyo.json"), Some("ok"))
    );
    assert_eq!(code, 0, "{v}");

    // Readable by others: a failure that says what to do, never the contents.
    chmod(&file, 0o644);
    let (code, v) = doctor(&env);
    let c = &checks_named(&v, "token file tokyo.json")[0];
    assert_eq!(c["status"], "fail", "{v}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("mode 644; make it private: chmod 600"),
        "{c}"
    );
    assert!(!v.to_string().contains("RT-private-value"), "{v}");
    assert_eq!((code, &v["healthy"]), (1, &Value::Bool(false)));
    chmod(&file, 0o600);

    // A leftover temporary file holds tokens too.
    let tmp = tokens.join(".tokyo.json.tmp-42");
    std::fs::write(&tmp, "{}").unwrap();
    chmod(&tmp, 0o640);
    let (_, v) = doctor(&env);
    assert_eq!(
        checks_named(&v, "token file .tokyo.json.tmp-42")[0]["status"],
        "fail",
        "{v}"
    );
    std::fs::remove_file(&tmp).unwrap();

    // Owned by someone else (root writing it by hand): herald could not read it.
    if herald::audit::current_uid() == 0 {
        std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
        let (code, v) = doctor(&env);
        let c = &checks_named(&v, "token file tokyo.json")[0];
        assert_eq!(c["status"], "fail", "{v}");
        assert!(c["detail"].as_str().unwrap().contains("not to herald's user"), "{c}");
        assert!(c["detail"].as_str().unwrap().contains("chown"), "{c}");
        assert_eq!(code, 1);
    } else {
        eprintln!("skipped the ownership case: it needs root to give a file away");
    }
}

#[test]
fn the_unused_credentials_folder_is_no_longer_checked() {
    let env = Env::new(TOKYO);
    let creds = env.config.daemon.state_dir.join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("stray"), "x").unwrap();
    chmod(&creds.join("stray"), 0o644);
    let (code, v) = doctor(&env);
    assert!(checks_named(&v, "credential file").is_empty(), "{v}");
    assert_eq!(code, 0, "{v}");
}

#[test]
fn queue_folders_need_the_owners_group_to_write_and_setgid() {
    let env = Env::new(TOKYO);
    let folder = env.folder("tokyo");
    let status = |mode: u32| {
        chmod(&folder, mode);
        let (code, v) = doctor(&env);
        let c = checks_named(&v, "queue folder tokyo")[0].clone();
        (
            code,
            c["status"].as_str().unwrap().to_string(),
            c["detail"].as_str().unwrap().to_string(),
        )
    };
    // As deploy/ sets it up: herald and the owners' group, setgid.
    let (code, s, detail) = status(0o2770);
    assert_eq!((code, s.as_str()), (0, "ok"), "{detail}");
    assert!(detail.contains("mode 2770"), "{detail}");
    // The owners cannot drop files.
    let (_, s, detail) = status(0o2750);
    assert_eq!(s, "warn");
    assert!(
        detail.contains("cannot write in it") && detail.contains("chmod g+w"),
        "{detail}"
    );
    assert!(!detail.contains("g+s"), "{detail}");
    // Group-writable but not setgid.
    let (_, s, detail) = status(0o770);
    assert_eq!(s, "warn");
    assert!(
        detail.contains("not setgid") && detail.contains("chmod g+s"),
        "{detail}"
    );
    assert!(!detail.contains("g+w"), "{detail}");
    // Owned by someone other than herald's user (the state folder's owner).
    if herald::audit::current_uid() == 0 {
        // Herald's user is the state folder's owner (the daemon creates it).
        std::fs::create_dir_all(&env.config.daemon.state_dir).unwrap();
        std::os::unix::fs::chown(&folder, Some(65534), None).unwrap();
        let (_, s, detail) = status(0o2770);
        assert_eq!(s, "warn");
        assert!(
            detail.contains("not to herald's user") && detail.contains("chown"),
            "{detail}"
        );
        std::os::unix::fs::chown(&folder, Some(0), None).unwrap();
    } else {
        eprintln!("skipped the ownership case: it needs root to give a folder away");
    }
    // Writable by everyone.
    let (_, s, detail) = status(0o2777);
    assert_eq!(s, "warn");
    assert!(detail.contains("writable by everyone"), "{detail}");
    chmod(&folder, 0o2770);
}
