/*
 * Small value types every configuration section uses: addresses,
 * network prefixes, positions in a file, lists of names.
 */
#ifndef POSTERN_CONFADDR_H
#define POSTERN_CONFADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* An address as written ("0.0.0.0:443", "[::1]:8443", "unix:/run/x.sock")
 * and as resolved at load time. */
struct config_addr {
	char			*text;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

/* A network prefix of trusted_proxies, e.g. 10.0.0.0/8 or ::1/128. */
struct config_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network byte order, host bits zero */
	unsigned int	bits;
};

/* A one-based line and column in a file, for messages. */
struct config_pos {
	size_t		line;
	size_t		col;
};

/* A list of names (roles, org slugs). */
struct config_names {
	char		**v;
	size_t		 n;
};
/* 1 if <s> is in <v>. */
int	config_names_has(const struct config_names *v, const char *s);

#endif
