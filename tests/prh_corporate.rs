//! Golden vectors for herald's starter dictionary
//! (config/dictionaries/corporate.yml): over a corpus of corporate posts
//! (tests/data/prh/corporate_corpus.js, then the business texts of
//! tests/data/prh/corpus.js), every hit and fix equals what npm
//! prh 5.4.4 produced (tests/data/prh/gen_corporate_vectors.js writes
//! tests/data/prh/corporate_vectors.json). The vectors carry the
//! dictionary's SHA-256: editing the dictionary without regenerating them
//! fails here, so herald and prh always agree on the file herald ships.

mod prh_golden;

use herald::guidelines::prh::Dictionary;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden() -> Value {
    let text = std::fs::read_to_string(root().join("tests/data/prh/corporate_vectors.json")).expect("vectors file");
    serde_json::from_str(&text).expect("valid corporate_vectors.json")
}

#[test]
fn the_vectors_are_of_this_dictionary() {
    let golden = golden();
    let bytes = std::fs::read(root().join("config/dictionaries/corporate.yml")).unwrap();
    assert_eq!(
        golden["sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(&bytes)),
        "config/dictionaries/corporate.yml changed: regenerate the vectors with tests/data/prh/gen_corporate_vectors.js (npm prh 5.4.4)"
    );
    assert_eq!(golden["prh"], "5.4.4");
}

#[test]
fn the_starter_dictionary_matches_prh_on_corporate_posts() {
    let golden = golden();
    let dict = Dictionary::load(&root().join("config/dictionaries/corporate.yml")).expect("loads, specs pass");
    assert_eq!(dict.len() as u64, golden["rules"].as_u64().unwrap(), "rule count");
    assert!(dict.len() >= 60, "a useful starter: {} rules", dict.len());
    let vectors = golden["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 40, "{} texts", vectors.len());
    let with_hits = vectors
        .iter()
        .filter(|v| !v["hits"].as_array().unwrap().is_empty())
        .count();
    let clean = vectors.len() - with_hits;
    assert!(
        with_hits >= 30 && clean >= 10,
        "{with_hits} texts with hits, {clean} without"
    );
    let mut failures = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        if let Some(m) = prh_golden::mismatch(&dict, v) {
            failures.push(format!("#{i} {m}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} texts differ from prh 5.4.4:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
