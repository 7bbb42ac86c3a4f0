/*
 * ssotoken.c: id_token and logout token claims.  Each test starts from a
 * token that passes and changes one claim, so the refusal is due to that
 * claim alone; its siblings (the same claim absent, of another JSON type,
 * at the edge of the skew) are checked beside it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ssotoken.h"

#define NOW	1800000000
#define ISS	"https://op.example"
#define CID	"client-1"
#define NONCE	"n-0S6_WzA2Mj"
#define BCL	"http://schemas.openid.net/event/backchannel-logout"

static const struct sso_expect E = {
	.issuer = ISS, .client_id = CID, .nonce = NONCE, .now = NOW,
	.skew = 60, .max_iat_age = 600,
};

/* A passing id_token's claims. */
static json_t *
id_token(void)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b}",
	    "iss", ISS, "aud", CID, "sub", "248289761001", "exp",
	    (json_int_t)NOW + 300, "iat", (json_int_t)NOW - 10, "nonce", NONCE,
	    "email", "Jane.Doe@Example.COM", "email_verified", 1);
}

/* A passing logout token's claims. */
static json_t *
logout_token(void)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:{s:{}}, s:s}",
	    "iss", ISS, "aud", CID, "sub", "248289761001", "iat",
	    (json_int_t)NOW - 5, "jti", "bWJq", "events", BCL, "sid", "08a5");
}

/*
 * The status of a passing id_token (or logout token if <logout>) with
 * <key> set to <v> (NULL: removed); <out> holds a reference only on OK.
 */
static enum sso_token_status
check_with(int logout, const char *key, json_t *v)
{
	json_t			*c = logout ? logout_token() : id_token();
	struct sso_claims	 out;
	enum sso_token_status	 st;

	if (v == NULL)
		assert_int_equal(json_object_del(c, key), 0);
	else
		assert_int_equal(json_object_set_new(c, key, v), 0);
	st = logout ? sso_check_logout_token(c, &E, &out) :
	    sso_check_id_token(c, &E, &out);
	if (st == SSO_TOKEN_OK) {
		assert_ptr_equal(out.raw, c);
		sso_claims_clear(&out);
	} else
		assert_null(out.raw);
	assert_int_equal(c->refcount, 1);
	json_decref(c);
	return st;
}

static enum sso_token_status
id_with(const char *key, json_t *v)
{
	return check_with(0, key, v);
}

static enum sso_token_status
logout_with(const char *key, json_t *v)
{
	return check_with(1, key, v);
}

static void
test_id_token_ok(void **state)
{
	json_t			*c = id_token();
	struct sso_claims	 out;

	(void)state;
	assert_int_equal(sso_check_id_token(c, &E, &out), SSO_TOKEN_OK);
	assert_string_equal(out.sub, "248289761001");
	assert_string_equal(out.email, "jane.doe@example.com");
	assert_true(out.email_verified);
	assert_int_equal(out.exp, NOW + 300);
	assert_int_equal(out.iat, NOW - 10);
	assert_string_equal(out.hd, "");
	assert_int_equal(out.amr, 0);
	assert_ptr_equal(out.raw, c);
	assert_int_equal(c->refcount, 2);
	sso_claims_clear(&out);
	assert_null(out.raw);
	assert_int_equal(c->refcount, 1);
	sso_claims_clear(NULL);
	json_decref(c);
	assert_string_equal(sso_token_reason(SSO_TOKEN_AZP), "sso_token_azp");
	assert_string_equal(sso_token_reason(SSO_TOKEN_EVENTS),
	    "sso_token_events");
}

static void
test_issuer(void **state)
{
	(void)state;
	assert_int_equal(id_with("iss", NULL), SSO_TOKEN_ISSUER);
	assert_int_equal(id_with("iss", json_string(ISS "/")),
	    SSO_TOKEN_ISSUER);
	assert_int_equal(id_with("iss", json_string("https://OP.example")),
	    SSO_TOKEN_ISSUER);
	assert_int_equal(id_with("iss", json_stringn(ISS "\0x",
	    sizeof(ISS) + 1)), SSO_TOKEN_ISSUER);
	assert_int_equal(id_with("iss", json_pack("[s]", ISS)),
	    SSO_TOKEN_ISSUER);
	assert_int_equal(id_with("iss", json_string(ISS)), SSO_TOKEN_OK);
}

