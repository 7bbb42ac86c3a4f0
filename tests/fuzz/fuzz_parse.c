/*
 * libFuzzer target: the value parsers of parse.c.  The first byte picks
 * the parser, the rest is the NUL-terminated input; a parser that succeeds
 * must leave a consistent result, one that fails a NUL-terminated reason.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_one(unsigned int which, const char *s, char *err)
{
	struct config_addr	 a;
	struct config_cidr	 c;
	struct config_upstream	 u;
	uint64_t		 v;
	int			 b;

	switch (which % 8) {
	case 0:
		(void)parse_duration(s, &v, err, PARSE_ERRLEN);
		break;
	case 1:
		(void)parse_size(s, &v, err, PARSE_ERRLEN);
		break;
	case 2:
		if (parse_addr(s, &a, err, PARSE_ERRLEN) == 0 && a.sslen == 0)
			abort();
		parse_addr_free(&a);
		break;
	case 3:
		if (parse_cidr(s, &c, err, PARSE_ERRLEN) == 0 &&
		    c.bits > (c.family == AF_INET ? 32U : 128U))
			abort();
		break;
	case 4:
		if (parse_url(s, &u, err, PARSE_ERRLEN) == 0 && u.host == NULL)
			abort();
		parse_url_free(&u);
		break;
	case 5:
		(void)parse_host(s, which & 8, err, PARSE_ERRLEN);
		break;
	case 6:
		(void)parse_uint(s, 1, 65535, &v, err, PARSE_ERRLEN);
		(void)parse_bool(s, &b, err, PARSE_ERRLEN);
		break;
	default:
		(void)parse_printable(err, 16, s, 12);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, err[PARSE_ERRLEN];

	if (size < 1 || size > 4096)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	err[0] = '\0';
	fuzz_one(data[0], s, err);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	free(s);
	return 0;
}
