/*
 * The session cache (sesscache.c): hits and misses, expiry and the slide
 * deadline, scope, eviction of the least recently used, drops by session
 * and by user from change reports, the ticket that keeps a reply racing a
 * report out, flushes, and the assertions kept per session.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "grant.h"
#include "metrics.h"
#include "rcstr.h"
#include "session.h"
#include "sesscache.h"

#define EPOCH	7
#define SCOPE	"app:demo"

static struct metrics	m;

/* A session of user <user> stored under a hash made of <n>. */
static void
mk(struct session *s, unsigned int n, const char *user)
{
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->hash, sizeof(s->hash), "%016x%048x", n * 2654435761u,
	    n);
	(void)snprintf(s->user, sizeof(s->user), "%s", user);
	(void)snprintf(s->email, sizeof(s->email), "%s@example.com", user);
}

/* Put <s> fetched at <now> (expiring in 10 s, slide due in 1 s). */
static int
put_at(struct sesscache *sc, const struct session *s, int64_t now)
{
	struct sesscache_ticket t;

	sesscache_ticket(sc, EPOCH, now, &t);
	return sesscache_put(sc, &t, EPOCH, s, SCOPE, 10000, 1000);
}

/* The change report of session <hash>'s key. */
static void
key(char *buf, size_t size, const char *hash)
{
	(void)snprintf(buf, size, "session:%s", hash);
}

static void
test_hit_miss_expiry(void **state)
{
	struct sesscache	*sc = sesscache_new(8, &m);
	struct session		 s;
	const struct session	*got;

	(void)state;
	memset(&m, 0, sizeof(m));
	mk(&s, 1, "u1");
	assert_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 100));
	assert_int_equal(put_at(sc, &s, 100), 1);
	got = sesscache_get(sc, s.hash, SCOPE, EPOCH, 150);
	assert_non_null(got);
	assert_string_equal(got->user, "u1");
	assert_string_equal(got->email, "u1@example.com");
	/* Another scope, tracking off, another period's 0: misses. */
	assert_null(sesscache_get(sc, s.hash, "app:other", EPOCH, 150));
	assert_null(sesscache_get(sc, s.hash, SCOPE, 0, 150));
	/* The slide is due 1 s after the fetch: Redis must see it. */
	assert_non_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 1099));
	assert_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 1100));
	assert_int_equal(atomic_load(&m.scache_hits), 2);
	assert_int_equal(atomic_load(&m.scache_misses), 4);
	sesscache_free(sc);
}

/* Redis' expiry comes before the slide: never served past it. */
static void
test_expiry_before_slide(void **state)
{
	struct sesscache	*sc = sesscache_new(8, NULL);
	struct sesscache_ticket	 t;
	struct session		 s;

	(void)state;
	mk(&s, 2, "u2");
	sesscache_ticket(sc, EPOCH, 1000, &t);
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 300, 5000),
	    1);
	assert_non_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 1299));
	assert_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 1300));
	/* Nothing cached for a key that already expired or is due. */
	sesscache_ticket(sc, EPOCH, 1000, &t);
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 0, 5000), 0);
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 300, 0), 0);
	sesscache_free(sc);
}

static void
test_eviction_lru(void **state)
{
	struct sesscache	*sc = sesscache_new(3, NULL);
	struct session		 s[4];
	unsigned int		 i;

	(void)state;
	for (i = 0; i < 4; i++)
		mk(&s[i], 10 + i, "u");
	for (i = 0; i < 3; i++)
		assert_int_equal(put_at(sc, &s[i], 0), 1);
	/* s[0] used: s[1] is now the least recent and makes room. */
	assert_non_null(sesscache_get(sc, s[0].hash, SCOPE, EPOCH, 1));
	assert_int_equal(put_at(sc, &s[3], 2), 1);
	assert_int_equal(sesscache_count(sc), 3);
	assert_null(sesscache_get(sc, s[1].hash, SCOPE, EPOCH, 3));
	assert_non_null(sesscache_get(sc, s[0].hash, SCOPE, EPOCH, 3));
	assert_non_null(sesscache_get(sc, s[2].hash, SCOPE, EPOCH, 3));
	assert_non_null(sesscache_get(sc, s[3].hash, SCOPE, EPOCH, 3));
	/* The same session again replaces its entry, no growth. */
	assert_int_equal(put_at(sc, &s[3], 4), 1);
	assert_int_equal(sesscache_count(sc), 3);
	sesscache_free(sc);
}

