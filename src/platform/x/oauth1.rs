//! OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849), as required by X's
//! v1.1 and v2 user-context endpoints, plus the server side (header parsing
//! and verification) so that a fake X server in tests can check what we send.
//!
//! What gets signed (RFC 5849 §3.4.1):
//!
//! * the HTTP method, upper-cased;
//! * the base string URI: scheme and host lower-cased, default port (80 for
//!   http, 443 for https) dropped, path kept as sent, no query or fragment;
//! * the normalised parameters: the URL's query parameters, the
//!   `application/x-www-form-urlencoded` body parameters and the `oauth_*`
//!   protocol parameters (never `oauth_signature` or `realm`), each name and
//!   value percent-encoded, sorted by name then value, joined with `&`.
//!
//! A JSON body (X API v2 `POST /2/tweets`) is *not* a parameter source and is
//! not signed: pass no form parameters for it.
//!
//! The signing key is `encode(consumer_secret) & encode(token_secret)`, the
//! signature is the Base64 of the HMAC-SHA1 of the base string.
//!
//! Nonces and timestamps are parameters of the pure functions so that
//! signatures are reproducible in tests; [`generate_nonce`] and
//! [`unix_timestamp`] provide real values.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha1::Sha1;

/// The only signature method implemented (and the only one X accepts).
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// Value of `oauth_version` we send; RFC 5849 §3.1 makes it optional.
pub const OAUTH_VERSION: &str = "1.0";

/// The four OAuth 1.0a credentials of an X app acting for one user.
///
/// `Debug` redacts both secrets so that credentials can sit in logged
/// structures without leaking.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// "API key" in the X developer portal.
    pub consumer_key: String,
    /// "API key secret".
    pub consumer_secret: String,
    /// User access token; empty when there is none (e.g. request-token step),
    /// in which case `oauth_token` is omitted.
    pub token: String,
    /// User access token secret.
    pub token_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("token", &self.token)
            .field("token_secret", &"<redacted>")
            .finish()
    }
}

/// Why a request could not be signed, or why a signed request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The URL is not an absolute `scheme://host/...` URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// A `%` escape is not followed by two hex digits.
    #[error("invalid percent-encoding in {0:?}")]
    InvalidPercentEncoding(String),
    /// The Authorization header does not use the `OAuth` scheme.
    #[error("authorization header does not use the OAuth scheme")]
    NotOAuthScheme,
    /// The Authorization header is not a list of `name="value"` pairs.
    #[error("malformed OAuth authorization header: {0}")]
    MalformedHeader(String),
    /// A protocol parameter appears twice (RFC 5849 §3.5.1 forbids it).
    #[error("duplicate OAuth parameter {0}")]
    DuplicateParameter(String),
    /// A required protocol parameter is absent.
    #[error("missing OAuth parameter {0}")]
    MissingParameter(&'static str),
    /// `oauth_signature_method` is not HMAC-SHA1.
    #[error("unsupported signature method {0:?}")]
    UnsupportedSignatureMethod(String),
    /// `oauth_version` is present and not "1.0".
    #[error("unsupported OAuth version {0:?}")]
    UnsupportedVersion(String),
    /// `oauth_consumer_key` is not the expected one.
    #[error("unknown consumer key")]
    ConsumerKeyMismatch,
    /// `oauth_token` is not the expected one.
    #[error("unknown or missing token")]
    TokenMismatch,
    /// The signature does not match the request: tampered request or wrong
    /// secrets.
    #[error("signature does not match the request")]
    SignatureMismatch,
}

/// Percent-encodes per RFC 5849 §3.6: only the unreserved characters
/// `A-Z a-z 0-9 - . _ ~` stay as they are; every other UTF-8 byte becomes
/// `%XX` with upper-case hex. (Unlike form encoding, a space is `%20`, never
/// `+`, which is the classic source of OAuth signature mismatches.)
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (any case); with `plus_as_space`, `+` becomes a
/// space as in `application/x-www-form-urlencoded`. Bytes that are not
/// valid UTF-8 are replaced with U+FFFD.
fn percent_decode(s: &str, plus_as_space: bool) -> Result<String, OAuthError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| OAuthError::InvalidPercentEncoding(s.to_string()))?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Parses an `application/x-www-form-urlencoded` string (a URL query or a
/// form body) into decoded pairs; `a` without `=` has an empty value
/// (RFC 5849 §3.4.1.3.1).
pub fn parse_form_urlencoded(s: &str) -> Result<Vec<(String, String)>, OAuthError> {
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

/// An absolute URL split into what the base string needs.
struct SplitUrl<'a> {
    /// Base string URI (RFC 5849 §3.4.1.2).
    base_uri: String,
    /// Raw query, without `?`.
    query: Option<&'a str>,
}

fn split_url(url: &str) -> Result<SplitUrl<'_>, OAuthError> {
    let invalid = || OAuthError::InvalidUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return Err(invalid());
    }
    // The fragment is never sent, so it is never signed.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (rest, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // User information is not part of the base string URI.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if host_port.is_empty() {
        return Err(invalid());
    }
    // Split off a port, minding IPv6 literals such as [::1]:8080.
    let (host, port) = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => (&host_port[..i], Some(&host_port[i + 1..])),
        _ => (host_port, None),
    };
    if host.is_empty() || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid());
    }
    let default_port = match scheme.as_str() {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    };
    let port = port.filter(|p| Some(*p) != default_port);
    let host = host.to_ascii_lowercase();
    let base_uri = match port {
        Some(p) => format!("{scheme}://{host}:{p}{path}"),
        None => format!("{scheme}://{host}{path}"),
    };
    Ok(SplitUrl { base_uri, query })
}

