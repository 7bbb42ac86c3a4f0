/*
 * `postern audit verify|tail|export|trim` (see auditcmd.h): the operator's
 * view of the hash-chained trail that audit.c appends to, over the
 * synchronous store.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "auditcmd.h"
#include "cli.h"
#include "store.h"

/* One invocation: its options and the trail's keys. */
struct audit_cli {
	struct cli		 cli;
	uint64_t		 from;		/* --from, --since */
	uint64_t		 lines;		/* -n */
	const char		*keep;		/* --keep */
	char			 kevents[STORE_KEYLEN];
	char			 kbase[STORE_KEYLEN];
	char			 kcheck[STORE_KEYLEN];
	char			 khead[STORE_KEYLEN];
};

static const struct cli_opt audit_cli_opts[] = {
	CLI_OPT_CONFIG,
	CLI_OPT("from", 0, CLI_U64, struct audit_cli, from),
	CLI_OPT("since", 0, CLI_U64, struct audit_cli, from),
	CLI_OPT("keep", 0, CLI_STR, struct audit_cli, keep),
	CLI_OPT("lines", 'n', CLI_U64, struct audit_cli, lines),
	CLI_OPT_END,
};

static const struct cli_spec audit_cli_spec = {
	"audit", AUDITCMD_USAGE, NULL, audit_cli_opts, NULL,
};

static int
audit_cli_open(struct audit_cli *ac)
{
	const char	*p;

	if (cli_connect(&ac->cli, NULL) != 0)
		return 1;
	p = store_sync_prefix(ac->cli.ss);
	(void)store_layout_key(ac->kevents, sizeof(ac->kevents), p,
	    AUDIT_KEY_EVENTS);
	(void)store_layout_key(ac->kbase, sizeof(ac->kbase), p,
	    AUDIT_KEY_BASE);
	(void)store_layout_key(ac->kcheck, sizeof(ac->kcheck), p,
	    AUDIT_KEY_CHECKPOINT);
	(void)store_layout_key(ac->khead, sizeof(ac->khead), p,
	    AUDIT_KEY_HEAD);
	return 0;
}

/* A string value (or "" when missing) into <out>; 0 or -1. */
static int
audit_cli_get(struct audit_cli *ac, const char *key, char *out, size_t size)
{
	char		 err[STORE_ERRLEN];
	redisReply	*r;

	if ((r = store_sync_command(ac->cli.ss, err, sizeof(err), "GET %s",
	    key)) == NULL) {
		cli_fail(&ac->cli, "%s", err);
		return -1;
	}
	(void)snprintf(out, size, "%s", r->type == REDIS_REPLY_STRING ?
	    r->str : "");
	freeReplyObject(r);
	return 0;
}

/* The list's first seq and the hash before it (checked checkpoint). */
static int
audit_cli_start(struct audit_cli *ac, uint64_t *base, char *prev)
{
	char		 b[32], cp[256], mac[EVP_MAX_MD_SIZE * 2 + 1];
	char		 cphash[AUDIT_HASHLEN + 1];
	char		 cpmac[EVP_MAX_MD_SIZE * 2 + 1];
	unsigned long long cpseq;

	if (audit_cli_get(ac, ac->kbase, b, sizeof(b)) == -1 ||
	    audit_cli_get(ac, ac->kcheck, cp, sizeof(cp)) == -1)
		return -1;
	*base = b[0] != '\0' ? strtoull(b, NULL, 10) : 1;
	(void)strcpy(prev, AUDIT_ZERO);
	if (*base <= 1)
		return 0;
	if (sscanf(cp, "%llu %64s %128s", &cpseq, cphash, cpmac) != 3 ||
	    cpseq + 1 != *base || audit_checkpoint_mac(ac->cli.cfg, cpseq,
	    cphash, mac) == -1 || strlen(mac) != strlen(cpmac) ||
	    CRYPTO_memcmp(mac, cpmac, strlen(mac)) != 0) {
		printf("checkpoint before seq %" PRIu64 ": NOT VALID (missing, "
		    "or its signature does not match)\n", *base);
		return -1;
	}
	printf("starting from the signed checkpoint of seq %llu\n", cpseq);
	(void)strcpy(prev, cphash);
	return 0;
}

