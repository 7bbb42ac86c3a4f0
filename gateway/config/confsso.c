/*
 * Lookups in the sso: section (confsso.h).
 */
#include <string.h>

#include "confsso.h"

const struct config_sso_provider *
config_sso_provider(const struct config_sso *sso, const char *name,
    size_t len)
{
	size_t	i;

	if (sso == NULL)
		return NULL;
	for (i = 0; i < sso->nproviders; i++)
		if (sso->providers[i].name != NULL &&
		    strlen(sso->providers[i].name) == len &&
		    memcmp(sso->providers[i].name, name, len) == 0)
			return &sso->providers[i];
	return NULL;
}
