/*
 * The gateway secret (secret_file, at least 32 random bytes) and the keys
 * derived from it with HKDF-SHA256, one per purpose, so that no two uses
 * share a key and a leak of one derived key reveals nothing of the others.
 */
#ifndef POSTERN_SECRET_H
#define POSTERN_SECRET_H

#include <stddef.h>

#define SECRET_KEY_LEN	32

struct secret_keys {
	int		present;	/* a secret_file was configured */
	unsigned char	csrf[SECRET_KEY_LEN];	/* CSRF token MACs */
	unsigned char	totp[SECRET_KEY_LEN];	/* AES-256-GCM of TOTP seeds */
	unsigned char	token[SECRET_KEY_LEN];	/* MACs of other tokens */
	unsigned char	seal[SECRET_KEY_LEN];	/* sealed config values */
	unsigned char	acme[SECRET_KEY_LEN];	/* sealed ACME keys */
};

/*
 * Read <path> (at most 4 KiB; at least 32 bytes) and derive every key into
 * <k>.  Returns 0, or -1 with a reason in <err>.  The raw secret is wiped.
 */
int	secret_load(const char *path, struct secret_keys *k, char *err,
	    size_t errlen);
/*
 * Whether <len> bytes <buf> look like at least 256 random bits, the rule
 * for secret_file: raw bytes (at least 32), or their hex (64 digits) or
 * base64 (43 characters) encoding, line breaks ignored; any other
 * printable text (words, a passphrase, a typed password) is refused, and so
 * is content whose symbols, or the steps between them, are too unevenly
 * spread (repeated bytes, counting sequences) or that repeats a 64-bit run.
 * Returns 0, or -1 with what is wrong in <why>.
 */
int	secret_strength(const unsigned char *buf, size_t len, char *why,
	    size_t whylen);
/*
 * Read secret file <path> and apply secret_strength() to it.  0, or -1
 * with the reason in <err>.  The content is wiped.
 */
int	secret_file_check(const char *path, char *err, size_t errlen);
/* HKDF-SHA256 (RFC 5869) of the given salt, key and info: <outlen> bytes. */
int	secret_hkdf(const void *salt, size_t saltlen, const void *ikm,
	    size_t ikmlen, const void *info, size_t infolen,
	    unsigned char *out, size_t outlen);

#define SECRET_GCM_NONCE	12
#define SECRET_GCM_TAG		16
/*
 * AES-256-GCM: encrypt (<enc> 1: <in> to <out>, the tag into <tag>) or
 * decrypt (<enc> 0: fails unless <tag> matches) <len> bytes with <key>
 * (32 bytes), a 96-bit <nonce> and <aad>.  0 or -1.
 */
int	secret_gcm(int enc, const unsigned char *key,
	    const unsigned char *nonce, const void *aad, size_t aadlen,
	    const unsigned char *in, size_t len, unsigned char *out,
	    unsigned char *tag);

/* Room for the sealed form of <n> bytes, NUL included. */
#define SECRET_SEALED_LEN(n) \
	(3 + ((SECRET_GCM_NONCE + (n) + SECRET_GCM_TAG) * 4 + 2) / 3 + 1)
/*
 * Seal <len> bytes <in> (at least 1) under <key> (32 bytes) with <aad>,
 * the context the value belongs to (a user id, a host), into <out>
 * (<size> bytes, SECRET_SEALED_LEN(len) is enough) as "v1." +
 * base64url(nonce || ciphertext || tag), a fresh random nonce each time.
 * 0, or -1 (then <out> holds "").
 */
int	secret_seal(const unsigned char *key, const void *aad, size_t aadlen,
	    const unsigned char *in, size_t len, char *out, size_t size);
/*
 * Open <sealed> (from secret_seal() with the same <key> and <aad>) into
 * <out> (<size> bytes), its length in *<len>; 0, or -1 if it is
 * malformed, longer than <size>, was sealed with another key or <aad>, or
 * was changed in any way (then <out> is wiped).
 */
int	secret_open(const unsigned char *key, const void *aad, size_t aadlen,
	    const char *sealed, unsigned char *out, size_t size, size_t *len);

/* HKDF-SHA256(<ikm>, salt "postern", info <label>) into <out> (32 bytes). */
int	secret_derive(const unsigned char *ikm, size_t ikmlen,
	    const char *label, unsigned char *out);
void	secret_wipe(struct secret_keys *k);

#endif
