/*
 * What auth.c shares with authgrant.c (API keys and share links on the
 * request path) and the other identity flows: the helpers a flow's
 * pending steps use (step.h: the record a client points at), the
 * identity a request carries upstream, and the answers they give.
 * Internal to identity/.
 */
#ifndef POSTERN_AUTH_INT_H
#define POSTERN_AUTH_INT_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "decide.h"
#include "grant.h"
#include "hashpool.h"
#include "password.h"
#include "ratelimit.h"
#include "redirect.h"
#include "session.h"
#include "step.h"
#include "user.h"

struct assertion_claims;
struct exchange;
struct config;
struct decision;
struct evbuffer;
struct form;
struct loginpage;
struct pages_resp;
struct ratelimit_class;
struct session_limits;
struct store;

/* What a session lookup (auth_lookup()) is for. */
enum auth_kind {
	AUTH_LOOKUP = 0,	/* a protected request's session */
	AUTH_SIGNED_IN,		/* GET /.postern/login with a session */
};

/*
 * A rate-limit count a flow waits for (auth_rate()): part of the flow's
 * state, pointing at its step record.  <email> and <rd> are what a refused
 * sign-in ("login" class) names and goes back to; NULL for other flows.
 */
struct auth_rate {
	struct auth_step *step;
	const struct ratelimit_class *rl;	/* the class */
	struct ratelimit_shed_id key;	/* its local memory */
	uint64_t	 sent;		/* ms (monotonic): asked Redis */
	const char	*email;
	const char	*rd;
};

/*
 * A password checked against a stored hash on a hashing thread
 * (auth_pwcheck_run()); part of a flow's state.
 */
struct auth_pwcheck {
	char		 phc[PASSWORD_HASHLEN];
	int		 usable;	/* user found and enabled */
	char		*password;	/* owned copy; auth_pwcheck_clear() */
	size_t		 pwlen;
	enum password_result result;
	struct password_params params;	/* cost of new hashes */
	char		 rehash[PASSWORD_HASHLEN]; /* "" unless upgraded */
};

/*
 * A new password hashed on a hashing thread (auth_pwnew_run()); part of
 * a flow's state.
 */
struct auth_pwnew {
	struct password_params params;
	char		*pw;		/* owned copy; auth_pwnew_clear() */
	size_t		 len;
	char		 phc[PASSWORD_HASHLEN];	/* its hash, "" on failure */
};

/* Who made the request being forwarded (ex->ident); per request. */
struct auth_ident {
	enum decide_kind	 kind;	/* SESSION, APIKEY or SHARE */
	struct session		 s;	/* DECIDE_SESSION */
	struct grant		 g;	/* DECIDE_APIKEY, DECIDE_SHARE */
};
/*
 * An identity for <ex>'s request to fill (the one of an ended request of
 * the worker's, or a new one; its contents are undefined: set <kind> and
 * the member it names), which exchange_reset() gives back.  NULL on out
 * of memory.
 */
struct auth_ident *auth_ident_new(struct exchange *ex);

#define AUTH_SCOPE_MAX	300
/*
 * The scope of a session made or used on <ex>'s host into <out>
 * (AUTH_SCOPE_MAX): "domain:<d>" when the shared cookie domain covers the
 * host, else "app:<name>" of the host's app, else "host:<host>".  A
 * session is valid only in the scope it was created in.
 */
void		 auth_scope(const struct exchange *ex, char *out, size_t size);
/*
 * In a store callback of step <s>: the client to answer, or NULL when the
 * chain ends here (the client closed, or Redis failed and 503 was sent;
 * the flow's state is freed either way).
 */
struct exchange	*auth_step_reply(struct auth_step *s, const redisReply *,
		    const char *err);
/* End <s>'s chain with 503 (if its client is still there). */
void		 auth_step_unavailable(struct auth_step *s);
/*
 * Count the request of <r>'s step <s> in rate-limit class <name> (by
 * client address, and by <account> if the class keeps accounts; <account>
 * may be NULL), then go on with <next>(s) (as s->next, run once by
 * auth_step_resume(), so a client gone meanwhile only frees the state);
 * <r> lives in the flow's state
 * (its <email> and <rd> set by a sign-in first).  Over the limit the
 * client gets 429 and the chain ends; Redis down: <next> if the class
 * fails open, else 503.  A class the configuration does not have limits
 * nothing: <next> at once.
 */
