/*
 * Buffered socket I/O, plain or TLS, on one loop (see conn.h): the events,
 * timeouts and states; the reads and writes themselves are in connio.c.
 *
 * A connection is in one of three states: connecting (the write event
 * waits for connect() to finish), handshaking (TLS: the event the
 * handshake asked for), open.  When open, the read event is on while
 * reading is enabled and the input is below its high-water mark, and the
 * write event only while queued output waits for the socket; output is
 * otherwise written by the "flush" event, made active when bytes are
 * queued, which runs once the current callbacks have returned.
 *
 * Callbacks run from this file's event handlers, never from inside a
 * conn_*() call the user makes.  A handler counts itself in c->busy, so
 * that conn_free() from a callback only marks the connection dead; the
 * handler frees it on its way out and touches nothing else after a
 * callback that freed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "conn-int.h"
#include "timeutil.h"

static void	conn_on_read(evutil_socket_t, short, void *);
static void	conn_on_write(evutil_socket_t, short, void *);
static void	conn_on_flush(evutil_socket_t, short, void *);
static void	conn_on_timer(evutil_socket_t, short, void *);
static void	conn_do_read(struct conn *);
static void	conn_do_write(struct conn *);

/*
 * Timeouts are deadlines kept here, not libevent timeouts on the I/O
 * events: those are re-queued in libevent's timer heap on every read and
 * on every change (a dozen heap updates per request).  A read or write
 * only moves its start; one timer per connection is armed for the
 * earliest deadline and, when it fires early because the deadline moved,
 * re-armed for the rest.  They are read on timeutil_coarse_ms(), which
 * costs no syscall.
 */

/* The read timeout in force: until open, a stall either way is bounded by
 * whichever is set (the upstream's connect timeout is a write one). */
static uint64_t
conn_read_ms(const struct conn *c)
{
	return c->rms != 0 ? c->rms : c->state != CONN_OPEN ? c->wms : 0;
}

/* Arm the timer if the earliest deadline comes before it would fire. */
static void
conn_timer(struct conn *c)
{
	uint64_t	 dl = UINT64_MAX, rms = conn_read_ms(c), now, d;
	struct timeval	 tv;

	if (c->dead || !c->assigned)
		return;
	if (c->rev_on && rms != 0)
		dl = c->rstart + rms;
	if (c->wev_on && c->wms != 0 && c->wstart + c->wms < dl)
		dl = c->wstart + c->wms;
	if (dl == UINT64_MAX || (c->armed != 0 && c->armed <= dl))
		return;		/* none, or the timer fires first anyway */
	now = timeutil_coarse_ms();
	d = dl > now ? dl - now : 0;
	(void)evtimer_add(&c->timer, timeutil_tv(&tv, d));
	c->armed = now + d;
}

void
conn_update(struct conn *c)
{
	int		 r = 0, w = 0;

	if (c->dead || !c->assigned)
		return;
	switch (c->state) {
	case CONN_IDLE:
		break;
	case CONN_CONNECTING:
		w = 1;
		break;
	case CONN_HANDSHAKE:
		r = !c->hs_write;
		w = c->hs_write;
		break;
	case CONN_OPEN:
		r = ((c->enabled & EV_READ) && (c->rhigh == 0 ||
		    evbuffer_get_length(c->in) < c->rhigh)) ||
		    c->write_wants_read;
		w = ((c->enabled & EV_WRITE) && c->wblocked) ||
		    c->read_wants_write;
		break;
	}
	if (r && !c->rev_on) {
		(void)event_add(&c->rev, NULL);
		c->rev_on = 1;
		if (conn_read_ms(c) != 0) {	/* a wait starts now */
			c->rstart = timeutil_coarse_ms();
			conn_timer(c);
		}
	} else if (!r && c->rev_on) {
		(void)event_del(&c->rev);
		c->rev_on = 0;
	}
	if (w && !c->wev_on) {
		(void)event_add(&c->wev, NULL);
		c->wev_on = 1;
		if (c->wms != 0) {
			c->wstart = timeutil_coarse_ms();
			conn_timer(c);
		}
	} else if (!w && c->wev_on) {
		(void)event_del(&c->wev);
		c->wev_on = 0;
	}
}

/* Queued output goes out at the end of this loop turn. */
static void
conn_schedule_flush(struct conn *c)
{
	if (c->flush_on || c->dead || c->state != CONN_OPEN ||
	    !(c->enabled & EV_WRITE) || c->wblocked ||
	    evbuffer_get_length(c->out) == 0)
		return;
	c->flush_on = 1;
	event_active(&c->flush, EV_TIMEOUT, 1);
}

