/*
 * The configuration loader (see config.h and conf/postern.yaml): the YAML
 * schema as tables of keys, the checks that need the file system
 * (certificates, secret files, policy globs), and the reference count of
 * the immutable snapshot that requests hold across a reload.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "assertion.h"
#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "headers.h"
#include "log.h"
#include "parse.h"
#include "password.h"
#include "policy.h"
#include "secret.h"
#include "tls.h"
#include "yconf.h"

#define SECRET_MIN	32		/* bytes of the gateway secret */
#define WORKERS_MAX	256


/* State of one load, reached from handlers through y->arg. */

/* A certificate entry while it is checked. */
struct config_certload {
	struct config_cert	 c;
	X509			*x509;
	EVP_PKEY		*pkey;
};

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
static void	config_on_policies(struct yconf *, yaml_node_t *, void *);
static void	config_on_roles(struct yconf *, yaml_node_t *, void *);
static void	config_on_workers(struct yconf *, yaml_node_t *, void *);
static void	config_on_listens(struct yconf *, yaml_node_t *, void *);
static void	config_on_admin(struct yconf *, yaml_node_t *, void *);
static void	config_on_proxies(struct yconf *, yaml_node_t *, void *);
static void	config_on_listen_addr(struct yconf *, yaml_node_t *, void *);
static void	config_on_certs(struct yconf *, yaml_node_t *, void *);
static void	config_on_cert_file(struct yconf *, yaml_node_t *, void *);
static void	config_on_key_file(struct yconf *, yaml_node_t *, void *);
static void	config_on_hsts(struct yconf *, yaml_node_t *, void *);
static void	config_on_redis_addr(struct yconf *, yaml_node_t *, void *);
static void	config_on_password(struct yconf *, yaml_node_t *, void *);
static void	config_on_redis_db(struct yconf *, yaml_node_t *, void *);
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
	{ "rate_limits", YAML_MAPPING_NODE, 0, config_on_ratelimits, 0, 0,
	    0 },
	{ "audit", YAML_MAPPING_NODE, 0, config_on_audit, 0, 0, 0 },
	{ "webhooks", YAML_SEQUENCE_NODE, 0, config_on_webhooks, 0, 0, 0 },
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
	{ "tls", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct config_listen, tls), 0, 0 },
	{ "redirect", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    offsetof(struct config_listen, redirect), 0, 0 },
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

