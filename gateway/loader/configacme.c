/*
 * The acme: section of the configuration (docs/acme.md and
 * conf/postern.yaml document each key), the listener's
 * tls: { acme: true }, and the list of hosts the ACME client orders
 * certificates for.  Part of the loader: see config-int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "encode.h"
#include "parse.h"
#include "secret.h"
#include "yconf.h"

#define ACME(f)	offsetof(struct config_acme, f)

static void	config_on_acme_email(struct yconf *, yaml_node_t *, void *);
static void	config_on_acme_challenges(struct yconf *, yaml_node_t *,
		    void *);
static void	config_on_acme_key_type(struct yconf *, yaml_node_t *, void *);
static void	config_on_acme_eab(struct yconf *, yaml_node_t *, void *);
static void	config_on_acme_eab_kid(struct yconf *, yaml_node_t *, void *);
static void	config_on_acme_eab_key(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_acme_keys[] = {
	{ "directory", YAML_SCALAR_NODE, 0, config_on_sso_url,
	    ACME(directory), 0, 0 },
	{ "email", YAML_SCALAR_NODE, 0, config_on_acme_email, 0, 0, 0 },
	{ "ca_file", YAML_SCALAR_NODE, 0, config_on_readable, ACME(ca_file),
	    0, 0 },
	{ "challenges", YAML_SEQUENCE_NODE, 0, config_on_acme_challenges, 0,
	    0, 0 },
	{ "key_type", YAML_SCALAR_NODE, 0, config_on_acme_key_type, 0, 0, 0 },
	{ "eab", YAML_NO_NODE, 0, config_on_acme_eab, 0, 0, 0 },
	{ "retry_min", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    ACME(retry_min), 1 * MS_SEC, MS_DAY },
	{ "retry_max", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    ACME(retry_max), 1 * MS_SEC, 7 * MS_DAY },
	{ "timeout", YAML_SCALAR_NODE, 0, yconf_on_duration, ACME(timeout),
	    1 * MS_SEC, 120 * MS_SEC },
	{ "max_domains_per_org", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    ACME(max_domains_per_org), 1, 100000 },
};

static const struct yconf_key config_eab_keys[] = {
	{ "kid", YAML_SCALAR_NODE, 1, config_on_acme_eab_kid, 0, 0, 0 },
	{ "hmac_key_file", YAML_SCALAR_NODE, 1, config_on_acme_eab_key, 0, 0,
	    0 },
};

static const struct yconf_key config_listen_tls_keys[] = {
	{ "acme", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct config_listen, acme), 0, 0 },
};

/* A section with its defaults, or NULL when out of memory. */
static struct config_acme *
config_acme_new(void)
{
	struct config_acme	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->directory = strdup(ACME_LETSENCRYPT)) == NULL) {
		free(a);
		return NULL;
	}
	a->challenges[0] = ACME_HTTP01;
	a->challenges[1] = ACME_TLSALPN01;
	a->nchallenges = 2;
	a->retry_min = 60 * MS_SEC;
	a->retry_max = MS_DAY;
	a->timeout = 30 * MS_SEC;
	a->max_domains_per_org = ACME_MAX_DOMAINS_PER_ORG;
	return a;
}

void
config_on_acme(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	config_acme_free(cfg->acme);
	if ((cfg->acme = config_acme_new()) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	yconf_map(y, n, "acme", config_acme_keys, NITEMS(config_acme_keys),
	    cfg->acme);
}
void
config_on_listen_tls(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_listen	*l = obj;

	if (n->type == YAML_SCALAR_NODE) {
		(void)yconf_bool(y, n, &l->tls);
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		yconf_error(y, n, "%s: expected true, false or a mapping such "
		    "as { acme: true }", y->key);
		return;
	}
	l->tls = 1;
	l->acme_pos.line = n->start_mark.line + 1;
	l->acme_pos.col = n->start_mark.column + 1;
	yconf_map(y, n, "server.listen.tls", config_listen_tls_keys,
	    NITEMS(config_listen_tls_keys), l);
}

void
config_acme_free(struct config_acme *a)
{
	size_t	i;

	if (a == NULL)
		return;
	free(a->directory);
	free(a->email);
	free(a->ca_file);
	free(a->eab_kid);
	for (i = 0; i < a->nhosts; i++)
		free(a->hosts[i]);
	free(a->hosts);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

static void
config_on_acme_email(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;
	const char		*s, *at;
	char			 val[64];

	if (yconf_str(y, n, &s) == -1)
		return;
	at = strchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') !=
	    NULL || strlen(s) > 254 || strpbrk(s, " \t\r\n,:;<>\"\\") !=
	    NULL) {
		yconf_error(y, n, "%s: expected one email address, got '%s'",
		    y->key, parse_printable(val, sizeof(val), s, 48));
		return;
	}
	free(a->email);
	if ((a->email = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

static void
config_on_acme_challenge(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;
	enum acme_challenge	 c;
	const char		*s;
	char			 val[64];
	size_t			 i;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "http-01") == 0)
		c = ACME_HTTP01;
	else if (strcmp(s, "tls-alpn-01") == 0)
		c = ACME_TLSALPN01;
	else {
		yconf_error(y, n, "%s: unknown challenge '%s' (expected "
		    "http-01 or tls-alpn-01)", y->key,
		    parse_printable(val, sizeof(val), s, 48));
		return;
	}
	for (i = 0; i < a->nchallenges; i++)
		if (a->challenges[i] == c) {
			yconf_error(y, n, "%s: '%s' is listed twice", y->key,
			    s);
			return;
		}
	a->challenges[a->nchallenges++] = c;
}

static void
config_on_acme_challenges(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;

	a->nchallenges = 0;
	if (yconf_seq_len(n) == 0) {
		yconf_error(y, n, "%s: expected http-01, tls-alpn-01 or both",
		    y->key);
		return;
	}
	yconf_seq(y, n, config_on_acme_challenge, a);
}

static void
config_on_acme_key_type(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;
	const char		*s;
	char			 val[64];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "p256") == 0)
		a->key_type = ACME_KEY_P256;
	else if (strcmp(s, "rsa2048") == 0)
		a->key_type = ACME_KEY_RSA2048;
	else
		yconf_error(y, n, "%s: unknown key type '%s' (expected p256 "
		    "or rsa2048)", y->key,
		    parse_printable(val, sizeof(val), s, 48));
}

