/*
 * Per-thread caches of freed libevent buffer blocks (see evmem.h).
 *
 * Each block carries a 16-byte header before what the caller gets: its
 * class (or EVMEM_RAW for any other size) and the size asked for, so that
 * free and realloc need nothing else.  A class's freed blocks form a list
 * through their first bytes; a thread's lists are freed when it exits
 * (a pthread key's destructor), so nothing is left to leak checkers.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "evmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define EVMEM_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVMEM_SANITIZED	1
#endif
#endif

#define EVMEM_HDR	16
#define EVMEM_RAW	UINT32_MAX
#define EVMEM_MIN	1024		/* the first class's usable size */

struct evmem_hdr {
	uint32_t	cls;		/* EVMEM_RAW: not cached */
	uint32_t	pad;
	size_t		size;		/* usable bytes */
};

struct evmem_free {
	struct evmem_free *next;
};

struct evmem_cache {
	struct evmem_free *head[EVMEM_CLASSES];
	unsigned int	 n[EVMEM_CLASSES];
	int		 keyed;		/* the destructor will run */
	int		 gone;		/* it ran: the thread is ending */
};

static __thread struct evmem_cache evmem_tls;
static pthread_key_t	 evmem_key;
static pthread_once_t	 evmem_once = PTHREAD_ONCE_INIT;
static int		 evmem_key_ok;

/*
 * The class whose blocks hold <size> bytes, or EVMEM_RAW: for buffer
 * chains only (libevent makes them 1 KiB at least).  Its small objects
 * (an evbuffer, a callback entry: a few per connection) stay the size
 * they are, or every idle connection would hold kilobytes.
 */
static uint32_t
evmem_class(size_t size)
{
	uint32_t	c;
	size_t		usable = EVMEM_MIN;

	if (size <= EVMEM_MIN / 2)
		return EVMEM_RAW;
	for (c = 0; c < EVMEM_CLASSES; c++, usable *= 2)
		if (size <= usable)
			return c;
	return EVMEM_RAW;
}

static size_t
evmem_class_size(uint32_t c)
{
	return (size_t)EVMEM_MIN << c;
}

static struct evmem_hdr *
evmem_hdr(void *p)
{
	return (struct evmem_hdr *)(void *)((char *)p - EVMEM_HDR);
}

/* Free the lists of the thread whose cache is <arg>. */
static void
evmem_drain(void *arg)
{
	struct evmem_cache *c = arg;
	struct evmem_free *f;
	unsigned int	 i;

	for (i = 0; i < EVMEM_CLASSES; i++) {
		while ((f = c->head[i]) != NULL) {
			c->head[i] = f->next;
			free((char *)f - EVMEM_HDR);
		}
		c->n[i] = 0;
	}
	c->gone = 1;		/* what is freed after goes to free() */
}

static void
evmem_make_key(void)
{
	evmem_key_ok = pthread_key_create(&evmem_key, evmem_drain) == 0;
}

/* This thread's cache, or NULL if its cleanup cannot be arranged. */
static struct evmem_cache *
evmem_cache(void)
{
	struct evmem_cache *c = &evmem_tls;

	if (c->gone)
		return NULL;
	if (!c->keyed) {
		(void)pthread_once(&evmem_once, evmem_make_key);
		if (!evmem_key_ok || pthread_setspecific(evmem_key, c) != 0)
			return NULL;
		c->keyed = 1;
	}
	return c;
}

void *
evmem_malloc(size_t size)
{
	struct evmem_cache *c;
	struct evmem_free *f;
	struct evmem_hdr *h;
	uint32_t	 cls = evmem_class(size);
	size_t		 usable = cls == EVMEM_RAW ? size : evmem_class_size(cls);

	if (cls != EVMEM_RAW && (c = evmem_cache()) != NULL &&
	    (f = c->head[cls]) != NULL) {
		c->head[cls] = f->next;
		c->n[cls]--;
		return f;
	}
	if (usable > SIZE_MAX - EVMEM_HDR ||
	    (h = malloc(EVMEM_HDR + usable)) == NULL)
		return NULL;
	h->cls = cls;
	h->pad = 0;
	h->size = usable;
	return (char *)h + EVMEM_HDR;
}

void
evmem_free(void *p)
{
	struct evmem_cache *c;
	struct evmem_free *f = p;
	struct evmem_hdr *h;

	if (p == NULL)
		return;
	h = evmem_hdr(p);
	if (h->cls != EVMEM_RAW && (c = evmem_cache()) != NULL &&
	    c->n[h->cls] < EVMEM_KEEP) {
		f->next = c->head[h->cls];
		c->head[h->cls] = f;
		c->n[h->cls]++;
		return;
	}
	free(h);
}

void *
evmem_realloc(void *p, size_t size)
{
	struct evmem_hdr *h;
	void		*n;

	if (p == NULL)
		return evmem_malloc(size);
	h = evmem_hdr(p);
	if (size <= h->size && h->cls != EVMEM_RAW)
		return p;		/* the block holds it already */
	if ((n = evmem_malloc(size)) == NULL)
		return NULL;		/* <p> stays, as realloc() leaves it */
	memcpy(n, p, h->size < size ? h->size : size);
	evmem_free(p);
	return n;
}

size_t
evmem_kept(void)
{
	size_t		 n = 0;
	unsigned int	 i;

	for (i = 0; i < EVMEM_CLASSES; i++)
		n += evmem_tls.n[i];
	return n;
}

int
evmem_install(void)
{
#ifdef EVMEM_SANITIZED
	return 0;
#else
	(void)pthread_once(&evmem_once, evmem_make_key);
	if (!evmem_key_ok)
		return -1;
	event_set_mem_functions(evmem_malloc, evmem_realloc, evmem_free);
	return 0;
#endif
}
