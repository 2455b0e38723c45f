// Generates tests/data/prh/vectors.json: what prh 5.4.4 reports for every dictionary
// in DICTIONARIES over every text in corpus.js.
//
//   cd js && npm install prh@5.4.4 && node gen_vectors.js
//
// Hits are prh's ChangeSet diffs *after* applyChangeSets (which runs the
// overlap pass a second time), i.e. exactly the diffs that produce `fixed`.
// Offsets are converted from JavaScript UTF-16 indices to UTF-8 byte offsets.
"use strict";

const fs = require("fs");
const path = require("path");
const prh = require("prh");

const version = require("prh/package.json").version;
if (version !== "5.4.4") {
  throw new Error(`expected prh 5.4.4, found ${version}`);
}

const SHARED = process.env.PRH_DICTIONARIES_DIR || path.join(__dirname, "..", "..", "..", "..", "shared", "dictionaries");
const DICTIONARIES = [
  "prh-rules/languages/ja/typo.yml",
  "prh-rules/media/WEB+DB_PRESS.yml",
  "prh-rules/media/techbooster.yml",
  "prh-rules/terms/android.yml",
  "prh-rules/terms/javascript.yml",
  "prh-rules/terms/review.yml",
  "prh-rules/terms/software.yml",
  "prh-rules/terms/trademark.yml",
];

const corpus = require("./corpus.js");

// Edge-case dictionaries shipped with the tests (paths relative to
// tests/data/prh/), each run over its own corpus.
const LOCAL = [{ dictionary: "edge/edge.yml", corpus: require("./edge_corpus.js") }];
const TESTS_PRH = __dirname;

function utf8Offset(text, utf16Index) {
  return Buffer.byteLength(text.slice(0, utf16Index), "utf8");
}

const vectors = [];
for (const dict of DICTIONARIES) {
  const engine = prh.fromYAMLFilePath(path.join(SHARED, dict));
  for (const text of corpus) {
    const changeSet = engine.makeChangeSet("post.txt", text);
    const fixed = changeSet.applyChangeSets(text);
    const hits = changeSet.diffs.map((d) => ({
      start: utf8Offset(text, d.index),
      end: utf8Offset(text, d.tailIndex),
      matched: d.matches[0],
      replacement: d.newText,
      expected: d.expected,
    }));
    vectors.push({ dictionary: dict, rules: engine.rules.length, text, hits, fixed });
  }
}

for (const { dictionary, corpus: texts } of LOCAL) {
  // prh's error messages and import resolution use the path as given, so a
  // relative path keeps the vectors machine-independent.
  const engine = prh.fromYAMLFilePath(path.join(TESTS_PRH, dictionary));
  for (const text of texts) {
    const changeSet = engine.makeChangeSet("post.txt", text);
    const fixed = changeSet.applyChangeSets(text);
    const hits = changeSet.diffs.map((d) => ({
      start: utf8Offset(text, d.index),
      end: utf8Offset(text, d.tailIndex),
      matched: d.matches[0],
      replacement: d.newText,
      expected: d.expected,
    }));
    vectors.push({ dictionary, local: true, rules: engine.rules.length, text, hits, fixed });
  }
}

const out = path.join(__dirname, "vectors.json");
fs.writeFileSync(out, JSON.stringify(vectors, null, 1) + "\n");
const withHits = vectors.filter((v) => v.hits.length > 0).length;
const totalHits = vectors.reduce((n, v) => n + v.hits.length, 0);
console.log(
  `${corpus.length} texts x ${DICTIONARIES.length} dictionaries + local edge cases = ${vectors.length} vectors ` +
    `(${withHits} with hits, ${totalHits} hits) -> ${out}`
);
