#!/usr/bin/env bash
# Checks the unit under a real systemd: boots a throwaway Debian container
# (debootstrap + systemd-nspawn, systemd as PID 1), installs herald into it
# with install.sh and add-account.sh, starts herald.service on the sandbox
# accounts of config/herald.toml and checks what deploy/README.md promises:
# READY (Type=notify), a post dropped by an owner is published, journal
# fields, metrics, the control socket for a member of the group herald,
# reload (accepted and refused), the watchdog pings, no system call outside
# the filter (run with the filter killing instead of returning EPERM), a
# clean stop. Removes the container at the end.
#
#   sudo deploy/live-check.sh [--binary PATH] [--root DIR] [--keep]
#
# --binary PATH  the herald to install (default: target/release/herald)
# --root DIR     where to build the container (default: a new folder in /var/tmp)
# --keep         leave the container running and its root in place
#
# Needs root, debootstrap, systemd-nspawn (Debian: apt-get install debootstrap
# systemd-container), network access to a Debian mirror (MIRROR=…, default
# http://deb.debian.org/debian), about 400 MB and 3 minutes. Works on a host
# whose PID 1 is not systemd (it runs nspawn with --register=no --keep-unit).
# Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
binary="$repo/target/release/herald"
root=""
keep=0
mirror="${MIRROR:-http://deb.debian.org/debian}"
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --root) root="${2:?--root needs a folder}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "live-check.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "live-check.sh: run as root" >&2; exit 1; }
for tool in debootstrap systemd-nspawn nsenter; do
    command -v "$tool" >/dev/null || { echo "live-check.sh: $tool is missing" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "live-check.sh: $binary is not executable (cargo build --release)" >&2; exit 1; }
[ -n "$root" ] || root="$(mktemp -d /var/tmp/herald-live.XXXXXX)"

nspawn_pid=""
cleanup() {
    if [ "$keep" = 1 ]; then
        echo "kept: container root $root, nspawn pid $nspawn_pid (kill it to power off)"
        return
    fi
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        [ -n "${init:-}" ] && kill -RTMIN+4 "$init" 2>/dev/null # systemd: poweroff
        for _ in $(seq 30); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 1; done
        kill "$nspawn_pid" 2>/dev/null || true
        wait "$nspawn_pid" 2>/dev/null || true
    fi
    rm -rf "$root" "$root.nspawn.log"
}
trap cleanup EXIT

