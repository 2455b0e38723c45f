//! The whole pipeline, in-process: queue files → guidelines → schedule →
//! sled → sandbox → outcome folders, driven by a manual clock.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{published_at, utc, Env, TOKYO};
use herald::store::State;

#[tokio::test]
async fn a_one_shot_post_publishes_at_its_time_and_moves_to_published() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "launch.json",
        r#"{"text": "新製品を発表しました", "at": "2026-12-01 18:00"}"#,
    );

    env.run_at(utc("2026-12-01T08:59:00Z")).await;
    assert!(env.outbox("tokyo").is_empty(), "nothing before its time");
    let note = env.read("tokyo", "launch.json.herald.txt");
    assert!(note.contains("SCHEDULED"), "{note}");
    assert!(note.contains("2026-12-01 18:00 +09:00"), "{note}");

    env.run_at(utc("2026-12-01T09:00:00Z")).await;
    let outbox = env.outbox("tokyo");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0]["parts"][0]["text"], "新製品を発表しました");
    assert!(!env.path("tokyo", "launch.json").exists());
    assert!(!env.path("tokyo", "launch.json.herald.txt").exists());
    let note = env.read("tokyo", "published/launch.json.herald.txt");
    assert!(
        note.contains("PUBLISHED on sandbox as @tokyo at 2026-12-01 18:00 +09:00"),
        "{note}"
    );
    assert!(note.contains("Link: sandbox://tokyo/"), "{note}");
    assert_eq!(published_at(&env, "tokyo"), vec![utc("2026-12-01T09:00:00Z")]);
}

#[tokio::test]
async fn an_asap_post_publishes_on_the_first_pass() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "now.md", "---\nkind: news\n---\nおはようございます\n");
    let summary = env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert_eq!(summary.published, 1);
    assert_eq!(env.outbox("tokyo")[0]["parts"][0]["text"], "おはようございます");
    assert!(env.path("tokyo", "published/now.md").exists());
}

#[tokio::test]
async fn a_thread_publishes_as_a_chain_of_replies_with_media() {
    let env = Env::new(TOKYO);
    std::fs::write(env.path("tokyo", "photo.png"), b"\x89PNG\r\n\x1a\nfake").unwrap();
    env.drop_post(
        "tokyo",
        "thread.json",
        r#"{"thread": [{"text": "one", "media": [{"path": "photo.png", "alt": "a photo"}]}, "two", "three"]}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let outbox = env.outbox("tokyo");
    assert_eq!(outbox.len(), 1);
    let parts = outbox[0]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0]["media"][0]["alt"], "a photo");
    assert_eq!(parts[1]["in_reply_to"], parts[0]["id"]);
    assert_eq!(parts[2]["in_reply_to"], parts[1]["id"]);
}

#[tokio::test]
async fn a_recurring_post_publishes_each_occurrence_until_its_count() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "daily.json",
        r#"{"text": "おはよう", "cron": "0 9 * * *", "count": 3}"#,
    );
    // 09:00 JST exactly: the first occurrence is strictly after the ingest.
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    for _ in 0..5 {
        let Some(due) = env.next_due() else { break };
        env.run_at(due).await;
    }
    assert_eq!(
        published_at(&env, "tokyo"),
        vec![
            utc("2026-12-02T00:00:00Z"),
            utc("2026-12-03T00:00:00Z"),
            utc("2026-12-04T00:00:00Z")
        ],
        "09:00 JST on three days, then the count is reached"
    );
    assert_eq!(env.outbox("tokyo").len(), 3);
    assert!(!env.path("tokyo", "daily.json").exists());
    let note = env.read("tokyo", "published/daily.json.herald.txt");
    assert!(note.contains("published 3 times"), "{note}");
}

#[tokio::test]
async fn a_recurring_post_stays_in_place_while_it_recurs() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "lunch.md",
        "---\ncron: \"0 12 * * 1-5\"\n---\n本日のランチ営業\n",
    );
    env.run_at(utc("2026-12-01T00:00:00Z")).await; // Tuesday 09:00 JST
    env.run_at(utc("2026-12-01T03:00:00Z")).await; // Tuesday 12:00 JST
    assert_eq!(env.outbox("tokyo").len(), 1);
    assert!(env.path("tokyo", "lunch.md").exists());
    let note = env.read("tokyo", "lunch.md.herald.txt");
    assert!(
        note.contains("2026-12-02 12:00 +09:00"),
        "next occurrence is Wednesday: {note}"
    );
    assert!(note.contains("repeats"), "{note}");
}

