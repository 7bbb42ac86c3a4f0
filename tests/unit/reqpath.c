/*
 * The request-path harness (see reqpath.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "auth.h"
#include "authgrant.h"
#include "conn.h"
#include "diag.h"
#include "loader.h"
#include "pages.h"
#include "reqpath.h"
#include "request.h"
#include "testdir.h"

/* What every test configuration starts with (reqpath_config()). */
static const char rp_head[] =
    "server:\n"
    "  listen:\n"
    "    - address: \"127.0.0.1:8443\"\n"
    "tls:\n"
    "  certificates:\n"
    "    - cert: cert.pem\n"
    "      key: key.pem\n"
    "secret_file: secret\n"
    "assertion:\n"
    "  key_file: key.pem\n";

const char reqpath_open_app[] =
    "app:\n"
    "  name: open\n"
    "  hosts: [open.example.com]\n"
    "  upstream: http://127.0.0.1:9\n"
    "  protect: false\n";

static struct reqpath *current;		/* the harness the ops record in */
static int	 have_dir;
static char	 dummy_proxy;

struct config *
reqpath_config(const char *yaml, ...)
{
	struct config	*cfg;
	struct diag	 d;
	const char	*name;
	char		 path[128], *text;
	size_t		 i;
	va_list		 ap;

	if (!have_dir) {
		assert_int_equal(testdir_make(), 0);
		testdir_secret("secret");
		testdir_cert("cert.pem", "key.pem");
		have_dir = 1;
	}
	va_start(ap, yaml);
	while ((name = va_arg(ap, const char *)) != NULL)
		testdir_write(name, va_arg(ap, const char *), 0644);
	va_end(ap);
	assert_true(asprintf(&text, "%s%s", rp_head, yaml) != -1);
	testdir_write("postern.yaml", text, 0644);
	free(text);
	(void)snprintf(path, sizeof(path), "%s/postern.yaml", testdir);
	memset(&d, 0, sizeof(d));
	cfg = config_load(path, &d);
	for (i = 0; i < d.nmsgs; i++)
		print_message("config: %s\n", d.msgs[i]);
	if (cfg == NULL || d.nmsgs > 0)
		fail_msg("the test configuration does not load");
	diag_free(&d);
	return cfg;
}

int
reqpath_teardown(void **state)
{
	(void)state;
	if (have_dir)
		(void)testdir_remove();
	have_dir = 0;
	return 0;
}

/* ---- the layers above, recording ---- */

static void
rp_snapshot(struct server *srv, struct config **cfg, SSL_CTX **ctx)
{
	*cfg = config_ref(srv->cfg);
	*ctx = NULL;
}

static struct config *
rp_config(struct server *srv, uint64_t *gen)
{
	*gen = 0;
	return config_ref(srv->cfg);
}

void
reqpath_decide(struct exchange *ex)
{
	if (auth_decide(ex) == AUTH_PENDING)
		return;
	client_resume(ex, CLIENT_ALLOW, 0);
}

void
reqpath_as_ident(struct exchange *ex)
{
	struct auth_ident	*ident;

	assert_non_null(ident = malloc(sizeof(*ident)));
	memcpy(ident, &current->ident, sizeof(*ident));
	auth_decide_ident(ex, ident);
}

static void
rp_request(struct exchange *ex)
{
	current->nrequest++;
	current->request(ex);
}

static int
rp_builtin(struct exchange *ex)
{
	current->nbuiltin++;
	return auth_builtin(ex);
}

/* What the upstream would be sent: recorded, then "forwarding". */
static struct proxy *
rp_forward(struct exchange *ex)
{
	struct reqpath	*rp = current;

	rp->nforward++;
	if (auth_upstream_headers(ex) == -1)
		return NULL;
	(void)snprintf(rp->path, sizeof(rp->path), "%s", ex->req->path);
	(void)snprintf(rp->user, sizeof(rp->user), "%s",
	    ex->up.user != NULL ? ex->up.user : "");
	(void)snprintf(rp->org, sizeof(rp->org), "%s",
	    ex->up.org != NULL ? ex->up.org : "");
	(void)snprintf(rp->role, sizeof(rp->role), "%s",
	    ex->up.role != NULL ? ex->up.role : "");
	rp->assertion = ex->up.assertion != NULL;
	return (struct proxy *)(void *)&dummy_proxy;
}

static void
rp_up_close(struct proxy *px)
{
	assert_ptr_equal(px, &dummy_proxy);
	current->nupclose++;
}

static void
rp_up_nothing(struct proxy *px)
{
	assert_ptr_equal(px, &dummy_proxy);
}

static void
rp_ex_nothing(struct exchange *ex)
{
	(void)ex;
}

/* ---- the worker and the connection ---- */

