/*
 * TLS contexts (see tls.h).  Each certificate gets a context with the same
 * settings; the first is the default and holds the others in ex_data, where
 * the SNI callback finds them and which frees them with the default.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "conflisten.h"
#include "log.h"
#include "tls.h"
#include "tlsacme.h"

/* TLS 1.2: ECDHE with AEAD only; TLS 1.3 suites are all AEAD. */
#define TLS_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
			"ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:" \
			"ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:" \
			"ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_SUITES	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
			"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS	"X25519:P-256"
/* The name of the self-signed default without configured certificates. */
#define TLS_DEFAULT_NAME	"postern.invalid"

/* The certificates of one snapshot, owned by the default context. */
struct tls_set {
	SSL_CTX		**ctx;
	X509		**leaf;
	size_t		  n;
	struct certstore *store;	/* the server's; may be NULL */
};

static int		tls_set_index = -1;
static pthread_once_t	tls_once = PTHREAD_ONCE_INIT;

static void
tls_set_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_set	*set = ptr;
	size_t		 i;

	if (set == NULL)
		return;
	for (i = 1; i < set->n; i++)	/* ctx[0] is the parent itself */
		SSL_CTX_free(set->ctx[i]);
	free(set->ctx);
	free(set->leaf);
	free(set);
}

static void
tls_init_once(void)
{
	tls_set_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_set_free);
}

static void
tls_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long	e = ERR_peek_last_error();
	char		buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	(void)snprintf(err, errlen, "%s %s%s%s", what, file,
	    e != 0 ? ": " : "", buf);
	ERR_clear_error();
}

/*
 * ALPN: a TLS-ALPN-01 challenge (tlsacme.h), else http/1.1 or nothing
 * (RFC 7301 3.2: no_application_protocol).  <arg> is the certstore.
 */
