//! One prh rule: how its pattern is built (mirroring prh 5.4.4's
//! `lib/rule.js` and `lib/utils/regexp.js`) and how it is applied to text.

use super::jsregex::{js_source_escape, JsFlags, JsRegex};
use serde_yaml_ng::Value;

/// Half-width / full-width tables copied from prh's `utils/regexp.js`; the
/// position in one string is the position in the other.
const HANKAKU: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ZENKAKU: &str = "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９";

/// Characters prh's `escapeSpecialChars` prefixes with a backslash. The
/// backslash itself is *not* in prh's list, and `-` / `¥` become escapes that
/// V8 rejects under the `u` flag; both quirks are kept on purpose so that a
/// dictionary prh rejects is rejected here too.
const SPECIAL_CHARS: &str = "¥*+.?{}()[]^$-|/";

/// A compiled rule, in dictionary order.
#[derive(Debug)]
pub(crate) struct Rule {
    pub expected: String,
    pub description: Option<String>,
    pub regex: JsRegex,
    /// `RegExp.prototype.toString()` of the final pattern, e.g.
    /// `/\bfoo\b/gimu`; `ignoreRules: [{pattern}]` compares against it.
    pub js_pattern: String,
    /// `regexpMustEmpty: $N` as the group number.
    pub must_empty: Option<usize>,
}

/// A match of one rule, in byte offsets of the text the rule ran on.
#[derive(Debug, Clone)]
pub(crate) struct Diff {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
    pub replacement: String,
}

/// A rule's source data before compilation, with the problem found while
/// reading it (the caller adds file and line).
pub(crate) struct RuleError {
    pub expected: Option<String>,
    pub message: String,
    /// For failing specs: (from, to, got).
    pub spec: Option<(String, String, String)>,
}

impl RuleError {
    fn new(expected: Option<&str>, message: impl Into<String>) -> Self {
        RuleError {
            expected: expected.map(str::to_string),
            message: message.into(),
            spec: None,
        }
    }
}

/// JavaScript truthiness of a YAML value, as prh's `a || b` tests use it.
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(_) => true,
    }
}

/// Renders a scalar the way JavaScript's `String(x)` would.
pub(crate) fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    map.as_mapping().and_then(|m| m.get(key))
}

/// prh's `spreadAlphaNum`: every character whose upper- or lower-case form
/// is an ASCII letter or digit becomes a class of its half- and full-width
/// forms; everything else is copied *unescaped* (so `expected: (株)` yields a
/// capture group, exactly as in prh).
pub(crate) fn spread_alpha_num(expected: &str) -> String {
    let zen: Vec<char> = ZENKAKU.chars().collect();
    // `charAt(-1)` is the empty string in JavaScript.
    let zen_at = |i: Option<usize>| i.and_then(|i| zen.get(i)).map(|c| c.to_string());
    let mut out = String::new();
    for v in expected.chars() {
        let upper: String = v.to_uppercase().collect();
        let lower: String = v.to_lowercase().collect();
        // JavaScript `indexOf` on a string: a substring search.
        let idx1 = HANKAKU.find(&upper);
        let idx2 = HANKAKU.find(&lower);
        match (idx1, idx2) {
            (None, None) => out.push(v),
            _ if idx1 == idx2 => {
                out.push('[');
                out.push(v);
                out.push_str(&zen_at(idx1).unwrap_or_default());
                out.push(']');
            }
            _ => {
                out.push('[');
                out.push_str(&upper);
                out.push_str(&lower);
                out.push_str(&zen_at(idx1).unwrap_or_default());
                out.push_str(&zen_at(idx2).unwrap_or_default());
                out.push(']');
            }
        }
    }
    out
}

/// prh's `escapeSpecialChars`.
pub(crate) fn escape_special_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if SPECIAL_CHARS.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// prh's `regexpRegexp` (`/^\/(.*)\/([gimy]*)$/`): returns body and flags.
pub(crate) fn parse_regexp_string(s: &str) -> Option<(&str, &str)> {
    // `.` does not match line terminators and `$` has no `m` flag.
    if !s.starts_with('/') || s.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let last = s.rfind('/')?;
    if last == 0 {
        return None;
    }
    let flags = &s[last + 1..];
    if !flags.chars().all(|c| "gimy".contains(c)) {
        return None;
    }
    Some((&s[1..last], flags))
}

/// The pattern as prh holds it before compiling: JavaScript source (already
/// escaped the way `RegExp.prototype.source` is) and the `i` flag.
struct JsPattern {
    source: String,
    ignore_case: bool,
}

fn flags_label(ignore_case: bool) -> &'static str {
    if ignore_case {
        "gimu"
    } else {
        "gmu"
    }
}

