//! Running rules over text, mirroring prh 5.4.4's `Engine#makeChangeSet`,
//! `Paragraph` and `ChangeSet`.

use super::jsregex::{JsFlags, JsRegex};
use super::rule::{Diff, Rule};

/// prh's paragraph split, `/([^]*?)\n{2,}/g`: a paragraph ends at the first
/// run of two or more `\n` (a `\r\n\r\n` does *not* separate paragraphs);
/// the final paragraph is whatever follows the last run, possibly empty.
/// Returns `(byte offset, paragraph)` pairs.
pub(crate) fn paragraphs(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        match text[pos..].find("\n\n") {
            Some(k) => {
                let start = pos;
                let end = pos + k;
                out.push((start, &text[start..end]));
                let mut next = end;
                while text.as_bytes().get(next) == Some(&b'\n') {
                    next += 1;
                }
                pos = next;
            }
            None => {
                out.push((pos, &text[pos..]));
                return out;
            }
        }
    }
}

/// What `prh:disable` comments in one paragraph switch off.
struct Pragmas {
    /// A bare `prh:disable` (or `prh:disable:` with nothing after it)
    /// silences the whole paragraph.
    ignore_all: bool,
    /// Byte ranges of `…prh:disable:PATTERN` (from the start of the line):
    /// a hit that straddles one is dropped.
    ranges: Vec<(usize, usize)>,
    /// `PATTERN`s: a hit whose matched text contains a match is dropped.
    patterns: Vec<IgnorePattern>,
}

enum IgnorePattern {
    Regex(JsRegex),
    /// prh would throw on an invalid pattern and abort the whole check; a
    /// daemon should keep checking, so the text is used literally instead.
    Literal(String),
}

