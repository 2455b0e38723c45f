//! The Japan Meteorological Agency's disaster XML (気象庁防災情報XML): the
//! Atom feeds that list new messages, and the messages herald acts on —
//! earthquake intensity reports (VXSE51 震度速報, VXSE53 震源・震度に関する
//! 情報: `Body/Intensity/Observation/MaxInt`), tsunami bulletins (VTSE41:
//! 大津波警報, 津波警報, 津波注意報) and special warnings (特別警報, in the
//! weather warnings VPWW53 and others). It knows nothing of HTTP or of the
//! daemon: [`crate::daemon::alerts`] polls, this module reads and decides.
//!
//! Only `Control/Status` 通常 counts: 訓練 (drill) and 試験 (test) messages
//! are never acted on. `Head/InfoType` 取消 cancels what the message with the
//! same `Head/EventID` raised; 訂正 replaces it.

use std::collections::BTreeSet;

use crate::config::{Intensity, JmaTrigger, TsunamiLevel};

/// A problem with a feed or a message, in words for the log and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// One entry of an Atom feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub updated: String,
    /// The message's URL.
    pub link: String,
}

impl Entry {
    /// Whether the entry is a kind of message some trigger reads, by the
    /// type code in its file name (JMA names files `…_VXSE53_…xml`) or by
    /// its title: only those are fetched, to spare JMA's servers.
    pub fn is_relevant(&self, triggers: &[JmaTrigger]) -> bool {
        let is = |codes: &[&str], titles: &[&str]| {
            codes.iter().any(|c| self.link.contains(c)) || titles.iter().any(|t| self.title.contains(t))
        };
        let quake = is(&["VXSE51", "VXSE53"], &["震度速報", "震源・震度に関する情報"]);
        let tsunami = is(&["VTSE41"], &["津波警報"]);
        let weather = is(&["VPWW53", "VPWW54"], &["特別警報", "気象警報"]);
        triggers.iter().any(|t| {
            (quake && t.max_intensity.is_some()) || (tsunami && t.tsunami.is_some()) || (weather && t.special_warning)
        })
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.is_element() && n.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn text_of(node: Option<roxmltree::Node<'_, '_>>) -> String {
    node.and_then(|n| n.text()).unwrap_or_default().trim().to_string()
}

/// Reads an Atom feed's entries.
pub fn parse_feed(xml: &str) -> Result<Vec<Entry>, ParseError> {
    let doc =
        roxmltree::Document::parse(xml).map_err(|e| ParseError(format!("the feed is not well-formed XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "feed" {
        return Err(ParseError(format!(
            "the document is not an Atom feed (its root is <{}>, not <feed>)",
            root.tag_name().name()
        )));
    }
    let mut out = Vec::new();
    for e in children(root, "entry") {
        let link = children(e, "link")
            .find(|l| l.attribute("rel").is_none_or(|r| r == "alternate" || r == "related"))
            .or_else(|| child(e, "link"))
            .and_then(|l| l.attribute("href"))
            .unwrap_or_default()
            .to_string();
        let id = text_of(child(e, "id"));
        if id.is_empty() || link.is_empty() {
            return Err(ParseError("a feed entry has no <id> or no <link href>".into()));
        }
        out.push(Entry {
            id,
            title: text_of(child(e, "title")),
            updated: text_of(child(e, "updated")),
            link,
        });
    }
    Ok(out)
}

/// What a message reports, as far as herald cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    /// The maximum intensity anywhere (`Observation/MaxInt`).
    pub max_intensity: Option<Intensity>,
    /// Per prefecture (`Observation/Pref/Name`, `MaxInt`).
    pub prefectures: Vec<(String, Intensity)>,
    /// The tsunami bulletins in force in this message.
    pub tsunami: BTreeSet<TsunamiLevel>,
    /// The special warnings in force (大雨特別警報…).
    pub special_warnings: BTreeSet<String>,
}

/// A message's control and head, and what it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Control/Title`: 震度速報, 津波警報・注意報・予報a…
    pub title: String,
    /// `Control/Status`: 通常, 訓練 or 試験.
    pub status: String,
    /// `Head/InfoType`: 発表, 訂正, 取消.
    pub info_type: String,
    /// `Head/EventID`: the same for every message about one event.
    pub event_id: String,
    /// `Head/ReportDateTime`, as written.
    pub reported: String,
    /// `Head/Headline/Text`.
    pub headline: String,
    pub observed: Observed,
}

impl Message {
    /// Whether herald acts on it: only real messages (通常).
    pub fn is_real(&self) -> bool {
        self.status == "通常"
    }

    pub fn is_cancellation(&self) -> bool {
        self.info_type == "取消"
    }

    pub fn is_correction(&self) -> bool {
        self.info_type == "訂正"
    }
}

/// Reads one JMA message.
pub fn parse_message(xml: &str) -> Result<Message, ParseError> {
    let doc =
        roxmltree::Document::parse(xml).map_err(|e| ParseError(format!("the message is not well-formed XML: {e}")))?;
    let report = doc.root_element();
    if report.tag_name().name() != "Report" {
        return Err(ParseError(format!(
            "the document is not a JMA message (its root is <{}>, not <Report>)",
            report.tag_name().name()
        )));
    }
    let control = child(report, "Control").ok_or_else(|| ParseError("the message has no <Control>".into()))?;
    let head = child(report, "Head").ok_or_else(|| ParseError("the message has no <Head>".into()))?;
    let status = text_of(child(control, "Status"));
    if status.is_empty() {
        return Err(ParseError("the message has no Control/Status".into()));
    }
    // Weather warnings carry an empty EventID: each message of an office
    // and title states what is in force, so that pair names the "event".
    let event_id = match text_of(child(head, "EventID")) {
        id if !id.is_empty() => id,
        _ => {
            let office = text_of(child(control, "EditorialOffice"));
            let title = text_of(child(head, "Title"));
            if office.is_empty() && title.is_empty() {
                return Err(ParseError(
                    "the message has no Head/EventID and no office and title to stand for it".into(),
                ));
            }
            format!("{office}/{title}")
        }
    };
    let mut observed = Observed::default();
    if let Some(body) = child(report, "Body") {
        if let Some(obs) = child(body, "Intensity").and_then(|i| child(i, "Observation")) {
            observed.max_intensity = Intensity::parse(&text_of(child(obs, "MaxInt")));
            for pref in children(obs, "Pref") {
                if let Some(i) = Intensity::parse(&text_of(child(pref, "MaxInt"))) {
                    observed.prefectures.push((text_of(child(pref, "Name")), i));
                }
            }
        }
        if let Some(forecast) = child(body, "Tsunami").and_then(|t| child(t, "Forecast")) {
            for item in children(forecast, "Item") {
                let kind = child(item, "Category").and_then(|c| child(c, "Kind"));
                if let Some(level) = TsunamiLevel::parse(&text_of(kind.and_then(|k| child(k, "Name")))) {
                    observed.tsunami.insert(level);
                }
            }
        }
        // Weather warnings: Body/Warning/Item/Kind/{Name, Status}.
        for warning in children(body, "Warning") {
            for item in children(warning, "Item") {
                for kind in children(item, "Kind") {
                    let name = text_of(child(kind, "Name"));
                    let lifted = text_of(child(kind, "Status")) == "解除";
                    if name.ends_with("特別警報") && !lifted {
                        observed.special_warnings.insert(name);
                    }
                }
            }
        }
    }
    Ok(Message {
        title: text_of(child(control, "Title")),
        status,
        info_type: text_of(child(head, "InfoType")),
        event_id,
        reported: text_of(child(head, "ReportDateTime")),
        headline: text_of(child(head, "Headline").and_then(|h| child(h, "Text"))),
        observed,
    })
}

/// Why one trigger fires on what a message reports, in words; `None` when
/// it does not.
pub fn fires(trigger: &JmaTrigger, observed: &Observed) -> Option<String> {
    if let Some(threshold) = trigger.max_intensity {
        if trigger.prefectures.is_empty() {
            if let Some(max) = observed.max_intensity.filter(|m| *m >= threshold) {
                return Some(format!(
                    "maximum intensity {} (threshold {})",
                    max.japanese(),
                    threshold.japanese()
                ));
            }
        } else if let Some((pref, i)) = observed
            .prefectures
            .iter()
            .find(|(p, i)| *i >= threshold && trigger.prefectures.iter().any(|t| t == p))
        {
            return Some(format!(
                "{} in {pref} (threshold {})",
                i.japanese(),
                threshold.japanese()
            ));
        }
    }
    if let Some(threshold) = trigger.tsunami {
        if let Some(level) = observed.tsunami.iter().rev().find(|l| **l >= threshold) {
            return Some(format!("{} in force", level.japanese()));
        }
    }
    if trigger.special_warning {
        if let Some(w) = observed.special_warnings.iter().next() {
            return Some(format!("{w} in force"));
        }
    }
    None
}

/// What a hold is for: every account, or one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Scope {
    All,
    Account(String),
}

impl Scope {
    pub fn account(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Account(a) => Some(a),
        }
    }
}

