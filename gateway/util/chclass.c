/*
 * The character class table (see chclass.h).
 */
#include <string.h>

#include "chclass.h"

unsigned char	chclass[256];

static void __attribute__((constructor))
chclass_fill(void)
{
	unsigned int	c;

	for (c = 0; c < 256; c++) {
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (alnum || (c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c)))
			chclass[c] |= CH_TCHAR;
		if (alnum || c == '-' || c == '_')
			chclass[c] |= CH_B64URL;
		if (c >= 0x21 && c <= 0x7e && c != '"' && c != ',' &&
		    c != ';' && c != '\\')
			chclass[c] |= CH_COOKIE;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			chclass[c] |= CH_CTL;
	}
}
