//! Data that must not be published: `personal-data` (e-mail addresses and
//! phone numbers unless allow-listed as official, and the 12-digit My
//! Number, whose check digit tells it from other numbers) and `secret`
//! (API keys, tokens, private keys). A secret's finding never repeats the
//! secret: the store and the owner's note keep only its first characters.

use std::sync::LazyLock;

use regex::Regex;

use super::{Context, Finding, Rule, RuleSetup};
use crate::config::{RuleOptions, Severity};

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}",
    )
    .expect("valid")
});

/// Japanese numbers (0 then 9 or 10 more digits, with optional separators
/// and an area code in parentheses) and international ones (+ and a country
/// code). Group 1 is the number; the boundaries keep it from being the
/// middle of a longer number. Digit counts are checked after matching.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^0-9+\-])(\(?0[0-9]{1,4}\)?[-\s]?[0-9]{1,4}[-\s]?[0-9]{3,4}|\+[1-9][0-9]{0,2}[-\s]?(?:\(0?[0-9]{1,4}\)[-\s]?)?[0-9]{1,4}(?:[-\s]?[0-9]{1,4}){1,4})(?:$|[^0-9\-])",
    )
    .expect("valid")
});

/// Twelve digits, optionally grouped 4-4-4, not part of a longer number
/// (so a 13-digit corporate number never matches).
static TWELVE_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^0-9\-])([0-9]{4}[-\s]?[0-9]{4}[-\s]?[0-9]{4})(?:$|[^0-9\-])").expect("valid"));

/// Whether twelve digits are a valid My Number (個人番号): the last digit
/// is the check digit of the first eleven, weights 6,5,4,3,2,7,6,5,4,3,2,
/// r = sum mod 11, check = 0 if r ≤ 1 else 11 − r.
pub fn is_my_number(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 12 || digits.chars().any(|c| !c.is_ascii_digit()) {
        return false;
    }
    const WEIGHTS: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let r = d.iter().zip(WEIGHTS).map(|(a, w)| a * w).sum::<u32>() % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    d[11] == check
}

/// A phone number's digits, with +81 turned into the domestic 0, so that
/// "+81-3-0000-0000" and "03-0000-0000" are the same allow-list entry.
fn phone_key(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    match (text.trim_start().starts_with('+'), digits.strip_prefix("81")) {
        (true, Some(rest)) => format!("0{rest}"),
        _ => digits,
    }
}

pub struct PersonalData {
    setup: RuleSetup,
    allowed_emails: Vec<String>,
    allowed_phones: Vec<String>,
}

impl PersonalData {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> PersonalData {
        let (emails, phones): (Vec<&String>, Vec<&String>) = options.allow.iter().partition(|a| a.contains('@'));
        PersonalData {
            setup,
            allowed_emails: emails.iter().map(|e| super::fold::fold_str(e.trim())).collect(),
            allowed_phones: phones.iter().map(|p| phone_key(&super::fold::fold_str(p))).collect(),
        }
    }
}

impl Rule for PersonalData {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, folded) in cx.folded.iter().enumerate() {
            let text = folded.text.as_str();
            let original = &cx.draft.parts[i].text;
            let mut push = |span: (usize, usize), ja: String, en: String, sja: &str, sen: &str, severity: Severity| {
                let (s, e) = folded.original_span(span.0, span.1);
                let m = &original[s..e];
                let message = self.setup.message(cx.lang, m, ja, en);
                let suggestion = self.setup.suggest(cx.lang, sja, sen);
                let mut f = self.setup.finding(i, s, e, m, message, suggestion);
                f.severity = f.severity.max(severity);
                out.push(f);
            };
            for m in EMAIL.find_iter(text) {
                if self.allowed_emails.iter().any(|a| a == m.as_str()) {
                    continue;
                }
                push(
                    (m.start(), m.end()),
                    format!(
                        "メールアドレス「{}」が含まれています。公式の窓口以外のアドレスは個人情報です",
                        m.as_str()
                    ),
                    format!(
                        "\"{}\" is an e-mail address; unless it is an official contact it is personal data",
                        m.as_str()
                    ),
                    "公式の問い合わせ窓口に置き換えてください（許可済みの窓口は設定の allow に登録します）。",
                    "Use the official contact address instead (official ones are listed under allow).",
                    self.setup.severity,
                );
            }
            let mut my_numbers = Vec::new();
            for c in TWELVE_DIGITS.captures_iter(text) {
                let g = c.get(1).expect("group 1 always takes part");
                let digits: String = g.as_str().chars().filter(char::is_ascii_digit).collect();
                if is_my_number(&digits) {
                    my_numbers.push((g.start(), g.end()));
                    push(
                        (g.start(), g.end()),
                        "個人番号（マイナンバー）と思われる12桁の番号が含まれています。マイナンバーの公開は法律で禁じられています".to_string(),
                        "this 12-digit number is a valid My Number (Japan's individual number), which the law forbids publishing".to_string(),
                        "番号を削除してください。",
                        "Remove the number.",
                        Severity::Block,
                    );
                }
            }
            for c in PHONE.captures_iter(text) {
                let g = c.get(1).expect("group 1 always takes part");
                if my_numbers.iter().any(|(s, e)| g.start() < *e && *s < g.end()) {
                    continue;
                }
                let n = g.as_str().chars().filter(char::is_ascii_digit).count();
                let international = g.as_str().starts_with('+');
                let plausible = if international {
                    (8..=15).contains(&n)
                } else {
                    (10..=11).contains(&n)
                };
                if !plausible || self.allowed_phones.contains(&phone_key(g.as_str())) {
                    continue;
                }
                push(
                    (g.start(), g.end()),
                    format!(
                        "電話番号「{}」が含まれています。公式の窓口以外の番号は個人情報です",
                        g.as_str()
                    ),
                    format!(
                        "\"{}\" is a phone number; unless it is an official line it is personal data",
                        g.as_str()
                    ),
                    "公式の窓口の番号に置き換えてください（許可済みの番号は設定の allow に登録します）。",
                    "Use the official number instead (official ones are listed under allow).",
                    self.setup.severity,
                );
            }
        }
    }
}

