# shellcheck shell=bash
# Forward-auth targets of scripts/bench (sourced by it, after the signed-in
# gateways and the session cookie exist; uses its W, UP, RP, BIN, ROOT,
# ON_PROXY, nginx_start, free_port and wait_http).
#
#   authreq-lua-http      nginx auth_request -> the Lua+Redis decision of
#                         tests/bench/fwdauth.lua -> the upstream
#   authreq-postern-http  nginx auth_request -> Postern's decision endpoint
#                         (a listener with mode: forward_auth,
#                         GET /.postern/auth) -> the upstream
#   decision-postern-http wrk straight to that decision endpoint with the
#                         headers nginx sends: the decision's own cost
#
# Both are one nginx worker in front of the same upstream, asked with the
# same signed-in session cookie; the report prints Postern/Lua.  The CPU
# column is nginx's, plus the gateway's for the Postern target (the Lua
# decision's Redis work is in the Redis figures).  A gateway
# whose config check refuses mode: forward_auth leaves the Postern target
# out with a line that says so.

FA_LUA=$(free_port)
FA_NGP=$(free_port)
FA_PT=$(free_port)
FA_POSTERN=0

# The protected location of both front nginx: the decision's 2xx lets the
# request through to the upstream with the user it names.
fwdauth_front() {	# fwdauth_front PORT DECISION-LOCATION USER-HEADER
	printf '%s' "server { listen 127.0.0.1:$1;
		location / { auth_request /_auth;
		    auth_request_set \$fa_user \$3;
		    proxy_set_header X-User \$fa_user; $PROXY }
		location = /_auth { internal; $2 } }"
}

# nginx auth_request -> Lua: the decision needs the Lua module (Debian's
# libnginx-mod-http-lua, with its Development Kit).
fwdauth_lua_start() {
	local mods=/usr/lib/nginx/modules
	NGINX_MAIN="load_module $mods/ndk_http_module.so;
load_module $mods/ngx_http_lua_module.so;" \
	    nginx_start authlua 1 "lua_package_path \"$ROOT/tests/bench/?.lua;;\";
	$(fwdauth_front "$FA_LUA" "
		    set \$redis_port $RP; set \$postern_prefix postern:;
		    set \$postern_lifetime 43200;
		    content_by_lua_block { require(\"fwdauth\").decide() }" \
		    sent_http_x_user)" "${ON_PROXY[@]}"
	FA_LUA_PID=$LAST
}

# Postern with a forward_auth listener (the bench app, same Redis, secret
# and key as the signed-in gateways), and its nginx.  Sets FA_POSTERN=1
# when the gateway accepts the configuration.  nginx says the original
# request came over https: the front nginx stands for one that ended TLS,
# as wrk does for the plain signed-in runs.
fwdauth_postern_start() {
	mkdir -p "$W/pfa"
	cp "$W/px/app.yaml" "$W/pfa/app.yaml"
	sed -e "/^  listen:/,/^tls:/{/^tls:/!d}" \
	    -e "s|^tls:|  listen:\n    - address: \"127.0.0.1:$FA_PT\"\n      tls: false\n      mode: forward_auth\ntls:|" \
	    "$W/px/postern.yaml" >"$W/pfa/postern.yaml"
	if ! "$BIN" check -c "$W/pfa/postern.yaml" >"$W/pfa/check" 2>&1; then
		if grep -q "'mode'\|mode:" "$W/pfa/check"; then
			echo "nginx auth_request -> Postern: not available (this" \
			    "gateway's config check refuses mode: forward_auth:" \
			    "$(head -n 1 "$W/pfa/check" | sed "s|$W/||")"
			return 0
		fi
		cat "$W/pfa/check" >&2
		echo "bench: the forward-auth gateway's configuration" >&2
		exit 1
	fi
	"${ON_PROXY[@]}" "$BIN" serve -c "$W/pfa/postern.yaml" 2>"$W/pfa/log" &
	FA_PT_PID=$!
	PIDS+=("$FA_PT_PID")
	# keepalive to the decision service, as the Lua side pools its Redis
	# connection (without an upstream block nginx opens one per request)
	nginx_start authpostern 1 "upstream postern_auth {
		    server 127.0.0.1:$FA_PT; keepalive 128; }
		$(fwdauth_front "$FA_NGP" "
		    proxy_pass http://postern_auth/.postern/auth;
		    proxy_http_version 1.1; proxy_set_header Connection '';
		    proxy_pass_request_body off;
		    proxy_set_header Content-Length '';
		    proxy_set_header X-Original-URI \$request_uri;
		    proxy_set_header X-Original-Method \$request_method;
		    proxy_set_header X-Forwarded-Host \$host;
		    proxy_set_header X-Forwarded-Proto https;" \
		    upstream_http_x_postern_user)" "${ON_PROXY[@]}"
	FA_NGP_PID=$LAST
	wait_http "$FA_PT" && wait_http "$FA_NGP" ||
	    { echo "bench: the forward-auth gateway did not start" >&2; exit 1; }
	# One signed-in request must pass, an anonymous one must not.
	fwdauth_probe "$FA_NGP" || exit 1
	FA_POSTERN=1
}

fwdauth_probe() {	# fwdauth_probe PORT: 200 signed in, 401 without
	local ok no
	ok=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" \
	    "http://127.0.0.1:$1/")
	no=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")
	[ "$ok" = 200 ] && [ "$no" = 401 ] && return 0
	echo "bench: forward auth on :$1 answered $ok signed in, $no without" >&2
	return 1
}

fwdauth_start() {
	fwdauth_lua_start
	wait_http "$FA_LUA" ||
	    { echo "bench: the nginx-Lua decision did not start" >&2; exit 1; }
	fwdauth_probe "$FA_LUA" || exit 1
	fwdauth_postern_start
}

fwdauth_run() {	# one repetition of each available target
	run authreq-lua-http "http://127.0.0.1:$FA_LUA/" "$FA_LUA_PID" \
	    -H "Cookie: $COOKIE"
	[ "$FA_POSTERN" = 1 ] || return 0
	run authreq-postern-http "http://127.0.0.1:$FA_NGP/" \
	    "$FA_NGP_PID,$FA_PT_PID" \
	    -H "Cookie: $COOKIE"
	# the decision endpoint asked directly with the headers the front
	# nginx sends: the gateway's own cost of a decision, to compare with
	# a proxied signed-in request (postern1-auth-http)
	run decision-postern-http "http://127.0.0.1:$FA_PT/.postern/auth" \
	    "$FA_PT_PID" -H "Cookie: $COOKIE" -H "X-Original-URI: /" \
	    -H "X-Original-Method: GET" -H "X-Forwarded-Host: 127.0.0.1" \
	    -H "X-Forwarded-Proto: https"
}
