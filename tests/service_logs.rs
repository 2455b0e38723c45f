//! Where `herald run` logs: the journal with structured fields under
//! systemd, human lines on stderr otherwise, JSON lines with
//! `--log-format json`; each event once.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{Env, TOKYO};

/// One post that is held (financial-topic) and one that is published.
fn env_with_posts() -> Env {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "results.json", r#"{"text": "業績のお知らせ"}"#);
    env.drop_post("tokyo", "hello.json", r#"{"text": "こんにちは"}"#);
    env
}

fn herald_once(env: &Env, extra: &[&str], stderr: Stdio, journal_stream: Option<String>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(["run", "--once", "--config"])
        .arg(env.dir.path().join("herald.toml"))
        .args(extra)
        .env("HERALD_LOG", "info")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::piped())
        .stderr(stderr);
    match journal_stream {
        Some(v) => cmd.env("JOURNAL_STREAM", v),
        None => cmd.env_remove("JOURNAL_STREAM"),
    };
    let out = cmd.output().expect("running herald");
    assert!(out.status.success(), "herald run --once failed: {out:?}");
    out
}

#[test]
fn json_lines_carry_the_fields() {
    let env = env_with_posts();
    let out = herald_once(&env, &["--log-format", "json"], Stdio::piped(), None);
    let text = String::from_utf8(out.stderr).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(!events.is_empty());
    let held = events
        .iter()
        .find(|e| e["message"] == "planned" && e["state"] == "held")
        .unwrap_or_else(|| panic!("no 'planned' event for the held post: {text}"));
    assert_eq!(held["account"], "tokyo");
    assert_eq!(held["rule"], "financial-topic");
    assert_eq!(held["level"], "INFO");
    assert!(held["delivery"].as_str().is_some_and(|d| !d.is_empty()));
    let published: Vec<_> = events.iter().filter(|e| e["message"] == "published").collect();
    assert_eq!(published.len(), 1, "each event once: {text}");
}

#[test]
fn outside_systemd_logs_are_human_lines_on_stderr_each_once() {
    let env = env_with_posts();
    // A JOURNAL_STREAM naming some other file (a child whose stderr was
    // redirected) must not send logs to the journal.
    let out = herald_once(&env, &[], Stdio::piped(), Some("0:0".into()));
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.lines().all(|l| !l.starts_with('{')), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" INFO published ")).count(),
        1,
        "{text}"
    );
    let planned: Vec<&str> = text.lines().filter(|l| l.contains(" INFO planned ")).collect();
    assert_eq!(planned.len(), 2, "{text}");
    assert!(planned.iter().any(|l| l.contains("rule=\"financial-topic\"")), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {text}"
    );
}

/// The fields of one journal datagram (native protocol: `KEY=value`
/// lines, or `KEY\n<u64 le length><value>\n` for values with newlines).
fn journal_fields(mut b: &[u8]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    while !b.is_empty() {
        let nl = b.iter().position(|c| *c == b'\n').unwrap_or(b.len());
        let line = &b[..nl];
        if let Some(eq) = line.iter().position(|c| *c == b'=') {
            fields.push((
                String::from_utf8_lossy(&line[..eq]).into_owned(),
                String::from_utf8_lossy(&line[eq + 1..]).into_owned(),
            ));
            b = &b[(nl + 1).min(b.len())..];
        } else {
            let name = String::from_utf8_lossy(line).into_owned();
            let rest = &b[nl + 1..];
            let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
            fields.push((name, String::from_utf8_lossy(&rest[8..8 + len]).into_owned()));
            b = &rest[(8 + len + 1).min(rest.len())..];
        }
    }
    fields
}

#[test]
fn under_systemd_logs_go_to_the_journal_with_structured_fields_and_not_to_stderr() {
    let socket = Path::new("/run/systemd/journal/socket");
    if socket.exists() {
        // A real journald runs here; this test stands in for it only where
        // none does (CI containers).
        return common::skip(&format!(
            "{} belongs to a running journald, which the test cannot stand in for",
            socket.display()
        ));
    }
    if let Err(e) = std::fs::create_dir_all(socket.parent().unwrap()) {
        return common::skip(&format!(
            "cannot create {} for the stand-in journald ({e}; it needs root)",
            socket.parent().unwrap().display()
        ));
    }
    let journald = UnixDatagram::bind(socket).expect("binding the stand-in journald socket");
    journald.set_read_timeout(Some(Duration::from_millis(500))).unwrap();

    let env = env_with_posts();
    // stderr is a file whose device:inode JOURNAL_STREAM names, as systemd
    // sets it for a service whose output goes to the journal.
    let stderr_path = env.dir.path().join("stderr");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let stream = {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    };
    let result = std::panic::catch_unwind(|| herald_once(&env, &[], Stdio::from(stderr), Some(stream)));
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = journald.recv(&mut buf) {
        if n > 0 {
            entries.push(journal_fields(&buf[..n]));
        }
    }
    let _ = std::fs::remove_file(socket);
    let _ = std::fs::remove_dir(socket.parent().unwrap());
    result.unwrap();

    let get = |e: &Vec<(String, String)>, k: &str| e.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let held = entries
        .iter()
        .find(|e| get(e, "MESSAGE").as_deref() == Some("planned") && get(e, "STATE").as_deref() == Some("held"))
        .unwrap_or_else(|| panic!("no journal entry for the held post: {entries:?}"));
    assert_eq!(get(held, "ACCOUNT").as_deref(), Some("tokyo"));
    assert_eq!(get(held, "RULE").as_deref(), Some("financial-topic"));
    assert!(get(held, "DELIVERY").is_some_and(|d| !d.is_empty()));
    assert_eq!(get(held, "SYSLOG_IDENTIFIER").as_deref(), Some("herald"));
    assert_eq!(get(held, "PRIORITY").as_deref(), Some("6"), "info is priority 6");
    let published = entries
        .iter()
        .filter(|e| get(e, "MESSAGE").as_deref() == Some("published"))
        .count();
    assert_eq!(published, 1);
    let on_stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(on_stderr.is_empty(), "logged twice (journal and stderr): {on_stderr}");
}

#[test]
fn a_file_name_with_a_line_feed_cannot_forge_a_line_in_the_human_log() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "a\n ERROR forged: the store is lost.json",
        r#"{"text": "こんにちは"}"#,
    );
    let out = herald_once(&env, &["--log-format", "human"], Stdio::piped(), None);
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("ERROR forged"), "the file is logged: {text}");
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("ERROR forged")),
        "one line per event: {text}"
    );
    assert!(text.contains("a␊ ERROR forged"), "{text}");
}
