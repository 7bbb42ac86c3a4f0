/*
 * The certificates of tls.certificates (part of the loader, see
 * config-int.h): each cert and key file is read with OpenSSL, checked for
 * expiry and key strength, and the pair must match.  Also the opening of
 * the files the loader checks (certificates, keys, secrets).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "config-int.h"
#include "tls.h"
#include "yconf.h"

/* A certificate entry while it is checked. */
struct config_certload {
	struct config_cert	 c;
	X509			*x509;
	EVP_PKEY		*pkey;
};

static void	config_on_cert_file(struct yconf *, yaml_node_t *, void *);
static void	config_on_key_file(struct yconf *, yaml_node_t *, void *);

static const struct yconf_key config_cert_keys[] = {
	{ "cert", YAML_SCALAR_NODE, 1, config_on_cert_file, 0, 0, 0 },
	{ "key", YAML_SCALAR_NODE, 1, config_on_key_file, 0, 0, 0 },
};

/*
 * Open <path> for the check of key <n>: a regular file, and with <secret>
 * one without group or world access.  Returns the stream, or NULL with the
 * reason reported at <n>.  <st> receives its status.
 */
FILE *
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

/*
 * The PEM file named at <n>: its resolved path into *<path>, opened (a
 * <secret> one without group or world access), or NULL with the reason
 * reported at <n>.
 */
static FILE *
config_open_pem(struct yconf *y, yaml_node_t *n, char **path, int secret)
{
	struct config_ctx	*cx = y->arg;
	struct stat		 st;
	const char		*s;

	if (yconf_str(y, n, &s) == -1)
		return NULL;
	if ((*path = config_path(cx->cfg, s)) == NULL) {
		yconf_nomem(y, n);
		return NULL;
	}
	return config_open_file(y, n, *path, secret, &st);
}

static void
config_on_cert_file(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_certload	*cl = obj;
	FILE			*fp;

	if ((fp = config_open_pem(y, n, &cl->c.cert_file, 0)) == NULL)
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
	struct config_certload	*cl = obj;
	FILE			*fp;

	if ((fp = config_open_pem(y, n, &cl->c.key_file, 1)) == NULL)
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

void
config_on_certs(struct yconf *y, yaml_node_t *n, void *obj)
{
	struct config_ctx	*cx = y->arg;

	cx->certs_key = yconf_seq_len(n) > 0;
	yconf_seq(y, n, config_on_cert, obj);
}
