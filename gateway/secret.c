/*
 * Gateway secret and HKDF-derived keys (see secret.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <openssl/evp.h>

#include "secret.h"

#define SECRET_MAX	4096
#define SECRET_MIN	32

int
secret_hkdf(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
    const void *info, size_t infolen, unsigned char *out, size_t outlen)
{
	EVP_KDF		*kdf;
	EVP_KDF_CTX	*ctx = NULL;
	OSSL_PARAM	 params[5], *p = params;
	int		 rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)ikm, ikmlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(uintptr_t)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)(uintptr_t)info, infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
secret_derive(const unsigned char *ikm, size_t ikmlen, const char *label,
    unsigned char *out)
{
	return secret_hkdf("postern", 7, ikm, ikmlen, label, strlen(label),
	    out, SECRET_KEY_LEN);
}

int
secret_gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const void *aad, size_t aadlen, const unsigned char *in, size_t len,
    unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n = 0, ok;

	if (len > INT32_MAX || aadlen > INT32_MAX ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_GCM_NONCE,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	    (aadlen == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) == 1) &&
	    (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    SECRET_GCM_TAG, tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + (len == 0 ? 0 : n), &n) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    SECRET_GCM_TAG, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
secret_load(const char *path, struct secret_keys *k, char *err,
    size_t errlen)
{
	unsigned char	buf[SECRET_MAX + 1];
	ssize_t		n = -1;
	int		fd, rc = -1;

	memset(k, 0, sizeof(*k));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n == -1)
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (n < SECRET_MIN || n > SECRET_MAX)
		(void)snprintf(err, errlen, "%s: expected %d to %d bytes",
		    path, SECRET_MIN, SECRET_MAX);
	else if (secret_derive(buf, (size_t)n, "postern csrf v1",
	    k->csrf) == -1 ||
	    secret_derive(buf, (size_t)n, "postern totp v1", k->totp) == -1 ||
	    secret_derive(buf, (size_t)n, "postern token v1", k->token) == -1 ||
	    secret_derive(buf, (size_t)n, "postern seal v1", k->seal) == -1)
		(void)snprintf(err, errlen, "%s: key derivation failed", path);
	else
		k->present = 1, rc = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1)
		secret_wipe(k);
	return rc;
}

void
secret_wipe(struct secret_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
