// Golden vectors for src/length.rs: runs twitter-text 3.1.0 parseTweet (default
// config v3) over a varied corpus and writes length_vectors.json.
// Usage: npm install twitter-text@3.1.0 && node gen_length_vectors.js
'use strict';
const fs = require('fs');
const path = require('path');
const twttr = require('twitter-text');

const pkg = require('twitter-text/package.json');
if (pkg.version !== '3.1.0') throw new Error(`expected twitter-text 3.1.0, got ${pkg.version}`);

const rep = (s, n) => s.repeat(n);
const corpus = [
  // --- empty, whitespace, ASCII ---
  '', ' ', '   ', '\n', '\t', '\n\n\n', ' \u3000 ', 'a', 'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'line one\nline two\r\nline three',
  'tabs\tand\tspaces  and  more',
  rep('a', 279), rep('a', 280), rep('a', 281), rep('x', 300),
  rep('ab ', 93) + 'a', rep('ab ', 93) + 'ab',
  '#hashtag @mention $CASH not urls',
  'email me: someone@example.com',
  'punctuation: !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  // --- light ranges edges ---
  '\u00e9\u00e8\u00ea Latin-1', 'Ελληνικά κείμενο', 'Русский текст', 'עברית', 'ქართული ენა',
  '\u10ff\u1100', '\u2000\u200d\u200e\u200f', '\u2010\u2014\u201c\u201d\u201f\u2020',
  '\u2031\u2032\u2037\u2038', '\u2026\u2022\u2122', '\u20ac100 and \u00a5200',
  // --- Japanese ---
  'こんにちは', 'カタカナ', '漢字テスト', '「こんにちは」、世界。', '今日は良い天気ですね！',
  '日本語とEnglishのmixed text', '１２３ＡＢＣ全角', 'ｶﾀｶﾅ半角', '東京都渋谷区 2-3-4',
  '予約投稿のテストです。明日の10:00に公開されます。',
  rep('あ', 139), rep('あ', 140), rep('あ', 141), rep('漢', 150),
  rep('あ', 139) + 'a', rep('あ', 139) + 'ab', rep('あ', 100) + rep('a', 80), rep('あ', 100) + rep('a', 81),
  '。、・ー〜「」『』【】（）！？',
  // --- Korean, Chinese, Arabic, others ---
  '안녕하세요', '한국어 텍스트 테스트입니다.', '你好，世界！', '繁體中文測試', 'مرحبا بالعالم',
  'العربية مع English', 'हिन्दी पाठ', 'ภาษาไทย', 'Tiếng Việt có dấu',
  rep('한', 140), rep('中', 141),
  // --- combining characters / normalisation ---
  '\u304b\u3099', '\u304b\u3099\u304b\u3099\u304b\u3099', '\u304c', '\u30cf\u309a', 'e\u0301', 'cafe\u0301',
  '\u1100\u1161\u11a8', '\u0061\u0308\u0304', 'A\u030a', '\u212b', '\u2126', '\u00c5\u0328',
  rep('\u304b\u3099', 140), rep('\u304b\u3099', 141),
  'a\u0301\u0302\u0303\u0304\u0305',
  // --- invalid characters ---
  'bad \ufffe char', 'bad \ufeff bom', 'bad \uffff char', '\ufeff', 'ok \ufffd replacement',
  // --- emoji ---
  '😀', '😀😀😀', 'hi 😀', '👍', '👍🏻', '👍🏿', '👍🏽 great', '❤', '❤️', '❤︎', '☺', '☺️', '☺︎',
  '✌', '✌️', '✌🏼', '☝️', '⌚', '⌚️', '©', '©️', '®️', '™', '™️', '♟️',
  '1️⃣', '1⃣', '#️⃣', '*️⃣', '0️⃣9️⃣', '🔟',
  '🇯🇵', '🇺🇸', '🇯🇵🇺🇸🇬🇧', '🇯', '🇯🇵🇯', '🇦🇦', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🏴󠁧󠁢󠁥󠁮󠁧󠁿', '🏳️‍🌈', '🏴‍☠️',
  '👨‍👩‍👧‍👦', '👨‍👩‍👧', '👩‍❤️‍💋‍👨', '👨‍❤️‍👨', '👁‍🗨',
  '👩‍💻', '👨🏾‍🚀', '👩🏻‍🔬', '🏃‍♀️', '🏃🏽‍♂️', '🏋️‍♀️', '🕵️‍♂️', '🤦‍♂️', '🧙‍♀️', '👯‍♀️',
  '🧑‍🤝‍🧑', '🥰', '🥺', '🦩', '🪐', '🫠', '🐈‍⬛', '❤️‍🔥',
  '\ufe0f', 'a\ufe0fb', '\u200d', '😀\u200d😀',
  '絵文字🎉テスト🎊', '🍣🍺🗾 日本', 'Emoji at end 🚀', rep('😀', 140), rep('😀', 141), rep('👨‍👩‍👧‍👦', 141),
  '🐧' + rep('a', 278), '𠮷野家', '𝕳𝖊𝖑𝖑𝖔', '🀄', '🅰️', '🈁',
  // --- URLs with scheme ---
  'https://example.com', 'http://example.com', 'https://example.com/path?q=1', 'HTTPS://EXAMPLE.COM/A',
  'Check https://example.com/path?q=1&r=2#frag now', 'https://example.com/' + rep('p', 200),
  'https://example.com/' + rep('p', 200) + ' ' + rep('a', 257),
  'https://example.com/' + rep('p', 200) + ' ' + rep('a', 258),
  'https://example.com:8080/x', 'https://sub.domain.example.co.uk/a/b/c.html',
  'https://ja.wikipedia.org/wiki/日本', 'https://日本語.jp', 'https://日本語.jp/パス',
  'https://xn--wgv71a.jp/', 'https://t.co/abc123', 'https://t.co/abc123/extra',
  'https://t.co/' + rep('a', 41), 'https://en.wikipedia.org/wiki/Rust_(programming_language)',
  'https://example.com/a(b)c', 'https://example.com/path.', 'https://example.com/path,', 'https://example.com/?',
  'ftp://example.com', 'https://localhost', 'https://127.0.0.1/', 'https://example.zzz',
  'https://example.com https://example.org', 'https://example.com/🚀',
  '日本語https://example.com', 'リンク→https://example.jp/記事',
  '(https://example.com)', '「https://example.com」', 'https://a.b.c.d.example.museum/',
  // --- URLs without scheme ---
  'example.com', 'example.co.jp', 'ibm.com/jp-ja', 'www.example.org', 'foo.io', 'bar.net', 'baz.org/path',
  'visit example.com today', 'example.com?q=1', 'example.com/path?q=1', 'EXAMPLE.COM', 'example.jp',
  'test.co.jp/a/b', 'sub.example.co.jp', 'example.c', 'example.comm', 'example.com.', 'a.co',
  'これはexample.comです', 'example.comです', '詳しくはibm.com/jp-jaへ', 'サイト：www.example.org/ja/',
  '日本語.jp', 'テスト.com', 'münchen.de', 'xn--mnchen-3ya.de', 'user@example.com', '@example.com',
  '-example.com', '_example.com', '.example.com', '/example.com', 'foo_bar.com', 'foo-bar.com',
  'example.com/' + rep('x', 300), 'a.com b.com c.com d.com', 'example.みんな', 'example.рф',
  'example.com,example.org', 'v1.2.3 release', 'file.txt and README.md', 'node.js rust.rs',
  'Mr.Smith', 'e.g. this', 'i.e.that',
  // --- mixed / realistic ---
  '新製品を発表しました🎉 詳細はこちら → https://example.co.jp/news/2024/01 #新製品',
  '【お知らせ】メンテナンスのため、12/1 2:00〜4:00 サービスを停止します。https://status.example.com',
  'Launching today! 🚀 Read more: https://blog.example.com/launch?utm_source=x&utm_medium=social',
  rep('あ', 128) + ' https://example.com', rep('あ', 129) + ' https://example.com',
  rep('a', 256) + ' https://example.com', rep('a', 257) + ' https://example.com',
  rep('あ', 120) + '😀' + 'https://example.com',
  '👨‍👩‍👧‍👦 family photo at https://photos.example.net/album/1 🇯🇵',
  'Ünïcödé ñ ç ß ø å',
  // --- IDNA label-length and URL-length limits ---
  'https://' + rep('a', 63) + '.com', 'https://' + rep('a', 64) + '.com', rep('b', 64) + '.com',
  'https://' + rep('あ', 20) + '.jp', 'https://' + rep('あ', 40) + '.jp', 'https://例え。テスト.com',
  // 22 distinct kanji punycode to 63 units (allowed), 23 to 66 (not a URL).
  'https://一二三四五六七八九十百千万億兆京垓穣溝澗正載.jp', 'https://一二三四五六七八九十百千万億兆京垓穣溝澗正載極.jp',
  'xn--日本.com', 'https://xn--日本.com', 'https://example.com/' + rep('a', 4100),
];

if (corpus.length < 150) throw new Error(`corpus too small: ${corpus.length}`);
const seen = new Set();
const vectors = [];
for (const text of corpus) {
  if (seen.has(text)) throw new Error(`duplicate corpus entry: ${JSON.stringify(text)}`);
  seen.add(text);
  const r = twttr.parseTweet(text);
  vectors.push({ text, weightedLength: r.weightedLength, valid: r.valid, permillage: r.permillage });
}
fs.writeFileSync(path.join(__dirname, 'length_vectors.json'), JSON.stringify(vectors, null, 1) + '\n');
console.log(`wrote ${vectors.length} vectors`);
