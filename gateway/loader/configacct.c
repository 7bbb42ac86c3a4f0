/*
 * The configuration sections of the second factor and the account pages:
 * who must enrol a second factor ("mfa:"), how fresh a password must be
 * for account changes, how long one-time tokens live and who may sign in
 * by magic link ("account:"); and, after a load, the password rules the
 * account pages apply.  Part of the loader: see config-int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "mailtmpl.h"
#include "parse.h"
#include "password.h"
#include "confratelimit.h"
#include "secret.h"
#include "totp.h"
#include "yconf.h"

static void	config_on_names(struct yconf *, yaml_node_t *, void *);

/* min: 0 roles (checked against the ladder later), 1 org slugs. */
static const struct yconf_key config_mfa_keys[] = {
	{ "required", YAML_SCALAR_NODE, 0, yconf_on_bool, CFG(mfa_required),
	    0, 0 },
	{ "required_roles", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(mfa_roles), 0, 0 },
	{ "required_orgs", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(mfa_orgs), 1, 0 },
	{ "max_failures", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(mfa_max_failures), 1, 100 },
};

static const struct yconf_key config_account_keys[] = {
	{ "fresh_auth", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(account_fresh_auth), 30 * MS_SEC, MS_DAY },
	{ "token_ttl", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(token_ttl), MS_SEC * 60, MS_DAY },
	{ "invite_ttl", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    CFG(invite_ttl), MS_SEC * 3600, MS_DAY * 30 },
	{ "magic_links", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(magic_links), 0, 0 },
	{ "magic_link_orgs", YAML_SEQUENCE_NODE, 0, config_on_names,
	    CFG(magic_orgs), 1, 0 },
	{ "notify_changes", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(notify_changes), 0, 0 },
	{ "notify_new_device", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(notify_new_device), 0, 0 },
	{ "magic_link_same_browser", YAML_SCALAR_NODE, 0, yconf_on_bool,
	    CFG(magic_same_browser), 0, 0 },
};

/* ---- rate_limits: ---- */

static void	config_on_rl_classes(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_rl_keys[] = {
	{ "ipv6_prefix", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    CFG(ratelimit_v6_prefix), 32, 128 },
	{ "classes", YAML_MAPPING_NODE, 0, config_on_rl_classes, 0, 0, 0 },
};

#define RL(f)	offsetof(struct ratelimit_class, f)
static const struct yconf_key config_rl_class_keys[] = {
	{ "limit", YAML_SCALAR_NODE, 1, yconf_on_u64, RL(limit), 1,
	    1000000 },
	{ "period", YAML_SCALAR_NODE, 1, yconf_on_duration, RL(period),
	    MS_SEC, MS_DAY },
	{ "account_limit", YAML_SCALAR_NODE, 0, yconf_on_u64,
	    RL(account_limit), 0, 1000000 },
	{ "fail_open", YAML_SCALAR_NODE, 0, yconf_on_bool, RL(fail_open), 0,
	    0 },
};

/* The built-in classes, used unless "classes:" names them otherwise. */
static const struct ratelimit_class config_rl_defaults[] = {
	{ "login", 20, 60 * MS_SEC, 10, 0 },
	{ "magic", 5, 600 * MS_SEC, 3, 0 },
	{ "reset", 5, 600 * MS_SEC, 3, 0 },
	{ "totp", 10, 60 * MS_SEC, 10, 0 },
	{ "apikey", 1200, 60 * MS_SEC, 0, 0 },
	{ "share", 120, 60 * MS_SEC, 0, 0 },
	{ "sso", 30, 60 * MS_SEC, 0, 0 },
};

int
config_rl_defaults_set(struct config *cfg)
{
	free(cfg->ratelimits);
	cfg->nratelimits = 0;
	if ((cfg->ratelimits = calloc(NITEMS(config_rl_defaults),
	    sizeof(*cfg->ratelimits))) == NULL)
		return -1;
	memcpy(cfg->ratelimits, config_rl_defaults,
	    sizeof(config_rl_defaults));
	cfg->nratelimits = NITEMS(config_rl_defaults);
	cfg->ratelimit_v6_prefix = 64;
	return 0;
}

void
config_on_ratelimits(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "rate_limits", config_rl_keys, NITEMS(config_rl_keys),
	    obj);
}

