/*
 * totp.c, backup.c, qr.c: RFC 6238's test vectors, the ±1 step window and
 * the replay guard, input normalisation, base32, sealing (tampering fails,
 * another user's seed opens nowhere), backup codes and the QR markup; and
 * a cross-check against Debian's oathtool when it is installed.
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

#include "backup.h"
#include "qr.h"
#include "totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";

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
	}
}

static void
code_at(int64_t t, char *out)
{
	(void)snprintf(out, 7, "%06u", (unsigned)totp_code(rfc_key, 20,
	    (uint64_t)t / 30, 6));
}

static void
test_window_and_replay(void **state)
{
	const int64_t	now = 1234567890;
	char		c[8];
	int64_t		step;

	(void)state;
	code_at(now, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, -1, &step), 0);
	assert_int_equal(step, now / 30);
	code_at(now - 30, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, -1, &step), 0);
	assert_int_equal(step, now / 30 - 1);
	code_at(now + 30, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, -1, &step), 0);
	code_at(now - 60, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, -1, &step), -1);
	code_at(now + 60, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, -1, &step), -1);
	/* used: that step and every earlier one are refused */
	code_at(now, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, now / 30, &step),
	    -2);
	code_at(now - 30, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, now / 30, &step),
	    -2);
	code_at(now + 30, c);
	assert_int_equal(totp_verify(rfc_key, 20, c, now, now / 30, &step), 0);
	/* typed forms */
	code_at(now, c);
	{
		char spaced[16];

		(void)snprintf(spaced, sizeof(spaced), "%.3s %.3s", c, c + 3);
		assert_int_equal(totp_verify(rfc_key, 20, spaced, now, -1,
		    &step), 0);
		(void)snprintf(spaced, sizeof(spaced), "%.3s-%.3s", c, c + 3);
		assert_int_equal(totp_verify(rfc_key, 20, spaced, now, -1,
		    &step), 0);
	}
	assert_int_equal(totp_verify(rfc_key, 20, "", now, -1, &step), -1);
	assert_int_equal(totp_verify(rfc_key, 20, "12345", now, -1, &step),
	    -1);
	assert_int_equal(totp_verify(rfc_key, 20, "1234567", now, -1, &step),
	    -1);
	assert_int_equal(totp_verify(rfc_key, 20, "12345a", now, -1, &step),
	    -1);
	assert_int_equal(totp_verify(rfc_key, 20, "+12345", now, -1, &step),
	    -1);
}

static void
test_base32(void **state)
{
	unsigned char	in[20], out[40];
	char		b32[TOTP_B32_MAX];
	size_t		i;

	(void)state;
	assert_int_equal(totp_base32((const unsigned char *)"foobar", 6, b32,
	    sizeof(b32)), 0);
	assert_string_equal(b32, "MZXW6YTBOI");		/* RFC 4648 */
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 5);
	assert_int_equal(totp_base32(in, sizeof(in), b32, sizeof(b32)), 0);
	assert_int_equal(strlen(b32), 32);
	assert_int_equal(totp_base32_decode(b32, out, sizeof(out)), 20);
	assert_memory_equal(in, out, 20);
	assert_int_equal(totp_base32_decode("mzxw 6ytb-oi", out, sizeof(out)),
	    6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(totp_base32_decode("MZXW1", out, sizeof(out)), -1);
	assert_int_equal(totp_base32_decode(b32, out, 10), -1);
	assert_int_equal(totp_base32(in, sizeof(in), b32, 32), -1);
}

