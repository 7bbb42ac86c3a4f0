/*
 * The configuration loader (see config.h and conf/postern.yaml): the YAML
 * schema of the top-level keys as tables, and the server, limits,
 * timeouts, Redis, secret, password and log sections with the checks that
 * need the file system (secret files, systemd credentials).  configload.c
 * walks a file through config_on_top() into a new snapshot.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "log.h"
#include "parse.h"
#include "secret.h"
#include "yconf.h"

#define SECRET_MIN	32		/* bytes of the gateway secret */

static void	config_on_server(struct yconf *, yaml_node_t *, void *);
static void	config_on_limits(struct yconf *, yaml_node_t *, void *);
static void	config_on_timeouts(struct yconf *, yaml_node_t *, void *);
static void	config_on_tls(struct yconf *, yaml_node_t *, void *);
static void	config_on_security(struct yconf *, yaml_node_t *, void *);
static void	config_on_redis(struct yconf *, yaml_node_t *, void *);
static void	config_on_secret(struct yconf *, yaml_node_t *, void *);
static void	config_on_prev_secrets(struct yconf *, yaml_node_t *, void *);
static void	config_on_passwords(struct yconf *, yaml_node_t *, void *);
static void	config_on_log(struct yconf *, yaml_node_t *, void *);
static void	config_on_workers(struct yconf *, yaml_node_t *, void *);
static void	config_on_listens(struct yconf *, yaml_node_t *, void *);
static void	config_on_admin(struct yconf *, yaml_node_t *, void *);
static void	config_on_proxies(struct yconf *, yaml_node_t *, void *);
static void	config_on_listen_addr(struct yconf *, yaml_node_t *, void *);
static void	config_on_listen_mode(struct yconf *, yaml_node_t *, void *);
static void	config_on_hsts(struct yconf *, yaml_node_t *, void *);
static void	config_on_redis_addr(struct yconf *, yaml_node_t *, void *);
static void	config_on_password(struct yconf *, yaml_node_t *, void *);
static void	config_on_redis_db(struct yconf *, yaml_node_t *, void *);
static void	config_on_sentinels(struct yconf *, yaml_node_t *, void *);
static void	config_on_sentinel_pw(struct yconf *, yaml_node_t *, void *);
static void	config_on_level(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_top_keys[] = {
	{ "server", YAML_MAPPING_NODE, 1, config_on_server, 0, 0, 0 },
	{ "limits", YAML_MAPPING_NODE, 0, config_on_limits, 0, 0, 0 },
	{ "timeouts", YAML_MAPPING_NODE, 0, config_on_timeouts, 0, 0, 0 },
	{ "tls", YAML_MAPPING_NODE, 0, config_on_tls, 0, 0, 0 },
	{ "security_headers", YAML_MAPPING_NODE, 0, config_on_security,
	    0, 0, 0 },
	{ "redis", YAML_MAPPING_NODE, 0, config_on_redis, 0, 0, 0 },
	{ "secret_file", YAML_SCALAR_NODE, 0, config_on_secret, 0, 0, 0 },
	{ "previous_secret_files", YAML_SEQUENCE_NODE, 0,
	    config_on_prev_secrets, 0, 0, 0 },
	{ "passwords", YAML_MAPPING_NODE, 0, config_on_passwords, 0, 0, 0 },
	{ "log", YAML_MAPPING_NODE, 0, config_on_log, 0, 0, 0 },
	{ "sessions", YAML_MAPPING_NODE, 0, config_on_sessions, 0, 0, 0 },
	{ "assertion", YAML_MAPPING_NODE, 0, config_on_assertion, 0, 0, 0 },
	{ "branding", YAML_MAPPING_NODE, 0, config_on_branding, 0, 0, 0 },
	{ "policies", YAML_SEQUENCE_NODE, 0, config_on_policies, 0, 0, 0 },
	{ "roles", YAML_SEQUENCE_NODE, 0, config_on_roles, 0, 0, 0 },
	{ "mfa", YAML_MAPPING_NODE, 0, config_on_mfa, 0, 0, 0 },
	{ "account", YAML_MAPPING_NODE, 0, config_on_account, 0, 0, 0 },
	{ "mail", YAML_MAPPING_NODE, 0, config_on_mail, 0, 0, 0 },
	{ "pages", YAML_MAPPING_NODE, 0, config_on_pages, 0, 0, 0 },
	{ "sso", YAML_MAPPING_NODE, 0, config_on_sso, 0, 0, 0 },
	{ "rate_limits", YAML_MAPPING_NODE, 0, config_on_ratelimits, 0, 0,
	    0 },
	{ "audit", YAML_MAPPING_NODE, 0, config_on_audit, 0, 0, 0 },
	{ "webhooks", YAML_SEQUENCE_NODE, 0, config_on_webhooks, 0, 0, 0 },
	{ "acme", YAML_MAPPING_NODE, 0, config_on_acme, 0, 0, 0 },
};

static const struct yconf_key config_server_keys[] = {
	{ "workers", YAML_SCALAR_NODE, 0, config_on_workers, 0, 0, 0 },
	{ "listen", YAML_SEQUENCE_NODE, 1, config_on_listens, 0, 0, 0 },
	{ "admin", YAML_SCALAR_NODE, 0, config_on_admin, 0, 0, 0 },
	{ "trusted_proxies", YAML_SEQUENCE_NODE, 0, config_on_proxies,
	    0, 0, 0 },
	{ "max_connections", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(max_connections), 1, 10000000 },
	{ "max_connections_per_ip", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(max_connections_per_ip), 1, 10000000 },
};

static const struct yconf_key config_listen_keys[] = {
	{ "address", YAML_SCALAR_NODE, 1, config_on_listen_addr, 0, 0, 0 },
	{ "tls", YAML_NO_NODE, 0, config_on_listen_tls, 0, 0, 0 },
	{ "redirect", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct config_listen, redirect), 0, 0 },
	{ "mode", YAML_SCALAR_NODE, 0, config_on_listen_mode, 0, 0, 0 },
};

