/*
 * The sso: section of the configuration (docs/sso.md and conf/postern.yaml
 * document each key): the OpenID Connect providers and the orgs whose
 * members sign in through one.  Client secrets come from a file (or a
 * systemd credential) or a sealed value, never from clear text in the
 * file; the private_key_jwt key is loaded here so that a bad key is a load
 * error.  Part of the loader: see config-int.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "loader.h"
#include "parse.h"
#include "totp.h"
#include "yconf.h"

#define SSO_SECRET_MAX	1024		/* bytes of a client secret */
#define SSO_GOOGLE_ISSUER	"https://accounts.google.com"

#define PROV(f)	offsetof(struct config_sso_provider, f)
#define MAP(f)	offsetof(struct config_sso_map, f)
#define ORG(f)	offsetof(struct config_sso_org, f)
#define SSO(f)	offsetof(struct config_sso, f)

static void	config_on_sso_name(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_type(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_text(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_secret_file(struct yconf *, yaml_node_t *,
		    void *);
static void	config_on_sso_sealed(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_auth(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_key(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_scopes(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_domain(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_domains(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_maps(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_path(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_slug(struct yconf *, yaml_node_t *, void *);
static void	config_on_sso_providers(struct yconf *, yaml_node_t *,
		    void *);
static void	config_on_sso_orgs(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_sso_keys[] = {
	{ "providers", YAML_SEQUENCE_NODE, 1, config_on_sso_providers, 0, 0,
	    0 },
	{ "orgs", YAML_SEQUENCE_NODE, 0, config_on_sso_orgs, 0, 0, 0 },
	{ "flow_ttl", YAML_SCALAR_NODE, 0, yconf_on_duration, SSO(flow_ttl),
	    60 * MS_SEC, 60 * 60 * MS_SEC },
};

static const struct yconf_key config_prov_keys[] = {
	{ "name", YAML_SCALAR_NODE, 1, config_on_sso_name, PROV(name), 0, 0 },
	{ "type", YAML_SCALAR_NODE, 1, config_on_sso_type, 0, 0, 0 },
	{ "display_name", YAML_SCALAR_NODE, 0, config_on_sso_text,
	    PROV(display_name), 0, 64 },
	{ "issuer", YAML_SCALAR_NODE, 0, config_on_sso_url, PROV(issuer), 0,
	    0 },
	{ "discovery_url", YAML_SCALAR_NODE, 0, config_on_sso_url,
	    PROV(discovery_url), 0, 0 },
	{ "client_id", YAML_SCALAR_NODE, 1, config_on_sso_text,
	    PROV(client_id), 0, 255 },
	{ "client_secret_file", YAML_SCALAR_NODE, 0,
	    config_on_sso_secret_file, 0, 0, 0 },
	{ "client_secret", YAML_SCALAR_NODE, 0, config_on_sso_sealed,
	    PROV(sealed), 0, 0 },
	{ "client_auth", YAML_SCALAR_NODE, 0, config_on_sso_auth, 0, 0, 0 },
	{ "private_key_file", YAML_SCALAR_NODE, 0, config_on_sso_key, 0, 0,
	    0 },
	{ "key_id", YAML_SCALAR_NODE, 0, config_on_sso_text, PROV(key_id), 0,
	    128 },
	{ "scopes", YAML_SEQUENCE_NODE, 0, config_on_sso_scopes, 0, 0, 0 },
	{ "hosted_domain", YAML_SCALAR_NODE, 0, config_on_sso_domain,
	    PROV(hosted_domain), 0, 0 },
	{ "email_domains", YAML_SEQUENCE_NODE, 0, config_on_sso_domains,
	    PROV(email_domains), 0, 0 },
	{ "link_by_email", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    PROV(link_by_email), 0, 0 },
	{ "provision", YAML_SCALAR_NODE, 0, yconf_on_bool, PROV(provision),
	    0, 0 },
	{ "trust_mfa", YAML_SCALAR_NODE, 0, yconf_on_bool, PROV(trust_mfa),
	    0, 0 },
	{ "claims", YAML_SEQUENCE_NODE, 0, config_on_sso_maps, 0, 0, 0 },
	{ "ca_file", YAML_SCALAR_NODE, 0, config_on_readable, PROV(ca_file),
	    0, 0 },
	{ "timeout", YAML_SCALAR_NODE, 0, yconf_on_duration, PROV(timeout),
	    500, 60 * MS_SEC },
	{ "post_logout_redirect", YAML_SCALAR_NODE, 0, config_on_sso_path,
	    PROV(post_logout_redirect), 0, 0 },
	{ "backchannel_logout", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    PROV(backchannel_logout), 0, 0 },
};

static const struct yconf_key config_map_keys[] = {
	{ "claim", YAML_SCALAR_NODE, 1, config_on_sso_text, MAP(claim), 0,
	    128 },
	{ "value", YAML_SCALAR_NODE, 0, config_on_sso_text, MAP(value), 0,
	    255 },
	{ "org", YAML_SCALAR_NODE, 0, config_on_sso_slug, MAP(org), 0, 0 },
	{ "role", YAML_SCALAR_NODE, 1, config_on_sso_slug, MAP(role), 0, 0 },
};

static const struct yconf_key config_org_keys[] = {
	{ "org", YAML_SCALAR_NODE, 1, config_on_sso_slug, ORG(org), 0, 0 },
	{ "provider", YAML_SCALAR_NODE, 1, config_on_sso_name, ORG(provider),
	    0, 0 },
	{ "required", YAML_SCALAR_NODE, 0, yconf_on_bool, ORG(required), 0,
	    0 },
	{ "domains", YAML_SEQUENCE_NODE, 0, config_on_sso_domains,
	    ORG(domains), 0, 0 },
};

/* The char * at the key's offset of <obj>. */
static char **
config_sso_field(struct yconf *y, void *obj)
{
	return (char **)(void *)((char *)obj + y->cur->off);
}

/* Store a copy of <s> at the key's offset (the old value freed). */
static void
config_sso_set(struct yconf *y, yaml_node_t *n, void *obj, const char *s)
{
	char	**dst = config_sso_field(y, obj);

	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

/* A provider name: 1 to SSO_NAME_MAX of [a-z0-9-], not starting with -. */
static void
config_on_sso_name(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;
	size_t		 len;

	if (yconf_str(y, n, &s) == -1)
		return;
	len = strlen(s);
	if (len == 0 || len > SSO_NAME_MAX || s[0] == '-' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
		yconf_error(y, n, "%s: expected 1 to %d of a-z, 0-9 and '-' "
		    "(it is part of the provider's paths)", y->key,
		    SSO_NAME_MAX);
		return;
	}
	config_sso_set(y, n, obj, s);
}

/* An org slug or a role name, as config_on_names() reads them. */
static void
config_on_sso_slug(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;
	size_t		 len;

	if (yconf_str(y, n, &s) == -1)
		return;
	len = strlen(s);
	if (len == 0 || len > 63 || s[0] == '-' || s[0] == '_' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
		yconf_error(y, n, "%s: '%.64s' is not a slug (1 to 63 of "
		    "a-z, 0-9, '_' and '-')", y->key, s);
		return;
	}
	config_sso_set(y, n, obj, s);
}

static void
config_on_sso_type(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	const char			*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "oidc") == 0)
		p->type = CONFIG_SSO_OIDC;
	else if (strcmp(s, "google") == 0)
		p->type = CONFIG_SSO_GOOGLE;
	else
		yconf_error(y, n, "%s: expected google or oidc", y->key);
}

/* Printable text without control characters, 1 to max bytes. */
static void
config_on_sso_text(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;
	size_t		 i, len;

	if (yconf_str(y, n, &s) == -1)
		return;
	len = strlen(s);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (len == 0 || len > y->cur->max || i < len) {
		yconf_error(y, n, "%s: expected 1 to %ju characters without "
		    "control characters", y->key, (uintmax_t)y->cur->max);
		return;
	}
	config_sso_set(y, n, obj, s);
}

/* 1 if <host> (<len> bytes) names the loopback interface. */
static int
config_sso_loopback(const char *host, size_t len)
{
	struct in_addr	a4;
	char		h[64];

	if (len == 9 && strncmp(host, "localhost", 9) == 0)
		return 1;
	if (len == 5 && strncmp(host, "[::1]", 5) == 0)
		return 1;
	if (len >= sizeof(h))
		return 0;
	memcpy(h, host, len);
	h[len] = '\0';
	return inet_pton(AF_INET, h, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}

int
config_sso_url_ok(const char *s)
{
	const char	*host, *end;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	if (strpbrk(s, " \t\r\n#\\") != NULL || strlen(s) > 1024)
		return 0;
	end = host + strcspn(host, "/?");
	if (end == host || memchr(host, '@', (size_t)(end - host)) != NULL)
		return 0;
	if (host == s + 8)
		return 1;
	/* http: only to this machine (tests, a local provider) */
	if (host[0] == '[')
		end = strchr(host, ']') != NULL ? strchr(host, ']') + 1 : end;
	else
		end = host + strcspn(host, ":/?");
	return config_sso_loopback(host, (size_t)(end - host));
}

void
config_on_sso_url(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (!config_sso_url_ok(s)) {
		yconf_error(y, n, "%s: expected an https:// URL without user "
		    "or fragment (http:// only to a loopback address)",
		    y->key);
		return;
	}
	config_sso_set(y, n, obj, s);
}

/* The client secret's file (or $CREDENTIALS_DIRECTORY/NAME). */
static void
config_on_sso_secret_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	char				*path = NULL, err[512];

	config_secret_file(y, n, 1, &path);
	if (path == NULL)
		return;
	config_sso_wipe(&p->client_secret);
	if (config_read_secret(path, SSO_SECRET_MAX, &p->client_secret, err,
	    sizeof(err)) == -1)
		yconf_error(y, n, "%s: %s", y->key, err);
	free(path);
}

/* A sealed client secret, opened by config_sso_check(). */
static void
config_on_sso_sealed(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strncmp(s, "sealed:v1.", 10) != 0) {
		yconf_error(y, n, "%s: expected a sealed value (sealed:v1...) "
		    "from postern secrets seal --purpose sso, never the secret "
		    "itself; or use client_secret_file", y->key);
		return;
	}
	config_sso_set(y, n, obj, s);
}

static void
config_on_sso_auth(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	const char			*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "client_secret_basic") == 0)
		p->client_auth = CONFIG_SSO_SECRET_BASIC;
	else if (strcmp(s, "client_secret_post") == 0)
		p->client_auth = CONFIG_SSO_SECRET_POST;
	else if (strcmp(s, "private_key_jwt") == 0)
		p->client_auth = CONFIG_SSO_PRIVATE_KEY_JWT;
	else
		yconf_error(y, n, "%s: expected client_secret_basic, "
		    "client_secret_post or private_key_jwt", y->key);
}

/* private_key_jwt's key: a PEM EC P-256 private key, mode 0600. */
static void
config_on_sso_key(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	char				*path = NULL;
	char				 group[32];
	FILE				*fp;
	EVP_PKEY			*k = NULL;

	config_secret_file(y, n, 1, &path);
	if (path == NULL)
		return;
	if ((fp = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		(void)fclose(fp);
	}
	if (k == NULL || !EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group),
	    NULL) != 1 || strcmp(group, "prime256v1") != 0) {
		yconf_error(y, n, "%s: %s: expected a PEM EC P-256 private key "
		    "(openssl genpkey -algorithm EC -pkeyopt "
		    "ec_paramgen_curve:P-256)", y->key, path);
		EVP_PKEY_free(k);
	} else {
		EVP_PKEY_free(p->private_key);
		p->private_key = k;
		free(p->private_key_file);
		p->private_key_file = path;
		path = NULL;
	}
	free(path);
}

static void
config_on_sso_scopes(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	yaml_node_item_t		*it;
	yaml_node_t			*item;
	const char			*s;
	char				**v;

	config_sso_strv_free(&p->scopes, &p->nscopes);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (s[0] == '\0' || strlen(s) > 128 ||
		    strspn(s, "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNO"
		    "PQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~") !=
		    strlen(s)) {
			yconf_error(y, item, "%s: '%.64s' is not a scope "
			    "(RFC 6749 3.3: printable, no space, quote or "
			    "backslash)", y->key, s);
			continue;
		}
		if ((v = reallocarray(p->scopes, p->nscopes + 1,
		    sizeof(*v))) == NULL || (v[p->nscopes] = strdup(s)) ==
		    NULL) {
			if (v != NULL)
				p->scopes = v;
			yconf_nomem(y, item);
			return;
		}
		p->scopes = v;
		p->nscopes++;
	}
}

/* A DNS domain, lower-cased: labels of [a-z0-9-], at least one dot. */
static int
config_sso_domain_ok(char *s)
{
	size_t	i, len = strlen(s);

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	return len > 0 && len <= 253 && strchr(s, '.') != NULL &&
	    s[0] != '.' && s[0] != '-' && s[len - 1] != '.' &&
	    strstr(s, "..") == NULL &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == len;
}

static void
config_on_sso_domain(struct yconf *y, yaml_node_t *n, void *obj)
{
	char	**dst = config_sso_field(y, obj);

	if (yconf_strdup(y, n, 0, dst) == -1 || *dst == NULL)
		return;
	if (!config_sso_domain_ok(*dst))
		yconf_error(y, n, "%s: '%.64s' is not a domain such as "
		    "example.com", y->key, *dst);
}

static void
config_on_sso_domains(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_names	*v = (struct config_names *)(void *)
				    ((char *)obj + y->cur->off);
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	char			*s, **nv;

	config_names_free(v);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		s = NULL;
		if (item == NULL || yconf_strdup(y, item, 0, &s) == -1 ||
		    s == NULL)
			continue;
		if (!config_sso_domain_ok(s)) {
			yconf_error(y, item, "%s: '%.64s' is not a domain "
			    "such as example.com", y->key, s);
			free(s);
			continue;
		}
		if ((nv = reallocarray(v->v, v->n + 1, sizeof(*nv))) == NULL) {
			free(s);
			yconf_nomem(y, item);
			return;
		}
		v->v = nv;
		v->v[v->n++] = s;
	}
}

/* post_logout_redirect: a path on the app's host ("/", "/bye"). */
static void
config_on_sso_path(struct yconf *y, yaml_node_t *n, void *obj)
{
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > 512 ||
	    strpbrk(s, " \t\r\n#\\") != NULL) {
		yconf_error(y, n, "%s: expected a path on the app's host such "
		    "as /signed-out", y->key);
		return;
	}
	config_sso_set(y, n, obj, s);
}

static void
config_on_sso_map(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso_provider	*p = obj;
	struct config_sso_map		*v, *m;

	if ((v = reallocarray(p->maps, p->nmaps + 1, sizeof(*v))) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	p->maps = v;
	m = &p->maps[p->nmaps++];
	memset(m, 0, sizeof(*m));
	m->pos.line = n->start_mark.line + 1;
	m->pos.col = n->start_mark.column + 1;
	yconf_map(y, n, "sso.providers.claims", config_map_keys,
	    NITEMS(config_map_keys), m);
}

static void
config_on_sso_maps(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_sso_map, obj);
}

/* Defaults and checks across the keys of one provider. */
static void
config_sso_provider_finish(struct yconf *y, yaml_node_t *n,
    struct config_sso_provider *p)
{
	static const char *const scopes[] = { "openid", "email", "profile" };
	char			**v;
	size_t			 i;

	if (p->type == CONFIG_SSO_GOOGLE && p->issuer == NULL &&
	    (p->issuer = strdup(SSO_GOOGLE_ISSUER)) == NULL)
		yconf_nomem(y, n);
	if (p->issuer == NULL)
		yconf_error(y, n, "sso.providers: %s: type oidc needs issuer",
		    p->name != NULL ? p->name : "?");
	if (p->hosted_domain != NULL && p->type != CONFIG_SSO_GOOGLE)
		yconf_error(y, n, "sso.providers: %s: hosted_domain is "
		    "Google's; use email_domains", p->name != NULL ?
		    p->name : "?");
	for (i = 0; p->nscopes == i && i < NITEMS(scopes); i++) {
		if ((v = reallocarray(p->scopes, i + 1, sizeof(*v))) == NULL) {
			yconf_nomem(y, n);
			return;
		}
		p->scopes = v;
		if ((v[i] = strdup(scopes[i])) == NULL) {
			yconf_nomem(y, n);
			return;
		}
		p->nscopes = i + 1;
	}
	for (i = 0; i < p->nscopes; i++)
		if (strcmp(p->scopes[i], "openid") == 0)
			break;
	if (i == p->nscopes)
		yconf_error(y, n, "sso.providers: %s: scopes must include "
		    "openid", p->name != NULL ? p->name : "?");
	if (p->client_auth == CONFIG_SSO_PRIVATE_KEY_JWT) {
		if (p->private_key == NULL)
			yconf_error(y, n, "sso.providers: %s: client_auth "
			    "private_key_jwt needs private_key_file",
			    p->name != NULL ? p->name : "?");
		if (p->client_secret != NULL || p->sealed != NULL)
			yconf_error(y, n, "sso.providers: %s: private_key_jwt "
			    "takes no client secret", p->name != NULL ?
			    p->name : "?");
	} else if ((p->client_secret != NULL) == (p->sealed != NULL))
		yconf_error(y, n, "sso.providers: %s: give one of "
		    "client_secret_file and client_secret (a value from "
		    "postern secrets seal --purpose sso)", p->name != NULL ?
		    p->name : "?");
	if (p->display_name == NULL && (p->display_name = strdup(
	    p->type == CONFIG_SSO_GOOGLE ? "Google" : p->name != NULL ?
	    p->name : "?")) == NULL)
		yconf_nomem(y, n);
}

static void
config_on_sso_provider(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso		*sso = obj;
	struct config_sso_provider	*v, *p;
	size_t				 i;

	if ((v = reallocarray(sso->providers, sso->nproviders + 1,
	    sizeof(*v))) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	sso->providers = v;
	p = &sso->providers[sso->nproviders++];
	memset(p, 0, sizeof(*p));
	p->timeout = 10 * MS_SEC;
	p->backchannel_logout = 1;
	p->pos.line = n->start_mark.line + 1;
	p->pos.col = n->start_mark.column + 1;
	yconf_map(y, n, "sso.providers", config_prov_keys,
	    NITEMS(config_prov_keys), p);
	config_sso_provider_finish(y, n, p);
	for (i = 0; p->name != NULL && i + 1 < sso->nproviders; i++)
		if (sso->providers[i].name != NULL &&
		    strcmp(sso->providers[i].name, p->name) == 0)
			yconf_error(y, n, "sso.providers: '%s' is named twice",
			    p->name);
}

static void
config_on_sso_providers(struct yconf *y, yaml_node_t *n, void *obj)
{
	if (yconf_seq_len(n) == 0)
		yconf_error(y, n, "sso.providers: expected at least one");
	yconf_seq(y, n, config_on_sso_provider, obj);
}

static void
config_on_sso_org(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_sso	*sso = obj;
	struct config_sso_org	*v, *o;
	size_t			 i;

	if ((v = reallocarray(sso->orgs, sso->norgs + 1, sizeof(*v))) ==
	    NULL) {
		yconf_nomem(y, n);
		return;
	}
	sso->orgs = v;
	o = &sso->orgs[sso->norgs++];
	memset(o, 0, sizeof(*o));
	o->pos.line = n->start_mark.line + 1;
	o->pos.col = n->start_mark.column + 1;
	yconf_map(y, n, "sso.orgs", config_org_keys, NITEMS(config_org_keys),
	    o);
	if (o->provider != NULL && config_sso_provider(sso, o->provider,
	    strlen(o->provider)) == NULL)
		yconf_error(y, n, "sso.orgs: %s: no provider named '%s' in "
		    "sso.providers", o->org != NULL ? o->org : "?",
		    o->provider);
	for (i = 0; o->org != NULL && i + 1 < sso->norgs; i++)
		if (sso->orgs[i].org != NULL &&
		    strcmp(sso->orgs[i].org, o->org) == 0)
			yconf_error(y, n, "sso.orgs: '%s' is listed twice",
			    o->org);
}

static void
config_on_sso_orgs(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_sso_org, obj);
}

void
config_on_sso(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	config_sso_free(cfg->sso);
	if ((cfg->sso = calloc(1, sizeof(*cfg->sso))) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	cfg->sso->flow_ttl = 10 * 60 * MS_SEC;
	/* the orgs refer to providers: walk providers first */
	yconf_map(y, n, "sso", config_sso_keys, NITEMS(config_sso_keys),
	    cfg->sso);
}

/* <role> is a rung of the ladder. */
static int
config_sso_role_ok(const struct config *cfg, const char *role)
{
	size_t	i;

	for (i = 0; i < cfg->nroles; i++)
		if (strcmp(cfg->roles[i], role) == 0)
			return 1;
	return 0;
}

/* Open a sealed client secret with the gateway secret. */
static void
config_sso_unseal(struct config *cfg, struct config_sso_provider *p,
    struct diag *d)
{
	unsigned char	v[TOTP_SEAL_MAX];
	size_t		len = 0;

	if (p->sealed == NULL || p->client_secret != NULL)
		return;
	if (cfg->keys == NULL)
		diag_error(d, cfg->path, p->pos.line, p->pos.col,
		    "sso.providers: %s: a sealed client_secret needs "
		    "secret_file", p->name);
	else if (config_unseal(cfg, "sso", p->sealed, v, sizeof(v), &len) ==
	    -1 || len == 0 || memchr(v, '\0', len) != NULL)
		diag_error(d, cfg->path, p->pos.line, p->pos.col,
		    "sso.providers: %s: the sealed client_secret does not open "
		    "with secret_file or previous_secret_files", p->name);
	else if ((p->client_secret = strndup((char *)v, len)) == NULL)
		diag_error(d, cfg->path, 0, 0, "out of memory");
	OPENSSL_cleanse(v, sizeof(v));
}

void
config_sso_check(struct config *cfg, struct diag *d)
{
	struct config_sso_provider	*p;
	size_t				 i, j;

	if (cfg->sso == NULL)
		return;
	if (cfg->keys == NULL)
		diag_error(d, cfg->path, 0, 0, "sso: single sign-on needs "
		    "secret_file (sessions and the flow's state are sealed "
		    "with it)");
	for (i = 0; i < cfg->sso->nproviders; i++) {
		p = &cfg->sso->providers[i];
		config_sso_unseal(cfg, p, d);
		for (j = 0; j < p->nmaps; j++)
			if (p->maps[j].role != NULL &&
			    !config_sso_role_ok(cfg, p->maps[j].role))
				diag_error(d, cfg->path, p->maps[j].pos.line,
				    p->maps[j].pos.col, "sso.providers: %s: "
				    "claims: role '%s' is not a rung of "
				    "roles:", p->name, p->maps[j].role);
	}
}

void
config_sso_wipe(char **s)
{
	if (*s == NULL)
		return;
	OPENSSL_cleanse(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void
config_sso_strv_free(char ***v, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static void
config_sso_provider_free(struct config_sso_provider *p)
{
	size_t	i;

	free(p->name);
	free(p->display_name);
	free(p->issuer);
	free(p->discovery_url);
	free(p->client_id);
	config_sso_wipe(&p->client_secret);
	free(p->sealed);
	free(p->private_key_file);
	EVP_PKEY_free(p->private_key);
	free(p->key_id);
	config_sso_strv_free(&p->scopes, &p->nscopes);
	free(p->hosted_domain);
	config_names_free(&p->email_domains);
	for (i = 0; i < p->nmaps; i++) {
		free(p->maps[i].claim);
		free(p->maps[i].value);
		free(p->maps[i].org);
		free(p->maps[i].role);
	}
	free(p->maps);
	free(p->ca_file);
	free(p->post_logout_redirect);
}

void
config_sso_free(struct config_sso *sso)
{
	size_t	i;

	if (sso == NULL)
		return;
	for (i = 0; i < sso->nproviders; i++)
		config_sso_provider_free(&sso->providers[i]);
	free(sso->providers);
	for (i = 0; i < sso->norgs; i++) {
		free(sso->orgs[i].org);
		free(sso->orgs[i].provider);
		config_names_free(&sso->orgs[i].domains);
	}
	free(sso->orgs);
	free(sso);
}
