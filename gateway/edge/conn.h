/*
 * One socket with buffered I/O on a worker's loop, plain or TLS: the small
 * part of libevent's bufferevents that the proxy uses, built for its hot
 * path.  Per request a bufferevent costs two syscalls it does not need
 * (an ioctl(FIONREAD) before every read) and, under TLS, two epoll_ctl()
 * calls per response (the write event is armed, fires, and is disarmed).
 * Here:
 *
 *   - a read is one readv() (or SSL_read() with read-ahead, one read()
 *     per burst of records) into the input buffer; level-triggered epoll
 *     says when there is more, so no read ends in EAGAIN just to find out;
 *   - output is written at the end of the current loop turn, when the
 *     callbacks that queued it have returned (one writev() or one TLS
 *     record per turn for a small response), and the write event is armed
 *     only when the socket buffer is full;
 *   - events live inside the struct: no allocation per connection beyond
 *     it and its two buffers.
 *
 * The semantics the callers rely on are bufferevent's: a read callback
 * after bytes arrive; a write callback when a write leaves the output at
 * or below the write low-water mark; an event callback with CONN_EV_* for
 * EOF, error, timeout and "connected"; reading stops while the input is
 * at its high-water mark and resumes by itself when it is drained; a read
 * timeout counts from the last read, a write timeout only while output
 * waits for the socket; an EOF, error or timeout turns that direction
 * off.  conn_free() may be called from inside a callback.
 */
#ifndef POSTERN_CONN_H
#define POSTERN_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct conn;
struct evbuffer;
struct event_base;
struct timeval;

#define CONN_EV_READING		0x01	/* with one of these: */
#define CONN_EV_WRITING		0x02
#define CONN_EV_EOF		0x10
#define CONN_EV_ERROR		0x20
#define CONN_EV_TIMEOUT		0x40
#define CONN_EV_CONNECTED	0x80	/* connect() or TLS handshake done */

/* conn_enable()/conn_disable() take libevent's EV_READ and EV_WRITE. */

typedef void	(*conn_data_cb)(struct conn *, void *);
typedef void	(*conn_event_cb)(struct conn *, short, void *);

/*
 * A connection on accepted socket <fd>, or (fd -1) one that conn_connect()
 * will open.  With <ssl> (owned from here, even on failure) it is TLS:
 * <accepting> for the server side, else the client side.  The fd is
 * closed and the SSL freed by conn_free().  NULL on failure (fd closed).
 */
struct conn	*conn_new(struct event_base *, int fd, SSL *ssl,
		    int accepting);

/* Start a non-blocking connect(); CONN_EV_CONNECTED or an error follows
 * (after the TLS handshake, for TLS).  0, or -1 with errno. */
int		 conn_connect(struct conn *, const struct sockaddr *,
		    socklen_t);

/* Close and free; safe inside the connection's own callbacks, and NULL. */
void		 conn_free(struct conn *);

void		 conn_setcb(struct conn *, conn_data_cb readcb,
		    conn_data_cb writecb, conn_event_cb eventcb, void *arg);
void		 conn_enable(struct conn *, short what);
void		 conn_disable(struct conn *, short what);
short		 conn_enabled(const struct conn *);

/* NULL: no timeout.  The read timeout restarts with every read. */
void		 conn_set_timeouts(struct conn *, const struct timeval *rd,
		    const struct timeval *wr);

/* EV_READ: stop reading at <high> bytes of input (0: never).  EV_WRITE:
 * the write callback runs when output falls to <low> bytes. */
void		 conn_setwatermark(struct conn *, short what, size_t low,
		    size_t high);

struct evbuffer	*conn_input(struct conn *);
struct evbuffer	*conn_output(struct conn *);
int		 conn_fd(const struct conn *);
SSL		*conn_ssl(const struct conn *);	/* NULL for plain */

/* The OpenSSL errors the last failure left, oldest first; 0 when none. */
unsigned long	 conn_ssl_error(struct conn *);

#endif
