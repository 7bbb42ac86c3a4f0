/*
 * ES256 identity assertions (see assertion.h).  Keys are loaded once per
 * configuration snapshot.  Signing is done here with the parsed EVP_PKEY
 * rather than through libjwt: libjwt takes the key as PEM on every call,
 * and OpenSSL 3's PEM decoders cost about a millisecond each time, which
 * capped a worker at ~700 signed-in requests per second.  The tokens are
 * plain RFC 7515 compact JWS and verify with libjwt and any other library
 * (tests/unit/test_assertion.c decodes them with libjwt).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "assertion.h"
#include "encode.h"
#include "log.h"

#define ASSERTION_MAX_TTL	60

struct signer {
	EVP_PKEY	*pkey;		/* signing key; shared, read-only */
	uint64_t	 gen;		/* unique per load: see assertion_ctx() */
	char		 kid[44];	/* base64url SHA-256 thumbprint */
	char		 header[160];	/* base64url JWS header */
	char		*jwks;		/* the published key set */
};

static uint64_t	assertion_gens;	/* signers loaded so far */

static int	assertion_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
assertion_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The JWK of <pkey>'s public half, and its RFC 7638 thumbprint as kid. */
static int
assertion_jwk(EVP_PKEY *pkey, char *jwk, size_t jwklen, char *kid,
    size_t kidlen, char *err, size_t errlen)
{
	unsigned char	pub[65], dig[SHA256_DIGEST_LENGTH];
	char		x[48], y[48], canon[160], group[32];
	size_t		len = 0;

	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return assertion_fail(err, errlen,
		    "not an EC P-256 key (ES256 needs P-256)");
	if (EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub), &len) != 1 ||
	    len != 65 || pub[0] != 0x04)
		return assertion_fail(err, errlen, "cannot read the public key");
	(void)encode_b64url(pub + 1, 32, x, sizeof(x));
	(void)encode_b64url(pub + 33, 32, y, sizeof(y));
	(void)snprintf(canon, sizeof(canon),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	SHA256((unsigned char *)canon, strlen(canon), dig);
	(void)encode_b64url(dig, sizeof(dig), kid, kidlen);
	(void)snprintf(jwk, jwklen, "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\",\"use\":\"sig\","
	    "\"alg\":\"ES256\"}", x, y, kid);
	return 0;
}

/* Read a whole key file, refusing group/world access to private keys. */
static unsigned char *
assertion_read(const char *path, int private, size_t *lenp, char *err,
    size_t errlen)
{
	unsigned char	*buf = NULL;
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)assertion_fail(err, errlen, "%s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > 64 * 1024) {
		(void)assertion_fail(err, errlen, "%s: not a key file", path);
	} else if (private && (st.st_mode & 077) != 0) {
		(void)assertion_fail(err, errlen, "%s: mode %04o gives group or "
		    "world access; expected 0600 or stricter", path,
		    (unsigned)(st.st_mode & 07777));
	} else if ((buf = malloc((size_t)st.st_size + 1)) != NULL &&
	    (n = read(fd, buf, (size_t)st.st_size)) == st.st_size) {
		buf[n] = '\0';
		*lenp = (size_t)n;
		close(fd);
		return buf;
	} else {
		(void)assertion_fail(err, errlen, "%s: %s", path, buf == NULL ?
		    "out of memory" : "cannot read");
	}
	if (buf != NULL) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return NULL;
}

/* Load any key (private or public PEM) from <buf>. */
static EVP_PKEY *
assertion_pkey(const unsigned char *buf, size_t len)
{
	EVP_PKEY	*pkey;
	BIO		*bio;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return NULL;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pkey == NULL) {
		(void)BIO_reset(bio);
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	return pkey;
}

