//! The CLI's side: ask the running daemon through its socket, or, when no
//! daemon runs, open the store and run the same admin function here. When a
//! daemon runs but its socket cannot be reached, say so and how to fix it —
//! never open the store behind its back.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::admin::{self, Context};
use super::{server, Hello, Request, Response, Welcome, HANDSHAKE_TIMEOUT, PROTOCOL};
use crate::audit::{self, Actor, Audit};
use crate::config::{Config, ControlPaths};
use crate::platform::{self, Platform};
use crate::store::{Store, StoreError};

/// How long the CLI waits for an answer (a retraction waits for the platform).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon runs but this user may not use its socket.
    #[error("{0}")]
    Unreachable(String),
    /// The daemon refused the handshake (another protocol version).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
}

/// A daemon's pid from its pid file, when that process is alive.
pub fn running_pid(state_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(server::pid_path(state_dir)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

fn unreachable_advice(paths: &ControlPaths, why: &std::io::Error) -> String {
    let socket = &paths.socket;
    let pid = running_pid(&paths.state_dir)
        .map(|p| format!(" (pid {p})"))
        .unwrap_or_default();
    let group = std::fs::metadata(socket)
        .ok()
        .map(|m| audit::group_name(m.gid()).unwrap_or_else(|| format!("gid {}", m.gid())));
    let me = Actor::current_user();
    match group {
        Some(group) => format!(
            "the herald daemon is running{pid}, but you ({me}) cannot use its control socket {}: {why}. The socket admits its owner and the group \"{group}\": ask an admin to add you (sudo usermod -aG {group} <your user name>), then log in again. Herald does not open the store while the daemon runs.",
            socket.display()
        ),
        None => format!(
            "the herald daemon is running{pid}, but you ({me}) cannot reach its control socket {}: {why}. You need access to the socket's folder and membership of its group; ask an admin. Herald does not open the store while the daemon runs.",
            socket.display()
        ),
    }
}

/// Sends one request to the daemon. `Ok(None)`: no daemon is listening.
pub fn ask_daemon(paths: &ControlPaths, request: &Request) -> Result<Option<Response>, ClientError> {
    let socket = &paths.socket;
    let stream = match UnixStream::connect(socket) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(ClientError::Unreachable(unreachable_advice(paths, &e)))
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        // Anything else (a path too long, not a socket): a daemon that runs
        // is unreachable; with none running, the store is ours to open.
        Err(e) if running_pid(&paths.state_dir).is_some() => {
            return Err(ClientError::Unreachable(unreachable_advice(paths, &e)))
        }
        Err(_) => return Ok(None),
    };
    exchange(stream, PROTOCOL, request).map(Some)
}

/// The exchange on a connected socket; `protocol` is what this client claims
/// (tests claim an old one).
pub fn exchange(stream: UnixStream, protocol: u32, request: &Request) -> Result<Response, ClientError> {
    let io = |e: std::io::Error| ClientError::Other(format!("the control socket: {e}"));
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT)).map_err(io)?;
    let mut w = stream.try_clone().map_err(io)?;
    let mut r = BufReader::new(stream);
    let hello = Hello::Hello {
        protocol,
        client: format!("herald {}", env!("CARGO_PKG_VERSION")),
    };
    writeln!(w, "{}", serde_json::to_string(&hello).expect("serialisable")).map_err(io)?;
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| {
        ClientError::Other(format!(
            "the daemon did not answer the handshake within {HANDSHAKE_TIMEOUT:?} ({e}); it may be busy or hung: look at its log"
        ))
    })?;
    match serde_json::from_str::<Welcome>(&line) {
        Ok(Welcome::Welcome { .. }) => {}
        Ok(Welcome::Refused { message }) => return Err(ClientError::Refused(message)),
        Err(_) => {
            return Err(ClientError::Refused(format!(
                "the daemon answered the handshake in a form this herald ({}, control protocol {PROTOCOL}) does not know: \"{}\". Use the herald binary installed with the daemon.",
                env!("CARGO_PKG_VERSION"),
                line.trim()
            )))
        }
    }
    writeln!(w, "{}", serde_json::to_string(request).expect("serialisable")).map_err(io)?;
    r.get_ref().set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(io)?;
    line.clear();
    r.read_line(&mut line).map_err(io)?;
    if line.trim().is_empty() {
        return Err(ClientError::Other(
            "the daemon closed the connection without answering; look at its log".into(),
        ));
    }
    serde_json::from_str(&line).map_err(|e| ClientError::Other(format!("cannot read the daemon's answer: {e}")))
}

