// Regenerates the data tables at the bottom of src/length.rs from the
// installed npm packages (twitter-text 3.1.0 and its twemoji-parser 11.0.2),
// so the Rust tables can be diffed against the reference sources.
// Usage: node tools/gen_length_tables.js > /tmp/tables.rs
'use strict';
const path = require('path');
const nm = path.join(__dirname, 'node_modules');
const tt = (p) => require(path.join(nm, 'twitter-text', 'dist', p));

function tldList(re) {
  const m = re.source.match(/^\(\?:\(\?:(.*)\)\(\?=\[\^0-9a-zA-Z@\+-\]\|\$\)\)$/);
  if (!m) throw new Error('unexpected TLD regex shape');
  return m[1].split('|');
}

function rustStrList(name, doc, list) {
  let out = `/// ${doc}\n#[rustfmt::skip]\nconst ${name}: &[&str] = &[\n`;
  let line = '   ';
  for (const item of list) {
    const lit = ` ${JSON.stringify(item)},`;
    if (line.length + lit.length > 96) {
      out += line + '\n';
      line = '   ';
    }
    line += lit;
  }
  out += line + '\n];\n';
  return out;
}

// Split the twemoji regex into its top-level alternatives (depth-0 `|`).
function topLevelAlternatives(src) {
  const parts = [];
  let depth = 0, inClass = false, cur = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') { cur += c + src[++i]; continue; }
    if (inClass) { if (c === ']') inClass = false; cur += c; continue; }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

const twemoji = require(path.join(nm, 'twemoji-parser', 'dist', 'lib', 'regex.js')).default;
let out = '';
out += rustStrList('GTLDS', 'twitter-text 3.1.0 `validGTLD`, in its original (match-priority) order.', tldList(tt('regexp/validGTLD')));
out += '\n';
out += rustStrList('CCTLDS', 'twitter-text 3.1.0 `validCCTLD`, in its original (match-priority) order.', tldList(tt('regexp/validCCTLD')));
out += '\n/// twemoji-parser 11.0.2 emoji regex (UTF-16 code-unit syntax), one top-level\n/// alternative per entry; they are joined with `|` in their original order.\n';
out += '#[rustfmt::skip]\nconst TWEMOJI_ALTERNATIVES: &[&str] = &[\n';
for (const alt of topLevelAlternatives(twemoji.source)) {
  out += `    r"${alt}",\n`;
}
out += '];\n';
process.stdout.write(out);
