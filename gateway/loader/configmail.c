/*
 * The mail: section of the configuration (conf/postern.yaml documents each
 * key): the SMTP server, its TLS and credentials, the sender, the queue and
 * retry bounds, and the template directory, which is loaded and parsed
 * here so that a broken template is a load error, not a failed delivery.
 * Part of the loader: see config-int.h.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "config-int.h"
#include "diag.h"
#include "log.h"
#include "mailmsg.h"
#include "mailtmpl.h"
#include "parse.h"
#include "yconf.h"

#ifndef POSTERN_DATADIR
#define POSTERN_DATADIR		"/usr/share/postern"
#endif
#define MAIL_TEMPLATES		"templates"
#define MAIL_PASSWORD_MAX	1024	/* bytes of mail.password_file */

#define MAIL(f)		offsetof(struct config_mail, f)

static void	config_on_mail_url(struct yconf *, yaml_node_t *, void *);
static void	config_on_starttls(struct yconf *, yaml_node_t *, void *);
static void	config_on_mail_text(struct yconf *, yaml_node_t *, void *);
static void	config_on_mail_password(struct yconf *, yaml_node_t *, void *);
static void	config_on_mail_sealed(struct yconf *, yaml_node_t *, void *);
static void	config_on_mail_from(struct yconf *, yaml_node_t *, void *);
static void	config_on_mail_dir(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_mail_keys[] = {
	{ "url", YAML_SCALAR_NODE, 1, config_on_mail_url, 0, 0, 0 },
	{ "starttls", YAML_SCALAR_NODE, 0, config_on_starttls, 0, 0, 0 },
	{ "ca_file", YAML_SCALAR_NODE, 0, config_on_readable, MAIL(ca_file), 0,
	    0 },
	{ "username", YAML_SCALAR_NODE, 0, config_on_mail_text,
	    MAIL(username), 0, 256 },
	{ "password_file", YAML_SCALAR_NODE, 0, config_on_mail_password,
	    0, 0, 0 },
	{ "password", YAML_SCALAR_NODE, 0, config_on_mail_sealed, 0, 0, 0 },
	{ "from", YAML_SCALAR_NODE, 1, config_on_mail_from, 0, 0, 0 },
	{ "from_name", YAML_SCALAR_NODE, 0, config_on_mail_text,
	    MAIL(from_name), 0, 200 },
	{ "templates_dir", YAML_SCALAR_NODE, 0, config_on_mail_dir, 0, 0, 0 },
	{ "queue_max", YAML_SCALAR_NODE, 0, yconf_on_u64, MAIL(queue_max),
	    1, 1000000 },
	{ "timeout", YAML_SCALAR_NODE, 0, yconf_on_duration, MAIL(timeout),
	    MS_SEC, 10 * 60 * MS_SEC },
	{ "retries", YAML_SCALAR_NODE, 0, yconf_on_u64, MAIL(retries), 0, 20 },
	{ "retry_backoff", YAML_SCALAR_NODE, 0, yconf_on_duration,
	    MAIL(retry_backoff), 100, 3600 * MS_SEC },
};

/* The shipped templates: installed, or in the source tree. */
static const char *
config_mail_default_dir(void)
{
#ifdef POSTERN_SRCTEMPLATES
	if (access(POSTERN_DATADIR "/" MAIL_TEMPLATES "/test.subject", R_OK)
	    == -1)
		return POSTERN_SRCTEMPLATES;
#endif
	return POSTERN_DATADIR "/" MAIL_TEMPLATES;
}

static struct config_mail *
config_mail_new(void)
{
	struct config_mail	*mc;

	if ((mc = calloc(1, sizeof(*mc))) == NULL)
		return NULL;
	mc->starttls = CONFIG_STARTTLS_REQUIRED;
	mc->queue_max = 1000;
	mc->timeout = 30 * MS_SEC;
	mc->retries = 5;
	mc->retry_backoff = 2 * MS_SEC;
	return mc;
}

void
config_mail_free(struct config_mail *mc)
{
	if (mc == NULL)
		return;
	if (mc->password != NULL) {
		OPENSSL_cleanse(mc->password, strlen(mc->password));
		free(mc->password);
	}
	free(mc->sealed);
	free(mc->url);
	free(mc->ca_file);
	free(mc->username);
	free(mc->from);
	free(mc->from_name);
	free(mc->templates_dir);
	mailtmpl_set_free(mc->templates);
	free(mc);
}

/* Checks across keys, then the templates, once the section is walked. */
static void
config_mail_finish(struct yconf *y, yaml_node_t *n, struct config_mail *mc)
{
	struct config_ctx	*cx = y->arg;
	yaml_node_t		*at;
	const char		*dir;

	if (mc->password != NULL && mc->sealed != NULL)
		yconf_error(y, yconf_get(y, n, "password"),
		    "mail.password: give one of password_file and password");
	else if (mc->password != NULL && mc->username == NULL)
		yconf_error(y, yconf_get(y, n, "password_file"),
		    "mail.password_file: needs mail.username");
	else if (mc->sealed != NULL && mc->username == NULL)
		yconf_error(y, yconf_get(y, n, "password"),
		    "mail.password: needs mail.username");
	if ((mc->password != NULL || mc->sealed != NULL) && !mc->smtps &&
	    mc->starttls != CONFIG_STARTTLS_REQUIRED)
		yconf_warning(y, yconf_get(y, n, "starttls"),
		    "mail.starttls: the SMTP password may be sent without "
		    "TLS; use starttls: required or smtps://");
	if ((at = yconf_get(y, n, "templates_dir")) == NULL)
		at = n;
	dir = mc->templates_dir != NULL ? mc->templates_dir :
	    config_mail_default_dir();
	if (access(dir, R_OK | X_OK) == -1) {
		yconf_error(y, at, "mail.templates_dir: cannot read %s: %s",
		    dir, strerror(errno));
		return;
	}
	if ((mc->templates = mailtmpl_load_dir(dir, cx->diag)) != NULL &&
	    mailtmpl_find(mc->templates, "test") == NULL)
		yconf_warning(y, at, "mail.templates_dir: %s has no 'test' "
		    "template ('postern mail test' needs it)", dir);
}

void
config_on_mail(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config	*cfg = obj;

	config_mail_free(cfg->mail);
	if ((cfg->mail = config_mail_new()) == NULL) {
		yconf_nomem(y, n);
		return;
	}
	yconf_map(y, n, "mail", config_mail_keys, NITEMS(config_mail_keys),
	    cfg->mail);
	config_mail_finish(y, n, cfg->mail);
}

/* The host of a URL: a host name, IPv4, or [IPv6]; 0 or -1. */
static int
config_mail_host(const char *h, size_t len)
{
	struct in6_addr	 a6;
	char		 host[256], err[PARSE_ERRLEN];

	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return -1;
		host[len - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, &a6) == 1 ? 0 : -1;
	}
	return parse_host(host, 0, err, sizeof(err));
}

