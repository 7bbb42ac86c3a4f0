/*
 * What the account modules share (account.c: routes, forms, the session
 * chain, the overview and passwords; accountmfa.c: the second factor;
 * accountpage.c: the pages).  Internal to them.
 */
#ifndef POSTERN_ACCOUNT_INT_H
#define POSTERN_ACCOUNT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "acctstore.h"
#include "auth-int.h"
#include "backup.h"
#include "password.h"
#include "redirect.h"
#include "session.h"
#include "totp.h"
#include "uagent.h"

struct auth_step;
struct exchange;

enum acct_step {
	ACCT_2FA_GET = 0,
	ACCT_2FA_POST,
	ACCT_SETUP_GET,
	ACCT_SETUP_POST,
	ACCT_REAUTH_GET,
	ACCT_REAUTH_POST,
	ACCT_HOME_GET,
	ACCT_PASSWORD_POST,
	ACCT_DISABLE_POST,
	ACCT_BACKUP_POST,
	ACCT_REVOKE_POST,
	ACCT_CODES_POST,
};

/* What a step needs of the session before it runs. */
#define ACCT_NEED_MFA	0x1	/* second factor passed, if enrolled */
#define ACCT_NEED_FRESH	0x2	/* password within account.fresh_auth */

struct acct_route {
	const char	*path;
	int		 post;
	enum acct_step	 step;
	int		 need;
	const char	*back;		/* where a gate sends the user back */
};

/* One of the user's sessions, as the overview lists it. */
struct acct_sess {
	char		 hash[SESSION_HASH_LEN + 1];
	int64_t		 created, last_seen;	/* Unix seconds */
	int		 mfa;			/* second factor passed */
	char		 ip[48];		/* "" if not kept */
	char		 device[UAGENT_LABEL_MAX];	/* uagent_label() */
};

#define ACCT_SEALMAX	256
#define ACCT_CODEMAX	64

/*
 * One request's chain: its step record (step.h) and the account flow's
 * state.  Owned by its pending callback once acct_start() began it.
 */
struct acct {
	struct auth_step step;
	struct auth_rate rate;		/* the "totp" class */
	const struct acct_route *route;
	struct session	 s;
	char		 sid[SESSION_ID_LEN + 2];	/* the cookie id */
	char		 newsid[SESSION_ID_LEN + 1];	/* after a rotation */
	int		 rotated;	/* newsid replaced sid: send it */
	char		 rd[REDIRECT_MAX + 1];
	char		 code[ACCT_CODEMAX];		/* as typed */
	char		 backup[ACCT_CODEMAX];
	struct auth_pwcheck pwc;	/* the form's password, checked */
	struct auth_pwnew pwn;		/* the new password, hashed */
	struct password_refusal refusal;	/* rules' answer */
	int		 status;			/* of the home page */
	const char	*reason;
	char		 target[SESSION_HASH_LEN + 1];	/* session to revoke */
	char		 sealed[ACCT_SEALMAX];		/* enrolled seed */
	char		 pending[ACCT_SEALMAX];		/* seed being enrolled */
	int64_t		 last_step;
	long		 failures;
	int		 used_backup;
	const char	*error;				/* for the page */
	const char	*notice;
	char		 codes[BACKUP_CODES][BACKUP_CODE_LEN + 1]; /* shown once */
	int		 ncodes;
	char		 b32[TOTP_B32_MAX];		/* seed to type in */
	char		 uri[512];
	const char	*back;		/* the app rd is of (in the step's
					 * snapshot), or NULL */
	struct acct_sess *sessions;			/* for home */
	size_t		 nsessions;
};

/* account.c */
/* Free <a> (started or not). */
void		 acct_free(struct acct *a);
/* The chain whose step record is <s>. */
struct acct	*acct_of(struct auth_step *s);
int64_t		 acct_now(void);
void		 acct_detour(struct exchange *, const char *page,
		    const char *back, const char *rd, const char *reason);
/* End the chain with <a>'s page / a redirect. */
void		 acct_end_page(struct auth_step *, int status,
		    const char *reason);
void		 acct_end_redirect(struct auth_step *, const char *where);
/* The overview (with its sessions) as the answer. */
void		 acct_home_page(struct auth_step *, int status,
		    const char *reason);
/* Verify the form's password (pwc) of the session's user. */
void		 acct_check_password(struct auth_step *);

/* accountmfa.c: the second factor */
void		 acct_load_mfa(struct auth_step *);
/*
 * A change of privilege (second factor passed, password entered again,
 * password changed): the session gets a new cookie id (session_rotate())
 * that the chain's answer sets; the old id is dead at once.
 */
void		 acct_elevate(struct auth_step *, int mfa, int64_t auth_time);
void		 acct_fail(struct auth_step *, const char *msg);
void		 acct_end_step(struct auth_step *, int status,
		    const char *reason);
void		 acct_setup_start(struct exchange *, struct auth_step *);
int		 acct_new_codes(struct acct *,
		    char hashes[ACCTSTORE_BACKUP_CODES][65]);
void		 acct_on_enrolled(void *, const redisReply *, const char *);
/* The QR payload and typed key of seed <sealed> into <a>; 0 or -1. */
int		 acct_show_seed(const struct exchange *, struct acct *,
		    const char *sealed);

/* The backup codes of the form (a->codes) as a text attachment, if they
 * are the user's unused ones (accountpage.c). */
void		 acct_codes_download(struct auth_step *);

/* accountpage.c: the pages, and the overview's sessions */
void		 acct_page(struct exchange *, struct acct *, int status,
		    const char *extra, const char *reason);

#endif
