/*
 * Backup codes (see backup.h).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "backup.h"
#include "encode.h"

static const char backup_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int
backup_generate(char codes[BACKUP_CODES][BACKUP_CODE_LEN + 1])
{
	unsigned char	rnd[BACKUP_CHARS];
	int		i, j, o;

	for (i = 0; i < BACKUP_CODES; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			OPENSSL_cleanse(codes, sizeof(codes[0]) * BACKUP_CODES);
			return -1;
		}
		/* 5 bits of each byte: uniform, as 32 divides 256 */
		for (j = 0, o = 0; j < BACKUP_CHARS; j++) {
			if (j > 0 && j % BACKUP_GROUP == 0)
				codes[i][o++] = '-';
			codes[i][o++] = backup_alphabet[rnd[j] & 31];
		}
		codes[i][o] = '\0';
	}
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int
backup_normalize(const char *in, char *out, size_t size)
{
	size_t	n = 0;
	int	c;

	if (size < BACKUP_CHARS + 1)
		return -1;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		c = *in >= 'A' && *in <= 'Z' ? *in - 'A' + 'a' : *in;
		if (n == BACKUP_CHARS || strchr(backup_alphabet, c) == NULL) {
			OPENSSL_cleanse(out, size);
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == BACKUP_CHARS)
		return 0;
	OPENSSL_cleanse(out, size);
	return -1;
}

void
backup_hash(const char *norm, char *hex)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	(void)SHA256((const unsigned char *)norm, strlen(norm), md);
	encode_hex(md, sizeof(md), hex);
	OPENSSL_cleanse(md, sizeof(md));
}
