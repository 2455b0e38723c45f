//! Unit tests for the public behaviour; expected values were checked
//! against prh 5.4.4 by hand (see js/gen_vectors.js for the bulk checks).

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

fn dict(yaml: &str) -> Dictionary {
    Dictionary::from_yaml_str(yaml, Path::new("/nonexistent/test.yml")).unwrap()
}

fn spans(d: &Dictionary, text: &str) -> Vec<(String, String)> {
    d.check(text).into_iter().map(|h| (h.matched, h.replacement)).collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// A fresh directory under the system temp dir (no tempfile dependency).
fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "herald-prh-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn literal_without_pattern_matches_width_and_case_forms() {
    let d = dict("version: 1\nrules:\n  - expected: jQuery\n  - expected: Web2\n");
    assert_eq!(d.len(), 2);
    let text = "JQUERYとｊＱｕｅｒｙとjQueryとＷＥＢ２とweb2";
    assert_eq!(
        spans(&d, text),
        vec![
            pair("JQUERY", "jQuery"),
            pair("ｊＱｕｅｒｙ", "jQuery"),
            pair("ＷＥＢ２", "Web2"),
            pair("web2", "Web2"),
        ]
    );
    // The hit equal to `expected` is not reported, and offsets are bytes.
    let hits = d.check(text);
    assert_eq!(hits[1].start, "JQUERYと".len());
    assert_eq!(hits[1].end, "JQUERYとｊＱｕｅｒｙ".len());
    assert_eq!(d.fix(text), "jQueryとjQueryとjQueryとWeb2とWeb2");
}

#[test]
fn word_boundary_option_is_ascii_boundary() {
    let d = dict("version: 1\nrules:\n  - expected: Go\n    options:\n      wordBoundary: true\n");
    // Kana next to "go" is a JS boundary; "good" is not.
    assert_eq!(spans(&d, "goで書く good"), vec![pair("go", "Go")]);
}

#[test]
fn literal_pattern_is_escaped_like_prh() {
    let d = dict("version: 1\nrules:\n  - expected: Node.js\n    pattern: node.js\n");
    assert_eq!(spans(&d, "node.js nodexjs"), vec![pair("node.js", "Node.js")]);
    // prh escapes `-` to `\-`, which V8 rejects under the u flag.
    let err = Dictionary::from_yaml_str(
        "version: 1\nrules:\n  - expected: Objective-C\n    pattern: objective-c\n",
        Path::new("x.yml"),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("x.yml") && msg.contains("Objective-C") && msg.contains("line 3"),
        "{msg}"
    );
}

#[test]
fn regex_translation_cases() {
    let d = dict(concat!(
        "version: 1\nrules:\n",
        "  - expected: N\n    pattern: /\\d+件/\n",
        "  - expected: で\n    pattern: /(?<!ま)でで/\n",
        "  - expected: $1\n    pattern: /(はい)\\1/\n",
        "  - expected: <$1>\n    pattern: /(?<tag>[a-z]+)!\\k<tag>/\n",
    ));
    assert_eq!(
        spans(&d, "３件と12件。までで、そこでで。はいはい。ab!ab"),
        vec![
            pair("12件", "N"),
            pair("でで", "で"),
            pair("はいはい", "はい"),
            pair("ab!ab", "<ab>"),
        ]
    );
}

#[test]
fn ignore_case_flag_and_boundary_in_regex() {
    let d = dict("version: 1\nrules:\n  - expected: GitHub\n    pattern: /\\bgithub\\b/i\n");
    assert_eq!(
        spans(&d, "GITHUBとgithubs、Ｇｉｔｈｕｂ"),
        vec![pair("GITHUB", "GitHub")]
    );
}