/// Credentials by their well-known shapes.
static SECRETS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        (
            "an AWS access key id",
            r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?-u:\b)",
        ),
        (
            "an AWS secret access key",
            r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}"#,
        ),
        ("a GitHub token", r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,255}(?-u:\b)"),
        ("a GitHub token", r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,255}(?-u:\b)"),
        ("a Slack token", r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}"),
        (
            "a Slack webhook URL",
            r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
        ),
        (
            "a private key",
            // With its body and end line, so that output masking hides all of it.
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s+[A-Za-z0-9+/=]{8,})*(?:\s+-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
        ),
        ("a Google API key", r"(?-u:\b)AIza[0-9A-Za-z_-]{35}"),
        ("a Stripe secret key", r"(?-u:\b)(?:sk|rk)_live_[0-9A-Za-z]{24,}"),
        ("an API secret key", r"(?-u:\b)sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}"),
        (
            "a JSON Web Token",
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        ),
        (
            "a password",
            r"(?i)(?:(?-u:\b)password|(?-u:\b)passwd|パスワード)\s*[:=：]\s*[!-~]{6,}",
        ),
    ]
    .into_iter()
    .map(|(what, p)| (what, Regex::new(p).expect("valid secret pattern")))
    .collect()
});

/// Where `text` holds something shaped like a credential (the `secret`
/// rule's patterns), as non-overlapping byte spans, whatever the rulebooks
/// say: for output that must never repeat one (`herald preview`).
pub fn secret_spans(text: &str) -> Vec<(usize, usize)> {
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for (_, re) in SECRETS.iter() {
        for m in re.find_iter(text) {
            if !seen.iter().any(|(s, e)| m.start() < *e && *s < m.end()) {
                seen.push((m.start(), m.end()));
            }
        }
    }
    seen.sort();
    seen
}

/// Enough of a secret to find it in the file, not enough to use it.
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}… ({} characters, hidden)", secret.chars().count())
}

pub struct Secret {
    setup: RuleSetup,
}

impl Secret {
    pub fn new(setup: RuleSetup) -> Secret {
        Secret { setup }
    }
}

impl Rule for Secret {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            let mut seen: Vec<(usize, usize)> = Vec::new();
            for (what, re) in SECRETS.iter() {
                for m in re.find_iter(&part.text) {
                    if seen.iter().any(|(s, e)| m.start() < *e && *s < m.end()) {
                        continue;
                    }
                    seen.push((m.start(), m.end()));
                    let shown = redact(m.as_str());
                    let message = self.setup.message(
                        cx.lang,
                        &shown,
                        format!("認証情報（{what}）と思われる文字列があります。公開すると悪用されます"),
                        format!("this looks like {what}; once published it will be abused"),
                    );
                    let suggestion = self.setup.suggest(
                        cx.lang,
                        "削除したうえで、その鍵やトークンを直ちに無効化・再発行してください。",
                        "Remove it, and revoke and rotate the credential now: it may already have been copied.",
                    );
                    out.push(self.setup.finding(i, m.start(), m.end(), &shown, message, suggestion));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn my_number_check_digit() {
        // 12345678901 → sum = 6+10+12+12+10+42+42+40+36+0+2 = 212; 212 mod 11 = 3; check 8.
        assert!(is_my_number("123456789018"));
        assert!(!is_my_number("123456789017"));
        // r ≤ 1 gives check digit 0: 00000000001 → sum 2 → r 2 → 9; 10000000000 → 6 → 5.
        assert!(is_my_number("100000000005"));
        assert!(!is_my_number("12345678901"));
    }

    #[test]
    fn phone_keys_unify_country_code_and_separators() {
        assert_eq!(phone_key("+81-3-0000-0000"), phone_key("03-0000-0000"));
        assert_eq!(phone_key("0120 000 000"), "0120000000");
    }

    #[test]
    fn redaction_keeps_four_characters() {
        assert_eq!(redact("AKIAABCDEFGHIJKLMNOP"), "AKIA… (20 characters, hidden)");
    }
}
