/*
 * What the parts of the store share (not for other modules): the copy of
 * the settings it was given and the helpers that read them.  store.c holds
 * these helpers, key names and script digests; storeasync.c the workers'
 * connections; storesync.c the command-line tools' connection.
 */
#ifndef POSTERN_STORE_INT_H
#define POSTERN_STORE_INT_H

#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>

struct store_settings;

/* Where and how to reach Redis: a copy of struct store_settings. */
struct store_conf {
	char		*host;		/* numeric address, or NULL for unix */
	int		 port;
	char		*unixpath;	/* or NULL */
	char		*text;		/* as configured, for messages */
	char		*username;	/* ACL user or NULL */
	char		*password;	/* NULL without password_file */
	size_t		 passwordlen;
	unsigned int	 db;
	char		*prefix;
	uint64_t	 connect_timeout;	/* ms */
	uint64_t	 command_timeout;	/* ms */
};

/*
 * Copy <set> into <sc> (reading the password file).  0, or -1 with a
 * reason in <err> (then <sc> holds nothing to free).
 */
int		store_conf_init(struct store_conf *sc,
		    const struct store_settings *set, char *err,
		    size_t errlen);
/* Free <sc>'s strings, wiping the password. */
void		store_conf_free(struct store_conf *sc);
/* Warn once per process that Redis answered before AUTH. */
void		store_warn_unauthenticated(const char *addr);

#endif
