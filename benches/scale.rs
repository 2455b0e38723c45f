//! The scale harness (`herald-bench`): generates an installation in a
//! temporary folder (sandbox accounts, whose outbox is a local file, so the
//! platform costs nothing), runs the real `herald` binary on it, and prints
//! one table row per scenario: how long until herald says READY, how much
//! memory it holds, how fast it publishes and how late.
//!
//! ```text
//! cargo build --release --bins
//! target/release/herald-bench all --scale 10000
//! target/release/herald-bench cold --accounts 1000 --files 10
//! ```
//!
//! Scenarios (`herald-bench help` lists them): `cold`, `restart`, `idle`,
//! `burst`, `lateness`, `drop`, `spread`, `check`, `all` (each of them at
//! `--scale` posts), `smoke` (all of them, tiny; CI runs it). Nothing here
//! asserts a timing: it measures and prints.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};

const USAGE: &str =
    "usage: herald-bench SCENARIO [--scale N] [--accounts N] [--files N] [--lead SECS] [--herald PATH] [--keep]

scenarios:
  cold      N accounts x M files scheduled for tomorrow: time to READY, memory
  restart   the same, stopped and started again: time to READY on a full store
  idle      after a cold start: CPU and wake-ups per second over 10 s
  burst     --scale posts over --accounts accounts, all due at one instant
  lateness  20 posts due one by one while --scale posts are pending
  drop      --scale files dropped into one watched folder after READY
  spread    --scale files over --accounts folders after READY
  check     one `herald check` with the example rulebooks, start to exit
  all       every scenario above at --scale posts
  smoke     every scenario at a tiny scale (what CI runs)";

