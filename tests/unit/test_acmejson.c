/*
 * acmejson.c: what an ACME CA answers, read strictly.  A directory, an
 * order and an authorization as pebble and Let's Encrypt send them parse
 * into the fields the client uses; each sibling that must not pass is
 * refused: a URL httpc would not fetch (http:// off loopback, user info),
 * a missing required member, an unknown status, a token outside base64url
 * or too long, too many authorizations or challenges, duplicate members,
 * a body over the limit.  Problem documents keep type and detail as
 * printable text and lose the nonce they quote.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acmejson.h"

#define DIR_OK	"{\"newNonce\":\"https://ca.test/nonce\"," \
	"\"newAccount\":\"https://ca.test/acct\"," \
	"\"newOrder\":\"https://ca.test/order\"," \
	"\"meta\":{\"externalAccountRequired\":true}}"

static int
dir(const char *json)
{
	struct acme_directory	d;
	char			err[128];
	int			rc;

	rc = acme_parse_directory(json, strlen(json), &d, err, sizeof(err));
	acme_directory_free(&d);
	return rc;
}

static void
test_directory(void **state)
{
	struct acme_directory	d;
	char			err[128];

	(void)state;
	assert_int_equal(acme_parse_directory(DIR_OK, strlen(DIR_OK), &d, err,
	    sizeof(err)), 0);
	assert_string_equal(d.new_order, "https://ca.test/order");
	assert_null(d.renewal_info);
	assert_int_equal(d.eab_required, 1);
	acme_directory_free(&d);
	/* loopback http is allowed (tests, local CAs); elsewhere not */
	assert_int_equal(dir("{\"newNonce\":\"http://127.0.0.1:1/n\","
	    "\"newAccount\":\"https://ca.test/a\","
	    "\"newOrder\":\"https://ca.test/o\"}"), 0);
	assert_int_equal(dir("{\"newNonce\":\"http://ca.test/n\","
	    "\"newAccount\":\"https://ca.test/a\","
	    "\"newOrder\":\"https://ca.test/o\"}"), -1);
	assert_int_equal(dir("{\"newNonce\":\"https://u@ca.test/n\","
	    "\"newAccount\":\"https://ca.test/a\","
	    "\"newOrder\":\"https://ca.test/o\"}"), -1);
	assert_int_equal(dir("{\"newAccount\":\"https://ca.test/a\","
	    "\"newOrder\":\"https://ca.test/o\"}"), -1);
	assert_int_equal(dir("{\"newNonce\":1,\"newAccount\":\"https://ca."
	    "test/a\",\"newOrder\":\"https://ca.test/o\"}"), -1);
	assert_int_equal(dir("[]"), -1);
	assert_int_equal(dir("{\"newNonce\":\"https://ca.test/n\","
	    "\"newNonce\":\"https://evil.test/n\","
	    "\"newAccount\":\"https://ca.test/a\","
	    "\"newOrder\":\"https://ca.test/o\"}"), -1);	/* duplicate */
}

static int
order(const char *json, struct acme_order *o)
{
	char	err[128];

	return acme_parse_order(json, strlen(json), o, err, sizeof(err));
}