static void
test_invalidate(void **state)
{
	struct sesscache	*sc = sesscache_new(16, &m);
	struct session		 a1, a2, b1;
	char			 k[128];

	(void)state;
	memset(&m, 0, sizeof(m));
	mk(&a1, 20, "alice");
	mk(&a2, 21, "alice");
	mk(&b1, 22, "alicex");	/* a user id that starts like another */
	assert_int_equal(put_at(sc, &a1, 0), 1);
	assert_int_equal(put_at(sc, &a2, 0), 1);
	assert_int_equal(put_at(sc, &b1, 0), 1);
	/* A session's key: that session only. */
	key(k, sizeof(k), a1.hash);
	sesscache_invalidate(sc, k, strlen(k));
	assert_null(sesscache_get(sc, a1.hash, SCOPE, EPOCH, 1));
	assert_non_null(sesscache_get(sc, a2.hash, SCOPE, EPOCH, 1));
	/* Any key of a user: all of that user's sessions, not another's. */
	sesscache_invalidate(sc, "user:alice:orgs", 15);
	assert_null(sesscache_get(sc, a2.hash, SCOPE, EPOCH, 1));
	assert_non_null(sesscache_get(sc, b1.hash, SCOPE, EPOCH, 1));
	sesscache_invalidate(sc, "user:alicex", 11);
	assert_null(sesscache_get(sc, b1.hash, SCOPE, EPOCH, 1));
	assert_int_equal(sesscache_count(sc), 0);
	assert_int_equal(atomic_load(&m.scache_invalidations), 3);
	/* Keys of no interest, malformed ones: nothing happens. */
	assert_int_equal(put_at(sc, &a1, 0), 1);
	sesscache_invalidate(sc, "users", 5);
	sesscache_invalidate(sc, "session:abc", 11);
	sesscache_invalidate(sc, "user:", 5);
	sesscache_invalidate(sc, "email:alice@example.com", 23);
	assert_non_null(sesscache_get(sc, a1.hash, SCOPE, EPOCH, 1));
	sesscache_drop(sc, a1.hash);
	assert_null(sesscache_get(sc, a1.hash, SCOPE, EPOCH, 1));
	sesscache_free(sc);
}

/* A report that arrives between the lookup and its reply wins. */
static void
test_ticket_race(void **state)
{
	struct sesscache	*sc = sesscache_new(16, NULL);
	struct sesscache_ticket	 t;
	struct session		 s, o;
	char			 k[128];
	int			 i;

	(void)state;
	mk(&s, 30, "carol");
	mk(&o, 31, "dave");
	key(k, sizeof(k), s.hash);
	sesscache_ticket(sc, EPOCH, 0, &t);
	sesscache_invalidate(sc, k, strlen(k));
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 1000, 1000),
	    0);
	sesscache_ticket(sc, EPOCH, 0, &t);
	sesscache_invalidate(sc, "user:carol:sessions", 19);
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 1000, 1000),
	    0);
	/* Reports about others do not stop it. */
	sesscache_ticket(sc, EPOCH, 0, &t);
	sesscache_invalidate(sc, "user:dave", 9);
	key(k, sizeof(k), o.hash);
	sesscache_invalidate(sc, k, strlen(k));
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 1000, 1000),
	    1);
	/* Too many reports to tell: not cached. */
	sesscache_ticket(sc, EPOCH, 0, &t);
	for (i = 0; i < SESSCACHE_RING; i++)
		sesscache_invalidate(sc, "user:dave", 9);
	assert_int_equal(sesscache_put(sc, &t, EPOCH, &s, SCOPE, 1000, 1000),
	    0);
	/* The tracking period changed, or there was none. */
	sesscache_ticket(sc, EPOCH, 0, &t);
	assert_int_equal(sesscache_put(sc, &t, EPOCH + 1, &s, SCOPE, 1000,
	    1000), 0);
	sesscache_ticket(sc, 0, 0, &t);
	assert_int_equal(sesscache_put(sc, &t, 0, &s, SCOPE, 1000, 1000), 0);
	sesscache_free(sc);
}

