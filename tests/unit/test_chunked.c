/*
 * chunked.c: every body RFC 9112 7.1 allows decodes to its data, however it
 * is split; every framing it does not allow is refused with its status and
 * stable reason, again however it is split.  Includes the .c to reach a
 * total near 2^64 without sending that much.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "../../gateway/http/chunked.c"

#define MAXBODY	100

struct good {
	const char	*in;		/* a body, maybe with bytes after it */
	const char	*data;		/* what it decodes to */
	size_t		 rest;		/* bytes after the body */
};

static const struct good goods[] = {
	{ "0\r\n\r\n", "", 0 },
	{ "5\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n", "hello", 0 },
	{ "000005\r\nhello\r\n000\r\n\r\n", "hello", 0 },
	{ "0000000000000005\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
	    "0123456789abcdefghij", 0 },
	{ "5\r\nh\r\nlo\r\n0\r\n\r\n", "h\r\nlo", 0 },	/* CRLF as data */
	{ "5;x\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;x=y\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;x=y;z\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5 ;x\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5\t; x = y\t;z\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;x=\"a b;c=\\\"d\\\\\"\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;x=\"\"\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;x=\"\xc3\xa9\" ;y\r\nhello\r\n0\r\n\r\n", "hello", 0 },
	{ "5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~\r\nhello\r\n0\r\n\r\n",
	    "hello", 0 },
	{ "0;last=1\r\n\r\n", "", 0 },
	{ "0\r\nX-Checksum: abc\r\n\r\n", "", 0 },
	{ "0\r\nA:\r\nB: v v\t\r\nC:\t\xc3\xa9 \r\n\r\n", "", 0 },
	{ "0\r\nContent-Type-X: 1\r\nHosts: 2\r\n\r\n", "", 0 },
	{ "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "abc", 16 },
	{ "0\r\n\r\n0\r\n\r\n", "", 5 },
};

struct bad {
	const char	*in;
	int		 status;
	const char	*reason;
	size_t		 len;		/* of <in> */
};

/* The length from the literal itself: some cases hold a NUL. */
#define BAD(s, status, reason)	{ s, status, reason, sizeof(s) - 1 }

static const struct bad bads[] = {
	/* bare LF and bare CR anywhere in the framing */
	BAD("5\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("5;x\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("5;x=\"a\nhello\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("5\r\nhello\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("0\n\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("0\r\n\n", 400, "smuggling_chunk_bare_lf"),
	BAD("0\r\nX: 1\n\r\n", 400, "smuggling_chunk_bare_lf"),
	BAD("\n", 400, "smuggling_chunk_bare_lf"),
	BAD("5\rhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
	BAD("5\r\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
	BAD("5\r\nhello\r0\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
	BAD("0\r\n\rX", 400, "smuggling_chunk_bare_cr"),
	BAD("0\r\nX: 1\r\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
	BAD("0\r\n\r\r\n", 400, "smuggling_chunk_bare_cr"),
	/* no CRLF right after the data: longer or shorter than its size */
	BAD("5\r\nhelloX\r\n0\r\n\r\n", 400, "smuggling_chunk_crlf"),
	BAD("5\r\nhello0\r\n\r\n", 400, "smuggling_chunk_crlf"),
	BAD("5\r\nhel\r\n0\r\n\r\n", 400, "smuggling_chunk_crlf"),
	/* sizes: empty, whitespace, sign, 0x, not hex, too many digits */
	BAD("\r\n", 400, "smuggling_chunk_size"),
	BAD(";x\r\n", 400, "smuggling_chunk_size"),
	BAD(" 5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("\t5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("5 \r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("5\t\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("+5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("-5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("0x5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("0X5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("5h\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
	BAD("g\r\n", 400, "smuggling_chunk_size"),
	BAD("5,3\r\n", 400, "smuggling_chunk_size"),
	BAD("5\0\r\n", 400, "smuggling_chunk_size"),
	BAD("00000000000000005\r\nhello\r\n0\r\n\r\n", 400,
	    "smuggling_chunk_size"),
	BAD("10000000000000000\r\n", 400, "smuggling_chunk_size"),
	BAD("5 5\r\n", 400, "smuggling_chunk_size"),
	/* sizes beyond the body limit, alone or added up */
	BAD("65\r\n", 413, "body_too_large"),
	BAD("FFFFFFFFFFFFFFFF\r\n", 413, "body_too_large"),
	/* extensions against the ABNF */
	BAD("5;\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5; \r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;=y\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x =\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x y\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x \r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=y \r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"y\" \r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=y z\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=y=z\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"y\"z\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=a\"b\"\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"a\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"a\x01\"\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"a\x7f\"\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=\"\\\x01\"\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x=(y)\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x/y\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5;x\0\r\nhello\r\n", 400, "smuggling_chunk_ext"),
	BAD("5 x\r\nhello\r\n", 400, "smuggling_chunk_size"),
	/* trailer section */
	BAD("0\r\nContent-Length: 5\r\n\r\n", 400, "smuggling_trailer_field"),
	BAD("0\r\ncontent-length:5\r\n\r\n", 400, "smuggling_trailer_field"),
	BAD("0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
	    "smuggling_trailer_field"),
	BAD("0\r\nHOST: evil\r\n\r\n", 400, "smuggling_trailer_field"),
	BAD("0\r\nTrailer: X\r\n\r\n", 400, "smuggling_trailer_field"),
	BAD("0\r\n X: 1\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX: 1\r\n\tcontinued\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX : 1\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\n: 1\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX: a\x01\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX: a\x7f\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX: a\0\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nX_\x80: 1\r\n\r\n", 400, "smuggling_trailer"),
	BAD("0\r\nGET / HTTP/1.1\r\n\r\n", 400, "smuggling_trailer"),
};

/*
 * Feed <s> in pieces: up to <cut1>, up to <cut2>, the rest (one byte at
 * a time when <bytewise>).  The result of the last call that consumed
 * anything (or the first error); the decoded data in <out>, the bytes
 * consumed in *<used>.
 */
static enum chunked_result
feed(struct chunked *ck, const char *s, size_t len, size_t cut1, size_t cut2,
    int bytewise, struct evbuffer *out, size_t *used)
{
	enum chunked_result r = CHUNKED_MORE;
	size_t		 off = 0, n, end, step;
	size_t		 cuts[3] = { cut1, cut2, len };
	int		 i;

	*used = 0;
	for (i = 0; i < 3 && r == CHUNKED_MORE; i++) {
		end = cuts[i] < off ? off : cuts[i] > len ? len : cuts[i];
		while (off < end && r == CHUNKED_MORE) {
			step = bytewise ? 1 : end - off;
			r = chunked_decode(ck, s + off, step, &n, out);
			assert_true(n <= step);
			assert_true(r != CHUNKED_MORE || n == step);
			off += n;
			*used += n;
		}
	}
	return r;
}

static void
check_good(const struct good *g, size_t cut1, size_t cut2, int bytewise)
{
	struct chunked	*ck = chunked_new(MAXBODY, 0);
	struct evbuffer	*out = evbuffer_new();
	size_t		 len = strlen(g->in), used, n;

	assert_non_null(ck);
	assert_int_equal(feed(ck, g->in, len, cut1, cut2, bytewise, out,
	    &used), CHUNKED_DONE);
	assert_int_equal(used, len - g->rest);
	assert_int_equal(evbuffer_get_length(out), strlen(g->data));
	assert_memory_equal(evbuffer_pullup(out, -1), g->data,
	    strlen(g->data));
	assert_int_equal(chunked_body_bytes(ck), strlen(g->data));
	assert_null(chunked_reason(ck));
	/* done: nothing more is consumed */
	assert_int_equal(chunked_decode(ck, "5\r\n", 3, &n, out),
	    CHUNKED_DONE);
	assert_int_equal(n, 0);
	chunked_free(ck);
	evbuffer_free(out);
}

static void
check_bad(const struct bad *b, size_t cut1, size_t cut2, int bytewise)
{
	struct chunked	*ck = chunked_new(MAXBODY, 0);
	struct evbuffer	*out = evbuffer_new();
	size_t		 used, n;

	assert_int_equal(feed(ck, b->in, b->len, cut1, cut2, bytewise,
	    out, &used), CHUNKED_ERROR);
	if (chunked_reason(ck) == NULL || strcmp(chunked_reason(ck),
	    b->reason) != 0 || chunked_status(ck) != b->status)
		fail_msg("%s: got %d %s, want %d %s (cuts %zu %zu)", b->in,
		    chunked_status(ck), chunked_reason(ck), b->status,
		    b->reason, cut1, cut2);
	/* an error stays */
	assert_int_equal(chunked_decode(ck, "0\r\n\r\n", 5, &n, out),
	    CHUNKED_ERROR);
	assert_int_equal(n, 0);
	chunked_free(ck);
	evbuffer_free(out);
}

static void
test_good_whole_and_bytewise(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		check_good(&goods[i], 0, 0, 0);
		check_good(&goods[i], 0, 0, 1);
	}
}

/* Every split point, and every pair of split points, of every good body. */
static void
test_good_every_split(void **state)
{
	size_t	i, a, b, len;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		len = strlen(goods[i].in);
		for (a = 0; a <= len; a++)
			for (b = a; b <= len; b++)
				check_good(&goods[i], a, b, 0);
	}
}

static void
test_bad_every_split(void **state)
{
	size_t	i, a, len;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = bads[i].len;
		check_bad(&bads[i], 0, 0, 1);
		for (a = 0; a <= len; a++)
			check_bad(&bads[i], a, len, 0);
	}
}

/* Input that ends early is neither good nor bad yet. */
static void
test_incomplete(void **state)
{
	static const char *const parts[] = { "", "5", "5;x=\"a", "5\r",
	    "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "0\r\n", "0\r\nX: 1",
	    "0\r\nX: 1\r\n", "0\r\n\r", NULL };
	struct evbuffer	*out = evbuffer_new();
	struct chunked	*ck;
	size_t		 i, used;

	(void)state;
	for (i = 0; parts[i] != NULL; i++) {
		ck = chunked_new(MAXBODY, 0);
		assert_int_equal(chunked_decode(ck, parts[i], strlen(parts[i]),
		    &used, out), CHUNKED_MORE);
		assert_int_equal(used, strlen(parts[i]));
		assert_null(chunked_reason(ck));
		chunked_free(ck);
	}
	evbuffer_free(out);
}

/* The body limit counts every chunk; no limit still cannot wrap. */
static void
test_limits(void **state)
{
	struct evbuffer	*out = evbuffer_new();
	struct chunked	*ck;
	char		 body[256];
	size_t		 used;

	(void)state;
	(void)snprintf(body, sizeof(body), "32\r\n%050d\r\n32\r\n%050d\r\n"
	    "0\r\n\r\n", 0, 0);		/* 100 bytes: at the limit */
	ck = chunked_new(MAXBODY, 0);
	assert_int_equal(chunked_decode(ck, body, strlen(body), &used, out),
	    CHUNKED_DONE);
	chunked_free(ck);
	(void)snprintf(body, sizeof(body), "32\r\n%050d\r\n33\r\n", 0);
	ck = chunked_new(MAXBODY, 0);
	assert_int_equal(chunked_decode(ck, body, strlen(body), &used, out),
	    CHUNKED_ERROR);
	assert_int_equal(chunked_status(ck), 413);
	assert_string_equal(chunked_reason(ck), "body_too_large");
	assert_int_equal(chunked_body_bytes(ck), 50);
	chunked_free(ck);
	/* no limit: the largest size is taken, but not past 2^64 in all */
	ck = chunked_new(0, 0);
	assert_int_equal(chunked_decode(ck, "FFFFFFFFFFFFFFFF\r\nab", 20, &used,
	    out), CHUNKED_MORE);
	ck->state = CK_DATA_CR;
	ck->total = UINT64_MAX - 1;
	assert_int_equal(chunked_decode(ck, "\r\n2\r\n", 5, &used, out),
	    CHUNKED_ERROR);
	assert_string_equal(chunked_reason(ck), "smuggling_chunk_size");
	chunked_free(ck);
	evbuffer_free(out);
}

/* Extensions are bounded per line; trailers per section. */
static void
test_bounds(void **state)
{
	struct evbuffer	*out = evbuffer_new();
	struct chunked	*ck;
	char		 line[CHUNKED_EXT_MAX + 16];
	char		 tr[CHUNKED_TRAILER_MAX + 64];
	size_t		 used, n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "1;%0*d\r\nx\r\n",
	    CHUNKED_EXT_MAX - 2, 0);	/* ";" name CR: the bound exactly */
	ck = chunked_new(0, 0);
	assert_int_equal(chunked_decode(ck, line, n, &used, out),
	    CHUNKED_MORE);
	chunked_free(ck);
	n = (size_t)snprintf(line, sizeof(line), "1;%0*d\r\nx\r\n",
	    CHUNKED_EXT_MAX - 1, 0);
	ck = chunked_new(0, 0);
	assert_int_equal(chunked_decode(ck, line, n, &used, out),
	    CHUNKED_ERROR);
	assert_string_equal(chunked_reason(ck), "chunk_ext_too_large");
	assert_int_equal(chunked_status(ck), 400);
	chunked_free(ck);
	n = (size_t)snprintf(tr, sizeof(tr), "0\r\nX: %0*d\r\n\r\n",
	    CHUNKED_TRAILER_MAX, 0);
	ck = chunked_new(0, 0);
	assert_int_equal(chunked_decode(ck, tr, n, &used, out),
	    CHUNKED_ERROR);
	assert_string_equal(chunked_reason(ck), "trailers_too_large");
	assert_int_equal(chunked_status(ck), 431);
	chunked_free(ck);
	ck = chunked_new(0, 64);	/* the caller's bound */
	assert_int_equal(chunked_decode(ck, tr, 70, &used, out),
	    CHUNKED_ERROR);
	assert_string_equal(chunked_reason(ck), "trailers_too_large");
	chunked_free(ck);
	evbuffer_free(out);
}

static void
test_frame(void **state)
{
	struct evbuffer	*out = evbuffer_new(), *data = evbuffer_new();
	const char	*want = "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";

	(void)state;
	assert_int_equal(chunked_frame(out, data), 0);
	assert_int_equal(evbuffer_get_length(out), 0);	/* no empty chunk */
	evbuffer_add(data, "abcdefghijklmnopqrstuvwxyz", 26);
	assert_int_equal(chunked_frame(out, data), 0);
	assert_int_equal(evbuffer_get_length(data), 0);
	assert_int_equal(chunked_frame_last(out), 0);
	assert_int_equal(evbuffer_get_length(out), strlen(want));
	assert_memory_equal(evbuffer_pullup(out, -1), want, strlen(want));
	evbuffer_free(out);
	evbuffer_free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_whole_and_bytewise),
		cmocka_unit_test(test_good_every_split),
		cmocka_unit_test(test_bad_every_split),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