/* Call <fn> for every stored line from list index <from>; 0 or -1. */
static int
audit_cli_walk(struct audit_cli *ac, long from,
    int (*fn)(void *, const char *, long), void *arg)
{
	char		 err[STORE_ERRLEN];
	redisReply	*r;
	long		 i = from;
	size_t		 k;
	int		 rc;

	for (;;) {
		if ((r = store_sync_command(ac->cli.ss, err, sizeof(err),
		    "LRANGE %s %ld %ld", ac->kevents, i, i + 999)) == NULL) {
			cli_fail(&ac->cli, "%s", err);
			return -1;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
			freeReplyObject(r);
			return 0;
		}
		for (k = 0; k < r->elements; k++, i++)
			if ((rc = fn(arg, r->element[k]->type ==
			    REDIS_REPLY_STRING ? r->element[k]->str : "", i)) !=
			    0) {
				freeReplyObject(r);
				return rc;
			}
		freeReplyObject(r);
	}
}

struct audit_verify {
	uint64_t	 base;
	uint64_t	 from;
	uint64_t	 n;
	uint64_t	 rollback;	/* seq of the last audit_rollback */
	char		 prev[AUDIT_HASHLEN + 1];
};

static int
audit_verify_one(void *arg, const char *line, long i)
{
	struct audit_verify	*v = arg;
	char			 hash[AUDIT_HASHLEN + 1], action[64];
	const char		*why;
	uint64_t		 seq = v->base + (uint64_t)i;

	if (audit_check_line(line, seq, v->prev, hash, &why) == -1) {
		printf("BROKEN at seq %" PRIu64 ": %s\n", seq, why);
		return 1;
	}
	(void)strcpy(v->prev, hash);
	if (seq >= v->from)
		v->n++;
	if (audit_line_action(line, action, sizeof(action)) == 0 &&
	    strcmp(action, "audit_rollback") == 0)
		v->rollback = seq;
	return 0;
}

static int
audit_cmd_verify(struct audit_cli *ac, uint64_t from)
{
	struct audit_verify	 v = { 0 };
	char			 head[128];
	int			 rc;

	v.from = from;
	if (audit_cli_start(ac, &v.base, v.prev) == -1)
		return 1;
	if ((rc = audit_cli_walk(ac, 0, audit_verify_one, &v)) != 0)
		return 1;
	if (audit_cli_get(ac, ac->khead, head, sizeof(head)) == -1)
		return 1;
	if (head[0] != '\0' && (strchr(head, ' ') == NULL ||
	    strcmp(strchr(head, ' ') + 1, v.prev) != 0)) {
		printf("BROKEN at the head: it names an event that is not the "
		    "last one (events removed from the end?)\n");
		return 1;
	}
	printf("%" PRIu64 " events verified\n", v.n);
	if (v.rollback != 0) {
		printf("LOST EVENTS: seq %" PRIu64 " records that the trail "
		    "went back (events a gateway had appended are not in "
		    "Redis; their lines may be in its audit.file)\n",
		    v.rollback);
		return 1;
	}
	return 0;
}

static int
audit_print_one(void *arg, const char *line, long i)
{
	(void)arg;
	(void)i;
	printf("%s\n", line);
	return 0;
}

