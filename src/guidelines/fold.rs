//! Folding for term matching: NFKC (which also unifies full- and half-width
//! forms) and lower case, with a map back to the original text so that a
//! finding's span points at what the owner wrote.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// Folded text and, for each of its bytes, the original byte range it came from.
#[derive(Debug, Clone)]
pub struct Folded {
    pub text: String,
    origin: Vec<(usize, usize)>,
}

impl Folded {
    /// The original byte range of the folded range `start..end`.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.origin[start].0;
        let e = self.origin[end.max(start + 1) - 1].1;
        (s, e)
    }
}

/// Folds a string alone (terms), without the map.
pub fn fold_str(text: &str) -> String {
    fold(text).text
}

/// Whether `c` folds to something that attaches to the previous character
/// (a combining mark, or a half-width voiced sound mark such as ﾞ).
fn attaches(c: char) -> bool {
    // Most characters are not marks; skip normalising them.
    if c.is_ascii() {
        return false;
    }
    std::iter::once(c)
        .nfkc()
        .next()
        .is_some_and(|f| canonical_combining_class(f) != 0)
}

/// Folds `original` cluster by cluster: a character with the marks that
/// follow it is normalised together, so half-width ｶﾞ becomes ガ.
pub fn fold(original: &str) -> Folded {
    let mut text = String::with_capacity(original.len());
    let mut origin = Vec::with_capacity(original.len());
    let mut chars = original.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if !attaches(next) {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        let before = text.len();
        for f in original[start..end].nfkc() {
            for l in f.to_lowercase() {
                text.push(l);
            }
        }
        origin.extend(std::iter::repeat_n((start, end), text.len() - before));
    }
    Folded { text, origin }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case_fold_to_ascii_lower_case() {
        assert_eq!(fold_str("ＩＢＭ　Ｃｏｎｆｉｄｅｎｔｉａｌ"), "ibm confidential");
    }

    #[test]
    fn half_width_kana_with_voiced_marks_fold_to_one_character() {
        assert_eq!(fold_str("ｶﾞｲﾄﾞ"), "ガイド");
    }

    #[test]
    fn spans_map_back_to_the_original() {
        let original = "これはＣｏｎｆｉｄｅｎｔｉａｌです";
        let f = fold(original);
        let start = f.text.find("confidential").unwrap();
        let (s, e) = f.original_span(start, start + "confidential".len());
        assert_eq!(&original[s..e], "Ｃｏｎｆｉｄｅｎｔｉａｌ");
    }
}
