//! Rules about when and how often: `sensitive-date` (no promotions or jokes
//! on days of remembrance), `disaster-hold` (promotions wait while a
//! disaster hold is declared) and `duplicate` (the same text twice within
//! days: platforms refuse it, followers notice it).

use std::collections::HashSet;

use chrono::Datelike;
use chrono_tz::Tz;

use super::{Context, Finding, Lang, Rule, RuleSetup};
use crate::config::RuleOptions;
use crate::queue::Kind;

/// Days of remembrance in Japan: the Great Hanshin earthquake (1/17), the
/// Great East Japan earthquake (3/11), Hiroshima (8/6), Nagasaki (8/9) and
/// the end of the war (8/15); and 9/11.
const DEFAULT_DATES: &[(u32, u32)] = &[(1, 17), (3, 11), (8, 6), (8, 9), (8, 15), (9, 11)];
const DEFAULT_HUMOR_LABELS: &[&str] = &["humor", "humorous", "joke", "ネタ", "ユーモア"];
/// Promotional kinds: what a disaster hold or a day of remembrance holds back.
const PROMOTIONAL: &[Kind] = &[Kind::Promotion, Kind::Sponsored];

pub const DEFAULT_DUPLICATE_DAYS: u32 = 7;
const DEFAULT_SIMILARITY: f64 = 0.9;

/// Where a finding about the whole post points: the first character.
fn head(cx: &Context<'_>) -> (usize, String) {
    let text = cx.draft.parts.first().map_or("", |p| p.text.as_str());
    let end = text.chars().next().map_or(0, char::len_utf8);
    (end, text[..end].to_string())
}

pub struct SensitiveDate {
    setup: RuleSetup,
    dates: Vec<(u32, u32)>,
    kinds: Vec<Kind>,
    humor_labels: Vec<String>,
    tz: Tz,
}

impl SensitiveDate {
    pub fn new(setup: RuleSetup, options: &RuleOptions, tz: Tz) -> SensitiveDate {
        let or = |v: &Vec<(u32, u32)>| {
            if v.is_empty() {
                DEFAULT_DATES.to_vec()
            } else {
                v.clone()
            }
        };
        SensitiveDate {
            setup,
            dates: or(&options.dates),
            kinds: if options.kinds.is_empty() {
                PROMOTIONAL.to_vec()
            } else {
                options.kinds.clone()
            },
            humor_labels: if options.humor_labels.is_empty() {
                DEFAULT_HUMOR_LABELS.iter().map(|s| s.to_string()).collect()
            } else {
                options.humor_labels.clone()
            },
            tz,
        }
    }
}

impl Rule for SensitiveDate {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let humorous = cx
            .draft
            .labels
            .iter()
            .any(|l| self.humor_labels.iter().any(|h| h.eq_ignore_ascii_case(l.trim())));
        if !humorous && !self.kinds.contains(&cx.draft.kind) {
            return;
        }
        let local = cx.when.with_timezone(&self.tz);
        if !self.dates.contains(&(local.month(), local.day())) {
            return;
        }
        let (end, m) = head(cx);
        let what = match (humorous, cx.lang) {
            (true, Lang::Ja) => "ユーモアのある投稿".to_string(),
            (true, Lang::En) => "a humorous post".to_string(),
            (false, Lang::Ja) => format!("種類 {} の投稿", cx.draft.kind.name()),
            (false, Lang::En) => format!("a {} post", cx.draft.kind.name()),
        };
        let message = self.setup.message(
            cx.lang,
            &m,
            format!(
                "{}月{}日は追悼・祈念の日です。この日に{what}を出すと配慮に欠けると受け取られます",
                local.month(),
                local.day()
            ),
            format!(
                "{} is a day of remembrance; {what} on it reads as thoughtless",
                local.format("%B %-d")
            ),
        );
        let suggestion = self.setup.suggest(
            cx.lang,
            "別の日に予約し直してください。",
            "Schedule it for another day.",
        );
        out.push(self.setup.finding(0, 0, end, &m, message, suggestion));
    }
}

