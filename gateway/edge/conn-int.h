/*
 * Inside a connection (conn.c and connio.c; users see conn.h): the state
 * and the functions the two files share.  conn.c runs the events, the
 * timeouts and the state machine; connio.c moves bytes between the socket
 * (plain or TLS) and the buffers, and calls no callback.
 */
#ifndef POSTERN_CONN_INT_H
#define POSTERN_CONN_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include "conn.h"

#define CONN_READ_MAX	(16 * 1024)	/* bytes per read: a TLS record */
#define CONN_TLS_WRITE	(16 * 1024)	/* bytes per TLS record written */
#define CONN_WRITE_TURN	(256 * 1024)	/* TLS bytes per turn, then yield */
#define CONN_NERRS	4

enum conn_state {
	CONN_IDLE = 0,		/* fd -1: waiting for conn_connect() */
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_OPEN,
};

struct conn {
	struct event_base	*base;
	int			 fd;
	SSL			*ssl;
	struct evbuffer		*in, *out;
	struct event		 rev, wev, flush;
	struct event		 timer;		/* the next deadline, lazily */
	conn_data_cb		 readcb, writecb;
	conn_event_cb		 eventcb;
	void			*arg;
	uint64_t		 rms, wms;	/* timeouts; 0: none */
	uint64_t		 rstart, wstart;	/* their clocks' starts */
	uint64_t		 armed;		/* when timer fires; 0: off */
	size_t			 rhigh, wlow;
	size_t			 ssl_wlen;	/* a TLS write to repeat */
	size_t			 last_read;	/* bytes the last read got */
	unsigned long		 errs[CONN_NERRS];
	int			 nerrs;
	int			 busy;		/* handlers on the stack */
	enum conn_state		 state;
	short			 enabled;	/* EV_READ | EV_WRITE */
	unsigned		 rev_on:1, wev_on:1, flush_on:1, assigned:1;
	unsigned		 wblocked:1;	/* output waits for the socket */
	unsigned		 hs_write:1;	/* the handshake wants to write */
	unsigned		 read_wants_write:1, write_wants_read:1;
	unsigned		 accepting:1, dead:1;
};

/* conn.c: turn the two I/O events on or off as the state asks. */
void	conn_update(struct conn *);
/* conn.c: keep the thread's OpenSSL errors for conn_ssl_error(), newest
 * last. */
void	conn_ssl_errors(struct conn *);

/*
 * connio.c: read at most <room> bytes into c->in.  1: bytes read, 0:
 * nothing now, -1: EOF, -2: error (errno set).  conn_read_tls() reads
 * records until the socket has no more.
 */
int	conn_read_plain(struct conn *, size_t room);
int	conn_read_tls(struct conn *, size_t room);
/*
 * connio.c: write c->out through TLS, at most CONN_WRITE_TURN bytes.  The
 * bytes written, 0 if the socket is full, -1 on an error.
 */
ssize_t	conn_write_tls(struct conn *);

#endif
