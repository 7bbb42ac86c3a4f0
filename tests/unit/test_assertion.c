/*
 * assertion.c: ES256 assertions verify against the public key (OpenSSL),
 * carry the claims and header fields the upstream relies on, and keys that
 * are not P-256 or are readable by others are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "assertion.h"

struct fixture {
	char	dir[64];
	char	key[96];
	char	old[96];
};

static int
setup(void **state)
{
	struct fixture	*fx = calloc(1, sizeof(*fx));
	char		 err[256];

	strcpy(fx->dir, "/tmp/postern-assert-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->key, sizeof(fx->key), "%s/key.pem", fx->dir);
	(void)snprintf(fx->old, sizeof(fx->old), "%s/old.pem", fx->dir);
	assert_int_equal(assertion_key_generate(fx->key, err, sizeof(err)), 0);
	assert_int_equal(assertion_key_generate(fx->old, err, sizeof(err)), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;
	char		 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* The public half of the key at <path>, as PEM. */
static char *
pubkey_pem(const char *path)
{
	FILE		*fp = fopen(path, "r");
	EVP_PKEY	*pkey;
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*out, *data;
	long		 len;

	assert_non_null(fp);
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pkey);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
	len = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)len + 1);	/* the BIO's data has no NUL */
	assert_non_null(out);
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return out;
}

/* Base64url <in> (no padding) decoded into <out>; its length or -1. */
static int
b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	char	*b = calloc(1, n + 4);
	size_t	 i;
	int	 len;

	assert_non_null(b);
	for (i = 0; i < n; i++)
		b[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (i % 4 != 0)
		b[i++] = '=';
	assert_true(i / 4 * 3 <= outlen);
	len = EVP_DecodeBlock(out, (unsigned char *)b, (int)i);
	if (len >= 0)
		len -= (int)(i - n);	/* the padding decoded as zeros */
	free(b);
	return len;
}

/*
 * Verify ES256 token <tok> with the public half of <keyfile> (OpenSSL, as
 * any verifier would: libjwt 1.10's jwt_decode() refuses every typ but
 * "JWT") and hand its claims to libjwt as an unsigned token, so that the
 * tests read them with jwt_get_grant().  Returns 0 with <*jwt> set and the
 * header's JSON in <hdr>, or -1 if the signature does not verify.
 */
static int
decode(const char *tok, const char *keyfile, jwt_t **jwt, char *hdr,
    size_t hdrlen)
{
	const char	*d1 = strchr(tok, '.'), *d2;
	unsigned char	 raw[66], der[80], *p = der;
	char		*pub = pubkey_pem(keyfile), *none;
	EVP_PKEY	*pkey;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	ECDSA_SIG	*sig = ECDSA_SIG_new();
	BIO		*bio = BIO_new_mem_buf(pub, -1);
	int		 n, ok;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(pkey);
	n = b64url_decode(tok, (size_t)(d1 - tok), (unsigned char *)hdr,
	    hdrlen - 1);
	assert_true(n > 0);
	hdr[n] = '\0';
	assert_int_equal(b64url_decode(d2 + 1, strlen(d2 + 1), raw,
	    sizeof(raw)), 64);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL),
	    BN_bin2bn(raw + 32, 32, NULL)), 1);
	n = i2d_ECDSA_SIG(sig, &p);
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, der, (size_t)n, (const unsigned char *)tok,
	    (size_t)(d2 - tok)) == 1;
	*jwt = NULL;
	if (ok) {
		/* {"alg":"none"}, the signed claims, no signature */
		assert_true(asprintf(&none, "eyJhbGciOiJub25lIn0%.*s.",
		    (int)(d2 - d1), d1) > 0);
		assert_int_equal(jwt_decode(jwt, none, NULL, 0), 0);
		free(none);
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(pub);
	return ok ? 0 : -1;
}

