/*
 * client.c, clientreq.c: a real connection (reqpath.h) answering requests
 * through client_answer(), and what the connection does after: kept for
 * the next request only when the client asked for it, nothing is left
 * unread and no error ends the framing; closed otherwise, so that no byte
 * of a body the gateway did not read is ever taken for a request.  And
 * the outcome guard: one request gets exactly one of forward, answer or
 * read-form; a second one, or none, stops a build with assertions.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "pages.h"
#include "step.h"
#include "reqpath.h"
#include "request.h"

static const char yaml[] =
    "policies:\n"
    "  - open.yaml\n";

static struct reqpath	 rp;
static struct reqpath_resp resp;
static char		 seen[8][256];	/* paths ops->request saw */

static void
note(struct exchange *ex)
{
	if (rp.nrequest <= 8)
		(void)snprintf(seen[rp.nrequest - 1], sizeof(seen[0]), "%s",
		    ex->req->path);
}

/* ops->request answering 403 (a refusal of identity, say). */
static void
answer_403(struct exchange *ex)
{
	note(ex);
	client_answer(ex, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
}

static void
start(reqpath_fn fn)
{
	memset(seen, 0, sizeof(seen));
	reqpath_start(&rp, reqpath_config(yaml, "open.yaml", reqpath_open_app,
	    NULL), 1);
	rp.request = fn;
}

#define GET(path, extra)						\
	"GET " path " HTTP/1.1\r\nHost: open.example.com\r\n" extra "\r\n"

/* Answered, kept: the next request on the connection is served. */
static void
test_answer_keeps_alive(void **state)
{
	(void)state;
	start(answer_403);
	reqpath_do(&rp, GET("/a", ""), &resp);
	assert_int_equal(resp.status, 403);
	assert_false(resp.closed);
	assert_null(reqpath_header(&resp, "connection"));
	reqpath_do(&rp, GET("/b", ""), &resp);
	assert_int_equal(resp.status, 403);
	assert_int_equal(rp.nrequest, 2);
	assert_string_equal(seen[1], "/b");
	assert_false(resp.closed);
	reqpath_stop(&rp);
}

/* What the client asked: HTTP/1.0 without keep-alive, Connection: close. */
static void
test_answer_client_asked_close(void **state)
{
	static const char *const heads[] = {
		"GET / HTTP/1.0\r\nHost: open.example.com\r\n\r\n",
		GET("/", "Connection: close\r\n"),
		GET("/", "Connection: keep-alive, close\r\n"),
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		start(answer_403);
		reqpath_do(&rp, heads[i], &resp);
		assert_int_equal(resp.status, 403);
		assert_true(resp.closed);
		assert_string_equal(reqpath_header(&resp, "connection"),
		    "close");
		reqpath_stop(&rp);
	}
	/* ...and HTTP/1.0 asking for keep-alive gets it */
	start(answer_403);
	reqpath_do(&rp, "GET / HTTP/1.0\r\nHost: open.example.com\r\n"
	    "Connection: keep-alive\r\n\r\n", &resp);
	assert_int_equal(resp.status, 403);
	assert_false(resp.closed);
	reqpath_stop(&rp);
}

/*
 * A body the gateway did not read: whether the client sent all of it, a
 * part, or none yet, chunked or not, the connection closes after the
 * answer, and the body's bytes -- here a request of their own -- are never
 * parsed as the next request.
 */
static void
test_answer_with_unread_body_closes(void **state)
{
	static const char smuggled[] = "GET /smuggled HTTP/1.1\r\n"
	    "Host: open.example.com\r\n\r\n";
	static const char *const heads[] = {
		"POST /a HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Content-Length: 50\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Content-Length: 200\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n32\r\n",
		"POST /a HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Content-Length: 50\r\nExpect: 100-continue\r\n\r\n",
	};
	char	buf[512];
	size_t	i;

	(void)state;
	assert_int_equal(strlen(smuggled), 50);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		start(answer_403);
		(void)snprintf(buf, sizeof(buf), "%s%s", heads[i], smuggled);
		reqpath_do(&rp, buf, &resp);
		assert_int_equal(resp.status, 403);
		assert_string_equal(reqpath_header(&resp, "connection"),
		    "close");
		assert_true(resp.closed);
		assert_int_equal(reqpath_count(&resp), 1);
		assert_int_equal(rp.nrequest, 1);
		assert_null(strstr(resp.raw, "100 Continue"));
		reqpath_stop(&rp);
	}
}

/* The sibling: no body at all (Content-Length: 0) keeps the connection. */
static void
test_answer_empty_body_keeps(void **state)
{
	(void)state;
	start(answer_403);
	reqpath_do(&rp, "POST /a HTTP/1.1\r\nHost: open.example.com\r\n"
	    "Content-Length: 0\r\n\r\n" GET("/b", ""), &resp);
	assert_int_equal(reqpath_count(&resp), 2);
	assert_int_equal(rp.nrequest, 2);
	assert_string_equal(seen[1], "/b");
	assert_false(resp.closed);
	reqpath_stop(&rp);
}

