/*
 * Cleartext requests: what a plain-HTTP listener may answer, and where it
 * sends browsers.  Credentials never travel in clear to the gateway: on a
 * plain listener only the ACME challenge path and the health endpoints
 * are answered, unless the request came through a trusted proxy that
 * terminated TLS (its peer is in trusted_proxies and it sent
 * X-Forwarded-Proto: https).  Redirects go only to a configured host.
 */
#ifndef POSTERN_PLAIN_H
#define POSTERN_PLAIN_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct request;

/* Reserved on plain listeners for ACME http-01, answered before any
 * redirect (worker_ops.challenge). */
#define PLAIN_ACME_PREFIX	"/.well-known/acme-challenge/"

enum plain_path {
	PLAIN_PATH_APP = 0,	/* an app's path: the listener's rule */
	PLAIN_PATH_ACME,	/* PLAIN_ACME_PREFIX... */
	PLAIN_PATH_HEALTH,	/* /.postern/health, /.postern/ready */
	PLAIN_PATH_GATEWAY,	/* any other /.postern/ path: never in clear */
};

/* Which of the above the normalised <path> is. */
enum plain_path	 plain_path_kind(const char *path);

/*
 * Whether <req> says, in exactly one X-Forwarded-Proto header, that it
 * reached the proxy in front over HTTPS.  Only meaningful when the peer is
 * a trusted proxy; the caller checks that.
 */
int		 plain_forwarded_https(const struct request *req);

/*
 * The https:// URL of <req> on <port> (443: none written) into <out> of
 * <outlen> bytes: the Host (lower case, port and one trailing dot
 * dropped) must be one that <cfg> serves, with only letters, digits, '-'
 * and '.'.  Returns 0, or -1 for an unknown or odd host (the caller
 * answers 421, never a redirect), a URL longer than <outlen> or one with
 * a byte that is not printable ASCII.
 */
int		 plain_location(const struct config *cfg,
		    const struct request *req, uint16_t port, char *out,
		    size_t outlen);

#endif
