//! `herald completions` and `herald man`, generated from the CLI definition.

mod common;

use std::process::Command;

const SUBCOMMANDS: &[&str] = &["run", "check", "status", "completions", "man"];

fn herald(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_herald")).args(args).output().unwrap();
    assert!(out.status.success(), "herald {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs bash's completion function for the words typed so far.
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; _herald herald '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash").args(["-c", &program]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_parses_and_completes_subcommands_and_options() {
    let script = herald(&["completions", "bash"]);
    let check = Command::new("bash").args(["-n", "-c", &script]).status().unwrap();
    assert!(check.success(), "bash -n refused the script");
    let subs = bash_complete(&script, &["herald", ""]);
    for s in SUBCOMMANDS {
        assert!(subs.iter().any(|w| w == s), "{s} not offered: {subs:?}");
    }
    assert_eq!(
        bash_complete(&script, &["herald", "comp"]),
        vec!["completions".to_string()]
    );
    let opts = bash_complete(&script, &["herald", "run", "--"]);
    assert!(opts.iter().any(|w| w == "--log-format"), "{opts:?}");
    assert!(opts.iter().any(|w| w == "--once"), "{opts:?}");
    let formats = bash_complete(&script, &["herald", "run", "--log-format", ""]);
    let mut formats: Vec<&str> = formats.iter().map(String::as_str).collect();
    formats.sort();
    assert_eq!(formats, vec!["auto", "human", "journal", "json"]);
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let zsh = herald(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef herald"), "{}", &zsh[..40]);
    let fish = herald(&["completions", "fish"]);
    for s in SUBCOMMANDS {
        assert!(zsh.contains(&format!("'{s}:")), "zsh lacks {s}");
        assert!(
            fish.lines()
                .any(|l| l.starts_with("complete -c herald") && l.contains(&format!("-a \"{s}\""))),
            "fish lacks {s}"
        );
    }
    assert!(Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["completions", "tcsh"])
        .output()
        .is_ok_and(|o| !o.status.success()));
}

#[test]
fn the_man_page_documents_every_subcommand_and_renders_cleanly() {
    let page = herald(&["man"]);
    assert!(page.contains(".TH herald 1"), "{}", &page[..200]);
    for s in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"HERALD {}\"", s.to_uppercase())),
            "no section for {s}"
        );
    }
    assert!(page.contains("\\-\\-log\\-format"), "run's options are missing");
    assert!(page.contains("/etc/herald/herald.toml"));
    // groff renders it without a warning (.ci/run installs groff).
    if let Err(e) = Command::new("groff").arg("--version").output() {
        return common::skip(&format!(
            "rendering the man page needs groff ({e}); apt-get install groff"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.1");
    std::fs::write(&path, &page).unwrap();
    let out = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "groff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The man-page test run again in a child of this test binary, with a PATH
/// where groff is not found: it reports a skip on stderr and passes, and
/// under HERALD_TEST_STRICT=1 it fails with the reason. (The child runs only
/// that one test, so this does not recurse.)
#[test]
fn a_test_that_cannot_check_here_says_skipped_and_fails_when_strict() {
    let run = |strict: bool| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "the_man_page_documents_every_subcommand_and_renders_cleanly",
            "--test-threads=1",
        ])
        .env("PATH", "/nonexistent-herald-test-path");
        if strict {
            cmd.env(common::STRICT_VAR, "1");
        } else {
            cmd.env_remove(common::STRICT_VAR);
        }
        let out = cmd.output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    };
    let (ok, said) = run(false);
    assert!(ok, "{said}");
    assert!(said.contains("1 passed"), "the one test ran: {said}");
    assert!(
        said.contains(
            "SKIPPED: the_man_page_documents_every_subcommand_and_renders_cleanly: rendering the man page needs groff"
        ),
        "{said}"
    );
    let (ok, said) = run(true);
    assert!(!ok, "a skip must fail under HERALD_TEST_STRICT=1: {said}");
    assert!(said.contains("1 failed"), "{said}");
    assert!(
        said.contains(
            "HERALD_TEST_STRICT=1 and this test cannot check what it is for here: rendering the man page needs groff"
        ),
        "{said}"
    );
}
