/*
 * The page templates (see pagetmpl.h): the built-in text of each, the
 * values each receives, and the overrides of a templates_dir, checked
 * when they are read so that a page never meets a name it cannot fill.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "diag.h"
#include "pagetmpl.h"

struct pagetmpl_set {
	char	*text[PAGETMPL_N];	/* NULL: the built-in */
};

static const char pagetmpl_head[] =
    "<!doctype html>\n<html lang=\"{{lang}}\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    /* The pages are served with Referrer-Policy: no-referrer, under which
     * browsers send "Origin: null" with a form POST (Fetch, "append a
     * request Origin header") and the same-origin check refuses the
     * gateway's own forms.  same-origin still sends nothing cross-site. */
    "<meta name=\"referrer\" content=\"same-origin\">\n"
    "<title>{{title}} - {{product}}</title>\n"
    "<style nonce=\"{{nonce}}\">\n"
    ":root{--brand:{{color}}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;min-height:100vh;display:flex;align-items:center;"
    "justify-content:center;background:#f4f5f7;color:#1d2330;"
    "font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif}\n"
    "main{width:100%;max-width:24rem;margin:1rem;padding:2rem;"
    "background:#fff;border-radius:.75rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12);overflow-wrap:anywhere}\n"
    "h1{font-size:1.4rem;margin:0 0 1.25rem}\n"
    "img.logo{display:block;max-height:3rem;margin:0 0 1rem}\n"
    "label{display:block;font-weight:600;margin:1rem 0 .25rem}\n"
    "input{width:100%;padding:.6rem .75rem;font:inherit;"
    "border:1px solid #8a93a6;border-radius:.4rem}\n"
    "input:focus,button:focus{outline:3px solid var(--brand);"
    "outline-offset:2px}\n"
    "button{width:100%;margin-top:1.5rem;padding:.7rem;font:inherit;"
    "font-weight:600;color:#fff;background:var(--brand);border:0;"
    "border-radius:.4rem;cursor:pointer}\n"
    ".error{color:#a4161a;background:#fdecec;border-radius:.4rem;"
    "padding:.6rem .75rem;margin:0 0 1rem}\n"
    ".notice{background:#eef4ff;border-radius:.4rem;padding:.6rem .75rem;"
    "margin:0 0 1rem}\n"
    "h2{font-size:1.1rem;margin:1.75rem 0 .25rem}\n"
    "section+section{border-top:1px solid #e3e6ec;margin-top:1.5rem}\n"
    "button.secondary{background:#fff;color:#1d2330;"
    "border:1px solid #8a93a6}\n"
    "code,.codes{font:1rem/1.6 ui-monospace,Menlo,Consolas,monospace}\n"
    ".codes,.sessions{padding:0;list-style:none}\n"
    ".sessions li{padding:.6rem 0;border-bottom:1px solid #e3e6ec}\n"
    ".sessions button{width:auto;margin:.4rem 0 0;padding:.3rem .6rem}\n"
    "h3{font-size:1rem;margin:1.25rem 0 .25rem}\n"
    ".key{overflow-wrap:anywhere;word-break:break-all}\n"
    "section.danger{border-top:1px solid #e3e6ec;margin-top:1.5rem}\n"
    "section.danger h3{color:#a4161a}\n"
    "button.danger{background:#a4161a}\n"
    ".qr{display:block;width:12rem;height:12rem;margin:1rem auto}\n"
    "table{width:100%;border-collapse:collapse;font-size:.9rem}\n"
    "td,th{text-align:left;padding:.3rem .2rem;"
    "border-bottom:1px solid #e3e6ec}\n"
    "td button{width:auto;margin:0;padding:.3rem .6rem}\n"
    "a{color:var(--brand)}\n"
    "a.button{display:block;text-align:center;padding:.7rem;"
    "font-weight:600;color:#fff;background:var(--brand);"
    "border-radius:.4rem;text-decoration:none}\n"
    ".muted{color:#5b6475;font-size:.875rem}\n"
    ".muted code{font-size:.8rem;word-break:break-all}\n"
    "</style></head>\n<body><main>\n{{logo}}";

static const char pagetmpl_error[] =
    "<h1>{{title}}</h1>\n<p>{{message}}</p>\n{{details}}"
    "<p class=\"muted\">{{t:error.footer}} <code>{{request_id}}</code></p>\n"
    "</main></body></html>\n";

static const char pagetmpl_login[] =
    "{{alert}}<h1>{{t:login.heading}}</h1>\n"
    "<form method=\"post\" action=\"/.postern/login\" novalidate>\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<input type=\"hidden\" name=\"rd\" value=\"{{rd}}\">\n"
    "<label for=\"email\">{{t:login.email}}</label>\n"
    "<input id=\"email\" name=\"email\" type=\"email\" "
    "autocomplete=\"username\" required value=\"{{email}}\""
    "{{email_attrs}}>\n"
    "<label for=\"password\">{{t:login.password}}</label>\n"
    "<input id=\"password\" name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required minlength=\"1\" "
    "maxlength=\"1024\"{{password_attrs}}>\n"
    "<button type=\"submit\">{{t:login.submit}}</button>\n"
    "</form>\n{{links}}</main></body></html>\n";

static const char pagetmpl_whoami[] =
    "<h1>{{product}}</h1>\n<p>{{t:whoami.text}}</p>\n"
    "<form method=\"post\" action=\"/.postern/logout\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<button type=\"submit\" autofocus>{{t:whoami.signout}}</button>\n"
    "</form>\n<p><a href=\"/.postern/account\">{{t:whoami.account}}</a>"
    "</p>\n</main></body></html>\n";

static const char pagetmpl_logout[] =
    "<h1>{{t:logout.heading}}</h1>\n"
    "<form method=\"post\" action=\"/.postern/logout\">\n"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
    "<input type=\"hidden\" name=\"rd\" value=\"{{rd}}\">\n"
    "<button type=\"submit\" autofocus>{{t:logout.submit}}</button>\n"
    "</form>\n<p><a href=\"{{back}}\">{{t:logout.cancel}}</a></p>\n"
    "</main></body></html>\n";

/* The reset and sign-in link pages: a request form, the notice that a
 * link was sent, and what the link opens. */
#define PAGETMPL_BACK \
    "<p><a href=\"/.postern/login\">{{t:back_to_signin}}</a></p>\n" \
    "</main></body></html>\n"
#define PAGETMPL_HIDDEN \
    "<input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n" \
    "<input type=\"hidden\" name=\"rd\" value=\"{{rd}}\">\n"
#define PAGETMPL_ASK(kind) \
    "<h1>{{t:" kind ".title}}</h1>\n{{alert}}<p>{{t:" kind ".intro}}</p>\n" \
    "<form method=\"post\" action=\"/.postern/" kind "\" novalidate>\n" \
    PAGETMPL_HIDDEN \
    "<label for=\"email\">{{t:recover.email}}</label>\n" \
    "<input id=\"email\" name=\"email\" type=\"email\" " \
    "autocomplete=\"username\"{{email_attrs}} required autofocus>\n" \
    "<button type=\"submit\">{{t:recover.send}}</button>\n</form>\n" \
    PAGETMPL_BACK
#define PAGETMPL_SENT(kind) \
    "<h1>{{t:" kind ".title}}</h1>\n{{alert}}<p>{{t:recover.sent}}</p>\n" \
    PAGETMPL_BACK

static const char pagetmpl_reset_password[] =
    "<h1>{{t:reset.title}}</h1>\n{{alert}}<p>{{t:recover.newpw_intro}}</p>\n"
    "<form method=\"post\" action=\"/.postern/reset\" novalidate>\n"
    PAGETMPL_HIDDEN
    "<input type=\"hidden\" name=\"token\" value=\"{{token}}\">\n"
    "<label for=\"new_password\">{{t:recover.new_password}}</label>\n"
    "<input id=\"new_password\" name=\"new_password\" type=\"password\" "
    "autocomplete=\"new-password\"{{password_attrs}} maxlength=\"1024\" "
    "required autofocus>\n"
    "<label for=\"confirm\">{{t:recover.confirm}}</label>\n"
    "<input id=\"confirm\" name=\"confirm\" type=\"password\" "
    "autocomplete=\"new-password\"{{password_attrs}} maxlength=\"1024\" "
    "required>\n"
    "<button type=\"submit\">{{t:recover.set}}</button>\n</form>\n"
    PAGETMPL_BACK;

static const char pagetmpl_magic_confirm[] =
    "<h1>{{t:magic.title}}</h1>\n{{alert}}<p>{{t:recover.continue}}</p>\n"
    "<form method=\"post\" action=\"/.postern/magic\" novalidate>\n"
    PAGETMPL_HIDDEN
    "<input type=\"hidden\" name=\"token\" value=\"{{token}}\">\n"
    "<button type=\"submit\">{{t:recover.signin}}</button>\n</form>\n"
    PAGETMPL_BACK;

static const char pagetmpl_sso_error[] =
    "<h1>{{title}}</h1>\n<p>{{message}}</p>\n"
    "<p><a href=\"{{back}}\">{{t:back_to_signin}}</a></p>\n"
    "</main></body></html>\n";

static const char pagetmpl_notme[] =
    "<h1>{{t:notme.heading}}</h1>\n{{alert}}{{form}}"
    "<p><a href=\"/.postern/reset\">{{t:notme.reset}}</a></p>\n"
    "</main></body></html>\n";

/* A link that cannot be used (expired, used, opened in another browser)
 * and the notice that a reset changed the password. */
static const char pagetmpl_link_refused[] =
    "<h1>{{title}}</h1>\n{{alert}}<p>{{message}}</p>\n"
    "<p><a href=\"{{again}}\">{{again_text}}</a></p>\n" PAGETMPL_BACK;

static const char pagetmpl_reset_done[] =
    "<h1>{{t:reset.title}}</h1>\n{{alert}}<p>{{t:recover.done}}</p>\n"
    "<p><a href=\"/.postern/login\">{{t:recover.signin}}</a></p>\n"
    "</main></body></html>\n";

/* Confirm the password (and code) before a change to the account. */
static const char pagetmpl_reauth[] =
    "<h1>{{t:mfa.reauth_title}}</h1>\n{{alert}}<p>{{t:mfa.reauth_intro}} "
    "<strong>{{email}}</strong></p>\n{{form}}<h2>{{t:mfa.not_you}}</h2>\n"
    "{{signout}}</main></body></html>\n";

/* Two-step setup: the QR code, the key by hand, the first code. */
static const char pagetmpl_mfa_setup[] =
    "<h1>{{t:mfa.setup_title}}</h1>\n{{alert}}<p>{{t:mfa.scan}}</p>\n"
    "{{qr}}{{key}}<p>{{t:mfa.then}}</p>\n{{form}}{{signout}}"
    "</main></body></html>\n";

/* The backup codes, shown once after two-step setup or a renewal. */
static const char pagetmpl_backup_codes[] =
    "<h1>{{t:mfa.codes_title}}</h1>\n{{alert}}<p>{{t:mfa.codes_intro}} "
    "<strong>{{t:mfa.codes_once}}</strong></p>\n{{codes}}{{tools}}"
    "<p><a href=\"{{next}}\">{{t:mfa.continue}}</a></p>\n"
    "</main></body></html>\n";

/* The sign-in's second step: a code, or a backup code, or sign out. */
static const char pagetmpl_mfa_code[] =
    "<h1>{{t:mfa.title}}</h1>\n{{alert}}<p>{{t:mfa.enter_code}}</p>\n"
    "{{form}}<h2>{{t:mfa.lost_device}}</h2>\n{{backup_form}}"
    "<h2>{{t:mfa.not_you}}</h2>\n{{signout}}</main></body></html>\n";

/* The account overview: who, the way back, the password, two-step
 * verification and the sessions, each part its own section. */
static const char pagetmpl_account[] =
    "<h1>{{t:account.title}}</h1>\n{{alert}}<p>{{t:account.signed_in_as}} "
    "<strong>{{email}}</strong></p>\n{{back}}{{signout}}<section>\n"
    "<h2>{{t:account.password}}</h2>\n{{password_form}}</section>\n"
    "<section>\n{{mfa}}</section>\n<section>\n<h2>{{t:account.where}}"
    "</h2>\n{{sessions}}</section>\n</main></body></html>\n";

/* What every reset and sign-in link page receives. */
#define PAGETMPL_RECOVER_KEYS \
    "lang product csrf rd token email alert email_attrs password_attrs"

static const struct {
	const char	*name;
	const char	*text;
	const char	*keys;		/* the values it receives */
} pagetmpl_table[PAGETMPL_N] = {
	[PAGETMPL_HEAD] = { "head.html", pagetmpl_head,
	    "lang title product nonce color logo" },
	[PAGETMPL_ERROR] = { "error.html", pagetmpl_error,
	    "lang product status title message details request_id" },
	[PAGETMPL_LOGIN] = { "login.html", pagetmpl_login,
	    "lang product csrf rd email alert email_attrs password_attrs "
	    "links" },
	[PAGETMPL_WHOAMI] = { "whoami.html", pagetmpl_whoami,
	    "lang product email csrf" },
	[PAGETMPL_LOGOUT] = { "logout.html", pagetmpl_logout,
	    "lang product csrf rd back" },
	[PAGETMPL_RESET] = { "reset.html", PAGETMPL_ASK("reset"),
	    PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_RESET_SENT] = { "reset_sent.html", PAGETMPL_SENT("reset"),
	    PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_RESET_PASSWORD] = { "reset_password.html",
	    pagetmpl_reset_password, PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_MAGIC] = { "magic.html", PAGETMPL_ASK("magic"),
	    PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_MAGIC_SENT] = { "magic_sent.html", PAGETMPL_SENT("magic"),
	    PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_MAGIC_CONFIRM] = { "magic_confirm.html",
	    pagetmpl_magic_confirm, PAGETMPL_RECOVER_KEYS },
	[PAGETMPL_SSO_ERROR] = { "sso_error.html", pagetmpl_sso_error,
	    "lang product title message back" },
	[PAGETMPL_NOTME] = { "notme.html", pagetmpl_notme,
	    "lang product csrf token alert form" },
	[PAGETMPL_LINK_REFUSED] = { "link_refused.html", pagetmpl_link_refused,
	    "lang product alert title message again again_text" },
	[PAGETMPL_RESET_DONE] = { "reset_done.html", pagetmpl_reset_done,
	    "lang product alert" },
	[PAGETMPL_REAUTH] = { "reauth.html", pagetmpl_reauth,
	    "lang product csrf rd email alert form signout" },
	[PAGETMPL_BACKUP_CODES] = { "backup_codes.html", pagetmpl_backup_codes,
	    "lang product csrf alert codes tools next" },
	[PAGETMPL_MFA_SETUP] = { "mfa_setup.html", pagetmpl_mfa_setup,
	    "lang product csrf alert qr key form signout" },
	[PAGETMPL_MFA_CODE] = { "mfa_code.html", pagetmpl_mfa_code,
	    "lang product csrf rd alert form backup_form signout" },
	[PAGETMPL_ACCOUNT] = { "account.html", pagetmpl_account,
	    "lang product csrf rd email alert back signout "
	    "password_form mfa sessions" },
};

const char *
pagetmpl_name(enum pagetmpl_id id)
{
	return pagetmpl_table[id].name;
}

const char *
pagetmpl_keys(enum pagetmpl_id id)
{
	return pagetmpl_table[id].keys;
}

const char *
pagetmpl_text(const struct pagetmpl_set *set, enum pagetmpl_id id)
{
	if (set != NULL && set->text[id] != NULL)
		return set->text[id];
	return pagetmpl_table[id].text;
}

/* Is <name> (<n> bytes) a word of the space-separated <list>? */
static int
pagetmpl_in(const char *list, const char *name, size_t n)
{
	const char	*p = list;
	size_t		 w;

	for (;;) {
		w = strcspn(p, " ");
		if (w == n && strncmp(p, name, n) == 0)
			return 1;
		if (p[w] == '\0')
			return 0;
		p += w + 1;
	}
}

/* The placeholder <name> (<n> bytes): a value of <id> or t:<key>? */
static int
pagetmpl_name_ok(enum pagetmpl_id id, const char *name, size_t n)
{
	char	key[CATALOG_KEY_MAX + 1];

	if (n > 2 && strncmp(name, "t:", 2) == 0) {
		if (n - 2 > CATALOG_KEY_MAX)
			return 0;
		memcpy(key, name + 2, n - 2);
		key[n - 2] = '\0';
		return catalog_known(key);
	}
	return pagetmpl_in(pagetmpl_table[id].keys, name, n);
}

int
pagetmpl_check(enum pagetmpl_id id, const char *text, size_t len,
    struct catalog_err *e)
{
	size_t		 i, k, line = 1, col = 1;

	if (len > PAGETMPL_FILE_MAX)
		return catalog_fail(e, 1, 1, "larger than %d bytes",
		    PAGETMPL_FILE_MAX);
	for (i = 0; i < len; i++, col++) {
		if (text[i] == '\0')
			return catalog_fail(e, line, col, "NUL byte");
		if (text[i] == '\n') {
			line++;
			col = 0;
			continue;
		}
		if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{')
			continue;
		for (k = i + 2; k + 1 < len && !(text[k] == '}' &&
		    text[k + 1] == '}') && text[k] != '\n' && text[k] != '{';
		    k++)
			;
		if (k + 1 >= len || text[k] != '}')
			return catalog_fail(e, line, col, "'{{' without its "
			    "'}}'");
		if (!pagetmpl_name_ok(id, text + i + 2, k - i - 2))
			return catalog_fail(e, line, col, "unknown key "
			    "'{{%.*s}}' (%s receives: %s, and t:<message "
			    "key>)", (int)(k - i - 2 > 40 ? 40 : k - i - 2),
			    text + i + 2, pagetmpl_table[id].name,
			    pagetmpl_table[id].keys);
		col += k + 1 - i;
		i = k + 1;
	}
	return 0;
}

/* Read and check <dir>/<name of id> into <set>; a missing file is fine. */
static int
pagetmpl_load_one(struct pagetmpl_set *set, const char *dir,
    enum pagetmpl_id id, struct diag *d)
{
	struct catalog_err e;
	char		 path[4096], *buf;
	ssize_t		 n;
	int		 fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, pagetmpl_name(id));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	if ((buf = malloc(PAGETMPL_FILE_MAX + 2)) == NULL ||
	    (n = read(fd, buf, PAGETMPL_FILE_MAX + 1)) == -1) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		free(buf);
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	buf[n] = '\0';
	if (pagetmpl_check(id, buf, (size_t)n, &e) == -1) {
		diag_error(d, path, e.line, e.col, "%s", e.msg);
		free(buf);
		return -1;
	}
	set->text[id] = buf;
	return 0;
}

struct pagetmpl_set *
pagetmpl_load_dir(const char *dir, struct diag *d)
{
	struct pagetmpl_set *set;
	int		 rc = 0;
	size_t		 id;

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		diag_error(d, dir, 0, 0, "out of memory");
		return NULL;
	}
	for (id = 0; id < PAGETMPL_N; id++)
		rc |= pagetmpl_load_one(set, dir, (enum pagetmpl_id)id, d);
	if (rc != 0) {
		pagetmpl_set_free(set);
		return NULL;
	}
	return set;
}

void
pagetmpl_set_free(struct pagetmpl_set *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < PAGETMPL_N; i++)
		free(set->text[i]);
	free(set);
}
