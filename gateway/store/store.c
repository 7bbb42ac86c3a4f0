/*
 * Redis access shared by both connections (see store.h): key names,
 * script digests and the copy of the settings the store was given.  The
 * workers' connections are in storeasync.c, the command-line tools' in
 * storesync.c.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "store.h"
#include "store-int.h"
#include "encode.h"

#define STORE_PASSWORD_MAX	4096	/* bytes of redis.password_file */

static pthread_mutex_t	store_digest_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int	store_unauth_warned;

/* ---- shared helpers ---- */

int
store_key(char *buf, size_t size, const char *prefix, const char *fmt, ...)
{
	va_list	ap;
	int	n, m;

	n = snprintf(buf, size, "%s", prefix);
	if (n < 0 || (size_t)n >= size)
		return -1;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - (size_t)n) {
		buf[0] = '\0';
		return -1;
	}
	return n + m;
}

int
store_layout_key(char *buf, size_t size, const char *prefix,
    const char *layout, ...)
{
	va_list		 ap;
	const char	*p, *end, *arg;
	size_t		 off;
	int		 n;

	if ((n = store_key(buf, size, prefix, "%s", "")) == -1)
		return -1;
	off = (size_t)n;
	va_start(ap, layout);
	for (p = layout; *p != '\0'; p = end) {
		if (*p == '<' && (end = strchr(p, '>')) != NULL) {
			end++;
			if ((arg = va_arg(ap, const char *)) == NULL)
				break;
		} else {
			arg = p;
			if ((end = strchr(p + 1, '<')) == NULL)
				end = p + strlen(p);
		}
		n = (int)(arg == p ? (size_t)(end - p) : strlen(arg));
		if ((size_t)n >= size - off)
			break;
		memcpy(buf + off, arg, (size_t)n);
		off += (size_t)n;
	}
	va_end(ap);
	if (*p != '\0') {
		buf[0] = '\0';
		return -1;
	}
	buf[off] = '\0';
	return (int)off;
}

void
store_script_digest(struct store_script *s)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		hex[41];

	pthread_mutex_lock(&store_digest_lock);
	if (s->sha1[0] == '\0') {
		if (EVP_Digest(s->source, strlen(s->source), md, &mdlen,
		    EVP_sha1(), NULL) != 1 || mdlen != 20)
			fatalx("%s: SHA-1 unavailable", __func__);
		encode_hex(md, 20, hex);
		memcpy(s->sha1, hex, sizeof(hex));
	}
	pthread_mutex_unlock(&store_digest_lock);
}

