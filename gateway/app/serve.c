/*
 * `postern serve` (see serve.h).  The main thread loads the configuration,
 * builds the TLS context, opens every worker's listeners, then runs its own
 * event loop for signals, the systemd watchdog and the admin listener.
 * Workers read the current snapshot through serve_snapshot(); a reload
 * swaps it under srv->lock and bumps srv->cfg_gen.  Each request is
 * decided with the snapshot current when its head arrived: a connection
 * compares the generation it holds at every request (client.c), so a
 * keep-alive connection never stays on an old policy.  The old snapshot
 * is freed when its last request (or WebSocket tunnel) lets it go.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "acmeaudit.h"
#include "auth.h"
#include "certstore.h"
#include "certsync.h"
#include "authgrant.h"
#include "client.h"
#include "config.h"
#include "connlimit.h"
#include "diag.h"
#include "domainreg.h"
#include "listener.h"
#include "loader.h"
#include "log.h"
#include "mail.h"
#include "httpc.h"
#include "acme.h"
#include "acmehttp.h"
#include "oidc.h"
#include "pool.h"
#include "proxy.h"
#include "proxyhead.h"
#include "ratelimit.h"
#include "audit.h"
#include "auditbox.h"
#include "encode.h"
#include "exchange.h"
#include "serve.h"
#include "sesscache.h"
#include "webhook.h"
#include "store.h"
#include "hashpool.h"
#include "timeutil.h"
#include "tls.h"

/* The main thread's context; lives on serve_main()'s stack. */
struct serve {
	const char		*path;		/* config file */
	struct server		 srv;
	struct event_base	*base;
	struct worker		*workers;
	unsigned int		 nworkers;
	struct listener		*admin;
	struct event		*ev_hup, *ev_term, *ev_int, *ev_watchdog;
	int			 stopping;
};

void
serve_snapshot(struct server *srv, struct config **cfg, SSL_CTX **ctx)
{
	pthread_mutex_lock(&srv->lock);
	*cfg = config_ref(srv->cfg);
	*ctx = srv->ssl_ctx;
	if (*ctx != NULL)
		SSL_CTX_up_ref(*ctx);
	pthread_mutex_unlock(&srv->lock);
}

struct config *
serve_config(struct server *srv, uint64_t *gen)
{
	struct config	*cfg;

	pthread_mutex_lock(&srv->lock);
	cfg = config_ref(srv->cfg);
	*gen = atomic_load(&srv->cfg_gen);
	pthread_mutex_unlock(&srv->lock);
	return cfg;
}

/* ---- the request path: edge -> identity -> upstream ---- */

/* A request for an app: identity decides, then it goes upstream. */
static void
serve_request(struct exchange *ex)
{
	proxyhead_log_spoof(ex);
	if (auth_decide(ex) == AUTH_PENDING)
		return;
	client_resume(ex, CLIENT_ALLOW, 0);
}

static int
serve_builtin(struct exchange *ex)
{
	return auth_builtin(ex);
}

/* The identity headers are signed here, before the upstream head. */
static struct proxy *
serve_forward(struct exchange *ex)
{
	if (auth_upstream_headers(ex) == -1)
		return NULL;	/* no assertion: never forward unsigned */
	return proxy_new(ex, ex->app);
}

/* What the edge and the upstream call above them (worker.h). */
static const struct worker_ops serve_worker_ops = {
	.snapshot = serve_snapshot,
	.config = serve_config,
	.request = serve_request,
	.builtin = serve_builtin,
	.forward = serve_forward,
	.identify = auth_upstream_headers,
	.challenge = acmehttp_serve,
	.detach = auth_detach,
	.tunnel = auth_tunnel_watch,
	.up_close = proxy_close,
	.up_body = proxy_pump_body,
	.up_tunnel = proxy_tunnel_pump,
	.up_resume = proxy_resume,
	.cookies = auth_cookie_names,
	.credential = authgrant_header_ours,
	.logout = auth_upstream_logout,
};

