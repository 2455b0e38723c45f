//! One test per built-in rule: a violating and a clean example, in Japanese
//! and in English, through the same `Guidelines` the daemon builds from the
//! config. The clean examples must pass *every* rule, so each one also
//! guards against false alarms of the others.

mod common;

use chrono::{DateTime, Utc};
use common::{utc, Env};
use herald::config::Severity;
use herald::guidelines::{Draft, Guidelines, Report, Verdict};
use herald::queue::{Kind, Media, Part};

const ALL_RULES: &str = r#"
[[account]]
id = "tokyo"
platform = "sandbox"
handle = "@tokyo"
owner = "Hanako"
time_zone = "Asia/Tokyo"

[[account]]
id = "berlin"
platform = "sandbox"
handle = "@berlin"
owner = "Jonas"
time_zone = "Europe/Berlin"

[rulebooks.company.rules.internal-link]
domains = ["intra.example.co.jp"]

[rulebooks.company.rules.embargo]
names = [{ name = "Falcon", aliases = ["ファルコン"], until = "2027-04-01T10:00:00+09:00" }]

[rulebooks.company.rules.client-reference]
clients = [{ name = "Acme Corporation", aliases = ["Acme", "アクメ"] }]
approvals = [
  { id = "APR-1", clients = ["Acme Corporation"], expires = "2027-01-01T00:00:00+09:00" },
  { id = "APR-OLD", expires = 2026-06-30T00:00:00+09:00 },
]

[rulebooks.company.rules.quiet-period]
earnings = ["2027-02-12T15:00:00+09:00"]
window = "28days"

[rulebooks.company.rules.legal-topic]
[rulebooks.company.rules.stealth-marketing]
[rulebooks.company.rules.personal-data]
allow = ["support@example.co.jp", "0120-000-000"]
[rulebooks.company.rules.secret]
[rulebooks.company.rules.offensive]
[rulebooks.company.rules.sensitive-topic]
[rulebooks.company.rules.sensitive-date]
[rulebooks.company.rules.disaster-hold]
[rulebooks.company.rules.duplicate]
days = 7
[rulebooks.company.rules.hashtags]
max = 3
[rulebooks.company.rules.media-alt-text]
[rulebooks.company.rules.invisible-chars]
[rulebooks.company.rules.unmatched-pair]
[rulebooks.company.rules.width]
"#;

/// A post to check, with the defaults most tests want.
struct Post {
    parts: Vec<Part>,
    kind: Kind,
    language: &'static str,
    approvals: Vec<String>,
    labels: Vec<String>,
    now: DateTime<Utc>,
    at: Option<DateTime<Utc>>,
    disaster_hold: bool,
    recent: Vec<String>,
    account: &'static str,
}

fn post(language: &'static str, text: &str) -> Post {
    Post {
        parts: vec![Part {
            text: text.to_string(),
            media: vec![],
        }],
        kind: Kind::News,
        language,
        approvals: vec![],
        labels: vec![],
        now: utc("2026-12-01T00:00:00Z"),
        at: None,
        disaster_hold: false,
        recent: vec![],
        account: "tokyo",
    }
}

fn env() -> Env {
    Env::new(ALL_RULES)
}

fn check(env: &Env, p: &Post) -> Report {
    let account = &env.config.accounts[p.account];
    let rules = Guidelines::for_account(&env.config, account);
    let metric = herald::platform::metric_for(&env.config, account.platform);
    let draft = Draft {
        parts: &p.parts,
        kind: p.kind,
        language: Some(p.language),
        labels: &p.labels,
        approvals: &p.approvals,
        now: p.now,
        metric: metric.as_ref(),
        at: p.at,
        disaster_hold: p.disaster_hold,
        recent: &p.recent,
    };
    rules.check(&draft)
}

/// The (rule, matched) pairs of a report.
fn found(report: &Report) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.matched.clone()))
        .collect()
}

