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
cp "$(readlink -f /bin/sh)" "$root/bin/sh"

# sysusers and tmpfiles parse and apply cleanly (user, then folders),
# with one account added as deploy/README.md says.
DESTDIR="$root" "$here/add-account.sh" sample hanako >/dev/null
systemd-sysusers --root="$root" >/dev/null 2>&1 || systemd-sysusers --root="$root"
# The ACL line names users the host does not know (they exist in $root only):
# tmpfiles reports and skips it here; it is checked below with numeric ids.
systemd-tmpfiles --create --root="$root" 2>&1 | grep -v 'Failed to parse ACL' >&2 || true
for d in /var/lib/herald/state /var/spool/herald /etc/herald/credentials /var/spool/herald/sample; do
    [ -d "$root$d" ] || { echo "check.sh: tmpfiles did not create $d" >&2; exit 1; }
done
# The account's folder: herald's, writable by the owners' group, setgid, closed to others.
gid="$(awk -F: '$1 == "herald-sample" { print $3 }' "$root/etc/group")"
uid="$(awk -F: '$1 == "herald" { print $3 }' "$root/etc/passwd")"
got="$(stat -c '%a %u %g' "$root/var/spool/herald/sample")"
if [ "$got" != "2770 $uid $gid" ]; then
    echo "check.sh: /var/spool/herald/sample is '$got', expected '2770 $uid $gid' (mode, herald, herald-sample)" >&2
    exit 1
fi
if ! awk -F: '$1 == "herald-sample" { exit !($4 ~ /(^|,)hanako(,|$)/) }' "$root/etc/group"; then
    echo "check.sh: hanako is not in herald-sample" >&2
    exit 1
fi
# The ACL line parses: the same line with the names as numeric ids (which
# the host resolves) must apply without a word. systemd-tmpfiles prints
# "Failed to parse ACL" and skips the line (exit 0) for anything libacl does
# not accept, such as setfacl's "X".
grep '^a' "$root/etc/tmpfiles.d/herald-accounts.conf" |
    sed -e "s/user:herald:/user:$uid:/g" -e "s/group:herald-sample:/group:$gid:/g" >"$root/acl-check.conf"
if ! out="$(systemd-tmpfiles --create --root="$root" "$root/acl-check.conf" 2>&1)" || [ -n "$out" ]; then
    echo "check.sh: systemd-tmpfiles refused the account's ACL line:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi

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
