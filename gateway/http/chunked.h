/*
 * The chunked transfer coding of request bodies (RFC 9112 7.1): a strict,
 * incremental decoder fed the bytes in whatever pieces they arrive in, and
 * the canonical framing the gateway sends upstream instead of the client's.
 * Anything the grammar does not allow (bare CR or LF, a missing CRLF after
 * chunk data, a size with whitespace, a sign, "0x" or too many digits, a
 * malformed or long extension, a malformed trailer) is refused: a lenient
 * decoder is a request smuggling primitive behind a front proxy.
 */
#ifndef POSTERN_CHUNKED_H
#define POSTERN_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct chunked;

/* Bytes of chunk extensions (after the size) allowed on one chunk line. */
#define CHUNKED_EXT_MAX		256
/* Bytes of the trailer section, when the caller gives no bound. */
#define CHUNKED_TRAILER_MAX	8192

enum chunked_result {
	CHUNKED_MORE = 0,	/* all input used, the body goes on */
	CHUNKED_DONE,		/* last chunk and trailer section read */
	CHUNKED_ERROR,		/* refuse: see chunked_status/reason() */
};

/*
 * A decoder for one body of at most <max_body> decoded bytes (0: no limit)
 * with a trailer section of at most <max_trailer> bytes (0: the default
 * CHUNKED_TRAILER_MAX).  NULL on allocation failure; freed with
 * chunked_free() (NULL-safe).
 */
struct chunked	*chunked_new(uint64_t max_body, size_t max_trailer);
void		 chunked_free(struct chunked *);

/*
 * Decode the <len> bytes at <buf>, which continue those of earlier calls.
 * Chunk data is appended to <out> as plain bytes; extensions and trailer
 * fields are checked and dropped.  Sets *<used> to the bytes consumed and
 * returns CHUNKED_MORE (*<used> == <len>), CHUNKED_DONE (the body ended
 * after *<used> bytes: the rest belongs to the next message; later calls
 * consume nothing), or CHUNKED_ERROR (this and every later call: the
 * framing is unknown, the connection must close; <out> may hold data
 * decoded before the error, which the caller must not forward).
 */
enum chunked_result chunked_decode(struct chunked *, const char *buf,
		    size_t len, size_t *used, struct evbuffer *out);

/* Decoded body bytes so far. */
uint64_t	 chunked_body_bytes(const struct chunked *);
/* After CHUNKED_ERROR: the status (400, 413 or 431) and a stable reason
 * code (static string); 0 and NULL before. */
int		 chunked_status(const struct chunked *);
const char	*chunked_reason(const struct chunked *);

/*
 * Move all of <data> to <out> as one chunk in canonical framing
 * ("%x\r\n" data "\r\n", nothing if <data> is empty); chunked_frame_last()
 * appends the last chunk and an empty trailer section ("0\r\n\r\n").
 * 0, or -1 on allocation failure.
 */
int		 chunked_frame(struct evbuffer *out, struct evbuffer *data);
int		 chunked_frame_last(struct evbuffer *out);

#endif