static void
test_flush_and_off(void **state)
{
	struct sesscache	*sc = sesscache_new(16, &m), *off;
	struct session		 s;

	(void)state;
	memset(&m, 0, sizeof(m));
	mk(&s, 40, "erin");
	assert_int_equal(put_at(sc, &s, 0), 1);
	assert_int_equal(atomic_load(&m.scache_entries), 1);
	sesscache_flush(sc);
	assert_null(sesscache_get(sc, s.hash, SCOPE, EPOCH, 1));
	assert_int_equal(atomic_load(&m.scache_flushes), 1);
	assert_int_equal(atomic_load(&m.scache_entries), 0);
	sesscache_free(sc);
	/* Size 0: holds nothing, counts nothing as a hit. */
	off = sesscache_new(0, NULL);
	assert_int_equal(put_at(off, &s, 0), 0);
	assert_null(sesscache_get(off, s.hash, SCOPE, EPOCH, 1));
	sesscache_free(off);
}

static void
test_jwt(void **state)
{
	struct sesscache	*sc = sesscache_new(16, NULL);
	struct session		 s;
	struct rcstr		*t[SESSCACHE_JWTS + 1], *got;
	char			 ak[32];
	char			 k[128];
	int			 i;

	(void)state;
	mk(&s, 50, "frank");
	/* Not cached: nothing kept. */
	t[0] = rcstr_new("a.b.c", 5);
	sesscache_jwt_put(sc, s.hash, "app\norg", t[0], 100);
	assert_null(sesscache_jwt_get(sc, s.hash, "app\norg", 100, 30));
	assert_int_equal(put_at(sc, &s, 0), 1);
	sesscache_jwt_put(sc, s.hash, "app\norg", t[0], 100);
	got = sesscache_jwt_get(sc, s.hash, "app\norg", 129, 30);
	assert_ptr_equal(got, t[0]);
	assert_int_equal(t[0]->refs, 3);
	rcstr_unref(got);
	/* Past the reuse time, before the signing time, another key. */
	assert_null(sesscache_jwt_get(sc, s.hash, "app\norg", 130, 30));
	assert_null(sesscache_jwt_get(sc, s.hash, "app\norg", 99, 30));
	assert_null(sesscache_jwt_get(sc, s.hash, "app\norg2", 110, 30));
	/* Full: the oldest goes. */
	for (i = 1; i <= SESSCACHE_JWTS; i++) {
		t[i] = rcstr_new("x.y.z", 5);
		(void)snprintf(ak, sizeof(ak), "app%d", i);
		sesscache_jwt_put(sc, s.hash, ak, t[i], 100 + i);
	}
	assert_null(sesscache_jwt_get(sc, s.hash, "app\norg", 110, 30));
	assert_int_equal(t[0]->refs, 1);
	/* A report about the session drops its assertions with it. */
	key(k, sizeof(k), s.hash);
	sesscache_invalidate(sc, k, strlen(k));
	for (i = 0; i <= SESSCACHE_JWTS; i++) {
		assert_int_equal(t[i]->refs, 1);
		rcstr_unref(t[i]);
	}
	sesscache_free(sc);
}