/// Gives what this (root) process created in the state folder back to the
/// folder's owner — the daemon's user — so that the daemon can still write
/// its store, its audit log and remove the stop markers after a command ran
/// here as root. Symlinks are left alone.
fn hand_back(dir: &Path, uid: u32, gid: u32) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.uid() != uid {
            if let Err(e) = std::os::unix::fs::chown(&path, Some(uid), Some(gid)) {
                eprintln!("herald: cannot give {} back to uid {uid}: {e}", path.display());
            }
        }
        if meta.is_dir() {
            hand_back(&path, uid, gid);
        }
    }
}

/// Runs a request on the store directly (no daemon). Fails if a daemon holds the store.
pub fn run_directly(config: &Config, request: Request) -> Result<Response, ClientError> {
    let state_dir = &config.daemon.state_dir;
    let me = audit::current_uid();
    let owner = match std::fs::metadata(state_dir) {
        Ok(m) => Some((m.uid(), m.gid())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(ClientError::Other(format!(
                "cannot read the state folder {}: {e}. Run herald as root or as the daemon's user (sudo -u <daemon user> herald ...).",
                state_dir.display()
            )))
        }
    };
    match owner {
        // Nothing has run yet: looking shows an empty store and creates nothing.
        None if !request.mutates() => {
            let store = Store::temporary().map_err(|e| ClientError::Other(e.to_string()))?;
            return run_with(config, &store, request);
        }
        None => {
            return Err(ClientError::Other(format!(
                "the state folder {} does not exist yet, so there is nothing to change. Start the daemon once (it creates the folder), or create the folder owned by the daemon's user.",
                state_dir.display()
            )))
        }
        Some((uid, _)) if me != 0 && me != uid => {
            let owner_name = audit::user_name(uid).unwrap_or_else(|| format!("uid {uid}"));
            return Err(ClientError::Unreachable(format!(
                "no daemon is running, and the state folder {} belongs to {owner_name}; files written as you could not be written by the daemon afterwards. Run the command as root or as that user (sudo -u {owner_name} herald ...), or start the daemon and ask it.",
                state_dir.display()
            )));
        }
        Some(_) => {}
    }
    let result = open_and_run(config, request);
    if let Some((uid, gid)) = owner {
        if me == 0 && uid != 0 {
            hand_back(state_dir, uid, gid);
        }
    }
    result
}

/// Opens the store; a lock that no running daemon holds (a `herald run
/// --once` or another command just finishing) is waited for, briefly.
fn open_store(config: &Config) -> Result<Store, StoreError> {
    let mut tries = 0;
    loop {
        match Store::open(&config.store_path()) {
            Err(StoreError::Locked { .. }) if tries < 40 && running_pid(&config.daemon.state_dir).is_none() => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn open_and_run(config: &Config, request: Request) -> Result<Response, ClientError> {
    let store = match open_store(config) {
        Ok(s) => s,
        Err(StoreError::Locked { path }) => {
            let pid = running_pid(&config.daemon.state_dir)
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default();
            return Err(ClientError::Unreachable(format!(
                "a herald daemon{pid} holds the store at {path}, but its control socket {} does not answer. Check that [daemon] socket in {} names the socket the daemon listens on, or look at the daemon's log; herald does not open the store behind its back.",
                config.daemon.socket.display(),
                config.path.display()
            )));
        }
        Err(e) => return Err(ClientError::Other(e.to_string())),
    };
    run_with(config, &store, request)
}

fn run_with(config: &Config, store: &Store, request: Request) -> Result<Response, ClientError> {
    let mut platforms: BTreeMap<String, Arc<dyn Platform>> = BTreeMap::new();
    if matches!(request, Request::Retract { .. } | Request::Doctor) {
        for a in config.accounts.values() {
            if let Ok(p) = platform::connect(config, a, Arc::new(crate::schedule::clock::SystemClock)) {
                platforms.insert(a.id.clone(), p);
            }
        }
    }
    let audit = Audit::open(&config.daemon.state_dir);
    let busy = HashSet::new();
    let now = crate::schedule::clock::command_line_now().map_err(ClientError::Other)?;
    let ctx = Context {
        config,
        store,
        audit: &audit,
        now,
        actor: Actor::current_user(),
        platforms: &platforms,
        busy: &busy,
        daemon: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Other(format!("starting the runtime: {e}")))?;
    Ok(runtime.block_on(admin::handle(&ctx, request)))
}

/// Asks the daemon if one runs, else runs the request here. Returns the
/// answer and whether the daemon gave it.
pub fn request(config: &Config, request: Request) -> Result<(Response, bool), ClientError> {
    if let Some(r) = ask_daemon(&config.control_paths(), &request)? {
        return Ok((r, true));
    }
    // No daemon listening. If one still holds the store (its socket
    // vanished), opening the store fails and says so.
    run_directly(config, request).map(|r| (r, false))
}