static int
serve_has_tls(const struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].tls)
			return 1;
	return 0;
}

/*
 * The server TLS context of <cfg>'s certificates, falling back to the
 * run-time ones of <srv>; NULL with <err> set.
 */
static SSL_CTX *
serve_tls_ctx(struct server *srv, const struct config *cfg, char *err,
    size_t errlen)
{
	struct tls_settings ts = { .certs = cfg->certs,
	    .ncerts = cfg->ncerts, .session_tickets = cfg->tls_session_tickets,
	    .store = srv->certs };
	size_t		 i;

	/* tls: { acme: true }: certificates come from ACME (the store). */
	for (i = 0; i < cfg->nlisten; i++)
		ts.acme |= cfg->listen[i].acme;

	certstore_set_tickets(srv->certs, cfg->tls_session_tickets);
	return tls_ctx_new(&ts, err, errlen);
}

/* Port of the first TLS listener: where browsers are redirected. */
static uint16_t
serve_https_port(const struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].tls)
			return listener_port(&cfg->listen[i].addr);
	return 443;
}

/* ---- workers ---- */

static void
worker_on_drain_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;

	log_info("worker %u: shutdown timeout, closing %zu connections",
	    w->id, w->nclients);
	client_close_all(w, "shutdown timeout");
	if (w->nclients == 0)
		event_base_loopexit(w->base, NULL);
}

/*
 * The main thread wakes a worker through an eventfd: event_active() from
 * another thread would need libevent's locks on every base, paid on every
 * event of the proxy's hot path (serve_main() does not turn them on).
 */
static void	worker_on_wake(evutil_socket_t, short, void *);

static int
worker_wake_new(struct worker *w)
{
	int	fd;

	if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	if ((w->wake = event_new(w->base, fd, EV_READ | EV_PERSIST,
	    worker_on_wake, w)) == NULL || event_add(w->wake, NULL) == -1) {
		if (w->wake != NULL)
			event_free(w->wake);
		w->wake = NULL;
		(void)close(fd);
		return -1;
	}
	return 0;
}

static void
worker_wake(struct worker *w)
{
	if (write(event_get_fd(w->wake), &(uint64_t){ 1 },
	    sizeof(uint64_t)) == -1)
		log_warnx("worker %u: eventfd: %s", w->id, strerror(errno));
}

/*
 * Main thread said: reloaded, or drain.  A reload lets idle connections
 * drop the old snapshot now rather than at their next request; a drain
 * stops accepting and closes idle connections.
 */
static void
worker_on_wake(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct config	*cfg;
	SSL_CTX		*ctx;
	uint64_t	 n;
	struct timeval	 tv;
	size_t		 i;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)	/* reset */
		log_warnx("worker %u: eventfd: %s", w->id, strerror(errno));
	if (!atomic_load(&w->srv->draining)) {
		client_reload_all(w);
		return;
	}
	if (w->draining)
		return;
	w->draining = 1;
	for (i = 0; i < w->nlisteners; i++) {
		listener_free(w->listeners[i]);
		w->listeners[i] = NULL;
	}
	client_drain_all(w);
	serve_snapshot(w->srv, &cfg, &ctx);
	(void)timeutil_tv(&tv, cfg->shutdown_timeout);
	config_unref(cfg);
	SSL_CTX_free(ctx);
	(void)evtimer_add(w->drain_timer, &tv);
	if (w->nclients == 0)
		event_base_loopexit(w->base, NULL);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	(void)event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	log_debug("worker %u: stopped", w->id);
	return NULL;
}

/*
 * A worker's loop.  With epoll's changelist, the changes made to an fd's
 * events within one loop turn cost at most one epoll_ctl() at the next
 * wait, not one each.  Safe here: the gateway never dup()s a socket it
 * watches (the changelist's one caveat).
 */
