//! Golden vectors: every hit and fix must equal what npm prh 5.4.4 produced
//! (see tests/data/prh/gen_vectors.js, which writes tests/data/prh/vectors.json).
//!
//! Dictionaries are found at `$PRH_DICTIONARIES_DIR` if set, else in the
//! repository's copy, `tests/data/dictionaries` (prh/rules, MIT, with its
//! licence). Local edge-case
//! dictionaries (`"local": true` vectors) live in tests/data/prh/edge/.

mod prh_golden;

use herald::guidelines::prh::Dictionary;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

fn dictionaries_dir() -> PathBuf {
    match std::env::var_os("PRH_DICTIONARIES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dictionaries"),
    }
}

fn vectors() -> Vec<Value> {
    // PRH_VECTORS_FILE lets ad-hoc differential runs reuse this checker.
    let path = std::env::var_os("PRH_VECTORS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/prh/vectors.json"));
    let text = std::fs::read_to_string(&path).expect("vectors file");
    serde_json::from_str(&text).expect("valid vectors.json")
}

#[test]
fn all_vectors_match_prh() {
    let vectors = vectors();
    assert!(vectors.len() >= 80 * 4, "too few vectors: {}", vectors.len());
    let mut dicts: HashMap<String, Dictionary> = HashMap::new();
    let mut failures = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let name = v["dictionary"].as_str().unwrap().to_string();
        let dict = dicts.entry(name.clone()).or_insert_with(|| {
            let base = if v["local"].as_bool() == Some(true) {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/prh")
            } else {
                dictionaries_dir()
            };
            Dictionary::load(&base.join(&name)).unwrap_or_else(|e| panic!("loading {name}: {e}"))
        });
        assert_eq!(
            dict.len() as u64,
            v["rules"].as_u64().unwrap(),
            "rule count of {name} after imports/dedupe"
        );
        if let Some(m) = prh_golden::mismatch(dict, v) {
            failures.push(format!("#{i} {name} {m}"));
        }
    }
    let total = vectors.len();
    println!("{} / {total} vectors match prh 5.4.4", total - failures.len());
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
