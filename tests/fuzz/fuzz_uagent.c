/*
 * libFuzzer target: User-Agent labels and cleaning (uagent.c).  A label
 * is always one of the fixed names, never a byte of the input; a cleaned
 * header is bounded and printable ASCII only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uagent.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*ua, label[UAGENT_LABEL_MAX], clean[UAGENT_STORE_MAX];
	size_t	 i;

	if ((ua = malloc(size + 1)) == NULL)
		return 0;
	memcpy(ua, data, size);
	ua[size] = '\0';
	uagent_label(ua, label, sizeof(label));
	if (strlen(label) >= sizeof(label) || strpbrk(label, "<>&\"'/") !=
	    NULL || strspn(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz ") != strlen(label))
		abort();
	uagent_clean(ua, clean, sizeof(clean));
	for (i = 0; clean[i] != '\0'; i++)
		if (clean[i] < 0x20 || clean[i] > 0x7e)
			abort();
	if (i >= sizeof(clean) || i > size)
		abort();
	free(ua);
	return 0;
}
