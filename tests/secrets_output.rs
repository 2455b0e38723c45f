//! Secrets stay secret in output (DESIGN.md invariant 6): a post holding an
//! API key is blocked by the `secret` rule, and nothing herald prints about
//! it — `herald check` in every format (the human excerpt ends up in CI
//! logs), `herald show` — repeats the key. Lines and columns still point at
//! it; the stored text is unchanged.

mod admin_harness;
mod common;

use std::process::Command;

use admin_harness::{delivery_id, herald};
use common::{utc, Env, TOKYO};
use serde_json::Value;

const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

fn github_token() -> String {
    format!("ghp_{}", "Zq7R".repeat(9))
}

fn env() -> Env {
    Env::new(&format!(
        "{TOKYO}\n[rulebooks.company.rules.secret]\nseverity = \"block\"\n"
    ))
}

fn check(env: &Env, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("check")
        .arg("--config")
        .arg(&env.config.path)
        .args(args)
        .output()
        .expect("herald runs");
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

/// A Markdown and a JSON post, each with both keys (the JSON one in a thread's second part).
fn posts(env: &Env) -> Vec<String> {
    let token = github_token();
    let md = env.drop_post(
        "tokyo",
        "keys.md",
        format!("新しい鍵です\n本番用: {AWS} と {token} を設定\n"),
    );
    let json = env.drop_post(
        "tokyo",
        "keys.json",
        format!("{{\"thread\": [\"設定の話\", \"aws {AWS}\\ngh {token}\"]}}"),
    );
    vec![md.display().to_string(), json.display().to_string()]
}

fn assert_hidden(output: &str) {
    assert!(!output.contains(AWS), "the AWS key is printed:\n{output}");
    assert!(
        !output.contains(&github_token()),
        "the GitHub token is printed:\n{output}"
    );
    // Not even most of it.
    assert!(!output.contains("IOSFODNN7EXAMPLE"), "{output}");
    assert!(!output.contains(&"Zq7R".repeat(3)), "{output}");
}

#[test]
fn the_human_excerpt_masks_the_key_and_keeps_the_caret_under_it() {
    let env = env();
    let files = posts(&env);
    let (code, out) = check(&env, &[&files[0], &files[1]]);
    assert_eq!(code, 2, "{out}");
    assert_hidden(&out);
    assert!(out.contains("[secret]"), "{out}");
    // The excerpt still shows where: the first four characters, then masks, carets below.
    let masked_aws = format!("AKIA{}", "*".repeat(16));
    let line = out
        .lines()
        .find(|l| l.starts_with("    | 本番用") && l.contains(&masked_aws))
        .unwrap_or_else(|| panic!("a masked excerpt line:\n{out}"));
    let carets = out.lines().skip_while(|l| *l != line).nth(1).unwrap();
    // "本番用: " is 3 wide characters (6 columns) and 2 narrow ones.
    assert_eq!(carets, format!("    | {}{}", " ".repeat(8), "^".repeat(20)));
    assert!(line.contains(&format!("ghp_{}", "*".repeat(36))), "{line}");
    // Line and column of the key in its part are unchanged.
    assert!(out.contains("part 1, line 2, column 6: block [secret]"), "{out}");
    assert!(out.contains("part 2, line 2, column 4: block [secret]"), "{out}");
}

#[test]
fn sarif_snippets_and_messages_mask_the_key_and_keep_the_region() {
    let env = env();
    let files = posts(&env);
    let (code, out) = check(&env, &["--format", "sarif", &files[0], &files[1]]);
    assert_eq!(code, 2, "{out}");
    assert_hidden(&out);
    let log: Value = serde_json::from_str(&out).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let secrets: Vec<&Value> = results.iter().filter(|r| r["ruleId"] == "secret").collect();
    assert_eq!(secrets.len(), 4, "{out}");
    let region = &secrets[0]["locations"][0]["physicalLocation"]["region"];
    // keys.md has no front matter: the key is on the file's line 2.
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(2), Some(6))
    );
    assert_eq!(region["endColumn"].as_u64(), Some(26));
    assert_eq!(region["snippet"]["text"], format!("AKIA{}", "*".repeat(16)));
    // In the JSON file, the region is inside the string literal.
    let in_json = secrets
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("keys.json")
                && r["properties"]["matched"].as_str().unwrap().starts_with("ghp_")
        })
        .unwrap();
    assert_eq!(
        in_json["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
        format!("ghp_{}", "*".repeat(36))
    );
}

