/*
 * The audit trail: every security-relevant action as one event in a
 * hash chain shared by every gateway instance (Redis), also written as a
 * JSON line to a local file for shipping.  docs/audit.md is the reference
 * (actions, the canonical encoding, verification).
 *
 * An event's canonical encoding is the JSON object of its fields in the
 * fixed order seq, time, action, actor, target, org, ip, request_id,
 * outcome, reason, prev — every value a JSON string, no whitespace — and
 * its hash is the hex SHA-256 of that text.  <prev> is the hash of the
 * event before it ("0" x 64 for the first), so changing, removing or
 * reordering any event breaks every link after it.
 *
 * Appending: read the head (seq, hash), build and hash the next event here
 * (Redis' Lua has no SHA-256), then a script appends it only if the head
 * is still the one read (compare-and-append), else the event is rebuilt
 * on the new head and tried again.
 */
#ifndef POSTERN_AUDIT_H
#define POSTERN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct config;
struct store_sync;
struct worker;

#define AUDIT_HASHLEN	64
/*
 * The audit trail's key layout (docs/redis.md, docs/audit.md): the events,
 * the last event's "seq hash", the first kept seq, the signed checkpoint
 * of the last trimmed event, and the command-line tools' outbox.  Shared
 * by the trail and the `postern audit` commands (cli/auditcmd.c).
 */
#define AUDIT_KEY_EVENTS	STORE_LAYOUT("audit:events")
#define AUDIT_KEY_HEAD		STORE_LAYOUT("audit:head")
#define AUDIT_KEY_BASE		STORE_LAYOUT("audit:base")
#define AUDIT_KEY_CHECKPOINT	STORE_LAYOUT("audit:checkpoint")
#define AUDIT_KEY_OUTBOX	STORE_LAYOUT("audit:outbox")

#define AUDIT_LINEMAX	4096	/* a stored line, at the most */
/* The <prev> of the first event. */
#define AUDIT_ZERO	"0000000000000000000000000000000000000000000000000000000000000000"

/*
 * The "ip" of events no client caused: made by the command-line tools, or
 * by the gateway itself (certificates, a rollback marker).
 */
#define AUDIT_IP_CLI		"cli"
#define AUDIT_IP_GATEWAY	"gateway"

/* What happened; NULL fields are recorded as "" (ip: see above). */
struct audit_event {
	const char	*action;	/* docs/audit.md lists them */
	const char	*actor;		/* user id, pk_<id>, ps_<id>, operator */
	const char	*target;	/* what it was done to */
	const char	*org;
	const char	*ip;
	const char	*request_id;
	const char	*outcome;	/* "success" or "failure" */
	const char	*reason;
};

/*
 * Append <ev> from the request path: asynchronous, never blocks; a failure
 * is logged (event "audit", outcome "lost") and counted, never fatal.
 */
void	audit_emit(struct worker *w, struct config *cfg,
	    const struct audit_event *ev);
/*
 * Each time worker <w>'s store connects (the first time, after a restart
 * of Redis, on a new primary), read the trail's head at once: a head
 * behind the events this process appended or saw, or a stored event that
 * is no longer the one it knows, is recorded as an audit_rollback event
 * before anything else is appended (docs/audit.md).  Call after
 * store_new().
 */
void	audit_watch(struct worker *w);
/*
 * 1 if head (<seq>, <hash>) is behind the mark (<mseq>, <mhash>): a lower
 * seq, or the same (not 0) with another hash.  Else 0.
 */
int	audit_behind(uint64_t mseq, const char *mhash, uint64_t seq,
	    const char *hash);
/*
 * The same for the command-line tools (synchronous; also queued in the
 * outbox for a gateway's webhooks); 0, or -1 with a message logged.
 */
int	audit_emit_sync(struct store_sync *ss, const struct audit_event *ev);

/* The "action" of stored line <line> into <out>; 0, or -1 if malformed. */
int	audit_line_action(const char *line, char *out, size_t size);

/*
 * The canonical encoding of the event with <seq>, <time> and <prev> into
 * <out> (NUL-terminated) and its hash into <hash>; the length, or -1 if it
 * does not fit.
 */
long	audit_encode(const struct audit_event *ev, uint64_t seq,
	    const char *time, const char *prev, char *out, size_t size,
	    char *hash);

/*
 * Check stored event <line> (canonical encoding plus ,"hash":"...") as
 * number <seq> after <prev>: 0 and its hash into <hash>, or -1 with the
 * reason in <why>.
 */
int	audit_check_line(const char *line, uint64_t seq, const char *prev,
	    char *hash, const char **why);

/*
 * The signature of the checkpoint "<seq> <hash>" that stands for the
 * events trimmed off the start: hex HMAC-SHA-256 (key derived from the
 * gateway secret) into <hex> (2 * EVP_MAX_MD_SIZE + 1 bytes).  0, or -1
 * without a secret_file.
 */
int	audit_checkpoint_mac(const struct config *cfg, uint64_t seq,
	    const char *hash, char *hex);

/*
 * Trim the trail at once: drop the first <drop> stored lines of list
 * <keys>[0], set <keys>[1] (the first seq kept) to <base> and <keys>[2] to
 * <checkpoint>.  0, or -1 with the reason in <err>.
 */
int	audit_trim_sync(struct store_sync *ss, const char *const keys[3],
	    uint64_t drop, uint64_t base, const char *checkpoint, char *err,
	    size_t errlen);

#endif