/* classes: {name: {limit, period, account_limit, fail_open} | null} */
static void
config_on_rl_classes(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	struct ratelimit_class	*c, *v;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *val;
	const char		*name;
	char			 section[64], pv[40];
	size_t			 i;

	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&y->doc, pair->key);
		val = yaml_document_get_node(&y->doc, pair->value);
		if (k == NULL || val == NULL || yconf_str(y, k, &name) == -1)
			continue;
		if (*name == '\0' || strlen(name) > RATELIMIT_NAMEMAX ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(name)) {
			yconf_error(y, k, "rate_limits.classes: invalid class "
			    "'%s': use 1 to 32 lower-case letters, digits, '_' "
			    "and '-'", parse_printable(pv, sizeof(pv), name,
			    32));
			continue;
		}
		for (i = 0; i < cfg->nratelimits; i++)
			if (strcmp(cfg->ratelimits[i].name, name) == 0)
				break;
		if (yconf_is_null(val)) {	/* "name: null": not limited */
			if (i < cfg->nratelimits) {
				memmove(&cfg->ratelimits[i],
				    &cfg->ratelimits[i + 1],
				    (cfg->nratelimits - i - 1) *
				    sizeof(*cfg->ratelimits));
				cfg->nratelimits--;
			}
			continue;
		}
		if (i == cfg->nratelimits) {
			if ((v = reallocarray(cfg->ratelimits, i + 1,
			    sizeof(*v))) == NULL) {
				yconf_nomem(y, k);
				return;
			}
			cfg->ratelimits = v;
			cfg->nratelimits++;
		}
		c = &cfg->ratelimits[i];
		memset(c, 0, sizeof(*c));
		(void)strcpy(c->name, name);
		c->fail_open = strcmp(name, "default") == 0;
		(void)snprintf(section, sizeof(section), "rate_limits.classes.%s",
		    name);
		yconf_map(y, val, section, config_rl_class_keys,
		    NITEMS(config_rl_class_keys), c);
	}
}

/* ---- webhooks: ---- */

static void	config_on_wh_secret(struct yconf *, yaml_node_t *, void *);
static void	config_on_wh_allow(struct yconf *, yaml_node_t *, void *);
static void	config_on_wh_text(struct yconf *, yaml_node_t *, void *);

#define WH(f)	offsetof(struct config_webhook, f)
static const struct yconf_key config_wh_keys[] = {
	{ "url", YAML_SCALAR_NODE, 1, config_on_wh_text, WH(url), 0, 0 },
	{ "events", YAML_SEQUENCE_NODE, 1, config_on_names, WH(events), 2,
	    0 },
	{ "secret_file", YAML_SCALAR_NODE, 0, config_on_wh_secret, 0, 0, 0 },
	{ "secret", YAML_SCALAR_NODE, 0, config_on_wh_text, WH(sealed), 0, 0 },
	{ "timeout", YAML_SCALAR_NODE, 0, yconf_on_duration, WH(timeout),
	    100, 5 * 60 * MS_SEC },
	{ "retries", YAML_SCALAR_NODE, 0, yconf_on_u64, WH(retries), 0, 20 },
	{ "backoff", YAML_SCALAR_NODE, 0, yconf_on_duration, WH(backoff), 10,
	    10 * 60 * MS_SEC },
	{ "allow_private", YAML_SEQUENCE_NODE, 0, config_on_wh_allow, 0, 0,
	    0 },
	{ "allow_http", YAML_SCALAR_NODE, 0, yconf_on_bool, WH(allow_http), 0,
	    0 },
	{ "ca_file", YAML_SCALAR_NODE, 0, config_on_readable, WH(ca_file), 0,
	    0 },
};

static void
config_on_wh_text(struct yconf *y, yaml_node_t *n, void *obj)
{
	(void)yconf_strdup(y, n, 0, (char **)(void *)((char *)obj +
	    y->cur->off));
}

/* The shared secret: a file of 16 to 64 bytes, mode 0600. */
static void
config_on_wh_secret(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_webhook	*wh = obj;
	char			*path = NULL;
	FILE			*fp;

	config_secret_file(y, n, 16, &path);
	if (path == NULL)
		return;
	if ((fp = fopen(path, "rb")) == NULL ||
	    (wh->secretlen = fread(wh->secret, 1, sizeof(wh->secret), fp)) <
	    16 || fgetc(fp) != EOF)
		yconf_error(y, n, "%s: %s: expected 16 to 64 bytes", y->key,
		    path);
	if (fp != NULL)
		(void)fclose(fp);
	free(path);
}

static void
config_on_wh_allow(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_webhook	*wh = obj;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	struct config_cidr	 c, *v;
	const char		*s;
	char			 err[128];

	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if (parse_cidr(s, &c, err, sizeof(err)) == -1) {
			yconf_error(y, item, "%s: %s", y->key, err);
			continue;
		}
		if ((v = reallocarray(wh->allow, wh->nallow + 1,
		    sizeof(*v))) == NULL) {
			yconf_nomem(y, item);
			return;
		}
		wh->allow = v;
		wh->allow[wh->nallow++] = c;
	}
}

