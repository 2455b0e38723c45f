//! The metrics endpoint: its output is checked line by line against the
//! Prometheus text format (0.0.4) by a strict checker, and its figures
//! against what the daemon did.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{utc, Env, TOKYO};

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("bad value {s:?}")),
    }
}

/// Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("labels must start with {")?;
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..].strip_prefix('"').ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) | None => return Err("unterminated label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} repeated"));
        }
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err("labels must be separated by commas".into());
        }
    }
}

/// Checks a whole exposition: every line well formed, each family's TYPE
/// given once and before its samples, samples of a family together,
/// suffixes allowed only for histograms, histogram buckets cumulative and
/// ending at +Inf with `_count`, counters never negative, no duplicate
/// series. Returns the samples.
fn check_exposition(text: &str) -> Result<Vec<Sample>, String> {
    if !text.ends_with('\n') {
        return Err("the exposition must end with a newline".into());
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: HashSet<String> = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !valid_metric_name(name) {
                        return Err(at("bad metric name".into()));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(at("TYPE given twice".into()));
                    }
                    if finished.contains(name) || current.as_deref() == Some(name) {
                        return Err(at("TYPE after the family's samples".into()));
                    }
                }
                (Some("HELP"), Some(name), _) if !valid_metric_name(name) || !helps.insert(name.to_string()) => {
                    return Err(at("bad or repeated HELP".into()));
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !valid_metric_name(name) {
            return Err(at("bad metric name".into()));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or_else(|| at("no space before the value".into()))?
            .split(' ');
        let value = parse_value(fields.next().unwrap_or("")).map_err(at)?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| at("bad timestamp".into()))?;
        }
        if fields.next().is_some() {
            return Err(at("trailing fields".into()));
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram" || t == "summary"))
            })
            .unwrap_or(name)
            .to_string();
        let kind = types
            .get(&family)
            .ok_or_else(|| at(format!("sample of {family} before its TYPE")))?;
        if current.as_deref() != Some(family.as_str()) {
            if finished.contains(&family) {
                return Err(at("samples of one family are not together".into()));
            }
            if let Some(prev) = current.replace(family.clone()) {
                finished.insert(prev);
            }
        }
        if kind == "histogram" && name == family {
            return Err(at("a histogram sample without _bucket/_sum/_count".into()));
        }
        if name.ends_with("_bucket") && kind == "histogram" && !labels.contains_key("le") {
            return Err(at("a bucket without le".into()));
        }
        if kind == "counter" && (value < 0.0 || value.is_nan()) {
            return Err(at("a negative counter".into()));
        }
        if !series.insert(format!("{name}{labels:?}")) {
            return Err(at("duplicate series".into()));
        }
        samples.push((name.to_string(), labels, value));
    }
    // Histograms: buckets cumulative, +Inf last and equal to _count.
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        let mut by_series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for (name, labels, v) in &samples {
            if *name == format!("{family}_bucket") {
                let mut rest = labels.clone();
                let le = parse_value(&rest.remove("le").unwrap())?;
                by_series.entry(format!("{rest:?}")).or_default().push((le, *v));
            }
        }
        for (key, buckets) in by_series {
            if !buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1) {
                return Err(format!("{family}{key}: buckets not increasing and cumulative"));
            }
            let last = buckets.last().unwrap();
            if last.0 != f64::INFINITY {
                return Err(format!("{family}{key}: no +Inf bucket"));
            }
            let count = samples
                .iter()
                .find(|(n, l, _)| *n == format!("{family}_count") && format!("{l:?}") == key)
                .ok_or_else(|| format!("{family}{key}: no _count"))?;
            if count.2 != last.1 {
                return Err(format!("{family}{key}: _count differs from the +Inf bucket"));
            }
        }
    }
    Ok(samples)
}

