//! `herald check`, run as the binary an owner runs: exit codes, the JSON
//! shape (one object per line per file), and the human output's carets.

mod common;

use common::{Env, TOKYO};
use serde_json::Value;

/// `herald check --config <env> ARGS`.
fn herald(env: &Env, args: &[&str]) -> (i32, String, String) {
    env.run_cli("check", args)
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn exit_codes_say_publishable_held_blocked_or_unreadable() {
    let env = Env::new(TOKYO);
    let ok = env.drop_post("tokyo", "ok.json", r#"{"text": "こんにちは"}"#);
    let held = env.drop_post("tokyo", "held.json", r#"{"text": "業績の速報です"}"#);
    let blocked = env.drop_post("tokyo", "blocked.json", r#"{"text": "社外秘"}"#);
    let broken = env.drop_post("tokyo", "broken.json", r#"{"text": "#);
    let code = |p: &std::path::Path| herald(&env, &[p.to_str().unwrap()]).0;
    assert_eq!(code(&ok), 0);
    assert_eq!(code(&held), 1);
    assert_eq!(code(&blocked), 2);
    assert_eq!(code(&broken), 3);
    // Several files: the worst wins.
    assert_eq!(herald(&env, &[ok.to_str().unwrap(), blocked.to_str().unwrap()]).0, 2);
    // Checking never touches the files.
    assert!(blocked.exists() && broken.exists());
}

#[test]
fn an_unreadable_config_exits_3_with_its_location() {
    let env = Env::new(TOKYO);
    std::fs::write(&env.config.path, "[daemon]\nqueue_dir = 3\n").unwrap();
    let f = env.drop_post("tokyo", "ok.json", r#"{"text": "x"}"#);
    let (code, _, stderr) = herald(&env, &[f.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(stderr.contains("herald.toml:2:"), "{stderr}");
}

#[test]
fn json_output_has_the_documented_shape() {
    let env = Env::new(TOKYO);
    let f = env.drop_post(
        "tokyo",
        "p.json",
        r#"{"thread": ["おはようございます。", "第2四半期の\n業績は好調でした"], "cron": "0 9 * * 1-5"}"#,
    );
    let (code, stdout, _) = herald(
        &env,
        &["--format", "json", "--now", "2026-12-04 10:00", f.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    assert_eq!(v["file"], f.to_str().unwrap());
    assert_eq!(v["account"], "tokyo");
    assert_eq!(v["verdict"], "hold");
    let finding = &v["findings"][0];
    let keys: Vec<&str> = finding.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "rule",
        "severity",
        "message",
        "part",
        "line",
        "column",
        "start",
        "end",
        "matched",
        "suggestion",
    ] {
        assert!(keys.contains(&key), "missing {key} in {finding}");
    }
    assert_eq!(finding["rule"], "financial-topic");
    assert_eq!(finding["part"], 1);
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["column"], 1);
    let text = "第2四半期の\n業績は好調でした";
    let (start, end) = (
        finding["start"].as_u64().unwrap() as usize,
        finding["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[start..end], "業績");
    assert_eq!(finding["matched"], "業績");
    assert_eq!(v["parts"].as_array().unwrap().len(), 2);
    assert_eq!(v["parts"][0]["length"], 10);
    assert_eq!(v["parts"][0]["limit"], 140);
    assert_eq!(v["parts"][0]["platform"], "sandbox");
    // Friday 10:00 JST: next are Mon–Fri 09:00 of the following week.
    let next: Vec<&str> = v["schedule"]["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        next,
        vec![
            "2026-12-07T09:00:00+09:00",
            "2026-12-08T09:00:00+09:00",
            "2026-12-09T09:00:00+09:00",
            "2026-12-10T09:00:00+09:00",
            "2026-12-11T09:00:00+09:00"
        ]
    );
}

#[test]
fn an_unreadable_file_in_json_names_line_and_column() {
    let env = Env::new(TOKYO);
    let f = env.drop_post("tokyo", "bad.json", "{\n  \"txet\": \"x\"\n}");
    let (code, stdout, _) = herald(&env, &["--format", "json", f.to_str().unwrap()]);
    assert_eq!(code, 3);
    let v = &json_lines(&stdout)[0];
    assert_eq!(v["verdict"], "unreadable");
    assert_eq!(v["error"]["line"], 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("unknown field `txet`"));
}

#[test]
fn human_output_puts_a_caret_under_the_finding() {
    let env = Env::new(TOKYO);
    let f = env.drop_post(
        "tokyo",
        "p.md",
        "---\nkind: news\n---\n資料: ＣＯＮＦＩＤＥＮＴＩＡＬ文書\n",
    );
    let (code, stdout, _) = herald(&env, &[f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.contains("BLOCKED"), "{stdout}");
    assert!(stdout.contains("[confidential-marker]"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let text_line = lines.iter().position(|l| l.contains("| 資料")).expect("the text line");
    // 資料: is 2 wide characters + ": " → the caret starts at display column 6.
    assert_eq!(
        lines[text_line + 1],
        format!("    | {}{}", " ".repeat(6), "^".repeat(24))
    );
}

#[test]
fn the_account_comes_from_the_folder_or_the_flag() {
    let env = Env::new(TOKYO);
    let elsewhere = env.dir.path().join("draft.json");
    std::fs::write(&elsewhere, r#"{"text": "下書き"}"#).unwrap();
    let (code, stdout, _) = herald(&env, &[elsewhere.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(stdout.contains("--account"), "{stdout}");
    let (code, stdout, _) = herald(&env, &["--account", "tokyo", elsewhere.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn platform_x_measures_a_draft_with_xs_weighting() {
    let env = Env::new(TOKYO);
    // 140 Japanese characters: 140 on the sandbox, 280 (the limit) on X.
    let fits = env.drop_post("tokyo", "fits.json", format!(r#"{{"text": "{}"}}"#, "あ".repeat(140)));
    let (code, stdout, _) = herald(&env, &["--format", "json", "--platform", "x", fits.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    let v = &json_lines(&stdout)[0];
    assert_eq!(v["parts"][0]["length"], 280);
    assert_eq!(v["parts"][0]["limit"], 280);
    assert_eq!(v["parts"][0]["platform"], "x");
    // One more character, or a URL (23) with 129 characters, no longer fits.
    let over = env.drop_post(
        "tokyo",
        "over.json",
        format!(
            r#"{{"text": "{} https://example.com/a/very/long/path/that/counts/as/23"}}"#,
            "あ".repeat(129)
        ),
    );
    let (code, stdout, _) = herald(&env, &["--format", "json", "--platform", "x", over.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    let v = &json_lines(&stdout)[0];
    assert_eq!(v["parts"][0]["length"], 129 * 2 + 1 + 23);
    assert_eq!(v["findings"][0]["rule"], "length");
}

#[test]
fn a_post_that_holds_terminal_escapes_is_shown_not_obeyed() {
    let env = Env::new(TOKYO);
    // Red text, a bell, and a right-to-left override that would reverse the excerpt.
    let file = env.drop_post(
        "tokyo",
        "esc.json",
        "{\"text\": \"\\u001b[31m極秘\\u0007 \\u202e資料\"}",
    );
    let (code, stdout, _) = env.run_cli("check", &[file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}') && !stdout.contains('\u{202e}'),
        "{stdout:?}"
    );
    assert!(stdout.contains("␛[31m極秘␇"), "{stdout}");
    // The caret still points at the finding: one column per shown character.
    let excerpt = stdout.lines().find(|l| l.contains("␛[31m極秘")).unwrap();
    let carets = stdout.lines().skip_while(|l| *l != excerpt).nth(1).unwrap();
    let at = excerpt.find("極秘").unwrap();
    assert_eq!(
        carets.find('^').unwrap(),
        excerpt[..at].chars().count(),
        "{excerpt}\n{carets}"
    );
}
