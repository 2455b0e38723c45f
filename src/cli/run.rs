//! `herald run`: the daemon in the foreground.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::daemon::{notify::Notifier, signals, Daemon};
use crate::logging::LogFormat;
use crate::schedule::SystemClock;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Publish everything due now, then exit (for a shell, a timer, or a test).
    #[arg(long)]
    pub once: bool,
    /// Where and how to log: auto is the journal under systemd, else
    /// human-readable lines on stderr; json is one object per line on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Auto, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

pub fn run(config_path: &Path, args: RunArgs) -> ExitCode {
    crate::logging::init(args.log_format);
    let result = (|| -> anyhow::Result<()> {
        let config = crate::config::load(config_path)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the runtime")?;
        runtime.block_on(async {
            if args.once {
                let daemon = Daemon::open(config, Arc::new(SystemClock))?;
                let summary = daemon.run_once().await?;
                let counts: Vec<String> = summary.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
                tracing::info!(
                    "done: deliveries in the store: {}",
                    if counts.is_empty() {
                        "none".into()
                    } else {
                        counts.join(", ")
                    }
                );
                Ok(())
            } else {
                // Under systemd: READY/STATUS/WATCHDOG/STOPPING, and SIGHUP reloads.
                let notifier = Notifier::from_env();
                notifier.status("starting: opening the store");
                let reloads = signals::reload_requests().context("listening for SIGHUP")?;
                let shutdown = signals::shutdown_signal();
                let daemon = Daemon::open(config, Arc::new(SystemClock))?
                    .with_notifier(notifier)
                    .with_reloads(reloads);
                daemon.run(shutdown).await
            }
        })
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}
