/*
 * Parsers of an ACME CA's JSON answers (see acmejson.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "acmejson.h"
#include "encode.h"
#include "httpc.h"

#define ACME_ERR_URN	"urn:ietf:params:acme:error:"

static json_t *
acme_load(const char *body, size_t len, char *err, size_t errlen)
{
	json_t		*root;
	json_error_t	 je;

	if (len > ACME_BODY_MAX) {
		(void)snprintf(err, errlen, "answer over %d bytes",
		    ACME_BODY_MAX);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		(void)snprintf(err, errlen, "not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/*
 * A copy of the URL member <name> of <o> into *<out>: 0; -1 if it is not
 * a URL httpc accepts, or, with <required>, absent.
 */
static int
acme_url(json_t *o, const char *name, int required, char **out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, name);

	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > 2048 ||
	    !httpc_url_allowed(json_string_value(v))) {
		(void)snprintf(err, errlen, "%s: missing or not a usable URL",
		    name);
		return -1;
	}
	if ((*out = strdup(json_string_value(v))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The status member of <o>, or -1 if unknown. */
static int
acme_status(json_t *o)
{
	static const char *const names[] = { "pending", "ready",
	    "processing", "valid", "invalid" };
	const char	*s = json_string_value(json_object_get(o, "status"));
	size_t		 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	if (strcmp(s, "deactivated") == 0 || strcmp(s, "expired") == 0 ||
	    strcmp(s, "revoked") == 0)
		return ACME_ST_GONE;
	return -1;
}

int
acme_parse_directory(const char *body, size_t len,
    struct acme_directory *out, char *err, size_t errlen)
{
	json_t	*root, *meta;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	if (acme_url(root, "newNonce", 1, &out->new_nonce, err, errlen) ==
	    0 && acme_url(root, "newAccount", 1, &out->new_account, err,
	    errlen) == 0 && acme_url(root, "newOrder", 1, &out->new_order,
	    err, errlen) == 0 && acme_url(root, "renewalInfo", 0,
	    &out->renewal_info, err, errlen) == 0)
		rc = 0;
	meta = json_object_get(root, "meta");
	out->eab_required = json_is_true(json_object_get(meta,
	    "externalAccountRequired"));
	json_decref(root);
	return rc;
}

void
acme_directory_free(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->renewal_info);
	memset(d, 0, sizeof(*d));
}

static int
acme_order_authzs(json_t *root, struct acme_order *out, char *err,
    size_t errlen)
{
	json_t	*a = json_object_get(root, "authorizations"), *v;
	size_t	 i;

	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > ACME_AUTHZ_MAX) {
		(void)snprintf(err, errlen, "authorizations: expected 1 to %d "
		    "URLs", ACME_AUTHZ_MAX);
		return -1;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    !httpc_url_allowed(json_string_value(v))) {
			(void)snprintf(err, errlen, "authorizations: not a "
			    "usable URL");
			return -1;
		}
		if ((out->authz[i] = strdup(json_string_value(v))) == NULL)
			return -1;
		out->nauthz = i + 1;
	}
	return 0;
}

int
acme_parse_order(const char *body, size_t len, struct acme_order *out,
    char *err, size_t errlen)
{
	json_t	*root;
	int	 st, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	if ((st = acme_status(root)) == -1)
		(void)snprintf(err, errlen, "status: missing or unknown");
	else if (acme_order_authzs(root, out, err, errlen) == 0 &&
	    acme_url(root, "finalize", 1, &out->finalize, err, errlen) == 0 &&
	    acme_url(root, "certificate", st == ACME_ST_VALID,
	    &out->certificate, err, errlen) == 0) {
		out->status = (enum acme_status)st;
		rc = 0;
	}
	json_decref(root);
	return rc;
}

void
acme_order_free(struct acme_order *o)
{
	size_t	i;

	for (i = 0; i < o->nauthz; i++)
		free(o->authz[i]);
	free(o->finalize);
	free(o->certificate);
	memset(o, 0, sizeof(*o));
}

/* A token: base64url, 1 to ACME_TOKEN_MAX characters (RFC 8555 8.1). */
static int
acme_token_ok(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && n <= ACME_TOKEN_MAX &&
	    strspn(s, encode_b64url_chars) == n;
}

