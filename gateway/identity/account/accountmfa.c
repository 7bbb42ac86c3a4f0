/*
 * The second factor on the account pages (see account.h, account-int.h):
 * checking a TOTP code or a backup code, counting wrong ones, enrolling a
 * new seed with its backup codes, and raising the session once passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "account.h"
#include "account-int.h"
#include "auth-int.h"
#include "client.h"
#include "config.h"
#include "log.h"
#include "secret.h"
#include "store.h"
#include "worker.h"

/* ---- steps ---- */


/* End a step with its own page again (the overview's steps: overview). */
void
acct_end_step(struct auth_step *chk, int status, const char *reason)
{
	const struct acct_route *r = acct_of(chk)->route;

	if (r->back != NULL && strcmp(r->back, "/.postern/account") == 0)
		acct_home_page(chk, status, reason);
	else
		acct_end_page(chk, status, reason);
}

/* Too many wrong codes or passwords in the window: 429 until it ends. */
static void
acct_locked(struct auth_step *chk)
{
	acct_of(chk)->error = "Too many wrong attempts. Wait 15 minutes, "
	    "then try again.";
	metrics_inc(&chk->ex->w->metrics.auth[METRICS_MFA_LOCKED]);
	acct_end_step(chk, 429, "mfa_locked");
}

static void	acct_on_mfa(void *, const redisReply *, const char *);
static void	acct_on_elevated(void *, enum session_status);

/* A wrong code or password: count it, then answer <msg>. */
static void
acct_on_failed(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	log_event(LOG_LEVEL_WARN, "mfa", "outcome", "failure", "user",
	    a->s.user, "request_id", ex->request_id, "client_ip", ex->peer,
	    NULL);
	if (reply->type == REDIS_REPLY_INTEGER &&
	    (uint64_t)reply->integer >= ex->cfg->mfa_max_failures)
		acct_locked(chk);
	else {
		metrics_inc(&ex->w->metrics.auth[METRICS_MFA_WRONG]);
		acct_end_step(chk, 401, "mfa_wrong");
	}
}

void
acct_fail(struct auth_step *chk, const char *msg)
{
	struct acct	*a = acct_of(chk);

	a->error = msg;
	if (acctstore_mfa_failed(chk->st, a->s.user, acct_on_failed, chk) ==
	    -1) {
		auth_step_unavailable(chk);
	}
}


void
acct_elevate(struct auth_step *chk, int mfa, int64_t auth_time)
{
	struct acct	*a = acct_of(chk);

	if (session_new_id(a->newsid, sizeof(a->newsid)) == -1 ||
	    session_rotate(chk->st, a->s.hash, a->newsid, mfa, auth_time,
	    acct_on_elevated, chk) == -1)
		auth_step_unavailable(chk);
}

/* Open the stored seed <sealed> of <a>'s user into <key>. */
static int
acct_open(const struct exchange *ex, const struct acct *a, const char *sealed,
    unsigned char *key, size_t size, size_t *len)
{
	const struct config *cfg = ex->cfg;
	size_t		 i;

	if (totp_open(cfg->keys->totp, a->s.user, sealed, key, size, len) == 0)
		return 0;
	for (i = 0; i < cfg->nprev_keys; i++)	/* sealed before a rotation */
		if (totp_open(cfg->prev_keys[i].totp, a->s.user, sealed, key,
		    size, len) == 0)
			return 0;
	return -1;
}

static void
acct_on_accept(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct acct		*a = acct_of(chk);

	if (auth_step_reply(chk, reply, err) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		acct_fail(chk, "That code was already used. Wait for the "
		    "next one.");
		return;
	}
	switch (a->route->step) {
	case ACCT_REAUTH_POST:
		acct_elevate(chk, 1, acct_now());
		break;
	case ACCT_DISABLE_POST:
		if (acctstore_mfa_disable(chk->st, a->s.user, acct_on_mfa,
		    chk) == -1)
			auth_step_unavailable(chk);
		break;
	default:
		acct_elevate(chk, 1, 0);
		break;
	}
}

