/*
 * mail.c, mailmsg.c, mailtmpl.c, configmail.c: template parsing (with the
 * positions of errors) and rendering, header checks and encodings,
 * quoted-printable, the whole message; then the mailer on a real event
 * loop against a closed port and a server that never answers: retries
 * with backoff, the metrics, the queue bound, and a loop that keeps
 * turning meanwhile.  Includes mail.c to reach its static helpers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "../../gateway/outbound/mail.c"
#include "diag.h"
#include "loader.h"

/* ---- templates ---- */

static struct mailtmpl *
parse(const char *s)
{
	struct mailtmpl_err	e;

	return mailtmpl_parse(s, strlen(s), &e);
}

static void
parse_fails(const char *s, size_t line, size_t col, const char *msg)
{
	struct mailtmpl_err	 e;
	struct mailtmpl		*t;

	t = mailtmpl_parse(s, strlen(s), &e);
	assert_null(t);
	if (e.line != line || e.col != col || strstr(e.msg, msg) == NULL)
		fail_msg("'%s': got %zu:%zu: %s", s, e.line, e.col, e.msg);
}

static char *
render(const struct mailtmpl *t, enum mailtmpl_escape esc,
    const struct mail_var *v, size_t n)
{
	char	err[128], *out;
	size_t	len;

	out = mailtmpl_render(t, esc, v, n, &len, err, sizeof(err));
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void
test_template_parse(void **state)
{
	struct mailtmpl	*t;

	(void)state;
	assert_non_null(t = parse("Hi {{name}}, {{ link }} {single} }} {"));
	mailtmpl_free(t);
	assert_non_null(t = parse(""));
	mailtmpl_free(t);
	assert_non_null(t = parse("caf\xc3\xa9 \xf0\x9f\x94\x91"));
	mailtmpl_free(t);
	parse_fails("Hi {{name", 1, 4, "unclosed {{");
	parse_fails("a\nbc {{ 9x }}", 2, 4, "expected a variable name");
	parse_fails("a\n\xc3\xa9{{x}} {{Bad}}", 2, 8, "expected a variable");
	parse_fails("{{x y}}", 1, 1, "unclosed");
	parse_fails("ab\xc3(", 1, 3, "invalid UTF-8");
	parse_fails("ab\xed\xa0\x80", 1, 3, "invalid UTF-8");	/* surrogate */
	parse_fails("ab\xc0\xaf", 1, 3, "invalid UTF-8");	/* overlong */
	parse_fails("{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}", 1, 1, "longer");
	{
		struct mailtmpl_err	e;
		assert_null(mailtmpl_parse("a\0b", 3, &e));
		assert_int_equal(e.col, 2);
		assert_string_equal(e.msg, "NUL byte");
	}
}

static void
test_template_render(void **state)
{
	const struct mail_var	 v[] = {
		{ "link", "https://x.test/?a=1&b=<2>\"'" },
		{ "name", "Zoë" },
		{ "link", "second: ignored" },
	};
	struct mailtmpl		*t;
	char			*s, err[128];
	size_t			 len;

	(void)state;
	assert_non_null(t = parse("{{name}}: {{ link }}."));
	s = render(t, MAILTMPL_RAW, v, 3);
	assert_string_equal(s, "Zoë: https://x.test/?a=1&b=<2>\"'.");
	free(s);
	s = render(t, MAILTMPL_HTML, v, 3);
	assert_string_equal(s, "Zoë: https://x.test/?a=1&amp;b=&lt;2&gt;"
	    "&quot;&#39;.");
	free(s);
	assert_null(mailtmpl_render(t, MAILTMPL_RAW, v + 1, 1, &len, err,
	    sizeof(err)));
	assert_string_equal(err, "no value for {{link}}");
	mailtmpl_free(t);
	assert_non_null(t = parse(""));
	s = render(t, MAILTMPL_HTML, NULL, 0);
	assert_string_equal(s, "");
	free(s);
	mailtmpl_free(t);
}

/* ---- headers and encodings ---- */

static void
test_addr(void **state)
{
	static const char *const good[] = {
		"a@example.com", "first.last+tag@sub.example.org",
		"o'neil@example.com", "x@localhost", "A_b-c=d@EXAMPLE.com",
	};
	static const char *const bad[] = {
		"", "a", "@example.com", "a@", "a@@b.com", ".a@b.com",
		"a.@b.com", "a..b@c.com", "a b@c.com", "<a@b.com>",
		"\"a\"@b.com", "a@b.com>", "a@b.com\r\nBcc: c@d.com",
		"a@b.com\n", "a\r@b.com", "a@[127.0.0.1]", "a@b_c.com",
		"a@b.com,c@d.com", "a(comment)@b.com", "caf\xc3\xa9@b.com",
	};
	char	long_local[80], long_addr[300];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(mailmsg_addr_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mailmsg_addr_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	memset(long_local, 'a', 65);
	(void)snprintf(long_local + 65, sizeof(long_local) - 65, "@b.com");
	assert_false(mailmsg_addr_valid(long_local));
	memset(long_addr, 'a', 260);		/* a@aaa...a.com: 265 bytes */
	long_addr[1] = '@';
	(void)snprintf(long_addr + 260, sizeof(long_addr) - 260, ".com");
	assert_false(mailmsg_addr_valid(long_addr));
	assert_false(mailmsg_addr_valid(NULL));
}

static void
test_header_ok(void **state)
{
	(void)state;
	assert_true(mailmsg_header_ok("Reset your password", 100));
	assert_true(mailmsg_header_ok("Zoë 🔑", 100));
	assert_false(mailmsg_header_ok("a\r\nBcc: x@y.z", 100));
	assert_false(mailmsg_header_ok("a\nb", 100));
	assert_false(mailmsg_header_ok("a\rb", 100));
	assert_false(mailmsg_header_ok("a\tb", 100));
	assert_false(mailmsg_header_ok("a\x7f", 100));
	assert_false(mailmsg_header_ok("a\xff", 100));
	assert_false(mailmsg_header_ok("abcdef", 5));
}

static char *
drain(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = malloc(len + 1);

	assert_non_null(s);
	assert_int_equal(evbuffer_remove(b, s, len), (int)len);
	s[len] = '\0';
	return s;
}

static char *
header_text(const char *in, int phrase)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	assert_int_equal(mailmsg_header_text(b, in, phrase), 0);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

/* Decode "=?UTF-8?B?...?=" words separated by CRLF SP; checks lengths. */
static void
decode_words(const char *s, char *out, size_t size)
{
	unsigned char	dec[128];
	char		b64[128];
	const char	*end;
	size_t		off = 0, n;
	int		len;

	while (*s != '\0') {
		assert_true(strncmp(s, "=?UTF-8?B?", 10) == 0);
		assert_non_null(end = strstr(s, "?="));
		assert_true(end + 2 - s <= 75);		/* RFC 2047 2 */
		n = (size_t)(end - s - 10);
		memcpy(b64, s + 10, n);
		b64[n] = '\0';
		len = EVP_DecodeBlock(dec, (unsigned char *)b64, (int)n);
		assert_true(len >= 0);
		while (n > 0 && b64[n - 1] == '=') {	/* padding */
			n--;
			len--;
		}
		assert_true(off + (size_t)len < size);
		memcpy(out + off, dec, (size_t)len);
		off += (size_t)len;
		s = end + 2;
		if (strncmp(s, "\r\n ", 3) == 0)
			s += 3;
	}
	out[off] = '\0';
}

static void
test_header_text(void **state)
{
	char	*s, dec[512], in[400];
	size_t	 i;

	(void)state;
	s = header_text("Reset your Acme password", 0);
	assert_string_equal(s, "Reset your Acme password");
	free(s);
	s = header_text("Acme \"Ops\" \\ Team", 1);
	assert_string_equal(s, "\"Acme \\\"Ops\\\" \\\\ Team\"");
	free(s);
	s = header_text("Zoë's gateway", 0);
	assert_string_equal(s, "=?UTF-8?B?Wm/DqydzIGdhdGV3YXk=?=");
	free(s);
	s = header_text("looks =?like?= a word", 0);	/* encoded too */
	decode_words(s, dec, sizeof(dec));
	assert_string_equal(dec, "looks =?like?= a word");
	free(s);
	/* Long: several words, never splitting a character (é is 2 bytes) */
	in[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(in, "é-");
	s = header_text(in, 0);
	assert_non_null(strstr(s, "?=\r\n =?UTF-8?B?"));
	decode_words(s, dec, sizeof(dec));
	assert_string_equal(dec, in);
	free(s);
}

static char *
qp(const char *in)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	assert_int_equal(mailmsg_qp(b, in, strlen(in)), 0);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

static void
test_qp(void **state)
{
	char	 in[300], *s, *line, *save;

	(void)state;
	s = qp("a=b caf\xc3\xa9\n.dot\r\ntrailing \nend\t");
	assert_string_equal(s, "a=3Db caf=C3=A9\r\n=2Edot\r\ntrailing=20\r\n"
	    "end=09");
	free(s);
	memset(in, 'x', 200);
	in[200] = '\0';
	s = qp(in);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		assert_true(strlen(line) <= 77);	/* 76 + "\r" */
	assert_non_null(strstr(s, "=\r"));
	free(s);
	/* A "." after a soft break starts a line too. */
	memset(in, 'x', 75);
	(void)snprintf(in + 75, sizeof(in) - 75, ".y");
	s = qp(in);
	assert_non_null(strstr(s, "=\r\n=2Ey"));
	free(s);
}

static void
test_build(void **state)
{
	struct mailmsg_head	 h = {
		.from = "postern@example.com", .from_name = "Acme Gateway",
		.to = "alice@example.com", .subject = "Sign in to Acme",
		.msgid = "<abc@example.com>", .date = 0,
	};
	char			 err[160], *m, *p;
	size_t			 len;

	(void)state;
	assert_non_null(m = mailmsg_build(&h, "text =\n", "<p>html</p>",
	    &len, err, sizeof(err)));
	assert_int_equal(strlen(m), len);
	assert_true(strncmp(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
	    "From: \"Acme Gateway\" <postern@example.com>\r\nTo: "
	    "alice@example.com\r\nSubject: Sign in to Acme\r\nMessage-ID: "
	    "<abc@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: "
	    "multipart/alternative;\r\n boundary=\"=_postern_", 228) == 0);
	for (p = m; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > m && p[-1] == '\r');	/* no bare LF */
	assert_non_null(strstr(m, "\r\n\r\ntext =3D\r\n\r\n--=_postern_"));
	assert_non_null(strstr(m, "Content-Type: text/html; charset=UTF-8"));
	p = m + len - 4;
	assert_string_equal(p, "--\r\n");
	free(m);

	h.subject = "Hello\r\nBcc: eve@example.net";
	assert_null(mailmsg_build(&h, "", "", &len, err, sizeof(err)));
	assert_non_null(strstr(err, "subject"));
	h.subject = "ok";
	h.from_name = "Acme\nBcc: eve@example.net";
	assert_null(mailmsg_build(&h, "", "", &len, err, sizeof(err)));
	assert_non_null(strstr(err, "from_name"));
	h.from_name = NULL;
	h.to = "alice@example.com\r\nRCPT TO:<eve@example.net>";
	assert_null(mailmsg_build(&h, "", "", &len, err, sizeof(err)));
	assert_non_null(strstr(err, "to:"));
}

static void
test_msgid_date(void **state)
{
	char	a[MAILMSG_MSGID_MAX], b[MAILMSG_MSGID_MAX], d[64];

	(void)state;
	assert_int_equal(mailmsg_msgid(a, sizeof(a), "x@mail.example.com"), 0);
	assert_int_equal(mailmsg_msgid(b, sizeof(b), "x@mail.example.com"), 0);
	assert_int_equal(strlen(a), 1 + 32 + 1 + 16 + 1);
	assert_non_null(strstr(a, "@mail.example.com>"));
	assert_string_not_equal(a, b);
	assert_int_equal(mailmsg_msgid(a, sizeof(a), "nodomain"), -1);
	mailmsg_date(d, sizeof(d), 1700000000);
	assert_string_equal(d, "Tue, 14 Nov 2023 22:13:20 +0000");
}

/* ---- the mailer on an event loop ---- */

static char	dir[64];

struct run {
	struct config		*cfg;
	struct event_base	*base;
	struct metrics		 metrics;
	struct mailer		*m;
	int			 done, ok;
	char			 reason[32];
	struct event		*tick;
	struct timeval		 last;
	long			 max_gap_ms;	/* between ticks */
	long			 ticks;
};

static struct config *
run_config(void *arg)
{
	struct run	*r = arg;

	return r->cfg != NULL ? config_ref(r->cfg) : NULL;
}

static void
run_on_done(void *arg, const char *msgid, int ok, const char *reason)
{
	struct run	*r = arg;

	r->done++;
	r->ok += ok;
	(void)snprintf(r->reason, sizeof(r->reason), "%s", reason);
	assert_true(msgid[0] == '<');
	if (mailer_queued(r->m) == 0)
		event_base_loopexit(r->base, NULL);
}

static void
run_on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*r = arg;
	struct timeval	 now;
	long		 gap;

	(void)gettimeofday(&now, NULL);
	gap = (now.tv_sec - r->last.tv_sec) * 1000 +
	    (now.tv_usec - r->last.tv_usec) / 1000;
	if (gap > r->max_gap_ms)
		r->max_gap_ms = gap;
	r->last = now;
	r->ticks++;
}

/* A config with mail: <mail> (indented two spaces per key). */
static struct config *
load(const char *mail)
{
	struct diag	 d = { 0 };
	struct config	*cfg;
	char		 path[128], *text;

	(void)snprintf(path, sizeof(path), "%s/postern.yaml", dir);
	assert_true(asprintf(&text, "server:\n  listen:\n    - address: "
	    "127.0.0.1:80\n      tls: false\nmail:\n%s", mail) > 0);
	cfg = config_load_buffer(path, text, strlen(text), &d);
	if (cfg == NULL)
		diag_print(&d, stderr);
	assert_non_null(cfg);
	diag_free(&d);
	free(text);
	return cfg;
}

static void
run_start(struct run *r, const char *mail)
{
	struct timeval	tv = { 0, 10000 };

	memset(r, 0, sizeof(*r));
	r->cfg = mail != NULL ? load(mail) : NULL;
	assert_non_null(r->base = event_base_new());
	assert_non_null(r->m = mailer_new(r->base, &r->metrics, run_config, r,
	    0));
	mailer_on_done(r->m, run_on_done, r);
	assert_non_null(r->tick = event_new(r->base, -1, EV_PERSIST,
	    run_on_tick, r));
	(void)gettimeofday(&r->last, NULL);
	assert_int_equal(event_add(r->tick, &tv), 0);
}

static void
run_end(struct run *r)
{
	mailer_free(r->m);
	event_free(r->tick);
	event_base_free(r->base);
	config_unref(r->cfg);
}

static const struct mail_var test_vars[] = {
	{ "product", "Acme" },
	{ "email", "alice@example.com" },
};

/* A loopback port with nothing listening. */
static int
closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
test_mailer_not_configured(void **state)
{
	struct run	r;

	(void)state;
	run_start(&r, NULL);
	assert_int_equal(mailer_send(r.m, "a@example.com", "test", test_vars,
	    2), -1);
	assert_int_equal(mailer_send(NULL, "a@example.com", "test", test_vars,
	    2), -1);
	run_end(&r);
}

static void
test_mailer_refuses(void **state)
{
	const struct mail_var	 bad[] = { { "product", "Acme\r\nBcc: "
	    "eve@example.net" }, { "email", "a@example.com" } };
	struct run		 r;
	char			 mail[256];

	(void)state;
	(void)snprintf(mail, sizeof(mail), "  url: smtp://127.0.0.1:%d\n"
	    "  starttls: none\n  from: postern@example.com\n", closed_port());
	run_start(&r, mail);
	/* header injection through the address or the subject's values */
	assert_int_equal(mailer_send(r.m, "a@example.com\r\nBcc: "
	    "eve@example.net", "test", test_vars, 2), -1);
	assert_int_equal(mailer_send(r.m, "a@example.com", "test", bad, 2),
	    -1);
	/* a missing template or variable */
	assert_int_equal(mailer_send(r.m, "a@example.com", "nosuch",
	    test_vars, 2), -1);
	assert_int_equal(mailer_send(r.m, "a@example.com", "magic_link",
	    test_vars, 2), -1);
	assert_int_equal(r.metrics.mail_failed[METRICS_MAIL_INVALID], 4);
	assert_int_equal(mailer_queued(r.m), 0);
	run_end(&r);
}

static void
test_mailer_retries(void **state)
{
	struct timeval	t0, t1;
	struct run	r;
	char		mail[256];
	long		ms;

	(void)state;
	(void)snprintf(mail, sizeof(mail), "  url: smtp://127.0.0.1:%d\n"
	    "  starttls: none\n  from: postern@example.com\n  retries: 2\n"
	    "  retry_backoff: 100ms\n  queue_max: 2\n", closed_port());
	run_start(&r, mail);
	assert_int_equal(mailer_send(r.m, "a@example.com", "test", test_vars,
	    2), 0);
	assert_int_equal(mailer_send(r.m, "b@example.com", "test", test_vars,
	    2), 0);
	/* the queue bound: two are queued */
	assert_int_equal(mailer_send(r.m, "c@example.com", "test", test_vars,
	    2), -1);
	assert_int_equal(r.metrics.mail_failed[METRICS_MAIL_QUEUE_FULL], 1);
	assert_int_equal(r.metrics.mail_queue, 2);
	assert_int_equal(r.done, 0);	/* never from inside mailer_send */
	(void)gettimeofday(&t0, NULL);
	assert_int_equal(event_base_dispatch(r.base), 0);
	(void)gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	assert_int_equal(r.done, 2);
	assert_int_equal(r.ok, 0);
	assert_string_equal(r.reason, "connect");
	assert_int_equal(r.metrics.mail_retries, 4);	/* 2 each */
	assert_int_equal(r.metrics.mail_failed[METRICS_MAIL_CONNECT], 2);
	assert_int_equal(r.metrics.mail_sent, 0);
	assert_int_equal(r.metrics.mail_queue, 0);
	/* backoff: 100ms then 200ms, each at least half of that */
	assert_true(ms >= 150);
	assert_true(ms < 5000);
	run_end(&r);
}

/*
 * A server that accepts connections (the kernel does, into the backlog)
 * and never greets: the attempt times out after mail.timeout while the
 * loop's 10 ms ticker keeps running.
 */
static void
test_mailer_never_blocks(void **state)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	struct run		r;
	char			mail[256];
	int			fd;

	(void)state;
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(mail, sizeof(mail), "  url: smtp://127.0.0.1:%d\n"
	    "  starttls: none\n  from: postern@example.com\n  retries: 0\n"
	    "  timeout: 1s\n", ntohs(sin.sin_port));
	run_start(&r, mail);
	assert_int_equal(mailer_send(r.m, "a@example.com", "test", test_vars,
	    2), 0);
	assert_int_equal(event_base_dispatch(r.base), 0);
	assert_int_equal(r.done, 1);
	assert_string_equal(r.reason, "timeout");
	assert_int_equal(r.metrics.mail_failed[METRICS_MAIL_TIMEOUT], 1);
	assert_true(r.ticks >= 50);
	assert_true(r.max_gap_ms < 200);
	run_end(&r);
	close(fd);
}

static void
test_backoff_classify(void **state)
{
	uint64_t	d;
	int		i, perm;

	(void)state;
	for (i = 0; i < 50; i++) {
		d = mail_backoff(1000, 1);
		assert_true(d >= 500 && d <= 1500);
		d = mail_backoff(1000, 3);
		assert_true(d >= 2000 && d <= 6000);
		d = mail_backoff(1000, 40);
		assert_true(d <= MAILER_BACKOFF_MAX * 3 / 2);
	}
	assert_int_equal(mail_classify(CURLE_COULDNT_CONNECT, 0, &perm),
	    METRICS_MAIL_CONNECT);
	assert_int_equal(mail_classify(CURLE_USE_SSL_FAILED, 250, &perm),
	    METRICS_MAIL_TLS);
	assert_int_equal(mail_classify(CURLE_LOGIN_DENIED, 535, &perm),
	    METRICS_MAIL_AUTH);
	assert_int_equal(mail_classify(CURLE_SEND_ERROR, 550, &perm),
	    METRICS_MAIL_REJECTED);
	assert_true(perm);
	assert_int_equal(mail_classify(CURLE_SEND_ERROR, 451, &perm),
	    METRICS_MAIL_TEMPFAIL);
	assert_false(perm);
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/postern-mail-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_parse),
		cmocka_unit_test(test_template_render),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_header_ok),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_msgid_date),
		cmocka_unit_test(test_backoff_classify),
		cmocka_unit_test(test_mailer_not_configured),
		cmocka_unit_test(test_mailer_refuses),
		cmocka_unit_test(test_mailer_retries),
		cmocka_unit_test(test_mailer_never_blocks),
	};

	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
