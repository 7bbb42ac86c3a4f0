/*
 * Organisations for the command-line tools, beyond user.h's add and
 * member: reading every org or one in full, and renaming one.  Each is one
 * Lua script on the synchronous store.
 *
 * A rename moves, in one step, everything that names the slug in Redis:
 * the org hash and the orgs set, its members on both sides (org:<slug>:
 * members and each user:<id>:orgs), the membership snapshot of each of
 * the members' sessions (so signed-in members keep their access under the
 * new name, and nobody gains one), its custom domains (org:<slug>:domains
 * and each domain:<host>'s org, announced on acme:events so every
 * gateway's registry follows), and the org of its API keys and share
 * links.  The configuration is not Redis' to change: the caller refuses a
 * slug that the configuration names (orgcmd.c).
 */
#ifndef POSTERN_ORGADMIN_H
#define POSTERN_ORGADMIN_H

#include <stddef.h>

#include "store.h"

struct store_sync;

/*
 * Every org: {slug, name, created, members}... sorted by slug, or NULL
 * with <err> set.  The caller frees the reply.
 */
redisReply	*org_list_read(struct store_sync *ss, char *err,
		    size_t errlen);
/*
 * Org <slug> in full: {{name, created}, {id, role, email}..., {host, app,
 * state}..., API keys, share links}, nil if there is no such org, or NULL
 * with <err> set.  The caller frees the reply.
 */
redisReply	*org_show_read(struct store_sync *ss, const char *slug,
		    char *err, size_t errlen);
/*
 * Rename <from> to <to>: 0 and the members moved in *<nmembers>,
 * USER_NOTFOUND (no org <from>), USER_EXISTS (<to> is taken), or -1.
 */
int		 org_rename(struct store_sync *ss, const char *from,
		    const char *to, long *nmembers, char *err, size_t errlen);

#endif
