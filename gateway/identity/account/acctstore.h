/*
 * What the account pages keep in Redis, beside user.h's layout:
 *
 *   user:<id>            hash   + totp (sealed TOTP seed, totp.h), totp_step
 *                               (last accepted time step: replay guard),
 *                               totp_pending (sealed seed being enrolled)
 *   user:<id>:backup     set    hex SHA-256 of each unused backup code
 *   user:<id>:mfa_fail   string wrong second-factor codes in the window
 *   otk:<kind>:<sha256>  string user id (a magic link: then ":" and the
 *                               hex SHA-256 of the browser's binding
 *                               cookie); a one-time token (magic link,
 *                               password reset) under the SHA-256 of the
 *                               token, consumed with GETDEL, with a TTL
 *   otk:<kind>:user:<id> string the SHA-256 of <id>'s newest token of the
 *                               kind: making one deletes the one before
 *
 * Every operation is one command or one Lua script (never half done), runs
 * on the worker's asynchronous store, and hands the raw reply to the
 * caller's store_cb (contract of store_eval(): 0 and the callback runs
 * once, or -1 and it does not).
 */
#ifndef POSTERN_ACCTSTORE_H
#define POSTERN_ACCTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * The key layout of one-time tokens (docs/redis.md): a token by the
 * SHA-256 of its secret, and the user's newest token of its kind.  <kind>
 * is "magic" or "reset", the first label after "otk:".
 */
#define ACCTSTORE_KEY_OTK	STORE_LAYOUT("otk:<kind>:<sha256>")
#define ACCTSTORE_KEY_OTK_USER	STORE_LAYOUT("otk:<kind>:user:<id>")
/*
 * The key layout of the second factor, besides the totp fields of the user
 * hash: the unused backup codes and the count of wrong codes in the last
 * ACCTSTORE_FAIL_WINDOW seconds.
 */
#define ACCTSTORE_KEY_BACKUP	STORE_LAYOUT("user:<id>:backup")
#define ACCTSTORE_KEY_MFA_FAIL	STORE_LAYOUT("user:<id>:mfa_fail")

/*
 * Lua for a STORE_LAYOUT_SCRIPT: drop_links(id) deletes the user's
 * outstanding emailed sign-in and reset links (ACCTSTORE_KEY_OTK_USER
 * names the one of each kind, see acctstore_otk_put).  Run with every
 * password change and session revocation: a link mailed before them never
 * signs anyone in after.
 */
#define ACCTSTORE_LUA_DROP_LINKS					\
	"local function drop_links(id)\n"				\
	"  for _, k in ipairs({'magic', 'reset'}) do\n"		\
	"    local u = key('" ACCTSTORE_KEY_OTK_USER "', k, id)\n"	\
	"    local h = redis.call('GET', u)\n"				\
	"    if h then redis.call('DEL', key('" ACCTSTORE_KEY_OTK "', k, h))"\
	" end\n"							\
	"    redis.call('DEL', u)\n"					\
	"  end\n"							\
	"end\n"

#define ACCTSTORE_BACKUP_CODES	10
#define ACCTSTORE_FAIL_WINDOW	900	/* seconds */

/* {totp, totp_pending, totp_step, failures} (strings; "" when unset). */
int	acctstore_mfa_load(struct store *st, const char *user, store_cb cb,
	    void *arg);
/*
 * A code of time step <step> was right: 1 and the step is recorded (the
 * failure count cleared), or 0 if a step >= <step> was already used.
 */
int	acctstore_mfa_accept(struct store *st, const char *user, int64_t step,
	    store_cb cb, void *arg);
/* Count one wrong code; the reply is the count within the window. */
int	acctstore_mfa_failed(struct store *st, const char *user, store_cb cb,
	    void *arg);
/* Use the backup code hashing to <hash>: 1 used, 0 not (or used before). */
int	acctstore_backup_use(struct store *st, const char *user,
	    const char *hash, store_cb cb, void *arg);