#[tokio::test]
async fn cron_in_tokyo_on_weekdays_skips_the_weekend() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "weekday.json",
        r#"{"text": "平日の朝", "cron": "30 8 * * 1-5"}"#,
    );
    env.run_at(utc("2026-12-04T00:00:00Z")).await; // Friday 09:00 JST
    for _ in 0..3 {
        let due = env.next_due().expect("a next occurrence");
        env.run_at(due).await;
    }
    // Mon 7, Tue 8, Wed 9 December at 08:30 JST (23:30 UTC the day before).
    assert_eq!(
        published_at(&env, "tokyo"),
        vec![
            utc("2026-12-06T23:30:00Z"),
            utc("2026-12-07T23:30:00Z"),
            utc("2026-12-08T23:30:00Z")
        ]
    );
}

const BERLIN: &str = r#"
[[account]]
id = "berlin"
platform = "sandbox"
handle = "@berlin"
owner = "Jonas"
time_zone = "Europe/Berlin"
"#;

/// Follows a recurring post from `start` to `until`, returning its publication instants.
async fn follow(env: &Env, start: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    env.run_at(start).await;
    while let Some(due) = env.next_due() {
        if due > until {
            break;
        }
        env.run_at(due).await;
    }
    published_at(env, "berlin")
}

#[tokio::test]
async fn cron_in_berlin_runs_once_per_local_day_across_the_spring_gap() {
    let env = Env::new(BERLIN);
    env.drop_post(
        "berlin",
        "night.json",
        r#"{"text": "Gute Nacht", "cron": "30 2 * * *"}"#,
    );
    let got = follow(&env, utc("2026-03-27T12:00:00Z"), utc("2026-03-31T12:00:00Z")).await;
    assert_eq!(
        got,
        vec![
            utc("2026-03-28T01:30:00Z"), // 02:30 CET
            utc("2026-03-29T01:00:00Z"), // 02:30 does not exist: right after the gap, 03:00 CEST
            utc("2026-03-30T00:30:00Z"), // 02:30 CEST
            utc("2026-03-31T00:30:00Z"),
        ]
    );
}

#[tokio::test]
async fn cron_in_berlin_runs_once_per_local_day_across_the_autumn_repeat() {
    let env = Env::new(BERLIN);
    env.drop_post(
        "berlin",
        "night.json",
        r#"{"text": "Gute Nacht", "cron": "30 2 * * *"}"#,
    );
    let got = follow(&env, utc("2026-10-23T12:00:00Z"), utc("2026-10-27T12:00:00Z")).await;
    assert_eq!(
        got,
        vec![
            utc("2026-10-24T00:30:00Z"), // 02:30 CEST
            utc("2026-10-25T00:30:00Z"), // 02:30 happens twice; only the first runs
            utc("2026-10-26T01:30:00Z"), // 02:30 CET
            utc("2026-10-27T01:30:00Z"),
        ]
    );
    assert_eq!(env.outbox("berlin").len(), 4);
}

