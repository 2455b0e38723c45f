//! How fast the guideline checks are: the company baseline (every built-in
//! rule) plus a prh dictionary of 5,000 rules and a term list of 10,000
//! terms, over 280-character Japanese and English posts. Prints the load
//! time and posts per second; BENCHMARKS.md records the figures.
//!
//!     cargo bench --bench rules
//!
//! (`cargo test --all-targets` runs it as a quick smoke test on 40 rules.)
//!
//! It also writes its dictionary and corpus to target/bench-data/, so that
//! benches/prh_compare.js can time npm prh on the very same input.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use herald::guidelines::{Draft, Guidelines};
use herald::queue::{Kind, Part};

/// A small deterministic generator, so every run checks the same corpus.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const JA: &[&str] = &[
    "本日、新しいサービスの提供を開始しました。",
    "詳しくは公式サイトのお知らせをご覧ください。",
    "皆さまのご来場を心よりお待ちしております。",
    "サーバのメンテナンスのため、一部機能を停止します。",
    "お問合せは窓口までお願いいたします。",
    "新製品の予約受付は来週月曜日から始まります。",
    "ご不便をおかけしますが、ご理解のほどよろしくお願いいたします。",
    "東京本社で開催するセミナーの参加者を募集しています。",
    "スマートフォン向けアプリを更新しました。",
    "ユーザの皆さまからのご意見をもとに改善しました。",
    "年末年始の営業時間についてお知らせします。",
    "こちらの資料もあわせてご確認して下さい。",
    "担当者が丁寧にご説明いたします。",
    "弊社は地域の清掃活動に参加しました。",
    "githubでサンプルコードを公開しています。",
    "JavaScriptとTypeScriptの勉強会を行います。",
];

const EN: &[&str] = &[
    "Today we launched our new service for small businesses. ",
    "Read the full announcement on our website. ",
    "Join us at the Berlin lab for an open day on Saturday. ",
    "Our support team is here to help, seven days a week. ",
    "The new app update brings faster sync and a darker dark mode. ",
    "Thanks to everyone who came to our meetup last night! ",
    "We are hiring engineers who love clean code. ",
    "Maintenance is planned for Sunday morning. ",
];

/// A post of about 280 characters.
fn post(rng: &mut Lcg, japanese: bool) -> String {
    let mut text = String::new();
    let limit = if japanese { 140 } else { 280 };
    while text.chars().count() < limit - 30 {
        text.push_str(rng.pick(if japanese { JA } else { EN }));
    }
    if rng.next().is_multiple_of(5) {
        text.push_str(" #news #update");
    }
    text.chars().take(limit).collect()
}

/// 5,000 prh rules in the shapes real dictionaries use: literal patterns,
/// JavaScript regexes with lookaround, and `expected` alone (widened to
/// half/full-width and case variants).
fn dictionary(n: usize) -> String {
    let mut y = String::from("version: 1\nrules:\n");
    for i in 0..n {
        match i % 4 {
            0 => y.push_str(&format!(
                "  - expected: サービス{i}\n    patterns:\n      - さーびす{i}\n      - ｻｰﾋﾞｽ{i}\n"
            )),
            1 => y.push_str(&format!(
                "  - expected: 製品{i}号\n    pattern: /(?<=[のを])せいひん{i}ごう(?!機)/\n"
            )),
            2 => y.push_str(&format!("  - expected: Cloud{i}Suite\n")),
            _ => y.push_str(&format!(
                "  - expected: 株式会社エグザンプル{i}\n    pattern: /(?:株式会社|\\(株\\))えぐざんぷる{i}/\n"
            )),
        }
    }
    y
}

fn terms(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("\"案件コード{i}\"")
            } else {
                format!("\"codename-{i}\"")
            }
        })
        .collect();
    list.join(", ")
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and
    // then a small smoke run keeps the bench working without slowing tests.
    let full = std::env::args().any(|a| a == "--bench");
    let (rules, term_count, posts) = if full { (5_000, 10_000, 2_000) } else { (40, 100, 20) };
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(if full {
        "target/bench-data"
    } else {
        "target/bench-smoke"
    });
    std::fs::create_dir_all(out.join("queue/tokyo")).unwrap();
    std::fs::create_dir_all(out.join("queue/sandbox")).unwrap();
    std::fs::write(out.join("bench.yml"), dictionary(rules)).unwrap();
    let config_text = format!(
        "{}\n[rulebooks.company.rules.proofreading]\ndictionaries = [\"bench.yml\", \"{}\"]\n\n[rulebooks.company.rules.codenames]\nseverity = \"block\"\nterms = [{}]\n\n[[account]]\nid = \"tokyo\"\nplatform = \"x\"\nhandle = \"@t\"\nowner = \"H\"\ntime_zone = \"Asia/Tokyo\"\n\n[[account]]\nid = \"sandbox\"\nplatform = \"sandbox\"\nhandle = \"@s\"\nowner = \"H\"\ntime_zone = \"Asia/Tokyo\"\n",
        baseline(),
        corporate_dictionary().display(),
        terms(term_count)
    );
    std::fs::write(out.join("herald.toml"), config_text).unwrap();

    let started = Instant::now();
    let config = herald::config::load(&out.join("herald.toml")).unwrap_or_else(|e| panic!("{e}"));
    let load = started.elapsed();
    let mut rng = Lcg(2026);
    let corpus: Vec<String> = (0..posts).map(|i| post(&mut rng, i % 4 != 3)).collect();
    std::fs::write(out.join("corpus.json"), serde_json::to_string(&corpus).unwrap()).unwrap();
    println!("load config + dictionaries ({rules} prh rules, {term_count} terms): {load:.2?}");
    // The X account measures length as twitter-text does; the sandbox
    // account counts characters, which shows the guideline rules' own cost.
    for id in ["tokyo", "sandbox"] {
        measure(&config, id, &corpus);
    }
    prh_only(&config, &corpus);
}