static void
test_sign_verify(void **state)
{
	struct fixture	*fx = *state;
	struct assertion_claims c = { "u1", "a@example.com", "acme", "admin",
	    "session", NULL, { "pwd", "otp", "mfa", NULL } };
	struct signer	*sg;
	char		 err[256], hdr[256], want[256], *tok, *amr;
	jwt_t		*jwt = NULL;

	sg = assertion_signer_load(fx->key, NULL, 0, err, sizeof(err));
	assert_non_null(sg);
	tok = assertion_sign(sg, &c, "billing", "https://gw.example", 300,
	    1700000000);
	assert_non_null(tok);
	assert_int_equal(decode(tok, fx->key, &jwt, hdr, sizeof(hdr)), 0);
	/* an explicit type (RFC 8725 3.11), never the generic "JWT" */
	(void)snprintf(want, sizeof(want), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"typ\":\"postern-assertion+jwt\"}", assertion_kid(sg));
	assert_string_equal(hdr, want);
	assert_string_equal(jwt_get_grant(jwt, "aud"), "billing");
	assert_string_equal(jwt_get_grant(jwt, "iss"), "https://gw.example");
	assert_string_equal(jwt_get_grant(jwt, "sub"), "u1");
	assert_string_equal(jwt_get_grant(jwt, "org"), "acme");
	assert_string_equal(jwt_get_grant(jwt, "role"), "admin");
	assert_string_equal(jwt_get_grant(jwt, "auth"), "session");
	amr = jwt_get_grants_json(jwt, "amr");
	assert_non_null(amr);
	assert_string_equal(amr, "[\"pwd\",\"otp\",\"mfa\"]");
	free(amr);
	assert_int_equal(jwt_get_grant_int(jwt, "iat"), 1700000000);
	/* exp is capped at 60 s whatever the caller asks */
	assert_int_equal(jwt_get_grant_int(jwt, "exp"), 1700000060);
	assert_int_equal(strlen(jwt_get_grant(jwt, "jti")), 32);
	jwt_free(jwt);
	/* a tampered payload does not verify */
	tok[strlen(tok) / 2] ^= 1;
	assert_int_equal(decode(tok, fx->key, &jwt, hdr, sizeof(hdr)), -1);
	assert_null(jwt);
	free(tok);
	assertion_signer_free(sg);
}

/* The amr claim of <tok> as JSON (the caller frees it), or NULL. */
static char *
amr_of(const char *tok, const char *keyfile)
{
	char	 hdr[256], *amr;
	jwt_t	*jwt = NULL;

	assert_int_equal(decode(tok, keyfile, &jwt, hdr, sizeof(hdr)), 0);
	amr = jwt_get_grants_json(jwt, "amr");
	jwt_free(jwt);
	return amr;
}

/*
 * amr tells how a session signed in (RFC 8176 values): the second factor
 * is claimed only when it was passed; unknown methods claim nothing; grants
 * (no amr given) carry no amr claim at all.
 */
static void
test_session_amr(void **state)
{
	static const struct {
		const char	*method;
		int		 mfa;
		const char	*json;	/* NULL: no amr claim */
	} cases[] = {
		{ "password", 0, "[\"pwd\"]" },
		{ "password", 1, "[\"pwd\",\"otp\",\"mfa\"]" },
		{ "magic", 0, "[\"email\"]" },
		{ "magic", 1, "[\"email\",\"otp\",\"mfa\"]" },
		{ "Password", 0, NULL },	/* exact names only */
		{ "sso:corp", 0, NULL },
		{ "", 0, NULL },
		{ "", 1, "[\"otp\",\"mfa\"]" },
	};
	struct fixture	*fx = *state;
	struct assertion_claims c = { .sub = "u1", .auth = "session" };
	struct signer	*sg;
	char		 err[256], *tok, *amr;
	size_t		 i;

	sg = assertion_signer_load(fx->key, NULL, 0, err, sizeof(err));
	assert_non_null(sg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assertion_session_amr(cases[i].method, cases[i].mfa, c.amr);
		tok = assertion_sign(sg, &c, "app", "iss", 60, 1700000000);
		assert_non_null(tok);
		amr = amr_of(tok, fx->key);
		if (cases[i].json == NULL)
			assert_null(amr);
		else
			assert_string_equal(amr, cases[i].json);
		free(amr);
		free(tok);
	}
	c.amr[0] = NULL;		/* an API key's or share link's */
	c.auth = "apikey";
	tok = assertion_sign(sg, &c, "app", "iss", 60, 1700000000);
	assert_non_null(tok);
	assert_null(amr_of(tok, fx->key));
	free(tok);
	assertion_signer_free(sg);
}

