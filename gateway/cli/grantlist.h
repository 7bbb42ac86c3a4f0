/*
 * `postern apikey list` and `postern share list` [--org ORG] [--json]:
 * a header row and one tab-separated row per grant, or a JSON array
 * (fields in docs/cli.md).  Secrets are never stored, so never shown.
 */
#ifndef POSTERN_GRANTLIST_H
#define POSTERN_GRANTLIST_H

#include "grant.h"

struct cli;

/* List the grants of <kind> (of <org> only, unless NULL) over c->ss,
 * connected; returns the exit status. */
int	grantlist_run(struct cli *c, enum grant_kind kind, const char *org);

#endif
