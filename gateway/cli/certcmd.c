/*
 * `postern cert ...` (see certcmd.h), over the synchronous store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "certcmd.h"
#include "certstore.h"
#include "certsync.h"
#include "cli.h"
#include "config.h"
#include "conflisten.h"
#include "encode.h"
#include "secret.h"
#include "store.h"
#include "tlsacme.h"

#define CERTCMD_FILE_MAX	(64 * 1024)

/* One invocation. */
struct certcmd {
	struct cli	 cli;
	const char	*cert;		/* --cert */
	const char	*key;		/* --key */
	char		 host[254];
	char		 done[300];	/* audit target, "" if nothing */
};

static const struct cli_opt certcmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT_HELP,
	CLI_OPT_JSON,
	CLI_OPT("cert", 0, CLI_STR, struct certcmd, cert),
	CLI_OPT("key", 0, CLI_STR, struct certcmd, key),
	CLI_OPT_END,
};

static const struct cli_spec certcmd_spec = {
	"cert", CERTCMD_USAGE, NULL, certcmd_opts, NULL,
};

/* The HOST argument, lower case, into cc->host; 0 or 1 (message shown). */
static int
certcmd_host(struct certcmd *cc)
{
	const char	*h = cc->cli.args[0];
	size_t		 i;

	for (i = 0; h[i] != '\0' && i < sizeof(cc->host) - 1; i++)
		cc->host[i] = h[i] >= 'A' && h[i] <= 'Z' ?
		    (char)(h[i] - 'A' + 'a') : h[i];
	cc->host[i] = '\0';
	if (h[i] != '\0' || !tlsacme_host_ok(cc->host))
		return cli_fail(&cc->cli, "'%s' is not a host name", h);
	return 0;
}

/* The whole of file <path> as a string (the caller frees); NULL. */
static char *
certcmd_read(struct certcmd *cc, const char *path)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		(void)cli_fail(&cc->cli, "%s: cannot read it", path);
		return NULL;
	}
	if ((buf = malloc(CERTCMD_FILE_MAX + 1)) == NULL) {
		(void)fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, CERTCMD_FILE_MAX + 1, fp);
	(void)fclose(fp);
	if (n > CERTCMD_FILE_MAX) {
		(void)cli_fail(&cc->cli, "%s: over 64 KiB", path);
		OPENSSL_cleanse(buf, CERTCMD_FILE_MAX + 1);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The leaf of <pem>: its validity and serial (hex) into the out-params. */
static int
certcmd_leaf(const char *pem, time_t *nb, time_t *na, char *serial,
    size_t size)
{
	BIO		*b = BIO_new_mem_buf(pem, -1);
	X509		*x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) :
			    NULL;
	BIGNUM		*bn = NULL;
	char		*hex = NULL;
	struct tm	 tm;
	int		 rc = -1;

	if (x != NULL && ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1) {
		*nb = timegm(&tm);
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 &&
		    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
		    NULL)) != NULL && (hex = BN_bn2hex(bn)) != NULL) {
			*na = timegm(&tm);
			(void)snprintf(serial, size, "%s", hex);
			rc = 0;
		}
	}
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	BIO_free(b);
	return rc;
}

/* Check <chain>/<key> for the host as a gateway would load them. */
static int
certcmd_check(struct certcmd *cc, const char *chain, const char *key)
{
	struct certstore	*cs = certstore_new();
	char			 err[256];
	int			 rc;

	if (cs == NULL)
		return cli_fail(&cc->cli, "out of memory");
	rc = certstore_put(cs, cc->host, chain, key, time(NULL), err,
	    sizeof(err));
	certstore_free(cs);
	if (rc == -1)
		return cli_fail(&cc->cli, "%s", err);
	return 0;
}

