/*
 * The configuration sections of sign-in: sessions (timeouts, limit, SSO
 * cookie domain), the assertion signing keys and the branding of the
 * sign-in pages; and, after a load, the keys derived from the gateway
 * secret and the signer.  Part of the loader: see config-int.h.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assertion.h"
#include "config.h"
#include "config-int.h"
#include "configlogo.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "parse.h"
#include "secret.h"
#include "yconf.h"

static void	config_on_cookie_domain(struct yconf *, yaml_node_t *, void *);
static void	config_on_assertion_key(struct yconf *, yaml_node_t *, void *);
static void	config_on_previous_keys(struct yconf *, yaml_node_t *, void *);
static void	config_on_brand_text(struct yconf *, yaml_node_t *, void *);
static void	config_on_logo(struct yconf *, yaml_node_t *, void *);
static void	config_on_color(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_sessions_keys[] = {
	{ "idle_timeout", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(session_idle_timeout), MS_SEC, 30 * MS_DAY },
	{ "lifetime", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(session_lifetime), MS_SEC, 365 * MS_DAY },
	{ "max_per_user", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(session_max_per_user), 0, 10000 },
	{ "cookie_domain", YAML_SCALAR_NODE, 0, config_on_cookie_domain,
	    0, 0, 0 },
	{ "websocket_recheck", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(session_ws_recheck), MS_SEC, MS_DAY },
	{ "cache_size", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(session_cache_size), 0, 10000000 },
};


static const struct yconf_key config_assertion_keys[] = {
	{ "key_file", YAML_SCALAR_NODE, 0, config_on_assertion_key, 0, 0, 0 },
	{ "previous_key_files", YAML_SEQUENCE_NODE, 0,
	    config_on_previous_keys, 0, 0, 0 },
	{ "issuer", YAML_SCALAR_NODE, 0, config_on_brand_text,
	    CFG(assertion_issuer), 1, 200 },
	{ "ttl", YAML_SCALAR_NODE, 0, yconf_on_duration, CFG(assertion_ttl),
	    MS_SEC, 60 * MS_SEC },
	{ "per_request", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(assertion_per_request), 0, 0 },
	{ "reuse_percent", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(assertion_reuse_percent), 10, 90 },
};


static const struct yconf_key config_branding_keys[] = {
	{ "product_name", YAML_SCALAR_NODE, 0, config_on_brand_text,
	    CFG(brand_product), 1, 64 },
	{ "logo_url", YAML_SCALAR_NODE, 0, config_on_logo, 0, 0, 0 },
	{ "logo_file", YAML_SCALAR_NODE, 0, config_on_logo_file, 0, 0, 0 },
	{ "color", YAML_SCALAR_NODE, 0, config_on_color, 0, 0, 0 },
};


void
config_on_sessions(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "sessions", config_sessions_keys,
	    NITEMS(config_sessions_keys), obj);
}

void
config_on_assertion(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "assertion", config_assertion_keys,
	    NITEMS(config_assertion_keys), obj);
}

void
config_on_branding(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "branding", config_branding_keys,
	    NITEMS(config_branding_keys), obj);
}

/* A host name the session cookie is shared across (no leading dot). */
static void
config_on_cookie_domain(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	const char	*s;
	char		 err[128];
	size_t		 i;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if (parse_host(s, 0, err, sizeof(err)) == -1 ||
	    strchr(s, '.') == NULL || strchr(s, ':') != NULL) {
		yconf_error(y, n, "%s: expected a domain such as "
		    "example.com, got \"%s\"", y->key, s);
		return;
	}
	free(cfg->cookie_domain);
	if ((cfg->cookie_domain = strdup(s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	for (i = 0; cfg->cookie_domain[i] != '\0'; i++)
		cfg->cookie_domain[i] = (char)tolower(
		    (unsigned char)cfg->cookie_domain[i]);
}

static void
config_on_assertion_key(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config		*cfg = obj;
	const char		*s;
	char			*path;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if ((path = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (access(path, F_OK) == -1 && errno == ENOENT)
		yconf_error(y, n, "%s: %s does not exist; create it with "
		    "'postern keys generate -c %s'", y->key, path,
		    cx->cfg->path);
	else
		config_secret_file(y, n, 1, &cfg->assertion_key_file);
	free(path);
}

static void
config_on_previous_keys(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config		*cfg = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			**v;

	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		v = reallocarray(cfg->assertion_previous,
		    cfg->nassertion_previous + 1, sizeof(*v));
		if (v == NULL) {
			yconf_nomem(y, item);
			return;
		}
		cfg->assertion_previous = v;
		if ((v[cfg->nassertion_previous] = config_path(cx->cfg, s)) ==
		    NULL) {
			yconf_nomem(y, item);
			return;
		}
		cfg->nassertion_previous++;
	}
}

/* Text shown on pages or put in tokens: printable, bounded. */
static void
config_on_brand_text(struct yconf *y, yaml_node_t *n, void *obj)
{
	char		**p = (char **)(void *)((char *)obj + y->cur->off);
	const char	*s;
	size_t		 i, len;

	if (yconf_str(y, n, &s) == -1)
		return;
	len = strlen(s);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (len < y->cur->min || len > y->cur->max || i < len) {
		yconf_error(y, n, "%s: expected %" PRIu64 " to %" PRIu64
		    " printable characters", y->key, y->cur->min, y->cur->max);
		return;
	}
	free(*p);
	if ((*p = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

/*
 * The origin of logo URL <s> as a CSP source ("https://host[:port]") into
 * <out>: https only, a host name or [IPv6] literal, an optional port 1 to
 * 65535, no user info; 0, or -1 if <s> is none of that.
 */
static int
config_logo_origin(const char *s, char *out, size_t size)
{
	const char	*h = s + 8, *e, *c, *p;
	unsigned long	 port = 443;
	char		*end;

	if (strncmp(s, "https://", 8) != 0)
		return -1;
	e = h + strcspn(h, "/?#");
	if (*h == '[')
		c = memchr(h, ']', (size_t)(e - h));
	else
		c = h;
	if (c == NULL)
		return -1;
	c = memchr(c, ':', (size_t)(e - c));
	if (c == NULL)
		c = e;
	else {
		errno = 0;
		port = strtoul(c + 1, &end, 10);
		if (end != e || c + 1 == e || port == 0 || port > 65535 ||
		    c[1] == '0')
			return -1;
	}
	if (c == h || (size_t)(c - h) > 253 || h[0] == '.' || h[0] == '-' ||
	    c[-1] == '.' || c[-1] == '-' || (*h == '[' && c[-1] != ']'))
		return -1;
	for (p = h; p < c; p++)
		if (strchr(*h == '[' ? "[]0123456789abcdefABCDEF:." :
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-", *p) == NULL)
			return -1;
	(void)snprintf(out, size, "https://%.*s%s%.*s", (int)(c - h), h,
	    c < e ? ":" : "", (int)(e - c - (c < e)), c + (c < e));
	return 0;
}

/*
 * An https:// URL (its origin is what the pages' CSP lets images come
 * from) or an absolute path on the app's host ('self'); printable ASCII
 * without quotes, spaces or backslashes.
 */
static void
config_on_logo(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	const char	*s, *p;
	char		 origin[300];

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	for (p = s; *p > 0x20 && *p < 0x7f; p++)
		;
	if (*p != '\0' || strlen(s) > 1024 || strpbrk(s, "\"'<>\\") !=
	    NULL || (s[0] == '/' ? s[1] == '/' :
	    config_logo_origin(s, origin, sizeof(origin)) == -1)) {
		yconf_error(y, n, "%s: expected an https:// URL (host, "
		    "optional port, no user info) or an absolute path, got "
		    "\"%s\"", y->key, s);
		return;
	}
	if (cfg->brand_logo != NULL) {
		yconf_error(y, n, "%s: give logo_url or logo_file, not both",
		    y->key);
		return;
	}
	free(cfg->brand_logo_url);
	free(cfg->brand_img_src);
	cfg->brand_logo_url = strdup(s);
	cfg->brand_img_src = strdup(s[0] == '/' ? "'self'" : origin);
	if (cfg->brand_logo_url == NULL || cfg->brand_img_src == NULL)
		yconf_nomem(y, n);
}

static void
config_on_color(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	const char	*s;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1,
	    "0123456789abcdefABCDEF") != 6) {
		yconf_error(y, n, "%s: expected a colour as #rrggbb, got "
		    "\"%s\"", y->key, s);
		return;
	}
	free(cfg->brand_color);
	if ((cfg->brand_color = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

/*
 * Keys that come from files: the gateway secret's derived keys and the
 * assertion signer.  An app with protect: true, or with a route that is not
 * public (policy.c sets protect from its routes), needs both.
 */
void
config_keys(struct config *cfg, struct diag *d)
{
	const char	*why;
	char		 err[256];
	size_t		 i;

	if (cfg->secret_file != NULL) {
		if ((cfg->keys = calloc(1, sizeof(*cfg->keys))) == NULL) {
			diag_error(d, cfg->path, 0, 0, "out of memory");
			return;
		}
		if (secret_load(cfg->secret_file, cfg->keys, err,
		    sizeof(err)) == -1)
			diag_error(d, cfg->path, 0, 0, "secret_file: %s", err);
	}
	if (cfg->nprev_secret_files > 0 && (cfg->prev_keys = calloc(
	    cfg->nprev_secret_files, sizeof(*cfg->prev_keys))) == NULL) {
		diag_error(d, cfg->path, 0, 0, "out of memory");
		return;
	}
	for (i = 0; i < cfg->nprev_secret_files; i++) {
		if (secret_load(cfg->prev_secret_files[i], &cfg->prev_keys[i],
		    err, sizeof(err)) == -1)
			diag_error(d, cfg->path, 0, 0, "previous_secret_files: "
			    "%s", err);
		cfg->nprev_keys = i + 1;
	}
	if (cfg->assertion_key_file != NULL &&
	    (cfg->signer = assertion_signer_load(cfg->assertion_key_file,
	    cfg->assertion_previous, cfg->nassertion_previous, err,
	    sizeof(err))) == NULL)
		diag_error(d, cfg->path, 0, 0, "assertion.key_file: %s", err);
	for (i = 0; i < cfg->napps; i++) {
		if (!cfg->apps[i].protect)
			continue;
		cfg->needs_redis = 1;
		why = cfg->apps[i].routes != NULL ? "routes that are not "
		    "public" : "protect: true";
		if (cfg->secret_file == NULL)
			diag_error(d, cfg->apps[i].policy_file,
			    cfg->apps[i].pos.line, cfg->apps[i].pos.col,
			    "app '%s' has %s, which needs secret_file in %s",
			    cfg->apps[i].name, why, cfg->path);
		if (cfg->assertion_key_file == NULL)
			diag_error(d, cfg->apps[i].policy_file,
			    cfg->apps[i].pos.line, cfg->apps[i].pos.col,
			    "app '%s' has %s, which needs assertion.key_file "
			    "in %s (create one with 'postern keys generate -c "
			    "%s')", cfg->apps[i].name, why, cfg->path,
			    cfg->path);
	}
}

/* The scalar value of key <name> in mapping <map>, or NULL. */
static yaml_node_t *
config_lookup(struct yconf *y, yaml_node_t *map, const char *name)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&y->doc, pair->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, name) == 0)
			return yaml_document_get_node(&y->doc, pair->value);
	}
	return NULL;
}

char *
config_assertion_key_path(const char *path, struct diag *d)
{
	struct config	*cfg;
	struct yconf	 y;
	yaml_node_t	*n = NULL;
	char		*out = NULL;

	if ((cfg = config_new(path)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		return NULL;
	}
	if (yconf_open(&y, path, d) == 0)
		n = config_lookup(&y, config_lookup(&y, yconf_root(&y),
		    "assertion"), "key_file");
	if (n != NULL && n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.length > 0 &&
	    (out = config_path(cfg, (char *)n->data.scalar.value)) == NULL)
		diag_error(d, path, 0, 0, "out of memory");
	yconf_close(&y);
	config_free(cfg);
	return out;
}
