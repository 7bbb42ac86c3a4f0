/*
 * The JSON an ACME CA answers (RFC 8555 7.1): the directory, orders,
 * authorizations with their challenges, problem documents (RFC 7807,
 * RFC 8555 6.7), and renewal information (ARI, RFC 9773).  Untrusted input: every URL must be one httpc_start()
 * accepts, tokens are base64url of bounded length, unknown statuses are
 * refused, and sizes are bounded.  Pure functions over a buffer, through
 * jansson; tests/fuzz/fuzz_acme.c drives each.
 */
#ifndef POSTERN_ACMEJSON_H
#define POSTERN_ACMEJSON_H

#include <stddef.h>
#include <stdint.h>

#define ACME_BODY_MAX	(64 * 1024)	/* bytes of a JSON answer */
#define ACME_AUTHZ_MAX	16		/* authorizations of an order */
#define ACME_SUBPROBLEMS	8		/* of a problem, reported */
#define ACME_CHAL_MAX	8		/* challenges of an authorization */
#define ACME_TOKEN_MAX	128		/* characters of a challenge token */

enum acme_status {
	ACME_ST_PENDING = 0,
	ACME_ST_READY,
	ACME_ST_PROCESSING,
	ACME_ST_VALID,
	ACME_ST_INVALID,
	ACME_ST_GONE,		/* deactivated, expired, revoked */
};

struct acme_directory {
	char		*new_nonce;
	char		*new_account;
	char		*new_order;
	char		*renewal_info;	/* ARI, or NULL */
	int		 eab_required;	/* meta.externalAccountRequired */
};

struct acme_order {
	enum acme_status status;
	char		*authz[ACME_AUTHZ_MAX];
	size_t		 nauthz;
	char		*finalize;
	char		*certificate;	/* once valid, else NULL */
};

struct acme_chal {
	char		 type[16];	/* "http-01", "tls-alpn-01", ... */
	char		*url;
	char		 token[ACME_TOKEN_MAX + 1];
	enum acme_status status;
};

struct acme_authz {
	enum acme_status status;
	char		 host[256];	/* identifier value (type dns) */
	int		 wildcard;
	struct acme_chal chal[ACME_CHAL_MAX];
	size_t		 nchal;
	char		 error[700];	/* "type: detail" of the first
					 * challenge's error, or "" */
};

struct acme_problem {
	char		 type[128];	/* urn:ietf:params:acme:error: cut */
	char		 detail[256];	/* printable ASCII only */
	char		 subproblems[256];	/* "identifier=type, ..." of
					 * the first ACME_SUBPROBLEMS (RFC
					 * 8555 6.7.1), printable, whole
					 * entries only; "" without */
	long		 status;
};

/*
 * Parse <len> bytes of <body> into <out> (zeroed first; free the strings
 * with the matching _free, also after a failure).  0, or -1 with what is
 * wrong in <err>.
 */
int	acme_parse_directory(const char *body, size_t len,
	    struct acme_directory *out, char *err, size_t errlen);
void	acme_directory_free(struct acme_directory *);
int	acme_parse_order(const char *body, size_t len, struct acme_order *out,
	    char *err, size_t errlen);
void	acme_order_free(struct acme_order *);
int	acme_parse_authz(const char *body, size_t len, struct acme_authz *out,
	    char *err, size_t errlen);
void	acme_authz_free(struct acme_authz *);
/*
 * The problem document in <body> into <out>; never fails: what cannot be
 * read is left empty (type "" and detail "").  Non-printable bytes of the
 * detail become '?', so it can be logged and stored as is.
 */
void	acme_parse_problem(const char *body, size_t len,
	    struct acme_problem *out);
/*
 * Cut every copy of nonce <nonce> out of <p>'s detail (CAs quote the
 * nonce they refused), so nonces stay out of logs and Redis.
 */
void	acme_problem_scrub(struct acme_problem *p, const char *nonce);
/*
 * A renewalInfo answer (RFC 9773 4.2): the suggestedWindow's start and
 * end (RFC 3339 date-times) as Unix seconds; 0, or -1 with <err> (and
 * both 0) when either is missing or unreadable, or the window is empty.
 */
int	acme_parse_renewal_info(const char *body, size_t len, int64_t *start,
	    int64_t *end, char *err, size_t errlen);

#endif