/* HSET the certificate with its sealed key, then PUBLISH "cert HOST". */
static int
certcmd_store(struct certcmd *cc, const char *chain, const char *sealed)
{
	const char	*p = store_sync_prefix(cc->cli.ss);
	char		 k[STORE_KEYLEN], chan[STORE_KEYLEN], err[STORE_ERRLEN];
	char		 nb[24], na[24], ra[24], now[24], serial[80], msg[300];
	time_t		 tnb = 0, tna = 0, t = time(NULL);
	redisReply	*r;

	if (certcmd_leaf(chain, &tnb, &tna, serial, sizeof(serial)) == -1)
		return cli_fail(&cc->cli, "cannot read the certificate");
	(void)snprintf(nb, sizeof(nb), "%lld", (long long)tnb);
	(void)snprintf(na, sizeof(na), "%lld", (long long)tna);
	(void)snprintf(ra, sizeof(ra), "%lld", (long long)(tnb +
	    (tna - tnb) * 2 / 3));
	(void)snprintf(now, sizeof(now), "%lld", (long long)t);
	(void)store_layout_key(k, sizeof(k), p, CERTSYNC_LAYOUT_CERT,
	    cc->host);
	(void)store_layout_key(chan, sizeof(chan), p, CERTSYNC_LAYOUT_EVENTS);
	if ((r = store_sync_command(cc->cli.ss, err, sizeof(err),
	    "HSET %s chain %s key %s not_before %s not_after %s renew_at %s "
	    "issued %s serial %s last_error %s last_attempt %s", k, chain,
	    sealed, nb, na, ra, now, serial, "", now)) == NULL)
		return cli_fail(&cc->cli, "%s", err);
	freeReplyObject(r);
	(void)snprintf(msg, sizeof(msg), "cert %s", cc->host);
	if ((r = store_sync_command(cc->cli.ss, err, sizeof(err),
	    "PUBLISH %s %s", chan, msg)) == NULL)
		return cli_fail(&cc->cli, "stored, but not announced (running "
		    "gateways load it when they reconnect): %s", err);
	freeReplyObject(r);
	return 0;
}

static int
certcmd_import(void *arg)
{
	struct certcmd	*cc = arg;
	char		*chain = NULL, *key = NULL, *sealed = NULL, aad[300];
	size_t		 size = 0;
	int		 rc = 1;

	if (cc->cert == NULL || cc->key == NULL)
		return cli_fail(&cc->cli, "--cert FILE and --key FILE are "
		    "needed");
	if (certcmd_host(cc) != 0 || cli_load(&cc->cli) != 0)
		return 1;
	if (cc->cli.cfg->keys == NULL || !cc->cli.cfg->keys->present)
		return cli_fail(&cc->cli, "no secret_file: keys are stored "
		    "sealed with it");
	if ((chain = certcmd_read(cc, cc->cert)) == NULL ||
	    (key = certcmd_read(cc, cc->key)) == NULL ||
	    certcmd_check(cc, chain, key) != 0)
		goto out;
	size = SECRET_SEALED_LEN(strlen(key));
	(void)snprintf(aad, sizeof(aad), "%s%s", CERTSYNC_AAD, cc->host);
	if ((sealed = malloc(size)) == NULL ||
	    secret_seal(cc->cli.cfg->keys->acme, aad, strlen(aad),
	    (const unsigned char *)key, strlen(key), sealed, size) == -1) {
		(void)cli_fail(&cc->cli, "cannot seal the key");
		goto out;
	}
	if (cli_connect(&cc->cli, NULL) != 0 ||
	    (rc = certcmd_store(cc, chain, sealed)) != 0)
		goto out;
	printf("imported the certificate of %s\n", cc->host);
	(void)snprintf(cc->done, sizeof(cc->done), "%s", cc->host);
out:
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(chain);
	free(sealed);
	return rc;
}

/* ---- list ---- */

/* One row of the listing. */
struct certcmd_row {
	char		 host[254];
	const char	*source;	/* "file" or "acme" */
	long long	 not_after;	/* Unix s; 0 unknown */
	long long	 renew_at;
	char		 last_error[256];
};

struct certcmd_rows {
	struct certcmd_row	*v;
	size_t			 n, cap;
};

static struct certcmd_row *
certcmd_add(struct certcmd_rows *rows, const char *host, const char *source)
{
	struct certcmd_row	*nv;

	if (rows->n == rows->cap) {
		rows->cap = rows->cap > 0 ? rows->cap * 2 : 16;
		if ((nv = reallocarray(rows->v, rows->cap, sizeof(*nv))) ==
		    NULL)
			return NULL;
		rows->v = nv;
	}
	nv = &rows->v[rows->n++];
	memset(nv, 0, sizeof(*nv));
	(void)snprintf(nv->host, sizeof(nv->host), "%s", host);
	nv->source = source;
	return nv;
}