static struct event_base *
worker_base_new(void)
{
	struct event_config	*ec;
	struct event_base	*base;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	/* Two priorities: 0 for the store's invalidation connection, whose
	 * reads must come before the requests of the same loop turn
	 * (storetrack.c); every other event keeps the default, 1. */
	if (base != NULL && event_base_priority_init(base, 2) == -1) {
		event_base_free(base);
		return NULL;
	}
	return base;
}

/* The mailer's view of the configuration: the current snapshot. */
static struct config *
worker_mail_config(void *arg)
{
	struct worker	*w = arg;
	struct config	*cfg;
	SSL_CTX		*ctx;

	serve_snapshot(w->srv, &cfg, &ctx);
	SSL_CTX_free(ctx);
	return cfg;
}

/* What a worker's session cache must hear about from Redis. */
static const char *const worker_tracked[] = { "session:", "user:",
    "apikey:", "share:" };

/* Redis reports a change of key <key>: the cache drops what it concerns. */
static void
worker_on_key(void *arg, const char *key, size_t len)
{
	struct worker	*w = arg;
	size_t		 plen = strlen(store_prefix(w->store));

	if (len > plen && memcmp(key, store_prefix(w->store), plen) == 0)
		sesscache_invalidate(w->scache, key + plen, len - plen);
}

/* Redis' reports stopped or started again: nothing cached can be trusted. */
static void
worker_on_track_reset(void *arg)
{
	struct worker	*w = arg;

	sesscache_flush(w->scache);
	atomic_store(&w->metrics.scache_active,
	    store_track_epoch(w->store) != 0);
}

/*
 * The worker's session cache (sessions.cache_size entries; 0: off),
 * coherent through the store's change reports.  0, or -1.
 */
static int
worker_cache_new(struct worker *w, const struct config *cfg)
{
	if ((w->scache = sesscache_new(cfg->session_cache_size,
	    &w->metrics)) == NULL)
		return -1;
	if (cfg->session_cache_size == 0)
		return 0;
	return store_track(w->store, worker_tracked,
	    sizeof(worker_tracked) / sizeof(worker_tracked[0]),
	    worker_on_key, worker_on_track_reset, w);
}

static int
worker_init(struct serve *s, struct worker *w, unsigned int id)
{
	const struct config *cfg = s->srv.cfg;
	uint16_t	 https_port = serve_https_port(cfg);
	struct store_settings rs;
	char		 err[512];
	size_t		 i;

	w->srv = &s->srv;
	w->id = id;
	TAILQ_INIT(&w->clients);
	if ((w->base = worker_base_new()) == NULL ||
	    worker_wake_new(w) == -1 || (w->drain_timer = evtimer_new(w->base,
	    worker_on_drain_timeout, w)) == NULL ||
	    (w->listeners = calloc(cfg->nlisten, sizeof(*w->listeners))) ==
	    NULL || (w->pool = pool_new(w->base)) == NULL) {
		log_error("worker %u: out of memory", id);
		return -1;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		w->listeners[i] = listener_new(w, &cfg->listen[i], https_port,
		    err, sizeof(err));
		if (w->listeners[i] == NULL) {
			log_error("%s", err);
			return -1;
		}
		w->nlisteners = i + 1;
	}
	config_store_settings(cfg, &rs);
	if ((w->store = store_new(w->base, &rs, err, sizeof(err))) != NULL)
		store_count_into(w->store, &w->metrics);
	if (w->store == NULL ||
	    (w->hashport = hashpool_port_new(w->base)) == NULL ||
	    (w->mailer = mailer_new(w->base, &w->metrics, worker_mail_config,
	    w, 0)) == NULL ||
	    (w->webhooks = webhooks_new(w->base, &w->metrics)) == NULL ||
	    (w->httpc = httpc_new(w->base)) == NULL ||
	    (w->oidc = oidc_new(w->httpc)) == NULL ||
	    (w->rl_shed = ratelimit_shed_new()) == NULL ||
	    (id == 0 && (w->outbox = audit_outbox_new(w)) == NULL) ||
	    (id == 0 && (w->acme = acme_new(w)) == NULL) ||
	    worker_cache_new(w, cfg) == -1) {
		log_error("worker %u: %s", id, w->store == NULL ? err :
		    "out of memory");
		return -1;
	}
	audit_watch(w);
	if (id == 0 && serve_has_tls(cfg) &&
	    (w->certsync = certsync_new(w, err, sizeof(err))) == NULL) {
		log_error("worker %u: %s", id, err);
		return -1;
	}
	if (w->certsync != NULL && w->acme != NULL)
		certsync_listen(w->certsync, acme_event, w->acme);
	return 0;
}

