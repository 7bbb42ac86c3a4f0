/* libFuzzer target: return-to URL checks (redirect.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_apps.h"
#include "redirect.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct config cfg = { .apps = fuzz_apps, .napps = FUZZ_NAPPS };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*rd, out[REDIRECT_MAX + 1], org[64];

	if ((rd = malloc(size + 1)) == NULL)
		return 0;
	memcpy(rd, data, size);
	rd[size] = '\0';
	if (redirect_check(&cfg, rd, out, sizeof(out)) == 0) {
		/* Whatever is accepted is same-host or https to our host. */
		if (!((out[0] == '/' && out[1] != '/' && out[1] != '\\') ||
		    strncmp(out, "https://", 8) == 0))
			abort();
		if (strpbrk(out, "\r\n\t \\") != NULL)
			abort();
		/* an org to confirm is one host label: no dot, no colon */
		if (redirect_tenant(&cfg, out, org, sizeof(org)) == 1 &&
		    (strlen(org) >= sizeof(org) || strpbrk(org, ".:/@") !=
		    NULL))
			abort();
	} else if (strcmp(out, "/") != 0) {
		abort();
	}
	free(rd);
	return 0;
}