/// Builds the signature base string (RFC 5849 §3.4.1).
///
/// `url` is the request URL as sent; its query parameters are included
/// automatically. `params` are the other parameters: the decoded form body
/// parameters (if the body is form-encoded) and the `oauth_*` protocol
/// parameters. `oauth_signature` and `realm` are ignored if present.
pub fn signature_base_string(method: &str, url: &str, params: &[(String, String)]) -> Result<String, OAuthError> {
    let split = split_url(url)?;
    let query_params = match split.query {
        Some(q) => parse_form_urlencoded(q)?,
        None => Vec::new(),
    };
    let mut encoded: Vec<(String, String)> = query_params
        .iter()
        .chain(params)
        .filter(|(name, _)| name != "oauth_signature" && name != "realm")
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    // Sorting the *encoded* strings byte-wise is what §3.4.1.3.2 specifies;
    // tuples sort by name, then by value for duplicate names.
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    Ok(format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(&split.base_uri),
        percent_encode(&normalized)
    ))
}

/// HMAC-SHA1 signature (Base64) of a base string (RFC 5849 §3.4.2).
pub fn sign_base_string(consumer_secret: &str, token_secret: &str, base_string: &str) -> String {
    let key = format!("{}&{}", percent_encode(consumer_secret), percent_encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(base_string.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The protocol parameters we send, sorted by name, without the signature:
/// `oauth_consumer_key`, `oauth_nonce`, `oauth_signature_method`,
/// `oauth_timestamp`, `oauth_token` (omitted when the token is empty) and
/// `oauth_version`.
pub fn protocol_params(creds: &Credentials, nonce: &str, timestamp: u64) -> Vec<(String, String)> {
    let mut params = vec![
        ("oauth_consumer_key".to_string(), creds.consumer_key.clone()),
        ("oauth_nonce".to_string(), nonce.to_string()),
        ("oauth_signature_method".to_string(), SIGNATURE_METHOD.to_string()),
        ("oauth_timestamp".to_string(), timestamp.to_string()),
    ];
    if !creds.token.is_empty() {
        params.push(("oauth_token".to_string(), creds.token.clone()));
    }
    params.push(("oauth_version".to_string(), OAUTH_VERSION.to_string()));
    params
}

/// The `oauth_signature` for a request.
///
/// `form_params` are the decoded `application/x-www-form-urlencoded` body
/// parameters (empty for a JSON or empty body); query parameters are taken
/// from `url`.
pub fn sign(
    creds: &Credentials,
    method: &str,
    url: &str,
    form_params: &[(String, String)],
    nonce: &str,
    timestamp: u64,
) -> Result<String, OAuthError> {
    let mut params = form_params.to_vec();
    params.extend(protocol_params(creds, nonce, timestamp));
    let base = signature_base_string(method, url, &params)?;
    Ok(sign_base_string(&creds.consumer_secret, &creds.token_secret, &base))
}

/// The value of the `Authorization` header for a request:
/// `OAuth oauth_consumer_key="…", oauth_nonce="…", oauth_signature="…",
/// oauth_signature_method="HMAC-SHA1", oauth_timestamp="…",
/// oauth_token="…", oauth_version="1.0"` (values percent-encoded).
///
/// Parameters are as for [`sign`].
pub fn authorization_header(
    creds: &Credentials,
    method: &str,
    url: &str,
    form_params: &[(String, String)],
    nonce: &str,
    timestamp: u64,
) -> Result<String, OAuthError> {
    let signature = sign(creds, method, url, form_params, nonce, timestamp)?;
    let mut params = protocol_params(creds, nonce, timestamp);
    params.push(("oauth_signature".to_string(), signature));
    params.sort();
    let fields = params
        .iter()
        .map(|(name, value)| format!("{}=\"{}\"", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!("OAuth {fields}"))
}

/// [`authorization_header`] with a fresh nonce and the current time.
pub fn authorize(
    creds: &Credentials,
    method: &str,
    url: &str,
    form_params: &[(String, String)],
) -> Result<String, OAuthError> {
    authorization_header(creds, method, url, form_params, &generate_nonce(), unix_timestamp())
}

/// A random 32-character alphanumeric nonce (RFC 5849 §3.3: unique per
/// timestamp; alphanumeric so it needs no encoding).
pub fn generate_nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Seconds since the Unix epoch, for `oauth_timestamp`.
pub fn unix_timestamp() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Parses an `Authorization: OAuth …` header value into decoded
/// `(name, value)` pairs, in header order (RFC 5849 §3.5.1). `realm` is
/// returned like any other parameter. Duplicate names are rejected.
pub fn parse_authorization_header(value: &str) -> Result<Vec<(String, String)>, OAuthError> {
    let value = value.trim();
    let rest = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("OAuth") => rest,
        None if value.eq_ignore_ascii_case("OAuth") => "",
        _ => return Err(OAuthError::NotOAuthScheme),
    };
    let malformed = |why: &str| OAuthError::MalformedHeader(why.to_string());
    let mut params: Vec<(String, String)> = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| malformed("expected name=\"value\""))?;
        let name = name.trim();
        if name.is_empty() || name.contains([',', '"', ' ']) {
            return Err(malformed("bad parameter name"));
        }
        let after = after.trim_start();
        let quoted = after
            .strip_prefix('"')
            .ok_or_else(|| malformed("value must be quoted"))?;
        // Encoded values cannot contain '"', so the next quote ends the value.
        let (raw_value, after) = quoted.split_once('"').ok_or_else(|| malformed("unterminated value"))?;
        let name = percent_decode(name, false)?;
        if params.iter().any(|(n, _)| *n == name) {
            return Err(OAuthError::DuplicateParameter(name));
        }
        params.push((name, percent_decode(raw_value, false)?));
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if after.is_empty() => after,
            None => return Err(malformed("expected ',' between parameters")),
        };
    }
    Ok(params)
}

