/*
 * The command-line tools' synchronous Redis connection (see store.h):
 * connect, PING/AUTH/SELECT bounded by redis.connect_timeout, commands by
 * redis.command_timeout, and the same scripts as the workers run.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "log.h"
#include "store.h"
#include "store-int.h"
#include "timeutil.h"

/* ---- synchronous ---- */

/* The CLI's connection; owned by the command that opened it. */
struct store_sync {
	struct store_conf	 conf;
	redisContext		*c;
	int			 unauth;	/* PING worked before AUTH */
};

static redisReply *
store_sync_check(struct store_sync *ss, redisReply *reply, char *err,
    size_t errlen)
{
	if (reply == NULL) {
		(void)snprintf(err, errlen, "redis %s: %s", ss->conf.text,
		    ss->c->err == REDIS_ERR_IO && (errno == EAGAIN ||
		    errno == EWOULDBLOCK) ? "no answer within "
		    "redis.command_timeout" : ss->c->errstr[0] != '\0' ?
		    ss->c->errstr : "connection lost");
		return NULL;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		(void)snprintf(err, errlen, "redis %s: %.200s", ss->conf.text,
		    reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

redisReply *
store_sync_command(struct store_sync *ss, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list	ap;
	void	*r;

	va_start(ap, fmt);
	r = redisvCommand(ss->c, fmt, ap);
	va_end(ap);
	return store_sync_check(ss, r, err, errlen);
}

static int
store_sync_auth(struct store_sync *ss, char *err, size_t errlen)
{
	const char	*argv[3];
	size_t		 lens[3];
	int		 argc = 0;
	redisReply	*r;

	argv[argc] = "AUTH";
	lens[argc++] = 4;
	if (ss->conf.username != NULL) {
		argv[argc] = ss->conf.username;
		lens[argc] = strlen(ss->conf.username);
		argc++;
	}
	argv[argc] = ss->conf.password;
	lens[argc++] = ss->conf.passwordlen;
	if ((r = redisCommandArgv(ss->c, argc, argv, lens)) == NULL) {
		(void)store_sync_check(ss, NULL, err, errlen);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		(void)snprintf(err, errlen, "redis %s refused the credentials "
		    "(redis.username, redis.password_file): %.160s",
		    ss->conf.text, r->str);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* PING before AUTH tells whether Redis lets anyone in. */
static int
store_sync_handshake(struct store_sync *ss, char *err, size_t errlen)
{
	redisReply	*r;

	if ((r = redisCommand(ss->c, "PING")) == NULL) {
		(void)store_sync_check(ss, NULL, err, errlen);
		return -1;
	}
	ss->unauth = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	if (ss->conf.password != NULL) {
		if (store_sync_auth(ss, err, errlen) == -1)
			return -1;
	} else if (!ss->unauth) {
		(void)snprintf(err, errlen, "redis %s requires authentication: "
		    "set redis.password_file (and redis.username for an ACL "
		    "user)", ss->conf.text);
		return -1;
	}
	if ((r = store_sync_command(ss, err, errlen, "SELECT %u",
	    ss->conf.db)) == NULL)
		return -1;
	freeReplyObject(r);
	if (ss->conf.sentinels == NULL)
		return 0;
	if ((r = store_sync_command(ss, err, errlen, "ROLE")) == NULL)
		return -1;
	if (!store_role_master(r)) {
		(void)snprintf(err, errlen, "redis %s: not the primary (ROLE); "
		    "a failover may be under way, try again", ss->conf.text);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

struct store_sync *
store_sync_open(const struct store_settings *set, char *err, size_t errlen)
{
	struct store_sync	*ss;
	struct timeval		 tv;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		fatal("%s", __func__);
	if (store_conf_init(&ss->conf, set, err, errlen) == -1) {
		free(ss);
		return NULL;
	}
	if (ss->conf.sentinels != NULL && store_sentinel_sync(&ss->conf, err,
	    errlen) == -1)
		goto fail;
	(void)timeutil_tv(&tv, ss->conf.connect_timeout);
	if (ss->conf.unixpath != NULL)
		ss->c = redisConnectUnixWithTimeout(ss->conf.unixpath, tv);
	else
		ss->c = redisConnectWithTimeout(ss->conf.host, ss->conf.port,
		    tv);
	if (ss->c == NULL || ss->c->err) {
		(void)snprintf(err, errlen, "cannot connect to redis at %s: "
		    "%s", ss->conf.text, ss->c != NULL ? ss->c->errstr :
		    "out of memory");
		goto fail;
	}
	(void)timeutil_tv(&tv, ss->conf.command_timeout);
	if (redisSetTimeout(ss->c, tv) != REDIS_OK) {
		(void)snprintf(err, errlen, "redis %s: cannot set the command "
		    "timeout", ss->conf.text);
		goto fail;
	}
	if (store_sync_handshake(ss, err, errlen) == -1)
		goto fail;
	/* An open Redis is the gateway's to warn about, once per start
	 * (storeasync.c): not every command-line call. */
	return ss;
fail:
	store_sync_close(ss);
	return NULL;
}

void
store_sync_close(struct store_sync *ss)
{
	if (ss == NULL)
		return;
	if (ss->c != NULL)
		redisFree(ss->c);
	store_conf_free(&ss->conf);
	free(ss);
}

const char *
store_sync_prefix(const struct store_sync *ss)
{
	return ss->conf.prefix;
}

redisContext *
store_sync_context(struct store_sync *ss)
{
	return ss->c;
}

redisReply *
store_sync_eval(struct store_sync *ss, struct store_script *script,
    char *err, size_t errlen, int nkeys, int argc, const char **argv,
    const size_t *argvlen)
{
	const char	**av;
	size_t		 *al;
	char		  num[16];
	redisReply	 *r = NULL;
	int		  i;

	store_script_digest(script);
	(void)snprintf(num, sizeof(num), "%d", nkeys);
	if ((av = calloc((size_t)argc + 3, sizeof(*av))) == NULL ||
	    (al = calloc((size_t)argc + 3, sizeof(*al))) == NULL)
		fatal("%s", __func__);
	av[0] = "EVALSHA";
	av[1] = script->sha1;
	av[2] = num;
	for (i = 0; i < 3; i++)
		al[i] = strlen(av[i]);
	for (i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		al[i + 3] = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
	}
	r = redisCommandArgv(ss->c, argc + 3, av, al);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = script->source;
		al[0] = 4;
		al[1] = strlen(script->source);
		r = redisCommandArgv(ss->c, argc + 3, av, al);
	}
	free(av);
	free(al);
	return store_sync_check(ss, r, err, errlen);
}