void		 auth_rate(struct auth_rate *r, struct auth_step *s,
		    const char *name, const char *account, auth_step_fn next);
/*
 * An audit event of <ex>'s request (its address and request id added):
 * <action> by <actor> on <target>, "success" or "failure" for <reason>.
 */
void		 auth_audit(struct exchange *, const char *action,
		    const char *actor, const char *target, int ok,
		    const char *reason);
/*
 * Where links mailed about <ex>'s request point, into <out>: the
 * request's host name (lower-case) with the port of the gateway's first
 * TLS listener (none for 443) -- never the port of the request's Host
 * header.  0 if an app has that host by name; 1 if only an app's
 * "{org}.rest" pattern has it, with the label in <org> (ORG_SLUGMAX + 1
 * bytes): the caller must check that it is an existing org before
 * trusting the host; -1 if neither ("*.rest" wildcards match any label,
 * which a link must not trust).
 */
#define AUTH_ORG_SLUGMAX	63
int		 auth_link_host(struct exchange *, char *out, size_t size,
		    char *org);
/*
 * Answer a sign-in refused by the "login" rate limit with the sign-in page
 * (429, Retry-After from <retry_ms>): it says when to try again and offers
 * the ways in that need no password (an emailed link, a reset) when mail
 * is configured.
 */
void		 auth_login_locked(struct exchange *, const char *rd,
		    const char *email, uint64_t retry_ms);
/*
 * Tell <email> by mail that <change> (e.g. "Your password was changed")
 * happened to their account: when, from which address, and where to reset
 * the password if it was not them.  Nothing when mail is not configured or
 * account.notify_changes is off; a failure is logged, never shown.
 */
void		 auth_notify_change(struct exchange *, const char *email,
		    const char *change);
/*
 * Hand step <s> to the password-hash pool: <work>(s) runs on a hashing
 * thread, then <done>(s) on the worker, owning the flow's state.  A full
 * queue ends the chain here: the state is freed and its request answered
 * 503 (hash_queue_full).
 */
void		 auth_hash(struct auth_step *s, hashpool_work_fn work,
		    hashpool_done_fn done);
/* On a hashing thread: <n>'s pw into its phc ("" on failure), pw wiped. */
void		 auth_pwnew_run(struct auth_pwnew *n);
/* Wipe and free what <n> owns. */
void		 auth_pwnew_clear(struct auth_pwnew *n);
/*
 * On a hashing thread: <c>'s password against its phc (a dummy hash when
 * not usable, so unknown users take as long) into result; an outdated
 * hash of a good password is redone into rehash.  The password is wiped.
 */
void		 auth_pwcheck_run(struct auth_pwcheck *c);
/* Wipe and free what <c> owns. */
void		 auth_pwcheck_clear(struct auth_pwcheck *c);
/*
 * Set <ex>'s assertion (ex->up) for its request with claims <c>, signed
 * for its app now; with <hash> (a session's) and reuse allowed
 * (assertion.per_request off), the one signed for the same session, app,
 * org, role and key within the first assertion.reuse_percent of its
 * lifetime instead, kept in the worker's session cache.  0, or -1 when
 * there is no signer or signing failed.
 */
int		 auth_assertion(struct exchange *ex,
		    const struct assertion_claims *c, const char *hash);
/* Answer with <r>, logging <reason> (NULL for a normal answer). */
void		 auth_answer(struct exchange *, struct pages_resp *r,
		    const char *reason);
/*
 * A route that needs an identity, reached over plain HTTP: 403 without
 * looking at any credential or pointing at a sign-in page in clear.
 */
void		 auth_https_required(struct exchange *);
/*
 * Nobody is signed in: browsers go to the sign-in page, everyone else
 * gets 401; <stale> clears a cookie that named no valid session.
 */
void		 auth_unauthenticated(struct exchange *, int stale);
/* The session cookie's name: the shared one when a cookie domain is set. */
const char	*auth_cookie_name(const struct config *);
/* Answer 503: the store is down (fail closed). */
void		 auth_unavailable(struct exchange *);
/* Answer a verdict other than ALLOW; <id> (or NULL) is who was refused. */
void		 auth_refuse(struct exchange *, const struct decision *,
		    const struct decide_identity *);
