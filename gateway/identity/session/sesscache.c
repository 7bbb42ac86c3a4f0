/*
 * A worker's session cache (see sesscache.h): entries in a hash table by
 * session hash, chained per user for a user's reports, and on a list in
 * order of use for eviction.  Times are milliseconds of one clock (the
 * caller's: the worker uses CLOCK_MONOTONIC).
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "grant.h"
#include "metrics.h"
#include "rcstr.h"
#include "session.h"
#include "sesscache.h"

#define SC_AKEYMAX	400		/* an assertion's key string */

struct sc_jwt {
	char		 akey[SC_AKEYMAX];
	struct rcstr	*tok;
	int64_t		 iat;		/* Unix seconds */
};

struct sc_entry {
	LIST_ENTRY(sc_entry)	 hlink;		/* bucket by hash */
	LIST_ENTRY(sc_entry)	 ulink;		/* bucket by user */
	TAILQ_ENTRY(sc_entry)	 lru;		/* most recent first */
	struct session		 s;
	char			 scope[SESSCACHE_SCOPEMAX];
	int64_t			 expires_ms;	/* Redis' expiry */
	int64_t			 touch_ms;	/* slide due: go to Redis */
	struct sc_jwt		 jwt[SESSCACHE_JWTS];
};

LIST_HEAD(sc_bucket, sc_entry);

/* A grant: a quarter of the cache's places at most. */
struct sc_grant {
	LIST_ENTRY(sc_grant)	 link;
	TAILQ_ENTRY(sc_grant)	 lru;
	char			 name[SESSCACHE_GRANTMAX];
	char			 hash[TOKEN_HASHLEN + 1];
	struct grant		 g;
};

LIST_HEAD(sc_gbucket, sc_grant);

enum sc_kind {
	SC_SESSION = 1,
	SC_USER,
	SC_GRANT,
};

/* A report remembered for tickets: the session hash or user id. */
struct sc_report {
	uint64_t	 seq;
	enum sc_kind	 kind;
	char		 id[SESSION_HASH_LEN + 1];
};

/* A cookie id and its hash (sesscache_id_hash()). */
struct sc_memo {
	char		id[SESSION_ID_LEN];
	char		hash[SESSION_HASH_LEN + 1];	/* "": empty */
};

struct sesscache {
	size_t			 max, n;
	size_t			 mask;		/* buckets - 1 */
	struct sc_bucket	*byhash;
	struct sc_bucket	*byuser;
	TAILQ_HEAD(sc_lru, sc_entry) lru;
	struct sc_gbucket	*bygrant;
	TAILQ_HEAD(sc_glru, sc_grant) glru;
	size_t			 ngrants, maxgrants;
	uint64_t		 seq;		/* reports so far */
	struct sc_report	 ring[SESSCACHE_RING];
	struct metrics		*m;
	struct sc_memo		 memo[SESSCACHE_MEMO];
};

static void	sc_grant_drop(struct sesscache *, const char *, size_t);

#define SC_COUNT(sc, field)	do {					\
	if ((sc)->m != NULL)						\
		metrics_inc(&(sc)->m->field);				\
} while (0)

static void
sc_gauge(struct sesscache *sc)
{
	if (sc->m != NULL)
		atomic_store(&sc->m->scache_entries, sc->n);
}

struct sesscache *
sesscache_new(size_t max, struct metrics *m)
{
	struct sesscache	*sc;
	size_t			 nb = 16;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	while (nb < max * 2 && nb < ((size_t)1 << 30))
		nb <<= 1;
	sc->max = max;
	sc->maxgrants = max / 4 > 0 ? max / 4 : max;
	sc->mask = nb - 1;
	sc->m = m;
	TAILQ_INIT(&sc->lru);
	TAILQ_INIT(&sc->glru);
	if ((sc->byhash = calloc(nb, sizeof(*sc->byhash))) == NULL ||
	    (sc->byuser = calloc(nb, sizeof(*sc->byuser))) == NULL ||
	    (sc->bygrant = calloc(nb, sizeof(*sc->bygrant))) == NULL) {
		sesscache_free(sc);
		return NULL;
	}
	return sc;
}

static void
sc_jwt_clear(struct sc_jwt *j)
{
	rcstr_unref(j->tok);
	j->tok = NULL;
	j->akey[0] = '\0';
}

static void
sc_remove(struct sesscache *sc, struct sc_entry *e)
{
	size_t	i;

	LIST_REMOVE(e, hlink);
	LIST_REMOVE(e, ulink);
	TAILQ_REMOVE(&sc->lru, e, lru);
	for (i = 0; i < SESSCACHE_JWTS; i++)
		sc_jwt_clear(&e->jwt[i]);
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
	sc->n--;
}

