/*
 * oidc.c: the checks of a discovery document (the issuer compared
 * exactly, each endpoint https or loopback http, the declared algs, PKCE
 * and back-channel logout support, malformed and duplicated members,
 * the size bound), the bounds of the cache lifetime, and the default
 * discovery URL.  The fetching and caching run against a real server in
 * tests/integration/test_oidcnet.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../gateway/outbound/oidc.c"

#define ISS	"https://idp.example.com"

static const char *
parse(const char *json, struct oidc_doc *d)
{
	return oidc_doc_parse(json, strlen(json), ISS, d);
}

/* A document with <extra> members after the required ones. */
static const char *
doc(const char *extra, struct oidc_doc *d)
{
	char	buf[4096];

	(void)snprintf(buf, sizeof(buf), "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/jwks\"%s%s}", extra[0] != '\0' ? ", " : "",
	    extra);
	return parse(buf, d);
}

static void
test_good(void **state)
{
	struct oidc_doc	d;

	(void)state;
	assert_null(doc("\"end_session_endpoint\": \"" ISS "/logout\", "
	    "\"id_token_signing_alg_values_supported\": [\"RS256\", "
	    "\"ES256\", \"HS256\", \"none\"], "
	    "\"code_challenge_methods_supported\": [\"plain\", \"S256\"], "
	    "\"backchannel_logout_supported\": true", &d));
	assert_string_equal(d.issuer, ISS);
	assert_string_equal(d.authz, ISS "/auth");
	assert_string_equal(d.token, ISS "/token");
	assert_string_equal(d.jwks_uri, ISS "/jwks");
	assert_string_equal(d.end_session, ISS "/logout");
	assert_int_equal(d.algs, JWS_RS256 | JWS_ES256);
	assert_string_equal(d.declared, "RS256 ES256 HS256 none");
	assert_int_equal(d.pkce_s256, 1);
	assert_int_equal(d.backchannel, 1);
	oidc_doc_clear(&d);
	/* the defaults of what is absent */
	assert_null(doc("", &d));
	assert_null(d.end_session);
	assert_int_equal(d.algs, JWS_RS256);
	assert_string_equal(d.declared, "");
	assert_int_equal(d.pkce_s256, 1);
	assert_int_equal(d.backchannel, 0);
	oidc_doc_clear(&d);
	/* unknown members are ignored */
	assert_null(doc("\"x\": {\"y\": [1, 2]}", &d));
	oidc_doc_clear(&d);
}

static void
test_issuer(void **state)
{
	struct oidc_doc	d;

	(void)state;
	assert_string_equal(parse("{\"issuer\": \"" ISS "/\", "
	    "\"authorization_endpoint\": \"" ISS "/a\", \"token_endpoint\": "
	    "\"" ISS "/t\", \"jwks_uri\": \"" ISS "/j\"}", &d), "oidc_issuer");
	assert_null(d.authz);			/* cleared */
	assert_string_equal(parse("{\"issuer\": \"https://IDP.example.com\", "
	    "\"authorization_endpoint\": \"" ISS "/a\", \"token_endpoint\": "
	    "\"" ISS "/t\", \"jwks_uri\": \"" ISS "/j\"}", &d), "oidc_issuer");
	assert_string_equal(parse("{\"issuer\": \"https://evil.example\", "
	    "\"authorization_endpoint\": \"" ISS "/a\", \"token_endpoint\": "
	    "\"" ISS "/t\", \"jwks_uri\": \"" ISS "/j\"}", &d), "oidc_issuer");
	assert_string_equal(parse("{\"authorization_endpoint\": \"" ISS
	    "/a\", \"token_endpoint\": \"" ISS "/t\", \"jwks_uri\": \"" ISS
	    "/j\"}", &d), "oidc_issuer");
	assert_string_equal(parse("{\"issuer\": [\"" ISS "\"]}", &d),
	    "oidc_issuer");
	/* an issuer with a NUL inside is not the issuer */
	assert_string_equal(parse("{\"issuer\": \"" ISS "\\u0000x\", "
	    "\"authorization_endpoint\": \"" ISS "/a\", \"token_endpoint\": "
	    "\"" ISS "/t\", \"jwks_uri\": \"" ISS "/j\"}", &d), "oidc_json");
	/* a second issuer member: duplicates are refused */
	assert_string_equal(doc("\"issuer\": \"https://evil.example\"", &d),
	    "oidc_json");
}