failures=0
ok() { printf 'ok    %s\n' "$*"; }
bad() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
ct() { nsenter -t "$init" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# Waits up to $1 seconds for a command to succeed.
until_ok() { local n="$1"; shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 1; done; return 1; }

if [ ! -x "$root/lib/systemd/systemd" ]; then
    echo "== debootstrap bookworm into $root"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,curl,acl \
        bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
        { tail -20 "$root.debootstrap.log" >&2; exit 1; }
    rm -f "$root.debootstrap.log"
fi
echo herald-live >"$root/etc/hostname"
mkdir -p "$root/root/herald-src"
tar -C "$repo" --exclude=./target --exclude=./.git -cf - . | tar -C "$root/root/herald-src" -xf -
install -m 0755 "$binary" "$root/root/herald-bin"
# The example config with the production paths, a control socket and metrics.
sed -e 's|^queue_dir = .*|queue_dir = "/var/spool/herald"|' \
    -e 's|^state_dir = .*|state_dir = "/var/lib/herald/state"\nsocket = "/run/herald/herald.sock"|' \
    "$repo/config/herald.toml" >"$root/root/herald-live.toml"
printf '\n[metrics]\nlisten = "127.0.0.1:9464"\n' >>"$root/root/herald-live.toml"

echo "== boot"
systemd-nspawn -b -D "$root" --register=no --keep-unit --console=passive -M herald-live >"$root.nspawn.log" 2>&1 &
nspawn_pid=$!
init=""
for _ in $(seq 30); do
    init="$(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null | awk '{ print $1 }')"
    [ -n "$init" ] && [ "$(cat /proc/"$init"/comm 2>/dev/null)" = systemd ] && break
    init=""
    sleep 1
done
[ -n "$init" ] || { cat "$root.nspawn.log" >&2; echo "live-check.sh: the container did not boot" >&2; exit 1; }
state=""
for _ in $(seq 60); do
    state="$(ct systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running | degraded) break ;; esac
    sleep 1
done
echo "systemd $(ct systemctl --version | sed -n '1s/^systemd //p') is PID 1 in the container (system: $state)"

echo "== install"
ct /root/herald-src/deploy/install.sh --binary /root/herald-bin >/dev/null
ct useradd -m hanako
ct useradd -m -G herald alice
for account in tokyo-news berlin-careers osaka-support; do
    out="$(ct herald-add-account "$account" hanako 2>&1)"
    if grep -q 'Failed' <<<"$out"; then bad "herald-add-account $account: $out"; fi
done
if ct getfacl -p /var/spool/herald/tokyo-news | grep -qx 'default:user:herald:rwx'; then
    ok "queue folder has the default ACL for herald"
else
    bad "queue folder has no default ACL for herald"
fi
ct install -m 0640 -o root -g herald /root/herald-live.toml /etc/herald/herald.toml
# Any system call outside the filter kills herald (SIGSYS) instead of
# quietly failing with EPERM.
ct sh -c 'mkdir -p /run/systemd/system/herald.service.d &&
    printf "[Service]\nSystemCallErrorNumber=\n" >/run/systemd/system/herald.service.d/live-check.conf'
ct systemctl daemon-reload
if ct herald doctor >/dev/null 2>&1; then ok "herald doctor"; else bad "herald doctor: $(ct herald doctor 2>&1 | grep -v '^OK')"; fi

echo "== start"
if ct systemctl start herald; then ok "systemctl start returned (READY=1 received)"; else bad "systemctl start herald"; fi
[ "$(ct systemctl show herald -p SubState --value)" = running ] && ok "active (running): $(ct systemctl show herald -p StatusText --value)" || bad "not running"
pid="$(ct systemctl show herald -p MainPID --value)"

echo "== publish"
ct sh -c 'cp -R /root/herald-src/queue/examples /tmp/examples && chmod -R a+rX /tmp/examples'
ct su hanako -s /bin/sh -c 'umask 077; cp /tmp/examples/tokyo-news/welcome.md /var/spool/herald/tokyo-news/'
if until_ok 20 ct test -s /var/lib/herald/state/sandbox/tokyo-news.jsonl; then
    ok "a post dropped by an owner (umask 077) is in the sandbox outbox"
else
    bad "nothing published to /var/lib/herald/state/sandbox/tokyo-news.jsonl"
fi
until_ok 10 ct test -e /var/spool/herald/tokyo-news/published/welcome.md.herald.txt &&
    ok "its file moved to published/ with a note" || bad "no published/welcome.md.herald.txt"
delivery="$(ct sed -n 's/.*"delivery":"\([0-9a-f]*\)".*/\1/p' /var/lib/herald/state/sandbox/tokyo-news.jsonl | head -1)"
fields="$(ct journalctl -u herald -o verbose --no-pager DELIVERY="$delivery" 2>/dev/null || true)"
for field in ACCOUNT=tokyo-news DELIVERY="$delivery" STATE=scheduled FILE=welcome.md URL=sandbox:// PRIORITY=6; do
    grep -q "^    $field" <<<"$fields" && ok "journal field $field" || bad "journal has no $field for delivery $delivery"
done
ct curl -fsS http://127.0.0.1:9464/metrics | grep -q '^herald_deliveries{account="tokyo-news",state="published"} 1' &&
    ok "metrics: herald_deliveries published 1" || bad "metrics endpoint"
if out="$(ct su alice -s /bin/sh -c 'herald pause osaka-support --reason live-check && herald resume osaka-support' 2>&1)"; then
    ok "control socket: alice (group herald) paused and resumed an account"
else
    bad "control socket for alice: $out"
fi

echo "== reload"
# ExecReload= sends SIGHUP and returns: wait for herald's STATUS= line.
status() { ct systemctl show herald -p StatusText --value; }
ct systemctl reload herald || bad "systemctl reload herald failed: $(ct journalctl -u herald -n 5 --no-pager)"
until_ok 10 sh -c "nsenter -t $init -a systemctl show herald -p StatusText --value | grep -q '^reloaded'" &&
    ok "reload accepted: $(status)" || bad "reload: $(status)"
ct sed -i '0,/^time_zone = "Asia\/Tokyo"/s//time_zone = "Asia\/Tokio"/' /etc/herald/herald.toml
ct systemctl reload herald || bad "systemctl reload herald failed"
until_ok 10 sh -c "nsenter -t $init -a systemctl show herald -p StatusText --value | grep -q '^reload refused'" &&
    ok "bad config refused, previous one kept: $(status)" || bad "bad config: $(status)"
[ "$(ct systemctl show herald -p MainPID --value)" = "$pid" ] && ok "same process after both reloads" || bad "herald restarted on reload"
ct install -m 0640 -o root -g herald /root/herald-live.toml /etc/herald/herald.toml
ct systemctl reload herald || true

echo "== watchdog (70 s)"
sleep 70
[ "$(ct systemctl show herald -p MainPID --value)" = "$pid" ] && [ "$(ct systemctl show herald -p NRestarts --value)" = 0 ] &&
    ok "same process after 70 s, last ping $(ct systemctl show herald -p WatchdogTimestamp --value)" || bad "herald was restarted"

echo "== stop"
ct systemctl stop herald
[ "$(ct systemctl show herald -p Result --value)" = success ] && [ "$(ct systemctl show herald -p ExecMainStatus --value)" = 0 ] &&
    ok "clean stop (exit 0)" || bad "stop: $(ct systemctl show herald -p Result -p ExecMainCode -p ExecMainStatus)"
noise="$(ct journalctl -b --no-pager -u herald -p warning 2>/dev/null | grep -v -e "^-- " -e "reload refused" || true)"
[ -z "$noise" ] && ok "no warnings or errors in the journal" || bad "journal warnings: $noise"
ct journalctl -b --no-pager | grep -qiE 'SIGSYS|code=dumped|watchdog timeout' && bad "SIGSYS / dump / watchdog in the journal" ||
    ok "no SIGSYS, core dump or watchdog timeout"

echo
if [ "$failures" = 0 ]; then echo "live-check: all checks passed"; else echo "live-check: $failures check(s) failed"; exit 1; fi
