//! Fuzzing (bounded, with proptest): what an owner, an admin or a client
//! can hand herald — post files (JSON, Markdown with front matter), cron
//! expressions, prh dictionaries, control-protocol lines — never panics.
//! Malformed input must end in an error message, not a crash that stalls
//! every account.
//!
//! CI runs `HERALD_FUZZ_CASES` cases per target (default 256); a long run:
//! `HERALD_FUZZ_CASES=100000 cargo test --release --test fuzz`.
//! RELIABILITY.md keeps the latest figures.

use std::path::Path;

use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("HERALD_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Post-file-shaped text: keys herald knows, values of every kind, broken
/// quotes and brackets, front matter fences and thread separators.
fn post_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("---\n".to_string()),
        Just("\n".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\"".to_string()),
        Just(",".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("&a *a ".to_string()),
        Just("!!binary ".to_string()),
        prop::sample::select(vec![
            "text",
            "thread",
            "media",
            "at",
            "cron",
            "until",
            "count",
            "kind",
            "labels",
            "approvals",
            "language",
            "max_lateness",
            "file",
            "alt",
        ])
        .prop_map(|k| format!("\"{k}\"")),
        prop::sample::select(vec![
            "2026-12-01 09:00",
            "0 9 * * 1-5",
            "61 25 32 13 8",
            "emergency",
            "広告",
            "../etc/passwd",
            "\u{feff}",
            "\u{202e}",
            "\u{1b}[31m",
            "9999999999999999999999",
            "-1",
            "null",
            "true",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9 ぁ-んァ-ン一-龥]{0,12}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn post_files_never_panic(text in post_like(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let folder = Path::new("/nonexistent-herald-fuzz");
        for format in [herald::queue::Format::Json, herald::queue::Format::Markdown] {
            let _ = herald::queue::post::parse(text.as_bytes(), format, folder, chrono_tz::Asia::Tokyo);
            let _ = herald::queue::post::parse(&bytes, format, folder, chrono_tz::UTC);
        }
    }

    #[test]
    fn cron_expressions_never_panic(
        fields in prop::collection::vec("[0-9*/,\\-A-Za-z?LW#]{1,8}", 0..7),
        start in 1_700_000_000i64..2_500_000_000i64,
    ) {
        let expr = fields.join(" ");
        if let Ok(spec) = herald::schedule::CronSpec::parse(&expr) {
            let after = chrono::DateTime::from_timestamp(start, 0).unwrap();
            for tz in [chrono_tz::Asia::Tokyo, chrono_tz::Europe::Berlin, chrono_tz::America::New_York] {
                if let Some(next) = spec.next_after(after, tz) {
                    prop_assert!(next > after, "{expr}: {next} is not after {after}");
                }
            }
        }
    }

    #[test]
    fn prh_dictionaries_never_panic(
        patterns in prop::collection::vec("[a-zA-Z()\\[\\]|*+?.\\\\^$/{}0-9ぁ-ん]{0,10}", 1..6),
        text in "[a-zA-Z ぁ-んァ-ン0-9.,]{0,40}",
    ) {
        let mut yaml = String::from("version: 1\nrules:\n");
        for p in &patterns {
            yaml.push_str(&format!("  - expected: X\n    pattern: {}\n", serde_json::to_string(p).unwrap()));
        }
        if let Ok(dict) = herald::guidelines::prh::Dictionary::from_yaml_str(&yaml, Path::new("fuzz.yml")) {
            let _ = dict.check(&text);
        }
    }

    #[test]
    fn control_requests_never_panic(line in "[{}\\[\\]\":,a-z0-9 ]{0,80}") {
        let _ = serde_json::from_str::<herald::control::Request>(&line);
    }
}
