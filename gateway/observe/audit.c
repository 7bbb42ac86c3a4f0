/*
 * The audit trail (see audit.h and docs/audit.md).
 *
 * Redis keys (under the prefix):
 *   audit:events      list    stored lines: the canonical encoding with
 *                             ,"hash":"<hex>" before its closing brace
 *   audit:head        string  "<seq> <hash>" of the last event
 *   audit:base        string  seq of the list's first line (1 if unset)
 *   audit:checkpoint  string  "<seq> <hash> <hmac>": the last event
 *                             trimmed away, signed (postern audit trim)
 *   audit:outbox      list    lines appended without an event loop, for
 *                             a gateway's webhooks (auditbox.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "encode.h"
#include "log.h"
#include "secret.h"
#include "worker.h"
#include "store.h"
#include "webhook.h"

#define AUDIT_TRIES	16
#define AUDIT_OUTBOX_MAX	"1000"	/* lines kept for the gateways */
#define AUDIT_OUTBOX_TTL	"3600"	/* s: none takes them, they go */

/* KEYS: head, events.  ARGV: expected seq ("0": empty), line, new seq,
 * new hash.  1 appended; else the current head ("" if none). */
#define AUDIT_LUA_APPEND \
	"local h = redis.call('GET', KEYS[1])\n" \
	"local seq = '0'\n" \
	"if h then seq = string.match(h, '^(%d+) ') or '0' end\n" \
	"if seq ~= ARGV[1] then return h or '' end\n" \
	"redis.call('RPUSH', KEYS[2], ARGV[2])\n" \
	"redis.call('SET', KEYS[1], ARGV[3] .. ' ' .. ARGV[4])\n"
static struct store_script audit_lua_append = STORE_SCRIPT("audit append",
	AUDIT_LUA_APPEND
	"return 1\n");

/*
 * The same for the command-line tools (and the gateway's own synchronous
 * events), which run no event loop to deliver webhooks from: the line also
 * goes to the outbox (KEYS[3]; ARGV[5] lines at most, gone ARGV[6] s after
 * the last push), from which one gateway instance takes it.
 */
static struct store_script audit_lua_append_outbox = STORE_SCRIPT(
	"audit append (outbox)",
	AUDIT_LUA_APPEND
	"redis.call('RPUSH', KEYS[3], ARGV[2])\n"
	"redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)\n"
	"redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))\n"
	"return 1\n");

/* KEYS: events, base, checkpoint.  ARGV: lines to drop, new base,
 * checkpoint.  1. */
static struct store_script audit_lua_trim = STORE_SCRIPT("audit trim",
	"redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)\n"
	"redis.call('SET', KEYS[2], ARGV[2])\n"
	"redis.call('SET', KEYS[3], ARGV[3])\n"
	"return 1\n");

/*
 * KEYS: head, events, base.  ARGV: a seq and its hash (the mark below).
 * { the head ("" if none), 1 if the event at that seq is stored with that
 * hash (or the seq is 0 or trimmed away), else 0 }.  Read-only.
 */
static struct store_script audit_lua_check = STORE_SCRIPT("audit check",
	"local h = redis.call('GET', KEYS[1]) or ''\n"
	"local m = tonumber(ARGV[1])\n"
	"local base = tonumber(redis.call('GET', KEYS[3]) or '1')\n"
	"if m == 0 or m < base then return {h, 1} end\n"
	"local n = redis.call('LLEN', KEYS[2])\n"
	"if m - base >= n then return {h, 0} end\n"
	"local line = redis.call('LINDEX', KEYS[2], m - base - n)\n"
	"if string.sub(line, -66, -3) == ARGV[2] then return {h, 1} end\n"
	"return {h, 0}\n");

