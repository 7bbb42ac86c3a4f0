/*
 * libFuzzer target: the parsers of password.c and user.c that see
 * untrusted bytes: PHC strings as stored in Redis (maybe imported),
 * UTF-8 length counting of submitted passwords, and email normalisation.
 * Contracts: a parsed PHC string has parameters and lengths in range;
 * verifying against a cheap parsed hash never crashes; a normalised email
 * is lower-case and normalises to itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "user.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_phc(const char *s, size_t len)
{
	struct password_phc	p;

	if (password_phc_parse(s, &p) == -1)
		return;
	if (p.saltlen < 8 || p.saltlen > sizeof(p.salt) || p.hashlen < 8 ||
	    p.hashlen > sizeof(p.hash) || p.iterations < 1 ||
	    p.parallelism < 1 || p.memory_kib < 8 * p.parallelism)
		__builtin_trap();
	/* Only cheap costs: the fuzzer would otherwise ask for gigabytes. */
	if (p.memory_kib <= 256 && p.iterations <= 2 && p.parallelism <= 2 &&
	    password_verify(s, s, len) == PASSWORD_BAD_HASH)
		__builtin_trap();
}

static void
fuzz_email(const char *s)
{
	char	out[USER_EMAILMAX + 1], again[USER_EMAILMAX + 1], why[128];
	size_t	i;

	if (user_email_normalize(s, out, why, sizeof(why)) == -1)
		return;
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			__builtin_trap();
	if (user_email_normalize(out, again, why, sizeof(why)) == -1 ||
	    strcmp(out, again) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;
	long	 n;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_phc(s, size);
	n = password_utf8_len(s, size);
	if (n > (long)size)
		__builtin_trap();
	fuzz_email(s);
	free(s);
	return 0;
}
