/*
 * The server.listen and tls.certificates entries of the configuration.
 */
#ifndef POSTERN_CONFLISTEN_H
#define POSTERN_CONFLISTEN_H

#include "confaddr.h"

struct config_listen {
	struct config_addr addr;
	int		tls;		/* 1: HTTPS; 0: plain HTTP */
	int		redirect;	/* plain only: 1 = redirect to HTTPS */
	int		forward_auth;	/* mode: forward_auth (docs/forward-auth.md):
					 * decisions for a front proxy */
	int		acme;		/* tls: { acme: true }: the apps' hosts
					 * get certificates from acme: */
	struct config_pos acme_pos;	/* of that acme: key, for messages */
};

struct config_cert {
	char		*cert_file;	/* PEM chain, resolved path */
	char		*key_file;	/* PEM key, mode 0600 or stricter */
};

#endif