static void
sc_grant_remove(struct sesscache *sc, struct sc_grant *e)
{
	LIST_REMOVE(e, link);
	TAILQ_REMOVE(&sc->glru, e, lru);
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
	sc->ngrants--;
}

/* Empty the cache (its tables must exist). */
static void
sc_empty(struct sesscache *sc)
{
	struct sc_entry	*e;
	struct sc_grant	*g;

	while ((e = TAILQ_FIRST(&sc->lru)) != NULL)
		sc_remove(sc, e);
	while ((g = TAILQ_FIRST(&sc->glru)) != NULL)
		sc_grant_remove(sc, g);
}

void
sesscache_flush(struct sesscache *sc)
{
	if (sc == NULL)
		return;
	sc_empty(sc);
	SC_COUNT(sc, scache_flushes);
	sc_gauge(sc);
}

void
sesscache_free(struct sesscache *sc)
{
	if (sc == NULL)
		return;
	if (sc->byhash != NULL && sc->byuser != NULL && sc->bygrant != NULL)
		sc_empty(sc);
	free(sc->byhash);
	free(sc->byuser);
	free(sc->bygrant);
	OPENSSL_cleanse(sc->memo, sizeof(sc->memo));
	free(sc);
}

size_t
sesscache_count(const struct sesscache *sc)
{
	return sc->n;
}

/* A session hash is hex SHA-256: its first 16 digits are spread enough. */
static size_t
sc_hash_slot(const struct sesscache *sc, const char *hash)
{
	uint64_t	v = 0;
	size_t		i;
	int		c;

	for (i = 0; i < 16 && hash[i] != '\0'; i++) {
		c = hash[i];
		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' +
		    10);
	}
	return (size_t)v & sc->mask;
}

/* Whether cookie ids <a> and <b> are equal, in constant time: a word at a
 * time, with no branch on the bytes. */
