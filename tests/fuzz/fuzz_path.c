/*
 * libFuzzer target: path_normalize() on arbitrary bytes.  Besides memory
 * safety it checks the contract: the result starts with "/", holds no "//",
 * no "\", no dot-segment, and normalising it again changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
path_has_dot_segment(const char *p)
{
	return strstr(p, "/./") != NULL || strstr(p, "/../") != NULL ||
	    (strlen(p) >= 2 && strcmp(p + strlen(p) - 2, "/.") == 0) ||
	    (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum path_error	 e;
	char		*out, *again;

	out = path_normalize((const char *)data, size, &e);
	if (out == NULL)
		return 0;
	if (out[0] != '/' || strstr(out, "//") != NULL ||
	    strchr(out, '\\') != NULL || path_has_dot_segment(out) ||
	    strlen(out) > 3 * size + 1)
		__builtin_trap();
	again = path_normalize(out, strlen(out), &e);
	if (again == NULL || strcmp(again, out) != 0)
		__builtin_trap();
	free(again);
	free(out);
	return 0;
}
