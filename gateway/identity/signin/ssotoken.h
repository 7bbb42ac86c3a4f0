#ifndef TMP_GATEWAY_IDENTITY_SIGNIN_SSOTOKEN_H
#define TMP_GATEWAY_IDENTITY_SIGNIN_SSOTOKEN_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
/* identity/signin/ssotoken.h  (jws) */
struct sso_expect {
	const char	*issuer;	/* exact match */
	const char	*client_id;	/* in aud (string or array); azp == client_id when present, required when aud has several */
	const char	*nonce;		/* id_token: must equal (constant time); NULL for a logout token (which must have none) */
	int64_t		 now;		/* seconds */
	int64_t		 skew;		/* seconds allowed on exp/iat/nbf */
	int64_t		 max_iat_age;	/* seconds an iat may be in the past */
};
#define SSO_AMR_PWD 0x01u
#define SSO_AMR_MFA 0x02u	/* amr has mfa, otp, hwk, swk, fpt, face, sc, or several factors */
struct sso_claims {
	char		 sub[256];
	char		 email[256];	/* lower-cased; "" if absent */
	int		 email_verified; /* true only for JSON true (or the string "true") */
	char		 hd[256];
	char		 sid[256];
	char		 jti[256];	/* logout token */
	char		 name[256];
	char		 acr[128];
	unsigned	 amr;		/* SSO_AMR_* bits */
	int64_t		 exp, iat, auth_time;
	json_t		*raw;		/* a reference to the whole claims object, for claim maps; sso_claims_clear() drops it */
};
enum sso_token_status { SSO_TOKEN_OK = 0, SSO_TOKEN_ISSUER, SSO_TOKEN_AUDIENCE, SSO_TOKEN_AZP, SSO_TOKEN_EXPIRED, SSO_TOKEN_NOT_YET, SSO_TOKEN_IAT, SSO_TOKEN_NONCE, SSO_TOKEN_CLAIMS, SSO_TOKEN_EVENTS };
enum sso_token_status sso_check_id_token(json_t *claims, const struct sso_expect *, struct sso_claims *out);
/* OIDC Back-Channel Logout 1.0 section 2.6: iss, aud, iat, jti required; events has "http://schemas.openid.net/event/backchannel-logout" as an object member; sub or sid (or both); no nonce; exp if present not past. */
enum sso_token_status sso_check_logout_token(json_t *claims, const struct sso_expect *, struct sso_claims *out);
void		 sso_claims_clear(struct sso_claims *);
const char	*sso_token_reason(enum sso_token_status);	/* a reason code */

#endif