/* aud string or array; azp required with several audiences. */
static void
test_audience_azp(void **state)
{
	json_t			*c;
	struct sso_claims	 out;

	(void)state;
	assert_int_equal(id_with("aud", NULL), SSO_TOKEN_AUDIENCE);
	assert_int_equal(id_with("aud", json_string("client-2")),
	    SSO_TOKEN_AUDIENCE);
	assert_int_equal(id_with("aud", json_string(CID "x")),
	    SSO_TOKEN_AUDIENCE);
	assert_int_equal(id_with("aud", json_pack("[]")), SSO_TOKEN_AUDIENCE);
	assert_int_equal(id_with("aud", json_pack("[s]", "client-2")),
	    SSO_TOKEN_AUDIENCE);
	assert_int_equal(id_with("aud", json_pack("[s]", CID)), SSO_TOKEN_OK);
	assert_int_equal(id_with("aud", json_pack("[s,i]", CID, 1)),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("aud", json_integer(1)), SSO_TOKEN_CLAIMS);
	/* several audiences without azp */
	assert_int_equal(id_with("aud", json_pack("[s,s]", CID, "other")),
	    SSO_TOKEN_AZP);
	/* with azp = client_id, azp naming another party, azp not a string */
	c = id_token();
	json_object_set_new(c, "aud", json_pack("[s,s]", "other", CID));
	json_object_set_new(c, "azp", json_string(CID));
	assert_int_equal(sso_check_id_token(c, &E, &out), SSO_TOKEN_OK);
	sso_claims_clear(&out);
	json_object_set_new(c, "azp", json_string("other"));
	assert_int_equal(sso_check_id_token(c, &E, &out), SSO_TOKEN_AZP);
	json_object_set_new(c, "azp", json_integer(1));
	assert_int_equal(sso_check_id_token(c, &E, &out), SSO_TOKEN_CLAIMS);
	json_decref(c);
	/* azp present with one audience must still be the client */
	assert_int_equal(id_with("azp", json_string("other")), SSO_TOKEN_AZP);
	assert_int_equal(id_with("azp", json_string(CID)), SSO_TOKEN_OK);
}

static void
test_times(void **state)
{
	(void)state;
	assert_int_equal(id_with("exp", NULL), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("exp", json_string("1900000000")),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("exp", json_true()), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("exp", json_integer(-1)), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("exp", json_real(1e300)), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("exp", json_real(NOW + 10.5)), SSO_TOKEN_OK);
	/* exp within the skew passes; at the skew's edge it has expired */
	assert_int_equal(id_with("exp", json_integer(NOW - 59)), SSO_TOKEN_OK);
	assert_int_equal(id_with("exp", json_integer(NOW - 60)),
	    SSO_TOKEN_EXPIRED);
	assert_int_equal(id_with("exp", json_integer(0)), SSO_TOKEN_EXPIRED);
	/* nbf */
	assert_int_equal(id_with("nbf", json_integer(NOW + 60)), SSO_TOKEN_OK);
	assert_int_equal(id_with("nbf", json_integer(NOW + 61)),
	    SSO_TOKEN_NOT_YET);
	assert_int_equal(id_with("nbf", json_string("0")), SSO_TOKEN_CLAIMS);
	/* iat: required, not in the future beyond skew, not too old */
	assert_int_equal(id_with("iat", NULL), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("iat", json_string("1800000000")),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("iat", json_integer(NOW + 60)), SSO_TOKEN_OK);
	assert_int_equal(id_with("iat", json_integer(NOW + 61)),
	    SSO_TOKEN_IAT);
	assert_int_equal(id_with("iat", json_integer(NOW - 600)),
	    SSO_TOKEN_OK);
	assert_int_equal(id_with("iat", json_integer(NOW - 601)),
	    SSO_TOKEN_IAT);
	/* auth_time */
	assert_int_equal(id_with("auth_time", json_string("1")),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("auth_time", json_integer(NOW - 30)),
	    SSO_TOKEN_OK);
}