#[tokio::test]
async fn quiet_hours_push_a_post_to_the_end_of_the_window() {
    let env = Env::new(&format!("{TOKYO}quiet_hours = \"22:00-07:00\"\n"));
    env.drop_post(
        "tokyo",
        "late.json",
        r#"{"text": "夜のお知らせ", "at": "2026-12-01 23:30"}"#,
    );
    env.drop_post(
        "tokyo",
        "urgent.json",
        r#"{"text": "緊急のお知らせ", "at": "2026-12-01 23:30", "kind": "emergency"}"#,
    );
    env.run_at(utc("2026-12-01T14:30:00Z")).await; // 23:30 JST
    let outbox = env.outbox("tokyo");
    assert_eq!(outbox.len(), 1, "only the emergency post goes out during quiet hours");
    assert_eq!(outbox[0]["parts"][0]["text"], "緊急のお知らせ");
    let late = &env.delivery_of("late.json")[0];
    assert_eq!(late.due, utc("2026-12-01T22:00:00Z"), "07:00 JST the next morning");
    assert!(env
        .read("tokyo", "late.json.herald.txt")
        .contains("2026-12-02 07:00 +09:00"));
    env.run_at(utc("2026-12-01T22:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 2);
}

#[tokio::test]
async fn pacing_spaces_an_accounts_posts_by_its_minimum_interval() {
    let env = Env::new(&format!("{TOKYO}min_interval = \"10m\"\n"));
    for name in ["a.json", "b.json", "c.json"] {
        env.drop_post("tokyo", name, format!(r#"{{"text": "post {name}"}}"#));
    }
    let t0 = utc("2026-12-01T01:00:00Z");
    env.run_at(t0).await;
    assert_eq!(env.outbox("tokyo").len(), 1, "one at a time");
    assert_eq!(env.next_due(), Some(t0 + TimeDelta::minutes(10)));
    env.run_at(t0 + TimeDelta::minutes(5)).await;
    assert_eq!(env.outbox("tokyo").len(), 1, "not before the interval");
    env.run_at(t0 + TimeDelta::minutes(10)).await;
    env.run_at(t0 + TimeDelta::minutes(20)).await;
    assert_eq!(
        published_at(&env, "tokyo"),
        vec![t0, t0 + TimeDelta::minutes(10), t0 + TimeDelta::minutes(20)]
    );
}

#[tokio::test]
async fn a_daemon_down_for_a_day_publishes_no_stale_burst() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "once.json",
        r#"{"text": "朝のお知らせ", "at": "2026-12-01 10:00"}"#,
    );
    env.drop_post(
        "tokyo",
        "hourly.json",
        r#"{"text": "毎時のお知らせ", "cron": "0 * * * *"}"#,
    );
    env.run_at(utc("2026-12-01T00:30:00Z")).await; // 09:30 JST: both planned
    assert!(env.outbox("tokyo").is_empty());

    // Down until the next day, 10:05 JST.
    env.run_at(utc("2026-12-02T01:05:00Z")).await;
    let outbox = env.outbox("tokyo");
    assert_eq!(
        outbox.len(),
        1,
        "only the hourly occurrence of 10:00 JST, within its max lateness: {outbox:?}"
    );
    let once = &env.delivery_of("once.json")[0];
    assert_eq!(once.state, State::Held, "a stale one-shot waits for an admin");
    assert!(once.reason.as_deref().unwrap().contains("max lateness"));
    let note = env.read("tokyo", "once.json.herald.txt");
    assert!(note.contains("HELD") && note.contains("too late"), "{note}");
    let expired: Vec<_> = env
        .delivery_of("hourly.json")
        .into_iter()
        .filter(|d| d.state == State::Expired)
        .collect();
    // The occurrence planned before the downtime, and one record for the
    // whole run of occurrences missed after it.
    assert_eq!(expired.len(), 2, "{expired:?}");
    assert!(expired.iter().all(|d| d.published.is_none() && d.attempts.is_empty()));
    assert!(expired
        .iter()
        .any(|d| d.reason.as_deref().unwrap().contains("never published late")));
    assert_eq!(env.outbox("tokyo")[0]["parts"][0]["text"], "毎時のお知らせ");
    // And the schedule continues on time.
    assert_eq!(env.next_due(), Some(utc("2026-12-02T02:00:00Z")));
}

#[tokio::test]
async fn a_stale_one_shot_expires_when_the_account_says_so() {
    let env = Env::new(&format!("{TOKYO}stale = \"expire\"\n"));
    env.drop_post(
        "tokyo",
        "once.json",
        r#"{"text": "朝のお知らせ", "at": "2026-12-01 10:00"}"#,
    );
    env.run_at(utc("2026-12-01T00:30:00Z")).await;
    env.run_at(utc("2026-12-02T01:05:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    assert!(env.path("tokyo", "expired/once.json").exists());
    assert!(env.read("tokyo", "expired/once.json.herald.txt").contains("EXPIRED"));
}

#[tokio::test]
async fn a_blocked_file_ends_in_rejected_with_its_explanation() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "leak.json", "{\n  \"text\": \"これは社外秘の資料です\"\n}");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    assert!(!env.path("tokyo", "leak.json").exists());
    assert!(
        env.path("tokyo", "rejected/leak.json").exists(),
        "herald never deletes an owner's file"
    );
    let note = env.read("tokyo", "rejected/leak.json.herald.txt");
    assert!(note.contains("NOT PUBLISHED"), "{note}");
    assert!(note.contains("confidential-marker"), "{note}");
    assert!(note.contains("line 1, column 4"), "{note}");
}

#[tokio::test]
async fn a_malformed_file_is_rejected_with_line_and_column() {
    let env = Env::new(TOKYO);
    env.drop_post(
        "tokyo",
        "bad.json",
        "{\n  \"text\": \"hello\",\n  \"sheduled\": \"2026-12-01 09:00\"\n}",
    );
    env.drop_post("tokyo", "both.json", "{\"text\": \"a\", \"thread\": [\"b\"]}");
    env.drop_post("tokyo", "kind.json", "{\"text\": \"a\", \"kind\": \"advert\"}");
    env.drop_post("tokyo", "time.json", "{\"text\": \"a\", \"at\": \"31/12/2026\"}");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    let note = env.read("tokyo", "rejected/bad.json.herald.txt");
    assert!(note.contains("line 3, column"), "{note}");
    assert!(note.contains("unknown field `sheduled`"), "{note}");
    assert!(env
        .read("tokyo", "rejected/both.json.herald.txt")
        .contains("both \"text\" and \"thread\""));
    assert!(env.read("tokyo", "rejected/kind.json.herald.txt").contains("emergency"));
    assert!(env
        .read("tokyo", "rejected/time.json.herald.txt")
        .contains("2026-12-01 09:00"));
}

#[tokio::test]
async fn an_oversized_or_binary_file_is_rejected() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "big.json", vec![b' '; 2 * 1024 * 1024]);
    env.drop_post("tokyo", "binary.json", b"\x00\x01\x02\x03");
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert!(env.read("tokyo", "rejected/big.json.herald.txt").contains("too large"));
    assert!(env
        .read("tokyo", "rejected/binary.json.herald.txt")
        .contains("not a text file"));
}

