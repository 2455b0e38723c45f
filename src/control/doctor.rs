//! `herald doctor`: checks an installation the way an admin would before
//! trusting it with a crisis — the config, the queue folders (herald's and
//! the owners' group's access), the store, the credentials and the rotated
//! X tokens (private, herald's), the tokens for the next day's posts, the
//! clock, the socket.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use chrono::TimeDelta;
use serde_json::{json, Value};

use super::admin::Context;
use crate::config::PlatformKind;
use crate::platform;
use crate::store::State;

fn check(name: &str, status: &str, detail: impl Into<String>) -> Value {
    json!({"check": name, "status": status, "detail": detail.into()})
}

/// Whether the process can create a file in `dir` (a dotfile, which ingest ignores).
fn writable(dir: &std::path::Path) -> Result<(), String> {
    let probe = dir.join(format!(".herald-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Why an account has no platform client, in words.
fn cannot_connect(ctx: &Context<'_>, id: &str) -> String {
    let Some(a) = ctx.config.accounts.get(id) else {
        return format!("there is no account \"{id}\" in the config");
    };
    match platform::check_credentials(ctx.config, a) {
        Err(e) => e.message,
        Ok(()) => match platform::connect(ctx.config, a, Arc::new(crate::schedule::clock::SystemClock)) {
            Err(e) => e.message,
            Ok(_) => "its credentials look fine now; run the command again".to_string(),
        },
    }
}

/// A queue folder: herald must be able to write in it (to move finished
/// files to their outcome folders) and should own it, the account's owners' group must be
/// able to drop files in it (group write), files dropped there should get
/// that group (setgid, as deploy/ sets up: `2770 herald herald-<account>`),
/// and nobody else may write in it.
fn queue_folder(account: &str, folder: &Path, state_dir: &Path) -> Value {
    let name = format!("queue folder {account}");
    let m = match std::fs::metadata(folder) {
        Ok(m) if m.is_dir() => m,
        _ => {
            return check(
                &name,
                "fail",
                format!(
                    "{} is missing; create it and give the owner write access",
                    folder.display()
                ),
            )
        }
    };
    if let Err(e) = writable(folder) {
        return check(
            &name,
            "fail",
            format!(
                "herald cannot write in {}: {e}; it could not move finished files to their outcome folders",
                folder.display()
            ),
        );
    }
    let mode = m.permissions().mode() & 0o7777;
    let group = crate::audit::group_name(m.gid()).unwrap_or_else(|| m.gid().to_string());
    let shown = format!("{} (mode {mode:o}, group {group})", folder.display());
    let mut problems = Vec::new();
    // The probe above tests whoever runs doctor (root, without a daemon):
    // herald's own user (the state folder's owner) should own the folder.
    if let Ok(state) = std::fs::metadata(state_dir) {
        if m.uid() != state.uid() {
            let name_of = |uid: u32| crate::audit::user_name(uid).unwrap_or_else(|| uid.to_string());
            problems.push(format!(
                "it belongs to {}, not to herald's user {} (the owner of {}), so herald may be unable to move finished files out of it; run chown {}",
                name_of(m.uid()),
                name_of(state.uid()),
                state_dir.display(),
                name_of(state.uid())
            ));
        }
    }
    if mode & 0o002 != 0 {
        problems.push(
            "it is writable by everyone; give write access to the account's owners' group and herald only (chmod o-w)"
                .to_string(),
        );
    }
    if mode & 0o020 == 0 {
        problems.push(format!(
            "its group {group} cannot write in it, so the account's owners cannot drop post files; make it the owners' group and run chmod g+w"
        ));
    }
    if mode & 0o2000 == 0 {
        problems.push(format!(
            "it is not setgid, so files owners drop keep their own group instead of {group} and the other owners may not read them; run chmod g+s"
        ));
    }
    if problems.is_empty() {
        check(&name, "ok", shown)
    } else {
        check(&name, "warn", format!("{shown}: {}", problems.join("; ")))
    }
}

/// The rotated X OAuth 2.0 tokens herald keeps in `<state_dir>/x-tokens/`
/// (see `platform::x::credentials::token_state_file`): each must be private
/// (mode 600) and owned by herald's user (the state folder's owner), or
/// herald cannot read the refresh token it needs next and the account
/// must be authorized again. Leftover temporary files count too: they hold
/// tokens.
fn token_files(state_dir: &Path) -> Vec<Value> {
    let dir = state_dir.join("x-tokens");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let herald_uid = std::fs::metadata(state_dir).map(|m| m.uid()).ok();
    let herald = herald_uid.map(|u| crate::audit::user_name(u).unwrap_or_else(|| u.to_string()));
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    let mut checks = Vec::new();
    if let Ok(m) = std::fs::metadata(&dir) {
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            checks.push(check(
                "token folder",
                "fail",
                format!(
                    "{} has mode {mode:o}: others could replace herald's tokens; run chmod 700",
                    dir.display()
                ),
            ));
        }
    }
    for path in files {
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("token file {file}");
        if !m.is_file() {
            checks.push(check(
                &name,
                "fail",
                format!(
                    "{} is not a regular file (a symlink or folder); herald writes only plain files there: remove it",
                    path.display()
                ),
            ));
            continue;
        }
        let mode = m.permissions().mode() & 0o777;
        let mut problems = Vec::new();
        if mode & 0o077 != 0 {
            problems.push(format!("it has mode {mode:o}; make it private: chmod 600"));
        }
        if let (Some(uid), Some(herald)) = (herald_uid, &herald) {
            if m.uid() != uid {
                let owner = crate::audit::user_name(m.uid()).unwrap_or_else(|| m.uid().to_string());
                problems.push(format!(
                    "it belongs to {owner}, not to herald's user {herald} (the owner of {}); run chown {herald}",
                    state_dir.display()
                ));
            }
        }
        if problems.is_empty() {
            checks.push(check(&name, "ok", format!("{} (mode {mode:o})", path.display())));
        } else {
            checks.push(check(
                &name,
                "fail",
                format!("{}: {}", path.display(), problems.join("; ")),
            ));
        }
    }
    checks
}

pub(super) async fn doctor(ctx: &Context<'_>) -> Result<Value, String> {
    let config = ctx.config;
    let mut checks = vec![check(
        "config",
        "ok",
        format!(
            "{} is valid ({} accounts)",
            config.path.display(),
            config.accounts.len()
        ),
    )];

    for a in config.accounts.values() {
        checks.push(queue_folder(&a.id, &a.folder, &config.daemon.state_dir));
    }
    let ids = config.accounts.keys().map(String::as_str).collect();
    let strays = crate::queue::strays::find(&config.daemon.queue_dir, &ids, true);
    if strays.is_empty() {
        checks.push(check("stray files", "ok", "every post file is in an account's folder"));
    }
    for stray in strays {
        checks.push(check("stray file", "warn", stray.explain(&config.daemon.queue_dir)));
    }

    match ctx.store.deliveries() {
        Ok(all) => {
            let pending = all.iter().filter(|d| d.state.is_pending()).count();
            checks.push(check(
                "store",
                "ok",
                format!(
                    "{} readable: {} deliveries, {pending} pending",
                    config.store_path().display(),
                    all.len()
                ),
            ));
            // The clock: a store written "in the future" means the clock went back.
            let latest = all.iter().map(|d| d.updated_at).max();
            match latest {
                Some(t) if t > ctx.now + TimeDelta::minutes(5) => checks.push(check(
                    "clock",
                    "fail",
                    format!("the store holds a change made at {t}, later than now ({}): the clock went back; fix time synchronisation before publishing", ctx.now),
                )),
                _ if ctx.now.timestamp() < 1_704_067_200 => checks.push(check("clock", "fail", format!("the clock says {}, before 2024; fix time synchronisation", ctx.now))),
                _ => checks.push(check("clock", "ok", format!("{} (UTC)", ctx.now.format("%Y-%m-%d %H:%M:%S")))),
            }
            // Tokens valid for the next 24 hours of scheduled posts.
            let horizon = ctx.now + TimeDelta::hours(24);
            let mut soon: Vec<&str> = all
                .iter()
                .filter(|d| d.state == State::Scheduled && d.due <= horizon)
                .map(|d| d.account.as_str())
                .collect();
            soon.sort();
            soon.dedup();
            for id in soon {
                let name = format!("credentials {id}");
                match ctx.platforms.get(id) {
                    Some(p) => match p.check_account().await {
                        Ok(handle) => checks.push(check(
                            &name,
                            "ok",
                            format!("the platform knows the account as {handle}"),
                        )),
                        Err(e) => checks.push(check(
                            &name,
                            "fail",
                            format!("posts are due within 24 hours but the credentials do not work: {e}"),
                        )),
                    },
                    None => checks.push(check(
                        &name,
                        "fail",
                        format!(
                            "posts are due within 24 hours but herald cannot connect to the account's platform: {}",
                            cannot_connect(ctx, id)
                        ),
                    )),
                }
            }
        }
        Err(e) => checks.push(check(
            "store",
            "fail",
            format!("{}: {e}", config.store_path().display()),
        )),
    }

    checks.extend(token_files(&config.daemon.state_dir));
    // Every account whose platform needs credentials: can herald connect?
    // (Without a daemon, the accounts the CLI could not connect; with one,
    // the accounts it holds for broken credentials and files changed since
    // it started.)
    for a in config.accounts.values().filter(|a| a.platform != PlatformKind::Sandbox) {
        let name = format!("platform {}", a.id);
        match platform::check_credentials(config, a) {
            Err(e) if ctx.daemon.is_some() => checks.push(check(
                &name,
                "fail",
                format!(
                    "herald cannot connect to {} for this account: {}. The running daemon keeps what it read when it started: after fixing this, restart herald.",
                    a.platform.display_name(),
                    e.message.trim_end_matches('.')
                ),
            )),
            Err(e) => checks.push(check(
                &name,
                "fail",
                format!(
                    "herald cannot publish to {} for this account: {}",
                    a.platform.display_name(),
                    e.message
                ),
            )),
            Ok(()) if !ctx.platforms.contains_key(&a.id) => checks.push(check(
                &name,
                "fail",
                format!(
                    "herald cannot publish to {} for this account: {}",
                    a.platform.display_name(),
                    cannot_connect(ctx, &a.id)
                ),
            )),
            Ok(()) => checks.push(check(
                &name,
                "ok",
                format!("{} credentials present and private", a.platform.display_name()),
            )),
        }
    }

    match std::fs::symlink_metadata(&config.daemon.socket) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            let status = if mode & 0o007 != 0 { "warn" } else { "ok" };
            checks.push(check(
                "control socket",
                status,
                format!("{} (mode {mode:o})", config.daemon.socket.display()),
            ));
        }
        Err(_) if ctx.daemon.is_none() => checks.push(check("control socket", "ok", "absent: no daemon is running")),
        Err(e) => checks.push(check(
            "control socket",
            "warn",
            format!("{}: {e}", config.daemon.socket.display()),
        )),
    }
    checks.extend(crate::daemon::alerts::doctor_checks(config, ctx.now));
    let healthy = checks.iter().all(|c| c["status"] != "fail");
    Ok(json!({"healthy": healthy, "checks": checks}))
}
