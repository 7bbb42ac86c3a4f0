/* libFuzzer target: Cookie header lookup and stripping (cookie.c). */
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
	free(hdr);
	return 0;
}