static void
test_nonce(void **state)
{
	struct sso_expect	 e = E;
	json_t			*c = id_token();
	struct sso_claims	 out;

	(void)state;
	assert_int_equal(id_with("nonce", NULL), SSO_TOKEN_NONCE);
	/* one byte differing, at the start, in the middle, at the end */
	assert_int_equal(id_with("nonce", json_string("m-0S6_WzA2Mj")),
	    SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_string("n-0S6_XzA2Mj")),
	    SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_string("n-0S6_WzA2Mk")),
	    SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_string(NONCE "x")),
	    SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_string("n-0S6_WzA2M")),
	    SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_stringn(NONCE "\0",
	    sizeof(NONCE))), SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_string("")), SSO_TOKEN_NONCE);
	assert_int_equal(id_with("nonce", json_integer(1)), SSO_TOKEN_NONCE);
	/* without an expected nonce, no id_token passes */
	e.nonce = NULL;
	assert_int_equal(sso_check_id_token(c, &e, &out), SSO_TOKEN_NONCE);
	json_decref(c);
}

static void
test_string_claims(void **state)
{
	char	long_sub[300];

	(void)state;
	memset(long_sub, 'a', sizeof(long_sub) - 1);
	long_sub[sizeof(long_sub) - 1] = '\0';
	assert_int_equal(id_with("sub", NULL), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("sub", json_string("")), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("sub", json_integer(42)), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("sub", json_stringn("a\0b", 3)),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("sub", json_string(long_sub)),
	    SSO_TOKEN_CLAIMS);
	long_sub[255] = '\0';
	assert_int_equal(id_with("sub", json_string(long_sub)), SSO_TOKEN_OK);
	assert_int_equal(id_with("email", json_pack("[s]", "a@b")),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("email", NULL), SSO_TOKEN_OK);
	assert_int_equal(id_with("hd", json_integer(1)), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("sid", json_null()), SSO_TOKEN_CLAIMS);
	assert_int_equal(id_with("acr", json_string(long_sub)),
	    SSO_TOKEN_CLAIMS);
	/* a long display name is cut, not refused */
	assert_int_equal(id_with("name", json_string(long_sub)), SSO_TOKEN_OK);
	assert_int_equal(id_with("name", json_integer(1)), SSO_TOKEN_CLAIMS);
	assert_int_equal(sso_check_id_token(NULL, &E,
	    &(struct sso_claims){ 0 }), SSO_TOKEN_CLAIMS);
}

/* Only JSON true or "true" verify an email. */
static void
test_email_verified(void **state)
{
	json_t			*vals[] = { json_false(), json_string("TRUE"),
	    json_integer(1), json_string("yes"), json_null(), json_true(),
	    json_string("true") };
	size_t			 i;
	json_t			*c;
	struct sso_claims	 out;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		c = id_token();
		json_object_set_new(c, "email_verified", vals[i]);
		assert_int_equal(sso_check_id_token(c, &E, &out),
		    SSO_TOKEN_OK);
		assert_int_equal(out.email_verified, i >= 5);
		sso_claims_clear(&out);
		json_decref(c);
	}
}

/* The amr bits of <amr> (a JSON text), or -1 if refused. */
static int
amr_of(const char *amr)
{
	json_t			*c = id_token();
	struct sso_claims	 out;
	int			 r = -1;

	json_object_set_new(c, "amr", json_loads(amr, JSON_DECODE_ANY, NULL));
	if (sso_check_id_token(c, &E, &out) == SSO_TOKEN_OK)
		r = (int)out.amr;
	sso_claims_clear(&out);
	json_decref(c);
	return r;
}

static void
test_amr(void **state)
{
	(void)state;
	assert_int_equal(amr_of("[\"pwd\"]"), SSO_AMR_PWD);
	assert_int_equal(amr_of("[\"pwd\",\"otp\"]"),
	    SSO_AMR_PWD | SSO_AMR_MFA);
	assert_int_equal(amr_of("[\"pwd\",\"sms\"]"),
	    SSO_AMR_PWD | SSO_AMR_MFA);
	assert_int_equal(amr_of("[\"mfa\"]"), SSO_AMR_MFA);
	assert_int_equal(amr_of("[\"hwk\"]"), SSO_AMR_MFA);
	assert_int_equal(amr_of("[\"sms\"]"), 0);
	assert_int_equal(amr_of("[\"pwd\",\"pin\"]"), SSO_AMR_PWD);
	assert_int_equal(amr_of("[\"pwd\",\"pwd\"]"), SSO_AMR_PWD);
	assert_int_equal(amr_of("[\"PWD\",\"MFA\"]"), 0);
	assert_int_equal(amr_of("[]"), 0);
	assert_int_equal(amr_of("\"mfa\""), -1);
	assert_int_equal(amr_of("[\"pwd\",1]"), -1);
}