/*
 * The highest head this process appended (its high-water mark): a head
 * read behind it, or at it with another hash, means Redis lost events this
 * process had appended (a failover to a replica that had not received
 * them, a restored backup).  The next append then records that first
 * (action audit_rollback), so the trail is never silently forked.  Each
 * head read also checks that the event at the mark is still the one this
 * process knows (the "audit check" script): events appended by others on
 * top of a lost head do not hide the loss.  Every time a worker's store
 * connects (a restart of Redis, a new primary) it reads the head at once
 * (audit_watch()), so the loss is recorded before anyone appends; a head
 * read that way also raises the mark, so a process that only watched
 * notices a loss too.
 */
static pthread_mutex_t	audit_hw_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		audit_hw_seq;
static char		audit_hw_hash[AUDIT_HASHLEN + 1];

static const char *const audit_fields[] = { "action", "actor", "target",
    "org", "ip", "request_id", "outcome", "reason" };

static const char *
audit_field(const struct audit_event *ev, size_t i)
{
	const char *v[] = { ev->action, ev->actor, ev->target, ev->org,
	    ev->ip, ev->request_id, ev->outcome, ev->reason };

	return v[i] != NULL ? v[i] : "";
}

/* <ev>'s client address, or <none> for an event no client caused. */
static const char *
audit_ip(const struct audit_event *ev, const char *none)
{
	return ev->ip != NULL && ev->ip[0] != '\0' ? ev->ip : none;
}

static void
audit_sha256(const char *s, size_t len, char *hex)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	(void)SHA256((const unsigned char *)s, len, md);
	encode_hex(md, sizeof(md), hex);
}

long
audit_encode(const struct audit_event *ev, uint64_t seq, const char *time,
    const char *prev, char *out, size_t size, char *hash)
{
	size_t	off = 0, i;
	int	n;

	n = snprintf(out, size, "{\"seq\":\"%" PRIu64 "\",\"time\":\"", seq);
	if (n < 0 || (size_t)n >= size)
		return -1;
	off = (size_t)n;
	log_json_escape(out, size, &off, time, strlen(time));
	for (i = 0; i < sizeof(audit_fields) / sizeof(audit_fields[0]); i++) {
		n = snprintf(out + off, size - off, "\",\"%s\":\"",
		    audit_fields[i]);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
		log_json_escape(out, size, &off, audit_field(ev, i),
		    strlen(audit_field(ev, i)));
	}
	n = snprintf(out + off, size - off, "\",\"prev\":\"%s\"}", prev);
	if (n < 0 || (size_t)n >= size - off)
		return -1;
	off += (size_t)n;
	audit_sha256(out, off, hash);
	return (long)off;
}

int
audit_check_line(const char *line, uint64_t seq, const char *prev,
    char *hash, const char **why)
{
	static const char tag[] = ",\"hash\":\"";
	char		 head[48], tail[AUDIT_HASHLEN + 16], canon[AUDIT_LINEMAX];
	const char	*h;
	size_t		 len = strlen(line), clen;

	if (len < sizeof(tag) + AUDIT_HASHLEN + 2 || len >= sizeof(canon)) {
		*why = "malformed";
		return -1;
	}
	h = line + len - AUDIT_HASHLEN - 2;		/* <hash>"} */
	if (strcmp(h + AUDIT_HASHLEN, "\"}") != 0 ||
	    strncmp(h - (sizeof(tag) - 1), tag, sizeof(tag) - 1) != 0 ||
	    strspn(h, encode_hex_lower) < AUDIT_HASHLEN) {
		*why = "malformed";
		return -1;
	}
	clen = (size_t)(h - (sizeof(tag) - 1) - line);
	memcpy(canon, line, clen);
	canon[clen++] = '}';
	canon[clen] = '\0';
	(void)snprintf(head, sizeof(head), "{\"seq\":\"%" PRIu64 "\",", seq);
	(void)snprintf(tail, sizeof(tail), ",\"prev\":\"%s\"}", prev);
	if (strncmp(canon, head, strlen(head)) != 0) {
		*why = "sequence number out of order";
		return -1;
	}
	if (clen < strlen(tail) ||
	    strcmp(canon + clen - strlen(tail), tail) != 0) {
		*why = "prev is not the hash of the event before";
		return -1;
	}
	audit_sha256(canon, clen, hash);
	if (CRYPTO_memcmp(hash, h, AUDIT_HASHLEN) != 0) {
		*why = "hash does not match the event";
		return -1;
	}
	return 0;
}