/* Check <a>->code against the seed <sealed>; go on or count a failure. */
static void
acct_check_code(struct exchange *ex, struct auth_step *chk,
    const char *sealed, int64_t last_step)
{
	struct acct	*a = acct_of(chk);
	unsigned char	 key[TOTP_SECRET_MAX];
	size_t		 len;
	int64_t		 step;
	int		 ok;

	ok = acct_open(ex, a, sealed, key, sizeof(key), &len) == 0 ?
	    totp_verify(key, len, a->code, acct_now(), last_step, &step) : -1;
	OPENSSL_cleanse(key, sizeof(key));
	if (ok != 0) {
		acct_fail(chk, ok == -2 ? "That code was already used. Wait "
		    "for the next one." : "That code is not right. Check the "
		    "time on your device and try the current code.");
		return;
	}
	a->last_step = step;
	if (acctstore_mfa_accept(chk->st, a->s.user, step, acct_on_accept,
	    chk) == -1)
		auth_step_unavailable(chk);
}

static void
acct_on_backup_used(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		acct_fail(chk, "That backup code is not right or was already "
		    "used.");
		return;
	}
	auth_audit(ex, "backup_code_used", a->s.user, a->s.user, 1, NULL);
	acct_elevate(chk, 1, 0);
}

void
acct_on_enrolled(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		a->ncodes = 0;
		a->error = "The setup was replaced by another one. Start "
		    "again.";
		acct_end_redirect(chk, "/.postern/2fa/setup");
		return;
	}
	auth_audit(ex, a->route->step == ACCT_BACKUP_POST ?
	    "backup_codes_renewed" : "mfa_enrolled", a->s.user, a->s.user, 1,
	    NULL);
	auth_notify_change(ex, a->s.email, a->route->step ==
	    ACCT_BACKUP_POST ? "New backup codes were made for your account; "
	    "the old ones no longer work." : "Two-step verification was "
	    "turned on for your account.");
	if (a->route->step == ACCT_BACKUP_POST)
		acct_end_page(chk, 200, NULL);
	else
		acct_elevate(chk, 1, 0);
}

/* New backup codes into <a> and their hashes into <hashes>. */
int
acct_new_codes(struct acct *a, char hashes[ACCTSTORE_BACKUP_CODES][65])
{
	char	norm[BACKUP_CODE_LEN + 1];
	int	i;

	if (backup_generate(a->codes) == -1)
		return -1;
	for (i = 0; i < BACKUP_CODES; i++) {
		if (backup_normalize(a->codes[i], norm, sizeof(norm)) == -1)
			return -1;
		backup_hash(norm, hashes[i]);
	}
	OPENSSL_cleanse(norm, sizeof(norm));
	a->ncodes = BACKUP_CODES;
	return 0;
}

/* Rebuild the QR payload and typed key of seed <sealed> into <a>. */
int
acct_show_seed(const struct exchange *ex, struct acct *a, const char *sealed)
{
	unsigned char	key[TOTP_SECRET_MAX];
	size_t		len;
	int		rc = -1;

	if (acct_open(ex, a, sealed, key, sizeof(key), &len) == 0 &&
	    totp_base32(key, len, a->b32, sizeof(a->b32)) == 0 &&
	    totp_uri(ex->cfg->brand_product, a->s.email, a->b32, a->uri,
	    sizeof(a->uri)) == 0)
		rc = 0;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

static void
acct_setup_confirm(struct exchange *ex, struct auth_step *chk)
{
	struct acct	*a = acct_of(chk);
	unsigned char	 key[TOTP_SECRET_MAX];
	char		 hashes[ACCTSTORE_BACKUP_CODES][65];
	size_t		 len;
	int64_t		 step;
	int		 ok;

	if (a->pending[0] == '\0') {
		acct_end_redirect(chk, "/.postern/2fa/setup");
		return;
	}
	ok = acct_open(ex, a, a->pending, key, sizeof(key), &len) == 0 &&
	    totp_verify(key, len, a->code, acct_now(), -1, &step) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		if (acct_show_seed(ex, a, a->pending) == -1) {
			auth_step_unavailable(chk);
			return;
		}
		acct_fail(chk, "That code is not right. Enter the code your "
		    "app shows now.");
		return;
	}
	if (acct_new_codes(a, hashes) == -1 ||
	    acctstore_enroll_finish(chk->st, a->s.user, a->pending, step,
	    hashes, acct_on_enrolled, chk) == -1)
		auth_step_unavailable(chk);
	OPENSSL_cleanse(hashes, sizeof(hashes));
}

