/*
 * Certificates obtained at run time (see certstore.h): a host map
 * (hostmap.h) under a read-write lock.  Writers build everything (parse, check,
 * make the context) before taking the lock; the lock only guards the
 * swap of pointers and the lookups.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "hostmap.h"
#include "tls.h"
#include "tlsacme.h"

/* One host; owned by the store's map. */
struct certstore_entry {
	SSL_CTX		*ctx;		/* NULL: only a challenge */
	time_t		 not_after;
	unsigned char	 fp[32];	/* SHA-256 of the leaf */
	X509		*alpn_cert;	/* TLS-ALPN-01, or NULL */
	EVP_PKEY	*alpn_key;
	time_t		 alpn_until;
};

/* Owned by struct server; shared by the workers. */
struct certstore {
	pthread_rwlock_t	 lock;
	struct hostmap		 map;		/* struct certstore_entry */
	atomic_int		 tickets;
	certstore_known_fn	 known;		/* or NULL */
	void			*known_arg;
	pthread_mutex_t		 want_lock;	/* guards want[] */
	struct certstore_want {
		char	host[HOSTMAP_NAMELEN];
		time_t	at;
	}			 want[CERTSTORE_WANT_MAX];
	atomic_int		 wanted;
};

struct certstore *
certstore_new(void)
{
	struct certstore	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	if (pthread_rwlock_init(&cs->lock, NULL) != 0) {
		free(cs);
		return NULL;
	}
	if (pthread_mutex_init(&cs->want_lock, NULL) != 0) {
		(void)pthread_rwlock_destroy(&cs->lock);
		free(cs);
		return NULL;
	}
	return cs;
}

static void
certstore_entry_free(void *arg)
{
	struct certstore_entry	*e = arg;

	if (e == NULL)
		return;
	SSL_CTX_free(e->ctx);
	X509_free(e->alpn_cert);
	EVP_PKEY_free(e->alpn_key);
	free(e);
}

void
certstore_free(struct certstore *cs)
{
	if (cs == NULL)
		return;
	hostmap_clear(&cs->map, certstore_entry_free);
	(void)pthread_rwlock_destroy(&cs->lock);
	(void)pthread_mutex_destroy(&cs->want_lock);
	free(cs);
}

void
certstore_set_tickets(struct certstore *cs, int on)
{
	atomic_store(&cs->tickets, on);
}

/* The entry of <name>, made if missing (write lock held); NULL: ENOMEM. */
static struct certstore_entry *
certstore_slot(struct certstore *cs, const char *name)
{
	void	**slot;

	if ((slot = hostmap_slot(&cs->map, name)) == NULL)
		return NULL;
	if (*slot == NULL && (*slot = calloc(1,
	    sizeof(struct certstore_entry))) == NULL)
		(void)hostmap_remove(&cs->map, name);
	return *slot;
}

/* Remove the entry of <name> once it holds nothing (write lock held). */
static void
certstore_prune(struct certstore *cs, const char *name)
{
	struct certstore_entry	*e = hostmap_get(&cs->map, name);

	if (e != NULL && e->ctx == NULL && e->alpn_cert == NULL)
		certstore_entry_free(hostmap_remove(&cs->map, name));
}

/*
 * The entry of <host> under the lock (read or write as <write> says), or
 * NULL; the lock is held in both cases.  -1: <host> is no name (no lock).
 */
static int
certstore_lock(struct certstore *cs, const char *host, int write,
    char name[HOSTMAP_NAMELEN], struct certstore_entry **e)
{
	if (hostmap_name(host, name) == -1)
		return -1;
	if (write)
		pthread_rwlock_wrlock(&cs->lock);
	else
		pthread_rwlock_rdlock(&cs->lock);
	*e = hostmap_get(&cs->map, name);
	return 0;
}

/* ---- parsing and checks ---- */

static void
certstore_err(char *err, size_t errlen, const char *what)
{
	unsigned long	e = ERR_peek_last_error();
	char		buf[160] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	(void)snprintf(err, errlen, "%s%s%s", what, e != 0 ? ": " : "", buf);
	ERR_clear_error();
}

/* The certificates of <pem>, leaf first; NULL (with <err>) if none. */
static STACK_OF(X509) *
certstore_read_chain(const char *pem, char *err, size_t errlen)
{
	STACK_OF(X509)	*sk;
	BIO		*b;
	X509		*x;

	if ((sk = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_mem_buf(pem, -1)) == NULL) {
		sk_X509_free(sk);
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			break;
		}
	BIO_free(b);
	ERR_clear_error();	/* the end of the PEM reads as an error */
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		(void)snprintf(err, errlen, "the certificate chain holds no "
		    "PEM certificate");
		return NULL;
	}
	return sk;
}

