#!/usr/bin/env bash
# Runs herald on the example config (config/herald.toml) with sandbox
# accounts: no credentials needed, nothing leaves this machine.
#
# It copies the example posts from queue/examples/ into a scratch queue under
# target/example/ (so the checkout stays clean), runs the daemon once to
# publish everything due now, and shows what happened: the sandbox outbox,
# the outcome folders with herald's notes, and `herald status`.
set -euo pipefail
cd "$(dirname "$0")"

work=target/example
rm -rf "$work"
mkdir -p "$work/queue" "$work/state"
cp -R queue/examples/. "$work/queue/"
# The copies are complete files: date them back past the settle time.
find "$work/queue" -type f -exec touch -d '1 minute ago' {} +

cargo build --quiet
herald=target/debug/herald

echo "== herald run --once --config config/herald.toml"
"$herald" run --once --config config/herald.toml

echo
echo "== What the sandbox published (target/example/state/sandbox/*.jsonl)"
for f in "$work"/state/sandbox/*.jsonl; do
  echo "-- $f"
  cat "$f"
done

echo
echo "== The queue folders after the run (what owners see)"
(cd "$work/queue" && find . -type f | sort)

for note in "$work"/queue/tokyo-news/rejected/*.herald.txt "$work"/queue/tokyo-news/*.herald.txt; do
  echo
  echo "-- $note"
  cat "$note"
done

echo
echo "== herald status"
"$herald" status --config config/herald.toml
