/*
 * libFuzzer target: the Accept-Language parser (acceptlang.c).  Any
 * header picks one of the languages offered, the default when it names
 * none; the input's first byte chooses the default.  Also the same header
 * through the catalogue's pick (catalog.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acceptlang.h"
#include "catalog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tags[] = { "en", "de", "fr", "pt-br",
	    "zh-hant-tw" };
	char	*hdr;
	size_t	 def, got;

	if (size == 0)
		return 0;
	def = data[0] % 5;
	if ((hdr = malloc(size)) == NULL)
		return 0;
	memcpy(hdr, data + 1, size - 1);
	hdr[size - 1] = '\0';
	got = acceptlang_pick(hdr, tags, 5, def);
	if (got >= 5)
		abort();
	/* a header without a letter cannot name a language */
	if (strpbrk(hdr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ*")
	    == NULL && got != def)
		abort();
	got = catalog_pick(catalog_default(), hdr, def % 2);
	if (got >= 2)
		abort();
	free(hdr);
	return 0;
}
