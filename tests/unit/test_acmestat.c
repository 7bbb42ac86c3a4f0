/*
 * acmestat.c: the bounded reason of a failure from the driver's text
 * (the CA's problem type, never its free text), the set of failing
 * hosts, and the exposition of states and expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "acmestat.h"

static const char *
reason(const char *detail)
{
	return acmestat_reason_name(acmestat_reason(detail));
}

static void
test_reason(void **state)
{
	(void)state;
	assert_string_equal(reason("challenge failed: connection: 127.0.0.9:"
	    " Connection refused"), "connection");
	assert_string_equal(reason("newOrder: rateLimited: too many "
	    "(HTTP 429)"), "rateLimited");
	assert_string_equal(reason("finalize: badNonce: JWS has an invalid "
	    "anti-replay nonce (HTTP 400)"), "badNonce");
	assert_string_equal(reason("challenge failed: dns: no such host"),
	    "dns");
	assert_string_equal(reason("order: caa: forbidden"), "caa");
	assert_string_equal(reason("authorization: unauthorized: x"),
	    "unauthorized");
	assert_string_equal(reason("challenge failed: incorrectResponse: y"),
	    "incorrectResponse");
	assert_string_equal(reason("newOrder: rejectedIdentifier: z"),
	    "rejectedIdentifier");
	assert_string_equal(reason("finalize: serverInternal: oops"),
	    "serverInternal");
	assert_string_equal(reason("finalize: httpc_timeout"), "timeout");
	assert_string_equal(reason("newOrder: httpc_connect"), "connection");
	assert_string_equal(reason("certificate: httpc_tls"), "tls");
	assert_string_equal(reason("authorization: still not done after 30 "
	    "polls"), "timeout");
	assert_string_equal(reason("finalize: cannot make the key or the "
	    "CSR"), "csr");
	/* the CA's free text and case do not pick the label */
	assert_string_equal(reason("newOrder: malformed: see dns: caa: x"),
	    "other");
	assert_string_equal(reason("newOrder: RateLimited: x"), "other");
	assert_string_equal(reason("newOrder: rateLimitedX: x"), "other");
	assert_string_equal(reason("a: b: c: dns: d"), "other");
	assert_string_equal(reason("connection"), "connection");
	assert_string_equal(reason(""), "other");
	assert_string_equal(reason(NULL), "other");
	assert_string_equal(acmestat_reason_name(ACMESTAT_NREASONS), "other");
}

struct heard {
	int	n, issued, renewal;
	char	host[64], reason[32];
};

static void
on_outcome(void *arg, const struct acmestat_outcome *o)
{
	struct heard	*h = arg;

	h->n++;
	h->issued = o->issued;
	h->renewal = o->renewal;
	(void)strcpy(h->host, o->host);
	(void)strcpy(h->reason, o->reason != NULL ? o->reason : "");
}

static void
test_failing_and_sink(void **state)
{
	struct acmestat	*st = acmestat_new();
	struct heard	 h = { 0 };
	char		 name[32];
	int		 i;

	(void)state;
	assert_non_null(st);
	acmestat_set_sink(st, on_outcome, &h);
	acmestat_failed(st, "b.test", ACMESTAT_DNS);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.issued, 0);
	assert_string_equal(h.host, "b.test");
	assert_string_equal(h.reason, "dns");
	assert_true(acmestat_failing(st, "b.test"));
	assert_true(acmestat_failing(st, "B.TEST"));
	assert_false(acmestat_failing(st, "a.test"));
	for (i = 0; i < 40; i++) {
		(void)snprintf(name, sizeof(name), "h%02d.test", 39 - i);
		acmestat_failed(st, name, ACMESTAT_OTHER);
		acmestat_failed(st, name, ACMESTAT_OTHER);	/* once in */
	}
	for (i = 0; i < 40; i += 2) {
		(void)snprintf(name, sizeof(name), "h%02d.test", i);
		acmestat_issued(st, name, 1);
	}
	assert_int_equal(h.issued, 1);
	assert_int_equal(h.renewal, 1);
	for (i = 0; i < 40; i++) {
		(void)snprintf(name, sizeof(name), "h%02d.test", i);
		assert_int_equal(acmestat_failing(st, name), i % 2);
	}
	assert_true(acmestat_failing(st, "b.test"));
	acmestat_issued(st, "b.test", 0);
	assert_false(acmestat_failing(st, "b.test"));
	assert_int_equal(h.n, 1 + 80 + 20 + 1);
	/* NULL statistics count nothing and do not crash */
	acmestat_failed(NULL, "x.test", ACMESTAT_DNS);
	acmestat_issued(NULL, "x.test", 0);
	acmestat_free(st);
	acmestat_free(NULL);
}