static const struct yconf_key config_cert_keys[] = {
	{ "cert", YAML_SCALAR_NODE, 1, config_on_cert_file, 0, 0, 0 },
	{ "key", YAML_SCALAR_NODE, 1, config_on_key_file, 0, 0, 0 },
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

static void
config_on_redis(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "redis", config_redis_keys,
	    NITEMS(config_redis_keys), obj);
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
	if (l.tls && cx->tls_listen == NULL)
		cx->tls_listen = n;
	if (l.tls)
		l.redirect = 0;		/* only plain listeners redirect */
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

/*
 * Open <path> for the check of key <n>: a regular file, and with <secret>
 * one without group or world access.  Returns the stream, or NULL with the
 * reason reported at <n>.  <st> receives its status.
 */
static FILE *
config_open_file(struct yconf *y, yaml_node_t *n, const char *path,
    int secret, struct stat *st)
{
	FILE	*fp;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		yconf_error(y, n, "%s: cannot open %s: %s", y->key, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		yconf_error(y, n, "%s: %s is not a regular file", y->key, path);
		close(fd);
		return NULL;
	}
	if (secret && (st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		yconf_error(y, n, "%s: %s is mode %04o; expected 0600 or "
		    "stricter (no group or world access)", y->key, path,
		    (unsigned int)(st->st_mode & 07777));
		close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		yconf_error(y, n, "%s: cannot read %s: %s", y->key, path,
		    strerror(errno));
		close(fd);
	}
	return fp;
}

/* Never prompt for a passphrase: encrypted keys are refused. */
static int
config_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/*
 * The leaf of <cl> at <n>: expired or not yet valid is an error (the
 * certificate is then dropped, as serve would fail its handshakes),
 * expiring soon or a weak key a warning.  serve and reload load the
 * configuration through here too, so they refuse what check refuses.
 */
static void
config_check_cert(struct yconf *y, yaml_node_t *n,
    struct config_certload *cl)
{
	char	why[160];

	switch (tls_cert_check(cl->x509, time(NULL), why, sizeof(why))) {
	case -1:
		yconf_error(y, n, "%s: certificate %s %s", y->key,
		    cl->c.cert_file, why);
		X509_free(cl->x509);
		cl->x509 = NULL;
		break;
	case 1:
		yconf_warning(y, n, "%s: certificate %s %s", y->key,
		    cl->c.cert_file, why);
		break;
	}
}

static void
config_on_cert_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config_certload	*cl = obj;
	struct stat		 st;
	const char		*s;
	FILE			*fp;

	if (yconf_str(y, n, &s) == -1)
		return;
	if ((cl->c.cert_file = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if ((fp = config_open_file(y, n, cl->c.cert_file, 0, &st)) == NULL)
		return;
	cl->x509 = PEM_read_X509(fp, NULL, config_no_passphrase, NULL);
	if (cl->x509 == NULL)
		yconf_error(y, n, "%s: %s holds no PEM certificate that "
		    "OpenSSL can load", y->key, cl->c.cert_file);
	else
		config_check_cert(y, n, cl);
	ERR_clear_error();
	fclose(fp);
}

static void
config_on_key_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config_certload	*cl = obj;
	struct stat		 st;
	const char		*s;
	FILE			*fp;

	if (yconf_str(y, n, &s) == -1)
		return;
	if ((cl->c.key_file = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	if ((fp = config_open_file(y, n, cl->c.key_file, 1, &st)) == NULL)
		return;
	cl->pkey = PEM_read_PrivateKey(fp, NULL, config_no_passphrase, NULL);
	if (cl->pkey == NULL)
		yconf_error(y, n, "%s: %s holds no unencrypted PEM private "
		    "key that OpenSSL can load", y->key, cl->c.key_file);
	ERR_clear_error();
	fclose(fp);
}

static void
config_add_cert(struct yconf *y, yaml_node_t *n, struct config *cfg,
    struct config_certload *cl)
{
	struct config_cert	*nc;

	nc = reallocarray(cfg->certs, cfg->ncerts + 1, sizeof(*nc));
	if (nc == NULL) {
		yconf_nomem(y, n);
		return;
	}
	cfg->certs = nc;
	cfg->certs[cfg->ncerts++] = cl->c;
	memset(&cl->c, 0, sizeof(cl->c));
}

static void
config_on_cert(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config_certload	 cl;

	memset(&cl, 0, sizeof(cl));
	yconf_map(y, n, "tls.certificates", config_cert_keys,
	    NITEMS(config_cert_keys), &cl);
	if (cl.x509 != NULL && cl.pkey != NULL) {
		if (X509_check_private_key(cl.x509, cl.pkey) == 1)
			config_add_cert(y, n, cx->cfg, &cl);
		else
			yconf_error(y, n, "tls.certificates: key %s does not "
			    "match certificate %s", cl.c.key_file,
			    cl.c.cert_file);
		ERR_clear_error();
	}
	X509_free(cl.x509);
	EVP_PKEY_free(cl.pkey);
	free(cl.c.cert_file);
	free(cl.c.key_file);
}

static void
config_on_certs(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;

	cx->certs_key = yconf_seq_len(n) > 0;
	yconf_seq(y, n, config_on_cert, obj);
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

static void
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
static void
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
	cfg->notify_changes = 1;
	cfg->magic_same_browser = 1;
	cfg->session_lifetime = 12 * 3600 * MS_SEC;
	cfg->session_max_per_user = 10;
	cfg->assertion_ttl = 60 * MS_SEC;
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
	free(cfg->brand_color);
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
		yconf_map(y, root, "", config_top_keys,
		    NITEMS(config_top_keys), cfg);
		config_finish(y, &cx);
		policy_compile(cfg, d);	/* routes, against roles: */
	}
	free(cx.listen_nodes);
}


static struct config *
config_done(struct config *cfg, struct diag *d, size_t nerrors)
{
	if (d->nerrors == nerrors) {
		config_keys(cfg, d);
		config_account_check(cfg, d);
	}
	if (d->nerrors == nerrors && headers_build(cfg) == -1)
		diag_error(d, cfg->path, 0, 0, "out of memory");
	if (d->nerrors == nerrors)	/* per-app header lines built once */
		return cfg;
	config_free(cfg);
	return NULL;
}

struct config *
config_load(const char *path, struct diag *d)
{
	struct config	*cfg;
	struct yconf	 y;
	size_t		 nerrors = d->nerrors;

	if ((cfg = config_new(path)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		return NULL;
	}
	if (yconf_open(&y, path, d) == 0)
		config_walk(&y, cfg, d);
	yconf_close(&y);
	return config_done(cfg, d, nerrors);
}

struct config *
config_load_buffer(const char *path, const void *buf, size_t len,
    struct diag *d)
{
	struct config	*cfg;
	struct yconf	 y;
	size_t		 nerrors = d->nerrors;

	if ((cfg = config_new(path)) == NULL) {
		diag_error(d, path, 0, 0, "out of memory");
		return NULL;
	}
	if (yconf_open_buffer(&y, path, buf, len, d) == 0)
		config_walk(&y, cfg, d);
	yconf_close(&y);
	return config_done(cfg, d, nerrors);
}