/*
 * <s> is smtp://host[:port] or smtps://host[:port] with nothing after but
 * one "/": sets *<smtps> and *<len> (the length without that "/").
 */
static int
config_mail_parse_url(const char *s, int *smtps, size_t *len)
{
	const char	*h, *end, *colon;
	char		 port[8], err[PARSE_ERRLEN];
	uint64_t	 v;
	size_t		 n;

	*smtps = strncmp(s, "smtps://", 8) == 0;
	if (*smtps)
		h = s + 8;
	else if (strncmp(s, "smtp://", 7) == 0)
		h = s + 7;
	else
		return -1;
	n = strlen(h);
	if (n > 0 && h[n - 1] == '/')
		n--;
	end = h + n;
	if (strcspn(h, "/@?#") < n)
		return -1;
	/* The last ':' starts a port unless it is inside "[v6]". */
	if ((colon = memrchr(h, ':', n)) != NULL &&
	    memchr(colon, ']', (size_t)(end - colon)) != NULL)
		colon = NULL;
	if (config_mail_host(h, (size_t)((colon != NULL ? colon : end) - h))
	    == -1)
		return -1;
	if (colon != NULL) {
		if ((size_t)(end - colon - 1) >= sizeof(port))
			return -1;
		memcpy(port, colon + 1, (size_t)(end - colon - 1));
		port[end - colon - 1] = '\0';
		if (parse_uint(port, 1, 65535, &v, err, sizeof(err)) == -1)
			return -1;
	}
	*len = (size_t)(end - s);
	return 0;
}

