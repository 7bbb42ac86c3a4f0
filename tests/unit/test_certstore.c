/*
 * certstore.c: certificates installed by host and found again (any case),
 * a new certificate swapped in while a holder of the old context keeps it,
 * the same certificate twice changes nothing, and bad data (garbled PEM, a
 * key of another certificate, a certificate for another host, an expired
 * or future chain) refused with the previous certificate kept; challenge
 * certificates put on a connection only while current; the unknown name
 * costs no allocation.
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "tls.h"
#include "tlsacme.h"

struct pem {
	char	*cert;
	char	*key;
};

static char *
bio_str(BIO *b)
{
	char	*data, *s;
	long	 n = BIO_get_mem_data(b, &data);

	s = calloc(1, (size_t)n + 1);
	memcpy(s, data, (size_t)n);
	BIO_free(b);
	return s;
}

/* A self-signed P-256 certificate for <host>, valid from..to (days). */
static struct pem
make(const char *host, long from, long to)
{
	EVP_PKEY	*pk = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	BIO		*cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	GENERAL_NAMES	*gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME	*g = GENERAL_NAME_new();
	ASN1_IA5STRING	*ia5 = ASN1_IA5STRING_new();
	struct pem	 p;
	static long	 serial = 1;

	assert_non_null(pk);
	ASN1_STRING_set(ia5, host, -1);
	GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
	sk_GENERAL_NAME_push(gens, g);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to * 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	PEM_write_bio_X509(cb, x);
	PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL);
	p.cert = bio_str(cb);
	p.key = bio_str(kb);
	X509_free(x);
	EVP_PKEY_free(pk);
	return p;
}

static void
pem_free(struct pem *p)
{
	free(p->cert);
	free(p->key);
}

/* The leaf of <ctx> is the certificate of <p>. */
static int
is_cert(SSL_CTX *ctx, const struct pem *p)
{
	BIO	*b = BIO_new_mem_buf(p->cert, -1);
	X509	*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	int	 eq = X509_cmp(x, SSL_CTX_get0_certificate(ctx)) == 0;

	X509_free(x);
	BIO_free(b);
	return eq;
}

static void
test_put_find_swap(void **state)
{
	struct certstore	*cs = certstore_new();
	struct pem		 a = make("a.example.com", -1, 90);
	struct pem		 b = make("a.example.com", -1, 90);
	SSL_CTX			*c1, *c2;
	char			 err[256];
	struct certstore_info	*info;
	size_t			 n;

	(void)state;
	assert_null(certstore_ctx(cs, "a.example.com"));
	assert_int_equal(certstore_put(cs, "A.Example.COM", a.cert, a.key,
	    time(NULL), err, sizeof(err)), 0);
	assert_null(certstore_ctx(cs, "b.example.com"));
	assert_null(certstore_ctx(cs, "example.com"));
	c1 = certstore_ctx(cs, "a.EXAMPLE.com");
	assert_non_null(c1);
	assert_true(is_cert(c1, &a));
	/* the same again: nothing changes */
	assert_int_equal(certstore_put(cs, "a.example.com", a.cert, a.key,
	    time(NULL), err, sizeof(err)), 1);
	c2 = certstore_ctx(cs, "a.example.com");
	assert_ptr_equal(c1, c2);
	SSL_CTX_free(c2);
	/* a new one: new lookups see it, the holder of the old keeps it */
	assert_int_equal(certstore_put(cs, "a.example.com", b.cert, b.key,
	    time(NULL), err, sizeof(err)), 0);
	c2 = certstore_ctx(cs, "a.example.com");
	assert_ptr_not_equal(c1, c2);
	assert_true(is_cert(c2, &b));
	assert_true(is_cert(c1, &a));
	SSL_CTX_free(c1);
	SSL_CTX_free(c2);
	info = certstore_list(cs, &n);
	assert_int_equal(n, 1);
	assert_string_equal(info[0].host, "a.example.com");
	assert_true(info[0].not_after > time(NULL) + 89 * 86400);
	assert_true(info[0].not_after <= time(NULL) + 90 * 86400);
	free(info);
	assert_int_equal(certstore_drop(cs, "a.example.com"), 0);
	assert_null(certstore_ctx(cs, "a.example.com"));
	assert_int_equal(certstore_drop(cs, "a.example.com"), -1);
	assert_null(certstore_list(cs, &n));
	assert_int_equal(n, 0);
	pem_free(&a);
	pem_free(&b);
	certstore_free(cs);
}

