//! X (Twitter) weighted post length, as computed by twitter-text 3.1.0's
//! `parseTweet(text)` with its default configuration (config "v3").
//!
//! X does not count characters: it counts *weight*. With config v3:
//!
//! * the text is NFC-normalised first (so `か` + U+3099 counts like `が`);
//! * every UTF-16 position is visited; a code point in one of the "light"
//!   ranges U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037
//!   weighs 1, everything else (CJK, Hangul, emoji, …) weighs 2;
//! * every URL found by twitter-text's URL extractor weighs 23 no matter how
//!   long it is (it will be replaced by a t.co link);
//! * every emoji sequence matched by twemoji-parser's regex (ZWJ families,
//!   skin tones, keycaps, flags, VS16 presentation) weighs 2 in total;
//! * the limit is 280; a text is valid when its weight is in `1..=280` and it
//!   contains none of U+FFFE, U+FEFF, U+FFFF.
//!
//! To be exact rather than approximately right, this module reproduces the
//! reference implementation's *mechanics*, quirks included, instead of
//! re-deriving the rules:
//!
//! * it works on UTF-16 code units, like JavaScript, because the reference
//!   loop, its URL indices and its regexes are all UTF-16 based;
//! * the URL and emoji regexes are the reference ones, composed from the same
//!   pieces as twitter-text's `regexSupplant` calls, and run by a small
//!   backtracking engine (the private `re` module) with JavaScript
//!   semantics (ordered alternation, greedy quantifiers, lookahead,
//!   non-Unicode `i` flag), so that "which alternative wins" is the same as
//!   in V8 (the `regex` crate is not a permitted dependency, and it has
//!   neither lookahead nor a UTF-16 mode);
//! * the TLD lists and the emoji regex are copied verbatim (see the tables
//!   near the end of the file; `tools/gen_length_tables.js` regenerates
//!   them from the npm packages).
//!
//! Verified against twitter-text 3.1.0 with `length_vectors.json` (see
//! `gen_length_vectors.js`), over 100 000 random strings (`tools/fuzz_length.js`)
//! and every emoji-range code point with VS15/VS16/skin-tone/ZWJ/keycap
//! suffixes; no differences.
//!
//! Caveats (also true of the reference implementation, so they are kept):
//!
//! * A URL without a scheme is only counted when its host contains an
//!   ASCII-only domain with a known TLD: `example.co.jp` and `ibm.com/jp-ja`
//!   count 23, but an IDN host such as `日本語.jp` (no scheme) is counted
//!   character by character. With a scheme (`https://日本語.jp`) the whole
//!   URL counts 23.
//! * Non-ASCII letters directly before a scheme-less domain are taken as
//!   part of the host by the regex and then dropped: in `これはexample.com`
//!   only `example.com` counts 23.
//! * A query string on a scheme-less URL without a path
//!   (`example.com?q=1`) is *not* part of the counted URL.
//! * The TLD lists are twitter-text 3.1.0's snapshot; a TLD added since
//!   (and so unknown here) makes a scheme-less domain count per character,
//!   exactly as twitter-text 3.1.0 does.
//! * Like the reference regexes, URL extraction is quadratic in the worst
//!   case: 10 000 characters of `a.a.a.…` take about 1.3 s (release build).
//!   Real posts are far below that.
//! * `valid` follows `parseTweet`: a whitespace-only text has a positive
//!   weight and is therefore valid; callers that want to reject blank posts
//!   must check that themselves.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// X's maximum weighted length of a post (config v3 `maxWeightedTweetLength`).
pub const X_MAX_WEIGHTED_LENGTH: usize = 280;

/// Weight of any URL, whatever its length (config v3 `transformedURLLength`).
pub const X_TRANSFORMED_URL_LENGTH: usize = 23;

/// Weights are kept ×100 internally, as twitter-text does (`scale`), so that
/// every weight is an integer.
const SCALE: usize = 100;
/// Weight (×100) of a code point outside [`LIGHT_RANGES`] and of an emoji.
const DEFAULT_WEIGHT: usize = 200;
/// Code-unit ranges that weigh 1 (×100 = 100); config v3 `ranges`.
const LIGHT_RANGES: [(u16, u16); 4] = [(0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037)];
/// twitter-text `invalidCharsGroup`: a post containing one is invalid.
const INVALID_CHARS: [u16; 3] = [0xFFFE, 0xFEFF, 0xFFFF];

/// Result of [`weighted_length`]; mirrors the fields of `parseTweet` that
/// matter to a publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedLength {
    /// `weightedLength`: what X compares with [`X_MAX_WEIGHTED_LENGTH`].
    pub weighted: usize,
    /// `valid`: `1 <= weighted <= 280` and no invalid characters.
    pub valid: bool,
    /// `permillage`: `floor(weighted / 280 * 1000)`, computed in `f64` like
    /// JavaScript so that rounding matches.
    pub permillage: usize,
    /// The NFC-normalised text that was measured; [`Self::urls`] index it.
    pub normalized: String,
    /// Byte ranges in [`Self::normalized`] of each URL counted as 23.
    pub urls: Vec<Range<usize>>,
}

/// Exactly what twitter-text 3.1.0 `parseTweet(text).weightedLength` (and
/// `.valid`, `.permillage`) computes with the default config (v3).
pub fn weighted_length(text: &str) -> WeightedLength {
    let normalized: String = text.nfc().collect();
    let units: Vec<u16> = normalized.encode_utf16().collect();

    // Like `transformEntitiesToHash`: entities keyed by their start index, a
    // later entity with the same start replacing an earlier one.
    let url_map: HashMap<usize, usize> = extract_urls(&units).into_iter().map(|u| (u.start, u.url_len)).collect();
    let emoji_map: HashMap<usize, usize> = extract_emoji(&units).into_iter().collect();

    let mut weighted = 0usize;
    let mut valid = true;
    let mut url_spans = Vec::new();
    let mut i = 0usize;
    while i < units.len() {
        if let Some(&len) = url_map.get(&i) {
            weighted += X_TRANSFORMED_URL_LENGTH * SCALE;
            url_spans.push(i..(i + len).min(units.len()));
            // The reference skips by the URL's string length (which can
            // differ from its index span), so do the same.
            i += len.max(1) - 1;
        } else if let Some(&len) = emoji_map.get(&i) {
            weighted += DEFAULT_WEIGHT;
            i += len.max(1) - 1;
        } else {
            if is_surrogate_pair(&units, i) {
                // The reference then weighs the *low* surrogate, which is
                // outside every light range: astral code points weigh 2.
                i += 1;
            }
            weighted += unit_weight(units[i]);
        }
        // Only the last code unit of each token is checked, as in the
        // reference (an invalid char can't be inside a URL or emoji anyway).
        if valid {
            valid = !INVALID_CHARS.contains(&units[i]);
        }
        i += 1;
    }

    let weighted = weighted / SCALE;
    let valid = valid && weighted > 0 && weighted <= X_MAX_WEIGHTED_LENGTH;
    let permillage = ((weighted as f64 / X_MAX_WEIGHTED_LENGTH as f64) * 1000.0).floor() as usize;
    let urls = utf16_spans_to_byte_ranges(&normalized, &url_spans);
    WeightedLength {
        weighted,
        valid,
        permillage,
        normalized,
        urls,
    }
}

fn unit_weight(unit: u16) -> usize {
    if LIGHT_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&unit)) {
        SCALE
    } else {
        DEFAULT_WEIGHT
    }
}

fn is_surrogate_pair(units: &[u16], i: usize) -> bool {
    i + 1 < units.len() && (0xD800..=0xDBFF).contains(&units[i]) && (0xDC00..=0xDFFF).contains(&units[i + 1])
}

/// Converts UTF-16 index spans into byte ranges of `s`, rounding a boundary
/// that falls inside a code point down to that code point's start.
fn utf16_spans_to_byte_ranges(s: &str, spans: &[Range<usize>]) -> Vec<Range<usize>> {
    // byte_at[k] = byte offset of UTF-16 index k (k == len maps to s.len()).
    let mut byte_at = Vec::with_capacity(s.len() + 1);
    for (b, c) in s.char_indices() {
        for _ in 0..c.len_utf16() {
            byte_at.push(b);
        }
    }
    byte_at.push(s.len());
    spans
        .iter()
        .map(|r| byte_at[r.start.min(byte_at.len() - 1)]..byte_at[r.end.min(byte_at.len() - 1)])
        .collect()
}

// ---------------------------------------------------------------------------
// Emoji (twemoji-parser 11.0.2 `parse`)
// ---------------------------------------------------------------------------

