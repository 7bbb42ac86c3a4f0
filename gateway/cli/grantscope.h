/*
 * The scopes `postern apikey create` may give: those a route of an app
 * that can serve the org grants (a route accepting API keys that
 * requires the scope, in an app whose `org:` is that org or unset), and
 * the gateway's own ("shares:create", "domains:manage").  A scope nothing
 * grants would make a key that opens nothing: refused, with the closest
 * grantable scope by edit distance as a suggestion.
 */
#ifndef POSTERN_GRANTSCOPE_H
#define POSTERN_GRANTSCOPE_H

#include <stddef.h>

struct cli;

/* 0 if every one of the <n> <scopes> is grantable in <org> under c->cfg,
 * else 2 with the message shown. */
int	grantscope_check(struct cli *c, const char *org,
	    const char *const *scopes, size_t n);

#endif