/* Append the JWK of the key in <path> to the JWKS being built. */
static int
assertion_add_jwk(struct signer *sg, const char *path, int current,
    char **jwks, size_t *jlen, char *err, size_t errlen)
{
	unsigned char	*buf;
	EVP_PKEY	*pkey;
	BIGNUM		*priv = NULL;
	char		 jwk[320], kid[44], *p;
	size_t		 len = 0;
	int		 rc = -1;

	if ((buf = assertion_read(path, current, &len, err, errlen)) == NULL)
		return -1;
	if ((pkey = assertion_pkey(buf, len)) == NULL)
		(void)assertion_fail(err, errlen, "%s: no PEM key", path);
	else if (current && !EVP_PKEY_get_bn_param(pkey,
	    OSSL_PKEY_PARAM_PRIV_KEY, &priv))
		(void)assertion_fail(err, errlen, "%s: not a private key", path);
	else if (assertion_jwk(pkey, jwk, sizeof(jwk), kid, sizeof(kid), err,
	    errlen) == -1)
		(void)assertion_fail(err, errlen, "%s: not an EC P-256 key",
		    path);
	else if ((p = realloc(*jwks, *jlen + strlen(jwk) + 2)) != NULL) {
		*jlen += (size_t)sprintf(p + *jlen, "%s%s",
		    *jlen > 9 ? "," : "", jwk);
		*jwks = p;
		rc = 0;
	} else
		(void)assertion_fail(err, errlen, "out of memory");
	BN_clear_free(priv);
	if (rc == 0 && current) {
		memcpy(sg->kid, kid, sizeof(sg->kid));
		sg->pkey = pkey;
		pkey = NULL;
	}
	EVP_PKEY_free(pkey);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

struct signer *
assertion_signer_load(const char *key_file, char *const *prev_files,
    size_t nprev, char *err, size_t errlen)
{
	struct signer	*sg;
	char		*jwks, hdr[128];
	size_t		 i, jlen;

	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (jwks = strdup("{\"keys\":[")) == NULL) {
		free(sg);
		(void)assertion_fail(err, errlen, "out of memory");
		return NULL;
	}
	sg->gen = __atomic_add_fetch(&assertion_gens, 1, __ATOMIC_RELAXED);
	jlen = strlen(jwks);
	if (assertion_add_jwk(sg, key_file, 1, &jwks, &jlen, err,
	    errlen) == -1)
		goto fail;
	(void)snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"typ\":\"" ASSERTION_TYP "\"}", sg->kid);
	(void)encode_b64url((unsigned char *)hdr, strlen(hdr), sg->header,
	    sizeof(sg->header));
	for (i = 0; i < nprev; i++)
		if (assertion_add_jwk(sg, prev_files[i], 0, &jwks, &jlen, err,
		    errlen) == -1)
			goto fail;
	if ((sg->jwks = realloc(jwks, jlen + 4)) == NULL) {
		(void)assertion_fail(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(sg->jwks + jlen, "]}\n", 4);
	return sg;
fail:
	free(jwks);
	assertion_signer_free(sg);
	return NULL;
}

void
assertion_signer_free(struct signer *sg)
{
	if (sg == NULL)
		return;
	EVP_PKEY_free(sg->pkey);
	free(sg->jwks);
	free(sg);
}

const char *
assertion_jwks(const struct signer *sg)
{
	return sg->jwks;
}

const char *
assertion_kid(const struct signer *sg)
{
	return sg->kid;
}

/* Append ,"name":"value" (JSON-escaped) unless <value> is NULL. */
static void
assertion_claim(char *buf, size_t size, size_t *off, const char *name,
    const char *value)
{
	int	n;

	if (value == NULL)
		return;
	n = snprintf(buf + *off, size - *off, ",\"%s\":\"", name);
	if (n < 0 || (size_t)n >= size - *off) {
		*off = size;
		return;
	}
	*off += (size_t)n;
	log_json_escape(buf, size - 2, off, value, strlen(value));
	if (*off + 2 < size) {
		buf[(*off)++] = '"';
		buf[*off] = '\0';
	} else {
		*off = size;
	}
}

/*
 * Append ,"amr":["v1",...] unless <amr> is NULL or empty.  The values are
 * the constants of assertion_session_amr(): nothing to escape.
 */
static void
assertion_amr(char *buf, size_t size, size_t *off, const char *const *amr)
{
	size_t	i;
	int	n;

	for (i = 0; amr != NULL && i < ASSERTION_AMR_MAX && amr[i] != NULL &&
	    *off < size; i++) {
		n = snprintf(buf + *off, size - *off, "%s\"%s\"",
		    i == 0 ? ",\"amr\":[" : ",", amr[i]);
		*off = n < 0 || (size_t)n >= size - *off ? size :
		    *off + (size_t)n;
	}
	if (i > 0 && *off + 1 < size) {
		buf[(*off)++] = ']';
		buf[*off] = '\0';
	} else if (i > 0) {
		*off = size;
	}
}

/*
 * RFC 8176 2: "pwd" for a password; a magic link proves control of the
 * mailbox, for which no value is registered: "email" (documented in the
 * README); "otp" for TOTP or a backup code (both one-time passwords), and
 * "mfa" once both factors were passed.
 */
void
assertion_session_amr(const char *method, int mfa,
    const char *amr[ASSERTION_AMR_MAX + 1])
{
	size_t	n = 0;

	if (strcmp(method, "password") == 0)
		amr[n++] = "pwd";
	else if (strcmp(method, "magic") == 0)
		amr[n++] = "email";
	if (mfa) {
		amr[n++] = "otp";
		amr[n++] = "mfa";
	}
	amr[n] = NULL;
}

/*
 * Each thread keeps a DigestSign context initialised for the current key
 * and copies it per signature: initialising one (SHA-256 and key fetches
 * through OpenSSL 3's providers, under their locks) cost about 4 us of the
 * 25 us an ES256 signature took.  A signer's <gen> is unique across loads,
 * so a reloaded key (even at a reused address) is never signed with the
 * old context.
 */
struct assertion_tls {
	uint64_t	 gen;
	EVP_MD_CTX	*base;
};

static pthread_key_t	assertion_key;
static pthread_once_t	assertion_once = PTHREAD_ONCE_INIT;
static int		assertion_key_ok;

static void
assertion_tls_free(void *p)
{
	struct assertion_tls	*t = p;

	EVP_MD_CTX_free(t->base);
	free(t);
}

static void
assertion_key_init(void)
{
	assertion_key_ok = pthread_key_create(&assertion_key,
	    assertion_tls_free) == 0;
}

/* A context for <sg> to copy, or NULL (then sign without the cache). */
static const EVP_MD_CTX *
assertion_ctx(const struct signer *sg)
{
	struct assertion_tls	*t;
	EVP_MD_CTX		*base;

	(void)pthread_once(&assertion_once, assertion_key_init);
	if (!assertion_key_ok)
		return NULL;
	if ((t = pthread_getspecific(assertion_key)) == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		if (pthread_setspecific(assertion_key, t) != 0) {
			free(t);
			return NULL;
		}
	}
	if (t->base != NULL && t->gen == sg->gen)
		return t->base;
	if ((base = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestSignInit(base, NULL, EVP_sha256(), NULL,
	    sg->pkey) != 1) {
		EVP_MD_CTX_free(base);
		return NULL;
	}
	EVP_MD_CTX_free(t->base);
	t->base = base;
	t->gen = sg->gen;
	return base;
}

/* ES256 over <in>: the raw r || s of RFC 7518 §3.4, base64url, to <out>. */
static int
assertion_es256(const struct signer *sg, const char *in, char *out,
    size_t outlen)
{
	const EVP_MD_CTX *base = assertion_ctx(sg);
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*sig = NULL;
	unsigned char	 der[80], raw[64];
	const unsigned char *p = der;
	size_t		 derlen = sizeof(der);
	int		 rc = -1, ready;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (base != NULL)
		ready = EVP_MD_CTX_copy_ex(ctx, base) == 1;
	else
		ready = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
		    sg->pkey) == 1;
	if (ready &&
	    EVP_DigestSign(ctx, der, &derlen, (const unsigned char *)in,
	    strlen(in)) == 1 &&
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32) {
		(void)encode_b64url(raw, sizeof(raw), out, outlen);
		rc = 0;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

char *
assertion_sign(const struct signer *sg, const struct assertion_claims *c,
    const char *aud, const char *iss, unsigned int ttl, int64_t now)
{
	unsigned char	 rnd[16];
	char		 claims[2048], body[3072], jti[33], sig[90], *tok;
	size_t		 off, n;

	if (ttl == 0 || ttl > ASSERTION_MAX_TTL)
		ttl = ASSERTION_MAX_TTL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return NULL;
	encode_hex(rnd, sizeof(rnd), jti);
	off = (size_t)snprintf(claims, sizeof(claims), "{\"iat\":%lld,"
	    "\"exp\":%lld,\"jti\":\"%s\"", (long long)now,
	    (long long)(now + ttl), jti);
	assertion_claim(claims, sizeof(claims), &off, "iss", iss);
	assertion_claim(claims, sizeof(claims), &off, "aud", aud);
	assertion_claim(claims, sizeof(claims), &off, "sub", c->sub);
	assertion_claim(claims, sizeof(claims), &off, "email", c->email);
	assertion_claim(claims, sizeof(claims), &off, "org", c->org);
	assertion_claim(claims, sizeof(claims), &off, "role", c->role);
	assertion_claim(claims, sizeof(claims), &off, "auth", c->auth);
	assertion_claim(claims, sizeof(claims), &off, "scope", c->scope);
	assertion_amr(claims, sizeof(claims), &off, c->amr);
	if (off + 2 >= sizeof(claims))
		return NULL;		/* never a truncated claim set */
	claims[off++] = '}';
	n = (size_t)snprintf(body, sizeof(body), "%s.", sg->header);
	(void)encode_b64url((unsigned char *)claims, off, body + n,
	    sizeof(body) - n);
	if (assertion_es256(sg, body, sig, sizeof(sig)) == -1 ||
	    asprintf(&tok, "%s.%s", body, sig) == -1)
		return NULL;
	return tok;
}

int
assertion_key_generate(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pkey;
	FILE		*fp = NULL;
	int		 fd, rc = -1;

	if ((pkey = EVP_EC_gen("P-256")) == NULL)
		return assertion_fail(err, errlen, "cannot generate a key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		(void)assertion_fail(err, errlen, "%s: %s", path,
		    strerror(errno));
	else if ((fp = fdopen(fd, "w")) == NULL)
		close(fd);
	else if (PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1)
		(void)assertion_fail(err, errlen, "%s: cannot write", path);
	else
		rc = 0;
	if (fp != NULL && fclose(fp) != 0 && rc == 0)
		rc = assertion_fail(err, errlen, "%s: %s", path,
		    strerror(errno));
	if (rc == -1 && fd != -1)
		(void)unlink(path);
	EVP_PKEY_free(pkey);
	return rc;
}
