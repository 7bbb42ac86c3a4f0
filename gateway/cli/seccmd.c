/*
 * `postern secrets rotate` (see seccmd.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "loader.h"
#include "seccmd.h"
#include "secret.h"
#include "store.h"
#include "totp.h"
#include "user.h"

/* KEYS: user.  ARGV: field, old, new.  1 replaced, 0 changed meanwhile. */
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

/* Re-seal field <field> (value <old>) of user <id>. */
static int
seccmd_reseal(struct store_sync *ss, const struct config *cfg,
    const char *id, const char *field, const char *old,
    struct seccmd_counts *n)
{
	unsigned char	 seed[TOTP_SECRET_MAX];
	char		 sealed[256], key[STORE_KEYLEN], err[STORE_ERRLEN];
	redisReply	*r;
	size_t		 len, i;
	int		 opened = 0;

	if (totp_open(cfg->keys->totp, id, old, seed, sizeof(seed), &len) ==
	    0) {
		n->current++;
		OPENSSL_cleanse(seed, sizeof(seed));
		return 0;
	}
	for (i = 0; i < cfg->nprev_keys && !opened; i++)
		opened = totp_open(cfg->prev_keys[i].totp, id, old, seed,
		    sizeof(seed), &len) == 0;
	if (!opened || totp_seal(cfg->keys->totp, id, seed, len, sealed,
	    sizeof(sealed)) == -1) {
		OPENSSL_cleanse(seed, sizeof(seed));
		fprintf(stderr, "postern secrets rotate: user %s: %s opens with "
		    "no configured secret\n", id, field);
		n->failed++;
		return 0;
	}
	OPENSSL_cleanse(seed, sizeof(seed));
	if (user_key(key, sizeof(key), store_sync_prefix(ss), USER_KEY_USER,
	    id) == -1 || (r = store_sync_eval(ss, &seccmd_lua_cas, err,
	    sizeof(err), 1, 4, (const char *[]){ key, field, old, sealed },
	    NULL)) == NULL) {
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

static int
seccmd_rotate(struct store_sync *ss, const struct config *cfg)
{
	static const char *const fields[] = { "totp", "totp_pending" };
	struct seccmd_counts n = { 0 };
	char		 key[STORE_KEYLEN], err[STORE_ERRLEN];
	redisReply	*users, *r;
	size_t		 i, f;

	if (user_key(key, sizeof(key), store_sync_prefix(ss), USER_KEY_USERS,
	    NULL) == -1 || (users = store_sync_command(ss, err, sizeof(err),
	    "SMEMBERS %s", key)) == NULL) {
		fprintf(stderr, "postern secrets rotate: %s\n", err);
		return 1;
	}
	for (i = 0; users->type == REDIS_REPLY_ARRAY && i < users->elements;
	    i++) {
		const char *id = users->element[i]->str;

		if (user_key(key, sizeof(key), store_sync_prefix(ss),
		    USER_KEY_USER, id) == -1 ||
		    (r = store_sync_command(ss, err, sizeof(err),
		    "HMGET %s totp totp_pending", key)) == NULL) {
			freeReplyObject(users);
			fprintf(stderr, "postern secrets rotate: %s\n", err);
			return 1;
		}
		for (f = 0; r->type == REDIS_REPLY_ARRAY && f < r->elements &&
		    f < 2; f++)
			if (r->element[f]->type == REDIS_REPLY_STRING &&
			    r->element[f]->len > 0 && seccmd_reseal(ss, cfg, id,
			    fields[f], r->element[f]->str, &n) == -1) {
				freeReplyObject(r);
				freeReplyObject(users);
				return 1;
			}
		freeReplyObject(r);
	}
	freeReplyObject(users);
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