/* Buffered TLS bytes that epoll cannot announce: read them this turn. */
static void
conn_kick_tls(struct conn *c)
{
	if (c->ssl != NULL && c->state == CONN_OPEN && c->rev_on &&
	    SSL_has_pending(c->ssl))
		event_active(&c->rev, EV_READ, 1);
}

static void
conn_on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	if (info->n_added > 0)
		conn_schedule_flush(arg);
}

/* Reading resumes once the input is drained below its high-water mark. */
static void
conn_on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn	*c = arg;

	if (info->n_deleted == 0 || c->rhigh == 0 ||
	    info->orig_size < c->rhigh ||
	    evbuffer_get_length(buf) >= c->rhigh)
		return;
	conn_update(c);
	conn_kick_tls(c);
}

struct conn *
conn_new(struct event_base *base, int fd, SSL *ssl, int accepting)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    evbuffer_add_cb(c->in, conn_on_input, c) == NULL ||
	    evbuffer_add_cb(c->out, conn_on_output, c) == NULL ||
	    event_assign(&c->flush, base, -1, 0, conn_on_flush, c) == -1 ||
	    evtimer_assign(&c->timer, base, conn_on_timer, c) == -1)
		goto fail;
	c->base = base;
	c->fd = -1;
	c->ssl = ssl;
	c->accepting = accepting != 0;
	c->enabled = EV_WRITE;
	if (ssl != NULL) {
		SSL_set_read_ahead(ssl, 1);	/* one read() per burst */
		SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		if (accepting)
			SSL_set_accept_state(ssl);
		else
			SSL_set_connect_state(ssl);
	}
	if (fd == -1)
		return c;
	c->fd = fd;
	if (event_assign(&c->rev, base, fd, EV_READ | EV_PERSIST,
	    conn_on_read, c) == -1 || event_assign(&c->wev, base, fd,
	    EV_WRITE | EV_PERSIST, conn_on_write, c) == -1 ||
	    (ssl != NULL && SSL_set_fd(ssl, fd) != 1))
		goto fail;
	c->assigned = 1;
	c->state = ssl != NULL ? CONN_HANDSHAKE : CONN_OPEN;
	c->hs_write = ssl != NULL && !accepting;	/* the client speaks first */
	conn_update(c);
	return c;
fail:
	if (c != NULL) {
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->out != NULL)
			evbuffer_free(c->out);
		free(c);
	}
	SSL_free(ssl);
	if (fd != -1)
		(void)close(fd);
	return NULL;
}

int
conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t len)
{
	int	fd;

	if (c->state != CONN_IDLE) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS) {
		(void)close(fd);
		return -1;
	}
	c->fd = fd;
	if (event_assign(&c->rev, c->base, fd, EV_READ | EV_PERSIST,
	    conn_on_read, c) == -1 || event_assign(&c->wev, c->base, fd,
	    EV_WRITE | EV_PERSIST, conn_on_write, c) == -1 ||
	    (c->ssl != NULL && SSL_set_fd(c->ssl, fd) != 1)) {
		c->fd = -1;
		(void)close(fd);
		errno = ENOMEM;
		return -1;
	}
	c->assigned = 1;
	c->state = CONN_CONNECTING;	/* done when writable */
	conn_update(c);
	return 0;
}

static void
conn_destroy(struct conn *c)
{
	if (c->assigned) {
		(void)event_del(&c->rev);
		(void)event_del(&c->wev);
	}
	(void)event_del(&c->flush);
	(void)evtimer_del(&c->timer);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	SSL_free(c->ssl);
	if (c->fd != -1)
		(void)close(c->fd);
	free(c);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->busy == 0) {
		conn_destroy(c);
		return;
	}
	/* Inside one of its callbacks: the handler frees it on return. */
	c->dead = 1;
	c->readcb = c->writecb = NULL;
	c->eventcb = NULL;
	if (c->assigned) {
		(void)event_del(&c->rev);
		(void)event_del(&c->wev);
		c->rev_on = c->wev_on = 0;
	}
	(void)event_del(&c->flush);
	(void)evtimer_del(&c->timer);
}

/* A handler's exit: the connection goes if a callback freed it. */
static void
conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		conn_destroy(c);
}

static void
conn_event(struct conn *c, short what)
{
	if (!c->dead && c->eventcb != NULL)
		c->eventcb(c, what, c->arg);
}

void
conn_setcb(struct conn *c, conn_data_cb readcb, conn_data_cb writecb,
    conn_event_cb eventcb, void *arg)
{
	c->readcb = readcb;
	c->writecb = writecb;
	c->eventcb = eventcb;
	c->arg = arg;
}