/* RFC 3339 UTC with milliseconds. */
static void
audit_time(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;
	char		s[32];

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf, size, "%.24s.%03dZ", s,
	    (int)(ts.tv_nsec / 1000000) % 1000);
}

/* The stored line of an encoded event: ,"hash":"<hash>" added. */
static int
audit_line(char *canon, long len, size_t size, const char *hash)
{
	if ((size_t)len + AUDIT_HASHLEN + 12 > size)
		return -1;
	(void)snprintf(canon + len - 1, size - (size_t)len + 1,
	    ",\"hash\":\"%s\"}", hash);
	return 0;
}

/* Append <line> to the local file of <cfg> (audit.file), if any. */
static void
audit_file(const struct config *cfg, const char *line)
{
	int	fd;
	size_t	len = strlen(line);

	if (cfg->audit_file == NULL)
		return;
	if ((fd = open(cfg->audit_file, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1) {
		log_event(LOG_LEVEL_WARN, "audit", "outcome", "file_error",
		    "error", strerror(errno), NULL);
		return;
	}
	/* One write of the whole line: O_APPEND keeps lines whole. */
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    (cfg->audit_fsync && fdatasync(fd) == -1))
		log_event(LOG_LEVEL_WARN, "audit", "outcome", "file_error",
		    "error", strerror(errno), NULL);
	(void)close(fd);
}

static int
audit_keys(const char *prefix, char *head, char *events, size_t size)
{
	return store_layout_key(head, size, prefix, AUDIT_KEY_HEAD) == -1 ||
	    store_layout_key(events, size, prefix, AUDIT_KEY_EVENTS) == -1 ?
	    -1 : 0;
}

/* "<seq> <hash>" into its parts; an empty head is seq 0, zero hash. */
static int
audit_head_parse(const char *s, size_t len, uint64_t *seq, char *hash)
{
	char	buf[128], *sp, *end;

	if (len == 0) {
		*seq = 0;
		(void)strcpy(hash, AUDIT_ZERO);
		return 0;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((sp = strchr(buf, ' ')) == NULL ||
	    strlen(sp + 1) != AUDIT_HASHLEN)
		return -1;
	*sp = '\0';
	*seq = strtoull(buf, &end, 10);
	if (*end != '\0')
		return -1;
	(void)strcpy(hash, sp + 1);
	return 0;
}

/* ---- the request path: asynchronous ---- */

/* One event being appended; owned by the store callback in flight. */
struct audit_req {
	struct worker	*w;
	struct config	*cfg;		/* a reference, for the file */
	char		*fields[8];
	struct audit_event ev;
	char		 time[40];
	int		 tries;
	uint64_t	 seq;		/* of the event being appended */
	char		 hash[AUDIT_HASHLEN + 1];	/* ...and its hash */
	struct audit_req *then;		/* appended after this one */
	int		 probe;		/* audit_watch(): only read the head */
	uint64_t	 floor_seq;	/* the mark when the head was asked */
	char		 floor_hash[AUDIT_HASHLEN + 1];
	char		 line[AUDIT_LINEMAX];
};

static void	audit_start(struct audit_req *);

/* Free <ar>; the event waiting for it (ar->then) starts. */
static void
audit_req_free(struct audit_req *ar)
{
	struct audit_req	*then = ar->then;
	size_t			 i;

	for (i = 0; i < 8; i++)
		free(ar->fields[i]);
	config_unref(ar->cfg);
	free(ar);
	if (then != NULL)
		audit_start(then);
}

static void	audit_on_append(void *, const redisReply *, const char *);

/* Raise the high-water mark to the event just appended. */
static void
audit_mark(uint64_t seq, const char *hash)
{
	pthread_mutex_lock(&audit_hw_lock);
	if (seq > audit_hw_seq) {
		audit_hw_seq = seq;
		memcpy(audit_hw_hash, hash, sizeof(audit_hw_hash));
	}
	pthread_mutex_unlock(&audit_hw_lock);
}

/* The mark now, before <ar> asks for the head. */
static void
audit_floor(struct audit_req *ar)
{
	pthread_mutex_lock(&audit_hw_lock);
	ar->floor_seq = audit_hw_seq;
	memcpy(ar->floor_hash, audit_hw_hash, sizeof(ar->floor_hash));
	pthread_mutex_unlock(&audit_hw_lock);
}

int
audit_behind(uint64_t mseq, const char *mhash, uint64_t seq,
    const char *hash)
{
	return mseq > seq || (mseq == seq && seq != 0 &&
	    strcmp(mhash, hash) != 0);
}

/*
 * 1 if head (<seq>, <hash>), read by <ar>, is behind the mark as it was
 * before <ar> asked, or the event at that mark is no longer the one
 * appended (<intact> 0: others appended on a lost head).  The floor and
 * not the mark: an append acknowledged before the read is in any later
 * read of the same primary; one acknowledged meanwhile on another worker
 * may not be.  Then the lost head goes into <lost> ("<seq> <hash>") and
 * the mark comes down to the head.  A loss another request already
 * recorded (the mark moved since the floor, and is not ahead of the head)
 * is not recorded again.  Else 0.
 */
static int
audit_went_back(struct audit_req *ar, uint64_t seq, const char *hash,
    int intact, char *lost, size_t size)
{
	int	back;

	if (intact && !audit_behind(ar->floor_seq, ar->floor_hash, seq, hash))
		return 0;
	pthread_mutex_lock(&audit_hw_lock);
	back = (audit_hw_seq == ar->floor_seq &&
	    strcmp(audit_hw_hash, ar->floor_hash) == 0) ||
	    audit_behind(audit_hw_seq, audit_hw_hash, seq, hash);
	if (back) {
		(void)snprintf(lost, size, "%" PRIu64 " %s", audit_hw_seq,
		    audit_hw_hash);
		audit_hw_seq = seq;
		memcpy(audit_hw_hash, hash, sizeof(audit_hw_hash));
	}
	pthread_mutex_unlock(&audit_hw_lock);
	return back;
}

static struct audit_req *audit_req_new(struct worker *, struct config *,
		    const struct audit_event *);
static void	audit_try(struct audit_req *, uint64_t, const char *);

/*
 * Record that the trail lost the events up to head <lost> (the head is
 * now <seq>, <prev>): that record is appended first, then <ar> (from the
 * head again; a probe is only freed).  Without memory for the record,
 * <ar> goes on alone.
 */
static int
audit_rollback(struct audit_req *ar, uint64_t seq, const char *prev,
    const char *lost)
{
	struct audit_req	*mark;
	char			 now[24];

	(void)snprintf(now, sizeof(now), "%" PRIu64, seq);
	log_event(LOG_LEVEL_ERROR, "audit", "outcome", "rollback", "reason",
	    "audit_rollback", "lost_head", lost, "head", now, NULL);
	if ((mark = audit_req_new(ar->w, ar->cfg, &(struct audit_event){
	    .action = "audit_rollback", .target = lost,
	    .outcome = "failure", .reason = "audit_rollback" })) == NULL)
		return -1;
	if (ar->probe)
		audit_req_free(ar);
	else
		mark->then = ar;
	audit_try(mark, seq, prev);
	return 0;
}

static void
audit_lost(struct audit_req *ar, const char *why)
{
	if (ar->probe) {		/* no event: the next read looks again */
		audit_req_free(ar);
		return;
	}
	log_event(LOG_LEVEL_ERROR, "audit", "outcome", "lost", "action",
	    ar->ev.action, "reason", why, NULL);
	audit_req_free(ar);
}

/* Build the event on head (<seq>, <prev>) and try to append it. */
static void
audit_try(struct audit_req *ar, uint64_t seq, const char *prev)
{
	char		 hash[AUDIT_HASHLEN + 1], kh[STORE_KEYLEN];
	char		 ke[STORE_KEYLEN], sold[24], snew[24];
	long		 len;
	struct store	*st = ar->w->store;

	ar->seq = seq + 1;
	if ((len = audit_encode(&ar->ev, ar->seq, ar->time, prev, ar->line,
	    sizeof(ar->line), ar->hash)) == -1 ||
	    audit_line(ar->line, len, sizeof(ar->line), ar->hash) == -1) {
		audit_lost(ar, "too_long");
		return;
	}
	memcpy(hash, ar->hash, sizeof(hash));
	(void)snprintf(sold, sizeof(sold), "%" PRIu64, seq);
	(void)snprintf(snew, sizeof(snew), "%" PRIu64, ar->seq);
	if (st == NULL || audit_keys(store_prefix(st), kh, ke, sizeof(kh)) ==
	    -1 || store_eval(st, &audit_lua_append, audit_on_append, ar, 2, 6,
	    (const char *[]){ kh, ke, sold, ar->line, snew, hash }, NULL) ==
	    -1)
		audit_lost(ar, "store");
}

static void
audit_on_append(void *arg, const redisReply *reply, const char *err)
{
	struct audit_req	*ar = arg;
	char			 prev[AUDIT_HASHLEN + 1];
	uint64_t		 seq;

	if (err != NULL || reply == NULL) {
		audit_lost(ar, "store");
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
		audit_mark(ar->seq, ar->hash);
		audit_file(ar->cfg, ar->line);
		webhook_dispatch(ar->w->webhooks, ar->cfg, ar->ev.action,
		    ar->line);
		audit_req_free(ar);
		return;
	}
	if (reply->type != REDIS_REPLY_STRING || ++ar->tries > AUDIT_TRIES ||
	    audit_head_parse(reply->str, reply->len, &seq, prev) == -1) {
		audit_lost(ar, "contention");
		return;
	}
	audit_try(ar, seq, prev);	/* another instance appended first */
}

/* The reply of the check script: its head and whether the mark holds. */
static int
audit_check_reply(const redisReply *r, uint64_t *seq, char *prev,
    int *intact)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	*intact = r->element[1]->integer == 1;
	return audit_head_parse(r->element[0]->str, r->element[0]->len, seq,
	    prev);
}

static void
audit_on_head(void *arg, const redisReply *reply, const char *err)
{
	struct audit_req	*ar = arg;
	char			 prev[AUDIT_HASHLEN + 1], lost[96];
	uint64_t		 seq;
	int			 intact;

	if (err != NULL || reply == NULL) {
		audit_lost(ar, "store");
		return;
	}
	if (audit_check_reply(reply, &seq, prev, &intact) == -1) {
		audit_lost(ar, "bad_head");
		return;
	}
	if (audit_went_back(ar, seq, prev, intact, lost, sizeof(lost)) &&
	    audit_rollback(ar, seq, prev, lost) == 0)
		return;
	if (!ar->probe) {
		audit_try(ar, seq, prev);
		return;
	}
	audit_mark(seq, prev);		/* a head seen is a head to keep */
	audit_req_free(ar);
}

/* A copy of <ev> to append, or NULL. */
static struct audit_req *
audit_req_new(struct worker *w, struct config *cfg,
    const struct audit_event *ev)
{
	struct audit_req	*ar;
	const char		**dst[8];
	size_t			 i;

	if ((ar = calloc(1, sizeof(*ar))) == NULL)
		return NULL;
	ar->w = w;
	ar->cfg = config_ref(cfg);
	dst[0] = &ar->ev.action; dst[1] = &ar->ev.actor;
	dst[2] = &ar->ev.target; dst[3] = &ar->ev.org; dst[4] = &ar->ev.ip;
	dst[5] = &ar->ev.request_id; dst[6] = &ar->ev.outcome;
	dst[7] = &ar->ev.reason;
	for (i = 0; i < 8; i++) {
		if ((ar->fields[i] = strdup(i == 4 ? audit_ip(ev,
		    AUDIT_IP_GATEWAY) : audit_field(ev, i))) == NULL) {
			audit_lost(ar, "nomem");
			return NULL;
		}
		*dst[i] = ar->fields[i];
	}
	audit_time(ar->time, sizeof(ar->time));
	return ar;
}

/* Read the head and check the mark, then append (audit_on_head). */
static void
audit_start(struct audit_req *ar)
{
	struct worker	*w = ar->w;
	char		 kh[STORE_KEYLEN], ke[STORE_KEYLEN], kb[STORE_KEYLEN];
	char		 sfloor[24];

	audit_floor(ar);
	(void)snprintf(sfloor, sizeof(sfloor), "%" PRIu64, ar->floor_seq);
	if (w->store == NULL || !store_healthy(w->store) ||
	    audit_keys(store_prefix(w->store), kh, ke, sizeof(kh)) == -1 ||
	    store_layout_key(kb, sizeof(kb), store_prefix(w->store),
	    AUDIT_KEY_BASE) == -1 ||
	    store_eval(w->store, &audit_lua_check, audit_on_head, ar, 3, 5,
	    (const char *[]){ kh, ke, kb, sfloor, ar->floor_hash }, NULL) ==
	    -1)
		audit_lost(ar, "store");
}

void
audit_emit(struct worker *w, struct config *cfg, const struct audit_event *ev)
{
	struct audit_req	*ar;

	log_event(LOG_LEVEL_INFO, "audit", "action", ev->action, "actor",
	    ev->actor, "target", ev->target, "outcome", ev->outcome,
	    "request_id", ev->request_id, "client_ip", audit_ip(ev,
	    AUDIT_IP_GATEWAY), "org", ev->org != NULL && ev->org[0] != '\0' ?
	    ev->org : NULL, NULL);
	if ((ar = audit_req_new(w, cfg, ev)) != NULL)
		audit_start(ar);
}

/* The "action" of stored line <line> into <out>, or -1 if malformed. */
int
audit_line_action(const char *line, char *out, size_t size)
{
	static const char tag[] = "\",\"action\":\"";
	const char	*p, *e;

	if ((p = strstr(line, tag)) == NULL)
		return -1;
	p += sizeof(tag) - 1;
	for (e = p; (*e >= 'a' && *e <= 'z') || *e == '_'; e++)
		;
	if (*e != '"' || e == p || (size_t)(e - p) >= size)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

/*
 * The store of worker <arg> is (again) connected: read the head now (a
 * probe, no event), which records a loss at once and marks the head seen.
 */
static void
audit_on_ready(void *arg)
{
	struct worker		*w = arg;
	struct audit_req	*ar;
	struct config		*cfg;
	SSL_CTX			*ctx;

	w->srv->ops->snapshot(w->srv, &cfg, &ctx);
	SSL_CTX_free(ctx);
	ar = audit_req_new(w, cfg, &(struct audit_event){ .action =
	    "audit_probe" });
	config_unref(cfg);
	if (ar == NULL)
		return;
	ar->probe = 1;
	audit_start(ar);
}

void
audit_watch(struct worker *w)
{
	store_set_ready_cb(w->store, audit_on_ready, w);
}

/* ---- the command-line tools: synchronous ---- */

int
audit_emit_sync(struct store_sync *ss, const struct audit_event *ev)
{
	struct audit_event	 e;
	char		 kh[STORE_KEYLEN], ke[STORE_KEYLEN], err[STORE_ERRLEN];
	char		 ko[STORE_KEYLEN];
	char		 prev[AUDIT_HASHLEN + 1], hash[AUDIT_HASHLEN + 1];
	char		 time[40], line[AUDIT_LINEMAX], sold[24], snew[24];
	redisReply	*r;
	uint64_t	 seq;
	long		 len;
	int		 tries;

	e = *ev;
	e.ip = audit_ip(ev, AUDIT_IP_CLI);
	ev = &e;
	if (audit_keys(store_sync_prefix(ss), kh, ke, sizeof(kh)) == -1 ||
	    store_layout_key(ko, sizeof(ko), store_sync_prefix(ss),
	    AUDIT_KEY_OUTBOX) ==
	    -1 || (r = store_sync_command(ss, err, sizeof(err), "GET %s",
	    kh)) == NULL)
		goto lost;
	if (audit_head_parse(r->type == REDIS_REPLY_STRING ? r->str : "",
	    r->type == REDIS_REPLY_STRING ? r->len : 0, &seq, prev) == -1) {
		freeReplyObject(r);
		goto lost;
	}
	freeReplyObject(r);
	audit_time(time, sizeof(time));
	for (tries = 0; tries < AUDIT_TRIES; tries++) {
		if ((len = audit_encode(ev, seq + 1, time, prev, line,
		    sizeof(line), hash)) == -1 || audit_line(line, len,
		    sizeof(line), hash) == -1)
			goto lost;
		(void)snprintf(sold, sizeof(sold), "%" PRIu64, seq);
		(void)snprintf(snew, sizeof(snew), "%" PRIu64, seq + 1);
		if ((r = store_sync_eval(ss, &audit_lua_append_outbox, err,
		    sizeof(err), 3, 9, (const char *[]){ kh, ke, ko, sold,
		    line, snew, hash, AUDIT_OUTBOX_MAX, AUDIT_OUTBOX_TTL },
		    NULL)) == NULL)
			goto lost;
		if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
			freeReplyObject(r);
			return 0;
		}
		if (r->type != REDIS_REPLY_STRING || audit_head_parse(r->str,
		    r->len, &seq, prev) == -1) {
			freeReplyObject(r);
			goto lost;
		}
		freeReplyObject(r);
	}
lost:
	log_event(LOG_LEVEL_ERROR, "audit", "outcome", "lost", "action",
	    ev->action, NULL);
	return -1;
}

int
audit_checkpoint_mac(const struct config *cfg, uint64_t seq,
    const char *hash, char *hex)
{
	unsigned char	key[SECRET_KEY_LEN], md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		msg[96];

	if (cfg->keys == NULL || secret_derive(cfg->keys->token,
	    SECRET_KEY_LEN, "postern audit checkpoint v1", key) == -1)
		return -1;
	(void)snprintf(msg, sizeof(msg), "%" PRIu64 " %s", seq, hash);
	(void)HMAC(EVP_sha256(), key, sizeof(key), (unsigned char *)msg,
	    strlen(msg), md, &mdlen);
	OPENSSL_cleanse(key, sizeof(key));
	encode_hex(md, mdlen, hex);
	return 0;
}

int
audit_trim_sync(struct store_sync *ss, const char *const keys[3],
    uint64_t drop, uint64_t base, const char *checkpoint, char *err,
    size_t errlen)
{
	char		 sdrop[24], sbase[24];
	redisReply	*r;

	(void)snprintf(sdrop, sizeof(sdrop), "%" PRIu64, drop);
	(void)snprintf(sbase, sizeof(sbase), "%" PRIu64, base);
	if ((r = store_sync_eval(ss, &audit_lua_trim, err, errlen, 3, 6,
	    (const char *[]){ keys[0], keys[1], keys[2], sdrop, sbase,
	    checkpoint }, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