/* A worker draining (SIGTERM) closes after the answer. */
static void
test_answer_draining_closes(void **state)
{
	(void)state;
	start(answer_403);
	rp.w.draining = 1;
	reqpath_do(&rp, GET("/", ""), &resp);
	assert_int_equal(resp.status, 403);
	assert_true(resp.closed);
	reqpath_stop(&rp);
}

/*
 * Errors that end the framing close, whatever the client asked: a
 * malformed head (400), a form the gateway refuses (415, 411, 413).
 */
static void
read_form_cb(struct exchange *ex, struct evbuffer *form)
{
	(void)form;
	client_answer(ex, &(struct pages_resp){ .status = 200 }, NULL);
}

/* ops->request reading the form of a POST; anything else is 403. */
static void
read_form(struct exchange *ex)
{
	if (ex->req->method != HTTP_POST) {
		answer_403(ex);
		return;
	}
	note(ex);
	client_read_form(ex, 64, read_form_cb);
}

static void
test_errors_close(void **state)
{
	static const struct {
		const char	*req;
		int		 status;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: open.example.com\r\n"
		    "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
		    415 },
		{ "POST / HTTP/1.1\r\nHost: open.example.com\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		    411 },
		{ "POST / HTTP/1.1\r\nHost: open.example.com\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\n"
		    "Content-Length: 65\r\n\r\n", 413 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		start(read_form);
		reqpath_do(&rp, cases[i].req, &resp);
		assert_int_equal(resp.status, cases[i].status);
		assert_true(resp.closed);
		assert_int_equal(reqpath_count(&resp), 1);
		reqpath_stop(&rp);
	}
}

/* A form read whole is answered, and then the connection may stay. */
static void
test_form_read_whole_keeps(void **state)
{
	(void)state;
	start(read_form);
	reqpath_do(&rp, "POST / HTTP/1.1\r\nHost: open.example.com\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: 3\r\n\r\na=b" GET("/next", ""), &resp);
	assert_int_equal(reqpath_count(&resp), 2);
	assert_int_equal(rp.nrequest, 2);
	assert_string_equal(seen[1], "/next");
	assert_false(resp.closed);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_ANSWER);
	reqpath_stop(&rp);
}

/* Forwarding, the upstream fails: 502; unread body bytes close. */
static void
forward(struct exchange *ex)
{
	note(ex);
	client_resume(ex, CLIENT_ALLOW, 0);
}

static void
test_upstream_failed(void **state)
{
	int	body;

	(void)state;
	for (body = 0; body < 2; body++) {
		start(forward);
		reqpath_do(&rp, body ? "PUT /x HTTP/1.1\r\nHost: "
		    "open.example.com\r\nContent-Length: 9\r\n\r\nabc" :
		    GET("/x", ""), &resp);
		assert_int_equal(resp.len, 0);	/* forwarding */
		assert_int_equal(rp.nforward, 1);
		assert_string_equal(rp.path, "/x");
		assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_FORWARD);
		client_upstream_failed(reqpath_ex(&rp), 502,
		    "upstream_connect");
		reqpath_run(&rp, &resp);
		assert_int_equal(resp.status, 502);
		assert_int_equal(rp.nupclose, 1);
		assert_int_equal(resp.closed, body);
		reqpath_stop(&rp);
	}
}

/* HEAD is answered like GET, without a body. */
static void
test_head_like_get(void **state)
{
	struct reqpath_resp	 get;

	(void)state;
	start(answer_403);
	reqpath_do(&rp, GET("/", ""), &get);
	reqpath_do(&rp, "HEAD / HTTP/1.1\r\nHost: open.example.com\r\n\r\n",
	    &resp);
	assert_int_equal(resp.status, 403);
	assert_string_equal(reqpath_header(&resp, "content-length"),
	    reqpath_header(&get, "content-length"));
	assert_int_equal(resp.len, strlen(resp.head) + 2);	/* no body */
	assert_false(resp.closed);
	reqpath_stop(&rp);
}

/* ---- the outcome guard ---- */

/*
 * A flow waiting for a step (as for a Redis reply), whose continuation
 * ends the step and then answers -- or, with a bug, forgets to.
 */
struct flow {
	struct auth_step step;
};

static struct auth_step *pending;	/* resumed by expect_abort() */

static void
flow_free(struct auth_step *s)
{
	free(AUTH_STEP_STATE(s, struct flow, step));
}

static void
flow_answers(struct auth_step *s)
{
	struct exchange	*ex = auth_step_done(s);

	if (ex != NULL)
		client_answer(ex, &(struct pages_resp){ .status = 204 }, NULL);
}

static void
flow_forgets(struct auth_step *s)
{
	(void)auth_step_done(s);
}

