/*
 * libFuzzer target: the stored audit lines `postern audit verify` reads
 * back from Redis (an intruder may have written them).  Nothing may
 * crash, and no line verifies unless its hash is right.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "audit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char zero[] = "000000000000000000000000000000000000000"
	    "0000000000000000000000000";
	char		*s, hash[AUDIT_HASHLEN + 1];
	const char	*why;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (audit_check_line(s, 1, zero, hash, &why) == 0 &&
	    (strncmp(s, "{\"seq\":\"1\",", 11) != 0 ||
	    strstr(s, hash) == NULL))
		abort();
	free(s);
	return 0;
}
