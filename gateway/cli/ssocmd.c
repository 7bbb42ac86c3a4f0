/*
 * `postern sso test` (see ssocmd.h): one event loop, one httpc and one
 * oidc cache, a single oidc_meta_get(); then the JWKS is read once more to
 * list its keys (kid, kty, alg) and whether Postern can use each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "httpc.h"
#include "jws.h"
#include "log.h"
#include "oidc.h"
#include "ssocmd.h"

/* The state of one run; on ssocmd_test()'s stack. */
struct ssocmd {
	const struct config_sso_provider *p;
	FILE			*out;
	struct event_base	*base;
	struct httpc		*h;
	int			 done;
	int			 rc;
	char			 jwks_uri[2048];
};

static const struct cli_opt ssocmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const struct cli_spec ssocmd_spec = {
	"sso", SSOCMD_USAGE, NULL, ssocmd_opts, "configuration has errors",
};

static const struct cli ssocmd_cli = { .spec = &ssocmd_spec,
    .action = "test" };

/* What an operator should look at, by reason. */
static const char *
ssocmd_hint(const char *reason)
{
	static const struct {
		const char	*reason;
		const char	*hint;
	} hints[] = {
		{ "httpc_connect", "cannot reach the provider (discovery_url "
		    "or issuer)" },
		{ "httpc_tls", "TLS failed: handshake or certificate not "
		    "trusted (ca_file)" },
		{ "httpc_timeout", "no whole answer within the provider's "
		    "timeout" },
		{ "httpc_too_large", "the answer is over 64 KiB" },
		{ "httpc_failed", "the HTTP exchange failed" },
		{ "oidc_url", "the discovery URL must be https:// (http:// "
		    "only to a loopback address)" },
		{ "oidc_status", "the provider answered with a status other "
		    "than 200 (redirects are not followed)" },
		{ "oidc_json", "the document is not valid JSON of the "
		    "expected shape" },
		{ "oidc_issuer", "the discovery document's issuer differs "
		    "from the configured issuer (compared exactly, trailing "
		    "slash included)" },
		{ "oidc_endpoint", "an endpoint (authorization, token, "
		    "jwks_uri) is missing or not https://" },
		{ "oidc_alg", "the provider declares no id_token signing alg "
		    "Postern accepts (RS256, PS256, ES256, EdDSA)" },
		{ "oidc_jwks", "the JWKS holds no key Postern can use" },
	};
	size_t	i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].reason, reason) == 0)
			return hints[i].hint;
	return "the provider could not be used";
}

/* "RS256 ES256" for the bits <algs>. */
static void
ssocmd_algs(unsigned algs, char *out, size_t size)
{
	static const char *names[] = { "RS256", "PS256", "ES256", "EdDSA" };
	size_t	i, off = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((algs & jws_alg_bit(names[i])) && off < size)
			off += (size_t)snprintf(out + off, size - off, "%s%s",
			    off > 0 ? " " : "", names[i]);
}

static void
ssocmd_print_meta(struct ssocmd *sc, const struct oidc_meta *m)
{
	char	algs[64];
	FILE	*o = sc->out;

	ssocmd_algs(m->algs, algs, sizeof(algs));
	fprintf(o, "provider:            %s\n", sc->p->name);
	fprintf(o, "issuer:              %s (matches the configuration)\n",
	    m->issuer);
	fprintf(o, "authorization:       %s\n", m->authorization_endpoint);
	fprintf(o, "token:               %s\n", m->token_endpoint);
	fprintf(o, "jwks_uri:            %s\n", m->jwks_uri);
	fprintf(o, "end_session:         %s\n", m->end_session_endpoint !=
	    NULL ? m->end_session_endpoint : "none (no RP-initiated logout)");
	fprintf(o, "algs declared:       %s\n", m->algs_declared[0] != '\0' ?
	    m->algs_declared : "none (RS256 assumed)");
	fprintf(o, "algs accepted:       %s\n", algs);
	fprintf(o, "PKCE S256:           %s\n", m->pkce_s256 ? "yes" : "no");
	fprintf(o, "back-channel logout: %s\n", m->backchannel_logout ? "yes" :
	    "no");
	fprintf(o, "cached for:          discovery %lld s, JWKS %lld s\n",
	    (long long)m->meta_ttl, (long long)m->jwks_ttl);
}

