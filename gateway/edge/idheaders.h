/*
 * An app's identity_headers (confapp.h) on the way out: the mapped
 * headers of a request's identity, for the upstream (proxy mode) or the
 * front proxy (forward-auth answers), and the test that strips client
 * copies of every mapped name.
 */
#ifndef POSTERN_IDHEADERS_H
#define POSTERN_IDHEADERS_H

struct config_app;
struct evbuffer;
struct exchange_upstream;

/*
 * "Name: value\r\n" into <out> for each mapping of <app> that has a value
 * for <u> (none for an anonymous request); with <all>, every mapping, ""
 * for no value (a forward-auth answer: a front proxy copies each name).
 * 0, or -1 if <out> could not grow.
 */
int	idheaders_write(struct evbuffer *out, const struct config_app *app,
	    const struct exchange_upstream *u, int all);

/* 1 if <name> (any case) is one of <app>'s identity_headers. */
int	idheaders_named(const struct config_app *app, const char *name);

#endif