static void
worker_free(struct worker *w)
{
	size_t	i;

	for (i = 0; i < w->nlisteners; i++)
		listener_free(w->listeners[i]);
	free(w->listeners);
	hashpool_port_free(w->hashport);	/* waits for its jobs */
	acme_free(w->acme);	/* before the store and httpc it waits on */
	store_free(w->store);	/* pending callbacks get errors */
	sesscache_free(w->scache);	/* after them: they may fill it */
	certsync_free(w->certsync);	/* after its reads' callbacks */
	audit_outbox_free(w->outbox);
	ratelimit_shed_free(w->rl_shed);
	mailer_free(w->mailer);	/* logs what it drops */
	webhooks_free(w->webhooks);
	oidc_free(w->oidc);	/* waiting flows are told */
	httpc_free(w->httpc);
	pool_free(w->pool);	/* its connections go before the base */
	proxy_cache_free(w);
	exchange_free_spares(w);
	if (w->wake != NULL) {
		(void)close(event_get_fd(w->wake));
		event_free(w->wake);
	}
	if (w->drain_timer != NULL)
		event_free(w->drain_timer);
	if (w->base != NULL)
		event_base_free(w->base);
}

/* ---- signals ---- */

static void
serve_notify(const char *state)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "%s\nMONOTONIC_USEC=%llu", state,
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

/* Listeners (address, tls, redirect) are set up at start; a reload cannot
 * change them, and says so. */
static int
serve_same_listeners(const struct config *a, const struct config *b)
{
	size_t	i;

	if (a->nlisten != b->nlisten)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].addr.text, b->listen[i].addr.text) != 0 ||
		    a->listen[i].tls != b->listen[i].tls ||
		    a->listen[i].redirect != b->listen[i].redirect)
			return 0;
	return 1;
}

/* The SHA-256 of file <path> as hex into <hex> (65 bytes); 0 or -1. */
static int
serve_file_hash(const char *path, char *hex)
{
	unsigned char	 buf[8192], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx;
	FILE		*fp;
	size_t		 n;
	int		 ok;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		(void)fclose(fp);
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(fp) && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	(void)fclose(fp);
	if (ok)
		encode_hex(md, mdlen, hex);
	return ok ? 0 : -1;
}

/*
 * Audit a reload (or its failure), naming the SHA-256 of each file of
 * <cfg> (NULL: the reload failed).  From the main thread, with a short
 * synchronous Redis connection (bounded by redis.connect_timeout).
 */
static void
serve_audit_reload(struct serve *s, const struct config *cfg)
{
	const struct config *c = cfg != NULL ? cfg : s->srv.cfg;
	struct store_sync *ss = NULL;
	struct store_settings rs;
	char		 err[STORE_ERRLEN * 2], hex[65], *files = NULL;
	size_t		 i, len = 0;

	for (i = 0; cfg != NULL && i <= cfg->npolicy_files; i++) {
		const char *f = i == 0 ? cfg->path : cfg->policy_files[i - 1];
		char	*nf;

		if (serve_file_hash(f, hex) == -1)
			(void)strcpy(hex, "unreadable");
		if ((nf = realloc(files, len + strlen(f) + strlen(hex) + 3)) ==
		    NULL)
			break;
		files = nf;
		len += (size_t)sprintf(files + len, "%s%s=%s", len > 0 ? " " :
		    "", f, hex);
	}
	config_store_settings(c, &rs);
	if (!c->needs_redis)
		;			/* no Redis, no trail */
	else if ((ss = store_sync_open(&rs, err, sizeof(err))) == NULL)
		log_warnx("audit: reload not recorded: %s", err);
	else
		(void)audit_emit_sync(ss, &(struct audit_event){
		    .action = "config_reload", .actor = "operator",
		    .target = s->path, .outcome = cfg != NULL ? "success" :
		    "failure", .reason = files });
	store_sync_close(ss);
	free(files);
}