/// prh's `Rule#_patternToRegExp`.
fn pattern_to_js(pattern: Option<&Value>, expected: &str, word_boundary: bool) -> Result<JsPattern, String> {
    match pattern {
        None => {
            let mut src = spread_alpha_num(expected);
            if word_boundary {
                src = format!("\\b{src}\\b");
            }
            Ok(JsPattern {
                source: js_source_escape(&src),
                ignore_case: false,
            })
        }
        Some(Value::String(s)) => {
            if s.is_empty() {
                return Err("pattern can't be empty".into());
            }
            let (mut src, ignore_case) = match parse_regexp_string(s) {
                Some((body, flags)) => {
                    let mut seen = String::new();
                    for f in flags.chars() {
                        if seen.contains(f) {
                            return Err(format!("Invalid flags supplied to RegExp constructor '{flags}'"));
                        }
                        seen.push(f);
                    }
                    (js_source_escape(body), flags.contains('i'))
                }
                None => (js_source_escape(&escape_special_chars(s)), false),
            };
            if word_boundary {
                src = js_source_escape(&format!("\\b{src}\\b"));
            }
            Ok(JsPattern {
                source: src,
                ignore_case,
            })
        }
        Some(Value::Sequence(items)) => {
            if items.is_empty() {
                // prh builds `(?:)` here, which matches the empty string at
                // every position and makes prh loop forever.
                return Err("patterns can't be an empty list".into());
            }
            let mut parts = Vec::with_capacity(items.len());
            let mut flags: Option<bool> = None;
            for item in items {
                let p = pattern_to_js(Some(item), expected, word_boundary)?;
                if let Some(prev) = flags {
                    if prev != p.ignore_case {
                        return Err(format!(
                            "combining different flags {} and {}.\nThe pattern /{}/{} has different flag with other patterns.",
                            flags_label(prev),
                            flags_label(p.ignore_case),
                            p.source,
                            flags_label(p.ignore_case)
                        ));
                    }
                }
                flags = Some(p.ignore_case);
                parts.push(p.source);
            }
            Ok(JsPattern {
                source: js_source_escape(&format!("(?:{})", parts.join("|"))),
                ignore_case: flags.unwrap_or(false),
            })
        }
        Some(other) => Err(format!(
            "unexpected pattern: {}",
            scalar_to_string(other).unwrap_or_else(|| "[object Object]".into())
        )),
    }
}

