//! Translation of JavaScript regular expressions into fancy-regex syntax.
//!
//! prh compiles every rule pattern with `new RegExp(source, "gmu")` (plus `i`
//! when the dictionary asked for it), so the dictionaries are written against
//! ECMAScript semantics, which differ from Rust's in ways that change results
//! on Japanese text:
//!
//! * `\d`, `\w` and `\b` are ASCII-only in JavaScript even with the `u` flag;
//!   in Rust they are Unicode-aware, so `\bAPI\b` would not match in
//!   `このAPIを` (kana are Unicode word characters).
//! * `\s` and `.` use JavaScript's own whitespace / line-terminator sets.
//! * With the `m` flag, `^`/`$` also match around `\r`, U+2028 and U+2029.
//! * `[^]` means "any character", `[]` means "nothing".
//! * `\uD83D\uDE00` is one code point under `u`.
//! * Named groups are also numbered groups; `\k<name>` is a backreference.
//!
//! Rather than rewriting text piecemeal, the source is parsed with the
//! ECMAScript grammar (strict under `u`, Annex-B lenient without it, because
//! prh's `prh:disable:` pragma patterns are compiled without `u`), syntax errors
//! are reported like V8 would report them, and an equivalent fancy-regex
//! pattern is emitted. Every character-class member is emitted as an explicit
//! `\x{…}` range so no Rust class-syntax (`&&`, `--`, nested `[`) can be
//! triggered by accident.

use std::fmt::Write as _;

/// The JavaScript flags that influence matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsFlags {
    pub ignore_case: bool,
    pub multiline: bool,
    pub unicode: bool,
}

/// A compiled JavaScript regular expression.
#[derive(Debug)]
pub(crate) struct JsRegex {
    pub regex: fancy_regex::Regex,
    /// Number of capture groups (`matches.length - 1` in JavaScript).
    pub group_count: usize,
}

impl JsRegex {
    /// Compiles `source` (a JavaScript pattern, without slashes) with `flags`.
    /// The error string reads like V8's `SyntaxError` message.
    pub fn new(source: &str, flags: JsFlags) -> Result<JsRegex, String> {
        let (pattern, group_count) = translate(source, flags)?;
        let regex = fancy_regex::RegexBuilder::new(&pattern)
            // Dictionaries contain a handful of nested quantifiers; a generous
            // limit keeps pathological input from hanging the daemon while
            // never triggering on realistic posts.
            .backtrack_limit(5_000_000)
            .build()
            .map_err(|e| format!("cannot compile translated pattern `{pattern}`: {e}"))?;
        Ok(JsRegex { regex, group_count })
    }
}

/// Escapes a source string the way V8 does for `RegExp.prototype.source`
/// (and therefore `toString()`): unescaped `/` outside a class becomes `\/`,
/// line terminators become escape sequences, and the empty source is `(?:)`.
/// prh compares `ignoreRules: [{pattern}]` against `toString()`, so this must
/// be byte-exact.
pub(crate) fn js_source_escape(src: &str) -> String {
    if src.is_empty() {
        return "(?:)".to_string();
    }
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                if i + 1 < chars.len() && is_line_terminator(chars[i + 1]) {
                    // V8 drops the backslash; the terminator is escaped below.
                } else {
                    out.push('\\');
                    if i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                    }
                    i += 2;
                    continue;
                }
            }
            '/' if !in_class => out.push_str("\\/"),
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// Inclusive code point ranges.
type Ranges = Vec<(u32, u32)>;

const MAX_CP: u32 = 0x10FFFF;

fn digit_ranges() -> Ranges {
    vec![(0x30, 0x39)]
}

