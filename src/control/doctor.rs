//! `herald doctor`: checks an installation the way an admin would before
//! trusting it with a crisis — the config, the queue folders, the store, the
//! credentials, the tokens for the next day's posts, the clock, the socket.

use std::os::unix::fs::PermissionsExt;
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
        let name = format!("queue folder {}", a.id);
        match std::fs::metadata(&a.folder) {
            Ok(m) if m.is_dir() => match writable(&a.folder) {
                Ok(()) => {
                    let mode = m.permissions().mode() & 0o777;
                    if mode & 0o002 != 0 {
                        checks.push(check(&name, "warn", format!("{} is writable by everyone (mode {mode:o}); give write access to the account's owner and herald's group only", a.folder.display())));
                    } else {
                        checks.push(check(&name, "ok", format!("{} (mode {mode:o})", a.folder.display())));
                    }
                }
                Err(e) => checks.push(check(
                    &name,
                    "fail",
                    format!(
                        "herald cannot write in {}: {e}; it could not move finished files to their outcome folders",
                        a.folder.display()
                    ),
                )),
            },
            _ => checks.push(check(
                &name,
                "fail",
                format!(
                    "{} is missing; create it and give the owner write access",
                    a.folder.display()
                ),
            )),
        }
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

    // Credential files: every file under <state>/credentials must be private.
    let creds = config.daemon.state_dir.join("credentials");
    if let Ok(entries) = std::fs::read_dir(&creds) {
        for entry in entries.flatten() {
            let mode = entry.metadata().map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            let name = format!("credential file {}", entry.file_name().to_string_lossy());
            if mode & 0o077 != 0 {
                checks.push(check(
                    &name,
                    "fail",
                    format!(
                        "{} has mode {mode:o}; make it private: chmod 600",
                        entry.path().display()
                    ),
                ));
            } else {
                checks.push(check(&name, "ok", format!("mode {mode:o}")));
            }
        }
    }
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
    let healthy = checks.iter().all(|c| c["status"] != "fail");
    Ok(json!({"healthy": healthy, "checks": checks}))
}
