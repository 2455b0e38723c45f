//! `herald check` as a linter (`--fix`, `--prh`, `--format sarif`) and
//! `herald rules`, run as the binary.
//!
//! The SARIF log is validated against the official SARIF 2.1.0 JSON schema
//! (tests/data/sarif/sarif-2.1.0-rtm.5.json, as shipped in the npm package
//! @microsoft/jest-sarif 1.0.0-beta.0, MIT).

mod common;

use std::process::Command;

use common::{Env, TOKYO};
use serde_json::Value;

fn herald(env: &Env, command: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg(command)
        .arg("--config")
        .arg(&env.config.path)
        .args(args)
        .output()
        .expect("herald runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The base config plus the Tokyo account with the width rule and the
/// starter prh dictionary.
fn env() -> Env {
    let dict = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dictionaries/corporate.yml");
    Env::new(&format!(
        "{TOKYO}rulebooks = [\"style\"]\n\n[rulebooks.style.rules.width]\n\n[rulebooks.style.rules.proofreading]\ndictionaries = [\"{}\"]\n",
        dict.display()
    ))
}

#[test]
fn fix_round_trip_in_json_writes_only_prh_and_width_fixes() {
    let env = env();
    let original = "{\n  \"text\": \"ｶﾀﾛｸﾞを\\\"githubで\\\"公開。お問合せは業績担当まで\",\n  \"kind\": \"news\"\n}\n";
    let f = env.drop_post("tokyo", "p.json", original);
    let (code, stdout, _) = herald(&env, "check", &["--fix", f.to_str().unwrap()]);
    let fixed = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        fixed,
        "{\n  \"text\": \"カタログを\\\"GitHubで\\\"公開。お問い合わせは業績担当まで\",\n  \"kind\": \"news\"\n}\n"
    );
    assert!(stdout.contains("fixed 3 place(s)"), "{stdout}");
    assert!(stdout.contains("\"ｶﾀﾛｸﾞ\" → \"カタログ\" [width]"), "{stdout}");
    assert!(stdout.contains("\"github\" → \"GitHub\" [proofreading]"), "{stdout}");
    // 業績 (financial-topic) is not a mechanical fix: still there, still held.
    assert_eq!(code, 1);
    assert!(stdout.contains("[financial-topic]"), "{stdout}");
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(env.folder("tokyo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["p.json"]);
    // A second run has nothing left to fix and leaves the file alone.
    let (_, stdout, _) = herald(&env, "check", &["--fix", f.to_str().unwrap()]);
    assert!(!stdout.contains("fixed"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), fixed);
}

#[test]
fn fix_round_trip_in_markdown_with_crlf_and_a_thread() {
    let env = env();
    let original = "---\r\nkind: news\r\n---\r\nサーバの\r\n更新\r\n---\r\nＶｅｒ．２ をご確認して下さい\r\n";
    let f = env.drop_post("tokyo", "p.md", original);
    let (code, stdout, _) = herald(&env, "check", &["--fix", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "---\r\nkind: news\r\n---\r\nサーバーの\r\n更新\r\n---\r\nVer．2 をご確認してください\r\n"
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    let fixed: Vec<(&str, &str)> = v["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["from"].as_str().unwrap(), c["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fixed,
        [
            ("サーバ", "サーバー"),
            ("Ｖｅｒ", "Ver"),
            ("２", "2"),
            ("て下さい", "てください")
        ]
    );
    assert_eq!(v["fixed"][1]["line"], 7);
    assert_eq!(v["verdict"], "pass");
}

#[test]
fn fix_refuses_a_file_it_cannot_map_and_changes_nothing() {
    let env = env();
    // "\u30b5\u30fc\u30d0" is サーバ written with escapes.
    let original = "{\"text\": \"\\u30b5\\u30fc\\u30d0\"}";
    let f = env.drop_post("tokyo", "p.json", original);
    let (_, stdout, _) = herald(&env, "check", &["--fix", f.to_str().unwrap()]);
    assert!(stdout.contains("not fixed") && stdout.contains("by hand"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), original);
}

#[test]
fn prh_option_adds_a_dictionary_for_this_run() {
    let env = Env::new(TOKYO);
    let dict = env.dir.path().join("try.yml");
    std::fs::write(
        &dict,
        "version: 1\nrules:\n  - expected: お客様\n    pattern: /お客さま|御客様/\n",
    )
    .unwrap();
    let f = env.drop_post("tokyo", "p.json", r#"{"text": "お客さまへのお知らせ"}"#);
    let (code, stdout, _) = herald(
        &env,
        "check",
        &["--prh", dict.to_str().unwrap(), "--format", "json", f.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["verdict"], "warn");
    assert_eq!(v["findings"][0]["rule"], "proofreading");
    assert_eq!(v["findings"][0]["matched"], "お客さま");
    assert_eq!(v["findings"][0]["replacement"], "お客様");
    // Without --prh the account's rules find nothing.
    let (_, stdout, _) = herald(&env, "check", &["--format", "json", f.to_str().unwrap()]);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["verdict"], "pass");
    // A broken dictionary is an error that names it.
    let bad = env.dir.path().join("bad.yml");
    std::fs::write(&bad, "rules: [").unwrap();
    let (code, _, stderr) = herald(&env, "check", &["--prh", bad.to_str().unwrap(), f.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(stderr.contains("bad.yml"), "{stderr}");
}

fn validate_sarif(log: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif/sarif-2.1.0-rtm.5.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let url = schema["id"].as_str().unwrap().to_string();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(&url, schema).unwrap();
    let index = compiler.compile(&url, &mut schemas).unwrap();
    if let Err(e) = schemas.validate(log, index) {
        panic!("the SARIF log does not validate: {e:#}\n{log:#}");
    }
}

#[test]
fn sarif_output_validates_against_the_schema_and_points_into_the_file() {
    let env = env();
    let a = env.drop_post(
        "tokyo",
        "a.md",
        "---\nkind: news\nlanguage: ja\n---\n本日は社外秘の\nｶﾀﾛｸﾞを公開\n",
    );
    let b = env.drop_post("tokyo", "b.json", r#"{"text": "#);
    let (code, stdout, _) = herald(
        &env,
        "check",
        &["--format", "sarif", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    assert_eq!(code, 3);
    let log: Value = serde_json::from_str(&stdout).unwrap();
    validate_sarif(&log);
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let rules: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(rules, ["confidential-marker", "width"]);
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(region["snippet"]["text"], "社外秘");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["level"], "warning");
    let fix = &results[1]["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(fix["insertedContent"]["text"], "カタログ");
    assert_eq!(fix["deletedRegion"]["startLine"], 6);
    // The rule index points at the rule's descriptor.
    let index = results[0]["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "confidential-marker");
    // The unreadable file is a tool notification, not silence.
    let notes = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn an_empty_sarif_log_is_valid_too() {
    let env = env();
    let a = env.drop_post("tokyo", "a.json", r#"{"text": "こんにちは"}"#);
    let (code, stdout, _) = herald(&env, "check", &["--format", "sarif", a.to_str().unwrap()]);
    assert_eq!(code, 0);
    let log: Value = serde_json::from_str(&stdout).unwrap();
    validate_sarif(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
#[should_panic(expected = "does not validate")]
fn the_schema_check_rejects_a_log_that_breaks_the_schema() {
    // A result whose level is not one of SARIF's levels.
    validate_sarif(&serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "herald"}}, "results": [{"message": {"text": "x"}, "level": "block"}]}],
    }));
}

#[test]
fn rules_lists_default_and_effective_severities_per_account() {
    let env = Env::new(
        "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\nrulebooks = [\"strict\"]\n\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"I\"\n\n[rulebooks.strict.rules.financial-topic]\nseverity = \"block\"\n\n[rulebooks.strict.rules.hashtags]\nmax = 2\n",
    );
    let (code, stdout, _) = herald(&env, "rules", &["--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let rule = |id: &str| {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed"))
            .clone()
    };
    let fin = rule("financial-topic");
    assert_eq!(fin["default"], "hold");
    assert_eq!(fin["accounts"]["tokyo"], "block");
    assert_eq!(fin["accounts"]["osaka"], "hold");
    let places: Vec<&str> = fin["configured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rulebook"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["company", "strict"]);
    assert!(fin["configured"][0]["line"].as_u64().unwrap() > 0);
    let tags = rule("hashtags");
    assert_eq!(
        (tags["accounts"]["tokyo"].as_str(), tags["accounts"]["osaka"].as_str()),
        (Some("warn"), Some("off"))
    );
    assert_eq!(rule("secret")["accounts"]["osaka"], "off");
    assert_eq!(
        v["rules"].as_array().unwrap().len(),
        herald::guidelines::catalog::BUILT_IN.len()
    );

    let (_, stdout, _) = herald(&env, "rules", &["--account", "osaka"]);
    let line = stdout.lines().find(|l| l.starts_with("financial-topic")).unwrap();
    assert!(line.contains("hold") && line.contains("company ("), "{line}");
    assert!(
        stdout.lines().next().unwrap().contains("OSAKA") && !stdout.contains("TOKYO"),
        "{stdout}"
    );
    let (code, _, stderr) = herald(&env, "rules", &["--account", "nagoya"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("nagoya"));
}

#[test]
fn quiet_period_is_listed_as_the_windows_of_financial_topic_not_a_rule() {
    let env = Env::new(
        "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\nrulebooks = [\"ir\"]\n\n[[account]]\nid = \"osaka\"\nplatform = \"sandbox\"\nhandle = \"@o\"\nowner = \"I\"\n\n[rulebooks.ir.rules.quiet-period]\nearnings = [2027-02-12T15:00:00+09:00]\nwindow = \"42days\"\n",
    );
    let (code, stdout, stderr) = herald(&env, "rules", &["--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let quiet = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "quiet-period")
        .unwrap()
        .clone();
    assert_eq!(quiet["default"], Value::Null, "{quiet}");
    assert_eq!(quiet["drives"], "financial-topic");
    assert_eq!(quiet["configured"][0]["severity"], Value::Null, "{quiet}");
    assert_eq!(
        (quiet["accounts"]["tokyo"].as_str(), quiet["accounts"]["osaka"].as_str()),
        (Some("on"), Some("off"))
    );
    let (_, human, _) = herald(&env, "rules", &[]);
    let row = human.lines().find(|l| l.starts_with("quiet-period ")).unwrap();
    assert!(!row.contains("block"), "{row}");
    assert!(
        human.contains("quiet-period: not a rule of its own; it sets the windows in which financial-topic blocks"),
        "{human}"
    );

    // Inside the window the post is blocked by financial-topic.
    let p = env.drop_post("tokyo", "p.json", r#"{"text": "業績は好調です"}"#);
    let (code, out, _) = herald(
        &env,
        "check",
        &["--now", "2027-02-01T09:00:00+09:00", p.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("block [financial-topic]") && !out.contains("[quiet-period]"),
        "{out}"
    );
}

#[test]
fn a_severity_on_quiet_period_is_a_config_error_that_says_where_to_put_it() {
    let env = Env::new(TOKYO);
    let mut text = std::fs::read_to_string(&env.config.path).unwrap();
    text.push_str(
        "\n[rulebooks.company.rules.quiet-period]\nseverity = \"hold\"\nearnings = [2027-02-12T15:00:00+09:00]\n",
    );
    std::fs::write(&env.config.path, text).unwrap();
    let (code, _, stderr) = herald(&env, "rules", &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("herald.toml:"), "{stderr}");
    assert!(stderr.contains("is not a rule with a severity of its own"), "{stderr}");
    assert!(stderr.contains("[rulebooks.company.rules.financial-topic]"), "{stderr}");
}
