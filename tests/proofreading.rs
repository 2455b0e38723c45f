//! prh dictionaries in a rulebook: the `proofreading` rule reports what npm
//! prh 5.4.4 reports on the starter dictionary (expected values below were
//! produced by running prh on config/dictionaries/corporate.yml).

mod common;

use common::{utc, Env, TOKYO};
use herald::guidelines::{Draft, Guidelines, Verdict};
use herald::queue::{Kind, Part};

fn env_with_dictionary() -> Env {
    let dict = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dictionaries/corporate.yml");
    Env::new(&format!(
        "{TOKYO}rulebooks = [\"style\"]\n\n[rulebooks.style.rules.proofreading]\nseverity = \"warn\"\ndictionaries = [\"{}\"]\n",
        dict.display()
    ))
}

fn hits(env: &Env, text: &str) -> (Verdict, Vec<(String, String)>) {
    let account = &env.config.accounts["tokyo"];
    let rules = Guidelines::for_account(&env.config, account);
    let metric = herald::platform::metric_for(&env.config, account.platform);
    let parts = vec![Part {
        text: text.to_string(),
        media: vec![],
    }];
    let draft = Draft {
        parts: &parts,
        kind: Kind::News,
        language: Some("ja"),
        labels: &[],
        approvals: &[],
        now: utc("2026-12-01T00:00:00Z"),
        metric: metric.as_ref(),
        at: None,
        disaster_hold: false,
        recent: &[],
    };
    let report = rules.check(&draft);
    let found = report
        .findings
        .iter()
        .filter(|f| f.rule == "proofreading")
        .map(|f| (f.matched.clone(), f.replacement.clone().unwrap_or_default()))
        .collect();
    (report.verdict, found)
}

#[test]
fn the_starter_dictionary_finds_what_prh_finds() {
    let env = env_with_dictionary();
    let (verdict, found) = hits(
        &env,
        "githubで公開しました。お問合せはサーバ担当まで。ご確認して下さい。",
    );
    assert_eq!(verdict, Verdict::Warn);
    let expected = [
        ("github", "GitHub"),
        ("お問合せ", "お問い合わせ"),
        ("サーバ", "サーバー"),
        ("て下さい", "てください"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(m, r)| (m.to_string(), r.to_string())).collect();
    assert_eq!(found, expected);

    let (_, found) = hits(&env, "彼は口が固い。的を得た指摘。iphoneで無料WiFi。予約が出来る。");
    let expected = [
        ("口が固い", "口が堅い"),
        ("的を得た", "的を射た"),
        ("iphone", "iPhone"),
        ("WiFi", "Wi-Fi"),
        ("が出来る", "ができる"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(m, r)| (m.to_string(), r.to_string())).collect();
    assert_eq!(found, expected);

    let (verdict, found) = hits(&env, "GitHubで公開しました。お問い合わせはサーバー担当まで。");
    assert_eq!(verdict, Verdict::Pass);
    assert!(found.is_empty());
}

#[tokio::test]
async fn a_proofreading_warning_still_publishes_and_is_recorded() {
    let env = env_with_dictionary();
    env.drop_post("tokyo", "p.json", r#"{"text": "お問合せはこちらまで"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 1);
    let d = &env.delivery_of("p.json")[0];
    assert_eq!(d.verdict, Verdict::Warn);
    assert_eq!(d.findings[0].rule, "proofreading");
    assert!(env
        .read("tokyo", "published/p.json.herald.txt")
        .contains("お問い合わせ"));
}

#[test]
fn a_dictionary_whose_spec_fails_is_a_config_error_that_quotes_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("queue")).unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "version: 1\nrules:\n  - expected: サーバー\n    pattern: /サーバ/\n    specs:\n      - from: サーバ\n        to: サーバ\n",
    )
    .unwrap();
    let text = "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\n\n[rulebooks.company.rules.proofreading]\nseverity = \"warn\"\ndictionaries = [\"bad.yml\"]\n";
    let err = herald::config::parse(&dir.path().join("herald.toml"), text).unwrap_err();
    assert_eq!(err.position.unwrap().line, 8);
    assert!(err.message.contains("spec failed"), "{}", err.message);
    assert!(err.message.contains("from \"サーバ\""), "{}", err.message);
}
