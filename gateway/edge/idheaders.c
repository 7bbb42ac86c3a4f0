/*
 * identity_headers on the way out (see idheaders.h).  The values are the
 * ones X-Postern-* carry, checked when the identity was made: no CR, LF
 * or control byte can reach a header line from here.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "confapp.h"
#include "exchange.h"
#include "idheaders.h"

/* The value of <v> for <u> into <buf> (<size> bytes), or NULL: none. */
static const char *
idheaders_value(enum config_idvalue v, const struct exchange_upstream *u,
    char *buf, size_t size)
{
	int	n;

	switch (v) {
	case CONFIG_ID_USER:
		return u->user;
	case CONFIG_ID_EMAIL:
		return u->email;
	case CONFIG_ID_ORG:
		return u->org;
	case CONFIG_ID_ROLE:
		return u->role;
	case CONFIG_ID_ORG_ROLE:
		if (u->org == NULL || u->role == NULL)
			return NULL;
		n = snprintf(buf, size, "%s:%s", u->org, u->role);
		return n > 0 && (size_t)n < size ? buf : NULL;
	case CONFIG_ID_AUTH:
		return u->auth;
	}
	return NULL;
}

int
idheaders_write(struct evbuffer *out, const struct config_app *app,
    const struct exchange_upstream *u, int all)
{
	char		 buf[200];
	const char	*v;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < app->nidheaders; i++) {
		v = u->user == NULL ? NULL : idheaders_value(
		    app->idheaders[i].value, u, buf, sizeof(buf));
		if (v != NULL || all)
			rc |= evbuffer_add_printf(out, "%s: %s\r\n",
			    app->idheaders[i].name, v != NULL ? v : "") < 0;
	}
	return rc ? -1 : 0;
}

int
idheaders_named(const struct config_app *app, const char *name)
{
	size_t	i;

	for (i = 0; i < app->nidheaders; i++)
		if (strcasecmp(app->idheaders[i].name, name) == 0)
			return 1;
	return 0;
}