/* 1 if <tok> verifies against the public half of <keyfile>. */
static int
verifies_with(const char *tok, const char *keyfile)
{
	char	 hdr[256];
	jwt_t	*jwt = NULL;
	int	 ok;

	ok = decode(tok, keyfile, &jwt, hdr, sizeof(hdr)) == 0;
	jwt_free(jwt);
	return ok;
}

/*
 * Signing contexts are kept per thread: a key loaded after another (a
 * reload, even one whose signer lands at the freed one's address) signs
 * with its own key, on this thread and on a new one.
 */
static void *
sign_on_thread(void *arg)
{
	return assertion_sign(arg, &(struct assertion_claims){ .sub = "t" },
	    "app", "iss", 60, 1700000000);
}

static void
test_each_load_signs_with_its_own_key(void **state)
{
	struct fixture	*fx = *state;
	struct assertion_claims c = { .sub = "u1" };
	struct signer	*a, *b;
	char		 err[256], *tok;
	pthread_t	 th;
	void		*ret;
	int		 i;

	for (i = 0; i < 3; i++) {
		const char *ka = i % 2 ? fx->old : fx->key;
		const char *kb = i % 2 ? fx->key : fx->old;

		a = assertion_signer_load(ka, NULL, 0, err, sizeof(err));
		assert_non_null(a);
		tok = assertion_sign(a, &c, "app", "iss", 60, 1700000000);
		assert_true(verifies_with(tok, ka));
		assert_false(verifies_with(tok, kb));
		free(tok);
		assertion_signer_free(a);	/* b may reuse its memory */
		b = assertion_signer_load(kb, NULL, 0, err, sizeof(err));
		assert_non_null(b);
		tok = assertion_sign(b, &c, "app", "iss", 60, 1700000000);
		assert_true(verifies_with(tok, kb));
		assert_false(verifies_with(tok, ka));
		free(tok);
		assert_int_equal(pthread_create(&th, NULL, sign_on_thread, b),
		    0);
		assert_int_equal(pthread_join(th, &ret), 0);
		assert_non_null(ret);
		assert_true(verifies_with(ret, kb));
		free(ret);
		assertion_signer_free(b);
	}
}

static void
test_jwks_lists_current_and_previous(void **state)
{
	struct fixture	*fx = *state;
	struct signer	*sg, *old;
	char		*prev[] = { fx->old };
	char		 err[256];
	const char	*j;

	sg = assertion_signer_load(fx->key, prev, 1, err, sizeof(err));
	assert_non_null(sg);
	old = assertion_signer_load(fx->old, NULL, 0, err, sizeof(err));
	assert_non_null(old);
	j = assertion_jwks(sg);
	assert_non_null(strstr(j, assertion_kid(sg)));
	assert_non_null(strstr(j, assertion_kid(old)));
	assert_string_not_equal(assertion_kid(sg), assertion_kid(old));
	assert_non_null(strstr(j, "\"crv\":\"P-256\""));
	assert_null(strstr(j, "\"d\""));	/* never the private part */
	assertion_signer_free(old);
	assertion_signer_free(sg);
}

static void
test_refuses_bad_keys(void **state)
{
	struct fixture	*fx = *state;
	char		 err[256], path[128], cmd[512];

	assert_int_equal(chmod(fx->key, 0640), 0);
	assert_null(assertion_signer_load(fx->key, NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(chmod(fx->key, 0600), 0);
	(void)snprintf(path, sizeof(path), "%s/p384.pem", fx->dir);
	(void)snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm EC "
	    "-pkeyopt ec_paramgen_curve:P-384 -out %s 2>/dev/null && "
	    "chmod 600 %s", path, path);
	assert_int_equal(system(cmd), 0);
	assert_null(assertion_signer_load(path, NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "P-256"));
	assert_null(assertion_signer_load("/nonexistent", NULL, 0, err,
	    sizeof(err)));
	/* never overwrites an existing key */
	assert_int_equal(assertion_key_generate(fx->key, err, sizeof(err)),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_session_amr),
		cmocka_unit_test(test_each_load_signs_with_its_own_key),
		cmocka_unit_test(test_jwks_lists_current_and_previous),
		cmocka_unit_test(test_refuses_bad_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
