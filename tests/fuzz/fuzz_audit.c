/*
 * libFuzzer target: the stored audit lines `postern audit verify` reads
 * back from Redis (an intruder may have written them), and the outbox
 * lines a gateway takes for its webhooks.  Nothing may crash, no line
 * verifies unless its hash is right, and an action read from a line is a
 * non-empty run of [a-z_] that fits.
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
	char		*s, hash[AUDIT_HASHLEN + 1], act[16];
	const char	*why;
	size_t		 i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (audit_check_line(s, 1, zero, hash, &why) == 0 &&
	    (strncmp(s, "{\"seq\":\"1\",", 11) != 0 ||
	    strstr(s, hash) == NULL))
		abort();
	if (audit_line_action(s, act, sizeof(act)) == 0) {
		if (act[0] == '\0' || strlen(act) >= sizeof(act))
			abort();
		for (i = 0; act[i] != '\0'; i++)
			if ((act[i] < 'a' || act[i] > 'z') && act[i] != '_')
				abort();
	}
	free(s);
	return 0;
}