impl IgnorePattern {
    fn matches(&self, s: &str) -> bool {
        match self {
            IgnorePattern::Regex(r) => r.regex.is_match(s).unwrap_or(false),
            IgnorePattern::Literal(l) => s.contains(l.as_str()),
        }
    }
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// ECMAScript `\s`.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

/// prh's `/^(?:.*?)prh:disable(?::([^\n\s]*))?/gm` scan of a paragraph:
/// at most one pragma per line (the first), the range starting at the line.
fn scan_pragmas(content: &str) -> Pragmas {
    const TAG: &str = "prh:disable";
    let mut p = Pragmas {
        ignore_all: false,
        ranges: Vec::new(),
        patterns: Vec::new(),
    };
    let mut line_start = 0;
    for line in content.split(is_line_terminator) {
        if let Some(k) = line.find(TAG) {
            let after = k + TAG.len();
            let rest = &line[after..];
            let pattern = rest.strip_prefix(':').map(|r| {
                let end = r.find(is_js_space).unwrap_or(r.len());
                &r[..end]
            });
            match pattern {
                Some(pat) if !pat.is_empty() => {
                    let tail = line_start + after + 1 + pat.len();
                    p.ranges.push((line_start, tail));
                    // `new RegExp("(" + pattern + ")", "g")`: no `u`, no `m`.
                    let flags = JsFlags {
                        ignore_case: false,
                        multiline: false,
                        unicode: false,
                    };
                    p.patterns.push(match JsRegex::new(&format!("({pat})"), flags) {
                        Ok(r) => IgnorePattern::Regex(r),
                        Err(_) => IgnorePattern::Literal(pat.to_string()),
                    });
                }
                _ => p.ignore_all = true,
            }
        }
        // Every separator is a single character; its UTF-8 length varies.
        let sep_len = content[line_start + line.len()..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        line_start += line.len() + sep_len;
    }
    p
}

/// prh's `Diff#isCollide`: a strict overlap where neither starts at the
/// other's start.
fn collides(d: &Diff, range: (usize, usize)) -> bool {
    (range.0 < d.start && d.start < range.1) || (d.start < range.0 && range.0 < d.end)
}

/// Every diff of `rules` over `text`, before overlap resolution.
/// Only the rules at `selected` (ascending) run: the prefilter's candidates.
pub(crate) fn collect_diffs(rules: &[Rule], selected: &[usize], text: &str) -> Vec<Diff> {
    let mut all = Vec::new();
    if selected.is_empty() {
        return all;
    }
    for (offset, para) in paragraphs(text) {
        let pragmas = scan_pragmas(para);
        if pragmas.ignore_all {
            continue;
        }
        for &i in selected {
            let rule = &rules[i];
            for mut d in rule.apply(para, i) {
                if pragmas.ranges.iter().any(|&r| collides(&d, r)) {
                    continue;
                }
                let matched = &para[d.start..d.end];
                if pragmas.patterns.iter().any(|p| p.matches(matched)) {
                    continue;
                }
                d.start += offset;
                d.end += offset;
                all.push(d);
            }
        }
    }
    all
}

/// prh's `ChangeSet#_prepare`, run twice as `applyChangeSets` does after the
/// constructor (the second pass can drop more: each pass compares a diff only
/// with its immediate predecessor, not with the last diff kept).
pub(crate) fn resolve_overlaps(diffs: &mut Vec<Diff>) {
    for _ in 0..2 {
        prepare_once(diffs);
    }
}

fn prepare_once(diffs: &mut Vec<Diff>) {
    // Stable, like V8's Array#sort.
    diffs.sort_by_key(|d| (d.start, d.end));
    // 1. Same start: the longer one wins (compared with the next one only).
    let keep: Vec<bool> = (0..diffs.len())
        .map(|i| match diffs.get(i + 1) {
            Some(n) => !(diffs[i].start == n.start && diffs[i].end < n.end),
            None => true,
        })
        .collect();
    let mut it = keep.iter();
    diffs.retain(|_| *it.next().unwrap_or(&true));
    // 2. Different starts: the earlier one wins (again only against the
    // immediate predecessor in the list from step 1).
    let keep: Vec<bool> = (0..diffs.len())
        .map(|i| i == 0 || diffs[i].start >= diffs[i - 1].end)
        .collect();
    let mut it = keep.iter();
    diffs.retain(|_| *it.next().unwrap_or(&true));
}

/// prh's `ChangeSet#applyChangeSets` for already-resolved diffs. prh splices
/// with a running UTF-16 delta; for non-overlapping diffs that is plain
/// concatenation. If overlaps survived `resolve_overlaps` (possible only in
/// contrived chains) the UTF-16 splice is replayed exactly.
pub(crate) fn apply_diffs(text: &str, diffs: &[Diff]) -> String {
    let overlapping = diffs.windows(2).any(|w| w[1].start < w[0].end);
    if !overlapping {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for d in diffs {
            out.push_str(&text[last..d.start]);
            out.push_str(&d.replacement);
            last = d.end;
        }
        out.push_str(&text[last..]);
        return out;
    }
    let to_u16 = |byte: usize| text[..byte].encode_utf16().count() as isize;
    let mut s: Vec<u16> = text.encode_utf16().collect();
    let mut delta: isize = 0;
    for d in diffs {
        let index = to_u16(d.start);
        let len = to_u16(d.end) - index;
        let repl: Vec<u16> = d.replacement.encode_utf16().collect();
        // `String#slice` semantics: a negative index counts from the end.
        let n = s.len() as isize;
        let js_index = |i: isize| (if i < 0 { (n + i).max(0) } else { i.min(n) }) as usize;
        let head = &s[..js_index(index + delta)];
        let tail = &s[js_index(index + delta + len)..];
        let mut next = Vec::with_capacity(head.len() + repl.len() + tail.len());
        next.extend_from_slice(head);
        next.extend_from_slice(&repl);
        next.extend_from_slice(tail);
        s = next;
        delta += repl.len() as isize - len;
    }
    String::from_utf16_lossy(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(start: usize, end: usize) -> Diff {
        Diff {
            start,
            end,
            rule: 0,
            replacement: String::new(),
        }
    }

    #[test]
    fn paragraph_split_like_prh() {
        assert_eq!(
            paragraphs("a\nb\n\n\nc\r\n\r\nd\n\n"),
            vec![(0, "a\nb"), (6, "c\r\n\r\nd"), (14, "")]
        );
    }

    #[test]
    fn overlap_resolution_is_prh_exact() {
        // Equal start: the longest wins.
        let mut v = vec![d(0, 2), d(0, 3), d(1, 4)];
        resolve_overlaps(&mut v);
        assert_eq!(v.iter().map(|x| (x.start, x.end)).collect::<Vec<_>>(), [(0, 3)]);
        // The second pass removes (5,12), which survived the first one.
        // (Values verified with prh's ChangeSet in node.)
        let input = vec![d(0, 10), d(2, 4), d(5, 7), d(8, 12), d(20, 21)];
        let mut once = input.clone();
        prepare_once(&mut once);
        assert_eq!(once.len(), 4);
        let mut v = input;
        resolve_overlaps(&mut v);
        assert_eq!(
            v.iter().map(|x| (x.start, x.end)).collect::<Vec<_>>(),
            [(0, 10), (8, 12), (20, 21)]
        );
    }

    #[test]
    fn pragma_scan() {
        let p = scan_pragmas("x\n<!-- prh:disable:良い|悪い -->\ny");
        assert!(!p.ignore_all);
        assert_eq!(p.ranges, vec![(2, 2 + "<!-- prh:disable:良い|悪い".len())]);
        assert!(scan_pragmas("a prh:disable b").ignore_all);
        assert!(scan_pragmas("a prh:disable: b").ignore_all);
    }
}