#[derive(Clone)]
struct Options {
    scale: usize,
    accounts: Option<usize>,
    files: Option<usize>,
    lead: Option<u64>,
    herald: PathBuf,
    keep: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(scenario) = args.get(1).cloned() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    if scenario == "help" || scenario == "--help" {
        println!("{USAGE}");
        return;
    }
    let mut o = Options {
        scale: 1000,
        accounts: None,
        files: None,
        lead: None,
        herald: default_herald(),
        keep: false,
    };
    let mut i = 2;
    while i < args.len() {
        let value = || {
            args.get(i + 1).cloned().unwrap_or_else(|| {
                eprintln!("herald-bench: {} needs a value\n{USAGE}", args[i]);
                std::process::exit(2)
            })
        };
        let number = |v: String| -> usize {
            v.replace(['_', ','], "").parse().unwrap_or_else(|_| {
                eprintln!("herald-bench: {v} is not a number");
                std::process::exit(2)
            })
        };
        match args[i].as_str() {
            "--scale" => o.scale = number(value()),
            "--accounts" => o.accounts = Some(number(value())),
            "--files" => o.files = Some(number(value())),
            "--lead" => o.lead = Some(number(value()) as u64),
            "--herald" => o.herald = PathBuf::from(value()),
            "--keep" => {
                o.keep = true;
                i += 1;
                continue;
            }
            other => {
                eprintln!("herald-bench: unknown option {other}\n{USAGE}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    if !o.herald.exists() {
        eprintln!(
            "herald-bench: no herald binary at {} (build it: cargo build --release --bins, or pass --herald PATH)",
            o.herald.display()
        );
        std::process::exit(2);
    }
    header(&args);
    let scenarios: Vec<&str> = match scenario.as_str() {
        "all" | "smoke" => vec![
            "cold", "restart", "idle", "burst", "lateness", "drop", "spread", "check",
        ],
        s => vec![s],
    };
    if scenario == "smoke" {
        o.scale = 40;
        o.accounts = Some(4);
        o.lead = Some(o.lead.unwrap_or(8));
    }
    let mut failed = false;
    for s in scenarios {
        match run_scenario(s, &o) {
            Ok(rows) => {
                for r in rows {
                    r.print();
                    failed |= !r.complete;
                }
            }
            Err(e) => {
                println!("| {s} | — | error: {e} | | | | | |");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn default_herald() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("herald")
}

/// The machine, the command and the date, then the table's head.
fn header(args: &[String]) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        })
        .map_or("?".to_string(), |kb| format!("{:.1} GiB", kb as f64 / 1048576.0));
    println!("herald-bench: {}", args.join(" "));
    println!(
        "date {}, {nproc} CPUs, {mem} memory",
        Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    println!();
    println!("| scenario | scale | ready | RSS at ready / peak | throughput | lateness p50 / p99 | outcome | note |");
    println!("|---|---|---|---|---|---|---|---|");
}

/// One row of the table.
#[derive(Default)]
struct Row {
    scenario: String,
    scale: String,
    ready: Option<Duration>,
    rss: Option<(u64, u64)>,
    throughput: Option<f64>,
    lateness: Option<(Duration, Duration)>,
    outcome: String,
    note: String,
    /// Whether the scenario did all it should (every post published, every
    /// file ingested): false fails the run, whatever the timings.
    complete: bool,
}

impl Row {
    fn print(&self) {
        let ms = |d: Duration| {
            if d.as_secs_f64() >= 10.0 {
                format!("{:.1} s", d.as_secs_f64())
            } else {
                format!("{:.1} ms", d.as_secs_f64() * 1000.0)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.scale,
            self.ready.map_or("—".into(), ms),
            self.rss.map_or("—".into(), |(now, peak)| format!(
                "{} / {} MB",
                now / 1024,
                peak / 1024
            )),
            self.throughput.map_or("—".into(), |t| format!("{t:.0}/s")),
            self.lateness
                .map_or("—".into(), |(a, b)| format!("{} / {}", ms(a), ms(b))),
            self.outcome,
            self.note
        );
    }
}

fn run_scenario(s: &str, o: &Options) -> Result<Vec<Row>, String> {
    let accounts = |default: usize| o.accounts.unwrap_or(default).max(1);
    match s {
        "cold" | "restart" | "idle" => {
            let a = accounts((o.scale / 10).clamp(1, 1000));
            let m = o.files.unwrap_or((o.scale / a).max(1));
            cold(o, a, m, s)
        }
        "burst" => burst(o, accounts((o.scale / 10).clamp(1, 1000)), o.scale, 0),
        "lateness" => {
            let a = accounts((o.scale / 10).clamp(1, 1000));
            burst(o, a, 20.min(a), o.scale / a)
        }
        "drop" => drop_files(o, 1, o.scale, "drop"),
        "spread" => drop_files(o, accounts((o.scale / 2).clamp(1, 1000)), o.scale, "spread"),
        "check" => check(o),
        other => Err(format!("unknown scenario {other}\n{USAGE}")),
    }
}

/// A generated installation in a temporary folder, removed afterwards
/// unless `--keep`.
struct Install {
    root: PathBuf,
    keep: bool,
    accounts: Vec<String>,
}

impl Drop for Install {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("herald-bench: kept {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

impl Install {
    fn new(n: usize, keep: bool) -> Result<Install, String> {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("herald-bench-{}-{seq}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let mut install = Install {
            root,
            keep,
            accounts: Vec::new(),
        };
        let root = install.root.clone();
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(example.join("herald.toml")).map_err(|e| e.to_string())?;
        // The example's rulebooks, as a real company would have them.
        let rulebooks = text
            .find("[rulebooks.company]")
            .map(|i| &text[i..])
            .ok_or("config/herald.toml has no [rulebooks.company]")?;
        std::fs::create_dir_all(root.join("dictionaries")).map_err(|e| e.to_string())?;
        std::fs::copy(
            example.join("dictionaries/corporate.yml"),
            root.join("dictionaries/corporate.yml"),
        )
        .map_err(|e| e.to_string())?;
        let mut config = String::from(
            "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\nsettle = \"1s\"\nmax_in_flight = 64\n\n[defaults]\ntime_zone = \"Asia/Tokyo\"\nmax_lateness = \"15m\"\nmin_interval = \"0s\"\nstale = \"hold\"\n\n[platforms.sandbox]\nmax_length = 280\n\n",
        );
        for i in 0..n {
            let id = format!("acct-{i:04}");
            // Two rulebook sets, as in the example: most accounts share one.
            let rulebooks = if i % 2 == 0 { "japanese" } else { "recruiting" };
            config.push_str(&format!(
                "[[account]]\nid = \"{id}\"\nplatform = \"sandbox\"\nhandle = \"@{id}\"\nowner = \"Owner {i} <owner{i}@example.co.jp>\"\ntime_zone = \"Asia/Tokyo\"\nrulebooks = [\"{rulebooks}\"]\n\n"
            ));
            std::fs::create_dir_all(root.join("queue").join(&id)).map_err(|e| e.to_string())?;
            install.accounts.push(id);
        }
        config.push_str(rulebooks);
        std::fs::write(root.join("herald.toml"), config).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(root.join("state")).map_err(|e| e.to_string())?;
        Ok(install)
    }

    fn root(&self) -> &Path {
        &self.root
    }

    /// Writes post `n` of `account`, due `at`, dated back past the settle time.
    fn post(&self, account: &str, name: &str, n: usize, at: DateTime<Utc>) -> Result<(), String> {
        let path = self.root().join("queue").join(account).join(name);
        let text = text_of(account, n);
        let body = serde_json::json!({
            "text": text,
            "at": at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "kind": "news",
        });
        std::fs::write(&path, body.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
        let old = filetime::FileTime::from_system_time(SystemTime::now() - Duration::from_secs(60));
        filetime::set_file_mtime(&path, old).map_err(|e| e.to_string())
    }

    /// Writes `m` posts per account scheduled for tomorrow, a minute apart,
    /// numbered from `first`; returns the number after the last.
    fn pending(&self, prefix: &str, first: usize, m: usize) -> Result<usize, String> {
        let tomorrow = Utc::now() + chrono::TimeDelta::days(1);
        let mut n = first;
        for account in &self.accounts {
            for j in 0..m {
                let at = tomorrow + chrono::TimeDelta::minutes(j as i64);
                self.post(account, &format!("{prefix}-{j:04}.json"), n, at)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Starts `herald run` on this installation and waits for READY=1.
    fn start(&self, herald: &Path, timeout: Duration) -> Result<Running, String> {
        let socket_path = self.root().join("notify.sock");
        let _ = std::fs::remove_file(&socket_path);
        let socket = UnixDatagram::bind(&socket_path).map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root().join("herald.log"))
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let child = Command::new(herald)
            .arg("run")
            .arg("--config")
            .arg(self.root().join("herald.toml"))
            .env("NOTIFY_SOCKET", &socket_path)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", herald.display()))?;
        let mut running = Running { child };
        let mut buf = [0u8; 4096];
        loop {
            if started.elapsed() > timeout {
                running.stop();
                return Err(format!("no READY within {timeout:?}"));
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(format!(
                    "herald exited ({status}) before READY; see {}",
                    self.root().join("herald.log").display()
                ));
            }
            if let Ok(n) = socket.recv(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
                    return Ok(running.ready_after(started.elapsed()));
                }
            }
        }
    }

    /// Every line of every sandbox outbox: (account, delivery id, published at).
    fn published(&self) -> Vec<(String, DateTime<Utc>)> {
        let mut out = Vec::new();
        for a in &self.accounts {
            let path = self.root().join("state/sandbox").join(format!("{a}.jsonl"));
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                if let Some(at) = v["published_at"].as_str().and_then(|s| s.parse().ok()) {
                    out.push((a.clone(), at));
                }
            }
        }
        out
    }

    /// How many notes herald has written (or files it has moved) in the queue.
    fn handled(&self, accounts: &[String]) -> usize {
        accounts
            .iter()
            .map(|a| {
                std::fs::read_dir(self.root().join("queue").join(a)).map_or(0, |rd| {
                    rd.filter_map(Result::ok)
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".herald.txt"))
                        .count()
                })
            })
            .sum()
    }
}

/// Post `n`'s text: business phrases and a pseudo-random tail, distinct
/// enough that the duplicate rule compares them all and finds no copy.
fn text_of(account: &str, n: usize) -> String {
    const JA: &[&str] = &[
        "本日、東京オフィスに新しいショールームを開設しました。",
        "平日10時から17時まで、どなたでもご見学いただけます。",
        "新製品の説明会を来月開催します。",
        "サポート窓口の受付時間を変更します。",
        "社員インタビューを公開しました。",
        "展示会への出展が決まりました。",
    ];
    const EN: &[&str] = &[
        "Our team opened a new office today.",
        "Visit us from 10 to 17 on weekdays.",
        "Read the interview with our engineers.",
        "We join the trade fair next month.",
    ];
    const SYLLABLES: &[char] = &[
        'あ', 'い', 'う', 'え', 'お', 'か', 'き', 'く', 'け', 'こ', 'さ', 'し', 'す', 'せ', 'そ', 'た', 'ち', 'つ',
        'て', 'と', 'な', 'に', 'ぬ', 'ね', 'の', 'は', 'ひ', 'ふ', 'へ', 'ほ', 'ま', 'み', 'む', 'め', 'も', 'や',
        'ゆ', 'よ', 'ら', 'り', 'る', 'れ', 'ろ', 'わ', '山', '川', '空', '海', '花', '森', '風', '光', '道', '街',
        '駅', '港',
    ];
    // A small linear congruential generator: the same data every run.
    let mut x = (n as u64 + 1)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: usize| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % m
    };
    let mut text = String::new();
    if n % 4 == 3 {
        text.push_str(EN[next(EN.len())]);
        text.push(' ');
        for _ in 0..6 {
            for _ in 0..5 {
                text.push((b'a' + next(26) as u8) as char);
            }
            text.push(' ');
        }
    } else {
        text.push_str(JA[next(JA.len())]);
        for _ in 0..40 {
            text.push(SYLLABLES[next(SYLLABLES.len())]);
        }
        text.push('。');
    }
    text.push_str(&format!(" ({account} #{n})"));
    text
}

/// A running daemon.
struct Running {
    child: Child,
}

impl Running {
    fn ready_after(self, _d: Duration) -> Running {
        self
    }

    /// Resident memory now and at its peak, in kB.
    fn rss(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// CPU time (user + system, in clock ticks) and context switches of
    /// each thread (by thread id).
    fn activity(&self) -> (u64, std::collections::BTreeMap<String, u64>) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command (which may hold spaces) in parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let mut switches = std::collections::BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in rd.filter_map(Result::ok) {
                let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
                let n: &mut u64 = switches
                    .entry(t.file_name().to_string_lossy().into_owned())
                    .or_default();
                for l in s.lines() {
                    if l.starts_with("voluntary_ctxt_switches:") || l.starts_with("nonvoluntary_ctxt_switches:") {
                        *n += l
                            .split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0);
                    }
                }
            }
        }
        (ticks, switches)
    }

    /// SIGTERM, then wait for the daemon to flush and exit.
    fn stop(&mut self) {
        // SAFETY: kill(2) on the daemon this harness started and still owns.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

fn ready_timeout(posts: usize) -> Duration {
    Duration::from_secs(60 + posts as u64 / 20)
}

/// Cold start (then restart and idle, as asked) of `a` accounts × `m` files.
fn cold(o: &Options, a: usize, m: usize, which: &str) -> Result<Vec<Row>, String> {
    let install = Install::new(a, o.keep)?;
    let n = install.pending("post", 0, m)?;
    let scale = format!("{a} × {m} = {n}");
    let started = Instant::now();
    let mut daemon = install.start(&o.herald, ready_timeout(n))?;
    let ready = started.elapsed();
    let rss = daemon.rss();
    let handled = install.handled(&install.accounts);
    let cold_row = Row {
        scenario: "cold start".into(),
        scale: scale.clone(),
        ready: Some(ready),
        rss,
        throughput: Some(n as f64 / ready.as_secs_f64()),
        outcome: format!("{handled} of {n} noted"),
        complete: handled == n,
        ..Default::default()
    };
    if which == "cold" {
        daemon.stop();
        return Ok(vec![cold_row]);
    }
    if which == "idle" {
        // Let the post-READY settling pass (if any) finish first.
        std::thread::sleep(Duration::from_secs(2));
        let (t0, s0) = daemon.activity();
        let window = Duration::from_secs(10);
        std::thread::sleep(window);
        let (t1, s1) = daemon.activity();
        let rss = daemon.rss();
        daemon.stop();
        let cpu = (t1 - t0) as f64 / 100.0 / window.as_secs_f64() * 100.0;
        // Threads that came and went in between count from zero.
        let woke: u64 = s1
            .iter()
            .map(|(t, n)| n.saturating_sub(s0.get(t).copied().unwrap_or(0)))
            .sum();
        let wakeups = woke as f64 / window.as_secs_f64();
        return Ok(vec![Row {
            scenario: "idle".into(),
            scale,
            rss,
            outcome: format!("CPU {cpu:.2} %, {wakeups:.1} wake-ups/s"),
            complete: true,
            ..Default::default()
        }]);
    }
    daemon.stop();
    drop(daemon);
    let started = Instant::now();
    let mut daemon = install.start(&o.herald, ready_timeout(n))?;
    let ready = started.elapsed();
    let rss = daemon.rss();
    daemon.stop();
    Ok(vec![Row {
        scenario: "restart".into(),
        scale,
        ready: Some(ready),
        rss,
        outcome: format!(
            "cold start was {:.2} s",
            cold_row.ready.unwrap_or_default().as_secs_f64()
        ),
        complete: true,
        ..Default::default()
    }])
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `due` posts over `a` accounts, due together `lead` seconds after start
/// (or, with `pending` per account also scheduled for tomorrow, due one by
/// one 250 ms apart: the lateness scenario).
fn burst(o: &Options, a: usize, due: usize, pending: usize) -> Result<Vec<Row>, String> {
    let install = Install::new(a, o.keep)?;
    let lead = o.lead.unwrap_or(20 + (due + pending * a) as u64 / 500);
    let at = Utc::now() + chrono::TimeDelta::seconds(lead as i64);
    let at = at - chrono::TimeDelta::nanoseconds(at.timestamp_subsec_nanos() as i64);
    let spaced = pending > 0;
    let mut due_at = Vec::new();
    for i in 0..due {
        let account = &install.accounts[i % a];
        let t = if spaced {
            at + chrono::TimeDelta::milliseconds(250 * i as i64)
        } else {
            at
        };
        install.post(account, &format!("due-{i:05}.json"), i, t)?;
        due_at.push((account.clone(), t));
    }
    let n = install.pending("later", due, pending)?;
    let started = Instant::now();
    let mut daemon = install.start(&o.herald, ready_timeout(n))?;
    let ready = started.elapsed();
    let late_start = Utc::now() > at;
    let last_due = due_at.iter().map(|(_, t)| *t).max().unwrap_or(at);
    let deadline = Instant::now()
        + (last_due - Utc::now()).to_std().unwrap_or_default()
        + Duration::from_secs(60 + due as u64 / 20);
    let mut published = install.published();
    while published.len() < due && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        published = install.published();
    }
    let rss = daemon.rss();
    daemon.stop();
    // Lateness: each post's publication against its own instant (the burst's
    // posts share one; the lateness probes are matched in order per account).
    let mut late: Vec<Duration> = Vec::new();
    if spaced {
        let mut per_account: std::collections::BTreeMap<&str, Vec<DateTime<Utc>>> = Default::default();
        for (acc, t) in &published {
            per_account.entry(acc.as_str()).or_default().push(*t);
        }
        let mut due_per_account: std::collections::BTreeMap<&str, Vec<DateTime<Utc>>> = Default::default();
        for (acc, t) in &due_at {
            due_per_account.entry(acc.as_str()).or_default().push(*t);
        }
        for (acc, mut ts) in per_account {
            ts.sort();
            let mut dues = due_per_account.remove(acc).unwrap_or_default();
            dues.sort();
            for (p, d) in ts.iter().zip(dues) {
                late.push((*p - d).to_std().unwrap_or_default());
            }
        }
    } else {
        late = published
            .iter()
            .map(|(_, t)| (*t - at).to_std().unwrap_or_default())
            .collect();
    }
    late.sort();
    let first = published.iter().map(|(_, t)| *t).min();
    let last = published.iter().map(|(_, t)| *t).max();
    let span = match (first, last) {
        (Some(f), Some(l)) => (l - f).to_std().unwrap_or_default().max(Duration::from_millis(1)),
        _ => Duration::ZERO,
    };
    let mut note = String::new();
    if late_start {
        note = format!("READY after the due instant (lead {lead} s): lateness includes start-up");
    }
    Ok(vec![Row {
        scenario: if spaced { "lateness" } else { "burst" }.into(),
        scale: if spaced {
            format!("{due} due over {a} accounts, {} pending", pending * a)
        } else {
            format!("{due} due at once over {a} accounts")
        },
        ready: Some(ready),
        rss,
        throughput: (!spaced && !span.is_zero()).then(|| published.len() as f64 / span.as_secs_f64()),
        lateness: (!late.is_empty()).then(|| (percentile(&late, 0.5), percentile(&late, 0.99))),
        outcome: format!("{} of {due} published", published.len()),
        note,
        complete: published.len() == due,
    }])
}

/// `n` files dropped after READY into the folders of the first `a` accounts.
fn drop_files(o: &Options, a: usize, n: usize, name: &str) -> Result<Vec<Row>, String> {
    let install = Install::new(a.max(2), o.keep)?;
    let mut daemon = install.start(&o.herald, ready_timeout(0))?;
    let targets: Vec<String> = install.accounts[..a].to_vec();
    let tomorrow = Utc::now() + chrono::TimeDelta::days(1);
    let started = Instant::now();
    for i in 0..n {
        let account = &targets[i % targets.len()];
        install.post(
            account,
            &format!("drop-{i:05}.json"),
            i,
            tomorrow + chrono::TimeDelta::seconds(i as i64),
        )?;
    }
    let written = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(120 + n as u64 / 10);
    let mut handled = install.handled(&targets);
    while handled < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        handled = install.handled(&targets);
    }
    let took = started.elapsed();
    let rss = daemon.rss();
    daemon.stop();
    Ok(vec![Row {
        scenario: name.into(),
        scale: format!("{n} files into {a} folder(s)"),
        ready: None,
        rss,
        throughput: Some(handled as f64 / took.as_secs_f64()),
        lateness: None,
        outcome: format!("{handled} of {n} noted in {:.2} s", took.as_secs_f64()),
        note: format!("writing the files took {:.2} s", written.as_secs_f64()),
        complete: handled == n,
    }])
}

/// One `herald check` of one post, process start to exit.
fn check(o: &Options) -> Result<Vec<Row>, String> {
    let install = Install::new(2, o.keep)?;
    let file = install.root().join("post.json");
    let mut f = std::fs::File::create(&file).map_err(|e| e.to_string())?;
    writeln!(
        f,
        "{}",
        serde_json::json!({"text": "本日、東京オフィスに新しいショールームを開設しました。平日10時から17時まで、どなたでもご見学いただけます。", "kind": "news"})
    )
    .map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    let mut ok = true;
    for _ in 0..5 {
        let started = Instant::now();
        let status = Command::new(&o.herald)
            .arg("check")
            .arg("--config")
            .arg(install.root().join("herald.toml"))
            .arg("--account")
            .arg(&install.accounts[0])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        times.push(started.elapsed());
        ok &= status.code().is_some_and(|c| c < 2);
    }
    times.sort();
    Ok(vec![Row {
        scenario: "check".into(),
        scale: "1 post, example rulebooks".into(),
        ready: Some(times[times.len() / 2]),
        outcome: if ok { "checked".into() } else { "check failed".into() },
        note: "median of 5 runs, process start to exit".into(),
        complete: ok,
        ..Default::default()
    }])
}
