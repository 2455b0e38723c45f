//! The built-in rules: their ids, default severities, the guideline each
//! comes from, and the config keys each reads. The config checks rule
//! sections against this table; `herald rules` lists it.

use crate::config::Severity;

/// One built-in rule, as documented in config/README.md.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    pub id: &'static str,
    /// The severity when a rulebook lists the rule without one.
    pub default: Severity,
    /// What it catches, in one line (for `herald rules`).
    pub catches: &'static str,
    /// The company guideline it enforces, in Japanese and English.
    pub guideline_ja: &'static str,
    pub guideline_en: &'static str,
    /// The rule-specific keys it reads, beyond severity, message and suggestion.
    pub keys: &'static [&'static str],
    /// A settings section rather than a rule: it makes no findings of its
    /// own and has no severity; its settings change how this rule judges
    /// (`quiet-period` → `financial-topic`).
    pub drives: Option<&'static str>,
}

const TERMS: &[&str] = &["terms", "replace_defaults"];

const CONFIDENTIALITY: (&str, &str) = ("ガイドライン第2条「機密保持」", "guideline 2, confidentiality");
const CLIENTS: (&str, &str) = ("ガイドライン第3条「取引先」", "guideline 3, clients and partners");
const DISCLOSURE: (&str, &str) = ("ガイドライン第4条「情報開示」", "guideline 4, disclosure");
const LEGAL: (&str, &str) = ("ガイドライン第5条「法務」", "guideline 5, legal matters");
const ADVERTISING: (&str, &str) = (
    "ガイドライン第6条「広告表示」（景品表示法のステルスマーケティング規制）",
    "guideline 6, advertising disclosure (Japan's stealth-marketing rule)",
);
const PRIVACY: (&str, &str) = ("ガイドライン第7条「個人情報」", "guideline 7, personal data");
const RESPECT: (&str, &str) = (
    "ガイドライン第8条「品位と配慮」",
    "guideline 8, respect and sensitivity",
);
const QUALITY: (&str, &str) = ("ガイドライン第9条「投稿の品質」", "guideline 9, post quality");

const fn rule(
    id: &'static str,
    default: Severity,
    catches: &'static str,
    guideline: (&'static str, &'static str),
    keys: &'static [&'static str],
) -> BuiltIn {
    BuiltIn {
        id,
        default,
        catches,
        guideline_ja: guideline.0,
        guideline_en: guideline.1,
        keys,
        drives: None,
    }
}

/// Every built-in rule, in the order `herald rules` lists them.
pub const BUILT_IN: &[BuiltIn] = &[
    rule(
        "confidential-marker",
        Severity::Block,
        "confidentiality markings (社外秘, 極秘, Confidential, Internal Use Only…)",
        CONFIDENTIALITY,
        TERMS,
    ),
    rule(
        "internal-link",
        Severity::Block,
        "links to intranet hosts, private and loopback addresses, file: URLs",
        CONFIDENTIALITY,
        &["domains"],
    ),
    rule(
        "embargo",
        Severity::Block,
        "unannounced product or project names before their announcement",
        CONFIDENTIALITY,
        &["names"],
    ),
    rule(
        "client-reference",
        Severity::Hold,
        "client, partner and supplier names without a valid recorded approval",
        CLIENTS,
        &["clients", "approvals"],
    ),
    rule(
        "financial-topic",
        Severity::Hold,
        "financial results and forecasts (売上, 業績, earnings, guidance…)",
        DISCLOSURE,
        TERMS,
    ),
    BuiltIn {
        id: "quiet-period",
        // What financial-topic becomes inside a window.
        default: Severity::Block,
        catches: "the quiet period before each earnings announcement: inside it financial-topic blocks",
        guideline_ja: DISCLOSURE.0,
        guideline_en: DISCLOSURE.1,
        keys: &["earnings", "window"],
        drives: Some("financial-topic"),
    },
    rule(
        "legal-topic",
        Severity::Hold,
        "legal matters (訴訟, 和解, lawsuit…)",
        LEGAL,
        TERMS,
    ),
    rule(
        "stealth-marketing",
        Severity::Block,
        "sponsored or affiliate posts without a visible ad label in the first 40 characters",
        ADVERTISING,
        &["labels", "affiliate_domains"],
    ),
    rule(
        "personal-data",
        Severity::Hold,
        "e-mail addresses, phone numbers (hold) and My Numbers (block)",
        PRIVACY,
        &["allow"],
    ),
    rule(
        "secret",
        Severity::Block,
        "API keys, access tokens and private keys",
        CONFIDENTIALITY,
        &[],
    ),
    rule(
        "offensive",
        Severity::Block,
        "slurs, insults and obscenity",
        RESPECT,
        TERMS,
    ),
    rule(
        "sensitive-topic",
        Severity::Warn,
        "disasters, discrimination, religion and politics",
        RESPECT,
        TERMS,
    ),
    rule(
        "sensitive-date",
        Severity::Warn,
        "promotional or humorous posts on days of remembrance",
        RESPECT,
        &["dates", "kinds", "humor_labels"],
    ),
    rule(
        "disaster-hold",
        Severity::Hold,
        "promotional posts while a disaster hold is declared",
        RESPECT,
        &["kinds"],
    ),
    rule(
        "duplicate",
        Severity::Hold,
        "the same or nearly the same text on the same account within N days",
        QUALITY,
        &["days", "similarity"],
    ),
    rule(
        "hashtags",
        Severity::Warn,
        "more hashtags than the limit",
        QUALITY,
        &["max"],
    ),
    rule(
        "media-alt-text",
        Severity::Warn,
        "images or videos without alt text",
        QUALITY,
        &[],
    ),
    rule(
        "invisible-chars",
        Severity::Hold,
        "zero-width and control characters, decomposed (NFD) text",
        QUALITY,
        &[],
    ),
    rule(
        "unmatched-pair",
        Severity::Warn,
        "unmatched brackets 「」『』（）【】[]",
        QUALITY,
        &[],
    ),
    rule(
        "width",
        Severity::Warn,
        "half-width katakana and full-width letters or digits",
        QUALITY,
        &[],
    ),
    rule(
        "proofreading",
        Severity::Warn,
        "the house style of prh dictionaries",
        QUALITY,
        &["dictionaries"],
    ),
    rule(
        "length",
        Severity::Block,
        "text longer than the platform allows",
        QUALITY,
        &[],
    ),
];

/// The built-in rule with this id.
pub fn built_in(id: &str) -> Option<&'static BuiltIn> {
    BUILT_IN.iter().find(|b| b.id == id)
}
