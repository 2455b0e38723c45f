//! Long, backtracking-heavy inputs must neither overflow the stack nor
//! diverge from twitter-text (expected values from twitter-text 3.1.0).

use herald::platform::x::length::weighted_length;

#[test]
fn long_inputs_do_not_overflow_the_stack() {
    let cases = [
        (format!("https://x.com/{}", "(a)".repeat(2000)), 6014),
        (format!("{}com", "a.".repeat(2000)), 23),
        (format!("https://{}com", "a.".repeat(3000)), 6011),
        (format!("x.com/{}", "a(".repeat(2000)), 4022),
        (format!("{}.x", "あ".repeat(2000)), 4002),
    ];
    for (text, expected) in cases {
        assert_eq!(weighted_length(&text).weighted, expected, "{}…", &text[..20]);
    }
}