/* The first error of a refused reload in STATUS=: room for a long path. */
#define SERVE_STATUS_MAX	480

/*
 * Keep the outcome of a reload for /status (postern reload waits for it)
 * and systemd's STATUS= (systemctl status shows it): <msg> is
 * "reloaded: ..." or the errors, file:line:col each.
 */
static void
serve_reload_done(struct serve *s, int ok, const char *msg)
{
	struct server	*srv = &s->srv;
	char		 line[SERVE_STATUS_MAX + 80];
	size_t		 n;

	pthread_mutex_lock(&srv->lock);
	srv->reload_gen++;
	srv->reload_at = (int64_t)time(NULL);
	(void)snprintf(srv->reload_msg, sizeof(srv->reload_msg), "%s", msg);
	pthread_mutex_unlock(&srv->lock);
	atomic_store(&srv->reload_failed, !ok);
	n = strcspn(msg, "\n");	/* STATUS= is one line */
	(void)snprintf(line, sizeof(line), "READY=1\nSTATUS=%s%.*s",
	    ok ? "serving; " : "serving the previous configuration; ",
	    (int)(n > SERVE_STATUS_MAX ? SERVE_STATUS_MAX : n), msg);
	serve_notify(line);
}

/* The errors of <d> as text, file:line:col each; NULL if out of memory. */
static char *
serve_diag_text(const struct diag *d)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	diag_print(d, fp);
	(void)fclose(fp);
	return buf;
}

/*
 * SIGHUP: load the configuration and certificates again; swap both in only
 * if everything loads, otherwise keep serving with the old ones.
 */
static void
serve_reload(struct serve *s)
{
	struct diag	 d = { 0 };
	struct config	*cfg, *old;
	SSL_CTX		*ctx = NULL, *oldctx;
	char		 err[512], *text;
	unsigned int	 i;

	serve_notify("RELOADING=1");
	log_info("reloading %s", s->path);
	cfg = config_load(s->path, &d);
	diag_log(&d);
	text = cfg == NULL ? serve_diag_text(&d) : NULL;
	diag_free(&d);
	if (cfg != NULL)
		cfg->domains = s->srv.domains;
	if (cfg == NULL) {
		log_error("reload failed: configuration has errors; "
		    "keeping the running configuration");
		metrics_inc(&s->srv.metrics.reloads_failed);
		serve_audit_reload(s, NULL);
		serve_reload_done(s, 0, text != NULL ? text :
		    "configuration has errors (see the log)");
		free(text);
		return;
	}
	if (serve_has_tls(cfg) &&
	    (ctx = serve_tls_ctx(&s->srv, cfg, err, sizeof(err))) == NULL) {
		log_error("reload failed: %s; keeping the running "
		    "configuration", err);
		config_unref(cfg);
		metrics_inc(&s->srv.metrics.reloads_failed);
		serve_reload_done(s, 0, err);
		return;
	}
	if (!serve_same_listeners(cfg, s->srv.cfg))
		log_warnx("reload: listeners changed (address, tls or "
		    "redirect); they take effect only after a restart");
	pthread_mutex_lock(&s->srv.lock);
	old = s->srv.cfg;
	oldctx = s->srv.ssl_ctx;
	s->srv.cfg = cfg;
	s->srv.ssl_ctx = ctx;
	atomic_fetch_add(&s->srv.cfg_gen, 1);
	pthread_mutex_unlock(&s->srv.lock);
	config_unref(old);		/* freed when its last request ends */
	SSL_CTX_free(oldctx);
	for (i = 0; i < s->nworkers; i++)
		worker_wake(&s->workers[i]);	/* idle clients let go */
	log_setlevel(cfg->log_level);
	log_info("reloaded: %zu apps", cfg->napps);
	metrics_inc(&s->srv.metrics.reloads_ok);
	serve_audit_reload(s, cfg);
	(void)snprintf(err, sizeof(err), "reloaded: %zu app%s", cfg->napps,
	    cfg->napps == 1 ? "" : "s");
	serve_reload_done(s, 1, err);
}

