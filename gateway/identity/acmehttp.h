/*
 * The HTTP-01 responder (RFC 8555 8.3): GET or HEAD
 * /.well-known/acme-challenge/<token> on a plain listener, answered by
 * any instance from the key authorization the ACME client stored in Redis
 * (acme.h, ACME_LAYOUT_HTTP01), before any redirect or policy.  It lives
 * in identity/ because it answers through a pending step (step.h) like
 * the other flows that wait for Redis.
 */
#ifndef POSTERN_ACMEHTTP_H
#define POSTERN_ACMEHTTP_H

struct exchange;

/*
 * Answer <ex>, whose path starts with PLAIN_ACME_PREFIX: 200 text/plain
 * with the key authorization; 404 for a token that is not base64url of 1
 * to 128 characters or that Redis does not hold; 405 for a method other
 * than GET or HEAD; 503 when Redis fails.
 */
void	acmehttp_serve(struct exchange *ex);

#endif
