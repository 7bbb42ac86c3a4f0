/*
 * libFuzzer target: arbitrary bytes as a client's stream.  The head goes
 * through request_parse_head(), the rest through request_parse_body() in
 * small steps, then the next pipelined request, as client.c drives them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_limits	 lim;
	struct request		*req;
	struct evbuffer		*in, *out;
	enum request_result	 r;
	int			 round;

	request_limits_from(&lim, NULL);
	lim.max_request_line = 1024;
	lim.max_header_size = 4096;
	lim.max_headers = 32;
	lim.max_body_size = 65536;
	in = evbuffer_new();
	out = evbuffer_new();
	if (in == NULL || out == NULL)
		goto out;
	evbuffer_add(in, data, size);
	for (round = 0; round < 4; round++) {
		if ((req = request_new(&lim)) == NULL)
			break;
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
		request_free(req);
		if (r != REQUEST_DONE)
			break;
		evbuffer_drain(out, evbuffer_get_length(out));
	}
out:
	if (in != NULL)
		evbuffer_free(in);
	if (out != NULL)
		evbuffer_free(out);
	return 0;
}
