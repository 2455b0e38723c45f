//! Term lists: the matcher every list-based rule shares, and the custom
//! rules a rulebook defines with `terms = [...]`. Terms match after folding
//! (NFKC, width, case), so `ＩＢＭ　Ｃｏｎｆｉｄｅｎｔｉａｌ` is caught by
//! "IBM Confidential".

use aho_corasick::{AhoCorasick, MatchKind};

use super::fold::{fold_str, Folded};
use super::{Context, Finding, Rule, RuleSetup};

/// Finds a list of terms in folded text, one automaton for the whole list.
pub struct TermMatcher {
    /// The terms as configured, in the order of the automaton's patterns.
    terms: Vec<String>,
    /// For each term: whether it starts and ends with an ASCII letter or
    /// digit, which then must not continue a longer word ("PR" is not in "PRESS").
    word_edges: Vec<(bool, bool)>,
    matcher: Option<AhoCorasick>,
}

/// One occurrence of a term: the original byte span and the term's index.
pub struct TermHit {
    pub start: usize,
    pub end: usize,
    pub term: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

impl TermMatcher {
    pub fn new(terms: &[String]) -> TermMatcher {
        let folded: Vec<String> = terms.iter().map(|t| fold_str(t)).collect();
        let word_edges = folded
            .iter()
            .map(|t| {
                let b = t.as_bytes();
                (
                    b.first().is_some_and(|c| is_word_byte(*c)),
                    b.last().is_some_and(|c| is_word_byte(*c)),
                )
            })
            .collect();
        let matcher = (!folded.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&folded)
                .expect("term lists are small enough for an automaton")
        });
        TermMatcher {
            terms: terms.to_vec(),
            word_edges,
            matcher,
        }
    }

    pub fn term(&self, i: usize) -> &str {
        &self.terms[i]
    }

    /// The terms in `folded`, as spans of the original text.
    pub fn find(&self, folded: &Folded) -> Vec<TermHit> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let bytes = folded.text.as_bytes();
        let mut hits = Vec::new();
        for m in matcher.find_iter(&folded.text) {
            let (starts_word, ends_word) = self.word_edges[m.pattern().as_usize()];
            if starts_word && m.start() > 0 && is_word_byte(bytes[m.start() - 1]) {
                continue;
            }
            if ends_word && m.end() < bytes.len() && is_word_byte(bytes[m.end()]) {
                continue;
            }
            let (start, end) = folded.original_span(m.start(), m.end());
            hits.push(TermHit {
                start,
                end,
                term: m.pattern().as_usize(),
            });
        }
        hits
    }
}

/// A custom rule: any id configured with `terms = [...]`.
pub struct Terms {
    setup: RuleSetup,
    matcher: TermMatcher,
}

impl Terms {
    pub fn new(setup: RuleSetup, terms: &[String]) -> Terms {
        Terms {
            setup,
            matcher: TermMatcher::new(terms),
        }
    }
}

impl Rule for Terms {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for hit in self.matcher.find(&cx.folded[i]) {
                let matched = &part.text[hit.start..hit.end];
                let message = self.setup.message(
                    cx.lang,
                    self.matcher.term(hit.term),
                    format!("「{matched}」は使用に注意が必要な語句として登録されています"),
                    format!("\"{matched}\" is on a list of terms to avoid"),
                );
                out.push(
                    self.setup
                        .finding(i, hit.start, hit.end, matched, message, self.setup.suggestion.clone()),
                );
            }
        }
    }
}
