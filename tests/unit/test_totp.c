/*
 * totp.c, backup.c, qr.c: RFC 6238's test vectors, the ±1 step window and
 * the replay guard, input normalisation, base32 (RFC 4648 vectors, round
 * trips, canonical form), sealing (one bit changed anywhere, another user
 * or key, any re-encoding: nothing opens), the otpauth URI, backup codes,
 * the QR markup (the path redrawn module by module equals libqrencode's
 * matrix); and a cross-check against Debian's oathtool when installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <qrencode.h>

#include "backup.h"
#include "encode.h"
#include "qr.h"
#include "totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";

/* RFC 6238 Appendix B, SHA1 column (8 digits). */
static void
test_rfc6238_vectors(void **state)
{
	static const struct { uint64_t t; uint32_t code; } v[] = {
		{ 59, 94287082 }, { 1111111109, 7081804 },
		{ 1111111111, 14050471 }, { 1234567890, 89005924 },
		{ 2000000000, 69279037 }, { 20000000000ULL, 65353130 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_code(rfc_key, 20, v[i].t / 30, 8),
		    v[i].code);
		assert_int_equal(totp_code(rfc_key, 20, v[i].t / 30, 6),
		    v[i].code % 1000000);
		assert_int_equal(totp_code(rfc_key, 20, v[i].t / 30, 7),
		    v[i].code % 10000000);
	}
	/* RFC 4226 Appendix D (HOTP, counter 0 and 9) */
	assert_int_equal(totp_code(rfc_key, 20, 0, 6), 755224);
	assert_int_equal(totp_code(rfc_key, 20, 9, 6), 520489);
	assert_int_equal(totp_code(rfc_key, 20, 1, 5), TOTP_CODE_ERR);
	assert_int_equal(totp_code(rfc_key, 20, 1, 9), TOTP_CODE_ERR);
	assert_int_equal(totp_code(rfc_key, 20, 1, 10), TOTP_CODE_ERR);
}

static void
code_at(int64_t t, char *out)
{
	(void)snprintf(out, 7, "%06u", (unsigned)totp_code(rfc_key, 20,
	    (uint64_t)t / 30, 6));
}

static int
verify(const char *code, int64_t now, int64_t last, int64_t *step)
{
	return totp_verify(rfc_key, 20, code, now, last, step);
}

static void
test_window(void **state)
{
	const int64_t	now = 1234567890;
	char		c[8];
	int64_t		step = 0;

	(void)state;
	code_at(now, c);
	assert_int_equal(verify(c, now, -1, &step), 0);
	assert_int_equal(step, now / 30);
	code_at(now - 30, c);
	assert_int_equal(verify(c, now, -1, &step), 0);
	assert_int_equal(step, now / 30 - 1);
	code_at(now + 30, c);
	assert_int_equal(verify(c, now, -1, &step), 0);
	assert_int_equal(step, now / 30 + 1);
	code_at(now - 60, c);
	assert_int_equal(verify(c, now, -1, &step), -1);
	code_at(now + 60, c);
	assert_int_equal(verify(c, now, -1, &step), -1);
	/* the first and last second of a step */
	code_at(1111111080, c);
	assert_int_equal(verify(c, 1111111080 + 59, -1, &step), 0);
	assert_int_equal(verify(c, 1111111080 + 60, -1, &step), -1);
	assert_int_equal(verify(c, 1111111080 - 30, -1, &step), 0);
	assert_int_equal(verify(c, 1111111080 - 31, -1, &step), -1);
	/* before the second step there is no step -1 */
	code_at(0, c);
	assert_int_equal(verify(c, 29, -1, &step), -1);
}

static void
test_replay(void **state)
{
	const int64_t	now = 1234567890, cur = now / 30;
	char		c[8];
	int64_t		step = 0;

	(void)state;
	code_at(now, c);
	assert_int_equal(verify(c, now, -1, &step), 0);
	/* the caller stores <step>: the same code again is refused */
	assert_int_equal(verify(c, now, step, &step), -2);
	assert_int_equal(verify(c, now + 29, cur, &step), -2);
	/* and so is every code of an earlier step */
	code_at(now - 30, c);
	assert_int_equal(verify(c, now, cur, &step), -2);
	/* a later step's code still works, once */
	code_at(now + 30, c);
	step = 0;
	assert_int_equal(verify(c, now, cur, &step), 0);
	assert_int_equal(step, cur + 1);
	assert_int_equal(verify(c, now + 30, step, &step), -2);
	/* a wrong code is just wrong, not "used" */
	assert_int_equal(verify(strcmp(c, "000000") == 0 ? "000001" :
	    "000000", now, cur, &step), -1);
}