/* The user's second-factor state arrived: go on by step. */
static void
acct_on_mfa(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex;
	struct acct		*a = acct_of(chk);
	char			 norm[BACKUP_CODE_LEN + 1], hash[65];

	if ((ex = auth_step_reply(chk, reply, err)) == NULL)
		return;
	if (a->route->step == ACCT_DISABLE_POST &&
	    reply->type == REDIS_REPLY_INTEGER) {	/* the disable itself */
		auth_audit(ex, "mfa_disabled", a->s.user, a->s.user, 1,
		    NULL);
		auth_notify_change(ex, a->s.email, "Two-step verification "
		    "was turned off for your account.");
		a->s.mfa_enrolled = 0;
		a->notice = "Two-step verification is off.";
		acct_end_redirect(chk, "/.postern/account");
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
		auth_step_unavailable(chk);
		return;
	}
	(void)snprintf(a->sealed, sizeof(a->sealed), "%s",
	    reply->element[0]->str);
	(void)snprintf(a->pending, sizeof(a->pending), "%s",
	    reply->element[1]->str);
	a->last_step = reply->element[2]->len > 0 ?
	    strtoll(reply->element[2]->str, NULL, 10) : -1;
	a->failures = strtol(reply->element[3]->str, NULL, 10);
	if ((uint64_t)a->failures >= ex->cfg->mfa_max_failures) {
		acct_locked(chk);
		return;
	}
	if (a->route->step == ACCT_SETUP_POST) {
		acct_setup_confirm(ex, chk);
		return;
	}
	if (a->sealed[0] == '\0') {	/* disabled meanwhile */
		acct_end_redirect(chk, a->rd);
		return;
	}
	if (a->route->step == ACCT_2FA_POST && a->backup[0] != '\0') {
		if (backup_normalize(a->backup, norm, sizeof(norm)) == -1) {
			acct_fail(chk, "That backup code is not right or was "
			    "already used.");
			return;
		}
		backup_hash(norm, hash);
		OPENSSL_cleanse(norm, sizeof(norm));
		if (acctstore_backup_use(chk->st, a->s.user, hash,
		    acct_on_backup_used, chk) == -1)
			auth_step_unavailable(chk);
		return;
	}
	acct_check_code(ex, chk, a->sealed, a->last_step);
}

void
acct_load_mfa(struct auth_step *chk)
{
	if (acctstore_mfa_load(chk->st, acct_of(chk)->s.user, acct_on_mfa,
	    chk) == -1)
		auth_step_unavailable(chk);
}

static void
acct_on_elevated(void *arg, enum session_status status)
{
	struct auth_step	*chk = arg;
	struct exchange		*ex = chk->ex;
	struct acct		*a = acct_of(chk);

	if (ex == NULL || status != SESSION_OK) {
		if ((ex = auth_step_done(chk)) != NULL)
			auth_send_to(ex, "/.postern/login",
			    "unauthenticated",
			    "Bearer realm=\"postern\"", "", "session_gone");
		return;
	}
	a->rotated = 1;		/* every answer from here sets the new id */
	session_hash(a->newsid, a->s.hash);
	log_event(LOG_LEVEL_INFO, "session", "outcome", "rotated", "user",
	    a->s.user, "step", a->route->path, "request_id", ex->request_id,
	    NULL);
	if (a->route->step == ACCT_PASSWORD_POST) {
		acct_home_page(chk, 200, NULL);
		return;
	}
	metrics_inc(&ex->w->metrics.auth[METRICS_MFA_OK]);
	log_event(LOG_LEVEL_INFO, "mfa", "outcome", "success", "user",
	    a->s.user, "step", a->route->path, "request_id", ex->request_id,
	    "client_ip", ex->peer, NULL);
	if (a->ncodes > 0)		/* enrolled: show the codes once */
		acct_end_page(chk, 200, NULL);
	else
		acct_end_redirect(chk, a->rd);
}

/* ---- setup ---- */

static void
acct_on_enroll_started(void *arg, const redisReply *reply, const char *err)
{
	struct auth_step	*chk = arg;

	if (auth_step_reply(chk, reply, err) == NULL)
		return;
	acct_end_page(chk, 200, NULL);
}

/* A new seed, sealed for the user, pending until its first code. */
void
acct_setup_start(struct exchange *ex, struct auth_step *chk)
{
	struct acct	*a = acct_of(chk);
	unsigned char	 key[TOTP_SECRET_LEN];
	int		 ok;

	ok = totp_new_secret(key) == 0 && totp_seal(ex->cfg->keys->totp,
	    a->s.user, key, sizeof(key), a->pending, sizeof(a->pending)) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok || acct_show_seed(ex, a, a->pending) == -1 ||
	    acctstore_enroll_start(chk->st, a->s.user, a->pending,
	    acct_on_enroll_started, chk) == -1)
		auth_step_unavailable(chk);
}
