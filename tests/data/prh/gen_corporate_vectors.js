// Generates tests/data/prh/corporate_vectors.json: what prh 5.4.4 reports
// for herald's starter dictionary (config/dictionaries/corporate.yml) over
// every text in corporate_corpus.js and corpus.js, with the dictionary's SHA-256 so the
// test notices a dictionary changed without new vectors.
//
//   cd js && npm install prh@5.4.4 && node gen_corporate_vectors.js
//   (or NODE_PATH=<folder with node_modules/prh> node gen_corporate_vectors.js)
//
// Hits are as in gen_vectors.js: prh's diffs after applyChangeSets, with
// UTF-16 indices converted to UTF-8 byte offsets.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const prh = require("prh");

const version = require("prh/package.json").version;
if (version !== "5.4.4") {
  throw new Error(`expected prh 5.4.4, found ${version}`);
}

const DICTIONARY = path.join(__dirname, "..", "..", "..", "config", "dictionaries", "corporate.yml");
// Its own corpus, then the business-text corpus of the public-dictionary
// vectors (corpus.js): press releases and posts written without this
// dictionary in mind.
const corpus = require("./corporate_corpus.js").concat(require("./corpus.js"));

function utf8Offset(text, utf16Index) {
  return Buffer.byteLength(text.slice(0, utf16Index), "utf8");
}

// Loading runs the dictionary's specs: prh throws if one fails.
const engine = prh.fromYAMLFilePath(DICTIONARY);
const vectors = corpus.map((text) => {
  const changeSet = engine.makeChangeSet("post.txt", text);
  const fixed = changeSet.applyChangeSets(text);
  const hits = changeSet.diffs.map((d) => ({
    start: utf8Offset(text, d.index),
    end: utf8Offset(text, d.tailIndex),
    matched: d.matches[0],
    replacement: d.newText,
    expected: d.expected,
  }));
  return { text, hits, fixed };
});

const sha256 = crypto.createHash("sha256").update(fs.readFileSync(DICTIONARY)).digest("hex");
const out = path.join(__dirname, "corporate_vectors.json");
fs.writeFileSync(
  out,
  JSON.stringify({ prh: version, dictionary: "config/dictionaries/corporate.yml", sha256, rules: engine.rules.length, vectors }, null, 1) + "\n"
);
const withHits = vectors.filter((v) => v.hits.length > 0).length;
const hitCount = vectors.reduce((n, v) => n + v.hits.length, 0);
console.log(`${vectors.length} texts (${withHits} with hits, ${hitCount} hits) -> ${out}`);
