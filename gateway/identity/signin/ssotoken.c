/*
 * id_token and logout token claim checks (see ssotoken.h).  Every claim is
 * type-checked before use: a NumericDate must be a JSON number, an
 * identifier a string without NUL that fits its buffer, so a token cannot
 * smuggle "exp": "9999999999" or "sub": "a\u0000b" past a check.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ssotoken.h"

#define SSO_BCL_EVENT	"http://schemas.openid.net/event/backchannel-logout"
/* NumericDates beyond this are refused (JSON numbers exact in a double). */
#define SSO_DATE_MAX	9007199254740991.0

static const char *const sso_token_reasons[] = {
	[SSO_TOKEN_OK] = "ok",
	[SSO_TOKEN_ISSUER] = "sso_token_issuer",
	[SSO_TOKEN_AUDIENCE] = "sso_token_audience",
	[SSO_TOKEN_AZP] = "sso_token_azp",
	[SSO_TOKEN_EXPIRED] = "sso_token_expired",
	[SSO_TOKEN_NOT_YET] = "sso_token_not_yet",
	[SSO_TOKEN_IAT] = "sso_token_iat",
	[SSO_TOKEN_NONCE] = "sso_token_nonce",
	[SSO_TOKEN_CLAIMS] = "sso_token_claims",
	[SSO_TOKEN_EVENTS] = "sso_token_events",
};

const char *
sso_token_reason(enum sso_token_status st)
{
	if ((size_t)st >= sizeof(sso_token_reasons) /
	    sizeof(sso_token_reasons[0]))
		return "sso_token_claims";
	return sso_token_reasons[st];
}

void
sso_claims_clear(struct sso_claims *c)
{
	if (c == NULL)
		return;
	json_decref(c->raw);
	OPENSSL_cleanse(c, sizeof(*c));
	c->raw = NULL;
}

/* 1 if JSON string <v> is exactly <s> (no embedded NUL). */
static int
sso_str_eq(json_t *v, const char *s)
{
	return json_is_string(v) && json_string_length(v) == strlen(s) &&
	    memcmp(json_string_value(v), s, strlen(s)) == 0;
}

/*
 * Copy the optional string claim <name> into <buf> (<size> bytes), "" if
 * absent.  -1 if it is not a string, holds a NUL, is empty when <required>
 * or does not fit (unless <cut>: then cut at a UTF-8 character boundary).
 */
static int
sso_copy(json_t *claims, const char *name, char *buf, size_t size,
    int required, int cut)
{
	json_t		*v = json_object_get(claims, name);
	const char	*s;
	size_t		 n;

	buf[0] = '\0';
	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (strlen(s) != n || (required && n == 0))
		return -1;
	if (n >= size) {
		if (!cut)
			return -1;
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/*
 * The NumericDate claim <name> into *<out>: 0, 1 if absent (*<out> 0), -1
 * if it is not a JSON number or out of range.  Fractions are dropped.
 */
static int
sso_date(json_t *claims, const char *name, int64_t *out)
{
	json_t	*v = json_object_get(claims, name);
	double	 d;

	*out = 0;
	if (v == NULL)
		return 1;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!isfinite(d) || d < 0 || d > SSO_DATE_MAX)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* iss, aud and azp (OpenID Connect Core 1.0 3.1.3.7 steps 2 to 5). */
static enum sso_token_status
sso_check_party(json_t *claims, const struct sso_expect *e)
{
	json_t	*aud = json_object_get(claims, "aud");
	json_t	*azp = json_object_get(claims, "azp"), *v;
	size_t	 i, found = 0;

	if (!sso_str_eq(json_object_get(claims, "iss"), e->issuer))
		return SSO_TOKEN_ISSUER;
	if (json_is_string(aud))
		found = sso_str_eq(aud, e->client_id);
	else if (json_is_array(aud)) {
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v))
				return SSO_TOKEN_CLAIMS;
			found |= sso_str_eq(v, e->client_id);
		}
	} else if (aud != NULL)
		return SSO_TOKEN_CLAIMS;
	if (!found)
		return SSO_TOKEN_AUDIENCE;
	if (azp != NULL && !json_is_string(azp))
		return SSO_TOKEN_CLAIMS;
	if (azp != NULL ? !sso_str_eq(azp, e->client_id) :
	    json_is_array(aud) && json_array_size(aud) > 1)
		return SSO_TOKEN_AZP;
	return SSO_TOKEN_OK;
}

/*
 * exp (required for an id_token), nbf, iat (required) against e->now with
 * e->skew; iat at most e->max_iat_age old.
 */
static enum sso_token_status
sso_check_times(json_t *claims, const struct sso_expect *e, int exp_required,
    struct sso_claims *out)
{
	int64_t	nbf;
	int	rc;

	if ((rc = sso_date(claims, "exp", &out->exp)) == -1 ||
	    (rc == 1 && exp_required) ||
	    sso_date(claims, "nbf", &nbf) == -1 ||
	    sso_date(claims, "iat", &out->iat) != 0 ||
	    sso_date(claims, "auth_time", &out->auth_time) == -1)
		return SSO_TOKEN_CLAIMS;
	if (rc == 0 && e->now - e->skew >= out->exp)
		return SSO_TOKEN_EXPIRED;
	if (nbf > e->now + e->skew)
		return SSO_TOKEN_NOT_YET;
	if (out->iat > e->now + e->skew || out->iat < e->now - e->max_iat_age)
		return SSO_TOKEN_IAT;
	return SSO_TOKEN_OK;
}

