//! Golden vectors produced by `gen_length_vectors.js` from twitter-text 3.1.0
//! `parseTweet` (config v3). Every vector must match exactly.

use herald::platform::x::length::{weighted_length, X_MAX_WEIGHTED_LENGTH};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector {
    text: String,
    weighted_length: usize,
    valid: bool,
    permillage: usize,
}

fn vectors() -> Vec<Vector> {
    let raw = include_str!("data/x/length_vectors.json");
    serde_json::from_str(raw).expect("length_vectors.json parses")
}

#[test]
fn corpus_is_large_enough() {
    assert!(vectors().len() >= 150);
}

#[test]
fn every_vector_matches_twitter_text() {
    let mut failures = Vec::new();
    for v in vectors() {
        let got = weighted_length(&v.text);
        if got.weighted != v.weighted_length || got.valid != v.valid || got.permillage != v.permillage {
            failures.push(format!(
                "{:?}: expected weighted={} valid={} permillage={}, got weighted={} valid={} permillage={}",
                v.text, v.weighted_length, v.valid, v.permillage, got.weighted, got.valid, got.permillage
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_means_within_limit() {
    for v in vectors() {
        if v.valid {
            assert!(v.weighted_length <= X_MAX_WEIGHTED_LENGTH);
        }
    }
}