fn word_ranges() -> Ranges {
    // JavaScript's WordCharacters. Under `iu` JS also treats U+017F and
    // U+212A as word characters; Rust's `(?i)` folds them into this class
    // too, so no special case is needed.
    vec![(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
}

fn space_ranges() -> Ranges {
    // ECMAScript WhiteSpace + LineTerminator (note: includes U+FEFF and
    // excludes U+0085, unlike Unicode White_Space).
    vec![
        (0x09, 0x0D),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ]
}

fn line_terminator_ranges() -> Ranges {
    vec![(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]
}

fn normalize(mut r: Ranges) -> Ranges {
    r.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(r.len());
    for (a, b) in r {
        if let Some(last) = out.last_mut() {
            if a <= last.1.saturating_add(1) {
                last.1 = last.1.max(b);
                continue;
            }
        }
        out.push((a, b));
    }
    out
}

fn complement(r: &Ranges) -> Ranges {
    let r = normalize(r.clone());
    let mut out = Vec::new();
    let mut next = 0u32;
    for (a, b) in r {
        if a > next {
            out.push((next, a - 1));
        }
        next = b + 1;
    }
    if next <= MAX_CP {
        out.push((next, MAX_CP));
    }
    out
}

/// Writes ranges as class members, skipping the surrogate block (Rust
/// strings cannot contain lone surrogates, so those code points can never
/// match anyway and `\x{D800}` would be rejected by the Rust parser).
fn push_ranges(out: &mut String, ranges: &Ranges) {
    for &(a, b) in ranges {
        let pieces: Vec<(u32, u32)> = if a <= 0xDFFF && b >= 0xD800 {
            let mut p = Vec::new();
            if a < 0xD800 {
                p.push((a, 0xD7FF));
            }
            if b > 0xDFFF {
                p.push((0xE000, b));
            }
            p
        } else {
            vec![(a, b)]
        };
        for (x, y) in pieces {
            if x == y {
                let _ = write!(out, "\\x{{{x:X}}}");
            } else {
                let _ = write!(out, "\\x{{{x:X}}}-\\x{{{y:X}}}");
            }
        }
    }
}

/// Builds a class that matches exactly `ranges`; an empty set becomes a
/// class that can never match.
fn class_of(ranges: &Ranges) -> String {
    let mut s = String::from("[");
    let has_real = ranges.iter().any(|&(a, b)| !(a >= 0xD800 && b <= 0xDFFF));
    if has_real {
        push_ranges(&mut s, ranges);
    } else {
        // Nothing can match: negate the full range.
        s.push_str("^\\x{0}-\\x{10FFFF}");
    }
    s.push(']');
    s
}

/// Builds `[^…]`. Negation is left to the Rust engine (instead of emitting
/// the complement) so that under `(?i)` case folding happens before the
/// negation, as in JavaScript: `/\W/iu` must not match `s` even though the
/// complement of the word set contains U+017F, which folds to `s`.
fn negated_class_of(ranges: &Ranges) -> String {
    if !ranges.iter().any(|&(a, b)| !(a >= 0xD800 && b <= 0xDFFF)) {
        // `[^]`: any code point.
        return "[\\x{0}-\\x{10FFFF}]".to_string();
    }
    let mut s = String::from("[^");
    push_ranges(&mut s, ranges);
    s.push(']');
    s
}

fn literal(c: u32) -> String {
    if (0xD800..=0xDFFF).contains(&c) {
        // A lone surrogate can never occur in a Rust string.
        return class_of(&Vec::new());
    }
    let ch = char::from_u32(c).unwrap_or('\u{FFFD}');
    if ch.is_ascii_alphanumeric() || (!ch.is_ascii() && !ch.is_whitespace() && !ch.is_control()) {
        ch.to_string()
    } else {
        format!("\\x{{{c:X}}}")
    }
}

/// One member of a character class.
enum ClassAtom {
    Char(u32),
    /// A class escape; `true` when it is a negated one (`\D`, `\W`, `\S`).
    Set(Ranges, bool),
    /// `\p{…}` / `\P{…}`: passed through to the Rust engine.
    Property(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    Capture,
    NonCapture,
    Lookahead,
    Lookbehind,
}

struct Translator<'a> {
    chars: Vec<char>,
    pos: usize,
    flags: JsFlags,
    out: String,
    group_count: usize,
    names: Vec<(String, usize)>,
    source: &'a str,
}

/// Translates a JavaScript pattern; returns the fancy-regex pattern and the
/// number of capture groups.
pub(crate) fn translate(source: &str, flags: JsFlags) -> Result<(String, usize), String> {
    let mut t = Translator {
        chars: source.chars().collect(),
        pos: 0,
        flags,
        out: String::with_capacity(source.len() * 2),
        group_count: 0,
        names: Vec::new(),
        source,
    };
    t.prescan()?;
    if flags.ignore_case {
        t.out.push_str("(?i)");
    }
    t.run()?;
    Ok((t.out, t.group_count))
}

impl Translator<'_> {
    fn err(&self, msg: &str) -> String {
        format!("Invalid regular expression: /{}/: {}", self.source, msg)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    /// Counts capture groups and records group names first, because a
    /// backreference may point forward (`\2(a)(b)`) and because `\k` is only
    /// special when the pattern has named groups.
    fn prescan(&mut self) -> Result<(), String> {
        let mut i = 0;
        let mut in_class = false;
        while i < self.chars.len() {
            let c = self.chars[i];
            if c == '\\' {
                i += 2;
                continue;
            }
            if in_class {
                if c == ']' {
                    in_class = false;
                }
            } else if c == '[' {
                in_class = true;
            } else if c == '(' {
                if self.chars.get(i + 1) == Some(&'?') {
                    if self.chars.get(i + 2) == Some(&'<') && !matches!(self.chars.get(i + 3), Some('=') | Some('!')) {
                        self.group_count += 1;
                        let mut j = i + 3;
                        let mut name = String::new();
                        while j < self.chars.len() && self.chars[j] != '>' {
                            name.push(self.chars[j]);
                            j += 1;
                        }
                        if self.names.iter().any(|(n, _)| *n == name) {
                            return Err(self.err("Duplicate capture group name"));
                        }
                        self.names.push((name, self.group_count));
                    }
                } else {
                    self.group_count += 1;
                }
            }
            i += 1;
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        let mut stack: Vec<GroupKind> = Vec::new();
        // Whether the previous term may take a quantifier.
        let mut can_quantify = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '|' => {
                    self.out.push('|');
                    can_quantify = false;
                }
                '(' => {
                    let kind = self.group_open()?;
                    stack.push(kind);
                    can_quantify = false;
                }
                ')' => {
                    let kind = stack.pop().ok_or_else(|| self.err("Unmatched ')'"))?;
                    self.out.push(')');
                    can_quantify = match kind {
                        GroupKind::Capture | GroupKind::NonCapture => true,
                        // Annex B allows quantified lookaheads without `u`.
                        GroupKind::Lookahead => !self.flags.unicode,
                        GroupKind::Lookbehind => false,
                    };
                }
                '^' => {
                    if self.flags.multiline {
                        self.out.push_str("(?:^|(?<=");
                        self.out.push_str(&class_of(&line_terminator_ranges()));
                        self.out.push_str("))");
                    } else {
                        self.out.push('^');
                    }
                    can_quantify = false;
                }
                '$' => {
                    if self.flags.multiline {
                        self.out.push_str("(?:$|(?=");
                        self.out.push_str(&class_of(&line_terminator_ranges()));
                        self.out.push_str("))");
                    } else {
                        self.out.push('$');
                    }
                    can_quantify = false;
                }
                '.' => {
                    self.out.push_str(&negated_class_of(&line_terminator_ranges()));
                    can_quantify = true;
                }
                '[' => {
                    self.class()?;
                    can_quantify = true;
                }
                '*' | '+' | '?' => {
                    if !can_quantify {
                        return Err(self.err("Nothing to repeat"));
                    }
                    self.out.push(c);
                    self.lazy_suffix();
                    can_quantify = false;
                }
                '{' => match self.braced_quantifier()? {
                    Some(q) => {
                        if !can_quantify {
                            return Err(self.err("Nothing to repeat"));
                        }
                        self.out.push_str(&q);
                        self.lazy_suffix();
                        can_quantify = false;
                    }
                    None => {
                        if self.flags.unicode {
                            return Err(self.err("Lone quantifier brackets"));
                        }
                        self.out.push_str(&literal('{' as u32));
                        can_quantify = true;
                    }
                },
                '}' | ']' => {
                    if self.flags.unicode {
                        return Err(self.err("Lone quantifier brackets"));
                    }
                    self.out.push_str(&literal(c as u32));
                    can_quantify = true;
                }
                '\\' => {
                    can_quantify = self.atom_escape()?;
                }
                _ => {
                    self.out.push_str(&literal(c as u32));
                    can_quantify = true;
                }
            }
        }
        if !stack.is_empty() {
            return Err(self.err("Unterminated group"));
        }
        Ok(())
    }

    /// A JavaScript backreference to a group that has not participated
    /// (not reached yet, or in an untaken branch) matches the empty string;
    /// a plain fancy-regex backreference would fail, so guard it with a
    /// conditional on the group having matched.
    fn backref(&mut self, n: usize) {
        let _ = write!(self.out, "(?:(?({n})\\{n}|))");
    }

    fn lazy_suffix(&mut self) {
        if self.peek() == Some('?') {
            self.pos += 1;
            self.out.push('?');
        }
    }

    /// Parses `{n}`, `{n,}` or `{n,m}` after the `{`. Returns `None` (and
    /// consumes nothing) when the braces are not a quantifier.
    fn braced_quantifier(&mut self) -> Result<Option<String>, String> {
        let start = self.pos;
        let mut min = String::new();
        while let Some(d) = self.peek().filter(char::is_ascii_digit) {
            min.push(d);
            self.pos += 1;
        }
        if min.is_empty() {
            self.pos = start;
            return Ok(None);
        }
        let mut max: Option<String> = None;
        if self.peek() == Some(',') {
            self.pos += 1;
            let mut m = String::new();
            while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                m.push(d);
                self.pos += 1;
            }
            max = Some(m);
        }
        if self.peek() != Some('}') {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        // Huge counts are clamped: JS treats them as "infinity" anyway.
        let parse = |s: &str| s.parse::<u64>().unwrap_or(u64::MAX).min(1000);
        let lo = parse(&min);
        Ok(Some(match max {
            None => format!("{{{lo}}}"),
            Some(m) if m.is_empty() => format!("{{{lo},}}"),
            Some(m) => {
                let hi = parse(&m);
                if hi < lo {
                    return Err(self.err("numbers out of order in {} quantifier"));
                }
                format!("{{{lo},{hi}}}")
            }
        }))
    }

    fn group_open(&mut self) -> Result<GroupKind, String> {
        if self.peek() != Some('?') {
            self.out.push('(');
            return Ok(GroupKind::Capture);
        }
        let kind = match (self.peek_at(1), self.peek_at(2)) {
            (Some(':'), _) => {
                self.pos += 2;
                self.out.push_str("(?:");
                GroupKind::NonCapture
            }
            (Some('='), _) => {
                self.pos += 2;
                self.out.push_str("(?=");
                GroupKind::Lookahead
            }
            (Some('!'), _) => {
                self.pos += 2;
                self.out.push_str("(?!");
                GroupKind::Lookahead
            }
            (Some('<'), Some('=')) => {
                self.pos += 3;
                self.out.push_str("(?<=");
                GroupKind::Lookbehind
            }
            (Some('<'), Some('!')) => {
                self.pos += 3;
                self.out.push_str("(?<!");
                GroupKind::Lookbehind
            }
            (Some('<'), _) => {
                self.pos += 2;
                let mut name = String::new();
                loop {
                    match self.peek() {
                        Some('>') => {
                            self.pos += 1;
                            break;
                        }
                        Some(ch) if ch == '$' || ch == '_' || ch.is_alphanumeric() => {
                            name.push(ch);
                            self.pos += 1;
                        }
                        _ => return Err(self.err("Invalid capture group name")),
                    }
                }
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(self.err("Invalid capture group name"));
                }
                // Named groups are numbered groups in JS; emitting a plain
                // group keeps `$N` numbering identical and avoids Rust's
                // stricter group-name syntax.
                self.out.push('(');
                GroupKind::Capture
            }
            _ => return Err(self.err("Invalid group")),
        };
        Ok(kind)
    }

    fn read_hex(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for k in 0..n {
            let d = self.peek_at(k)?.to_digit(16)?;
            v = v * 16 + d;
        }
        self.pos += n;
        Some(v)
    }

    /// Parses what follows `\u`: `XXXX`, a surrogate pair `XXXX\uXXXX`
    /// (combined under `u`), or `{…}` under `u`.
    fn unicode_escape(&mut self) -> Result<Option<u32>, String> {
        if self.flags.unicode && self.peek() == Some('{') {
            let start = self.pos;
            self.pos += 1;
            let mut v: u64 = 0;
            let mut digits = 0;
            while let Some(d) = self.peek().and_then(|c| c.to_digit(16)) {
                v = (v * 16 + u64::from(d)).min(u64::from(u32::MAX));
                digits += 1;
                self.pos += 1;
            }
            if digits == 0 || self.peek() != Some('}') || v > u64::from(MAX_CP) {
                self.pos = start;
                return Err(self.err("Invalid Unicode escape"));
            }
            self.pos += 1;
            return Ok(Some(v as u32));
        }
        let Some(hi) = self.read_hex(4) else {
            if self.flags.unicode {
                return Err(self.err("Invalid Unicode escape"));
            }
            return Ok(None);
        };
        if self.flags.unicode
            && (0xD800..=0xDBFF).contains(&hi)
            && self.peek() == Some('\\')
            && self.peek_at(1) == Some('u')
        {
            let save = self.pos;
            self.pos += 2;
            match self.read_hex(4) {
                Some(lo) if (0xDC00..=0xDFFF).contains(&lo) => {
                    return Ok(Some(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)));
                }
                _ => self.pos = save,
            }
        }
        Ok(Some(hi))
    }

    /// Legacy octal escape (Annex B, non-unicode only). `first` is already
    /// consumed.
    fn legacy_octal(&mut self, first: char) -> u32 {
        let mut v = first.to_digit(8).unwrap_or(0);
        let max_digits = if first <= '3' { 3 } else { 2 };
        let mut n = 1;
        while n < max_digits {
            match self.peek().and_then(|c| c.to_digit(8)) {
                Some(d) => {
                    v = v * 8 + d;
                    self.pos += 1;
                    n += 1;
                }
                None => break,
            }
        }
        v
    }

    fn is_syntax_char(c: char) -> bool {
        matches!(
            c,
            '^' | '$' | '\\' | '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '/'
        )
    }

    /// Parses the escape after a `\` outside a class. Returns whether the
    /// result may be quantified.
    fn atom_escape(&mut self) -> Result<bool, String> {
        let Some(c) = self.peek() else {
            return Err(self.err("\\ at end of pattern"));
        };
        self.pos += 1;
        match c {
            'b' | 'B' => {
                let w = class_of(&word_ranges());
                if c == 'b' {
                    let _ = write!(self.out, "(?:(?<!{w})(?={w})|(?<={w})(?!{w}))");
                } else {
                    let _ = write!(self.out, "(?:(?<={w})(?={w})|(?<!{w})(?!{w}))");
                }
                Ok(false)
            }
            '1'..='9' => {
                let start = self.pos - 1;
                let mut n: usize = c.to_digit(10).unwrap_or(0) as usize;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(d as usize);
                    self.pos += 1;
                }
                if n <= self.group_count {
                    self.backref(n);
                    return Ok(true);
                }
                if self.flags.unicode {
                    return Err(self.err("Invalid escape"));
                }
                // Annex B: not a backreference; reparse as octal / identity.
                self.pos = start + 1;
                let v = if c >= '8' { c as u32 } else { self.legacy_octal(c) };
                self.out.push_str(&literal(v));
                Ok(true)
            }
            'k' if self.flags.unicode || !self.names.is_empty() => {
                if self.peek() != Some('<') {
                    return Err(self.err("Invalid named reference"));
                }
                self.pos += 1;
                let mut name = String::new();
                while let Some(ch) = self.peek() {
                    self.pos += 1;
                    if ch == '>' {
                        break;
                    }
                    name.push(ch);
                }
                let idx = self
                    .names
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, i)| *i)
                    .ok_or_else(|| self.err("Invalid named capture referenced"))?;
                self.backref(idx);
                Ok(true)
            }
            _ => {
                match self.class_escape(c, false)? {
                    ClassAtom::Char(v) => self.out.push_str(&literal(v)),
                    ClassAtom::Set(r, false) => self.out.push_str(&class_of(&r)),
                    ClassAtom::Set(r, true) => self.out.push_str(&negated_class_of(&r)),
                    ClassAtom::Property(p) => self.out.push_str(&p),
                }
                Ok(true)
            }
        }
    }

    /// Escapes shared by atoms and classes. `c` (after the `\`) is consumed.
    fn class_escape(&mut self, c: char, in_class: bool) -> Result<ClassAtom, String> {
        let u = self.flags.unicode;
        Ok(match c {
            'd' => ClassAtom::Set(digit_ranges(), false),
            'D' => ClassAtom::Set(digit_ranges(), true),
            'w' => ClassAtom::Set(word_ranges(), false),
            'W' => ClassAtom::Set(word_ranges(), true),
            's' => ClassAtom::Set(space_ranges(), false),
            'S' => ClassAtom::Set(space_ranges(), true),
            't' => ClassAtom::Char(0x09),
            'n' => ClassAtom::Char(0x0A),
            'v' => ClassAtom::Char(0x0B),
            'f' => ClassAtom::Char(0x0C),
            'r' => ClassAtom::Char(0x0D),
            'b' if in_class => ClassAtom::Char(0x08),
            '-' if in_class && u => ClassAtom::Char('-' as u32),
            'c' => match self.peek() {
                Some(l) if l.is_ascii_alphabetic() => {
                    self.pos += 1;
                    ClassAtom::Char(l as u32 % 32)
                }
                Some(l) if in_class && !u && (l.is_ascii_digit() || l == '_') => {
                    self.pos += 1;
                    ClassAtom::Char(l as u32 % 32)
                }
                _ => {
                    if u {
                        return Err(self.err("Invalid unicode escape"));
                    }
                    // Annex B: `\c` is a literal backslash; the `c` is
                    // parsed again as an ordinary character.
                    self.pos -= 1;
                    ClassAtom::Char('\\' as u32)
                }
            },
            '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => ClassAtom::Char(0),
            '0'..='9' => {
                if u {
                    return Err(self.err(if in_class {
                        "Invalid class escape"
                    } else {
                        "Invalid decimal escape"
                    }));
                }
                if c >= '8' {
                    ClassAtom::Char(c as u32)
                } else {
                    ClassAtom::Char(self.legacy_octal(c))
                }
            }
            'x' => match self.read_hex(2) {
                Some(v) => ClassAtom::Char(v),
                None if u => return Err(self.err("Invalid escape")),
                None => ClassAtom::Char('x' as u32),
            },
            'u' => match self.unicode_escape()? {
                Some(v) => ClassAtom::Char(v),
                None => ClassAtom::Char('u' as u32),
            },
            'p' | 'P' if u => {
                if self.peek() != Some('{') {
                    return Err(self.err("Invalid property name"));
                }
                let mut body = String::new();
                self.pos += 1;
                loop {
                    match self.peek() {
                        Some('}') => {
                            self.pos += 1;
                            break;
                        }
                        Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' || ch == '=' => {
                            body.push(ch);
                            self.pos += 1;
                        }
                        _ => return Err(self.err("Invalid property name")),
                    }
                }
                if body.is_empty() {
                    return Err(self.err("Invalid property name"));
                }
                ClassAtom::Property(format!("\\{c}{{{body}}}"))
            }
            _ if Self::is_syntax_char(c) => ClassAtom::Char(c as u32),
            _ => {
                if u {
                    return Err(self.err("Invalid escape"));
                }
                ClassAtom::Char(c as u32)
            }
        })
    }

    /// Parses one class atom; `None` at the closing `]`.
    fn class_atom(&mut self) -> Result<Option<ClassAtom>, String> {
        let Some(c) = self.peek() else {
            return Err(self.err("Unterminated character class"));
        };
        if c == ']' {
            return Ok(None);
        }
        self.pos += 1;
        if c != '\\' {
            return Ok(Some(ClassAtom::Char(c as u32)));
        }
        let Some(e) = self.peek() else {
            return Err(self.err("\\ at end of pattern"));
        };
        self.pos += 1;
        if e == 'k' && !self.flags.unicode {
            return Ok(Some(ClassAtom::Char('k' as u32)));
        }
        self.class_escape(e, true).map(Some)
    }

    fn class(&mut self) -> Result<(), String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges: Ranges = Vec::new();
        let mut props: Vec<String> = Vec::new();
        let add = |atom: ClassAtom, ranges: &mut Ranges, props: &mut Vec<String>| match atom {
            ClassAtom::Char(v) => ranges.push((v, v)),
            ClassAtom::Set(r, false) => ranges.extend(r),
            // Inside a larger class the complement has to be spelled out.
            ClassAtom::Set(r, true) => ranges.extend(complement(&r)),
            ClassAtom::Property(p) => props.push(p),
        };
        while let Some(a) = self.class_atom()? {
            if self.peek() == Some('-') && self.peek_at(1) != Some(']') && self.peek_at(1).is_some() {
                self.pos += 1;
                let Some(b) = self.class_atom()? else {
                    return Err(self.err("Unterminated character class"));
                };
                match (a, b) {
                    (ClassAtom::Char(x), ClassAtom::Char(y)) => {
                        if x > y {
                            return Err(self.err("Range out of order in character class"));
                        }
                        ranges.push((x, y));
                    }
                    (a, b) => {
                        if self.flags.unicode {
                            return Err(self.err("Invalid character class"));
                        }
                        add(a, &mut ranges, &mut props);
                        ranges.push(('-' as u32, '-' as u32));
                        add(b, &mut ranges, &mut props);
                    }
                }
            } else {
                add(a, &mut ranges, &mut props);
            }
        }
        self.pos += 1; // the closing ']'
        let ranges = normalize(ranges);
        if props.is_empty() {
            let class = if negated {
                negated_class_of(&ranges)
            } else {
                class_of(&ranges)
            };
            self.out.push_str(&class);
            return Ok(());
        }
        let mut s = String::from("[");
        if negated {
            s.push('^');
        }
        push_ranges(&mut s, &ranges);
        for p in props {
            s.push_str(&p);
        }
        s.push(']');
        self.out.push_str(&s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: JsFlags = JsFlags {
        ignore_case: false,
        multiline: true,
        unicode: true,
    };

    fn find(src: &str, text: &str) -> Option<(usize, usize)> {
        let r = JsRegex::new(src, U).unwrap();
        r.regex.find(text).unwrap().map(|m| (m.start(), m.end()))
    }

    #[test]
    fn digit_is_ascii_only() {
        assert_eq!(find(r"\d+", "１２3"), Some((6, 7)));
        assert_eq!(find(r"[\d]+", "٣4"), Some((2, 3)));
    }

    #[test]
    fn word_boundary_is_ascii_only() {
        // Kana are not JS word characters, so the boundary exists.
        assert_eq!(find(r"\bAPI\b", "このAPIを"), Some((6, 9)));
        assert_eq!(find(r"\bAPI\b", "xAPI"), None);
    }

    #[test]
    fn lookbehind_and_backref_and_named_group() {
        assert_eq!(find("(?<!ま)でで", "までで"), None);
        assert_eq!(find("(?<!ま)でで", "そこでで"), Some((6, 12)));
        assert_eq!(find(r"(a)\1", "xaa"), Some((1, 3)));
        assert_eq!(find(r"(?<x>b)\k<x>", "abb"), Some((1, 3)));
        assert_eq!(JsRegex::new(r"(?<x>b)(c)", U).unwrap().group_count, 2);
        // Backreferences to groups that did not participate match "".
        assert_eq!(find(r"\1x(a)", "xa"), Some((0, 2)));
        assert_eq!(find(r"(a)?\1b", "b"), Some((0, 1)));
    }

    #[test]
    fn js_specific_syntax() {
        assert_eq!(find("[^]", "\n"), Some((0, 1)));
        assert_eq!(find("a[]", "a"), None);
        assert_eq!(find(r"\u{1F600}", "x😀"), Some((1, 5)));
        assert_eq!(find(r"\uD83D\uDE00", "x😀"), Some((1, 5)));
        assert_eq!(find(r"a\/b", "a/b"), Some((0, 3)));
        assert_eq!(find("^b", "a\rb"), Some((2, 3)));
        assert_eq!(find("a$", "a\u{2028}"), Some((0, 1)));
        assert_eq!(find(".", "\r"), None);
        assert_eq!(find(r"\s", "\u{FEFF}"), Some((0, 3)));
        assert_eq!(find(r"\s", "\u{85}"), None);
    }

    #[test]
    fn unicode_mode_rejects_what_v8_rejects() {
        for bad in [r"\-", "a{", "]", r"\a", r"\1", "a**", "(", "(?<=a)*", "[b-a]", "\\"] {
            assert!(JsRegex::new(bad, U).is_err(), "{bad} should be rejected");
        }
        let lenient = JsFlags { unicode: false, ..U };
        for ok in [r"\-", "a{", "]", r"\a", r"\1"] {
            assert!(JsRegex::new(ok, lenient).is_ok(), "{ok} is valid without u");
        }
    }

    #[test]
    fn source_escaping_matches_v8() {
        assert_eq!(js_source_escape("a/b[/]\\/"), "a\\/b[/]\\/");
        assert_eq!(js_source_escape(""), "(?:)");
        assert_eq!(js_source_escape("a\nb"), "a\\nb");
    }
}
