//! The fake X server's own reading of X's weighted length (twitter-text
//! config v3: 280, CJK and emoji weigh 2, every URL 23), written apart from
//! herald's `platform::x::length` so that the fake can disagree with herald:
//! a counting bug in herald makes X's "too long" 400 appear here instead of
//! being approved by the same code. Only the list of top-level domains is
//! shared (data: `length::GTLDS`/`CCTLDS`, generated from twitter-text).
//!
//! It is simpler than twitter-text and says where: `tests/x_fake.rs` checks
//! it against every golden vector in `tests/data/x/length_vectors.json` and
//! names the few it is known to count differently ([`KNOWN_DIFFERENCES`]).

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// Golden vectors this reading counts differently from twitter-text, and
/// why. Any other difference fails `tests/x_fake.rs`.
pub const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "\u{1F9D1}\u{200D}\u{1F91D}\u{200D}\u{1F9D1}",
        "a ZWJ sequence newer than twemoji 11: twitter-text counts its parts, the fake joins it",
    ),
    ("\u{1F408}\u{200D}\u{2B1B}", "a ZWJ sequence newer than twemoji 11"),
    (
        "\u{2764}\u{FE0F}\u{200D}\u{1F525}",
        "a ZWJ sequence newer than twemoji 11",
    ),
    (
        "\u{1F600}\u{200D}\u{1F600}",
        "not an emoji sequence at all: the fake joins any two emoji with a ZWJ",
    ),
];

/// X's limit.
pub const LIMIT: usize = 280;
const URL_WEIGHT: usize = 23;
const MAX_URL: usize = 4096;
const MAX_LABEL: usize = 63;

/// X's weighted length of `text`.
pub fn weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let urls = url_ranges_nfc(&text);
    let emoji = emoji_ranges(&text, &urls);
    let mut total = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some(u) = urls.iter().find(|u| u.start == i) {
            total += URL_WEIGHT * 100;
            i = u.end;
            continue;
        }
        if let Some(e) = emoji.iter().find(|e| e.start == i) {
            total += 200;
            i = e.end;
            continue;
        }
        let c = text[i..].chars().next().expect("in bounds");
        total += weight(c);
        i += c.len_utf8();
    }
    total / 100
}

/// The URLs of `text` (after NFC) as byte ranges of the NFC text, and that
/// text.
pub fn urls(text: &str) -> (String, Vec<Range<usize>>) {
    let text: String = text.nfc().collect();
    let urls = url_ranges_nfc(&text);
    (text, urls)
}

/// twitter-text v3's weights: these ranges weigh 100, the rest 200.
fn weight(c: char) -> usize {
    match c as u32 {
        0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247 => 100,
        _ => 200,
    }
}

// --- emoji --------------------------------------------------------------

fn regional(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007F}').contains(&c)
}

/// Code points shown as emoji by default (they stand alone as one).
fn emoji_presentation(c: char) -> bool {
    let u = c as u32;
    (0x1F000..=0x1FAFF).contains(&u) && !regional(c) && !skin_tone(c)
}

/// Code points that become emoji with U+FE0F (symbols below the emoji planes).
fn emoji_with_selector(c: char) -> bool {
    matches!(c as u32,
        0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA | 0x231A..=0x23FF
        | 0x24C2 | 0x25AA..=0x25FE | 0x2600..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55
        | 0x3030 | 0x303D | 0x3297 | 0x3299)
}

/// Whether two regional indicators make a flag: the pair names a country
/// (approximated by the country-code top-level domains).
fn flag(a: char, b: char) -> bool {
    let letter = |c: char| char::from(b'a' + (c as u32 - 0x1F1E6) as u8);
    let code: String = [letter(a), letter(b)].iter().collect();
    let code = if code == "gb" { "uk".to_string() } else { code };
    herald::platform::x::length::CCTLDS.contains(&code.as_str())
}