static void
test_bad_data_keeps_old(void **state)
{
	struct certstore	*cs = certstore_new();
	struct pem		 good = make("h.example", -1, 30);
	struct pem		 other = make("h.example", -1, 30);
	struct pem		 wrong = make("evil.example", -1, 30);
	struct pem		 expired = make("h.example", -30, -1);
	struct pem		 future = make("h.example", 2, 30);
	char			 err[256], *garbled;
	SSL_CTX			*ctx;

	(void)state;
	assert_int_equal(certstore_put(cs, "h.example", good.cert, good.key,
	    time(NULL), err, sizeof(err)), 0);
	garbled = strdup(other.cert);
	garbled[100] ^= 0x20;
	assert_int_equal(certstore_put(cs, "h.example", garbled, other.key,
	    time(NULL), err, sizeof(err)), -1);
	assert_int_equal(certstore_put(cs, "h.example", "", other.key,
	    time(NULL), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no PEM certificate"));
	assert_int_equal(certstore_put(cs, "h.example", other.cert, "junk",
	    time(NULL), err, sizeof(err)), -1);
	assert_int_equal(certstore_put(cs, "h.example", other.cert, good.key,
	    time(NULL), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(certstore_put(cs, "h.example", wrong.cert, wrong.key,
	    time(NULL), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not name"));
	assert_int_equal(certstore_put(cs, "h.example", expired.cert,
	    expired.key, time(NULL), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(certstore_put(cs, "h.example", future.cert,
	    future.key, time(NULL), err, sizeof(err)), -1);
	assert_int_equal(certstore_put(cs, "h..example", good.cert, good.key,
	    time(NULL), err, sizeof(err)), -1);
	ctx = certstore_ctx(cs, "h.example");
	assert_non_null(ctx);
	assert_true(is_cert(ctx, &good));
	SSL_CTX_free(ctx);
	/* a chain whose second certificate expired is refused too */
	free(garbled);
	garbled = malloc(strlen(other.cert) + strlen(expired.cert) + 1);
	strcpy(garbled, other.cert);
	strcat(garbled, expired.cert);
	assert_int_equal(certstore_put(cs, "h.example", garbled, other.key,
	    time(NULL), err, sizeof(err)), -1);	/* expired in the chain */
	assert_non_null(strstr(err, "a chain certificate"));
	free(garbled);
	pem_free(&good);
	pem_free(&other);
	pem_free(&wrong);
	pem_free(&expired);
	pem_free(&future);
	certstore_free(cs);
}

static void
test_alpn(void **state)
{
	static const unsigned char sha[32] = { 1 };
	struct certstore	*cs = certstore_new();
	SSL_CTX			*ctx = SSL_CTX_new(TLS_server_method());
	SSL			*ssl = SSL_new(ctx);
	char			*cert, *key, err[256];
	time_t			 now = time(NULL);
	size_t			 n;
	struct certstore_info	*info;

	(void)state;
	assert_int_equal(tls_alpn01_cert("c.example", sha, &cert, &key, err,
	    sizeof(err)), 0);
	assert_int_equal(certstore_use_alpn(cs, ssl, "c.example", now), -1);
	assert_int_equal(certstore_put_alpn(cs, "c.example", cert, "x", now,
	    err, sizeof(err)), -1);
	assert_int_equal(certstore_put_alpn(cs, "d.example", cert, key, now,
	    err, sizeof(err)), -1);	/* not its host */
	assert_int_equal(certstore_put_alpn(cs, "c.example", cert, key, now,
	    err, sizeof(err)), 0);
	assert_null(certstore_ctx(cs, "c.example"));	/* no certificate */
	assert_int_equal(certstore_use_alpn(cs, ssl, "d.example", now), -1);
	assert_int_equal(certstore_use_alpn(cs, ssl, "C.example", now), 0);
	assert_non_null(SSL_get_certificate(ssl));
	assert_int_equal(X509_check_host(SSL_get_certificate(ssl),
	    "c.example", 0, 0, NULL), 1);
	assert_int_equal(certstore_use_alpn(cs, ssl, "c.example",
	    now + CERTSTORE_ALPN_TTL), -1);	/* too old */
	info = certstore_list(cs, &n);
	assert_int_equal(n, 1);
	assert_int_equal(info[0].challenge, 1);
	assert_int_equal(info[0].not_after, 0);
	free(info);
	certstore_drop_alpn(cs, "c.example");
	assert_int_equal(certstore_use_alpn(cs, ssl, "c.example", now), -1);
	assert_null(certstore_list(cs, &n));
	free(cert);
	free(key);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	certstore_free(cs);
}

/* Many unknown names: lookups only, the store holds nothing more. */
static void
test_unknown_names(void **state)
{
	struct certstore	*cs = certstore_new();
	struct pem		 a = make("a.example.com", -1, 90);
	char			 err[256], name[300];
	size_t			 i, n;
	struct certstore_info	*info;

	(void)state;
	assert_int_equal(certstore_put(cs, "a.example.com", a.cert, a.key,
	    time(NULL), err, sizeof(err)), 0);
	for (i = 0; i < 10000; i++) {
		(void)snprintf(name, sizeof(name), "r%zu.example.com", i);
		assert_null(certstore_ctx(cs, name));
	}
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_null(certstore_ctx(cs, name));
	assert_null(certstore_ctx(cs, ""));
	info = certstore_list(cs, &n);
	assert_int_equal(n, 1);
	free(info);
	pem_free(&a);
	certstore_free(cs);
}

/* A handshake in memory: <server> (a tls_ctx_new() context) and a client
 * sending <sni> and ALPN <alpn> (wire format, or NULL); the server's
 * certificate (a reference), NULL if the handshake failed. */
static X509 *
handshake(SSL_CTX *server, const char *sni, const char *alpn, size_t alen)
{
	SSL_CTX	*cctx = SSL_CTX_new(TLS_client_method());
	SSL	*c = SSL_new(cctx), *s = SSL_new(server);
	BIO	*cb, *sb;
	X509	*peer = NULL;
	int	 i, rc, rs;

	assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	SSL_set_tlsext_host_name(c, sni);
	if (alpn != NULL)
		SSL_set_alpn_protos(c, (const unsigned char *)alpn,
		    (unsigned int)alen);
	for (i = 0; i < 20; i++) {
		rc = SSL_do_handshake(c);
		rs = SSL_do_handshake(s);
		if (rc == 1 && rs == 1)
			break;
		if ((rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) ||
		    (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ))
			break;
	}
	if (SSL_is_init_finished(c))
		peer = SSL_get1_peer_certificate(c);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	return peer;
}

static X509 *
pem_x509(const char *pem)
{
	BIO	*b = BIO_new_mem_buf(pem, -1);
	X509	*x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	return x;
}

/* SNI and ALPN through tls_ctx_new() without configured certificates:
 * the self-signed default, the stored certificate, the challenge. */
static void
test_handshakes(void **state)
{
	static const unsigned char sha[32] = { 7 };
	struct certstore	*cs = certstore_new();
	struct tls_settings	 ts = { NULL, 0, 0, NULL, 0 };
	struct pem		 a = make("a.example.com", -1, 90);
	SSL_CTX			*ctx;
	X509			*got, *want, *chal;
	char			 err[256], *cert, *key;

	(void)state;
	assert_null(tls_ctx_new(&ts, err, sizeof(err)));
	assert_non_null(strstr(err, "at least one certificate"));
	ts.store = cs;		/* a store alone is not enough */
	assert_null(tls_ctx_new(&ts, err, sizeof(err)));
	ts.acme = 1;
	ctx = tls_ctx_new(&ts, err, sizeof(err));
	assert_non_null(ctx);
	got = handshake(ctx, "a.example.com", NULL, 0);
	assert_non_null(got);
	assert_int_equal(X509_check_host(got, "postern.invalid", 0, 0, NULL),
	    1);
	X509_free(got);
	assert_int_equal(certstore_put(cs, "a.example.com", a.cert, a.key,
	    time(NULL), err, sizeof(err)), 0);
	want = pem_x509(a.cert);
	got = handshake(ctx, "a.example.com", "\x08http/1.1", 9);
	assert_int_equal(X509_cmp(got, want), 0);
	X509_free(got);
	got = handshake(ctx, "b.example.com", NULL, 0);
	assert_int_not_equal(X509_cmp(got, want), 0);
	X509_free(got);
	/* acme-tls/1 alone: no challenge, no handshake */
	assert_null(handshake(ctx, "a.example.com", "\x0a" "acme-tls/1", 11));
	assert_int_equal(tls_alpn01_cert("a.example.com", sha, &cert, &key,
	    err, sizeof(err)), 0);
	assert_int_equal(certstore_put_alpn(cs, "a.example.com", cert, key,
	    time(NULL), err, sizeof(err)), 0);
	chal = pem_x509(cert);
	got = handshake(ctx, "a.example.com", "\x0a" "acme-tls/1", 11);
	assert_non_null(got);
	assert_int_equal(X509_cmp(got, chal), 0);
	X509_free(got);
	/* http/1.1 beside it: never the challenge */
	got = handshake(ctx, "a.example.com",
	    "\x08http/1.1\x0a" "acme-tls/1", 20);
	assert_int_equal(X509_cmp(got, want), 0);
	X509_free(got);
	X509_free(want);
	X509_free(chal);
	free(cert);
	free(key);
	pem_free(&a);
	SSL_CTX_free(ctx);
	certstore_free(cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_find_swap),
		cmocka_unit_test(test_bad_data_keeps_old),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_handshakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
