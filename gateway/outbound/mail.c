/*
 * The mailer (see mail.h): a bounded queue of rendered messages per event
 * loop, sent over SMTP by libcurl's multi-socket API on the loop
 * (curlev.h); finished transfers come back to mailer_on_transfer().
 * Nothing here blocks: name resolution runs in libcurl's resolver thread.
 *
 * A message is WAITING (for one of MAILER_PARALLEL transfer slots),
 * SENDING (an easy handle in the multi) or in BACKOFF (a timer before its
 * next attempt).  Only its template name, message id, recipient and the
 * failure's reason are ever logged; its bytes are wiped when freed.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config.h"
#include "log.h"
#include "curlev.h"
#include "mail.h"
#include "mailmsg.h"
#include "mailtmpl.h"
#include "metrics.h"
#include "timeutil.h"

#define MAILER_PARALLEL		4		/* transfers at once */
#define MAILER_BACKOFF_MAX	(10ULL * 60 * 1000)	/* ms */

enum mail_state {
	MAIL_WAITING = 0,
	MAIL_SENDING,
	MAIL_BACKOFF,
};

/* One queued message; owned by its mailer (msgs list). */
struct mail_msg {
	TAILQ_ENTRY(mail_msg)	 entry;		/* mailer's msgs */
	TAILQ_ENTRY(mail_msg)	 wentry;	/* waiting, in MAIL_WAITING */
	struct mailer		*m;
	struct config		*cfg;		/* snapshot it was queued under */
	enum mail_state		 state;
	char			*to;
	char			 tmpl[MAILTMPL_NAME_MAX + 1];
	char			 msgid[MAILMSG_MSGID_MAX + 1];
	char			*data;		/* the message; wiped on free */
	size_t			 len;
	size_t			 off;		/* read by curl this attempt */
	unsigned int		 attempts;	/* started so far */
	CURL			*easy;		/* MAIL_SENDING only */
	struct curl_slist	*rcpt;
	struct event		*retry;		/* backoff timer */
};

TAILQ_HEAD(mail_list, mail_msg);

struct mailer {
	struct event_base	*base;
	struct curlev		*cv;		/* transfers on the loop */
	struct event		*kick;		/* start waiting messages */
	struct metrics		*metrics;	/* the owner's */
	mailer_config_fn	 getcfg;
	void			*arg;
	int			 flags;
	mailer_done_fn		 done;
	void			*done_arg;
	struct mail_list	 msgs;		/* every queued message */
	struct mail_list	 waiting;	/* ready for a slot, FIFO */
	size_t			 nqueued;
	size_t			 nsending;
};

static void	mail_on_retry(evutil_socket_t, short, void *);

int
mail_configured(const struct config *cfg)
{
	return cfg != NULL && cfg->mail != NULL;
}

static void
mailer_gauge(struct mailer *m)
{
	atomic_store_explicit(&m->metrics->mail_queue, m->nqueued,
	    memory_order_relaxed);
}

/* ---- log events: never a body, a value or a link ---- */

static void
mail_log(enum log_level level, const char *outcome, const char *reason,
    const struct mail_msg *msg, const char *detail, long smtp_code)
{
	char	attempt[16], code[16];

	(void)snprintf(attempt, sizeof(attempt), "%u", msg->attempts);
	(void)snprintf(code, sizeof(code), "%ld", smtp_code);
	log_event(level, "mail", "outcome", outcome, "reason", reason,
	    "template", msg->tmpl, "to", msg->to, "message_id", msg->msgid,
	    "attempt", attempt, "detail", detail,
	    "smtp_code", smtp_code > 0 ? code : NULL, (const char *)NULL);
}

/* A message refused before it was queued (not configured, full, invalid). */
static void
mailer_refuse(struct mailer *m, enum metrics_mail r, const char *tmpl,
    const char *detail)
{
	metrics_inc(&m->metrics->mail_failed[r]);
	log_event(LOG_LEVEL_WARN, "mail", "outcome", "refused", "reason",
	    metrics_mail_reason(r), "template", tmpl, "detail", detail,
	    (const char *)NULL);
}

/* ---- messages ---- */

static void
mail_msg_free(struct mail_msg *msg)
{
	struct mailer	*m = msg->m;

	if (msg->easy != NULL) {
		curlev_remove(m->cv, msg->easy);
		curl_easy_cleanup(msg->easy);
		m->nsending--;
	}
	if (msg->state == MAIL_WAITING)
		TAILQ_REMOVE(&m->waiting, msg, wentry);
	TAILQ_REMOVE(&m->msgs, msg, entry);
	m->nqueued--;
	mailer_gauge(m);
	curl_slist_free_all(msg->rcpt);
	if (msg->retry != NULL)
		event_free(msg->retry);
	if (msg->data != NULL) {
		OPENSSL_cleanse(msg->data, msg->len);	/* links, tokens */
		free(msg->data);
	}
	free(msg->to);
	config_unref(msg->cfg);
	free(msg);
}