/* One key of the JWKS: its names, and whether jwks_parse() keeps it. */
static int
ssocmd_print_key(struct ssocmd *sc, json_t *k)
{
	json_t		*one;
	char		*text, err[128];
	struct jwks	*set = NULL;
	const char	*kid, *kty, *alg;

	kid = json_string_value(json_object_get(k, "kid"));
	kty = json_string_value(json_object_get(k, "kty"));
	alg = json_string_value(json_object_get(k, "alg"));
	if ((one = json_pack("{s:[O]}", "keys", k)) != NULL &&
	    (text = json_dumps(one, JSON_COMPACT)) != NULL) {
		set = jwks_parse(text, strlen(text), err, sizeof(err));
		free(text);
	}
	json_decref(one);
	fprintf(sc->out, "  kid=%s kty=%s alg=%s: %s\n", kid != NULL ? kid :
	    "(none)", kty != NULL ? kty : "?", alg != NULL ? alg : "(any)",
	    set != NULL ? "usable" : "skipped");
	jwks_unref(set);
	return set != NULL;
}

static void
ssocmd_on_jwks(void *arg, const struct httpc_resp *resp, const char *err)
{
	struct ssocmd	*sc = arg;
	json_t		*o = NULL, *keys, *k;
	size_t		 i, usable = 0;

	sc->done = 1;
	(void)event_base_loopexit(sc->base, NULL);
	if (err == NULL && resp->status == 200)
		o = json_loadb(resp->body, resp->len, 0, NULL);
	if (o == NULL || !json_is_array(keys = json_object_get(o, "keys"))) {
		fprintf(sc->out, "keys:                (the JWKS changed "
		    "while it was read again)\n");
		json_decref(o);
		return;
	}
	fprintf(sc->out, "keys:                %zu\n", json_array_size(keys));
	json_array_foreach(keys, i, k)
		usable += (size_t)ssocmd_print_key(sc, k);
	fprintf(sc->out, "usable keys:         %zu\n", usable);
	json_decref(o);
	sc->rc = 0;
}

static void
ssocmd_on_meta(void *arg, const struct oidc_meta *m, const char *err)
{
	struct ssocmd		*sc = arg;
	struct httpc_req	 r;

	if (err != NULL) {
		(void)cli_fail(&ssocmd_cli, "provider '%s': %s: %s",
		    sc->p->name, err, ssocmd_hint(err));
		sc->done = 1;
		(void)event_base_loopexit(sc->base, NULL);
		return;
	}
	ssocmd_print_meta(sc, m);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = m->jwks_uri;
	r.ca_file = sc->p->ca_file;
	r.timeout = sc->p->timeout;
	r.max_body = OIDC_MAX_DOC;
	if (httpc_start(sc->h, &r, ssocmd_on_jwks, sc) == -1) {
		(void)cli_fail(&ssocmd_cli, "cannot read the JWKS again");
		sc->done = 1;
		(void)event_base_loopexit(sc->base, NULL);
	}
}

int
ssocmd_test(const struct config_sso_provider *p, FILE *out)
{
	struct ssocmd	 sc;
	struct oidc	*o = NULL;

	memset(&sc, 0, sizeof(sc));
	sc.p = p;
	sc.out = out;
	sc.rc = 1;
	if ((sc.base = event_base_new()) == NULL ||
	    (sc.h = httpc_new(sc.base)) == NULL ||
	    (o = oidc_new(sc.h)) == NULL ||
	    oidc_meta_get(o, p, NULL, ssocmd_on_meta, &sc) == -1)
		(void)cli_fail(&ssocmd_cli, "cannot set up the event loop or "
		    "libcurl");
	else if (event_base_dispatch(sc.base) == -1 || !sc.done) {
		(void)cli_fail(&ssocmd_cli, "the event loop failed");
		sc.rc = 1;
	}
	oidc_free(o);
	httpc_free(sc.h);
	if (sc.base != NULL)
		event_base_free(sc.base);
	return sc.rc;
}

int
ssocmd_main(int argc, char **argv)
{
	struct cli	 c;
	const struct config_sso_provider *p;
	const char	*name;
	int		 rc;

	cli_init(&c, &ssocmd_spec);
	if (argc < 2 || strcmp(argv[1], "test") != 0)
		return cli_usage(&c, stderr);
	if (cli_parse(&c, argc - 1, argv + 1, NULL) == -1)
		return c.rc;
	if (c.nargs != 1)
		return cli_usage(&c, stderr);
	c.action = "test";
	name = c.args[0];
	if (cli_load(&c) != 0)
		return 1;
	if ((p = config_sso_provider(c.cfg->sso, name, strlen(name))) ==
	    NULL) {
		rc = cli_fail(&c, "%s: no provider '%s' in sso.providers",
		    c.config, name);
		cli_close(&c);
		return rc;
	}
	log_setlevel(LOG_LEVEL_WARN);	/* the outcome, not the chatter */
	rc = ssocmd_test(p, stdout);
	cli_close(&c);
	return rc;
}
