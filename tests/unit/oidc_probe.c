/*
 * A driver for tests/integration/test_oidcnet.py: outbound/oidc.c (built
 * in, so that its clock can be moved) and `postern sso test`'s report,
 * against a provider on loopback that the Python test serves and counts.
 *
 *   oidc_probe [-n NAME] [-i ISSUER] [-d DISCOVERY_URL] [-a CA_FILE]
 *              [-t TIMEOUT_MS] [-s SECRET] [-c CLIENT_ID] [-m AUTH]
 *              [-k KEY_FILE] [-K KID] COMMAND...
 *
 * Commands, run in order on one event loop and one cache, one line of
 * output each:
 *   test           ssocmd_test() (the report of `postern sso test`)
 *   get            oidc_meta_get(): "ok meta_ttl=N jwks_ttl=N stale=0|1
 *                  algs=N has_kid=-1 issuer=ISSUER" or "err REASON"
 *   get:KID        the same with a kid (has_kid 0 or 1: in the set)
 *   par:N[:KID]    N oidc_meta_get() at once (the last with KID): N
 *                  lines, then "calls=N"
 *   adv:S          the cache's clock moves S seconds
 *   name:NAME      the provider is named NAME from now on (another key)
 *   token:URL      oidc_token() with the code "c0de &+/=", the verifier
 *                  "v3rifier" and redirect_uri "https://app/cb?x=1":
 *                  "token ok ID_TOKEN" or "token err REASON"
 *   free           oidc_meta_get(), then the cache freed at once
 *                  (prints the err its waiter got)
 *   hfree          oidc_meta_get(), then the HTTP client freed at once
 *                  (its transfer's callback, then the waiter's); the
 *                  last command
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "../../gateway/outbound/oidc.c"
#include "confsso.h"
#include "ssocmd.h"

static int64_t	probe_clock;
static int	probe_calls;

/* One caller: the loop to stop (or NULL) and its kid (or NULL). */
struct probe_call {
	struct event_base	*base;
	const char		*kid;
};

static int64_t
probe_now(void)
{
	return probe_clock;
}

static void
probe_on_meta(void *arg, const struct oidc_meta *m, const char *err)
{
	struct probe_call	*c = arg;
	const char		*kid = c->kid;

	probe_calls++;
	if (err != NULL)
		printf("err %s\n", err);
	else
		printf("ok meta_ttl=%lld jwks_ttl=%lld stale=%d algs=%u "
		    "has_kid=%d issuer=%s\n", (long long)m->meta_ttl,
		    (long long)m->jwks_ttl, m->stale, m->algs,
		    kid != NULL ? jwks_has_kid(m->jwks, kid) : -1, m->issuer);
	if (c->base != NULL)
		(void)event_base_loopexit(c->base, NULL);
}

static void
probe_on_token(void *arg, const char *id_token, const char *err)
{
	struct event_base	*base = arg;

	if (err != NULL)
		printf("token err %s\n", err);
	else
		printf("token ok %s\n", id_token);
	(void)event_base_loopexit(base, NULL);
}

static int
probe_get(struct event_base *base, struct oidc *o,
    const struct config_sso_provider *p, const char *kid)
{
	struct probe_call	c = { base, kid };
	int			before = probe_calls;

	if (oidc_meta_get(o, p, kid, probe_on_meta, &c) == -1) {
		printf("refused\n");
		return 0;
	}
	if (probe_calls != before)
		printf("BUG: called back from within oidc_meta_get\n");
	(void)event_base_dispatch(base);
	return 0;
}