pub struct DisasterHold {
    setup: RuleSetup,
    kinds: Vec<Kind>,
}

impl DisasterHold {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> DisasterHold {
        DisasterHold {
            setup,
            kinds: if options.kinds.is_empty() {
                PROMOTIONAL.to_vec()
            } else {
                options.kinds.clone()
            },
        }
    }
}

impl Rule for DisasterHold {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if !cx.draft.disaster_hold || !self.kinds.contains(&cx.draft.kind) {
            return;
        }
        let (end, m) = head(cx);
        let kind = cx.draft.kind.name();
        let message = self.setup.message(
            cx.lang,
            &m,
            format!("災害対応のため、宣伝・広告の投稿（種類 {kind}）は見合わせ中です"),
            format!("a disaster hold is declared: promotional posts ({kind}) wait until it is lifted"),
        );
        let suggestion = self.setup.suggest(
            cx.lang,
            "解除されるまでお待ちください。管理者が解除すると確認のうえ公開できます。",
            "Wait until an admin lifts the hold; the post can then be released.",
        );
        out.push(self.setup.finding(0, 0, end, &m, message, suggestion));
    }
}

pub struct Duplicate {
    setup: RuleSetup,
    similarity: f64,
    days: u32,
    /// Texts already made comparable: each post is compared with every
    /// recent one of its account, so without this each recent text would be
    /// folded again for every new post.
    folded: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Comparable>>>,
}

/// How many folded texts [`Duplicate`] keeps (about 1 kB each); past it,
/// it starts afresh.
const FOLDED_KEPT: usize = 20_000;

/// A text as the duplicate rule compares it: its comparable characters
/// and their bigrams, sorted (for a merge instead of a hash map).
pub struct Comparable {
    chars: Vec<char>,
    grams: Vec<(char, char)>,
}

impl Comparable {
    fn of(text: &str) -> Comparable {
        let chars = comparable(text);
        let mut grams: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        grams.sort_unstable();
        Comparable { chars, grams }
    }

    /// The Dice coefficient over bigrams, as [`similarity`] computes it;
    /// None when it cannot reach `at_least` (told by the lengths alone).
    fn similarity(&self, other: &Comparable, at_least: f64) -> Option<f64> {
        if self.chars == other.chars {
            return Some(1.0);
        }
        if self.chars.len() < 2 || other.chars.len() < 2 {
            return Some(0.0);
        }
        let (a, b) = (&self.grams, &other.grams);
        let total = (a.len() + b.len()) as f64;
        if 2.0 * a.len().min(b.len()) as f64 / total < at_least {
            return None;
        }
        // The size of the multiset intersection: what the pool counts.
        let (mut i, mut j, mut common) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    common += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        Some(2.0 * common as f64 / total)
    }
}

impl Duplicate {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> Duplicate {
        Duplicate {
            setup,
            similarity: options.similarity.unwrap_or(DEFAULT_SIMILARITY),
            days: options.days.unwrap_or(DEFAULT_DUPLICATE_DAYS),
            folded: Default::default(),
        }
    }

    /// `text`, folded once and kept.
    fn folded(&self, text: &str) -> std::sync::Arc<Comparable> {
        let mut kept = self.folded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = kept.get(text) {
            return c.clone();
        }
        if kept.len() >= FOLDED_KEPT {
            kept.clear();
        }
        let c = std::sync::Arc::new(Comparable::of(text));
        kept.insert(text.to_string(), c.clone());
        c
    }
}

/// The text as compared: folded, without URLs (shorteners differ), spaces
/// or punctuation.
fn comparable(text: &str) -> Vec<char> {
    let folded = super::fold::fold_str(text);
    let mut out = Vec::new();
    for word in folded.split_whitespace() {
        if word.contains("://") {
            continue;
        }
        out.extend(word.chars().filter(|c| c.is_alphanumeric()));
    }
    out
}

/// Dice coefficient over character bigrams: 1.0 for the same text, high
/// for a text with a word or two changed. (The rule compares through
/// [`Comparable`], folding each text once; this is the same for two texts.)
#[cfg(test)]
pub fn similarity(a: &str, b: &str) -> f64 {
    Comparable::of(a).similarity(&Comparable::of(b), 0.0).unwrap_or(0.0)
}