static void
test_order(void **state)
{
	struct acme_order	o;
	char			big[4096];
	size_t			i, n;

	(void)state;
	assert_int_equal(order("{\"status\":\"pending\",\"authorizations\":"
	    "[\"https://ca.test/z/1\",\"https://ca.test/z/2\"],"
	    "\"finalize\":\"https://ca.test/f\"}", &o), 0);
	assert_int_equal(o.status, ACME_ST_PENDING);
	assert_int_equal(o.nauthz, 2);
	assert_null(o.certificate);
	acme_order_free(&o);
	/* valid needs the certificate URL */
	assert_int_equal(order("{\"status\":\"valid\",\"authorizations\":"
	    "[\"https://ca.test/z/1\"],\"finalize\":\"https://ca.test/f\"}",
	    &o), -1);
	acme_order_free(&o);
	assert_int_equal(order("{\"status\":\"valid\",\"authorizations\":"
	    "[\"https://ca.test/z/1\"],\"finalize\":\"https://ca.test/f\","
	    "\"certificate\":\"https://ca.test/c\"}", &o), 0);
	assert_int_equal(o.status, ACME_ST_VALID);
	acme_order_free(&o);
	assert_int_equal(order("{\"status\":\"done\",\"authorizations\":"
	    "[\"https://ca.test/z/1\"],\"finalize\":\"https://ca.test/f\"}",
	    &o), -1);
	acme_order_free(&o);
	assert_int_equal(order("{\"status\":\"ready\",\"authorizations\":[],"
	    "\"finalize\":\"https://ca.test/f\"}", &o), -1);
	acme_order_free(&o);
	assert_int_equal(order("{\"status\":\"ready\",\"authorizations\":"
	    "[\"file:///etc/passwd\"],\"finalize\":\"https://ca.test/f\"}",
	    &o), -1);
	acme_order_free(&o);
	/* more authorizations than ACME_AUTHZ_MAX */
	n = (size_t)snprintf(big, sizeof(big), "{\"status\":\"ready\","
	    "\"finalize\":\"https://ca.test/f\",\"authorizations\":[");
	for (i = 0; i <= ACME_AUTHZ_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "%s\"https://ca.test/z/%zu\"", i ? "," : "", i);
	(void)snprintf(big + n, sizeof(big) - n, "]}");
	assert_int_equal(order(big, &o), -1);
	acme_order_free(&o);
}

static int
authz(const char *chal, struct acme_authz *a)
{
	char	json[2048], err[128];

	(void)snprintf(json, sizeof(json), "{\"status\":\"pending\","
	    "\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
	    "\"challenges\":[%s]}", chal);
	return acme_parse_authz(json, strlen(json), a, err, sizeof(err));
}

static void
test_authz(void **state)
{
	struct acme_authz	a;
	char			tok[200], chal[400];

	(void)state;
	assert_int_equal(authz("{\"type\":\"http-01\",\"url\":\"https://ca."
	    "test/c/1\",\"token\":\"Ab-_9\",\"status\":\"pending\"},"
	    "{\"type\":\"dns-01\",\"url\":\"https://ca.test/c/2\","
	    "\"token\":\"x\",\"status\":\"pending\"}", &a), 0);
	assert_int_equal(a.nchal, 2);
	assert_string_equal(a.host, "a.test");
	assert_string_equal(a.chal[0].type, "http-01");
	assert_string_equal(a.chal[0].token, "Ab-_9");
	assert_string_equal(a.error, "");
	acme_authz_free(&a);
	/* a token a path could be built from: refused */
	assert_int_equal(authz("{\"type\":\"http-01\",\"url\":\"https://ca."
	    "test/c/1\",\"token\":\"../x\",\"status\":\"pending\"}", &a), -1);
	acme_authz_free(&a);
	assert_int_equal(authz("{\"type\":\"http-01\",\"url\":\"https://ca."
	    "test/c/1\",\"token\":\"a b\",\"status\":\"pending\"}", &a), -1);
	acme_authz_free(&a);
	memset(tok, 'a', ACME_TOKEN_MAX + 1);
	tok[ACME_TOKEN_MAX + 1] = '\0';
	(void)snprintf(chal, sizeof(chal), "{\"type\":\"http-01\",\"url\":"
	    "\"https://ca.test/c/1\",\"token\":\"%s\",\"status\":"
	    "\"pending\"}", tok);
	assert_int_equal(authz(chal, &a), -1);
	acme_authz_free(&a);
	tok[ACME_TOKEN_MAX] = '\0';
	(void)snprintf(chal, sizeof(chal), "{\"type\":\"http-01\",\"url\":"
	    "\"https://ca.test/c/1\",\"token\":\"%s\",\"status\":"
	    "\"pending\"}", tok);
	assert_int_equal(authz(chal, &a), 0);
	acme_authz_free(&a);
	assert_int_equal(authz("{\"type\":\"http-01\",\"url\":\"http://ca."
	    "test/c/1\",\"token\":\"a\",\"status\":\"pending\"}", &a), -1);
	acme_authz_free(&a);
	/* the first challenge error is kept, printable */
	assert_int_equal(authz("{\"type\":\"http-01\",\"url\":\"https://ca."
	    "test/c/1\",\"token\":\"a\",\"status\":\"invalid\",\"error\":"
	    "{\"type\":\"urn:ietf:params:acme:error:connection\",\"detail\":"
	    "\"refused\\n\\u00e9\"}}", &a), 0);
	assert_string_equal(a.error, "connection: refused???");
	acme_authz_free(&a);
}