void
conn_enable(struct conn *c, short what)
{
	short	was = c->enabled;

	c->enabled |= what & (EV_READ | EV_WRITE);
	if (c->enabled == was)
		return;
	conn_update(c);
	if ((what & EV_READ) && !(was & EV_READ))
		conn_kick_tls(c);
	if ((what & EV_WRITE) && !(was & EV_WRITE))
		conn_schedule_flush(c);
}

void
conn_disable(struct conn *c, short what)
{
	short	was = c->enabled;

	c->enabled &= ~(what & (EV_READ | EV_WRITE));
	if (c->enabled != was)
		conn_update(c);
}

short
conn_enabled(const struct conn *c)
{
	return c->enabled;
}

static uint64_t
conn_tv_ms(const struct timeval *tv)
{
	uint64_t	ms;

	if (tv == NULL)
		return 0;
	ms = timeutil_ms(tv);
	return ms != 0 ? ms : 1;
}

/* As bufferevent_set_timeouts(): both clocks start again now, even if the
 * values did not change (a pooled connection's wait for a response must
 * not count its idle time). */
void
conn_set_timeouts(struct conn *c, const struct timeval *rd,
    const struct timeval *wr)
{
	c->rms = conn_tv_ms(rd);
	c->wms = conn_tv_ms(wr);
	c->rstart = c->wstart = timeutil_coarse_ms();
	conn_timer(c);
}

void
conn_setwatermark(struct conn *c, short what, size_t low, size_t high)
{
	if (what & EV_READ) {
		c->rhigh = high;
		conn_update(c);
		conn_kick_tls(c);
	}
	if (what & EV_WRITE)
		c->wlow = low;
}

struct evbuffer *
conn_input(struct conn *c)
{
	return c->in;
}

struct evbuffer *
conn_output(struct conn *c)
{
	return c->out;
}

int
conn_fd(const struct conn *c)
{
	return c->fd;
}

SSL *
conn_ssl(const struct conn *c)
{
	return c->ssl;
}

unsigned long
conn_ssl_error(struct conn *c)
{
	unsigned long	e;

	if (c->nerrs == 0)
		return 0;
	e = c->errs[0];
	memmove(c->errs, c->errs + 1, (size_t)--c->nerrs * sizeof(c->errs[0]));
	return e;
}

void
conn_ssl_errors(struct conn *c)
{
	unsigned long	e;

	while ((e = ERR_get_error()) != 0) {
		if (c->nerrs == CONN_NERRS) {
			memmove(c->errs, c->errs + 1, (CONN_NERRS - 1) *
			    sizeof(c->errs[0]));
			c->nerrs--;
		}
		c->errs[c->nerrs++] = e;
	}
}

/* ---- handshake and connect ---- */

static void
conn_opened(struct conn *c)
{
	c->state = CONN_OPEN;
	c->hs_write = 0;
	/* the open state's clocks */
	c->rstart = c->wstart = timeutil_coarse_ms();
	conn_update(c);
	conn_timer(c);
	conn_event(c, CONN_EV_CONNECTED);
	if (c->dead)
		return;
	conn_do_write(c);	/* what was queued meanwhile */
	if (!c->dead && c->ssl != NULL && (c->enabled & EV_READ) &&
	    SSL_has_pending(c->ssl))
		conn_do_read(c);	/* data that came with the handshake */
}

static void
conn_handshake(struct conn *c)
{
	int	r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		conn_opened(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->hs_write = 0;
		conn_update(c);
		return;
	case SSL_ERROR_WANT_WRITE:
		c->hs_write = 1;
		conn_update(c);
		return;
	default:
		conn_ssl_errors(c);
		c->state = CONN_IDLE;	/* no event ever again */
		c->enabled = 0;
		conn_update(c);
		conn_event(c, CONN_EV_ERROR);
		return;
	}
}

/* The write event of a connecting socket: connect() finished. */
static void
conn_connected(struct conn *c)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		c->state = CONN_IDLE;
		c->enabled = 0;
		conn_update(c);
		errno = err;
		conn_event(c, CONN_EV_ERROR);
		return;
	}
	if (c->ssl != NULL) {
		c->state = CONN_HANDSHAKE;
		conn_handshake(c);
	} else
		conn_opened(c);
}

/* ---- reading ---- */

