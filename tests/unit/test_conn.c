/*
 * conn.c on a real event_base and real sockets (socketpairs, loopback
 * TCP, TLS between two conns with a certificate made here): data and its
 * order both ways, the read high-water mark stopping and resuming reads
 * (with TLS records already read ahead into OpenSSL, which epoll cannot
 * announce), a full socket and the write callback, EOF after the data,
 * a clean and an unclean TLS close on each side, timeouts, connect()
 * success and refusal, and freeing from inside a callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conn.h"

struct side {
	struct conn	*c;
	int		 reads, writes, events;
	short		 last;		/* event flags */
	int		 eof_after_bytes; /* bytes were there at EOF */
	int		 free_in_read;
	int		 drain;		/* readcb drains the input */
	size_t		 drained;
	unsigned char	*got;		/* what the drain took, in order */
	size_t		 cap;
};

static void
side_read(struct conn *c, void *arg)
{
	struct side	*s = arg;
	size_t		 n = evbuffer_get_length(conn_input(c));

	s->reads++;
	if (s->free_in_read) {
		conn_free(c);
		s->c = NULL;
		return;
	}
	if (s->drain) {
		if (s->got != NULL && s->drained + n <= s->cap)
			(void)evbuffer_copyout(conn_input(c), s->got +
			    s->drained, n);
		(void)evbuffer_drain(conn_input(c), n);
		s->drained += n;
	}
}

static void
side_write(struct conn *c, void *arg)
{
	((struct side *)arg)->writes++;
}

static void
side_event(struct conn *c, short what, void *arg)
{
	struct side	*s = arg;

	s->events++;
	s->last = what;
	if (what & CONN_EV_EOF)
		s->eof_after_bytes = s->drained > 0 ||
		    evbuffer_get_length(conn_input(c)) > 0;
}

static struct conn *
side_new(struct event_base *base, int fd, SSL *ssl, int accepting,
    struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->c = conn_new(base, fd, ssl, accepting);
	assert_non_null(s->c);
	conn_setcb(s->c, side_read, side_write, side_event, s);
	conn_enable(s->c, EV_READ | EV_WRITE);
	return s->c;
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until *flag is non-zero or <ms> pass; returns *flag. */
static int
run_until(struct event_base *base, const int *flag, uint64_t ms)
{
	uint64_t	end = now_ms() + ms;

	while (!*flag && now_ms() < end)
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	return *flag;
}

static void
run_for(struct event_base *base, uint64_t ms)
{
	int	never = 0;

	(void)run_until(base, &never, ms);
}

static void
pair(int fd[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, fd), 0);
}

/* Read everything the peer socket has now, appending to buf. */
static size_t
peer_read(int fd, unsigned char *buf, size_t cap, size_t have)
{
	ssize_t	n;

	while (have < cap && (n = read(fd, buf + have, cap - have)) > 0)
		have += (size_t)n;
	return have;
}

