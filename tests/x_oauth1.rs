//! OAuth 1.0a signer tests against published worked examples (RFC 5849 and
//! X's "Creating a signature" guide) plus a sign → parse → verify round trip
//! as the fake X server will do it.

use herald::platform::x::oauth1::{
    authorization_header, parse_authorization_header, percent_encode, sign, sign_base_string, signature_base_string,
    verify, Credentials, OAuthError,
};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// X's "Creating a signature" example credentials.
fn x_doc_credentials() -> Credentials {
    Credentials {
        consumer_key: "xvz1evFS4wEEPTGEFPHBog".into(),
        consumer_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw".into(),
        token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb".into(),
        token_secret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE".into(),
    }
}
const X_DOC_NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
const X_DOC_TIMESTAMP: u64 = 1_318_622_958;
const X_DOC_STATUS: &str = "Hello Ladies + Gentlemen, a signed OAuth request!";
const X_DOC_SIGNATURE: &str = "hCtSmYh+iHYCEqBWrE7C7hYmtUk=";

#[test]
fn percent_encoding_follows_rfc5849_section_3_6() {
    let cases = [
        ("", ""),
        ("abcXYZ019", "abcXYZ019"),
        ("-._~", "-._~"),
        (" ", "%20"),
        ("+", "%2B"),
        ("Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen"),
        ("!*'()", "%21%2A%27%28%29"),
        ("a/b?c=d&e#f", "a%2Fb%3Fc%3Dd%26e%23f"),
        ("%", "%25"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("é", "%C3%A9"),
        ("😀", "%F0%9F%98%80"),
    ];
    for (input, expected) in cases {
        assert_eq!(percent_encode(input), expected, "{input:?}");
    }
}

#[test]
fn rfc5849_section_3_4_1_1_base_string() {
    // The RFC's example request: query b5=%3D%253D&a3=a&c%40=&a2=r%20b, form
    // body c2&a3=2+q; realm and oauth_signature must not be signed.
    let mut params = pairs(&[("c2", ""), ("a3", "2 q")]);
    params.extend(pairs(&[
        ("realm", "Example"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
    ]));
    let base = signature_base_string(
        "post",
        "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        &params,
    )
    .unwrap();
    assert_eq!(
        base,
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D\
         %25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a\
         %26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    );
}

#[test]
fn rfc5849_section_1_2_photos_request() {
    // GET http://photos.example.net/photos?file=vacation.jpg&size=original
    // with exactly the protocol parameters of the RFC's Authorization header
    // (no oauth_version, which the RFC example omits).
    let oauth = pairs(&[
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]);
    let base = signature_base_string(
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        &oauth,
    )
    .unwrap();
    assert_eq!(
        base,
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3D\
         dpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26\
         oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
    );
    assert_eq!(
        sign_base_string("kd94hf93k423kf44", "pfkkdhi9sl3r4s00", &base),
        "MdpQcU8iPSUjWoN/UDMsK2sui9I="
    );

    // The server side accepts the RFC's own header for that request.
    let creds = Credentials {
        consumer_key: "dpf43f3p2l4k3l03".into(),
        consumer_secret: "kd94hf93k423kf44".into(),
        token: "nnch734d00sl2jdk".into(),
        token_secret: "pfkkdhi9sl3r4s00".into(),
    };
    let rfc_header = r#"OAuth realm="Photos",
        oauth_consumer_key="dpf43f3p2l4k3l03",
        oauth_token="nnch734d00sl2jdk",
        oauth_signature_method="HMAC-SHA1",
        oauth_timestamp="137131202",
        oauth_nonce="chapoH",
        oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D""#;
    verify(
        &creds,
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        &[],
        rfc_header,
    )
    .unwrap();
}

#[test]
fn x_creating_a_signature_example_base_string_and_signature() {
    let creds = x_doc_credentials();
    let url = "https://api.twitter.com/1.1/statuses/update.json";
    let params = pairs(&[("include_entities", "true"), ("status", X_DOC_STATUS)]);
    let sig = sign(&creds, "POST", url, &params, X_DOC_NONCE, X_DOC_TIMESTAMP).unwrap();
    assert_eq!(sig, X_DOC_SIGNATURE);

    // The guide's published base string, rebuilt from the same inputs.
    let mut all = params.clone();
    all.extend(pairs(&[
        ("oauth_consumer_key", &creds.consumer_key),
        ("oauth_nonce", X_DOC_NONCE),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        ("oauth_token", &creds.token),
        ("oauth_version", "1.0"),
    ]));
    assert_eq!(
        signature_base_string("POST", url, &all).unwrap(),
        "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue\
         %26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\
         %26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-\
         GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520\
         %252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
    );
}

#[test]
fn x_example_with_query_in_url_signs_the_same() {
    // The guide sends include_entities in the query and status in the body.
    let sig = sign(
        &x_doc_credentials(),
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        &pairs(&[("status", X_DOC_STATUS)]),
        X_DOC_NONCE,
        X_DOC_TIMESTAMP,
    )
    .unwrap();
    assert_eq!(sig, X_DOC_SIGNATURE);
}

#[test]
fn x_example_authorization_header() {
    let header = authorization_header(
        &x_doc_credentials(),
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        &pairs(&[("status", X_DOC_STATUS)]),
        X_DOC_NONCE,
        X_DOC_TIMESTAMP,
    )
    .unwrap();
    assert_eq!(
        header,
        "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", \
         oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", \
         oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\", \
         oauth_signature_method=\"HMAC-SHA1\", \
         oauth_timestamp=\"1318622958\", \
         oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", \
         oauth_version=\"1.0\""
    );
}

#[test]
fn parameters_sort_by_encoded_name_then_encoded_value() {
    // Duplicate names sort by value; comparison is on the encoded bytes, so
    // "%20" (space) < "%21" (!) < "0" and "A" < "a".
    let params = pairs(&[("b", "x"), ("a", "0"), ("a", "!"), ("a", " "), ("A", "z"), ("a b", "1")]);
    let base = signature_base_string("GET", "https://api.x.com/2/x?a=2", &params).unwrap();
    let normalized = base.rsplit('&').next().unwrap();
    assert_eq!(normalized, percent_encode("A=z&a=%20&a=%21&a=0&a=2&a%20b=1&b=x"));
}

#[test]
fn base_string_uri_normalisation() {
    let base = signature_base_string("get", "HTTPS://API.X.COM:443/2/Tweets?", &[]).unwrap();
    assert_eq!(base, "GET&https%3A%2F%2Fapi.x.com%2F2%2FTweets&");
    let base = signature_base_string("GET", "http://localhost:8080/2/tweets", &[]).unwrap();
    assert_eq!(base, "GET&http%3A%2F%2Flocalhost%3A8080%2F2%2Ftweets&");
    assert!(matches!(
        signature_base_string("GET", "api.x.com/2/tweets", &[]),
        Err(OAuthError::InvalidUrl(_))
    ));
}

#[test]
fn multibyte_parameters_are_signed_as_utf8() {
    let creds = x_doc_credentials();
    let url = "https://api.x.com/1.1/statuses/update.json";
    let params = pairs(&[("status", "日本語のテスト 😀")]);
    let base = signature_base_string("POST", url, &params).unwrap();
    assert!(base.ends_with(&percent_encode(
        "status=%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E3%83%86%E3%82%B9%E3%83%88%20%F0%9F%98%80"
    )));
    let header = authorization_header(&creds, "POST", url, &params, "n", 1).unwrap();
    verify(&creds, "POST", url, &params, &header).unwrap();
}

#[test]
fn round_trip_sign_parse_verify() {
    let creds = x_doc_credentials();
    let url = "https://api.x.com/2/tweets?expansions=author_id";
    let form = pairs(&[("status", "投稿 + テスト"), ("media_ids", "1,2")]);
    let header = authorization_header(&creds, "POST", url, &form, "abcDEF123", 1_700_000_000).unwrap();

    let parsed = parse_authorization_header(&header).unwrap();
    let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_token",
            "oauth_version"
        ]
    );
    let get = |name: &str| parsed.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(get("oauth_nonce"), "abcDEF123");
    assert_eq!(get("oauth_timestamp"), "1700000000");
    assert_eq!(get("oauth_token"), creds.token);
    assert_eq!(
        get("oauth_signature"),
        sign(&creds, "POST", url, &form, "abcDEF123", 1_700_000_000).unwrap()
    );

    verify(&creds, "POST", url, &form, &header).unwrap();
}