/* Start enrolling with the sealed seed <sealed>: 1. */
int	acctstore_enroll_start(struct store *st, const char *user,
	    const char *sealed, store_cb cb, void *arg);
/*
 * Finish enrolling <sealed> (it must still be the pending seed) at step
 * <step>, replacing the backup codes by <hashes>: 1, or 0 if another
 * enrolment replaced it meanwhile.
 */
int	acctstore_enroll_finish(struct store *st, const char *user,
	    const char *sealed, int64_t step,
	    char hashes[ACCTSTORE_BACKUP_CODES][65], store_cb cb, void *arg);
/* Replace the backup codes (user enrolled): 1, or 0 if not enrolled. */
int	acctstore_backup_replace(struct store *st, const char *user,
	    char hashes[ACCTSTORE_BACKUP_CODES][65], store_cb cb, void *arg);
/* 1 if each of the <n> (1 to ACCTSTORE_BACKUP_CODES) hashes is one of
 * <user>'s unused backup codes, else 0. */
int	acctstore_backup_known(struct store *st, const char *user,
	    char hashes[][65], int n, store_cb cb, void *arg);
/* Remove the second factor and its backup codes: 1. */
int	acctstore_mfa_disable(struct store *st, const char *user, store_cb cb,
	    void *arg);
/*
 * The user's sessions: a flat array {hash, created, last_seen, method,
 * mfa, ip, ua, ...} (ACCTSTORE_SESSION_FIELDS a session; ip and ua ""
 * for a session made before they were kept), dropping index entries
 * whose session expired.
 */
#define ACCTSTORE_SESSION_FIELDS	7
int	acctstore_sessions(struct store *st, const char *user, store_cb cb,
	    void *arg);
/* Delete session <hash> if it is one of <user>'s: 1, or 0. */
int	acctstore_session_revoke(struct store *st, const char *user,
	    const char *hash, store_cb cb, void *arg);
/* {password (PHC), disabled, email} of user <id>; nil if none. */
int	acctstore_user(struct store *st, const char *user, store_cb cb,
	    void *arg);
/*
 * Set <user>'s password hash to <phc> if it is still <old> ("" skips the
 * check) and delete every session of the user except <keep> ("" for none):
 * the number of sessions deleted, or -1 if the hash changed meanwhile or
 * the user is gone.
 */
int	acctstore_set_password(struct store *st, const char *user,
	    const char *old, const char *phc, const char *keep, int64_t now,
	    store_cb cb, void *arg);
/*
 * Store one-time token <hash> of <kind> for <user> with <value> (the user
 * id, maybe followed by what binds the token), for <ttl_s>, and delete
 * <user>'s earlier token of that kind in the same script: 1.
 */
int	acctstore_otk_put(struct store *st, const char *kind, const char *hash,
	    const char *user, const char *value, uint64_t ttl_s, store_cb cb,
	    void *arg);
/*
 * The script behind acctstore_otk_put(), for the synchronous store of the
 * command-line tools (`postern user invite`).  KEYS: the token, the
 * user's current token of the kind.  ARGV: prefix, value, ttl (s), kind,
 * hash.
 */
extern struct store_script acctstore_lua_otk_put;
/* The script behind acctstore_sessions(), for `postern user show`.  KEYS:
 * the user's session index.  ARGV: prefix. */
extern struct store_script acctstore_lua_sessions;
/* The value of token <hash>, consumed (GETDEL) or only read; nil. */
int	acctstore_otk_take(struct store *st, const char *kind,
	    const char *hash, int consume, store_cb cb, void *arg);
/* {disabled, email, has a second factor, org slug, ...} of <user>; nil. */
int	acctstore_user_brief(struct store *st, const char *user, store_cb cb,
	    void *arg);
/* 1 if org <slug> exists, else 0. */
int	acctstore_org_exists(struct store *st, const char *slug, store_cb cb,
	    void *arg);
/* The user id of lower-cased <email>, or nil. */
int	acctstore_user_by_email(struct store *st, const char *email,
	    store_cb cb, void *arg);

#endif