static void
test_logout_ok(void **state)
{
	json_t			*c = logout_token();
	struct sso_claims	 out;

	(void)state;
	assert_int_equal(sso_check_logout_token(c, &E, &out), SSO_TOKEN_OK);
	assert_string_equal(out.jti, "bWJq");
	assert_string_equal(out.sid, "08a5");
	assert_string_equal(out.sub, "248289761001");
	assert_int_equal(out.exp, 0);
	sso_claims_clear(&out);
	json_decref(c);
	/* sub alone, sid alone */
	assert_int_equal(logout_with("sid", NULL), SSO_TOKEN_OK);
	assert_int_equal(logout_with("sub", NULL), SSO_TOKEN_OK);
}

static void
test_logout_refused(void **state)
{
	json_t			*c = logout_token();
	struct sso_claims	 out;

	(void)state;
	assert_int_equal(logout_with("nonce", json_string(NONCE)),
	    SSO_TOKEN_NONCE);
	assert_int_equal(logout_with("nonce", json_null()), SSO_TOKEN_NONCE);
	assert_int_equal(logout_with("events", NULL), SSO_TOKEN_EVENTS);
	assert_int_equal(logout_with("events", json_string(BCL)),
	    SSO_TOKEN_EVENTS);
	assert_int_equal(logout_with("events", json_pack("[s]", BCL)),
	    SSO_TOKEN_EVENTS);
	assert_int_equal(logout_with("events", json_pack("{s:s}", BCL, "")),
	    SSO_TOKEN_EVENTS);
	assert_int_equal(logout_with("events", json_pack("{s:{}}",
	    BCL "/")), SSO_TOKEN_EVENTS);
	assert_int_equal(logout_with("jti", NULL), SSO_TOKEN_CLAIMS);
	assert_int_equal(logout_with("jti", json_integer(7)),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(logout_with("iat", NULL), SSO_TOKEN_CLAIMS);
	assert_int_equal(logout_with("iat", json_integer(NOW - 601)),
	    SSO_TOKEN_IAT);
	assert_int_equal(logout_with("exp", json_integer(NOW - 61)),
	    SSO_TOKEN_EXPIRED);
	assert_int_equal(logout_with("exp", json_string("x")),
	    SSO_TOKEN_CLAIMS);
	assert_int_equal(logout_with("exp", json_integer(NOW + 120)),
	    SSO_TOKEN_OK);
	assert_int_equal(logout_with("iss", json_string("https://evil")),
	    SSO_TOKEN_ISSUER);
	assert_int_equal(logout_with("aud", json_string("client-2")),
	    SSO_TOKEN_AUDIENCE);
	assert_int_equal(logout_with("sub", json_integer(1)),
	    SSO_TOKEN_CLAIMS);
	/* neither sub nor sid; or both empty */
	json_object_del(c, "sub");
	json_object_del(c, "sid");
	assert_int_equal(sso_check_logout_token(c, &E, &out),
	    SSO_TOKEN_CLAIMS);
	json_object_set_new(c, "sid", json_string(""));
	assert_int_equal(sso_check_logout_token(c, &E, &out),
	    SSO_TOKEN_CLAIMS);
	json_decref(c);
	/* an id_token is not a logout token, nor the reverse */
	c = id_token();
	assert_int_equal(sso_check_logout_token(c, &E, &out),
	    SSO_TOKEN_NONCE);
	json_object_del(c, "nonce");
	assert_int_equal(sso_check_logout_token(c, &E, &out),
	    SSO_TOKEN_EVENTS);
	json_decref(c);
	c = logout_token();
	assert_int_equal(sso_check_id_token(c, &E, &out), SSO_TOKEN_CLAIMS);
	json_decref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_token_ok),
		cmocka_unit_test(test_issuer),
		cmocka_unit_test(test_audience_azp),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_string_claims),
		cmocka_unit_test(test_email_verified),
		cmocka_unit_test(test_amr),
		cmocka_unit_test(test_logout_ok),
		cmocka_unit_test(test_logout_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
