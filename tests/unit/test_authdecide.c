/*
 * authdecide.c and the answers of auth.c, on a real connection
 * (reqpath.h): which requests go upstream anonymously, which need someone
 * and how they are told (a browser goes to /.postern/login with the way
 * back in "rd", an API client gets 401), what is refused outright, and --
 * given an identity, as a session lookup or a grant check hands it over --
 * forward, 403, step-up or second factor.  The session store is not here:
 * a request that needs it gets 503 (fail closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "encode.h"
#include "reqpath.h"
#include "request.h"

static const char yaml[] =
    "policies:\n"
    "  - shop.yaml\n"
    "  - teams.yaml\n";
static const char shop_yaml[] =
    "app:\n"
    "  name: shop\n"
    "  hosts: [shop.example.com]\n"
    "  upstream: http://127.0.0.1:9\n"
    "  routes:\n"
    "    - path: /public/**\n"
    "      public: true\n"
    "    - path: /docs/**\n"
    "      methods: [GET]\n"
    "      public: true\n"
    "    - path: /api/**\n"
    "      auth: [apikey]\n"
    "      scopes: [read]\n"
    "    - path: /fresh/**\n"
    "      fresh_auth: 5m\n"
    "    - path: /mfa/**\n"
    "      mfa: true\n"
    "    - path: /staff/**\n"
    "      emails: [\"@example.com\"]\n"
    "    - path: /**\n"
    "      authenticated: true\n";
static const char teams_yaml[] =
    "app:\n"
    "  name: teams\n"
    "  hosts: [\"{org}.teams.example.com\"]\n"
    "  upstream: http://127.0.0.1:9\n"
    "  routes:\n"
    "    - path: /**\n"
    "      role: admin\n";

static struct reqpath	 rp;
static struct reqpath_resp resp;

static void
start_tls(int tls)
{
	reqpath_start(&rp, reqpath_config(yaml, "shop.yaml", shop_yaml,
	    "teams.yaml", teams_yaml, NULL), tls);
}

static void
start(void)
{
	start_tls(1);
}

/* <method> <target> to shop.example.com with <extra> header lines. */
static void
ask(const char *method, const char *target, const char *extra)
{
	char	req[2048];

	(void)snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: "
	    "shop.example.com\r\n%s\r\n", method, target, extra);
	reqpath_do(&rp, req, &resp);
}

#define HTML	"Accept: text/html,application/xhtml+xml\r\n"
#define JSON	"Accept: application/json\r\n"

/* The request went upstream as <user> ("" anonymous) for <path>. */
static void
forwarded(const char *user, const char *path)
{
	assert_int_equal(resp.len, 0);
	assert_int_equal(rp.nforward, 1);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_FORWARD);
	assert_string_equal(rp.user, user);
	assert_string_equal(rp.path, path);
	assert_int_equal(rp.assertion, user[0] != '\0');
}

/* Answered <status>, never forwarded. */
static void
answered(int status)
{
	if (resp.status != status)
		fail_msg("want %d, got: %s", status, resp.head);
	assert_int_equal(rp.nforward, 0);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_ANSWER);
}

/* A browser sent to <page> with rd=<path> (percent-encoded as sent). */
static void
sent_to(const char *page, const char *path)
{
	char	enc[1024], want[1200];

	answered(302);
	(void)encode_pct(path, "/", enc, sizeof(enc));
	(void)snprintf(want, sizeof(want), "%s?rd=%s", page, enc);
	assert_string_equal(reqpath_header(&resp, "location"), want);
	assert_null(reqpath_header(&resp, "www-authenticate"));
}

/* An API client told 401 with challenge <www>. */
static void
told_401(const char *www)
{
	answered(401);
	assert_null(reqpath_header(&resp, "location"));
	assert_string_equal(reqpath_header(&resp, "www-authenticate"), www);
	assert_string_equal(reqpath_header(&resp, "content-type"),
	    "application/json");
}

#define BEARER		"Bearer realm=\"postern\""
#define INSUFFICIENT	"Bearer realm=\"postern\", " \
			"error=\"insufficient_user_authentication\""

/* ---- anonymous ---- */

