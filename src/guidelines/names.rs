//! Names that need permission: `embargo` (unannounced products and
//! projects, each free to be named from its `until` instant) and
//! `client-reference` (clients, partners and suppliers, named only with a
//! recorded approval that has not expired).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::terms::TermMatcher;
use super::{Context, Finding, Rule, RuleSetup};
use crate::config::{Approval, RuleOptions};

/// A name list: every alias maps back to its entry.
struct NameList {
    matcher: TermMatcher,
    /// For each term of the matcher: the entry it belongs to.
    entry_of: Vec<usize>,
}

impl NameList {
    fn new<'a>(entries: impl Iterator<Item = (&'a str, &'a [String])>) -> NameList {
        let mut terms = Vec::new();
        let mut entry_of = Vec::new();
        for (i, (name, aliases)) in entries.enumerate() {
            for t in std::iter::once(name).chain(aliases.iter().map(String::as_str)) {
                terms.push(t.to_string());
                entry_of.push(i);
            }
        }
        NameList {
            matcher: TermMatcher::new(&terms),
            entry_of,
        }
    }
}

/// A time as the owner reads it: in the account's zone, with its offset.
pub(crate) fn instant(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %:z").to_string()
}

pub struct Embargo {
    setup: RuleSetup,
    tz: Tz,
    names: Vec<crate::config::Embargo>,
    list: NameList,
}

impl Embargo {
    pub fn new(setup: RuleSetup, options: &RuleOptions, tz: Tz) -> Embargo {
        let list = NameList::new(
            options
                .embargoes
                .iter()
                .map(|e| (e.name.as_str(), e.aliases.as_slice())),
        );
        Embargo {
            setup,
            tz,
            names: options.embargoes.clone(),
            list,
        }
    }
}

impl Rule for Embargo {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for hit in self.list.matcher.find(&cx.folded[i]) {
                let e = &self.names[self.list.entry_of[hit.term]];
                if cx.when >= e.until {
                    continue;
                }
                let m = &part.text[hit.start..hit.end];
                let until = instant(e.until, self.tz);
                let message = self.setup.message(
                    cx.lang,
                    m,
                    format!("「{m}」（{}）は {until} まで公表できない名称です", e.name),
                    format!("\"{m}\" ({}) is under embargo until {until}", e.name),
                );
                let suggestion = self.setup.suggest(
                    cx.lang,
                    "公表日時の後に投稿するよう予約するか、名称を削除してください。",
                    "Schedule the post after the embargo ends, or remove the name.",
                );
                out.push(self.setup.finding(i, hit.start, hit.end, m, message, suggestion));
            }
        }
    }
}

pub struct ClientReference {
    setup: RuleSetup,
    tz: Tz,
    clients: Vec<crate::config::Client>,
    list: NameList,
    approvals: Vec<Approval>,
}

impl ClientReference {
    pub fn new(setup: RuleSetup, options: &RuleOptions, tz: Tz) -> ClientReference {
        let list = NameList::new(options.clients.iter().map(|c| (c.name.as_str(), c.aliases.as_slice())));
        ClientReference {
            setup,
            tz,
            clients: options.clients.clone(),
            list,
            approvals: options.approvals.clone(),
        }
    }
}

/// What the post's cited approvals say about one client.
enum Cover<'a> {
    Valid,
    Expired(&'a Approval),
    Unknown(Vec<&'a str>),
    None,
}

impl ClientReference {
    fn cover<'s>(&'s self, cited: &'s [String], client: &str, at: DateTime<Utc>) -> Cover<'s> {
        let mut expired = None;
        let mut unknown = Vec::new();
        for id in cited {
            let recorded = self.approvals.iter().find(|a| a.id.eq_ignore_ascii_case(id.trim()));
            match recorded {
                None => unknown.push(id.as_str()),
                Some(a) if !a.clients.is_empty() && !a.clients.iter().any(|c| c.eq_ignore_ascii_case(client)) => {}
                Some(a) if at >= a.expires => expired = Some(a),
                Some(_) => return Cover::Valid,
            }
        }
        match (expired, unknown.is_empty()) {
            (Some(a), _) => Cover::Expired(a),
            (None, false) => Cover::Unknown(unknown),
            (None, true) => Cover::None,
        }
    }
}

impl Rule for ClientReference {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for hit in self.list.matcher.find(&cx.folded[i]) {
                let client = &self.clients[self.list.entry_of[hit.term]].name;
                let m = &part.text[hit.start..hit.end];
                let (ja, en) = match self.cover(cx.draft.approvals, client, cx.when) {
                    Cover::Valid => continue,
                    Cover::Expired(a) => (
                        format!(
                            "「{m}」（{client}）の名前を出す承認 {} は {} に期限切れになっています",
                            a.id,
                            instant(a.expires, self.tz)
                        ),
                        format!(
                            "the approval {} to name \"{m}\" ({client}) expired on {}",
                            a.id,
                            instant(a.expires, self.tz)
                        ),
                    ),
                    Cover::Unknown(ids) => (
                        format!(
                            "「{m}」（{client}）は取引先です。引用された承認 {} は登録されていません",
                            ids.join(", ")
                        ),
                        format!(
                            "\"{m}\" ({client}) is a client; the approvals cited ({}) are not on record",
                            ids.join(", ")
                        ),
                    ),
                    Cover::None => (
                        format!("「{m}」（{client}）は取引先です。名前を出すには承認が必要です"),
                        format!("\"{m}\" ({client}) is a client, partner or supplier; naming them needs an approval"),
                    ),
                };
                let message = self.setup.message(cx.lang, m, ja, en);
                let suggestion = self.setup.suggest(
                    cx.lang,
                    "有効な承認番号を投稿ファイルの approvals に書くか、名前を削除してください。",
                    "Cite a valid approval in the post's \"approvals\", or remove the name.",
                );
                out.push(self.setup.finding(i, hit.start, hit.end, m, message, suggestion));
            }
        }
    }
}
