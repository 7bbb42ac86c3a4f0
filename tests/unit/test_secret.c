/*
 * secret.c: HKDF-SHA256 against RFC 5869's test cases 1 and 3, AES-256-GCM
 * against the GCM specification's test case 16 (with AAD), and the
 * failures that must stay failures (wrong key, AAD, tag, ciphertext).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_gcm_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
