//! `herald run` as systemd runs it: the real binary, a test
//! `NOTIFY_SOCKET` standing in for the service manager, and real signals
//! (SIGHUP to reload, SIGTERM to stop).

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, BASE_CONFIG, TOKYO};

/// The service manager's end of the notification socket.
struct Manager {
    sock: UnixDatagram,
}

impl Manager {
    fn bind(env: &Env) -> (Manager, String) {
        let path = env.dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        (Manager { sock }, path.display().to_string())
    }

    /// The next message, waiting at most `within`.
    fn recv(&self, within: Duration) -> Option<String> {
        self.sock.set_read_timeout(Some(within)).unwrap();
        let mut buf = [0u8; 4096];
        match self.sock.recv(&mut buf) {
            Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => None,
        }
    }

    /// Reads messages until one satisfies `want`; the others (watchdog
    /// pings, status lines) are returned too, in order.
    fn until(&self, what: &str, want: impl Fn(&str) -> bool) -> (String, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Some(m) = self.recv(deadline - Instant::now()) {
                if want(&m) {
                    return (m, seen);
                }
                seen.push(m);
            }
        }
        panic!("no {what} from herald within 20 s; it sent: {seen:?}");
    }
}

fn spawn(env: &Env, notify_socket: &str, watchdog_usec: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["run", "--config"])
        .arg(env.dir.path().join("herald.toml"))
        .env("NOTIFY_SOCKET", notify_socket)
        .env("WATCHDOG_USEC", watchdog_usec.to_string())
        .env_remove("WATCHDOG_PID")
        .env_remove("JOURNAL_STREAM")
        .env("HERALD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting herald run")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} failed");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("herald did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(mut child: Child) -> String {
    use std::io::Read;
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn ready_after_the_queue_is_scanned_watchdog_at_half_the_interval_reload_and_stop() {
    let env = Env::new(TOKYO);
    // A post for later: at READY its note must already be written.
    env.drop_post(
        "tokyo",
        "later.json",
        r#"{"text": "来年のお知らせ", "at": "2099-01-01T09:00:00+09:00"}"#,
    );
    let (manager, socket) = Manager::bind(&env);
    // WatchdogSec=1s: herald must ping every 0.5 s.
    let mut child = spawn(&env, &socket, 1_000_000);

    let (ready, before) = manager.until("READY=1", |m| m.lines().any(|l| l == "READY=1"));
    assert!(
        before.iter().any(|m| m.starts_with("STATUS=starting")),
        "a status line before READY: {before:?}"
    );
    assert!(
        ready.contains("STATUS=running: 1 accounts, 1 deliveries scheduled"),
        "{ready}"
    );
    assert!(
        herald::queue::note_path(&env.path("tokyo", "later.json")).exists(),
        "READY came before the queue was scanned"
    );

    // Watchdog pings from the idle loop: at half of WATCHDOG_USEC.
    let start = Instant::now();
    let mut pings = vec![];
    let mut statuses = vec![];
    while start.elapsed() < Duration::from_millis(2600) {
        if let Some(m) = manager.recv(Duration::from_millis(2600)) {
            if m == "WATCHDOG=1" {
                pings.push(Instant::now());
            } else {
                statuses.push(m);
            }
        }
    }
    // The loop says what comes next, once (not on every turn).
    let next_due: Vec<_> = statuses
        .iter()
        .filter(|m| m.contains("next due 2099-01-01T00:00:00Z"))
        .collect();
    assert_eq!(next_due.len(), 1, "{statuses:?}");
    assert!(
        (4..=7).contains(&pings.len()),
        "{} pings in 2.6 s; expected one every 0.5 s",
        pings.len()
    );
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter()
            .all(|g| *g >= Duration::from_millis(250) && *g < Duration::from_millis(1000)),
        "gaps between pings: {gaps:?}"
    );

    // Reload with a valid config that adds an account.
    std::fs::create_dir_all(env.dir.path().join("queue/osaka")).unwrap();
    let osaka = "\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@osaka\"\nowner = \"Ichiro\"\n";
    std::fs::write(
        env.dir.path().join("herald.toml"),
        format!("{BASE_CONFIG}\n{TOKYO}{osaka}"),
    )
    .unwrap();
    signal(&child, "-HUP");
    let (reloading, _) = manager.until("RELOADING=1", |m| m.starts_with("RELOADING=1"));
    assert!(reloading.contains("STATUS=reloading"), "{reloading}");
    let (reloaded, _) = manager.until("READY=1 after the reload", |m| m.starts_with("READY=1"));
    assert!(reloaded.contains("accounts added: osaka"), "{reloaded}");

    // Reload with an invalid config: refused, the running one stays.
    std::fs::write(
        env.dir.path().join("herald.toml"),
        format!("{BASE_CONFIG}\n{TOKYO}\ntime_zon = \"Asia/Tokyo\"\n"),
    )
    .unwrap();
    signal(&child, "-HUP");
    let (refused, _) = manager.until("READY=1 after the refused reload", |m| m.starts_with("READY=1"));
    assert!(refused.contains("reload refused"), "{refused}");
    assert!(refused.contains("herald.toml:"), "the status names the file: {refused}");
    assert!(child.try_wait().unwrap().is_none(), "herald exited on a bad reload");
    // Still alive and looping: the watchdog keeps coming.
    manager.until("WATCHDOG=1 after the refused reload", |m| m == "WATCHDOG=1");

    signal(&child, "-TERM");
    let (stopping, _) = manager.until("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    assert!(stopping.contains("STATUS=stopping"), "{stopping}");
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    let log = stderr_of(child);
    assert!(log.contains("reload refused"), "{log}");
    assert!(log.contains("unknown field `time_zon`"), "the refusal says why: {log}");
}

#[test]
fn an_abstract_notify_socket_hears_ready_and_stopping() {
    use std::os::linux::net::SocketAddrExt;
    let env = Env::new(TOKYO);
    let name = format!("herald-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let manager = Manager {
        sock: UnixDatagram::bind_addr(&addr).unwrap(),
    };
    let mut child = spawn(&env, &format!("@{name}"), 0);
    manager.until("READY=1", |m| m.starts_with("READY=1"));
    signal(&child, "-TERM");
    let (_, between) = manager.until("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    assert!(
        !between.iter().any(|m| m == "WATCHDOG=1"),
        "pings without WATCHDOG_USEC: {between:?}"
    );
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
}
