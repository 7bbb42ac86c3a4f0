/*
 * The admin listener's /status: one JSON object for `postern status` and
 * `postern reload` (the running process, its last reload, connections,
 * requests, Redis and the session caches of every worker).  Field names
 * are stable; docs/operations.md lists them.
 */
#ifndef POSTERN_ADMINSTATUS_H
#define POSTERN_ADMINSTATUS_H

struct evbuffer;
struct server;

/* Append the status of <srv> to <b>; from the main thread. */
void	admin_status(struct server *srv, struct evbuffer *b);

#endif
