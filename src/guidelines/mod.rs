//! The rule engine. A rulebook names rules and their severities; an account
//! follows the company baseline plus its own rulebooks; every rule looks at a
//! [`Draft`] and reports [`Finding`]s; the worst severity is the [`Verdict`].
//!
//! This module knows nothing of folders, HTTP or the store: it takes text
//! and settings and returns findings. Adding a rule is adding a type that
//! implements [`Rule`] (one file per rule family), a line in
//! [`catalog::BUILT_IN`] and one arm in [`build_rule`].
//!
//! Messages are in the post's language (Japanese for a `ja` post, English
//! otherwise) and cite the guideline the rule comes from, so that an owner
//! can fix the post alone.

pub mod catalog;
mod content;
pub mod fold;
mod form;
mod length;
mod links;
mod names;
mod personal;
pub mod prh;
mod proofreading;
pub mod redact;
mod terms;
mod timing;
pub mod width;

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
    /// The exact text that replaces `start..end` when the fix is safe to
    /// apply mechanically (prh and width findings): `herald check --fix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
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
    /// When the post is to be published, if one instant is known (a
    /// one-shot post); embargoes, quiet periods, approvals and dates are
    /// judged at that instant (or `now` if it is earlier or unknown).
    pub at: Option<DateTime<Utc>>,
    /// Whether a disaster hold is declared (the control state provides it).
    pub disaster_hold: bool,
    /// The texts of the account's other posts within the duplicate rule's
    /// window (see [`Guidelines::duplicate_window`]); the daemon fills it
    /// from the store.
    pub recent: &'a [String],
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
            at: match post.when {
                crate::schedule::When::At(t) => Some(t),
                _ => None,
            },
            disaster_hold: false,
            recent: &[],
        }
    }

    /// The instant time-dependent rules judge: the publication time if
    /// known and still ahead, else now.
    pub fn when(&self) -> DateTime<Utc> {
        self.at.map_or(self.now, |at| at.max(self.now))
    }
}

/// The language messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// Japanese for a post whose `language` is `ja` (or `ja-JP`…); for a
    /// post that names no language, Japanese if its text has kana.
    pub fn of(draft: &Draft<'_>) -> Lang {
        match draft.language {
            Some(l) => {
                if l.eq_ignore_ascii_case("ja") || l.to_ascii_lowercase().starts_with("ja-") {
                    Lang::Ja
                } else {
                    Lang::En
                }
            }
            None => {
                let kana = |c: char| matches!(c, '\u{3041}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}');
                if draft.parts.iter().any(|p| p.text.chars().any(kana)) {
                    Lang::Ja
                } else {
                    Lang::En
                }
            }
        }
    }

    /// Picks the sentence in this language.
    pub fn say(self, ja: String, en: String) -> String {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// What every rule sees: the draft, its parts folded once (NFKC, width,
/// case), the message language and the instant to judge.
pub struct Context<'a> {
    pub draft: &'a Draft<'a>,
    pub folded: Vec<fold::Folded>,
    pub lang: Lang,
    pub when: DateTime<Utc>,
}

/// A rule: looks at a draft, adds findings.
pub trait Rule: Send + Sync {
    fn id(&self) -> &str;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
}

/// A rule's merged settings for one account: the severity, message and
/// suggestion every rule needs to make findings.
#[derive(Debug, Clone)]
pub struct RuleSetup {
    pub id: String,
    pub severity: Severity,
    pub message: Option<String>,
    pub suggestion: Option<String>,
    /// The configured guideline citation, replacing the built-in one.
    pub guideline: Option<String>,
}

impl RuleSetup {
    /// The guideline this rule enforces, as a parenthesis for messages.
    pub fn cite(&self, lang: Lang) -> String {
        if let Some(g) = &self.guideline {
            return match lang {
                Lang::Ja => format!("（{g}）"),
                Lang::En => format!(" ({g})"),
            };
        }
        match (catalog::built_in(&self.id), lang) {
            (Some(b), Lang::Ja) => format!("（{}）", b.guideline_ja),
            (Some(b), Lang::En) => format!(" ({})", b.guideline_en),
            (None, Lang::Ja) => format!("（ルール {}）", self.id),
            (None, Lang::En) => format!(" (rule {})", self.id),
        }
    }

    /// The configured message with `{term}` filled in, or the rule's own
    /// sentence followed by the guideline it cites.
    pub fn message(&self, lang: Lang, term: &str, ja: String, en: String) -> String {
        match &self.message {
            Some(template) => template.replace("{term}", term),
            None => format!("{}{}", lang.say(ja, en), self.cite(lang)),
        }
    }

