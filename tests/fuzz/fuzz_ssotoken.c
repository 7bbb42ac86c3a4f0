/*
 * libFuzzer target: the claims of id_tokens and logout tokens
 * (ssotoken.c), which a provider (or whoever holds its key) writes.  The
 * input is parsed as JSON and checked as both kinds of token against fixed
 * expectations.  Invariant: OK implies every field ssotoken.h promises
 * (issuer, audience, times within the window, nonce, sub or sid, jti,
 * lower-cased email) and a reference to the claims; a refusal keeps none.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssotoken.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW	1800000000

static const struct sso_expect E = {
	.issuer = "https://op.example", .client_id = "client-1",
	.nonce = "n-0S6", .now = NOW, .skew = 60, .max_iat_age = 600,
};

/* A NUL-terminated buffer of <n> bytes: a NUL within its bounds. */
#define TERMINATED(b)	(memchr((b), '\0', sizeof(b)) != NULL)

/* abort() unless the fields both kinds of accepted token share hold. */
static void
fuzz_common(json_t *claims, const struct sso_claims *c)
{
	const char	*p;
	json_t		*aud = json_object_get(claims, "aud");

	if (c->raw != claims || !TERMINATED(c->sub) ||
	    !TERMINATED(c->email) || !TERMINATED(c->hd) ||
	    !TERMINATED(c->sid) || !TERMINATED(c->jti) ||
	    !TERMINATED(c->name) || !TERMINATED(c->acr))
		abort();
	if (strcmp(json_string_value(json_object_get(claims, "iss")),
	    E.issuer) != 0 || aud == NULL)
		abort();
	if (json_is_string(aud) && strcmp(json_string_value(aud),
	    E.client_id) != 0)
		abort();
	if (c->iat > NOW + E.skew || c->iat < NOW - E.max_iat_age)
		abort();
	for (p = c->email; *p != '\0'; p++)
		if (isupper((unsigned char)*p))
			abort();
}

static void
fuzz_id(json_t *claims)
{
	struct sso_claims	c;
	const char		*n;

	if (sso_check_id_token(claims, &E, &c) != SSO_TOKEN_OK) {
		if (c.raw != NULL)
			abort();
		return;
	}
	fuzz_common(claims, &c);
	n = json_string_value(json_object_get(claims, "nonce"));
	if (c.sub[0] == '\0' || c.exp <= NOW - E.skew || n == NULL ||
	    strcmp(n, E.nonce) != 0)
		abort();
	sso_claims_clear(&c);
	if (c.raw != NULL)
		abort();
}

static void
fuzz_logout(json_t *claims)
{
	struct sso_claims	c;
	json_t			*ev;

	if (sso_check_logout_token(claims, &E, &c) != SSO_TOKEN_OK) {
		if (c.raw != NULL)
			abort();
		return;
	}
	fuzz_common(claims, &c);
	ev = json_object_get(claims, "events");
	if (json_object_get(claims, "nonce") != NULL || c.jti[0] == '\0' ||
	    (c.sub[0] == '\0' && c.sid[0] == '\0') || !json_is_object(
	    json_object_get(ev, "http://schemas.openid.net/event/"
	    "backchannel-logout")))
		abort();
	sso_claims_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*claims;

	claims = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (claims == NULL)
		return 0;
	fuzz_id(claims);
	fuzz_logout(claims);
	/* every reference taken was dropped (null, true, false: no count) */
	if ((json_is_object(claims) || json_is_array(claims)) &&
	    claims->refcount != 1)
		abort();
	json_decref(claims);
	(void)sso_token_reason(SSO_TOKEN_EVENTS);
	return 0;
}