#[test]
fn regexp_must_empty_drops_hits_with_group() {
    let d = dict(concat!(
        "version: 1\nrules:\n",
        "  - expected: こと\n    pattern: /(記|大)?事/\n    regexpMustEmpty: $1\n",
    ));
    assert_eq!(spans(&d, "記事と大事な事"), vec![pair("事", "こと")]);
    let err = Dictionary::from_yaml_str(
        "version: 1\nrules:\n  - expected: a\n    pattern: b\n    regexpMustEmpty: 1\n",
        Path::new("m.yml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("$1 format"), "{err}");
}

#[test]
fn dollar_substitution() {
    let d = dict(concat!(
        "version: 1\nrules:\n",
        "  - expected: \"@<$1>{$2}\"\n    pattern: /@([^{<>]+)\\{([^}]+)\\}/\n",
        "  - expected: $1です$3\n    pattern: /(だ)(よ)?ね/\n",
    ));
    assert_eq!(
        spans(&d, "@list{foo} だね"),
        vec![pair("@list{foo}", "@<list>{foo}"), pair("だね", "だです$3")]
    );
    assert_eq!(d.fix("@list{foo} だね"), "@<list>{foo} だです$3");
}

#[test]
fn overlap_resolution_earliest_then_longest() {
    let d = dict(concat!(
        "version: 1\nrules:\n",
        "  - expected: X\n    pattern: abc\n",
        "  - expected: Y\n    pattern: abcd\n",
        "  - expected: Z\n    pattern: cde\n",
    ));
    // abcd (longest at 0) wins; cde overlaps it and loses.
    assert_eq!(spans(&d, "abcde"), vec![pair("abcd", "Y")]);
    assert_eq!(d.fix("abcde abc"), "Ye X");
}

#[test]
fn paragraphs_and_pragmas() {
    let d =
        dict("version: 1\nrules:\n  - expected: よい\n    pattern: 良い\n  - expected: 悪い\n    pattern: わるい\n");
    let text = "良い\n\n良い prh:disable\n\n良い わるい\n<!-- prh:disable:良い -->";
    assert_eq!(spans(&d, text), vec![pair("良い", "よい"), pair("わるい", "悪い")]);
    let hits = d.check(text);
    assert_eq!(hits[1].start, text.find("わるい").unwrap());
}

#[test]
fn imports_with_ignore_rules_and_disable_imports() {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/base.yml"),
        concat!(
            "version: 1\nimports: deeper.yml\nrules:\n",
            "  - expected: サーバー\n    pattern: サーバ\n",
            "  - expected: ユーザー\n    pattern: /ユーザ(?!ー)/\n",
            "  - expected: 行う\n    pattern: 行なう\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("sub/deeper.yml"),
        "version: 1\nrules:\n  - expected: データ\n    pattern: デエタ\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.yml"),
        concat!(
            "version: 1\nrules:\n  - expected: 行う\n    pattern: おこなう\n",
            "imports:\n  - path: sub/base.yml\n    ignoreRules:\n",
            "      - expected: サーバー\n      - /ユーザ(?!ー)/gmu\n",
        ),
    )
    .unwrap();
    let d = Dictionary::load(&dir.join("main.yml")).unwrap();
    // Own rule first; base's 行う is a duplicate expected; サーバー and
    // ユーザー are ignored; deeper.yml follows base.
    assert_eq!(d.expected_values().collect::<Vec<_>>(), ["行う", "データ"]);

    std::fs::write(
        dir.join("main2.yml"),
        "version: 1\nimports:\n  - path: sub/base.yml\n    disableImports: true\n",
    )
    .unwrap();
    let d = Dictionary::load(&dir.join("main2.yml")).unwrap();
    assert_eq!(
        d.expected_values().collect::<Vec<_>>(),
        ["サーバー", "ユーザー", "行う"]
    );
    assert_eq!(d.fix("サーバのユーザ"), "サーバーのユーザー");

    // from_yaml_str resolves imports against the origin's directory.
    let d = Dictionary::from_yaml_str("version: 1\nimports: sub/deeper.yml\n", &dir.join("virtual.yml")).unwrap();
    assert_eq!(d.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn import_errors_name_the_file() {
    let dir = temp_dir();
    std::fs::write(dir.join("a.yml"), "version: 1\nimports: b.yml\n").unwrap();
    std::fs::write(dir.join("b.yml"), "version: 1\nimports: a.yml\n").unwrap();
    let err = Dictionary::load(&dir.join("a.yml")).unwrap_err();
    assert!(matches!(err, PrhError::ImportCycle { .. }), "{err}");
    let err = Dictionary::from_yaml_str("imports: missing.yml\n", &dir.join("c.yml")).unwrap_err();
    assert!(err.to_string().contains("missing.yml"), "{err}");
    std::fs::write(dir.join("v2.yml"), "version: 2\nrules: [x]\n").unwrap();
    let err = Dictionary::from_yaml_str("imports: v2.yml\n", &dir.join("c.yml")).unwrap_err();
    assert!(matches!(err, PrhError::VersionMismatch { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failing_spec_is_an_error_quoting_it() {
    let yaml = concat!(
        "version: 1\nrules:\n  - expected: ください\n    pattern: 下さい\n",
        "  - expected: 例えば\n    pattern: /たとえば/\n    specs:\n",
        "      - from: たとえばこれ\n        to: 例えばこれ\n",
        "      - from: 例えばあれ\n        to: たとえばあれ\n",
    );
    let err = Dictionary::from_yaml_str(yaml, Path::new("spec.yml")).unwrap_err();
    match &err {
        PrhError::SpecFailed { spec, line, .. } => {
            assert_eq!(spec.expected, "例えば");
            assert_eq!(spec.from, "例えばあれ");
            assert_eq!(spec.to, "たとえばあれ");
            assert_eq!(spec.got, "例えばあれ");
            assert_eq!(*line, Some(5));
        }
        other => panic!("unexpected error {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("spec.yml") && msg.contains("\"例えばあれ\""), "{msg}");
}

#[test]
fn yaml_errors_carry_a_line() {
    let err = Dictionary::from_yaml_str("version: 1\nrules:\n  - expected: [\n", Path::new("bad.yml")).unwrap_err();
    assert!(matches!(err, PrhError::Yaml { line: Some(_), .. }), "{err}");
}

#[test]
fn plain_string_rules_and_empty_dictionaries() {
    let d = dict("version: 1\nrules:\n  - TypeScript\n");
    assert_eq!(d.len(), 1);
    assert!(!d.is_empty());
    assert_eq!(d.fix("typescriptとＴＹＰＥＳＣＲＩＰＴ"), "TypeScriptとTypeScript");
    let empty = dict("version: 1\n");
    assert!(empty.is_empty());
    assert!(empty.check("何でも").is_empty());
}

#[test]
fn invalid_pragma_pattern_is_matched_literally() {
    // prh throws "Unterminated character class" here; herald keeps going
    // and drops hits whose matched text contains the pattern as text.
    let d = dict("version: 1\nrules:\n  - expected: サーバー\n    pattern: /\\[?サーバ(?!ー)/\n");
    let text = "prh:disable:[サ\n[サーバ と サーバ";
    let hits = d.check(text);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].start, text.rfind("サーバ").unwrap());
}

#[test]
fn hits_carry_rule_metadata() {
    let d = dict("version: 1\nrules:\n  - expected: $1です\n    pattern: /(これ)だ/\n    prh: 敬体で書く\n");
    let hits = d.check("これだ");
    assert_eq!(
        hits,
        vec![Hit {
            start: 0,
            end: "これだ".len(),
            matched: "これだ".into(),
            replacement: "これです".into(),
            expected: "$1です".into(),
            description: Some("敬体で書く".into()),
        }]
    );
}

#[test]
fn overlapping_chain_is_kept_and_fixed_like_prh() {
    // prh compares each diff only with its predecessor, so (0,10) and
    // (8,12) both survive; its splice then works on shifted indices.
    // Expected values produced by prh 5.4.4 in node.
    let d = dict(concat!(
        "version: 1\nrules:\n",
        "  - expected: X\n    pattern: abcdefghij\n",
        "  - expected: Y\n    pattern: cd\n",
        "  - expected: Z\n    pattern: fg\n",
        "  - expected: WW\n    pattern: ijkl\n",
    ));
    let hits = d.check("abcdefghijklmn");
    assert_eq!(
        hits.iter().map(|h| (h.start, h.end)).collect::<Vec<_>>(),
        [(0, 10), (8, 12)]
    );
    assert_eq!(d.fix("abcdefghijklmn"), "XklmWWmn");
    assert_eq!(d.fix("あbcdefghijklmn"), "あbYeZhWWmn");
}
