/*
 * The labelled series of /metrics (util/metseries.c) and the security
 * families (util/metricsauth.c): series merged across workers, label
 * values escaped, the table's bound, methods outside the standard set,
 * audit events counted by outcome, histograms rendered cumulative.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "metrics.h"
#include "metseries.h"

/* The rendered text of <n> tables, NUL-terminated (caller frees). */
static char *
render(const struct metseries *const *t, size_t n)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;
	size_t		 len;

	assert_non_null(b);
	assert_int_equal(metseries_render(b, t, n), 0);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	assert_non_null(s);
	assert_int_equal(evbuffer_remove(b, s, len), (int)len);
	evbuffer_free(b);
	return s;
}

/* Lines of <text> that start with <prefix>. */
static size_t
count_lines(const char *text, const char *prefix)
{
	size_t	n = 0, plen = strlen(prefix);

	for (; text != NULL && *text != '\0'; text = strchr(text, '\n'),
	    text = text != NULL ? text + 1 : NULL)
		if (strncmp(text, prefix, plen) == 0)
			n++;
	return n;
}

static void
test_series_merge_and_escape(void **state)
{
	struct metseries	*a = calloc(1, sizeof(*a));
	struct metseries	*b = calloc(1, sizeof(*b));
	const struct metseries	*t[2] = { a, b };
	char			*s;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	metseries_count(a, METSERIES_REQUESTS, "shop", "/api/{id}",
	    METSERIES_GET, 200);
	metseries_count(a, METSERIES_REQUESTS, "shop", "/api/{id}",
	    METSERIES_GET, 200);
	metseries_count(b, METSERIES_REQUESTS, "shop", "/api/{id}",
	    METSERIES_GET, 200);
	metseries_count(b, METSERIES_REQUESTS, "shop", "/api/{id}",
	    METSERIES_POST, 200);
	metseries_count(b, METSERIES_REQUESTS, "shop", NULL,
	    metseries_method("BREW"), 404);
	metseries_count(a, METSERIES_REQUESTS, "we\"ird\\app\n", "/x",
	    METSERIES_GET, 503);
	metseries_count(a, METSERIES_RATE_LIMITED, "login", NULL,
	    METSERIES_OTHER, 429);
	s = render(t, 2);
	assert_non_null(strstr(s, "postern_http_requests_total{app=\"shop\","
	    "route=\"/api/{id}\",method=\"GET\",status=\"200\"} 3\n"));
	assert_non_null(strstr(s, "{app=\"shop\",route=\"/api/{id}\","
	    "method=\"POST\",status=\"200\"} 1\n"));
	assert_non_null(strstr(s, "{app=\"shop\",route=\"\","
	    "method=\"OTHER\",status=\"404\"} 1\n"));
	assert_non_null(strstr(s, "{app=\"we\\\"ird\\\\app\\n\",route=\"/x\""));
	assert_non_null(strstr(s, "postern_rate_limit_refusals_total"
	    "{class=\"login\"} 1\n"));
	assert_int_equal(count_lines(s, "postern_http_requests_total{"), 4);
	assert_int_equal(count_lines(s, "# TYPE "), 3);
	assert_non_null(strstr(s, "postern_metrics_series_dropped_total 0\n"));
	free(s);
	free(a);
	free(b);
}

static void
test_series_bounded(void **state)
{
	struct metseries	*a = calloc(1, sizeof(*a));
	const struct metseries	*t[1] = { a };
	char			 route[32], *s;
	int			 i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < METSERIES_SLOTS * 2; i++) {
		(void)snprintf(route, sizeof(route), "/r%d", i);
		metseries_count(a, METSERIES_REQUESTS, "app", route,
		    METSERIES_GET, 200);
	}
	/* a series already in the table still counts when it is full */
	metseries_count(a, METSERIES_REQUESTS, "app", "/r0", METSERIES_GET,
	    200);
	s = render(t, 1);
	assert_int_equal(count_lines(s, "postern_http_requests_total{"),
	    METSERIES_FILL);
	assert_non_null(strstr(s, "route=\"/r0\",method=\"GET\","
	    "status=\"200\"} 2\n"));
	assert_non_null(strstr(s,
	    "postern_metrics_series_dropped_total 2560\n"));
	free(s);
	free(a);
}

static void
test_series_long_names_are_cut_and_merged(void **state)
{
	struct metseries	*a = calloc(1, sizeof(*a));
	const struct metseries	*t[1] = { a };
	char			 x[300], y[300], *s;

	(void)state;
	assert_non_null(a);
	memset(x, 'a', sizeof(x) - 1);
	x[sizeof(x) - 1] = '\0';
	memcpy(y, x, sizeof(y));
	y[250] = 'b';			/* differs after the cut only */
	metseries_count(a, METSERIES_REQUESTS, "app", x, METSERIES_GET, 200);
	metseries_count(a, METSERIES_REQUESTS, "app", y, METSERIES_GET, 200);
	s = render(t, 1);
	assert_int_equal(count_lines(s, "postern_http_requests_total{"), 1);
	assert_non_null(strstr(s, "\"} 2\n"));
	free(s);
	free(a);
}