static void
config_on_acme_eab(struct yconf *y, yaml_node_t *n, void *obj)
{
	if (yconf_is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		yconf_error(y, n, "%s: expected null or { kid: ..., "
		    "hmac_key_file: ... }", y->key);
		return;
	}
	yconf_map(y, n, "acme.eab", config_eab_keys, NITEMS(config_eab_keys),
	    obj);
}

static void
config_on_acme_eab_kid(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;
	const char		*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (*s == '\0' || strlen(s) > 255 || strpbrk(s, "\"\\") != NULL) {
		yconf_error(y, n, "%s: expected the key identifier the CA "
		    "gave (1 to 255 characters)", y->key);
		return;
	}
	free(a->eab_kid);
	if ((a->eab_kid = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

/* The MAC key: a file of base64url (as CAs hand it out), mode 0600. */
static void
config_on_acme_eab_key(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_acme	*a = obj;
	char			*path = NULL, *text = NULL, err[256];
	long			 len;

	config_secret_file(y, n, 16, &path);
	if (path == NULL)
		return;
	if (config_read_secret(path, 1024, &text, err, sizeof(err)) == -1)
		yconf_error(y, n, "%s: %s", y->key, err);
	else if ((len = encode_base_decode(text, encode_b64url_chars, 6, "",
	    a->eab_key, sizeof(a->eab_key))) < 16)
		yconf_error(y, n, "%s: %s: expected the base64url MAC key the "
		    "CA gave (at least 16 bytes)", y->key, path);
	else
		a->eab_keylen = (size_t)len;
	if (text != NULL)
		OPENSSL_clear_free(text, strlen(text));
	free(path);
}

/* Whether a certificate of tls.certificates covers <host>. */
static int
config_acme_covered(const struct config *cfg, const char *host)
{
	FILE	*fp;
	X509	*x;
	size_t	 i;
	int	 hit = 0;

	for (i = 0; i < cfg->ncerts && !hit; i++) {
		if ((fp = fopen(cfg->certs[i].cert_file, "r")) == NULL)
			continue;
		if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL)
			hit = X509_check_host(x, host, 0, 0, NULL) == 1;
		X509_free(x);
		fclose(fp);
	}
	ERR_clear_error();
	return hit;
}

/* Add <host> to a->hosts once; 0 or -1. */
static int
config_acme_add(struct config_acme *a, const char *host)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < a->nhosts; i++)
		if (strcmp(a->hosts[i], host) == 0)
			return 0;
	if ((v = reallocarray(a->hosts, a->nhosts + 1, sizeof(*v))) == NULL)
		return -1;
	a->hosts = v;
	if ((v[a->nhosts] = strdup(host)) == NULL)
		return -1;
	a->nhosts++;
	return 0;
}

void
config_acme_check(struct config *cfg, struct diag *d)
{
	const struct config_listen *on = NULL;
	const char	*h;
	size_t		 i, j;

	for (i = 0; i < cfg->nlisten && on == NULL; i++)
		if (cfg->listen[i].acme)
			on = &cfg->listen[i];
	if (on == NULL)
		return;
	if (cfg->acme == NULL && (cfg->acme = config_acme_new()) == NULL) {
		diag_error(d, cfg->path, 0, 0, "out of memory");
		return;
	}
	if (cfg->keys == NULL || !cfg->keys->present) {
		diag_error(d, cfg->path, on->acme_pos.line, on->acme_pos.col,
		    "server.listen.tls: acme: true needs secret_file "
		    "(certificate keys are sealed with it)");
		return;
	}
	if (cfg->acme->retry_min > cfg->acme->retry_max)
		diag_error(d, cfg->path, 0, 0, "acme.retry_min: longer than "
		    "acme.retry_max");
	/* exact names only: "*." and "{org}." hosts need DNS-01 */
	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nhosts; j++) {
			h = cfg->apps[i].hosts[j];
			if (strpbrk(h, "*{") != NULL ||
			    config_acme_covered(cfg, h))
				continue;
			if (config_acme_add(cfg->acme, h) == -1) {
				diag_error(d, cfg->path, 0, 0,
				    "out of memory");
				return;
			}
		}
}
