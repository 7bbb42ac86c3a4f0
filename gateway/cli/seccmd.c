/*
 * `postern secrets rotate` (see seccmd.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "acme.h"
#include "audit.h"
#include "cli.h"
#include "config.h"
#include "encode.h"
#include "loader.h"
#include "seccmd.h"
#include "secret.h"
#include "store.h"
#include "totp.h"
#include "user.h"

/* KEYS: the hash.  ARGV: field, old, new.  1 replaced, 0 changed
 * meanwhile (a hash that expires keeps its expiry: HSET leaves it). */
static struct store_script seccmd_lua_cas = STORE_SCRIPT("reseal",
	"if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 "
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
	"return 1\n");

struct seccmd_counts {
	unsigned long	current;	/* already under the current secret */
	unsigned long	resealed;
	unsigned long	failed;		/* opens with no secret we have */
	unsigned long	raced;		/* changed while we worked */
};

/* One sealed value: field <field> of hash <key>, sealed for <aad> with
 * the key at <koff> in struct secret_keys (totp, acme). */
struct seccmd_value {
	const char	*key;
	const char	*field;
	const char	*aad;
	size_t		 koff;
};

static const unsigned char *
seccmd_key(const struct secret_keys *k, size_t koff)
{
	return (const unsigned char *)k + koff;
}

/* Open <old> as <v> says with the current key (1), a previous one (0),
 * or none (-1); the plaintext into <out> (<size>), its length *<len>. */
static int
seccmd_open(const struct config *cfg, const struct seccmd_value *v,
    const char *old, unsigned char *out, size_t size, size_t *len)
{
	size_t	i;

	if (secret_open(seccmd_key(cfg->keys, v->koff), v->aad,
	    strlen(v->aad), old, out, size, len) == 0)
		return 1;
	for (i = 0; i < cfg->nprev_keys; i++)
		if (secret_open(seccmd_key(&cfg->prev_keys[i], v->koff),
		    v->aad, strlen(v->aad), old, out, size, len) == 0)
			return 0;
	return -1;
}

