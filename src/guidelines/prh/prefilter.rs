//! A prefilter that skips the rules that cannot match a text, so that a
//! dictionary of thousands of rules costs one Aho-Corasick scan plus the few
//! regexes whose literals occur, instead of thousands of regex scans.
//!
//! For each rule, the compiled pattern's syntax tree yields a set of
//! strings of which every match must contain at least one ("required
//! literals"). Matching is done on *keys*: each character mapped on its
//! own to one character (NFKC when that gives one character, then lower
//! case when that gives one), in the text and in the literals alike. A
//! character class whose members all have the same key counts as that
//! key, so the width- and case-widened classes prh builds from `expected`
//! (`[GgＧｇ]`) still give literals. Because text and literals are mapped
//! with the same per-character function, a match in the text always
//! leaves its literal's key in the text's keys: the filter never drops a
//! rule that could match, it only skips rules that cannot. A rule whose
//! pattern yields no literal always runs.

use aho_corasick::AhoCorasick;
use fancy_regex::Expr;
use unicode_normalization::UnicodeNormalization;

use super::rule::Rule;

/// One character's key (see the module documentation).
fn key(c: char) -> char {
    let mut n = std::iter::once(c).nfkc();
    let folded = match (n.next(), n.next()) {
        (Some(one), None) => one,
        _ => c,
    };
    let mut l = folded.to_lowercase();
    match (l.next(), l.next()) {
        (Some(one), None) => one,
        _ => folded,
    }
}

/// The text as keys.
fn keys(text: &str) -> String {
    text.chars().map(key).collect()
}

/// Whether case-insensitive matching of `c` can only ever match characters
/// with the same key. JavaScript's `iu` folding is simple case folding; for
/// ASCII letters the only non-ASCII partners are U+212A KELVIN SIGN and
/// U+017F LONG S, whose NFKC forms are `K` and `s`, so their keys agree.
/// Other cased letters (Greek final sigma…) are not trusted.
fn casei_safe(c: char) -> bool {
    c.is_ascii() || (c.to_lowercase().eq(std::iter::once(c)) && c.to_uppercase().eq(std::iter::once(c)))
}

/// The single key every member of a delegated class or escape has, if any.
/// Delegates are the translator's classes: `[\x{47}\x{67}…]` or one escape.
fn delegate_key(inner: &str, casei: bool) -> Option<char> {
    let body = inner.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
    let items = match body {
        Some(b) if !b.starts_with('^') => b,
        Some(_) => return None,
        None => inner,
    };
    let mut chars = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let (lo, after) = escaped(rest)?;
        rest = after;
        if let Some(range) = rest.strip_prefix('-') {
            let (hi, after) = escaped(range)?;
            rest = after;
            if (hi as u32).saturating_sub(lo as u32) > 16 {
                return None;
            }
            chars.extend(lo..=hi);
        } else {
            chars.push(lo);
        }
    }
    if casei && !chars.iter().all(|c| casei_safe(*c)) {
        return None;
    }
    let first = key(*chars.first()?);
    chars.iter().all(|c| key(*c) == first).then_some(first)
}

/// One `\x{HEX}` escape or plain character at the start of `s`.
fn escaped(s: &str) -> Option<(char, &str)> {
    if let Some(hex) = s.strip_prefix("\\x{") {
        let end = hex.find('}')?;
        let c = char::from_u32(u32::from_str_radix(&hex[..end], 16).ok()?)?;
        return Some((c, &hex[end + 1..]));
    }
    let c = s.chars().next()?;
    if c == '\\' || c == '[' || c == ']' {
        return None;
    }
    Some((c, &s[c.len_utf8()..]))
}

/// What a sub-expression contributes inside a concatenation.
enum Piece {
    /// Exactly these keys, in this order (extends the current run).
    Keys(String),
    /// Every match contains one of these key strings.
    Required(Vec<String>),
    /// Nothing known.
    Unknown,
}

fn piece(e: &Expr) -> Piece {
    match e {
        Expr::Literal { val, casei } => {
            if *casei && !val.chars().all(casei_safe) {
                return Piece::Unknown;
            }
            Piece::Keys(keys(val))
        }
        Expr::Delegate { inner, casei } => match delegate_key(inner, *casei) {
            Some(k) => Piece::Keys(k.to_string()),
            None => Piece::Unknown,
        },
        Expr::Group(inner) => piece(inner),
        Expr::AtomicGroup(inner) => piece(inner),
        Expr::Concat(children) => required_of_concat(children),
        Expr::Alt(children) => {
            let mut all = Vec::new();
            for c in children {
                match piece(c) {
                    Piece::Keys(k) if !k.is_empty() => all.push(k),
                    Piece::Required(r) => all.extend(r),
                    _ => return Piece::Unknown,
                }
            }
            Piece::Required(all)
        }
        Expr::Repeat { child, lo, .. } if *lo >= 1 => match piece(child) {
            // One copy is certain; more copies would only extend it.
            Piece::Keys(k) if *lo == 1 => Piece::Required(vec![k]),
            Piece::Keys(k) => Piece::Required(vec![k.repeat(*lo)]),
            other => other,
        },
        _ => Piece::Unknown,
    }
}

