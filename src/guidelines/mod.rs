//! The rule engine. A rulebook names rules and their severities; an account
//! follows the company baseline plus its own rulebooks; every rule looks at a
//! [`Draft`] and reports [`Finding`]s; the worst severity is the [`Verdict`].
//!
//! This module knows nothing of folders, HTTP or the store: it takes text
//! and settings and returns findings. Adding a rule is adding one file with a
//! type that implements [`Rule`], and one arm in [`build_rule`].

pub mod fold;
mod length;
pub mod prh;
mod proofreading;
mod terms;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{Account, Config, Severity};
use crate::queue::{Kind, Part};
use crate::source::Position;

/// One rule's observation on one post.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    /// The thread part, 0-based.
    pub part: usize,
    /// UTF-8 byte offsets into the part's text.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (in characters) of `start` in the part's text.
    pub line: usize,
    pub column: usize,
    pub matched: String,
    pub message: String,
    pub suggestion: Option<String>,
}

/// The worst severity among the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Hold,
    Block,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Hold => "hold",
            Verdict::Block => "block",
        }
    }

    fn of(severity: Severity) -> Verdict {
        match severity {
            Severity::Warn => Verdict::Warn,
            Severity::Hold => Verdict::Hold,
            Severity::Block => Verdict::Block,
        }
    }
}

/// How a platform measures text; implemented in `platform/`.
pub trait TextMetric: Send + Sync {
    fn platform(&self) -> &str;
    fn length(&self, text: &str) -> usize;
    fn limit(&self) -> usize;
}

/// What the rules look at: a post's content and the context of the check.
pub struct Draft<'a> {
    pub parts: &'a [Part],
    pub kind: Kind,
    pub language: Option<&'a str>,
    pub labels: &'a [String],
    pub approvals: &'a [String],
    /// The instant the check is made for (time-dependent rules use it).
    pub now: DateTime<Utc>,
    pub metric: &'a dyn TextMetric,
}

impl<'a> Draft<'a> {
    /// The draft of a parsed post file.
    pub fn of(post: &'a crate::queue::Post, now: DateTime<Utc>, metric: &'a dyn TextMetric) -> Draft<'a> {
        Draft {
            parts: &post.parts,
            kind: post.kind,
            language: post.language.as_deref(),
            labels: &post.labels,
            approvals: &post.approvals,
            now,
            metric,
        }
    }
}

/// A rule: looks at a draft, adds findings.
pub trait Rule: Send + Sync {
    fn id(&self) -> &str;
    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Finding>);
}

/// A rule's merged settings for one account: the severity, message and
/// suggestion every rule needs to make findings.
#[derive(Debug, Clone)]
pub struct RuleSetup {
    pub id: String,
    pub severity: Severity,
    pub message: Option<String>,
    pub suggestion: Option<String>,
}

impl RuleSetup {
    /// A finding of this rule; line and column are filled in by the engine.
    pub fn finding(
        &self,
        part: usize,
        start: usize,
        end: usize,
        matched: &str,
        message: String,
        suggestion: Option<String>,
    ) -> Finding {
        Finding {
            rule: self.id.clone(),
            severity: self.severity,
            part,
            start,
            end,
            line: 0,
            column: 0,
            matched: matched.to_string(),
            message,
            suggestion,
        }
    }
}

/// The result of checking one post.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

/// The rules one account follows, built once per config load.
pub struct Guidelines {
    rules: Vec<Box<dyn Rule>>,
}

/// A rule's merged inputs across the rulebooks an account follows.
#[derive(Default)]
struct Inputs {
    terms: Vec<String>,
    dictionaries: Vec<std::sync::Arc<prh::Dictionary>>,
}

/// Builds the rule for an id. Rules with prh dictionaries proofread, rules
/// with terms are term lists, whatever their id.
fn build_rule(setup: RuleSetup, inputs: Inputs) -> Option<Box<dyn Rule>> {
    match setup.id.as_str() {
        "length" => Some(Box::new(length::Length::new(setup))),
        _ if !inputs.dictionaries.is_empty() => {
            Some(Box::new(proofreading::Proofreading::new(setup, inputs.dictionaries)))
        }
        _ if !inputs.terms.is_empty() => Some(Box::new(terms::Terms::new(setup, &inputs.terms))),
        _ => None,
    }
}

impl Guidelines {
    /// The baseline and the account's rulebooks merged: a rule listed in
    /// several takes the highest severity and the union of their terms.
    pub fn for_account(config: &Config, account: &Account) -> Guidelines {
        let mut merged: BTreeMap<&str, (RuleSetup, Inputs)> = BTreeMap::new();
        for book in config.rulebooks_for(account) {
            for (id, settings) in &book.rules {
                let entry = merged.entry(id.as_str()).or_insert_with(|| {
                    (
                        RuleSetup {
                            id: id.clone(),
                            severity: settings.severity,
                            message: None,
                            suggestion: None,
                        },
                        Inputs::default(),
                    )
                });
                entry.0.severity = entry.0.severity.max(settings.severity);
                if entry.0.message.is_none() {
                    entry.0.message = settings.message.clone();
                }
                if entry.0.suggestion.is_none() {
                    entry.0.suggestion = settings.suggestion.clone();
                }
                for t in &settings.terms {
                    if !entry.1.terms.contains(t) {
                        entry.1.terms.push(t.clone());
                    }
                }
                for d in &settings.dictionaries {
                    if !entry.1.dictionaries.iter().any(|e| std::sync::Arc::ptr_eq(e, d)) {
                        entry.1.dictionaries.push(d.clone());
                    }
                }
            }
        }
        let rules = merged
            .into_values()
            .filter_map(|(setup, inputs)| build_rule(setup, inputs))
            .collect();
        Guidelines { rules }
    }

    /// The ids of the rules in force, for listings.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id()).collect()
    }

    /// Runs every rule; findings come sorted by part and position.
    pub fn check(&self, draft: &Draft<'_>) -> Report {
        let mut findings = Vec::new();
        for rule in &self.rules {
            rule.check(draft, &mut findings);
        }
        for f in &mut findings {
            let p = Position::of_offset(&draft.parts[f.part].text, f.start);
            f.line = p.line;
            f.column = p.column;
        }
        findings.sort_by(|a, b| (a.part, a.start, &a.rule).cmp(&(b.part, b.start, &b.rule)));
        let verdict = findings
            .iter()
            .map(|f| Verdict::of(f.severity))
            .max()
            .unwrap_or(Verdict::Pass);
        Report { verdict, findings }
    }
}
