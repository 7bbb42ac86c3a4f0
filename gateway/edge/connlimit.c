/*
 * Per-address connection counts (see connlimit.h): a chained hash table
 * with a random key, so that a client cannot choose addresses that all
 * land in one chain.  An entry exists only while its count is above zero.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "connlimit.h"

#define CONNLIMIT_BUCKETS	4096	/* a power of two */

struct connlimit_entry {
	struct connlimit_entry	*next;
	struct connlimit_key	 key;
	uint64_t		 count;
};

/* Owned by struct server; shared by every worker. */
struct connlimit {
	pthread_mutex_t		 lock;		/* guards buckets */
	uint64_t		 seed;
	struct connlimit_entry	*buckets[CONNLIMIT_BUCKETS];
};

struct connlimit *
connlimit_new(void)
{
	struct connlimit	*cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	if (RAND_bytes((unsigned char *)&cl->seed, sizeof(cl->seed)) != 1 ||
	    pthread_mutex_init(&cl->lock, NULL) != 0) {
		free(cl);
		return NULL;
	}
	return cl;
}

void
connlimit_free(struct connlimit *cl)
{
	struct connlimit_entry	*e, *next;
	size_t			 i;

	if (cl == NULL)
		return;
	for (i = 0; i < CONNLIMIT_BUCKETS; i++)
		for (e = cl->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

/* The key of <sa>; family 0 for addresses that are not counted. */
static void
connlimit_key_of(const struct sockaddr *sa, struct connlimit_key *key)
{
	memset(key, 0, sizeof(*key));
	if (sa->sa_family == AF_INET) {
		key->family = AF_INET;
		memcpy(key->addr, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		key->family = AF_INET6;
		memcpy(key->addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
	}
}

/* A keyed 64-bit mix of the address (splitmix64 rounds). */
static size_t
connlimit_hash(const struct connlimit *cl, const struct connlimit_key *k)
{
	uint64_t	h = cl->seed ^ (uint64_t)k->family, w;
	size_t		i;

	for (i = 0; i < sizeof(k->addr); i += 8) {
		memcpy(&w, k->addr + i, 8);
		h ^= w;
		h += 0x9e3779b97f4a7c15ULL;
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	return (size_t)(h & (CONNLIMIT_BUCKETS - 1));
}

static struct connlimit_entry **
connlimit_find(struct connlimit *cl, const struct connlimit_key *key)
{
	struct connlimit_entry	**ep;

	ep = &cl->buckets[connlimit_hash(cl, key)];
	for (; *ep != NULL; ep = &(*ep)->next)
		if ((*ep)->key.family == key->family &&
		    memcmp((*ep)->key.addr, key->addr, sizeof(key->addr)) == 0)
			break;
	return ep;
}

int
connlimit_acquire(struct connlimit *cl, const struct sockaddr *sa,
    uint64_t max, struct connlimit_key *key)
{
	struct connlimit_entry	**ep, *e;
	int			  rc = 0;

	connlimit_key_of(sa, key);
	if (key->family == 0)
		return 0;
	pthread_mutex_lock(&cl->lock);
	ep = connlimit_find(cl, key);
	if ((e = *ep) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			rc = -1;
		else {
			e->key = *key;
			*ep = e;
		}
	}
	if (rc == 0 && max != 0 && e->count >= max)
		rc = -1;
	if (rc == 0)
		e->count++;
	pthread_mutex_unlock(&cl->lock);
	if (rc == -1)
		key->family = 0;	/* nothing to release */
	return rc;
}

void
connlimit_release(struct connlimit *cl, struct connlimit_key *key)
{
	struct connlimit_entry	**ep, *e;

	if (cl == NULL || key->family == 0)
		return;
	pthread_mutex_lock(&cl->lock);
	ep = connlimit_find(cl, key);
	if ((e = *ep) != NULL && --e->count == 0) {
		*ep = e->next;
		free(e);
	}
	pthread_mutex_unlock(&cl->lock);
	key->family = 0;
}