#[test]
fn json_lines_say_hidden_and_keep_positions() {
    let env = env();
    let files = posts(&env);
    let (code, out) = check(&env, &["--format", "json", &files[0], &files[1]]);
    assert_eq!(code, 2, "{out}");
    assert_hidden(&out);
    let first: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let f = &first["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("secret"), Some(2), Some(6))
    );
    assert_eq!(f["matched"], "AKIA… (20 characters, hidden)");
}

#[test]
fn a_private_key_block_is_masked_whole() {
    let env = env();
    let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";
    let f = env.drop_post(
        "tokyo",
        "pem.md",
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"),
    );
    for format in ["human", "json", "sarif"] {
        let (code, out) = check(&env, &["--format", format, f.to_str().unwrap()]);
        assert_eq!(code, 2, "{out}");
        assert!(!out.contains(body), "the key's body is printed ({format}):\n{out}");
    }
}

#[tokio::test]
async fn show_masks_the_key_in_the_text_it_prints_and_the_store_keeps_it() {
    let env = env();
    let token = github_token();
    env.drop_post("tokyo", "leak.md", format!("鍵 {AWS} と {token}\n"));
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let id = delivery_id(&env, "leak.md");
    let stored = env.deliveries();
    assert!(stored[0].text[0].contains(AWS), "the store keeps the text as written");
    // The owner's note and the audit log never quote it either.
    let note = env.read("tokyo", "rejected/leak.md.herald.txt");
    assert!(note.contains("secret"), "{note}");
    assert_hidden(&note);
    let audit = std::fs::read_to_string(env.config.daemon.state_dir.join("audit.jsonl")).unwrap();
    assert_hidden(&audit);

    let human = herald(&env, &["show", &id]).ok().stdout;
    assert_hidden(&human);
    assert!(
        human.contains(&format!("鍵 AKIA{} と ghp_{}", "*".repeat(16), "*".repeat(36))),
        "{human}"
    );
    assert!(human.contains("secret"), "{human}");
    let json = herald(&env, &["show", &id, "--json"]).ok();
    assert_hidden(&json.stdout);
    assert_eq!(
        json.json()["text"][0],
        format!("鍵 AKIA{} と ghp_{}", "*".repeat(16), "*".repeat(36))
    );
}

#[test]
fn preview_shows_the_request_body_with_the_key_masked() {
    let env = Env::new(
        "[[account]]\nid = \"news\"\nplatform = \"x\"\nhandle = \"@news\"\nowner = \"Hanako\"\ntime_zone = \"Asia/Tokyo\"\n",
    );
    let f = env.drop_post("news", "leak.md", format!("鍵 {AWS} と {}\n", github_token()));
    for format in ["human", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["preview", "--config"])
            .arg(&env.config.path)
            .args(["--format", format])
            .arg(&f)
            .output()
            .expect("herald runs");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("/2/tweets"), "{stdout}");
        assert_hidden(&stdout);
        assert!(stdout.contains(&format!("AKIA{}", "*".repeat(16))), "{stdout}");
    }
}

#[test]
fn an_account_without_the_secret_rule_still_never_sees_its_key_printed() {
    // TOKYO alone: the company rulebook of the test config has no secret rule.
    let env = Env::new(TOKYO);
    let f = env.drop_post("tokyo", "k.md", format!("業績と鍵 {AWS}\n"));
    for format in ["human", "sarif"] {
        let (code, out) = check(&env, &["--format", format, f.to_str().unwrap()]);
        assert_eq!(code, 1, "held for financial-topic, not blocked: {out}");
        assert!(
            !out.contains("[secret]") && !out.contains("\"ruleId\": \"secret\""),
            "{out}"
        );
        assert_hidden(&out);
    }
}
