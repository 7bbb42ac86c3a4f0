/*
 * The webhooks: endpoints of the configuration (outbound/webhook.c).
 */
#ifndef POSTERN_CONFWEBHOOK_H
#define POSTERN_CONFWEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "confaddr.h"

/* One webhooks: endpoint (webhook.h). */
struct config_webhook {
	char		*url;
	struct config_names events;	/* audit actions, or "*" */
	unsigned char	 secret[64];	/* from secret_file or secret */
	char		*sealed;	/* secret: "sealed:v1...", opened at load */
	size_t		 secretlen;
	uint64_t	 timeout;	/* ms per attempt */
	uint64_t	 retries;
	uint64_t	 backoff;	/* ms before the first retry */
	struct config_cidr *allow;	/* allow_private */
	size_t		 nallow;
	int		 allow_http;
	char		*ca_file;
};

#endif