static void
config_on_webhook(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config		*cfg = obj;
	struct config_webhook	*v, *wh;

	if ((v = reallocarray(cfg->webhooks, cfg->nwebhooks + 1,
	    sizeof(*v))) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	cfg->webhooks = v;
	wh = &cfg->webhooks[cfg->nwebhooks++];
	memset(wh, 0, sizeof(*wh));
	wh->timeout = 10 * MS_SEC;
	wh->retries = 5;
	wh->backoff = MS_SEC;
	yconf_map(y, n, "webhooks", config_wh_keys, NITEMS(config_wh_keys),
	    wh);
	if ((wh->secretlen > 0) == (wh->sealed != NULL))
		yconf_error(y, n, "webhooks: give one of secret_file and secret "
		    "(a value from postern secrets seal --purpose webhook)");
	else if (wh->sealed != NULL && strncmp(wh->sealed, "sealed:", 7) != 0)
		yconf_error(y, n, "webhooks: secret: expected a sealed value "
		    "(sealed:v1...) from postern secrets seal --purpose webhook; "
		    "never a plain secret in the configuration");
	if (wh->url != NULL && strncmp(wh->url, "https://", 8) != 0 &&
	    !(wh->allow_http && strncmp(wh->url, "http://", 7) == 0))
		yconf_error(y, n, "webhooks: url %s: expected https:// (or "
		    "http:// with allow_http: true)", wh->url);
}

void
config_on_webhooks(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_seq(y, n, config_on_webhook, obj);
}

void
config_webhooks_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nwebhooks; i++) {
		free(cfg->webhooks[i].url);
		free(cfg->webhooks[i].sealed);
		free(cfg->webhooks[i].ca_file);
		free(cfg->webhooks[i].allow);
		config_names_free(&cfg->webhooks[i].events);
		OPENSSL_cleanse(cfg->webhooks[i].secret,
		    sizeof(cfg->webhooks[i].secret));
	}
	free(cfg->webhooks);
	cfg->webhooks = NULL;
	cfg->nwebhooks = 0;
}

/* ---- audit: ---- */

static void
config_on_audit_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config		*cfg = obj;
	const char		*s;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if (*s == '\0') {
		yconf_error(y, n, "%s: expected a file name", y->key);
		return;
	}
	free(cfg->audit_file);
	if ((cfg->audit_file = config_path(cx->cfg, s)) == NULL)
		yconf_nomem(y, n);
}

static const struct yconf_key config_audit_keys[] = {
	{ "file", YAML_SCALAR_NODE, 0, config_on_audit_file, 0, 0, 0 },
	{ "fsync", YAML_SCALAR_NODE, 0, yconf_on_bool, CFG(audit_fsync), 0,
	    0 },
};

void
config_on_audit(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "audit", config_audit_keys, NITEMS(config_audit_keys),
	    obj);
}

void
config_on_mfa(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "mfa", config_mfa_keys, NITEMS(config_mfa_keys), obj);
}

void
config_on_account(struct yconf *y, yaml_node_t *n, void *obj)
{
	yconf_map(y, n, "account", config_account_keys,
	    NITEMS(config_account_keys), obj);
}

/*
 * A list of role names or org slugs into the (char **, size_t) pair at
 * the key's offset: 1 to 63 of [a-z0-9_-], starting with a letter or
 * digit.
 */
static void
config_on_names(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_names	*v = (struct config_names *)(void *)
				    ((char *)obj + y->cur->off);
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;
	char			**nv;

	config_names_free(v);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(&y->doc, *it);
		if (item == NULL || yconf_str(y, item, &s) == -1)
			continue;
		if ((strcmp(s, "*") != 0 || y->cur->min != 2) &&
		    (strlen(s) == 0 || strlen(s) > 63 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(s) || s[0] == '-' || s[0] == '_')) {
			yconf_error(y, item, "%s: '%.64s' is not %s", y->key,
			    s, y->cur->min == 2 ? "an audit action" :
			    y->cur->min ? "an org slug" : "a role name");
			continue;
		}
		if ((nv = reallocarray(v->v, v->n + 1, sizeof(*nv))) == NULL) {
			yconf_nomem(y, item);
			return;
		}
		v->v = nv;
		if ((nv[v->n] = strdup(s)) == NULL) {
			yconf_nomem(y, item);
			return;
		}
		v->n++;
	}
}

void
config_names_free(struct config_names *v)
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

int
config_unseal(const struct config *cfg, const char *purpose,
    const char *value, unsigned char *out, size_t size, size_t *len)
{
	size_t	i;

	if (strncmp(value, "sealed:", 7) != 0)
		return -1;
	if (totp_open(cfg->keys->seal, purpose, value + 7, out, size, len) ==
	    0)
		return 0;
	for (i = 0; i < cfg->nprev_keys; i++)
		if (totp_open(cfg->prev_keys[i].seal, purpose, value + 7, out,
		    size, len) == 0)
			return 1;	/* by a previous secret */
	return -1;
}

