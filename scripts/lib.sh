# shellcheck shell=bash
# Shared helpers for scripts/demo and scripts/test.  Source it; it defines
# functions only (and POSTERN_ROOT, the repository root, if unset).
#
#   install_packages   install what scripts/packages.txt lists and dpkg lacks
#   build [DIR]        meson setup DIR (default build) once, then ninja -C DIR
#   npm_install DIR    DIR's node_modules from its package-lock.json, once
#   free_port          print a free TCP port on 127.0.0.1
#   port_is_free PORT  true if PORT can be bound on 127.0.0.1

POSTERN_ROOT=${POSTERN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

as_root() {	# as_root CMD...: run CMD as root, through sudo when needed
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "need root for: $*  (run as root or install sudo)" >&2
		return 1
	fi
}

package_list() {	# the names in scripts/packages.txt, comments removed
	sed -e 's/#.*//' -e 's/[[:space:]]//g' \
	    "$POSTERN_ROOT/scripts/packages.txt" | grep -v '^$'
}

missing_packages() {	# print each listed package that is not installed
	# A package counts as present when installed, or when an installed
	# package provides it (NodeSource's nodejs provides and conflicts
	# with Debian's npm, for example).
	local have p
	have=$(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' \
	    2>/dev/null | awk -F'|' '$1 ~ /^ii/ {
		print $2
		n = split($3, a, /, */)
		for (i = 1; i <= n; i++) { sub(/ .*/, "", a[i]); print a[i] }
	    }')
	for p in $(package_list); do
		grep -qxF "$p" <<<"$have" || echo "$p"
	done
}

install_packages() {	# apt-get only when something is missing
	local missing
	missing=$(missing_packages | tr '\n' ' ')
	missing=${missing% }
	if [ -z "$missing" ]; then
		return 0
	fi
	echo "installing Debian packages: $missing"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    $missing
}

build() {	# build [DIR]: configure DIR once (default build/), then compile
	local dir=${1:-build}
	case $dir in /*) ;; *) dir="$POSTERN_ROOT/$dir" ;; esac
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$POSTERN_ROOT" || return
	fi
	ninja -C "$dir"
}

npm_install() {	# npm_install DIR: npm ci once (npm install if ci fails)
	local dir=$1
	case $dir in /*) ;; *) dir="$POSTERN_ROOT/$dir" ;; esac
	[ -d "$dir/node_modules" ] && return 0
	(cd "$dir" && { npm ci --no-audit --no-fund >/dev/null 2>&1 ||
	    npm install --no-audit --no-fund >/dev/null; })
}

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_is_free() {	# port_is_free PORT
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}
