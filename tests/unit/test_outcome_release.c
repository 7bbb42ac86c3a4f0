/*
 * The outcome guard of a release build (NDEBUG: this file is compiled
 * with it and includes exchange.c, so the guard here is the release one;
 * the client is the real one).  A flow with a bug never gets a second
 * write on the wire: a second outcome closes the connection after one
 * error event (reason outcome_twice); a flow that returns with none gets
 * 500 and a close after one error event (reason outcome_missing).
 */
#ifndef NDEBUG
#error "test_outcome_release is built with -DNDEBUG"
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exchange.c"

#include "pages.h"
#include "reqpath.h"

static const char yaml[] =
    "policies:\n"
    "  - open.yaml\n";
static const char get[] = "GET / HTTP/1.1\r\nHost: open.example.com\r\n\r\n";
static const char form[] = "POST / HTTP/1.1\r\nHost: open.example.com\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 3\r\n\r\n";

static struct reqpath	 rp;
static struct reqpath_resp resp;
static char		 logged[65536];

/* Serve <req> with <fn>; what the gateway logged meanwhile in logged. */
static void
serve(reqpath_fn fn, const char *req)
{
	FILE	*f;
	size_t	 n;
	int	 saved;

	reqpath_start(&rp, reqpath_config(yaml, "open.yaml", reqpath_open_app, NULL),
	    1);
	rp.request = fn;
	assert_non_null(f = tmpfile());
	assert_true((saved = dup(STDERR_FILENO)) != -1);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	reqpath_do(&rp, req, &resp);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	rewind(f);
	n = fread(logged, 1, sizeof(logged) - 1, f);
	logged[n] = '\0';
	(void)fclose(f);
}

/* <needle> occurs <n> times in what was logged. */
static void
logged_times(const char *needle, int n)
{
	const char	*p = logged;
	int		 k = 0;

	while ((p = strstr(p, needle)) != NULL) {
		k++;
		p++;
	}
	if (k != n)
		fail_msg("%s logged %d times, not %d:\n%s", needle, k, n,
		    logged);
}

#define TWICE	"\"event\":\"exchange\",\"reason\":\"outcome_twice\""
#define MISSING	"\"event\":\"exchange\",\"reason\":\"outcome_missing\""

static void
test_twice_answer(void **state)
{
	(void)state;
	serve(reqpath_bug_twice, get);
	assert_int_equal(resp.status, 403);
	assert_int_equal(reqpath_count(&resp), 1);
	assert_true(resp.closed);
	logged_times(TWICE, 1);
	logged_times(MISSING, 0);
	reqpath_stop(&rp);
}

static void
test_answer_then_forward(void **state)
{
	(void)state;
	serve(reqpath_bug_answer_forward, get);
	assert_int_equal(reqpath_count(&resp), 1);
	assert_int_equal(rp.nforward, 0);
	assert_true(resp.closed);
	logged_times(TWICE, 1);
	reqpath_stop(&rp);
}

/* Forwarding, then an answer: nothing of ours is written into what the
 * upstream is answering; its side is cut. */
static void
test_forward_then_answer(void **state)
{
	(void)state;
	serve(reqpath_bug_forward_answer, get);
	assert_int_equal(rp.nforward, 1);
	assert_int_equal(rp.nupclose, 1);
	assert_int_equal(resp.len, 0);
	assert_true(resp.closed);
	logged_times(TWICE, 1);
	reqpath_stop(&rp);
}

static void
test_form_then_answer(void **state)
{
	char	req[512];

	(void)state;
	serve(reqpath_bug_form_answer, form);	/* the form not yet in */
	assert_int_equal(resp.len, 0);
	assert_true(resp.closed);
	logged_times(TWICE, 1);
	reqpath_stop(&rp);
	(void)snprintf(req, sizeof(req), "%sa=b", form);
	serve(reqpath_bug_form_answer, req);	/* whole: answered 200 */
	assert_int_equal(resp.status, 200);
	assert_int_equal(reqpath_count(&resp), 1);
	assert_true(resp.closed);
	logged_times(TWICE, 1);
	reqpath_stop(&rp);
}

static void
test_missing(void **state)
{
	char	req[512];

	(void)state;
	serve(reqpath_bug_forgets, get);
	assert_int_equal(resp.status, 500);
	assert_int_equal(reqpath_count(&resp), 1);
	assert_true(resp.closed);
	logged_times(MISSING, 1);
	logged_times(TWICE, 0);
	reqpath_stop(&rp);
	(void)snprintf(req, sizeof(req), "%sa=b", form);
	serve(reqpath_bug_form_forgets, req);
	assert_int_equal(resp.status, 500);
	assert_true(resp.closed);
	logged_times(MISSING, 1);
	reqpath_stop(&rp);
}

/* The request is over (answered, connection kept): a late answer for it
 * must not become the answer of anything else. */
static struct exchange *late;

static void
keep(struct exchange *ex)
{
	late = ex;
	client_answer(ex, &(struct pages_resp){ .status = 204 }, NULL);
}

static void
test_late_answer(void **state)
{
	(void)state;
	serve(keep, get);
	assert_int_equal(resp.status, 204);
	assert_false(resp.closed);
	client_answer(late, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
	reqpath_run(&rp, &resp);
	assert_int_equal(resp.len, 0);
	assert_true(resp.closed);
	reqpath_stop(&rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twice_answer),
		cmocka_unit_test(test_answer_then_forward),
		cmocka_unit_test(test_forward_then_answer),
		cmocka_unit_test(test_form_then_answer),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_late_answer),
	};

	return cmocka_run_group_tests(tests, NULL, reqpath_teardown);
}