/* The nonce claim equals <want> (constant time in the value). */
static int
sso_nonce_ok(json_t *claims, const char *want)
{
	json_t	*v = json_object_get(claims, "nonce");
	size_t	 n;

	if (want == NULL || !json_is_string(v))
		return 0;
	n = strlen(want);
	return json_string_length(v) == n &&
	    CRYPTO_memcmp(json_string_value(v), want, n) == 0;
}

/*
 * The SSO_AMR_* bits of the amr claim (RFC 8176 values): pwd; MFA for a
 * value that is itself a strong or second factor, or for values of two
 * factor kinds (knowledge, possession, inherence).  -1 if amr is not an
 * array of strings.
 */
static int
sso_amr(json_t *claims, unsigned *bits)
{
	static const struct {
		const char	*value;
		unsigned	 kind;	/* 1 know, 2 have, 4 are, 8 mfa by itself */
	} amr[] = {
		{ "pwd", 1 }, { "pin", 1 }, { "kba", 1 },
		{ "sms", 2 }, { "tel", 2 }, { "pop", 2 },
		{ "otp", 2 | 8 }, { "hwk", 2 | 8 }, { "swk", 2 | 8 },
		{ "sc", 2 | 8 }, { "fpt", 4 | 8 }, { "face", 4 | 8 },
		{ "iris", 4 }, { "retina", 4 }, { "vbm", 4 }, { "mfa", 8 },
	};
	json_t		*a = json_object_get(claims, "amr"), *v;
	unsigned	 kinds = 0;
	size_t		 i, j;

	*bits = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return -1;
		if (sso_str_eq(v, "pwd"))
			*bits |= SSO_AMR_PWD;
		for (j = 0; j < sizeof(amr) / sizeof(amr[0]); j++)
			if (sso_str_eq(v, amr[j].value))
				kinds |= amr[j].kind;
	}
	if ((kinds & 8) || ((kinds & 1) + ((kinds >> 1) & 1) +
	    ((kinds >> 2) & 1)) >= 2)
		*bits |= SSO_AMR_MFA;
	return 0;
}

/* email (lower-cased) and email_verified. */
static int
sso_email(json_t *claims, struct sso_claims *out)
{
	json_t	*v = json_object_get(claims, "email_verified");
	char	*p;

	if (sso_copy(claims, "email", out->email, sizeof(out->email), 0,
	    0) == -1)
		return -1;
	for (p = out->email; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	out->email_verified = json_is_true(v) || sso_str_eq(v, "true");
	return 0;
}

/* The claims both kinds of token may carry, into <out>. */
static enum sso_token_status
sso_fill(json_t *claims, int sub_required, struct sso_claims *out)
{
	if (sso_copy(claims, "sub", out->sub, sizeof(out->sub), sub_required,
	    0) == -1 ||
	    sso_copy(claims, "sid", out->sid, sizeof(out->sid), 0, 0) == -1 ||
	    sso_copy(claims, "hd", out->hd, sizeof(out->hd), 0, 0) == -1 ||
	    sso_copy(claims, "acr", out->acr, sizeof(out->acr), 0, 0) == -1 ||
	    sso_copy(claims, "name", out->name, sizeof(out->name), 0,
	    1) == -1 ||
	    sso_email(claims, out) == -1 || sso_amr(claims, &out->amr) == -1)
		return SSO_TOKEN_CLAIMS;
	return SSO_TOKEN_OK;
}

/* Keep the claims of an accepted token, or wipe <out> of a refused one. */
static enum sso_token_status
sso_done(enum sso_token_status st, json_t *claims, struct sso_claims *out)
{
	if (st != SSO_TOKEN_OK) {
		sso_claims_clear(out);
		return st;
	}
	out->raw = json_incref(claims);
	return st;
}

/* What both kinds of token share: an object, iss, aud, azp, the times. */
static enum sso_token_status
sso_check_common(json_t *claims, const struct sso_expect *e, int id_token,
    struct sso_claims *out)
{
	enum sso_token_status	st;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(claims))
		return SSO_TOKEN_CLAIMS;
	if ((st = sso_check_party(claims, e)) != SSO_TOKEN_OK)
		return st;
	return sso_check_times(claims, e, id_token, out);
}

enum sso_token_status
sso_check_id_token(json_t *claims, const struct sso_expect *e,
    struct sso_claims *out)
{
	enum sso_token_status	st;

	if ((st = sso_check_common(claims, e, 1, out)) != SSO_TOKEN_OK)
		;
	else if (!sso_nonce_ok(claims, e->nonce))
		st = SSO_TOKEN_NONCE;
	else
		st = sso_fill(claims, 1, out);
	return sso_done(st, claims, out);
}

/* events: an object with the back-channel logout event as an object. */
static int
sso_events_ok(json_t *claims)
{
	json_t	*ev = json_object_get(claims, "events");

	return json_is_object(ev) &&
	    json_is_object(json_object_get(ev, SSO_BCL_EVENT));
}

enum sso_token_status
sso_check_logout_token(json_t *claims, const struct sso_expect *e,
    struct sso_claims *out)
{
	enum sso_token_status	st;

	if ((st = sso_check_common(claims, e, 0, out)) != SSO_TOKEN_OK)
		;
	else if (json_object_get(claims, "nonce") != NULL)
		st = SSO_TOKEN_NONCE;
	else if (!sso_events_ok(claims))
		st = SSO_TOKEN_EVENTS;
	else if ((st = sso_fill(claims, 0, out)) != SSO_TOKEN_OK)
		;
	else if (sso_copy(claims, "jti", out->jti, sizeof(out->jti), 1,
	    0) == -1 || (out->sub[0] == '\0' && out->sid[0] == '\0'))
		st = SSO_TOKEN_CLAIMS;
	return sso_done(st, claims, out);
}
