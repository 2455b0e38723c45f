//! prh (Japanese proofreading) dictionaries, with the hits and fixes of npm
//! `prh` 5.4.4.
//!
//! A prh dictionary is a YAML file of rules (`expected` plus a `pattern`)
//! that may `imports` other dictionaries. [`Dictionary::load`] reads one
//! (following imports), compiles every pattern with JavaScript regular
//! expression semantics, and runs each rule's `specs`; [`Dictionary::check`]
//! lists the hits in a text and [`Dictionary::fix`] applies them.
//!
//! Behaviour follows prh's source (`lib/index.js`, `engine.js`,
//! `paragraph.js`, `rule.js`, `changeset/*.js`, `utils/regexp.js`), including
//! its quirks, because herald's verdicts must agree with what writers see in
//! their prh/textlint tooling:
//!
//! * Loading: a file's own rules come first, then each import in order
//!   (recursively, so an import's own imports follow it). When merging an
//!   import, a rule whose `expected` equals the `expected` of a rule already
//!   present is dropped; duplicates *within* one file are kept. Import paths
//!   are joined to the importing file's directory like Node's `path.join`
//!   (an absolute import path is therefore still treated as relative).
//!   `ignoreRules` entries (a string means `{pattern}`) remove imported rules
//!   whose `expected` equals `expected` or whose `RegExp#toString()` (e.g.
//!   `/\bfoo\b/gimu`) equals `pattern`; `disableImports` skips the imported
//!   file's own imports.
//! * Patterns: `/body/flags` is a JavaScript RegExp; anything else is a
//!   literal, escaped with prh's `escapeSpecialChars` (which does not escape
//!   `\` and turns `-`/`¥` into escapes V8 rejects, so such rules fail to
//!   load in prh and here). Without a pattern, `expected` itself is the
//!   pattern with each ASCII letter/digit widened to its half/full-width and
//!   upper/lower-case forms and every other character left *unescaped*
//!   (prh does not escape it: `(株)` is a capture group). `wordBoundary`
//!   wraps the source in `\b…\b` without grouping, as prh does. Flags are
//!   always `gmu`, plus `i` when given.
//! * Checking: the text is split into paragraphs at runs of two or more
//!   `\n`; every rule runs on each paragraph separately (so patterns cannot
//!   span paragraphs, `^`/`$` see paragraph edges). A match equal to the raw
//!   `expected` (before `$N` substitution) is not a hit; `regexpMustEmpty:
//!   $N` drops matches where group N captured something. Hits are sorted by
//!   (start, end); among equal starts the longest wins, then a hit starting
//!   before the end of its predecessor is dropped. prh compares each hit with
//!   its *immediate predecessor* only and runs this pass twice when fixing;
//!   that is reproduced exactly, and `check` returns the list `fix` applies.
//! * `prh:disable` pragmas are part of prh itself (`lib/paragraph.js`), not
//!   of textlint-rule-prh: anywhere in a paragraph, `prh:disable` alone
//!   silences the paragraph; `prh:disable:PATTERN` drops hits whose matched
//!   text matches the (non-`u`) JavaScript regex `PATTERN`, and hits that
//!   straddle the pragma text itself.
//!
//! Known, deliberate differences from prh are listed on [`Dictionary`].

mod engine;
mod jsregex;
mod prefilter;
mod rule;

use rule::{Rule, RuleError};
use serde_yaml_ng::Value;
use std::path::{Component, Path, PathBuf};

/// A loaded dictionary: its rules in prh order, after import merging.
///
/// Differences from prh 5.4.4, all on inputs prh mishandles:
/// * an import cycle is an error (prh recurses until the stack overflows);
/// * a malformed `regexpMustEmpty` is a load error (prh throws on the first
///   match instead);
/// * an empty `patterns: []` is a load error, and a pattern that matches the
///   empty string advances one character (prh loops forever on both);
/// * an invalid `prh:disable:PATTERN` regex is matched as literal text (prh
///   throws from `makeChangeSet`);
/// * `targets:` (file-name based include/exclude) is ignored because herald
///   checks posts, not files;
/// * regex matching runs on fancy-regex with a backtrack limit; a rule that
///   exceeds it on some text stops scanning that text (V8 has no limit).
#[derive(Debug)]
pub struct Dictionary {
    rules: Vec<Rule>,
    version: f64,
    /// Built on the first check, once the rules are final (imports merged).
    prefilter: std::sync::OnceLock<prefilter::Prefilter>,
}