/// Asserts that `p` has exactly one finding, of `rule`, on `matched`, with
/// the verdict `verdict`, and that its message is in the post's language.
fn assert_one(env: &Env, p: &Post, rule: &str, matched: &str, verdict: Verdict) {
    let report = check(env, p);
    assert_eq!(
        found(&report),
        vec![(rule.to_string(), matched.to_string())],
        "{:#?}",
        report.findings
    );
    assert_eq!(report.verdict, verdict, "{:#?}", report.findings);
    let message = &report.findings[0].message;
    let japanese = message.chars().any(|c| ('\u{3040}'..='\u{30FF}').contains(&c));
    assert_eq!(japanese, p.language == "ja", "message language: {message}");
    // Every message cites the guideline it comes from.
    assert!(
        message.contains("ガイドライン第") || message.contains("guideline "),
        "{message}"
    );
}

/// Like [`assert_one`] for a text that other rules also flag (full-width
/// digits are also a width finding): only `rule`'s findings are compared.
fn assert_among(env: &Env, p: &Post, rule: &str, matched: &str, verdict: Verdict) {
    let report = check(env, p);
    let mine: Vec<_> = found(&report).into_iter().filter(|(r, _)| r == rule).collect();
    assert_eq!(
        mine,
        vec![(rule.to_string(), matched.to_string())],
        "{:#?}",
        report.findings
    );
    assert_eq!(report.verdict, verdict, "{:#?}", report.findings);
}

fn assert_clean(env: &Env, p: &Post) {
    let report = check(env, p);
    assert_eq!(report.verdict, Verdict::Pass, "{:#?}", report.findings);
}

#[test]
fn confidential_marker() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "この資料は社外秘です。"),
        "confidential-marker",
        "社外秘",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "Slides attached, strictly internal use only."),
        "confidential-marker",
        "internal use only",
        Verdict::Block,
    );
    assert_clean(&env, &post("ja", "新しい資料を公開しました。"));
    assert_clean(&env, &post("en", "Our new brochure is out."));
}

#[test]
fn terms_match_after_width_and_case_folding() {
    let env = env();
    // The built-in list has "Company Confidential"; the base config "Confidential".
    let p = post("en", "ＩＢＭ　Ｃｏｎｆｉｄｅｎｔｉａｌ draft");
    assert_among(
        &env,
        &p,
        "confidential-marker",
        "Ｃｏｎｆｉｄｅｎｔｉａｌ",
        Verdict::Block,
    );
    // Half-width katakana fold too: ﾏﾙ秘 is マル秘.
    let report = check(&env, &post("ja", "ﾏﾙ秘資料"));
    assert!(found(&report).contains(&("confidential-marker".into(), "ﾏﾙ秘".into())));
}

#[test]
fn internal_link() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "詳細は https://wiki.intra.example.co.jp/page をご覧ください"),
        "internal-link",
        "https://wiki.intra.example.co.jp/page",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "Try the demo at http://192.168.10.5:8080/demo today"),
        "internal-link",
        "http://192.168.10.5:8080/demo",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "The deck is at file:///C:/Users/hanako/deck.pptx now"),
        "internal-link",
        "file:///C:/Users/hanako/deck.pptx",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "See http://localhost:3000 now"),
        "internal-link",
        "http://localhost:3000",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("ja", "社内wiki（wiki.intra.example.co.jp）で共有"),
        "internal-link",
        "wiki.intra.example.co.jp",
        Verdict::Block,
    );
    assert_clean(
        &env,
        &post("ja", "詳細は https://www.example.co.jp/news をご覧ください"),
    );
    assert_clean(&env, &post("en", "Version 10.0 is out: https://example.com/10.0.1"));
}

#[test]
fn embargo_until_its_instant() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "新製品ファルコンをお楽しみに"),
        "embargo",
        "ファルコン",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "Falcon is coming"),
        "embargo",
        "Falcon",
        Verdict::Block,
    );
    // From the `until` instant on, the name is free.
    let mut after = post("en", "Falcon is here");
    after.now = utc("2027-04-01T01:00:00Z");
    assert_clean(&env, &after);
    // A post scheduled after the embargo passes even when checked before it.
    let mut scheduled = post("ja", "ファルコン発売");
    scheduled.at = Some(utc("2027-04-01T01:00:00Z"));
    assert_clean(&env, &scheduled);
    scheduled.at = Some(utc("2027-04-01T00:59:59Z"));
    assert_eq!(check(&env, &scheduled).verdict, Verdict::Block);
}

