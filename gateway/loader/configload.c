/*
 * The life of a snapshot on the loader's side (see config-int.h): a new
 * one with every default, the walk of a file into it, the checks across
 * sections, and its destructor (config_unref() calls it through
 * cfg->destroy).  Also the sections naming other files: the policy files
 * and the role ladder their routes are checked against.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assertion.h"
#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "headers.h"
#include "loader.h"
#include "log.h"
#include "parse.h"
#include "password.h"
#include "policy.h"
#include "secret.h"
#include "store.h"
#include "yconf.h"

/* Load policy file <path> once, however many patterns name it. */
static void
config_add_policy(struct yconf *y, yaml_node_t *n, const char *path)
{
	struct config_ctx	*cx = y->arg;
	struct config		*cfg = cx->cfg;
	char			*rp, **nf;
	size_t			 i;

	if ((rp = realpath(path, NULL)) == NULL) {
		yconf_error(y, n, "%s: cannot open %s: %s", y->key, path,
		    strerror(errno));
		return;
	}
	for (i = 0; i < cfg->npolicy_files; i++)
		if (strcmp(cfg->policy_files[i], rp) == 0) {
			free(rp);
			return;
		}
	nf = reallocarray(cfg->policy_files, cfg->npolicy_files + 1,
	    sizeof(*nf));
	if (nf == NULL) {
		yconf_nomem(y, n);
		free(rp);
		return;
	}
	cfg->policy_files = nf;
	cfg->policy_files[cfg->npolicy_files++] = rp;
	(void)policy_load_file(cfg, rp, cx->diag);
}

static void
config_on_policy(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	const char		*s;
	char			*pattern;
	glob_t			 g;
	size_t			 i;
	int			 rc;

	if (yconf_str(y, n, &s) == -1)
		return;
	if ((pattern = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (strpbrk(s, "*?[") == NULL) {
		config_add_policy(y, n, pattern);
		free(pattern);
		return;
	}
	if ((rc = glob(pattern, 0, NULL, &g)) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			config_add_policy(y, n, g.gl_pathv[i]);
	} else
		yconf_error(y, n, "%s: '%s' %s", y->key, pattern,
		    rc == GLOB_NOMATCH ? "matches no file" :
		    "cannot be expanded");
	if (rc == 0)
		globfree(&g);
	free(pattern);
}

void
config_on_policies(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_policy, obj);
}

static void
config_roles_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nroles; i++)
		free(cfg->roles[i]);
	free(cfg->roles);
	cfg->roles = NULL;
	cfg->nroles = 0;
}

/* Append <role> to the ladder; 0, or -1 when out of memory. */
static int
config_role_add(struct config *cfg, const char *role)
{
	char	**v;

	if ((v = reallocarray(cfg->roles, cfg->nroles + 1, sizeof(*v))) ==
	    NULL)
		return -1;
	cfg->roles = v;
	if ((v[cfg->nroles] = strdup(role)) == NULL)
		return -1;
	cfg->nroles++;
	return 0;
}

/*
 * roles: the ladder, highest first (a route's "role: admin" admits admin
 * and every rung above).  Names are [a-z][a-z0-9_-]*, unique.  Policy
 * files are checked against it once the whole file is read.
 */
void
config_on_roles(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			 val[40];
	size_t			 i;

	config_roles_free(cfg);
	if (yconf_seq_len(n) == 0)
		yconf_error(y, n, "%s: at least one role is required", y->key);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (strlen(s) == 0 || strlen(s) > 15 || s[0] < 'a' || s[0] > 'z' ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(s)) {
			yconf_error(y, item, "%s: invalid role '%s': use 1 to 15 "
			    "lower-case letters, digits, '_' and '-'", y->key,
			    parse_printable(val, sizeof(val), s, 32));
			continue;
		}
		for (i = 0; i < cfg->nroles; i++)
			if (strcmp(cfg->roles[i], s) == 0)
				break;
		if (i < cfg->nroles)
			yconf_error(y, item, "%s: duplicate role '%s'", y->key,
			    s);
		else if (config_role_add(cfg, s) == -1)
			yconf_nomem(y, item);
	}
}

/* A snapshot holding every default of conf/postern.yaml, or NULL when
 * out of memory. */