static void
probe_par(struct event_base *base, struct oidc *o,
    const struct config_sso_provider *p, const char *arg)
{
	const char		*kid = strchr(arg, ':');
	struct probe_call	 plain = { NULL, NULL }, with = { NULL, NULL };
	int			 i, n = atoi(arg);

	with.kid = kid != NULL ? kid + 1 : NULL;
	probe_calls = 0;
	for (i = 0; i < n; i++)
		if (oidc_meta_get(o, p, i == n - 1 ? with.kid : NULL,
		    probe_on_meta, i == n - 1 ? &with : &plain) == -1)
			printf("refused\n");
	while (probe_calls < n && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	printf("calls=%d\n", probe_calls);
}

static int
probe_key(struct config_sso_provider *p, const char *file)
{
	FILE	*fp;

	if ((fp = fopen(file, "r")) == NULL)
		return -1;
	p->private_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	return p->private_key != NULL ? 0 : -1;
}

static int
probe_opts(int argc, char **argv, struct config_sso_provider *p)
{
	int	ch;

	while ((ch = getopt(argc, argv, "n:i:d:a:t:s:c:m:k:K:")) != -1)
		switch (ch) {
		case 'n': p->name = optarg; break;
		case 'i': p->issuer = optarg; break;
		case 'd': p->discovery_url = optarg; break;
		case 'a': p->ca_file = optarg; break;
		case 't': p->timeout = strtoull(optarg, NULL, 10); break;
		case 's': p->client_secret = optarg; break;
		case 'c': p->client_id = optarg; break;
		case 'm':
			p->client_auth = strcmp(optarg, "post") == 0 ?
			    CONFIG_SSO_SECRET_POST : strcmp(optarg, "jwt") ==
			    0 ? CONFIG_SSO_PRIVATE_KEY_JWT :
			    CONFIG_SSO_SECRET_BASIC;
			break;
		case 'k':
			if (probe_key(p, optarg) == -1)
				return -1;
			break;
		case 'K': p->key_id = optarg; break;
		default: return -1;
		}
	return 0;
}

static void
probe_free(struct event_base *base, struct httpc *h,
    const struct config_sso_provider *p)
{
	struct oidc		*o = oidc_new(h);
	struct probe_call	 c = { NULL, NULL };

	probe_calls = 0;
	if (oidc_meta_get(o, p, NULL, probe_on_meta, &c) == -1)
		printf("refused\n");
	oidc_free(o);
	printf("calls=%d\n", probe_calls);
	/* the orphaned fetch ends, and is freed, on the loop */
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
}

static struct httpc *
probe_hfree(struct event_base *base, struct httpc *h, struct oidc *o,
    const struct config_sso_provider *p)
{
	struct probe_call	c = { base, NULL };

	probe_calls = 0;
	if (oidc_meta_get(o, p, NULL, probe_on_meta, &c) == -1)
		printf("refused\n");
	httpc_free(h);
	if (probe_calls != 0)
		printf("BUG: called back from within httpc_free\n");
	(void)event_base_dispatch(base);
	printf("calls=%d\n", probe_calls);
	return NULL;
}

static int
probe_run(struct event_base *base, struct httpc **hp, struct oidc *o,
    const struct config_sso_provider *p, const char *cmd)
{
	struct httpc	*h = *hp;

	if (strcmp(cmd, "hfree") == 0)
		*hp = probe_hfree(base, h, o, p);
	else if (strcmp(cmd, "test") == 0)
		printf("test exit %d\n", ssocmd_test(p, stdout));
	else if (strcmp(cmd, "get") == 0)
		return probe_get(base, o, p, NULL);
	else if (strncmp(cmd, "get:", 4) == 0)
		return probe_get(base, o, p, cmd + 4);
	else if (strncmp(cmd, "par:", 4) == 0)
		probe_par(base, o, p, cmd + 4);
	else if (strncmp(cmd, "adv:", 4) == 0)
		probe_clock += atoll(cmd + 4);
	else if (strncmp(cmd, "name:", 5) == 0)
		((struct config_sso_provider *)(uintptr_t)p)->name =
		    (char *)(uintptr_t)(cmd + 5);
	else if (strcmp(cmd, "free") == 0)
		probe_free(base, h, p);
	else if (strncmp(cmd, "token:", 6) == 0) {
		if (oidc_token(o, p, cmd + 6, "c0de &+/=", "v3rifier",
		    "https://app/cb?x=1", probe_on_token, base) == -1)
			printf("token refused\n");
		else
			(void)event_base_dispatch(base);
	} else
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct config_sso_provider p;
	struct event_base	*base;
	struct httpc		*h;
	struct oidc		*o;
	int			 i, rc = 0;

	memset(&p, 0, sizeof(p));
	p.name = "test";
	p.client_id = "client";
	p.timeout = 5000;
	log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	if (probe_opts(argc, argv, &p) == -1 || p.issuer == NULL) {
		fprintf(stderr, "usage: see oidc_probe.c\n");
		return 2;
	}
	oidc_now = probe_now;
	probe_clock = 1000000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((base = event_base_new()) == NULL || (h = httpc_new(base)) ==
	    NULL || (o = oidc_new(h)) == NULL)
		return 1;
	for (i = optind; i < argc && rc == 0; i++)
		rc = h != NULL ? probe_run(base, &h, o, &p, argv[i]) : 2;
	oidc_free(o);
	httpc_free(h);
	event_base_free(base);
	EVP_PKEY_free(p.private_key);
	return rc == 0 ? 0 : 2;
}