#[test]
fn client_reference_needs_a_recorded_unexpired_approval() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "アクメ様と共同で開発しました"),
        "client-reference",
        "アクメ",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "Built with Acme"),
        "client-reference",
        "Acme",
        Verdict::Hold,
    );
    let mut approved = post("en", "Built with Acme");
    approved.approvals = vec!["APR-1".into()];
    assert_clean(&env, &approved);
    let mut ja = post("ja", "アクメ様と共同で開発しました");
    ja.approvals = vec!["apr-1".into()];
    assert_clean(&env, &ja);
    // An approval nobody recorded does not count, and the message says so.
    let mut unknown = post("en", "Built with Acme");
    unknown.approvals = vec!["APR-999".into()];
    let r = check(&env, &unknown);
    assert_eq!(r.verdict, Verdict::Hold);
    assert!(r.findings[0].message.contains("APR-999"), "{}", r.findings[0].message);
}

#[test]
fn an_expired_approval_holds_and_says_when_it_expired() {
    let env = env();
    let mut p = post("en", "Built with Acme");
    p.approvals = vec!["APR-OLD".into()];
    let r = check(&env, &p);
    assert_eq!(r.verdict, Verdict::Hold);
    assert!(r.findings[0].message.contains("APR-OLD") && r.findings[0].message.contains("expired"));
    // APR-1 expires 2027-01-01 00:00 JST: valid one second before, not at it.
    let mut p = post("ja", "アクメ様と共同で開発しました");
    p.approvals = vec!["APR-1".into()];
    p.now = utc("2026-12-31T14:59:59Z");
    assert_clean(&env, &p);
    p.now = utc("2026-12-31T15:00:00Z");
    let r = check(&env, &p);
    assert_eq!(r.verdict, Verdict::Hold);
    assert!(r.findings[0].message.contains("期限切れ"), "{}", r.findings[0].message);
}

#[test]
fn financial_topic() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "今期の営業利益は過去最高でした"),
        "financial-topic",
        "営業利益",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "We raised our guidance today"),
        "financial-topic",
        "guidance",
        Verdict::Hold,
    );
    assert_clean(&env, &post("ja", "今期の新入社員を紹介します"));
    assert_clean(&env, &post("en", "We raised the roof today"));
}

#[test]
fn quiet_period_boundaries_to_the_second() {
    let env = env();
    // Earnings 2027-02-12 15:00 JST = 06:00 UTC; 28 days before: 2027-01-15 06:00 UTC.
    let at = |t: &str| {
        let mut p = post("ja", "業績は好調です");
        p.now = utc(t);
        check(&env, &p)
    };
    let before = at("2027-01-15T05:59:59Z");
    assert_eq!(
        (before.verdict, before.findings[0].rule.as_str()),
        (Verdict::Hold, "financial-topic")
    );
    // Inside the window it is still a financial-topic finding, now a block
    // (quiet-period sets the windows; it is not a rule of its own).
    let start = at("2027-01-15T06:00:00Z");
    assert_eq!(
        (
            start.verdict,
            start.findings[0].rule.as_str(),
            start.findings[0].severity
        ),
        (Verdict::Block, "financial-topic", Severity::Block)
    );
    assert_eq!(start.findings.len(), 1);
    assert!(
        start.findings[0]
            .message
            .contains("2027-02-12 15:00 +09:00の決算発表前の沈黙期間"),
        "{}",
        start.findings[0].message
    );
    let inside = at("2027-01-15T06:00:01Z");
    assert_eq!(inside.verdict, Verdict::Block);
    assert!(
        inside.findings[0].message.contains("沈黙期間"),
        "{}",
        inside.findings[0].message
    );
    let last = at("2027-02-12T05:59:59Z");
    assert_eq!(last.verdict, Verdict::Block);
    let announced = at("2027-02-12T06:00:00Z");
    assert_eq!(announced.verdict, Verdict::Hold);
    let after = at("2027-02-12T06:00:01Z");
    assert_eq!(after.verdict, Verdict::Hold);
    // English, and a post scheduled into the window while checked before it.
    let mut p = post("en", "Strong earnings ahead");
    p.at = Some(utc("2027-02-01T00:00:00Z"));
    let r = check(&env, &p);
    assert_eq!(r.verdict, Verdict::Block);
    assert_eq!(r.findings[0].rule, "financial-topic");
    assert!(
        r.findings[0]
            .message
            .contains("it is the quiet period before the earnings announcement on 2027-02-12 15:00 +09:00"),
        "{}",
        r.findings[0].message
    );
}

