//! How a post is written rather than what it says: `hashtags` (too many
//! read as spam), `media-alt-text` (images without a description shut out
//! readers who use screen readers), `invisible-chars` (zero-width and
//! control characters, decomposed text: what the owner sees is not what is
//! published) and `unmatched-pair` (a bracket opened and never closed).

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

use super::links::hashtag_starts;
use super::{Context, Finding, Rule, RuleSetup};
use crate::config::RuleOptions;

pub const DEFAULT_MAX_HASHTAGS: usize = 5;

pub struct Hashtags {
    setup: RuleSetup,
    max: usize,
}

impl Hashtags {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> Hashtags {
        Hashtags {
            setup,
            max: options.max.unwrap_or(DEFAULT_MAX_HASHTAGS),
        }
    }
}

impl Rule for Hashtags {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            let tags = hashtag_starts(&part.text);
            if tags.len() <= self.max {
                continue;
            }
            // Point at the first tag over the limit.
            let (s, _) = tags[self.max];
            let e = tags.last().map_or(s, |t| t.1);
            let m = &part.text[s..e];
            let (n, max) = (tags.len(), self.max);
            let message = self.setup.message(
                cx.lang,
                m,
                format!("ハッシュタグが{n}個あります（上限{max}個）。多すぎるとスパムのように見えます"),
                format!("the part has {n} hashtags; more than {max} reads as spam"),
            );
            let suggestion = self.setup.suggest(
                cx.lang,
                "内容に最も関係の深いものだけを残してください。",
                "Keep only the ones most relevant to the post.",
            );
            out.push(self.setup.finding(i, s, e, m, message, suggestion));
        }
    }
}

pub struct MediaAltText {
    setup: RuleSetup,
}

impl MediaAltText {
    pub fn new(setup: RuleSetup) -> MediaAltText {
        MediaAltText { setup }
    }
}

impl Rule for MediaAltText {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for media in &part.media {
                if media.alt.as_deref().is_some_and(|a| !a.trim().is_empty()) {
                    continue;
                }
                let file = &media.relative;
                let message = self.setup.message(
                    cx.lang,
                    file,
                    format!("画像・動画「{file}」に代替テキスト（alt）がありません。画面読み上げを使う人に内容が伝わりません"),
                    format!("\"{file}\" has no alt text; readers who use a screen reader will not know what it shows"),
                );
                let suggestion = self.setup.suggest(
                    cx.lang,
                    "media の項目に alt: \"…\" で内容の説明を書いてください。",
                    "Describe it in the media entry: alt: \"…\".",
                );
                out.push(self.setup.finding(i, 0, 0, file, message, suggestion));
            }
        }
    }
}

/// Whether `c` is invisible or a control character that has no business in
/// a post: zero-width spaces and joiners, bidirectional controls, soft
/// hyphens, BOMs, and C0/C1 controls other than line breaks and tabs.
fn invisible(c: char) -> Option<&'static str> {
    match c {
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' => Some("zero-width space"),
        '\u{200C}' | '\u{200D}' => Some("zero-width joiner"),
        '\u{00AD}' => Some("soft hyphen"),
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional control")
        }
        '\n' | '\t' => None,
        c if c.is_control() => Some("control character"),
        _ => None,
    }
}

/// Emoji sequences (👨‍👩‍👧) are joined with U+200D on purpose.
fn emoji_like(c: Option<char>) -> bool {
    c.is_some_and(|c| {
        let u = c as u32;
        (0x1F000..=0x1FAFF).contains(&u)
            || (0x2600..=0x27BF).contains(&u)
            || u == 0xFE0F
            || (0x1F3FB..=0x1F3FF).contains(&u)
    })
}

pub struct InvisibleChars {
    setup: RuleSetup,
}

impl InvisibleChars {
    pub fn new(setup: RuleSetup) -> InvisibleChars {
        InvisibleChars { setup }
    }

    /// A finding at `span` of part `i`; `say` is (ja, en) and `fix` the suggestion (ja, en).
    fn push(
        &self,
        cx: &Context<'_>,
        (i, s, e): (usize, usize, usize),
        say: (String, String),
        fix: (&str, &str),
        out: &mut Vec<Finding>,
    ) {
        let (ja, en) = say;
        let m = &cx.draft.parts[i].text[s..e];
        let message = self.setup.message(cx.lang, m, ja, en);
        let suggestion = self.setup.suggest(cx.lang, fix.0, fix.1);
        out.push(self.setup.finding(i, s, e, m, message, suggestion));
    }
}