static void
test_public_forwards_anonymously(void **state)
{
	static const char *const methods[] = { "GET", "HEAD", "POST",
	    "DELETE" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		start();
		ask(methods[i], "/public/a?x=1", HTML);
		forwarded("", "/public/a");
		assert_int_equal(rp.nrequest, 1);
		reqpath_stop(&rp);
	}
}

/* A route for GET admits HEAD, and only those. */
static void
test_head_is_get(void **state)
{
	(void)state;
	start();
	ask("HEAD", "/docs/a", "");
	forwarded("", "/docs/a");
	reqpath_stop(&rp);
	start();
	ask("POST", "/docs/a", HTML "Content-Length: 0\r\n");
	told_401(BEARER);		/* the catch-all; POST: no redirect */
	reqpath_stop(&rp);
}

/* Nobody signed in: a browser asking for a page (GET or HEAD, Accept:
 * text/html) goes to the sign-in page; everyone else gets 401. */
static void
test_login_browser_vs_api(void **state)
{
	static const struct {
		const char	*method;
		const char	*extra;
		int		 browser;
	} cases[] = {
		{ "GET", HTML, 1 },
		{ "HEAD", HTML, 1 },
		{ "GET", "Accept: TEXT/HTML\r\n", 1 },
		{ "GET", JSON, 0 },
		{ "GET", "Accept: */*\r\n", 0 },
		{ "GET", "", 0 },
		{ "POST", HTML "Content-Length: 0\r\n", 0 },
		{ "DELETE", HTML, 0 },
		/* an Authorization header: a program, whatever it accepts */
		{ "GET", HTML "Authorization: Bearer abc\r\n", 0 },
		{ "GET", HTML "Authorization: Basic YTpi\r\n", 0 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start();
		ask(cases[i].method, "/app/x?q=1", cases[i].extra);
		if (cases[i].browser)
			sent_to("/.postern/login", "/app/x?q=1");
		else
			told_401(BEARER);
		assert_int_equal(rp.nrequest, 1);
		reqpath_stop(&rp);
	}
}

/*
 * "rd" is the path the policy decided on (normalised) with the query,
 * never the raw request target: no dot segments, no absolute URL of
 * another host, no encoded tricks.
 */
static void
test_rd_is_the_normalised_path(void **state)
{
	static const struct {
		const char	*target;
		const char	*rd;
	} cases[] = {
		{ "/a/../app/./x", "/app/x" },
		{ "/app//x/", "/app/x/" },
		{ "/%61pp/x", "/app/x" },
		{ "/app/x?rd=https://evil.example/", "/app/x?rd=https://"
		    "evil.example/" },
		{ "http://shop.example.com/app/x", "/app/x" },
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start();
		ask("GET", cases[i].target, HTML);
		sent_to("/.postern/login", cases[i].rd);
		reqpath_stop(&rp);
	}
}

/* A cookie of the wrong shape is no session: cleared, sent to sign in.
 * One of the right shape needs the store, which is down here: 503. */
static void
test_session_cookie(void **state)
{
	char	hdr[256], id[64];

	(void)state;
	start();
	ask("GET", "/app/x", HTML "Cookie: __Host-postern=short\r\n");
	sent_to("/.postern/login", "/app/x");
	assert_non_null(strstr(reqpath_header(&resp, "set-cookie"),
	    "__Host-postern=; Path=/; Max-Age=0"));
	reqpath_stop(&rp);

	start();
	memset(id, 'A', 43);
	id[43] = '\0';
	(void)snprintf(hdr, sizeof(hdr), HTML "Cookie: __Host-postern=%s\r\n",
	    id);
	ask("GET", "/app/x", hdr);
	answered(503);
	assert_null(reqpath_header(&resp, "location"));
	reqpath_stop(&rp);
}

/* The reserved paths never reach the app's policy, whatever the host. */
static void
test_reserved_paths_skip_policy(void **state)
{
	static const char *const targets[] = {
		"/.postern/nope", "/.postern", "/.postern/",
		"/x/../.postern/nope", "/%2epostern/nope",
		"/.postern/health",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		start();
		ask("GET", targets[i], HTML);
		assert_int_equal(rp.nrequest, 0);
		assert_int_equal(rp.nforward, 0);
		assert_int_equal(resp.status, strcmp(targets[i],
		    "/.postern/health") == 0 ? 200 : 404);
		assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_ANSWER);
		reqpath_stop(&rp);
	}
	/* ...and their neighbours are app paths */
	start();
	ask("GET", "/.posternx", HTML);
	assert_int_equal(rp.nrequest, 1);
	sent_to("/.postern/login", "/.posternx");
	reqpath_stop(&rp);
}

