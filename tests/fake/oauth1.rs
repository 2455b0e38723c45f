//! The fake X server's own OAuth 1.0a (RFC 5849, HMAC-SHA1) check, written
//! apart from herald's `platform::x::oauth1` so that the fake can disagree
//! with herald: a signing bug in herald fails here instead of being
//! approved by the same code. Validated by the published examples in
//! `tests/data/x/oauth1_vectors.json` (X's "Creating a signature" guide,
//! RFC 5849 §1.2).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::http::{parse_form, percent_decode};

/// RFC 3986 unreserved characters pass; every other byte is `%XX` (upper case).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The parameters of an `Authorization: OAuth …` header, decoded; None when
/// it is not one.
pub fn header_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("OAuth")?;
    let mut out = Vec::new();
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, value) = item.split_once('=')?;
        let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
        out.push((percent_decode(name.trim())?, percent_decode(value)?));
    }
    Some(out)
}

/// The signature the request should carry: HMAC-SHA1 over RFC 5849's base
/// string (method, base URL without query, every query, form and `oauth_*`
/// parameter but `realm` and `oauth_signature`, sorted once encoded).
pub fn expected_signature(
    method: &str,
    url: &str,
    form: &str,
    oauth: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let (base_url, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<(String, String)> = parse_form(query)
        .into_iter()
        .chain(parse_form(form))
        .chain(
            oauth
                .iter()
                .filter(|(k, _)| k != "realm" && k != "oauth_signature")
                .cloned(),
        )
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    params.sort();
    let joined: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_url),
        encode(&joined.join("&"))
    );
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(base.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}