/// One emoji starting at byte `i`, if there is one: its end.
fn emoji_at(text: &str, i: usize) -> Option<usize> {
    let mut it = text[i..].char_indices().map(|(o, c)| (i + o, c)).peekable();
    let (_, first) = it.next()?;
    let next = |it: &mut std::iter::Peekable<_>| -> Option<(usize, char)> { it.peek().copied() };
    let mut end = i + first.len_utf8();
    if regional(first) {
        let (o, second) = next(&mut it)?;
        return (regional(second) && flag(first, second)).then_some(o + second.len_utf8());
    }
    let keycap_base = first.is_ascii_digit() || first == '#' || first == '*';
    let mut is_emoji = emoji_presentation(first);
    // Modifiers of one element: a selector, a keycap, a skin tone, tags.
    let modifiers = |it: &mut std::iter::Peekable<_>, end: &mut usize, is_emoji: &mut bool, base: char| {
        while let Some((o, c)) = next(it) {
            let ok = match c {
                '\u{FE0F}' if emoji_with_selector(base) || emoji_presentation(base) || keycap_base => true,
                '\u{20E3}' if keycap_base => true,
                c if skin_tone(c) && (emoji_presentation(base) || emoji_with_selector(base)) => true,
                c if tag(c) && (emoji_presentation(base) || *is_emoji) => true,
                _ => false,
            };
            if !ok {
                break;
            }
            *is_emoji = true;
            *end = o + c.len_utf8();
            it.next();
        }
    };
    modifiers(&mut it, &mut end, &mut is_emoji, first);
    if !is_emoji {
        return None;
    }
    // ZWJ sequences.
    while let Some((_, '\u{200D}')) = next(&mut it) {
        let mut look = it.clone();
        look.next();
        match look.peek().copied() {
            Some((o, c)) if emoji_presentation(c) || emoji_with_selector(c) => {
                look.next();
                let mut e = o + c.len_utf8();
                let mut joined = true;
                modifiers(&mut look, &mut e, &mut joined, c);
                end = e;
                it = look;
            }
            _ => break,
        }
    }
    Some(end)
}

fn emoji_ranges(text: &str, urls: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if let Some(u) = urls.iter().find(|u| u.start == i) {
            i = u.end;
            continue;
        }
        if let Some(end) = emoji_at(text, i) {
            out.push(i..end);
            i = end;
        } else {
            i += text[i..].chars().next().expect("in bounds").len_utf8();
        }
    }
    out
}

// --- URLs -----------------------------------------------------------------

fn latin_accent(c: char) -> bool {
    matches!(c as u32, 0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x24F | 0x1E00..=0x1EFF)
}

fn cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{4FF}').contains(&c)
}