/// Verifies a signed request as a server would: the header must carry
/// HMAC-SHA1 protocol parameters for `creds.consumer_key` and `creds.token`,
/// and its `oauth_signature` must match the request (`method`, `url` with
/// its query, decoded form body parameters) signed with the secrets in
/// `creds`.
///
/// Timestamp freshness and nonce replay are policy decisions left to the
/// caller (read them from [`parse_authorization_header`]).
pub fn verify(
    creds: &Credentials,
    method: &str,
    url: &str,
    form_params: &[(String, String)],
    authorization: &str,
) -> Result<(), OAuthError> {
    let header = parse_authorization_header(authorization)?;
    let get = |name: &'static str| header.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let require = |name: &'static str| get(name).ok_or(OAuthError::MissingParameter(name));

    let method_param = require("oauth_signature_method")?;
    if method_param != SIGNATURE_METHOD {
        return Err(OAuthError::UnsupportedSignatureMethod(method_param.to_string()));
    }
    if let Some(version) = get("oauth_version") {
        if version != OAUTH_VERSION {
            return Err(OAuthError::UnsupportedVersion(version.to_string()));
        }
    }
    if !constant_time_eq(require("oauth_consumer_key")?, &creds.consumer_key) {
        return Err(OAuthError::ConsumerKeyMismatch);
    }
    if !constant_time_eq(get("oauth_token").unwrap_or(""), &creds.token) {
        return Err(OAuthError::TokenMismatch);
    }
    require("oauth_nonce")?;
    require("oauth_timestamp")?;
    let signature = require("oauth_signature")?;

    let mut params = form_params.to_vec();
    params.extend(
        header
            .iter()
            .filter(|(n, _)| n.starts_with("oauth_") && n != "oauth_signature")
            .cloned(),
    );
    let base = signature_base_string(method, url, &params)?;
    let expected = sign_base_string(&creds.consumer_secret, &creds.token_secret, &base);
    if constant_time_eq(signature, &expected) {
        Ok(())
    } else {
        Err(OAuthError::SignatureMismatch)
    }
}

/// Compares without an early exit on the first differing byte, so a fake
/// or real server does not leak how much of a signature was right.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn split_url_normalises_scheme_host_and_default_ports() {
        let cases = [
            ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
            ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
            ("https://api.x.com:443/2/tweets", "https://api.x.com/2/tweets"),
            ("http://example.com:443/a", "http://example.com:443/a"),
            ("https://example.com", "https://example.com/"),
            ("https://user:pw@Example.com/p#frag", "https://example.com/p"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(split_url(url).unwrap().base_uri, expected, "{url}");
        }
        for bad in ["example.com/path", "https:///path", "https://host:abc/", "://x"] {
            assert!(matches!(split_url(bad), Err(OAuthError::InvalidUrl(_))), "{bad}");
        }
    }

    #[test]
    fn percent_decode_rejects_bad_escapes() {
        assert_eq!(percent_decode("a%2Bb+c", true).unwrap(), "a+b c");
        assert_eq!(percent_decode("a+b", false).unwrap(), "a+b");
        assert!(percent_decode("%zz", false).is_err());
        assert!(percent_decode("%4", false).is_err());
    }

    #[test]
    fn form_parsing_handles_missing_values() {
        assert_eq!(
            parse_form_urlencoded("c2&a3=2+q&c%40=").unwrap(),
            pairs(&[("c2", ""), ("a3", "2 q"), ("c@", "")])
        );
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