/*
 * If <d> is a DENY for identity <id>, keep its user and deciding rule for
 * the reject line (copied: call it while <id>'s strings live).
 */
void		 auth_note_deny(struct exchange *, const struct decision *d,
		    const struct decide_identity *id);
/* decide() for the current request of <ex> by <id>. */
enum decide_verdict auth_decide_as(struct exchange *,
		    const struct decide_identity *, struct decision *);
/*
 * Decide again with the identity in <ident> (moved to the client, or
 * freed): ALLOW forwards with it, anything else is answered.
 */
void		 auth_decide_ident(struct exchange *, struct auth_ident *);
/* <id> for grant <g> (borrowed: keep <g> and <scopes> alive). */
void		 auth_identity_grant(struct decide_identity *id,
		    const struct grant *g, const char **scopes);

/* Renders a page body given its fields; 0 or -1. */
typedef int	(*auth_render_fn)(struct evbuffer *, const struct loginpage *,
		    void *ctx);
/*
 * Answer with a gateway page: <render> fills the body; the CSRF token
 * (and its cookie), nonce and branding are set here.  <extra> are more
 * header lines; <reason> is logged for failures.
 */
void		 auth_page_ctx(struct exchange *, int status, struct loginpage *,
		    auth_render_fn render, void *ctx, const char *extra,
		    const char *reason);
/* Is this form post from our own page?  Origin/Referer and CSRF token. */
int		 auth_form_genuine(struct exchange *, const struct form *);
/* The checked "rd" of a query string or form value, "/" by default. */
void		 auth_rd(struct exchange *, const char *value, char *out,
		    size_t outlen);
/*
 * Before step <s>'s chain can follow <rd> (a buffer checked by auth_rd(),
 * living as long as the flow's state): if its host names an org through an
 * app's "{org}.x" hosts, ask Redis whether that org exists; if not, or if
 * Redis cannot say, <rd> becomes "/" (logged as open_redirect).  Then
 * next(s) (as s->next, through auth_step_resume()), with s->ex set; if
 * the client closed meanwhile, the state is freed instead.  Never
 * blocks: the question is one EXISTS on the worker's store.
 */
void		 auth_rd_verify(struct auth_step *s, char *rd,
		    auth_step_fn next);
/* The session cookie's value into <id>; 1 if it has the right shape. */
int		 auth_cookie(struct exchange *, char *id, size_t idlen);
/*
 * End the session the request's cookie names in this host's scope, if any:
 * a sign-in replaces it (the new session is created after it on the same
 * Redis connection).  Nothing waits for the answer.
 */
void		 auth_drop_current(struct exchange *, struct store *);
/* "Set-Cookie" for the session <id>, or its removal when NULL. */
void		 auth_session_cookie(const struct config *, const char *id,
		    char *buf, size_t size);
void		 auth_limits(const struct config *, struct session_limits *);
/*
 * Browsers asking for a page go to gateway page <page>?rd=<this URL>;
 * everyone else gets 401 with JSON error <code> (pages.h) and the
 * challenge <www>.
 */
void		 auth_send_to(struct exchange *, const char *page,
		    const char *code, const char *www, const char *extra,
		    const char *reason);
/* Start a session lookup for <ex>'s cookie id <id>; 0, or -1. */
int		 auth_lookup(struct exchange *, const char *id, enum auth_kind);

/* authlogin.c: the sign-in endpoints; signout.c: sign-out. */
void		 auth_login_get(struct exchange *);
/* GET /.postern/logout: the sign-out confirmation page (signout.c). */
void		 auth_logout_get(struct exchange *);
/* Where a sign-out without a return-to URL ends. */
#define AUTH_SIGNED_OUT_URL	"/.postern/login?signed_out=1"

void		 auth_on_login_form(struct exchange *, struct evbuffer *);
void		 auth_on_logout_form(struct exchange *, struct evbuffer *);
/* Signed out: the session cookie cleared, audited, then to <location>. */
void		 auth_logged_out_to(struct exchange *, const char *user,
		    const char *location);
/* GET /.postern/login with a session cookie: who is signed in (<s>, or
 * NULL when the cookie named no session). */
void		 auth_signed_in_page(struct exchange *, const struct session *);


#endif
