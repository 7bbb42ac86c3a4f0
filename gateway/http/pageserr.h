/*
 * The bodies of the gateway's error answers, for pages_send(): one JSON
 * shape for every status ({"error", "message", "request_id"}; the codes
 * are listed in docs/errors.md) and one HTML page on the frame of the
 * sign-in pages (pages_begin()), branded by the response's frame.
 */
#ifndef POSTERN_PAGESERR_H
#define POSTERN_PAGESERR_H

struct evbuffer;
struct pages_resp;

/* Append the JSON error body of <r>; 0, or -1 if <out> could not grow. */
int	pages_error_json(struct evbuffer *out, const struct pages_resp *r);
/* Append the HTML error page of <r>, its style carrying <nonce>; 0/-1. */
int	pages_error_html(struct evbuffer *out, const struct pages_resp *r,
	    const char *nonce);

#endif
