/*
 * The token request of oidc.h: an authorization code redeemed at the
 * provider's token endpoint with its client authentication, the answer
 * checked and only its id_token passed on.  Secrets (the client secret,
 * the assertion, the code) and the answer are wiped after use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "confsso.h"
#include "encode.h"
#include "httpc.h"
#include "jws.h"
#include "oidc.h"
#include "oidc-int.h"

/* Append "&<name>=<value>" (form-encoded) to <b> (<size> bytes). */
static int
oidc_form_add(char *b, size_t size, const char *name, const char *value)
{
	size_t	off = strlen(b);
	int	n;

	n = snprintf(b + off, size - off, "%s%s=", off > 0 ? "&" : "", name);
	if (n < 0 || (size_t)n >= size - off)
		return -1;
	off += (size_t)n;
	return encode_pct(value, "", b + off, size - off) == -1 ? -1 : 0;
}

/*
 * "Authorization: Basic ..." of RFC 6749 2.3.1: the client id and secret
 * each form-encoded, joined by ':', in base64; into <out> (<size> bytes).
 */
static int
oidc_basic(const struct config_sso_provider *p, char *out, size_t size)
{
	static const char pre[] = "Authorization: Basic ";
	char		  pair[4096];	/* id (255) and secret (1024), each x3 */
	size_t		  n;
	int		  rc = -1;

	if (encode_pct(p->client_id, "", pair, sizeof(pair)) == -1)
		goto out;
	n = strlen(pair);
	if (n + 2 > sizeof(pair) || (pair[n++] = ':', pair[n] = '\0',
	    encode_pct(p->client_secret, "", pair + n, sizeof(pair) - n)) ==
	    -1)
		goto out;
	n = strlen(pair);
	if (sizeof(pre) + 4 * ((n + 2) / 3) > size)
		goto out;
	memcpy(out, pre, sizeof(pre) - 1);
	(void)EVP_EncodeBlock((unsigned char *)out + sizeof(pre) - 1,
	    (const unsigned char *)pair, (int)n);
	rc = 0;
out:
	OPENSSL_cleanse(pair, sizeof(pair));
	return rc;
}

/* The private_key_jwt client assertion, or NULL. */
static char *
oidc_assertion(const struct config_sso_provider *p, const char *aud)
{
	unsigned char	 rnd[16];
	char		 jti[ENCODE_B64URL_LEN(sizeof(rnd)) + 1];
	json_t		*claims;
	char		*jws = NULL;
	int64_t		 now = (int64_t)time(NULL);

	if (p->private_key == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    encode_b64url(rnd, sizeof(rnd), jti, sizeof(jti)) == -1)
		return NULL;
	if ((claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}",
	    "iss", p->client_id, "sub", p->client_id, "aud", aud, "jti", jti,
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + 60))) == NULL)
		return NULL;
	jws = jws_sign_es256(p->private_key, p->key_id, claims);
	json_decref(claims);
	return jws;
}

/* The form body of the token request into <b> (<size> bytes). */
static int
oidc_token_body(const struct config_sso_provider *p, const char *endpoint,
    const char *code, const char *verifier, const char *redirect_uri,
    char *b, size_t size)
{
	char	*jws;
	int	 rc;

	b[0] = '\0';
	if (oidc_form_add(b, size, "grant_type", "authorization_code") ==
	    -1 || oidc_form_add(b, size, "code", code) == -1 ||
	    oidc_form_add(b, size, "redirect_uri", redirect_uri) == -1 ||
	    oidc_form_add(b, size, "code_verifier", verifier) == -1)
		return -1;
	switch (p->client_auth) {
	case CONFIG_SSO_SECRET_POST:
		return p->client_secret == NULL ||
		    oidc_form_add(b, size, "client_id", p->client_id) == -1 ||
		    oidc_form_add(b, size, "client_secret", p->client_secret)
		    == -1 ? -1 : 0;
	case CONFIG_SSO_PRIVATE_KEY_JWT:
		if ((jws = oidc_assertion(p, endpoint)) == NULL)
			return -1;
		rc = oidc_form_add(b, size, "client_id", p->client_id) == -1 ||
		    oidc_form_add(b, size, "client_assertion_type",
		    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") ==
		    -1 || oidc_form_add(b, size, "client_assertion", jws) == -1 ?
		    -1 : 0;
		free(jws);
		return rc;
	default:
		return p->client_secret == NULL ? -1 : 0;
	}
}

/* The provider's "error" code of <body>, if it is a safe token. */
static void
oidc_token_error(struct oidc_treq *t, const struct httpc_resp *resp)
{
	json_t		*o;
	const char	*s = NULL, *reason = "oidc_token_status";
	size_t		 n;

	if ((o = json_loadb(resp->body, resp->len, 0, NULL)) != NULL &&
	    (s = json_string_value(json_object_get(o, "error"))) != NULL) {
		n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
		if (n == 0 || s[n] != '\0' || n >= sizeof(t->err))
			reason = "oidc_token_error";
		else
			reason = NULL;
	}
	(void)snprintf(t->err, sizeof(t->err), "%s", reason != NULL ? reason :
	    s);
	json_decref(o);
}

/* Wipe the string members of <o> (tokens) before it is freed. */
static void
oidc_json_wipe(json_t *o)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(o, k, v)
		if (json_is_string(v))
			OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
			    json_string_length(v));
}