static void
test_plain_both_ways(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	char		 buf[64] = { 0 };

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	assert_int_equal(write(fd[1], "hello", 5), 5);
	assert_true(run_until(base, &s.reads, 2000));
	assert_int_equal(evbuffer_get_length(conn_input(s.c)), 5);
	(void)evbuffer_add(conn_output(s.c), "wor", 3);
	(void)evbuffer_add(conn_output(s.c), "ld", 2);	/* one write */
	run_for(base, 50);
	assert_int_equal(read(fd[1], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "world");
	assert_int_equal(s.writes, 1);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

static void
test_eof_after_data(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	s.drain = 1;
	assert_int_equal(write(fd[1], "last words", 10), 10);
	(void)close(fd[1]);
	assert_true(run_until(base, &s.events, 2000));
	assert_int_equal(s.last, CONN_EV_READING | CONN_EV_EOF);
	assert_int_equal(s.drained, 10);
	assert_true(s.eof_after_bytes);
	assert_false(conn_enabled(s.c) & EV_READ);
	conn_free(s.c);
	event_base_free(base);
}

static void
test_high_water_mark(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	unsigned char	 big[5000];

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_setwatermark(s.c, EV_READ, 0, 1000);
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd[1], big, sizeof(big)), sizeof(big));
	run_for(base, 100);
	assert_int_equal(evbuffer_get_length(conn_input(s.c)), 1000);
	/* Drained below the mark: reading resumes by itself. */
	(void)evbuffer_drain(conn_input(s.c), 600);
	run_for(base, 100);
	assert_int_equal(evbuffer_get_length(conn_input(s.c)), 1000);
	s.drain = 1;
	(void)evbuffer_drain(conn_input(s.c), 1000);
	run_for(base, 100);
	assert_int_equal(s.drained, 5000 - 1600);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

static void
test_full_socket_and_write_callback(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	size_t		 total = 4 << 20, have = 0, i;
	unsigned char	*src = malloc(total), *dst = malloc(total);
	uint64_t	 end;

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_setwatermark(s.c, EV_WRITE, 1024, 0);
	for (i = 0; i < total; i++)
		src[i] = (unsigned char)(i * 7 + i / 4096);
	(void)evbuffer_add(conn_output(s.c), src, total);
	run_for(base, 50);
	assert_true(evbuffer_get_length(conn_output(s.c)) > 0);	/* full */
	assert_int_equal(s.writes, 0);
	end = now_ms() + 5000;
	while (have < total && now_ms() < end) {
		have = peer_read(fd[1], dst, total, have);
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	assert_int_equal(have, total);
	assert_memory_equal(src, dst, total);
	assert_int_equal(evbuffer_get_length(conn_output(s.c)), 0);
	assert_true(s.writes >= 1);
	conn_free(s.c);
	(void)close(fd[1]);
	free(src);
	free(dst);
	event_base_free(base);
}

static void
test_read_timeout(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	struct timeval	 tv = { 0, 50000 };
	uint64_t	 t0 = now_ms();

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_set_timeouts(s.c, &tv, NULL);
	assert_true(run_until(base, &s.events, 2000));
	assert_int_equal(s.last, CONN_EV_READING | CONN_EV_TIMEOUT);
	assert_true(now_ms() - t0 >= 40);	/* coarse clock: a tick early */
	assert_false(conn_enabled(s.c) & EV_READ);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

/* Each read restarts the read timeout; silence then ends it. */
static void
test_read_timeout_restarts(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2], i;
	struct timeval	 tv = { 0, 400000 };
	uint64_t	 t0;

	/* Gaps of 50 ms against a 400 ms timeout: a loaded machine's
	 * scheduling stalls must not look like silence. */
	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	s.drain = 1;
	conn_set_timeouts(s.c, &tv, NULL);
	for (i = 0; i < 16; i++) {	/* 800 ms of traffic every 50 ms */
		assert_int_equal(write(fd[1], "z", 1), 1);
		run_for(base, 50);
	}
	assert_int_equal(s.events, 0);
	assert_int_equal(s.drained, 16);
	t0 = now_ms();
	assert_true(run_until(base, &s.events, 3000));
	assert_int_equal(s.last, CONN_EV_READING | CONN_EV_TIMEOUT);
	assert_true(now_ms() - t0 >= 300);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

/* Setting a timeout starts its clock again, even at the same value (a
 * pooled upstream connection: its idle time is not the response's). */
static void
test_same_timeout_restarts(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	struct timeval	 tv = { 0, 600000 };

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_set_timeouts(s.c, &tv, NULL);
	run_for(base, 400);
	conn_set_timeouts(s.c, &tv, NULL);
	run_for(base, 300);		/* 700 ms after the first */
	assert_int_equal(s.events, 0);
	assert_true(run_until(base, &s.events, 2000));
	assert_int_equal(s.last, CONN_EV_READING | CONN_EV_TIMEOUT);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

/* Output the peer never reads: a write timeout, not a hang. */
static void
test_write_timeout(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	struct timeval	 tv = { 0, 100000 };
	size_t		 total = 8 << 20;
	unsigned char	*big = calloc(1, total);

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_set_timeouts(s.c, NULL, &tv);
	(void)evbuffer_add(conn_output(s.c), big, total);
	assert_true(run_until(base, &s.events, 3000));
	assert_int_equal(s.last, CONN_EV_WRITING | CONN_EV_TIMEOUT);
	assert_false(conn_enabled(s.c) & EV_WRITE);
	conn_free(s.c);
	(void)close(fd[1]);
	free(big);
	event_base_free(base);
}

/* A timeout taken away is gone (libevent's event_add(ev, NULL) alone
 * would keep the old one). */
static void
test_timeout_removed(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];
	struct timeval	 tv = { 0, 50000 };

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	conn_set_timeouts(s.c, &tv, &tv);
	run_for(base, 10);
	conn_set_timeouts(s.c, NULL, NULL);
	run_for(base, 200);
	assert_int_equal(s.events, 0);
	assert_true(conn_enabled(s.c) & EV_READ);
	conn_free(s.c);
	(void)close(fd[1]);
	event_base_free(base);
}

static void
test_free_inside_callback(void **state)
{
	struct event_base *base = event_base_new();
	struct side	 s;
	int		 fd[2];

	pair(fd);
	side_new(base, fd[0], NULL, 0, &s);
	s.free_in_read = 1;
	(void)evbuffer_add(conn_output(s.c), "queued", 6);
	assert_int_equal(write(fd[1], "x", 1), 1);
	assert_true(run_until(base, &s.reads, 2000));
	assert_null(s.c);
	run_for(base, 20);	/* nothing fires on the freed connection */
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.events, 0);
	(void)close(fd[1]);
	event_base_free(base);
}

static void
test_connect(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t	 len = sizeof(sin);
	struct side	 s;
	int		 l;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	side_new(base, -1, NULL, 0, &s);
	(void)evbuffer_add(conn_output(s.c), "early", 5);	/* sent later */
	assert_int_equal(conn_connect(s.c, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_true(run_until(base, &s.events, 2000));
	assert_int_equal(s.last, CONN_EV_CONNECTED);
	run_for(base, 20);
	assert_int_equal(evbuffer_get_length(conn_output(s.c)), 0);
	conn_free(s.c);

	/* Nothing listens there any more: an error, not a hang. */
	(void)close(l);
	side_new(base, -1, NULL, 0, &s);
	if (conn_connect(s.c, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		assert_true(run_until(base, &s.events, 2000));
		assert_int_equal(s.last, CONN_EV_ERROR);
	}
	conn_free(s.c);
	event_base_free(base);
}

/* ---- TLS ---- */

struct tls {
	SSL_CTX		*srv, *cli;
};

static void
tls_ctx(struct tls *t)
{
	EVP_PKEY	*pk = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	X509_NAME	*n;

	assert_non_null(pk);
	assert_non_null(x);
	(void)X509_set_version(x, 2);
	(void)ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	(void)X509_gmtime_adj(X509_getm_notBefore(x), 0);
	(void)X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	(void)X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	(void)X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"conn test", -1, -1, 0);
	(void)X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	t->srv = SSL_CTX_new(TLS_server_method());
	t->cli = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(t->srv, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(t->srv, pk), 1);
	SSL_CTX_set_mode(t->srv, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_mode(t->cli, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(t->cli, SSL_VERIFY_NONE, NULL);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
tls_free(struct tls *t)
{
	SSL_CTX_free(t->srv);
	SSL_CTX_free(t->cli);
}

/* A server conn on fd[0] and a client conn on fd[1], handshaken. */
static void
tls_pair(struct event_base *base, struct tls *t, struct side *srv,
    struct side *cli)
{
	int	fd[2];

	pair(fd);
	side_new(base, fd[0], SSL_new(t->srv), 1, srv);
	side_new(base, fd[1], SSL_new(t->cli), 0, cli);
	assert_true(run_until(base, &cli->events, 2000));
	assert_int_equal(cli->last, CONN_EV_CONNECTED);
	assert_true(run_until(base, &srv->events, 2000));
	assert_int_equal(srv->last, CONN_EV_CONNECTED);
	srv->events = cli->events = 0;
	srv->last = cli->last = 0;
}

static void
test_tls_both_ways_with_high_water_mark(void **state)
{
	struct event_base *base = event_base_new();
	struct tls	 t;
	struct side	 srv, cli;
	size_t		 total = 300 * 1024, i;
	unsigned char	*a = malloc(total), *b = malloc(total);
	unsigned char	*ga = malloc(total), *gb = malloc(total);
	size_t		 m;
	uint64_t	 end;

	tls_ctx(&t);
	tls_pair(base, &t, &srv, &cli);
	for (i = 0; i < total; i++) {
		a[i] = (unsigned char)(i * 13 + 1);
		b[i] = (unsigned char)(i * 31 + 7);
	}
	/* A small mark: whole records wait in OpenSSL, not in the socket. */
	conn_setwatermark(srv.c, EV_READ, 0, 3000);
	srv.got = ga;
	srv.cap = total;
	cli.got = gb;
	cli.cap = total;
	cli.drain = 1;
	(void)evbuffer_add(conn_output(cli.c), a, total);
	(void)evbuffer_add(conn_output(srv.c), b, total);
	run_for(base, 100);
	m = evbuffer_get_length(conn_input(srv.c));
	assert_true(m > 0 && m <= 3000);
	/* Take what is there; the rest arrives as the callback drains. */
	(void)evbuffer_remove(conn_input(srv.c), ga, m);
	srv.drained = m;
	srv.drain = 1;
	end = now_ms() + 5000;
	while ((cli.drained < total || srv.drained < total) &&
	    now_ms() < end)
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(cli.drained, total);
	assert_memory_equal(gb, b, total);
	assert_int_equal(srv.drained, total);
	assert_memory_equal(ga, a, total);
	assert_int_equal(srv.events, 0);
	assert_int_equal(cli.events, 0);
	conn_free(srv.c);
	conn_free(cli.c);
	tls_free(&t);
	free(a);
	free(b);
	free(ga);
	free(gb);
	event_base_free(base);
}

static void
test_tls_data_order(void **state)
{
	struct event_base *base = event_base_new();
	struct tls	 t;
	struct side	 srv, cli;
	size_t		 total = 200 * 1024, i;
	unsigned char	*a = malloc(total), *got = malloc(total);
	uint64_t	 end;

	tls_ctx(&t);
	tls_pair(base, &t, &srv, &cli);
	for (i = 0; i < total; i++)
		a[i] = (unsigned char)(i * 17 + i / 1000);
	conn_setwatermark(srv.c, EV_READ, 0, 5000);
	srv.drain = 1;
	srv.got = got;
	srv.cap = total;
	/* In many pieces, so records and buffer chains do not line up. */
	for (i = 0; i < total; i += 777)
		(void)evbuffer_add(conn_output(cli.c), a + i,
		    total - i < 777 ? total - i : 777);
	end = now_ms() + 5000;
	while (srv.drained < total && now_ms() < end)
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(srv.drained, total);
	assert_memory_equal(got, a, total);
	conn_free(srv.c);
	conn_free(cli.c);
	tls_free(&t);
	free(a);
	free(got);
	event_base_free(base);
}

static void
test_tls_close(void **state)
{
	struct event_base *base = event_base_new();
	struct tls	 t;
	struct side	 srv, cli;

	tls_ctx(&t);
	/* close_notify: an EOF on the other side, after the data. */
	tls_pair(base, &t, &srv, &cli);
	srv.drain = 1;
	(void)evbuffer_add(conn_output(cli.c), "bye", 3);
	run_for(base, 50);
	(void)SSL_shutdown(conn_ssl(cli.c));
	assert_true(run_until(base, &srv.events, 2000));
	assert_int_equal(srv.last, CONN_EV_READING | CONN_EV_EOF);
	assert_int_equal(srv.drained, 3);
	conn_free(srv.c);
	conn_free(cli.c);

	/* No close_notify: a client (server side) that just goes is an
	 * EOF; an upstream (client side) that does is an error, since a
	 * body cut short must not pass for a whole one. */
	tls_pair(base, &t, &srv, &cli);
	(void)shutdown(conn_fd(cli.c), SHUT_RDWR);
	assert_true(run_until(base, &srv.events, 2000));
	assert_int_equal(srv.last, CONN_EV_READING | CONN_EV_EOF);
	conn_free(srv.c);
	conn_free(cli.c);
	tls_pair(base, &t, &srv, &cli);
	(void)shutdown(conn_fd(srv.c), SHUT_RDWR);
	assert_true(run_until(base, &cli.events, 2000));
	assert_int_equal(cli.last, CONN_EV_READING | CONN_EV_ERROR);
	conn_free(srv.c);
	conn_free(cli.c);
	tls_free(&t);
	event_base_free(base);
}

static void
test_tls_handshake_failure(void **state)
{
	struct event_base *base = event_base_new();
	struct tls	 t;
	struct side	 srv;
	int		 fd[2];
	const char	 junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	tls_ctx(&t);
	pair(fd);
	side_new(base, fd[0], SSL_new(t.srv), 1, &srv);
	assert_int_equal(write(fd[1], junk, sizeof(junk) - 1),
	    sizeof(junk) - 1);
	assert_true(run_until(base, &srv.events, 2000));
	assert_int_equal(srv.last, CONN_EV_ERROR);
	assert_int_not_equal(conn_ssl_error(srv.c), 0);	/* kept for logs */
	conn_free(srv.c);
	(void)close(fd[1]);
	tls_free(&t);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_both_ways),
		cmocka_unit_test(test_eof_after_data),
		cmocka_unit_test(test_high_water_mark),
		cmocka_unit_test(test_full_socket_and_write_callback),
		cmocka_unit_test(test_read_timeout),
		cmocka_unit_test(test_read_timeout_restarts),
		cmocka_unit_test(test_same_timeout_restarts),
		cmocka_unit_test(test_write_timeout),
		cmocka_unit_test(test_timeout_removed),
		cmocka_unit_test(test_free_inside_callback),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_tls_both_ways_with_high_water_mark),
		cmocka_unit_test(test_tls_data_order),
		cmocka_unit_test(test_tls_close),
		cmocka_unit_test(test_tls_handshake_failure),
	};

	(void)signal(SIGPIPE, SIG_IGN);		/* as the gateway does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