/* mail.password: the sealed SMTP password, opened for the mailer. */
static void
config_mail_unseal(struct config *cfg, struct diag *d)
{
	struct config_mail	*mc = cfg->mail;
	unsigned char		 v[TOTP_SEAL_MAX];
	size_t			 len = 0;

	if (mc == NULL || mc->sealed == NULL || mc->password != NULL)
		return;			/* both given: already an error */
	if (cfg->keys == NULL)
		diag_error(d, cfg->path, 0, 0, "mail.password: a sealed "
		    "password needs secret_file");
	else if (config_unseal(cfg, "smtp", mc->sealed, v, sizeof(v),
	    &len) == -1 || memchr(v, '\0', len) != NULL)
		diag_error(d, cfg->path, 0, 0, "mail.password: the sealed "
		    "password does not open with secret_file or "
		    "previous_secret_files");
	else if ((mc->password = strndup((char *)v, len)) == NULL)
		diag_error(d, cfg->path, 0, 0, "out of memory");
	OPENSSL_cleanse(v, sizeof(v));
}
/* A notice the configuration turns on whose mail template a custom
 * templates_dir lacks: a warning, not an error (the notice is skipped). */
static void
config_mail_notices(const struct config *cfg, struct diag *d)
{
	const struct {
		const char	*tmpl, *what, *key;
		int		 on;
	} notices[] = {
		{ "account_changed", "when their password or second factor "
		    "changes", "account.notify_changes", cfg->notify_changes },
		{ "new_device", "of sign-ins from a new browser",
		    "account.notify_new_device", cfg->notify_new_device },
	};
	size_t	i;

	if (cfg->mail == NULL || cfg->mail->templates == NULL)
		return;
	for (i = 0; i < sizeof(notices) / sizeof(notices[0]); i++)
		if (notices[i].on && mailtmpl_find(cfg->mail->templates,
		    notices[i].tmpl) == NULL)
			diag_warning(d, cfg->path, 0, 0, "mail.templates_dir: "
			    "no '%s' template: users are not told %s (%s)",
			    notices[i].tmpl, notices[i].what, notices[i].key);
}


void
config_account_check(struct config *cfg, struct diag *d)
{
	char	err[256];
	size_t	i, j;

	for (i = 0; i < cfg->mfa_roles.n; i++) {
		for (j = 0; j < cfg->nroles; j++)
			if (strcmp(cfg->roles[j], cfg->mfa_roles.v[i]) == 0)
				break;
		if (j == cfg->nroles)
			diag_error(d, cfg->path, 0, 0, "mfa.required_roles: "
			    "'%s' is not a rung of roles:", cfg->mfa_roles.v[i]);
	}
	if ((cfg->magic_links || cfg->magic_orgs.n > 0) && cfg->mail == NULL)
		diag_warning(d, cfg->path, 0, 0, "account.magic_links: sign-in "
		    "links need a mail: section; /.postern/magic says email is "
		    "not available");
	for (i = 0; i < cfg->nwebhooks; i++) {
		struct config_webhook *wh = &cfg->webhooks[i];

		if (wh->sealed == NULL)
			continue;
		if (cfg->keys == NULL || config_unseal(cfg, "webhook",
		    wh->sealed, wh->secret, sizeof(wh->secret),
		    &wh->secretlen) == -1 || wh->secretlen < 16)
			diag_error(d, cfg->path, 0, 0, "webhooks: %s: the "
			    "sealed secret does not open with secret_file or "
			    "previous_secret_files (or is shorter than 16 "
			    "bytes)", wh->url);
	}
	config_mail_unseal(cfg, d);
	config_mail_notices(cfg, d);
	if (cfg->keys == NULL)
		return;		/* no sign-in: no account pages */
	if ((cfg->pwrules = config_password_rules(cfg, err,
	    sizeof(err))) == NULL)
		diag_error(d, cfg->path, 0, 0, "passwords: %s", err);
}

struct password_rules *
config_password_rules(const struct config *cfg, char *err, size_t errlen)
{
	struct password_rules	*r;
	size_t			 i, j;

	if ((r = password_rules_load(password_rules_path(
	    cfg->common_passwords), (size_t)cfg->password_min_length, err,
	    errlen)) == NULL)
		return NULL;
	if (cfg->brand_product != NULL && password_rules_word(r,
	    cfg->brand_product, "product") == -1)
		goto oom;
	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nhosts; j++)
			if (password_rules_host(r, cfg->apps[i].hosts[j]) == -1)
				goto oom;
	return r;
oom:
	(void)snprintf(err, errlen, "out of memory");
	password_rules_free(r);
	return NULL;
}