static const struct yconf_key config_limits_keys[] = {
	{ "request_line", YAML_SCALAR_NODE, 0, yconf_on_size_t,
	    CFG(max_request_line), 64, 1 * MIB },
	{ "header_size", YAML_SCALAR_NODE, 0, yconf_on_size_t,
	    CFG(max_header_size), 1 * KIB, 16 * MIB },
	{ "headers", YAML_SCALAR_NODE, 0, yconf_on_count_t,
	    CFG(max_headers), 1, 10000 },
	{ "body_size", YAML_SCALAR_NODE, 0, yconf_on_size,
	    CFG(max_body_size), 0, UINT64_MAX / 2 },
	{ "allow_underscore_headers", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(allow_underscore_headers), 0, 0 },
};

#define TIMEOUT(name, field)	{ name, YAML_SCALAR_NODE, 0,		\
	yconf_on_duration, CFG(field), 1, 30 * MS_DAY }

static const struct yconf_key config_timeouts_keys[] = {
	TIMEOUT("header", header_timeout),
	TIMEOUT("idle", idle_timeout),
	TIMEOUT("body", body_timeout),
	TIMEOUT("upstream_connect", upstream_connect_timeout),
	TIMEOUT("upstream_response", upstream_timeout),
	TIMEOUT("upstream_idle", upstream_idle_timeout),
	TIMEOUT("tunnel_idle", tunnel_idle_timeout),
	TIMEOUT("shutdown", shutdown_timeout),
};

static const struct yconf_key config_tls_keys[] = {
	{ "certificates", YAML_SEQUENCE_NODE, 0, config_on_certs, 0, 0, 0 },
	{ "session_tickets", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(tls_session_tickets), 0, 0 },
};

static const struct yconf_key config_security_keys[] = {
	{ "hsts_max_age", YAML_SCALAR_NODE, 0, config_on_hsts, 0, 0, 0 },
	{ "hsts_include_subdomains", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(hsts_include_subdomains), 0, 0 },
	{ "hsts_preload", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(hsts_preload), 0, 0 },
};

