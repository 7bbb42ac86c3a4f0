/*
 * libFuzzer target: bearer tokens and share-link parameters (token.c) and
 * the share path check (grant.c): the parts of an API-key or share-link
 * request an attacker writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authgrant.h"
#include "grant.h"
#include "token.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *rest = NULL, id[TOKEN_IDLEN + 1], hash[TOKEN_HASHLEN + 1];
	char	 val[TOKEN_LEN + 2], *again = NULL;
	const char *tok;
	size_t	 len;
	int	 rc;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (token_parse("pk", (const char *)data, size, id, hash) == 0 &&
	    (size != TOKEN_LEN || !token_id_valid(id) ||
	    strlen(hash) != TOKEN_HASHLEN))
		abort();
	rc = token_query_take(s, AUTHGRANT_PARAM, val, sizeof(val), &rest);
	if (rc == 1) {
		if (strlen(val) >= sizeof(val) || strchr(val, '%') != NULL)
			abort();
		/* Taken once is gone: the rest never carries it again. */
		if (rest != NULL && token_query_take(rest, AUTHGRANT_PARAM,
		    val, sizeof(val), &again) != 0)
			abort();
	} else if (rest != NULL)
		abort();
	free(rest);
	if (grant_path_valid(s) == 0 && (s[0] != '/' ||
	    strstr(s, "//") != NULL || strstr(s, "/../") != NULL ||
	    strpbrk(s, "%;?# \r\n") != NULL))
		abort();
	(void)grant_methods_parse(s);
	/* A Bearer token the gateway reads is one it never forwards. */
	if ((tok = token_bearer(s, &len)) != NULL && len >= 3 &&
	    strncmp(tok, "pk_", 3) == 0 &&
	    !authgrant_header_ours("Authorization", s))
		abort();
	free(s);
	return 0;
}