/* Grants: cached by name with their stored hash, dropped by reports. */
static void
test_grants(void **state)
{
	struct sesscache	*sc = sesscache_new(8, NULL);
	struct sesscache_ticket	 t;
	struct grant		 g, got;
	char			 hash[TOKEN_HASHLEN + 1], h[TOKEN_HASHLEN + 1];
	int			 i;

	(void)state;
	memset(&g, 0, sizeof(g));
	(void)strcpy(g.id, "0123456789abcdef");
	(void)strcpy(g.org, "acme");
	memset(hash, 'a', TOKEN_HASHLEN);
	hash[TOKEN_HASHLEN] = '\0';
	assert_int_equal(sesscache_grant_get(sc, "apikey:0123456789abcdef",
	    EPOCH, &got, h), 0);
	sesscache_ticket(sc, EPOCH, 0, &t);
	assert_int_equal(sesscache_grant_put(sc, &t, EPOCH,
	    "apikey:0123456789abcdef", &g, hash), 1);
	assert_int_equal(sesscache_grant_get(sc, "apikey:0123456789abcdef",
	    EPOCH, &got, h), 1);
	assert_string_equal(got.org, "acme");
	assert_string_equal(h, hash);
	/* Not the share of the same id; not with tracking off. */
	assert_int_equal(sesscache_grant_get(sc, "share:0123456789abcdef",
	    EPOCH, &got, h), 0);
	assert_int_equal(sesscache_grant_get(sc, "apikey:0123456789abcdef",
	    0, &got, h), 0);
	/* Its limiter's key is not its name's: nothing happens. */
	sesscache_invalidate(sc, "grantrl:apikey:0123456789abcdef", 31);
	assert_int_equal(sesscache_grant_get(sc, "apikey:0123456789abcdef",
	    EPOCH, &got, h), 1);
	/* A revocation's report drops it; one racing a lookup wins. */
	sesscache_ticket(sc, EPOCH, 0, &t);
	sesscache_invalidate(sc, "apikey:0123456789abcdef", 23);
	assert_int_equal(sesscache_grant_get(sc, "apikey:0123456789abcdef",
	    EPOCH, &got, h), 0);
	assert_int_equal(sesscache_grant_put(sc, &t, EPOCH,
	    "apikey:0123456789abcdef", &g, hash), 0);
	/* A flush empties grants too; a quarter of the places at most. */
	for (i = 0; i < 5; i++) {
		(void)snprintf(g.id, sizeof(g.id), "%016d", i);
		(void)snprintf(h, sizeof(h), "share:%s", g.id);
		sesscache_ticket(sc, EPOCH, 0, &t);
		assert_int_equal(sesscache_grant_put(sc, &t, EPOCH, h, &g,
		    hash), 1);
	}
	assert_int_equal(sesscache_grant_get(sc, "share:0000000000000000",
	    EPOCH, &got, h), 0);
	assert_int_equal(sesscache_grant_get(sc, "share:0000000000000004",
	    EPOCH, &got, h), 1);
	sesscache_flush(sc);
	assert_int_equal(sesscache_grant_get(sc, "share:0000000000000004",
	    EPOCH, &got, h), 0);
	sesscache_free(sc);
}

/*
 * The cookie hash memo answers what session_hash() answers: for ids that
 * share a place (the same first characters), after an eviction, for an
 * id of another length, and without a cache.
 */
static void
test_id_hash_memo(void **state)
{
	struct sesscache *sc = sesscache_new(8, NULL);
	char		 id[SESSION_ID_LEN + 1], want[SESSION_HASH_LEN + 1];
	char		 got[SESSION_HASH_LEN + 1];
	unsigned int	 i, round;

	(void)state;
	assert_non_null(sc);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 2 * SESSCACHE_MEMO; i++) {
			/* the same 8 first characters: one place for all */
			(void)snprintf(id, sizeof(id), "AAAAAAAA%035u", i);
			session_hash(id, want);
			sesscache_id_hash(sc, id, got);
			assert_string_equal(got, want);
			sesscache_id_hash(sc, id, got);	/* remembered */
			assert_string_equal(got, want);
		}
		for (i = 0; i < 2 * SESSCACHE_MEMO; i++) {
			(void)snprintf(id, sizeof(id), "%08uBBBBBBBBBBBBBBBBBBBB"
			    "BBBBBBBBBBBBBBB", i * 7919);
			session_hash(id, want);
			sesscache_id_hash(sc, id, got);
			assert_string_equal(got, want);
		}
	}
	session_hash("short", want);
	sesscache_id_hash(sc, "short", got);
	assert_string_equal(got, want);
	sesscache_id_hash(NULL, id, got);
	session_hash(id, want);
	assert_string_equal(got, want);
	sesscache_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss_expiry),
		cmocka_unit_test(test_expiry_before_slide),
		cmocka_unit_test(test_eviction_lru),
		cmocka_unit_test(test_invalidate),
		cmocka_unit_test(test_ticket_race),
		cmocka_unit_test(test_flush_and_off),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_id_hash_memo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