#[test]
fn verify_rejects_tampering_and_wrong_credentials() {
    let creds = x_doc_credentials();
    let url = "https://api.x.com/1.1/statuses/update.json";
    let form = pairs(&[("status", "original text")]);
    let header = authorization_header(&creds, "POST", url, &form, "nonce1", 1_700_000_000).unwrap();

    let tampered = pairs(&[("status", "tampered text")]);
    assert_eq!(
        verify(&creds, "POST", url, &tampered, &header),
        Err(OAuthError::SignatureMismatch)
    );
    assert_eq!(
        verify(&creds, "POST", &format!("{url}?extra=1"), &form, &header),
        Err(OAuthError::SignatureMismatch)
    );
    assert_eq!(
        verify(&creds, "GET", url, &form, &header),
        Err(OAuthError::SignatureMismatch)
    );

    let wrong_secret = Credentials {
        token_secret: "not-the-secret".into(),
        ..creds.clone()
    };
    assert_eq!(
        verify(&wrong_secret, "POST", url, &form, &header),
        Err(OAuthError::SignatureMismatch)
    );
    let wrong_consumer_secret = Credentials {
        consumer_secret: "nope".into(),
        ..creds.clone()
    };
    assert_eq!(
        verify(&wrong_consumer_secret, "POST", url, &form, &header),
        Err(OAuthError::SignatureMismatch)
    );
    let other_app = Credentials {
        consumer_key: "someone-else".into(),
        ..creds.clone()
    };
    assert_eq!(
        verify(&other_app, "POST", url, &form, &header),
        Err(OAuthError::ConsumerKeyMismatch)
    );
    let other_user = Credentials {
        token: "42-other".into(),
        ..creds.clone()
    };
    assert_eq!(
        verify(&other_user, "POST", url, &form, &header),
        Err(OAuthError::TokenMismatch)
    );

    // A forged timestamp invalidates the signature too.
    let forged = header.replace("1700000000", "1700000001");
    assert_eq!(
        verify(&creds, "POST", url, &form, &forged),
        Err(OAuthError::SignatureMismatch)
    );
}