/* Replace <old> by <sealed> if unchanged meanwhile; 0, or -1. */
static int
seccmd_swap(struct store_sync *ss, const struct seccmd_value *v,
    const char *old, const char *sealed, struct seccmd_counts *n)
{
	char		 err[STORE_ERRLEN];
	redisReply	*r;

	if ((r = store_sync_eval(ss, &seccmd_lua_cas, err, sizeof(err), 1, 4,
	    (const char *[]){ v->key, v->field, old, sealed }, NULL)) ==
	    NULL) {
		fprintf(stderr, "postern secrets rotate: %s\n", err);
		return -1;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		n->resealed++;
	else
		n->raced++;
	freeReplyObject(r);
	return 0;
}

/* Re-seal <old>, the value of <v>, under the current secret. */
static int
seccmd_reseal(struct store_sync *ss, const struct config *cfg,
    const struct seccmd_value *v, const char *old, struct seccmd_counts *n)
{
	size_t		 size = strlen(old) + 1, len = 0;
	unsigned char	*plain = malloc(size);
	char		*sealed = NULL;
	int		 opened, rc = -1;

	if (plain == NULL)
		goto out;
	if ((opened = seccmd_open(cfg, v, old, plain, size, &len)) == 1) {
		n->current++;
		rc = 0;
		goto out;
	}
	if (opened == -1 || len == 0 || (sealed = malloc(
	    SECRET_SEALED_LEN(len))) == NULL || secret_seal(seccmd_key(
	    cfg->keys, v->koff), v->aad, strlen(v->aad), plain, len, sealed,
	    SECRET_SEALED_LEN(len)) == -1) {
		fprintf(stderr, "postern secrets rotate: %s: %s opens with no "
		    "configured secret\n", v->key, v->field);
		n->failed++;
		rc = 0;
		goto out;
	}
	rc = seccmd_swap(ss, v, old, sealed, n);
out:
	if (plain != NULL)
		OPENSSL_clear_free(plain, size);
	free(sealed);
	return rc;
}

/* The TOTP seeds (pending ones too) of every user. */
static int
seccmd_rotate_totp(struct store_sync *ss, const struct config *cfg,
    struct seccmd_counts *n)
{
	static const char *const fields[] = { "totp", "totp_pending" };
	struct seccmd_value v = { NULL, NULL, NULL,
	    offsetof(struct secret_keys, totp) };
	char		 key[STORE_KEYLEN], err[STORE_ERRLEN];
	redisReply	*users, *r;
	size_t		 i, f;
	int		 rc = 0;

	if (user_key(key, sizeof(key), store_sync_prefix(ss), USER_KEY_USERS,
	    NULL) == -1 || (users = store_sync_command(ss, err, sizeof(err),
	    "SMEMBERS %s", key)) == NULL) {
		fprintf(stderr, "postern secrets rotate: %s\n", err);
		return -1;
	}
	for (i = 0; users->type == REDIS_REPLY_ARRAY && i < users->elements &&
	    rc == 0; i++) {
		v.aad = users->element[i]->str;
		v.key = key;
		if (*v.aad == '\0' || user_key(key, sizeof(key),
		    store_sync_prefix(ss), USER_KEY_USER, v.aad) == -1)
			continue;
		if ((r = store_sync_command(ss, err, sizeof(err),
		    "HMGET %s totp totp_pending", key)) == NULL) {
			fprintf(stderr, "postern secrets rotate: %s\n", err);
			rc = -1;
			break;
		}
		for (f = 0; r->type == REDIS_REPLY_ARRAY && f < r->elements &&
		    f < 2 && rc == 0; f++) {
			v.field = fields[f];
			if (r->element[f]->type == REDIS_REPLY_STRING &&
			    r->element[f]->len > 0)
				rc = seccmd_reseal(ss, cfg, &v,
				    r->element[f]->str, n);
		}
		freeReplyObject(r);
	}
	freeReplyObject(users);
	return rc;
}

/* The sealed "key" of hash <key> (sealed for <aad>), if it has one. */
static int
seccmd_rotate_acme_one(struct store_sync *ss, const struct config *cfg,
    const char *key, const char *aad, struct seccmd_counts *n)
{
	struct seccmd_value v = { key, "key", aad,
	    offsetof(struct secret_keys, acme) };
	char		 err[STORE_ERRLEN];
	redisReply	*r;
	int		 rc = 0;

	if ((r = store_sync_command(ss, err, sizeof(err), "HGET %s key",
	    key)) == NULL) {
		fprintf(stderr, "postern secrets rotate: %s\n", err);
		return -1;
	}
	if (r->type == REDIS_REPLY_STRING && r->len > 0)
		rc = seccmd_reseal(ss, cfg, &v, r->str, n);
	freeReplyObject(r);
	return rc;
}

/* Every hash under <layout> (acme:cert:<host>, acme:alpn01:<host>): its
 * key is sealed for "acme:" + host. */
static int
seccmd_rotate_acme_hosts(struct store_sync *ss, const struct config *cfg,
    const char *layout, struct seccmd_counts *n)
{
	char		 head[STORE_KEYLEN], match[2 * STORE_KEYLEN + 2];
	char		 cursor[32] = "0", err[STORE_ERRLEN], aad[300];
	redisReply	*r, *k;
	size_t		 i, hl;
	int		 rc = 0;

	if (store_layout_key(head, sizeof(head), store_sync_prefix(ss),
	    layout, "") == -1 || encode_glob_prefix(head, match,
	    sizeof(match)) == -1)
		return -1;
	hl = strlen(head);
	do {
		if ((r = store_sync_command(ss, err, sizeof(err),
		    "SCAN %s MATCH %s COUNT 200", cursor, match)) == NULL ||
		    r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			fprintf(stderr, "postern secrets rotate: %s\n",
			    r == NULL ? err : "unexpected reply to SCAN");
			freeReplyObject(r);
			return -1;
		}
		(void)snprintf(cursor, sizeof(cursor), "%s",
		    r->element[0]->str != NULL ? r->element[0]->str : "0");
		for (i = 0; i < r->element[1]->elements && rc == 0; i++) {
			k = r->element[1]->element[i];
			if (k->type != REDIS_REPLY_STRING || k->len <= hl ||
			    k->len - hl > 253 || memcmp(k->str, head, hl) != 0)
				continue;
			(void)snprintf(aad, sizeof(aad), "acme:%s", k->str + hl);
			rc = seccmd_rotate_acme_one(ss, cfg, k->str, aad, n);
		}
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	return rc;
}

/* The ACME account key and every certificate and challenge key. */
static int
seccmd_rotate_acme(struct store_sync *ss, const struct config *cfg,
    struct seccmd_counts *n)
{
	char	key[STORE_KEYLEN];

	if (store_layout_key(key, sizeof(key), store_sync_prefix(ss),
	    ACME_LAYOUT_ACCOUNT, NULL) == -1 ||
	    seccmd_rotate_acme_one(ss, cfg, key, "acme:account", n) == -1 ||
	    seccmd_rotate_acme_hosts(ss, cfg, ACME_LAYOUT_CERT, n) == -1)
		return -1;
	return seccmd_rotate_acme_hosts(ss, cfg, ACME_LAYOUT_ALPN01, n);
}

static int
seccmd_rotate(struct store_sync *ss, const struct config *cfg)
{
	struct seccmd_counts n = { 0 };

	if (seccmd_rotate_totp(ss, cfg, &n) == -1 ||
	    seccmd_rotate_acme(ss, cfg, &n) == -1)
		return 1;
	printf("%lu sealed values re-sealed with the current secret, %lu "
	    "already were, %lu could not be opened, %lu changed meanwhile "
	    "(run again)\n", n.resealed, n.current, n.failed, n.raced);
	(void)audit_emit_sync(ss, &(struct audit_event){
	    .action = "secrets_rotate", .actor = "operator",
	    .outcome = n.failed == 0 && n.raced == 0 ? "success" : "failure" });
	return n.failed == 0 && n.raced == 0 ? 0 : 1;
}

/*
 * `secrets seal --purpose P`: a config value from the line on stdin.
 * A webhook secret is 16 to 64 bytes, an SMTP password or an OpenID
 * Connect client secret 1 to TOTP_SEAL_MAX.
 */
static int
seccmd_seal(const struct config *cfg, const char *purpose)
{
	char	line[TOTP_SEAL_MAX + 2], out[512];
	size_t	n, min = 16, max = TOTP_SECRET_MAX;
	int	rc = 1;

	if (strcmp(purpose, "smtp") == 0 || strcmp(purpose, "sso") == 0)
		min = 1, max = TOTP_SEAL_MAX;
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "postern secrets seal: give the value on "
		    "standard input\n");
		return 1;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n < min || n > max)
		fprintf(stderr, "postern secrets seal: the value must be %zu to "
		    "%zu bytes\n", min, max);
	else if (totp_seal(cfg->keys->seal, purpose, (unsigned char *)line, n,
	    out, sizeof(out)) == 0) {
		printf("sealed:%s\n", out);
		rc = 0;
	}
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/* Config values sealed by a previous secret: print their new form. */
static void
seccmd_config_values(const struct config *cfg)
{
	unsigned char	v[TOTP_SEAL_MAX];
	char		out[512];
	size_t		i, len;

	if (cfg->mail != NULL && cfg->mail->sealed != NULL &&
	    config_unseal(cfg, "smtp", cfg->mail->sealed, v, sizeof(v),
	    &len) == 1 && totp_seal(cfg->keys->seal, "smtp", v, len, out,
	    sizeof(out)) == 0)
		printf("mail: replace its password with sealed:%s\n", out);
	for (i = 0; i < cfg->nwebhooks; i++) {
		const char *s = cfg->webhooks[i].sealed;

		if (s == NULL || config_unseal(cfg, "webhook", s, v, sizeof(v),
		    &len) != 1)
			continue;
		if (totp_seal(cfg->keys->seal, "webhook", v, len, out,
		    sizeof(out)) == 0)
			printf("webhooks: %s: replace its secret with "
			    "sealed:%s\n", cfg->webhooks[i].url, out);
	}
	for (i = 0; cfg->sso != NULL && i < cfg->sso->nproviders; i++) {
		const char *s = cfg->sso->providers[i].sealed;

		if (s == NULL || config_unseal(cfg, "sso", s, v, sizeof(v),
		    &len) != 1)
			continue;
		if (totp_seal(cfg->keys->seal, "sso", v, len, out,
		    sizeof(out)) == 0)
			printf("sso.providers: %s: replace its client_secret "
			    "with sealed:%s\n", cfg->sso->providers[i].name,
			    out);
	}
	OPENSSL_cleanse(v, sizeof(v));
}

/* The state of one run: what the options set. */
struct seccmd {
	struct cli	 cli;
	const char	*purpose;	/* --purpose */
};

static const struct cli_opt seccmd_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("purpose", 0, CLI_STR, struct seccmd, purpose),
	CLI_OPT_END,
};

