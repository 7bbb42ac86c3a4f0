/*
 * Reference-counted strings, for a value built once and sent with many
 * requests (a reused identity assertion).  One worker thread only: the
 * count is not atomic.
 */
#ifndef POSTERN_RCSTR_H
#define POSTERN_RCSTR_H

#include <stddef.h>

struct rcstr {
	unsigned int	 refs;
	size_t		 len;
	char		 s[];		/* NUL-terminated */
};

/* A copy of <s> (<len> bytes) with one reference; NULL on out of memory. */
struct rcstr	*rcstr_new(const char *s, size_t len);
/* One more reference to <r> (NULL-safe); returns <r>. */
struct rcstr	*rcstr_ref(struct rcstr *r);
/* Drop one reference; the last frees it.  NULL-safe. */
void		 rcstr_unref(struct rcstr *r);

#endif
