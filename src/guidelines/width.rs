//! `width`: half-width katakana (ｶﾀｶﾅ) and full-width letters and digits
//! (ＡＢＣ１２３) are legacy forms that break search and look careless; the
//! finding carries the fix (`herald check --fix` applies it).

use unicode_normalization::UnicodeNormalization;

use super::{Context, Finding, Rule, RuleSetup};

/// Half-width katakana and their marks (U+FF61–U+FF9F).
fn half_width_kana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// Full-width ASCII letters and digits.
fn full_width_alnum(c: char) -> bool {
    matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
}

/// One run of legacy-width characters and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidthFix {
    pub start: usize,
    pub end: usize,
    pub kana: bool,
    pub replacement: String,
}

/// The runs of half-width katakana and of full-width letters/digits in `text`.
pub fn width_fixes(text: &str) -> Vec<WidthFix> {
    let mut fixes = Vec::new();
    let mut run: Option<(usize, bool)> = None;
    let close = |run: &mut Option<(usize, bool)>, end: usize, fixes: &mut Vec<WidthFix>| {
        if let Some((start, kana)) = run.take() {
            let original = &text[start..end];
            fixes.push(WidthFix {
                start,
                end,
                kana,
                replacement: original.nfkc().collect(),
            });
        }
    };
    for (at, c) in text.char_indices() {
        let class = if half_width_kana(c) {
            Some(true)
        } else if full_width_alnum(c) {
            Some(false)
        } else {
            None
        };
        match (class, run) {
            (Some(k), Some((_, rk))) if k == rk => {}
            (Some(k), _) => {
                close(&mut run, at, &mut fixes);
                run = Some((at, k));
            }
            (None, _) => close(&mut run, at, &mut fixes),
        }
    }
    close(&mut run, text.len(), &mut fixes);
    fixes
}

pub struct Width {
    setup: RuleSetup,
}

impl Width {
    pub fn new(setup: RuleSetup) -> Width {
        Width { setup }
    }
}

impl Rule for Width {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for fix in width_fixes(&part.text) {
                let m = &part.text[fix.start..fix.end];
                let r = &fix.replacement;
                let (ja, en) = if fix.kana {
                    (
                        format!("「{m}」は半角カタカナです。全角の「{r}」と書いてください"),
                        format!("\"{m}\" is half-width katakana; write \"{r}\""),
                    )
                } else {
                    (
                        format!("「{m}」は全角英数字です。半角の「{r}」と書いてください"),
                        format!("\"{m}\" uses full-width letters or digits; write \"{r}\""),
                    )
                };
                let message = self.setup.message(cx.lang, m, ja, en);
                let suggestion = Some(
                    cx.lang
                        .say(format!("「{r}」と書いてください。"), format!("Write \"{r}\".")),
                );
                let mut f = self.setup.finding(i, fix.start, fix.end, m, message, suggestion);
                f.replacement = Some(fix.replacement);
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_fixed_with_nfkc() {
        let fixes = width_fixes("ｶﾞｲﾄﾞを見て。ＡＢＣ１２３とabc。");
        assert_eq!(fixes.len(), 2);
        assert_eq!(fixes[0].replacement, "ガイド");
        assert!(fixes[0].kana);
        assert_eq!(fixes[1].replacement, "ABC123");
    }
}