static void
test_typed_forms(void **state)
{
	static const char *bad[] = {
		"", " ", "------", "12345", "1234567", "12345a", "+12345",
		"12345\t6", "123456\n", "\t123456", "0x1234", "123.456",
		"12345 67", ("\xef\xbc\x91" "23456"),	/* fullwidth 1 */
		"123456\xc2\xa0", "-12345", "١٢٣٤٥٦",	/* Arabic-Indic */
	};
	const int64_t	now = 1234567890;
	char		c[8], typed[32];
	int64_t		step;
	size_t		i;

	(void)state;
	code_at(now, c);
	(void)snprintf(typed, sizeof(typed), "%.3s %.3s", c, c + 3);
	assert_int_equal(verify(typed, now, -1, &step), 0);
	(void)snprintf(typed, sizeof(typed), "%.3s-%.3s", c, c + 3);
	assert_int_equal(verify(typed, now, -1, &step), 0);
	(void)snprintf(typed, sizeof(typed), "  %.2s %.2s-%.2s  ", c, c + 2,
	    c + 4);
	assert_int_equal(verify(typed, now, -1, &step), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify(bad[i], now, -1, &step), -1);
	/* the right digits with one more or one fewer */
	(void)snprintf(typed, sizeof(typed), "%s0", c);
	assert_int_equal(verify(typed, now, -1, &step), -1);
	(void)snprintf(typed, sizeof(typed), "%.5s", c);
	assert_int_equal(verify(typed, now, -1, &step), -1);
}