/* The DNS names of the configured certificate files. */
static void
certcmd_list_files(struct certcmd *cc, struct certcmd_rows *rows)
{
	const struct config	*cfg = cc->cli.cfg;
	struct certcmd_row	*row;
	GENERAL_NAMES		*san;
	X509			*x;
	FILE			*fp;
	struct tm		 tm;
	size_t			 i;
	int			 j;

	for (i = 0; i < cfg->ncerts; i++) {
		if ((fp = fopen(cfg->certs[i].cert_file, "r")) == NULL)
			continue;
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		(void)fclose(fp);
		if (x == NULL)
			continue;
		san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
		for (j = 0; j < sk_GENERAL_NAME_num(san); j++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);

			if (g->type != GEN_DNS || (row = certcmd_add(rows,
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			    "file")) == NULL)
				continue;
			if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
				row->not_after = (long long)timegm(&tm);
		}
		GENERAL_NAMES_free(san);
		X509_free(x);
	}
}

static const char *
certcmd_str(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING ? r->str : "";
}

/* The acme:cert:<host> of <key>: its fields into a row. */
static int
certcmd_list_one(struct certcmd *cc, struct certcmd_rows *rows,
    const char *key, size_t hl)
{
	struct certcmd_row	*row;
	redisReply		*r;
	char			 err[STORE_ERRLEN];

	if ((r = store_sync_command(cc->cli.ss, err, sizeof(err),
	    "HMGET %s not_after renew_at last_error", key)) == NULL)
		return cli_fail(&cc->cli, "%s", err);
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    (row = certcmd_add(rows, key + hl, "acme")) != NULL) {
		row->not_after = strtoll(certcmd_str(r->element[0]), NULL, 10);
		row->renew_at = strtoll(certcmd_str(r->element[1]), NULL, 10);
		(void)snprintf(row->last_error, sizeof(row->last_error), "%s",
		    certcmd_str(r->element[2]));
	}
	freeReplyObject(r);
	return 0;
}

/* Every acme:cert:<host> of Redis. */
static int
certcmd_list_redis(struct certcmd *cc, struct certcmd_rows *rows)
{
	const char	*p = store_sync_prefix(cc->cli.ss);
	char		 match[2 * STORE_KEYLEN + 2], head[STORE_KEYLEN];
	char		 cursor[32] = "0", err[STORE_ERRLEN];
	redisReply	*r;
	size_t		 i, hl;

	if (store_layout_key(head, sizeof(head), p, CERTSYNC_LAYOUT_CERT,
	    "") == -1 || encode_glob_prefix(head, match, sizeof(match)) == -1)
		return cli_fail(&cc->cli, "redis.prefix too long");
	hl = strlen(head);
	do {
		if ((r = store_sync_command(cc->cli.ss, err, sizeof(err),
		    "SCAN %s MATCH %s COUNT 200", cursor, match)) == NULL)
			return cli_fail(&cc->cli, "%s", err);
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			return cli_fail(&cc->cli, "unexpected reply to SCAN");
		}
		(void)snprintf(cursor, sizeof(cursor), "%s",
		    certcmd_str(r->element[0]));
		for (i = 0; i < r->element[1]->elements; i++)
			if (certcmd_list_one(cc, rows,
			    certcmd_str(r->element[1]->element[i]), hl) != 0) {
				freeReplyObject(r);
				return 1;
			}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && cursor[0] != '\0');
	return 0;
}

static void
certcmd_time(long long t, char *out, size_t size)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	(void)snprintf(out, size, "-");
	if (t > 0 && gmtime_r(&tt, &tm) != NULL)
		(void)strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