impl Rule for InvisibleChars {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            let text = &part.text;
            let chars: Vec<(usize, char)> = text.char_indices().collect();
            for (k, &(at, c)) in chars.iter().enumerate() {
                let Some(what) = invisible(c) else { continue };
                if c == '\u{200D}'
                    && emoji_like(k.checked_sub(1).map(|p| chars[p].1))
                    && emoji_like(chars.get(k + 1).map(|n| n.1))
                {
                    continue;
                }
                if c == '\r' && chars.get(k + 1).map(|n| n.1) == Some('\n') {
                    continue;
                }
                let code = format!("U+{:04X}", c as u32);
                self.push(
                    cx,
                    (i, at, at + c.len_utf8()),
                    (format!("見えない文字（{code}、{what}）が含まれています。見た目と違う文字列が公開され、検索や読み上げを妨げます"),
                    format!("the text contains an invisible character ({code}, {what}); what is published differs from what you see")),
                    ("この文字を削除してください。", "Delete the character."),
                    out,
                );
            }
            // Decomposed (NFD) text, typically pasted from a Mac file name:
            // が written as か + U+3099.
            let mut k = 0;
            while k < chars.len() {
                let start = chars[k].0;
                let mut j = k + 1;
                while j < chars.len() && (canonical_combining_class(chars[j].1) != 0 || is_combining_mark(chars[j].1)) {
                    j += 1;
                }
                let end = chars.get(j).map_or(text.len(), |c| c.0);
                if j > k + 1 {
                    let cluster = &text[start..end];
                    let composed: String = cluster.nfc().collect();
                    if composed != cluster {
                        self.push(
                            cx,
                            (i, start, end),
                            (format!("「{composed}」が分解された形（NFD）で書かれています。検索や文字数の計算が狂います"),
                            format!("\"{composed}\" is written in decomposed form (NFD), which breaks search and length counts")),
                            ("この文字を入力し直してください。", "Retype the character."),
                            out,
                        );
                    }
                }
                k = j;
            }
        }
    }
}

const PAIRS: &[(char, char)] = &[
    ('「', '」'),
    ('『', '』'),
    ('（', '）'),
    ('【', '】'),
    ('[', ']'),
    ('［', '］'),
];

pub struct UnmatchedPair {
    setup: RuleSetup,
}

impl UnmatchedPair {
    pub fn new(setup: RuleSetup) -> UnmatchedPair {
        UnmatchedPair { setup }
    }
}

impl Rule for UnmatchedPair {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            // URLs may hold brackets of their own.
            let urls = super::links::urls(&cx.folded[i].text)
                .into_iter()
                .map(|u| cx.folded[i].original_span(u.start, u.end))
                .collect::<Vec<_>>();
            let mut open: Vec<(usize, char, char)> = Vec::new();
            let mut lonely: Vec<(usize, char, char, bool)> = Vec::new();
            for (at, c) in part.text.char_indices() {
                if urls.iter().any(|(s, e)| *s <= at && at < *e) {
                    continue;
                }
                if let Some(&(o, cl)) = PAIRS.iter().find(|(o, _)| *o == c) {
                    open.push((at, o, cl));
                } else if let Some(&(o, cl)) = PAIRS.iter().find(|(_, cl)| *cl == c) {
                    match open.iter().rposition(|(_, _, want)| *want == c) {
                        // Brackets opened inside and left open are reported below.
                        Some(p) => {
                            for (a, oo, cc) in open.drain(p..).skip(1) {
                                lonely.push((a, oo, cc, true));
                            }
                        }
                        None => lonely.push((at, o, cl, false)),
                    }
                }
            }
            lonely.extend(open.into_iter().map(|(a, o, c)| (a, o, c, true)));
            lonely.sort();
            for (at, o, cl, opened) in lonely {
                let ch = if opened { o } else { cl };
                let m = ch.to_string();
                let (ja, en) = if opened {
                    (
                        format!("「{o}」が開いたまま閉じられていません（「{cl}」がありません）"),
                        format!("\"{o}\" is opened but never closed with \"{cl}\""),
                    )
                } else {
                    (
                        format!("「{cl}」に対応する「{o}」がありません"),
                        format!("\"{cl}\" closes a \"{o}\" that was never opened"),
                    )
                };
                let message = self.setup.message(cx.lang, &m, ja, en);
                let suggestion = self.setup.suggest(
                    cx.lang,
                    "かっこの対応を確認してください。",
                    "Check that every bracket is closed.",
                );
                out.push(self.setup.finding(i, at, at + ch.len_utf8(), &m, message, suggestion));
            }
        }
    }
}