static void
serve_stop(struct serve *s)
{
	unsigned int	i;

	if (s->stopping)
		return;
	s->stopping = 1;
	(void)sd_notify(0, "STOPPING=1");
	log_info("stopping: draining connections");
	atomic_store(&s->srv.draining, 1);
	listener_free(s->admin);
	s->admin = NULL;
	for (i = 0; i < s->nworkers; i++)
		worker_wake(&s->workers[i]);
	event_base_loopexit(s->base, NULL);	/* then join the workers */
}

static void
serve_on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct serve	*s = arg;

	if (sig == SIGHUP && !s->stopping)
		serve_reload(s);
	else if (sig == SIGTERM || sig == SIGINT)
		serve_stop(s);
}

static void
serve_on_watchdog(evutil_socket_t fd, short ev, void *arg)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

static int
serve_events(struct serve *s)
{
	uint64_t	usec = 0;
	struct timeval	tv;

	s->ev_hup = evsignal_new(s->base, SIGHUP, serve_on_signal, s);
	s->ev_term = evsignal_new(s->base, SIGTERM, serve_on_signal, s);
	s->ev_int = evsignal_new(s->base, SIGINT, serve_on_signal, s);
	if (s->ev_hup == NULL || s->ev_term == NULL || s->ev_int == NULL ||
	    evsignal_add(s->ev_hup, NULL) == -1 ||
	    evsignal_add(s->ev_term, NULL) == -1 ||
	    evsignal_add(s->ev_int, NULL) == -1)
		return -1;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		usec /= 2;		/* ping twice per period */
		tv.tv_sec = (time_t)(usec / 1000000);
		tv.tv_usec = (suseconds_t)(usec % 1000000);
		s->ev_watchdog = event_new(s->base, -1, EV_PERSIST,
		    serve_on_watchdog, s);
		if (s->ev_watchdog == NULL ||
		    event_add(s->ev_watchdog, &tv) == -1)
			return -1;
	}
	return 0;
}

/* ---- start and stop ---- */