static void
conn_do_read(struct conn *c)
{
	size_t	room = CONN_READ_MAX, len;
	int	r;

	if (c->rhigh != 0) {
		if ((len = evbuffer_get_length(c->in)) >= c->rhigh) {
			conn_update(c);		/* stop until drained */
			return;
		}
		if (c->rhigh - len < room)
			room = c->rhigh - len;
	}
	r = c->ssl != NULL ? conn_read_tls(c, room) : conn_read_plain(c, room);
	if (r == 1) {
		if (conn_read_ms(c) != 0)	/* the read timeout restarts */
			c->rstart = timeutil_coarse_ms();
		if (c->readcb != NULL)
			c->readcb(c, c->arg);
		if (c->dead)
			return;
		if (c->rhigh != 0 && evbuffer_get_length(c->in) >= c->rhigh)
			conn_update(c);
		/* Records read ahead but not yet taken (the read was full):
		 * the socket may be empty, so epoll would not say. */
		conn_kick_tls(c);
		/* A TLS error after good bytes: reported on the next read. */
		return;
	}
	if (r == 0)
		return;
	c->enabled &= ~EV_READ;
	conn_update(c);
	conn_event(c, CONN_EV_READING | (r == -1 ? CONN_EV_EOF :
	    CONN_EV_ERROR));
}

/* ---- writing ---- */

static void
conn_do_write(struct conn *c)
{
	ssize_t	n;

	if (c->state != CONN_OPEN || !(c->enabled & EV_WRITE) ||
	    c->write_wants_read)
		return;
	c->wblocked = 0;
	if (evbuffer_get_length(c->out) == 0) {
		conn_update(c);
		return;
	}
	if (c->ssl != NULL)
		n = conn_write_tls(c);
	else if ((n = evbuffer_write_atmost(c->out, c->fd, -1)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		n = 0;
	if (n == -1) {
		c->enabled &= ~EV_WRITE;
		conn_update(c);
		conn_event(c, CONN_EV_WRITING | CONN_EV_ERROR);
		return;
	}
	if (evbuffer_get_length(c->out) > 0 && c->ssl == NULL)
		c->wblocked = 1;	/* a short write: the socket is full */
	if (n > 0 && c->wms != 0)	/* progress: the write timeout restarts */
		c->wstart = timeutil_coarse_ms();
	conn_update(c);
	if (n > 0 && evbuffer_get_length(c->out) <= c->wlow &&
	    c->writecb != NULL)
		c->writecb(c, c->arg);
}

/* ---- event handlers ---- */

static void
conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->busy++;
	if (c->state == CONN_HANDSHAKE)
		conn_handshake(c);
	else if (c->state == CONN_OPEN) {
		if (c->write_wants_read) {
			c->write_wants_read = 0;
			conn_do_write(c);
		}
		if (!c->dead && (c->enabled & EV_READ))
			conn_do_read(c);
		else if (!c->dead)
			conn_update(c);
	}
	conn_release(c);
}

static void
conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->busy++;
	if (c->state == CONN_CONNECTING)
		conn_connected(c);
	else if (c->state == CONN_HANDSHAKE)
		conn_handshake(c);
	else if (c->state == CONN_OPEN) {
		if (c->read_wants_write) {
			c->read_wants_write = 0;
			conn_update(c);
			if (c->enabled & EV_READ)
				conn_do_read(c);
		}
		if (!c->dead)
			conn_do_write(c);
	}
	conn_release(c);
}

static void
conn_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->busy++;
	c->flush_on = 0;
	if (!c->wblocked)
		conn_do_write(c);
	conn_release(c);
}

/* The timer: a deadline passed (a timeout, that direction turned off, as
 * in a bufferevent), or it moved later (armed again for the rest). */
static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	uint64_t	 now = timeutil_coarse_ms(), rms = conn_read_ms(c);
	short		 ev = 0;

	c->armed = 0;
	if (c->rev_on && rms != 0 && now >= c->rstart + rms)
		ev = CONN_EV_READING | CONN_EV_TIMEOUT;
	else if (c->wev_on && c->wms != 0 && now >= c->wstart + c->wms)
		ev = CONN_EV_WRITING | CONN_EV_TIMEOUT;
	if (ev == 0) {
		conn_timer(c);
		return;
	}
	c->busy++;
	if (c->state != CONN_OPEN) {	/* no connect or handshake in time */
		c->state = CONN_IDLE;
		c->enabled = 0;
	} else
		c->enabled &= ~(ev & CONN_EV_READING ? EV_READ : EV_WRITE);
	conn_update(c);
	conn_event(c, ev);
	if (!c->dead)
		conn_timer(c);	/* the other direction's deadline */
	conn_release(c);
}