void
reqpath_start(struct reqpath *rp, struct config *cfg, int tls)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct connlimit_key	 climit = { 0 };
	struct conn		*conn;
	int			 sv[2];

	memset(rp, 0, sizeof(*rp));
	current = rp;
	rp->cfg = cfg;
	rp->request = reqpath_decide;
	rp->ops = (struct worker_ops){ .snapshot = rp_snapshot,
	    .config = rp_config, .request = rp_request,
	    .builtin = rp_builtin, .forward = rp_forward,
	    .detach = auth_detach, .tunnel = rp_ex_nothing,
	    .up_close = rp_up_close, .up_body = rp_up_nothing,
	    .up_tunnel = rp_up_nothing, .up_resume = rp_up_nothing,
	    .cookies = auth_cookie_names, .credential = authgrant_header_ours };
	rp->srv.cfg = cfg;
	rp->srv.ops = &rp->ops;
	rp->srv.workers = &rp->w;
	rp->srv.nworkers = 1;
	rp->w.srv = &rp->srv;
	TAILQ_INIT(&rp->w.clients);
	assert_non_null(rp->w.base = event_base_new());
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	rp->peer = sv[1];
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_non_null(conn = conn_new(rp->w.base, sv[0], NULL, 1));
	rp->clt = client_new(&rp->w, conn, config_ref(cfg),
	    (const struct sockaddr *)&sin, tls, 0, 443, &climit);
	assert_non_null(rp->clt);
}

void
reqpath_stop(struct reqpath *rp)
{
	if (rp->w.nclients > 0)
		client_close_all(&rp->w, "test over");
	(void)event_base_loop(rp->w.base, EVLOOP_NONBLOCK);
	assert_int_equal(rp->w.nclients, 0);
	exchange_free_spares(&rp->w);	/* ended requests, identities */
	event_base_free(rp->w.base);
	(void)close(rp->peer);
	config_unref(rp->cfg);
	current = NULL;
}

void
reqpath_send(struct reqpath *rp, const char *bytes, size_t len)
{
	if (len == 0)
		len = strlen(bytes);
	assert_int_equal(write(rp->peer, bytes, len), (ssize_t)len);
}

/* Read what is there without waiting; 1 on EOF. */
static int
rp_read(struct reqpath *rp, struct reqpath_resp *out)
{
	ssize_t	n;

	for (;;) {
		if (out->len + 1 >= sizeof(out->raw))
			fail_msg("more response than the harness keeps");
		n = read(rp->peer, out->raw + out->len,
		    sizeof(out->raw) - out->len - 1);
		if (n == 0)
			return 1;
		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			return 0;
		}
		out->len += (size_t)n;
		out->raw[out->len] = '\0';
	}
}

void
reqpath_run(struct reqpath *rp, struct reqpath_resp *out)
{
	const char	*end;
	int		 i;

	memset(out, 0, sizeof(*out));
	/* Every event is local: a few turns run the loop dry. */
	for (i = 0; i < 16; i++) {
		(void)event_base_loop(rp->w.base, EVLOOP_NONBLOCK);
		if (rp_read(rp, out))
			out->closed = 1;
	}
	if (out->len > 0 && sscanf(out->raw, "HTTP/1.1 %d ", &out->status) != 1)
		fail_msg("not a response: %.60s", out->raw);
	if ((end = strstr(out->raw, "\r\n\r\n")) != NULL &&
	    (size_t)(end - out->raw) < sizeof(out->head)) {
		memcpy(out->head, out->raw, (size_t)(end - out->raw) + 2);
		out->head[end - out->raw + 2] = '\0';
	}
}

void
reqpath_do(struct reqpath *rp, const char *req, struct reqpath_resp *out)
{
	reqpath_send(rp, req, 0);
	reqpath_run(rp, out);
}

const char *
reqpath_header(const struct reqpath_resp *r, const char *name)
{
	static char	 val[4096];
	const char	*p = r->head, *eol;
	size_t		 n = strlen(name), len;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		p += strspn(p, " ");
		eol = strstr(p, "\r\n");
		len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (len >= sizeof(val))
			len = sizeof(val) - 1;
		memcpy(val, p, len);
		val[len] = '\0';
		return val;
	}
	return NULL;
}

int
reqpath_count(const struct reqpath_resp *r)
{
	const char	*p = r->raw;
	int		 n = 0;

	while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
		if (p == r->raw || p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

struct exchange *
reqpath_ex(struct reqpath *rp)
{
	return &rp->clt->ex;
}

/* ---- flows with a bug: for the outcome guard ---- */

void
reqpath_bug_twice(struct exchange *ex)
{
	client_answer(ex, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
	client_answer(ex, &(struct pages_resp){ .status = 200 }, NULL);
}

void
reqpath_bug_answer_forward(struct exchange *ex)
{
	client_answer(ex, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
	client_resume(ex, CLIENT_ALLOW, 0);
}

void
reqpath_bug_forward_answer(struct exchange *ex)
{
	client_resume(ex, CLIENT_ALLOW, 0);
	client_answer(ex, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
}

static void
rp_form_ok(struct exchange *ex, struct evbuffer *form)
{
	(void)form;
	client_answer(ex, &(struct pages_resp){ .status = 200 }, NULL);
}

void
reqpath_bug_form_answer(struct exchange *ex)
{
	client_read_form(ex, 64, rp_form_ok);
	client_answer(ex, &(struct pages_resp){ .status = 403 },
	    "policy_deny");
}

void
reqpath_bug_forgets(struct exchange *ex)
{
	(void)ex;
}

static void
rp_form_forgets(struct exchange *ex, struct evbuffer *form)
{
	(void)ex;
	(void)form;
}

void
reqpath_bug_form_forgets(struct exchange *ex)
{
	client_read_form(ex, 64, rp_form_forgets);
}