static void
config_on_mail_url(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_mail	*mc = obj;
	const char		*s;
	char			 val[80];
	size_t			 len;

	if (yconf_str(y, n, &s) == -1)
		return;
	if (config_mail_parse_url(s, &mc->smtps, &len) == -1) {
		yconf_error(y, n, "%s: expected smtp://host[:port] or "
		    "smtps://host[:port], got \"%s\"", y->key,
		    parse_printable(val, sizeof(val), s, 64));
		return;
	}
	free(mc->url);
	if ((mc->url = strndup(s, len)) == NULL)
		yconf_nomem(y, n);
}

static void
config_on_starttls(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_mail	*mc = obj;
	const char		*s;
	char			 val[40];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (strcmp(s, "required") == 0)
		mc->starttls = CONFIG_STARTTLS_REQUIRED;
	else if (strcmp(s, "optional") == 0)
		mc->starttls = CONFIG_STARTTLS_OPTIONAL;
	else if (strcmp(s, "none") == 0)
		mc->starttls = CONFIG_STARTTLS_NONE;
	else
		yconf_error(y, n, "%s: expected required, optional or none, "
		    "got \"%s\"", y->key, parse_printable(val, sizeof(val), s,
		    32));
}

/* A header-safe string of at most y->cur->max bytes (null: unset). */
static void
config_on_mail_text(struct yconf *y, yaml_node_t *n, void *obj)
{
	char		**dst = (char **)((char *)obj + y->cur->off);
	const char	*s;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if (s[0] == '\0' || !mailmsg_header_ok(s, y->cur->max)) {
		yconf_error(y, n, "%s: expected 1 to %ju bytes of UTF-8 "
		    "without control characters or line breaks", y->key,
		    (uintmax_t)y->cur->max);
		return;
	}
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

int
config_read_secret(const char *path, size_t max, char **out, char *err,
    size_t errlen)
{
	char	buf[MAIL_PASSWORD_MAX + 1];
	ssize_t	n;
	size_t	len = 0;
	int	fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (max > MAIL_PASSWORD_MAX)
		max = MAIL_PASSWORD_MAX;
	if (len > max || len == 0 || memchr(buf, '\0', len) != NULL)
		(void)snprintf(err, errlen, "%s must hold 1 to %zu bytes (no "
		    "NUL)", path, max);
	else {
		if ((*out = strndup(buf, len)) == NULL)
			(void)snprintf(err, errlen, "out of memory");
		else
			rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static void
config_on_mail_password(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_mail	*mc = obj;
	char			*path = NULL, err[512];

	config_secret_file(y, n, 1, &path);	/* mode 0600, like redis */
	if (path == NULL)
		return;
	if (mc->password != NULL) {
		OPENSSL_cleanse(mc->password, strlen(mc->password));
		free(mc->password);
		mc->password = NULL;
	}
	if (config_read_secret(path, MAIL_PASSWORD_MAX, &mc->password, err,
	    sizeof(err)) == -1)
		yconf_error(y, n, "%s: %s", y->key, err);
	free(path);
}

/*
 * The password sealed in the config (postern secrets seal --purpose smtp);
 * opened with the gateway secret by config_account_check().  Never in
 * clear: a plain value is refused.
 */
static void
config_on_mail_sealed(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_mail	*mc = obj;
	const char		*s;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	if (strncmp(s, "sealed:v1.", 10) != 0) {
		yconf_error(y, n, "mail.password: expected a sealed value "
		    "(sealed:v1...) from postern secrets seal --purpose smtp, "
		    "never the password itself; or use password_file");
		return;
	}
	free(mc->sealed);
	if ((mc->sealed = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

static void
config_on_mail_from(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_mail	*mc = obj;
	const char		*s;
	char			 val[80];

	if (yconf_str(y, n, &s) == -1)
		return;
	if (!mailmsg_addr_valid(s)) {
		yconf_error(y, n, "%s: expected an address such as "
		    "postern@example.com (no name, brackets or quotes; the "
		    "name goes in mail.from_name), got \"%s\"", y->key,
		    parse_printable(val, sizeof(val), s, 64));
		return;
	}
	free(mc->from);
	if ((mc->from = strdup(s)) == NULL)
		yconf_nomem(y, n);
}

static void
config_on_mail_dir(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;
	struct config_mail	*mc = obj;
	const char		*s;

	if (yconf_is_null(n) || yconf_str(y, n, &s) == -1)
		return;
	free(mc->templates_dir);
	if ((mc->templates_dir = config_path(cx->cfg, s)) == NULL)
		yconf_nomem(y, n);
}
