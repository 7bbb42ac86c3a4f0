/*
 * libFuzzer target: what an ACME CA answers (acmejson.c): the directory,
 * an order, an authorization with its challenges, a problem document, a
 * renewalInfo answer (ARI); and the scrubbing of a nonce out of a
 * problem's detail.  The first byte picks one (modulo 5).  Invariants: every URL accepted is one httpc accepts,
 * counts stay within their bounds, tokens are base64url of 1 to 128
 * characters, a problem's type and detail are printable ASCII and
 * NUL-terminated, a scrubbed detail no longer holds the nonce, a
 * renewal window read is not empty and a time picked in it lies in it
 * (or is now, when past); nothing
 * leaks (the _free functions are called on every path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acmeari.h"
#include "acmejson.h"
#include "encode.h"
#include "httpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_printable(const char *s, size_t size)
{
	size_t	i;

	if (memchr(s, '\0', size) == NULL)
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

static void
fuzz_directory(const char *s, size_t len)
{
	struct acme_directory	d;
	char			err[128];

	if (acme_parse_directory(s, len, &d, err, sizeof(err)) == 0 &&
	    (!httpc_url_allowed(d.new_nonce) ||
	    !httpc_url_allowed(d.new_account) ||
	    !httpc_url_allowed(d.new_order) || (d.renewal_info != NULL &&
	    !httpc_url_allowed(d.renewal_info))))
		abort();
	acme_directory_free(&d);
}

static void
fuzz_order(const char *s, size_t len)
{
	struct acme_order	o;
	char			err[128];
	size_t			i;

	if (acme_parse_order(s, len, &o, err, sizeof(err)) == 0) {
		if (o.nauthz == 0 || o.nauthz > ACME_AUTHZ_MAX ||
		    !httpc_url_allowed(o.finalize) ||
		    (o.status == ACME_ST_VALID && o.certificate == NULL))
			abort();
		for (i = 0; i < o.nauthz; i++)
			if (!httpc_url_allowed(o.authz[i]))
				abort();
	}
	acme_order_free(&o);
}

static void
fuzz_authz(const char *s, size_t len)
{
	struct acme_authz	a;
	char			err[128];
	size_t			i, n;

	if (acme_parse_authz(s, len, &a, err, sizeof(err)) == 0) {
		if (a.nchal > ACME_CHAL_MAX)
			abort();
		for (i = 0; i < a.nchal; i++) {
			n = strlen(a.chal[i].token);
			if (!httpc_url_allowed(a.chal[i].url) ||
			    n > ACME_TOKEN_MAX ||
			    strspn(a.chal[i].token, encode_b64url_chars) != n)
				abort();
		}
		fuzz_printable(a.error, sizeof(a.error));
	}
	acme_authz_free(&a);
}

static void
fuzz_problem(const char *s, size_t len)
{
	struct acme_problem	p;
	char			nonce[8];

	acme_parse_problem(s, len, &p);
	fuzz_printable(p.type, sizeof(p.type));
	fuzz_printable(p.detail, sizeof(p.detail));
	fuzz_printable(p.subproblems, sizeof(p.subproblems));
	/* the first bytes as a nonce, as the CA might quote it */
	memcpy(nonce, s, len < 7 ? len : 7);
	nonce[len < 7 ? len : 7] = '\0';
	acme_problem_scrub(&p, nonce);
	if (nonce[0] != '\0' && strstr(p.detail, nonce) != NULL)
		abort();
}

static void
fuzz_renewal_info(const char *s, size_t len)
{
	int64_t		start, end, t, now = 1767225600;	/* 2026 */
	uint64_t	rnd = 0;
	char		err[128];

	if (acme_parse_renewal_info(s, len, &start, &end, err,
	    sizeof(err)) == -1) {
		if (start != 0 || end != 0)
			abort();
		return;
	}
	if (end <= start)
		abort();
	memcpy(&rnd, s, len < sizeof(rnd) ? len : sizeof(rnd));
	t = acme_ari_pick(start, end, now, rnd);
	if (t < now || (t > now && (t < start || t >= end)))
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
	switch (data[0] % 5) {
	case 0:
		fuzz_directory(s, size - 1);
		break;
	case 1:
		fuzz_order(s, size - 1);
		break;
	case 2:
		fuzz_authz(s, size - 1);
		break;
	case 3:
		fuzz_problem(s, size - 1);
		break;
	default:
		fuzz_renewal_info(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
