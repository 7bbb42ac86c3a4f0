/*
 * libFuzzer target: arbitrary bytes as a chunked request body.  Invariants
 * (a failure traps): the same bytes fed whole and fed in pseudo-random
 * pieces (seeded by the input, so each input has its own splits) give the
 * same result, reason, bytes consumed and decoded data; the decoded length
 * never passes the body limit; and a decoded body framed again by
 * chunked_frame() decodes to itself, consuming exactly the framing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "chunked.h"

#define FUZZ_MAX_BODY	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	enum chunked_result r;
	const char	*reason;
	size_t		 used;
	uint64_t	 bytes;
};

static uint64_t
fuzz_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Decode <data> in pieces of 1 to <maxpiece> bytes (all at once if 0). */
static void
fuzz_decode(const uint8_t *data, size_t size, uint64_t seed,
    size_t maxpiece, struct evbuffer *out, struct run *run)
{
	struct chunked	*ck;
	size_t		 off = 0, piece, n;

	memset(run, 0, sizeof(*run));
	if ((ck = chunked_new(FUZZ_MAX_BODY, 512)) == NULL)
		__builtin_trap();
	run->r = CHUNKED_MORE;
	while (off < size && run->r == CHUNKED_MORE) {
		piece = size - off;
		if (maxpiece != 0 && piece > 1)
			piece = 1 + fuzz_next(&seed) % (piece < maxpiece ?
			    piece : maxpiece);
		run->r = chunked_decode(ck, (const char *)data + off, piece,
		    &n, out);
		if (n > piece || (run->r == CHUNKED_MORE && n != piece))
			__builtin_trap();
		off += n;
	}
	run->used = off;
	run->reason = chunked_reason(ck);
	run->bytes = chunked_body_bytes(ck);
	if (run->bytes > FUZZ_MAX_BODY)
		__builtin_trap();
	chunked_free(ck);
}

/* Framed again, the decoded data decodes to itself. */
static void
fuzz_roundtrip(struct evbuffer *decoded)
{
	struct evbuffer	*framed = evbuffer_new(), *copy = evbuffer_new();
	struct evbuffer	*again = evbuffer_new();
	struct run	 run;
	size_t		 len = evbuffer_get_length(decoded);

	if (framed == NULL || copy == NULL || again == NULL ||
	    evbuffer_add(copy, evbuffer_pullup(decoded, -1), len) == -1 ||
	    chunked_frame(framed, copy) == -1 ||
	    chunked_frame_last(framed) == -1)
		__builtin_trap();
	fuzz_decode(evbuffer_pullup(framed, -1), evbuffer_get_length(framed),
	    1, 0, again, &run);
	if (run.r != CHUNKED_DONE || run.used != evbuffer_get_length(framed) ||
	    evbuffer_get_length(again) != len || (len > 0 &&
	    memcmp(evbuffer_pullup(again, -1), evbuffer_pullup(decoded, -1),
	    len) != 0))
		__builtin_trap();
	evbuffer_free(framed);
	evbuffer_free(copy);
	evbuffer_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*whole = evbuffer_new(), *split = evbuffer_new();
	struct run	 a, b;
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	size_t		 i, len;

	if (whole == NULL || split == NULL)
		__builtin_trap();
	for (i = 0; i < size; i++)	/* FNV-1a: splits follow the input */
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;
	fuzz_decode(data, size, seed, 0, whole, &a);
	fuzz_decode(data, size, seed, 1 + seed % 17, split, &b);
	len = evbuffer_get_length(whole);
	if (a.r != b.r || a.used != b.used || a.bytes != b.bytes ||
	    (a.reason == NULL) != (b.reason == NULL) ||
	    (a.reason != NULL && strcmp(a.reason, b.reason) != 0) ||
	    len != evbuffer_get_length(split) || len != a.bytes ||
	    (len > 0 && memcmp(evbuffer_pullup(whole, -1),
	    evbuffer_pullup(split, -1), len) != 0))
		__builtin_trap();
	if (a.r == CHUNKED_DONE)
		fuzz_roundtrip(whole);
	evbuffer_free(whole);
	evbuffer_free(split);
	return 0;
}
