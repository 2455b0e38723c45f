//! What a post talks about: confidentiality markings, financial results
//! (and the quiet period before earnings), legal matters, offensive words
//! and sensitive topics. Each is a term list with a built-in default
//! (config/terms/*.txt, compiled in) that rulebooks extend or replace.

use chrono::{DateTime, Utc};

use super::terms::TermMatcher;
use super::{Context, Finding, Rule, RuleSetup};
use crate::config::RuleOptions;

/// The built-in list of a term rule (one term a line, `#` comments).
pub fn defaults_for(id: &str) -> &'static str {
    match id {
        "confidential-marker" => include_str!("../../config/terms/confidential-marker.txt"),
        "financial-topic" => include_str!("../../config/terms/financial-topic.txt"),
        "legal-topic" => include_str!("../../config/terms/legal-topic.txt"),
        "offensive" => include_str!("../../config/terms/offensive.txt"),
        "sensitive-topic" => include_str!("../../config/terms/sensitive-topic.txt"),
        _ => "",
    }
}

/// The terms of a list file.
pub fn term_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The quiet period before each earnings announcement: from `window`
/// before the announcement until it is made, a financial topic is a
/// `financial-topic` finding of severity block (the `quiet-period` section
/// sets the windows and may word the message; it has no findings of its own).
pub struct QuietPeriod {
    setup: RuleSetup,
    tz: chrono_tz::Tz,
    windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Four weeks is common in Japan; many companies use six.
pub const DEFAULT_QUIET_WINDOW_DAYS: i64 = 28;

impl QuietPeriod {
    pub fn new(setup: RuleSetup, options: &RuleOptions, tz: chrono_tz::Tz) -> QuietPeriod {
        let window = options
            .window
            .and_then(|w| chrono::Duration::from_std(w).ok())
            .unwrap_or_else(|| chrono::Duration::days(DEFAULT_QUIET_WINDOW_DAYS));
        QuietPeriod {
            setup,
            tz,
            windows: options.earnings.iter().map(|e| (*e - window, *e)).collect(),
        }
    }

    /// The announcement whose quiet period contains `t` (start inclusive,
    /// the announcement itself exclusive).
    pub fn announcement_at(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.windows.iter().find(|(s, e)| *s <= t && t < *e).map(|(_, e)| *e)
    }
}

/// A topic rule: its terms, what to say, and (financial-topic) the quiet period.
pub struct Topic {
    setup: RuleSetup,
    matcher: TermMatcher,
    quiet: Option<QuietPeriod>,
}

impl Topic {
    pub fn new(setup: RuleSetup, terms: &[String], quiet: Option<QuietPeriod>) -> Topic {
        Topic {
            setup,
            matcher: TermMatcher::new(terms),
            quiet,
        }
    }

    fn says(&self, m: &str) -> (String, String, &'static str, &'static str) {
        match self.setup.id.as_str() {
            "confidential-marker" => (
                format!("「{m}」は機密情報の表示です。機密情報は投稿できません"),
                format!("\"{m}\" marks confidential material, which must never be posted"),
                "機密に当たる内容を削除してください。公開できる範囲は広報部に確認してください。",
                "Remove the confidential content; ask Corporate Communications what can be said publicly.",
            ),
            "financial-topic" => (
                format!("「{m}」は業績・財務に関する話題です。公表はIR（投資家向け広報）の担当です"),
                format!("\"{m}\" touches on financial results, which only Investor Relations announces"),
                "IRの公式発表へのリンクに置き換えるか、管理者の承認を待ってください。",
                "Link to the official IR release instead, or wait for an admin's approval.",
            ),
            "legal-topic" => (
                format!("「{m}」は法的な案件に関する語です。投稿前に法務部の確認が必要です"),
                format!("\"{m}\" concerns a legal matter; Legal must see the post first"),
                "法務部の確認を受けてから投稿してください。",
                "Have Legal review the post before it goes out.",
            ),
            "offensive" => (
                format!("「{m}」は侮辱的・差別的または卑わいな表現です。公式アカウントでは使えません"),
                format!("\"{m}\" is insulting, discriminatory or obscene; an official account never uses it"),
                "表現を削除するか、言い換えてください。",
                "Remove or rephrase it.",
            ),
            "sensitive-topic" => (
                format!("「{m}」は災害・差別・宗教・政治など慎重な扱いが必要な話題です"),
                format!("\"{m}\" touches on a sensitive topic (disaster, discrimination, religion or politics)"),
                "読み手がどう受け取るかを考えて、もう一度読み直してください。",
                "Reread the post as its readers will; make sure it cannot be read as making light of the topic.",
            ),
            _ => (
                format!("「{m}」は注意が必要な語句です"),
                format!("\"{m}\" is on the rule's list"),
                "",
                "",
            ),
        }
    }
}

impl Rule for Topic {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let quiet = self
            .quiet
            .as_ref()
            .and_then(|q| q.announcement_at(cx.when).map(|at| (q, at)));
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for hit in self.matcher.find(&cx.folded[i]) {
                let m = &part.text[hit.start..hit.end];
                let term = self.matcher.term(hit.term);
                let (ja, en, sja, sen) = self.says(m);
                let finding = match quiet {
                    Some((q, at)) => {
                        let day = super::names::instant(at, q.tz);
                        let message = q.setup.message(
                            cx.lang,
                            term,
                            format!("{ja}。現在は{day}の決算発表前の沈黙期間（クワイエットピリオド）中のため、業績に関する投稿はできません"),
                            format!("{en}; it is the quiet period before the earnings announcement on {day}, when nothing about results may be posted"),
                        );
                        let suggestion = q.setup.suggest(
                            cx.lang,
                            "決算発表の後に投稿するか、業績に触れない内容にしてください。",
                            "Post after the announcement, or leave the results out.",
                        );
                        // A financial-topic finding, blocked: the quiet period is
                        // the windows (and their wording), not a rule of its own.
                        let mut f = self.setup.finding(i, hit.start, hit.end, m, message, suggestion);
                        f.severity = crate::config::Severity::Block;
                        f
                    }
                    None => {
                        let message = self.setup.message(cx.lang, term, ja, en);
                        let suggestion = self.setup.suggest(cx.lang, sja, sen);
                        self.setup.finding(i, hit.start, hit.end, m, message, suggestion)
                    }
                };
                out.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_list_has_terms_and_no_blank_entries() {
        for id in [
            "confidential-marker",
            "financial-topic",
            "legal-topic",
            "offensive",
            "sensitive-topic",
        ] {
            let terms = term_list(defaults_for(id));
            assert!(terms.len() >= 10, "{id}: {}", terms.len());
            assert!(terms.iter().all(|t| !t.trim().is_empty() && !t.starts_with('#')));
        }
    }
}
