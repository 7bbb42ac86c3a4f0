/* libFuzzer target: urlencoded form parsing and the Content-Type check
 * (form.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form	 f;
	const char	*reason;
	size_t		 i;
	char		*ct;

	/* The Content-Type check reads a NUL-terminated header value. */
	if ((ct = malloc(size + 1)) != NULL) {
		memcpy(ct, data, size);
		ct[size] = '\0';
		(void)form_content_type_ok(ct);
		free(ct);
	}
	if (form_parse((const char *)data, size, &f, &reason) == -1)
		return 0;
	for (i = 0; i < f.nfields; i++)
		if (form_get(&f, f.fields[i].name) != f.fields[i].value)
			abort();	/* names are unique */
	form_free(&f);
	return 0;
}
