/*
 * acmeari.c and acmejson.c's renewalInfo: ARI (RFC 9773).  The certID of
 * RFC 9773's own example (AKI keyIdentifier 69:88:5B:...:C8:D4, serial
 * 0x87654321) is "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", from a
 * certificate made here with those values; siblings: a serial without
 * the high bit (no leading zero octet), no AKI, no PEM, a buffer too
 * small.  The time chosen stays in the window and is never in the past;
 * Retry-After is bounded.  A suggestedWindow parses with Z, fractions and
 * offsets; a missing or unreadable bound, an empty or reversed window, a
 * date out of range, duplicates and a body over the limit are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "acmeari.h"
#include "acmejson.h"

static const unsigned char rfc_kid[20] = {
	0x69, 0x88, 0x5b, 0x6b, 0x87, 0x46, 0x40, 0x41, 0xe1, 0xb3,
	0x7b, 0x84, 0x7b, 0xa0, 0xae, 0x2c, 0xde, 0x01, 0xc8, 0xd4,
};

/* A self-signed PEM certificate with <serial>, and the AKI key id <kid>
 * (NULL: no AKI); the caller frees it. */
static char *
make_cert(uint64_t serial, const unsigned char *kid, size_t kidlen)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	AUTHORITY_KEYID	*akid;
	BIO		*b = BIO_new(BIO_s_mem());
	char		*pem, *p;
	long		 n;

	assert_non_null(k);
	assert_int_equal(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x),
	    serial), 1);
	assert_int_equal(X509_set_version(x, 2), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"ari.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	if (kid != NULL) {
		akid = AUTHORITY_KEYID_new();
		akid->keyid = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(akid->keyid, kid, (int)kidlen);
		assert_int_equal(X509_add1_ext_i2d(x,
		    NID_authority_key_identifier, akid, 0, 0), 1);
		AUTHORITY_KEYID_free(akid);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	/* not strndup(): the BIO's data has no NUL, and strict string
	 * checks read a strndup() source to its end */
	assert_non_null(pem = malloc((size_t)n + 1));
	memcpy(pem, p, (size_t)n);
	pem[n] = '\0';
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

static void
test_certid(void **state)
{
	char	out[ACME_ARI_CERTID_MAX], *pem;

	(void)state;
	pem = make_cert(0x87654321, rfc_kid, sizeof(rfc_kid));
	assert_int_equal(acme_ari_certid(pem, out, sizeof(out)), 0);
	assert_string_equal(out, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	/* exactly large enough, then one byte short */
	assert_int_equal(acme_ari_certid(pem, out, strlen(out) + 1), 0);
	assert_int_equal(acme_ari_certid(pem, out, strlen(
	    "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")), -1);
	assert_string_equal(out, "");
	free(pem);
	/* no high bit: no leading zero octet */
	pem = make_cert(0x01, rfc_kid, 3);
	assert_int_equal(acme_ari_certid(pem, out, sizeof(out)), 0);
	assert_string_equal(out, "aYhb.AQ");
	free(pem);
	pem = make_cert(0x87654321, NULL, 0);
	assert_int_equal(acme_ari_certid(pem, out, sizeof(out)), -1);
	free(pem);
	assert_int_equal(acme_ari_certid("not a PEM", out, sizeof(out)), -1);
	assert_int_equal(acme_ari_certid("", out, sizeof(out)), -1);
}

static void
test_pick(void **state)
{
	uint64_t	r;
	int64_t		t;

	(void)state;
	assert_int_equal(acme_ari_pick(100, 200, 50, 0), 100);
	assert_int_equal(acme_ari_pick(100, 200, 50, 99), 199);
	assert_int_equal(acme_ari_pick(100, 200, 50, 100), 100);
	for (r = 0; r < 100000; r += 997) {
		t = acme_ari_pick(1000, 1100, 0, r * 0x9e3779b97f4a7c15ULL);
		assert_true(t >= 1000 && t < 1100);
	}
	/* a time in the past, a window over: now */
	assert_int_equal(acme_ari_pick(100, 200, 150, 0), 150);
	assert_int_equal(acme_ari_pick(100, 200, 150, 70), 170);
	assert_int_equal(acme_ari_pick(100, 200, 500, 42), 500);
	assert_int_equal(acme_ari_pick(100, 100, 50, 42), 100);
}

static void
test_wait(void **state)
{
	(void)state;
	assert_int_equal(acme_ari_wait(-1), ACME_ARI_WAIT);
	assert_int_equal(acme_ari_wait(0), ACME_ARI_WAIT_MIN);
	assert_int_equal(acme_ari_wait(59), ACME_ARI_WAIT_MIN);
	assert_int_equal(acme_ari_wait(120), 120);
	assert_int_equal(acme_ari_wait(86400), 86400);
	assert_int_equal(acme_ari_wait(10000000), ACME_ARI_WAIT_MAX);
}

static int
ri(const char *json, int64_t *s, int64_t *e)
{
	char	err[128];

	return acme_parse_renewal_info(json, strlen(json), s, e, err,
	    sizeof(err));
}

#define W(a, b)	"{\"suggestedWindow\":{\"start\":\"" a "\",\"end\":\"" b \
	"\"},\"explanationURL\":\"https://ca.test/why\"}"

static void
test_renewal_info(void **state)
{
	int64_t	s, e;
	char	*big;

	(void)state;
	assert_int_equal(ri(W("2025-01-02T03:04:05Z",
	    "2025-01-03T03:04:05Z"), &s, &e), 0);
	assert_int_equal(s, 1735787045);
	assert_int_equal(e, 1735787045 + 86400);
	assert_int_equal(ri(W("2025-01-02T03:04:05.123456Z",
	    "2025-01-02T06:04:05+02:00"), &s, &e), 0);
	assert_int_equal(s, 1735787045);
	assert_int_equal(e, 1735787045 + 3600);
	assert_int_equal(ri(W("2025-01-02T03:04:05-01:30",
	    "2025-01-02t06:00:00z"), &s, &e), 0);
	assert_int_equal(s, 1735787045 + 5400);
	/* siblings that must not pass: an empty window (also through an
	 * offset), a reversed one, bad dates */
	assert_int_equal(ri(W("2025-01-02T03:04:05Z",
	    "2025-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02T03:04:05Z",
	    "2025-01-02T05:04:05+02:00"), &s, &e), -1);
	assert_true(s == 0 && e == 0);
	assert_int_equal(ri(W("2025-01-03T03:04:05Z",
	    "2025-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-13-02T03:04:05Z",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02 03:04:05Z",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02T03:04:05",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02T03:04:05.Z",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02T03:04:05+2:00",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri(W("2025-01-02T03:04:05Z ",
	    "2026-01-02T03:04:05Z"), &s, &e), -1);
	assert_int_equal(ri("{\"suggestedWindow\":{\"start\":"
	    "\"2025-01-02T03:04:05Z\"}}", &s, &e), -1);
	assert_int_equal(ri("{\"suggestedWindow\":{\"start\":1,\"end\":2}}",
	    &s, &e), -1);
	assert_int_equal(ri("{}", &s, &e), -1);
	assert_int_equal(ri("[]", &s, &e), -1);
	assert_int_equal(ri("{\"suggestedWindow\":{},\"suggestedWindow\":"
	    "{}}", &s, &e), -1);
	big = malloc(ACME_BODY_MAX + 64);
	memset(big, ' ', ACME_BODY_MAX + 63);
	memcpy(big, W("2025-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
	    strlen(W("2025-01-02T03:04:05Z", "2026-01-02T03:04:05Z")));
	big[ACME_BODY_MAX + 63] = '\0';
	assert_int_equal(ri(big, &s, &e), -1);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certid),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_renewal_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