/* The three parts of template <t>, into the message of <msg>. */
static int
mail_render(struct mail_msg *msg, const struct mailtmpl_msg *t,
    const struct mail_var *vars, size_t nvars, char *err, size_t errlen)
{
	const struct config_mail *mc = msg->cfg->mail;
	struct mailmsg_head	 h;
	char			*subject, *text = NULL, *html = NULL;
	size_t			 len;
	int			 rc = -1;

	if ((subject = mailtmpl_render(t->subject, MAILTMPL_RAW, vars, nvars,
	    &len, err, errlen)) == NULL ||
	    (text = mailtmpl_render(t->text, MAILTMPL_RAW, vars, nvars, &len,
	    err, errlen)) == NULL ||
	    (html = mailtmpl_render(t->html, MAILTMPL_HTML, vars, nvars, &len,
	    err, errlen)) == NULL)
		goto out;
	memset(&h, 0, sizeof(h));
	h.from = mc->from;
	h.from_name = mc->from_name;
	h.to = msg->to;
	h.subject = subject;
	h.msgid = msg->msgid;
	h.date = time(NULL);
	if ((msg->data = mailmsg_build(&h, text, html, &msg->len, err,
	    errlen)) != NULL)
		rc = 0;
out:
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	if (html != NULL)
		OPENSSL_cleanse(html, strlen(html));
	free(subject);
	free(text);
	free(html);
	return rc;
}

/*
 * A message for <to> from template <name>, holding <cfg>'s reference on
 * success.  NULL with a reason in <err> that names no value.
 */
static struct mail_msg *
mail_msg_new(struct mailer *m, struct config *cfg, const char *to,
    const char *name, const struct mail_var *vars, size_t nvars, char *err,
    size_t errlen)
{
	const struct mailtmpl_msg *t;
	struct mail_msg		*msg;

	if (!mailmsg_addr_valid(to)) {
		(void)snprintf(err, errlen, "to: not a plain address "
		    "(local@domain)");
		return NULL;
	}
	if ((t = mailtmpl_find(cfg->mail->templates, name)) == NULL) {
		(void)snprintf(err, errlen, "no such template in "
		    "mail.templates_dir");
		return NULL;
	}
	if ((msg = calloc(1, sizeof(*msg))) == NULL ||
	    (msg->to = strdup(to)) == NULL ||
	    (msg->retry = evtimer_new(m->base, mail_on_retry, msg)) == NULL)
		fatal("%s", __func__);
	msg->m = m;
	msg->cfg = cfg;
	(void)snprintf(msg->tmpl, sizeof(msg->tmpl), "%s", name);
	if (mailmsg_msgid(msg->msgid, sizeof(msg->msgid),
	    cfg->mail->from) == -1)
		(void)snprintf(err, errlen, "cannot make a message id");
	else if (mail_render(msg, t, vars, nvars, err, errlen) == 0)
		return msg;
	msg->cfg = NULL;		/* the caller keeps its reference */
	event_free(msg->retry);
	free(msg->to);
	free(msg);
	return NULL;
}

int
mailer_send(struct mailer *m, const char *to, const char *name,
    const struct mail_var *vars, size_t nvars)
{
	struct config	*cfg;
	struct mail_msg	*msg;
	char		 err[160];

	if (m == NULL || to == NULL || name == NULL)
		return -1;
	cfg = m->getcfg(m->arg);
	if (!mail_configured(cfg)) {
		log_debug("%s: mail is not configured", __func__);
		config_unref(cfg);
		return -1;
	}
	if (m->nqueued >= cfg->mail->queue_max) {
		mailer_refuse(m, METRICS_MAIL_QUEUE_FULL, name,
		    "mail.queue_max messages are queued");
		config_unref(cfg);
		return -1;
	}
	if ((msg = mail_msg_new(m, cfg, to, name, vars, nvars, err,
	    sizeof(err))) == NULL) {
		mailer_refuse(m, METRICS_MAIL_INVALID, name, err);
		config_unref(cfg);
		return -1;
	}
	TAILQ_INSERT_TAIL(&m->msgs, msg, entry);
	TAILQ_INSERT_TAIL(&m->waiting, msg, wentry);
	m->nqueued++;
	mailer_gauge(m);
	mail_log(LOG_LEVEL_DEBUG, "queued", NULL, msg, NULL, 0);
	event_active(m->kick, EV_TIMEOUT, 0);	/* never from our caller */
	return 0;
}

/* ---- one attempt ---- */

