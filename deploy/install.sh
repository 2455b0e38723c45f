#!/usr/bin/env bash
# Installs herald as a systemd service: the binary, the unit, sysusers and
# tmpfiles, man page and shell completions, and (only if none is there yet)
# an example config. Running it again is harmless: files herald ships are
# replaced, files ops edit (/etc/herald/*) are never overwritten.
#
#   deploy/install.sh [--binary PATH] [--prefix /usr] [--uninstall]
#
# --binary PATH   install this binary instead of building one (cargo build --release)
# --prefix DIR    where the binary goes (DIR/bin; default /usr)
# --uninstall     remove what install put there; keeps /etc/herald, the store
#                 (/var/lib/herald) and the queue (/var/spool/herald), whose
#                 files belong to account owners
# DESTDIR=/tmp/root deploy/install.sh …   stage into a root (packaging, tests):
#                 nothing is applied to the running system.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
prefix=/usr
binary=""
uninstall=0
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

bindir="$prefix/bin"
unitdir=/usr/lib/systemd/system
sysusersdir=/usr/lib/sysusers.d
tmpfilesdir=/usr/lib/tmpfiles.d
mandir="$prefix/share/man/man1"
docdir="$prefix/share/doc/herald"
bashdir="$prefix/share/bash-completion/completions"
zshdir="$prefix/share/zsh/site-functions"
fishdir="$prefix/share/fish/vendor_completions.d"
confdir=/etc/herald

# Whether this run changes the live system (not a staging root).
live() { [ -z "$destdir" ]; }
say() { printf '%s\n' "$*"; }

if [ "$uninstall" = 1 ]; then
    if live && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl disable --now herald.service 2>/dev/null || true
    fi
    for f in "$bindir/herald" "$prefix/sbin/herald-add-account" "$unitdir/herald.service" "$sysusersdir/herald.conf" "$tmpfilesdir/herald.conf" \
        "$mandir/herald.1" "$bashdir/herald" "$zshdir/_herald" "$fishdir/herald.fish" "$docdir/README.md"; do
        if [ -e "$destdir$f" ]; then
            rm -f "$destdir$f"
            say "removed $f"
        fi
    done
    rmdir "$destdir$docdir" 2>/dev/null || true
    if live && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
    say ""
    say "herald is uninstalled. Kept, because they hold your data:"
    say "  $confdir (config, credentials), /var/lib/herald (delivery store), /var/spool/herald (owners' post files)."
    say "Remove them by hand once nobody needs them; the user 'herald' stays too (sysusers never deletes users)."
    exit 0
fi

if [ -z "$binary" ]; then
    say "building herald (cargo build --release --locked)…"
    (cd "$repo" && cargo build --release --locked --bin herald)
    binary="$repo/target/release/herald"
fi
if [ ! -x "$binary" ]; then
    echo "install.sh: $binary is not an executable file; pass --binary PATH or build with cargo build --release" >&2
    exit 1
fi

# Installs a file herald ships (always replaced).
put() { # mode source target
    install -D -m "$1" "$2" "$destdir$3"
    say "installed $3"
}
# Installs a file ops edit, only if it is not there yet.
seed() { # mode source target
    if [ -e "$destdir$3" ]; then
        say "kept      $3 (already there; compare with $2)"
    else
        install -D -m "$1" "$2" "$destdir$3"
        say "installed $3"
    fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

put 0755 "$binary" "$bindir/herald"
put 0755 "$here/add-account.sh" "$prefix/sbin/herald-add-account"
# The unit names the binary where it was installed.
sed "s|^ExecStart=/usr/bin/herald |ExecStart=$bindir/herald |" "$here/herald.service" >"$tmp/herald.service"
put 0644 "$tmp/herald.service" "$unitdir/herald.service"
put 0644 "$here/herald.sysusers" "$sysusersdir/herald.conf"
put 0644 "$here/herald.tmpfiles" "$tmpfilesdir/herald.conf"
put 0644 "$here/README.md" "$docdir/README.md"

# Man page and completions come from the binary's own CLI definition.
if "$binary" man >"$tmp/herald.1" 2>/dev/null; then
    put 0644 "$tmp/herald.1" "$mandir/herald.1"
fi
for shell in bash zsh fish; do
    if "$binary" completions "$shell" >"$tmp/completion.$shell" 2>/dev/null; then
        case "$shell" in
        bash) put 0644 "$tmp/completion.bash" "$bashdir/herald" ;;
        zsh) put 0644 "$tmp/completion.zsh" "$zshdir/_herald" ;;
        fish) put 0644 "$tmp/completion.fish" "$fishdir/herald.fish" ;;
        esac
    fi
done

seed 0640 "$here/herald.toml" "$confdir/herald.toml"
for dict in "$repo"/config/dictionaries/*.yml; do
    if [ -e "$dict" ]; then
        seed 0644 "$dict" "$confdir/dictionaries/$(basename "$dict")"
    fi
done
install -d -m 0700 "$destdir$confdir/credentials"

if live; then
    # The user first (tmpfiles needs it), then the folders.
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers "$sysusersdir/herald.conf"
    fi
    if command -v systemd-tmpfiles >/dev/null; then
        systemd-tmpfiles --create "$tmpfilesdir/herald.conf"
    fi
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
else
    say "staged into $destdir: nothing was applied to this system"
fi

cat <<EOF

herald is installed. Next steps (deploy/README.md explains each):
  1. For each account, its owners' group and queue folder:
         $prefix/sbin/herald-add-account ACCOUNT-ID OWNER-USER...
     and its entry in $confdir/herald.toml (the script prints one to adapt).
  2. Put each account's platform tokens in $confdir/credentials/<account id> (mode 0600, root).
  3. Check everything:   sudo $bindir/herald doctor --config $confdir/herald.toml
  4. Start it:           systemctl enable --now herald
  5. Watch it:           journalctl -u herald -f      (status: systemctl status herald)
  6. After editing the config:  systemctl reload herald
  7. After an upgrade (this script again): systemctl restart herald
EOF
