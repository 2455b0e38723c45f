//! Owners and admins hear at once (issue 17): notices go by e-mail to a
//! real SMTP server on 127.0.0.1 (aiosmtpd, requiring STARTTLS and a login,
//! as a company relay does) and to a webhook receiver that checks the HMAC
//! signature; a channel that is down delays nothing and is retried.

mod common;
#[allow(dead_code)] // the fake X uses the rest
#[path = "fake/http.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{eventually, skip, utc, Env, Running};
use hmac::{Hmac, Mac};
use http::{Reply, Request, Response};
use sha2::Sha256;

const WEBHOOK_KEY: &str = "k3y-for-tests";

/// A test CA and a server certificate for 127.0.0.1 signed by it, made
/// with the openssl command (rustls refuses a CA certificate used as the
/// server's own).
fn certificates(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let ok = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=herald test CA",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    ok.then(|| (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem")))
}

/// aiosmtpd on 127.0.0.1, stopped on drop.
struct Smtp {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Smtp {
    fn start(dir: &Path, cert: &Path, key: &Path) -> Option<Smtp> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let out = dir.join("mail");
        std::fs::create_dir_all(&out).ok()?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(cert)
            .arg(key)
            .args(["herald", "s3cret"])
            .arg(&out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        Some(Smtp { child, port, out })
    }

    fn mails(&self) -> Vec<serde_json::Value> {
        let mut v: Vec<serde_json::Value> = std::fs::read_dir(&self.out)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
            .collect();
        v.sort_by_key(|m| m["data"].as_str().unwrap_or("").to_string());
        v
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the webhook receiver got: the body and whether its signature held.
#[derive(Clone, Default)]
struct Hook {
    received: Arc<Mutex<Vec<(serde_json::Value, bool)>>>,
    /// Answers 503 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
}

impl Hook {
    async fn start(&self) -> (u16, tokio::task::JoinHandle<()>) {
        let me = self.clone();
        http::serve(Arc::new(move |req: Request| {
            // Checked here with the hmac crate, independently of herald's code.
            let ts = req.header("x-herald-timestamp").unwrap_or("").to_string();
            let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_KEY.as_bytes()).unwrap();
            mac.update(ts.as_bytes());
            mac.update(b".");
            mac.update(&req.body);
            let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            let ok = req.header("x-herald-signature") == Some(want.as_str())
                && req.header("content-type") == Some("application/json");
            let body = serde_json::from_slice(&req.body).unwrap_or(serde_json::Value::Null);
            me.received.lock().unwrap().push((body, ok));
            let mut fail = me.fail_first.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Reply::Send(Response {
                    status: 503,
                    headers: vec![],
                    body: b"busy".to_vec(),
                });
            }
            if !ok {
                return Reply::Send(Response {
                    status: 401,
                    headers: vec![],
                    body: b"bad signature".to_vec(),
                });
            }
            Reply::Send(Response {
                status: 200,
                headers: vec![],
                body: b"ok".to_vec(),
            })
        }))
        .await
    }