#[test]
fn legal_topic() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "A社との訴訟について"),
        "legal-topic",
        "訴訟",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "About the lawsuit"),
        "legal-topic",
        "lawsuit",
        Verdict::Hold,
    );
    assert_clean(&env, &post("ja", "新しい店舗のご案内"));
    assert_clean(&env, &post("en", "About the launch"));
}

#[test]
fn stealth_marketing() {
    let env = env();
    let sponsored = |lang: &'static str, text: &str| {
        let mut p = post(lang, text);
        p.kind = Kind::Sponsored;
        p
    };
    // No label at all.
    assert_one(
        &env,
        &sponsored("ja", "この美容液、本当におすすめです！"),
        "stealth-marketing",
        "こ",
        Verdict::Block,
    );
    assert_one(
        &env,
        &sponsored("en", "I love this serum!"),
        "stealth-marketing",
        "I",
        Verdict::Block,
    );
    // An affiliate link without a label, in a post of any kind.
    assert_one(
        &env,
        &post("en", "My favourite book: https://amzn.to/3xYzAbC"),
        "stealth-marketing",
        "https://amzn.to/3xYzAbC",
        Verdict::Block,
    );
    // A label after the first 40 characters.
    let late = format!("{}。広告", "あ".repeat(45));
    assert_one(
        &env,
        &sponsored("ja", &late),
        "stealth-marketing",
        "広告",
        Verdict::Block,
    );
    // A label buried after four hashtags.
    assert_among(
        &env,
        &sponsored("en", "#skin #care #beauty #glow #ad new serum"),
        "stealth-marketing",
        "#ad",
        Verdict::Block,
    );
    // Labelled up front: clean.
    assert_clean(&env, &sponsored("ja", "【PR】この美容液、本当におすすめです！"));
    assert_clean(&env, &sponsored("ja", "#PR この美容液がおすすめ"));
    let folded = check(&env, &sponsored("ja", "＃ＰＲ この美容液がおすすめ"));
    assert!(
        folded.findings.iter().all(|f| f.rule == "width"),
        "{:#?}",
        folded.findings
    );
    assert_clean(&env, &sponsored("en", "#ad I love this serum!"));
    // Three hashtags before the label are allowed (four are over the
    // hashtags rule's limit of three here, a warning of its own).
    let three = check(&env, &sponsored("en", "#skin #care #beauty #ad new serum"));
    assert!(
        three.findings.iter().all(|f| f.rule == "hashtags"),
        "{:#?}",
        three.findings
    );
    // Not sponsored, no affiliate link: no label needed ("PRESS" is no label either).
    assert_clean(&env, &post("en", "PRESS RELEASE: new office"));
}

#[test]
fn personal_data() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "担当は hanako.yamada@example.co.jp まで"),
        "personal-data",
        "hanako.yamada@example.co.jp",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("ja", "携帯 090-1234-5678 まで"),
        "personal-data",
        "090-1234-5678",
        Verdict::Hold,
    );
    assert_among(
        &env,
        &post("ja", "電話：０３－１２３４－５６７８"),
        "personal-data",
        "０３－１２３４－５６７８",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "Call Jonas on +49 30 1234 5678 today"),
        "personal-data",
        "+49 30 1234 5678",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "Mail jonas@example.de"),
        "personal-data",
        "jonas@example.de",
        Verdict::Hold,
    );
    // Allow-listed official contacts pass.
    assert_clean(
        &env,
        &post("ja", "お問い合わせは support@example.co.jp または 0120-000-000 へ"),
    );
    assert_clean(&env, &post("en", "Questions? support@example.co.jp"));
    // Dates and times are not phone numbers.
    assert_clean(&env, &post("en", "Open 2026-12-01, 10:00-18:00"));
}

