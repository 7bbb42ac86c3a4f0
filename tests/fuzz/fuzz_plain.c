/*
 * libFuzzer target: what a cleartext listener derives from a client's
 * request (plain.c) and the device cookie of a sign-in (device.c).  The
 * input is a request head, parsed as client.c parses it; then the path's
 * kind, the X-Forwarded-Proto check and the https:// Location built from
 * its Host, which must never name a host the configuration does not serve
 * nor carry a byte that could split a header.  The Cookie header then goes
 * through device_check() for a fixed account: a forged cookie must never
 * pass, and one the gateway made must.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "config.h"
#include "device.h"
#include "fuzz_apps.h"
#include "plain.h"
#include "request.h"
#include "secret.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct secret_keys	keys = { .present = 1 };
static struct config		cfg = { .apps = fuzz_apps, .napps = FUZZ_NAPPS,
				    .keys = &keys };
static struct request_limits	lim;
static struct evbuffer		*in;
static char			made[256];	/* a cookie the gateway set */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	line[256], *v, *end;

	(void)argc;
	(void)argv;
	memset(keys.token, 0x5a, sizeof(keys.token));
	request_limits_defaults(&lim);
	lim.max_request_line = 1024;
	lim.max_header_size = 4096;
	lim.max_headers = 32;
	if ((in = evbuffer_new()) == NULL ||
	    device_cookie(&cfg, "a@example.com", line, sizeof(line)) == -1 ||
	    (v = strchr(line, '=')) == NULL || (end = strchr(v, ';')) == NULL)
		abort();
	*end = '\0';
	memcpy(made, DEVICE_COOKIE, strlen(DEVICE_COOKIE));
	strcpy(made + strlen(DEVICE_COOKIE), v);
	return 0;
}

/* The host of an accepted Location: a configured one, plain and lower. */
static void
fuzz_plain_check_location(const char *loc)
{
	char		 host[300];
	const char	*h = loc + 8;
	size_t		 n;

	if (strncmp(loc, "https://", 8) != 0)
		abort();
	for (n = 0; loc[n] != '\0'; n++)
		if (!isgraph((unsigned char)loc[n]))
			abort();	/* no CR, LF, space, control, 8-bit */
	n = strcspn(h, ":/?");
	if (n == 0 || n >= sizeof(host))
		abort();
	memcpy(host, h, n);
	host[n] = '\0';
	if (config_app_for_host(&cfg, host) == NULL)
		abort();
	for (n = 0; host[n] != '\0'; n++)
		if (isupper((unsigned char)host[n]))
			abort();
}

static void
fuzz_plain_device(const struct request *req)
{
	const char	*hdr = request_header(req, "cookie");
	char		 id[DEVICE_NONCE_LEN + 1];

	if (device_check(&cfg, hdr, "a@example.com", id, sizeof(id)) == 0 &&
	    (hdr == NULL || strstr(hdr, DEVICE_COOKIE) == NULL))
		abort();
	/* the cookie made for one account never passes for another */
	if (hdr != NULL && strstr(hdr, made) != NULL &&
	    device_check(&cfg, hdr, "b@example.com", id, sizeof(id)) == 0)
		abort();
	if (device_check(&cfg, made, "a@example.com", id, sizeof(id)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	*req;
	char		 loc[2048];

	evbuffer_add(in, data, size);
	if ((req = request_new(&lim)) != NULL &&
	    request_parse_head(req, in) == REQUEST_DONE) {
		(void)plain_path_kind(req->path);
		(void)plain_forwarded_https(req);
		if (plain_location(&cfg, req, 8443, loc, sizeof(loc)) == 0)
			fuzz_plain_check_location(loc);
		fuzz_plain_device(req);
	}
	request_free(req);
	evbuffer_drain(in, evbuffer_get_length(in));
	return 0;
}
