//! Tests that cannot check what they are for on this machine (they need
//! root, groff, or the journald socket path free) say so loudly instead of
//! passing in silence, and fail under `HERALD_TEST_STRICT=1`, which `.ci/run`
//! sets, so CI can never pass a test that checked nothing.

use std::io::Write;

/// The variable that turns a skip into a failure.
pub const STRICT_VAR: &str = "HERALD_TEST_STRICT";

/// Whether skips are failures here (`HERALD_TEST_STRICT=1`).
pub fn strict() -> bool {
    std::env::var(STRICT_VAR).is_ok_and(|v| v == "1")
}

/// Reports that the calling test checks nothing here and why; the caller
/// returns next. Under `HERALD_TEST_STRICT=1` it fails the test with the
/// reason instead. The line goes straight to the process's stderr (not
/// through `eprintln!`, which the test harness captures and shows only for
/// failures), so `cargo test` shows it.
#[track_caller]
pub fn skip(why: &str) {
    if strict() {
        panic!("{STRICT_VAR}=1 and this test cannot check what it is for here: {why}");
    }
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test}: {why} (set {STRICT_VAR}=1 to fail instead)"
    );
}

/// Whether the test runs as root; if not, reports the skip of `what` (see
/// [`skip`]) and returns false.
#[track_caller]
pub fn running_as_root(what: &str) -> bool {
    if herald::audit::current_uid() == 0 {
        return true;
    }
    skip(&format!("{what} needs root"));
    false
}
