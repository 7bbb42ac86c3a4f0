/* libFuzzer target: urlencoded form parsing (form.c). */
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

	if (form_parse((const char *)data, size, &f, &reason) == -1)
		return 0;
	for (i = 0; i < f.nfields; i++)
		if (form_get(&f, f.fields[i].name) != f.fields[i].value)
			abort();	/* names are unique */
	form_free(&f);
	return 0;
}
