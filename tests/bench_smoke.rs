//! The scale harness's smallest run (`herald-bench smoke`), as CI's smoke
//! test: every scenario runs against the real daemon and does all its work
//! (every post published, every file noted). Timings are printed, never
//! asserted.

use std::process::Command;

#[test]
fn the_scale_harness_runs_every_scenario_to_the_end() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-bench"))
        .arg("smoke")
        .arg("--herald")
        .arg(env!("CARGO_BIN_EXE_herald"))
        .output()
        .expect("herald-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 1 means a scenario did not finish its work (see the table).
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("CPUs"), "the machine is reported: {stdout}");
    for scenario in [
        "cold start",
        "restart",
        "idle",
        "burst",
        "lateness",
        "drop",
        "spread",
        "check",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("| {scenario} |"))),
            "a row for {scenario}: {stdout}"
        );
    }
    assert!(
        stdout.contains("40 of 40 published"),
        "the burst published everything: {stdout}"
    );
    assert!(
        stdout.contains("40 of 40 noted"),
        "every dropped file was ingested: {stdout}"
    );
}
