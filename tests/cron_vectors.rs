//! Checks herald's crontab module against golden vectors produced by
//! `gen_vectors.py` (croniter for field semantics, herald's DST rules applied
//! where croniter differs; those vectors carry a "note").

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use herald::schedule::CronSpec;
use serde_json::Value;

fn load() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cron_vectors.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    match serde_json::from_str(&text) {
        Ok(Value::Array(v)) => v,
        other => panic!("{path} is not a JSON array: {other:?}"),
    }
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector without string {key}: {v}"))
}

#[test]
fn every_vector_matches() {
    let vectors = load();
    // Guard against an accidentally truncated or regenerated-empty file.
    assert!(vectors.len() >= 300, "only {} vectors", vectors.len());
    let exprs: BTreeSet<&str> = vectors.iter().map(|v| field(v, "expr")).collect();
    assert!(exprs.len() >= 25, "only {} distinct expressions", exprs.len());
    let zones: BTreeSet<&str> = vectors.iter().map(|v| field(v, "tz")).collect();
    for tz in ["Europe/Berlin", "Asia/Tokyo", "America/New_York", "UTC"] {
        assert!(zones.contains(tz), "no vectors for {tz}");
    }

    let mut failures = Vec::new();
    let mut occurrences = 0;
    for v in &vectors {
        let expr = field(v, "expr");
        let tz: Tz = field(v, "tz").parse().expect("known time zone");
        let after: DateTime<Utc> = DateTime::parse_from_rfc3339(field(v, "after"))
            .expect("rfc3339 start")
            .with_timezone(&Utc);
        let want: Vec<&str> = v["next"]
            .as_array()
            .expect("next is an array")
            .iter()
            .map(|t| t.as_str().expect("next holds strings"))
            .collect();
        occurrences += want.len();

        let spec = CronSpec::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(spec.as_str(), expr);
        assert!(want.len() <= 10, "vectors record at most 10 occurrences: {v}");
        // Fewer than 10 recorded means the schedule ends; asking for 10 checks
        // that herald ends it too.
        let got: Vec<String> = spec
            .upcoming(after, tz, 10)
            .iter()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .collect();
        let expect: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        if got != expect {
            failures.push(format!(
                "{expr:?} in {tz} after {after}:\n  want {expect:?}\n  got  {got:?}"
            ));
        }
    }
    assert!(occurrences > 3000, "only {occurrences} occurrences checked");
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn croniter_differences_are_documented_and_only_about_dst() {
    let vectors = load();
    let noted: Vec<&Value> = vectors.iter().filter(|v| v.get("note").is_some()).collect();
    assert!(
        !noted.is_empty(),
        "expected croniter's repeated-hour behaviour to be noted"
    );
    for v in noted {
        let tz = field(v, "tz");
        assert!(
            tz == "Europe/Berlin" || tz == "America/New_York",
            "croniter differs in a zone without DST: {v}"
        );
        assert!(field(v, "note").contains("croniter"), "{v}");
    }
}
