/*
 * The reason-code table (see reasons.h), compiled from reasons.def.  The
 * table is sorted by code (tests/unit/reasons.py checks it), so a lookup
 * is a binary search with no set-up at start.
 */
#include <stdlib.h>
#include <string.h>

#include "reasons.h"

struct reason {
	const char	*code;
	const char	*meaning;
};

static const struct reason reasons[] = {
#define REASON(code, meaning)	{ #code, meaning },
#include "reasons.def"
#undef REASON
};

#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

size_t
reason_count(void)
{
	return NREASONS;
}

const char *
reason_code(size_t i)
{
	return i < NREASONS ? reasons[i].code : NULL;
}

const char *
reason_meaning_at(size_t i)
{
	return i < NREASONS ? reasons[i].meaning : NULL;
}

static int
reason_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct reason *)elem)->code);
}

const char *
reason_meaning(const char *code)
{
	const struct reason	*r;

	r = bsearch(code, reasons, NREASONS, sizeof(reasons[0]), reason_cmp);
	return r != NULL ? r->meaning : NULL;
}

int
reason_unknown(const char *s)
{
	const char	*p;

	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return 0;
	return reason_meaning(s) == NULL;
}
