/*
 * libFuzzer target: what a gateway reads from Redis for its run-time
 * certificates: the sealed key (secret_open(): "v1." + base64url), the
 * host name of a message (tlsacme_host_ok(), hostmap_name()), and the
 * certificate chain and key PEM (certstore_put()).  The input is
 * host NUL chain NUL key; a certificate installed must then be found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certstore.h"
#include "hostmap.h"
#include "secret.h"
#include "tlsacme.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct certstore	*cs;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	unsigned char	 out[4096];
	char		*buf, *chain, *pem, name[HOSTMAP_NAMELEN], err[256];
	size_t		 len;
	SSL_CTX		*ctx;

	if (cs == NULL && (cs = certstore_new()) == NULL)
		abort();
	if ((buf = malloc(size + 3)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	chain = buf + strlen(buf) + 1;
	if (chain > buf + size)
		chain = buf + size + 1;
	pem = chain + strlen(chain) + 1;
	if (pem > buf + size + 1)
		pem = buf + size + 2;
	(void)secret_open(key, "acme:x", 6, buf, out, sizeof(out), &len);
	(void)secret_open(key, "acme:x", 6, chain, out, sizeof(out), &len);
	if (hostmap_name(buf, name) == 0)
		(void)tlsacme_host_ok(name);
	if (certstore_put(cs, buf, chain, pem, time(NULL), err,
	    sizeof(err)) == 0) {
		if ((ctx = certstore_ctx(cs, buf)) == NULL)
			abort();
		SSL_CTX_free(ctx);
		(void)certstore_drop(cs, buf);
	}
	free(buf);
	return 0;
}
