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
};

/*
 * Read <path> (at most 4 KiB; at least 32 bytes) and derive every key into
 * <k>.  Returns 0, or -1 with a reason in <err>.  The raw secret is wiped.
 */
int	secret_load(const char *path, struct secret_keys *k, char *err,
	    size_t errlen);
/* HKDF-SHA256(<ikm>, salt "postern", info <label>) into <out> (32 bytes). */
int	secret_derive(const unsigned char *ikm, size_t ikmlen,
	    const char *label, unsigned char *out);
void	secret_wipe(struct secret_keys *k);

#endif