static void
test_base32_vectors(void **state)
{
	static const char *v[][2] = {	/* RFC 4648 §10 */
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" },
		{ "foo", "MZXW6" }, { "foob", "MZXW6YQ" },
		{ "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	unsigned char	out[16];
	char		b32[TOTP_B32_MAX];
	size_t		i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = strlen(v[i][0]);
		assert_int_equal(totp_base32((const unsigned char *)v[i][0], n,
		    b32, sizeof(b32)), 0);
		assert_string_equal(b32, v[i][1]);
		assert_int_equal(totp_base32_decode(v[i][1], out, sizeof(out)),
		    (long)n);
		assert_memory_equal(out, v[i][0], n);
	}
	/* padded, lower case, grouped as apps show it */
	assert_int_equal(totp_base32_decode("MZXW6YQ=", out, sizeof(out)), 4);
	assert_int_equal(totp_base32_decode("mzxw 6ytb-oi", out, sizeof(out)),
	    6);
	assert_memory_equal(out, "foobar", 6);
	/* not base32, a dangling character, non-zero pad bits */
	assert_int_equal(totp_base32_decode("MZXW1", out, sizeof(out)), -1);
	assert_int_equal(totp_base32_decode("MZXW8", out, sizeof(out)), -1);
	assert_int_equal(totp_base32_decode("MZXW6YTBO", out, sizeof(out)),
	    -1);
	assert_int_equal(totp_base32_decode("M", out, sizeof(out)), -1);
	assert_int_equal(totp_base32_decode("MZXW6YTBOJ", out, sizeof(out)),
	    -1);
	assert_int_equal(totp_base32_decode("MZ", out, sizeof(out)), -1);
	assert_int_equal(totp_base32_decode("MZ\xc3\xa9", out, sizeof(out)),
	    -1);
	/* room */
	assert_int_equal(totp_base32_decode("MZXW6YTBOI", out, 5), -1);
	assert_int_equal(totp_base32_decode("MZXW6YTBOI", out, 6), 6);
	assert_int_equal(totp_base32((const unsigned char *)"foobar", 6, b32,
	    10), -1);
	assert_int_equal(totp_base32((const unsigned char *)"foobar", 6, b32,
	    11), 0);
}

static void
test_base32_round_trip(void **state)
{
	unsigned char	in[TOTP_SECRET_MAX], out[TOTP_SECRET_MAX];
	char		b32[TOTP_B32_MAX];
	size_t		n;

	(void)state;
	for (n = 0; n <= TOTP_SECRET_MAX; n++) {
		assert_int_equal(totp_new_secret(in), 0);	/* 20 */
		assert_int_equal(totp_new_secret(in + 20), 0);
		assert_int_equal(totp_new_secret(in + 40), 0);
		memset(in + 60, (int)n, 4);
		assert_int_equal(totp_base32(in, n, b32, sizeof(b32)), 0);
		assert_int_equal(strlen(b32), (n * 8 + 4) / 5);
		assert_int_equal(strspn(b32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		    strlen(b32));
		assert_int_equal(totp_base32_decode(b32, out, sizeof(out)),
		    (long)n);
		assert_memory_equal(in, out, n);
	}
	assert_int_equal(totp_new_secret(in), 0);
	assert_int_equal(totp_base32(in, TOTP_SECRET_LEN, b32, sizeof(b32)),
	    0);
	assert_int_equal(strlen(b32), 32);		/* 160 bits */
}

/* Decode unpadded base64url <s> into <out>; the byte count. */
static size_t
b64url_decode(const char *s, unsigned char *out)
{
	unsigned int	acc = 0, bits = 0;
	size_t		o = 0;

	for (; *s != '\0'; s++) {
		acc = (acc << 6) |
		    (unsigned int)(strchr(encode_b64url_chars, *s) -
		    encode_b64url_chars);
		if ((bits += 6) >= 8) {
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= 0xff;
	}
	return o;
}

static const unsigned char seal_key[32] = { 7, 7, 7, 7, 7, 7, 7 };

static int
open_u1(const char *sealed, unsigned char *out)
{
	size_t	len;

	return totp_open(seal_key, "u1", sealed, out, TOTP_SECRET_MAX, &len);
}

static void
test_seal_open(void **state)
{
	unsigned char	other[32], seed[TOTP_SECRET_LEN];
	unsigned char	out[TOTP_SECRET_MAX];
	char		s1[TOTP_SEALED_SIZE], s2[TOTP_SEALED_SIZE];
	size_t		len;

	(void)state;
	memset(other, 8, sizeof(other));
	assert_int_equal(totp_new_secret(seed), 0);
	assert_int_equal(totp_seal(seal_key, "u1", seed, sizeof(seed), s1,
	    sizeof(s1)), 0);
	assert_int_equal(totp_seal(seal_key, "u1", seed, sizeof(seed), s2,
	    sizeof(s2)), 0);
	assert_string_not_equal(s1, s2);		/* fresh nonces */
	assert_memory_equal(s1, "v1.", 3);
	assert_int_equal(strlen(s1), 3 + ENCODE_B64URL_LEN(12 + 20 + 16));
	assert_int_equal(totp_open(seal_key, "u1", s1, out, sizeof(out),
	    &len), 0);
	assert_int_equal(len, sizeof(seed));
	assert_memory_equal(out, seed, sizeof(seed));
	assert_int_equal(open_u1(s2, out), 0);
	assert_memory_equal(out, seed, sizeof(seed));
	/* the user id is the additional data; the key is the key */
	assert_int_equal(totp_open(seal_key, "u2", s1, out, sizeof(out),
	    &len), -1);
	assert_int_equal(totp_open(seal_key, "u10", s1, out, sizeof(out),
	    &len), -1);
	assert_int_equal(totp_open(seal_key, "", s1, out, sizeof(out), &len),
	    -1);
	assert_int_equal(totp_open(other, "u1", s1, out, sizeof(out), &len),
	    -1);
	/* a seed larger than the caller's buffer */
	assert_int_equal(totp_open(seal_key, "u1", s1, out, 19, &len), -1);
	/* refused: no user, no seed, too long a seed, too small an out */
	assert_int_equal(totp_seal(seal_key, "", seed, 20, s2, sizeof(s2)), -1);
	assert_int_equal(totp_seal(seal_key, "u1", seed, 0, s2, sizeof(s2)),
	    -1);
	{
		/* config secrets (SMTP passwords) up to TOTP_SEAL_MAX */
		unsigned char	big[TOTP_SEAL_MAX + 1], back[TOTP_SEAL_MAX];
		char		sb[600];

		memset(big, 0x33, sizeof(big));
		assert_int_equal(totp_seal(seal_key, "smtp", big,
		    TOTP_SEAL_MAX + 1, sb, sizeof(sb)), -1);
		assert_int_equal(totp_seal(seal_key, "smtp", big,
		    TOTP_SEAL_MAX, sb, sizeof(sb)), 0);
		assert_int_equal(totp_open(seal_key, "smtp", sb, back,
		    sizeof(back), &len), 0);
		assert_int_equal(len, TOTP_SEAL_MAX);
		assert_memory_equal(back, big, TOTP_SEAL_MAX);
		/* bound to its purpose */
		assert_int_equal(totp_open(seal_key, "webhook", sb, back,
		    sizeof(back), &len), -1);
	}
	assert_int_equal(totp_seal(seal_key, "u1", seed, 20, s2,
	    3 + ENCODE_B64URL_LEN(48)), -1);
	assert_string_equal(s2, "");
	assert_int_equal(totp_seal(seal_key, "u1", seed, 20, s2,
	    3 + ENCODE_B64URL_LEN(48) + 1), 0);
	/* the longest seed fits TOTP_SEALED_SIZE */
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(totp_seal(seal_key, "u1", out, TOTP_SECRET_MAX, s2,
	    sizeof(s2)), 0);
	assert_int_equal(totp_open(seal_key, "u1", s2, seed, sizeof(seed),
	    &len), -1);				/* 64 bytes into 20 */
	assert_int_equal(totp_open(seal_key, "u1", s2, out, sizeof(out),
	    &len), 0);
	assert_int_equal(len, TOTP_SECRET_MAX);
}

/*
 * One bit flipped in any byte of the nonce, the ciphertext or the tag: the
 * re-encoded string opens nowhere.
 */
static void
test_seal_bit_flips(void **state)
{
	unsigned char	seed[TOTP_SECRET_LEN], raw[128], out[TOTP_SECRET_MAX];
	char		s[TOTP_SEALED_SIZE], bad[TOTP_SEALED_SIZE];
	size_t		n, i;
	int		bit;

	(void)state;
	assert_int_equal(totp_new_secret(seed), 0);
	assert_int_equal(totp_seal(seal_key, "u1", seed, sizeof(seed), s,
	    sizeof(s)), 0);
	n = b64url_decode(s + 3, raw);
	assert_int_equal(n, 12 + 20 + 16);	/* nonce, ciphertext, tag */
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 7) {	/* low and high bit */
			raw[i] ^= (unsigned char)(1u << bit);
			memcpy(bad, "v1.", 3);
			assert_true(encode_b64url(raw, n, bad + 3,
			    sizeof(bad) - 3) > 0);
			assert_int_equal(open_u1(bad, out), -1);
			raw[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* a byte cut off or added at the end (tag truncated or extended) */
	memcpy(bad, "v1.", 3);
	assert_true(encode_b64url(raw, n - 1, bad + 3, sizeof(bad) - 3) > 0);
	assert_int_equal(open_u1(bad, out), -1);
	raw[n] = 0;
	assert_true(encode_b64url(raw, n + 1, bad + 3, sizeof(bad) - 3) > 0);
	assert_int_equal(open_u1(bad, out), -1);
	/* ciphertext only, no room for the tag */
	assert_true(encode_b64url(raw, 12 + 16, bad + 3, sizeof(bad) - 3) > 0);
	assert_int_equal(open_u1(bad, out), -1);
}

/*
 * The string itself: every character changed, a character added or cut,
 * another version or encoding: nothing opens.  For a 21-byte seed the last
 * character carries pad bits, which must be zero (canonical encoding).
 */
static void
test_seal_string_changes(void **state)
{
	unsigned char	seed[21], out[TOTP_SECRET_MAX];
	char		s[TOTP_SEALED_SIZE], bad[TOTP_SEALED_SIZE + 2];
	size_t		i, n;

	(void)state;
	memset(seed, 0x42, sizeof(seed));
	assert_int_equal(totp_seal(seal_key, "u1", seed, 20, s, sizeof(s)), 0);
	n = strlen(s);
	for (i = 0; i < n; i++) {
		(void)strcpy(bad, s);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(open_u1(bad, out), -1);
	}
	(void)snprintf(bad, sizeof(bad), "%sA", s);	/* 6 dangling bits */
	assert_int_equal(open_u1(bad, out), -1);
	(void)snprintf(bad, sizeof(bad), "%s=", s);	/* padding */
	assert_int_equal(open_u1(bad, out), -1);
	(void)snprintf(bad, sizeof(bad), " %s", s);
	assert_int_equal(open_u1(bad, out), -1);
	(void)snprintf(bad, sizeof(bad), "%.*s", (int)n - 1, s);
	assert_int_equal(open_u1(bad, out), -1);
	(void)snprintf(bad, sizeof(bad), "V1.%s", s + 3);
	assert_int_equal(open_u1(bad, out), -1);
	(void)snprintf(bad, sizeof(bad), "v2.%s", s + 3);
	assert_int_equal(open_u1(bad, out), -1);
	assert_int_equal(open_u1("v1.", out), -1);
	assert_int_equal(open_u1("", out), -1);
	/* 12 + 21 + 16 = 49 bytes: 66 characters, the last with 4 pad bits */
	assert_int_equal(totp_seal(seal_key, "u1", seed, 21, s, sizeof(s)), 0);
	n = strlen(s);
	assert_int_equal(n, 3 + 66);
	assert_int_equal(open_u1(s, out), 0);
	for (i = 1; i < 16; i++) {
		(void)strcpy(bad, s);
		bad[n - 1] = encode_b64url_chars[(strchr(encode_b64url_chars,
		    s[n - 1]) - encode_b64url_chars) ^ (long)i];
		assert_int_equal(open_u1(bad, out), -1);
	}
}

static void
test_uri(void **state)
{
	char	uri[256];
	size_t	need;

	(void)state;
	assert_int_equal(totp_uri("Acme Gate", "a+b@x.com", "MZXW6YTBOI", uri,
	    sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/Acme%20Gate:a%2Bb@x.com?"
	    "secret=MZXW6YTBOI&issuer=Acme%20Gate&algorithm=SHA1&digits=6&"
	    "period=30");
	/* delimiters of the label and the query are encoded */
	assert_int_equal(totp_uri("A:B&C", "x?y#z/%", "MY", uri,
	    sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/A%3AB%26C:x%3Fy%23z%2F%25?"
	    "secret=MY&issuer=A%3AB%26C&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_uri("\xc3\xa9", "a", "MY", uri, sizeof(uri)), 0);
	assert_memory_equal(uri, "otpauth://totp/%C3%A9:a?", 24);
	/* the secret must be base32 */
	assert_int_equal(totp_uri("A", "b", "MY&x=1", uri, sizeof(uri)), -1);
	assert_string_equal(uri, "");
	assert_int_equal(totp_uri("A", "b", "", uri, sizeof(uri)), -1);
	assert_int_equal(totp_uri("A", "b", "my", uri, sizeof(uri)), -1);
	/* exact room */
	assert_int_equal(totp_uri("A", "b", "MY", uri, sizeof(uri)), 0);
	need = strlen(uri) + 1;
	assert_int_equal(totp_uri("A", "b", "MY", uri, need - 1), -1);
	assert_string_equal(uri, "");
	assert_int_equal(totp_uri("A", "b", "MY", uri, need), 0);
	assert_int_equal(totp_uri("A", "b", "MY", uri, 0), -1);
}

static void
test_backup_generate(void **state)
{
	char	codes[BACKUP_CODES][BACKUP_CODE_LEN + 1];
	char	norm[BACKUP_CHARS + 1];
	int	i, j;

	(void)state;
	assert_int_equal(BACKUP_CODES, 10);
	assert_true(BACKUP_CHARS * 5 >= 112);	/* 5 bits a character */
	assert_int_equal(backup_generate(codes), 0);
	for (i = 0; i < BACKUP_CODES; i++) {
		assert_int_equal(strlen(codes[i]), 27);
		for (j = 0; j < 27; j++)
			if (j % 7 == 6)
				assert_int_equal(codes[i][j], '-');
			else
				assert_non_null(strchr("abcdefghijklmnopqrstuv"
				    "wxyz234567", codes[i][j]));
		for (j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
		assert_int_equal(backup_normalize(codes[i], norm,
		    sizeof(norm)), 0);
		assert_int_equal(strlen(norm), BACKUP_CHARS);
	}
}

static void
test_backup_normalize(void **state)
{
	static const char *bad[] = {
		"", "abc", "abcdef-ghijkl-mnopqr-stuvw",	/* 23 */
		"abcdef-ghijkl-mnopqr-stuvwxy",			/* 25 */
		"abcdef-ghijkl-mnopqr-stuvw1",	/* 1, 0, 8, 9 not in it */
		"abcdef-ghijkl-mnopqr-stuvw0", "abcdef-ghijkl-mnopqr-stuvw8",
		"abcdef_ghijkl_mnopqr_stuvwx", "abcdef-ghijkl-mnopqr-stuvw\xc3\xa9",
		"abcdef\tghijkl-mnopqr-stuvwx", "abcdef-ghijkl-mnopqr-stuvwx\n",
		"abcdef.ghijkl-mnopqr-stuvwx",
	};
	char	norm[BACKUP_CHARS + 1], h1[65], h2[65];
	size_t	i;

	(void)state;
	assert_int_equal(backup_normalize("abcdef-ghijkl-mnopqr-stuvwx", norm,
	    sizeof(norm)), 0);
	assert_string_equal(norm, "abcdefghijklmnopqrstuvwx");
	assert_int_equal(backup_normalize(" ABCDEF GHIJKL-mnopqr stuvWX ",
	    norm, sizeof(norm)), 0);
	assert_string_equal(norm, "abcdefghijklmnopqrstuvwx");
	assert_int_equal(backup_normalize("abcdefghijklmnopqrstu234", norm,
	    sizeof(norm)), 0);
	assert_int_equal(backup_normalize("a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-"
	    "r-s-t-u-v-w-x", norm, sizeof(norm)), 0);
	assert_string_equal(norm, "abcdefghijklmnopqrstuvwx");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(backup_normalize(bad[i], norm, sizeof(norm)),
		    -1);
		assert_string_equal(norm, "");		/* wiped */
	}
	assert_int_equal(backup_normalize("abcdef-ghijkl-mnopqr-stuvwx", norm,
	    BACKUP_CHARS), -1);
	/* the stored form: hex SHA-256 of the normalised code */
	assert_int_equal(backup_normalize("ABCDEF-ghijkl-MNOPQR-stuvwx", norm,
	    sizeof(norm)), 0);
	backup_hash(norm, h1);
	assert_string_equal(h1, "93b0cabf8668e0c534c52a568957499e12a284f59d97d"
	    "c9b2725ef836804875b");
	backup_hash("abcdefghijklmnopqrstuvwx", h2);
	assert_string_equal(h1, h2);
}

/* The SVG of <text> as a string the caller frees. */
static char *
svg_of(const char *text)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;
	size_t		 n;

	assert_non_null(b);
	assert_int_equal(evbuffer_add(b, "<p>", 3), 0);
	assert_int_equal(qr_svg(text, b), 0);
	assert_int_equal(evbuffer_drain(b, 3), 0);
	n = evbuffer_get_length(b);
	assert_non_null(s = calloc(1, n + 1));
	assert_int_equal(evbuffer_remove(b, s, n), (int)n);
	evbuffer_free(b);
	return s;
}

/*
 * Redraw the path's "Mx yhNv1h-Nz" runs into <grid> (<w> x <w> modules,
 * quiet zone included) and check that nothing else is in the path.
 */
static void
svg_draw(const char *s, int w, unsigned char *grid)
{
	const char	*d;
	int		 x, y, run, run2, used, i;

	assert_non_null(d = strstr(s, " d=\""));
	for (d += 4; *d != '"'; d += used) {
		used = 0;
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run,
		    &run2, &used), 4);
		assert_true(used > 0);
		assert_int_equal(run, run2);
		assert_true(x >= 4 && y >= 4 && run > 0 && x + run <= w - 4 &&
		    y < w - 4);
		for (i = 0; i < run; i++) {
			assert_int_equal(grid[y * w + x + i], 0);	/* once */
			grid[y * w + x + i] = 1;
		}
	}
	assert_string_equal(d, "\"/></svg>\n");
}

static void
check_qr(const char *text, int version)
{
	QRcode		*q;
	unsigned char	*grid;
	char		*s, head[64];
	int		 w, x, y, dark = 0;

	assert_non_null(q = QRcode_encodeString(text, 0, QR_ECLEVEL_M,
	    QR_MODE_8, 1));
	assert_int_equal(q->version, version);
	assert_int_equal(q->width, 17 + 4 * version);
	w = q->width + 8;
	s = svg_of(text);
	assert_memory_equal(s, "<svg ", 5);
	(void)snprintf(head, sizeof(head), "viewBox=\"0 0 %d %d\"", w, w);
	assert_non_null(strstr(s, head));
	assert_non_null(strstr(s, "shape-rendering=\"crispEdges\""));
	assert_non_null(strstr(s, "<title id=\"qrtitle\">"));
	assert_non_null(strstr(s, "aria-labelledby=\"qrtitle\""));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "style"));
	assert_null(strstr(s, "href"));
	assert_null(strstr(s, "url("));
	assert_null(strstr(s, " on"));		/* no event handlers */
	assert_int_equal(strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	    "OPQRSTUVWXYZ0123456789 <>/=\"#:.-\n"), strlen(s));
	assert_non_null(grid = calloc((size_t)(w * w), 1));
	svg_draw(s, w, grid);
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++) {
			assert_int_equal(grid[(y + 4) * w + x + 4],
			    q->data[y * q->width + x] & 1);
			dark += q->data[y * q->width + x] & 1;
		}
	assert_true(dark > q->width * q->width / 4);	/* a real code */
	free(grid);
	free(s);
	QRcode_free(q);
}

