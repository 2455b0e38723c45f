//! Comparing herald's prh engine with one golden vector made by npm prh
//! 5.4.4: `{"text", "hits": [{"start", "end", "matched", "replacement"}],
//! "fixed"}`. Shared by the golden-vector tests.

use herald::guidelines::prh::Dictionary;
use serde_json::Value;

/// What differs between herald's hits and fix and prh's, if anything.
pub fn mismatch(dict: &Dictionary, v: &Value) -> Option<String> {
    let text = v["text"].as_str().unwrap();
    let want: Vec<(u64, u64, &str, &str)> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["start"].as_u64().unwrap(),
                h["end"].as_u64().unwrap(),
                h["matched"].as_str().unwrap(),
                h["replacement"].as_str().unwrap(),
            )
        })
        .collect();
    let hits = dict.check(text);
    let got: Vec<(u64, u64, &str, &str)> = hits
        .iter()
        .map(|h| (h.start as u64, h.end as u64, h.matched.as_str(), h.replacement.as_str()))
        .collect();
    let fixed = dict.fix(text);
    let want_fixed = v["fixed"].as_str().unwrap();
    (got != want || fixed != want_fixed).then(|| {
        format!("text={text:?}\n  want {want:?}\n  got  {got:?}\n  want fixed {want_fixed:?}\n  got fixed  {fixed:?}")
    })
}
