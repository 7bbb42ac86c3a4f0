/*
 * Shared by the files of the configuration loader (config.c: the top-level
 * keys, the server, Redis, secret and password sections; configtls.c:
 * certificates; configload.c: a snapshot's life, policies and roles;
 * configauth.c: sessions, the assertion keys and branding; configacct.c:
 * mfa, account, rate limits, audit, webhooks; configmail.c: mail; configsso.c: sso;
 * configacme.c: acme).  Not an
 * API for other modules.
 */
#ifndef POSTERN_CONFIG_INT_H
#define POSTERN_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

struct config;
struct config_acme;
struct config_sso;
struct diag;
struct stat;
struct yconf;

#define MS_SEC		1000ULL
#define MS_DAY		(86400ULL * MS_SEC)
#define KIB		1024ULL
#define MIB		(1024ULL * KIB)

#define WORKERS_MAX	256		/* server.workers */

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define CFG(f)		offsetof(struct config, f)

/* The state of one load, in yconf's <arg>. */
struct config_ctx {
	struct config	 *cfg;
	struct diag	 *diag;
	yaml_node_t	**listen_nodes;	/* parallel to cfg->listen */
	yaml_node_t	 *tls_listen;	/* first with tls: true, not acme */
	int		  certs_key;	/* tls.certificates was given */
};

/* <name> resolved against the config file's directory (the caller frees
 * it), or NULL when out of memory. */
char		*config_path(const struct config *cfg, const char *name);
/*
 * A file holding a secret, at least <min> bytes, not group/world
 * accessible: its resolved path into *<out>, or an error at <n>.
 */
void		 config_secret_file(struct yconf *y, yaml_node_t *n,
		    size_t min, char **out);
/*
 * A file the gateway reads (a CA bundle, a list), resolved against the
 * config's directory and checked readable, into the char * at the key's
 * offset in <obj>.
 */
void		 config_on_readable(struct yconf *, yaml_node_t *, void *);
/*
 * Open <path> for the check of key <n> (configtls.c): a regular file, and
 * with <secret> one without group or world access.  The stream, or NULL
 * with the reason reported at <n>; <st> receives its status.
 */
FILE		*config_open_file(struct yconf *y, yaml_node_t *n,
		    const char *path, int secret, struct stat *st);
/* configtls.c: tls.certificates. */
void		 config_on_certs(struct yconf *, yaml_node_t *, void *);
/* config.c: the top-level mapping of the file. */
void		 config_on_top(struct yconf *, yaml_node_t *, void *);
/* configload.c: the snapshot's life; the policies and roles sections. */
struct config	*config_new(const char *path);
void		 config_free(struct config *cfg);
void		 config_on_policies(struct yconf *, yaml_node_t *, void *);
void		 config_on_roles(struct yconf *, yaml_node_t *, void *);

/* configauth.c: the sessions, assertion and branding sections. */
void		 config_on_sessions(struct yconf *, yaml_node_t *, void *);
void		 config_on_assertion(struct yconf *, yaml_node_t *, void *);
void		 config_on_branding(struct yconf *, yaml_node_t *, void *);
/* configacct.c: the mfa and account sections. */
void		 config_on_mfa(struct yconf *, yaml_node_t *, void *);
void		 config_on_account(struct yconf *, yaml_node_t *, void *);
void		 config_names_free(struct config_names *);
void		 config_on_ratelimits(struct yconf *, yaml_node_t *, void *);
void		 config_on_audit(struct yconf *, yaml_node_t *, void *);
void		 config_on_webhooks(struct yconf *, yaml_node_t *, void *);
void		 config_webhooks_free(struct config *);
/* The built-in rate-limit classes, before the file is read; 0, or -1
 * when out of memory. */
int		 config_rl_defaults_set(struct config *);
/* After config_keys(): roles of mfa: in the ladder; password rules. */
void		 config_account_check(struct config *cfg, struct diag *d);
/* configmail.c: the mail section (templates included). */
void		 config_on_mail(struct yconf *, yaml_node_t *, void *);
/* configpages.c: pages:, and the catalogue of a file without it (0/-1);
 * freeing what they made. */
void		 config_on_pages(struct yconf *, yaml_node_t *, void *);
int		 config_pages_done(struct config *cfg);
void		 config_pages_free(struct config *cfg);
void		 config_mail_free(struct config_mail *);
/*
 * Read the secret in file <path> (1 to <max> bytes, no NUL; trailing line
 * breaks dropped) into a malloc'ed string *<out>.  0, or -1 with <err>.
 */
int		 config_read_secret(const char *path, size_t max, char **out,
		    char *err, size_t errlen);
/* configsso.c: the sso section. */
void		 config_on_sso(struct yconf *, yaml_node_t *, void *);
void		 config_sso_free(struct config_sso *);
/* After config_keys(): sealed client secrets, claim-map roles. */
void		 config_sso_check(struct config *cfg, struct diag *d);
/* Wipe and free *<s>; NULL-safe. */
void		 config_sso_wipe(char **s);
void		 config_sso_strv_free(char ***v, size_t *n);
/* 1 if <s> is an https:// URL (http:// to loopback) without user info. */
int		 config_sso_url_ok(const char *s);
/* Such a URL, copied to the char * at the key's offset in <obj>. */
void		 config_on_sso_url(struct yconf *, yaml_node_t *, void *);
/* configacme.c: the acme section and a listener's tls: mapping. */
void		 config_on_acme(struct yconf *, yaml_node_t *, void *);
void		 config_on_listen_tls(struct yconf *, yaml_node_t *, void *);
void		 config_acme_free(struct config_acme *);
/* After config_keys(): the hosts to order, the secret the keys need. */
void		 config_acme_check(struct config *cfg, struct diag *d);
/* After a clean load: derive the secret's keys, load the signer, and
 * check that protected apps have both. */
void		 config_keys(struct config *cfg, struct diag *d);

#endif