static void
oidc_on_token(void *arg, const struct httpc_resp *resp, const char *err)
{
	struct oidc_treq	*t = arg;
	json_t			*o = NULL;
	const char		*tt, *id = NULL, *reason = "oidc_token_answer";

	if (t->o != NULL)
		TAILQ_REMOVE(&t->o->treqs, t, entry);
	if (t->o == NULL)
		;				/* already answered "freed" */
	else if (err != NULL)
		t->cb(t->arg, NULL, err);
	else if (resp->status != 200) {
		oidc_token_error(t, resp);
		t->cb(t->arg, NULL, t->err);
	} else {
		if ((o = json_loadb(resp->body, resp->len,
		    JSON_REJECT_DUPLICATES, NULL)) != NULL &&
		    json_is_object(o) && (tt = json_string_value(
		    json_object_get(o, "token_type"))) != NULL &&
		    strcasecmp(tt, "Bearer") == 0)
			id = json_string_value(json_object_get(o, "id_token"));
		t->cb(t->arg, id, id != NULL ? NULL : reason);
	}
	if (o != NULL) {
		if (json_is_object(o))
			oidc_json_wipe(o);
		json_decref(o);
	}
	free(t);
}

int
oidc_token(struct oidc *o, const struct config_sso_provider *p,
    const char *token_endpoint, const char *code, const char *verifier,
    const char *redirect_uri, oidc_token_cb cb, void *arg)
{
	struct oidc_treq	*t;
	struct httpc_req	 r;
	char			 body[16384], auth[5600];
	const char		*hdrs[] = { "Accept: application/json", NULL,
				    NULL };
	int			 rc = -1;

	auth[0] = '\0';
	if (o->freeing || !httpc_url_allowed(token_endpoint) ||
	    oidc_token_body(p, token_endpoint, code, verifier, redirect_uri,
	    body, sizeof(body)) == -1 ||
	    (p->client_auth == CONFIG_SSO_SECRET_BASIC && oidc_basic(p, auth,
	    sizeof(auth)) == -1) || (t = calloc(1, sizeof(*t))) == NULL)
		goto out;
	if (auth[0] != '\0')
		hdrs[1] = auth;
	t->o = o;
	t->cb = cb;
	t->arg = arg;
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = token_endpoint;
	r.body = body;
	r.content_type = "application/x-www-form-urlencoded";
	r.headers = hdrs;
	r.ca_file = p->ca_file;
	r.timeout = p->timeout;
	r.max_body = OIDC_MAX_DOC;
	if (httpc_start(o->h, &r, oidc_on_token, t) == -1)
		free(t);
	else {
		TAILQ_INSERT_TAIL(&o->treqs, t, entry);
		rc = 0;
	}
out:
	OPENSSL_cleanse(body, sizeof(body));
	OPENSSL_cleanse(auth, sizeof(auth));
	return rc;
}

void
oidc_token_drop(struct oidc *o)
{
	struct oidc_treq	*t;
	const char		*reason = "oidc_freed";

	while ((t = TAILQ_FIRST(&o->treqs)) != NULL) {
		TAILQ_REMOVE(&o->treqs, t, entry);
		t->o = NULL;			/* its answer frees it */
		t->cb(t->arg, NULL, reason);
	}
}
