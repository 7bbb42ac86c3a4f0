/*
 * What oidc.c and oidctoken.c share: the cache object and its list of
 * token requests under way.  Nothing else includes this.
 */
#ifndef POSTERN_OIDC_INT_H
#define POSTERN_OIDC_INT_H

#include <stddef.h>
#include <sys/queue.h>

#include "oidc.h"

struct event_base;
struct httpc;
struct oidc_entry;

/* A token request; owned by its oidc's list until it is answered. */
struct oidc_treq {
	TAILQ_ENTRY(oidc_treq)	 entry;
	struct oidc		*o;		/* NULL: oidc_free()'d */
	oidc_token_cb		 cb;
	void			*arg;
	char			 err[64];
};

struct oidc {
	struct httpc		*h;
	struct event_base	*base;
	TAILQ_HEAD(oidc_entries, oidc_entry) entries;
	size_t			 n;
	TAILQ_HEAD(, oidc_treq)	 treqs;
	int			 freeing;	/* in oidc_free() */
};

/*
 * oidc_free(): every token request under way is answered "oidc_freed"
 * now; its late HTTP answer only frees it.
 */
void	oidc_token_drop(struct oidc *o);

#endif
