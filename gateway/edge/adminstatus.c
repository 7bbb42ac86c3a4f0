/*
 * /status of the admin listener (see adminstatus.h).  Read from the main
 * thread while the workers run: counters through metrics_add(), Redis
 * health through its atomic, the reload outcome under the server's lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "adminstatus.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "worker.h"

/* <key>: "<s, escaped>" */
static void
status_str(struct evbuffer *b, const char *key, const char *s)
{
	char	esc[2048];
	size_t	off = 0;

	esc[0] = '\0';
	log_json_escape(esc, sizeof(esc), &off, s, strlen(s));
	evbuffer_add_printf(b, "\"%s\":\"%s\"", key, esc);
}

static void
status_reload(struct server *srv, struct evbuffer *b)
{
	char		 msg[sizeof(srv->reload_msg)];
	uint64_t	 gen;
	int64_t		 at;

	pthread_mutex_lock(&srv->lock);
	gen = srv->reload_gen;
	at = srv->reload_at;
	(void)memcpy(msg, srv->reload_msg, sizeof(msg));
	pthread_mutex_unlock(&srv->lock);
	evbuffer_add_printf(b, "\"reload\":{\"generation\":%" PRIu64
	    ",\"ok\":%s,\"at\":%" PRId64 ",", gen,
	    atomic_load(&srv->reload_failed) ? "false" : "true", at);
	status_str(b, "message", msg);
	evbuffer_add_printf(b, "}");
}

static void
status_workers(struct server *srv, struct evbuffer *b)
{
	struct metrics_snap	 one;
	unsigned int		 i, down = 0;

	evbuffer_add_printf(b, "\"workers\":[");
	for (i = 0; i < srv->nworkers; i++) {
		struct worker	*w = &srv->workers[i];
		int		 up = w->store != NULL && store_healthy(w->store);

		memset(&one, 0, sizeof(one));
		metrics_add(&one, &w->metrics);
		down += w->store != NULL && !up;
		evbuffer_add_printf(b, "%s{\"id\":%u,\"redis\":\"%s\","
		    "\"session_cache\":{\"active\":%s,\"entries\":%" PRIu64
		    "}}", i ? "," : "", w->id, w->store == NULL ? "none" :
		    up ? "up" : "down", one.scache_active ? "true" : "false",
		    one.scache_entries);
	}
	evbuffer_add_printf(b, "],\"redis\":\"%s\"", srv->nworkers == 0 ||
	    srv->workers[0].store == NULL ? "none" : down == 0 ? "up" :
	    down == srv->nworkers ? "down" : "partial");
}

static void
status_requests(const struct metrics_snap *s, struct evbuffer *b)
{
	uint64_t	cls[5] = { 0 }, total = 0;
	int		i, d;

	for (i = 0; i < 5; i++)
		for (d = 0; d < METRICS_NDECISIONS; d++) {
			cls[i] += s->requests[i][d];
			total += s->requests[i][d];
		}
	evbuffer_add_printf(b, "\"requests\":{\"total\":%" PRIu64 ",\"1xx\":%"
	    PRIu64 ",\"2xx\":%" PRIu64 ",\"3xx\":%" PRIu64 ",\"4xx\":%" PRIu64
	    ",\"5xx\":%" PRIu64 ",\"rate_limited\":%" PRIu64 "},", total,
	    cls[0], cls[1], cls[2], cls[3], cls[4], s->rate_limited);
	evbuffer_add_printf(b, "\"session_cache\":{\"hits\":%" PRIu64
	    ",\"misses\":%" PRIu64 ",\"entries\":%" PRIu64 "},"
	    "\"queues\":{\"mail\":%" PRIu64 ",\"webhooks\":%" PRIu64 "},",
	    s->scache_hits, s->scache_misses, s->scache_entries,
	    s->mail_queue, s->webhook_queue);
}

void
admin_status(struct server *srv, struct evbuffer *b)
{
	struct metrics_snap	 snap;
	unsigned int		 i;
	int64_t			 now = (int64_t)time(NULL);

	memset(&snap, 0, sizeof(snap));
	for (i = 0; i < srv->nworkers; i++)
		metrics_add(&snap, &srv->workers[i].metrics);
	evbuffer_add_printf(b, "{\"pid\":%ld,", (long)getpid());
	status_str(b, "version", POSTERN_VERSION);
	evbuffer_add_printf(b, ",\"started\":%" PRId64 ",\"uptime\":%" PRId64
	    ",\"now\":%" PRId64 ",\"draining\":%s,\"connections\":%" PRIu64
	    ",", srv->started, now - srv->started, now,
	    atomic_load(&srv->draining) ? "true" : "false",
	    (uint64_t)atomic_load(&srv->metrics.connections_open));
	status_requests(&snap, b);
	status_reload(srv, b);
	evbuffer_add_printf(b, ",");
	status_workers(srv, b);
	evbuffer_add_printf(b, "}\n");
}