/// One place where the text disagrees with the dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// UTF-8 byte offset of the match in the checked text.
    pub start: usize,
    /// UTF-8 byte offset just past the match.
    pub end: usize,
    /// The text that was matched.
    pub matched: String,
    /// `expected` with `$N` replaced by the match's groups.
    pub replacement: String,
    /// The rule's `expected` as written in the dictionary.
    pub expected: String,
    /// The rule's `prh` field (why the rule exists), if any.
    pub description: Option<String>,
}

/// Why a dictionary could not be loaded. Every message names the file and
/// ends with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum PrhError {
    /// The file (or an imported file) could not be read.
    #[error("prh dictionary {path}: cannot read it: {source}; check that the file exists and is readable (imports are resolved against the importing file's folder)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The YAML itself is malformed.
    #[error("prh dictionary {path}{}: invalid YAML: {message}; fix the YAML syntax", at_line(*line))]
    Yaml {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// The YAML is well formed but not shaped like a prh dictionary.
    #[error("prh dictionary {path}: {message}; see https://github.com/prh/prh for the file format")]
    Structure { path: PathBuf, message: String },
    /// A rule is invalid (bad pattern, missing field, bad regex …).
    #[error("prh dictionary {path}{}, rule {}: {message}; fix or remove this rule", at_line(*line), rule_name(expected))]
    Rule {
        path: PathBuf,
        line: Option<usize>,
        expected: Option<String>,
        message: String,
    },
    /// A rule's `specs` entry does not produce its `to`.
    #[error("prh dictionary {path}{}, rule \"{}\": spec failed: from \"{}\", expected to \"{}\", got \"{}\"; fix the rule's pattern or the spec", at_line(*line), spec.expected, spec.from, spec.to, spec.got)]
    SpecFailed {
        path: PathBuf,
        line: Option<usize>,
        /// Boxed to keep `Result<_, PrhError>` small.
        spec: Box<FailedSpec>,
    },
    /// An imported dictionary declares a different `version`.
    #[error("prh dictionary {path}: version {version} differs from imported {imported} (version {imported_version}); prh refuses to merge them (\"version mismatch!\"): make the versions equal")]
    VersionMismatch {
        path: PathBuf,
        imported: PathBuf,
        version: f64,
        imported_version: f64,
    },
    /// Imports form a cycle.
    #[error("prh dictionary {path}: import cycle: {}; remove one of these imports", chain.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    ImportCycle { path: PathBuf, chain: Vec<PathBuf> },
}

/// The spec that failed, with what the rule actually produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedSpec {
    /// The rule's `expected`.
    pub expected: String,
    /// The spec's `from`.
    pub from: String,
    /// The spec's `to`.
    pub to: String,
    /// What applying the rule to `from` gave.
    pub got: String,
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

fn rule_name(expected: &Option<String>) -> String {
    match expected {
        Some(e) => format!("\"{e}\""),
        None => "(without expected)".to_string(),
    }
}

impl Dictionary {
    /// Reads the dictionary at `path` and everything it imports.
    pub fn load(path: &Path) -> Result<Dictionary, PrhError> {
        let path = normalize(path);
        load_file(&path, false, &mut Vec::new())
    }

    /// Parses a dictionary from a string. `origin` stands for the file the
    /// YAML came from: imports resolve against its directory, and errors
    /// name it.
    pub fn from_yaml_str(yaml: &str, origin: &Path) -> Result<Dictionary, PrhError> {
        let origin = normalize(origin);
        let mut stack = vec![origin.clone()];
        from_yaml(yaml, &origin, false, &mut stack)
    }