#[test]
fn my_number_check_digit_blocks_and_corporate_numbers_pass() {
    let env = env();
    // 1234 5678 9018: the check digit of 12345678901 is 8.
    assert_one(
        &env,
        &post("ja", "番号は123456789018です"),
        "personal-data",
        "123456789018",
        Verdict::Block,
    );
    assert_one(
        &env,
        &post("en", "ID 1234-5678-9018 here"),
        "personal-data",
        "1234-5678-9018",
        Verdict::Block,
    );
    let r = check(&env, &post("ja", "番号は123456789018です"));
    assert_eq!(r.findings[0].severity, Severity::Block);
    // The wrong check digit is not a My Number.
    assert_clean(&env, &post("ja", "注文番号は123456789017です"));
    // A 13-digit corporate number (法人番号) is public and never flagged,
    // even though its last 12 digits are a valid My Number.
    assert_clean(&env, &post("ja", "法人番号 3123456789018"));
    assert_clean(&env, &post("en", "Corporate number 3123456789018"));
}

#[test]
fn secret_is_blocked_and_never_repeated() {
    let env = env();
    let key = "AKIAIOSFODNN7EXAMPLE";
    let r = check(&env, &post("en", &format!("debug: {key}")));
    assert_eq!(r.verdict, Verdict::Block);
    assert_eq!(r.findings[0].rule, "secret");
    assert!(!r.findings[0].matched.contains(key) && !r.findings[0].message.contains(key));
    assert_eq!(r.findings[0].matched, "AKIA… (20 characters, hidden)");
    let token = format!("ghp_{}", "a1B2".repeat(9));
    assert_one(
        &env,
        &post("ja", &format!("トークン {token} を使って")),
        "secret",
        "ghp_… (40 characters, hidden)",
        Verdict::Block,
    );
    let r = check(
        &env,
        &post("en", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"),
    );
    assert_eq!((r.verdict, r.findings[0].rule.as_str()), (Verdict::Block, "secret"));
    let slack = format!("xoxb-{}-{}", "1234567890", "abcdefghijABCDEFGHIJ");
    assert_eq!(check(&env, &post("en", &slack)).verdict, Verdict::Block);
    assert_clean(&env, &post("en", "Our API docs are public"));
    assert_clean(&env, &post("ja", "APIキーの管理方法を解説しました"));
}

#[test]
fn offensive() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "そんなこと言うやつは死ね"),
        "offensive",
        "死ね",
        Verdict::Block,
    );
    assert_one(&env, &post("en", "What a moron"), "offensive", "moron", Verdict::Block);
    // Word edges: "shitake" is a mushroom, "Scunthorpe" a town.
    assert_clean(&env, &post("en", "Shitake risotto in Scunthorpe"));
    assert_clean(&env, &post("ja", "ページをめくらないでください"));
}

#[test]
fn sensitive_topic_warns() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "地震に備えて備蓄を"),
        "sensitive-topic",
        "地震",
        Verdict::Warn,
    );
    assert_one(
        &env,
        &post("en", "Ahead of the election"),
        "sensitive-topic",
        "election",
        Verdict::Warn,
    );
    assert_clean(&env, &post("ja", "差別化された新製品です"));
    assert_clean(&env, &post("en", "Ahead of the launch"));
}

#[test]
fn sensitive_date_in_the_accounts_zone() {
    let env = env();
    let promo = |lang: &'static str, t: &str| {
        let mut p = post(
            lang,
            if lang == "ja" {
                "【PR】本日限定セール！"
            } else {
                "#ad One-day sale!"
            },
        );
        p.kind = Kind::Promotion;
        p.now = utc(t);
        p
    };
    // 2027-03-11 00:30 JST is still 03-10 in UTC: the account's zone decides.
    assert_one(
        &env,
        &promo("ja", "2027-03-10T15:30:00Z"),
        "sensitive-date",
        "【",
        Verdict::Warn,
    );
    let mut berlin = promo("en", "2027-08-06T10:00:00Z");
    berlin.account = "berlin";
    assert_one(&env, &berlin, "sensitive-date", "#", Verdict::Warn);
    // A humorous label counts too; a news post on the day does not.
    let mut joke = post("en", "Why did the server cross the road?");
    joke.labels = vec!["joke".into()];
    joke.now = utc("2027-03-11T03:00:00Z");
    assert_eq!(check(&env, &joke).verdict, Verdict::Warn);
    let mut news = post("ja", "本日は防災訓練を行いました");
    news.now = utc("2027-03-11T03:00:00Z");
    assert_clean(&env, &news);
    assert_clean(&env, &promo("ja", "2027-03-10T14:59:59Z"));
    assert_clean(&env, &promo("en", "2027-03-12T03:00:00Z"));
}