/// The best required set of a concatenation: runs of adjacent exact keys
/// are joined; the candidate whose shortest string is longest wins.
fn required_of_concat(children: &[Expr]) -> Piece {
    let mut candidates: Vec<Vec<String>> = Vec::new();
    let mut run = String::new();
    let mut exact = true;
    for c in children {
        match piece(c) {
            Piece::Keys(k) => run.push_str(&k),
            Piece::Required(r) => {
                exact = false;
                if !run.is_empty() {
                    candidates.push(vec![std::mem::take(&mut run)]);
                }
                candidates.push(r);
            }
            Piece::Unknown => {
                // Zero-width assertions and lookarounds do not break a run
                // of consecutive characters; anything else does.
                if matches!(c, Expr::Assertion(_) | Expr::LookAround(..) | Expr::Empty) {
                    continue;
                }
                exact = false;
                if !run.is_empty() {
                    candidates.push(vec![std::mem::take(&mut run)]);
                }
            }
        }
    }
    if exact {
        return Piece::Keys(run);
    }
    if !run.is_empty() {
        candidates.push(vec![run]);
    }
    let score = |set: &Vec<String>| set.iter().map(|s| s.chars().count()).min().unwrap_or(0);
    match candidates.into_iter().filter(|s| score(s) > 0).max_by_key(score) {
        Some(best) => Piece::Required(best),
        None => Piece::Unknown,
    }
}

/// The required key strings of a rule's pattern, or `None` if unknown.
fn required(rule: &Rule) -> Option<Vec<String>> {
    let tree = Expr::parse_tree(rule.regex.regex.as_str()).ok()?;
    match piece(&tree.expr) {
        Piece::Keys(k) if !k.is_empty() => Some(vec![k]),
        Piece::Required(r) if r.iter().all(|s| !s.is_empty()) => Some(r),
        _ => None,
    }
}

/// The rules to try on a text.
#[derive(Debug)]
pub(crate) struct Prefilter {
    /// Rules that always run (no literal known), in rule order.
    always: Vec<usize>,
    /// For each automaton pattern: the rule it belongs to.
    owner: Vec<usize>,
    matcher: Option<AhoCorasick>,
    rules: usize,
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut always = Vec::new();
        let mut owner = Vec::new();
        let mut patterns = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            match required(r) {
                Some(set) => {
                    for s in set {
                        owner.push(i);
                        patterns.push(s);
                    }
                }
                None => always.push(i),
            }
        }
        let matcher =
            (!patterns.is_empty()).then(|| AhoCorasick::new(&patterns).expect("literal sets fit an automaton"));
        Prefilter {
            always,
            owner,
            matcher,
            rules: rules.len(),
        }
    }

    /// The indices of the rules that may match `text`, in rule order.
    pub fn candidates(&self, text: &str) -> Vec<usize> {
        let mut wanted = vec![false; self.rules];
        for &i in &self.always {
            wanted[i] = true;
        }
        if let Some(m) = &self.matcher {
            for hit in m.find_overlapping_iter(&keys(text)) {
                wanted[self.owner[hit.pattern().as_usize()]] = true;
            }
        }
        (0..self.rules).filter(|i| wanted[*i]).collect()
    }

    /// How many rules always run (for diagnostics and tests).
    #[cfg(test)]
    pub fn always_run(&self) -> usize {
        self.always.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_width_and_case_one_character_at_a_time() {
        assert_eq!(keys("ＧｉｔＨｕｂ"), "github");
        assert_eq!(keys("ｶﾞ"), "カ\u{3099}");
        assert_eq!(key('\u{212A}'), 'k');
    }

    #[test]
    fn only_rules_whose_literals_occur_are_candidates() {
        let yaml = "version: 1\nrules:\n  - expected: GitHub\n  - expected: ください\n    pattern: /(?<=て)下さい/\n  - expected: ユーザー\n    pattern: /ユーザ(?!ー)/\n  - expected: x\n    pattern: /[a-z]{3}[0-9]/\n  - expected: サーバー\n    patterns: [サーバ, Server]\n";
        let dict = super::super::Dictionary::from_yaml_str(yaml, std::path::Path::new("t.yml")).unwrap();
        let p = Prefilter::new(&dict.rules);
        assert_eq!(p.always_run(), 1, "only /[a-z]{{3}}[0-9]/ has no literal");
        assert_eq!(p.candidates("今日は晴れ"), [3]);
        assert_eq!(p.candidates("ＧｉｔＨｕｂで"), [0, 3]);
        assert_eq!(p.candidates("見て下さい"), [1, 3]);
        assert_eq!(p.candidates("SERVERとユーザ"), [2, 3, 4]);
    }

    #[test]
    fn widened_classes_give_their_common_key() {
        assert_eq!(delegate_key("[\\x{47}\\x{67}\\x{FF27}\\x{FF47}]", false), Some('g'));
        assert_eq!(delegate_key("[a-z]", false), None);
        assert_eq!(delegate_key("[^a]", false), None);
    }
}