static int
tls_on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char proto[] = "\x08http/1.1";
	int	rc;

	if ((rc = tlsacme_alpn(ssl, arg, in, inlen, out, outlen)) != -1)
		return rc;
	if (SSL_select_next_proto((unsigned char **)(uintptr_t)out, outlen,
	    proto, sizeof(proto) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * SNI: switch to the first configured certificate whose names match, else
 * to the run-time certificate of the name.  The connection holds a
 * reference to the context it switched to.  A registered custom domain
 * without a certificate yet is signalled to the ACME driver
 * (certstore_want(): nothing for any other name).
 */
static int
tls_on_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_set	*set = arg;
	const char	*name;
	SSL_CTX		*ctx;
	size_t		 i;

	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL || set == NULL)
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < set->n; i++) {
		if (X509_check_host(set->leaf[i], name, 0, 0, NULL) == 1) {
			if (i > 0)
				(void)SSL_set_SSL_CTX(ssl, set->ctx[i]);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	if (set->store == NULL)
		return SSL_TLSEXT_ERR_OK;
	if ((ctx = certstore_ctx(set->store, name)) != NULL) {
		(void)SSL_set_SSL_CTX(ssl, ctx);
		SSL_CTX_free(ctx);
	} else			/* a custom domain without one yet? */
		certstore_want(set->store, name, time(NULL));
	return SSL_TLSEXT_ERR_OK;	/* unknown names get the default */
}

/* Refuse key files that group or others may read. */
static int
tls_check_key_mode(const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		(void)snprintf(err, errlen, "key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		(void)snprintf(err, errlen, "key %s: group or world access "
		    "(mode %04o); chmod 600 it", path,
		    (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The protocol settings of every server context; 0 or -1. */
static int
tls_ctx_proto(SSL_CTX *ctx, int tickets, struct certstore *cs)
{
	static const unsigned char sid[] = "postern";

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1)
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (!tickets) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		(void)SSL_CTX_set_num_tickets(ctx, 0);
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, tls_on_alpn, cs);
	return 0;
}

static int
tls_ctx_settings(SSL_CTX *ctx, const struct tls_settings *ts)
{
	return tls_ctx_proto(ctx, ts->session_tickets, ts->store);
}

SSL_CTX *
tls_server_ctx(int session_tickets, struct certstore *cs)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (tls_ctx_proto(ctx, session_tickets, cs) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}


/* One context for certificate <c>; NULL with <err> set. */
static SSL_CTX *
tls_ctx_one(const struct tls_settings *ts, const struct config_cert *c,
    char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if (tls_check_key_mode(c->key_file, err, errlen) == -1)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "TLS context for", c->cert_file);
		return NULL;
	}
	if (tls_ctx_settings(ctx, ts) == -1) {
		tls_err(err, errlen, "TLS settings for", c->cert_file);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1) {
		tls_err(err, errlen, "certificate", c->cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "key", c->key_file);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The default context of a listener whose certificates all come at run
 * time (no configured certificate, a certstore): a self-signed
 * certificate for TLS_DEFAULT_NAME; NULL with <err>.
 */
static SSL_CTX *
tls_ctx_fallback(const struct tls_settings *ts, char *err, size_t errlen)
{
	SSL_CTX		*ctx = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pk = NULL;

	if (tlsacme_selfsigned(TLS_DEFAULT_NAME, &x, &pk) == -1 ||
	    (ctx = tls_server_ctx(ts->session_tickets, ts->store)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		tls_err(err, errlen, "TLS context for", TLS_DEFAULT_NAME);
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
}

SSL_CTX *
tls_ctx_new(const struct tls_settings *ts, char *err, size_t errlen)
{
	struct tls_set	*set;
	size_t		 i, n = ts->ncerts > 0 ? ts->ncerts : 1;

	(void)pthread_once(&tls_once, tls_init_once);
	if (ts->ncerts == 0 && (ts->store == NULL || !ts->acme)) {
		(void)snprintf(err, errlen, "a TLS listener needs at least "
		    "one certificate (tls.certificates)");
		return NULL;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->ctx = calloc(n, sizeof(*set->ctx))) == NULL ||
	    (set->leaf = calloc(n, sizeof(*set->leaf))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		set->ctx[i] = ts->ncerts > 0 ? tls_ctx_one(ts, &ts->certs[i],
		    err, errlen) : tls_ctx_fallback(ts, err, errlen);
		if (set->ctx[i] == NULL)
			goto fail;
		set->n = i + 1;
		set->leaf[i] = SSL_CTX_get0_certificate(set->ctx[i]);
	}
	if (ts->ncerts == 0)
		set->n = 0;	/* the fallback names nothing */
	set->store = ts->store;
	SSL_CTX_set_tlsext_servername_callback(set->ctx[0], tls_on_servername);
	SSL_CTX_set_tlsext_servername_arg(set->ctx[0], set);
	if (SSL_CTX_set_ex_data(set->ctx[0], tls_set_index, set) != 1) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return set->ctx[0];
fail:
	if (set != NULL) {
		for (i = 0; i < n && set->ctx != NULL; i++)
			SSL_CTX_free(set->ctx[i]);
		free(set->ctx);
		free(set->leaf);
		free(set);
	}
	return NULL;
}

/* ---- checks of a certificate (postern check, serve, reload) ---- */

/* <t> as RFC 3339 UTC into <buf>; "?" if it cannot be read. */
static void
tls_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "?");
}

/* A key weaker than 128-bit security: the warning into <err>, or 0. */
static int
tls_key_weak(X509 *x, char *err, size_t errlen)
{
	EVP_PKEY	*pk = X509_get0_pubkey(x);
	char		 group[32];

	if (pk == NULL || EVP_PKEY_get_security_bits(pk) >= 128)
		return 0;
	if (EVP_PKEY_is_a(pk, "RSA"))
		(void)snprintf(err, errlen, "its RSA key has %d bits; use 3072 "
		    "or more (or EC P-256)", EVP_PKEY_get_bits(pk));
	else if (EVP_PKEY_get_utf8_string_param(pk,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1)
		(void)snprintf(err, errlen, "its EC key is on %s, weaker than "
		    "P-256", group);
	else
		(void)snprintf(err, errlen, "its %s key gives %d bits of "
		    "security; expected at least 128",
		    EVP_PKEY_get0_type_name(pk),
		    EVP_PKEY_get_security_bits(pk));
	return 1;
}

int
tls_cert_check(X509 *x, time_t now, char *err, size_t errlen)
{
	const ASN1_TIME	*nb = X509_get0_notBefore(x);
	const ASN1_TIME	*na = X509_get0_notAfter(x);
	time_t		 soon = now + TLS_EXPIRY_WARN_DAYS * 86400;
	char		 when[32];

	if (X509_cmp_time(nb, &now) >= 0) {
		tls_time(nb, when, sizeof(when));
		(void)snprintf(err, errlen, "is not valid before %s (check the "
		    "clock, or wait)", when);
		return -1;
	}
	tls_time(na, when, sizeof(when));
	if (X509_cmp_time(na, &now) <= 0) {
		(void)snprintf(err, errlen, "expired on %s; renew it", when);
		return -1;
	}
	if (X509_cmp_time(na, &soon) <= 0) {
		(void)snprintf(err, errlen, "expires on %s, within %d days; "
		    "renew it", when, TLS_EXPIRY_WARN_DAYS);
		return 1;
	}
	return tls_key_weak(x, err, errlen);
}

/* ---- client side: https:// upstreams ---- */

SSL_CTX *
tls_upstream_ctx(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	int	 ok;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		(void)snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		(void)snprintf(err, errlen, "cannot load CA certificates "
		    "from %s", ca_file != NULL ? ca_file :
		    "the system trust store");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Is <name> an IPv4 or IPv6 address literal (no SNI for those)? */
static int
tls_is_ip(const char *name)
{
	unsigned char	buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

SSL *
tls_upstream_ssl(SSL_CTX *ctx, const char *name)
{
	SSL	*ssl;
	int	 ok;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if (tls_is_ip(name))	/* RFC 6066 3: no literal IPs in SNI */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1;
	else
		/* the macro casts away const; clang's -Wcast-qual objects */
		ok = SSL_set_tlsext_host_name(ssl,
		    (char *)(uintptr_t)name) == 1 &&
		    SSL_set1_host(ssl, name) == 1;
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}
