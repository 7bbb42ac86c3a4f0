/*
 * Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30 s
 * steps) and the storage of their seeds: sealed with AES-256-GCM under the
 * gateway's TOTP key (HKDF from secret_file, secret.h), the user id as
 * additional data, so a sealed seed copied to another user opens nowhere.
 * No I/O: the account pages keep the sealed form and the last step used
 * in Redis (acctstore.h).
 */
#ifndef POSTERN_TOTP_H
#define POSTERN_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN	20	/* bytes of a new seed (160 bits) */
#define TOTP_SECRET_MAX	64	/* longest seed accepted */
#define TOTP_SEAL_MAX	256	/* longest value sealed (seeds, config) */
#define TOTP_B32_MAX	(TOTP_SECRET_MAX * 8 / 5 + 2)
#define TOTP_PERIOD	30	/* seconds */
#define TOTP_DIGITS	6
#define TOTP_CODE_ERR	UINT32_MAX	/* totp_code() failed */
/* Room for the longest sealed seed: "v1." base64url(12 + 64 + 16) NUL. */
#define TOTP_SEALED_SIZE \
	(3 + ((12 + TOTP_SECRET_MAX + 16) * 4 + 2) / 3 + 1)

/* A new random seed into <out> (TOTP_SECRET_LEN bytes); 0 or -1. */
int	totp_new_secret(unsigned char out[TOTP_SECRET_LEN]);

/*
 * RFC 4648 base32 of <n> bytes, upper case, no padding, into <out>; 0, or
 * -1 if <size> is too small.
 */
int	totp_base32(const unsigned char *in, size_t n, char *out, size_t size);
/*
 * Decode base32 <s> (case-insensitive; spaces, '-' and '=' ignored) into
 * <out>; the byte count, or -1 if malformed (a character outside the
 * alphabet, a dangling last character, non-zero pad bits) or longer than
 * <size>.
 */
long	totp_base32_decode(const char *s, unsigned char *out, size_t size);

/*
 * The <digits>-digit (6 to 8) HOTP value of time step <step> for seed
 * <key> (RFC 4226 §5.3), or TOTP_CODE_ERR.
 */
uint32_t totp_code(const unsigned char *key, size_t keylen, uint64_t step,
	    int digits);

/*
 * Check the code typed as <input> (digits; spaces and '-' ignored; exactly
 * TOTP_DIGITS) at <now> against steps now-1, now and now+1, each compared
 * in constant time, every time.  A step at or below <last_step> (the last
 * accepted, -1 for none) is refused: a code works once.  Returns 0 with
 * the matched step in *<matched>, -2 if the code was right but already
 * used, or -1.
 */
int	totp_verify(const unsigned char *key, size_t keylen, const char *input,
	    int64_t now, int64_t last_step, int64_t *matched);

/*
 * The otpauth:// URI authenticator apps scan (Key Uri Format: label
 * "<issuer>:<account>", both percent-encoded, secret <b32> which must be
 * base32), into <out>; 0, or -1 (then <out> holds "").
 */
int	totp_uri(const char *issuer, const char *account, const char *b32,
	    char *out, size_t size);

/*
 * Seal seed <secret> (1 to TOTP_SEAL_MAX bytes: a seed, or a secret of the
 * config) of user <user> (not empty; for config values, the purpose) under
 * <key> (32 bytes) into <out> (TOTP_SEALED_SIZE is always enough for a
 * seed) as "v1." + base64url(nonce || ciphertext || tag), a fresh random
 * nonce each time; 0, or -1 (then <out> holds "").
 */
int	totp_seal(const unsigned char *key, const char *user,
	    const unsigned char *secret, size_t len, char *out, size_t size);
/*
 * Open <sealed> of <user>: the seed into <out> (*<len> bytes); 0, or -1 if
 * it is malformed, was sealed for another user or key, or was changed in
 * any way (then <out> is wiped).
 */
int	totp_open(const unsigned char *key, const char *user,
	    const char *sealed, unsigned char *out, size_t size, size_t *len);

#endif
