//! Links: `internal-link` (intranet hosts, private addresses, `file:` URLs
//! that mean nothing outside — or leak what is inside) and
//! `stealth-marketing` (sponsored or affiliate posts must say so up front:
//! Japan's stealth-marketing rule under the Act against Unjustifiable
//! Premiums and Misleading Representations, in force since 2023-10-01).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::terms::TermMatcher;
use super::{Context, Finding, Lang, Rule, RuleSetup};
use crate::config::RuleOptions;
use crate::queue::Kind;

/// URLs with a scheme, and Windows share paths. Scanned on folded text
/// (lower case, half-width), so the pattern need not care about case.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:\b[a-z][a-z0-9+.-]*://|\bfile:|\\\\[a-z0-9._-]+\\)[^\s<>"'「」『』（）【】、。]*"#)
        .expect("valid URL pattern")
});

/// Bare IPv4 addresses (not part of a longer dotted number).
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:$|[^0-9]|\.[^0-9])").expect("valid"));

/// A URL found in a part: its span in the folded text and its host.
pub(crate) struct Url<'t> {
    pub start: usize,
    pub end: usize,
    pub text: &'t str,
    pub scheme: &'t str,
    /// Lower case, without user info and port; IPv6 without brackets.
    pub host: &'t str,
}

/// The URLs in folded text.
pub(crate) fn urls(folded: &str) -> Vec<Url<'_>> {
    URL.find_iter(folded)
        .map(|m| {
            let text = m.as_str().trim_end_matches(['.', ',', ')', ']', '!', '?', ';', ':']);
            let (scheme, rest) = match text.split_once("://") {
                Some((s, r)) => (s, r),
                None if text.starts_with("file:") => ("file", &text[5..]),
                None => ("smb", text.trim_start_matches('\\')),
            };
            let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
            let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = if let Some(v6) = authority.strip_prefix('[') {
                v6.split(']').next().unwrap_or("")
            } else {
                authority.split(':').next().unwrap_or("")
            };
            Url {
                start: m.start(),
                end: m.start() + text.len(),
                text,
                scheme,
                host,
            }
        })
        .collect()
}

/// Whether a host ends with one of the domains (equal or a subdomain).
fn under(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|h| h.ends_with('.'))
}

/// Why a host is not public, if it is not.
fn private_reason(host: &str, domains: &[String]) -> Option<(&'static str, &'static str)> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        let o = ip.octets();
        let cgnat = o[0] == 100 && (64..128).contains(&o[1]);
        if ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || cgnat {
            return Some(("プライベートIPアドレス", "a private or loopback address"));
        }
        return None;
    }
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        let s = ip.segments()[0];
        if ip.is_loopback() || ip.is_unspecified() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80 {
            return Some(("プライベートIPアドレス", "a private or loopback address"));
        }
        return None;
    }
    if domains.iter().any(|d| under(host, d)) {
        return Some(("社内ネットワークのホスト", "an intranet host"));
    }
    const INTERNAL_SUFFIXES: &[&str] = &["localhost", "local", "internal", "intranet", "corp", "lan", "home.arpa"];
    if INTERNAL_SUFFIXES.iter().any(|d| under(host, d)) {
        return Some(("社内ネットワークのホスト", "an intranet host"));
    }
    if !host.is_empty() && !host.contains('.') {
        return Some(("社内ネットワークのホスト名", "an intranet host name"));
    }
    None
}

pub struct InternalLink {
    setup: RuleSetup,
    domains: Vec<String>,
    /// Bare mentions of the configured domains (without a scheme).
    bare: Option<Regex>,
}

impl InternalLink {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> InternalLink {
        let domains: Vec<String> = options.domains.iter().map(|d| super::fold::fold_str(d)).collect();
        let bare = (!domains.is_empty()).then(|| {
            let alternatives: Vec<String> = domains.iter().map(|d| regex::escape(d)).collect();
            Regex::new(&format!(
                r"(?:^|[^a-z0-9.@-])((?:[a-z0-9-]+\.)*(?:{}))(?:$|[^a-z0-9-])",
                alternatives.join("|")
            ))
            .expect("escaped domains form a valid pattern")
        });
        InternalLink { setup, domains, bare }
    }

    fn push(&self, cx: &Context<'_>, part: usize, span: (usize, usize), what: (&str, &str), out: &mut Vec<Finding>) {
        let (s, e) = cx.folded[part].original_span(span.0, span.1);
        let m = &cx.draft.parts[part].text[s..e];
        let message = self.setup.message(
            cx.lang,
            m,
            format!(
                "「{m}」は{}へのリンクです。社外からは開けず、社内の情報を明かすことになります",
                what.0
            ),
            format!(
                "\"{m}\" points to {}, which nobody outside can open and which reveals internal information",
                what.1
            ),
        );
        let suggestion = self.setup.suggest(
            cx.lang,
            "公開されているページのURLに置き換えるか、リンクを削除してください。",
            "Link to a public page instead, or remove the link.",
        );
        out.push(self.setup.finding(part, s, e, m, message, suggestion));
    }
}

