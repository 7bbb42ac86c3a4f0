/*
 * libFuzzer target: what an OpenID provider sends back before any key is
 * trusted: the discovery document's checks (oidc.c, oidc_doc_parse) and
 * the cache headers of an answer (httpc.c).  The first byte picks one.
 * Invariants: an accepted document has the configured issuer, every
 * required endpoint is one httpc accepts, and its algs are within
 * JWS_ALGS_ALL; a refused one leaves nothing allocated; a cache lifetime
 * is -1 or not negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/outbound/httpc.c"
#include "../../gateway/outbound/oidc.c"

#define ISS	"https://idp.example.com"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_doc(const char *s, size_t len)
{
	struct oidc_doc	d;

	if (oidc_doc_parse(s, len, ISS, &d) != NULL) {
		if (d.issuer != NULL || d.authz != NULL || d.token != NULL ||
		    d.jwks_uri != NULL || d.end_session != NULL)
			abort();
		return;
	}
	if (strcmp(d.issuer, ISS) != 0 || !httpc_url_allowed(d.authz) ||
	    !httpc_url_allowed(d.token) || !httpc_url_allowed(d.jwks_uri) ||
	    (d.end_session != NULL && !httpc_url_allowed(d.end_session)) ||
	    d.algs == 0 || (d.algs & ~JWS_ALGS_ALL) != 0 ||
	    strlen(d.declared) >= sizeof(d.declared))
		abort();
	oidc_doc_clear(&d);
}

static void
fuzz_headers(const char *s, size_t len)
{
	struct httpc_cache	 c;
	const char		*nl;
	size_t			 n;
	int64_t			 age;

	httpc_cache_init(&c);
	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl != NULL ? (size_t)(nl - s) + 1 : len;
		httpc_cache_header(&c, s, n);
		s += n;
		len -= n;
	}
	age = httpc_cache_max_age(&c, INT64_C(1700000000));
	if (age < -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size < 1 || (s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] & 1)
		fuzz_headers(s, size - 1);
	else
		fuzz_doc(s, size - 1);
	free(s);
	return 0;
}