static EVP_PKEY *
certstore_read_key(const char *pem, char *err, size_t errlen)
{
	BIO		*b;
	EVP_PKEY	*k = NULL;

	if ((b = BIO_new_mem_buf(pem, -1)) != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		certstore_err(err, errlen, "the key is not a PEM private key");
	return k;
}

/* Every certificate of <sk> valid at <now>, the leaf naming <host>. */
static int
certstore_check(STACK_OF(X509) *sk, EVP_PKEY *key, const char *host,
    time_t now, char *err, size_t errlen)
{
	X509	*leaf = sk_X509_value(sk, 0);
	char	 why[200];
	int	 i;

	if (X509_check_private_key(leaf, key) != 1) {
		certstore_err(err, errlen, "the key does not match the "
		    "certificate");
		return -1;
	}
	if (X509_check_host(leaf, host, 0, 0, NULL) != 1) {
		(void)snprintf(err, errlen, "the certificate does not name "
		    "the host");
		return -1;
	}
	for (i = 0; i < sk_X509_num(sk); i++)
		if (tls_cert_check(sk_X509_value(sk, i), now, why,
		    sizeof(why)) == -1) {
			(void)snprintf(err, errlen, "%s certificate %s",
			    i == 0 ? "the" : "a chain", why);
			return -1;
		}
	return 0;
}

/* A server context holding <sk> and <key>; NULL with <err>. */
static SSL_CTX *
certstore_make_ctx(struct certstore *cs, STACK_OF(X509) *sk, EVP_PKEY *key,
    char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	int	 i, ok;

	if ((ctx = tls_server_ctx(atomic_load(&cs->tickets), cs)) == NULL) {
		certstore_err(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	ok = SSL_CTX_use_certificate(ctx, sk_X509_value(sk, 0)) == 1;
	for (i = 1; ok && i < sk_X509_num(sk); i++)
		ok = SSL_CTX_add1_chain_cert(ctx, sk_X509_value(sk, i)) == 1;
	if (!ok || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		certstore_err(err, errlen, "cannot use the certificate");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- writers ---- */

/* <t> as Unix time; 0 if it cannot be read. */
static time_t
certstore_time(const ASN1_TIME *t)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

int
certstore_put(struct certstore *cs, const char *host, const char *chain_pem,
    const char *key_pem, time_t now, char *err, size_t errlen)
{
	STACK_OF(X509)		*sk = NULL;
	EVP_PKEY		*key = NULL;
	SSL_CTX			*ctx = NULL, *old = NULL;
	struct certstore_entry	*e;
	unsigned char		 fp[32];
	unsigned int		 fplen = 0;
	char			 name[HOSTMAP_NAMELEN];
	int			 rc = -1, same = 0;

	if (hostmap_name(host, name) == -1 || !tlsacme_host_ok(name)) {
		(void)snprintf(err, errlen, "not a host name");
		return -1;
	}
	if ((sk = certstore_read_chain(chain_pem, err, errlen)) == NULL ||
	    (key = certstore_read_key(key_pem, err, errlen)) == NULL ||
	    certstore_check(sk, key, name, now, err, errlen) == -1)
		goto out;
	if (X509_digest(sk_X509_value(sk, 0), EVP_sha256(), fp, &fplen) != 1 ||
	    (ctx = certstore_make_ctx(cs, sk, key, err, errlen)) == NULL)
		goto out;
	pthread_rwlock_wrlock(&cs->lock);
	if ((e = certstore_slot(cs, name)) == NULL)
		(void)snprintf(err, errlen, "out of memory");
	else if (e->ctx != NULL && memcmp(e->fp, fp, sizeof(fp)) == 0)
		same = 1;
	else {
		old = e->ctx;	/* its connections keep a reference */
		e->ctx = ctx;
		ctx = NULL;
		memcpy(e->fp, fp, sizeof(fp));
		e->not_after = certstore_time(X509_get0_notAfter(
		    sk_X509_value(sk, 0)));
		rc = 0;
	}
	pthread_rwlock_unlock(&cs->lock);
	if (same)
		rc = 1;
	SSL_CTX_free(old);
out:
	SSL_CTX_free(ctx);
	EVP_PKEY_free(key);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
certstore_drop(struct certstore *cs, const char *host)
{
	struct certstore_entry	*e;
	SSL_CTX			*old = NULL;
	char			 name[HOSTMAP_NAMELEN];

	if (certstore_lock(cs, host, 1, name, &e) == -1)
		return -1;
	if (e != NULL && (old = e->ctx) != NULL) {
		e->ctx = NULL;
		e->not_after = 0;
		certstore_prune(cs, name);
	}
	pthread_rwlock_unlock(&cs->lock);
	SSL_CTX_free(old);
	return old != NULL ? 0 : -1;
}

int
certstore_put_alpn(struct certstore *cs, const char *host,
    const char *cert_pem, const char *key_pem, time_t now, char *err,
    size_t errlen)
{
	STACK_OF(X509)		*sk = NULL;
	EVP_PKEY		*key = NULL;
	struct certstore_entry	*e;
	X509			*x;
	char			 name[HOSTMAP_NAMELEN];
	int			 rc = -1;

	if (hostmap_name(host, name) == -1 || !tlsacme_host_ok(name)) {
		(void)snprintf(err, errlen, "not a host name");
		return -1;
	}
	if ((sk = certstore_read_chain(cert_pem, err, errlen)) == NULL ||
	    (key = certstore_read_key(key_pem, err, errlen)) == NULL)
		goto out;
	x = sk_X509_value(sk, 0);
	if (X509_check_private_key(x, key) != 1 ||
	    X509_check_host(x, name, 0, 0, NULL) != 1) {
		certstore_err(err, errlen, "the challenge certificate does not "
		    "match its key or host");
		goto out;
	}
	pthread_rwlock_wrlock(&cs->lock);
	if ((e = certstore_slot(cs, name)) == NULL)
		(void)snprintf(err, errlen, "out of memory");
	else {
		X509_free(e->alpn_cert);
		EVP_PKEY_free(e->alpn_key);
		e->alpn_cert = sk_X509_shift(sk);
		e->alpn_key = key;
		e->alpn_until = now + CERTSTORE_ALPN_TTL;
		key = NULL;
		rc = 0;
	}
	pthread_rwlock_unlock(&cs->lock);
out:
	EVP_PKEY_free(key);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

void
certstore_drop_alpn(struct certstore *cs, const char *host)
{
	struct certstore_entry	*e;
	X509			*x = NULL;
	EVP_PKEY		*k = NULL;
	char			 name[HOSTMAP_NAMELEN];

	if (certstore_lock(cs, host, 1, name, &e) == -1)
		return;
	if (e != NULL) {
		x = e->alpn_cert;
		k = e->alpn_key;
		e->alpn_cert = NULL;
		e->alpn_key = NULL;
		certstore_prune(cs, name);
	}
	pthread_rwlock_unlock(&cs->lock);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---- readers (the handshake) ---- */

SSL_CTX *
certstore_ctx(struct certstore *cs, const char *host)
{
	struct certstore_entry	*e;
	SSL_CTX			*ctx = NULL;
	char			 name[HOSTMAP_NAMELEN];

	if (certstore_lock(cs, host, 0, name, &e) == -1)
		return NULL;
	if (e != NULL && (ctx = e->ctx) != NULL && SSL_CTX_up_ref(ctx) != 1)
		ctx = NULL;
	pthread_rwlock_unlock(&cs->lock);
	return ctx;
}

int
certstore_use_alpn(struct certstore *cs, SSL *ssl, const char *host,
    time_t now)
{
	struct certstore_entry	*e;
	char			 name[HOSTMAP_NAMELEN];
	int			 rc = -1;

	if (certstore_lock(cs, host, 0, name, &e) == -1)
		return -1;
	if (e != NULL && e->alpn_cert != NULL && now < e->alpn_until &&
	    SSL_use_certificate(ssl, e->alpn_cert) == 1 &&
	    SSL_use_PrivateKey(ssl, e->alpn_key) == 1)
		rc = 0;
	pthread_rwlock_unlock(&cs->lock);
	return rc;
}

/* ---- custom domains wanted by handshakes ---- */

void
certstore_set_domains(struct certstore *cs, certstore_known_fn fn,
    void *arg)
{
	cs->known = fn;
	cs->known_arg = arg;
}

void
certstore_want(struct certstore *cs, const char *host, time_t now)
{
	struct certstore_want	*w = NULL, *oldest = &cs->want[0];
	char			 name[HOSTMAP_NAMELEN];
	size_t			 i;

	if (cs->known == NULL || cs->known(cs->known_arg, host, name) == -1)
		return;			/* not registered: nothing */
	pthread_mutex_lock(&cs->want_lock);
	for (i = 0; i < CERTSTORE_WANT_MAX && w == NULL; i++) {
		if (strcmp(cs->want[i].host, name) == 0)
			w = &cs->want[i];
		else if (cs->want[i].at < oldest->at)
			oldest = &cs->want[i];
	}
	if (w == NULL || now - w->at >= CERTSTORE_WANT_QUIET) {
		if (w == NULL)		/* the oldest name makes room */
			w = oldest;
		(void)snprintf(w->host, sizeof(w->host), "%s", name);
		w->at = now;
		atomic_store(&cs->wanted, 1);
	}
	pthread_mutex_unlock(&cs->want_lock);
}

int
certstore_wanted(struct certstore *cs)
{
	return cs != NULL && atomic_exchange(&cs->wanted, 0) != 0;
}

struct certstore_info *
certstore_list(struct certstore *cs, size_t *n)
{
	struct certstore_info	*out = NULL;
	size_t			 i;

	*n = 0;
	pthread_rwlock_rdlock(&cs->lock);
	if (cs->map.n > 0 && (out = calloc(cs->map.n, sizeof(*out))) != NULL) {
		for (i = 0; i < cs->map.n; i++) {
			const struct certstore_entry *e = cs->map.v[i].val;

			memcpy(out[i].host, cs->map.v[i].host,
			    sizeof(out[i].host));
			out[i].not_after = e->ctx != NULL ? e->not_after : 0;
			out[i].challenge = e->alpn_cert != NULL;
		}
		*n = cs->map.n;
	}
	pthread_rwlock_unlock(&cs->lock);
	return out;
}