impl Rule for InternalLink {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, folded) in cx.folded.iter().enumerate() {
            let text = folded.text.as_str();
            let mut covered = Vec::new();
            for url in urls(text) {
                let reason = if url.scheme == "file" || url.scheme == "smb" {
                    Some(("ローカルファイルや共有フォルダ", "a local file or a file share"))
                } else {
                    private_reason(url.host, &self.domains)
                };
                if let Some(what) = reason {
                    self.push(cx, i, (url.start, url.end), what, out);
                }
                covered.push((url.start, url.end));
            }
            let outside = |s: usize| !covered.iter().any(|(a, b)| *a <= s && s < *b);
            if let Some(bare) = &self.bare {
                for c in bare.captures_iter(text) {
                    let m = c.get(1).expect("group 1 always takes part");
                    if outside(m.start()) {
                        self.push(
                            cx,
                            i,
                            (m.start(), m.end()),
                            ("社内ネットワークのホスト", "an intranet host"),
                            out,
                        );
                    }
                }
            }
            for c in IPV4.captures_iter(text) {
                let m = c.get(1).expect("group 1 always takes part");
                if outside(m.start()) {
                    if let Some(what) = private_reason(m.as_str(), &[]) {
                        self.push(cx, i, (m.start(), m.end()), what, out);
                    }
                }
            }
        }
    }
}

/// Affiliate programmes' link hosts (Amazon Associates, A8.net, もしも,
/// ValueCommerce, Rakuten, LinkShare, AccessTrade, afb…).
const AFFILIATE_HOSTS: &[&str] = &[
    "amzn.to",
    "amzn.asia",
    "a8.net",
    "af.moshimo.com",
    "valuecommerce.com",
    "hb.afl.rakuten.co.jp",
    "linksynergy.com",
    "accesstrade.net",
    "afi-b.com",
    "shareasale.com",
    "awin1.com",
    "rstyle.me",
    "skimresources.com",
];

/// Labels that disclose an advertisement.
const LABELS: &[&str] = &[
    "広告",
    "宣伝",
    "プロモーション",
    "PR",
    "#PR",
    "提供",
    "タイアップ",
    "#ad",
    "[ad]",
    "Sponsored",
    "#sponsored",
    "Paid partnership",
];

/// How far into the post a label may stand, in characters.
const LABEL_WITHIN: usize = 40;
/// A label after more than this many hashtags is buried.
const MAX_HASHTAGS_BEFORE_LABEL: usize = 3;

pub struct StealthMarketing {
    setup: RuleSetup,
    labels: TermMatcher,
    affiliate_hosts: Vec<String>,
}

impl StealthMarketing {
    pub fn new(setup: RuleSetup, options: &RuleOptions) -> StealthMarketing {
        let mut labels: Vec<String> = LABELS.iter().map(|s| s.to_string()).collect();
        labels.extend(options.labels.iter().cloned());
        let mut hosts: Vec<String> = AFFILIATE_HOSTS.iter().map(|s| s.to_string()).collect();
        hosts.extend(options.affiliate_domains.iter().cloned());
        StealthMarketing {
            setup,
            labels: TermMatcher::new(&labels),
            affiliate_hosts: hosts,
        }
    }

    /// The first affiliate link of the post: (part, folded span).
    fn affiliate_link(&self, cx: &Context<'_>) -> Option<(usize, usize, usize)> {
        cx.folded.iter().enumerate().find_map(|(i, f)| {
            urls(&f.text).into_iter().find_map(|u| {
                let amazon_tag = u.host.contains("amazon.") && (u.text.contains("tag=") || u.text.contains("/ref="));
                (amazon_tag || self.affiliate_hosts.iter().any(|h| under(u.host, h))).then_some((i, u.start, u.end))
            })
        })
    }
}