static size_t
mail_on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct mail_msg	*msg = arg;
	size_t		 n = size * nitems;

	if (n > msg->len - msg->off)
		n = msg->len - msg->off;
	memcpy(buf, msg->data + msg->off, n);
	msg->off += n;
	return n;
}

static long
mail_use_ssl(const struct config_mail *mc)
{
	if (mc->smtps)
		return CURLUSESSL_ALL;
	switch (mc->starttls) {
	case CONFIG_STARTTLS_OPTIONAL:
		return CURLUSESSL_TRY;
	case CONFIG_STARTTLS_NONE:
		return CURLUSESSL_NONE;
	default:
		return CURLUSESSL_ALL;
	}
}

/* The options of one attempt; CURLE_OK or the first failure. */
static CURLcode
mail_setopts(CURL *e, struct mail_msg *msg)
{
	const struct config_mail *mc = msg->cfg->mail;
	CURLcode		 rc;

	if ((rc = curl_easy_setopt(e, CURLOPT_URL, mc->url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps")) ||
	    (rc = curl_easy_setopt(e, CURLOPT_MAIL_FROM, mc->from)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_MAIL_RCPT, msg->rcpt)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_UPLOAD, 1L)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_READFUNCTION, mail_on_read)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_READDATA, msg)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)msg->len)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_USE_SSL, mail_use_ssl(mc))) ||
	    (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    (long)mc->timeout)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)mc->timeout)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) ||
	    (rc = curl_easy_setopt(e, CURLOPT_PRIVATE, msg)))
		return rc;
	if (mc->ca_file != NULL &&
	    (rc = curl_easy_setopt(e, CURLOPT_CAINFO, mc->ca_file)))
		return rc;
	if (mc->username != NULL &&
	    (rc = curl_easy_setopt(e, CURLOPT_USERNAME, mc->username)))
		return rc;
	if (mc->password != NULL &&
	    (rc = curl_easy_setopt(e, CURLOPT_PASSWORD, mc->password)))
		return rc;
	return CURLE_OK;
}

static CURLcode
mail_start(struct mail_msg *msg)
{
	struct mailer	*m = msg->m;
	CURLcode	 rc;
	CURL		*e;

	if (msg->rcpt == NULL &&
	    (msg->rcpt = curl_slist_append(NULL, msg->to)) == NULL)
		return CURLE_OUT_OF_MEMORY;
	if ((e = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	msg->off = 0;
	if ((rc = mail_setopts(e, msg)) != CURLE_OK ||
	    curlev_add(m->cv, e) == -1) {
		curl_easy_cleanup(e);
		return rc != CURLE_OK ? rc : CURLE_FAILED_INIT;
	}
	msg->easy = e;
	msg->state = MAIL_SENDING;
	m->nsending++;
	return CURLE_OK;
}

static enum metrics_mail
mail_classify(CURLcode code, long resp, int *permanent)
{
	*permanent = 0;
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return METRICS_MAIL_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return METRICS_MAIL_TIMEOUT;
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		return METRICS_MAIL_TLS;
	case CURLE_LOGIN_DENIED:
		/* 535 (RFC 4954): wrong credentials; trying them again only
		 * helps lock the account.  454 is a temporary failure. */
		*permanent = !(resp >= 400 && resp < 500);
		return METRICS_MAIL_AUTH;
	default:
		break;
	}
	if (resp >= 500 && resp < 600) {
		*permanent = 1;		/* RFC 5321 4.2.1: don't repeat */
		return METRICS_MAIL_REJECTED;
	}
	if (resp >= 400 && resp < 500)
		return METRICS_MAIL_TEMPFAIL;
	return METRICS_MAIL_OTHER;
}

/*
 * Milliseconds before attempt <attempts> + 1: <base> doubled per failed
 * attempt up to MAILER_BACKOFF_MAX, then spread over [d/2, 3d/2] so that
 * every worker's retries after an outage do not arrive together.
 */
static uint64_t
mail_backoff(uint64_t base, unsigned int attempts)
{
	uint64_t	d = base;
	uint32_t	r;
	unsigned int	i;

	for (i = 1; i < attempts && d < MAILER_BACKOFF_MAX; i++)
		d *= 2;
	if (d > MAILER_BACKOFF_MAX)
		d = MAILER_BACKOFF_MAX;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return d;
	return d / 2 + (uint64_t)r % (d + 1);
}

static void
mail_finish(struct mail_msg *msg, int ok, const char *reason)
{
	struct mailer	*m = msg->m;
	char		 msgid[sizeof(msg->msgid)];

	memcpy(msgid, msg->msgid, sizeof(msgid));
	mail_msg_free(msg);
	if (m->done != NULL)
		m->done(m->done_arg, msgid, ok, reason);
}

static void
mail_on_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct mail_msg	*msg = arg;

	msg->state = MAIL_WAITING;
	TAILQ_INSERT_TAIL(&msg->m->waiting, msg, wentry);
	event_active(msg->m->kick, EV_TIMEOUT, 0);
}

