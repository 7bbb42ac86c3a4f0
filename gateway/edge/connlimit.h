/*
 * max_connections_per_ip: open client connections counted per source
 * address.  One table is shared by all workers (a connection's worker is
 * the kernel's choice, the limit is per gateway), guarded by a mutex: it
 * is touched on accept and on close only, never per request.  IPv6 peers
 * are counted per full address; unix-socket peers are not counted.
 */
#ifndef POSTERN_CONNLIMIT_H
#define POSTERN_CONNLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

struct connlimit;

/* A counted peer address, kept by the connection until it closes. */
struct connlimit_key {
	int		family;		/* AF_INET, AF_INET6; 0: not counted */
	unsigned char	addr[16];
};

/* A new empty table; NULL on no memory.  connlimit_free() frees it. */
struct connlimit	*connlimit_new(void);
void			 connlimit_free(struct connlimit *);

/*
 * Count one more connection from <sa> unless <max> are already open
 * (<max> 0: no limit, still counted).  Returns 0 with the key to release
 * in <key>, or -1 if over the limit (or out of memory; *<key> is then not
 * counted and needs no release).
 */
int	connlimit_acquire(struct connlimit *, const struct sockaddr *sa,
	    uint64_t max, struct connlimit_key *key);

/* The connection of <key> closed; a key with family 0 is ignored. */
void	connlimit_release(struct connlimit *, struct connlimit_key *key);

#endif
