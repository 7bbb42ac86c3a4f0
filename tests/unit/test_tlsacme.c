/*
 * tlsacme.c: the TLS-ALPN-01 challenge certificate read back with
 * OpenSSL's parser: self-signed and valid now, its one SAN the host, the
 * acmeIdentifier extension critical with the DER OCTET STRING of the
 * digest, a P-256 key matching the certificate; two certificates differ in
 * key and serial; names that are not DNS names are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlsacme.h"

static const unsigned char digest[32] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xa0,
};

static X509 *
parse_cert(const char *pem)
{
	BIO	*b = BIO_new_mem_buf(pem, -1);
	X509	*x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *
parse_key(const char *pem)
{
	BIO		*b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY	*k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(k);
	return k;
}

static void
make(const char *host, X509 **x, EVP_PKEY **k)
{
	char	*cert, *key, err[128];

	assert_int_equal(tls_alpn01_cert(host, digest, &cert, &key, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(cert, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
	*x = parse_cert(cert);
	*k = parse_key(key);
	free(cert);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
}

static void
test_extension(void **state)
{
	X509			*x;
	EVP_PKEY		*k;
	ASN1_OBJECT		*oid = OBJ_txt2obj(TLSACME_OID, 1);
	X509_EXTENSION		*ext;
	const ASN1_OCTET_STRING	*v;
	int			 at, n = 0;

	(void)state;
	make("app.example.com", &x, &k);
	at = X509_get_ext_by_OBJ(x, oid, -1);
	assert_true(at >= 0);
	assert_int_equal(X509_get_ext_by_OBJ(x, oid, at), -1);	/* once */
	ext = X509_get_ext(x, at);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	v = X509_EXTENSION_get_data(ext);
	assert_int_equal(ASN1_STRING_length(v), 34);
	assert_int_equal(ASN1_STRING_get0_data(v)[0], 0x04);	/* OCTET STRING */
	assert_int_equal(ASN1_STRING_get0_data(v)[1], 32);
	assert_memory_equal(ASN1_STRING_get0_data(v) + 2, digest, 32);
	/* the only critical extension OpenSSL does not know */
	for (at = 0; at < X509_get_ext_count(x); at++)
		if (X509_EXTENSION_get_critical(X509_get_ext(x, at)))
			n++;
	assert_int_equal(n, 1);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_names_key_validity(void **state)
{
	X509			*x;
	EVP_PKEY		*k, *pub;
	GENERAL_NAMES		*san;
	const GENERAL_NAME	*g;
	char			 group[32];
	time_t			 now = time(NULL), week = now + 6 * 86400,
				 later = now + 8 * 86400;

	(void)state;
	make("app.example.com", &x, &k);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	g = sk_GENERAL_NAME_value(san, 0);
	assert_int_equal(g->type, GEN_DNS);
	assert_string_equal(ASN1_STRING_get0_data(g->d.dNSName),
	    "app.example.com");
	GENERAL_NAMES_free(san);
	assert_int_equal(X509_check_host(x, "app.example.com", 0, 0, NULL), 1);
	assert_int_not_equal(X509_check_host(x, "other.example.com", 0, 0,
	    NULL), 1);
	/* self-signed by the key it carries, which the key file matches */
	pub = X509_get0_pubkey(x);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(EVP_PKEY_get_utf8_string_param(k,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_true(X509_cmp_time(X509_get0_notBefore(x), &now) < 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &week) > 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &later) < 0);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_fresh_each_time(void **state)
{
	X509		*x1, *x2;
	EVP_PKEY	*k1, *k2;

	(void)state;
	make("a.example", &x1, &k1);
	make("a.example", &x2, &k2);
	assert_int_not_equal(EVP_PKEY_eq(k1, k2), 1);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x1),
	    X509_get0_serialNumber(x2)), 0);
	assert_true(ASN1_INTEGER_get(X509_get0_serialNumber(x1)) != 0 ||
	    ASN1_STRING_length(X509_get0_serialNumber(x1)) > 8);
	X509_free(x1);
	X509_free(x2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void
test_long_host(void **state)
{
	char		 host[254];
	X509		*x;
	EVP_PKEY	*k;
	size_t		 i;

	(void)state;
	/* 253 characters: four labels of 62 and one of 1, no CN (> 64) */
	for (i = 0; i < 252; i++)
		host[i] = i % 63 == 62 ? '.' : 'a';
	host[252] = 'b';
	host[253] = '\0';
	make(host, &x, &k);
	assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_bad_hosts(void **state)
{
	static const char *const bad[] = { "", ".", "a..b", ".a.b", "a.b.",
	    "-a.b", "a-.b", "*.example.com", "a b.com", "a,DNS:evil.com",
	    "a.com\n", "ex\xc3\xa4mple.com", "a_b.com", "127.0.0.1:443",
	    "a/b", "[::1]",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	};
	char	 longhost[300], *cert = (char *)1, *key = (char *)1, err[128];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tls_alpn01_cert(bad[i], digest, &cert, &key,
		    err, sizeof(err)), -1);
		assert_null(cert);
		assert_null(key);
		assert_non_null(strstr(err, "DNS name"));
	}
	memset(longhost, 'a', sizeof(longhost));
	for (i = 50; i < sizeof(longhost); i += 50)
		longhost[i] = '.';
	longhost[254] = '\0';	/* 254 characters: one too many */
	assert_int_equal(tlsacme_host_ok(longhost), 0);
	longhost[253] = '\0';
	assert_int_equal(tlsacme_host_ok(longhost), 1);
	assert_int_equal(tlsacme_host_ok("xn--exmple-cua.com"), 1);
	assert_int_equal(tlsacme_host_ok("localhost"), 1);
}

/* The self-signed default: the host, no acmeIdentifier, a year. */
static void
test_selfsigned(void **state)
{
	X509		*x;
	EVP_PKEY	*k;
	ASN1_OBJECT	*oid = OBJ_txt2obj(TLSACME_OID, 1);
	time_t		 t = time(NULL) + 300 * 86400;

	(void)state;
	assert_int_equal(tlsacme_selfsigned("postern.invalid", &x, &k), 0);
	assert_int_equal(X509_check_host(x, "postern.invalid", 0, 0, NULL), 1);
	assert_int_equal(X509_get_ext_by_OBJ(x, oid, -1), -1);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &t) > 0);
	X509_free(x);
	EVP_PKEY_free(k);
	assert_int_equal(tlsacme_selfsigned("bad..name", &x, &k), -1);
	ASN1_OBJECT_free(oid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extension),
		cmocka_unit_test(test_names_key_validity),
		cmocka_unit_test(test_fresh_each_time),
		cmocka_unit_test(test_long_host),
		cmocka_unit_test(test_bad_hosts),
		cmocka_unit_test(test_selfsigned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
