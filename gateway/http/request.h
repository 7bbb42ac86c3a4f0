/*
 * One HTTP/1.1 request from a client, parsed by http-parser with the
 * gateway's own limits and smuggling checks on top: a request is either
 * unambiguous (one framing, one Host, a normalised path) or refused with a
 * status and a stable reason code before anything reaches an upstream.
 */
#ifndef POSTERN_REQUEST_H
#define POSTERN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

struct chunked;
struct evbuffer;

/*
 * Limits of one request: the caller fills them from its configuration
 * (limits:), then request_limits_defaults() for what it leaves 0.
 */
struct request_limits {
	size_t		max_request_line;	/* bytes; 414 beyond */
	size_t		max_header_size;	/* bytes of the header block; 431 */
	size_t		max_headers;		/* count; 431 beyond */
	uint64_t	max_body_size;		/* bytes; 413 beyond; 0 = none */
	int		allow_underscore;	/* 0: "_" in a name is a 400 */
};

#define REQUEST_HOST_MAX	255	/* a host name's bytes, at most */

struct request_header {
	char		*name;		/* as sent */
	char		*value;		/* surrounding whitespace trimmed */
};

enum request_result {
	REQUEST_MORE = 0,	/* need more bytes */
	REQUEST_DONE,		/* head (or body) complete */
	REQUEST_ERROR,		/* refuse: see status and reason */
};

/* Owned by the client that reads it; freed with request_free(). */
struct request {
	http_parser	 parser;
	struct request_limits lim;

	/* the head, once request_parse_head() returned REQUEST_DONE */
	enum http_method method;
	const char	*method_name;	/* static string */
	unsigned short	 http_major, http_minor;
	char		*target;	/* raw request target */
	char		*path;		/* normalised, what policy + upstream see */
	char		*query;		/* raw, without "?"; NULL if none */
	char		*host;		/* lower-case, without port */
	struct request_header *headers;
	size_t		 nheaders;
	char		*cookies;	/* every Cookie line, joined; NULL: none */
	size_t		 ncookies;	/* Cookie lines that are not empty */
	int		 keep_alive;	/* http_should_keep_alive() */
	int		 chunked;	/* Transfer-Encoding: chunked */
	int		 has_length;	/* Content-Length present */
	uint64_t	 content_length;
	int		 expect_continue;	/* Expect: 100-continue */

	/* body progress */
	uint64_t	 body_bytes;	/* decoded body bytes so far */
	int		 head_done;
	int		 complete;	/* whole message read */

	/* set with REQUEST_ERROR */
	int		 status;	/* 400, 405, 413, 414, 431, 505 */
	const char	*reason;	/* stable code, e.g. "smuggling_cl_te" */

	/* parser scratch */
	char		*arena;		/* the head's strings: target,
					 * headers, host, query, cookies
					 * (all but path point into it) */
	size_t		 arena_len, arena_cap;
	char		*arena_last;	/* the last string placed */
	size_t		 capheaders;
	int		 in_value;	/* last callback was a value */
	int		 ncl, nte, nhost;
	struct evbuffer	*body_out;	/* during request_parse_body() */
	struct chunked	*ck;		/* a chunked body's decoder */
	struct evbuffer	*chunk_data;	/* decoded, not yet framed again */
};

/*
 * Set the limits <lim> leaves 0 to the defaults (8 KiB request line, 32 KiB
 * of headers, 100 headers); a max_body_size of 0 stays: no limit.
 */
void		 request_limits_defaults(struct request_limits *lim);

/* A new request with limits <lim>; NULL on allocation failure. */
struct request	*request_new(const struct request_limits *lim);
void		 request_free(struct request *);
/*
 * Make <req> a new request with limits <lim>, as request_new() would, but
 * keeping its buffers (the strings' arena and the header array, up to a
 * size) for the next head: a worker reuses ended requests.
 */
void		 request_reset(struct request *req,
		    const struct request_limits *lim);

/*
 * Parse a request head from the start of <in>.  Returns REQUEST_MORE until
 * the whole head is buffered (nothing is drained), then drains exactly the
 * head and returns REQUEST_DONE, or REQUEST_ERROR with status and reason
 * (the connection must then be closed: its framing is unknown).
 */
enum request_result request_parse_head(struct request *, struct evbuffer *in);

/*
 * Move body bytes from <in> to <out>, at most <max> input bytes: decoded
 * and framed again for the upstream (Content-Length bodies as they are;
 * chunked bodies decoded strictly by chunked.c and sent as canonical
 * chunks, without extensions or trailers).  Returns REQUEST_DONE once the
 * message is complete (bytes of a pipelined next request stay in <in>),
 * REQUEST_MORE, or REQUEST_ERROR (status and reason set; the connection
 * must close, and what reached the upstream so far is cut off).
 */
enum request_result request_parse_body(struct request *, struct evbuffer *in,
		    struct evbuffer *out, size_t max);

/*
 * Make <req> the request a front proxy asks about (forward-auth mode):
 * method <method> (a name such as "GET"), host <host> (a Host value; NULL:
 * keep the request's) and request target <target> (origin-form or
 * absolute-form), split and normalised exactly as a request line's, with
 * the same refusals.  Headers and body stay.  Returns 0, or -1 with status
 * and reason set (path, query and host may then be NULL: refuse it).
 */
int		 request_retarget(struct request *req, const char *method,
		    const char *host, const char *target);

/* Whether the request has a body to forward at all. */
int		 request_has_body(const struct request *);

/* The first value of header <name> (case-insensitive), or NULL. */
const char	*request_header(const struct request *, const char *name);
/* The last value of header <name> (case-insensitive), or NULL: for a
 * list a proxy appends to, whose nearest entry is the last. */
const char	*request_header_last(const struct request *, const char *name);

/*
 * The request's cookies: every Cookie header line, in order, joined with
 * "; " as one list (RFC 9113 8.2.3: HTTP/2 clients and proxies split
 * them), or NULL if none.  The gateway reads its own cookies only here, so
 * that it sees what the upstream sees (a name twice across lines is
 * twice).
 */
const char	*request_cookies(const struct request *);

/* Append <len> bytes at <at> to the NUL-terminated heap string *<s>
 * (NULL starts one).  0, or -1 on allocation failure (*<s> unchanged). */
int		 request_append(char **s, const char *at, size_t len);
/* Whether <s> is a token (RFC 9110 5.6.2: one or more tchar), as a
 * header field name must be. */
int		 request_is_token(const char *s);
/* Whether header name <a> equals <b> ignoring case. */
int		 request_name_eq(const char *a, const char *b);

#endif