/// Returns `(start, length)` in UTF-16 units of every emoji sequence.
fn extract_emoji(units: &[u16]) -> Vec<(usize, usize)> {
    static EMOJI: OnceLock<re::Regex> = OnceLock::new();
    let regex = EMOJI.get_or_init(|| re::Regex::new(&TWEMOJI_ALTERNATIVES.join("|"), false));
    regex
        .find_iter(units)
        .map(|caps| {
            let (s, e) = caps[0].expect("group 0 is always set");
            (s, e - s)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// URLs (twitter-text 3.1.0 `extractUrlsWithIndices`)
// ---------------------------------------------------------------------------

/// A URL entity as the reference builds it: `[start, end)` indices in UTF-16
/// units plus the length of its `url` string, which is what `parseTweet`
/// skips by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UrlEntity {
    start: usize,
    end: usize,
    url_len: usize,
}

const MAX_URL_LENGTH: usize = 4096;
const MAX_TCO_SLUG_LENGTH: usize = 40;
const MAX_DOMAIN_LABEL_LENGTH: usize = 63;
/// `DEFAULT_PROTOCOL` ("https://") length, used when a URL has no scheme.
const DEFAULT_PROTOCOL_LEN: usize = 8;

// The regex pieces below are twitter-text's `src/regexp/*.js` sources,
// verbatim, so they can be compared line by line with the reference.
const SPACES_GROUP: &str = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
const INVALID_CHARS_GROUP: &str = r"\uFFFE\uFEFF\uFFFF";
const DIRECTIONAL_MARKERS_GROUP: &str = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069";
const PUNCT: &str = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$";
const LATIN_ACCENT_CHARS: &str = r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF";
const CYRILLIC_LETTERS_AND_MARKS: &str = r"\u0400-\u04FF";
const VALID_PUNYCODE: &str = r"(?:xn--[\-0-9a-z]+)";
const VALID_URL_QUERY_CHARS: &str = r"[a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]\-_\.,~|]";
const VALID_URL_QUERY_ENDING_CHARS: &str = r"[a-z0-9\-_&=#\/]";

struct UrlRegexes {
    /// `extractUrl` (flags `gi`). Groups: 2 preceding char, 3 URL,
    /// 4 protocol, 5 domain, 6 port, 7 path, 8 query.
    extract_url: re::Regex,
    /// `validAsciiDomain` (flags `gi`).
    valid_ascii_domain: re::Regex,
    /// `validTcoUrl` (flag `i`). Group 1: the t.co slug.
    valid_tco_url: re::Regex,
}

fn tld_alternation(list: &[&str]) -> String {
    format!("(?:(?:{})(?=[^0-9a-zA-Z@+-]|$))", list.join("|"))
}

fn url_regexes() -> &'static UrlRegexes {
    static REGEXES: OnceLock<UrlRegexes> = OnceLock::new();
    REGEXES.get_or_init(|| {
        let gtld = tld_alternation(GTLDS);
        let cctld = tld_alternation(CCTLDS);
        let invalid_domain_chars =
            format!("{PUNCT}{SPACES_GROUP}{INVALID_CHARS_GROUP}{DIRECTIONAL_MARKERS_GROUP}");
        let domain_chars = format!("[^{invalid_domain_chars}]");
        let subdomain = format!(r"(?:(?:{domain_chars}(?:[_-]|{domain_chars})*)?{domain_chars}\.)");
        let domain_name = format!(r"(?:(?:{domain_chars}(?:-|{domain_chars})*)?{domain_chars}\.)");
        let domain =
            format!("(?:{subdomain}*{domain_name}(?:{gtld}|{cctld}|{VALID_PUNYCODE}))");
        let preceding = format!(
            "(?:[^A-Za-z0-9@＠$#＃{INVALID_CHARS_GROUP}]|[{DIRECTIONAL_MARKERS_GROUP}]|^)"
        );
        let path_chars = format!(
            r"[a-z{CYRILLIC_LETTERS_AND_MARKS}0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&{LATIN_ACCENT_CHARS}]"
        );
        let balanced_parens = format!(
            r"\((?:{path_chars}+|(?:{path_chars}*\({path_chars}+\){path_chars}*))\)"
        );
        // Spliced in unparenthesised, exactly like the reference: its
        // top-level `|` therefore splits the enclosing group below.
        let path_ending = format!(
            r"[\+\-a-z{CYRILLIC_LETTERS_AND_MARKS}0-9=_#\/{LATIN_ACCENT_CHARS}]|(?:{balanced_parens})"
        );
        let path = format!(
            "(?:(?:{path_chars}*(?:{balanced_parens}{path_chars}*)*{path_ending})|(?:@{path_chars}+/))"
        );
        let extract_url = format!(
            r"(({preceding})((https?:\/\/)?({domain})(?::([0-9]+))?(\/{path}*)?(\?{VALID_URL_QUERY_CHARS}*{VALID_URL_QUERY_ENDING_CHARS})?))"
        );
        let ascii_domain = format!(
            r"(?:(?:[\-a-z0-9{LATIN_ACCENT_CHARS}]+)\.)+(?:{gtld}|{cctld}|{VALID_PUNYCODE})"
        );
        let tco = format!(
            r"^https?:\/\/t\.co\/([a-z0-9]+)(?:\?{VALID_URL_QUERY_CHARS}*{VALID_URL_QUERY_ENDING_CHARS})?"
        );
        UrlRegexes {
            extract_url: re::Regex::new(&extract_url, true),
            valid_ascii_domain: re::Regex::new(&ascii_domain, true),
            valid_tco_url: re::Regex::new(&tco, true),
        }
    })
}

/// `extractUrlsWithIndices(text)` with the default options
/// (`extractUrlsWithoutProtocol: true`).
fn extract_urls(text: &[u16]) -> Vec<UrlEntity> {
    if !text.contains(&u16::from(b'.')) {
        return Vec::new();
    }
    let rx = url_regexes();
    let mut urls = Vec::new();
    for caps in rx.extract_url.find_iter(text) {
        let span = |g: usize| caps[g].map_or(0..0, |(s, e)| s..e);
        let before = &text[span(2)];
        let url = span(3);
        let protocol = span(4);
        let domain = &text[span(5)];
        let path = span(7);
        let mut end_position = url.end;
        let start_position = url.start;

        if !is_valid_url(url.len(), protocol.len(), domain) {
            continue;
        }

        if protocol.is_empty() {
            // `invalidUrlWithoutProtocolPrecedingChars`: /[-_.\/]$/
            if before
                .last()
                .is_some_and(|&c| [b'-', b'_', b'.', b'/'].iter().any(|&p| u16::from(p) == c))
            {
                continue;
            }
            // Only the ASCII-only domains inside the matched host count.
            let mut ascii_end = 0;
            let mut last: Option<usize> = None;
            for m in rx.valid_ascii_domain.find_iter(domain) {
                let (s, e) = m[0].expect("group 0 is always set");
                let ascii = &domain[s..e];
                // The reference locates the match with `indexOf` from the end
                // of the previous one, not with the match index.
                let ascii_start = index_of(domain, ascii, ascii_end).unwrap_or(s);
                ascii_end = ascii_start + ascii.len();
                urls.push(UrlEntity {
                    start: start_position + ascii_start,
                    end: start_position + ascii_end,
                    url_len: ascii.len(),
                });
                last = Some(urls.len() - 1);
            }
            let Some(last) = last else { continue };
            if !path.is_empty() {
                // `url.replace(domain, lastUrl.url)`: the domain is a prefix
                // of a scheme-less URL, so only the length changes.
                let entity = &mut urls[last];
                entity.url_len = entity.url_len + url.len() - domain.len();
                entity.end = end_position;
            }
        } else {
            let mut url_len = url.len();
            // t.co links may not carry extra path characters.
            if let Some(tco) = rx.valid_tco_url.match_at(&text[url.clone()], 0) {
                let slug_len = tco[1].map_or(0, |(s, e)| e - s);
                if slug_len > MAX_TCO_SLUG_LENGTH {
                    continue;
                }
                let (s, e) = tco[0].expect("group 0 is always set");
                url_len = e - s;
                end_position = start_position + url_len;
            }
            urls.push(UrlEntity {
                start: start_position,
                end: end_position,
                url_len,
            });
        }
    }
    urls
}

fn index_of(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    (from..=hay.len().saturating_sub(needle.len())).find(|&i| hay[i..].starts_with(needle))
}

/// `isValidUrl`: the host must survive `idna.toAscii` and the whole URL
/// (with an implied "https://" when it has no scheme) must fit 4096 units.
fn is_valid_url(url_len: usize, protocol_len: usize, domain: &[u16]) -> bool {
    if !idna_to_ascii_ok(domain) {
        return false;
    }
    let protocol_len = if protocol_len == 0 {
        DEFAULT_PROTOCOL_LEN
    } else {
        protocol_len
    };
    // The reference adds (punycoded length - domain length), but its
    // `toAscii` returns the domain unchanged, so that difference is 0.
    protocol_len + url_len <= MAX_URL_LENGTH
}

/// twitter-text's `idna.toAscii(domain)` reduced to "does it return a
/// non-empty string": a host starting with "xn--" must contain an ASCII
/// domain, and every `.`-separated label must punycode to 1..=63 units.
fn idna_to_ascii_ok(domain: &[u16]) -> bool {
    let xn: Vec<u16> = "xn--".encode_utf16().collect();
    if domain.starts_with(&xn) && !url_regexes().valid_ascii_domain.is_match(domain) {
        return false;
    }
    !domain.is_empty()
        && domain
            .split(|&c| c == u16::from(b'.'))
            .all(|label| (1..=MAX_DOMAIN_LABEL_LENGTH).contains(&punycode_to_ascii_len(label)))
}

/// Length of Node's `punycode.toASCII(label)` (punycode.js 2.1.0, which is
/// what `require("punycode")` resolves to): the label is re-split on the
/// IDNA separators (. 。 ． ｡) and each part that has a unit above U+007E
/// becomes "xn--" + its RFC 3492 encoding.
fn punycode_to_ascii_len(label: &[u16]) -> usize {
    let parts: Vec<&[u16]> = label.split(|&c| matches!(c, 0x2E | 0x3002 | 0xFF0E | 0xFF61)).collect();
    let separators = parts.len() - 1;
    separators
        + parts
            .iter()
            .map(|part| {
                if part.iter().any(|&c| c > 0x7E) {
                    4 + punycode_encoded_len(&ucs2_decode(part))
                } else {
                    part.len()
                }
            })
            .sum::<usize>()
}

/// punycode.js `ucs2decode`: pairs become code points, lone surrogates stay.
fn ucs2_decode(units: &[u16]) -> Vec<u32> {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.map_or_else(|e| u32::from(e.unpaired_surrogate()), u32::from))
        .collect()
}