static const struct cli_spec seccmd_spec = {
	"secrets", SECCMD_USAGE, NULL, seccmd_opts, NULL,
};

int
seccmd_main(int argc, char **argv)
{
	struct seccmd	sc;
	int		rc;

	memset(&sc, 0, sizeof(sc));
	cli_init(&sc.cli, &seccmd_spec);
	if (argc < 2 || (strcmp(argv[1], "rotate") != 0 &&
	    strcmp(argv[1], "seal") != 0))
		return cli_usage(&sc.cli, stderr);
	if (cli_parse(&sc.cli, argc - 1, argv + 1, &sc) == -1)
		return sc.cli.rc;
	/* what loading and connecting say names rotate for seal too */
	sc.cli.action = "rotate";
	if ((rc = cli_connect(&sc.cli, NULL)) != 0)
		goto out;
	if (sc.cli.cfg->keys == NULL) {
		rc = cli_fail(&sc.cli, "%s has no secret_file", sc.cli.config);
		goto out;
	}
	if (strcmp(argv[1], "seal") == 0) {
		if (sc.purpose == NULL || (strcmp(sc.purpose, "webhook") != 0 &&
		    strcmp(sc.purpose, "smtp") != 0 &&
		    strcmp(sc.purpose, "sso") != 0)) {
			fprintf(stderr, "postern secrets seal: --purpose "
			    "webhook, smtp or sso\n");
			rc = 2;
		} else
			rc = seccmd_seal(sc.cli.cfg, sc.purpose);
		goto out;
	}
	seccmd_config_values(sc.cli.cfg);
	rc = seccmd_rotate(sc.cli.ss, sc.cli.cfg);
out:
	cli_close(&sc.cli);
	return rc;
}