static int
sc_id_eq(const char *a, const char *b)
{
	uint64_t	x, y, d = 0;
	size_t		i;

	for (i = 0; i + 8 <= SESSION_ID_LEN; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	for (; i < SESSION_ID_LEN; i++)
		d |= (uint64_t)((unsigned char)a[i] ^ (unsigned char)b[i]);
	return d == 0;
}

void
sesscache_id_hash(struct sesscache *sc, const char *id, char *hash)
{
	struct sc_memo	*m;
	uint64_t	 v = 0;
	size_t		 i;

	/* The id is random: its first characters pick the place.  An
	 * attacker choosing ids can only make them miss. */
	for (i = 0; i < 8 && id[i] != '\0'; i++)
		v = v * 64 + (unsigned char)id[i];
	if (sc == NULL || strlen(id) != SESSION_ID_LEN) {
		session_hash(id, hash);
		return;
	}
	m = &sc->memo[v % SESSCACHE_MEMO];
	if (m->hash[0] != '\0' &&
	    sc_id_eq(m->id, id)) {
		memcpy(hash, m->hash, sizeof(m->hash));
		return;
	}
	session_hash(id, hash);
	memcpy(m->id, id, SESSION_ID_LEN);
	memcpy(m->hash, hash, sizeof(m->hash));
}

/* FNV-1a of a user id (<len> bytes). */
static size_t
sc_user_slot(const struct sesscache *sc, const char *id, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	return (size_t)h & sc->mask;
}

static struct sc_entry *
sc_find(struct sesscache *sc, const char *hash)
{
	struct sc_entry	*e;

	LIST_FOREACH(e, &sc->byhash[sc_hash_slot(sc, hash)], hlink)
		if (strcmp(e->s.hash, hash) == 0)
			return e;
	return NULL;
}

const struct session *
sesscache_get(struct sesscache *sc, const char *hash, const char *scope,
    uint64_t epoch, int64_t now_ms)
{
	struct sc_entry	*e;

	if (sc == NULL || sc->max == 0)
		return NULL;
	if (epoch == 0 || (e = sc_find(sc, hash)) == NULL ||
	    strcmp(e->scope, scope) != 0 || now_ms >= e->expires_ms ||
	    now_ms >= e->touch_ms) {
		SC_COUNT(sc, scache_misses);
		return NULL;
	}
	if (e != TAILQ_FIRST(&sc->lru)) {
		TAILQ_REMOVE(&sc->lru, e, lru);
		TAILQ_INSERT_HEAD(&sc->lru, e, lru);
	}
	SC_COUNT(sc, scache_hits);
	return &e->s;
}

void
sesscache_ticket(struct sesscache *sc, uint64_t epoch, int64_t now_ms,
    struct sesscache_ticket *t)
{
	t->epoch = sc != NULL && sc->max > 0 ? epoch : 0;
	t->seq = sc != NULL ? sc->seq : 0;
	t->sent_ms = now_ms;
}

/* Was a report since <seq> about <id> of <kind>? */
static int
sc_reported_since(const struct sesscache *sc, uint64_t seq,
    enum sc_kind kind, const char *id)
{
	const struct sc_report *r;
	uint64_t	 i;

	if (sc->seq - seq >= SESSCACHE_RING)
		return 1;	/* too many to tell: assume so */
	for (i = seq; i < sc->seq; i++) {
		r = &sc->ring[i % SESSCACHE_RING];
		if (r->kind == kind && strcmp(r->id, id) == 0)
			return 1;
	}
	return 0;
}

int
sesscache_put(struct sesscache *sc, const struct sesscache_ticket *t,
    uint64_t epoch, const struct session *s, const char *scope,
    int64_t pttl_ms, int64_t touch_ms)
{
	struct sc_entry	*e;
	int64_t		 exp;

	if (sc == NULL || sc->max == 0 || t->epoch == 0 || t->epoch != epoch ||
	    strlen(scope) >= SESSCACHE_SCOPEMAX || pttl_ms <= 0 ||
	    touch_ms <= 0 ||
	    sc_reported_since(sc, t->seq, SC_SESSION, s->hash) ||
	    sc_reported_since(sc, t->seq, SC_USER, s->user))
		return 0;
	/* Expired by Redis <pttl_ms> after it read the key, which is after
	 * the ticket was taken. */
	exp = t->sent_ms + pttl_ms;
	if ((e = sc_find(sc, s->hash)) != NULL)
		sc_remove(sc, e);
	if (sc->n >= sc->max)
		sc_remove(sc, TAILQ_LAST(&sc->lru, sc_lru));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return 0;
	e->s = *s;
	(void)strcpy(e->scope, scope);
	e->expires_ms = exp;
	e->touch_ms = t->sent_ms + touch_ms;
	LIST_INSERT_HEAD(&sc->byhash[sc_hash_slot(sc, s->hash)], e, hlink);
	LIST_INSERT_HEAD(&sc->byuser[sc_user_slot(sc, s->user,
	    strlen(s->user))], e, ulink);
	TAILQ_INSERT_HEAD(&sc->lru, e, lru);
	sc->n++;
	sc_gauge(sc);
	return 1;
}

static void
sc_note(struct sesscache *sc, enum sc_kind kind, const char *id, size_t len)
{
	struct sc_report *r = &sc->ring[sc->seq % SESSCACHE_RING];

	if (len >= sizeof(r->id))
		len = sizeof(r->id) - 1;
	r->seq = sc->seq++;
	r->kind = kind;
	memcpy(r->id, id, len);
	r->id[len] = '\0';
}

static void
sc_drop_user(struct sesscache *sc, const char *id, size_t len)
{
	struct sc_entry	*e, *next;

	for (e = LIST_FIRST(&sc->byuser[sc_user_slot(sc, id, len)]);
	    e != NULL; e = next) {
		next = LIST_NEXT(e, ulink);
		if (strlen(e->s.user) == len && memcmp(e->s.user, id, len) == 0) {
			sc_remove(sc, e);
			SC_COUNT(sc, scache_invalidations);
		}
	}
}

void
sesscache_drop(struct sesscache *sc, const char *hash)
{
	struct sc_entry	*e;

	if (sc != NULL && (e = sc_find(sc, hash)) != NULL) {
		sc_remove(sc, e);
		SC_COUNT(sc, scache_invalidations);
		sc_gauge(sc);
	}
}

void
sesscache_invalidate(struct sesscache *sc, const char *name, size_t len)
{
	char		 hash[SESSION_HASH_LEN + 1];
	const char	*id, *end;

	if (sc == NULL)
		return;
	if (len == 8 + SESSION_HASH_LEN && memcmp(name, "session:", 8) == 0) {
		memcpy(hash, name + 8, SESSION_HASH_LEN);
		hash[SESSION_HASH_LEN] = '\0';
		sc_note(sc, SC_SESSION, hash, SESSION_HASH_LEN);
		sesscache_drop(sc, hash);
		return;
	}
	if ((len > 7 && memcmp(name, "apikey:", 7) == 0) ||
	    (len > 6 && memcmp(name, "share:", 6) == 0)) {
		end = memchr(name, ':', len);
		end = memchr(end + 1, ':', len - (size_t)(end + 1 - name));
		sc_grant_drop(sc, name, end != NULL ? (size_t)(end - name) :
		    len);
		return;
	}
	if (len > 5 && memcmp(name, "user:", 5) == 0) {
		id = name + 5;
		end = memchr(id, ':', len - 5);
		len = end != NULL ? (size_t)(end - id) : len - 5;
		sc_note(sc, SC_USER, id, len);
		sc_drop_user(sc, id, len);
		sc_gauge(sc);
	}
}

static struct sc_grant *
sc_grant_find(struct sesscache *sc, const char *name, size_t len)
{
	struct sc_grant	*e;

	LIST_FOREACH(e, &sc->bygrant[sc_user_slot(sc, name, len)], link)
		if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

static void
sc_grant_drop(struct sesscache *sc, const char *name, size_t len)
{
	struct sc_grant	*e;

	sc_note(sc, SC_GRANT, name, len);
	if ((e = sc_grant_find(sc, name, len)) != NULL) {
		sc_grant_remove(sc, e);
		SC_COUNT(sc, scache_invalidations);
	}
}

int
sesscache_grant_get(struct sesscache *sc, const char *name, uint64_t epoch,
    struct grant *g, char *hash)
{
	struct sc_grant	*e;

	if (sc == NULL || sc->max == 0 || epoch == 0 ||
	    (e = sc_grant_find(sc, name, strlen(name))) == NULL) {
		if (sc != NULL && sc->max > 0)
			SC_COUNT(sc, scache_misses);
		return 0;
	}
	if (e != TAILQ_FIRST(&sc->glru)) {
		TAILQ_REMOVE(&sc->glru, e, lru);
		TAILQ_INSERT_HEAD(&sc->glru, e, lru);
	}
	*g = e->g;
	(void)memcpy(hash, e->hash, sizeof(e->hash));
	SC_COUNT(sc, scache_hits);
	return 1;
}

int
sesscache_grant_put(struct sesscache *sc, const struct sesscache_ticket *t,
    uint64_t epoch, const char *name, const struct grant *g,
    const char *hash)
{
	struct sc_grant	*e;
	size_t		 len = strlen(name);

	if (sc == NULL || sc->max == 0 || t->epoch == 0 || t->epoch != epoch ||
	    len >= SESSCACHE_GRANTMAX || strlen(hash) != TOKEN_HASHLEN ||
	    sc_reported_since(sc, t->seq, SC_GRANT, name))
		return 0;
	if ((e = sc_grant_find(sc, name, len)) != NULL)
		sc_grant_remove(sc, e);
	if (sc->ngrants >= sc->maxgrants)
		sc_grant_remove(sc, TAILQ_LAST(&sc->glru, sc_glru));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return 0;
	(void)memcpy(e->name, name, len + 1);
	(void)memcpy(e->hash, hash, TOKEN_HASHLEN + 1);
	e->g = *g;
	LIST_INSERT_HEAD(&sc->bygrant[sc_user_slot(sc, name, len)], e, link);
	TAILQ_INSERT_HEAD(&sc->glru, e, lru);
	sc->ngrants++;
	return 1;
}

struct rcstr *
sesscache_jwt_get(struct sesscache *sc, const char *hash, const char *akey,
    int64_t now, int64_t reuse_s)
{
	struct sc_entry	*e;
	struct sc_jwt	*j;
	size_t		 i;

	if (sc == NULL || (e = sc_find(sc, hash)) == NULL)
		return NULL;
	for (i = 0; i < SESSCACHE_JWTS; i++) {
		j = &e->jwt[i];
		if (j->tok != NULL && strcmp(j->akey, akey) == 0 &&
		    now >= j->iat && now - j->iat < reuse_s)
			return rcstr_ref(j->tok);
	}
	return NULL;
}

void
sesscache_jwt_put(struct sesscache *sc, const char *hash, const char *akey,
    struct rcstr *jwt, int64_t iat)
{
	struct sc_entry	*e;
	struct sc_jwt	*j, *slot = NULL;
	size_t		 i;

	if (sc == NULL || strlen(akey) >= SC_AKEYMAX ||
	    (e = sc_find(sc, hash)) == NULL)
		return;
	for (i = 0; i < SESSCACHE_JWTS; i++) {
		j = &e->jwt[i];
		if (j->tok == NULL || strcmp(j->akey, akey) == 0) {
			slot = j;
			break;
		}
		if (slot == NULL || j->iat < slot->iat)
			slot = j;	/* the oldest */
	}
	sc_jwt_clear(slot);
	(void)strcpy(slot->akey, akey);
	slot->tok = rcstr_ref(jwt);
	slot->iat = iat;
}