#[test]
fn the_checker_refuses_what_prometheus_refuses() {
    let ok = "# TYPE a counter\na{x=\"1\"} 2\n";
    assert!(check_exposition(ok).is_ok());
    for (bad, why) in [
        ("a 1\n", "no TYPE"),
        ("# TYPE a counter\na{x=\"1} 2\n", "unterminated label"),
        ("# TYPE a counter\na{x=1} 2\n", "unquoted label"),
        ("# TYPE a counter\na -1\n", "negative counter"),
        ("# TYPE a gauge\na one\n", "bad value"),
        ("# TYPE a gauge\na 1", "no final newline"),
        (
            "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"2\"} 1\n",
            "family split",
        ),
        ("# TYPE a gauge\na 1\na 2\n", "duplicate series"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "no +Inf",
        ),
        ("# TYPE 1a gauge\n", "bad name"),
    ] {
        assert!(check_exposition(bad).is_err(), "accepted ({why}): {bad:?}");
    }
}

fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    (head.to_string(), body.to_string())
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_valid_prometheus_text_with_the_daemons_figures() {
    let mut env = Env::new(TOKYO);
    env.config.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    env.clock.set(utc("2026-12-01T00:00:00Z"));
    env.drop_post("tokyo", "now.json", r#"{"text": "おはようございます"}"#);
    env.drop_post("tokyo", "held.json", r#"{"text": "業績の話"}"#);
    env.drop_post(
        "tokyo",
        "later.json",
        r#"{"text": "あとで", "at": "2026-12-01T10:00:00+09:00"}"#,
    );
    let daemon = env.daemon();
    let addr = daemon.metrics_addr().expect("the endpoint is bound at open");
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(daemon.run(async {
        let _ = stop_rx.await;
    }));
    for _ in 0..400 {
        if env.path("tokyo", "published/now.json").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (head, body) = tokio::task::spawn_blocking(move || get(addr, "/metrics"))
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    let samples = check_exposition(&body).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{body}"));

    let tokyo = [("account", "tokyo")];
    assert_eq!(value(&samples, "herald_published_total", &tokyo), Some(1.0));
    assert_eq!(
        value(
            &samples,
            "herald_deliveries",
            &[("account", "tokyo"), ("state", "published")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "herald_deliveries",
            &[("account", "tokyo"), ("state", "held")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "herald_deliveries",
            &[("account", "tokyo"), ("state", "scheduled")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&samples, "herald_queue_pending", &tokyo), Some(2.0));
    assert_eq!(value(&samples, "herald_overdue_seconds", &tokyo), Some(0.0));
    assert_eq!(
        value(&samples, "herald_last_publish_timestamp_seconds", &tokyo),
        Some(utc("2026-12-01T00:00:00Z").timestamp() as f64)
    );
    assert_eq!(
        value(&samples, "herald_publish_latency_seconds_count", &tokyo),
        Some(1.0)
    );
    // Published at its due instant (the manual clock did not move).
    assert_eq!(
        value(
            &samples,
            "herald_publish_latency_seconds_bucket",
            &[("account", "tokyo"), ("le", "1")]
        ),
        Some(1.0)
    );
    // Three posts were checked.
    assert_eq!(value(&samples, "herald_check_duration_seconds_count", &[]), Some(3.0));
    assert_eq!(value(&samples, "herald_reloads_total", &[("result", "ok")]), Some(0.0));

    let (head, _) = tokio::task::spawn_blocking(move || get(addr, "/")).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    stop.send(()).unwrap();
    handle.await.unwrap().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "the endpoint outlived the daemon");

    // Two minutes past the later post's due instant, with no daemon to publish it.
    let store = herald::store::Store::open(&env.config.store_path()).unwrap();
    let g = herald::metrics::Gauges::collect(&store, &env.config, utc("2026-12-01T01:02:00Z")).unwrap();
    assert_eq!(g.overdue["tokyo"], 120.0);
    assert_eq!(g.pending["tokyo"], 2);
}