static void
test_methods(void **state)
{
	(void)state;
	assert_int_equal(metseries_method("GET"), METSERIES_GET);
	assert_int_equal(metseries_method("PATCH"), METSERIES_PATCH);
	assert_int_equal(metseries_method("get"), METSERIES_OTHER);
	assert_int_equal(metseries_method("PROPFIND"), METSERIES_OTHER);
	assert_int_equal(metseries_method(NULL), METSERIES_OTHER);
}

static void
test_audit_events_counted(void **state)
{
	struct metrics	*m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	metrics_audit(m, "login", 1, "password");
	metrics_audit(m, "login", 1, "password, second factor next");
	metrics_audit(m, "login", 0, "bad_password");
	metrics_audit(m, "login", 0, "unknown_user");
	metrics_audit(m, "login", 0, "bad_form");
	metrics_audit(m, "login", 1, "magic_link");
	metrics_audit(m, "rate_limit_lockout", 0, "login");
	metrics_audit(m, "password_reset", 1, "2 sessions ended");
	metrics_audit(m, "session_revoked", 1, NULL);	/* not counted */
	metrics_audit(m, NULL, 1, NULL);
	assert_int_equal(m->auth[METRICS_SIGNIN_OK], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_MFA], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_BAD], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_UNKNOWN], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_OTHER], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_MAGIC], 1);
	assert_int_equal(m->auth[METRICS_MAGIC_USED], 1);
	assert_int_equal(m->auth[METRICS_SIGNIN_LOCKED], 1);
	assert_int_equal(m->auth[METRICS_LOCKOUT], 1);
	assert_int_equal(m->auth[METRICS_RESET_DONE], 1);
	assert_int_equal(m->auth[METRICS_MFA_OK], 0);
	free(m);
}

static void
test_render_histograms_and_build(void **state)
{
	struct metrics		*m = calloc(1, sizeof(*m));
	struct metrics_global	 g;
	struct metrics_snap	 snap;
	struct evbuffer		*b = evbuffer_new();
	char			*s;
	size_t			 len;

	(void)state;
	assert_non_null(m);
	memset(&g, 0, sizeof(g));
	memset(&snap, 0, sizeof(snap));
	metrics_observe(&m->redis, METRICS_FAST, 50);		/* 0.0001 */
	metrics_observe(&m->redis, METRICS_FAST, 2000000);	/* +Inf */
	metrics_observe(&m->upstream, METRICS_SLOW, 7000);	/* 0.01 */
	metrics_observe(&g.hash_wait, METRICS_SLOW, 1);
	metrics_add(&snap, m);
	assert_int_equal(metrics_render(b, &snap, &g, "abc123"), 0);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	assert_non_null(s);
	assert_int_equal(evbuffer_remove(b, s, len), (int)len);
	assert_non_null(strstr(s, "postern_redis_command_duration_seconds_"
	    "bucket{le=\"0.0001\"} 1\n"));
	assert_non_null(strstr(s, "postern_redis_command_duration_seconds_"
	    "bucket{le=\"1\"} 1\n"));
	assert_non_null(strstr(s, "postern_redis_command_duration_seconds_"
	    "bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(s, "postern_redis_command_duration_seconds_"
	    "sum 2.000050\n"));
	assert_non_null(strstr(s, "postern_upstream_duration_seconds_bucket"
	    "{le=\"0.005\"} 0\npostern_upstream_duration_seconds_bucket"
	    "{le=\"0.01\"} 1\n"));
	assert_non_null(strstr(s, "postern_password_hash_wait_seconds_count "
	    "1\n"));
	assert_non_null(strstr(s, "postern_build_info{version=\""
	    POSTERN_VERSION "\",commit=\"abc123\"} 1\n"));
	assert_non_null(strstr(s, "postern_signin_total{method=\"password\","
	    "outcome=\"ok\"} 0\n"));
	assert_int_equal(count_lines(s, "# TYPE postern_signin_total "), 1);
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(metrics_render(b, &snap, &g, ""), 0);
	free(s);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	assert_non_null(s);
	assert_int_equal(evbuffer_remove(b, s, len), (int)len);
	assert_non_null(strstr(s, "commit=\"unknown\"} 1\n"));
	free(s);
	evbuffer_free(b);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_merge_and_escape),
		cmocka_unit_test(test_series_bounded),
		cmocka_unit_test(test_series_long_names_are_cut_and_merged),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_audit_events_counted),
		cmocka_unit_test(test_render_histograms_and_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