/// Hashtags start with # or ＃ after a space or the start of a line.
pub(crate) fn hashtag_starts(text: &str) -> Vec<(usize, usize)> {
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:^|[\s　(（「])([#＃][^\s#＃　.,、。!?！？()（）「」]+)").expect("valid"));
    TAG.captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter(|m| {
            !m.as_str()[m.as_str().chars().next().map_or(1, char::len_utf8)..]
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .map(|m| (m.start(), m.end()))
        .collect()
}

impl Rule for StealthMarketing {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let affiliate = self.affiliate_link(cx);
        if cx.draft.kind != Kind::Sponsored && affiliate.is_none() {
            return;
        }
        let Some(first) = cx.draft.parts.first() else { return };
        let why = match (cx.draft.kind == Kind::Sponsored, cx.lang) {
            (true, Lang::Ja) => "広告（種類 sponsored）の投稿",
            (true, Lang::En) => "a sponsored post",
            (false, Lang::Ja) => "アフィリエイトリンクを含む投稿",
            (false, Lang::En) => "a post with an affiliate link",
        };
        let suggestion = self.setup.suggest(
            cx.lang,
            "本文の先頭に【PR】や「広告」と書いてください（ハッシュタグの後ろに埋もれないように）。",
            "Start the text with \"[PR]\", \"#ad\" or \"Sponsored\", before any hashtags.",
        );
        let hashtags = hashtag_starts(&first.text);
        let mut best: Option<(usize, usize, usize)> = None; // (start, end, chars before end)
        for hit in self.labels.find(&cx.folded[0]) {
            let end_chars = first.text[..hit.end].chars().count();
            if best.is_none_or(|b| end_chars < b.2) {
                best = Some((hit.start, hit.end, end_chars));
            }
        }
        match best {
            None => {
                let (part, s, e) = match affiliate {
                    Some((p, fs, fe)) => {
                        let (s, e) = cx.folded[p].original_span(fs, fe);
                        (p, s, e)
                    }
                    None => (0, 0, first.text.chars().next().map_or(0, char::len_utf8)),
                };
                let m = &cx.draft.parts[part].text[s..e];
                let message = self.setup.message(
                    cx.lang,
                    m,
                    format!("{why}に広告であることの表示（広告・PR・プロモーション・提供など）がありません。広告と分からない広告はステルスマーケティングとして景品表示法違反になります"),
                    format!("{why} has no label saying it is an advertisement (PR, #ad, Sponsored…); an undisclosed advertisement is stealth marketing, unlawful in Japan"),
                );
                out.push(self.setup.finding(part, s, e, m, message, suggestion));
            }
            Some((s, e, end_chars)) => {
                let tags_before = hashtags.iter().filter(|(hs, _)| *hs < s).count();
                let m = &first.text[s..e];
                let problem = if end_chars > LABEL_WITHIN {
                    Some((
                        format!(
                            "「{m}」の表示が冒頭{LABEL_WITHIN}文字より後ろにあり、広告だと分かりにくくなっています"
                        ),
                        format!(
                            "the label \"{m}\" comes after the first {LABEL_WITHIN} characters, where readers miss it"
                        ),
                    ))
                } else if tags_before > MAX_HASHTAGS_BEFORE_LABEL {
                    Some((
                        format!("「{m}」の表示が{tags_before}個のハッシュタグの後ろに埋もれています"),
                        format!("the label \"{m}\" is buried after {tags_before} hashtags"),
                    ))
                } else {
                    None
                };
                if let Some((ja, en)) = problem {
                    let message =
                        self.setup
                            .message(cx.lang, m, format!("{why}ですが、{ja}"), format!("{why}, but {en}"));
                    out.push(self.setup.finding(0, s, e, m, message, suggestion));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts_strip_user_info_ports_and_brackets() {
        let found = urls("see http://user:pw@wiki.corp:8080/a and https://[::1]/x and file:///c:/x.");
        let hosts: Vec<&str> = found.iter().map(|u| u.host).collect();
        assert_eq!(hosts, ["wiki.corp", "::1", ""]);
        assert_eq!(found[2].scheme, "file");
        assert_eq!(found[2].text, "file:///c:/x");
    }

    #[test]
    fn private_addresses_and_public_hosts() {
        assert!(private_reason("10.1.2.3", &[]).is_some());
        assert!(private_reason("172.16.0.1", &[]).is_some());
        assert!(private_reason("172.32.0.1", &[]).is_none());
        assert!(private_reason("192.168.0.1", &[]).is_some());
        assert!(private_reason("127.0.0.1", &[]).is_some());
        assert!(private_reason("fd00::1", &[]).is_some());
        assert!(private_reason("8.8.8.8", &[]).is_none());
        assert!(private_reason("example.com", &[]).is_none());
        assert!(private_reason("wiki", &[]).is_some());
        assert!(private_reason("a.intra.example.co.jp", &["intra.example.co.jp".into()]).is_some());
        assert!(private_reason("notintra.example.co.jp", &["intra.example.co.jp".into()]).is_none());
    }

    #[test]
    fn hashtags_need_a_space_before_and_are_not_numbers() {
        let t = "a #one b#two #3 ＃四 #five";
        let tags: Vec<&str> = hashtag_starts(t).iter().map(|(s, e)| &t[*s..*e]).collect();
        assert_eq!(tags, ["#one", "＃四", "#five"]);
    }
}
