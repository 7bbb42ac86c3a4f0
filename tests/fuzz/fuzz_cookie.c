/*
 * libFuzzer target: Cookie header lookup and stripping, and the check of
 * upstream Set-Cookie values (cookie.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "__Host-postern",
	    "__Host-postern-csrf", NULL };
	char	*hdr, *out, v[80];
	int	 err;

	if ((hdr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	if (cookie_get(hdr, "__Host-postern", v, sizeof(v)) == COOKIE_FOUND &&
	    strlen(v) >= sizeof(v))
		abort();
	out = cookie_strip(hdr, names, &err);
	/* What is stripped must be gone: nothing left to find. */
	if (out != NULL && cookie_get(out, "__Host-postern", v, sizeof(v)) !=
	    COOKIE_ABSENT)
		abort();
	free(out);
	/* A Set-Cookie value that starts with one of ours is always caught,
	 * whatever follows. */
	if (strncmp(hdr, "__Host-postern=", 15) == 0 && !cookie_set_ours(hdr))
		abort();
	(void)cookie_name_ours(hdr, size);
	free(hdr);
	return 0;
}