certcmd_print(const struct certcmd *cc, const struct certcmd_rows *rows)
{
	struct cli_json	j;
	char		na[32], ra[32];
	size_t		i;

	if (!cc->cli.json) {
		printf("%-40s %-6s %-20s %-20s %s\n", "HOST", "SOURCE",
		    "NOT_AFTER", "RENEW_AT", "LAST_ERROR");
		for (i = 0; i < rows->n; i++) {
			certcmd_time(rows->v[i].not_after, na, sizeof(na));
			certcmd_time(rows->v[i].renew_at, ra, sizeof(ra));
			printf("%-40s %-6s %-20s %-20s %s\n", rows->v[i].host,
			    rows->v[i].source, na, ra,
			    rows->v[i].last_error[0] != '\0' ?
			    rows->v[i].last_error : "-");
		}
		return;
	}
	cli_json_init(&j, stdout);
	cli_json_open(&j, '[');
	for (i = 0; i < rows->n; i++) {
		cli_json_open(&j, '{');
		cli_json_key(&j, "host");
		cli_json_str(&j, rows->v[i].host);
		cli_json_key(&j, "source");
		cli_json_str(&j, rows->v[i].source);
		cli_json_key(&j, "not_after");
		cli_json_int(&j, rows->v[i].not_after);
		cli_json_key(&j, "renew_at");
		cli_json_int(&j, rows->v[i].renew_at);
		cli_json_key(&j, "last_error");
		cli_json_str(&j, rows->v[i].last_error);
		cli_json_close(&j, '}');
	}
	cli_json_close(&j, ']');
}

static int
certcmd_list(void *arg)
{
	struct certcmd		*cc = arg;
	struct certcmd_rows	 rows = { NULL, 0, 0 };
	int			 rc;

	if (cli_load(&cc->cli) != 0)
		return 1;
	certcmd_list_files(cc, &rows);
	if ((rc = cli_connect(&cc->cli, NULL)) == 0 &&
	    (rc = certcmd_list_redis(cc, &rows)) == 0)
		certcmd_print(cc, &rows);
	free(rows.v);
	return rc;
}

/* ---- renew ---- */

/* Lua: make an existing certificate due now, and say so. */
static struct store_script certcmd_renew_lua = STORE_SCRIPT("cert_renew",
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'renew_at', ARGV[1])\n"
    "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
    "return 1\n");

static int
certcmd_renew(void *arg)
{
	struct certcmd	*cc = arg;
	const char	*argv[4];
	char		 k[STORE_KEYLEN], chan[STORE_KEYLEN], now[24];
	char		 msg[300], err[STORE_ERRLEN];
	redisReply	*r;
	int		 rc;

	if (certcmd_host(cc) != 0 || cli_connect(&cc->cli, NULL) != 0)
		return 1;
	(void)store_layout_key(k, sizeof(k), store_sync_prefix(cc->cli.ss),
	    CERTSYNC_LAYOUT_CERT, cc->host);
	(void)store_layout_key(chan, sizeof(chan),
	    store_sync_prefix(cc->cli.ss), CERTSYNC_LAYOUT_EVENTS);
	(void)snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	(void)snprintf(msg, sizeof(msg), "cert %s", cc->host);
	argv[0] = k;
	argv[1] = now;
	argv[2] = chan;
	argv[3] = msg;
	if ((r = store_sync_eval(cc->cli.ss, &certcmd_renew_lua, err,
	    sizeof(err), 1, 4, argv, NULL)) == NULL)
		return cli_fail(&cc->cli, "%s", err);
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (!rc)
		return cli_fail(&cc->cli, "%s has no certificate in redis "
		    "(a certificate from a file is renewed by replacing the "
		    "file)", cc->host);
	printf("%s: renewal due now; the ACME client of a running gateway "
	    "orders it\n", cc->host);
	(void)snprintf(cc->done, sizeof(cc->done), "%s", cc->host);
	return 0;
}

static const struct cli_action certcmd_actions[] = {
	{ "list", certcmd_list, 0, "" },
	{ "renew", certcmd_renew, 1, "" },
	{ "import", certcmd_import, 1, "cert key" },
	{ NULL, NULL, 0, NULL },
};

int
certcmd_main(int argc, char **argv)
{
	struct certcmd	cc;
	char		action[32];
	int		rc;

	memset(&cc, 0, sizeof(cc));
	cli_init(&cc.cli, &certcmd_spec);
	if (cli_action(&cc.cli, argc, argv) == -1 ||
	    cli_parse(&cc.cli, argc - 1, argv + 1, &cc) == -1)
		return cc.cli.rc;
	rc = cli_dispatch(&cc.cli, certcmd_actions, &cc);
	if (rc == 0 && cc.cli.ss != NULL && cc.done[0] != '\0') {
		(void)snprintf(action, sizeof(action), "cert_%s",
		    cc.cli.action);
		(void)audit_emit_sync(cc.cli.ss, &(struct audit_event){
		    .action = action, .actor = "operator", .target = cc.done,
		    .outcome = "success" });
	}
	cli_close(&cc.cli);
	return rc;
}
