//! Signals: SIGINT and SIGTERM become the daemon's shutdown future, SIGHUP
//! a reload request (`systemctl reload herald` sends it, `ExecReload=`).

use tokio::sync::mpsc;

use super::reload::ReloadRequest;

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed
/// when this is called (inside the runtime), not when the future is first
/// polled: a SIGTERM right after READY=1 must reach the daemon, not end the
/// process unflushed.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT received"),
                _ = term.recv() => tracing::info!("SIGTERM received"),
            },
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!("cannot listen for SIGTERM/SIGINT: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Reload requests, one per SIGHUP. Must be called inside the runtime;
/// from then on SIGHUP no longer ends the process.
pub fn reload_requests() -> std::io::Result<mpsc::Receiver<ReloadRequest>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    // One pending request is enough: a burst of SIGHUPs is one reload.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP received: reloading the configuration");
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(ReloadRequest::default()) {
                break;
            }
        }
    });
    Ok(rx)
}