/// The dictionaries alone through herald's prh engine, as npm prh runs them.
fn prh_only(config: &herald::config::Config, corpus: &[String]) {
    let dicts = &config.rulebooks["company"].rules["proofreading"].dictionaries;
    let hits: usize = corpus
        .iter()
        .take(200)
        .map(|t| dicts.iter().map(|d| d.check(t).len()).sum::<usize>())
        .sum();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for t in corpus {
            for d in dicts {
                std::hint::black_box(d.check(t));
            }
        }
        best = best.min(started.elapsed());
    }
    println!(
        "prh dictionaries alone ({} rules): {:.1?} per post, {:.0} posts/s; {hits} hits in the warm-up",
        dicts.iter().map(|d| d.len()).sum::<usize>(),
        best / corpus.len() as u32,
        corpus.len() as f64 / best.as_secs_f64()
    );
}

fn measure(config: &herald::config::Config, id: &str, corpus: &[String]) {
    let account = &config.accounts[id];
    let started = Instant::now();
    let guidelines = Guidelines::for_account(config, account);
    let build = started.elapsed();
    let metric = herald::platform::metric_for(config, account.platform);
    let parts: Vec<Vec<Part>> = corpus
        .iter()
        .map(|t| {
            vec![Part {
                text: t.clone(),
                media: vec![],
            }]
        })
        .collect();
    let now = chrono::Utc::now();
    let check = |p: &[Part]| {
        let draft = Draft {
            parts: p,
            kind: Kind::News,
            language: None,
            labels: &[],
            approvals: &[],
            now,
            metric: metric.as_ref(),
            at: None,
            disaster_hold: false,
            recent: &[],
        };
        guidelines.check(&draft)
    };
    // Warm up, then time three passes and keep the best.
    let mut findings = 0;
    for p in parts.iter().take(200.min(parts.len())) {
        findings += check(p).findings.len();
    }
    let mut best = Duration::MAX;
    let mut times = Vec::with_capacity(parts.len());
    for _ in 0..3 {
        times.clear();
        let started = Instant::now();
        for p in &parts {
            let t = Instant::now();
            std::hint::black_box(check(p));
            times.push(t.elapsed());
        }
        best = best.min(started.elapsed());
    }
    times.sort();
    println!(
        "account on {}: {} rules in force, built in {build:.2?}; {} posts of ~280 characters: {:.1?} per post (median {:.1?}, p99 {:.1?}), {:.0} posts/s; {findings} findings in the warm-up",
        account.platform.name(),
        guidelines.rule_ids().len(),
        parts.len(),
        best / parts.len() as u32,
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        parts.len() as f64 / best.as_secs_f64()
    );
}

fn corporate_dictionary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dictionaries/corporate.yml")
}

/// Every built-in rule, as a company baseline would list them.
fn baseline() -> String {
    let mut t = String::from(
        "[daemon]\nqueue_dir = \"queue\"\nstate_dir = \"state\"\nbaseline = \"company\"\n\n[rulebooks.company.rules.internal-link]\ndomains = [\"intra.example.co.jp\"]\n\n[rulebooks.company.rules.embargo]\nnames = [{ name = \"Falcon\", until = \"2099-01-01T00:00:00Z\" }]\n\n[rulebooks.company.rules.client-reference]\nclients = [{ name = \"Acme\", aliases = [\"アクメ\"] }]\n\n[rulebooks.company.rules.quiet-period]\nearnings = [\"2099-01-01T00:00:00Z\"]\n",
    );
    for b in herald::guidelines::catalog::BUILT_IN {
        if ![
            "internal-link",
            "embargo",
            "client-reference",
            "quiet-period",
            "proofreading",
        ]
        .contains(&b.id)
        {
            t.push_str(&format!("\n[rulebooks.company.rules.{}]\n", b.id));
        }
    }
    t
}
