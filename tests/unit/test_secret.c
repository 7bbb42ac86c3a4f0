/*
 * secret.c: HKDF-SHA256 against RFC 5869's test cases 1 and 3, AES-256-GCM
 * against the GCM specification's test case 16 (with AAD), and the
 * failures that must stay failures (wrong key, AAD, tag, ciphertext), and
 * the strength rule of secret files: what `head -c 32 /dev/urandom`,
 * `openssl rand -hex 32` and `openssl rand -base64 32` make passes (every
 * one of thousands of draws), passphrases and patterns do not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "encode.h"
#include "secret.h"

static size_t
unhex(const char *s, unsigned char *out)
{
	size_t	n;

	for (n = 0; s[2 * n] != '\0'; n++) {
		unsigned int b;

		(void)sscanf(s + 2 * n, "%2x", &b);
		out[n] = (unsigned char)b;
	}
	return n;
}

static void
test_hkdf_rfc5869(void **state)
{
	unsigned char	ikm[22], salt[13], info[10], okm[42];
	char		hex[85];
	size_t		i;

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (unsigned char)i;
	for (i = 0; i < sizeof(info); i++)
		info[i] = (unsigned char)(0xf0 + i);
	assert_int_equal(secret_hkdf(salt, sizeof(salt), ikm, sizeof(ikm),
	    info, sizeof(info), okm, sizeof(okm)), 0);
	encode_hex(okm, sizeof(okm), hex);
	assert_string_equal(hex, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a"
	    "5a4c5db02d56ecc4c5bf34007208d5b887185865");
	/* test case 3: no salt, no info */
	assert_int_equal(secret_hkdf("", 0, ikm, sizeof(ikm), "", 0, okm,
	    sizeof(okm)), 0);
	encode_hex(okm, sizeof(okm), hex);
	assert_string_equal(hex, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1"
	    "879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

static void
test_gcm_vector(void **state)
{
	unsigned char	key[32], iv[12], pt[60], aad[20], ct[60], tag[16];
	unsigned char	back[60], want_ct[60], want_tag[16];
	size_t		n;

	(void)state;
	(void)unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f94"
	    "67308308", key);
	(void)unhex("cafebabefacedbaddecaf888", iv);
	n = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a"
	    "318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    pt);
	assert_int_equal(n, 60);
	(void)unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
	(void)unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
	    "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    want_ct);
	(void)unhex("76fc6ece0f4e1768cddf8853bb2d551b", want_tag);
	assert_int_equal(secret_gcm(1, key, iv, aad, sizeof(aad), pt, 60, ct,
	    tag), 0);
	assert_memory_equal(ct, want_ct, 60);
	assert_memory_equal(tag, want_tag, 16);
	assert_int_equal(secret_gcm(0, key, iv, aad, sizeof(aad), ct, 60, back,
	    tag), 0);
	assert_memory_equal(back, pt, 60);
	/* anything changed fails */
	aad[0] ^= 1;
	assert_int_equal(secret_gcm(0, key, iv, aad, sizeof(aad), ct, 60, back,
	    tag), -1);
	aad[0] ^= 1;
	ct[59] ^= 1;
	assert_int_equal(secret_gcm(0, key, iv, aad, sizeof(aad), ct, 60, back,
	    tag), -1);
	ct[59] ^= 1;
	tag[0] ^= 1;
	assert_int_equal(secret_gcm(0, key, iv, aad, sizeof(aad), ct, 60, back,
	    tag), -1);
	tag[0] ^= 1;
	key[31] ^= 1;
	assert_int_equal(secret_gcm(0, key, iv, aad, sizeof(aad), ct, 60, back,
	    tag), -1);
}

static int
strong(const void *buf, size_t len)
{
	char	why[160];

	return secret_strength(buf, len, why, sizeof(why)) == 0;
}

static int
strong_str(const char *s)
{
	return strong(s, strlen(s));
}

/* Random secrets in each accepted form never fail (no false refusals). */
/*
 * secret_seal/secret_open: a PEM-sized value opens with its key and AAD
 * only; a changed byte, a cut, another key, another AAD, a foreign version
 * or a buffer too small all fail and leave nothing readable.
 */
