/*
 * libFuzzer target: arbitrary bytes as a client's stream.  The head goes
 * through request_parse_head(), the rest through request_parse_body() in
 * small steps, then the next pipelined request, as client.c drives them:
 * on the same request object reset (request_reset(), as a worker reuses
 * ended requests), so that nothing of one head leaks into the next.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "request.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Made once: the buffers are emptied after each input, not remade. */
static struct request_limits	 lim;
static struct evbuffer		*in, *out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	request_limits_defaults(&lim);
	lim.max_request_line = 1024;
	lim.max_header_size = 4096;
	lim.max_headers = 32;
	lim.max_body_size = 65536;
	if ((in = evbuffer_new()) == NULL || (out = evbuffer_new()) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request		*req;
	enum request_result	 r;
	int			 round;

	evbuffer_add(in, data, size);
	if ((req = request_new(&lim)) == NULL)
		abort();
	for (round = 0; round < 4; round++) {
		if (round > 0)
			request_reset(req, &lim);
		r = request_parse_head(req, in);
		while (r == REQUEST_DONE && !req->complete) {
			size_t before = evbuffer_get_length(in);

			r = request_parse_body(req, in, out, 7);
			if (r == REQUEST_MORE && evbuffer_get_length(in) == before)
				break;
		}
		if (r == REQUEST_DONE && req->path != NULL &&
		    (req->path[0] != '/' || strstr(req->path, "//") != NULL))
			__builtin_trap();
		/* every string of the head is in the arena, NUL-terminated */
		if (r == REQUEST_DONE && req->nheaders > 0 &&
		    (req->headers[0].name < req->arena || req->headers[0].name >=
		    req->arena + req->arena_len))
			__builtin_trap();
		if (r != REQUEST_DONE)
			break;
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	request_free(req);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_drain(out, evbuffer_get_length(out));
	return 0;
}
