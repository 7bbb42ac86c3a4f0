#!/usr/bin/env bash
# Build the Debian package from a copy of the tree and check it, without
# touching this machine or the checkout:
#   - dpkg-buildpackage -us -uc -b in a temporary copy (tracked files and
#     untracked ones git does not ignore: what a commit would hold);
#   - lintian --fail-on error;
#   - the file list, the conffiles and the unit of the .deb (dpkg-deb);
#   - the packaged postern.yaml passes the packaged binary's `postern
#     check` (with a generated secret), and fails it without one, with a
#     0640 one or a passphrase; its commented assertion: block works;
#   - as root: the maintainer scripts run against a throwaway root
#     (DPKG_ROOT, as dpkg --root does), with the service manager replaced
#     by recorders: the user, directories and secret appear, a second
#     configure keeps the secret, a first installation enables and starts
#     nothing while an upgrade restarts an enabled gateway, prerm stops it,
#     and purge removes the state and the secret.
# Prints "ok - ..." / "not ok - ..." per check (scripts/test counts them),
# then "N passed, N failed"; exits non-zero on a failure.
#
#   tests/package/check.sh [KEEP-DIR]   (KEEP-DIR: keep the work there)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASS=0
FAIL=0
if [ $# -gt 0 ]; then
	T=$(mkdir -p "$1" && cd "$1" && pwd)
else
	T=$(mktemp -d)
	trap 'rm -rf "$T"' EXIT
fi

ok() {	# ok DESCRIPTION CMD...: one check
	local what=$1
	shift
	if "$@" >"$T/last.out" 2>&1; then
		echo "ok - $what"
		PASS=$((PASS + 1))
	else
		echo "not ok - $what"
		sed 's/^/#   /' "$T/last.out" | tail -n 20
		FAIL=$((FAIL + 1))
	fi
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

# ---- build from a copy -----------------------------------------------------

copy_tree() {
	rm -rf "$T/src"
	mkdir -p "$T/src"
	(cd "$ROOT" && git ls-files -co --exclude-standard -z |
	    tar --null -T - -cf -) | tar -xf - -C "$T/src"
}

build() {
	(cd "$T/src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}" \
	    nice -n 10 dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 ||
	    { tail -n 40 "$T/build.log"; return 1; }
}

STATUS0=$(cd "$ROOT" && git status --porcelain)
ok "copy of the tree" copy_tree
ok "dpkg-buildpackage -us -uc -b" build
DEB=$(ls "$T"/postern_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$T"/postern_*.changes 2>/dev/null | head -n 1)
[ -n "$DEB" ] && [ -n "$CHANGES" ] || finish
ok "the build left the checkout as it was" \
    test "$(cd "$ROOT" && git status --porcelain)" = "$STATUS0"

version_matches() {	# the changelog's version is meson's project version
	local deb meson
	deb=$(dpkg-deb -f "$DEB" Version)
	meson=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$ROOT/meson.build" |
	    head -n 1)
	echo "package $deb, meson $meson"
	[ "${deb%%-*}" = "$meson" ]
}
ok "package version = meson project version" version_matches

lint() {
	lintian --fail-on error --display-level '>=warning' "$CHANGES"
}
ok "lintian --fail-on error" lint
sed 's/^/#   /' "$T/last.out"

# ---- contents --------------------------------------------------------------

X=$T/root
rm -rf "$X"
dpkg-deb -x "$DEB" "$X"
dpkg-deb -c "$DEB" >"$T/list"

has_file() {	# has_file PATH [MODE]: a regular file (of that mode) in the .deb
	local line
	line=$(awk -v p="./$1" '$NF == p' "$T/list")
	[ -n "$line" ] || { echo "missing: /$1"; return 1; }
	[ "${line:0:1}" = - ] || { echo "not a regular file: $line"; return 1; }
	[ -z "${2:-}" ] || [ "${line:0:10}" = "$2" ] ||
	    { echo "mode: $line (expected $2)"; return 1; }
}
UNITDIR=lib/systemd/system
[ -e "$X/usr/lib/systemd/system/postern.service" ] &&
    UNITDIR=usr/lib/systemd/system
for f in "usr/bin/postern -rwxr-xr-x" "$UNITDIR/postern.service -rw-r--r--" \
    "usr/lib/sysusers.d/postern.conf -rw-r--r--" \
    "usr/lib/tmpfiles.d/postern.conf -rw-r--r--" \
    "etc/postern/postern.yaml -rw-r--r--" \
    usr/share/postern/common-passwords.txt \
    usr/share/postern/templates/test.subject \
    usr/share/doc/postern/README.md usr/share/doc/postern/copyright \
    usr/share/doc/postern/redis.md usr/share/doc/postern/examples/postern.yaml \
    usr/share/doc/postern/examples/policies/demo.yaml \
    usr/share/doc/postern/examples/policies/README.md \
    usr/share/man/man1/postern.1.gz; do
	# shellcheck disable=SC2086
	ok "file /${f%% *}" has_file $f
done
no_secret() {	# the secret is made at installation, never shipped
	! grep -E '\./etc/postern/secret|\./var/' "$T/list"
}
ok "no secret or state in the .deb" no_secret

conffiles() {
	dpkg-deb -I "$DEB" conffiles
	[ "$(dpkg-deb -I "$DEB" conffiles)" = /etc/postern/postern.yaml ]
}
ok "conffiles: exactly /etc/postern/postern.yaml" conffiles
ok "the unit is systemd/postern.service" \
    cmp "$X/$UNITDIR/postern.service" "$ROOT/systemd/postern.service"
ok "the sysusers.d entry is systemd/postern.sysusers" \
    cmp "$X/usr/lib/sysusers.d/postern.conf" "$ROOT/systemd/postern.sysusers"
ok "the tmpfiles.d entry is systemd/postern.tmpfiles" \
    cmp "$X/usr/lib/tmpfiles.d/postern.conf" "$ROOT/systemd/postern.tmpfiles"
no_build_path() {	# -Dsource_data=false: no fallback into the build tree
	! grep -a -o "$T/src[^\"]*" "$X/usr/bin/postern" | sort -u | grep .
}
ok "the binary names no path of the build tree" no_build_path
ok "the binary runs: postern --version" "$X/usr/bin/postern" --version
ok "man page renders" env MANWIDTH=80 man -l "$X/usr/share/man/man1/postern.1.gz"

# ---- the packaged configuration -------------------------------------------

# The packaged config's absolute /etc/postern paths point into a scratch
# copy, with a secret made as postinst makes it, and the binary's data
# (/usr/share/postern) is that of the extracted package.
config_copy() {	# config_copy DIR
	mkdir -p "$1"
	sed "s|/etc/postern/|$1/|g" "$X/etc/postern/postern.yaml" \
	    >"$1/postern.yaml"
	printf 'passwords:\n  common_passwords: %s\n' \
	    "$X/usr/share/postern/common-passwords.txt" >>"$1/postern.yaml"
}
refused() {	# refused DIR TEXT: postern check fails, saying TEXT
	local out
	out=$("$X/usr/bin/postern" check -c "$1/postern.yaml" 2>&1) &&
	    { echo "passed: $out"; return 1; }
	echo "$out"
	grep -q -- "$2" <<<"$out"
}
C=$T/conf
config_copy "$C"
(umask 077 && head -c 32 /dev/urandom >"$C/secret")
passes() {	# passes DIR: postern check is happy, without a warning
	local out
	out=$("$X/usr/bin/postern" check -c "$1/postern.yaml" 2>&1) ||
	    { echo "$out"; return 1; }
	echo "$out"
	grep -q ' 0 warnings' <<<"$out"
}
ok "packaged postern.yaml passes postern check" passes "$C"
C2=$T/conf-nosecret
config_copy "$C2"
ok "...and fails it without the secret" refused "$C2" \
    "secret_file: cannot open"
chmod 0640 "$C/secret"
ok "...and with a secret of mode 0640" refused "$C" "is mode 0640"
(umask 077 && printf 'correct horse battery staple 1234\n' >"$C2/secret")
ok "...and with a passphrase for a secret" refused "$C2" secret_file
assertion_as_commented() {	# the config's own instructions for the key
	local C3=$T/conf-assertion
	config_copy "$C3"
	sed -i -e 's/^#assertion:/assertion:/' -e 's/^#  key_file:/  key_file:/' \
	    "$C3/postern.yaml"
	cp -p "$C/secret" "$C3/secret"
	chmod 0600 "$C3/secret"
	"$X/usr/bin/postern" keys generate -c "$C3/postern.yaml" &&
	    [ -f "$C3/assertion.pem" ] && passes "$C3"
}
ok "its commented assertion: block works with postern keys generate" \
    assertion_as_commented

# ---- maintainer scripts in a throwaway root ---------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "skip - maintainer scripts: needs root (chown)"
	finish
fi
R=$T/target
S=$T/stubs
rm -rf "$R" "$S"
mkdir -p "$R" "$S" "$T/ctl"
dpkg-deb -x "$DEB" "$R"
dpkg-deb -e "$DEB" "$T/ctl"
# The service manager: systemctl and deb-systemd-helper (which would write
# the machine's state) are recorders that answer "never enabled, not
# running", or with UNIT_ENABLED=1 "enabled and running"; adduser records
# (it must not run where systemd-sysusers exists).  deb-systemd-invoke is
# the real one, asking the recorder: whether the package starts the unit is
# its policy.  The scripts see a booted systemd (/run/systemd/system is a
# scratch directory in their copy), and stop the service as on a real root
# (their copy drops the DPKG_ROOT guard of the stop: DPKG_ROOT here only
# keeps them off this machine's files).
for tool in deb-systemd-helper systemctl adduser invoke-rc.d update-rc.d; do
	cat >"$S/$tool" <<STUB
#!/bin/sh
echo "$tool \$*" >>"$T/calls"
case "\$*" in
*was-enabled*|*debian-installed*|*is-enabled*|*is-active*)
	[ "\${UNIT_ENABLED:-0}" = 1 ] && { echo enabled; exit 0; }
	echo disabled; exit 1 ;;
esac
exit 0
STUB
	chmod +x "$S/$tool"
done
: >"$T/calls"
mkdir -p "$T/run-systemd"
for f in postinst postrm preinst prerm; do
	[ ! -f "$T/ctl/$f" ] ||
	    sed -e "s|/run/systemd/system|$T/run-systemd|g" \
	    -e 's/\[ -z "\${DPKG_ROOT:-}" \] && //' "$T/ctl/$f" >"$T/$f"
done
maint() {	# maint SCRIPT ARGS...
	env PATH="$S:$PATH" DPKG_ROOT="$R" DPKG_MAINTSCRIPT_PACKAGE=postern \
	    DPKG_MAINTSCRIPT_NAME="$1" sh -e "$T/$@"
}
ok "postinst configure" maint postinst configure ""

user_made() {
	grep '^postern:' "$R/etc/passwd" &&
	    awk -F: '$1 == "postern" && $6 == "/var/lib/postern" &&
	    $7 == "/usr/sbin/nologin" { f = 1 } END { exit !f }' "$R/etc/passwd" &&
	    grep -q '^postern:' "$R/etc/group"
}
ok "user postern: home /var/lib/postern, no login shell" user_made
PUID=$(awk -F: '$1 == "postern" { print $3 }' "$R/etc/passwd")
PGID=$(awk -F: '$1 == "postern" { print $4 }' "$R/etc/passwd")
mode_of() {	# mode_of PATH MODE UID GID
	local got
	got=$(stat -c '%a %u %g' "$1") || return 1
	echo "$1: $got (expected $2 $3 $4)"
	[ "$got" = "$2 $3 $4" ]
}
secret_ok() {
	mode_of "$R/etc/postern/secret" 600 "$PUID" "$PGID" &&
	    [ "$(stat -c %s "$R/etc/postern/secret")" -eq 32 ]
}
ok "secret: 32 bytes, 0600, owned by postern" secret_ok
ok "/etc/postern: 0750 root:postern" mode_of "$R/etc/postern" 750 0 "$PGID"
ok "/var/lib/postern: 0700 postern" mode_of "$R/var/lib/postern" 700 \
    "$PUID" "$PGID"
cp "$R/etc/postern/secret" "$T/secret.first"
ok "postinst configure again" maint postinst configure 0.1.0
ok "...keeps the secret" cmp "$R/etc/postern/secret" "$T/secret.first"
two_differ() {	# another installation gets another secret
	local R2=$T/target2
	mkdir -p "$R2"
	dpkg-deb -x "$DEB" "$R2"
	env PATH="$S:$PATH" DPKG_ROOT="$R2" sh -e "$T/postinst" configure "" &&
	    ! cmp -s "$R2/etc/postern/secret" "$T/secret.first"
}
ok "a second installation gets another secret" two_differ
started() {	# started: a call that enables or starts the unit
	grep -E '(^| )(enable|start|restart|reload|try-restart)( |$)' "$T/calls"
}
nothing_started() {
	cat "$T/calls"
	! started && ! grep '^adduser' "$T/calls" &&
	    grep -q 'systemctl.* is-enabled' "$T/calls"	# it did ask
}
ok "nothing enabled or started, adduser not used" nothing_started
restarts_enabled() {	# the sibling: an enabled gateway is restarted on upgrade
	: >"$T/calls"
	UNIT_ENABLED=1 maint postinst configure 0.1.0 &&
	    grep -E '^systemctl .*restart .*postern.service' "$T/calls"
}
ok "...but an upgrade restarts an enabled gateway" restarts_enabled
stops_on_remove() {
	: >"$T/calls"
	[ ! -f "$T/prerm" ] && { echo "no prerm"; return 1; }
	UNIT_ENABLED=1 maint prerm remove &&
	    grep -E '^systemctl .*stop .*postern.service' "$T/calls"
}
ok "prerm remove stops it" stops_on_remove
ok "postrm purge" maint postrm purge
purged() {
	[ ! -e "$R/etc/postern/secret" ] && [ ! -e "$R/var/lib/postern" ] &&
	    [ ! -e "$R/var/log/postern" ]
}
ok "...removes the secret and the state" purged
finish
