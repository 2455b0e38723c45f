//! The daemon's side of the control socket. It accepts connections, checks
//! the handshake, reads one request, logs it with the caller's uid and user
//! name (the socket's peer credentials), and hands it to the run loop as a
//! [`Call`]; the run loop answers with its own store handle, so the daemon
//! stays the store's one writer.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::admin::DaemonInfo;
use super::{Hello, Request, Response, Welcome, HANDSHAKE_TIMEOUT, PROTOCOL};
use crate::audit::Actor;
use crate::config::Config;

/// How long a client may take to send its request after the handshake.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A request for the run loop, with who sent it and where the answer goes.
pub struct Call {
    pub request: Request,
    pub actor: Actor,
    pub reply: oneshot::Sender<Response>,
}

/// The listening socket. Dropping it stops accepting and removes the
/// socket and the pid file.
pub struct Server {
    socket: PathBuf,
    pid_file: PathBuf,
    pub info: DaemonInfo,
    accept: tokio::task::JoinHandle<()>,
    /// For requests the daemon makes of itself (the disaster feed).
    calls: mpsc::Sender<Call>,
}

/// The pid file beside the store: how the CLI tells a running daemon whose
/// socket it cannot reach from no daemon at all.
pub fn pid_path(state_dir: &Path) -> PathBuf {
    state_dir.join("herald.pid")
}

impl Server {
    /// A sender of requests into the daemon's loop, answered like the
    /// socket's (the disaster feed asks for the disaster hold this way).
    pub fn caller(&self) -> mpsc::Sender<Call> {
        self.calls.clone()
    }

    /// Binds the socket (mode 0660) and starts accepting. Must run inside a
    /// tokio runtime.
    pub fn bind(config: &Config) -> anyhow::Result<(Server, mpsc::Receiver<Call>)> {
        let socket = config.daemon.socket.clone();
        if let Some(dir) = socket.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        remove_stale_socket(&socket, &config.path)?;
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("listening on the control socket {}", socket.display()))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660))
            .with_context(|| format!("setting the mode of {}", socket.display()))?;
        let pid_file = pid_path(&config.daemon.state_dir);
        crate::queue::write_atomically(&pid_file, format!("{}\n", std::process::id()).as_bytes())
            .with_context(|| format!("writing {}", pid_file.display()))?;
        let (tx, rx) = mpsc::channel(16);
        let calls = tx.clone();
        let accept = tokio::spawn(accept_loop(listener, tx));
        tracing::info!(socket = %socket.display(), "control socket ready");
        Ok((
            Server {
                socket,
                pid_file,
                info: DaemonInfo {
                    pid: std::process::id(),
                    started_at: Utc::now(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                },
                accept,
                calls,
            },
            rx,
        ))
    }
}

/// Clears the way for the socket at `socket`: nothing there is fine; a
/// socket nobody answers on (left by a daemon that died) is removed; a
/// socket that answers, or anything that is not a socket (a mistyped
/// `[daemon] socket` naming someone's file, a folder, a symlink), is left
/// alone and refused with the path.
fn remove_stale_socket(socket: &Path, config_path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    // symlink_metadata: a symlink is judged itself, never the file it names.
    let meta = match std::fs::symlink_metadata(socket) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("looking at the control socket path {}", socket.display())),
    };
    let kind = meta.file_type();
    if !kind.is_socket() {
        let what = if kind.is_dir() {
            "a folder"
        } else if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_file() {
            "a regular file"
        } else {
            "a device or a pipe"
        };
        anyhow::bail!(
            "the control socket path {} is {what}, not a socket; herald leaves it alone. \
             Check `socket` under [daemon] in {}, or move that file away",
            socket.display(),
            config_path.display()
        );
    }
    // We hold the store's lock, so no other herald of this store is
    // running; a socket that still answers belongs to another
    // installation configured with the same path.
    if std::os::unix::net::UnixStream::connect(socket).is_ok() {
        anyhow::bail!(
            "another process is listening on the control socket {}; give this installation its own [daemon] socket",
            socket.display()
        );
    }
    std::fs::remove_file(socket).with_context(|| format!("removing the stale socket {}", socket.display()))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
        // Only our socket: whatever replaced it meanwhile is not ours to delete.
        use std::os::unix::fs::FileTypeExt;
        if std::fs::symlink_metadata(&self.socket).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&self.socket);
        }
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

