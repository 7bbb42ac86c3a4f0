/*
 * The claims of OpenID Connect tokens whose signature crypto/jws.c has
 * verified: the id_token of a sign-in (OpenID Connect Core 1.0 3.1.3.7)
 * and the logout token of a back-channel logout (OpenID Connect
 * Back-Channel Logout 1.0 2.4, 2.6).  Pure functions of the claims and the
 * expectations: no clock, no I/O.
 */
#ifndef POSTERN_SSOTOKEN_H
#define POSTERN_SSOTOKEN_H

#include <stdint.h>

#include <jansson.h>

struct sso_expect {
	const char	*issuer;	/* exact match */
	const char	*client_id;	/* in aud (string or array); azp ==
					 * client_id when present, required
					 * when aud has several */
	const char	*nonce;		/* id_token: must equal (constant
					 * time); NULL for a logout token
					 * (which must have none) */
	int64_t		 now;		/* seconds */
	int64_t		 skew;		/* seconds allowed on exp/iat/nbf */
	int64_t		 max_iat_age;	/* seconds an iat may be in the past */
};

#define SSO_AMR_PWD	0x01u
#define SSO_AMR_MFA	0x02u	/* amr has mfa, otp, hwk, swk, fpt, face, sc,
				 * or several factors */

struct sso_claims {
	char		 sub[256];
	char		 email[256];	/* lower-cased; "" if absent */
	int		 email_verified; /* true only for JSON true (or the
					  * string "true") */
	char		 hd[256];
	char		 sid[256];
	char		 jti[256];	/* logout token */
	char		 name[256];
	char		 acr[128];
	unsigned	 amr;		/* SSO_AMR_* bits */
	int64_t		 exp, iat, auth_time;
	json_t		*raw;		/* a reference to the whole claims
					 * object, for claim maps;
					 * sso_claims_clear() drops it */
};

enum sso_token_status {
	SSO_TOKEN_OK = 0,
	SSO_TOKEN_ISSUER,	/* iss missing or not the issuer */
	SSO_TOKEN_AUDIENCE,	/* client_id not in aud */
	SSO_TOKEN_AZP,		/* azp not client_id, or missing with
				 * several audiences */
	SSO_TOKEN_EXPIRED,	/* exp (with skew) passed */
	SSO_TOKEN_NOT_YET,	/* nbf (with skew) in the future */
	SSO_TOKEN_IAT,		/* iat in the future or too old */
	SSO_TOKEN_NONCE,	/* nonce differs, missing, or present in a
				 * logout token */
	SSO_TOKEN_CLAIMS,	/* a claim missing, of the wrong type or
				 * too long */
	SSO_TOKEN_EVENTS,	/* logout token: events wrong */
};

/*
 * Check the id_token claims <claims> against <e>: iss exact; aud and azp
 * as in struct sso_expect; exp required and not past, nbf (if any)
 * reached, iat required, neither beyond e->skew in the future nor older
 * than e->max_iat_age; nonce equal to e->nonce (a NULL e->nonce fails:
 * Postern always sends one); sub a non-empty string of at most 255 bytes.
 * NumericDates must be JSON numbers; optional string claims (email, hd,
 * sid, acr) must be strings that fit, name is cut to fit, amr must be an
 * array of strings, auth_time a number.  On SSO_TOKEN_OK <out> holds the
 * claims and a reference to <claims> (sso_claims_clear() drops it); on
 * failure <out> is cleared and holds no reference.
 */
enum sso_token_status sso_check_id_token(json_t *claims,
		    const struct sso_expect *e, struct sso_claims *out);
/*
 * OIDC Back-Channel Logout 1.0 section 2.6: iss, aud, iat, jti required;
 * events has "http://schemas.openid.net/event/backchannel-logout" as an
 * object member; sub or sid (or both); no nonce; exp if present not past.
 * iss, aud, azp and iat are checked as for an id_token; e->nonce is not
 * used.  <out> as for sso_check_id_token().
 */
enum sso_token_status sso_check_logout_token(json_t *claims,
		    const struct sso_expect *e, struct sso_claims *out);
/* Drop <c>'s reference to the claims and wipe it.  NULL-safe. */
void		 sso_claims_clear(struct sso_claims *c);
/* The reason code (util/reasons.def) of <st>. */
const char	*sso_token_reason(enum sso_token_status st);

#endif