#[test]
fn json_bodies_are_not_signed() {
    // X API v2 POST /2/tweets takes JSON: only the oauth_* parameters (and
    // any query) are signed, so the same header verifies whatever the JSON.
    let creds = x_doc_credentials();
    let url = "https://api.x.com/2/tweets";
    let header = authorization_header(&creds, "POST", url, &[], "n0nce", 1_700_000_000).unwrap();
    let oauth_only = pairs(&[
        ("oauth_consumer_key", &creds.consumer_key),
        ("oauth_nonce", "n0nce"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_token", &creds.token),
        ("oauth_version", "1.0"),
    ]);
    let expected = sign_base_string(
        &creds.consumer_secret,
        &creds.token_secret,
        &signature_base_string("POST", url, &oauth_only).unwrap(),
    );
    let parsed = parse_authorization_header(&header).unwrap();
    assert!(parsed.contains(&("oauth_signature".to_string(), expected)));
    verify(&creds, "POST", url, &[], &header).unwrap();
}

#[test]
fn parse_authorization_header_errors() {
    assert_eq!(
        parse_authorization_header("Bearer abc"),
        Err(OAuthError::NotOAuthScheme)
    );
    assert_eq!(
        parse_authorization_header(r#"oauth a="1",  b = "x%20y" ,c="""#).unwrap(),
        pairs(&[("a", "1"), ("b", "x y"), ("c", "")])
    );
    assert_eq!(parse_authorization_header("OAuth").unwrap(), vec![]);
    assert!(matches!(
        parse_authorization_header(r#"OAuth a=1"#),
        Err(OAuthError::MalformedHeader(_))
    ));
    assert!(matches!(
        parse_authorization_header(r#"OAuth a="1" b="2""#),
        Err(OAuthError::MalformedHeader(_))
    ));
    assert!(matches!(
        parse_authorization_header(r#"OAuth a="1"#),
        Err(OAuthError::MalformedHeader(_))
    ));
    assert_eq!(
        parse_authorization_header(r#"OAuth a="1", a="2""#),
        Err(OAuthError::DuplicateParameter("a".into()))
    );
    assert!(matches!(
        parse_authorization_header(r#"OAuth a="%G1""#),
        Err(OAuthError::InvalidPercentEncoding(_))
    ));
}

#[test]
fn verify_checks_protocol_parameters() {
    let creds = x_doc_credentials();
    let url = "https://api.x.com/2/tweets";
    let header = authorization_header(&creds, "POST", url, &[], "n", 1).unwrap();
    assert_eq!(
        verify(&creds, "POST", url, &[], &header.replace("HMAC-SHA1", "PLAINTEXT")),
        Err(OAuthError::UnsupportedSignatureMethod("PLAINTEXT".into()))
    );
    assert_eq!(
        verify(&creds, "POST", url, &[], &header.replace("\"1.0\"", "\"2.0\"")),
        Err(OAuthError::UnsupportedVersion("2.0".into()))
    );
    let without_nonce = header.replace("oauth_nonce=\"n\", ", "");
    assert_eq!(
        verify(&creds, "POST", url, &[], &without_nonce),
        Err(OAuthError::MissingParameter("oauth_nonce"))
    );
}

#[test]
fn debug_redacts_secrets() {
    let creds = x_doc_credentials();
    let shown = format!("{creds:?}");
    assert!(shown.contains("xvz1evFS4wEEPTGEFPHBog"));
    assert!(shown.contains("<redacted>"));
    assert!(!shown.contains(&creds.consumer_secret));
    assert!(!shown.contains(&creds.token_secret));
    let pretty = format!("{creds:#?}");
    assert!(!pretty.contains(&creds.consumer_secret));
    assert!(!pretty.contains(&creds.token_secret));
}

#[test]
fn fresh_nonces_and_authorize() {
    use herald::platform::x::oauth1::{authorize, generate_nonce, unix_timestamp};
    let a = generate_nonce();
    let b = generate_nonce();
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(a, b);
    assert!(unix_timestamp() > 1_700_000_000);

    let creds = x_doc_credentials();
    let url = "https://api.x.com/2/tweets";
    let header = authorize(&creds, "POST", url, &[]).unwrap();
    verify(&creds, "POST", url, &[], &header).unwrap();
}