static void
test_endpoints(void **state)
{
	static const char *const req[] = { "authorization_endpoint",
	    "token_endpoint", "jwks_uri" };
	static const char *const bad[] = { "http://idp.example.com/x",
	    "ftp://idp.example.com/x", "/relative", "", "https://u:p@idp/x" };
	struct oidc_doc	 d;
	char		 buf[1024];
	size_t		 i, j, k;

	(void)state;
	for (i = 0; i < 3; i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]) + 2; j++) {
			k = 0;
			k += (size_t)snprintf(buf + k, sizeof(buf) - k,
			    "{\"issuer\": \"" ISS "\"");
			for (size_t m = 0; m < 3; m++) {
				if (m != i)
					k += (size_t)snprintf(buf + k,
					    sizeof(buf) - k, ", \"%s\": "
					    "\"" ISS "/x\"", req[m]);
				else if (j < sizeof(bad) / sizeof(bad[0]))
					k += (size_t)snprintf(buf + k,
					    sizeof(buf) - k, ", \"%s\": "
					    "\"%s\"", req[m], bad[j]);
				else if (j == sizeof(bad) / sizeof(bad[0]))
					k += (size_t)snprintf(buf + k,
					    sizeof(buf) - k, ", \"%s\": 5",
					    req[m]);
				/* else: absent */
			}
			(void)snprintf(buf + k, sizeof(buf) - k, "}");
			assert_string_equal(parse(buf, &d), "oidc_endpoint");
		}
	}
	/* loopback http is fine (local providers, tests) */
	assert_null(parse("{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"http://127.0.0.1:9/a\", "
	    "\"token_endpoint\": \"http://localhost:9/t\", "
	    "\"jwks_uri\": \"http://[::1]:9/j\"}", &d));
	oidc_doc_clear(&d);
	/* an end_session_endpoint that is not https is left out */
	assert_null(doc("\"end_session_endpoint\": \"http://idp.example.com"
	    "/logout\"", &d));
	assert_null(d.end_session);
	oidc_doc_clear(&d);
	assert_null(doc("\"end_session_endpoint\": 7", &d));
	assert_null(d.end_session);
	oidc_doc_clear(&d);
}

static void
test_algs(void **state)
{
	struct oidc_doc	d;

	(void)state;
	assert_string_equal(doc("\"id_token_signing_alg_values_supported\": "
	    "[\"HS256\", \"none\"]", &d), "oidc_alg");
	assert_string_equal(doc("\"id_token_signing_alg_values_supported\": "
	    "[]", &d), "oidc_alg");
	assert_string_equal(doc("\"id_token_signing_alg_values_supported\": "
	    "[\"rs256\"]", &d), "oidc_alg");
	assert_string_equal(doc("\"id_token_signing_alg_values_supported\": "
	    "\"RS256\"", &d), "oidc_json");
	assert_string_equal(doc("\"id_token_signing_alg_values_supported\": "
	    "[\"RS256\", 1]", &d), "oidc_json");
	assert_null(doc("\"id_token_signing_alg_values_supported\": "
	    "[\"PS256\", \"EdDSA\"]", &d));
	assert_int_equal(d.algs, JWS_PS256 | JWS_EDDSA);
	oidc_doc_clear(&d);
	/* a long list is shown cut, never overflowing */
	assert_null(doc("\"id_token_signing_alg_values_supported\": "
	    "[\"RS256\", \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAA\", \"B1\", \"B2\", \"B3\", \"B4\", "
	    "\"B5\", \"B6\", \"B7\", \"B8\", \"B9\", \"B10\", \"B11\", \"B12\", "
	    "\"B13\", \"B14\", \"B15\", \"B16\", \"B17\", \"B18\", \"B19\", "
	    "\"B20\", \"B21\", \"B22\", \"B23\", \"B24\", \"B25\", \"B26\", "
	    "\"B27\", \"B28\", \"B29\", \"B30\", \"B31\", \"B32\", \"B33\", "
	    "\"B34\", \"B35\", \"B36\", \"B37\", \"B38\", \"B39\", \"B40\", "
	    "\"B41\", \"B42\", \"B43\", \"B44\", \"B45\", \"B46\", \"B47\", "
	    "\"ES256\"]", &d));
	assert_int_equal(d.algs, JWS_RS256 | JWS_ES256);
	assert_true(strlen(d.declared) < sizeof(d.declared));
	oidc_doc_clear(&d);
}

