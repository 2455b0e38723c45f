#!/usr/bin/env bash
# Checks the unit as CI does: stages an install into a scratch root, applies
# sysusers and tmpfiles there, then runs `systemd-analyze verify` and
# `systemd-analyze security` (which must rate the unit 2.0 or lower). Needs
# systemd-analyze (Debian: apt-get install systemd), not a running systemd.
#
#   deploy/check.sh [--binary PATH]     (default: target/debug/herald)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$here/../target/debug/herald"
if [ "${1:-}" = "--binary" ]; then binary="${2:?--binary needs a path}"; fi
threshold=2.0

if ! command -v systemd-analyze >/dev/null; then
    echo "check.sh: systemd-analyze is missing; install it (apt-get install systemd)" >&2
    exit 1
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

DESTDIR="$root" "$here/install.sh" --binary "$binary" >/dev/null
# verify resolves the unit's dependencies and commands inside the root.
mkdir -p "$root/usr/lib/systemd" "$root/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$(type -P kill)" "$root/bin/kill"

# sysusers and tmpfiles parse and apply cleanly (user, then folders).
systemd-sysusers --root="$root" >/dev/null 2>&1 || systemd-sysusers --root="$root"
systemd-tmpfiles --create --root="$root"
for d in /var/lib/herald/state /var/spool/herald /etc/herald/credentials; do
    [ -d "$root$d" ] || { echo "check.sh: tmpfiles did not create $d" >&2; exit 1; }
done

echo "systemd-analyze verify herald.service"
# verify exits 0 on unknown keys and bad values ("…, ignoring"): any
# message at all fails the check.
if ! out="$(systemd-analyze verify --man=no --root="$root" herald.service 2>&1)" || [ -n "$out" ]; then
    echo "check.sh: systemd-analyze verify complained:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi

score="$(systemd-analyze security --offline=true --root="$root" herald.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for herald.service: \([0-9.]*\).*/\1/p')"
if [ -z "$score" ]; then
    echo "check.sh: systemd-analyze security gave no score" >&2
    systemd-analyze security --offline=true --root="$root" herald.service >&2 || true
    exit 1
fi
echo "systemd-analyze security herald.service: exposure $score (must be <= $threshold)"
awk -v s="$score" -v t="$threshold" 'BEGIN { exit !(s <= t) }' || {
    echo "check.sh: the unit's exposure $score is above $threshold" >&2
    systemd-analyze security --offline=true --root="$root" herald.service | grep '✗' >&2
    exit 1
}
