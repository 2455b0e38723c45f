#!/usr/bin/env bash
# Gives an account its owners' group and its queue folder (deploy/README.md,
# "Add an account"): appends the sysusers and tmpfiles lines for it, applies
# them, and prints the registry entry to add to herald.toml. Running it again
# adds only what is missing (new owners, for instance).
#
#   herald-add-account ACCOUNT-ID [OWNER-USER...]    (installed from deploy/add-account.sh)
#
# DESTDIR=/tmp/root herald-add-account …   writes under a root, applies nothing.
set -euo pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    usage
    [ $# -ge 1 ] && exit 0
    exit 2
fi
id="$1"
shift
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

# The same rule herald.toml applies to account ids, and what a group name allows.
if ! [[ "$id" =~ ^[a-z0-9_-][a-z0-9_.-]*$ ]] || [ ${#id} -gt 64 ]; then
    echo "add-account.sh: \"$id\" is not an account id: use lower-case letters, digits, '-', '_' or '.', not starting with '.'" >&2
    exit 2
fi
group="herald-$id"
if [[ "$id" == *.* ]] || [ ${#group} -gt 31 ]; then
    echo "add-account.sh: the group name \"$group\" is not valid (no '.', at most 31 characters); choose a shorter account id without '.'" >&2
    exit 2
fi
for user in "$@"; do
    if ! [[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]]; then
        echo "add-account.sh: \"$user\" is not a user name" >&2
        exit 2
    fi
done

folder="/var/spool/herald/$id"
sysusers="$destdir/etc/sysusers.d/herald-accounts.conf"
tmpfiles="$destdir/etc/tmpfiles.d/herald-accounts.conf"
mkdir -p "$(dirname "$sysusers")" "$(dirname "$tmpfiles")"
touch "$sysusers" "$tmpfiles"

# Appends a line unless the file has it already.
add() { # file line
    if ! grep -qxF -- "$2" "$1"; then
        printf '%s\n' "$2" >>"$1"
        echo "added to ${1#"$destdir"}: $2"
    fi
}

add "$sysusers" "g $group -"
for user in "$@"; do
    add "$sysusers" "m $user $group"
done
add "$tmpfiles" "d  $folder 2770 herald $group -"
# Lower-case x: systemd-tmpfiles (252, Debian 12) rejects setfacl's "X" and
# then applies no ACL at all. A default ACL never makes a dropped file
# executable (the creating call's mode masks x out); folders get x.
acl="a+ $folder -    -      -      - default:user:herald:rwx,user:herald:rwx,default:group:$group:rwx"
# An earlier version wrote "rwX", which systemd-tmpfiles ignores: replace it.
old="a+ $folder -    -      -      - default:user:herald:rwX,user:herald:rwX,default:group:$group:rwX"
if grep -qxF -- "$old" "$tmpfiles"; then
    grep -vxF -- "$old" "$tmpfiles" >"$tmpfiles.new" || true
    printf '%s\n' "$acl" >>"$tmpfiles.new"
    mv -f -- "$tmpfiles.new" "$tmpfiles"
    echo "replaced in ${tmpfiles#"$destdir"}: $acl"
fi
add "$tmpfiles" "$acl"

if [ -z "$destdir" ]; then
    systemd-sysusers /etc/sysusers.d/herald-accounts.conf
    systemd-tmpfiles --create /etc/tmpfiles.d/herald-accounts.conf
    echo "$folder is ready: herald reads it, members of $group write to it."
else
    echo "staged into $destdir: nothing was applied to this system"
fi

cat <<EOF

Now register the account in /etc/herald/herald.toml (keys: config/README.md):

[[account]]
id = "$id"
platform = "sandbox"        # or x, mastodon, … (tokens: /etc/herald/credentials/$id)
handle = "@..."
owner = "Name <mail@example.com>"

then: systemctl reload herald
EOF