#[tokio::test]
async fn a_held_post_waits_and_says_why() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "ir.json", r#"{"text": "第3四半期の業績を上方修正しました"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    assert_eq!(env.delivery_of("ir.json")[0].state, State::Held);
    let note = env.read("tokyo", "ir.json.herald.txt");
    assert!(note.contains("HELD") && note.contains("financial-topic"), "{note}");
}

#[tokio::test]
async fn an_edited_pending_file_is_rechecked_and_rescheduled() {
    let env = Env::new(TOKYO);
    let path = env.drop_post(
        "tokyo",
        "event.json",
        r#"{"text": "説明会は12月5日です", "at": "2026-12-05 10:00"}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    std::fs::write(
        &path,
        r#"{"text": "説明会は12月6日に変更しました", "at": "2026-12-06 10:00"}"#,
    )
    .unwrap();
    common::settle(&path);
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let ds = env.delivery_of("event.json");
    assert_eq!(ds.len(), 2);
    let old = ds.iter().find(|d| d.text[0].contains("5日")).unwrap();
    let new = ds.iter().find(|d| d.text[0].contains("6日")).unwrap();
    assert_eq!(old.state, State::Cancelled);
    assert_eq!(new.state, State::Scheduled);
    assert_eq!(new.due, utc("2026-12-06T01:00:00Z"));
    assert!(env.read("tokyo", "event.json.herald.txt").contains("2026-12-06 10:00"));
    env.run_at(utc("2026-12-05T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty(), "the old time is gone");
    env.run_at(utc("2026-12-06T01:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 1);
    assert_eq!(
        env.outbox("tokyo")[0]["parts"][0]["text"],
        "説明会は12月6日に変更しました"
    );
}

#[tokio::test]
async fn an_edit_that_adds_a_blocked_term_rejects_the_new_version() {
    let env = Env::new(TOKYO);
    let path = env.drop_post("tokyo", "p.json", r#"{"text": "予定どおり", "at": "2026-12-05 10:00"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    std::fs::write(&path, r#"{"text": "極秘: 予定どおり", "at": "2026-12-05 10:00"}"#).unwrap();
    common::settle(&path);
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    env.run_at(utc("2026-12-05T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    assert!(env.path("tokyo", "rejected/p.json").exists());
    assert!(env.delivery_of("p.json").iter().all(|d| d.state != State::Scheduled));
}

#[tokio::test]
async fn a_deleted_pending_file_is_cancelled() {
    let env = Env::new(TOKYO);
    let path = env.drop_post(
        "tokyo",
        "gone.json",
        r#"{"text": "キャンセル予定", "at": "2026-12-05 10:00"}"#,
    );
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert!(env.path("tokyo", "gone.json.herald.txt").exists());
    std::fs::remove_file(&path).unwrap();
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    let d = &env.delivery_of("gone.json")[0];
    assert_eq!(d.state, State::Cancelled);
    assert!(
        !env.path("tokyo", "gone.json.herald.txt").exists(),
        "herald removes its own note"
    );
    env.run_at(utc("2026-12-05T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
}

#[tokio::test]
async fn a_half_written_file_is_not_ingested() {
    let env = Env::new(TOKYO);
    // Being written right now: its modification time is fresh.
    std::fs::write(env.path("tokyo", "draft.json"), r#"{"text": "書きかけ"#).unwrap();
    // Dated by the wall clock herald reads (which a test run may shift).
    filetime::set_file_mtime(
        env.path("tokyo", "draft.json"),
        filetime::FileTime::from_system_time(std::time::SystemTime::now()),
    )
    .unwrap();
    // Editors' and downloaders' temporary names are never read.
    for name in [
        ".draft.json.swp",
        "draft.json~",
        "draft.json.part",
        "draft.json.tmp",
        ".hidden.json",
    ] {
        env.drop_post("tokyo", name, r#"{"text": "not a post"}"#);
    }
    env.clock.set(utc("2026-12-01T01:00:00Z"));
    let mut daemon = env.daemon();
    let (started, wake) = daemon.pass().await.unwrap();
    assert_eq!(started, 0);
    assert!(wake.is_some(), "herald comes back when the file has settled");
    drop(daemon);
    assert!(
        env.path("tokyo", "draft.json").exists(),
        "not rejected while being written"
    );
    assert!(!env.path("tokyo", "rejected").exists());
    assert!(env.deliveries().is_empty());
}

#[tokio::test]
async fn shift_jis_and_bom_files_are_published_faithfully() {
    let env = Env::new(TOKYO);
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(r#"{"text": "年末年始の営業時間のお知らせです。"}"#);
    env.drop_post("tokyo", "sjis.json", sjis.as_ref());
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice("---\nkind: news\n---\nBOM付きのファイルです。\n".as_bytes());
    env.drop_post("tokyo", "bom.md", bom);
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("{\"text\": \"Caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e\"}");
    env.drop_post("tokyo", "latin.json", latin.as_ref());
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let texts: Vec<String> = env
        .outbox("tokyo")
        .iter()
        .map(|l| l["parts"][0]["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts.contains(&"年末年始の営業時間のお知らせです。".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"BOM付きのファイルです。".to_string()), "{texts:?}");
    assert_eq!(texts.len(), 2, "the Windows-1252 file is not guessed at");
    assert!(env
        .read("tokyo", "rejected/latin.json.herald.txt")
        .contains("windows-1252"));
}

#[tokio::test]
async fn media_outside_the_accounts_folder_is_rejected() {
    let env = Env::new(TOKYO);
    let secret = env.dir.path().join("secret.png");
    std::fs::write(&secret, b"secret").unwrap();
    env.drop_post(
        "tokyo",
        "dotdot.json",
        r#"{"text": "a", "media": [{"path": "../../secret.png", "alt": "x"}]}"#,
    );
    std::os::unix::fs::symlink(&secret, env.path("tokyo", "link.png")).unwrap();
    env.drop_post(
        "tokyo",
        "link.json",
        r#"{"text": "b", "media": [{"path": "link.png", "alt": "x"}]}"#,
    );
    let abs = format!(
        r#"{{"text": "c", "media": [{{"path": "{}", "alt": "x"}}]}}"#,
        secret.display()
    );
    env.drop_post("tokyo", "abs.json", abs);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    assert!(env.outbox("tokyo").is_empty());
    for name in ["dotdot.json", "link.json", "abs.json"] {
        let note = env.read("tokyo", &format!("rejected/{name}.herald.txt"));
        assert!(note.contains("outside the account's folder"), "{name}: {note}");
    }
}

#[tokio::test]
async fn a_post_too_long_for_the_platform_is_blocked() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "long.json", format!(r#"{{"text": "{}"}}"#, "あ".repeat(141)));
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    let note = env.read("tokyo", "rejected/long.json.herald.txt");
    assert!(note.contains("141") && note.contains("140"), "{note}");
}

#[tokio::test]
async fn running_twice_publishes_once() {
    let env = Env::new(TOKYO);
    env.drop_post("tokyo", "a.json", r#"{"text": "一度だけ"}"#);
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.run_at(utc("2026-12-01T01:00:00Z")).await;
    env.run_at(utc("2026-12-01T02:00:00Z")).await;
    assert_eq!(env.outbox("tokyo").len(), 1);
}

#[tokio::test]
async fn each_occurrence_of_a_recurring_post_is_checked_at_its_own_time() {
    // Quiet period: the 14 days before the announcement on 2026-12-20 15:00 JST.
    let rules = r#"
[rulebooks.company.rules.quiet-period]
earnings = ["2026-12-20T15:00:00+09:00"]
window = "14days"
"#;
    let env = Env::new(&format!("{TOKYO}\n{rules}"));
    // Mondays 09:00 JST: 12-07 and 12-14 fall in the quiet period, 12-21 after it.
    env.drop_post(
        "tokyo",
        "weekly.json",
        r#"{"text": "今週の業績ハイライト", "cron": "0 9 * * 1"}"#,
    );
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    let mut ds = env.delivery_of("weekly.json");
    ds.sort_by_key(|d| d.scheduled_for);
    let seen: Vec<(DateTime<Utc>, State)> = ds.iter().map(|d| (d.scheduled_for, d.state)).collect();
    assert_eq!(
        seen,
        vec![
            (utc("2026-12-07T00:00:00Z"), State::Rejected),
            (utc("2026-12-14T00:00:00Z"), State::Rejected),
            // Outside the quiet period a financial topic still needs a review.
            (utc("2026-12-21T00:00:00Z"), State::Held),
        ]
    );
    assert!(
        ds[0].reason.as_deref().unwrap_or("").contains("skipped"),
        "{:?}",
        ds[0].reason
    );
    // The series goes on: the file stays in the queue.
    assert!(env.path("tokyo", "weekly.json").exists());
    assert!(!env.path("tokyo", "rejected/weekly.json").exists());
}

#[tokio::test]
async fn nothing_is_published_unaudited_and_publishing_resumes_once_the_log_can_be_written() {
    let env = Env::new(TOKYO);
    // The audit log cannot be written (a folder in its place stops even root).
    let audit = env.config.daemon.state_dir.join("audit.jsonl");
    std::fs::create_dir_all(&audit).unwrap();
    env.drop_post("tokyo", "p.json", r#"{"text": "監査できるまで待ちます"}"#);
    let mut daemon = env.daemon();
    env.clock.set(utc("2026-12-01T00:00:00Z"));
    let (started, _) = daemon.pass().await.unwrap();
    assert_eq!(started, 0);
    assert!(env.outbox("tokyo").is_empty(), "published without an audit record");
    assert!(env.path("tokyo", "p.json").exists());
    // Writable again: the same daemon writes what waited, then publishes.
    std::fs::remove_dir(&audit).unwrap();
    env.clock.set(utc("2026-12-01T00:00:15Z"));
    daemon.pass().await.unwrap();
    drop(daemon);
    assert_eq!(env.outbox("tokyo").len(), 1);
    let events: Vec<String> = herald::audit::read(&audit)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    let first_ingest = events
        .iter()
        .position(|e| e == "ingest")
        .expect("the waiting ingest event was written");
    let publish = events.iter().position(|e| e == "publish").expect("publish recorded");
    assert!(first_ingest < publish, "{events:?}");
    assert!(herald::audit::verify(&audit).unwrap().ok);
}

#[tokio::test]
async fn a_post_no_account_will_publish_is_said_not_silent() {
    let env = Env::new(TOKYO);
    let queue = env.config.daemon.queue_dir.clone();
    std::fs::write(queue.join("lost.json"), r#"{"text": "迷子"}"#).unwrap();
    std::fs::create_dir(queue.join("Tokyo")).unwrap();
    std::fs::write(queue.join("Tokyo/p.json"), r#"{"text": "大文字のフォルダ"}"#).unwrap();
    env.run_at(utc("2026-12-01T00:00:00Z")).await;
    let note = std::fs::read_to_string(queue.join("lost.json.herald.txt")).unwrap();
    assert!(
        note.starts_with("NOT PUBLISHED") && note.contains("belongs to no account"),
        "{note}"
    );
    let note = std::fs::read_to_string(queue.join("Tokyo.herald.txt")).unwrap();
    assert!(note.contains("Did you mean the account \"tokyo\""), "{note}");
    assert!(
        queue.join("lost.json").exists() && queue.join("Tokyo/p.json").exists(),
        "left where they were"
    );
    let (_, out, _) = env.run_cli("doctor", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let strays: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "stray file")
        .collect();
    assert_eq!(strays.len(), 2, "{v}");
    assert!(strays.iter().all(|c| c["status"] == "warn"));
}