struct config *
config_new(const char *path)
{
	struct config	*cfg;
	char		 err[PARSE_ERRLEN], *copy;
	int		 bad = 0;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->refcnt = 1;
	cfg->destroy = config_free;
	if ((cfg->path = strdup(path)) == NULL ||
	    (copy = strdup(path)) == NULL) {
		config_free(cfg);
		return NULL;
	}
	cfg->dir = strdup(dirname(copy));
	free(copy);
	bad |= cfg->dir == NULL;
	cfg->max_connections = 10000;
	cfg->max_connections_per_ip = 256;
	cfg->max_request_line = 8 * KIB;
	cfg->max_header_size = 32 * KIB;
	cfg->max_headers = 100;
	cfg->max_body_size = 100 * MIB;
	cfg->header_timeout = 10 * MS_SEC;
	cfg->idle_timeout = 60 * MS_SEC;
	cfg->body_timeout = 60 * MS_SEC;
	cfg->upstream_connect_timeout = 5 * MS_SEC;
	cfg->upstream_timeout = 60 * MS_SEC;
	cfg->upstream_idle_timeout = 30 * MS_SEC;
	cfg->tunnel_idle_timeout = 10 * 60 * MS_SEC;
	cfg->shutdown_timeout = 30 * MS_SEC;
	cfg->hsts_max_age = 365 * 86400;
	cfg->hsts_include_subdomains = 1;
	bad |= parse_addr("127.0.0.1:6379", &cfg->redis, err,
	    sizeof(err)) == -1;
	bad |= (cfg->redis_prefix = strdup("postern:")) == NULL;
	cfg->redis_connect_timeout = 2 * MS_SEC;
	cfg->redis_command_timeout = 1 * MS_SEC;
	cfg->argon2_memory = 19 * MIB;
	cfg->argon2_iterations = 2;
	cfg->argon2_parallelism = 1;
	cfg->password_min_length = 12;
	cfg->hash_queue = 64;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->access_log = 1;
	cfg->session_idle_timeout = 30 * 60 * MS_SEC;
	cfg->session_ws_recheck = 30 * MS_SEC;
	cfg->mfa_max_failures = 5;
	bad |= config_rl_defaults_set(cfg) == -1;
	cfg->account_fresh_auth = 5 * 60 * MS_SEC;
	cfg->token_ttl = 10 * 60 * MS_SEC;
	cfg->invite_ttl = 7 * MS_DAY;
	cfg->notify_changes = 1;
	cfg->notify_new_device = 1;
	cfg->magic_same_browser = 1;
	cfg->session_lifetime = 12 * 3600 * MS_SEC;
	cfg->session_max_per_user = 10;
	cfg->assertion_ttl = 60 * MS_SEC;
	cfg->assertion_reuse_percent = 50;
	cfg->session_cache_size = 10000;
	bad |= config_role_add(cfg, "owner") == -1;
	bad |= config_role_add(cfg, "admin") == -1;
	bad |= config_role_add(cfg, "member") == -1;
	bad |= config_role_add(cfg, "viewer") == -1;
	bad |= (cfg->assertion_issuer = strdup("postern")) == NULL;
	bad |= (cfg->brand_product = strdup("Postern")) == NULL;
	bad |= (cfg->brand_color = strdup("#2b59c3")) == NULL;
	if (bad) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		parse_addr_free(&cfg->listen[i].addr);
	for (i = 0; i < cfg->ncerts; i++) {
		free(cfg->certs[i].cert_file);
		free(cfg->certs[i].key_file);
	}
	for (i = 0; i < cfg->npolicy_files; i++)
		free(cfg->policy_files[i]);
	for (i = 0; i < cfg->napps; i++)
		policy_app_free(&cfg->apps[i]);
	free(cfg->listen);
	free(cfg->certs);
	free(cfg->policy_files);
	free(cfg->apps);
	headers_set_free(cfg->page_headers);
	free(cfg->trusted_proxies);
	parse_addr_free(&cfg->admin);
	parse_addr_free(&cfg->redis);
	free(cfg->redis_username);
	free(cfg->redis_password_file);
	free(cfg->redis_prefix);
	for (i = 0; i < cfg->nredis_sentinels; i++)
		parse_addr_free(&cfg->redis_sentinels[i]);
	free(cfg->redis_sentinels);
	free(cfg->redis_master_name);
	free(cfg->redis_sentinel_username);
	free(cfg->redis_sentinel_password_file);
	free(cfg->secret_file);
	free(cfg->common_passwords);
	free(cfg->cookie_domain);
	free(cfg->assertion_key_file);
	free(cfg->assertion_issuer);
	for (i = 0; i < cfg->nassertion_previous; i++)
		free(cfg->assertion_previous[i]);
	free(cfg->assertion_previous);
	free(cfg->brand_product);
	free(cfg->brand_logo_url);
	free(cfg->brand_img_src);
	free(cfg->brand_logo);
	free(cfg->brand_color);
	config_pages_free(cfg);
	config_roles_free(cfg);
	config_names_free(&cfg->mfa_roles);
	config_names_free(&cfg->mfa_orgs);
	config_names_free(&cfg->magic_orgs);
	password_rules_free(cfg->pwrules);
	free(cfg->ratelimits);
	free(cfg->audit_file);
	config_webhooks_free(cfg);
	for (i = 0; i < cfg->nprev_secret_files; i++)
		free(cfg->prev_secret_files[i]);
	free(cfg->prev_secret_files);
	for (i = 0; i < cfg->nprev_keys; i++)
		secret_wipe(&cfg->prev_keys[i]);
	free(cfg->prev_keys);
	if (cfg->keys != NULL) {
		secret_wipe(cfg->keys);
		free(cfg->keys);
	}
	assertion_signer_free(cfg->signer);
	config_mail_free(cfg->mail);
	config_sso_free(cfg->sso);
	config_acme_free(cfg->acme);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

/* Checks across sections, once the whole file has been walked. */
static void
config_finish(struct yconf *y, struct config_ctx *cx)
{
	struct config	*cfg = cx->cfg;
	long		 n;

	if (cx->tls_listen != NULL && !cx->certs_key)
		yconf_error(y, cx->tls_listen, "server.listen: a listener with "
		    "tls: true needs tls.certificates");
	if (cfg->redis_prefix != NULL && cfg->redis_prefix[0] == '\0')
		yconf_error(y, NULL, "redis.prefix: must not be empty");
	if (cfg->argon2_memory % KIB != 0)
		yconf_error(y, NULL, "passwords.argon2_memory: expected a "
		    "multiple of 1KiB");
	if (cfg->hash_threads == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->hash_threads = n < 1 ? 1 : n > 256 ? 256 : (uint64_t)n;
	}
	if (cfg->workers == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX :
		    (unsigned int)n;
	}
}

/* Walk the loaded document of <y> into <cfg>. */
static void
config_walk(struct yconf *y, struct config *cfg, struct diag *d)
{
	struct config_ctx	 cx;
	yaml_node_t		*root;

	memset(&cx, 0, sizeof(cx));
	cx.cfg = cfg;
	cx.diag = d;
	y->arg = &cx;
	if ((root = yconf_root(y)) == NULL)
		diag_error(d, cfg->path, 0, 0, "empty configuration (expected "
		    "a mapping with at least server.listen)");
	else {
		config_on_top(y, root, cfg);
		config_finish(y, &cx);
		policy_compile(cfg, d);	/* routes, against roles: */
	}
	free(cx.listen_nodes);
}

/* The security header lines of the gateway's pages and of each app, built
 * once per snapshot (headers.h); 0, or -1 when out of memory. */
static int
config_build_headers(struct config *cfg)
{
	const struct headers_hsts hsts = { .max_age = cfg->hsts_max_age,
	    .include_subdomains = cfg->hsts_include_subdomains,
	    .preload = cfg->hsts_preload };
	size_t		 i;

	if ((cfg->page_headers = headers_page(&hsts, cfg->brand_img_src)) ==
	    NULL)
		return -1;
	for (i = 0; i < cfg->napps; i++)
		if ((cfg->apps[i].headers = headers_app(&cfg->apps[i].sec,
		    &hsts, cfg->apps[i].hide_server_header)) == NULL)
			return -1;
	return 0;
}

static struct config *
config_done(struct config *cfg, struct diag *d, size_t nerrors)
{
	if (d->nerrors == nerrors) {
		config_keys(cfg, d);
		config_account_check(cfg, d);
		config_sso_check(cfg, d);
		config_acme_check(cfg, d);
	}
	if (d->nerrors == nerrors && (config_build_headers(cfg) == -1 ||
	    config_pages_done(cfg) == -1))
		diag_error(d, cfg->path, 0, 0, "out of memory");
	if (d->nerrors == nerrors)	/* per-app header lines built once */
		return cfg;
	config_free(cfg);
	return NULL;
}

/* The file <path>, or with <inmem> the <len> bytes of <buf> named so. */
static struct config *
config_load_from(const char *path, int inmem, const void *buf, size_t len,
    struct diag *d)
{
	struct config	*cfg;
	struct yconf	 y;
	size_t		 nerrors = d->nerrors;
	int		 rc;

	if ((cfg = config_new(path)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		return NULL;
	}
	rc = inmem ? yconf_open_buffer(&y, path, buf, len, d) :
	    yconf_open(&y, path, d);
	if (rc == 0)
		config_walk(&y, cfg, d);
	yconf_close(&y);
	return config_done(cfg, d, nerrors);
}

struct config *
config_load(const char *path, struct diag *d)
{
	return config_load_from(path, 0, NULL, 0, d);
}

struct config *
config_load_buffer(const char *path, const void *buf, size_t len,
    struct diag *d)
{
	return config_load_from(path, 1, buf, len, d);
}

void
config_store_settings(const struct config *cfg, struct store_settings *set)
{
	size_t	i;

	*set = (struct store_settings){
		.addr = &cfg->redis.ss,
		.addrlen = cfg->redis.sslen,
		.text = cfg->redis.text,
		.username = cfg->redis_username,
		.password_file = cfg->redis_password_file,
		.db = cfg->redis_db,
		.prefix = cfg->redis_prefix,
		.connect_timeout = cfg->redis_connect_timeout,
		.command_timeout = cfg->redis_command_timeout,
		.master_name = cfg->redis_master_name,
		.sentinel_username = cfg->redis_sentinel_username,
		.sentinel_password_file = cfg->redis_sentinel_password_file,
	};
	for (i = 0; i < cfg->nredis_sentinels && i < STORE_MAX_SENTINELS;
	    i++) {
		set->sentinels[i] = &cfg->redis_sentinels[i].ss;
		set->sentinel_lens[i] = cfg->redis_sentinels[i].sslen;
	}
	set->nsentinels = i;
}
