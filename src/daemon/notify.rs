//! The service manager's notification protocol (sd_notify(3)), without
//! libsystemd: one datagram per message to the Unix socket named by
//! `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
//!
//! herald tells systemd READY=1 once the store is open, the config loaded and
//! the queue scanned (the unit is `Type=notify`), STATUS= lines saying what
//! it does, RELOADING=1 around a reload, STOPPING=1 on shutdown, and
//! WATCHDOG=1 from the scheduler loop itself: the loop pings only when it
//! comes round, so a loop that is stuck stops pinging and systemd restarts
//! the service (`WatchdogSec=`).

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where notifications go; a disabled notifier (no `$NOTIFY_SOCKET`, as
/// when herald runs in a terminal or a test) sends nothing.
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<Target>,
    /// How often the loop must ping: half of `$WATCHDOG_USEC`, as
    /// sd_watchdog_enabled(3) recommends.
    watchdog_every: Option<Duration>,
    last_ping: Option<Instant>,
    /// The last STATUS= sent by [`Notifier::status_if_changed`].
    last_status: String,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    addr: SocketAddr,
    /// As given, for messages about failures.
    name: String,
}

impl Notifier {
    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    /// The notifier systemd set up for this process: `$NOTIFY_SOCKET`, and
    /// `$WATCHDOG_USEC` when `$WATCHDOG_PID` is unset or names this process.
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok();
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        let watchdog = watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id());
        match socket {
            Some(s) if !s.is_empty() => Notifier::to_socket(&s, watchdog),
            _ => Notifier::disabled(),
        }
    }

    /// A notifier sending to `socket` (a path or `@abstract-name`), with the
    /// watchdog's full timeout if there is one (pings go at half of it).
    pub fn to_socket(socket: &str, watchdog_timeout: Option<Duration>) -> Notifier {
        let watchdog_every = watchdog_timeout.map(|t| t / 2).filter(|d| !d.is_zero());
        let target = match connect(socket) {
            Ok(target) => Some(target),
            Err(e) => {
                tracing::warn!("cannot notify the service manager at {socket}: {e}; running without notifications");
                None
            }
        };
        Notifier {
            // Without a socket, nobody expects pings.
            watchdog_every: target.as_ref().and(watchdog_every),
            target,
            last_ping: None,
            last_status: String::new(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often the loop must come round to ping the watchdog, if it must.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.watchdog_every
    }

    /// Sends one message (`KEY=value` lines). Failures are logged, never
    /// fatal: herald keeps publishing if systemd cannot hear it.
    pub fn send(&self, message: &str) {
        let Some(t) = &self.target else {
            return;
        };
        if let Err(e) = t.socket.send_to_addr(message.as_bytes(), &t.addr) {
            tracing::warn!("cannot notify the service manager at {}: {e}", t.name);
        }
    }

    /// READY=1 with a status line.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    /// STATUS=, unless it says what the last one said (the loop calls this
    /// on every turn).
    pub fn status_if_changed(&mut self, status: &str) {
        if self.last_status != status {
            self.status(status);
            self.last_status = status.to_string();
        }
    }

    /// RELOADING=1: the service is re-reading its config; READY=1 ends it.
    pub fn reloading(&self, status: &str) {
        self.send(&format!("RELOADING=1\nSTATUS={}", one_line(status)));
    }

    pub fn stopping(&self, status: &str) {
        self.send(&format!("STOPPING=1\nSTATUS={}", one_line(status)));
    }

    /// Pings the watchdog if half the interval has passed since the last
    /// ping, so a loop woken often does not flood the manager. Called from
    /// the scheduler loop each time it comes round.
    pub fn watchdog(&mut self) {
        let Some(every) = self.watchdog_every else {
            return;
        };
        let now = Instant::now();
        if self.last_ping.is_some_and(|last| now.duration_since(last) < every / 2) {
            return;
        }
        self.last_ping = Some(now);
        self.send("WATCHDOG=1");
    }

    /// When the loop must next come round to ping in time.
    pub fn watchdog_deadline(&self) -> Option<Instant> {
        let every = self.watchdog_every?;
        Some(self.last_ping.map_or_else(Instant::now, |last| last + every))
    }
}

/// STATUS= takes one line.
/// Sleeps until `deadline` (the loop's next watchdog ping), or forever.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

fn connect(socket: &str) -> std::io::Result<Target> {
    let addr = if let Some(name) = socket.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes())?
    } else if socket.starts_with('/') {
        SocketAddr::from_pathname(PathBuf::from(socket))?
    } else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET is neither an absolute path nor @abstract",
        ));
    };
    let socket_fd = UnixDatagram::unbound()?;
    // A full socket buffer must not stall the scheduler loop.
    socket_fd.set_nonblocking(true)?;
    Ok(Target {
        socket: socket_fd,
        addr,
        name: socket.to_string(),
    })
}

/// The watchdog timeout from `$WATCHDOG_USEC`, if it is meant for `pid`.
pub fn watchdog_interval(usec: Option<&str>, watchdog_pid: Option<&str>, pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    if let Some(p) = watchdog_pid {
        if p.trim().parse::<u32>().ok() != Some(pid) {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver() -> (tempfile::TempDir, UnixDatagram, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (dir, sock, path.display().to_string())
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn messages_arrive_as_datagrams_on_a_path_socket() {
        let (_dir, sock, path) = receiver();
        let n = Notifier::to_socket(&path, None);
        assert!(n.is_enabled());
        n.ready("ready: 2 accounts\nsecond line");
        assert_eq!(recv(&sock), "READY=1\nSTATUS=ready: 2 accounts second line");
        n.stopping("stopping");
        assert_eq!(recv(&sock), "STOPPING=1\nSTATUS=stopping");
    }

    #[test]
    fn an_abstract_socket_is_reached_by_its_at_name() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("herald-test-{}-{:?}", std::process::id(), std::thread::current().id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Notifier::to_socket(&format!("@{name}"), None).status("hello");
        assert_eq!(recv(&sock), "STATUS=hello");
    }

    #[test]
    fn the_watchdog_pings_at_most_every_half_interval() {
        let (_dir, sock, path) = receiver();
        let mut n = Notifier::to_socket(&path, Some(Duration::from_secs(20)));
        assert_eq!(n.watchdog_every(), Some(Duration::from_secs(10)));
        n.watchdog();
        n.watchdog(); // too soon: not sent
        assert_eq!(recv(&sock), "WATCHDOG=1");
        sock.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        assert!(sock.recv(&mut buf).is_err(), "a second ping within 5 s was sent");
        let deadline = n.watchdog_deadline().unwrap();
        let left = deadline.duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(10),
            "{left:?}"
        );
    }

    #[test]
    fn watchdog_usec_is_for_this_process_only() {
        assert_eq!(
            watchdog_interval(Some("30000000"), None, 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(watchdog_interval(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_nothing_fails() {
        let mut n = Notifier::disabled();
        n.ready("x");
        n.watchdog();
        assert!(!n.is_enabled());
        assert_eq!(n.watchdog_deadline(), None);
        let n = Notifier::to_socket("relative/path", Some(Duration::from_secs(2)));
        assert!(!n.is_enabled());
        assert_eq!(n.watchdog_every(), None);
    }
}