static void
test_seal_open(void **state)
{
	unsigned char	key[32], other[32], seed[TOTP_SECRET_LEN];
	unsigned char	out[TOTP_SECRET_MAX];
	char		s1[256], s2[256], bad[256];
	size_t		len, i;

	(void)state;
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	assert_int_equal(totp_new_secret(seed), 0);
	assert_int_equal(totp_seal(key, "u1", seed, sizeof(seed), s1,
	    sizeof(s1)), 0);
	assert_int_equal(totp_seal(key, "u1", seed, sizeof(seed), s2,
	    sizeof(s2)), 0);
	assert_string_not_equal(s1, s2);		/* fresh nonces */
	assert_memory_equal(s1, "v1.", 3);
	assert_int_equal(totp_open(key, "u1", s1, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(seed));
	assert_memory_equal(out, seed, sizeof(seed));
	assert_int_equal(totp_open(key, "u2", s1, out, sizeof(out), &len), -1);
	assert_int_equal(totp_open(other, "u1", s1, out, sizeof(out), &len),
	    -1);
	/* any character changed anywhere: nonce, ciphertext, tag */
	for (i = 3; i < strlen(s1); i++) {
		(void)strcpy(bad, s1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(totp_open(key, "u1", bad, out, sizeof(out),
		    &len), -1);
	}
	(void)strcpy(bad, s1);
	bad[strlen(bad) - 4] = '\0';			/* truncated */
	assert_int_equal(totp_open(key, "u1", bad, out, sizeof(out), &len),
	    -1);
	assert_int_equal(totp_open(key, "u1", "v2.AAAA", out, sizeof(out),
	    &len), -1);
	assert_int_equal(totp_open(key, "u1", "", out, sizeof(out), &len), -1);
}

static void
test_uri(void **state)
{
	char	uri[256];

	(void)state;
	assert_int_equal(totp_uri("Acme Gate", "a+b@x.com", "MZXW6YTBOI", uri,
	    sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/Acme%20Gate:a%2Bb@x.com?"
	    "secret=MZXW6YTBOI&issuer=Acme%20Gate&algorithm=SHA1&digits=6&"
	    "period=30");
	assert_int_equal(totp_uri("A", "b", "C", uri, 20), -1);
}

static void
test_backup_codes(void **state)
{
	char	codes[BACKUP_CODES][BACKUP_CODE_LEN + 1];
	char	norm[BACKUP_CHARS + 1], upper[64], h1[65], h2[65];
	int	i, j;

	(void)state;
	assert_int_equal(backup_generate(codes), 0);
	for (i = 0; i < BACKUP_CODES; i++) {
		assert_int_equal(strlen(codes[i]), BACKUP_CODE_LEN);
		for (j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
		assert_int_equal(backup_normalize(codes[i], norm,
		    sizeof(norm)), 0);
		assert_int_equal(strlen(norm), BACKUP_CHARS);
	}
	for (i = 0; codes[0][i] != '\0'; i++)
		upper[i] = codes[0][i] == '-' ? ' ' :
		    (char)(codes[0][i] >= 'a' ? codes[0][i] - 32 : codes[0][i]);
	upper[i] = '\0';
	assert_int_equal(backup_normalize(upper, norm, sizeof(norm)), 0);
	backup_hash(norm, h1);
	assert_int_equal(backup_normalize(codes[0], norm, sizeof(norm)), 0);
	backup_hash(norm, h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	assert_int_equal(backup_normalize("abc", norm, sizeof(norm)), -1);
	assert_int_equal(backup_normalize("aaaaaa-aaaaaa-aaaaaa-aaaaa1",
	    norm, sizeof(norm)), -1);		/* 1 is not in the alphabet */
	assert_int_equal(backup_normalize("aaaaaa-aaaaaa-aaaaaa-aaaaaaa",
	    norm, sizeof(norm)), -1);		/* one too many */
}

static void
test_qr_svg(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;
	size_t		 n;

	(void)state;
	assert_int_equal(qr_svg("otpauth://totp/A:b?secret=MZXW6YTBOI", b), 0);
	n = evbuffer_get_length(b);
	s = calloc(1, n + 1);
	(void)evbuffer_remove(b, s, n);
	assert_memory_equal(s, "<svg ", 5);
	assert_non_null(strstr(s, "viewBox=\"0 0 "));
	assert_non_null(strstr(s, "<title"));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "style="));
	assert_null(strstr(s, "href"));
	assert_non_null(strstr(s, "</svg>"));
	free(s);
	evbuffer_free(b);
}

static void
test_oathtool_agrees(void **state)
{
	unsigned char	seed[TOTP_SECRET_LEN];
	char		b32[TOTP_B32_MAX], cmd[256], got[16] = "", want[8];
	FILE		*p;
	int64_t		t = 1700000000;

	(void)state;
	if (system("command -v oathtool >/dev/null 2>&1") != 0)
		skip();
	assert_int_equal(totp_new_secret(seed), 0);
	assert_int_equal(totp_base32(seed, sizeof(seed), b32, sizeof(b32)), 0);
	(void)snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s --now @%lld",
	    b32, (long long)t);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(got, sizeof(got), p));
	(void)pclose(p);
	got[strcspn(got, "\n")] = '\0';
	(void)snprintf(want, sizeof(want), "%06u", (unsigned)totp_code(seed,
	    sizeof(seed), (uint64_t)t / 30, 6));
	assert_string_equal(got, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_window_and_replay),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_backup_codes),
		cmocka_unit_test(test_qr_svg),
		cmocka_unit_test(test_oathtool_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