#[test]
fn disaster_hold_holds_promotions_only() {
    let env = env();
    let mut p = post("ja", "【PR】新商品のご案内");
    p.kind = Kind::Promotion;
    p.disaster_hold = true;
    assert_one(&env, &p, "disaster-hold", "【", Verdict::Hold);
    let mut p = post("en", "#ad New product");
    p.kind = Kind::Sponsored;
    p.disaster_hold = true;
    assert_one(&env, &p, "disaster-hold", "#", Verdict::Hold);
    let mut support = post("ja", "営業時間の変更のお知らせ");
    support.kind = Kind::Support;
    support.disaster_hold = true;
    assert_clean(&env, &support);
    let mut promo = post("en", "#ad New product");
    promo.kind = Kind::Promotion;
    assert_clean(&env, &promo);
}

#[test]
fn duplicate_compares_with_recent_texts() {
    let env = env();
    let mut p = post("ja", "本日より新製品の予約を開始しました！");
    p.recent = vec!["本日より新製品の予約を開始しました".into()];
    let r = check(&env, &p);
    assert_eq!((r.verdict, r.findings[0].rule.as_str()), (Verdict::Hold, "duplicate"));
    assert!(r.findings[0].message.contains("7日以内"), "{}", r.findings[0].message);
    let mut p = post("en", "Pre-orders open today: https://example.com/a");
    p.recent = vec!["Pre-orders open today! https://example.com/b".into()];
    assert_eq!(check(&env, &p).findings[0].rule, "duplicate");
    let mut p = post("ja", "週末は全店で営業いたします");
    p.recent = vec!["本日より新製品の予約を開始しました".into()];
    assert_clean(&env, &p);
    let mut p = post("en", "Our autumn menu is here");
    p.recent = vec!["Pre-orders open today".into()];
    assert_clean(&env, &p);
}

#[tokio::test]
async fn the_daemon_holds_a_second_file_with_the_same_text() {
    let env = env();
    env.drop_post("tokyo", "a.json", r#"{"text": "新しい店舗がオープンしました"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.drop_post("tokyo", "b.json", r#"{"text": "新しい店舗がオープンしました！"}"#);
    env.run_at(utc("2026-12-02T01:00:00Z")).await;
    let b = &env.delivery_of("b.json")[0];
    assert_eq!(b.verdict, Verdict::Hold);
    assert_eq!(b.findings[0].rule, "duplicate");
    // Eight days later the same text is fine again.
    env.drop_post("tokyo", "c.json", r#"{"text": "新しい店舗がオープンしました"}"#);
    env.run_at(utc("2026-12-10T01:00:00Z")).await;
    let c = &env.delivery_of("c.json")[0];
    assert_eq!(c.verdict, Verdict::Pass, "{:?}", c.findings);
}

#[tokio::test]
async fn two_files_with_the_same_text_dropped_together_hold_the_second() {
    let env = env();
    env.drop_post("tokyo", "a.json", r#"{"text": "年末年始の営業時間のお知らせ"}"#);
    env.drop_post("tokyo", "b.json", r#"{"text": "年末年始の営業時間のお知らせ"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let a = &env.delivery_of("a.json")[0];
    let b = &env.delivery_of("b.json")[0];
    assert_eq!(a.verdict, Verdict::Pass, "{:?}", a.findings);
    assert_eq!(b.verdict, Verdict::Hold);
    assert_eq!(b.findings[0].rule, "duplicate");
    assert_eq!(env.outbox("tokyo").len(), 1);
}

#[test]
fn hashtags() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "新製品 #新製品 #発売 #春 #限定"),
        "hashtags",
        "#限定",
        Verdict::Warn,
    );
    assert_one(
        &env,
        &post("en", "New #one #two #three #four #five"),
        "hashtags",
        "#four #five",
        Verdict::Warn,
    );
    assert_clean(&env, &post("ja", "新製品 #新製品 #発売 #春"));
    assert_clean(&env, &post("en", "We are #1 in #support"));
}

#[test]
fn media_alt_text() {
    let env = env();
    let with_media = |lang: &'static str, text: &str, alt: Option<&str>| {
        let mut p = post(lang, text);
        p.parts[0].media = vec![Media {
            relative: "office.png".into(),
            path: "/q/tokyo/office.png".into(),
            alt: alt.map(str::to_string),
        }];
        p
    };
    assert_one(
        &env,
        &with_media("ja", "新オフィスです", None),
        "media-alt-text",
        "office.png",
        Verdict::Warn,
    );
    assert_one(
        &env,
        &with_media("en", "Our new office", Some("  ")),
        "media-alt-text",
        "office.png",
        Verdict::Warn,
    );
    assert_clean(
        &env,
        &with_media("ja", "新オフィスです", Some("窓の大きな明るい執務室")),
    );
    assert_clean(
        &env,
        &with_media("en", "Our new office", Some("A bright open-plan office")),
    );
}