impl Rule {
    /// Builds a rule from one entry of `rules:` (prh's `new Rule(src)`),
    /// running its specs.
    pub fn from_yaml(src: &Value) -> Result<Rule, RuleError> {
        if let Value::String(s) = src {
            return Rule::build(s, None, None, false, None, &[]);
        }
        if !src.is_mapping() {
            return Err(RuleError::new(
                None,
                "a rule must be a mapping with `expected` (or a plain string)",
            ));
        }
        let expected_v = get(src, "expected");
        let expected = match expected_v {
            None | Some(Value::Null) => {
                return Err(RuleError::new(None, "expected is required"));
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(RuleError::new(
                    scalar_to_string(expected_v.unwrap_or(&Value::Null)).as_deref(),
                    "expected must be a string (quote it in YAML)",
                ));
            }
        };
        let exp = Some(expected.as_str());
        // prh's checkEmptyPattern runs on both keys before anything else.
        for key in ["pattern", "patterns"] {
            match get(src, key) {
                Some(Value::String(s)) if s.is_empty() => {
                    return Err(RuleError::new(exp, format!("{key} can't be empty")));
                }
                Some(Value::Sequence(items)) if items.iter().any(|i| matches!(i, Value::String(s) if s.is_empty())) => {
                    return Err(RuleError::new(exp, "patterns can't be empty"));
                }
                _ => {}
            }
        }
        // `rawRule.pattern || rawRule.patterns`
        let pattern = if truthy(get(src, "pattern")) {
            get(src, "pattern")
        } else if truthy(get(src, "patterns")) {
            get(src, "patterns")
        } else {
            None
        };
        let word_boundary = get(src, "options")
            .and_then(|o| get(o, "wordBoundary"))
            .is_some_and(|v| truthy(Some(v)));
        let must_empty = if truthy(get(src, "regexpMustEmpty")) {
            let raw = get(src, "regexpMustEmpty")
                .and_then(scalar_to_string)
                .unwrap_or_default();
            // prh only throws this when the rule first matches; failing at
            // load time is friendlier for a daemon.
            let n = raw
                .strip_prefix('$')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<usize>().ok())
                .ok_or_else(|| {
                    RuleError::new(exp, format!("regexpMustEmpty `{raw}` is invalid: please use $1 format"))
                })?;
            Some(n)
        } else {
            None
        };
        let description = get(src, "prh").and_then(scalar_to_string);
        let mut specs = Vec::new();
        if let Some(list) = get(src, "specs").filter(|v| !v.is_null()) {
            let items = list
                .as_sequence()
                .ok_or_else(|| RuleError::new(exp, "specs must be a list of {from, to}"))?;
            for item in items {
                let field = |k: &str| get(item, k).filter(|v| truthy(Some(v))).and_then(scalar_to_string);
                let from = field("from").ok_or_else(|| RuleError::new(exp, "spec: from is required"))?;
                let to = field("to").ok_or_else(|| RuleError::new(exp, "spec: to is required"))?;
                specs.push((from, to));
            }
        }
        Rule::build(&expected, pattern, description, word_boundary, must_empty, &specs)
    }

    fn build(
        expected: &str,
        pattern: Option<&Value>,
        description: Option<String>,
        word_boundary: bool,
        must_empty: Option<usize>,
        specs: &[(String, String)],
    ) -> Result<Rule, RuleError> {
        let exp = Some(expected);
        let js = pattern_to_js(pattern, expected, word_boundary).map_err(|m| RuleError::new(exp, m))?;
        let flags = JsFlags {
            ignore_case: js.ignore_case,
            multiline: true,
            unicode: true,
        };
        let js_pattern = format!("/{}/{}", js.source, flags_label(js.ignore_case));
        let regex =
            JsRegex::new(&js.source, flags).map_err(|m| RuleError::new(exp, format!("{m} (pattern {js_pattern})")))?;
        let rule = Rule {
            expected: expected.to_string(),
            description,
            regex,
            js_pattern,
            must_empty,
        };
        for (from, to) in specs {
            let mut diffs = rule.apply(from, 0);
            super::engine::resolve_overlaps(&mut diffs);
            let got = super::engine::apply_diffs(from, &diffs);
            if &got != to {
                return Err(RuleError {
                    expected: Some(expected.to_string()),
                    message: format!(
                        "{expected} spec failed. \"{from}\", expected \"{to}\", but got \"{got}\", {}",
                        rule.js_pattern
                    ),
                    spec: Some((from.clone(), to.clone(), got)),
                });
            }
        }
        Ok(rule)
    }

    /// prh's `Rule#applyRule`: every match in `content`, minus those
    /// excluded by `regexpMustEmpty` or whose text is already `expected`.
    /// `rule` is this rule's index, carried into the diffs.
    pub fn apply(&self, content: &str, rule: usize) -> Vec<Diff> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos <= content.len() {
            // A backtrack-limit error ends the scan for this rule only; prh
            // has no such limit (V8 would just keep going).
            let Ok(Some(caps)) = self.regex.regex.captures_from_pos(content, pos) else {
                break;
            };
            let Some(m) = caps.get(0) else { break };
            pos = if m.end() > m.start() {
                m.end()
            } else {
                // JavaScript's exec loop never advances past an empty match
                // (prh would hang); step one character instead.
                m.end() + content[m.end()..].chars().next().map_or(1, char::len_utf8)
            };
            if let Some(n) = self.must_empty {
                if caps.get(n).is_some_and(|g| !g.as_str().is_empty()) {
                    continue;
                }
            }
            // prh compares the raw `expected`, before `$N` substitution.
            if self.expected == m.as_str() {
                continue;
            }
            let replacement = substitute(&self.expected, self.regex.group_count, |i| {
                caps.get(i).map(|g| g.as_str())
            });
            out.push(Diff {
                start: m.start(),
                end: m.end(),
                rule,
                replacement,
            });
        }
        out
    }
}

/// prh's `Diff#newText`: `expected.replace(/\$([0-9]{1,2})/g, …)`; `$0` and
/// references past the last group stay literal, unmatched groups become "".
pub(crate) fn substitute<'a>(expected: &str, group_count: usize, group: impl Fn(usize) -> Option<&'a str>) -> String {
    let bytes = expected.as_bytes();
    let mut out = String::with_capacity(expected.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < bytes.len() && j < i + 3 && bytes[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = expected[i + 1..j].parse().unwrap_or(0);
            if n == 0 || n > group_count {
                out.push_str(&expected[i..j]);
            } else {
                out.push_str(group(n).unwrap_or(""));
            }
            i = j;
        } else {
            let ch = expected[i..].chars().next().unwrap_or('\0');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_covers_width_and_case() {
        assert_eq!(spread_alpha_num("a1"), "[AaＡａ][1１]");
        assert_eq!(spread_alpha_num("Go言語"), "[GgＧｇ][OoＯｏ]言語");
        assert_eq!(spread_alpha_num("(株)"), "(株)");
    }

    #[test]
    fn regexp_string_detection() {
        assert_eq!(parse_regexp_string("/a/b/i"), Some(("a/b", "i")));
        assert_eq!(parse_regexp_string("/a/x"), None);
        assert_eq!(parse_regexp_string("/"), None);
        assert_eq!(parse_regexp_string("a/b/"), None);
    }

    #[test]
    fn substitution_like_string_replace() {
        let g = |i: usize| match i {
            1 => Some("x"),
            _ => None,
        };
        assert_eq!(substitute("<$1>$2$0$12", 2, g), "<x>$0$12");
        assert_eq!(substitute("$1$", 1, g), "x$");
    }

    #[test]
    fn escape_keeps_prh_quirks() {
        assert_eq!(escape_special_chars("a.b-c\\d"), "a\\.b\\-c\\d");
    }
}