    /// The configured suggestion, or the rule's own.
    pub fn suggest(&self, lang: Lang, ja: &str, en: &str) -> Option<String> {
        self.suggestion
            .clone()
            .or_else(|| Some(lang.say(ja.to_string(), en.to_string())))
    }

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
            replacement: None,
        }
    }
}

/// The result of checking one post.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Adds findings made outside the rules (a platform's media limits) and
    /// updates the verdict.
    pub fn add(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
        self.findings
            .sort_by(|a, b| (a.part, a.start, &a.rule).cmp(&(b.part, b.start, &b.rule)));
        self.verdict = self
            .findings
            .iter()
            .map(|f| Verdict::of(f.severity))
            .max()
            .unwrap_or(Verdict::Pass);
    }
}

/// The rules one account follows, built once per config load.
pub struct Guidelines {
    rules: Vec<Box<dyn Rule>>,
    /// The duplicate rule's window, when it is in force.
    duplicate_window: Option<chrono::Duration>,
}

/// A rule's merged inputs across the rulebooks an account follows.
#[derive(Default)]
pub(crate) struct Inputs {
    pub terms: Vec<String>,
    pub dictionaries: Vec<std::sync::Arc<prh::Dictionary>>,
    pub options: crate::config::RuleOptions,
}

impl Inputs {
    /// Adds one rulebook's settings: lists are joined; of two limits the
    /// stricter wins (fewer hashtags, more days, a lower similarity, a
    /// longer quiet window).
    fn merge(&mut self, settings: &crate::config::RuleSettings) {
        for t in &settings.terms {
            if !self.terms.contains(t) {
                self.terms.push(t.clone());
            }
        }
        for d in &settings.dictionaries {
            if !self.dictionaries.iter().any(|e| std::sync::Arc::ptr_eq(e, d)) {
                self.dictionaries.push(d.clone());
            }
        }
        let (o, n) = (&mut self.options, &settings.options);
        if o.guideline.is_none() {
            o.guideline = n.guideline.clone();
        }
        o.replace_defaults |= n.replace_defaults;
        o.domains.extend(n.domains.iter().cloned());
        o.embargoes.extend(n.embargoes.iter().cloned());
        o.clients.extend(n.clients.iter().cloned());
        o.approvals.extend(n.approvals.iter().cloned());
        o.earnings.extend(n.earnings.iter().cloned());
        o.labels.extend(n.labels.iter().cloned());
        o.affiliate_domains.extend(n.affiliate_domains.iter().cloned());
        o.allow.extend(n.allow.iter().cloned());
        o.dates.extend(n.dates.iter().cloned());
        o.kinds.extend(n.kinds.iter().cloned());
        o.humor_labels.extend(n.humor_labels.iter().cloned());
        o.window = o.window.max(n.window);
        o.days = o.days.max(n.days);
        o.max = match (o.max, n.max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        o.similarity = match (o.similarity, n.similarity) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// The configured terms, after the built-in list unless `replace_defaults`.
    pub fn terms_with(&self, defaults: &str) -> Vec<String> {
        let mut all: Vec<String> = if self.options.replace_defaults {
            Vec::new()
        } else {
            content::term_list(defaults)
        };
        for t in &self.terms {
            if !all.contains(t) {
                all.push(t.clone());
            }
        }
        all
    }
}

/// Builds the rule for an id. Built-in ids get their own rule; any other
/// rule with prh dictionaries proofreads, and with terms is a term list.
fn build_rule(
    setup: RuleSetup,
    inputs: Inputs,
    quiet: Option<&(RuleSetup, Inputs)>,
    account: &Account,
) -> Option<Box<dyn Rule>> {
    let tz = account.time_zone;
    Some(match setup.id.as_str() {
        "length" => Box::new(length::Length::new(setup)),
        "proofreading" if inputs.dictionaries.is_empty() => return None,
        "confidential-marker" | "legal-topic" | "offensive" | "sensitive-topic" => {
            let terms = inputs.terms_with(content::defaults_for(&setup.id));
            Box::new(content::Topic::new(setup, &terms, None))
        }
        "financial-topic" => {
            let terms = inputs.terms_with(content::defaults_for("financial-topic"));
            let quiet = quiet.map(|(s, i)| content::QuietPeriod::new(s.clone(), &i.options, tz));
            Box::new(content::Topic::new(setup, &terms, quiet))
        }
        // Drives financial-topic; it has no findings of its own.
        "quiet-period" => return None,
        "internal-link" => Box::new(links::InternalLink::new(setup, &inputs.options)),
        "stealth-marketing" => Box::new(links::StealthMarketing::new(setup, &inputs.options)),
        "embargo" => Box::new(names::Embargo::new(setup, &inputs.options, tz)),
        "client-reference" => Box::new(names::ClientReference::new(setup, &inputs.options, tz)),
        "personal-data" => Box::new(personal::PersonalData::new(setup, &inputs.options)),
        "secret" => Box::new(personal::Secret::new(setup)),
        "sensitive-date" => Box::new(timing::SensitiveDate::new(setup, &inputs.options, tz)),
        "disaster-hold" => Box::new(timing::DisasterHold::new(setup, &inputs.options)),
        "duplicate" => Box::new(timing::Duplicate::new(setup, &inputs.options)),
        "hashtags" => Box::new(form::Hashtags::new(setup, &inputs.options)),
        "media-alt-text" => Box::new(form::MediaAltText::new(setup)),
        "invisible-chars" => Box::new(form::InvisibleChars::new(setup)),
        "unmatched-pair" => Box::new(form::UnmatchedPair::new(setup)),
        "width" => Box::new(width::Width::new(setup)),
        _ if !inputs.dictionaries.is_empty() => Box::new(proofreading::Proofreading::new(setup, inputs.dictionaries)),
        _ if !inputs.terms.is_empty() => Box::new(terms::Terms::new(setup, &inputs.terms)),
        _ => return None,
    })
}

impl Guidelines {
    /// The baseline and the account's rulebooks merged: a rule listed in
    /// several takes the highest severity and the union of their settings.
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
                            guideline: None,
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
                entry.1.merge(settings);
                entry.0.guideline = entry.1.options.guideline.clone();
            }
        }
        // A quiet period alone still needs the financial terms to act on.
        if merged.contains_key("quiet-period") && !merged.contains_key("financial-topic") {
            let b = catalog::built_in("financial-topic").expect("a built-in rule");
            merged.insert(
                "financial-topic",
                (
                    RuleSetup {
                        id: b.id.to_string(),
                        severity: b.default,
                        message: None,
                        suggestion: None,
                        guideline: None,
                    },
                    Inputs::default(),
                ),
            );
        }
        let quiet = merged.remove("quiet-period");
        let duplicate_window = merged
            .get("duplicate")
            .map(|(_, i)| chrono::Duration::days(i64::from(i.options.days.unwrap_or(timing::DEFAULT_DUPLICATE_DAYS))));
        let rules = merged
            .into_values()
            .filter_map(|(setup, inputs)| build_rule(setup, inputs, quiet.as_ref(), account))
            .collect();
        Guidelines {
            rules,
            duplicate_window,
        }
    }

    /// Adds rules for this check only (e.g. `herald check --prh`).
    pub fn add_rule(&mut self, rule: Box<dyn Rule>) {
        self.rules.push(rule);
    }

    /// A proofreading rule (id `proofreading`, severity warn) over extra prh dictionaries.
    pub fn proofreading_rule(dictionaries: Vec<std::sync::Arc<prh::Dictionary>>) -> Box<dyn Rule> {
        let setup = RuleSetup {
            id: "proofreading".to_string(),
            severity: Severity::Warn,
            message: None,
            suggestion: None,
            guideline: None,
        };
        Box::new(proofreading::Proofreading::new(setup, dictionaries))
    }

    /// The ids of the rules in force, for listings.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id()).collect()
    }

    /// How far apart two posts of the account may be and still count as
    /// duplicates; `None` when the duplicate rule is not in force (then
    /// [`Draft::recent`] need not be filled).
    pub fn duplicate_window(&self) -> Option<chrono::Duration> {
        self.duplicate_window
    }

    /// Runs every rule; findings come sorted by part and position.
    pub fn check(&self, draft: &Draft<'_>) -> Report {
        let cx = Context {
            draft,
            folded: draft.parts.iter().map(|p| fold::fold(&p.text)).collect(),
            lang: Lang::of(draft),
            when: draft.when(),
        };
        let mut findings = Vec::new();
        for rule in &self.rules {
            rule.check(&cx, &mut findings);
        }
        for f in &mut findings {
            let p = Position::of_offset(&draft.parts[f.part].text, f.start);
            f.line = p.line;
            f.column = p.column;
        }
        let texts: Vec<&str> = draft.parts.iter().map(|p| p.text.as_str()).collect();
        redact::hide_in_other_findings(&mut findings, &texts);
        let mut report = Report {
            verdict: Verdict::Pass,
            findings: Vec::new(),
        };
        report.add(findings);
        report
    }
}
