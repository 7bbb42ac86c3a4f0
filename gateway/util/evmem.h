/*
 * libevent's memory.  Every proxied request fills and drains four buffers
 * (client in, upstream out, upstream in, client out), and a drained
 * evbuffer frees its chains: four blocks of 1 to 8 KiB allocated and
 * freed per request, each past glibc's per-thread cache (1 KiB at most)
 * and each allocation sweeping its fast bins first.  evmem keeps freed
 * blocks of those sizes per thread, up to a bound, for the next chain;
 * smaller allocations (512 bytes or less) pass through to malloc().
 *
 * Builds with AddressSanitizer leave libevent on malloc(), so that a use
 * of a freed chain is still caught.
 */
#ifndef POSTERN_EVMEM_H
#define POSTERN_EVMEM_H

#include <stddef.h>

#define EVMEM_CLASSES	4	/* 1, 2, 4 and 8 KiB */
#define EVMEM_KEEP	64	/* freed blocks kept per class and thread */

/*
 * Give libevent evmem's allocation functions.  Before any other libevent
 * call of the process (event_set_mem_functions()); a no-op with
 * AddressSanitizer.  0, or -1 if the thread cleanup cannot be set up (then
 * libevent stays on malloc()).
 */
int	evmem_install(void);

/* The functions themselves (for the unit test). */
void	*evmem_malloc(size_t size);
void	*evmem_realloc(void *p, size_t size);
void	 evmem_free(void *p);
/* Blocks this thread keeps, over all classes. */
size_t	 evmem_kept(void);

#endif