static char *
render(struct acmestat *st, struct acmestat_host *h, size_t n, time_t now)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	assert_int_equal(acmestat_render(b, st, h, n, now), 0);
	assert_int_equal(evbuffer_add(b, "", 1), 0);	/* the NUL */
	s = strdup((const char *)evbuffer_pullup(b, -1));
	evbuffer_free(b);
	return s;
}

static void
test_render(void **state)
{
	struct acmestat	*st = acmestat_new();
	time_t		 now = 1000000000;
	struct acmestat_host h[] = {
		{ "valid.test", now + 30 * 86400 },
		{ "soon.test", now + 86400 },
		{ "gone.test", now - 10 },
		{ "wait.test", 0 },
		{ "bad.test", 0 },
		{ "valid.test", 0 },		/* also listed without */
		{ "VALID.test", now + 30 * 86400 },	/* twice */
		{ "quo\"te.test", now + 5 },	/* never a label */
	};
	char		*s;

	(void)state;
	acmestat_failed(st, "bad.test", ACMESTAT_CAA);
	acmestat_failed(st, "valid.test", ACMESTAT_CAA);  /* has one */
	acmestat_issued(st, "x.test", 0);
	s = render(st, h, sizeof(h) / sizeof(h[0]), now);
	assert_non_null(strstr(s, "postern_certificates{state=\"valid\"} 1\n"));
	assert_non_null(strstr(s,
	    "postern_certificates{state=\"expiring\"} 2\n"));
	assert_non_null(strstr(s, "postern_certificates{state=\"expired\"} 1\n"));
	assert_non_null(strstr(s, "postern_certificates{state=\"pending\"} 1\n"));
	assert_non_null(strstr(s, "postern_certificates{state=\"failed\"} 1\n"));
	assert_non_null(strstr(s, "postern_certificate_expiry_seconds"
	    "{host=\"valid.test\"} 2592000\n"));
	assert_null(strstr(s, "{host=\"VALID.test\"}"));
	assert_non_null(strstr(s, "{host=\"gone.test\"} -10\n"));
	assert_null(strstr(s, "{host=\"wait.test\"}"));
	assert_null(strstr(s, "quo"));
	assert_non_null(strstr(s,
	    "postern_certificate_soonest_expiry_seconds -10\n"));
	assert_non_null(strstr(s,
	    "postern_acme_orders_total{outcome=\"issued\"} 1\n"));
	assert_non_null(strstr(s,
	    "postern_acme_orders_total{outcome=\"failed\"} 2\n"));
	assert_non_null(strstr(s,
	    "postern_acme_failures_total{reason=\"caa\"} 2\n"));
	assert_non_null(strstr(s,
	    "postern_acme_failures_total{reason=\"lock\"} 0\n"));
	free(s);
	s = render(st, NULL, 0, now);		/* no host: no expiry */
	assert_null(strstr(s, "soonest"));
	assert_non_null(strstr(s, "postern_certificates{state=\"valid\"} 0\n"));
	free(s);
	acmestat_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_failing_and_sink),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
