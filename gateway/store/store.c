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

/* Read the Redis password: the file's bytes without trailing newlines. */
static int
store_read_password(const char *path, struct store_conf *sc, char *err,
    size_t errlen)
{
	char	buf[STORE_PASSWORD_MAX + 1];
	ssize_t	n;
	size_t	len = 0;
	int	fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "redis.password_file: cannot open "
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > STORE_PASSWORD_MAX) {
		(void)snprintf(err, errlen, "redis.password_file: %s is longer "
		    "than %d bytes", path, STORE_PASSWORD_MAX);
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		(void)snprintf(err, errlen, "redis.password_file: %s is empty",
		    path);
		goto out;
	}
	if ((sc->password = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(sc->password, buf, len);
	sc->password[len] = '\0';
	sc->passwordlen = len;
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
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

/* Copy <set> into <sc>. */
int
store_conf_init(struct store_conf *sc, const struct store_settings *set,
    char *err, size_t errlen)
{
	const struct sockaddr_storage *ss = set->addr;
	char	host[NI_MAXHOST], serv[NI_MAXSERV];
	int	rc;

	memset(sc, 0, sizeof(*sc));
	sc->text = store_strdup(set->text);
	if (ss->ss_family == AF_UNIX) {
		sc->unixpath = store_strdup(
		    ((const struct sockaddr_un *)(const void *)ss)->sun_path);
	} else {
		if ((rc = getnameinfo((const struct sockaddr *)ss,
		    set->addrlen, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV)) != 0) {
			(void)snprintf(err, errlen, "redis.address %s: %s",
			    sc->text, gai_strerror(rc));
			store_conf_free(sc);
			return -1;
		}
		sc->host = store_strdup(host);
		sc->port = atoi(serv);
	}
	sc->username = store_strdup(set->username);
	sc->prefix = store_strdup(set->prefix);
	sc->db = set->db;
	sc->connect_timeout = set->connect_timeout;
	sc->command_timeout = set->command_timeout;
	if (set->password_file != NULL && store_read_password(
	    set->password_file, sc, err, errlen) == -1) {
		store_conf_free(sc);
		return -1;
	}
	return 0;
}

void
store_warn_unauthenticated(const char *addr)
{
	if (atomic_exchange(&store_unauth_warned, 1) == 0)
		log_warnx("redis at %s accepts unauthenticated connections: "
		    "anyone who can reach it can read and forge sessions; set "
		    "requirepass or an ACL user and redis.password_file", addr);
}