async fn accept_loop(listener: UnixListener, calls: mpsc::Sender<Call>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let calls = calls.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_connection(stream, calls).await {
                        tracing::warn!("control connection: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::error!("cannot accept a control connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn write_line(w: &mut (impl AsyncWriteExt + Unpin), value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line).await?;
    w.flush().await
}

/// The message for a client that does not speak this protocol.
pub fn version_mismatch(client_protocol: Option<u32>, client: &str) -> String {
    match client_protocol {
        Some(p) => format!(
            "this herald command ({client}) speaks control protocol {p}, but the daemon (herald {}) speaks protocol {PROTOCOL}. Use the herald binary installed with the daemon (the same version).",
            env!("CARGO_PKG_VERSION")
        ),
        None => format!(
            "the client did not start with a control handshake; it is probably an older herald. Use the herald binary installed with the daemon (herald {}, control protocol {PROTOCOL}).",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

async fn serve_connection(stream: UnixStream, calls: mpsc::Sender<Call>) -> anyhow::Result<()> {
    let uid = stream.peer_cred().context("reading the caller's credentials")?.uid();
    let actor = Actor::person(uid);
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();

    let hello = match tokio::time::timeout(HANDSHAKE_TIMEOUT, lines.next_line()).await {
        Err(_) => {
            let message = version_mismatch(None, "unknown");
            write_line(&mut w, &Welcome::Refused { message }).await?;
            anyhow::bail!("{actor} sent no handshake within {:?}", HANDSHAKE_TIMEOUT);
        }
        Ok(line) => line?.unwrap_or_default(),
    };
    let protocol = match serde_json::from_str::<Hello>(&hello) {
        Ok(Hello::Hello { protocol, client }) if protocol == PROTOCOL => {
            tracing::debug!(uid, client = %client, "control handshake");
            protocol
        }
        Ok(Hello::Hello { protocol, client }) => {
            let message = version_mismatch(Some(protocol), &client);
            write_line(&mut w, &Welcome::Refused { message }).await?;
            anyhow::bail!("{actor} uses control protocol {protocol} ({client}); refused");
        }
        Err(_) => {
            // An older client may send a bare request, or a hello of another shape.
            let claimed = serde_json::from_str::<serde_json::Value>(&hello)
                .ok()
                .and_then(|v| v["hello"]["protocol"].as_u64().or(v["version"].as_u64()))
                .map(|p| p as u32);
            write_line(
                &mut w,
                &Welcome::Refused {
                    message: version_mismatch(claimed, "unknown"),
                },
            )
            .await?;
            anyhow::bail!("{actor} sent no valid handshake; refused");
        }
    };
    write_line(
        &mut w,
        &Welcome::Welcome {
            protocol,
            daemon: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
        },
    )
    .await?;

    let line = match tokio::time::timeout(REQUEST_TIMEOUT, lines.next_line()).await {
        Err(_) => anyhow::bail!("{actor} sent no request within {REQUEST_TIMEOUT:?}"),
        Ok(line) => line?.unwrap_or_default(),
    };
    let request: Request = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => {
            write_line(
                &mut w,
                &Response::error(format!("the daemon cannot read the request: {e}")),
            )
            .await?;
            anyhow::bail!("{actor} sent an unreadable request: {e}");
        }
    };
    let (name, user) = match &actor {
        Actor::Person { name, .. } => (request.name(), name.clone()),
        Actor::Daemon(_) => (request.name(), "daemon".into()),
    };
    tracing::info!(uid, user = %user, request = name, details = %serde_json::to_string(&request).unwrap_or_default(), "control request");
    let (reply, answer) = oneshot::channel();
    calls
        .send(Call { request, actor, reply })
        .await
        .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
    let response = answer
        .await
        .unwrap_or_else(|_| Response::error("the daemon stopped before it answered; look again with herald status"));
    write_line(&mut w, &response).await?;
    Ok(())
}
