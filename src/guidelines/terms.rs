//! Term lists: confidential markers, sensitive words and any rule configured
//! with `terms = [...]`. Terms match after folding (NFKC, width, case), so
//! `ＩＢＭ　Ｃｏｎｆｉｄｅｎｔｉａｌ` is caught by "IBM Confidential".

use aho_corasick::{AhoCorasick, MatchKind};

use super::fold::{fold, fold_str};
use super::{Draft, Finding, Rule, RuleSetup};

pub struct Terms {
    setup: RuleSetup,
    /// The terms as configured, in the order of the automaton's patterns.
    terms: Vec<String>,
    /// For each term: whether it starts and ends with an ASCII letter or
    /// digit, which then must not continue a longer word ("PR" is not in "PRESS").
    word_edges: Vec<(bool, bool)>,
    matcher: AhoCorasick,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

impl Terms {
    pub fn new(setup: RuleSetup, terms: &[String]) -> Terms {
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
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&folded)
            .expect("term lists are small enough for an automaton");
        Terms {
            setup,
            terms: terms.to_vec(),
            word_edges,
            matcher,
        }
    }
}

impl Rule for Terms {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Finding>) {
        for (i, part) in draft.parts.iter().enumerate() {
            let folded = fold(&part.text);
            let bytes = folded.text.as_bytes();
            for m in self.matcher.find_iter(&folded.text) {
                let (starts_word, ends_word) = self.word_edges[m.pattern().as_usize()];
                if starts_word && m.start() > 0 && is_word_byte(bytes[m.start() - 1]) {
                    continue;
                }
                if ends_word && m.end() < bytes.len() && is_word_byte(bytes[m.end()]) {
                    continue;
                }
                let (s, e) = folded.original_span(m.start(), m.end());
                let term = &self.terms[m.pattern().as_usize()];
                let message = match &self.setup.message {
                    Some(template) => template.replace("{term}", term),
                    None => format!("\"{}\" is on the list of rule {}.", &part.text[s..e], self.setup.id),
                };
                out.push(
                    self.setup
                        .finding(i, s, e, &part.text[s..e], message, self.setup.suggestion.clone()),
                );
            }
        }
    }
}
