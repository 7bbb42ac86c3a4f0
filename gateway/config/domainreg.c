/*
 * The custom-domain registry in memory (see domainreg.h): a host map
 * under a read-write lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domainreg.h"
#include "hostmap.h"

/* Owned by struct server. */
struct domainreg {
	pthread_rwlock_t	lock;
	struct hostmap		map;	/* struct domainreg_entry */
};

struct domainreg *
domainreg_new(void)
{
	struct domainreg	*dr;

	if ((dr = calloc(1, sizeof(*dr))) == NULL)
		return NULL;
	if (pthread_rwlock_init(&dr->lock, NULL) != 0) {
		free(dr);
		return NULL;
	}
	return dr;
}

void
domainreg_free(struct domainreg *dr)
{
	if (dr == NULL)
		return;
	hostmap_clear(&dr->map, free);
	(void)pthread_rwlock_destroy(&dr->lock);
	free(dr);
}

/* A new entry for <host>, or NULL if a name does not fit. */
static struct domainreg_entry *
domainreg_entry(const char *host, const char *app, const char *org)
{
	struct domainreg_entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    hostmap_name(host, e->host) == -1 || app[0] == '\0' ||
	    org[0] == '\0' || strlen(app) >= sizeof(e->app) ||
	    strlen(org) >= sizeof(e->org)) {
		free(e);
		return NULL;
	}
	memcpy(e->app, app, strlen(app) + 1);
	memcpy(e->org, org, strlen(org) + 1);
	return e;
}

/* Put <e> into <m> (its owner from now on); 0 or -1 (then freed). */
static int
domainreg_put(struct hostmap *m, struct domainreg_entry *e)
{
	void	**slot;

	if ((slot = hostmap_slot(m, e->host)) == NULL) {
		free(e);
		return -1;
	}
	free(*slot);
	*slot = e;
	return 0;
}

int
domainreg_set(struct domainreg *dr, const char *host, const char *app,
    const char *org)
{
	struct domainreg_entry	*e;
	int			 rc;

	if ((e = domainreg_entry(host, app, org)) == NULL)
		return -1;
	pthread_rwlock_wrlock(&dr->lock);
	rc = domainreg_put(&dr->map, e);
	pthread_rwlock_unlock(&dr->lock);
	return rc;
}

void
domainreg_remove(struct domainreg *dr, const char *host)
{
	char	name[HOSTMAP_NAMELEN];
	void	*old = NULL;

	if (hostmap_name(host, name) == -1)
		return;
	pthread_rwlock_wrlock(&dr->lock);
	old = hostmap_remove(&dr->map, name);
	pthread_rwlock_unlock(&dr->lock);
	free(old);
}

int
domainreg_replace(struct domainreg *dr, const struct domainreg_entry *e,
    size_t n)
{
	struct hostmap		 m = { NULL, 0, 0 }, old;
	struct domainreg_entry	*ne;
	size_t			 i;

	for (i = 0; i < n; i++)
		if ((ne = domainreg_entry(e[i].host, e[i].app,
		    e[i].org)) == NULL || domainreg_put(&m, ne) == -1) {
			hostmap_clear(&m, free);
			return -1;
		}
	pthread_rwlock_wrlock(&dr->lock);
	old = dr->map;
	dr->map = m;
	pthread_rwlock_unlock(&dr->lock);
	hostmap_clear(&old, free);
	return 0;
}

int
domainreg_get(struct domainreg *dr, const char *host,
    struct domainreg_entry *out)
{
	const struct domainreg_entry	*e;
	char				 name[HOSTMAP_NAMELEN];
	int				 rc = -1;

	if (dr == NULL || hostmap_name(host, name) == -1)
		return -1;
	pthread_rwlock_rdlock(&dr->lock);
	if ((e = hostmap_get(&dr->map, name)) != NULL) {
		*out = *e;
		rc = 0;
	}
	pthread_rwlock_unlock(&dr->lock);
	return rc;
}

struct domainreg_entry *
domainreg_list(struct domainreg *dr, size_t *n)
{
	struct domainreg_entry	*out = NULL;
	size_t			 i;

	*n = 0;
	if (dr == NULL)
		return NULL;
	pthread_rwlock_rdlock(&dr->lock);
	if (dr->map.n > 0 &&
	    (out = calloc(dr->map.n, sizeof(*out))) != NULL) {
		for (i = 0; i < dr->map.n; i++)
			out[i] = *(const struct domainreg_entry *)
			    dr->map.v[i].val;
		*n = dr->map.n;
	}
	pthread_rwlock_unlock(&dr->lock);
	return out;
}