#[test]
fn invisible_chars() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "お知らせ\u{200B}です"),
        "invisible-chars",
        "\u{200B}",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "Hello\u{202E}world"),
        "invisible-chars",
        "\u{202E}",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "bell\u{7}"),
        "invisible-chars",
        "\u{7}",
        Verdict::Hold,
    );
    // NFD: か + combining dakuten, as pasted from a macOS file name.
    assert_one(
        &env,
        &post("ja", "か\u{3099}いど"),
        "invisible-chars",
        "か\u{3099}",
        Verdict::Hold,
    );
    assert_one(
        &env,
        &post("en", "Cafe\u{301} opening"),
        "invisible-chars",
        "e\u{301}",
        Verdict::Hold,
    );
    // Emoji sequences joined with ZWJ, line breaks and tabs are fine.
    assert_clean(&env, &post("ja", "家族で👨\u{200D}👩\u{200D}👧\nご来店ください"));
    assert_clean(&env, &post("en", "Café opening\n\tsoon"));
}

#[test]
fn unmatched_pair() {
    let env = env();
    assert_one(
        &env,
        &post("ja", "「新製品の発表会を開催します"),
        "unmatched-pair",
        "「",
        Verdict::Warn,
    );
    assert_one(
        &env,
        &post("ja", "新製品（限定版の発表会"),
        "unmatched-pair",
        "（",
        Verdict::Warn,
    );
    assert_one(
        &env,
        &post("en", "See the notes] below"),
        "unmatched-pair",
        "]",
        Verdict::Warn,
    );
    assert_clean(&env, &post("ja", "『社史』と「年表」（改訂版）【公式】を公開"));
    assert_clean(&env, &post("en", "See [the notes] at https://example.com/a[1"));
}

#[test]
fn width_with_the_fix() {
    let env = env();
    let r = check(&env, &post("ja", "ｶﾀﾛｸﾞを公開"));
    assert_eq!(found(&r), vec![("width".into(), "ｶﾀﾛｸﾞ".into())]);
    assert_eq!(r.findings[0].replacement.as_deref(), Some("カタログ"));
    assert_eq!(r.verdict, Verdict::Warn);
    let r = check(&env, &post("en", "Version ２０２７ is out"));
    assert_eq!(r.findings[0].replacement.as_deref(), Some("2027"));
    assert!(r.findings[0].message.contains("full-width"));
    assert_clean(&env, &post("ja", "カタログを公開"));
    assert_clean(&env, &post("en", "Version 2027 is out"));
}

#[test]
fn messages_follow_the_posts_language_and_custom_messages_win() {
    let env = Env::new(
        "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\n\n[rulebooks.company.rules.legal-topic]\nmessage = \"Legal first: {term}\"\nsuggestion = \"Ask legal@example.com\"\n",
    );
    let r = check(&env, &post("ja", "訴訟の件"));
    assert_eq!(r.findings[0].message, "Legal first: 訴訟");
    assert_eq!(r.findings[0].suggestion.as_deref(), Some("Ask legal@example.com"));
}

#[test]
fn replace_defaults_drops_the_built_in_list() {
    let env = Env::new(
        "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\n\n[rulebooks.company.rules.legal-topic]\nterms = [\"裁判\"]\nreplace_defaults = true\n",
    );
    assert_clean(&env, &post("ja", "訴訟の件"));
    assert_eq!(check(&env, &post("ja", "裁判の件")).verdict, Verdict::Hold);
}