static const struct yconf_key config_redis_keys[] = {
	{ "address", YAML_SCALAR_NODE, 0, config_on_redis_addr, 0, 0, 0 },
	{ "username", YAML_SCALAR_NODE, 0, yconf_on_str,
	    CFG(redis_username), 0, 0 },
	{ "password_file", YAML_SCALAR_NODE, 0, config_on_password, 0, 0, 0 },
	{ "db", YAML_SCALAR_NODE, 0, config_on_redis_db, 0, 0, 15 },
	{ "prefix", YAML_SCALAR_NODE, 0, yconf_on_str, CFG(redis_prefix),
	    0, 0 },
	{ "connect_timeout", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(redis_connect_timeout), 1, 10 * 60 * MS_SEC },
	{ "command_timeout", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(redis_command_timeout), 1, 10 * 60 * MS_SEC },
	{ "sentinels", YAML_SEQUENCE_NODE, 0, config_on_sentinels, 0, 0, 0 },
	{ "master_name", YAML_SCALAR_NODE, 0, yconf_on_str,
	    CFG(redis_master_name), 0, 0 },
	{ "sentinel_username", YAML_SCALAR_NODE, 0, yconf_on_str,
	    CFG(redis_sentinel_username), 0, 0 },
	{ "sentinel_password_file", YAML_SCALAR_NODE, 0,
	    config_on_sentinel_pw, 0, 0, 0 },
};

/* Argon2id cost: OWASP's floor is m=7 MiB with t=5 (default m=19 MiB, t=2). */
static const struct yconf_key config_passwords_keys[] = {
	{ "argon2_memory", YAML_SCALAR_NODE, 0, yconf_on_size,
	    CFG(argon2_memory), 7 * MIB, 4096 * MIB },
	{ "argon2_iterations", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(argon2_iterations), 1, 64 },
	{ "argon2_parallelism", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(argon2_parallelism), 1, 64 },
	{ "min_length", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(password_min_length), 8, 128 },
	{ "hash_threads", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(hash_threads), 0, 256 },
	{ "hash_queue", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(hash_queue), 1, 100000 },
	{ "common_passwords", YAML_SCALAR_NODE, 0, config_on_readable,
	    CFG(common_passwords), 0, 0 },
};

static const struct yconf_key config_log_keys[] = {
	{ "level", YAML_SCALAR_NODE, 0, config_on_level, 0, 0, 0 },
	{ "access_log", YAML_SCALAR_NODE, 0, yconf_on_bool, CFG(access_log),
	    0, 0 },
};

/* <name> resolved against the config file's directory; caller frees. */
char *
config_path(const struct config *cfg, const char *name)
{
	size_t	 len;
	char	*p;

	if (name[0] == '/')
		len = strlen(name) + 1;
	else
		len = strlen(cfg->dir) + 1 + strlen(name) + 1;
	if ((p = malloc(len)) == NULL)
		return NULL;
	if (name[0] == '/')
		memcpy(p, name, len);
	else
		(void)snprintf(p, len, "%s/%s", cfg->dir, name);
	return p;
}

static void
config_on_server(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "server", config_server_keys,
	    NITEMS(config_server_keys), obj);
}

static void
config_on_limits(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "limits", config_limits_keys,
	    NITEMS(config_limits_keys), obj);
}

static void
config_on_timeouts(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "timeouts", config_timeouts_keys,
	    NITEMS(config_timeouts_keys), obj);
}

static void
config_on_tls(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "tls", config_tls_keys, NITEMS(config_tls_keys), obj);
}

static void
config_on_security(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "security_headers", config_security_keys,
	    NITEMS(config_security_keys), obj);
}

static void
config_on_log(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "log", config_log_keys, NITEMS(config_log_keys), obj);
}

/*
 * redis.sentinels replaces redis.address: both is a mistake, as are a
 * master name without sentinels and the reverse.
 */
static void
config_on_redis(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	yaml_node_t	*v;

	yconf_map(y, n, "redis", config_redis_keys,
	    NITEMS(config_redis_keys), obj);
	if (cfg->nredis_sentinels > 0 && (v = yconf_get(y, n,
	    "address")) != NULL)
		yconf_error(y, v, "redis.address: not with redis.sentinels "
		    "(the sentinels name the primary)");
	if (cfg->nredis_sentinels > 0 && cfg->redis_master_name == NULL)
		yconf_error(y, yconf_get(y, n, "sentinels"),
		    "redis.sentinels: needs redis.master_name");
	if ((v = yconf_get(y, n, "sentinels")) != NULL &&
	    yconf_seq_len(v) == 0)
		yconf_error(y, v, "redis.sentinels: expected at least one "
		    "host:port");
	if (cfg->nredis_sentinels == 0 && (v = yconf_get(y, n,
	    "master_name")) != NULL)
		yconf_error(y, v, "redis.master_name: only with "
		    "redis.sentinels");
}