static int
serve_start(struct serve *s)
{
	const struct config *cfg = s->srv.cfg;
	char		 err[512];
	unsigned int	 i;

	if (serve_has_tls(cfg) && (s->srv.ssl_ctx = serve_tls_ctx(&s->srv, cfg, err,
	    sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	for (i = 0; i < cfg->napps; i++)
		if (cfg->apps[i].upstream.tls)
			log_warnx("app %s: https upstreams are not supported "
			    "in this version; its requests will get 502",
			    cfg->apps[i].name);
	if ((s->base = event_base_new()) == NULL || serve_events(s) == -1) {
		log_error("cannot set up the main event loop");
		return -1;
	}
	if (cfg->admin_enabled && (s->admin = listener_admin_new(&s->srv,
	    s->base, &cfg->admin, err, sizeof(err))) == NULL) {
		log_error("admin: %s", err);
		return -1;
	}
	if ((s->srv.hashpool = hashpool_new((unsigned int)cfg->hash_threads,
	    (unsigned int)cfg->hash_queue)) == NULL) {
		log_error("cannot start the password-hash threads");
		return -1;
	}
	hashpool_observe_wait(s->srv.hashpool, &s->srv.metrics.hash_wait);
	s->nworkers = cfg->workers > 0 ? cfg->workers : 1;
	if ((s->workers = calloc(s->nworkers, sizeof(*s->workers))) == NULL)
		return -1;
	s->srv.workers = s->workers;
	s->srv.nworkers = s->nworkers;
	for (i = 0; i < s->nworkers; i++)
		if (worker_init(s, &s->workers[i], i) == -1)
			return -1;
	return 0;
}

static int
serve_run(struct serve *s)
{
	unsigned int	i, started;
	int		rc = 0;

	for (started = 0; started < s->nworkers; started++)
		if ((errno = pthread_create(&s->workers[started].thread, NULL,
		    worker_main, &s->workers[started])) != 0) {
			log_warn("pthread_create");
			atomic_store(&s->srv.draining, 1);
			rc = 1;
			break;
		}
	if (rc == 0) {
		(void)sd_notify(0, "READY=1\nSTATUS=serving");
		log_event(LOG_LEVEL_INFO, "ready", "config", s->path,
		    (const char *)NULL);
		(void)event_base_dispatch(s->base);
	}
	for (i = 0; i < started; i++) {
		worker_wake(&s->workers[i]);
		(void)pthread_join(s->workers[i].thread, NULL);
	}
	return rc;
}

static void
serve_free(struct serve *s)
{
	unsigned int	i;

	for (i = 0; s->workers != NULL && i < s->nworkers; i++)
		worker_free(&s->workers[i]);
	free(s->workers);
	hashpool_free(s->srv.hashpool);	/* after the workers' ports */
	listener_free(s->admin);
	if (s->ev_hup != NULL)
		event_free(s->ev_hup);
	if (s->ev_term != NULL)
		event_free(s->ev_term);
	if (s->ev_int != NULL)
		event_free(s->ev_int);
	if (s->ev_watchdog != NULL)
		event_free(s->ev_watchdog);
	if (s->base != NULL)
		event_base_free(s->base);
	SSL_CTX_free(s->srv.ssl_ctx);
	certstore_free(s->srv.certs);	/* after every connection */
	config_unref(s->srv.cfg);
	domainreg_free(s->srv.domains);	/* after the last snapshot */
	connlimit_free(s->srv.connlimit);	/* after the workers' clients */
	acmestat_free(s->srv.acmestat);		/* after the driver */
	pthread_mutex_destroy(&s->srv.lock);
}

int
serve_main(const char *config_path)
{
	struct serve	 s;
	struct diag	 d = { 0 };
	int		 rc = 1;

	memset(&s, 0, sizeof(s));
	s.path = config_path;
	atomic_store(&s.srv.cfg_gen, 1);	/* 0: a client's "none yet" */
	s.srv.cfg = config_load(config_path, &d);
	diag_log(&d);
	diag_free(&d);
	if (s.srv.cfg == NULL) {
		log_error("%s: configuration has errors; not starting",
		    config_path);
		return 1;
	}
	log_init(s.srv.cfg->log_level, LOG_FORMAT_JSON);
	/* No evthread_use_pthreads(): every base is used by one thread only
	 * (other threads wake a loop through an eventfd), and libevent's
	 * locks would cost on every event. */
	(void)signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&s.srv.lock, NULL);
	s.srv.started = (int64_t)time(NULL);
	(void)snprintf(s.srv.reload_msg, sizeof(s.srv.reload_msg),
	    "started: %zu app%s", s.srv.cfg->napps,
	    s.srv.cfg->napps == 1 ? "" : "s");
	s.srv.ops = &serve_worker_ops;
	if ((s.srv.connlimit = connlimit_new()) == NULL ||
	    (s.srv.certs = certstore_new()) == NULL ||
	    (s.srv.domains = domainreg_new()) == NULL ||
	    (s.srv.acmestat = acmeaudit_new(&s.srv)) == NULL)
		log_error("cannot set up the connection, certificate or domain "
		    "table");
	else {
		s.srv.cfg->domains = s.srv.domains;
		certstore_set_domains(s.srv.certs, certsync_domain_known,
		    s.srv.domains);
		if (serve_start(&s) == 0)
			rc = serve_run(&s);
	}
	serve_free(&s);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
