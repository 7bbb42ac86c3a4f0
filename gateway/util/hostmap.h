/*
 * A map from host names (lower case, at most 253 bytes) to pointers: a
 * sorted array searched in O(log n), for the tables the TLS handshake and
 * the request path read at run time (certstore.h, domainreg.h).  No
 * locking: the owner guards it.  Lookups allocate nothing.
 */
#ifndef POSTERN_HOSTMAP_H
#define POSTERN_HOSTMAP_H

#include <stddef.h>

#define HOSTMAP_NAMELEN	254	/* 253 bytes and the NUL */

struct hostmap_item {
	char	 host[HOSTMAP_NAMELEN];
	void	*val;
};

/* Zero-initialised before use. */
struct hostmap {
	struct hostmap_item	*v;	/* sorted by host */
	size_t			 n, cap;
};

/*
 * <host> in lower case (ASCII) into <out>; 0, or -1 if it is empty or
 * longer than 253 bytes.
 */
int	hostmap_name(const char *host, char out[HOSTMAP_NAMELEN]);
/* The value of <name> (as hostmap_name() makes it), or NULL. */
void	*hostmap_get(const struct hostmap *m, const char *name);
/*
 * The value slot of <name>, added (holding NULL) if missing; NULL when
 * out of memory.  Valid until the map changes.
 */
void	**hostmap_slot(struct hostmap *m, const char *name);
/* Remove <name>; its value (for the caller to free), or NULL. */
void	*hostmap_remove(struct hostmap *m, const char *name);
/* Free the array, calling <fn> (if not NULL) on each value. */
void	 hostmap_clear(struct hostmap *m, void (*fn)(void *));

#endif