/* One of redis.sentinels: host:port (no unix socket). */
static void
config_on_sentinel(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	struct config_addr	 a, *v;

	if (cfg->nredis_sentinels >= CONFIG_MAX_SENTINELS) {
		yconf_error(y, n, "redis.sentinels: at most %d",
		    CONFIG_MAX_SENTINELS);
		return;
	}
	if (yconf_addr(y, n, &a) == -1)
		return;
	if (a.ss.ss_family != AF_INET && a.ss.ss_family != AF_INET6) {
		yconf_error(y, n, "redis.sentinels: expected host:port");
		parse_addr_free(&a);
		return;
	}
	if ((v = reallocarray(cfg->redis_sentinels, cfg->nredis_sentinels + 1,
	    sizeof(*v))) == NULL) {
		parse_addr_free(&a);
		(void)yconf_nomem(y, n);
		return;
	}
	cfg->redis_sentinels = v;
	v[cfg->nredis_sentinels++] = a;
}

static void
config_on_sentinels(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_sentinel, obj);
}

static void
config_on_workers(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	uint64_t	 v;

	if (n->type == YAML_SCALAR_NODE &&
	    strcmp((char *)n->data.scalar.value, "auto") == 0) {
		cfg->workers = 0;
		return;
	}
	if (n->type == YAML_SCALAR_NODE && yconf_is_null(n)) {
		yconf_error(y, n, "%s: expected a number from 1 to %d or "
		    "auto, got null", y->key, WORKERS_MAX);
		return;
	}
	if (yconf_uint(y, n, 1, WORKERS_MAX, &v) == 0)
		cfg->workers = (unsigned int)v;
}

/* Append <l> unless its address is already used (reported at <n>). */
static void
config_add_listen(struct yconf *y, yaml_node_t *n, struct config_listen *l)
{
	struct config_ctx	*cx = y->arg;
	struct config		*cfg = cx->cfg;
	struct config_listen	*nl;
	yaml_node_t		**nn;
	size_t			 i;

	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].addr.sslen == l->addr.sslen &&
		    memcmp(&cfg->listen[i].addr.ss, &l->addr.ss,
		    l->addr.sslen) == 0) {
			yconf_error(y, n, "server.listen: address '%s' is "
			    "already used by the listener at line %zu",
			    l->addr.text,
			    cx->listen_nodes[i]->start_mark.line + 1);
			parse_addr_free(&l->addr);
			return;
		}
	nl = reallocarray(cfg->listen, cfg->nlisten + 1, sizeof(*nl));
	nn = reallocarray(cx->listen_nodes, cfg->nlisten + 1, sizeof(*nn));
	if (nl != NULL)
		cfg->listen = nl;
	if (nn != NULL)
		cx->listen_nodes = nn;
	if (nl == NULL || nn == NULL) {
		yconf_nomem(y, n);
		parse_addr_free(&l->addr);
		return;
	}
	cx->listen_nodes[cfg->nlisten] = n;
	cfg->listen[cfg->nlisten++] = *l;
}

static void
config_on_listen(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config_listen	 l;
	size_t			 nerrors = cx->diag->nerrors;

	memset(&l, 0, sizeof(l));
	l.tls = 1;
	l.redirect = 1;
	yconf_map(y, n, "server.listen", config_listen_keys,
	    NITEMS(config_listen_keys), &l);
	if (cx->diag->nerrors != nerrors) {	/* no follow-up errors */
		parse_addr_free(&l.addr);
		return;
	}
	if (l.tls && !l.acme && cx->tls_listen == NULL)
		cx->tls_listen = n;
	if (l.tls || l.forward_auth)
		l.redirect = 0;		/* only plain proxy listeners redirect */
	config_add_listen(y, n, &l);
}

static void
config_on_listens(struct yconf *y, yaml_node_t *n, void *obj)
{
	if (yconf_seq_len(n) == 0) {
		yconf_error(y, n, "%s: at least one listener is required",
		    y->key);
		return;
	}
	yconf_seq(y, n, config_on_listen, obj);
}

/* mode: proxy (the default) or forward_auth. */
static void
config_on_listen_mode(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_listen	*l = obj;
	const char		*v = (const char *)n->data.scalar.value;

	if (strcmp(v, "proxy") == 0)
		l->forward_auth = 0;
	else if (strcmp(v, "forward_auth") == 0)
		l->forward_auth = 1;
	else
		yconf_error(y, n, "%s: must be proxy or forward_auth, not "
		    "\"%s\"", y->key, v);
}