static void
flow_start(struct exchange *ex, auth_step_fn next)
{
	struct flow	*f;

	assert_non_null(f = calloc(1, sizeof(*f)));
	auth_step_start(&f->step, ex, NULL, flow_free);
	f->step.next = next;
	pending = &f->step;
}

static void
step_answers(struct exchange *ex)
{
	flow_start(ex, flow_answers);
}

static void
step_forgets(struct exchange *ex)
{
	flow_start(ex, flow_forgets);
}

/* Waiting is no missing outcome; the continuation then answers once. */
static void
test_step_then_answer(void **state)
{
	(void)state;
	start(step_answers);
	reqpath_do(&rp, GET("/", ""), &resp);
	assert_int_equal(resp.len, 0);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_UNDECIDED);
	assert_ptr_equal(reqpath_ex(&rp)->check, pending);
	auth_step_resume(pending);
	pending = NULL;
	reqpath_run(&rp, &resp);
	assert_int_equal(resp.status, 204);
	assert_false(resp.closed);
	reqpath_stop(&rp);
}

/*
 * In a child: serve <req> with <fn> as ops->request.  The child must die
 * of SIGABRT with <want> on its stderr.
 */
static void
expect_abort(reqpath_fn fn, const char *req, const char *want)
{
	char	 err[4096];
	int	 fds[2], status;
	ssize_t	 n;
	size_t	 len = 0;
	pid_t	 pid;

	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		(void)dup2(fds[1], STDERR_FILENO);
		(void)close(fds[0]);
		start(fn);
		reqpath_do(&rp, req, &resp);
		if (pending != NULL)	/* the awaited answer came */
			auth_step_resume(pending);
		_exit(0);		/* no abort: the parent fails */
	}
	(void)close(fds[1]);
	while (len + 1 < sizeof(err) && (n = read(fds[0], err + len,
	    sizeof(err) - len - 1)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("no abort for %s; stderr: %s", want, err);
	if (strstr(err, want) == NULL)
		fail_msg("abort without \"%s\": %s", want, err);
}

static void
test_guard_aborts(void **state)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: "
	    "open.example.com\r\nContent-Type: application/x-www-form-"
	    "urlencoded\r\nContent-Length: 3\r\n\r\n";

	(void)state;
	expect_abort(reqpath_bug_twice, GET("/", ""),
	    "outcome_twice (answer, then answer)");
	expect_abort(reqpath_bug_answer_forward, GET("/", ""),
	    "outcome_twice (answer, then forward)");
	expect_abort(reqpath_bug_forward_answer, GET("/", ""),
	    "outcome_twice (forward, then answer)");
	/* the form not yet in; and whole, answered by its callback */
	expect_abort(reqpath_bug_form_answer, post,
	    "outcome_twice (read_form, then answer)");
	expect_abort(reqpath_bug_form_answer, "POST / HTTP/1.1\r\nHost: "
	    "open.example.com\r\nContent-Type: application/x-www-form-"
	    "urlencoded\r\nContent-Length: 3\r\n\r\na=b",
	    "outcome_twice (answer, then answer)");
	expect_abort(reqpath_bug_forgets, GET("/", ""),
	    "outcome_missing (request");
	expect_abort(step_forgets, GET("/", ""), "outcome_missing (step");
	pending = NULL;
	expect_abort(reqpath_bug_form_forgets, "POST / HTTP/1.1\r\nHost: "
	    "open.example.com\r\nContent-Type: application/x-www-form-"
	    "urlencoded\r\nContent-Length: 3\r\n\r\na=b",
	    "outcome_missing (form");
}

/* The siblings that are fine: one outcome each, no abort, kept. */
static void
test_guard_quiet_on_one_outcome(void **state)
{
	(void)state;
	start(answer_403);
	reqpath_do(&rp, GET("/", ""), &resp);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_ANSWER);
	/* a late answer for the request that is over is a second one too:
	 * covered by test_outcome_release; here the next head resets it */
	reqpath_do(&rp, GET("/2", ""), &resp);
	assert_int_equal(rp.nrequest, 2);
	assert_int_equal(reqpath_ex(&rp)->outcome, EXCHANGE_ANSWER);
	reqpath_stop(&rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_keeps_alive),
		cmocka_unit_test(test_answer_client_asked_close),
		cmocka_unit_test(test_answer_with_unread_body_closes),
		cmocka_unit_test(test_answer_empty_body_keeps),
		cmocka_unit_test(test_answer_draining_closes),
		cmocka_unit_test(test_errors_close),
		cmocka_unit_test(test_form_read_whole_keeps),
		cmocka_unit_test(test_upstream_failed),
		cmocka_unit_test(test_head_like_get),
		cmocka_unit_test(test_step_then_answer),
		cmocka_unit_test(test_guard_aborts),
		cmocka_unit_test(test_guard_quiet_on_one_outcome),
	};

	return cmocka_run_group_tests(tests, NULL, reqpath_teardown);
}