/// What may not stand right before a URL.
fn blocks_url_before(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '＠' | '$' | '#' | '＃' | '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// A character of a domain label: with a scheme, any letter or digit
/// (internationalised names); without, ASCII and accented Latin only.
fn label_char(c: char, scheme: bool) -> bool {
    c.is_ascii_alphanumeric()
        || c == '-'
        || latin_accent(c)
        || (scheme && c.is_alphanumeric())
        || (!scheme && cyrillic(c))
}

fn is_tld(s: &str) -> bool {
    let lower = s.to_lowercase();
    herald::platform::x::length::GTLDS
        .iter()
        .chain(herald::platform::x::length::CCTLDS)
        .any(|t| *t == lower)
}

/// RFC 3492 punycode: the length of a label's `xn--` form.
fn punycode_len(label: &str) -> usize {
    let input: Vec<u32> = label.chars().map(|c| c as u32).collect();
    let basic = input.iter().filter(|&&c| c < 0x80).count();
    let (base, tmin, tmax, skew, damp) = (36u32, 1u32, 26u32, 38u32, 700u32);
    let adapt = |mut delta: u32, points: u32, first: bool| {
        delta = if first { delta / damp } else { delta / 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((base - tmin) * tmax) / 2 {
            delta /= base - tmin;
            k += base;
        }
        k + (base - tmin + 1) * delta / (delta + skew)
    };
    let mut out = basic + usize::from(basic > 0);
    let (mut n, mut delta, mut bias) = (0x80u32, 0u32, 72u32);
    let mut h = basic as u32;
    while (h as usize) < input.len() {
        let m = *input.iter().filter(|&&c| c >= n).min().expect("a code point left");
        delta += (m - n) * (h + 1);
        n = m;
        for &c in &input {
            if c < n {
                delta += 1;
            }
            if c == n {
                let mut q = delta;
                let mut k = base;
                loop {
                    let t = if k <= bias {
                        tmin
                    } else if k >= bias + tmax {
                        tmax
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out += 1;
                    q = (q - t) / (base - t);
                    k += base;
                }
                out += 1;
                bias = adapt(delta, h + 1, h as usize == basic);
                delta = 0;
                h += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    out + 4
}

/// Whether a domain label is one X takes: at most 63 characters as ASCII
/// (an internationalised label as its `xn--` form), and an `xn--` label is ASCII.
fn label_ok(label: &str) -> bool {
    if label.is_empty() || label.len() > MAX_LABEL && label.is_ascii() {
        return false;
    }
    if label.to_ascii_lowercase().starts_with("xn--") && !label.is_ascii() {
        return false;
    }
    label.is_ascii() || punycode_len(label) <= MAX_LABEL
}

/// The domain starting at `i`: its end, when it ends in a known TLD not
/// followed by a letter, digit, `@`, `+` or `-`.
fn domain_end(text: &str, i: usize, scheme: bool) -> Option<usize> {
    // Labels and the dots between them (an ideographic full stop counts).
    let mut labels: Vec<Range<usize>> = Vec::new();
    let mut start = i;
    let mut at = i;
    for (o, c) in text[i..].char_indices() {
        let o = i + o;
        // Any letter here; without a scheme only the top-level domain may
        // be more than accented Latin (`example.みんな`), checked below.
        if label_char(c, true) {
            at = o + c.len_utf8();
        } else if (c == '.' || (scheme && c == '。')) && at == o && o > start {
            labels.push(start..o);
            start = o + c.len_utf8();
            at = start;
        } else {
            break;
        }
    }
    if at > start {
        labels.push(start..at);
    }
    // The longest domain whose last label begins with a TLD.
    for k in (1..labels.len()).rev() {
        let label = &text[labels[k].clone()];
        for (end, _) in label.char_indices().skip(1).chain([(label.len(), ' ')]) {
            let tld = &label[..end];
            let after = text[labels[k].start + end..].chars().next();
            let ends_well = after.is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-')));
            let names_ok = labels[..k]
                .iter()
                .all(|l| label_ok(&text[l.clone()]) && text[l.clone()].chars().all(|c| label_char(c, scheme)));
            if is_tld(tld) && ends_well && names_ok {
                return Some(labels[k].start + end);
            }
        }
    }
    None
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!*';:=+,.$/%#[]-_~|&@".contains(c) || latin_accent(c) || cyrillic(c)
}

fn path_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "=_#/+-".contains(c) || latin_accent(c) || cyrillic(c)
}

fn query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'@();:&=+$/%#[]-_.,~|".contains(c)
}

fn query_end_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_&=#/".contains(c)
}

/// Consumes characters from `at` while `ok` (parentheses only balanced),
/// then backs off to the last character `ends` accepts.
fn run(text: &str, at: usize, ok: fn(char) -> bool, ends: fn(char) -> bool) -> usize {
    let mut depth = 0i32;
    let mut last_good = at;
    for (o, c) in text[at..].char_indices() {
        let o = at + o;
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ')' => break,
            c if !ok(c) => break,
            _ => {}
        }
        if (ends(c) || c == ')') && depth == 0 {
            last_good = o + c.len_utf8();
        }
    }
    last_good
}

/// The end of a query starting at `at` (`?` and at least one character
/// a query may end with), or `at` when there is none.
fn query(text: &str, at: usize) -> usize {
    if !text[at..].starts_with('?') {
        return at;
    }
    let end = run(text, at + 1, query_char, query_end_char);
    if end > at + 1 {
        end
    } else {
        at
    }
}

fn url_at(text: &str, i: usize) -> Option<usize> {
    let rest = &text[i..];
    let lower: String = rest.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        0
    };
    let before = text[..i].chars().next_back();
    if before.is_some_and(blocks_url_before) {
        return None;
    }
    if scheme_len == 0 && before.is_some_and(|c| matches!(c, '-' | '_' | '.' | '/')) {
        return None;
    }
    let host = i + scheme_len;
    let first = text[host..].chars().next()?;
    if !label_char(first, scheme_len > 0) || first == '-' {
        return None;
    }
    let mut end = domain_end(text, host, scheme_len > 0)?;
    if scheme_len > 0 && text[end..].starts_with(':') {
        let digits = text[end + 1..].chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    let domain = text[host..end].to_ascii_lowercase();
    if text[end..].starts_with('/') {
        if scheme_len > 0 && domain == "t.co" {
            let slug = text[end + 1..].chars().take_while(char::is_ascii_alphanumeric).count();
            return (slug > 0 && slug <= 40)
                .then_some(end + 1 + slug)
                .filter(|e| e - i <= MAX_URL);
        }
        end = run(text, end, path_char, path_end_char).max(end + 1);
        end = query(text, end);
    } else if scheme_len > 0 {
        end = query(text, end);
    }
    (end - i <= MAX_URL).then_some(end)
}

/// The URLs of an NFC text, as byte ranges.
fn url_ranges_nfc(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match url_at(text, i) {
            Some(end) => {
                out.push(i..end);
                i = end;
            }
            None => i += text[i..].chars().next().expect("in bounds").len_utf8(),
        }
    }
    out
}
