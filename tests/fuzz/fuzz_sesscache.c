/*
 * libFuzzer target: the session cache (sesscache.c) driven by a script of
 * operations, the key names of Redis' change reports among them.  Checks
 * what must always hold: never more entries than its size, a reported
 * session or user never served afterwards, a reply racing a report about
 * it never cached, the cache empty after a flush.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grant.h"
#include "rcstr.h"
#include "session.h"
#include "sesscache.h"

#define MAX	6
#define SCOPE	"app:a"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Session number <n> (of 8) of user number <n> % 3. */
static void
mk(struct session *s, unsigned int n)
{
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->hash, sizeof(s->hash), "%064x", n % 8);
	(void)snprintf(s->user, sizeof(s->user), "u%u", n % 8 % 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sesscache	*sc = sesscache_new(MAX, NULL);
	struct sesscache_ticket	 t;
	struct session		 s;
	struct grant		 g, gg;
	struct rcstr		*r;
	char			 name[80], h[TOKEN_HASHLEN + 1];
	char			 hh[TOKEN_HASHLEN + 1];
	size_t			 i = 0, len;
	int64_t			 now = 0;
	uint8_t			 op, n;

	if (sc == NULL)
		return 0;
	memset(&g, 0, sizeof(g));
	memset(h, 'a', TOKEN_HASHLEN);
	h[TOKEN_HASHLEN] = '\0';
	while (i + 1 < size) {
		op = data[i++] % 7;
		n = data[i++];
		now += n % 4;
		mk(&s, n);
		switch (op) {
		case 0:		/* a lookup's reply, maybe racing a report */
			sesscache_ticket(sc, 1, now, &t);
			if (n & 0x80) {
				(void)snprintf(name, sizeof(name),
				    "session:%s", s.hash);
				sesscache_invalidate(sc, name, strlen(name));
				if (sesscache_put(sc, &t, 1, &s, SCOPE, 50,
				    20))
					abort();
			} else
				(void)sesscache_put(sc, &t, 1, &s, SCOPE, 50,
				    20);
			break;
		case 1:
			(void)sesscache_get(sc, s.hash, SCOPE, 1, now);
			break;
		case 2:		/* a report named by the input itself */
			len = size - i < 40 ? size - i : 40;
			sesscache_invalidate(sc, (const char *)data + i, len);
			i += len;
			break;
		case 3:		/* a user's report: none of theirs served */
			(void)snprintf(name, sizeof(name), "user:%s%s",
			    s.user, n & 1 ? ":orgs" : "");
			sesscache_invalidate(sc, name, strlen(name));
			if (sesscache_get(sc, s.hash, SCOPE, 1, now) != NULL)
				abort();
			break;
		case 4:
			if ((r = rcstr_new("a.b.c", 5)) == NULL)
				break;
			sesscache_jwt_put(sc, s.hash, n & 1 ? "k1" : "k2", r,
			    now);
			rcstr_unref(r);
			rcstr_unref(sesscache_jwt_get(sc, s.hash, "k1", now,
			    n % 5));
			break;
		case 5:
			(void)snprintf(name, sizeof(name), "%s:%016x",
			    n & 1 ? "apikey" : "share", n % 4);
			sesscache_ticket(sc, 1, now, &t);
			(void)sesscache_grant_put(sc, &t, 1, name, &g, h);
			if (n & 2) {
				sesscache_invalidate(sc, name, strlen(name));
				if (sesscache_grant_get(sc, name, 1, &gg, hh))
					abort();
			}
			break;
		case 6:
			if (n % 16 == 0) {
				sesscache_flush(sc);
				if (sesscache_count(sc) != 0)
					abort();
			}
			break;
		}
		if (sesscache_count(sc) > MAX)
			abort();
	}
	sesscache_free(sc);
	return 0;
}
