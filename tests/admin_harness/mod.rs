//! What the admin and control tests share: a daemon running in-process on
//! its own thread (real Unix socket, manual clock), and the `herald` binary
//! run as a separate process against it, the way an admin runs it.
#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use herald::daemon::Daemon;
use herald::schedule::Clock;
use herald::store::{Delivery, Store};

use crate::common::Env;

/// A daemon serving `env` until dropped.
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

pub fn start(env: &Env) -> Running {
    start_daemon(env, env.daemon())
}

pub fn start_daemon(env: &Env, daemon: Daemon) -> Running {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(daemon.run(async {
            let _ = rx.await;
        }))
    });
    let socket = env.config.daemon.socket.clone();
    eventually("the control socket appears", || socket.exists());
    Running {
        stop: Some(tx),
        thread: Some(thread),
    }
}

impl Running {
    /// Stops the daemon and waits for it; panics if it failed.
    pub fn stop(mut self) {
        self.shutdown().expect("the daemon stops cleanly");
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().expect("daemon thread"),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Waits (in real time, bounded) until `cond` holds: the daemon works on its
/// own threads, so the test has to look again.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1600 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for: {what}");
}

/// What a `herald` run said.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    pub fn ok(self) -> Out {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

pub fn herald_cmd(env: &Env, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
    c.args(args)
        .arg("--config")
        .arg(&env.config.path)
        .env("HERALD_LOG", "warn")
        // Without a daemon the command works on the store itself: on the
        // test's clock, like the daemon, not on today's date.
        .env(herald::schedule::clock::NOW_VAR, env.clock.now().to_rfc3339());
    c
}

/// Runs `herald ARGS --config <env>`.
pub fn herald(env: &Env, args: &[&str]) -> Out {
    let out = herald_cmd(env, args).output().expect("herald runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Opens the store, waiting (bounded) while a store this process just
/// dropped is still held by sled's background thread.
pub fn store(env: &Env) -> Store {
    env.store()
}

/// Every delivery, sorted like `Env::deliveries`.
pub fn deliveries(env: &Env) -> Vec<Delivery> {
    let mut d = store(env).deliveries().unwrap();
    d.sort_by_key(|d| (d.account.clone(), d.due, d.id.clone()));
    d
}

pub fn delivery_of(env: &Env, file: &str) -> Vec<Delivery> {
    deliveries(env).into_iter().filter(|d| d.file == file).collect()
}

/// The one delivery of a file.
pub fn delivery_id(env: &Env, file: &str) -> String {
    let d = delivery_of(env, file);
    assert_eq!(d.len(), 1, "one delivery of {file}: {d:?}");
    d[0].id.clone()
}

/// Starts a daemon and waits until it has seen `file` (its note appears).
pub fn noted(env: &Env, account: &str, file: &str) {
    let note = env.path(account, &format!("{file}.herald.txt"));
    eventually(&format!("{file} is noted"), || note.exists());
}