static void
test_problem(void **state)
{
	struct acme_problem	p;
	const char		*s = "{\"type\":\"urn:ietf:params:acme:error:"
				    "badNonce\",\"detail\":\"JWS has an invalid "
				    "anti-replay nonce: Zm9vYmFy\",\"status\":400}";

	(void)state;
	acme_parse_problem(s, strlen(s), &p);
	assert_string_equal(p.type, "badNonce");
	assert_int_equal(p.status, 400);
	acme_problem_scrub(&p, "Zm9vYmFy");
	assert_string_equal(p.detail, "JWS has an invalid anti-replay nonce: ");
	acme_problem_scrub(&p, "");		/* no nonce: nothing cut */
	assert_string_equal(p.detail, "JWS has an invalid anti-replay nonce: ");
	acme_parse_problem("not json", 8, &p);
	assert_string_equal(p.type, "");
	assert_string_equal(p.detail, "");
	s = "{\"type\":\"about:blank\",\"detail\":\"\\u0007bell\"}";
	acme_parse_problem(s, strlen(s), &p);
	assert_string_equal(p.type, "about:blank");
	assert_string_equal(p.detail, "?bell");
	assert_string_equal(p.subproblems, "");
}

/* RFC 8555 6.7.1: each subproblem's identifier and type, printable,
 * at most ACME_SUBPROBLEMS of them and whole entries only. */
static void
test_subproblems(void **state)
{
	struct acme_problem	p;
	char			s[4096], *o = s;
	int			i;

	(void)state;
	(void)strcpy(s, "{\"type\":\"urn:ietf:params:acme:error:malformed\","
	    "\"detail\":\"Some of the identifiers requested were rejected\","
	    "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:"
	    "malformed\",\"detail\":\"Invalid underscore\",\"identifier\":"
	    "{\"type\":\"dns\",\"value\":\"_example.org\"}},{\"type\":"
	    "\"urn:ietf:params:acme:error:rejectedIdentifier\",\"identifier\":"
	    "{\"type\":\"dns\",\"value\":\"x\\u001b[31m.test\"}},"
	    "{\"identifier\":7},3]}");
	acme_parse_problem(s, strlen(s), &p);
	assert_string_equal(p.type, "malformed");
	assert_string_equal(p.subproblems, "_example.org=malformed, "
	    "x?[31m.test=rejectedIdentifier, =, =");
	o += sprintf(o, "{\"type\":\"x\",\"subproblems\":[");
	for (i = 0; i < 20; i++)
		o += sprintf(o, "%s{\"type\":\"urn:ietf:params:acme:error:caa\","
		    "\"identifier\":{\"value\":\"h%02d.%s\"}}", i ? "," : "", i,
		    i == 3 || i == 5 ? "long-name-long-name-long-name-long-name-long-name-"
		    "long-name-long-name-long-name-long-name-long-name.test" :
		    "t");
	(void)strcpy(o, "]}");
	acme_parse_problem(s, strlen(s), &p);
	assert_true(strlen(p.subproblems) < sizeof(p.subproblems));
	assert_non_null(strstr(p.subproblems, "h00.t=caa, h01.t=caa"));
	/* the second long one does not fit: cut after a whole entry */
	assert_non_null(strstr(p.subproblems, "h04.t=caa"));
	assert_null(strstr(p.subproblems, "h05"));
	assert_int_equal(p.subproblems[strlen(p.subproblems) - 1], 'a');
	/* 8 at most */
	o = s + sprintf(s, "{\"subproblems\":[");
	for (i = 0; i < 20; i++)
		o += sprintf(o, "%s{\"type\":\"dns\",\"identifier\":"
		    "{\"value\":\"%02d\"}}", i ? "," : "", i);
	(void)strcpy(o, "]}");
	acme_parse_problem(s, strlen(s), &p);
	assert_string_equal(p.subproblems,
	    "00=dns, 01=dns, 02=dns, 03=dns, 04=dns, 05=dns, 06=dns, 07=dns");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_authz),
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_subproblems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