static void
config_on_listen_addr(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_listen	*l = obj;

	(void)yconf_addr(y, n, &l->addr);
}

static void
config_on_admin(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	parse_addr_free(&cfg->admin);
	cfg->admin_enabled = 0;
	if (yconf_is_null(n))
		return;
	if (yconf_addr(y, n, &cfg->admin) == 0)
		cfg->admin_enabled = 1;
}

static void
config_on_proxy(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	struct config_cidr	 c, *nc;
	const char		*s;
	char			 err[PARSE_ERRLEN], val[64];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (parse_cidr(s, &c, err, sizeof(err)) == -1) {
		yconf_error(y, n, "%s: invalid CIDR '%s': %s", y->key,
		    parse_printable(val, sizeof(val), s, 48), err);
		return;
	}
	nc = reallocarray(cfg->trusted_proxies, cfg->ntrusted_proxies + 1,
	    sizeof(*nc));
	if (nc == NULL) {
		yconf_nomem(y, n);
		return;
	}
	cfg->trusted_proxies = nc;
	cfg->trusted_proxies[cfg->ntrusted_proxies++] = c;
}

static void
config_on_proxies(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_proxy, obj);
}

static void
config_on_hsts(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	uint64_t	 ms;

	if (yconf_duration(y, n, 0, 3650 * MS_DAY, &ms) == -1)
		return;
	if (ms % MS_SEC != 0) {
		yconf_error(y, n, "%s: expected whole seconds (max-age is in "
		    "seconds)", y->key);
		return;
	}
	cfg->hsts_max_age = ms / MS_SEC;
}

static void
config_on_redis_addr(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	struct config_addr	 a;

	if (yconf_addr(y, n, &a) == 0) {
		parse_addr_free(&cfg->redis);
		cfg->redis = a;
	}
}

static void
config_on_redis_db(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	uint64_t	 v;

	if (yconf_uint(y, n, y->cur->min, y->cur->max, &v) == 0)
		cfg->redis_db = (unsigned int)v;
}

/*
 * "$CREDENTIALS_DIRECTORY/NAME" (or "${CREDENTIALS_DIRECTORY}/NAME"): a
 * systemd credential (LoadCredential=), resolved from the environment the
 * gateway was started with.  Returns the path (the caller frees it), NULL
 * for any other value, or NULL with an error reported when the variable is
 * not set or the name is not a plain file name.
 */
static char *
config_credential_path(struct yconf *y, yaml_node_t *n, const char *s,
    int *err)
{
	static const char *const forms[] = { "$CREDENTIALS_DIRECTORY/",
	    "${CREDENTIALS_DIRECTORY}/" };
	const char	*dir, *name = NULL;
	char		*path;
	size_t		 i;

	*err = 0;
	for (i = 0; i < NITEMS(forms) && name == NULL; i++)
		if (strncmp(s, forms[i], strlen(forms[i])) == 0)
			name = s + strlen(forms[i]);
	if (name == NULL)
		return NULL;
	*err = 1;
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		yconf_error(y, n, "%s: expected $CREDENTIALS_DIRECTORY/NAME, "
		    "NAME being a credential's name", y->key);
		return NULL;
	}
	if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL || dir[0] != '/') {
		yconf_error(y, n, "%s: $CREDENTIALS_DIRECTORY is not set "
		    "(systemd sets it for a service with LoadCredential=%s:...; "
		    "for a command run by hand, set it to the service's "
		    "/run/credentials/UNIT directory)", y->key, name);
		return NULL;
	}
	if (asprintf(&path, "%s/%s", dir, name) == -1) {
		yconf_nomem(y, n);
		return NULL;
	}
	*err = 0;
	return path;
}

/*
 * A file holding a secret (<*out> receives its resolved path or NULL):
 * it must exist, be a regular file without group/world access and hold at
 * least <min> bytes.  Its content is never read here.  A systemd
 * credential is named "$CREDENTIALS_DIRECTORY/NAME".
 */