#[test]
fn a_key_the_rule_does_not_read_is_a_config_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("queue")).unwrap();
    let path = dir.path().join("herald.toml");
    std::fs::write(
        &path,
        "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\n\n[rulebooks.company.rules.hashtags]\ndomains = [\"x\"]\n",
    )
    .unwrap();
    let err = herald::config::load(&path).unwrap_err();
    assert_eq!(err.position.unwrap().line, 7);
    assert!(
        err.message.contains("no setting \"domains\"") && err.message.contains("max"),
        "{}",
        err.message
    );
}

#[test]
fn no_text_makes_a_rule_panic() {
    // Fragments that stress spans and folding: marks, half-width kana with
    // voiced marks, full-width forms, ligatures, URLs, brackets, digits,
    // emoji sequences, control and bidi characters.
    const PIECES: &[&str] = &[
        "か\u{3099}",
        "ｶﾞ",
        "ﾞ",
        "\u{301}",
        "ＡＢＣ",
        "１２",
        "ﬁ",
        "㍿",
        "http://",
        "https://a.b/c?d=(e)",
        "file:",
        "\\\\srv\\",
        "@",
        ".",
        "-",
        "+81",
        "0",
        "9",
        " ",
        "\n",
        "\n\n",
        "「",
        "」",
        "（",
        "]",
        "#",
        "＃",
        "PR",
        "広告",
        "社外秘",
        "Acme",
        "ファルコン",
        "業績",
        "👨\u{200D}👩",
        "\u{200D}",
        "\u{202E}",
        "\u{7}",
        "\r",
        "AKIA",
        "ghp_",
        "-----BEGIN ",
        "192.168.",
        "10.0.0.1",
        "amzn.to/x",
        "死ね",
        "é",
        "ß",
        "İ",
        "Σ",
    ];
    let env = env();
    let account = &env.config.accounts["tokyo"];
    let rules = Guidelines::for_account(&env.config, account);
    let metric = herald::platform::metric_for(&env.config, account.platform);
    let mut seed: u64 = 7;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for _ in 0..1500 {
        let n = 1 + next() % 12;
        let text: String = (0..n).map(|_| PIECES[next() % PIECES.len()]).collect();
        for lang in ["ja", "en"] {
            let mut p = post(lang, &text);
            p.kind = if next() % 2 == 0 {
                Kind::Sponsored
            } else {
                Kind::Promotion
            };
            p.recent = vec![text.chars().rev().collect()];
            p.disaster_hold = true;
            let draft = Draft {
                parts: &p.parts,
                kind: p.kind,
                language: Some(p.language),
                labels: &[],
                approvals: &[],
                now: p.now,
                metric: metric.as_ref(),
                at: None,
                disaster_hold: p.disaster_hold,
                recent: &p.recent,
            };
            let report = rules.check(&draft);
            for f in &report.findings {
                assert!(f.start <= f.end && f.end <= text.len(), "{f:?} in {text:?}");
                assert!(
                    text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
                    "{f:?} in {text:?}"
                );
            }
        }
    }
}

#[test]
fn a_configured_guideline_is_what_messages_cite() {
    let env = Env::new(
        "[[account]]\nid = \"tokyo\"\nplatform = \"sandbox\"\nhandle = \"@t\"\nowner = \"H\"\n\n[rulebooks.company.rules.legal-topic]\nguideline = \"ソーシャルメディアポリシー 3.2\"\n",
    );
    let r = check(&env, &post("ja", "訴訟の件"));
    assert!(
        r.findings[0].message.ends_with("（ソーシャルメディアポリシー 3.2）"),
        "{}",
        r.findings[0].message
    );
    let r = check(&env, &post("en", "About the lawsuit"));
    assert!(
        r.findings[0].message.ends_with(" (ソーシャルメディアポリシー 3.2)"),
        "{}",
        r.findings[0].message
    );
    // Other rules keep the built-in citation.
    let r = check(&env, &post("ja", "社外秘"));
    assert!(
        r.findings[0].message.contains("ガイドライン第2条"),
        "{}",
        r.findings[0].message
    );
}