    /// Number of rules after import merging and de-duplication.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the dictionary has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules' `expected` values, in the order they are applied.
    pub fn expected_values(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.expected.as_str())
    }

    /// The hits in `text`, ordered by start, overlaps resolved as prh does
    /// (exactly the list [`Dictionary::fix`] applies). prh compares each hit
    /// only with its predecessor, so a contrived chain such as (0,10),
    /// (2,4), (5,7), (8,12) leaves (0,10) and (8,12) overlapping; they are
    /// returned as prh returns them.
    pub fn check(&self, text: &str) -> Vec<Hit> {
        self.resolved(text)
            .into_iter()
            .map(|d| {
                let rule = &self.rules[d.rule];
                Hit {
                    start: d.start,
                    end: d.end,
                    matched: text[d.start..d.end].to_string(),
                    replacement: d.replacement,
                    expected: rule.expected.clone(),
                    description: rule.description.clone(),
                }
            })
            .collect()
    }

    /// `text` with every hit replaced by its replacement.
    pub fn fix(&self, text: &str) -> String {
        engine::apply_diffs(text, &self.resolved(text))
    }

    fn resolved(&self, text: &str) -> Vec<rule::Diff> {
        let selected = self
            .prefilter
            .get_or_init(|| prefilter::Prefilter::new(&self.rules))
            .candidates(text);
        let mut diffs = engine::collect_diffs(&self.rules, &selected, text);
        engine::resolve_overlaps(&mut diffs);
        diffs
    }

    /// prh's `Engine#merge` for rules: keep `other`'s rules whose `expected`
    /// is not already present.
    fn merge(&mut self, other: Dictionary) {
        let fresh: Vec<Rule> = other
            .rules
            .into_iter()
            .filter(|o| !self.rules.iter().any(|r| r.expected == o.expected))
            .collect();
        self.rules.extend(fresh);
        self.prefilter = std::sync::OnceLock::new();
    }
}

/// Lexical normalisation like Node's `path.normalize` (no symlink lookups),
/// so that `a/../b.yml` and `b.yml` are the same file for cycle detection.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn load_file(path: &Path, disable_imports: bool, stack: &mut Vec<PathBuf>) -> Result<Dictionary, PrhError> {
    let content = std::fs::read_to_string(path).map_err(|source| PrhError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    stack.push(path.to_path_buf());
    let result = from_yaml(&content, path, disable_imports, stack);
    stack.pop();
    result
}

/// JavaScript `+src.version || 1`.
fn js_version(v: Option<&Value>) -> f64 {
    let n = match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) if s.trim().is_empty() => 0.0,
        Some(Value::String(s)) => s.trim().parse().unwrap_or(f64::NAN),
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Null) => 0.0,
        _ => f64::NAN,
    };
    if n == 0.0 || n.is_nan() {
        1.0
    } else {
        n
    }
}