/* In clear (no TLS, no trusted proxy): public routes work, nothing that
 * needs a credential is looked at or redirected to a sign-in page. */
static void
test_cleartext(void **state)
{
	(void)state;
	start_tls(0);
	ask("GET", "/public/a", HTML);
	forwarded("", "/public/a");
	reqpath_stop(&rp);
	start_tls(0);
	ask("GET", "/app/x", HTML "Cookie: __Host-postern=x\r\n");
	answered(403);
	assert_null(reqpath_header(&resp, "location"));
	reqpath_stop(&rp);
	start_tls(0);
	ask("GET", "/public/a?postern_share=ps_x", HTML);
	answered(403);
	reqpath_stop(&rp);
}

/* A WebSocket handshake on a session route must come from the app. */
static void
test_websocket_origin(void **state)
{
	static const char ws[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
	static const char *const bad[] = {
		"Origin: https://evil.example\r\n",
		"Origin: http://shop.example.com\r\n",
		"Origin: https://shop.example.com:444\r\n",
		"Origin: https://shop.example.com.evil.example\r\n",
		"",
	};
	char	hdr[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start();
		(void)snprintf(hdr, sizeof(hdr), "%s%s", ws, bad[i]);
		ask("GET", "/app/ws", hdr);
		answered(403);
		reqpath_stop(&rp);
	}
	start();
	(void)snprintf(hdr, sizeof(hdr), "%sOrigin: https://SHOP.example.com"
	    "\r\n", ws);
	ask("GET", "/app/ws", hdr);
	told_401(BEARER);		/* good origin: on to the session */
	reqpath_stop(&rp);
}

/* ---- given an identity ---- */

static void
as_session(const char *email, int mfa, int64_t auth_age)
{
	struct session	*s = &rp.ident.s;

	memset(&rp.ident, 0, sizeof(rp.ident));
	rp.ident.kind = DECIDE_SESSION;
	(void)snprintf(s->user, sizeof(s->user), "u_alice");
	(void)snprintf(s->email, sizeof(s->email), "%s", email);
	(void)snprintf(s->method, sizeof(s->method), "password");
	s->mfa = mfa;
	s->auth_time = (int64_t)time(NULL) - auth_age;
	s->created = s->auth_time;
	rp.request = reqpath_as_ident;
}

static void
test_ident_session(void **state)
{
	(void)state;
	start();
	as_session("alice@example.com", 0, 0);
	ask("GET", "/app/x", HTML);
	forwarded("u_alice", "/app/x");
	reqpath_stop(&rp);
}

/* fresh_auth: a password entered too long ago is a step-up. */
static void
test_ident_fresh_auth(void **state)
{
	(void)state;
	start();
	as_session("alice@example.com", 0, 299);
	ask("GET", "/fresh/x", HTML);
	forwarded("u_alice", "/fresh/x");
	reqpath_stop(&rp);
	start();
	as_session("alice@example.com", 0, 301);
	ask("GET", "/fresh/x", HTML);
	sent_to("/.postern/reauth", "/fresh/x");
	reqpath_stop(&rp);
	start();
	as_session("alice@example.com", 0, 301);
	ask("GET", "/fresh/x", JSON);
	told_401(INSUFFICIENT);
	reqpath_stop(&rp);
}

static void
test_ident_mfa(void **state)
{
	(void)state;
	start();
	as_session("alice@example.com", 1, 0);
	ask("GET", "/mfa/x", HTML);
	forwarded("u_alice", "/mfa/x");
	reqpath_stop(&rp);
	start();
	as_session("alice@example.com", 0, 0);
	ask("HEAD", "/mfa/x", HTML);
	sent_to("/.postern/2fa", "/mfa/x");
	reqpath_stop(&rp);
	start();
	as_session("alice@example.com", 0, 0);
	ask("GET", "/mfa/x", "Authorization: Bearer x\r\n");
	told_401(INSUFFICIENT);
	reqpath_stop(&rp);
}

/* emails: the domain exactly, in any case; not a subdomain or suffix. */
static void
test_ident_emails(void **state)
{
	static const struct {
		const char	*email;
		int		 ok;
	} cases[] = {
		{ "bob@example.com", 1 },
		{ "bob@EXAMPLE.com", 1 },
		{ "bob@sub.example.com", 0 },
		{ "bob@evilexample.com", 0 },
		{ "bob@example.com.evil", 0 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start();
		as_session(cases[i].email, 0, 0);
		ask("GET", "/staff/x", HTML);
		if (cases[i].ok)
			forwarded("u_alice", "/staff/x");
		else
			answered(403);
		reqpath_stop(&rp);
	}
}

/* A route for API keys takes no session; a key needs every scope. */
static void
as_apikey(const char *scope)
{
	struct grant	*g = &rp.ident.g;

	memset(&rp.ident, 0, sizeof(rp.ident));
	rp.ident.kind = DECIDE_APIKEY;
	g->kind = GRANT_APIKEY;
	(void)snprintf(g->id, sizeof(g->id), "k1");
	(void)snprintf(g->scopes[0], sizeof(g->scopes[0]), "%s", scope);
	g->nscopes = 1;
	rp.request = reqpath_as_ident;
}

static void
test_ident_apikey(void **state)
{
	(void)state;
	start();
	as_session("alice@example.com", 1, 0);
	ask("GET", "/api/x", JSON);
	answered(403);
	reqpath_stop(&rp);
	start();
	as_apikey("read");
	ask("GET", "/api/x", JSON);
	forwarded("pk_k1", "/api/x");
	reqpath_stop(&rp);
	start();
	as_apikey("write");
	ask("GET", "/api/x", JSON);
	answered(403);
	reqpath_stop(&rp);
	start();
	as_apikey("read");		/* a key on a session route */
	ask("GET", "/app/x", JSON);
	answered(403);
	reqpath_stop(&rp);
}

/* A role in the host's tenant; a membership changed since the session's
 * snapshot is a step-up (a new snapshot), not a 403. */
static void
test_ident_tenant_role(void **state)
{
	struct session	*s = &rp.ident.s;
	static const struct {
		const char	*org;
		const char	*role;
		int		 pending;
		int		 want;	/* 0 forward, else status */
	} cases[] = {
		{ "acme", "admin", 0, 0 },
		{ "acme", "owner", 0, 0 },
		{ "acme", "member", 0, 403 },
		{ "other", "owner", 0, 403 },
		{ "acme", "member", 1, 302 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start();
		as_session("alice@example.com", 0, 0);
		(void)snprintf(s->orgs[0].slug, sizeof(s->orgs[0].slug), "%s",
		    cases[i].org);
		(void)snprintf(s->orgs[0].role, sizeof(s->orgs[0].role), "%s",
		    cases[i].role);
		s->norgs = 1;
		s->orgs_pending = cases[i].pending;
		reqpath_do(&rp, "GET /x HTTP/1.1\r\nHost: acme.teams.example.com"
		    "\r\n" HTML "\r\n", &resp);
		if (cases[i].want == 0) {
			forwarded("u_alice", "/x");
			assert_string_equal(rp.org, "acme");
			assert_string_equal(rp.role, cases[i].role);
		} else if (cases[i].want == 302)
			sent_to("/.postern/reauth", "/x");
		else
			answered(cases[i].want);
		reqpath_stop(&rp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_forwards_anonymously),
		cmocka_unit_test(test_head_is_get),
		cmocka_unit_test(test_login_browser_vs_api),
		cmocka_unit_test(test_rd_is_the_normalised_path),
		cmocka_unit_test(test_session_cookie),
		cmocka_unit_test(test_reserved_paths_skip_policy),
		cmocka_unit_test(test_cleartext),
		cmocka_unit_test(test_websocket_origin),
		cmocka_unit_test(test_ident_session),
		cmocka_unit_test(test_ident_fresh_auth),
		cmocka_unit_test(test_ident_mfa),
		cmocka_unit_test(test_ident_emails),
		cmocka_unit_test(test_ident_apikey),
		cmocka_unit_test(test_ident_tenant_role),
	};

	return cmocka_run_group_tests(tests, NULL, reqpath_teardown);
}