static void
test_flags(void **state)
{
	struct oidc_doc	d;

	(void)state;
	assert_null(doc("\"code_challenge_methods_supported\": [\"plain\"]",
	    &d));
	assert_int_equal(d.pkce_s256, 0);
	oidc_doc_clear(&d);
	assert_null(doc("\"code_challenge_methods_supported\": [\"s256\"]",
	    &d));
	assert_int_equal(d.pkce_s256, 0);
	oidc_doc_clear(&d);
	assert_null(doc("\"backchannel_logout_supported\": \"true\"", &d));
	assert_int_equal(d.backchannel, 0);
	oidc_doc_clear(&d);
	assert_null(doc("\"backchannel_logout_supported\": 1", &d));
	assert_int_equal(d.backchannel, 0);
	oidc_doc_clear(&d);
}

static void
test_garbage(void **state)
{
	struct oidc_doc	 d;
	char		*big;
	size_t		 n = OIDC_MAX_DOC + 1;

	(void)state;
	assert_string_equal(parse("", &d), "oidc_json");
	assert_string_equal(parse("[]", &d), "oidc_json");
	assert_string_equal(parse("\"" ISS "\"", &d), "oidc_json");
	assert_string_equal(parse("{\"issuer\": \"" ISS "\"", &d),
	    "oidc_json");
	assert_string_equal(parse("{\"issuer\": \"" ISS "\"} {}", &d),
	    "oidc_json");
	/* over the bound, even if valid */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_string_equal(oidc_doc_parse(big, n, ISS, &d), "oidc_json");
	assert_int_equal(oidc_doc_parse(big + 1, n - 1, ISS, &d) != NULL, 1);
	free(big);
}

static void
test_ttl(void **state)
{
	(void)state;
	assert_int_equal(oidc_ttl(-1), OIDC_TTL_DEFAULT);
	assert_int_equal(oidc_ttl(0), OIDC_TTL_MIN);
	assert_int_equal(oidc_ttl(59), OIDC_TTL_MIN);
	assert_int_equal(oidc_ttl(60), 60);
	assert_int_equal(oidc_ttl(3601), 3601);
	assert_int_equal(oidc_ttl(86400), 86400);
	assert_int_equal(oidc_ttl(86401), OIDC_TTL_MAX);
	assert_int_equal(oidc_ttl(INT64_MAX), OIDC_TTL_MAX);
}

static void
test_discovery_url(void **state)
{
	struct config_sso_provider p;
	char			*u;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.issuer = (char *)(uintptr_t)"https://idp.example.com/realms/x";
	assert_non_null(u = oidc_discovery_url(&p));
	assert_string_equal(u, "https://idp.example.com/realms/x"
	    "/.well-known/openid-configuration");
	free(u);
	p.issuer = (char *)(uintptr_t)"https://idp.example.com/";
	assert_non_null(u = oidc_discovery_url(&p));
	assert_string_equal(u, "https://idp.example.com"
	    "/.well-known/openid-configuration");
	free(u);
	p.discovery_url = (char *)(uintptr_t)"https://other.example/d";
	assert_non_null(u = oidc_discovery_url(&p));
	assert_string_equal(u, "https://other.example/d");
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_issuer),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_algs),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_discovery_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
