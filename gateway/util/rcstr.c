/* Reference-counted strings (see rcstr.h). */
#include <stdlib.h>
#include <string.h>

#include "rcstr.h"

struct rcstr *
rcstr_new(const char *s, size_t len)
{
	struct rcstr	*r;

	if ((r = malloc(sizeof(*r) + len + 1)) == NULL)
		return NULL;
	r->refs = 1;
	r->len = len;
	memcpy(r->s, s, len);
	r->s[len] = '\0';
	return r;
}

struct rcstr *
rcstr_ref(struct rcstr *r)
{
	if (r != NULL)
		r->refs++;
	return r;
}

void
rcstr_unref(struct rcstr *r)
{
	if (r != NULL && --r->refs == 0)
		free(r);
}