    fn got(&self) -> Vec<(serde_json::Value, bool)> {
        self.received.lock().unwrap().clone()
    }
}

fn config(smtp_port: u16, ca: &Path, hook_port: u16, extra: &str) -> String {
    format!(
        r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
contact = "hanako@example.co.jp"
time_zone = "Asia/Tokyo"

[notifications]
admins = ["ops@example.co.jp"]
credentials_dir = "creds"
backoff = "10s"
{extra}

[notifications.smtp]
host = "127.0.0.1"
port = {smtp_port}
from = "herald@example.co.jp"
ca_file = "{}"
login = true

[[notifications.webhook]]
name = "ops"
url = "http://127.0.0.1:{hook_port}/hook"
format = "slack"
admin = true
"#,
        ca.display()
    )
}

struct Setup {
    env: Env,
    smtp: Smtp,
    hook: Hook,
    _hook_task: tokio::task::JoinHandle<()>,
    _certs: tempfile::TempDir,
}

async fn setup() -> Option<Setup> {
    setup_with("").await
}

/// As [`setup`], with more `[notifications]` keys.
async fn setup_with(extra: &str) -> Option<Setup> {
    let certs = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = certificates(certs.path()) else {
        skip("the openssl command is needed to make the test SMTP server's certificate");
        return None;
    };
    let Some(smtp) = Smtp::start(certs.path(), &cert, &key) else {
        skip("the test SMTP server needs python3 with aiosmtpd (pip install aiosmtpd; .ci/run installs it)");
        return None;
    };
    let hook = Hook::default();
    let (hook_port, task) = hook.start().await;
    let env = Env::new(&config(smtp.port, &ca, hook_port, extra));
    let creds = env.dir.path().join("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(
        creds.join("smtp.json"),
        r#"{"username": "herald", "password": "s3cret"}"#,
    )
    .unwrap();
    std::fs::write(creds.join("webhook-ops.key"), WEBHOOK_KEY).unwrap();
    Some(Setup {
        env,
        smtp,
        hook,
        _hook_task: task,
        _certs: certs,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_post_is_mailed_to_the_owner_over_starttls_and_posted_to_the_signed_webhook() {
    let Some(s) = setup().await else { return };
    s.env.clock.set(utc("2026-12-01T01:00:00Z"));
    let daemon = Running::start(s.env.daemon());
    // The base rulebook holds financial topics for review.
    s.env
        .drop_post("tokyo", "results.json", r#"{"text": "本日、業績予想を発表しました"}"#);
    eventually("the owner's e-mail", || !s.smtp.mails().is_empty()).await;
    let mail = &s.smtp.mails()[0];
    assert_eq!(mail["rcpt_tos"], serde_json::json!(["hanako@example.co.jp"]));
    assert_eq!(mail["mail_from"], "herald@example.co.jp");
    assert_eq!(mail["tls"], true, "sent after STARTTLS");
    assert_eq!(mail["user"], "herald", "logged in with smtp.json");
    let data = mail["data"].as_str().unwrap();
    let subject = decoded_words(data.lines().find(|l| l.starts_with("Subject:")).unwrap());
    assert!(
        subject.contains("投稿が保留されました"),
        "a Japanese subject: {subject} in {data}"
    );
    let body = base64_body(data);
    assert!(body.contains("results.json") && body.contains("保留"), "{body}");
    eventually("the webhook", || !s.hook.got().is_empty()).await;
    let (body, signed) = s.hook.got()[0].clone();
    assert!(signed, "the HMAC signature checks out");
    let text = body["text"].as_str().expect("a Slack body: {\"text\"}");
    assert!(
        text.contains("保留"),
        "in the owner's language (the post is Japanese): {text}"
    );
    assert!(text.contains("results.json"), "{text}");
    daemon.stop().await;
    // Sent notices leave the spool.
    let spool = s.env.config.daemon.state_dir.join("notifications/spool");
    assert_eq!(std::fs::read_dir(spool).map(|d| d.count()).unwrap_or(0), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_is_down_delays_nothing_and_is_retried_with_backoff() {
    let Some(s) = setup().await else { return };
    *s.hook.fail_first.lock().unwrap() = 2;
    s.env.clock.set(utc("2026-12-01T01:00:00Z"));
    let daemon = Running::start(s.env.daemon());
    s.env
        .drop_post("tokyo", "results.json", r#"{"text": "Earnings call today"}"#);
    s.env
        .drop_post("tokyo", "news.json", r#"{"text": "Our shop opens at ten"}"#);
    eventually("the other post is published at once", || {
        s.env.path("tokyo", "published/news.json").exists()
    })
    .await;
    eventually("the first webhook attempt", || s.hook.got().len() == 1).await;
    // The spool keeps it for 10s (backoff), then 20s.
    let spooled = s.env.config.daemon.state_dir.join("notifications/spool");
    eventually("the notice is waiting for its retry", || {
        std::fs::read_dir(&spooled).is_ok_and(|d| {
            d.flatten()
                .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("\"attempts\": 1")))
        })
    })
    .await;
    s.env.clock.advance(chrono::TimeDelta::seconds(11));
    eventually("the second attempt", || s.hook.got().len() == 2).await;
    s.env.clock.advance(chrono::TimeDelta::seconds(21));
    eventually("the third attempt", || s.hook.got().len() == 3).await;
    assert!(s.hook.got().iter().all(|(_, signed)| *signed));
    let (body, _) = &s.hook.got()[2];
    assert!(
        body["text"].as_str().unwrap().contains("Post held"),
        "in English: {body}"
    );
    // The e-mail went out at once, whatever the webhook did.
    assert!(!s.smtp.mails().is_empty());
    daemon.stop().await;
}

/// The text of RFC 2047 encoded words (`=?utf-8?b?…?=`) in a header line.
fn decoded_words(line: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    for part in line.split_whitespace() {
        match part.strip_prefix("=?utf-8?b?").and_then(|p| p.strip_suffix("?=")) {
            Some(b64) => out
                .push_str(&String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()),
            None => out.push_str(part),
        }
    }
    out
}

/// The body of a message sent with `Content-Transfer-Encoding: base64`.
fn base64_body(data: &str) -> String {
    use base64::Engine;
    let (head, body) = data.split_once("\r\n\r\n").or_else(|| data.split_once("\n\n")).unwrap();
    assert!(head.contains("Content-Transfer-Encoding: base64"), "{head}");
    let joined: String = body.split_whitespace().collect();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).unwrap()).unwrap()
}

/// A platform whose token can no longer be refreshed.
struct Expired;

impl herald::platform::Platform for Expired {
    fn kind(&self) -> herald::config::PlatformKind {
        herald::config::PlatformKind::X
    }
    fn publish<'a>(
        &'a self,
        _post: &'a herald::platform::Outgoing,
        _progress: &'a dyn herald::platform::Progress,
    ) -> herald::platform::BoxFuture<'a, Result<herald::platform::Published, herald::platform::PublishError>> {
        Box::pin(async {
            Err(herald::platform::PublishError::NeedsReauth(
                "X refused the refresh token (invalid_grant)".into(),
            ))
        })
    }
    fn delete<'a>(
        &'a self,
        _: &'a [String],
    ) -> herald::platform::BoxFuture<'a, Result<(), herald::platform::PublishError>> {
        Box::pin(async { Ok(()) })
    }
    fn check_account(&self) -> herald::platform::BoxFuture<'_, Result<String, herald::platform::PublishError>> {
        Box::pin(async { Err(herald::platform::PublishError::NeedsReauth("expired".into())) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_cannot_be_refreshed_tells_the_admins_the_command_that_fixes_it() {
    let Some(s) = setup().await else { return };
    s.env.clock.set(utc("2026-12-01T01:00:00Z"));
    let daemon = Running::start(s.env.daemon_with("tokyo", Arc::new(Expired)));
    s.env
        .drop_post("tokyo", "news.json", r#"{"text": "Our shop opens at ten"}"#);
    eventually("mail to the owner and to the admins", || s.smtp.mails().len() >= 2).await;
    let mails = s.smtp.mails();
    let to: Vec<&str> = mails.iter().map(|m| m["rcpt_tos"][0].as_str().unwrap()).collect();
    assert!(to.contains(&"ops@example.co.jp"), "{to:?}");
    assert!(to.contains(&"hanako@example.co.jp"), "{to:?}");
    for m in &mails {
        // The account is a sandbox one standing in for X here: the command
        // names the account's platform as the registry gives it.
        assert!(
            m["data"].as_str().unwrap().contains("herald auth sandbox tokyo"),
            "{}",
            m["data"]
        );
    }
    daemon.stop().await;
}

#[tokio::test]
async fn doctor_names_a_missing_webhook_key_without_showing_any_secret() {
    let Some(s) = setup().await else { return };
    let (_, out, _) = s.env.run_cli("doctor", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let creds = |v: &serde_json::Value| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "notification credentials")
            .cloned()
            .unwrap()
    };
    assert_eq!(creds(&v)["status"], "ok", "{v}");
    std::fs::remove_file(s.env.dir.path().join("creds/webhook-ops.key")).unwrap();
    let (code, out, _) = s.env.run_cli("doctor", &["--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = creds(&v);
    assert_eq!(c["status"], "fail");
    assert!(c["detail"].as_str().unwrap().contains("webhook-ops.key"), "{c}");
    assert!(
        !out.contains("s3cret") && !out.contains(WEBHOOK_KEY),
        "no secret in the output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_published_later_than_late_after_is_reported_late() {
    let Some(s) = setup().await else { return };
    // Meant for 00:50 (09:50 in Tokyo), published at 01:00: ten minutes
    // late, within its max lateness (15m), past late_after (5m).
    s.env.clock.set(utc("2026-12-01T01:00:00Z"));
    s.env.drop_post(
        "tokyo",
        "late.json",
        r#"{"text": "Good morning", "at": "2026-12-01T09:50:00+09:00"}"#,
    );
    let daemon = Running::start(s.env.daemon());
    eventually("published", || s.env.path("tokyo", "published/late.json").exists()).await;
    eventually("the late notice", || {
        s.hook
            .got()
            .iter()
            .any(|(b, _)| b["text"].as_str().is_some_and(|t| t.contains("Post published late")))
    })
    .await;
    let (body, signed) = s
        .hook
        .got()
        .into_iter()
        .find(|(b, _)| b["text"].as_str().unwrap().contains("late"))
        .unwrap();
    assert!(signed);
    assert!(
        body["text"].as_str().unwrap().contains("10 minutes after its time"),
        "{body}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_summary_goes_out_once_a_day_at_its_time() {
    let Some(s) = setup_with("daily_summary = \"09:00\"").await else {
        return;
    };
    // 08:50 in Tokyo: not yet.
    s.env.clock.set(utc("2026-11-30T23:50:00Z"));
    s.env
        .drop_post("tokyo", "news.json", r#"{"text": "営業時間のお知らせ"}"#);
    let daemon = Running::start(s.env.daemon());
    eventually("published", || s.env.path("tokyo", "published/news.json").exists()).await;
    let summaries = || {
        s.hook
            .got()
            .into_iter()
            .filter(|(b, _)| b["text"].as_str().is_some_and(|t| t.contains("1日のまとめ")))
            .count()
    };
    assert_eq!(summaries(), 0);
    // 10:00, past the hour the idle loop sleeps: the summary, once however
    // often the loop comes round.
    s.env.clock.set(utc("2026-12-01T01:00:00Z"));
    eventually("the summary", || summaries() == 1).await;
    s.env.clock.set(utc("2026-12-01T03:00:00Z"));
    s.env
        .drop_post("tokyo", "more.json", r#"{"text": "本日の営業は終了しました"}"#);
    eventually("published too", || s.env.path("tokyo", "published/more.json").exists()).await;
    assert_eq!(summaries(), 1, "one a day");
    let (body, signed) = s
        .hook
        .got()
        .into_iter()
        .find(|(b, _)| b["text"].as_str().unwrap().contains("1日のまとめ"))
        .unwrap();
    assert!(signed);
    assert!(body["text"].as_str().unwrap().contains("公開 1件"), "{body}");
    daemon.stop().await;
}