static int
acme_chal(json_t *c, struct acme_chal *out, char *err, size_t errlen)
{
	const char	*type = json_string_value(json_object_get(c, "type"));
	const char	*tok = json_string_value(json_object_get(c, "token"));
	int		 st = acme_status(c);

	if (type == NULL || strlen(type) >= sizeof(out->type) || st == -1) {
		(void)snprintf(err, errlen, "challenge: type or status "
		    "missing or unknown");
		return -1;
	}
	if (tok != NULL && !acme_token_ok(tok)) {
		(void)snprintf(err, errlen, "challenge: token is not "
		    "base64url of 1 to %d characters", ACME_TOKEN_MAX);
		return -1;
	}
	(void)snprintf(out->type, sizeof(out->type), "%s", type);
	(void)snprintf(out->token, sizeof(out->token), "%s",
	    tok != NULL ? tok : "");
	out->status = (enum acme_status)st;
	return acme_url(c, "url", 1, &out->url, err, errlen);
}

static void	acme_chal_error(json_t *, char *, size_t);

int
acme_parse_authz(const char *body, size_t len, struct acme_authz *out,
    char *err, size_t errlen)
{
	json_t		*root, *id, *chals, *c;
	const char	*v;
	size_t		 i;
	int		 st, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	id = json_object_get(root, "identifier");
	v = json_string_value(json_object_get(id, "value"));
	chals = json_object_get(root, "challenges");
	if ((st = acme_status(root)) == -1 || v == NULL ||
	    strlen(v) >= sizeof(out->host) || !json_is_array(chals) ||
	    json_array_size(chals) > ACME_CHAL_MAX) {
		(void)snprintf(err, errlen, "authorization: status, "
		    "identifier or challenges missing or malformed");
		goto out;
	}
	out->status = (enum acme_status)st;
	(void)snprintf(out->host, sizeof(out->host), "%s", v);
	out->wildcard = json_is_true(json_object_get(root, "wildcard"));
	json_array_foreach(chals, i, c) {
		if (out->error[0] == '\0' && json_is_object(json_object_get(c,
		    "error")))
			acme_chal_error(json_object_get(c, "error"), out->error,
			    sizeof(out->error));
		if (acme_chal(c, &out->chal[i], err, errlen) == -1) {
			out->nchal = i + 1;	/* its url is freed too */
			goto out;
		}
		out->nchal = i + 1;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
acme_authz_free(struct acme_authz *a)
{
	size_t	i;

	for (i = 0; i < a->nchal; i++)
		free(a->chal[i].url);
	memset(a, 0, sizeof(*a));
}

/* Copy <s> into <out> with anything but printable ASCII as '?'. */
static void
acme_printable(char *out, size_t size, const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[size > 0 ? i : 0] = '\0';
}

/* The type of problem <p> without the ACME URN, or NULL. */
static const char *
acme_problem_type(json_t *p)
{
	const char	*type = json_string_value(json_object_get(p, "type"));

	if (type != NULL && strncmp(type, ACME_ERR_URN,
	    strlen(ACME_ERR_URN)) == 0)
		type += strlen(ACME_ERR_URN);
	return type;
}

/* "identifier=type, ..." of the first subproblems of <subs> into <out>
 * (<size> bytes): whole entries only. */
static void
acme_subproblems(json_t *subs, char *out, size_t size)
{
	char	id[128], type[64];
	size_t	i, o = 0;
	int	n;

	out[0] = '\0';
	for (i = 0; i < json_array_size(subs) && i < ACME_SUBPROBLEMS; i++) {
		json_t *sp = json_array_get(subs, i);

		acme_printable(id, sizeof(id), json_string_value(json_object_get(
		    json_object_get(sp, "identifier"), "value")));
		acme_printable(type, sizeof(type), acme_problem_type(sp));
		n = snprintf(out + o, size - o, "%s%s=%s", o > 0 ? ", " : "",
		    id, type);
		if (n < 0 || (size_t)n >= size - o) {
			out[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
}

/* The problem document <root> into <out>. */
static void
acme_problem(json_t *root, struct acme_problem *out)
{
	acme_printable(out->type, sizeof(out->type), acme_problem_type(root));
	acme_printable(out->detail, sizeof(out->detail),
	    json_string_value(json_object_get(root, "detail")));
	acme_subproblems(json_object_get(root, "subproblems"),
	    out->subproblems, sizeof(out->subproblems));
	if (json_is_integer(json_object_get(root, "status")))
		out->status = (long)json_integer_value(json_object_get(root,
		    "status"));
}

/* A challenge's error object <e> as "type: detail" into <out>. */
static void
acme_chal_error(json_t *e, char *out, size_t size)
{
	struct acme_problem	p;

	memset(&p, 0, sizeof(p));
	acme_problem(e, &p);
	(void)snprintf(out, size, "%s: %s%s%s%s", p.type, p.detail,
	    p.subproblems[0] != '\0' ? " [" : "", p.subproblems,
	    p.subproblems[0] != '\0' ? "]" : "");
}

void
acme_parse_problem(const char *body, size_t len, struct acme_problem *out)
{
	json_t	*root;
	char	 err[64];

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(body, len, err, sizeof(err))) == NULL)
		return;
	acme_problem(root, out);
	json_decref(root);
}

void
acme_problem_scrub(struct acme_problem *p, const char *nonce)
{
	size_t	 len = strlen(nonce);
	char	*at;

	while (len > 0 && (at = strstr(p->detail, nonce)) != NULL)
		memmove(at, at + len, strlen(at + len) + 1);
}

/* ---- renewalInfo (RFC 9773) ---- */

/* <n> decimal digits of <s> as a number; -1 if one is not a digit. */
static int
acme_digits(const char *s, int n)
{
	int	v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/*
 * RFC 3339 date-time <s> ("2025-01-02T03:04:05Z", fractions and a
 * numeric offset allowed) as Unix seconds into *<out>; 0 or -1.
 */
static int
acme_time(const char *s, int64_t *out)
{
	struct tm	tm;
	int		off = 0, sign;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    (tm.tm_year = acme_digits(s, 4)) < 1970 ||
	    (tm.tm_mon = acme_digits(s + 5, 2)) < 1 || tm.tm_mon > 12 ||
	    (tm.tm_mday = acme_digits(s + 8, 2)) < 1 || tm.tm_mday > 31 ||
	    (tm.tm_hour = acme_digits(s + 11, 2)) < 0 || tm.tm_hour > 23 ||
	    (tm.tm_min = acme_digits(s + 14, 2)) < 0 || tm.tm_min > 59 ||
	    (tm.tm_sec = acme_digits(s + 17, 2)) < 0 || tm.tm_sec > 60)
		return -1;
	s += 19;
	if (*s == '.' && (s[1] < '0' || s[1] > '9'))
		return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		off = 0;
	else if ((*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':' &&
	    acme_digits(s + 1, 2) >= 0 && acme_digits(s + 1, 2) < 24 &&
	    acme_digits(s + 4, 2) >= 0 && acme_digits(s + 4, 2) < 60) {
		sign = *s == '-' ? -1 : 1;
		off = sign * (acme_digits(s + 1, 2) * 3600 +
		    acme_digits(s + 4, 2) * 60);
	} else
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}

int
acme_parse_renewal_info(const char *body, size_t len, int64_t *start,
    int64_t *end, char *err, size_t errlen)
{
	json_t	*root, *w;
	int	 rc = -1;

	*start = *end = 0;
	if ((root = acme_load(body, len, err, errlen)) == NULL)
		return -1;
	w = json_object_get(root, "suggestedWindow");
	if (!json_is_object(w) || acme_time(json_string_value(
	    json_object_get(w, "start")), start) == -1 ||
	    acme_time(json_string_value(json_object_get(w, "end")),
	    end) == -1)
		(void)snprintf(err, errlen, "no suggestedWindow with RFC 3339 "
		    "start and end");
	else if (*end <= *start)
		(void)snprintf(err, errlen, "suggestedWindow ends before it "
		    "starts");
	else
		rc = 0;
	if (rc == -1)
		*start = *end = 0;
	json_decref(root);
	return rc;
}