/* Attempt number msg->attempts failed: back off, or drop after the last. */
static void
mail_failed(struct mail_msg *msg, CURLcode code, long resp)
{
	struct mailer		*m = msg->m;
	enum metrics_mail	 r;
	struct timeval		 tv;
	uint64_t		 max, ms;
	int			 permanent;

	r = mail_classify(code, resp, &permanent);
	max = m->flags & MAILER_ONE_ATTEMPT ? 1 :
	    1 + msg->cfg->mail->retries;
	if (!permanent && msg->attempts < max) {
		ms = mail_backoff(msg->cfg->mail->retry_backoff,
		    msg->attempts);
		msg->state = MAIL_BACKOFF;
		if (evtimer_add(msg->retry, timeutil_tv(&tv, ms)) == 0) {
			metrics_inc(&m->metrics->mail_retries);
			mail_log(LOG_LEVEL_WARN, "retry", metrics_mail_reason(r),
			    msg, curl_easy_strerror(code), resp);
			return;
		}
	}
	metrics_inc(&m->metrics->mail_failed[r]);
	mail_log(LOG_LEVEL_ERROR, "failed", metrics_mail_reason(r), msg,
	    curl_easy_strerror(code), resp);
	mail_finish(msg, 0, metrics_mail_reason(r));
}

/* Start waiting messages while transfer slots are free. */
static void
mailer_pump(struct mailer *m)
{
	struct mail_msg	*msg;
	CURLcode	 rc;

	while (m->nsending < MAILER_PARALLEL &&
	    (msg = TAILQ_FIRST(&m->waiting)) != NULL) {
		TAILQ_REMOVE(&m->waiting, msg, wentry);
		msg->state = MAIL_BACKOFF;	/* off the waiting list */
		msg->attempts++;
		if (msg->attempts > 1)
			log_debug("%s: %s attempt %u", __func__, msg->msgid,
			    msg->attempts);
		if ((rc = mail_start(msg)) != CURLE_OK)
			mail_failed(msg, rc, 0);
	}
}

/* A transfer ended: sent, or failed (retry or drop). */
static void
mailer_on_transfer(void *arg, CURL *e, CURLcode code)
{
	struct mailer	*m = arg;
	struct mail_msg	*msg;
	char		*priv = NULL;
	long		 resp = 0;

	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp);
	msg = (struct mail_msg *)(void *)priv;
	curl_easy_cleanup(e);
	msg->easy = NULL;
	m->nsending--;
	if (code == CURLE_OK) {
		metrics_inc(&m->metrics->mail_sent);
		mail_log(LOG_LEVEL_INFO, "sent", NULL, msg, NULL, resp);
		mail_finish(msg, 1, NULL);
	} else
		mail_failed(msg, code, resp);
	mailer_pump(m);
}

static void
mailer_on_kick(evutil_socket_t fd, short ev, void *arg)
{
	mailer_pump(arg);
}

/* ---- the mailer ---- */

struct mailer *
mailer_new(struct event_base *base, struct metrics *metrics,
    mailer_config_fn getcfg, void *arg, int flags)
{
	struct mailer	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->base = base;
	m->metrics = metrics;
	m->getcfg = getcfg;
	m->arg = arg;
	m->flags = flags;
	TAILQ_INIT(&m->msgs);
	TAILQ_INIT(&m->waiting);
	if ((m->cv = curlev_new(base, mailer_on_transfer, m)) == NULL ||
	    (m->kick = event_new(base, -1, 0, mailer_on_kick, m)) == NULL) {
		mailer_free(m);
		return NULL;
	}
	return m;
}

void
mailer_on_done(struct mailer *m, mailer_done_fn fn, void *arg)
{
	m->done = fn;
	m->done_arg = arg;
}

size_t
mailer_queued(const struct mailer *m)
{
	return m != NULL ? m->nqueued : 0;
}

void
mailer_free(struct mailer *m)
{
	struct mail_msg	*msg;
	size_t		 n = 0;

	if (m == NULL)
		return;
	while ((msg = TAILQ_FIRST(&m->msgs)) != NULL) {
		mail_log(LOG_LEVEL_WARN, "dropped", "shutdown", msg, NULL, 0);
		mail_msg_free(msg);
		n++;
	}
	if (n > 0)
		log_warnx("mail: %zu queued messages dropped at shutdown", n);
	curlev_free(m->cv);
	if (m->kick != NULL)
		event_free(m->kick);
	free(m);
}