fn from_yaml(yaml: &str, path: &Path, disable_imports: bool, stack: &mut Vec<PathBuf>) -> Result<Dictionary, PrhError> {
    let mut value: Value = serde_yaml_ng::from_str(yaml).map_err(|e| PrhError::Yaml {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    })?;
    value.apply_merge().map_err(|e| PrhError::Yaml {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    })?;
    let structure = |message: &str| PrhError::Structure {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    if !value.is_mapping() {
        return Err(structure("the top level must be a mapping (version, imports, rules)"));
    }
    let version = js_version(value.get("version"));
    let mut rules = Vec::new();
    match value.get("rules") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                rules.push(Rule::from_yaml(item).map_err(|e| rule_error(yaml, path, i, e))?);
            }
        }
        Some(_) => return Err(structure("`rules` must be a list")),
    }
    let mut dict = Dictionary {
        rules,
        version,
        prefilter: std::sync::OnceLock::new(),
    };
    if disable_imports || !rule::truthy(value.get("imports")) {
        return Ok(dict);
    }
    let specs: Vec<Value> = match value.get("imports") {
        Some(Value::String(s)) => vec![Value::String(s.clone())],
        Some(Value::Sequence(items)) => items.clone(),
        _ => return Err(structure("`imports` must be a path or a list of imports")),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    for spec in specs {
        let (import_path, disable, ignore) = match &spec {
            Value::String(s) => (s.clone(), false, Vec::new()),
            Value::Mapping(_) => {
                let p = spec
                    .get("path")
                    .and_then(rule::scalar_to_string)
                    .ok_or_else(|| structure("an import needs a `path`"))?;
                let ignore = match spec.get("ignoreRules") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Sequence(v)) => v.clone(),
                    Some(_) => return Err(structure("`ignoreRules` must be a list")),
                };
                (p, rule::truthy(spec.get("disableImports")), ignore)
            }
            _ => return Err(structure("an import must be a path or {path, ...}")),
        };
        // Node's path.join concatenates even an absolute second argument.
        let target = normalize(&base.join(import_path.trim_start_matches('/')));
        if let Some(pos) = stack.iter().position(|p| *p == target) {
            let mut chain = stack[pos..].to_vec();
            chain.push(target);
            return Err(PrhError::ImportCycle {
                path: path.to_path_buf(),
                chain,
            });
        }
        let mut imported = load_file(&target, disable, stack)?;
        imported.rules.retain(|r| {
            !ignore.iter().any(|ig| match ig {
                Value::String(p) => r.js_pattern == *p,
                Value::Mapping(_) => {
                    ig.get("pattern")
                        .and_then(rule::scalar_to_string)
                        .is_some_and(|p| r.js_pattern == p)
                        || ig
                            .get("expected")
                            .and_then(rule::scalar_to_string)
                            .is_some_and(|e| r.expected == e)
                }
                _ => false,
            })
        });
        if imported.version != dict.version {
            return Err(PrhError::VersionMismatch {
                path: path.to_path_buf(),
                imported: target,
                version: dict.version,
                imported_version: imported.version,
            });
        }
        dict.merge(imported);
    }
    Ok(dict)
}

fn rule_error(yaml: &str, path: &Path, index: usize, e: RuleError) -> PrhError {
    let line = locate_rule(yaml, index, e.expected.as_deref());
    match e.spec {
        Some((from, to, got)) => PrhError::SpecFailed {
            path: path.to_path_buf(),
            line,
            spec: Box::new(FailedSpec {
                expected: e.expected.unwrap_or_default(),
                from,
                to,
                got,
            }),
        },
        None => PrhError::Rule {
            path: path.to_path_buf(),
            line,
            expected: e.expected,
            message: e.message,
        },
    }
}

/// Best-effort 1-based line of a rule, for error messages: serde's `Value`
/// keeps no positions, so look for the `expected:` line with this value,
/// else for the `index`-th item of the `rules:` list.
fn locate_rule(yaml: &str, index: usize, expected: Option<&str>) -> Option<usize> {
    let unquote = |v: &str| -> String {
        let v = v.trim();
        let v = match v.find(" #") {
            Some(k) if !v.starts_with(['"', '\'']) => &v[..k],
            _ => v,
        };
        let v = v.trim();
        if v.len() >= 2 && (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\'')) {
            v[1..v.len() - 1].to_string()
        } else {
            v.to_string()
        }
    };
    if let Some(exp) = expected {
        for (n, line) in yaml.lines().enumerate() {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            if let Some(rest) = t.strip_prefix("expected:") {
                let v = rest.split(" #").next().unwrap_or(rest);
                if unquote(v) == exp || unquote(rest) == exp {
                    return Some(n + 1);
                }
            }
        }
    }
    // Fallback: count list items directly under `rules:`.
    let mut in_rules = false;
    let mut indent: Option<usize> = None;
    let mut seen = 0;
    for (n, line) in yaml.lines().enumerate() {
        let trimmed = line.trim_start();
        let ind = line.len() - trimmed.len();
        if !in_rules {
            in_rules = line.starts_with("rules:");
            continue;
        }
        if ind == 0 && !trimmed.is_empty() && !trimmed.starts_with('-') && !trimmed.starts_with('#') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            if indent.is_none() {
                indent = Some(ind);
            }
            if indent == Some(ind) {
                if seen == index {
                    return Some(n + 1);
                }
                seen += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
