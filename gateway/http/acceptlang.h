/*
 * Accept-Language (RFC 9110 section 12.5.4): which of the languages the
 * gateway's pages are written in a request prefers.  A pure function over
 * the header value: language ranges with q-values, q=0 excluding, "*"
 * matching any language, and a range matching a language it extends
 * ("de-CH" reads "de", RFC 4647 lookup) or that extends it ("de" reads
 * "de-AT", RFC 4647 basic filtering).  Malformed elements are skipped,
 * never an error: a browser's header must not turn a page into a 400.
 */
#ifndef POSTERN_ACCEPTLANG_H
#define POSTERN_ACCEPTLANG_H

#include <stddef.h>

#define ACCEPTLANG_MAX_RANGES	32	/* elements read; the rest ignored */
#define ACCEPTLANG_RANGE_MAX	35	/* bytes of one range (RFC 5646's
					 * longest tags fit) */

/*
 * The index into <tags> (<ntags> lowercase language tags such as "en",
 * "de", "pt-br") of the language header value <hdr> prefers: the highest
 * q-value above 0, on a tie the range written first, then <def>.  When
 * the header is absent (NULL), empty, malformed or names none of them,
 * <def>.
 */
size_t	acceptlang_pick(const char *hdr, const char *const *tags,
	    size_t ntags, size_t def);

#endif