static int
audit_cmd_trim(struct audit_cli *ac, uint64_t keep)
{
	char		 err[STORE_ERRLEN], line[AUDIT_LINEMAX], cp[256];
	char		 hash[AUDIT_HASHLEN + 1], prev[AUDIT_HASHLEN + 1];
	char		 mac[EVP_MAX_MD_SIZE * 2 + 1];
	redisReply	*r;
	uint64_t	 base, n, last;

	if (audit_cli_start(ac, &base, prev) == -1)
		return 1;
	if ((r = store_sync_command(ac->cli.ss, err, sizeof(err), "LLEN %s",
	    ac->kevents)) == NULL || r->type != REDIS_REPLY_INTEGER) {
		fprintf(stderr, "postern audit trim: %s\n", err);
		freeReplyObject(r);
		return 1;
	}
	n = (uint64_t)r->integer;
	freeReplyObject(r);
	if (n <= keep) {
		printf("%" PRIu64 " events, nothing to trim\n", n);
		return 0;
	}
	last = n - keep - 1;			/* the last index dropped */
	if ((r = store_sync_command(ac->cli.ss, err, sizeof(err),
	    "LINDEX %s %llu", ac->kevents, (unsigned long long)last)) == NULL ||
	    r->type != REDIS_REPLY_STRING || r->len >= sizeof(line)) {
		fprintf(stderr, "postern audit trim: cannot read the event\n");
		freeReplyObject(r);
		return 1;
	}
	(void)strcpy(line, r->str);
	freeReplyObject(r);
	/* Its hash as stored; verify checks the chain up to it later on. */
	(void)snprintf(hash, sizeof(hash), "%.64s", line + strlen(line) -
	    AUDIT_HASHLEN - 2);
	if (audit_checkpoint_mac(ac->cli.cfg, base + last, hash, mac) == -1) {
		fprintf(stderr, "postern audit trim: needs secret_file\n");
		return 1;
	}
	(void)snprintf(cp, sizeof(cp), "%" PRIu64 " %s %s", base + last, hash,
	    mac);
	if (audit_trim_sync(ac->cli.ss, (const char *[]){ ac->kevents,
	    ac->kbase, ac->kcheck }, last + 1, base + last + 1, cp, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "postern audit trim: %s\n", err);
		return 1;
	}
	printf("trimmed %" PRIu64 " events; the chain now starts at seq %"
	    PRIu64 " after a signed checkpoint\n", last + 1, base + last + 1);
	return 0;
}

/* tail and export: the stored lines, from --since or the last -n. */
static int
audit_cmd_print(struct audit_cli *ac, int tail)
{
	char		 b[32], err[STORE_ERRLEN];
	uint64_t	 base;
	long		 start;
	redisReply	*r;

	if (audit_cli_get(ac, ac->kbase, b, sizeof(b)) == -1)
		return 1;
	base = b[0] != '\0' ? strtoull(b, NULL, 10) : 1;
	start = (long)(ac->from > base ? ac->from - base : 0);
	if (tail) {
		r = store_sync_command(ac->cli.ss, err, sizeof(err), "LLEN %s",
		    ac->kevents);
		start = r != NULL && r->type == REDIS_REPLY_INTEGER &&
		    (uint64_t)r->integer > ac->lines ? (long)(r->integer -
		    (long long)ac->lines) : 0;
		freeReplyObject(r);
	}
	return audit_cli_walk(ac, start, audit_print_one, NULL) == 0 ? 0 : 1;
}

int
auditcmd_main(int argc, char **argv)
{
	struct audit_cli ac;
	const char	*action;
	int		 rc;

	memset(&ac, 0, sizeof(ac));
	cli_init(&ac.cli, &audit_cli_spec);
	ac.lines = 20;
	if (argc < 2)
		return cli_usage(&ac.cli, stderr);
	action = argv[1];
	if (cli_parse(&ac.cli, argc - 1, argv + 1, &ac) == -1)
		return ac.cli.rc;
	if (strcmp(action, "verify") != 0 && strcmp(action, "tail") != 0 &&
	    strcmp(action, "export") != 0 && strcmp(action, "trim") != 0)
		return cli_usage(&ac.cli, stderr);
	if (strcmp(action, "trim") == 0 && ac.keep == NULL) {
		fprintf(stderr, "postern audit trim: give --keep N\n");
		return 2;
	}
	if ((rc = audit_cli_open(&ac)) != 0)
		goto out;
	if (strcmp(action, "verify") == 0)
		rc = audit_cmd_verify(&ac, ac.from);
	else if (strcmp(action, "trim") == 0)
		rc = audit_cmd_trim(&ac, strtoull(ac.keep, NULL, 10));
	else
		rc = audit_cmd_print(&ac, strcmp(action, "tail") == 0);
out:
	cli_close(&ac.cli);
	return rc;
}
