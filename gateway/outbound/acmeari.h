/*
 * ACME Renewal Information (ARI, RFC 9773): the CA says when a
 * certificate should be renewed.  The certificate's identifier for the
 * renewalInfo URL and the order's "replaces", the choice of a time in the
 * suggested window, and how long to wait before asking again.  Pure
 * functions; acmehost.c does the fetching, acmejson.h the parsing.
 */
#ifndef POSTERN_ACMEARI_H
#define POSTERN_ACMEARI_H

#include <stddef.h>
#include <stdint.h>

#define ACME_ARI_CERTID_MAX	256	/* bytes of a certID, NUL included */
#define ACME_ARI_WAIT		21600	/* s between asks without Retry-After */
#define ACME_ARI_WAIT_MIN	60	/* a shorter Retry-After is raised */
#define ACME_ARI_WAIT_MAX	86400	/* a longer one is cut */
#define ACME_ARI_FAIL_WAIT	3600	/* s after a failed ask */

/*
 * The certID (RFC 9773 4.1) of the leaf, the first certificate of PEM
 * <chain>: base64url of its Authority Key Identifier's keyIdentifier, ".",
 * base64url of the DER content octets of its serial number (no padding).
 * 0, or -1 when the chain does not parse, the leaf has no AKI key
 * identifier, or <size> is too small.
 */
int	acme_ari_certid(const char *chain, char *out, size_t size);
/*
 * When to renew, for the window [<start>, <end>) at <now>: <start> plus
 * <rnd> modulo the window's length (RFC 9773 4.3: a uniform random time
 * in it); a time already past is <now>.
 */
int64_t	acme_ari_pick(int64_t start, int64_t end, int64_t now, uint64_t rnd);
/*
 * Seconds before asking again after an answer with Retry-After
 * <retry_after> (-1: none): ACME_ARI_WAIT, or it within [WAIT_MIN,
 * WAIT_MAX].
 */
int64_t	acme_ari_wait(int64_t retry_after);

#endif