impl Rule for Duplicate {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut reported = HashSet::new();
        let recent: Vec<std::sync::Arc<Comparable>> = cx.draft.recent.iter().map(|r| self.folded(r)).collect();
        for (i, part) in cx.draft.parts.iter().enumerate() {
            let this = Comparable::of(&part.text);
            let best = recent
                .iter()
                .zip(cx.draft.recent.iter())
                .filter_map(|(c, r)| Some((this.similarity(c, self.similarity)?, r)))
                .filter(|(s, _)| *s >= self.similarity)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let Some((score, earlier)) = best else { continue };
            if !reported.insert(i) {
                continue;
            }
            let days = self.days;
            let preview: String = earlier.chars().take(30).collect();
            let (ja, en) = if score >= 1.0 {
                (
                    format!("{days}日以内に同じ内容の投稿（「{preview}…」）があります。プラットフォームは重複投稿を拒否し、フォロワーにも気づかれます"),
                    format!("the account posted the same text within {days} days (\"{preview}…\"); platforms refuse duplicates and followers notice"),
                )
            } else {
                let pct = (score * 100.0).round();
                (
                    format!("{days}日以内の投稿（「{preview}…」）とほぼ同じ内容です（類似度{pct}%）"),
                    format!("the text is {pct}% the same as a post within {days} days (\"{preview}…\")"),
                )
            };
            let message = self.setup.message(cx.lang, &part.text, ja, en);
            let suggestion = self.setup.suggest(
                cx.lang,
                "内容を書き分けるか、以前の投稿を引用・再投稿してください。",
                "Write it differently, or repost the earlier post instead.",
            );
            let end = part.text.len();
            out.push(self.setup.finding(i, 0, end, &part.text, message, suggestion));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first implementation (a hash map of bigrams), as the reference
    /// the rule's merge of sorted bigrams is checked against.
    fn pool_similarity(a: &str, b: &str) -> f64 {
        let (a, b) = (comparable(a), comparable(b));
        if a == b {
            return 1.0;
        }
        if a.len() < 2 || b.len() < 2 {
            return 0.0;
        }
        let grams = |v: &[char]| -> Vec<(char, char)> { v.windows(2).map(|w| (w[0], w[1])).collect() };
        let (ga, gb) = (grams(&a), grams(&b));
        let mut pool: std::collections::HashMap<(char, char), usize> = std::collections::HashMap::new();
        for g in &gb {
            *pool.entry(*g).or_default() += 1;
        }
        let mut common = 0;
        for g in &ga {
            if let Some(n) = pool.get_mut(g) {
                if *n > 0 {
                    *n -= 1;
                    common += 1;
                }
            }
        }
        2.0 * common as f64 / (ga.len() + gb.len()) as f64
    }

    #[test]
    fn similarity_ignores_urls_case_and_spacing() {
        assert_eq!(
            similarity("New release! https://a.example/1", "new  release https://b.example/2"),
            1.0
        );
        assert!(
            similarity(
                "本日より新製品の予約を開始しました",
                "本日より新製品の予約を開始しました！ぜひ"
            ) > 0.9
        );
        assert!(similarity("本日より新製品の予約を開始しました", "週末は全店で臨時休業いたします") < 0.3);
        // The rule's own comparison (folded once, bigrams merged) gives the
        // same figures as `similarity`.
        let texts = [
            "New release! https://a.example/1",
            "new  release https://b.example/2",
            "本日より新製品の予約を開始しました",
            "本日より新製品の予約を開始しました！",
            "週末は全店で臨時休業いたします",
            "aaaa bbbb aaaa",
            "aaaa aaaa bbbb",
            "x",
        ];
        for a in texts {
            for b in texts {
                let merged = Comparable::of(a).similarity(&Comparable::of(b), 0.0);
                assert_eq!(merged, Some(pool_similarity(a, b)), "{a} / {b}");
            }
        }
    }
}
