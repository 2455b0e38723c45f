//! What output may show of a secret (DESIGN.md invariant 6). The `secret`
//! rule finds API keys and tokens in a post (its patterns apply here even
//! where no rulebook enables it); every place that prints the
//! post's text back (the excerpt under `herald check`, SARIF snippets,
//! `herald show`) prints it masked: the first four characters stay, so an
//! owner can find the key in the file, and each further ASCII character
//! becomes `*`. Masking keeps every byte offset, line and column, so carets
//! and regions still point at the right place. The stored text is unchanged.

use super::Finding;

/// The rule id whose spans are masked.
pub const SECRET_RULE: &str = "secret";

/// Characters of a secret left readable.
const KEPT: usize = 4;

/// The spans of part `part` that hold a secret.
fn secret_spans(findings: &[Finding], part: usize) -> Vec<(usize, usize)> {
    findings
        .iter()
        .filter(|f| f.part == part && f.rule == SECRET_RULE)
        .map(|f| (f.start, f.end))
        .collect()
}

/// `text` (part `part` of a post) with every secret span masked: those the
/// `secret` rule reported, and anything shaped like a credential even where
/// no rulebook enables the rule.
pub fn mask_part(text: &str, part: usize, findings: &[Finding]) -> String {
    let mut spans = secret_spans(findings, part);
    spans.extend(super::personal::secret_spans(text));
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    mask_spans(text, &merged)
}

/// `text` with whatever is shaped like a credential masked, found by the
/// `secret` rule's patterns whether or not a rulebook enables the rule.
pub fn mask_credentials(text: &str) -> String {
    mask_spans(text, &super::personal::secret_spans(text))
}

/// `text` with the byte spans `spans` masked.
fn mask_spans(text: &str, spans: &[(usize, usize)]) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    // Characters seen so far in the span being masked (linear: a private
    // key block can be long).
    let mut current: Option<((usize, usize), usize)> = None;
    for (at, c) in text.char_indices() {
        if current.is_some_and(|((_, e), _)| at >= e) {
            current = None;
        }
        if current.is_none() {
            current = spans.iter().find(|(s, e)| *s <= at && at < *e).map(|span| (*span, 0));
        }
        match &mut current {
            Some((_, seen)) => {
                // Only ASCII is replaced, by one ASCII byte: offsets stay valid.
                out.push(if c.is_ascii_graphic() && *seen >= KEPT { '*' } else { c });
                *seen += 1;
            }
            None => out.push(c),
        }
    }
    out
}

/// Every part of a post, masked.
pub fn mask_parts(texts: &[String], findings: &[Finding]) -> Vec<String> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| mask_part(t, i, findings))
        .collect()
}

/// Other rules' findings inside a secret (a prh spelling inside a token, an
/// address inside a password) must not quote it either: their matched text
/// is masked, their messages quote the masked text, and they offer no
/// mechanical fix (`--fix` never edits a secret).
pub fn hide_in_other_findings(findings: &mut [Finding], texts: &[&str]) {
    let masked: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| mask_part(t, i, findings))
        .collect();
    for f in findings.iter_mut().filter(|f| f.rule != SECRET_RULE) {
        let Some(masked_part) = masked.get(f.part) else {
            continue;
        };
        let Some(shown) = masked_part.get(f.start..f.end) else {
            continue;
        };
        if shown == &texts[f.part][f.start..f.end] {
            continue;
        }
        let original = &texts[f.part][f.start..f.end];
        f.message = f.message.replace(original, shown);
        f.suggestion = f.suggestion.take().map(|s| s.replace(original, shown));
        f.matched = if f.matched.contains(original) {
            f.matched.replace(original, shown)
        } else {
            shown.to_string()
        };
        f.replacement = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Severity;

    fn finding(rule: &str, start: usize, end: usize, matched: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Block,
            part: 0,
            start,
            end,
            line: 1,
            column: start + 1,
            matched: matched.into(),
            message: format!("\"{matched}\" is wrong"),
            suggestion: None,
            replacement: Some("X".into()),
        }
    }

    #[test]
    fn masking_keeps_four_characters_and_every_offset() {
        let text = "鍵は AKIAIOSFODNN7EXAMPLE です";
        let start = text.find('A').unwrap();
        let f = finding(SECRET_RULE, start, start + 20, "AKIA… (20 characters, hidden)");
        let masked = mask_part(text, 0, &[f]);
        assert_eq!(masked, "鍵は AKIA**************** です");
        assert_eq!(masked.len(), text.len());
        // Without findings, the patterns still find it; plain text is untouched.
        assert_eq!(
            mask_parts(&["a".into(), text.into()], &[]),
            vec!["a", "鍵は AKIA**************** です"]
        );
    }

    #[test]
    fn credentials_are_masked_without_a_rulebook() {
        assert_eq!(
            mask_credentials("key AKIAIOSFODNN7EXAMPLE, ok"),
            "key AKIA****************, ok"
        );
        assert_eq!(mask_credentials("nothing here"), "nothing here");
    }

    #[test]
    fn non_ascii_labels_and_line_ends_survive() {
        let text = "パスワード：hunter22\nnext";
        let f = finding(
            SECRET_RULE,
            0,
            text.find('\n').unwrap(),
            "パスワ… (15 characters, hidden)",
        );
        assert_eq!(mask_part(text, 0, &[f]), "パスワード：********\nnext");
    }

    #[test]
    fn adjacent_and_long_spans_are_masked_in_linear_time() {
        let key = format!("-----BEGIN PRIVATE KEY-----\n{}", "QUJD\n".repeat(200_000));
        let text = format!("ab{key}");
        let f = finding(SECRET_RULE, 2, text.len(), "----… (hidden)");
        let g = finding(SECRET_RULE, 0, 2, "ab");
        let masked = mask_part(&text, 0, &[g, f]);
        assert!(masked.starts_with("ab----*"), "{}", &masked[..20]);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("QUJD"));
    }

    #[test]
    fn findings_inside_a_secret_quote_it_masked_and_offer_no_fix() {
        let text = "ghp_github0123456789abcdefghij0123456789";
        let mut findings = vec![
            finding(SECRET_RULE, 0, text.len(), "ghp_… (40 characters, hidden)"),
            finding("proofreading", 4, 10, "github"),
        ];
        hide_in_other_findings(&mut findings, &[text]);
        assert_eq!(findings[1].matched, "******");
        assert_eq!(findings[1].message, "\"******\" is wrong");
        assert_eq!(findings[1].replacement, None);
        // The secret's own finding is as the rule made it.
        assert_eq!(findings[0].matched, "ghp_… (40 characters, hidden)");
    }
}