/* Read a password file: the file's bytes without trailing newlines. */
int
store_read_secret(const char *what, const char *path, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	char	buf[STORE_PASSWORD_MAX + 1];
	ssize_t	n;
	size_t	len = 0;
	int	fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "redis.%s: cannot open %s: %s",
		    what, path, strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > STORE_PASSWORD_MAX) {
		(void)snprintf(err, errlen, "redis.%s: %s is longer than %d "
		    "bytes", what, path, STORE_PASSWORD_MAX);
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		(void)snprintf(err, errlen, "redis.%s: %s is empty", what,
		    path);
		goto out;
	}
	if ((*out = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(*out, buf, len);
	(*out)[len] = '\0';
	*outlen = len;
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static void
store_sentinels_free(struct store_sentinels *sn)
{
	size_t	i;

	if (sn == NULL)
		return;
	for (i = 0; i < sn->n; i++)
		free(sn->host[i]);
	if (sn->password != NULL)
		OPENSSL_cleanse(sn->password, sn->passwordlen);
	free(sn->password);
	free(sn->username);
	free(sn->master_name);
	free(sn);
}

void
store_conf_free(struct store_conf *sc)
{
	if (sc->password != NULL)
		OPENSSL_cleanse(sc->password, sc->passwordlen);
	free(sc->password);
	free(sc->host);
	free(sc->unixpath);
	free(sc->text);
	free(sc->username);
	free(sc->prefix);
	store_sentinels_free(sc->sentinels);
	memset(sc, 0, sizeof(*sc));
}

static char *
store_strdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return p;
}

/* The numeric host and port of <ss> into *<host>, *<port>. */
static int
store_numeric(const struct sockaddr_storage *ss, socklen_t len,
    const char *text, char **host, int *port, char *err, size_t errlen)
{
	char	h[NI_MAXHOST], serv[NI_MAXSERV];
	int	rc;

	if ((rc = getnameinfo((const struct sockaddr *)ss, len, h, sizeof(h),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", text,
		    gai_strerror(rc));
		return -1;
	}
	*host = store_strdup(h);
	*port = atoi(serv);
	return 0;
}

static int
store_sentinels_init(struct store_conf *sc, const struct store_settings *set,
    char *err, size_t errlen)
{
	struct store_sentinels	*sn;
	size_t			 i;

	if ((sn = calloc(1, sizeof(*sn))) == NULL)
		fatal("%s", __func__);
	sc->sentinels = sn;
	sn->master_name = store_strdup(set->master_name != NULL ?
	    set->master_name : "mymaster");
	sn->username = store_strdup(set->sentinel_username);
	for (i = 0; i < set->nsentinels && i < STORE_MAX_SENTINELS; i++) {
		if (store_numeric(set->sentinels[i], set->sentinel_lens[i],
		    "redis.sentinels", &sn->host[i], &sn->port[i], err, errlen) == -1)
			return -1;
		sn->n++;
	}
	if (set->sentinel_password_file != NULL && store_read_secret(
	    "sentinel_password_file", set->sentinel_password_file,
	    &sn->password, &sn->passwordlen, err, errlen) == -1)
		return -1;
	if (asprintf(&sc->text, "%s (sentinel master)", sn->master_name) ==
	    -1)
		fatal("%s", __func__);
	return 0;
}

int
store_conf_primary(struct store_conf *sc, const char *host, int port)
{
	char	*text;

	if (sc->host != NULL && strcmp(sc->host, host) == 0 &&
	    sc->port == port)
		return 0;
	if (asprintf(&text, "%s%s%s:%d (%s)", strchr(host, ':') != NULL ?
	    "[" : "", host, strchr(host, ':') != NULL ? "]" : "", port,
	    sc->sentinels->master_name) == -1)
		fatal("%s", __func__);
	free(sc->host);
	free(sc->text);
	sc->host = store_strdup(host);
	sc->port = port;
	sc->text = text;
	return 1;
}

/* Copy <set> into <sc>. */
int
store_conf_init(struct store_conf *sc, const struct store_settings *set,
    char *err, size_t errlen)
{
	const struct sockaddr_storage *ss = set->addr;

	memset(sc, 0, sizeof(*sc));
	if (set->nsentinels > 0) {
		if (store_sentinels_init(sc, set, err, errlen) == -1)
			goto fail;
	} else {
		sc->text = store_strdup(set->text);
		if (ss->ss_family == AF_UNIX)
			sc->unixpath = store_strdup(((const struct sockaddr_un *)
			    (const void *)ss)->sun_path);
		else if (store_numeric(ss, set->addrlen, "redis.address",
		    &sc->host, &sc->port, err, errlen) == -1)
			goto fail;
	}
	sc->username = store_strdup(set->username);
	sc->prefix = store_strdup(set->prefix);
	sc->db = set->db;
	sc->connect_timeout = set->connect_timeout;
	sc->command_timeout = set->command_timeout;
	if (set->password_file != NULL && store_read_secret("password_file",
	    set->password_file, &sc->password, &sc->passwordlen, err,
	    errlen) == -1)
		goto fail;
	return 0;
fail:
	store_conf_free(sc);
	return -1;
}

void
store_warn_unauthenticated(const char *addr)
{
	if (atomic_exchange(&store_unauth_warned, 1) == 0)
		log_warnx("redis at %s accepts unauthenticated connections: "
		    "anyone who can reach it can read and forge sessions; set "
		    "requirepass or an ACL user and redis.password_file", addr);
}