static void
test_qr_svg(void **state)
{
	struct evbuffer	*b;
	char		 big[4000];

	(void)state;
	check_qr("HELLO", 1);			/* 21 x 21 modules */
	/* a real enrolment URI: 131 bytes, version 8 (49 x 49) at level M */
	check_qr("otpauth://totp/Postern:alice%40example.com?secret=ABCDEFGH"
	    "IJKLMNOPQRSTUVWXYZ234567&issuer=Postern&algorithm=SHA1&digits=6&"
	    "period=30", 8);
	/* nothing appended on failure: empty, or too long for any version */
	assert_non_null(b = evbuffer_new());
	assert_int_equal(qr_svg("", b), -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(qr_svg(big, b), -1);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

/* oathtool's code for base32 <b32> at unix time <t>, into <got>. */
static void
oathtool_at(const char *b32, int64_t t, char *got, size_t size)
{
	char	cmd[256];
	FILE	*p;

	(void)snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s --now @%lld",
	    b32, (long long)t);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(got, (int)size, p));
	assert_int_equal(pclose(p), 0);
	got[strcspn(got, "\n")] = '\0';
}

static void
test_oathtool_agrees(void **state)
{
	static const int64_t times[] = { 59, 1111111109, 1700000000,
	    2000000000, 4102444800 };
	unsigned char	seed[TOTP_SECRET_LEN];
	char		b32[TOTP_B32_MAX], got[16], want[16];
	int64_t		step;
	size_t		i;

	(void)state;
	if (system("command -v oathtool >/dev/null 2>&1") != 0)
		skip();
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		assert_int_equal(totp_new_secret(seed), 0);
		assert_int_equal(totp_base32(seed, sizeof(seed), b32,
		    sizeof(b32)), 0);
		oathtool_at(b32, times[i], got, sizeof(got));
		(void)snprintf(want, sizeof(want), "%06u",
		    (unsigned)totp_code(seed, sizeof(seed),
		    (uint64_t)times[i] / 30, 6));
		assert_string_equal(got, want);
		/* and what oathtool shows, typed in, verifies */
		assert_int_equal(totp_verify(seed, sizeof(seed), got,
		    times[i], -1, &step), 0);
		assert_int_equal(step, times[i] / 30);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_typed_forms),
		cmocka_unit_test(test_base32_vectors),
		cmocka_unit_test(test_base32_round_trip),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_bit_flips),
		cmocka_unit_test(test_seal_string_changes),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_backup_generate),
		cmocka_unit_test(test_backup_normalize),
		cmocka_unit_test(test_qr_svg),
		cmocka_unit_test(test_oathtool_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