/// The holds a message asks for, with why: one per scope (the company-wide
/// hold covers every account, so a trigger for all wins over per-account ones).
pub fn assess(triggers: &[JmaTrigger], observed: &Observed) -> Vec<(Scope, String)> {
    let mut out: Vec<(Scope, String)> = Vec::new();
    for t in triggers {
        let Some(why) = fires(t, observed) else {
            continue;
        };
        let scopes: Vec<Scope> = if t.accounts.is_empty() {
            vec![Scope::All]
        } else {
            t.accounts.iter().cloned().map(Scope::Account).collect()
        };
        for s in scopes {
            if !out.iter().any(|(o, _)| *o == s) {
                out.push((s, why.clone()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUAKE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/" xmlns:jmx="http://xml.kishou.go.jp/jmaxml1/">
<Control><Title>震源・震度に関する情報</Title><DateTime>2026-12-01T01:05:00Z</DateTime><Status>通常</Status>
<EditorialOffice>気象庁本庁</EditorialOffice><PublishingOffice>気象庁</PublishingOffice></Control>
<Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/"><Title>震源・震度情報</Title>
<ReportDateTime>2026-12-01T10:05:00+09:00</ReportDateTime><TargetDateTime>2026-12-01T10:02:00+09:00</TargetDateTime>
<EventID>20261201100200</EventID><InfoType>発表</InfoType><Serial>1</Serial><InfoKind>地震情報</InfoKind>
<InfoKindVersion>1.0_1</InfoKindVersion><Headline><Text>１日１０時０２分ころ、地震がありました。</Text></Headline></Head>
<Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/seismology1/">
<Intensity><Observation><MaxInt>5+</MaxInt>
<Pref><Name>宮城県</Name><Code>04</Code><MaxInt>5+</MaxInt></Pref>
<Pref><Name>東京都</Name><Code>13</Code><MaxInt>3</MaxInt></Pref>
</Observation></Intensity></Body></Report>"#;

    fn trigger(max: &str, prefs: &[&str]) -> JmaTrigger {
        JmaTrigger {
            max_intensity: Intensity::parse(max),
            prefectures: prefs.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn an_intensity_report_reads_max_int_anywhere_and_by_prefecture() {
        let m = parse_message(QUAKE).unwrap();
        assert!(m.is_real());
        assert_eq!(m.event_id, "20261201100200");
        assert_eq!(m.observed.max_intensity, Some(Intensity::I5Upper));
        assert_eq!(m.observed.prefectures[1], ("東京都".to_string(), Intensity::I3));
        assert!(fires(&trigger("5-", &[]), &m.observed).unwrap().contains("震度5強"));
        assert!(fires(&trigger("6-", &[]), &m.observed).is_none());
        assert!(fires(&trigger("4", &["東京都"]), &m.observed).is_none(), "Tokyo saw 3");
        assert!(fires(&trigger("3", &["東京都"]), &m.observed).is_some());
    }

    #[test]
    fn a_special_warning_in_force_fires_and_one_lifted_does_not() {
        let m = parse_message(include_str!("../../tests/data/jma/vpww53_special.xml")).unwrap();
        assert!(m.is_real());
        assert_eq!(
            m.event_id, "福岡管区気象台/福岡県気象警報・注意報",
            "weather warnings have no EventID"
        );
        assert_eq!(m.observed.special_warnings.iter().collect::<Vec<_>>(), ["大雨特別警報"]);
        let t = JmaTrigger {
            special_warning: true,
            ..Default::default()
        };
        assert_eq!(fires(&t, &m.observed).as_deref(), Some("大雨特別警報 in force"));
        assert!(
            fires(&trigger("1", &[]), &m.observed).is_none(),
            "no intensity in a weather warning"
        );
    }

    #[test]
    fn a_tsunami_bulletin_reads_each_coasts_category() {
        let m = parse_message(include_str!("../../tests/data/jma/vtse41_tsunami.xml")).unwrap();
        assert_eq!(
            m.observed.tsunami.iter().copied().collect::<Vec<_>>(),
            [TsunamiLevel::Advisory, TsunamiLevel::Warning]
        );
        let at_least = |level| JmaTrigger {
            tsunami: Some(level),
            ..Default::default()
        };
        assert!(fires(&at_least(TsunamiLevel::Warning), &m.observed)
            .unwrap()
            .contains("津波警報"));
        assert!(fires(&at_least(TsunamiLevel::MajorWarning), &m.observed).is_none());
    }

    #[test]
    fn intensities_order_with_lower_and_upper_halves() {
        assert!(Intensity::parse("5-").unwrap() < Intensity::parse("5+").unwrap());
        assert!(Intensity::parse("5+").unwrap() < Intensity::parse("6弱").unwrap());
        assert!(Intensity::parse("4").unwrap() < Intensity::parse("5弱").unwrap());
        assert_eq!(Intensity::parse("8"), None);
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        assert!(parse_message("<Report><Control>")
            .unwrap_err()
            .0
            .contains("not well-formed"));
        assert!(parse_message("<feed/>").unwrap_err().0.contains("not a JMA message"));
        assert!(parse_feed("<Report/>").unwrap_err().0.contains("not an Atom feed"));
    }

    #[test]
    fn a_trigger_for_all_and_one_for_an_account_give_two_scopes() {
        let m = parse_message(QUAKE).unwrap();
        let mut t = trigger("3", &["東京都"]);
        t.accounts = vec!["tokyo".into()];
        let scopes = assess(&[trigger("5-", &[]), t], &m.observed);
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[0].0, Scope::All);
        assert_eq!(scopes[1].0, Scope::Account("tokyo".into()));
    }
}
