/* Temporary configuration files for the config tests (testdir.h). */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "testdir.h"

char	testdir[64];

int
testdir_make(void)
{
	snprintf(testdir, sizeof(testdir), "/tmp/postern-test-XXXXXX");
	return mkdtemp(testdir) == NULL ? -1 : 0;
}

int
testdir_remove(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", testdir);
	return system(cmd) == 0 ? 0 : -1;
}

void
testdir_write(const char *name, const char *text, mode_t mode)
{
	char	 path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", testdir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

void
testdir_cert(const char *cert, const char *key)
{
	EVP_PKEY	*pk = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	char		 path[256];
	FILE		*fp;

	assert_non_null(pk);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 90 * 86400);	/* no warning */
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/%s", testdir, cert);
	assert_non_null(fp = fopen(path, "w"));
	PEM_write_X509(fp, x);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/%s", testdir, key);
	assert_non_null(fp = fopen(path, "w"));
	PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	chmod(path, 0600);
	X509_free(x);
	EVP_PKEY_free(pk);
}

void
testdir_secret(const char *name)
{
	unsigned char	rnd[32];
	char		hex[2 * sizeof(rnd) + 1];
	size_t		i;

	assert_int_equal(RAND_bytes(rnd, sizeof(rnd)), 1);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	testdir_write(name, hex, 0600);
}