/// Output length of RFC 3492 Punycode `encode` (the digits themselves are
/// never needed, only how many there are).
fn punycode_encoded_len(input: &[u32]) -> usize {
    const BASE: u64 = 36;
    const T_MIN: u64 = 1;
    const T_MAX: u64 = 26;
    fn adapt(delta: u64, num_points: u64, first_time: bool) -> u64 {
        let mut delta = if first_time { delta / 700 } else { delta / 2 };
        delta += delta / num_points;
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (BASE - T_MIN + 1) * delta / (delta + 38)
    }

    let basic = input.iter().filter(|&&c| c < 0x80).count();
    let mut out = basic + usize::from(basic > 0);
    let mut n: u64 = 0x80;
    let mut delta: u64 = 0;
    let mut bias: u64 = 72;
    let mut handled = basic;
    while handled < input.len() {
        let m = input
            .iter()
            .map(|&c| u64::from(c))
            .filter(|&c| c >= n)
            .min()
            .expect("an unhandled code point remains");
        delta += (m - n) * (handled as u64 + 1);
        n = m;
        for &c in input {
            let c = u64::from(c);
            if c < n {
                delta += 1;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out += 1;
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out += 1;
                bias = adapt(delta, handled as u64 + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// A minimal backtracking regex engine with JavaScript semantics
// ---------------------------------------------------------------------------

/// Just enough of ECMAScript regular expressions (without the `u` flag) to
/// run twitter-text's and twemoji-parser's patterns with the same results as
/// V8: it matches UTF-16 code units, tries alternatives left to right,
/// quantifiers are greedy and backtrack, and `i` uses ECMAScript's
/// non-Unicode `Canonicalize` (simple upper-casing, never mapping non-ASCII
/// to ASCII).
///
/// Patterns are parsed into an AST, then compiled to instructions for a
/// backtracking machine with an explicit, heap-allocated backtrack stack,
/// so that long texts cannot overflow the thread's stack.
///
/// Supported syntax: `|`, `(…)`, `(?:…)`, `(?=…)`, `(?!…)`, `*`, `+`, `?`,
/// `^`, `$`, classes `[…]`/`[^…]` with ranges, escapes `\uXXXX`, `\xXX`
/// and identity escapes. Anything else is a programming error and panics
/// when the pattern is built (patterns are constants, covered by tests).
mod re {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    /// Capture spans in code units; index 0 is the whole match.
    pub(super) type Captures = Vec<Option<(usize, usize)>>;

    enum Node {
        Empty,
        Char(u16),
        /// One code unit from a set (a class, or a merged alternation of
        /// classes and characters), case folding already applied.
        Class(UnitSet),
        Seq(Vec<Node>),
        Alt(Vec<Node>),
        /// An alternation of plain literals (the TLD lists): same semantics
        /// as `Alt`, indexed by first unit (sorted, for binary search) so
        /// each attempt is cheap.
        Words(WordList),
        Repeat {
            node: Box<Node>,
            min: usize,
            max: Option<usize>,
        },
        Group(usize, Box<Node>),
        Look {
            negate: bool,
            node: Box<Node>,
        },
        Start,
        End,
    }

    /// A compiled pattern.
    pub(super) struct Regex {
        prog: Vec<Inst>,
        groups: usize,
        icase: bool,
    }

    impl Regex {
        pub(super) fn new(pattern: &str, icase: bool) -> Regex {
            let src: Vec<u16> = pattern.encode_utf16().collect();
            let mut p = Parser {
                src: &src,
                pos: 0,
                groups: 0,
                icase,
            };
            let root = p.alternation();
            assert!(p.pos == src.len(), "unparsed regex input at unit {}", p.pos);
            let mut prog = Vec::new();
            compile(&root, &mut prog, icase);
            prog.push(Inst::Match);
            Regex {
                prog,
                groups: p.groups + 1,
                icase,
            }
        }

        /// An anchored attempt at `pos` (the body of one `exec` step).
        pub(super) fn match_at(&self, text: &[u16], pos: usize) -> Option<Captures> {
            let vm = Machine {
                text,
                icase: self.icase,
            };
            let mut slots = vec![None; 2 * self.groups];
            let end = vm.run(&self.prog, pos, &mut slots)?;
            let mut caps: Captures = (0..self.groups)
                .map(|g| match (slots[2 * g], slots[2 * g + 1]) {
                    (Some(s), Some(e)) => Some((s, e)),
                    _ => None,
                })
                .collect();
            caps[0] = Some((pos, end));
            Some(caps)
        }

        /// `RegExp.prototype.exec` from `last_index`: the leftmost match.
        pub(super) fn exec(&self, text: &[u16], last_index: usize) -> Option<Captures> {
            (last_index..=text.len()).find_map(|pos| self.match_at(text, pos))
        }

        pub(super) fn is_match(&self, text: &[u16]) -> bool {
            self.exec(text, 0).is_some()
        }

        /// Successive matches of a `g` regex (`while (re.exec(text))`).
        pub(super) fn find_iter<'a>(&'a self, text: &'a [u16]) -> impl Iterator<Item = Captures> + 'a {
            let mut last_index = 0;
            let mut done = false;
            std::iter::from_fn(move || {
                if done || last_index > text.len() {
                    return None;
                }
                let Some(caps) = self.exec(text, last_index) else {
                    done = true;
                    return None;
                };
                let (s, e) = caps[0].expect("group 0 is always set");
                // An empty match would loop forever; step over it.
                last_index = if e == s { e + 1 } else { e };
                Some(caps)
            })
        }
    }

    /// ECMAScript `Canonicalize(ch)` for the non-Unicode `i` flag: simple
    /// upper-casing, except that a non-ASCII unit never maps into ASCII and
    /// a unit whose upper case is not a single unit maps to itself.
    fn canon_uncached(u: u16) -> u16 {
        let Some(c) = char::from_u32(u32::from(u)) else {
            return u; // surrogate code unit
        };
        let mut upper = c.to_uppercase();
        match (upper.next(), upper.next()) {
            (Some(up), None) if (up as u32) < 0x10000 && (u < 0x80 || (up as u32) >= 0x80) => up as u16,
            _ => u,
        }
    }

    /// [`canon_uncached`] for every code unit, computed once.
    fn canon(u: u16) -> u16 {
        static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
        TABLE.get_or_init(|| (0..=u16::MAX).map(canon_uncached).collect())[usize::from(u)]
    }

    /// A set of UTF-16 code units as a 64K-bit bitmap, so that matching a
    /// class (including its case folding) is a single bit test.
    #[derive(Clone)]
    struct UnitSet(Box<[u64; 1024]>);

    impl UnitSet {
        fn empty() -> UnitSet {
            UnitSet(Box::new([0; 1024]))
        }

        fn contains(&self, u: u16) -> bool {
            (self.0[usize::from(u >> 6)] >> (u & 63)) & 1 == 1
        }

        fn insert(&mut self, u: u16) {
            self.0[usize::from(u >> 6)] |= 1 << (u & 63);
        }

        /// A class `[ranges]` or `[^ranges]`. With `icase`, ECMAScript's
        /// CharacterSetMatcher applies: `u` is in the class when some member
        /// `m` has `Canonicalize(m) == Canonicalize(u)` (then negation).
        fn from_class(ranges: &[(u16, u16)], negate: bool, icase: bool) -> UnitSet {
            let mut members = UnitSet::empty();
            for &(lo, hi) in ranges {
                for u in lo..=hi {
                    members.insert(if icase { canon(u) } else { u });
                }
            }
            let mut set = UnitSet::empty();
            for u in 0..=u16::MAX {
                let key = if icase { canon(u) } else { u };
                if members.contains(key) != negate {
                    set.insert(u);
                }
            }
            set
        }

        fn union(mut self, other: &UnitSet) -> UnitSet {
            for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
                *a |= b;
            }
            self
        }
    }

    /// An ordered list of literal words (an alternation like the TLD lists),
    /// bucketed by their first one or two code units so that an attempt
    /// only compares the few words that can match, in their original order.
    #[derive(Clone)]
    struct WordList {
        /// The words, already case-folded when matching ignores case.
        words: Vec<Vec<u16>>,
        /// 2 when every word has at least two units, else 1.
        prefix_len: usize,
        /// `(prefix key, indices into words in priority order)`, sorted by key.
        buckets: Vec<(u32, Vec<usize>)>,
    }

    impl WordList {
        fn new(words: Vec<Vec<u16>>, icase: bool) -> WordList {
            let fold = |u: u16| if icase { canon(u) } else { u };
            let words: Vec<Vec<u16>> = words.into_iter().map(|w| w.into_iter().map(fold).collect()).collect();
            let prefix_len = if words.iter().all(|w| w.len() >= 2) { 2 } else { 1 };
            let mut buckets: HashMap<u32, Vec<usize>> = HashMap::new();
            for (i, w) in words.iter().enumerate() {
                buckets.entry(Self::key(&w[..prefix_len])).or_default().push(i);
            }
            let mut buckets: Vec<(u32, Vec<usize>)> = buckets.into_iter().collect();
            buckets.sort_unstable_by_key(|(k, _)| *k);
            WordList {
                words,
                prefix_len,
                buckets,
            }
        }

        fn key(prefix: &[u16]) -> u32 {
            prefix.iter().fold(0, |k, &u| (k << 16) | u32::from(u))
        }

        fn min_len(&self) -> usize {
            self.words.iter().map(Vec::len).min().unwrap_or(0)
        }

        /// The first word, from bucket index `from` on, that matches `text`
        /// at `pos`: `(bucket index, word length)`.
        fn find(&self, text: &[u16], pos: usize, from: usize, icase: bool) -> Option<(usize, usize)> {
            let fold = |u: u16| if icase { canon(u) } else { u };
            let prefix = text.get(pos..pos + self.prefix_len)?;
            let key = prefix.iter().fold(0, |k, &u| (k << 16) | u32::from(fold(u)));
            let index = self.buckets.binary_search_by_key(&key, |(k, _)| *k).ok()?;
            self.buckets[index].1.iter().enumerate().skip(from).find_map(|(i, &w)| {
                let word = &self.words[w];
                let candidate = text.get(pos..pos + word.len())?;
                word.iter()
                    .zip(candidate)
                    .all(|(&a, &b)| a == fold(b))
                    .then_some((i, word.len()))
            })
        }
    }

    /// Instructions of the backtracking machine the AST is compiled to. An
    /// explicit backtrack stack (rather than recursion) keeps stack use
    /// constant however long the text is.
    enum Inst {
        Char(u16),
        Class(UnitSet),
        /// Greedy `set{min,max}` over single units: consumes the longest
        /// run, then gives back one unit per backtrack.
        ClassRun {
            set: UnitSet,
            min: usize,
            max: Option<usize>,
        },
        /// Ordered alternation of literals; see [`Node::Words`].
        Words(WordList),
        /// Continue at the first target; on failure, at the second.
        Split(usize, usize),
        Jmp(usize),
        /// Store the position in capture slot `n` (2g = start, 2g+1 = end).
        Save(usize),
        Look {
            negate: bool,
            prog: Vec<Inst>,
        },
        /// A lookahead for one unit of `set`, or (with `or_end`) the end of
        /// the text: the common `(?=[^0-9a-zA-Z@+-]|$)` and `(?!\ufe0e)`
        /// shapes, run without a nested machine.
        LookUnit {
            negate: bool,
            set: UnitSet,
            or_end: bool,
        },
        Start,
        End,
        Match,
    }

    /// `(set, or_end)` when `node` matches exactly one unit of `set` or
    /// (if `or_end`) the empty end of text.
    fn unit_or_end(node: &Node, icase: bool) -> Option<(UnitSet, bool)> {
        match node {
            Node::Char(c) => Some((UnitSet::from_class(&[(*c, *c)], false, icase), false)),
            Node::Class(set) => Some((set.clone(), false)),
            Node::End => Some((UnitSet::empty(), true)),
            Node::Alt(branches) => branches
                .iter()
                .try_fold((UnitSet::empty(), false), |(set, end), branch| {
                    let (other, other_end) = unit_or_end(branch, icase)?;
                    Some((set.union(&other), end || other_end))
                }),
            _ => None,
        }
    }

    /// The shortest text a node can match, to reject loops whose body could
    /// match empty (ECMAScript would stop such a loop; none of our patterns
    /// has one, so the machine need not implement that rule).
    fn min_len(node: &Node) -> usize {
        match node {
            Node::Empty | Node::Look { .. } | Node::Start | Node::End => 0,
            Node::Char(_) | Node::Class(_) => 1,
            Node::Words(list) => list.min_len(),
            Node::Seq(nodes) => nodes.iter().map(min_len).sum(),
            Node::Alt(nodes) => nodes.iter().map(min_len).min().unwrap_or(0),
            Node::Repeat { node, min, .. } => min * min_len(node),
            Node::Group(_, node) => min_len(node),
        }
    }

    fn compile(node: &Node, prog: &mut Vec<Inst>, icase: bool) {
        match node {
            Node::Empty => {}
            Node::Char(c) => prog.push(Inst::Char(*c)),
            Node::Class(set) => prog.push(Inst::Class(set.clone())),
            Node::Seq(nodes) => nodes.iter().for_each(|n| compile(n, prog, icase)),
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    if i + 1 == branches.len() {
                        compile(branch, prog, icase);
                        break;
                    }
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(branch, prog, icase);
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    prog[split] = Inst::Split(split + 1, prog.len());
                }
                let end = prog.len();
                for j in jumps {
                    prog[j] = Inst::Jmp(end);
                }
            }
            Node::Words(list) => prog.push(Inst::Words(list.clone())),
            Node::Repeat { node, min, max } => {
                if let Node::Class(set) = node.as_ref() {
                    prog.push(Inst::ClassRun {
                        set: set.clone(),
                        min: *min,
                        max: *max,
                    });
                    return;
                }
                for _ in 0..*min {
                    compile(node, prog, icase);
                }
                match max {
                    None => {
                        assert!(min_len(node) > 0, "loop body can match empty");
                        let split = prog.len();
                        prog.push(Inst::Split(split + 1, 0));
                        compile(node, prog, icase);
                        prog.push(Inst::Jmp(split));
                        prog[split] = Inst::Split(split + 1, prog.len());
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(prog.len());
                            prog.push(Inst::Split(prog.len() + 1, 0));
                            compile(node, prog, icase);
                        }
                        let exit = prog.len();
                        for split in splits {
                            prog[split] = Inst::Split(split + 1, exit);
                        }
                    }
                }
            }
            Node::Group(index, inner) => {
                prog.push(Inst::Save(2 * index));
                compile(inner, prog, icase);
                prog.push(Inst::Save(2 * index + 1));
            }
            Node::Look { negate, node } => {
                if let Some((set, or_end)) = unit_or_end(node, icase) {
                    prog.push(Inst::LookUnit {
                        negate: *negate,
                        set,
                        or_end,
                    });
                    return;
                }
                let mut sub = Vec::new();
                compile(node, &mut sub, icase);
                sub.push(Inst::Match);
                prog.push(Inst::Look {
                    negate: *negate,
                    prog: sub,
                });
            }
            Node::Start => prog.push(Inst::Start),
            Node::End => prog.push(Inst::End),
        }
    }

    /// What to do when the machine backtracks.
    enum Backtrack {
        /// Resume at `pc` with the text position `pos`.
        Resume { pc: usize, pos: usize },
        /// Undo a `Save`.
        Restore { slot: usize, old: Option<usize> },
        /// A `ClassRun` at `start` that consumed `len` units may give one back.
        ClassRun {
            pc: usize,
            start: usize,
            len: usize,
            min: usize,
        },
        /// A `Words` at `pc` may try its candidates from index `next`.
        Words { pc: usize, pos: usize, next: usize },
    }

    struct Machine<'t> {
        text: &'t [u16],
        icase: bool,
    }

    impl Machine<'_> {
        fn unit_eq(&self, a: u16, b: u16) -> bool {
            a == b || (self.icase && canon(a) == canon(b))
        }

        /// The first word of the `Words` instruction at `pc`, from bucket
        /// index `from` on, that matches at `pos`: `(bucket index, length)`.
        fn next_word(&self, prog: &[Inst], pc: usize, pos: usize, from: usize) -> Option<(usize, usize)> {
            let Inst::Words(list) = &prog[pc] else {
                unreachable!("next_word on a non-Words instruction");
            };
            list.find(self.text, pos, from, self.icase)
        }

        /// Runs `prog` anchored at `start`; returns the end of the first
        /// match in priority order, with capture `slots` filled in.
        fn run(&self, prog: &[Inst], start: usize, slots: &mut [Option<usize>]) -> Option<usize> {
            let text = self.text;
            let mut stack: Vec<Backtrack> = Vec::new();
            let (mut pc, mut pos) = (0, start);
            loop {
                let advanced = match &prog[pc] {
                    Inst::Match => return Some(pos),
                    Inst::Char(c) => {
                        let ok = pos < text.len() && self.unit_eq(*c, text[pos]);
                        if ok {
                            pos += 1;
                        }
                        ok
                    }
                    Inst::Class(set) => {
                        let ok = pos < text.len() && set.contains(text[pos]);
                        if ok {
                            pos += 1;
                        }
                        ok
                    }
                    Inst::ClassRun { set, min, max } => {
                        let mut n = 0;
                        while max.is_none_or(|m| n < m) && pos + n < text.len() && set.contains(text[pos + n]) {
                            n += 1;
                        }
                        if n > *min {
                            stack.push(Backtrack::ClassRun {
                                pc: pc + 1,
                                start: pos,
                                len: n,
                                min: *min,
                            });
                        }
                        pos += n;
                        n >= *min
                    }
                    Inst::Words(_) => match self.next_word(prog, pc, pos, 0) {
                        Some((i, len)) => {
                            stack.push(Backtrack::Words { pc, pos, next: i + 1 });
                            pos += len;
                            true
                        }
                        None => false,
                    },
                    Inst::Split(first, second) => {
                        stack.push(Backtrack::Resume { pc: *second, pos });
                        pc = *first;
                        continue;
                    }
                    Inst::Jmp(target) => {
                        pc = *target;
                        continue;
                    }
                    Inst::Save(slot) => {
                        stack.push(Backtrack::Restore {
                            slot: *slot,
                            old: slots[*slot],
                        });
                        slots[*slot] = Some(pos);
                        true
                    }
                    Inst::Look { negate, prog: sub } => {
                        // Lookaheads here hold no groups: captures made
                        // inside are discarded.
                        let mut scratch = slots.to_vec();
                        self.run(sub, pos, &mut scratch).is_some() != *negate
                    }
                    Inst::LookUnit { negate, set, or_end } => {
                        let found = match text.get(pos) {
                            Some(&u) => set.contains(u),
                            None => *or_end,
                        };
                        found != *negate
                    }
                    Inst::Start => pos == 0,
                    Inst::End => pos == text.len(),
                };
                if advanced {
                    pc += 1;
                    continue;
                }
                // Backtrack to the most recent choice point.
                loop {
                    match stack.pop()? {
                        Backtrack::Restore { slot, old } => slots[slot] = old,
                        Backtrack::Resume { pc: p, pos: q } => {
                            (pc, pos) = (p, q);
                            break;
                        }
                        Backtrack::ClassRun { pc: p, start, len, min } => {
                            let len = len - 1;
                            if len > min {
                                stack.push(Backtrack::ClassRun { pc: p, start, len, min });
                            }
                            (pc, pos) = (p, start + len);
                            break;
                        }
                        Backtrack::Words { pc: p, pos: q, next } => {
                            if let Some((i, len)) = self.next_word(prog, p, q, next) {
                                stack.push(Backtrack::Words {
                                    pc: p,
                                    pos: q,
                                    next: i + 1,
                                });
                                (pc, pos) = (p + 1, q + len);
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    struct Parser<'s> {
        src: &'s [u16],
        pos: usize,
        groups: usize,
        icase: bool,
    }

    impl Parser<'_> {
        fn peek(&self) -> Option<u16> {
            self.src.get(self.pos).copied()
        }

        fn eat(&mut self, c: u8) -> bool {
            if self.peek() == Some(u16::from(c)) {
                self.pos += 1;
                true
            } else {
                false
            }
        }

        fn next(&mut self) -> u16 {
            let c = self.peek().expect("unexpected end of regex");
            self.pos += 1;
            c
        }

        fn alternation(&mut self) -> Node {
            let mut branches = vec![self.sequence()];
            while self.eat(b'|') {
                branches.push(self.sequence());
            }
            if branches.len() == 1 {
                return branches.pop().expect("one branch");
            }
            simplify_alternation(branches, self.icase)
        }

        fn sequence(&mut self) -> Node {
            let mut items = Vec::new();
            while let Some(c) = self.peek() {
                if c == u16::from(b'|') || c == u16::from(b')') {
                    break;
                }
                let atom = self.atom();
                let (min, max) = if self.eat(b'*') {
                    (0, None)
                } else if self.eat(b'+') {
                    (1, None)
                } else if self.eat(b'?') {
                    (0, Some(1))
                } else {
                    items.push(atom);
                    continue;
                };
                assert!(!matches!(self.peek(), Some(0x3F)), "lazy quantifiers are not supported");
                items.push(Node::Repeat {
                    node: Box::new(atom),
                    min,
                    max,
                });
            }
            match items.len() {
                0 => Node::Empty,
                1 => items.pop().expect("one item"),
                _ => Node::Seq(items),
            }
        }

        fn atom(&mut self) -> Node {
            let c = self.next();
            match c {
                0x28 => {
                    // '('
                    let node = if self.eat(b'?') {
                        let kind = self.next();
                        let inner = self.alternation();
                        match kind {
                            0x3A => inner, // (?:
                            0x3D => Node::Look {
                                negate: false,
                                node: Box::new(inner),
                            },
                            0x21 => Node::Look {
                                negate: true,
                                node: Box::new(inner),
                            },
                            _ => panic!("unsupported group kind"),
                        }
                    } else {
                        self.groups += 1;
                        let index = self.groups;
                        Node::Group(index, Box::new(self.alternation()))
                    };
                    assert!(self.eat(b')'), "missing ')' in regex");
                    node
                }
                0x5B => self.class(), // '['
                0x5E => Node::Start,  // '^'
                0x24 => Node::End,    // '$'
                0x5C => Node::Char(self.escape()),
                0x2E | 0x2A | 0x2B | 0x3F => panic!("unsupported regex syntax at {}", self.pos),
                _ => Node::Char(c),
            }
        }

        /// After a backslash: `\uXXXX`, `\xXX` or an identity escape.
        fn escape(&mut self) -> u16 {
            let c = self.next();
            let hex = |p: &mut Self, n: usize| {
                let digits = String::from_utf16(&p.src[p.pos..p.pos + n]).expect("ascii");
                p.pos += n;
                u16::from_str_radix(&digits, 16).expect("hex escape")
            };
            match c {
                0x75 => hex(self, 4), // u
                0x78 => hex(self, 2), // x
                _ if (c as u8 as u16 == c) && (c as u8).is_ascii_alphanumeric() => {
                    panic!("unsupported escape \\{}", c as u8 as char)
                }
                _ => c,
            }
        }

        fn class(&mut self) -> Node {
            let negate = self.eat(b'^');
            let mut ranges = Vec::new();
            loop {
                let c = self.next();
                if c == u16::from(b']') {
                    break;
                }
                let lo = if c == u16::from(b'\\') { self.escape() } else { c };
                let is_range =
                    self.peek() == Some(u16::from(b'-')) && self.src.get(self.pos + 1) != Some(&u16::from(b']'));
                if is_range {
                    self.pos += 1;
                    let c = self.next();
                    let hi = if c == u16::from(b'\\') { self.escape() } else { c };
                    assert!(lo <= hi, "bad class range");
                    ranges.push((lo, hi));
                } else {
                    ranges.push((lo, lo));
                }
            }
            Node::Class(UnitSet::from_class(&ranges, negate, self.icase))
        }
    }

    /// Rewrites an alternation into an equivalent, faster node where the
    /// order of alternatives cannot matter: all single-unit branches merge
    /// into one class; all literal branches become an indexed word list.
    fn simplify_alternation(branches: Vec<Node>, icase: bool) -> Node {
        let single_unit = |n: &Node| matches!(n, Node::Char(_) | Node::Class(_));
        if branches.iter().all(single_unit) {
            let set = branches.iter().fold(UnitSet::empty(), |set, n| match n {
                Node::Char(c) => set.union(&UnitSet::from_class(&[(*c, *c)], false, icase)),
                Node::Class(other) => set.union(other),
                _ => unreachable!("checked above"),
            });
            return Node::Class(set);
        }
        let literal = |n: &Node| -> Option<Vec<u16>> {
            match n {
                Node::Char(c) => Some(vec![*c]),
                Node::Seq(items) => items
                    .iter()
                    .map(|i| match i {
                        Node::Char(c) => Some(*c),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        };
        let words: Option<Vec<Vec<u16>>> = branches.iter().map(literal).collect();
        match words {
            Some(words) if words.len() > 8 => Node::Words(WordList::new(words, icase)),
            _ => Node::Alt(branches),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Regex;

        fn find(pattern: &str, icase: bool, text: &str) -> Option<String> {
            let units: Vec<u16> = text.encode_utf16().collect();
            let caps = Regex::new(pattern, icase).exec(&units, 0)?;
            let (s, e) = caps[0]?;
            Some(String::from_utf16(&units[s..e]).unwrap())
        }

        #[test]
        fn ordered_alternation_and_backtracking() {
            // JS picks the first alternative that leads to a match, not the
            // longest one.
            assert_eq!(find("a|ab", false, "ab").as_deref(), Some("a"));
            assert_eq!(find("(?:a|ab)c", false, "abc").as_deref(), Some("abc"));
            assert_eq!(find("a*ab", false, "aaab").as_deref(), Some("aaab"));
            assert_eq!(find("x(?!y)", false, "xyxz").as_deref(), Some("x"));
            assert_eq!(find("^b", false, "ab"), None);
            assert_eq!(find("b$", false, "abb").as_deref(), Some("b"));
        }

        #[test]
        fn ignore_case_is_ecmascript_non_unicode() {
            assert_eq!(find("[a-z]+", true, "AbC").as_deref(), Some("AbC"));
            assert_eq!(find("рф", true, "РФ").as_deref(), Some("РФ"));
            // U+017F (long s) upper-cases to ASCII 'S', which the
            // non-Unicode Canonicalize refuses, so it does not match 's'.
            assert_eq!(find("s", true, "\u{17F}"), None);
            assert_eq!(find("[^a-z]", true, "Q"), None);
        }

        #[test]
        fn words_keep_priority_order() {
            let pattern = "(?:com|co|cn|ca|cat|cb|cc|cd|ce|cf)(?=$)";
            assert_eq!(find(pattern, true, "CAT").as_deref(), Some("CAT"));
            assert_eq!(
                find("(?:co|com|cn|ca|cb|cc|cd|ce|cf)", true, "com").as_deref(),
                Some("co")
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Generated tables (node tools/gen_length_tables.js); do not edit by hand.
// ---------------------------------------------------------------------------

/// twitter-text 3.1.0 `validGTLD`, in its original (match-priority) order.
/// Public as data only: the fake X server in the tests judges lengths with
/// its own code, over the same top-level domains.
#[rustfmt::skip]
pub const GTLDS: &[&str] = &[
    "삼성", "닷컴", "닷넷", "香格里拉", "餐厅", "食品", "飞利浦", "電訊盈科", "集团", "通販", "购物", "谷歌", "诺基亚", "联通",
    "网络", "网站", "网店", "网址", "组织机构", "移动", "珠宝", "点看", "游戏", "淡马锡", "机构", "書籍", "时尚", "新闻", "政府",
    "政务", "招聘", "手表", "手机", "我爱你", "慈善", "微博", "广东", "工行", "家電", "娱乐", "天主教", "大拿", "大众汽车",
    "在线", "嘉里大酒店", "嘉里", "商标", "商店", "商城", "公益", "公司", "八卦", "健康", "信息", "佛山", "企业", "中文网",
    "中信", "世界", "ポイント", "ファッション", "セール", "ストア", "コム", "グーグル", "クラウド", "みんな", "คอม", "संगठन",
    "नेट", "कॉम", "همراه", "موقع", "موبايلي", "كوم", "كاثوليك", "عرب", "شبكة", "بيتك", "بازار",
    "العليان", "ارامكو", "اتصالات", "ابوظبي", "קום", "сайт", "рус", "орг", "онлайн", "москва",
    "ком", "католик", "дети", "zuerich", "zone", "zippo", "zip", "zero", "zara", "zappos",
    "yun", "youtube", "you", "yokohama", "yoga", "yodobashi", "yandex", "yamaxun", "yahoo",
    "yachts", "xyz", "xxx", "xperia", "xin", "xihuan", "xfinity", "xerox", "xbox", "wtf", "wtc",
    "wow", "world", "works", "work", "woodside", "wolterskluwer", "wme", "winners", "wine",
    "windows", "win", "williamhill", "wiki", "wien", "whoswho", "weir", "weibo", "wedding",
    "wed", "website", "weber", "webcam", "weatherchannel", "weather", "watches", "watch",
    "warman", "wanggou", "wang", "walter", "walmart", "wales", "vuelos", "voyage", "voto",
    "voting", "vote", "volvo", "volkswagen", "vodka", "vlaanderen", "vivo", "viva",
    "vistaprint", "vista", "vision", "visa", "virgin", "vip", "vin", "villas", "viking", "vig",
    "video", "viajes", "vet", "versicherung", "vermögensberatung", "vermögensberater",
    "verisign", "ventures", "vegas", "vanguard", "vana", "vacations", "ups", "uol", "uno",
    "university", "unicom", "uconnect", "ubs", "ubank", "tvs", "tushu", "tunes", "tui", "tube",
    "trv", "trust", "travelersinsurance", "travelers", "travelchannel", "travel", "training",
    "trading", "trade", "toys", "toyota", "town", "tours", "total", "toshiba", "toray", "top",
    "tools", "tokyo", "today", "tmall", "tkmaxx", "tjx", "tjmaxx", "tirol", "tires", "tips",
    "tiffany", "tienda", "tickets", "tiaa", "theatre", "theater", "thd", "teva", "tennis",
    "temasek", "telefonica", "telecity", "tel", "technology", "tech", "team", "tdk", "tci",
    "taxi", "tax", "tattoo", "tatar", "tatamotors", "target", "taobao", "talk", "taipei", "tab",
    "systems", "symantec", "sydney", "swiss", "swiftcover", "swatch", "suzuki", "surgery",
    "surf", "support", "supply", "supplies", "sucks", "style", "study", "studio", "stream",
    "store", "storage", "stockholm", "stcgroup", "stc", "statoil", "statefarm", "statebank",
    "starhub", "star", "staples", "stada", "srt", "srl", "spreadbetting", "spot", "sport",
    "spiegel", "space", "soy", "sony", "song", "solutions", "solar", "sohu", "software",
    "softbank", "social", "soccer", "sncf", "smile", "smart", "sling", "skype", "sky", "skin",
    "ski", "site", "singles", "sina", "silk", "shriram", "showtime", "show", "shouji",
    "shopping", "shop", "shoes", "shiksha", "shia", "shell", "shaw", "sharp", "shangrila",
    "sfr", "sexy", "sex", "sew", "seven", "ses", "services", "sener", "select", "seek",
    "security", "secure", "seat", "search", "scot", "scor", "scjohnson", "science", "schwarz",
    "schule", "school", "scholarships", "schmidt", "schaeffler", "scb", "sca", "sbs", "sbi",
    "saxo", "save", "sas", "sarl", "sapo", "sap", "sanofi", "sandvikcoromant", "sandvik",
    "samsung", "samsclub", "salon", "sale", "sakura", "safety", "safe", "saarland", "ryukyu",
    "rwe", "run", "ruhr", "rugby", "rsvp", "room", "rogers", "rodeo", "rocks", "rocher", "rmit",
    "rip", "rio", "ril", "rightathome", "ricoh", "richardli", "rich", "rexroth", "reviews",
    "review", "restaurant", "rest", "republican", "report", "repair", "rentals", "rent", "ren",
    "reliance", "reit", "reisen", "reise", "rehab", "redumbrella", "redstone", "red", "recipes",
    "realty", "realtor", "realestate", "read", "raid", "radio", "racing", "qvc", "quest",
    "quebec", "qpon", "pwc", "pub", "prudential", "pru", "protection", "property", "properties",
    "promo", "progressive", "prof", "productions", "prod", "pro", "prime", "press", "praxi",
    "pramerica", "post", "porn", "politie", "poker", "pohl", "pnc", "plus", "plumbing",
    "playstation", "play", "place", "pizza", "pioneer", "pink", "ping", "pin", "pid",
    "pictures", "pictet", "pics", "piaget", "physio", "photos", "photography", "photo", "phone",
    "philips", "phd", "pharmacy", "pfizer", "pet", "pccw", "pay", "passagens", "party", "parts",
    "partners", "pars", "paris", "panerai", "panasonic", "pamperedchef", "page", "ovh", "ott",
    "otsuka", "osaka", "origins", "orientexpress", "organic", "org", "orange", "oracle", "open",
    "ooo", "onyourside", "online", "onl", "ong", "one", "omega", "ollo", "oldnavy",
    "olayangroup", "olayan", "okinawa", "office", "off", "observer", "obi", "nyc", "ntt", "nrw",
    "nra", "nowtv", "nowruz", "now", "norton", "northwesternmutual", "nokia", "nissay",
    "nissan", "ninja", "nikon", "nike", "nico", "nhk", "ngo", "nfl", "nexus", "nextdirect",
    "next", "news", "newholland", "new", "neustar", "network", "netflix", "netbank", "net",
    "nec", "nba", "navy", "natura", "nationwide", "name", "nagoya", "nadex", "nab", "mutuelle",
    "mutual", "museum", "mtr", "mtpc", "mtn", "msd", "movistar", "movie", "mov", "motorcycles",
    "moto", "moscow", "mortgage", "mormon", "mopar", "montblanc", "monster", "money", "monash",
    "mom", "moi", "moe", "moda", "mobily", "mobile", "mobi", "mma", "mls", "mlb", "mitsubishi",
    "mit", "mint", "mini", "mil", "microsoft", "miami", "metlife", "merckmsd", "meo", "menu",
    "men", "memorial", "meme", "melbourne", "meet", "media", "med", "mckinsey", "mcdonalds",
    "mcd", "mba", "mattel", "maserati", "marshalls", "marriott", "markets", "marketing",
    "market", "map", "mango", "management", "man", "makeup", "maison", "maif", "madrid",
    "macys", "luxury", "luxe", "lupin", "lundbeck", "ltda", "ltd", "lplfinancial", "lpl",
    "love", "lotto", "lotte", "london", "lol", "loft", "locus", "locker", "loans", "loan",
    "llp", "llc", "lixil", "living", "live", "lipsy", "link", "linde", "lincoln", "limo",
    "limited", "lilly", "like", "lighting", "lifestyle", "lifeinsurance", "life", "lidl",
    "liaison", "lgbt", "lexus", "lego", "legal", "lefrak", "leclerc", "lease", "lds", "lawyer",
    "law", "latrobe", "latino", "lat", "lasalle", "lanxess", "landrover", "land", "lancome",
    "lancia", "lancaster", "lamer", "lamborghini", "ladbrokes", "lacaixa", "kyoto", "kuokgroup",
    "kred", "krd", "kpn", "kpmg", "kosher", "komatsu", "koeln", "kiwi", "kitchen", "kindle",
    "kinder", "kim", "kia", "kfh", "kerryproperties", "kerrylogistics", "kerryhotels", "kddi",
    "kaufen", "juniper", "juegos", "jprs", "jpmorgan", "joy", "jot", "joburg", "jobs", "jnj",
    "jmp", "jll", "jlc", "jio", "jewelry", "jetzt", "jeep", "jcp", "jcb", "java", "jaguar",
    "iwc", "iveco", "itv", "itau", "istanbul", "ist", "ismaili", "iselect", "irish", "ipiranga",
    "investments", "intuit", "international", "intel", "int", "insure", "insurance",
    "institute", "ink", "ing", "info", "infiniti", "industries", "inc", "immobilien", "immo",
    "imdb", "imamat", "ikano", "iinet", "ifm", "ieee", "icu", "ice", "icbc", "ibm", "hyundai",
    "hyatt", "hughes", "htc", "hsbc", "how", "house", "hotmail", "hotels", "hoteles", "hot",
    "hosting", "host", "hospital", "horse", "honeywell", "honda", "homesense", "homes",
    "homegoods", "homedepot", "holiday", "holdings", "hockey", "hkt", "hiv", "hitachi",
    "hisamitsu", "hiphop", "hgtv", "hermes", "here", "helsinki", "help", "healthcare", "health",
    "hdfcbank", "hdfc", "hbo", "haus", "hangout", "hamburg", "hair", "guru", "guitars", "guide",
    "guge", "gucci", "guardian", "group", "grocery", "gripe", "green", "gratis", "graphics",
    "grainger", "gov", "got", "gop", "google", "goog", "goodyear", "goodhands", "goo", "golf",
    "goldpoint", "gold", "godaddy", "gmx", "gmo", "gmbh", "gmail", "globo", "global", "gle",
    "glass", "glade", "giving", "gives", "gifts", "gift", "ggee", "george", "genting", "gent",
    "gea", "gdn", "gbiz", "gay", "garden", "gap", "games", "game", "gallup", "gallo", "gallery",
    "gal", "fyi", "futbol", "furniture", "fund", "fun", "fujixerox", "fujitsu", "ftr",
    "frontier", "frontdoor", "frogans", "frl", "fresenius", "free", "fox", "foundation",
    "forum", "forsale", "forex", "ford", "football", "foodnetwork", "food", "foo", "fly",
    "flsmidth", "flowers", "florist", "flir", "flights", "flickr", "fitness", "fit", "fishing",
    "fish", "firmdale", "firestone", "fire", "financial", "finance", "final", "film", "fido",
    "fidelity", "fiat", "ferrero", "ferrari", "feedback", "fedex", "fast", "fashion", "farmers",
    "farm", "fans", "fan", "family", "faith", "fairwinds", "fail", "fage", "extraspace",
    "express", "exposed", "expert", "exchange", "everbank", "events", "eus", "eurovision",
    "etisalat", "esurance", "estate", "esq", "erni", "ericsson", "equipment", "epson", "epost",
    "enterprises", "engineering", "engineer", "energy", "emerck", "email", "education", "edu",
    "edeka", "eco", "eat", "earth", "dvr", "dvag", "durban", "dupont", "duns", "dunlop", "duck",
    "dubai", "dtv", "drive", "download", "dot", "doosan", "domains", "doha", "dog", "dodge",
    "doctor", "docs", "dnp", "diy", "dish", "discover", "discount", "directory", "direct",
    "digital", "diet", "diamonds", "dhl", "dev", "design", "desi", "dentist", "dental",
    "democrat", "delta", "deloitte", "dell", "delivery", "degree", "deals", "dealer", "deal",
    "dds", "dclk", "day", "datsun", "dating", "date", "data", "dance", "dad", "dabur", "cyou",
    "cymru", "cuisinella", "csc", "cruises", "cruise", "crs", "crown", "cricket", "creditunion",
    "creditcard", "credit", "cpa", "courses", "coupons", "coupon", "country", "corsica", "coop",
    "cool", "cookingchannel", "cooking", "contractors", "contact", "consulting", "construction",
    "condos", "comsec", "computer", "compare", "company", "community", "commbank", "comcast",
    "com", "cologne", "college", "coffee", "codes", "coach", "clubmed", "club", "cloud",
    "clothing", "clinique", "clinic", "click", "cleaning", "claims", "cityeats", "city",
    "citic", "citi", "citadel", "cisco", "circle", "cipriani", "church", "chrysler", "chrome",
    "christmas", "chloe", "chintai", "cheap", "chat", "chase", "charity", "channel", "chanel",
    "cfd", "cfa", "cern", "ceo", "center", "ceb", "cbs", "cbre", "cbn", "cba", "catholic",
    "catering", "cat", "casino", "cash", "caseih", "case", "casa", "cartier", "cars", "careers",
    "career", "care", "cards", "caravan", "car", "capitalone", "capital", "capetown", "canon",
    "cancerresearch", "camp", "camera", "cam", "calvinklein", "call", "cal", "cafe", "cab",
    "bzh", "buzz", "buy", "business", "builders", "build", "bugatti", "budapest", "brussels",
    "brother", "broker", "broadway", "bridgestone", "bradesco", "box", "boutique", "bot",
    "boston", "bostik", "bosch", "boots", "booking", "book", "boo", "bond", "bom", "bofa",
    "boehringer", "boats", "bnpparibas", "bnl", "bmw", "bms", "blue", "bloomberg", "blog",
    "blockbuster", "blanco", "blackfriday", "black", "biz", "bio", "bingo", "bing", "bike",
    "bid", "bible", "bharti", "bet", "bestbuy", "best", "berlin", "bentley", "beer", "beauty",
    "beats", "bcn", "bcg", "bbva", "bbt", "bbc", "bayern", "bauhaus", "basketball", "baseball",
    "bargains", "barefoot", "barclays", "barclaycard", "barcelona", "bar", "bank", "band",
    "bananarepublic", "banamex", "baidu", "baby", "azure", "axa", "aws", "avianca", "autos",
    "auto", "author", "auspost", "audio", "audible", "audi", "auction", "attorney", "athleta",
    "associates", "asia", "asda", "arte", "art", "arpa", "army", "archi", "aramco", "arab",
    "aquarelle", "apple", "app", "apartments", "aol", "anz", "anquan", "android", "analytics",
    "amsterdam", "amica", "amfam", "amex", "americanfamily", "americanexpress", "alstom",
    "alsace", "ally", "allstate", "allfinanz", "alipay", "alibaba", "alfaromeo", "akdn",
    "airtel", "airforce", "airbus", "aigo", "aig", "agency", "agakhan", "africa", "afl",
    "afamilycompany", "aetna", "aero", "aeg", "adult", "ads", "adac", "actor", "active", "aco",
    "accountants", "accountant", "accenture", "academy", "abudhabi", "abogado", "able", "abc",
    "abbvie", "abbott", "abb", "abarth", "aarp", "aaa", "onion",
];

/// twitter-text 3.1.0 `validCCTLD`, in its original (match-priority) order.
/// Public as data only, like [`GTLDS`].
#[rustfmt::skip]
pub const CCTLDS: &[&str] = &[
    "한국", "香港", "澳門", "新加坡", "台灣", "台湾", "中國", "中国", "გე", "ລາວ", "ไทย", "ලංකා", "ഭാരതം",
    "ಭಾರತ", "భారత్", "சிங்கப்பூர்", "இலங்கை", "இந்தியா", "ଭାରତ", "ભારત", "ਭਾਰਤ", "ভাৰত", "ভারত",
    "বাংলা", "भारोत", "भारतम्", "भारत", "ڀارت", "پاکستان", "موريتانيا", "مليسيا", "مصر", "قطر",
    "فلسطين", "عمان", "عراق", "سورية", "سودان", "تونس", "بھارت", "بارت", "ایران", "امارات",
    "المغرب", "السعودية", "الجزائر", "البحرين", "الاردن", "հայ", "қаз", "укр", "срб", "рф",
    "мон", "мкд", "ею", "бел", "бг", "ευ", "ελ", "zw", "zm", "za", "yt", "ye", "ws", "wf", "vu",
    "vn", "vi", "vg", "ve", "vc", "va", "uz", "uy", "us", "um", "uk", "ug", "ua", "tz", "tw",
    "tv", "tt", "tr", "tp", "to", "tn", "tm", "tl", "tk", "tj", "th", "tg", "tf", "td", "tc",
    "sz", "sy", "sx", "sv", "su", "st", "ss", "sr", "so", "sn", "sm", "sl", "sk", "sj", "si",
    "sh", "sg", "se", "sd", "sc", "sb", "sa", "rw", "ru", "rs", "ro", "re", "qa", "py", "pw",
    "pt", "ps", "pr", "pn", "pm", "pl", "pk", "ph", "pg", "pf", "pe", "pa", "om", "nz", "nu",
    "nr", "np", "no", "nl", "ni", "ng", "nf", "ne", "nc", "na", "mz", "my", "mx", "mw", "mv",
    "mu", "mt", "ms", "mr", "mq", "mp", "mo", "mn", "mm", "ml", "mk", "mh", "mg", "mf", "me",
    "md", "mc", "ma", "ly", "lv", "lu", "lt", "ls", "lr", "lk", "li", "lc", "lb", "la", "kz",
    "ky", "kw", "kr", "kp", "kn", "km", "ki", "kh", "kg", "ke", "jp", "jo", "jm", "je", "it",
    "is", "ir", "iq", "io", "in", "im", "il", "ie", "id", "hu", "ht", "hr", "hn", "hm", "hk",
    "gy", "gw", "gu", "gt", "gs", "gr", "gq", "gp", "gn", "gm", "gl", "gi", "gh", "gg", "gf",
    "ge", "gd", "gb", "ga", "fr", "fo", "fm", "fk", "fj", "fi", "eu", "et", "es", "er", "eh",
    "eg", "ee", "ec", "dz", "do", "dm", "dk", "dj", "de", "cz", "cy", "cx", "cw", "cv", "cu",
    "cr", "co", "cn", "cm", "cl", "ck", "ci", "ch", "cg", "cf", "cd", "cc", "ca", "bz", "by",
    "bw", "bv", "bt", "bs", "br", "bq", "bo", "bn", "bm", "bl", "bj", "bi", "bh", "bg", "bf",
    "be", "bd", "bb", "ba", "az", "ax", "aw", "au", "at", "as", "ar", "aq", "ao", "an", "am",
    "al", "ai", "ag", "af", "ae", "ad", "ac",
];

/// twemoji-parser 11.0.2 emoji regex (UTF-16 code-unit syntax), one top-level
/// alternative per entry; they are joined with `|` in their original order.
#[rustfmt::skip]
const TWEMOJI_ALTERNATIVES: &[&str] = &[
    r"(?:\ud83d[\udc68\udc69])(?:\ud83c[\udffb-\udfff])?\u200d(?:\u2695\ufe0f|\u2696\ufe0f|\u2708\ufe0f|\ud83c[\udf3e\udf73\udf93\udfa4\udfa8\udfeb\udfed]|\ud83d[\udcbb\udcbc\udd27\udd2c\ude80\ude92]|\ud83e[\uddb0-\uddb3])",
    r"(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75]|\u26f9)((?:\ud83c[\udffb-\udfff]|\ufe0f)\u200d[\u2640\u2642]\ufe0f)",
    r"(?:\ud83c[\udfc3\udfc4\udfca]|\ud83d[\udc6e\udc71\udc73\udc77\udc81\udc82\udc86\udc87\ude45-\ude47\ude4b\ude4d\ude4e\udea3\udeb4-\udeb6]|\ud83e[\udd26\udd35\udd37-\udd39\udd3d\udd3e\uddb8\uddb9\uddd6-\udddd])(?:\ud83c[\udffb-\udfff])?\u200d[\u2640\u2642]\ufe0f",
    r"(?:\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc8b\u200d\ud83d\udc68|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d\udc8b\u200d\ud83d[\udc68\udc69]|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc68|\ud83d\udc68\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d[\udc68\udc69]|\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83c\udff3\ufe0f\u200d\ud83c\udf08|\ud83c\udff4\u200d\u2620\ufe0f|\ud83d\udc41\u200d\ud83d\udde8|\ud83d\udc68\u200d\ud83d[\udc66\udc67]|\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83d\udc6f\u200d\u2640\ufe0f|\ud83d\udc6f\u200d\u2642\ufe0f|\ud83e\udd3c\u200d\u2640\ufe0f|\ud83e\udd3c\u200d\u2642\ufe0f|\ud83e\uddde\u200d\u2640\ufe0f|\ud83e\uddde\u200d\u2642\ufe0f|\ud83e\udddf\u200d\u2640\ufe0f|\ud83e\udddf\u200d\u2642\ufe0f)",
    r"[#*0-9]\ufe0f?\u20e3",
    r"(?:[©®\u2122\u265f]\ufe0f)",
    r"(?:\ud83c[\udc04\udd70\udd71\udd7e\udd7f\ude02\ude1a\ude2f\ude37\udf21\udf24-\udf2c\udf36\udf7d\udf96\udf97\udf99-\udf9b\udf9e\udf9f\udfcd\udfce\udfd4-\udfdf\udff3\udff5\udff7]|\ud83d[\udc3f\udc41\udcfd\udd49\udd4a\udd6f\udd70\udd73\udd76-\udd79\udd87\udd8a-\udd8d\udda5\udda8\uddb1\uddb2\uddbc\uddc2-\uddc4\uddd1-\uddd3\udddc-\uddde\udde1\udde3\udde8\uddef\uddf3\uddfa\udecb\udecd-\udecf\udee0-\udee5\udee9\udef0\udef3]|[\u203c\u2049\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23ed-\u23ef\u23f1\u23f2\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e\u2611\u2614\u2615\u2618\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640\u2642\u2648-\u2653\u2660\u2663\u2665\u2666\u2668\u267b\u267f\u2692-\u2697\u2699\u269b\u269c\u26a0\u26a1\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26cf\u26d1\u26d3\u26d4\u26e9\u26ea\u26f0-\u26f5\u26f8\u26fa\u26fd\u2702\u2708\u2709\u270f\u2712\u2714\u2716\u271d\u2721\u2733\u2734\u2744\u2747\u2757\u2763\u2764\u27a1\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299])(?:\ufe0f|(?!\ufe0e))",
    r"(?:(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75\udd90]|[\u261d\u26f7\u26f9\u270c\u270d])(?:\ufe0f|(?!\ufe0e))|(?:\ud83c[\udf85\udfc2-\udfc4\udfc7\udfca]|\ud83d[\udc42\udc43\udc46-\udc50\udc66-\udc69\udc6e\udc70-\udc78\udc7c\udc81-\udc83\udc85-\udc87\udcaa\udd7a\udd95\udd96\ude45-\ude47\ude4b-\ude4f\udea3\udeb4-\udeb6\udec0\udecc]|\ud83e[\udd18-\udd1c\udd1e\udd1f\udd26\udd30-\udd39\udd3d\udd3e\uddb5\uddb6\uddb8\uddb9\uddd1-\udddd]|[\u270a\u270b]))(?:\ud83c[\udffb-\udfff])?",
    r"(?:\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc65\udb40\udc6e\udb40\udc67\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f|\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc77\udb40\udc6c\udb40\udc73\udb40\udc7f|\ud83c\udde6\ud83c[\udde8-\uddec\uddee\uddf1\uddf2\uddf4\uddf6-\uddfa\uddfc\uddfd\uddff]|\ud83c\udde7\ud83c[\udde6\udde7\udde9-\uddef\uddf1-\uddf4\uddf6-\uddf9\uddfb\uddfc\uddfe\uddff]|\ud83c\udde8\ud83c[\udde6\udde8\udde9\uddeb-\uddee\uddf0-\uddf5\uddf7\uddfa-\uddff]|\ud83c\udde9\ud83c[\uddea\uddec\uddef\uddf0\uddf2\uddf4\uddff]|\ud83c\uddea\ud83c[\udde6\udde8\uddea\uddec\udded\uddf7-\uddfa]|\ud83c\uddeb\ud83c[\uddee-\uddf0\uddf2\uddf4\uddf7]|\ud83c\uddec\ud83c[\udde6\udde7\udde9-\uddee\uddf1-\uddf3\uddf5-\uddfa\uddfc\uddfe]|\ud83c\udded\ud83c[\uddf0\uddf2\uddf3\uddf7\uddf9\uddfa]|\ud83c\uddee\ud83c[\udde8-\uddea\uddf1-\uddf4\uddf6-\uddf9]|\ud83c\uddef\ud83c[\uddea\uddf2\uddf4\uddf5]|\ud83c\uddf0\ud83c[\uddea\uddec-\uddee\uddf2\uddf3\uddf5\uddf7\uddfc\uddfe\uddff]|\ud83c\uddf1\ud83c[\udde6-\udde8\uddee\uddf0\uddf7-\uddfb\uddfe]|\ud83c\uddf2\ud83c[\udde6\udde8-\udded\uddf0-\uddff]|\ud83c\uddf3\ud83c[\udde6\udde8\uddea-\uddec\uddee\uddf1\uddf4\uddf5\uddf7\uddfa\uddff]|\ud83c\uddf4\ud83c\uddf2|\ud83c\uddf5\ud83c[\udde6\uddea-\udded\uddf0-\uddf3\uddf7-\uddf9\uddfc\uddfe]|\ud83c\uddf6\ud83c\udde6|\ud83c\uddf7\ud83c[\uddea\uddf4\uddf8\uddfa\uddfc]|\ud83c\uddf8\ud83c[\udde6-\uddea\uddec-\uddf4\uddf7-\uddf9\uddfb\uddfd-\uddff]|\ud83c\uddf9\ud83c[\udde6\udde8\udde9\uddeb-\udded\uddef-\uddf4\uddf7\uddf9\uddfb\uddfc\uddff]|\ud83c\uddfa\ud83c[\udde6\uddec\uddf2\uddf3\uddf8\uddfe\uddff]|\ud83c\uddfb\ud83c[\udde6\udde8\uddea\uddec\uddee\uddf3\uddfa]|\ud83c\uddfc\ud83c[\uddeb\uddf8]|\ud83c\uddfd\ud83c\uddf0|\ud83c\uddfe\ud83c[\uddea\uddf9]|\ud83c\uddff\ud83c[\udde6\uddf2\uddfc]|\ud83c[\udccf\udd8e\udd91-\udd9a\udde6-\uddff\ude01\ude32-\ude36\ude38-\ude3a\ude50\ude51\udf00-\udf20\udf2d-\udf35\udf37-\udf7c\udf7e-\udf84\udf86-\udf93\udfa0-\udfc1\udfc5\udfc6\udfc8\udfc9\udfcf-\udfd3\udfe0-\udff0\udff4\udff8-\udfff]|\ud83d[\udc00-\udc3e\udc40\udc44\udc45\udc51-\udc65\udc6a-\udc6d\udc6f\udc79-\udc7b\udc7d-\udc80\udc84\udc88-\udca9\udcab-\udcfc\udcff-\udd3d\udd4b-\udd4e\udd50-\udd67\udda4\uddfb-\ude44\ude48-\ude4a\ude80-\udea2\udea4-\udeb3\udeb7-\udebf\udec1-\udec5\uded0-\uded2\udeeb\udeec\udef4-\udef9]|\ud83e[\udd10-\udd17\udd1d\udd20-\udd25\udd27-\udd2f\udd3a\udd3c\udd40-\udd45\udd47-\udd70\udd73-\udd76\udd7a\udd7c-\udda2\uddb4\uddb7\uddc0-\uddc2\uddd0\uddde-\uddff]|[\u23e9-\u23ec\u23f0\u23f3\u267e\u26ce\u2705\u2728\u274c\u274e\u2753-\u2755\u2795-\u2797\u27b0\u27bf\ue50a])",
    r"\ufe0f",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn reports_url_byte_ranges_in_the_normalized_text() {
        let text = "予約 https://example.com/a?b=1 と example.co.jp/x";
        let r = weighted_length(text);
        let urls: Vec<&str> = r.urls.iter().map(|u| &r.normalized[u.clone()]).collect();
        assert_eq!(urls, ["https://example.com/a?b=1", "example.co.jp/x"]);
        // 予約 (4) + 2 spaces + と (2) + 2 URLs (46)
        assert_eq!(r.weighted, 4 + 3 + 2 + 46);
        assert!(r.valid);
    }

    #[test]
    fn normalizes_to_nfc_before_counting() {
        let r = weighted_length("\u{304B}\u{3099}");
        assert_eq!(r.normalized, "\u{304C}");
        assert_eq!(r.weighted, 2);
    }

    #[test]
    fn limits_and_validity() {
        assert_eq!(weighted_length(&"a".repeat(280)).weighted, 280);
        assert!(weighted_length(&"a".repeat(280)).valid);
        assert!(!weighted_length(&"a".repeat(281)).valid);
        assert!(!weighted_length(&"あ".repeat(141)).valid);
        assert!(!weighted_length("").valid);
        assert!(!weighted_length("ok \u{FEFF}").valid);
        assert_eq!(weighted_length(&"a".repeat(7)).permillage, 25);
    }

    #[test]
    fn url_extraction_follows_twitter_text() {
        let spans = |s: &str| -> Vec<(usize, usize, usize)> {
            extract_urls(&utf16(s))
                .into_iter()
                .map(|u| (u.start, u.end, u.url_len))
                .collect()
        };
        assert_eq!(spans("see example.com"), [(4, 15, 11)]);
        // The query of a scheme-less URL without a path is not part of it.
        assert_eq!(spans("example.com?q=1"), [(0, 11, 11)]);
        assert_eq!(spans("これはexample.comです"), [(3, 14, 11)]);
        assert_eq!(spans("https://t.co/abc/def"), [(0, 16, 16)]);
        assert_eq!(spans("_example.com"), []);
        assert_eq!(spans("日本語.jp"), []);
        assert_eq!(spans("no dots here"), []);
    }

    #[test]
    fn emoji_sequences_count_as_one_entity() {
        let lens = |s: &str| -> Vec<usize> { extract_emoji(&utf16(s)).into_iter().map(|(_, len)| len).collect() };
        assert_eq!(lens("👨‍👩‍👧‍👦"), [11]);
        assert_eq!(lens("👍🏽"), [4]);
        assert_eq!(lens("1️⃣"), [3]);
        assert_eq!(lens("🇯🇵"), [4]);
        assert_eq!(lens("❤️"), [2]);
        // Text presentation selector: not an emoji.
        assert_eq!(lens("❤\u{FE0E}"), Vec::<usize>::new());
    }

    #[test]
    fn punycode_lengths_match_rfc3492_samples() {
        let len = |s: &str| punycode_to_ascii_len(&utf16(s));
        assert_eq!(len("日本"), "xn--wgv71a".len());
        assert_eq!(len("bücher"), "xn--bcher-kva".len());
        assert_eq!(len("münchen"), "xn--mnchen-3ya".len());
        assert_eq!(len("example"), 7);
        assert_eq!(len("例え。テスト"), len("例え") + 1 + len("テスト"));
    }
}