void
config_secret_file(struct yconf *y, yaml_node_t *n, size_t min, char **out)
{
	struct config_ctx	*cx = y->arg;
	struct stat		 st;
	const char		*s;
	char			*path;
	FILE			*fp;
	int			 err;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if ((path = config_credential_path(y, n, s, &err)) == NULL) {
		if (err)
			return;
		if ((path = config_path(cx->cfg, s)) == NULL) {
			yconf_nomem(y, n);
			return;
		}
	}
	if ((fp = config_open_file(y, n, path, 1, &st)) == NULL) {
		free(path);
		return;
	}
	fclose(fp);
	if ((uintmax_t)st.st_size < min) {
		yconf_error(y, n, "%s: %s holds %jd bytes; expected at least "
		    "%zu random bytes", y->key, path, (intmax_t)st.st_size,
		    min);
		free(path);
		return;
	}
	free(*out);
	*out = path;
}

static void
config_on_password(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	config_secret_file(y, n, 1, &cfg->redis_password_file);
}

static void
config_on_sentinel_pw(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	config_secret_file(y, n, 1, &cfg->redis_sentinel_password_file);
}

/*
 * secret_file: also held to secret_strength() (previous_secret_files are
 * not: a weak secret must stay readable while it is rotated out).
 */
static void
config_on_secret(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	char		 err[512];

	config_secret_file(y, n, SECRET_MIN, &cfg->secret_file);
	if (cfg->secret_file != NULL &&
	    secret_file_check(cfg->secret_file, err, sizeof(err)) == -1)
		yconf_error(y, n, "%s: %s", y->key, err);
}

/* previous_secret_files: secrets being rotated out (still read). */
static void
config_on_prev_secret(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	char		*path = NULL, **v;

	config_secret_file(y, n, SECRET_MIN, &path);
	if (path == NULL)
		return;
	if ((v = reallocarray(cfg->prev_secret_files,
	    cfg->nprev_secret_files + 1, sizeof(*v))) == NULL) {
		yconf_nomem(y, n);
		free(path);
		return;
	}
	cfg->prev_secret_files = v;
	v[cfg->nprev_secret_files++] = path;
}

static void
config_on_prev_secrets(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_prev_secret, obj);
}

/*
 * OWASP's Password Storage Cheat Sheet: argon2id with one of these memory
 * costs (KiB) for t = 1..5 iterations (p = 1); a cost under the pair of
 * its iteration count is a warning at the passwords section.
 */
static void
config_check_argon2(struct yconf *y, yaml_node_t *n,
    const struct config *cfg)
{
	static const uint64_t	owasp_kib[] = { 47104, 19456, 12288, 9216,
				    7168 };
	uint64_t		t = cfg->argon2_iterations, i, need;

	if (t == 0)		/* refused by the key's range already */
		return;
	i = t > NITEMS(owasp_kib) ? NITEMS(owasp_kib) : t;
	need = owasp_kib[i - 1];
	if (cfg->argon2_memory / KIB >= need)
		return;
	yconf_warning(y, n, "passwords: argon2id m=%" PRIu64 " KiB, t=%"
	    PRIu64 " is below OWASP's minimum (m=%" PRIu64 " KiB for t=%"
	    PRIu64 "; the pairs are m=47104 t=1, m=19456 t=2, m=12288 t=3, "
	    "m=9216 t=4, m=7168 t=5)", (uint64_t)(cfg->argon2_memory / KIB),
	    t, need, i);
}

static void
config_on_passwords(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "passwords", config_passwords_keys,
	    NITEMS(config_passwords_keys), obj);
	config_check_argon2(y, n, obj);
}

void
config_on_readable(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	char			**dst = (char **)(void *)((char *)obj +
				    y->cur->off);
	const char		*s;
	char			*path;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if ((path = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if (access(path, R_OK) == -1) {
		yconf_error(y, n, "%s: cannot read %s: %s", y->key, path,
		    strerror(errno));
		free(path);
		return;
	}
	free(*dst);
	*dst = path;
}

static void
config_on_level(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;
	const char	*s;
	char		 val[64];
	int		 level;

	if (yconf_str(y, n, &s) == -1)
		return;
	if ((level = log_level_parse(s)) == -1) {
		yconf_error(y, n, "%s: unknown level '%s' (expected error, "
		    "warn, info or debug)", y->key,
		    parse_printable(val, sizeof(val), s, 48));
		return;
	}
	cfg->log_level = (enum log_level)level;
}

/* The top-level mapping <n> of the file into the config <obj>. */
void
config_on_top(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "", config_top_keys, NITEMS(config_top_keys), obj);
}
