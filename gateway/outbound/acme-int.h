/*
 * Shared by acme.c (the driver: runs, account, requests, nonces,
 * Redis), acmehost.c (each host: due, lock, outcome) and acmeorder.c
 * (one order: authorizations, challenges, finalize, download).  Not an
 * API for other modules.
 */
#ifndef POSTERN_ACME_INT_H
#define POSTERN_ACME_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "acmeari.h"
#include "acmejson.h"
#include "jwssign.h"
#include "store.h"

struct acme;
struct config;

/* An answer of the CA, valid during the continuation only. */
struct acme_resp {
	long		 status;	/* 0: no answer (err says why) */
	const char	*err;		/* httpc reason, or NULL */
	const char	*body;
	size_t		 len;
	const char	*location;	/* Location header, or NULL */
	int64_t		 retry_after;	/* seconds, -1 none */
	struct acme_problem prob;	/* status >= 400 */
};

typedef void	(*acme_fn)(struct acme *, const struct acme_resp *);
typedef void	(*acme_step)(struct acme *);
typedef void	(*acme_rfn)(struct acme *, const redisReply *, const char *);

/* The driver; owned by the worker (worker 0), or by its pending
 * callback once acme_free() found one (closing). */
struct acme {
	struct worker	*w;
	struct event	*timer;		/* next run, or a wait inside one */
	acme_step	 later;		/* what the timer runs */
	struct event	*poke;		/* each second: wanted by handshakes? */
	int		 again;		/* run again as soon as this one ends */
	struct config	*cfg;		/* the snapshot of the run (ref) */
	int		 busy;		/* a Redis or HTTP answer is due */
	int		 closing;	/* acme_free() came meanwhile */
	int		 running;	/* a run is under way */
	/* account */
	EVP_PKEY	*akey;
	char		*kid;		/* account URL */
	char		 thumb[JWSSIGN_THUMB_SIZE];
	struct acme_directory dir;
	char		*dir_url;	/* the directory <dir> came from */
	int64_t		 dir_at;	/* when; 0: read it again */
	char		 nonce[256];	/* the next Replay-Nonce, or "" */
	char		 sent[256];	/* the nonce of the request in flight */
	/* the request in flight */
	char		*url;
	char		*payload;	/* JSON, "" for POST-as-GET */
	int		 use_jwk;	/* newAccount: jwk, not kid */
	int		 tries;		/* badNonce retries */
	int		 nonce_fetch;	/* the newNonce request is out */
	const char	*accept;	/* Accept header line, or NULL */
	acme_fn		 next;
	acme_rfn	 rnext;		/* of the Redis command in flight */
	/* the hosts of the run: cfg->acme->hosts, then the custom domains */
	char		**domains;
	size_t		 ndomains;
	size_t		 nhosts;	/* of both */
	acme_step	 hosts_next;	/* once they are known */
	/* the host being ordered */
	size_t		 host;		/* index in hosts */
	char		 lock[33];	/* fencing token (hex) */
	int64_t		 failures;	/* of the host, from its hash */
	int64_t		 renew_at;	/* of its certificate, 0: none */
	int64_t		 retry_at;	/* after its last failure */
	char		 serial[128];	/* of its certificate */
	char		 certid[ACME_ARI_CERTID_MAX];	/* ARI; "": none */
	int		 renewal;	/* the host had a certificate */
	int64_t		 next_run;	/* Unix s: the earliest due time */
	char		*order_url;
	struct acme_order order;
	size_t		 authz_i;
	struct acme_authz authz;
	int		 polls;
	EVP_PKEY	*ckey;		/* the certificate's key */
};

/* The host being ordered; whether it is a custom domain. */
const char	*acme_host(const struct acme *a);
int		 acme_is_domain(const struct acme *a);
/* POST <payload> (JSON, "" for POST-as-GET) as JWS to <url>, then <next>. */
void		 acme_post(struct acme *a, const char *url, const char *payload,
		    acme_fn next);
/* GET <url> (no JWS: ARI's renewalInfo), then <next>. */
void		 acme_get(struct acme *a, const char *url, acme_fn next);
/* Run <fn> after <ms> milliseconds. */
void		 acme_after(struct acme *a, uint64_t ms, acme_step fn);
/* Run a Redis command for the order; the continuation gets reply or err. */
void		 acme_redis(struct acme *a, acme_rfn fn, int argc,
		    const char **argv, const size_t *argvlen);
/* The same for <script> with <nkeys> keys first. */
void		 acme_eval(struct acme *a, struct store_script *script,
		    acme_rfn fn, int nkeys, int argc, const char **argv,
		    const size_t *argvlen);
/* <layout> with <arg> (or none) under the prefix into <buf>; 0 or -1. */
int		 acme_key(const struct acme *a, char *buf, size_t size,
		    const char *layout, const char *arg);
/* The order of the current host failed, <detail> says why: record it,
 * go on with the next host. */
void		 acme_fail(struct acme *a, const char *detail);
/* The current host is done: its chain <pem> and key are stored. */
void		 acme_store_cert(struct acme *a, const char *pem, size_t len);
/* The key authorization of <token> into <out>; 0 or -1. */
int		 acme_keyauth(const struct acme *a, const char *token,
		    char *out, size_t size);
/* A run cannot go on: log <reason>, the step <what> and <detail>; the
 * next run is within a minute.  acme_run_down(): reason
 * acme_unavailable. */
void		 acme_run_fail(struct acme *a, const char *reason,
		    const char *what, const char *detail);
void		 acme_run_down(struct acme *a, const char *what,
		    const char *detail);
/* The run is over: drop its snapshot and plan the next one. */
void		 acme_run_end(struct acme *a);
/* Field <name> of HGETALL reply <r> (NULL if absent), or as a number. */
const char	*acme_field(const redisReply *r, const char *name);
int64_t		 acme_int(const redisReply *r, const char *name);
/* PEM text <pem> sealed for owner <aad>: a new string, or NULL. */
char		*acme_seal_pem(const struct acme *a, const char *pem,
		    const char *aad);
/* The PEM of <key> sealed for owner <aad>: a new string, or NULL. */
char		*acme_seal_key(const struct acme *a, EVP_PKEY *key,
		    const char *aad);
/* acmehost.c: the host a->host and those after it, then the run's end. */
void		 acme_host_next(struct acme *a);
/* acmehost.c: the run's hosts (the configuration's, then the custom
 * domains in Redis), then <next>; none: the run ends. */
void		 acme_hosts_load(struct acme *a, acme_step next);
/* acmehost.c: forget the run's hosts. */
void		 acme_hosts_clear(struct acme *a);
/* acmeorder.c: order a certificate for the current host. */
void		 acme_order_start(struct acme *a);
/* acmeorder.c: free the order's state. */
void		 acme_order_clear(struct acme *a);

#endif
