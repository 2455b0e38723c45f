// Times npm prh (5.4.4) on the corpus and dictionaries that `cargo bench
// --bench rules` wrote to target/bench-data/, for BENCHMARKS.md.
//
//   cargo bench --bench rules
//   NODE_PATH=/path/to/node_modules node benches/prh_compare.js
//
// prh checks only the dictionaries (5,000 generated rules plus
// config/dictionaries/corporate.yml); herald's figure covers every rule.
"use strict";

const fs = require("fs");
const path = require("path");
const prh = require("prh");

const data = path.join(__dirname, "..", "target", "bench-data");
const corpus = JSON.parse(fs.readFileSync(path.join(data, "corpus.json"), "utf8"));

let t0 = process.hrtime.bigint();
const engine = prh.fromYAMLFilePaths(
  path.join(data, "bench.yml"),
  path.join(__dirname, "..", "config", "dictionaries", "corporate.yml"),
);
const load = Number(process.hrtime.bigint() - t0) / 1e6;

let hits = 0;
for (const text of corpus.slice(0, 200)) {
  hits += engine.makeChangeSet("post.txt", text).diffs.length;
}
let best = Infinity;
for (let pass = 0; pass < 3; pass++) {
  t0 = process.hrtime.bigint();
  for (const text of corpus) {
    engine.makeChangeSet("post.txt", text);
  }
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
}
console.log(`prh ${require("prh/package.json").version}, node ${process.version}`);
console.log(`load dictionaries (${engine.rules.length} rules): ${load.toFixed(1)} ms`);
console.log(
  `checked ${corpus.length} posts: ${((best / corpus.length) * 1000).toFixed(1)} µs per post, ` +
    `${Math.round(corpus.length / (best / 1000))} posts/s; ${hits} hits in the warm-up`,
);
