/*
 * Moving bytes between a connection's socket, plain or TLS, and its
 * buffers (see conn-int.h): reads that land in a per-thread scratch
 * space or straight in the input buffer, and TLS writes a record at a
 * time.  Nothing here runs a callback.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn-int.h"

/*
 * Where a read lands.  Reading straight into the input buffer needs room
 * reserved there first: a fresh 32 KiB chain for an empty buffer, which
 * malloc() must find and free() give back for every small request.  So a
 * read into an empty buffer goes to this per-thread scratch space and is
 * copied in at its size (a small chain, from malloc's fast bins); once
 * reads fill most of it (a body streaming in), they go straight in.
 */
static _Thread_local unsigned char conn_scratch[CONN_READ_MAX];

static int
conn_read_direct(const struct conn *c, size_t room)
{
	return c->last_read > room / 2 || evbuffer_get_length(c->in) > 0;
}

int
conn_read_plain(struct conn *c, size_t room)
{
	struct evbuffer_iovec v[2];
	struct iovec	 iov[2];
	ssize_t		 n;
	size_t		 left = room;
	int		 nv, i;

	if (!conn_read_direct(c, room)) {
		n = read(c->fd, conn_scratch, room);
		if (n > 0 && evbuffer_add(c->in, conn_scratch, (size_t)n) == -1) {
			errno = ENOMEM;
			return -2;
		}
	} else {
		if ((nv = evbuffer_reserve_space(c->in, (ev_ssize_t)room, v,
		    2)) < 1) {
			errno = ENOMEM;
			return -2;
		}
		for (i = 0; i < nv; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len < left ? v[i].iov_len :
			    left;
			left -= iov[i].iov_len;
		}
		n = readv(c->fd, iov, nv);
		left = n > 0 ? (size_t)n : 0;
		for (i = 0; i < nv; i++) {
			v[i].iov_len = iov[i].iov_len < left ?
			    iov[i].iov_len : left;
			left -= v[i].iov_len;
		}
		(void)evbuffer_commit_space(c->in, v, n <= 0 ? 0 :
		    nv > 1 && v[1].iov_len > 0 ? 2 : 1);
	}
	if (n <= 0) {
		if (n == 0)
			return -1;
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -2;
	}
	c->last_read = (size_t)n;
	return 1;
}

int
conn_read_tls(struct conn *c, size_t room)
{
	struct evbuffer_iovec v;
	size_t		 got = 0, want;
	int		 r, e, direct;

	while (got < room) {
		direct = conn_read_direct(c, room);
		if (!direct) {
			v.iov_base = conn_scratch;
			v.iov_len = room - got;
		} else if (evbuffer_reserve_space(c->in, (ev_ssize_t)(room -
		    got), &v, 1) < 1) {
			errno = ENOMEM;
			return -2;
		}
		want = v.iov_len < room - got ? v.iov_len : room - got;
		ERR_clear_error();
		r = SSL_read(c->ssl, v.iov_base, (int)want);
		if (direct) {
			v.iov_len = r > 0 ? (size_t)r : 0;
			(void)evbuffer_commit_space(c->in, &v, r > 0);
		} else if (r > 0 && evbuffer_add(c->in, conn_scratch,
		    (size_t)r) == -1) {
			errno = ENOMEM;
			return -2;
		}
		if (r > 0) {
			got += (size_t)r;
			c->last_read = (size_t)r;
			if (!SSL_has_pending(c->ssl))
				break;
			continue;
		}
		switch ((e = SSL_get_error(c->ssl, r))) {
		case SSL_ERROR_WANT_READ:
			break;
		case SSL_ERROR_WANT_WRITE:	/* a key update to answer */
			c->read_wants_write = 1;
			conn_update(c);
			break;
		case SSL_ERROR_ZERO_RETURN:	/* close_notify */
			return got > 0 ? 1 : -1;
		default:
			conn_ssl_errors(c);
			/* A peer that closes without close_notify: an EOF
			 * from a client (as browsers do), an error from an
			 * upstream (a body cut short must not look whole). */
			if (c->accepting && (e == SSL_ERROR_SYSCALL ||
			    (c->nerrs > 0 && ERR_GET_REASON(c->errs[
			    c->nerrs - 1]) == SSL_R_UNEXPECTED_EOF_WHILE_READING)))
				return got > 0 ? 1 : -1;
			return got > 0 ? 1 : -2;
		}
		break;
	}
	return got > 0 ? 1 : 0;
}

ssize_t
conn_write_tls(struct conn *c)
{
	size_t		 len, total = 0;
	unsigned char	*p;
	int		 r;

	while ((len = evbuffer_get_length(c->out)) > 0 &&
	    total < CONN_WRITE_TURN) {
		/* One record per write() out of the whole first 16 KiB,
		 * however many pieces the buffer holds it in; a write that
		 * must be repeated is repeated with the same length. */
		if (c->ssl_wlen != 0)
			len = c->ssl_wlen;
		else if (len > CONN_TLS_WRITE)
			len = CONN_TLS_WRITE;
		if ((p = evbuffer_pullup(c->out, (ev_ssize_t)len)) == NULL)
			return -1;
		ERR_clear_error();
		if ((r = SSL_write(c->ssl, p, (int)len)) > 0) {
			c->ssl_wlen = 0;
			(void)evbuffer_drain(c->out, (size_t)r);
			total += (size_t)r;
			continue;
		}
		c->ssl_wlen = len;
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			c->wblocked = 1;
			return (ssize_t)total;
		case SSL_ERROR_WANT_READ:
			c->write_wants_read = 1;
			return (ssize_t)total;
		default:
			conn_ssl_errors(c);
			return -1;
		}
	}
	if (len > 0)		/* more than a turn's worth: the rest later */
		c->wblocked = 1;
	return (ssize_t)total;
}
