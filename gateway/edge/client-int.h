/*
 * What client.c (the connection) and clientreq.c (the request on it)
 * share.  Internal to the two.
 */
#ifndef POSTERN_CLIENT_INT_H
#define POSTERN_CLIENT_INT_H

#include <stdint.h>

#include "client.h"

#define CLIENT_MS_UNSET		UINT64_MAX	/* conn timeouts not known */

/* Enter <st>: what is read and the timeouts follow it. */
void	client_set_state(struct client *, enum client_state st);
/* A request head is complete: a new request id, its clock started. */
void	client_new_id(struct client *);
/* The access-log line and metrics of the current request. */
void	client_log(struct client *, const char *reason);
/* The request head is in: route it. */
void	client_decide(struct client *);
/* Form body bytes came: move them in, call back once whole. */
void	client_pump_form(struct client *);

#endif
