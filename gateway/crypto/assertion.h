/*
 * The identity assertion sent upstream in X-Postern-Assertion: an ES256 JWT
 * (header typ "postern-assertion+jwt", kid; claims iss, aud = app name,
 * sub, email, org, role, auth, amr, iat, exp, jti) signed with the gateway's
 * current key, verifiable with any JWT library against the keys published
 * at /.postern/jwks.json.  The explicit typ (RFC 8725 3.11) keeps a verifier
 * that checks it from taking another JWT signed with the same key for an
 * assertion.  Previous keys stay published (not used for signing) during a
 * rotation grace period.
 */
#ifndef POSTERN_ASSERTION_H
#define POSTERN_ASSERTION_H

#include <stddef.h>
#include <stdint.h>

/* The JWS header's typ (RFC 8725 3.11: media type without application/). */
#define ASSERTION_TYP	"postern-assertion+jwt"
/* At most this many amr values (RFC 8176), plus a NULL. */
#define ASSERTION_AMR_MAX	3

struct signer;

/* Who the request is from; NULL members are left out of the JWT. */
struct assertion_claims {
	const char	*sub;		/* user id, API key id, share id */
	const char	*email;
	const char	*org;
	const char	*role;
	const char	*auth;		/* session | apikey | share */
	const char	*scope;		/* API keys: "s1 s2", else NULL */
	/* RFC 8176 methods, NULL-terminated; NULL or empty: no amr claim */
	const char	*amr[ASSERTION_AMR_MAX + 1];
};

/*
 * The amr values of a session signed in with <method> ("password",
 * "magic", ...) that passed a second factor if <mfa>: "pwd" or "email"
 * for the first, "otp" and "mfa" for the second.  An unknown method
 * contributes nothing, so a verifier that requires a value is never told
 * more than the gateway knows.  Fills <amr> (NULL-terminated).
 */
void		 assertion_session_amr(const char *method, int mfa,
		    const char *amr[ASSERTION_AMR_MAX + 1]);

/*
 * Load the signing key <key_file> (PEM, EC P-256, no group/world access)
 * and the <nprev> previous public or private keys that stay in the JWKS.
 * Returns the signer, or NULL with a reason in <err>.
 */
struct signer	*assertion_signer_load(const char *key_file,
		    char *const *prev_files, size_t nprev, char *err,
		    size_t errlen);
void		 assertion_signer_free(struct signer *);
/* The JWKS document ({"keys":[...]}), built once at load. */
const char	*assertion_jwks(const struct signer *);
/* The kid of the current signing key (RFC 7638 thumbprint). */
const char	*assertion_kid(const struct signer *);

/*
 * Sign an assertion about <c> for audience <aud> from issuer <iss>, valid
 * for <ttl> seconds (at most 60) from <now>.  Returns a JWT the caller
 * frees with free(), or NULL: the caller must then answer 500 rather than
 * forward the request without an assertion.
 */
char		*assertion_sign(const struct signer *, const struct
		    assertion_claims *c, const char *aud, const char *iss,
		    unsigned int ttl, int64_t now);

/*
 * Write a new P-256 private key to <path> (mode 0600, refusing to
 * overwrite).  Returns 0, or -1 with a reason in <err>.
 */
int		 assertion_key_generate(const char *path, char *err,
		    size_t errlen);

#endif