static void
test_seal_open(void **state)
{
	unsigned char	 key[32], other[32], in[3000], out[3000];
	char		*sealed, *bad;
	size_t		 size = SECRET_SEALED_LEN(sizeof(in)), len = 0, i;

	(void)state;
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	memcpy(other, key, sizeof(key));
	other[31] ^= 1;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7);
	sealed = malloc(size);
	bad = malloc(size);
	assert_int_equal(secret_seal(key, "acme:a.com", 10, in, sizeof(in),
	    sealed, size - 1), -1);
	assert_string_equal(sealed, "");
	assert_int_equal(secret_seal(key, "acme:a.com", 10, in, sizeof(in),
	    sealed, size), 0);
	assert_int_equal(strlen(sealed) + 1, size);
	assert_memory_equal(sealed, "v1.", 3);
	assert_int_equal(secret_open(key, "acme:a.com", 10, sealed, out,
	    sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	/* a second seal of the same value differs (fresh nonce) */
	assert_int_equal(secret_seal(key, "acme:a.com", 10, in, sizeof(in),
	    bad, size), 0);
	assert_string_not_equal(bad, sealed);
	out[0] = 1;
	assert_int_equal(secret_open(key, "acme:b.com", 10, sealed, out,
	    sizeof(out), &len), -1);
	assert_int_equal(out[0], 0);	/* wiped */
	assert_int_equal(secret_open(other, "acme:a.com", 10, sealed, out,
	    sizeof(out), &len), -1);
	assert_int_equal(secret_open(key, "acme:a.com", 10, sealed, out,
	    sizeof(out) - 1, &len), -1);
	for (i = 3; i < strlen(sealed); i += 997) {
		strcpy(bad, sealed);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(secret_open(key, "acme:a.com", 10, bad, out,
		    sizeof(out), &len), -1);
	}
	strcpy(bad, sealed);
	bad[strlen(bad) - 4] = '\0';
	assert_int_equal(secret_open(key, "acme:a.com", 10, bad, out,
	    sizeof(out), &len), -1);
	strcpy(bad, sealed);
	bad[1] = '2';
	assert_int_equal(secret_open(key, "acme:a.com", 10, bad, out,
	    sizeof(out), &len), -1);
	assert_int_equal(secret_open(key, "acme:a.com", 10, "v1.", out,
	    sizeof(out), &len), -1);
	assert_int_equal(secret_open(key, "acme:a.com", 10, "v1.!!!!", out,
	    sizeof(out), &len), -1);
	assert_int_equal(secret_seal(key, "x", 1, in, 0, bad, size), -1);
	free(sealed);
	free(bad);
}

static void
test_strength_random_forms(void **state)
{
	unsigned char	raw[4096];
	char		text[2 * sizeof(raw) + 2];
	size_t		sizes[] = { 32, 33, 48, 64, 100, 1024, 4096 };
	int		i, j;

	(void)state;
	for (i = 0; i < 3000; i++) {
		assert_int_equal(RAND_bytes(raw, 32), 1);
		assert_true(strong(raw, 32));
		encode_hex(raw, 32, text);		/* openssl rand -hex 32 */
		strcat(text, "\n");
		assert_true(strong_str(text));
		assert_int_equal(EVP_EncodeBlock((unsigned char *)text, raw,
		    32), 44);				/* openssl rand -base64 32 */
		assert_true(strong_str(text));
		text[43] = '\0';			/* unpadded base64url */
		for (j = 0; j < 43; j++)
			text[j] = text[j] == '+' ? '-' : text[j] == '/' ?
			    '_' : text[j];
		assert_true(strong_str(text));
	}
	for (i = 0; i < 1000; i++) {
		/* openssl rand -base64 64: wrapped at 64 characters */
		assert_int_equal(RAND_bytes(raw, 64), 1);
		assert_int_equal(EVP_EncodeBlock((unsigned char *)text + 1,
		    raw, 64), 88);
		memmove(text, text + 1, 64);
		text[64] = '\n';
		strcat(text, "\n");
		assert_true(strong_str(text));
		encode_hex(raw, 32, text);		/* Windows line end */
		strcat(text, "\r\n");
		assert_true(strong_str(text));
	}
	for (i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
		assert_int_equal(RAND_bytes(raw, (int)sizes[i]), 1);
		assert_true(strong(raw, sizes[i]));
	}
}

/* Too short in its form: 256 bits are 32 bytes, 64 hex, 43 base64. */
static void
test_strength_too_little(void **state)
{
	unsigned char	raw[32];
	char		text[80], why[160];

	(void)state;
	assert_int_equal(RAND_bytes(raw, sizeof(raw)), 1);
	assert_false(strong(raw, 31));
	assert_false(strong("", 0));
	encode_hex(raw, 16, text);	/* openssl rand -hex 16: 128 bits */
	assert_int_equal(secret_strength((unsigned char *)text, strlen(text),
	    why, sizeof(why)), -1);
	assert_string_equal(why, "holds 32 hex digits (128 bits); expected "
	    "at least 256 bits");
	encode_hex(raw, 31, text);
	assert_false(strong_str(text));
	(void)EVP_EncodeBlock((unsigned char *)text, raw, 24); /* 32 chars */
	assert_false(strong_str(text));
	/* 32 printable bytes are not 32 random bytes */
	assert_false(strong_str("Zq3vW9xK2mR7tB5nL8pY4cF6hJ1dG0sA"));
}

/* Passphrases, words and typed passwords, however long. */
static void
test_strength_passphrases(void **state)
{
	static const char *const weak[] = {
		"correct horse battery staple correct horse battery staple",
		"correct horse battery staple and a long tail of more words",
		"thisismysupersecretgatewaysecretkeythatnobodywillguess2024",
		"Th1s-1s-My-Sup3r-S3cr3t-G4t3w4y-P4ssphr4s3!-2024-#postern",
		/* one literal: clang's -Wstring-concatenation takes two
		 * adjacent ones in an array for a missing comma */
		"p\xc3\xa4ssw\xc3\xb6rd f\xc3\xbcr das gateway, bitte geheim halten",
		"The quick brown fox jumps over the lazy dog. The quick brown",
		"ZXhhbXBsZSBleGFtcGxlIGV4YW1wbGUgZXhhbXBsZSBleGFtcGxl",
	};
	char	why[160];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		assert_false(strong_str(weak[i]));
	assert_int_equal(secret_strength((const unsigned char *)weak[0],
	    strlen(weak[0]), why, sizeof(why)), -1);
	assert_string_equal(why, "holds printable text that is neither hex "
	    "nor base64 (a passphrase or typed password?)");
}

/* Patterns: repeated bytes, counting, a short block repeated. */
static void
test_strength_patterns(void **state)
{
	unsigned char	buf[256];
	char		text[130];
	size_t		i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_false(strong(buf, 32));			/* zeros */
	memset(buf, 'a', 64);
	assert_false(strong(buf, 64));			/* "aaaa..." */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	assert_false(strong(buf, 32));			/* 00 01 02 ... */
	assert_false(strong(buf, 256));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(255 - i * 7);
	assert_false(strong(buf, 64));			/* any step */
	assert_int_equal(RAND_bytes(buf, 8), 1);
	for (i = 8; i < 64; i++)
		buf[i] = buf[i % 8];
	assert_false(strong(buf, 64));			/* 8 bytes, repeated */
	assert_int_equal(RAND_bytes(buf, 24), 1);
	memcpy(buf + 24, buf, 8);
	assert_false(strong(buf, 32));			/* one 64-bit repeat */
	for (i = 0; i < 4; i++)
		memcpy(text + 16 * i, "0123456789abcdef", 16);
	text[64] = '\0';
	assert_false(strong_str(text));
	assert_int_equal(RAND_bytes(buf, 8), 1);	/* 16 hex, repeated */
	encode_hex(buf, 8, text);
	for (i = 1; i < 8; i++)
		memcpy(text + 16 * i, text, 16);
	text[128] = '\0';
	assert_false(strong_str(text));
	memset(text, '0', 64);
	text[64] = '\0';
	assert_false(strong_str(text));
	memset(text, 'A', 44);
	text[44] = '\0';
	assert_false(strong_str(text));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_gcm_vector),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_strength_random_forms),
		cmocka_unit_test(test_strength_too_little),
		cmocka_unit_test(test_strength_passphrases),
		cmocka_unit_test(test_strength_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
